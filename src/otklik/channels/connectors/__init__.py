"""Channel connectors: VK, Telegram, Odnoklassniki, e-mail, Telegram exports.

The interface lives in :mod:`.base`; :mod:`.registry` maps a kind to its class
(``get_connector("vk", config)``). Importing this package stays light so the
file readers can share :mod:`.normalize` without pulling every connector in.
"""

from otklik.channels.connectors.base import (
    AuthError,
    Connector,
    ConnectorConfig,
    ConnectorError,
    FetchResult,
    ForgedRequest,
    NotSupported,
    PermanentError,
    PushResult,
    RateLimited,
    Reply,
    TransientError,
)

__all__ = [
    "AuthError",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "FetchResult",
    "ForgedRequest",
    "NotSupported",
    "PermanentError",
    "PushResult",
    "RateLimited",
    "Reply",
    "TransientError",
]
