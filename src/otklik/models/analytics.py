"""Analytics tables: rollups kept fresh incrementally, their watermarks, scheduled briefs.

Rollups (rebuilt per touched day or month by ``analytics/rollup.py``):

* ``message_daily_stat`` — day × region × municipality × topic × source × sentiment;
* ``message_monthly_stat`` — month × region × topic × source × sentiment (no municipality),
  what federal and okrug views over quarters and years read: a country-year is ~10^5 rows;
* ``message_okrug_daily_stat`` — day × federal okrug × topic × source × sentiment, for the
  country's and okrugs' charts by day;
* ``problem_daily_stat`` — day × problem × region × municipality × topic × source (messages
  of problems, for the top problems);
* ``case_daily_stat`` — day received × executor × region × municipality × topic × source with
  the counts of the performance metrics that do not depend on "now" and histograms of
  first-response and resolution hours (medians are interpolated from them; open overdue
  cases are counted live because they depend on the moment of the query);
* the coarser cubes below them (``message_okrug_monthly_stat``, ``case_executor_monthly_stat``
  …): sums of the daily rollups over fewer dimensions, so that a country-year query reads
  thousands of rows at any volume (``analytics/cubes.py`` says which query reads which).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, utcnow
from otklik.db.types import JSONType, UTCDateTime
from otklik.models.message import BigId, MessageEnrichment

#: Upper bounds (hours) of the buckets of the response-time histograms; the last is open.
HOUR_BUCKETS = (1, 2, 4, 8, 12, 24, 48, 72, 120, 240, 480, 960)
#: Names of the histogram columns of ``case_daily_stat``.
FIRST_COLUMNS = tuple(f"first_h{i}" for i in range(len(HOUR_BUCKETS) + 1))
RESOLUTION_COLUMNS = tuple(f"resolution_h{i}" for i in range(len(HOUR_BUCKETS) + 1))


class MessageDailyStat(Base):
    """Analytics rollup: relevant messages per day × region × municipality × topic × source ×
    sentiment (day in the reporting time zone). Rebuilt per touched day by
    ``analytics/rollup.py``, so dashboards at country scale read thousands of rows, not
    millions."""

    __tablename__ = "message_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_message_daily_stat_day", "day"),
        Index("ix_message_daily_stat_region_day", "region_code", "day"),
    )


class MessageMonthlyStat(Base):
    """Relevant messages per month × region × topic × source × sentiment (from the daily
    rollup): the federal-year queries read this one."""

    __tablename__ = "message_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_message_monthly_stat_month", "month"),
        Index("ix_message_monthly_stat_region_month", "region_code", "month"),
    )


class MessageOkrugDailyStat(Base):
    """Relevant messages per day × federal okrug × topic × source × sentiment: what the
    country and okrug views read by day (tens of thousands of rows a year, not millions)."""

    __tablename__ = "message_okrug_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    okrug: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_message_okrug_daily_stat_day", "day"),)


class ProblemDailyStat(Base):
    """Relevant messages of problems per day × problem × region × municipality × topic ×
    source: the "top problems" of any view without joining messages to cases."""

    __tablename__ = "problem_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    problem_id: Mapped[int] = mapped_column(BigId)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_problem_daily_stat_day", "day"),
                      Index("ix_problem_daily_stat_region_day", "region_code", "day"))


class CaseMeasures:
    """The counts every case rollup keeps (summable, so coarser rollups are sums of finer
    ones): performance counts that do not depend on "now" and the response-time histograms
    (``HOUR_BUCKETS``)."""

    cases: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    answered_late: Mapped[int] = mapped_column(Integer, default=0)
    with_answer: Mapped[int] = mapped_column(Integer, default=0)
    brush_offs: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    # Histogram buckets as plain columns (first_h0 … first_h12, resolution_h0 …) so a
    # country-year sums them in SQL; bucket i counts hours in [HOUR_BUCKETS[i-1], HOUR_BUCKETS[i]).
    for _name in (*FIRST_COLUMNS, *RESOLUTION_COLUMNS):
        locals()[_name] = mapped_column(Integer, default=0, nullable=False)
    del _name


#: The summable columns of every case rollup, in one order.
CASE_MEASURES = ("cases", "rejected", "answered", "on_time", "answered_late", "with_answer",
                 "brush_offs", "reopened", *FIRST_COLUMNS, *RESOLUTION_COLUMNS)


class CaseDailyStat(CaseMeasures, Base):
    """Cases per day received × executor × region × municipality × topic × source with the
    performance counts and response-time histograms: the finest case rollup."""

    __tablename__ = "case_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    executor_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_case_daily_stat_day", "day"),
        Index("ix_case_daily_stat_region_day", "region_code", "day"),
        Index("ix_case_daily_stat_executor_day", "executor_id", "day"),
        Index("ix_case_daily_stat_municipality_day", "municipality_id", "day"),
    )


# -- the coarser cubes (analytics/cubes.py derives them from the two daily rollups) ----------


class MessageOkrugMonthlyStat(Base):
    """Relevant messages per month × federal okrug × topic × source × sentiment."""

    __tablename__ = "message_okrug_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    okrug: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_message_okrug_monthly_stat_month", "month"),)


class MessageNationalDailyStat(Base):
    """Relevant messages of the whole country per day × topic × sentiment (a year is a few
    thousand rows): the country's charts by day."""

    __tablename__ = "message_national_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    topic: Mapped[str | None] = mapped_column(String(64))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_message_national_daily_stat_day", "day"),)


