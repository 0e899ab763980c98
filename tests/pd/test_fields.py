"""The register of personal data covers every column whose name looks personal."""

from __future__ import annotations

import otklik.models  # noqa: F401  (registers every table)
from otklik.db.base import Base
from otklik.pd.fields import LOOKS_PERSONAL, NOT_PERSONAL, PERSONAL, Subject, resident_columns


def _columns() -> set[str]:
    return {f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
            for column in table.columns}


def test_every_column_that_looks_personal_is_registered() -> None:
    unregistered = sorted(
        key for key in _columns()
        if LOOKS_PERSONAL.search(key.split(".", 1)[1])
        and key not in PERSONAL and key not in NOT_PERSONAL
    )
    assert not unregistered, (
        "columns that look like personal data are not in otklik/pd/fields.py (PERSONAL with "
        f"a category, or NOT_PERSONAL with the reason): {unregistered}")


def test_the_register_names_only_columns_that_exist() -> None:
    stale = sorted((set(PERSONAL) | set(NOT_PERSONAL)) - _columns())
    assert not stale, f"the register names columns that do not exist: {stale}"
    assert not set(PERSONAL) & set(NOT_PERSONAL)


def test_the_pattern_catches_the_usual_names() -> None:
    for name in ("author_name", "phone", "email", "contact", "address_string", "reporter",
                 "ip", "full_name", "recipient", "device_id", "passport_no"):
        assert LOOKS_PERSONAL.search(name), name
    for name in ("region_code", "topic", "zip", "created_at", "kind"):
        assert not LOOKS_PERSONAL.search(name), name


def test_residents_data_says_what_erasure_does() -> None:
    residents = [f for f in PERSONAL.values() if f.subject is Subject.resident]
    assert residents and all(f.on_erasure for f in residents)
    assert {"author_id", "author_key", "author_name", "raw", "text"} <= set(
        resident_columns("message"))
