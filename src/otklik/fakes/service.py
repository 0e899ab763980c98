"""The registry of fakes: record and edit claims (every change kept as a revision and in the
audit log), the refutation's four-eyes approval, suspects promoted in one click.

Four eyes, as for residents' answers (``cases/answers.py``): the analyst who wrote the
refutation sends it for approval, and only another analyst approves it; then it is published
(the public page, and replies under the copies, in a job after commit).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import FakeCreate, FakeRead, FakeUpdate, RefutationDraft
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.account import Role
from otklik.models.fakes import Fake, FakeCopy, FakeRevision, FakeSuspect
from otklik.models.territory import Territory

#: Read-only roles: they see the registry but do not edit it.
READ_ONLY_ROLES = frozenset({Role.head, Role.deputy})
#: Fields whose change changes what the stream is matched against.
MATCHED_FIELDS = frozenset({"claim", "status", "region_code"})


def can_edit(actor: Actor) -> bool:
    """True for the center's analysts and admins (not heads or deputies)."""
    return actor.scope.can("analytics") and actor.role not in READ_ONLY_ROLES


def _can_write(actor: Actor, region_code: str) -> None:
    actor.require("analytics")
    if actor.role in READ_ONLY_ROLES:
        raise Forbidden("the registry of fakes is kept by the center's analysts; "
                        "your role reads it")
    if not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")


def read(session: Session, fake: Fake) -> FakeRead:
    """A fake with its counters."""
    copies, reach, seen = FakeRepository(session).totals([fake.id])[fake.id]
    return _read(fake, copies, reach, seen)


def _read(fake: Fake, copies: int, reach: int, seen: int) -> FakeRead:
    return FakeRead(
        id=fake.id, region_code=fake.region_code, claim=fake.claim,
        key_phrases=list(fake.key_phrases or []), topic=fake.topic,
        territory_id=fake.territory_id, status=fake.status,
        refutation_text=fake.refutation_text, refutation_url=fake.refutation_url,
        refutation_date=fake.refutation_date, refutation_state=fake.refutation_state,
        refutation_author_id=fake.refutation_author_id,
        refutation_approver_id=fake.refutation_approver_id, first_seen_at=fake.first_seen_at,
        created_at=fake.created_at, version=fake.version, copies=copies, reach=reach,
        refutations_seen=seen)


def _check_territory(session: Session, region_code: str, territory_id: int | None) -> None:
    if territory_id is None:
        return
    territory = session.get(Territory, territory_id)
    if territory is None or territory.region_code != region_code:
        raise InvalidInput(f"territory {territory_id} does not exist in region {region_code}")


def _check_topic(session: Session, topic: str | None) -> None:
    if topic is not None and topic not in active_taxonomy(session):
        raise InvalidInput(f"unknown topic {topic!r}: use a topic of the rubricator")


def _revise(session: Session, actor: Actor, fake: Fake, action: str,
            changes: dict[str, Any]) -> None:
    """Keep the change as the fake's next revision and in the audit log."""
    repo = FakeRepository(session)
    number = 1 if action == "create" else fake.version + 1
    fake.version = number
    fake.updated_at = utcnow() if action != "create" else None
    repo.add(FakeRevision(fake_id=fake.id, number=number, actor_id=actor.user_id,
                          actor=actor.label, action=action, changes=changes))
    audit.record(session, actor, f"fake.{action}", "fake", fake.id,
                 region_code=fake.region_code, details={"fields": sorted(changes)})
    if action == "create" or MATCHED_FIELDS & set(changes):
        repo.bump_version()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def create_fake(session: Session, actor: Actor, data: FakeCreate,
                first_seen_message_ids: list[int] | None = None) -> Fake:
    """Record a claim in the registry."""
    _can_write(actor, data.region_code)
    _check_territory(session, data.region_code, data.territory_id)
    _check_topic(session, data.topic)
    fake = FakeRepository(session).add(Fake(
        region_code=data.region_code, claim=data.claim,
        key_phrases=[p.strip() for p in data.key_phrases if p.strip()], topic=data.topic,
        territory_id=data.territory_id, status=data.status, created_by_id=actor.user_id))
    _revise(session, actor, fake, "create",
            {k: [None, _plain(v)] for k, v in data.model_dump().items() if v not in (None, [])})
    return fake


