"""Packages that run without a database: importing every module of each loads no SQLAlchemy,
Alembic, database, model or web module (their import contracts say the same statically; this
catches what an import inside a function would hide from them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(package, "__path__", []), sys.argv[1] + "."):
    importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")
                or m.startswith(("otklik.db", "otklik.models", "otklik.web")))
print(",".join(loaded))
"""

#: The language stages, the incident detector with `otklik signals` and the fake matcher with
#: `otklik fakes match` (the incidents' tables live in modules of their own: the detector's
#: modules are named one by one).
PURE = ["otklik.nlp", "otklik.fakes", "otklik.incidents.detector", "otklik.incidents.baseline",
        "otklik.incidents.settings", "otklik.incidents.population", "otklik.incidents.replay",
        "otklik.incidents.synthetic", "otklik.incidents.cli"]


@pytest.mark.parametrize("package", PURE)
def test_importing_every_module_loads_no_database(package: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, package], capture_output=True,
                            text=True, timeout=300, check=True)
    assert result.stdout.strip() == "", result.stdout
