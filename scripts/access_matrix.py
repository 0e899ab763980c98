"""Write docs/access-matrix.md from the access matrix of tests/security/matrix.py.

    python scripts/access_matrix.py          # rewrite the doc
    python scripts/access_matrix.py --check  # exit 1 when the doc is stale

The test tests/security/test_access_matrix.py fails while the doc differs from this output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "access-matrix.md"

HEADER = """# Матрица доступа (access matrix)

Кто может вызвать каждый маршрут Отклика (API и страницы) и о каком объекте. Файл
сгенерирован из `tests/security/matrix.py` командой `python scripts/access_matrix.py`;
тест `tests/security/test_access_matrix.py` обходит **каждый** маршрут приложения от имени
каждой роли, пользователя другого региона и другой организации, анонима, API-токена с
узкой областью (`read`) и ключа интегратора (`open311`) и сверяет ответы с этой таблицей.
Новый маршрут без строки в матрице роняет тест.

Who may call each route (generated; do not edit by hand). Columns:

- **Gate** — `public` (no login), `any login`, `any user` (not an integrator's key), a
  permission (who holds it: the table of roles below; a token holds only its scopes), or a
  list of roles. Without it: 403 (401 or the login form for nobody).
- **Object** — the kind of object the path addresses; a caller who passes the gate but does
  not see it gets **404**, exactly like a missing id (IDOR: the test also tries the
  neighbouring region's id and a guessed one). `region`: its region; `case`: its region,
  district and, for an executor, organization (an expert sees none); `region_wide`: its
  region, not narrowed to a district/organization/expert; `contest`: its region, an expert
  only the contests of their tracks; `own`: the caller's own; `administered`: a user or key
  the administrator manages.
- ⚠ — the walk cannot make a request that passes the gate and then succeeds (the note says
  why: a file upload, an object the world lacks, a resident's form whose CSRF cookie the
  walk's nobody has not got), so only "nobody is refused" and "no 5xx" are checked there.
  Every other route that writes is walked with a valid body (`body=`, with `query=` and
  "{home:...}" ids of the world), so its gate, not a 422, decides.

Where a permission is shown, it is the one whose holders are exactly the roles that pass
(read from the walk); several permissions can have the same holders (operator and curator
hold both `triage` and `moderate`).
"""


def _roles_table() -> list[str]:
    from otklik.accounts.scope import PERMISSIONS

    permissions = sorted(set().union(*PERMISSIONS.values()))
    lines = ["## Роли и права (roles × permissions)", "",
             "| role | " + " | ".join(f"`{p}`" for p in permissions) + " |",
             "|---|" + "---|" * len(permissions)]
    for role, held in PERMISSIONS.items():
        lines.append(f"| {role.value} | " + " | ".join(
            "✓" if p in held else "" for p in permissions) + " |")
    return lines


def render() -> str:
    """The doc's text."""
    os.environ.setdefault("OTKLIK_ENV", "test")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.security.matrix import MATRIX

    lines = [HEADER, *_roles_table(), "", "## Маршруты (routes)", ""]
    groups: dict[str, list[str]] = {}
    for (method, path), rule in sorted(MATRIX.items(), key=lambda i: (i[0][1], i[0][0])):
        group = "API" if path.startswith("/api/") else (
            "Open311" if path.startswith("/open311/") else "Страницы (pages)")
        extra = []
        if rule.hidden_for:
            extra.append("404 for " + ", ".join(sorted(r.value for r in rule.hidden_for)))
        if rule.hides:
            extra.append("404 without the permission")
        if rule.note:
            extra.append(rule.note)
        groups.setdefault(group, []).append(
            f"| {method} | `{path}` | {rule.label()} | {rule.scope or ''} | "
            f"{'; '.join(extra)} | {'⚠' if rule.unchecked else ''} |")
    for group in ("API", "Open311", "Страницы (pages)"):
        lines += [f"### {group}", "", "| method | path | gate | object | notes | |",
                  "|---|---|---|---|---|---|", *groups.get(group, []), ""]
    lines += ["Static files under `/static` are public.", ""]
    return "\n".join(lines)


def write_or_check(doc: Path, text: str, script: str) -> int:
    """Write a generated doc, or with ``--check`` exit 1 when it is stale (shared by the
    scripts that generate docs from the app)."""
    if "--check" in sys.argv:
        if doc.read_text(encoding="utf-8") != text:
            print(f"{doc.relative_to(ROOT)} is stale: run python scripts/{script}")
            return 1
        return 0
    doc.write_text(text, encoding="utf-8")
    print(f"wrote {doc.relative_to(ROOT)}")
    return 0


def main() -> int:
    return write_or_check(DOC, render(), "access_matrix.py")


if __name__ == "__main__":
    raise SystemExit(main())
