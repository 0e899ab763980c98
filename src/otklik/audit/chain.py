"""The tamper-evident audit log: every entry is MAC'd when written, and a sealer chains the
entries in order, so an edited, deleted, inserted or reordered entry is caught by
``otklik audit verify`` even when the attacker had the database (and dropped its
append-only triggers first).

* **MAC per entry** (at insert): HMAC-SHA256, under the audit key (settings: kept outside
  the database), of the entry's canonical content and a random nonce. An edited entry no
  longer matches its MAC, and an attacker without the key cannot write a valid one, so an
  inserted entry is caught; a copied row repeats a MAC (unique).
* **Chain of seals** (``audit_seal``, after commit, one sealer at a time): the ``seq``-th
  seal names its entry and its MAC and carries ``hash = HMAC(key, seq | prev_hash |
  entry_mac)``. A deleted entry leaves a seal pointing at nothing; a deleted seal leaves a
  gap in ``seq``; a reordering breaks ``prev_hash``. Entries are sealed in the order they
  become visible (committed), not by id.
* **The head** (``seq`` and ``hash`` of the last seal) is logged by every sealing and printed
  by ``verify``: kept outside the database (the logs, a ticket), it shows a truncated tail
  (``otklik audit verify --head SEQ:HASH``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, exists, func, select, text
from sqlalchemy.orm import Session, aliased

from otklik.config import get_settings
from otklik.db.appends import insert_rows
from otklik.db.base import utcnow
from otklik.db.session import json_dumps
from otklik.models.audit import AuditEntry, AuditSeal

log = logging.getLogger(__name__)

#: The first seal's previous hash.
GENESIS = "0" * 64
#: Entries sealed per round (a round holds the sealer's lock).
SEAL_BATCH = 5000
#: The PostgreSQL advisory lock that makes one sealer at a time.
SEAL_LOCK = 0x6F746B6C696B4175


def new_nonce() -> str:
    return secrets.token_hex(16)


_derived_key: tuple[object, bytes, Any] | None = None


def _keyed() -> tuple[bytes, Any]:
    """The audit key of the settings in use and an HMAC-SHA256 keyed with it, to copy for
    each MAC (derived once per settings object, not once per entry: it was a tenth of
    recording an entry; a copy skips keying the HMAC again)."""
    global _derived_key
    settings = get_settings()
    if _derived_key is None or _derived_key[0] is not settings:
        key = settings.audit_mac_key
        _derived_key = (settings, key, hmac.new(key, digestmod=hashlib.sha256))
    return _derived_key[1], _derived_key[2]


def _key() -> bytes:
    return _keyed()[0]


def _mac(key: bytes | None, content: bytes) -> str:
    """HMAC-SHA256 of ``content`` under ``key`` (the audit key when None or the same)."""
    audit_key, keyed = _keyed()
    if key and key != audit_key:
        return hmac.new(key, content, hashlib.sha256).hexdigest()
    mac = keyed.copy()
    mac.update(content)
    return str(mac.hexdigest())


def _moment(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if value.year < 1000:  # strftime does not pad such a year: kept as it was MAC'd
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")  # the same, faster


def canonical(values: dict[str, Any]) -> bytes:
    """The bytes an entry's MAC covers (stable across SQLite and PostgreSQL round trips)."""
    content = {
        "at": _moment(values.get("at")),
        "actor_id": values.get("actor_id"),
        "actor": values.get("actor"),
        "action": values.get("action"),
        "object_type": values.get("object_type"),
        "object_id": values.get("object_id"),
        "region_code": values.get("region_code"),
        "details": values.get("details") or {},
        "ip": values.get("ip"),
        "nonce": values.get("nonce"),
    }
    return _CANONICAL.encode(content).encode()


#: ``json.dumps(…, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)``
#: built once (json.dumps builds an encoder at every call with such arguments).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              default=str)


def entry_mac(values: dict[str, Any], key: bytes | None = None) -> str:
    """The MAC of an entry's content."""
    return _mac(key, canonical(values))


#: The columns of an entry its MAC covers.
_CONTENT = ("at", "actor_id", "actor", "action", "object_type", "object_id", "region_code",
            "details", "ip", "nonce")


def values_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _CONTENT}


