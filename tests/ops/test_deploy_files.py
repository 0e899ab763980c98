"""The deployment files say what the code does: the compose file's and the systemd units'
commands are real ``otklik`` commands with real options, and every ``OTKLIK_`` variable of
the environment example is a setting (or one the deployment files themselves read)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from typer.testing import CliRunner

from otklik.cli import app
from otklik.config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: Variables the deployment files read themselves (worker counts), not Settings.
DEPLOY_ONLY = {"OTKLIK_WORKER_PROCESSES", "OTKLIK_WORKER_THREADS", "OTKLIK_PUBLISH_PORT"}


def _accepts(args: list[str]) -> None:
    """``otklik ARGS --help`` parses: the command and its options exist."""
    words = [a for a in args if not a.startswith("$")]
    options = [w for w in words if w.startswith("--")]
    command = [w for w in words if not w.startswith("-") and not w.isdigit()]
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, (args, result.output)
    for option in options:
        assert option in result.output, (args, option)


def test_the_compose_file_runs_the_whole_system() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "rabbitmq", "api", "worker", "scheduler", "migrate"} <= set(services)
    commands = {name: [str(a) for a in services[name]["command"]]
                for name in ("api", "worker", "scheduler", "migrate")}
    assert commands["api"] == ["serve"] and commands["scheduler"] == ["scheduler"]
    assert commands["migrate"] == ["db", "upgrade"]
    for args in commands.values():
        _accepts(args)
    environment = services["api"]["environment"]
    assert environment["OTKLIK_DATABASE_URL"].startswith("postgresql://")
    assert environment["OTKLIK_BROKER_URL"].startswith("amqp://")
    assert environment["OTKLIK_HOST"] == "0.0.0.0"  # .env's loopback would hide the API
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["otklik"]' in dockerfile and "pip install ." in dockerfile


def test_the_systemd_units_start_real_commands() -> None:
    units = sorted((ROOT / "deploy/systemd").glob("*.service"))
    assert {u.name for u in units} == {"otklik-api.service", "otklik-worker@.service",
                                       "otklik-scheduler.service"}
    for unit in units:
        text = unit.read_text(encoding="utf-8")
        assert "EnvironmentFile=/etc/otklik/otklik.env" in text
        exec_start = re.search(r"^ExecStart=(.+)$", text, re.M)
        assert exec_start is not None
        line = exec_start[1]
        inner = re.search(r"exec (\S+/otklik .+)'$", line)
        words = shlex.split(inner[1] if inner else line)
        assert words[0].endswith("/otklik")
        _accepts(words[1:])


def test_every_variable_of_the_environment_example_is_read() -> None:
    text = (ROOT / "deploy/otklik.env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?\s*(OTKLIK_[A-Z0-9_]+)=", text, re.M))
    settings = {f"OTKLIK_{field.upper()}" for field in Settings.model_fields}
    assert names - settings - DEPLOY_ONLY == set()
    for needed in ("OTKLIK_ENV", "OTKLIK_SECRET_KEY", "OTKLIK_DATABASE_URL",
                   "OTKLIK_BROKER_URL", "OTKLIK_AUDIT_KEY"):
        assert needed in names
