"""Password hashing and token minting."""

from collections.abc import Iterator

import pytest
from tests.conftest import PRODUCT_HASHER

from otklik.accounts import security
from otklik.accounts.security import (
    hash_password,
    hash_token,
    new_api_token,
    password_needs_rehash,
    verify_password,
)


@pytest.fixture(autouse=True)
def product_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The rest of the suite hashes cheaply (tests/conftest.py): here, the product's hasher."""
    monkeypatch.setattr(security, "_hasher", PRODUCT_HASHER)
    yield


def test_password_hash_is_argon2_salted_and_verifies() -> None:
    first = hash_password("Пароль-123")
    second = hash_password("Пароль-123")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert verify_password(first, "Пароль-123")
    assert not verify_password(first, "пароль-123")
    assert not password_needs_rehash(first)


def test_verify_never_raises_on_garbage_hash() -> None:
    assert not verify_password("not-a-hash", "x")
    assert password_needs_rehash("not-a-hash")


def test_api_token_is_random_and_only_its_hash_is_kept() -> None:
    token, prefix, digest = new_api_token()
    other, _, _ = new_api_token()
    assert token != other
    assert token.startswith(f"otk_{prefix}_")
    assert len(digest) == 64 and token not in digest
    assert hash_token(token) == digest