def normalized_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as they will read back from the JSON column (keys as strings, tuples as
    lists …), so the MAC computed now matches the one recomputed later. Flat details of
    strings, integers, booleans and None read back as they are: copied, not round-tripped
    (most entries: a case's history writes thousands per batch)."""
    if details is None:
        return {}
    if all(type(k) is str and type(v) in _PLAIN for k, v in details.items()):
        return dict(details)
    loaded: dict[str, Any] = json.loads(json_dumps(details, default=str))  # as the column
    return loaded


#: Values a JSON column gives back as they were stored.
_PLAIN = frozenset({str, int, bool, type(None)})


def seal_hash(seq: int, prev_hash: str, mac: str, key: bytes | None = None) -> str:
    return _mac(key, f"{seq}|{prev_hash}|{mac}".encode())


def _lock(session: Session) -> None:
    """One sealer at a time, until the caller's transaction ends: on PostgreSQL an advisory
    lock; on SQLite the database's write lock, taken now by a write that changes nothing (a
    read first would let two sealers read the same head and the second fail on its
    ``seq`` when it writes — the embedded queue runs jobs on several threads)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    else:
        session.execute(text("UPDATE audit_seal SET seq = seq WHERE 0 = 1"))


def unsealed_query(limit: int) -> Any:
    """The first ``limit`` entries (id order) not sealed yet, with what their MAC covers.

    NOT EXISTS, not NOT IN (SELECT entry_mac …): PostgreSQL cannot hash a NOT IN list
    larger than work_mem and then scans the seals once per entry — over 2 M seals a round
    had not finished after 13 minutes (docs/performance.md, session 12); entry_mac is NOT
    NULL, so the two say the same. Each entry's look-up goes through
    ``ix_audit_seal_entry_mac`` (migration 0030): without it SQLite read every seal for
    every entry — sealing the demo's ≈ 60,000 entries took over ten minutes, holding the
    write lock (docs/performance.md, session 17)."""
    sealed = aliased(AuditSeal)
    return (select(AuditEntry.id, AuditEntry.mac, *(getattr(AuditEntry, n) for n in _CONTENT))
            .outerjoin(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
            .where(AuditSeal.seq.is_(None), AuditEntry.mac.is_not(None),
                   ~exists().where(sealed.entry_mac == AuditEntry.mac))
            .order_by(AuditEntry.id).limit(limit))


def seal(session: Session, *, limit: int = SEAL_BATCH) -> int:
    """Seal the committed entries not sealed yet whose MAC holds (in id order); an entry
    whose MAC fails is left unsealed for ``verify`` to name. Returns how many were sealed.
    Idempotent; one sealer at a time (an advisory lock held until the caller commits)."""
    _lock(session)
    key = _key()
    last = session.execute(select(AuditSeal.seq, AuditSeal.hash)
                           .order_by(AuditSeal.seq.desc()).limit(1)).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    # the entries' columns, not ORM objects, and the seals in one executemany INSERT, not
    # thousands of ORM objects (docs/performance.md, session 12)
    pending = session.execute(unsealed_query(limit)).all()
    seals: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry_id, mac, *values in pending:
        if mac is None or mac in seen or not hmac.compare_digest(
                mac, entry_mac(dict(zip(_CONTENT, values, strict=True)), key)):
            continue
        seen.add(mac)
        seq += 1
        digest = seal_hash(seq, prev, mac, key)
        seals.append({"seq": seq, "entry_id": entry_id, "entry_mac": mac, "prev_hash": prev,
                      "hash": digest, "sealed_at": utcnow()})
        prev = digest
    done = len(seals)
    if done:  # one COPY on PostgreSQL (otklik.db.appends.insert_rows)
        insert_rows(session.connection(), cast(Table, AuditSeal.__table__), seals)
        log.info("audit head seq=%s hash=%s", seq, prev)
    return done


@dataclass
class Verdict:
    """What ``verify`` found: ``problems`` in order (the first is the first broken entry)."""

    sealed: int = 0
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken_entry: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def broken(self, entry_id: int | None, problem: str) -> None:
        if self.first_broken_entry is None and entry_id is not None:
            self.first_broken_entry = entry_id
        self.problems.append(problem)


def verify(session: Session, *, head: tuple[int, str] | None = None,
           batch: int = 10_000) -> Verdict:
    """Walk the chain and every entry; name each break, the first broken entry first."""
    key = _key()
    verdict = Verdict(entries=int(session.scalar(select(func.count(AuditEntry.id))) or 0))
    expected_seq, prev = 1, GENESIS
    sealed_ids: set[int] = set()
    after = 0
    while True:
        seals = session.scalars(select(AuditSeal).where(AuditSeal.seq > after)
                                .order_by(AuditSeal.seq).limit(batch)).all()
        if not seals:
            break
        entries = {e.id: e for e in session.scalars(
            select(AuditEntry).where(AuditEntry.id.in_([s.entry_id for s in seals])))}
        for row in seals:
            after = row.seq
            if row.seq != expected_seq:
                verdict.broken(row.entry_id, f"seal {expected_seq}…{row.seq - 1} missing "
                               f"before entry {row.entry_id}: deleted seals")
            if row.prev_hash != prev or row.hash != seal_hash(row.seq, row.prev_hash,
                                                              row.entry_mac, key):
                verdict.broken(row.entry_id, f"seal {row.seq} (entry {row.entry_id}) does "
                               "not follow the chain: seals rewritten or reordered")
            entry = entries.get(row.entry_id)
            if entry is None:
                verdict.broken(row.entry_id, f"entry {row.entry_id} (seal {row.seq}) is "
                               "gone: deleted")
            elif entry.mac != row.entry_mac or entry.mac != entry_mac(values_of(entry), key):
                verdict.broken(entry.id, f"entry {entry.id} (seal {row.seq}) was edited")
            sealed_ids.add(row.entry_id)
            expected_seq, prev = row.seq + 1, row.hash
            verdict.sealed += 1
    verdict.head_seq, verdict.head_hash = expected_seq - 1, prev
    unsealed = session.scalars(select(AuditEntry).where(  # NOT EXISTS: see seal()
        ~exists().where(AuditSeal.entry_id == AuditEntry.id)).order_by(AuditEntry.id)).all()
    macs: set[str] = set()
    for entry in unsealed:
        if entry.mac is None or entry.mac != entry_mac(values_of(entry), key):
            verdict.broken(entry.id, f"entry {entry.id} has no valid MAC: inserted or "
                           "edited outside Otklik")
        elif entry.mac in macs or session.scalar(select(func.count()).select_from(AuditSeal)
                                                 .where(AuditSeal.entry_mac == entry.mac)):
            verdict.broken(entry.id, f"entry {entry.id} repeats another entry's MAC: a "
                           "copied row")
        else:
            verdict.unsealed += 1  # written after the last sealing: sealed by the next
        if entry.mac:
            macs.add(entry.mac)
    if head is not None:
        seq, digest = head
        at = session.get(AuditSeal, seq)
        if at is None or at.hash != digest:
            verdict.broken(None, f"the head kept outside (seal {seq}) is not in the chain: "
                           "the tail was cut or rewritten")
    verdict.problems = sorted(set(verdict.problems), key=verdict.problems.index)
    return verdict