class MessageRegionDailyStat(Base):
    """Relevant messages per day × region × topic × source × sentiment: a region's charts by
    day (no municipality)."""

    __tablename__ = "message_region_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_message_region_daily_stat_day", "day"),
                      Index("ix_message_region_daily_stat_region_day", "region_code", "day"))


class MessageMunicipalityMonthlyStat(Base):
    """Relevant messages per month × region × municipality × topic × source (no sentiment):
    a region's map and a municipality's views over months."""

    __tablename__ = "message_municipality_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_message_municipality_monthly_stat_month", "month"),
        Index("ix_message_municipality_monthly_stat_region", "region_code", "month"),
        Index("ix_message_municipality_monthly_stat_municipality", "municipality_id", "month"),
    )


class CaseOkrugDailyStat(CaseMeasures, Base):
    """Cases per day × federal okrug × topic: the country's and okrugs' case charts."""

    __tablename__ = "case_okrug_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    okrug: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_case_okrug_daily_stat_day", "day"),)


class CaseRegionMonthlyStat(CaseMeasures, Base):
    """Cases per month × region × topic × source: regions' performance over months."""

    __tablename__ = "case_region_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_case_region_monthly_stat_month", "month"),
                      Index("ix_case_region_monthly_stat_region", "region_code", "month"))


class CaseRegionDailyStat(CaseMeasures, Base):
    """Cases per day × region × topic × source: a region's case charts by day."""

    __tablename__ = "case_region_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    topic: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_case_region_daily_stat_day", "day"),
                      Index("ix_case_region_daily_stat_region_day", "region_code", "day"))


class CaseExecutorMonthlyStat(CaseMeasures, Base):
    """Cases per month × executor × region × topic: executors' performance over months."""

    __tablename__ = "case_executor_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    executor_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(3))
    topic: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_case_executor_monthly_stat_month", "month"),
                      Index("ix_case_executor_monthly_stat_region", "region_code", "month"),
                      Index("ix_case_executor_monthly_stat_executor", "executor_id", "month"))


class CaseExecutorDailyStat(CaseMeasures, Base):
    """Cases per day × executor × region: executors' performance over days (the last 30)."""

    __tablename__ = "case_executor_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    executor_id: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(3))

    __table_args__ = (Index("ix_case_executor_daily_stat_day", "day"),
                      Index("ix_case_executor_daily_stat_region_day", "region_code", "day"),
                      Index("ix_case_executor_daily_stat_executor_day", "executor_id", "day"))


class CaseMunicipalityDailyStat(CaseMeasures, Base):
    """Cases per day × region × municipality: municipalities' performance over days."""

    __tablename__ = "case_municipality_daily_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_case_municipality_daily_stat_day", "day"),
        Index("ix_case_municipality_daily_stat_region_day", "region_code", "day"),
        Index("ix_case_municipality_daily_stat_municipality_day", "municipality_id", "day"),
    )


class CaseMunicipalityMonthlyStat(CaseMeasures, Base):
    """Cases per month × region × municipality × topic: municipalities' performance."""

    __tablename__ = "case_municipality_monthly_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_case_municipality_monthly_stat_month", "month"),
        Index("ix_case_municipality_monthly_stat_region", "region_code", "month"),
        Index("ix_case_municipality_monthly_stat_municipality", "municipality_id", "month"),
    )


class AnalyticsWatermark(Base):
    """How far a rollup has been brought up to date (the last enrichment time it has seen)."""

    __tablename__ = "analytics_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportSchedule(Base):
    """A brief generated on a schedule: for a region or a federal okrug, weekly or monthly."""

    __tablename__ = "report_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    okrug: Mapped[str | None] = mapped_column(String(64))
    period_kind: Mapped[str] = mapped_column(String(8))  # weekly | monthly
    formats: Mapped[list[str]] = mapped_column(JSONType, default=list)
    recipients: Mapped[str] = mapped_column(String(1000), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    last_period: Mapped[str | None] = mapped_column(String(16))
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportFile(Base):
    """A generated brief: one per schedule, region, period and format (generated once).

    The file itself is stored in the row (briefs are 50-500 KB), so every host of a cluster
    serves it without a shared disk."""

    __tablename__ = "report_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_schedule.id", ondelete="SET NULL"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    period: Mapped[str] = mapped_column(String(16))
    fmt: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("schedule_id", "region_code", "period", "fmt"),)


#: The rollup refresh asks "enrichments newer than the watermark": a look-up with this index.
#: Declared here (the index belongs to the analytics, the table to intake).
Index("ix_message_enrichment_enriched_at", MessageEnrichment.enriched_at)
