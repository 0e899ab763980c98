"""The code stays as clean as it is: ruff over everything, mypy over the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "src", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    result = _run("mypy", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold() -> None:
    """The layers written in pyproject.toml ([tool.importlinter]): a broken one is a red
    build (docs/architecture.md)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_new_import_cycle_between_top_level_packages() -> None:
    result = subprocess.run([sys.executable, "scripts/import_cycles.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cycle_check_sees_a_cycle_through_several_packages() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import import_cycles
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    edges = {"intake": {"nlp", "cases"}, "cases": {"channels"}, "channels": {"intake"},
             "nlp": set(), "web": {"intake", "cases"}}
    assert import_cycles.cycles(edges) == [frozenset({"intake", "cases", "channels"})]
    assert import_cycles.describe(edges, {"intake", "cases", "channels"}) == (
        "cases -> channels -> intake -> cases")
    assert import_cycles.cycles({**edges, "channels": set()}) == []
