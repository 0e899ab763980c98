"""Packages that run without a database: importing every module of each loads no SQLAlchemy,
Alembic, database, model or web module (their import contracts say the same statically; this
catches what an import inside a function would hide from them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import importlib, pkgutil, sys
names = sys.argv[1].split(",")  # one package (every module of it) or modules named one by one
for name in names:
    module = importlib.import_module(name)
    if hasattr(module, "__path__") and len(names) == 1:
        for info in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")
                or m.startswith(("otklik.db", "otklik.models", "otklik.web")))
print(",".join(loaded))
"""

#: The language stages (the whole package), the incident detector with `otklik signals` and the
#: pure modules of fakes, named one by one (the incidents' and the fakes' tables, matching
#: against them and the check service live in modules of their own): the detector's modules;
#: the matcher, `otklik fakes match` (its database commands import inside their functions),
#: the test set, the alarm signs.
PURE = ["otklik.nlp", "otklik.incidents.detector", "otklik.incidents.baseline",
        "otklik.incidents.settings", "otklik.incidents.population", "otklik.incidents.replay",
        "otklik.incidents.synthetic", "otklik.incidents.cli",
        "otklik.fakes,otklik.fakes.matcher,otklik.fakes.cli,otklik.fakes.synthetic,"
        "otklik.fakes.alarm"]


@pytest.mark.parametrize("package", PURE)
def test_importing_every_module_loads_no_database(package: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, package], capture_output=True,
                            text=True, timeout=300, check=True)
    assert result.stdout.strip() == "", result.stdout
