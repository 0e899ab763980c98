"""``otklik report brief`` writes the file; ``otklik report rollup`` refreshes the rollup."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from otklik.cli import app


@pytest.mark.usefixtures("settings_env")
def test_report_brief_and_rollup(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "brief.xlsx"
    result = runner.invoke(app, ["report", "brief", "--region", "68", "--period", "2026-11",
                                 "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"PK")
    assert "Тамбовская область" in result.output
    result = runner.invoke(app, ["report", "rollup"])
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
