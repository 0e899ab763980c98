"""The language stages run without a database: importing every module of ``otklik.nlp``
loads no SQLAlchemy (the import contract ``pure-nlp`` says the same statically)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import otklik.nlp
for info in pkgutil.walk_packages(otklik.nlp.__path__, "otklik.nlp."):
    importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")
                or m.startswith(("otklik.db", "otklik.models", "otklik.web")))
print(",".join(loaded))
"""


def test_importing_every_nlp_module_loads_no_database() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip() == "", result.stdout
