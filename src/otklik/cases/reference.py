"""Reference rows building cases reads (routing rules, organizations and what they cover, a
region's territory, deadline policies, calendar corrections, the active executor model, the
rubricator in use), read once per transaction and kept beside the session: building a
batch's cases read them two or three times per case before this cache (docs/performance.md).
On PostgreSQL a region's rules, its organizations and what they cover, its own territory,
its deadline policies and calendar corrections are kept beyond the transaction too (as
values), checked at its first read by a digest of their rows (:func:`_region_reads`).
:class:`ReferenceReads` is the part of :class:`otklik.cases.repository.CaseRepository`
that serves them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import event, or_, select, text
from sqlalchemy.orm import Session

from otklik.db.lists import among
from otklik.db.session import forget_at_transaction_end
from otklik.models.case import CalendarExceptionRow, DeadlinePolicyRow, ModelVersion, RoutingRule
from otklik.models.organization import Organization, OrganizationTerritory
from otklik.models.taxonomy import TaxonomyVersion
from otklik.models.territory import Territory, TerritoryLevel
from otklik.nlp.taxonomy.taxonomy import Taxonomy

T = TypeVar("T")
V = TypeVar("V", bound=tuple[Any, ...])
_REFERENCE_KEY = "otklik_case_reference"
_NEW_KEY = "otklik_case_reference_added"
#: The rows read for every case built (two or three times per case before this cache; the
#: routing rules, the region's territory, the active executor model, the executor, what it
#: covers and the rubricator in use once per case).
_CACHED_TYPES = (DeadlinePolicyRow, CalendarExceptionRow, RoutingRule, Territory, ModelVersion,
                 Organization, OrganizationTerritory, TaxonomyVersion)


def _reference_cache(session: Session) -> dict[tuple[str, str | None], Any]:
    """Deadline policies and calendar corrections, read once per transaction instead of for
    every case (building a batch's cases read them two or three times per case: the profile
    in docs/performance.md). Forgotten at the end of the transaction (commit or rollback,
    a SAVEPOINT's rollback too: a SAVEPOINT released changes nothing seen) and when the
    session flushes a change to such a row, so an edit is seen at once in its own session,
    and by others from their next transaction."""
    if _pending_change(session):  # added, not flushed yet: the query would have seen it
        _forget_reference(session)
    cache: dict[tuple[str, str | None], Any] | None = session.info.get(_REFERENCE_KEY)
    if cache is None:
        cache = session.info[_REFERENCE_KEY] = {}
        forget_at_transaction_end(session, _REFERENCE_KEY)
        if not event.contains(session, "after_flush", _forget_on_change):
            event.listen(session, "after_flush", _forget_on_change)
    return cache


def _quiet(session: Session) -> AbstractContextManager[Any]:
    """Read reference rows without flushing the batch's pending rows first (a flush per
    cache miss splits a batch's INSERTs in many), unless a change of such a row is pending:
    then the query must see it, as it would have."""
    changing = _pending_change(session) or _changed_unflushed(session, _CACHED_TYPES)
    return nullcontext() if changing else session.no_autoflush


def rules_of(session: Session, regions: Sequence[str | None]
             ) -> dict[str | None, list[RoutingRule]]:
    """Each region's enabled routing rules in order (the ORM rows: not cached)."""
    rules: dict[str | None, list[RoutingRule]] = {r: [] for r in regions}
    for rule in session.scalars(
            select(RoutingRule).where(RoutingRule.region_code.in_(_named(regions)),
                                      RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.region_code, RoutingRule.position, RoutingRule.id)):
        rules[rule.region_code].append(rule)
    return rules


class RuleRow(NamedTuple):
    """A routing rule as routing a case reads it: values, not an ORM object (a batch's
    transaction reads its regions' rules, hundreds each: as ORM rows they were a tenth of
    building the batch's cases)."""

    id: int
    region_code: str
    position: int
    topic: str | None
    subtopic: str | None
    territory_id: int | None
    executor_id: int
    enabled: bool
    note: str | None


def _rule_rows_of(session: Session, regions: Sequence[str | None]
                  ) -> dict[str | None, list[RuleRow]]:
    rules: dict[str | None, list[RuleRow]] = {r: [] for r in regions}
    for row in session.execute(
            select(*_columns(RoutingRule, RuleRow))
            .where(among(session, RoutingRule.region_code, _named(regions)),
                   RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.region_code, RoutingRule.position, RoutingRule.id)):
        rules[row.region_code].append(RuleRow(*row))
    return rules


class OrganizationRow(NamedTuple):
    """An organization as routing a case, its deadlines and its interim answer read it:
    values, not an ORM object, so that a region's organizations are kept beyond the
    transaction like its rules (read in every transaction as ORM rows they were a twentieth
    of building a batch's cases)."""

    id: int
    region_code: str
    name: str
    timezone: str
    working_hours: dict[str, Any]
    is_active: bool


#: What routing, deadlines and answers read of an organization: the ORM row, or its values.
AnyOrganization = Organization | OrganizationRow


class PolicyRow(NamedTuple):
    """A deadline policy row as values (see :class:`OrganizationRow`)."""

    id: int
    region_code: str | None
    position: int
    policy: dict[str, Any]


class CalendarRow(NamedTuple):
    """A calendar correction row as values (see :class:`OrganizationRow`)."""

    id: int
    region_code: str | None
    day: str
    kind: str
    note: str


def _columns(model: type[Any], values: type[tuple[Any, ...]]) -> list[Any]:
    """The columns of ``model`` that a row of ``values`` (a NamedTuple of its fields) holds."""
    return [getattr(model, name) for name in values._fields]  # type: ignore[attr-defined]


def _values_of(values: type[V], row: Any) -> V:
    """An ORM row as values (a NamedTuple of some of its fields)."""
    return values(*(getattr(row, name) for name in values._fields))  # type: ignore[attr-defined]


def _organizations_in(session: Session, regions: Sequence[str | None]
                      ) -> dict[str | None, dict[int, OrganizationRow]]:
    found: dict[str | None, dict[int, OrganizationRow]] = {r: {} for r in regions}
    for row in session.execute(
            select(*_columns(Organization, OrganizationRow))
            .where(among(session, Organization.region_code, _named(regions)))):
        found[row.region_code][row.id] = OrganizationRow(*row)
    return found


def _coverage_in(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, dict[int, set[int]]]:
    coverage: dict[str | None, dict[int, set[int]]] = {r: {} for r in regions}
    for region, org_id, territory in session.execute(
            select(Organization.region_code, OrganizationTerritory.organization_id,
                   OrganizationTerritory.territory_id)
            .join(Organization, Organization.id == OrganizationTerritory.organization_id)
            .where(among(session, Organization.region_code, _named(regions)))):
        coverage[region].setdefault(org_id, set()).add(territory)
    return coverage


def _region_ids(session: Session, regions: Sequence[str | None]
                ) -> dict[str | None, int | None]:
    ids: dict[str | None, int | None] = dict.fromkeys(regions)
    for region, territory_id in session.execute(
            select(Territory.region_code, Territory.id).where(
                Territory.level == TerritoryLevel.region,
                among(session, Territory.region_code, _named(regions)))):
        if ids[region] is None:
            ids[region] = territory_id
    return ids


def _policies_of(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, list[PolicyRow]]:
    """Each region's deadline policies in order, then the global ones (None: those alone)."""
    rows = (PolicyRow(*row) for row in session.execute(
        select(*_columns(DeadlinePolicyRow, PolicyRow)).where(or_(
            among(session, DeadlinePolicyRow.region_code, _named(regions)),
            DeadlinePolicyRow.region_code.is_(None)))
        .order_by(DeadlinePolicyRow.region_code.is_(None), DeadlinePolicyRow.position,
                  DeadlinePolicyRow.id)))
    return _with_global(regions, rows, lambda row: row.region_code)


def _calendar_of(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, list[CalendarRow]]:
    """Each region's calendar corrections, then the country's (None: those alone)."""
    rows = (CalendarRow(*row) for row in session.execute(
        select(*_columns(CalendarExceptionRow, CalendarRow))
        .where(or_(among(session, CalendarExceptionRow.region_code, _named(regions)),
                   CalendarExceptionRow.region_code.is_(None)))
        .order_by(CalendarExceptionRow.id)))
    return _with_global(regions, rows, lambda row: row.region_code)


def _named(regions: Sequence[str | None]) -> list[str]:
    return [r for r in regions if r is not None]


def _with_global(regions: Sequence[str | None], rows: Any, region_of: Callable[[Any], str | None]
                 ) -> dict[str | None, list[Any]]:
    """Rows by region, each region's own followed by those of every region (region None)."""
    own: dict[str | None, list[Any]] = {r: [] for r in regions}
    common: list[Any] = []
    for row in rows:
        region = region_of(row)
        (common if region is None else own[region]).append(row)
    return {r: common if r is None else own[r] + common for r in regions}


#: What building cases reads of a region, by cache key: one query for any number of regions.
_REGION_READS: dict[str, Callable[[Session, Sequence[str | None]], dict[str | None, Any]]] = {
    "rules": _rule_rows_of, "organizations": _organizations_in, "coverage": _coverage_in,
    "region": _region_ids, "policies": _policies_of, "calendar": _calendar_of}

#: The reads kept beyond a transaction on PostgreSQL (plain values, no ORM rows): each with
#: a digest of the rows it comes from, per region, worked out by the database (a row's whole
#: text: any insert, change or delete changes it). Reading them again in every transaction
#: was a tenth of building a batch's cases (docs/performance.md, session 14, path22; the
#: organizations, policies and calendar since session 15, cases23).
_KEPT_DIGESTS: dict[str, str] = {
    "rules": "SELECT 'rules', r.region_code, md5(string_agg(r::text, '|' ORDER BY r.id)) "
             "FROM routing_rule r WHERE r.region_code = ANY(:rules) GROUP BY r.region_code",
    "coverage": "SELECT 'coverage', o.region_code, md5(string_agg("
                "t.organization_id || ':' || t.territory_id, ',' "
                "ORDER BY t.organization_id, t.territory_id)) "
                "FROM organization_territory t JOIN organization o ON o.id = t.organization_id "
                "WHERE o.region_code = ANY(:coverage) GROUP BY o.region_code",
    "region": "SELECT 'region', region_code, md5(string_agg(id::text, ',' ORDER BY id)) "
              f"FROM territory WHERE level = '{TerritoryLevel.region.name}' "
              "AND region_code = ANY(:region) GROUP BY region_code",
    "organizations": "SELECT 'organizations', o.region_code, "
                     "md5(string_agg(o::text, '|' ORDER BY o.id)) FROM organization o "
                     "WHERE o.region_code = ANY(:organizations) GROUP BY o.region_code",
    # a region's policies and calendar come with the country's (region NULL): both digested
    "policies": "SELECT 'policies', q.region, md5(string_agg(p::text, '|' ORDER BY p.id)) "
                "FROM unnest(CAST(:policies AS varchar[])) AS q(region) "
                "JOIN deadline_policy p ON p.region_code = q.region OR p.region_code IS NULL "
                "GROUP BY q.region",
    "calendar": "SELECT 'calendar', q.region, md5(string_agg(c::text, '|' ORDER BY c.id)) "
                "FROM unnest(CAST(:calendar AS varchar[])) AS q(region) "
                "JOIN calendar_exception c "
                "ON c.region_code = q.region OR c.region_code IS NULL GROUP BY q.region"}
#: (database, kind, region) -> (digest of its rows, the value read): one process's copy.
_KEPT: dict[tuple[str, str, str | None], tuple[str, Any]] = {}


def _digests(session: Session, kinds: dict[str, list[str]]
             ) -> dict[tuple[str, str | None], str]:
    """The digests of these kinds' rows, per region, in one statement (a region without
    rows: absent)."""
    asked = {kind: regions for kind, regions in kinds.items() if regions}
    if not asked:
        return {}
    statement = " UNION ALL ".join(f"({_KEPT_DIGESTS[kind]})" for kind in asked)
    return {(kind, region): digest for kind, region, digest
            in session.execute(text(statement), asked)}


def _region_reads(session: Session, wanted: dict[str, list[str | None]]
                  ) -> dict[str, dict[str | None, Any]]:
    """What :data:`_REGION_READS` reads of these regions, by kind; on PostgreSQL the kinds
    of :data:`_KEPT_DIGESTS` are taken from this process's copy while their rows' digest is
    the one they were read under (one statement for all instead of a read each). A value
    read afresh is kept only when the digest before and after the read agree (nothing
    changed while it was read)."""
    found: dict[str, dict[str | None, Any]] = {kind: {} for kind in wanted}
    kept = {kind: list(dict.fromkeys(_named(regions))) for kind, regions in wanted.items()
            if kind in _KEPT_DIGESTS}
    missed: dict[str, list[str | None]] = wanted
    before: dict[tuple[str, str | None], str] = {}
    database = ""
    if any(kept.values()) and session.get_bind().dialect.name == "postgresql":
        database = str(session.connection().engine.url)
        before = _digests(session, kept)
        missed = {}
        for kind, regions in wanted.items():
            for region in regions:
                held = (_KEPT.get((database, kind, region))
                        if kind in kept and region is not None else None)
                if held is not None and held[0] == before.get((kind, region), ""):
                    found[kind][region] = held[1]
                else:
                    missed.setdefault(kind, []).append(region)
    for kind, regions in missed.items():
        found[kind].update(_REGION_READS[kind](session, regions))
    if database:
        again = {kind: _named(regions) for kind, regions in missed.items() if kind in kept}
        after = _digests(session, again)
        for kind, named in again.items():
            for region in named:
                digest = before.get((kind, region), "")
                if after.get((kind, region), "") == digest:
                    _KEPT[(database, kind, region)] = (digest, found[kind][region])
    return found


def _changed_unflushed(session: Session, types: tuple[type, ...]) -> bool:
    """True when a loaded row of these types has a change not flushed yet (``session.dirty``
    builds a set at every call: looked at only when some loaded row is changed at all)."""
    if not session.identity_map.check_modified():
        return False
    return any(isinstance(row, types) for row in session.dirty)


def _unflushed(session: Session, model: type[Any], values: type[V]) -> dict[int, V]:
    """The values of the loaded rows of ``model`` with a change not flushed yet, by id:
    what the ORM rows cached before showed of them (values read from the database do not)."""
    if not session.identity_map.check_modified():
        return {}
    return {row.id: _values_of(values, row) for row in session.dirty if isinstance(row, model)}


def _with_unflushed(session: Session, model: type[Any], values: type[V], rows: Sequence[V]
                    ) -> Sequence[V]:
    """``rows`` (``values`` of ``model``'s rows) with this session's unflushed changes laid
    over them (see :func:`_unflushed`)."""
    changed = _unflushed(session, model, values)
    return [changed.get(row.id, row) for row in rows] if changed else rows  # type: ignore[attr-defined]


def _forget_reference(session: Session, *_: Any) -> None:
    session.info.pop(_REFERENCE_KEY, None)


def _pending_change(session: Session) -> bool:
    """True when a row of the cached types was added or deleted and not flushed yet. The
    added ones are noted as they are added (a batch keeps hundreds of its own rows pending:
    looking through them at every read cost a quarter of building its cases)."""
    if _NEW_KEY not in session.info:  # the listeners are not there yet (event.contains
        # on every call was 4 % of building a batch's cases)
        event.listen(session, "transient_to_pending", _note_new)
        event.listen(session, "after_flush_postexec", _forget_new)
        event.listen(session, "after_soft_rollback", _forget_new)
        session.info[_NEW_KEY] = any(isinstance(row, _CACHED_TYPES) for row in session.new)
    if session.info.get(_NEW_KEY):
        return True
    # ``session.deleted`` builds a set at every call (this runs at every cached read: a
    # thirtieth of building a batch's cases): looked at only when a row is to be deleted
    if not getattr(session, "_deleted", True):
        return False
    return any(isinstance(row, _CACHED_TYPES) for row in session.deleted)


def _note_new(session: Session, instance: Any) -> None:
    if isinstance(instance, _CACHED_TYPES):
        session.info[_NEW_KEY] = True


def _forget_new(session: Session, *_: Any) -> None:
    session.info[_NEW_KEY] = any(isinstance(row, _CACHED_TYPES) for row in session.new)


def _forget_on_change(session: Session, _flush_context: Any) -> None:
    if _pending_change(session) or _changed_unflushed(session, _CACHED_TYPES):
        _forget_reference(session)


class _RuleIndex:
    """A region's enabled rules by topic, in their order, with what the match asks of each
    (its subtopic and territory) read once: a region has hundreds of rules (one per
    municipality and topic) and a batch routes dozens of cases per topic."""

    def __init__(self, rules: Sequence[RuleRow], region_code: str) -> None:
        self.rules = [(rule, rule.topic or None, rule.subtopic or None, rule.territory_id)
                      for rule in rules if rule.enabled and rule.region_code == region_code]
        self.by_topic: dict[str | None, list[tuple[RuleRow, str | None, int | None]]] = {}
        #: Each match asked for (cases of a batch share topic, subtopic and territory).
        self.found: dict[tuple[str | None, str | None, frozenset[int]], RuleRow | None] = {}

    def first(self, topic: str | None, subtopic: str | None, places: set[int]
              ) -> RuleRow | None:
        """The first rule whose topic, subtopic and territory are each empty or the case's."""
        key = (topic, subtopic, frozenset(places))
        if key not in self.found:
            self.found[key] = self._first(topic, subtopic, places)
        return self.found[key]

    def _first(self, topic: str | None, subtopic: str | None, places: set[int]
               ) -> RuleRow | None:
        candidates = self.by_topic.get(topic)
        if candidates is None:
            candidates = self.by_topic[topic] = [
                (rule, rule_subtopic, territory)
                for rule, rule_topic, rule_subtopic, territory in self.rules
                if rule_topic is None or (topic is not None and rule_topic == topic)]
        for rule, rule_subtopic, territory in candidates:
            if ((rule_subtopic is None or (subtopic is not None and rule_subtopic == subtopic))
                    and (territory is None or territory in places)):
                return rule
        return None


class ReferenceReads:
    """The cached reads of reference rows (a part of the cases' repository)."""

    session: Session

    def first_rule(self, region_code: str, topic: str | None, subtopic: str | None,
                   territory_ids: Sequence[int]) -> RuleRow | None:
        """The first enabled rule of a region (by position) that matches a case.

        A rule matches when each of its topic, subtopic and territory is empty or equal to
        the case's (the territory: the case's municipality or settlement). The region's
        enabled rules are read once per transaction (:func:`_reference_cache`, forgotten when
        a rule changes) and matched here: a batch of cases costs one query, not one each.
        Only the rules of the case's topic (or of none) are looked at: :class:`_RuleIndex`,
        kept beside the rules."""
        rules = self.enabled_rules(region_code)
        index = self.derived("rule_index", region_code, rules,
                             lambda: _RuleIndex(rules, region_code), RoutingRule)
        return index.first(topic, subtopic, set(territory_ids))

    def derived(self, name: str, region_code: str | None, source: object,
                build: Callable[[], T], *types: type) -> T:
        """A value worked out from reference rows read once per transaction (``source``:
        the cached rows it comes from), kept beside them: forgotten with them (an edit, a
        commit, a rollback), and worked out afresh while a row of ``types`` has a change
        this session has not flushed yet (the rows' own attributes would show it)."""
        if _changed_unflushed(self.session, types):
            return build()
        cache = _reference_cache(self.session)
        key = (f"derived {name}", region_code)
        held = cache.get(key)
        if held is None or held[0] is not source:
            held = cache[key] = (source, build())
        value: T = held[1]
        return value

    def read_regions(self, region_codes: Sequence[str | None]) -> None:
        """Read what building cases asks of each of these regions (enabled rules,
        organizations and what they cover, the region's territory, deadline policies and
        calendar corrections) for all of them at once, into the per-transaction cache the
        single-region reads below fill: one query per kind for a batch, not per region
        (a batch spans several regions). A region already cached is not read again."""
        self._cache_regions(dict.fromkeys(_REGION_READS, _named(region_codes)))

    def _region_read(self, kind: str, region_code: str | None) -> Any:
        """``kind`` (a key of :data:`_REGION_READS`) of a region: read and cached when the
        transaction's cache lacks it (asked several times for every case a batch builds:
        a cached one is taken straight from the cache)."""
        cache = _reference_cache(self.session)
        key = (kind, region_code)
        if key in cache:
            return cache[key]
        return self._cache_regions({kind: [region_code]})[key]

    def _cache_regions(self, asked: dict[str, Sequence[str | None]]) -> dict[Any, Any]:
        """Read these kinds of these regions that the transaction's cache lacks (one
        :func:`_region_reads` for all) into it; returns the cache."""
        cache = _reference_cache(self.session)
        wanted = {kind: regions for kind, regions in (
            (kind, list(dict.fromkeys(r for r in named if (kind, r) not in cache)))
            for kind, named in asked.items()) if regions}
        if wanted:
            with _quiet(self.session):
                values = _region_reads(self.session, wanted)
            for kind, regions in wanted.items():
                for region in regions:
                    cache[(kind, region)] = values[kind][region]
        return cache

    def region_id(self, region_code: str) -> int | None:
        """The territory id of a region, read once per transaction."""
        found: int | None = self._region_read("region", region_code)
        return found

    def active_model_row(self, label_field: str) -> ModelVersion | None:
        """The active registered model of a label field, read once per transaction."""
        cache = _reference_cache(self.session)
        key = ("model", label_field)
        if key not in cache or (cache[key] is not None and not cache[key].active):
            from otklik.language.registry import active_row

            with _quiet(self.session):
                cache[key] = active_row(self.session, label_field)
        row: ModelVersion | None = cache[key]
        return row

    def organization(self, organization_id: int, region_code: str | None = None
                     ) -> OrganizationRow | None:
        """An organization by id, as values, read once per transaction (the executor of
        every case a batch routes to it); with the region it is expected in, every
        organization of that region is read at once (and kept beyond the transaction: see
        :func:`_region_reads`)."""
        if region_code is not None:
            found = self._organizations_of(region_code).get(organization_id)
            if found is not None:
                return found
        cache = _reference_cache(self.session)
        key = ("organization", str(organization_id))
        if key not in cache:
            with _quiet(self.session):
                row = self.session.get(Organization, organization_id)
            cache[key] = None if row is None else _values_of(OrganizationRow, row)
        one: OrganizationRow | None = cache[key]
        if one is not None:
            one = _unflushed(self.session, Organization, OrganizationRow).get(one.id, one)
        return one

    def _organizations_of(self, region_code: str) -> dict[int, OrganizationRow]:
        found: dict[int, OrganizationRow] = self._region_read("organizations", region_code)
        changed = _unflushed(self.session, Organization, OrganizationRow)
        if changed:  # as the ORM rows held before showed it
            found = {i: changed.get(i, row) for i, row in found.items()}
        return found

    def covers(self, organization_id: int, territory_ids: Sequence[int],
               region_code: str | None) -> bool:
        """True when the organization covers any of these territories: what the
        organizations of the region cover is read once per transaction (an organization of
        another region is asked on its own)."""
        if region_code is None:
            return organization_id in self.covering(territory_ids)
        coverage: dict[int, set[int]] = self._region_read("coverage", region_code)
        if organization_id not in self._organizations_of(region_code):
            return organization_id in self.covering(territory_ids)
        return bool(coverage.get(organization_id, set()) & set(territory_ids))

    def covering(self, territory_ids: Sequence[int]) -> set[int]:
        """Ids of the organizations that cover any of these territories, read once per
        transaction for each set of territories."""
        cache = _reference_cache(self.session)
        key = ("covering", ",".join(map(str, sorted(set(territory_ids)))))
        if key not in cache:
            from otklik.organizations.repository import OrganizationRepository

            with _quiet(self.session):
                cache[key] = OrganizationRepository(self.session).covering(territory_ids)
        found: set[int] = cache[key]
        return found

    def active_taxonomy(self) -> Taxonomy:
        """The rubricator in use (:func:`otklik.language.taxonomy_service.active_taxonomy`),
        read once per transaction (each interim answer names the case's topic)."""
        cache = _reference_cache(self.session)
        key = ("taxonomy", None)
        if key not in cache:
            from otklik.language.taxonomy_service import active_taxonomy

            with _quiet(self.session):
                cache[key] = active_taxonomy(self.session)
        taxonomy: Taxonomy = cache[key]
        return taxonomy

    def enabled_rules(self, region_code: str) -> Sequence[RuleRow]:
        """A region's enabled routing rules in order, read once per transaction (as values:
        a rule changed in this session and not flushed yet is flushed first, as the query
        the cache replaces would have done, and the rules are read again)."""
        if _changed_unflushed(self.session, (RoutingRule,)):
            self.session.flush()
        rules: Sequence[RuleRow] = self._region_read("rules", region_code)
        return rules

    def policies(self, region_code: str | None) -> Sequence[PolicyRow]:
        """Deadline policies of a region and the global ones, in order, as values (read
        once per transaction: see :func:`_reference_cache`; a policy this session changed
        and has not flushed yet shows the change, as the ORM rows held before did)."""
        rows: Sequence[PolicyRow] = self._region_read("policies", region_code)
        return _with_unflushed(self.session, DeadlinePolicyRow, PolicyRow, rows)

    def calendar_exceptions(self, region_code: str | None) -> Sequence[CalendarRow]:
        """Calendar corrections for a region and the country, as values (read once per
        transaction; one changed and not flushed yet shows the change, as for
        :meth:`policies`)."""
        rows: Sequence[CalendarRow] = self._region_read("calendar", region_code)
        return _with_unflushed(self.session, CalendarExceptionRow, CalendarRow, rows)
