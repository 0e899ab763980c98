"""Credentials at rest: the one symmetric encryption scheme (Fernet: AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) for secrets Otklik must be able to read back (connectors'
tokens and passwords), keyed from the settings (``OTKLIK_SECRETS_KEY``, or derived from the
secret key). Hashing is for what is only compared (passwords, API tokens); this is for what
is sent on.

A sealed value is the text ``fernet:<token>``; :func:`unseal` passes anything else through
unchanged, so rows written before encryption keep working until they are sealed again."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from otklik.config import get_settings

PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """A sealed value that this key cannot open (the key changed, or the value was edited)."""


@lru_cache(maxsize=4)
def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def _box() -> Fernet:
    return _fernet(get_settings().secrets_fernet_key)


def is_sealed(value: object) -> bool:
    """True for a value :func:`seal` produced."""
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value: str) -> str:
    """Encrypt a secret (a sealed value is returned as it is)."""
    if is_sealed(value):
        return value
    return PREFIX + _box().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(value: str) -> str:
    """The plain secret of a sealed value; a plain value is returned as it is."""
    if not is_sealed(value):
        return value
    try:
        return _box().decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            "a stored credential cannot be decrypted: OTKLIK_SECRETS_KEY (or OTKLIK_SECRET_KEY) "
            "is not the key it was sealed with; set the old key or enter the credential again"
        ) from exc