def get_fake(session: Session, actor: Actor, fake_id: int) -> Fake:
    """A fake the actor may see (else 404)."""
    actor.require("analytics")
    fake = FakeRepository(session).get(fake_id)
    if fake is None or not actor.scope.sees_region(fake.region_code):
        raise NotFound(f"fake {fake_id} does not exist or is outside your scope")
    return fake


def update_fake(session: Session, actor: Actor, fake_id: int, data: FakeUpdate,
                version: int | None = None) -> Fake:
    """Change a fake; ``version`` (when given) must be the one the editor saw."""
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    if version is not None and version != fake.version:
        raise Conflict(f"fake {fake.id} was changed by someone else (revision {fake.version}); "
                       "reload and edit again")
    given = data.model_dump(exclude_unset=True)
    if "territory_id" in given:
        _check_territory(session, fake.region_code, given["territory_id"])
    if "topic" in given:
        _check_topic(session, given["topic"])
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if key == "claim" and value is not None:
            value = value.strip()
        if key in ("claim", "status", "key_phrases") and value is None:
            continue
        if getattr(fake, key) != value:
            changes[key] = [_plain(getattr(fake, key)), _plain(value)]
            setattr(fake, key, value)
    if changes:
        _revise(session, actor, fake, "update", changes)
    return fake


def draft_refutation(session: Session, actor: Actor, fake_id: int,
                     data: RefutationDraft) -> Fake:
    """Write (or rewrite) the refutation; an approved one goes back to a draft."""
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    before = {"text": fake.refutation_text, "url": fake.refutation_url,
              "date": _plain(fake.refutation_date), "state": fake.refutation_state}
    fake.refutation_text = data.text.strip()
    fake.refutation_url = str(data.source_url)
    fake.refutation_date = data.date
    fake.refutation_state = "draft"
    fake.refutation_author_id = actor.user_id
    fake.refutation_approver_id = None
    fake.refutation_approved_at = None
    after = {"text": fake.refutation_text, "url": fake.refutation_url,
             "date": _plain(fake.refutation_date), "state": "draft"}
    _revise(session, actor, fake, "refutation.draft",
            {f"refutation_{k}": [before[k], after[k]] for k in after if before[k] != after[k]})
    return fake


def submit_refutation(session: Session, actor: Actor, fake_id: int) -> Fake:
    """Send the drafted refutation for approval by a second person."""
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    if fake.refutation_state != "draft":
        raise InvalidInput(f"fake {fake.id} has no refutation draft to send for approval")
    fake.refutation_state = "on_approval"
    _revise(session, actor, fake, "refutation.submit",
            {"refutation_state": ["draft", "on_approval"]})
    return fake


def approve_refutation(session: Session, actor: Actor, fake_id: int) -> Fake:
    """A second analyst approves the refutation (never its author); it is published after
    commit: on the public page and as replies under the copies."""
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    if fake.refutation_state != "on_approval":
        raise InvalidInput(f"fake {fake.id} has no refutation waiting for approval")
    if fake.refutation_author_id is not None and fake.refutation_author_id == actor.user_id:
        raise Forbidden("you cannot approve your own refutation: another analyst must "
                        "approve it (four eyes)")
    fake.refutation_state = "approved"
    fake.refutation_approver_id = actor.user_id
    fake.refutation_approved_at = utcnow()
    changes: dict[str, Any] = {"refutation_state": ["on_approval", "approved"]}
    if fake.status in ("suspected", "checking"):
        changes["status"] = [fake.status, "fake"]
        fake.status = "fake"
    _revise(session, actor, fake, "refutation.approve", changes)
    from otklik.fakes.refuting import queue_replies

    queue_replies(session, fake.id)
    return fake


