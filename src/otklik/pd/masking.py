"""Who sees residents' personal data, and the masked view for everyone else.

Operators, curators, executors and administrators work with residents (answer them, ask
for details, check a complaint) and see messages as written. Analysts, heads and deputies
read the stream for what it says, not who said it: they get the author hidden and the
personal data the language stage finds in the text (names, phones, e-mails, SNILS,
passports, cards, INN: :mod:`otklik.nlp.pii`) replaced by placeholders. So do integrators'
API keys (no role). The system (CLI, jobs) sees everything. docs/security.md has the table.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from otklik.audit.actor import Actor
from otklik.models.account import Role
from otklik.nlp.pii import PiiStage, mask

#: The roles that see residents' personal data unmasked.
SEES_PERSONAL_DATA: frozenset[Role] = frozenset(
    {Role.admin, Role.operator, Role.curator, Role.executor}
)
HIDDEN = "[скрыто]"
#: Fields of a read model that name or point to the author: hidden for the other roles.
AUTHOR_FIELDS = ("author_name", "author_id", "author_key", "url")
#: Fields of a read model that hold a resident's words: their PII spans are masked.
TEXT_FIELDS = ("text", "title")

_PII = PiiStage()
Model = TypeVar("Model", bound=BaseModel)


def sees_personal_data(actor: Actor) -> bool:
    """True when the actor's role works with residents (or it is the system itself)."""
    if actor.role is None:
        return actor.user_id is None and actor.token_id is None
    return actor.role in SEES_PERSONAL_DATA


def mask_text(text: str, spans: list[dict[str, Any]] | None = None) -> str:
    """The text with its personal data replaced ("[ФИО]", "[телефон]" …); ``spans`` as the
    language stage found them, else found now."""
    if not text:
        return text
    return mask(text, spans if spans is not None else _PII.find(text))


def masked(item: Model) -> Model:
    """A read model with the author hidden and the PII in its texts masked."""
    fields = type(item).model_fields
    update: dict[str, Any] = {}
    for name in AUTHOR_FIELDS:
        if name in fields and getattr(item, name) is not None:
            update[name] = HIDDEN if name == "author_name" else None
    for name in TEXT_FIELDS:
        value = getattr(item, name, None) if name in fields else None
        if isinstance(value, str) and value:
            update[name] = mask_text(value)
    return item.model_copy(update=update)


def shown(actor: Actor, item: Model) -> Model:
    """The read model as this actor may see it."""
    return item if sees_personal_data(actor) else masked(item)


def shown_all(actor: Actor, items: list[Model]) -> list[Model]:
    """:func:`shown` for a list."""
    return items if sees_personal_data(actor) else [masked(i) for i in items]
