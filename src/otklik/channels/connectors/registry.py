"""Registry of connector kinds: ``CONNECTORS[kind]`` and :func:`get_connector`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otklik.channels.connectors.base import Connector, ConnectorConfig
from otklik.channels.connectors.email import EmailConnector
from otklik.channels.connectors.ok import OKConnector
from otklik.channels.connectors.telegram import TelegramConnector
from otklik.channels.connectors.telegram_export import TelegramExportConnector
from otklik.channels.connectors.vk import VKConnector

CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls
    for cls in (
        VKConnector,
        TelegramConnector,
        TelegramExportConnector,
        OKConnector,
        EmailConnector,
    )
}


def config_model(kind: str) -> type[ConnectorConfig]:
    """The pydantic config model of ``kind`` (for admin forms and validation)."""
    return _cls(kind).config_model


def get_connector(
    kind: str, config: Mapping[str, Any] | ConnectorConfig, **options: Any
) -> Connector:
    """A connector of ``kind`` built from ``config``; ``options`` go to the constructor.

    Raises ``KeyError`` for an unknown kind and ``pydantic.ValidationError`` for a
    bad config.
    """
    return _cls(kind)(config, **options)


def _cls(kind: str) -> type[Connector]:
    try:
        return CONNECTORS[kind]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise KeyError(f"unknown connector kind {kind!r}; known: {known}") from None
