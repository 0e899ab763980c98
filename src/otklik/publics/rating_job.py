"""The weekly rating as one SQL job: every page of a week scored in a handful of
INSERT … SELECT and UPDATE statements, never a Python loop over pages.

The same statements run on SQLite and PostgreSQL; the two spellings that differ (hours
between two moments) come from :func:`_hours`. Steps, all in the caller's transaction:

1. the week's earlier rows of this methodology version (and region) are removed;
2. one ``page_rating`` row per active page;
3. one ``page_rating_item`` row per page and criterion: the value measured from the week's
   posts, comments and snapshots, the norm and weight of the most specific criterion row
   for the page's type and class, and the part of the norm met (the rule of
   :func:`otklik.publics.vocabulary.part_met`);
   A question left without an answer is counted once, in the week it turns 24 hours old
   (asked from 24 h before the week's start to 24 h before its end), so a question asked
   late on a Sunday is not missed; the share answered and the time to answer are of the
   week's own questions;
4. the score: the weighted mean of the parts met, 0…100 (none when no data);
5. ranks within the municipality and within the region among pages of one type, and the
   movement since the week before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.db.types import UTCDateTime
from otklik.publics.vocabulary import CRITERIA
from otklik.publics.weeks import Week

#: The metric column of the per-page metrics behind each criterion code.
METRIC_COLUMNS: dict[str, str] = {
    "posts_per_week": "posts",
    "engagement_rate": "engagement",
    "subscriber_growth": "growth",
    "answered_share": "answered_share",
    "answer_hours": "answer_hours",
    "unanswered_24h": "left_over",
    "profile_completeness": "profile",
    "content_mix": "kinds",
}


_NAMES = re.compile(r"(?<!:):([a-z_]+)")


@dataclass
class JobCounts:
    """What the job wrote."""

    pages: int
    rated: int


def _hours(session: Session, later: str, earlier: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0"
    return f"(julianday({later}) - julianday({earlier})) * 24.0"


def _value_case() -> str:
    whens = " ".join(f"WHEN '{code}' THEN m.{column}" for code, column in METRIC_COLUMNS.items())
    return f"CASE k.code {whens} END"


def _part_case() -> str:
    at_most = ", ".join(f"'{c.code}'" for c in CRITERIA.values() if not c.at_least)
    return (
        "CASE WHEN v.value IS NULL THEN NULL "
        f"WHEN v.code IN ({at_most}) THEN "
        "  CASE WHEN v.value <= v.threshold THEN 1.0 "
        "  ELSE 1.0 / (1.0 + (v.value - v.threshold) / "
        "              (CASE WHEN v.threshold > 1 THEN v.threshold ELSE 1.0 END)) END "
        "WHEN v.threshold <= 0 OR v.value >= v.threshold THEN 1.0 "
        "WHEN v.value <= 0 THEN 0.0 "
        "ELSE v.value / v.threshold END"
    )


def _params(week: Week, methodology_id: int, region: str | None) -> dict[str, Any]:
    return {
        "week": week.label, "mid": methodology_id, "region": region,
        "ws": week.start, "we": week.end, "late": week.end - timedelta(hours=24),
        "early": week.start - timedelta(hours=24),
        "ws_day": week.monday, "we_day": week.next_monday,
        "prev_day": week.monday - timedelta(days=7), "prev_week": week.previous().label,
        "now": utcnow(),
    }


def _run(session: Session, sql: str, params: dict[str, Any]) -> Any:
    names = set(_NAMES.findall(sql))
    statement = text(sql)
    typed: list[Any] = [bindparam(n, type_=UTCDateTime())
                        for n in ("ws", "we", "late", "early", "now") if n in names]
    typed += [bindparam(n, type_=Date()) for n in ("ws_day", "we_day", "prev_day")
              if n in names]
    return session.execute(statement.bindparams(*typed),
                           {k: v for k, v in params.items() if k in names})


def compute_week(session: Session, week: Week, methodology_id: int,
                 region: str | None = None) -> JobCounts:
    """Score every active page (of ``region``, or all) for ``week`` under a version."""
    p = _params(week, methodology_id, region)
    only = " AND region_code = :region" if region else ""
    mine = f"week = :week AND methodology_id = :mid{only}"
    _run(session, f"DELETE FROM page_rating_item WHERE rating_id IN "
                  f"(SELECT id FROM page_rating WHERE {mine})", p)
    _run(session, f"DELETE FROM page_rating WHERE {mine}", p)
    pages = _run(session, f"""
        INSERT INTO page_rating (week, page_id, methodology_id, region_code, municipality_id,
                                 page_type, page_class, computed_at)
        SELECT :week, id, :mid, region_code, municipality_id, page_type, page_class, :now
        FROM public_page WHERE status = 'active'{only}""", p).rowcount
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Fresh rows: let the planner count them. Its guesses of the CTEs' sizes after
        # window filters are off by orders of magnitude, and nested loops over them are
        # quadratic: every join of this job is a hash join. The penalty that setting adds to
        # the plan's cost would start JIT compilation, which costs more than the query.
        _run(session, "ANALYZE page_rating", p)
        _run(session, "SET LOCAL enable_nestloop = off", p)
        _run(session, "SET LOCAL jit = off", p)
    hours = _hours(session, "answered_at", "created_at")
    # The metrics read the base tables by their time indexes (never joined to the fresh
    # rating rows until the end), so PostgreSQL hashes them instead of nesting loops.
    within = (" AND {t}.page_id IN (SELECT id FROM public_page WHERE region_code = :region)"
              if region else "")
    _run(session, f"""
        INSERT INTO page_rating_item (rating_id, code, value, threshold, weight, score)
        WITH r AS (
            SELECT id, page_id, page_type, page_class FROM page_rating WHERE {mine}
        ), posts AS (
            SELECT pp.page_id, COUNT(*) AS n, SUM(pp.likes + pp.reposts + pp.comments) AS acts,
                   SUM(pp.views) AS views, COUNT(DISTINCT pp.kind) AS kinds
            FROM page_post pp
            WHERE pp.posted_at >= :ws AND pp.posted_at < :we{within.format(t="pp")}
            GROUP BY pp.page_id
        ), snaps AS (
            SELECT s.page_id, s.subscribers, s.facts_present, s.facts_total,
                   CASE WHEN s.day >= :ws_day THEN 1 ELSE 0 END AS in_week,
                   ROW_NUMBER() OVER (
                       PARTITION BY s.page_id, CASE WHEN s.day >= :ws_day THEN 1 ELSE 0 END
                       ORDER BY s.day DESC) AS rn
            FROM page_snapshot s
            WHERE s.day >= :prev_day AND s.day < :we_day{within.format(t="s")}
        ), cur AS (
            SELECT page_id, subscribers, facts_present, facts_total
            FROM snaps WHERE in_week = 1 AND rn = 1
        ), prev AS (
            SELECT page_id, subscribers FROM snaps WHERE in_week = 0 AND rn = 1
        ), answered AS (
            SELECT q.id, q.page_id, q.created_at, MIN(a.created_at) AS answered_at
            FROM page_comment q
            LEFT JOIN page_comment a
              ON a.page_id = q.page_id AND a.reply_to = q.comment_id AND a.from_page
             AND a.created_at < :we
            WHERE q.needs_answer AND NOT q.from_page
              AND q.created_at >= :early AND q.created_at < :we{within.format(t="q")}
            GROUP BY q.id, q.page_id, q.created_at
        ), asked AS (
            SELECT page_id, created_at, answered_at, {hours} AS hours,
                   CASE WHEN created_at >= :ws THEN 1 ELSE 0 END AS in_week
            FROM answered
        ), talk AS (
            SELECT page_id, SUM(in_week) AS asked,
                   SUM(CASE WHEN in_week = 1 AND answered_at IS NOT NULL
                            THEN 1 ELSE 0 END) AS answered,
                   SUM(CASE WHEN answered_at IS NULL AND created_at < :late
                            THEN 1 ELSE 0 END) AS left_over
            FROM asked GROUP BY page_id
        ), ordered AS (
            SELECT page_id, hours,
                   ROW_NUMBER() OVER (PARTITION BY page_id ORDER BY hours) AS k,
                   COUNT(*) OVER (PARTITION BY page_id) AS n
            FROM asked WHERE answered_at IS NOT NULL AND in_week = 1
        ), median AS (
            SELECT page_id, AVG(hours) AS hours FROM ordered
            WHERE k IN ((n + 1) / 2, (n + 2) / 2) GROUP BY page_id
        ), m AS (
            SELECT r.id AS rating_id, r.page_type, r.page_class,
                   COALESCE(po.n, 0) AS posts,
                   CASE WHEN po.views > 0 THEN 100.0 * po.acts / po.views END AS engagement,
                   CASE WHEN pv.subscribers > 0 AND cu.subscribers IS NOT NULL
                        THEN 100.0 * (cu.subscribers - pv.subscribers) / pv.subscribers
                   END AS growth,
                   CASE WHEN t.asked > 0 THEN 100.0 * t.answered / t.asked END
                       AS answered_share,
                   md.hours AS answer_hours,
                   COALESCE(t.left_over, 0) AS left_over,
                   CASE WHEN cu.facts_total > 0
                        THEN 100.0 * cu.facts_present / cu.facts_total END AS profile,
                   po.kinds AS kinds
            FROM r
            LEFT JOIN posts po ON po.page_id = r.page_id
            LEFT JOIN cur cu ON cu.page_id = r.page_id
            LEFT JOIN prev pv ON pv.page_id = r.page_id
            LEFT JOIN talk t ON t.page_id = r.page_id
            LEFT JOIN median md ON md.page_id = r.page_id
            WHERE po.page_id IS NOT NULL OR cu.page_id IS NOT NULL OR t.page_id IS NOT NULL
        ), combos AS (
            SELECT DISTINCT page_type, page_class FROM r
        ), picked AS (
            SELECT co.page_type, co.page_class, c.code, c.weight, c.threshold,
                   ROW_NUMBER() OVER (
                       PARTITION BY co.page_type, co.page_class, c.code
                       ORDER BY (CASE WHEN c.page_type = '*' THEN 0 ELSE 2 END
                                 + CASE WHEN c.page_class = '*' THEN 0 ELSE 1 END) DESC) AS pick
            FROM combos co JOIN page_criterion c
              ON c.methodology_id = :mid
             AND (c.page_type = co.page_type OR c.page_type = '*')
             AND (c.page_class = co.page_class OR c.page_class = '*')
        ), v AS (
            SELECT m.rating_id, k.code, k.threshold, k.weight, {_value_case()} AS value
            FROM m JOIN picked k
              ON k.page_type = m.page_type AND k.page_class = m.page_class
            WHERE k.pick = 1 AND k.weight > 0
        )
        SELECT v.rating_id, v.code, v.value, v.threshold, v.weight, {_part_case()}
        FROM v""", p)
    if postgres:
        _run(session, "RESET enable_nestloop", p)
    _run(session, f"""
        UPDATE page_rating SET score = (
            SELECT ROUND(CAST(100.0 * SUM(i.weight * i.score) / SUM(i.weight) AS NUMERIC), 1)
            FROM page_rating_item i
            WHERE i.rating_id = page_rating.id AND i.score IS NOT NULL)
        WHERE {mine}""", p)
    _run(session, f"""
        UPDATE page_rating SET rank_municipality = ranked.rm, rank_region = ranked.rr,
               previous_rank = ranked.before,
               movement = ranked.before - ranked.rr
        FROM (
            SELECT pr.id,
                   RANK() OVER (PARTITION BY pr.region_code, pr.municipality_id, pr.page_type
                                ORDER BY pr.score DESC) AS rm,
                   RANK() OVER (PARTITION BY pr.region_code, pr.page_type
                                ORDER BY pr.score DESC) AS rr,
                   old.rank_region AS before
            FROM page_rating pr
            LEFT JOIN (
                SELECT page_id, rank_region,
                       ROW_NUMBER() OVER (PARTITION BY page_id
                                          ORDER BY methodology_id DESC) AS latest
                FROM page_rating WHERE week = :prev_week
            ) old ON old.page_id = pr.page_id AND old.latest = 1
            WHERE pr.week = :week AND pr.methodology_id = :mid AND pr.score IS NOT NULL
            {only.replace("region_code", "pr.region_code")}
        ) ranked
        WHERE page_rating.id = ranked.id""", p)
    if postgres:
        _run(session, "RESET jit", p)
    scored = _run(session, f"SELECT COUNT(*) FROM page_rating WHERE {mine} "
                           "AND score IS NOT NULL", p).scalar_one()
    return JobCounts(pages=int(pages or 0), rated=int(scored))

