"""The detector and `otklik signals` run without a database: importing them loads no
SQLAlchemy (the next part of incidents, its tables, lives in modules of its own)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import otklik.incidents.cli, otklik.incidents.detector, otklik.incidents.replay
import otklik.incidents.synthetic
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")
                or m.startswith(("otklik.db", "otklik.models", "otklik.web")))
print(",".join(loaded))
"""


def test_the_detector_loads_no_database() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip() == "", result.stdout