def return_refutation(session: Session, actor: Actor, fake_id: int, comment: str) -> Fake:
    """The second analyst returns the refutation to a draft with a comment."""
    if len(comment.strip()) < 5:
        raise InvalidInput("say what to fix (a few words at least)")
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    if fake.refutation_state != "on_approval":
        raise InvalidInput(f"fake {fake.id} has no refutation waiting for approval")
    fake.refutation_state = "draft"
    _revise(session, actor, fake, "refutation.return",
            {"refutation_state": ["on_approval", "draft"], "comment": [None, comment.strip()]})
    return fake


def list_fakes(session: Session, actor: Actor, *, region_code: str | None = None,
               status: str | None = None, q: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[FakeRead], int]:
    """Fakes in the actor's scope, newest first, with their counters."""
    actor.require("analytics")
    repo = FakeRepository(session)
    rows, total = repo.page(actor.scope, region_code=region_code, status=status,
                            q=(q or "").strip()[:200] or None, limit=limit, offset=offset)
    totals = repo.totals([f.id for f in rows])
    return [_read(f, *totals[f.id]) for f in rows], total


def suspects(session: Session, actor: Actor, status: str = "new", limit: int = 100,
             offset: int = 0) -> tuple[list[FakeSuspect], int]:
    """Texts proposed for checking in the actor's regions, the most spread first: a page
    and how many in all."""
    actor.require("analytics")
    rows, total = FakeRepository(session).suspects(actor.scope, status, limit, offset)
    return list(rows), total


def _suspect(session: Session, actor: Actor, suspect_id: int) -> FakeSuspect:
    actor.require("analytics")
    suspect = FakeRepository(session).suspect(suspect_id)
    if suspect is None or (suspect.region_code is not None
                           and not actor.scope.sees_region(suspect.region_code)):
        raise NotFound(f"suspect {suspect_id} does not exist or is outside your scope")
    return suspect


def promote_suspect(session: Session, actor: Actor, suspect_id: int,
                    region_code: str | None = None) -> Fake:
    """One click: the suspect's text becomes a claim of the registry ("checking"); its
    message, if any, is the first originating post."""
    suspect = _suspect(session, actor, suspect_id)
    if suspect.status == "promoted" and suspect.fake_id is not None:
        raise Conflict(f"suspect {suspect.id} is already fake {suspect.fake_id}")
    region = suspect.region_code or region_code
    if region is None:
        raise InvalidInput("the suspect has no region: choose one")
    text = suspect.text.strip()[:5_000]
    fake = create_fake(session, actor, FakeCreate(region_code=region, claim=text,
                                                  status="checking"))
    suspect.status, suspect.fake_id, suspect.updated_at = "promoted", fake.id, utcnow()
    if suspect.message_id is not None:
        message = FakeRepository(session).messages([suspect.message_id])
        if message:
            from otklik.fakes.live import link

            link(session, fake.id, message[0], "copy", 1.0,
                 f"исходный пост (подозрение {suspect.id})", origin=True)
    audit.record(session, actor, "fake.suspect.promote", "fake_suspect", suspect.id,
                 region_code=region, details={"fake": fake.id})
    return fake


def dismiss_suspect(session: Session, actor: Actor, suspect_id: int) -> FakeSuspect:
    """Not a fake: the suspect leaves the list."""
    suspect = _suspect(session, actor, suspect_id)
    if not can_edit(actor):
        raise Forbidden("suspects are checked by the center's analysts; your role reads them")
    suspect.status, suspect.updated_at = "dismissed", utcnow()
    audit.record(session, actor, "fake.suspect.dismiss", "fake_suspect", suspect.id,
                 region_code=suspect.region_code)
    return suspect


def mark_origin(session: Session, actor: Actor, fake_id: int, message_id: int,
                origin: bool = True) -> FakeCopy:
    """Mark (or unmark) a linked message as an originating post of the fake."""
    fake = get_fake(session, actor, fake_id)
    _can_write(actor, fake.region_code)
    row = next((c for c, _ in FakeRepository(session).copies(actor.scope, fake.id)
                if c.message_id == message_id), None)
    if row is None:
        raise NotFound(f"message {message_id} is not linked to fake {fake.id}")
    if row.origin != origin:
        row.origin = origin
        _revise(session, actor, fake, "origin", {"origin": [None if origin else message_id,
                                                            message_id if origin else None]})
    return row
