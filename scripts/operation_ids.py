"""The API's operation ids, written to docs/api-operations.md (what integrators and generated
clients call each operation; see ``otklik.app.operation_id``).

    python scripts/operation_ids.py          # rewrite the doc
    python scripts/operation_ids.py --check  # exit 1 when the doc is stale

``tests/test_operation_ids.py`` fails when the doc and the app disagree, so an id that changes
(a path renamed, an operation removed) shows as a change of this doc in review, never by
accident.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "api-operations.md"
METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, str]]:
    """(method, path, operation id) of every operation of the app's OpenAPI, by path."""
    os.environ.setdefault("OTKLIK_ENV", "test")
    from otklik.app import create_app

    spec = create_app().openapi()
    return [(method.upper(), path, operation["operationId"])
            for path, item in sorted(spec["paths"].items())
            for method, operation in item.items() if method in METHODS]


def render(rows: list[tuple[str, str, str]]) -> str:
    """The doc's text."""
    lines = [
        "# Операции API и их идентификаторы / API operation ids",
        "",
        "Сгенерировано `python scripts/operation_ids.py` из OpenAPI приложения "
        "(`/api/openapi.json`, описание — `/api/docs`). Идентификатор операции складывается из "
        "её пути и метода, а не из имени функции в коде, поэтому не меняется при рефакторинге; "
        "меняется только вместе с путём — и тогда это видно здесь "
        "(`tests/test_operation_ids.py`).",
        "",
        "| метод | путь | operationId |",
        "|---|---|---|",
        *(f"| {method} | `{path}` | `{ident}` |" for method, path, ident in rows),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    from access_matrix import write_or_check

    return write_or_check(DOC, render(operations()), "operation_ids.py")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
