"""Ninja schemas of the KPI API: metric definitions, KPI tables and stored runs.

Values travel as decimal strings (every digit kept) or null where a metric is undefined.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from accord.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, PAGE_SIZE, ObjectId, Text
from accord.metrics.engine import MAX_PERIODS

MetricList = Text(2000, min_length=1, pattern=r"^[A-Za-z0-9_@,\s-]+$")
PeriodKind = Text(20, min_length=1, pattern=r"^(month|quarter|year|trailing_\d{1,3})$")
DecimalText = str | None


class MetricOut(Schema):
    """One version of a metric: what it computes (a named calculation with parameters)."""

    id: int
    code: str
    version: int
    name: str
    name_zh: str
    description: str
    dimension: str = Field(description="financial, market or operational.")
    calculation: str
    params: dict[str, Any]
    unit: str = Field(description="currency (base), ratio, count, score, turns, weeks, people.")
    higher_is_better: bool
    builtin: bool
    is_current: bool
    created_at: dt.datetime


class KpiQuery(Schema):
    metrics: MetricList = Field(
        ..., description='Metric codes, comma-separated; "code@3" names version 3.'
    )
    period: PeriodKind = Field("month", description="month, quarter, year or trailing_N.")
    as_of: dt.date = Field(None, description="Evaluate as of this date (default: today).")
    periods: int = Field(1, ge=1, le=MAX_PERIODS, description="Periods up to as_of.")
    organisation: ObjectId = Field(None, description="Only this organisation (404 if unseen).")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Organisations per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Organisations to skip.")


class HistoryQuery(Schema):
    metrics: MetricList = Field(None, description="Default: every current metric.")
    period: PeriodKind = "month"
    as_of: dt.date = Field(None, description="Default: today.")
    periods: int = Field(12, ge=1, le=MAX_PERIODS)


class PeriodOut(Schema):
    kind: str
    start: dt.date
    end: dt.date = Field(description="Exclusive: the period is [start, end).")
    complete: bool = Field(description="False when as_of falls inside the period.")
    label: str


class MetricBrief(Schema):
    code: str
    version: int
    name: str
    unit: str
    dimension: str


class KpiRowOut(Schema):
    organisation_id: int
    external_key: str
    name: str
    period_start: dt.date
    period_end: dt.date
    complete: bool
    values: dict[str, DecimalText] = Field(description="Metric code -> decimal string or null.")
    inputs: dict[str, dict[str, str]] = Field(description="Metric code -> what made the value.")


class KpiTableOut(Schema):
    as_of: dt.date
    period: str
    metrics: list[MetricBrief]
    periods: list[PeriodOut]
    count: int = Field(description="Organisations matched (rows = organisations x periods).")
    items: list[KpiRowOut]


class KpiRunIn(Schema):
    metrics: list[Text(70, min_length=1)] = Field(..., min_length=1, max_length=50)
    period: PeriodKind = "month"
    as_of: dt.date = Field(None, description="Default: today.")
    periods: int = Field(1, ge=1, le=MAX_PERIODS)
    organisations: list[ObjectId] = Field(
        None, max_length=10000, description="Default: every organisation the caller sees."
    )


class KpiRunOut(Schema):
    id: int
    as_of: dt.date
    period: str
    metrics: list[str] = Field(description='Metric versions used, e.g. "revenue@1".')
    organisation_count: int
    created_by_id: int | None
    created_at: dt.datetime


class KpiValueOut(Schema):
    organisation_id: int
    external_key: str
    metric: str
    metric_version: int
    period_start: dt.date
    period_end: dt.date
    value: DecimalText
    inputs: dict[str, Any]


class KpiRunDetailOut(KpiRunOut):
    count: int = Field(description="Values of this run the caller may see.")
    values: list[KpiValueOut]


class RunValuesQuery(Schema):
    limit: int = Field(PAGE_SIZE * 10, ge=1, le=MAX_PAGE_SIZE * 10)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
