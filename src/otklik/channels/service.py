"""Configured connectors: adding them, listing them, building the channel object of one.

Receiving through them (runs from their cursors, pushes) is intake's
(:mod:`otklik.intake.receiving`); publishing answers through them is cases'
(:mod:`otklik.cases.publishing`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.channels.connectors.base import (
    Connector as ChannelConnector,
)
from otklik.channels.connectors.registry import CONNECTORS, get_connector
from otklik.channels.repository import ConnectorRepository
from otklik.errors import Conflict, Forbidden, InvalidInput
from otklik.models.message import Connector
from otklik.secretbox import is_sealed, seal, unseal

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _validated_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    if kind not in CONNECTORS:
        raise InvalidInput(f"unknown connector kind {kind!r}: use {', '.join(sorted(CONNECTORS))}")
    try:
        model = CONNECTORS[kind].config_model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"{kind} settings: {problems}") from None
    return {k: _plain(v) for k, v in model.model_dump(mode="python").items()}


def add_connector(session: Session, actor: Actor, *, kind: str, name: str,
                  config: Mapping[str, Any], region_code: str | None = None) -> Connector:
    """Configure a connector after validating its settings."""
    actor.require("admin")
    if region_code and not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")
    repo = ConnectorRepository(session)
    if repo.by_name(name):
        raise Conflict(f"a connector named {name!r} exists already")
    settings = _validated_config(kind, config)
    if region_code and not settings.get("region"):
        settings["region"] = region_code
    row = repo.add(Connector(kind=kind, name=name, region_code=region_code,
                             config=sealed_config(kind, settings), cursor={}, status="new"))
    audit.record(session, actor, "connector.add", "connector", row.id, region_code=region_code,
                 details={"kind": kind, "name": name})
    return row


def list_connectors(session: Session, actor: Actor, *, kind: str | None = None,
                    region_code: str | None = None, enabled: bool | None = None
                    ) -> Sequence[Connector]:
    """Connectors the actor administers, by name; optionally of one kind, region or state."""
    actor.require("admin")
    return [c for c in ConnectorRepository(session).in_scope(actor.scope)
            if (kind is None or c.kind == kind)
            and (region_code is None or c.region_code == region_code)
            and (enabled is None or c.enabled is enabled)]


def public_config(row: Connector) -> dict[str, Any]:
    """A connector's settings with every secret masked (for the API and the admin UI)."""
    return build(row).public_config()


def build(row: Connector, **options: Any) -> ChannelConnector:
    """The channel connector object of a configured row (its credentials decrypted; a row
    stored before encryption is sealed now, committed with the caller's unit of work)."""
    config = dict(row.config or {})
    if row.kind in CONNECTORS:
        sealed = sealed_config(row.kind, config)
        if sealed != config:
            row.config = sealed
        config = {k: unseal(v) if is_sealed(v) else v for k, v in config.items()}
    return get_connector(row.kind, config, **options)


def secret_names(kind: str) -> frozenset[str]:
    """The settings of a connector kind that are credentials (typed ``SecretStr``)."""
    fields = CONNECTORS[kind].config_model.model_fields
    return frozenset(name for name, f in fields.items() if "SecretStr" in repr(f.annotation))


def sealed_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as stored: every credential encrypted (otklik/secretbox.py)."""
    names = secret_names(kind)
    return {k: seal(v) if k in names and isinstance(v, str) and v else v
            for k, v in config.items()}
