"""The KPI engine: metric definitions evaluated for (organisations x periods) at an ``as_of``
date in a fixed number of set-based queries, reading sales rollups (raw lines only when needed).

How each fact is read (see docs/kpis.md):

* Sales in a window that is exactly one complete month, quarter or year: that grain's
  ``SalesRollup`` rows (one query per grain for every period, direction and organisation).
* Sales in any other window (a trailing window, or a period still open at ``as_of``): sums
  from the complete months' rollups plus the raw lines of the cut month (dated up to
  ``as_of``); distinct counts (orders, products, customers) from the raw lines of the window,
  because distinct counts do not add up across months. A product-category filter always reads
  the raw lines (rollups have no category grain).
* Inventory, deliveries, surveys and certifications: one grouped query per window over the
  facts, filtered to dates up to ``as_of``.

The organisation set always reaches SQL as a subquery of the caller's (restricted) queryset,
so the statement count depends on the metric list and the periods, never on the organisations.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils.translation import gettext as _

from accord.channel.models import (
    Certification,
    Delivery,
    InventorySnapshot,
    SalesLine,
    SalesRollup,
    SurveyResponse,
)
from accord.channel.money import base_currency
from accord.metrics.models import MetricDefinition

ONE_DAY = dt.timedelta(days=1)
CENT = Decimal("0.01")
MILLI = Decimal("0.001")  # quantities keep three decimal places
PLACES = Decimal("0.000001")  # KpiValue keeps six decimal places
ZERO = Decimal(0)
HUNDRED = Decimal(100)
SEVEN = Decimal(7)
MAX_PERIODS = 120
MIN_YEAR, MAX_YEAR = 1900, 9000  # far from date's limits, whatever the periods and windows
MAX_TRAILING_MONTHS = 120
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
TRAILING = re.compile(r"^trailing_(\d{1,3})$")
# SQLite hands decimals back as floats; Django converts them through this context too.
_FLOAT_CONTEXT = Context(prec=15)


class KpiInputError(ValueError):
    """Bad input to the engine (unknown metric or period, as_of out of range): ``field``
    names the argument at fault (metrics, period, periods or as_of)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- periods --------------------------------------------------------------------
def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the month holding ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_period_kind(kind: str) -> int:
    """The length in months of a period kind; ValueError for anything else."""
    if kind in GRAIN_MONTHS:
        return GRAIN_MONTHS[kind]
    match = TRAILING.match(kind or "")
    if match and 1 <= int(match.group(1)) <= MAX_TRAILING_MONTHS:
        return int(match.group(1))
    raise KpiInputError(
        "period",
        _(
            "Unknown period '%(kind)s': use month, quarter, year or trailing_N "
            "(N months, 1 to %(max)s)."
        )
        % {"kind": kind, "max": MAX_TRAILING_MONTHS},
    )


@dataclass(frozen=True)
class Period:
    """A half-open date range ``[start, end)`` of one kind; ``complete`` when it ends by as_of."""

    kind: str  # "month" | "quarter" | "year" | "trailing_<N>"
    start: dt.date  # inclusive
    end: dt.date  # exclusive
    complete: bool  # end <= as_of + 1 day

    @property
    def key(self) -> int:
        """``yyyymm`` of the first month (the rollups' period key)."""
        return self.start.year * 100 + self.start.month

    @property
    def last_day(self) -> dt.date:
        return self.end - ONE_DAY

    @property
    def label(self) -> str:
        """A short language-neutral label: 2026-03, 2026-Q1, 2026, or the date range."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year" and self.start.month == 1:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"


def periods_for(kind: str, as_of: dt.date, count: int = 1) -> list[Period]:
    """``count`` periods of ``kind``, oldest first; the last one holds ``as_of``.

    For ``trailing_N`` the last period is the N months ending with as_of's month, cut at
    as_of (so it ends at ``as_of + 1 day``); each earlier one ends a month earlier.
    """
    length = parse_period_kind(kind)
    if not 1 <= count <= MAX_PERIODS:
        raise KpiInputError(
            "periods",
            _("The number of periods must be between 1 and %(max)s.") % {"max": MAX_PERIODS},
        )
    horizon = as_of + ONE_DAY
    periods: list[Period] = []
    if kind in GRAIN_MONTHS:
        month_index = as_of.year * 12 + as_of.month - 1
        first = month_index - month_index % length  # quarters start Jan/Apr/Jul/Oct
        current = dt.date(first // 12, first % 12 + 1, 1)
        for back in range(count - 1, -1, -1):
            start = add_months(current, -back * length)
            end = add_months(start, length)
            periods.append(Period(kind, start, end, end <= horizon))
        return periods
    this_month = as_of.replace(day=1)
    for back in range(count - 1, -1, -1):
        end = horizon if back == 0 else add_months(this_month, -back + 1)
        start = add_months(this_month, -back - length + 1)
        periods.append(Period(kind, start, end, end <= horizon))
    return periods


@dataclass(frozen=True)
class Window:
    """The dates a value reads: ``[start, end)`` with ``end`` already cut at as_of + 1 day."""

    start: dt.date
    end: dt.date

    @property
    def months(self) -> int:
        """Calendar months the window touches (a cut month counts as one)."""
        last = self.end - ONE_DAY
        return (last.year - self.start.year) * 12 + last.month - self.start.month + 1

    @property
    def grain(self) -> str | None:
        """month / quarter / year when the window is exactly one such calendar period."""
        if self.start.day != 1 or self.end.day != 1:
            return None
        for grain, length in GRAIN_MONTHS.items():
            if (self.start.month - 1) % length == 0 and add_months(self.start, length) == self.end:
                return grain
        return None

    @property
    def key(self) -> int:
        return self.start.year * 100 + self.start.month

    def full_months(self) -> list[int]:
        """Month keys of the calendar months lying wholly inside the window."""
        keys, month = [], self.start
        while add_months(month, 1) <= self.end:
            keys.append(month.year * 100 + month.month)
            month = add_months(month, 1)
        return keys

    @property
    def cut_month_start(self) -> dt.date | None:
        """Start of the month the window ends inside (None when it ends on a month boundary)."""
        return None if self.end.day == 1 else self.end.replace(day=1)

    def previous(self) -> Window:
        start = add_months(self.start, -self.months)
        return Window(start, self.start)

    def year_before(self) -> Window:
        start = add_months(self.start, -12)
        return Window(start, add_months(start, self.months))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def window_for(period: Period, as_of: dt.date, params: dict[str, Any]) -> Window:
    """The window a metric reads for ``period``: the period cut at as_of, or the
    ``window_months`` months ending there when the definition says so."""
    end = min(period.end, as_of + ONE_DAY)
    months = params.get("window_months")
    if months:
        start = add_months((end - ONE_DAY).replace(day=1), -(int(months) - 1))
        return Window(start, end)
    return Window(period.start, end)


# -- results --------------------------------------------------------------------
@dataclass
class KpiRow:
    """One organisation in one period: each metric's value and the inputs that made it."""

    organisation_id: int
    external_key: str
    name: str
    period: Period
    values: dict[str, Decimal | None]  # metric code -> value (None: undefined, no activity)
    inputs: dict[str, dict[str, str]]  # metric code -> its inputs, as strings


class _Row(KpiRow):
    """A KpiRow read from the engine's per-metric columns: ``values`` and ``inputs`` are
    built on first access, so a table of 100,000 x 8 rows costs one small object per row
    until a caller reads it."""

    def __init__(
        self,
        organisation_id: int,
        external_key: str,
        name: str,
        period: Period,
        columns: list[tuple[str, Column]],
    ) -> None:
        self.organisation_id = organisation_id
        self.external_key = external_key
        self.name = name
        self.period = period
        self._columns = columns

    def __getattr__(self, attribute: str) -> Any:
        columns = self.__dict__.get("_columns", ())
        org = self.__dict__.get("organisation_id")
        if attribute == "values":
            values = {code: column.values.get(org, column.default) for code, column in columns}
            self.values = values
            return values
        if attribute == "inputs":
            inputs = {code: column.explain(org) for code, column in columns}
            self.inputs = inputs
            return inputs
        raise AttributeError(attribute)


class _Rows(Sequence):
    """The rows of a KpiTable, organisation-major, made when read: every value is already
    computed in the per-metric columns, and a caller that pages through 50 organisations of
    100,000 should not pay for 800,000 row objects."""

    def __init__(
        self,
        organisations: list[tuple[int, str, str]],
        per_period: list[tuple[Period, list[tuple[str, Column]]]],
    ) -> None:
        self._organisations = organisations
        self._per_period = per_period

    def __len__(self) -> int:
        return len(self._organisations) * len(self._per_period)

    def _row(self, index: int) -> KpiRow:
        org_index, period_index = divmod(index, len(self._per_period))
        item, columns = self._per_period[period_index]
        return _Row(*self._organisations[org_index], item, columns)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self) -> Iterator[KpiRow]:
        per_period = self._per_period
        for org, key, name in self._organisations:
            for item, columns in per_period:
                yield _Row(org, key, name, item, columns)


@dataclass
class KpiTable:
    metrics: list[MetricDefinition]
    periods: list[Period]
    as_of: dt.date
    rows: Sequence[KpiRow]  # one per organisation and period, organisation-major

    def column(self, code: str, period_index: int = -1) -> Column:
        """One metric in one period for every organisation, as computed: what set-based
        callers (tier evaluation, scorecards) read instead of row objects."""
        per_period = self.rows._per_period if isinstance(self.rows, _Rows) else []
        for name, column in per_period[period_index][1]:
            if name == code:
                return column
        raise KeyError(code)

    @property
    def organisation_ids(self) -> list[int]:
        if isinstance(self.rows, _Rows):
            return [org for org, _key, _name in self.rows._organisations]
        return list(dict.fromkeys(row.organisation_id for row in self.rows))


# -- number helpers -------------------------------------------------------------
def _decimal(value: Any) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return _FLOAT_CONTEXT.create_decimal_from_float(value)
    return Decimal(value)


def _money_column(rows: dict[int, Any], position: int) -> dict[int, Decimal]:
    """``_money`` over a whole column, without per-value type dispatch (the hot path)."""
    sample = next(iter(rows.values()), None)
    if sample is not None and isinstance(sample[position], float):
        create, cent = _FLOAT_CONTEXT.create_decimal_from_float, CENT
        try:
            return {org: create(row[position]).quantize(cent) for org, row in rows.items()}
        except TypeError:
            pass  # a mix of floats and integers (SQLite): the general path below
    return {org: _money(row[position]) for org, row in rows.items()}


def _units(value: Any) -> Decimal:
    return _decimal(value).quantize(MILLI, rounding=ROUND_HALF_EVEN)


def _money(value: Any) -> Decimal:
    return _decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if not denominator:
        return None
    try:
        return (numerator / denominator).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = _decimal(value)
    return str(value)


# -- what calculations need, and fetching it ------------------------------------
# Positions in a sales tuple.
REVENUE, COST, COSTED, QUANTITY, LINES, ORDERS, PRODUCTS, CUSTOMERS = range(8)
ROLLUP_COLUMNS = (
    "revenue",
    "cost",
    "costed_revenue",
    "quantity",
    "lines",
    "orders",
    "products",
    "customers",
)
MONEY = DecimalField(max_digits=24, decimal_places=2)
QUANTITY_FIELD = DecimalField(max_digits=24, decimal_places=3)
LINE_SUMS = {
    "revenue": Sum("amount_base", output_field=MONEY),
    "cost": Sum(Coalesce("cost_base", Value(ZERO), output_field=MONEY)),
    "costed_revenue": Sum(
        Case(
            When(cost_base__isnull=False, then=F("amount_base")),
            default=Value(ZERO),
            output_field=MONEY,
        )
    ),
    "quantity": Sum("quantity", output_field=QUANTITY_FIELD),
    "lines": Count("pk"),
}
LINE_DISTINCTS = {
    # An order is its number; a line without one is an order of its own.
    "orders": Count(
        Case(When(order_number="", then=F("source_key")), default=F("order_number")),
        distinct=True,
    ),
    "products": Count("product_id", distinct=True),
    "customers": Count(NullIf("end_customer_key", Value("")), distinct=True),
}


DISTINCT_FIELDS = frozenset({"orders", "products", "customers"})
NO_FIELDS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Need:
    """One set of facts a calculation reads; equal needs are fetched once."""

    family: str  # sales | inventory | deliveries | surveys | certifications
    window: Window | None = None
    direction: str = ""
    category: str = ""
    side: str = ""
    day: dt.date | None = None
    names: tuple[str, ...] = ()


@dataclass
class Fetched:
    """The rows of one need: organisation id -> a tuple, and where they came from."""

    rows: dict[int, Any]
    source: str
    _money: dict[int, dict[int, Decimal]] | None = None

    def money(self, position: int) -> dict[int, Decimal]:
        """Organisation -> the amount at ``position`` as Decimal cents (converted once)."""
        if self._money is None:
            self._money = {}
        cached = self._money.get(position)
        if cached is None:
            cached = self._money[position] = _money_column(self.rows, position)
        return cached


def _raw_rows(queryset: QuerySet) -> list[tuple]:
    """Execute a values_list of plain columns without building per-row converters (hot path)."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _line_scope(window: Window, directions: Iterable[str], category: str, orgs: QuerySet) -> Any:
    lines = SalesLine.objects.filter(
        date__gte=window.start,
        date__lt=window.end,
        direction__in=sorted(directions),
        organisation_id__in=orgs,
    )
    if category:
        lines = lines.filter(
            Q(product__category__key=category) | Q(product__category__parent__key=category)
        )
    return lines.order_by()


def _fetch_sales(
    needs: dict[Need, frozenset[str]], orgs: QuerySet, as_of: dt.date
) -> dict[Need, Fetched]:
    """Sales tuples per organisation for every (direction, category, window) needed; a
    tuple holds the ``ROLLUP_COLUMNS`` (those no calculation asked for may be None)."""
    result: dict[Need, Fetched] = {}
    aligned: dict[str, list[Need]] = defaultdict(list)
    raw: dict[tuple[Window, str, bool], list[Need]] = defaultdict(list)
    from_months: dict[Window, list[Need]] = defaultdict(list)
    for need, fields in needs.items():
        distinct = bool(fields & DISTINCT_FIELDS)
        window = need.window
        if window.grain and not need.category:
            aligned[window.grain].append(need)
        elif distinct or need.category or not window.full_months():
            raw[(window, need.category, distinct)].append(need)
        else:
            from_months[window].append(need)

    # Whole calendar periods: that grain's rollup rows, one query per grain.
    for grain, group in aligned.items():
        targets: dict[tuple[str, int], dict[int, Any]] = {}
        for need in group:
            rows: dict[int, Any] = {}
            result[need] = Fetched(rows, f"{grain} rollup")
            targets[(need.direction, need.window.key)] = rows
        # Only the columns asked for: at 100,000 organisations, reading fewer is faster.
        wanted = set().union(*(needs[need] for need in group))
        columns = [
            name if name in wanted else Value(None, IntegerField()) for name in ROLLUP_COLUMNS
        ]
        queryset = SalesRollup.objects.filter(
            period=grain,
            period_key__in=sorted({need.window.key for need in group}),
            direction__in=sorted({need.direction for need in group}),
            organisation_id__in=orgs,
        ).values_list("organisation_id", "direction", "period_key", *columns)
        for row in _raw_rows(queryset.order_by()):
            target = targets.get((row[1], row[2]))
            if target is not None:
                target[row[0]] = row[3:]

    # Other windows, sums only: complete months' rollups plus the raw lines of the cut month.
    for window, group in from_months.items():
        directions = {need.direction for need in group}
        months = window.full_months()
        sums: dict[tuple[int, str], list[Decimal]] = {}
        monthly = (
            SalesRollup.objects.filter(
                period="month",
                period_key__in=months,
                direction__in=sorted(directions),
                organisation_id__in=orgs,
            )
            .order_by()
            .values("organisation_id", "direction")
            .annotate(
                **{name: Sum(name) for name in ROLLUP_COLUMNS[:-2]},
            )
        )
        for row in monthly:
            sums[(row["organisation_id"], row["direction"])] = [
                _decimal(row[name]) for name in ROLLUP_COLUMNS[:-2]
            ]
        source = f"{len(months)} month rollup{'s' if len(months) != 1 else ''}"
        cut = window.cut_month_start
        if cut is not None:
            partial = _line_scope(Window(cut, window.end), directions, "", orgs)
            for row in partial.values("organisation_id", "direction").annotate(
                **LINE_SUMS, **{"orders": LINE_DISTINCTS["orders"]}
            ):
                key = (row["organisation_id"], row["direction"])
                base = sums.setdefault(key, [ZERO] * 6)
                for index, name in enumerate(ROLLUP_COLUMNS[:-2]):
                    base[index] += _decimal(row[name])
            source += f" + raw lines [{cut.isoformat()}, {window.end.isoformat()})"
        for need in group:
            rows = {
                org: (*values, None, None)
                for (org, direction), values in sums.items()
                if direction == need.direction
            }
            result[need] = Fetched(rows, source)

    # Distinct counts over a non-calendar window, a cut period or a category: raw lines.
    for (window, category, distinct), group in raw.items():
        directions = {need.direction for need in group}
        aggregates = {**LINE_SUMS, **(LINE_DISTINCTS if distinct else {})}
        by_direction: dict[str, dict[int, Any]] = defaultdict(dict)
        lines = _line_scope(window, directions, category, orgs)
        for row in lines.values("organisation_id", "direction").annotate(**aggregates):
            by_direction[row["direction"]][row["organisation_id"]] = tuple(
                row.get(name) for name in ROLLUP_COLUMNS
            )
        reason = (
            "product category filter"
            if category
            else "period incomplete at as_of"
            if window.end > as_of
            else "distinct counts over a non-calendar window"
        )
        for need in group:
            result[need] = Fetched(by_direction.get(need.direction, {}), f"raw lines ({reason})")
    return result


def _span(windows: list[Window]) -> tuple[dt.date, dt.date]:
    """The dates every window together covers (windows end on a month boundary, or all at
    as_of + 1 day, so a month bucket lies wholly inside each window that holds its start)."""
    return min(w.start for w in windows), max(w.end for w in windows)


def _by_window(
    windows: list[Window], buckets: Iterable[tuple[int, dt.date, tuple]], source: str
) -> dict[Window, Fetched]:
    """Sum per-(organisation, month) tuples into each window holding the month."""
    result: dict[Window, Fetched] = {w: Fetched({}, source) for w in windows}
    targets = [(w.start, w.end, result[w].rows) for w in windows]
    for org, month, figures in buckets:
        for start, end, rows in targets:
            if start <= month < end:
                current = rows.get(org)
                rows[org] = (
                    figures
                    if current is None
                    else tuple(x + y for x, y in zip(current, figures, strict=True))
                )
    return result


def _fetch_inventory(windows: list[Window], orgs: QuerySet) -> dict[Window, Fetched]:
    """Per window and organisation: [(snapshot date, units on hand summed over locations
    and products)], in date order. One query for every window."""
    start, end = _span(windows)
    result: dict[Window, Fetched] = {w: Fetched({}, "inventory snapshots") for w in windows}
    targets = [(w.start, w.end, result[w].rows) for w in windows]
    snapshots = (
        InventorySnapshot.objects.filter(date__gte=start, date__lt=end, organisation_id__in=orgs)
        .order_by()
        .values("organisation_id", "date")
        .annotate(units=Sum("on_hand"))
        .order_by("organisation_id", "date")
    )
    for row in snapshots:
        day, org = row["date"], row["organisation_id"]
        for low, high, rows in targets:
            if low <= day < high:
                rows.setdefault(org, []).append((day, _units(row["units"])))
    return result


def _fetch_deliveries(
    windows: list[Window], orgs: QuerySet, as_of: dt.date
) -> dict[Window, Fetched]:
    """Per window and organisation: (deliveries, ordered, filled, delivered, on time) of the
    deliveries promised in the window; only those made by as_of count as filled or
    delivered. One query (by month) for every window."""
    start, end = _span(windows)
    delivered = Q(actual_date__isnull=False, actual_date__lte=as_of)
    deliveries = (
        Delivery.objects.filter(
            promised_date__gte=start, promised_date__lt=end, organisation_id__in=orgs
        )
        .order_by()
        .values("organisation_id", month=TruncMonth("promised_date"))
        .annotate(
            deliveries=Count("pk"),
            ordered=Sum("ordered_quantity"),
            filled=Sum(
                Case(
                    When(delivered, then=F("filled_quantity")),
                    default=Value(ZERO),
                    output_field=QUANTITY_FIELD,
                )
            ),
            delivered=Count("pk", filter=delivered),
            on_time=Count("pk", filter=delivered & Q(actual_date__lte=F("promised_date"))),
        )
    )
    buckets = (
        (
            row["organisation_id"],
            _day(row["month"]),
            (
                row["deliveries"],
                _units(row["ordered"]),
                _units(row["filled"]),
                row["delivered"],
                row["on_time"],
            ),
        )
        for row in deliveries
    )
    return _by_window(windows, buckets, "deliveries")


def _fetch_surveys(windows: list[Window], side: str, orgs: QuerySet) -> dict[Window, Fetched]:
    """Per window and organisation: (csat sum, csat answers, promoters, detractors, nps
    answers). One query (by month) for every window."""
    start, end = _span(windows)
    responses = SurveyResponse.objects.filter(
        date__gte=start, date__lt=end, organisation_id__in=orgs
    )
    if side and side != "any":
        responses = responses.filter(respondent_side=side)
    aggregated = (
        responses.order_by()
        .values("organisation_id", month=TruncMonth("date"))
        .annotate(
            csat_sum=Sum("csat"),
            csat_count=Count("csat"),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            nps_count=Count("nps"),
        )
    )
    buckets = (
        (
            row["organisation_id"],
            _day(row["month"]),
            (
                row["csat_sum"] or 0,
                row["csat_count"],
                row["promoters"],
                row["detractors"],
                row["nps_count"],
            ),
        )
        for row in aggregated
    )
    return _by_window(windows, buckets, "survey responses")


def _day(value: Any) -> dt.date:
    """A truncated month as a date (PostgreSQL may hand back a datetime)."""
    return value.date() if isinstance(value, dt.datetime) else value


def _fetch_certifications(
    days: list[dt.date], names: tuple[str, ...], orgs: QuerySet
) -> dict[dt.date, Fetched]:
    """Per day and organisation: distinct people holding a certification valid that day
    (earned on or before it, expiring after it: ``expires_on`` is the first invalid day).
    One query for every day: a filtered distinct count per day."""
    valid = {
        day: Q(earned_on__lte=day) & (Q(expires_on__isnull=True) | Q(expires_on__gt=day))
        for day in days
    }
    certifications = Certification.objects.filter(
        Q(expires_on__isnull=True) | Q(expires_on__gt=min(days)),
        earned_on__lte=max(days),
        organisation_id__in=orgs,
    )
    if names:
        certifications = certifications.filter(name__in=names)
    counts = {
        f"day_{index}": Count("person", distinct=True, filter=valid[day])
        for index, day in enumerate(days)
    }
    result = {day: Fetched({}, "certifications") for day in days}
    for row in certifications.order_by().values("organisation_id").annotate(**counts):
        for index, day in enumerate(days):
            if row[f"day_{index}"]:
                result[day].rows[row["organisation_id"]] = row[f"day_{index}"]
    return result


def fetch(needs: dict[Need, frozenset[str]], orgs: QuerySet, as_of: dt.date) -> dict[Need, Fetched]:
    """Fetch every need: a fixed number of queries for a given list of needs."""
    sales = {need: fields for need, fields in needs.items() if need.family == "sales"}
    result = _fetch_sales(sales, orgs, as_of) if sales else {}
    # Inventory, deliveries and surveys: one query per family (and survey side) for all
    # windows; certifications: one per list of certification names.
    grouped: dict[tuple[str, str], list[Need]] = defaultdict(list)
    certifications: dict[tuple[str, ...], list[Need]] = defaultdict(list)
    for need in needs:
        if need.family in ("inventory", "deliveries", "surveys"):
            grouped[(need.family, need.side)].append(need)
        elif need.family == "certifications":
            certifications[need.names].append(need)
    for names, group in certifications.items():
        by_day = _fetch_certifications(sorted({need.day for need in group}), names, orgs)
        for need in group:
            result[need] = by_day[need.day]
    for (family, side), group in grouped.items():
        windows = list(dict.fromkeys(need.window for need in group))
        if family == "inventory":
            fetched = _fetch_inventory(windows, orgs)
        elif family == "deliveries":
            fetched = _fetch_deliveries(windows, orgs, as_of)
        else:
            fetched = _fetch_surveys(windows, side, orgs)
        for need in group:
            result[need] = fetched[need.window]
    return result


# -- calculations ---------------------------------------------------------------
@dataclass
class Column:
    """One metric in one period for every organisation: values for those with data, a
    default for the rest, and how to explain any organisation's value."""

    values: dict[int, Decimal | None]
    default: Decimal | None
    explain: Callable[[int], dict[str, str]]


def _direction(value: Any) -> str:
    if value not in SalesLine.Direction.values:
        raise ValueError(
            _("direction must be one of %(choices)s")
            % {"choices": ", ".join(SalesLine.Direction.values)}
        )
    return value


def _category(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 100:
        raise ValueError(_("category must be a product category key (text)"))
    return value


def _window_months(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("window_months must be a whole number of months"))
    if not 1 <= value <= MAX_TRAILING_MONTHS:
        raise ValueError(
            _("window_months must be between 1 and %(max)s") % {"max": MAX_TRAILING_MONTHS}
        )
    return value


def _compare(value: Any) -> str:
    if value not in ("previous", "year"):
        raise ValueError(_("compare must be previous or year"))
    return value


def _side(value: Any) -> str:
    sides = [*SurveyResponse.Side.values, "any"]
    if value not in sides:
        raise ValueError(
            _("respondent_side must be one of %(choices)s") % {"choices": ", ".join(sides)}
        )
    return value


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(_("certifications must be a list of certification names"))
    return value


class Calculation(ABC):
    """A way of computing a metric; a definition names one and gives its parameters."""

    name: str = ""
    description: str = ""
    # parameter -> (validator, default)
    parameters: dict[str, tuple[Callable[[Any], Any], Any]] = {}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled in; ValueError naming the first bad or unknown parameter."""
        if not isinstance(params, dict):
            raise ValueError(_("parameters must be an object"))
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            raise ValueError(
                _("unknown parameter '%(name)s' for calculation %(calculation)s")
                % {"name": unknown[0], "calculation": self.name}
            )
        cleaned = {}
        for name, (validator, default) in self.parameters.items():
            cleaned[name] = validator(params[name]) if name in params else default
        return cleaned

    @abstractmethod
    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        """The fetches (and the columns of each) this metric reads for ``period``."""

    @abstractmethod
    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        """Every organisation's value for ``period`` from the fetched ``data``."""


SALES_PARAMETERS = {
    "direction": (_direction, "sell_in"),
    "category": (_category, ""),
    "window_months": (_window_months, None),
}


class SalesCalculation(Calculation):
    """Base of the calculations over sales tuples of one direction."""

    parameters = SALES_PARAMETERS
    fields: frozenset[str] = frozenset({"revenue"})  # the ROLLUP_COLUMNS it reads

    def sales_need(self, params: dict[str, Any], window: Window) -> Need:
        return Need("sales", window, direction=params["direction"], category=params["category"])

    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        return [(self.sales_need(params, window_for(period, as_of, params)), self.fields)]

    def base_inputs(
        self, params: dict[str, Any], window: Window, fetched: Fetched, row: Any
    ) -> dict[str, str]:
        inputs = {
            "direction": params["direction"],
            "window": str(window),
            "source": fetched.source,
        }
        if params["category"]:
            inputs["category"] = params["category"]
        if row is None:
            inputs["activity"] = "none"
        return inputs


class PerRowSales(SalesCalculation):
    """A sales metric whose value is a function of one window's sales tuple."""

    @abstractmethod
    def value(self, row: Any) -> Decimal | None:
        """The value of one organisation's sales tuple."""

    def values(self, fetched: Fetched) -> dict[int, Decimal | None]:
        value = self.value
        return {org: value(row) for org, row in fetched.rows.items()}

    default: Decimal | None = None

    def details(self, row: Any) -> dict[str, str]:
        return {}

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        window = window_for(period, as_of, params)
        fetched = data[self.sales_need(params, window)]
        values = self.values(fetched)

        def explain(org: int) -> dict[str, str]:
            row = fetched.rows.get(org)
            inputs = self.base_inputs(params, window, fetched, row)
            if row is not None:
                inputs.update(self.details(row))
            return inputs

        return Column(values, self.default, explain)


class Revenue(PerRowSales):
    name = "revenue"
    description = "Sum of line amounts in the base currency."
    default = Decimal("0.00")

    def value(self, row: Any) -> Decimal:
        return _money(row[REVENUE])

    def values(self, fetched: Fetched) -> dict[int, Decimal | None]:
        return fetched.money(REVENUE)

    def details(self, row: Any) -> dict[str, str]:
        return {
            "revenue": _text(_money(row[REVENUE])),
            "currency": base_currency(),
        }


class GrossMargin(PerRowSales):
    name = "gross_margin"
    description = "(Costed revenue - cost) / costed revenue, over the lines whose cost is known."
    fields = frozenset({"revenue", "cost", "costed_revenue"})

    def value(self, row: Any) -> Decimal | None:
        costed = _money(row[COSTED])
        return _ratio(costed - _money(row[COST]), costed)

    def details(self, row: Any) -> dict[str, str]:
        return {
            "formula": "(costed_revenue - cost) / costed_revenue",
            "revenue": _text(_money(row[REVENUE])),
            "costed_revenue": _text(_money(row[COSTED])),
            "cost": _text(_money(row[COST])),
            "currency": base_currency(),
        }


class SalesCount(PerRowSales):
    """A count read straight from the sales tuple (a distinct count at the window's grain)."""

    count_index: int = ORDERS
    count_name: str = "orders"
    default = ZERO

    def value(self, row: Any) -> Decimal:
        return Decimal(row[self.count_index] or 0)

    def values(self, fetched: Fetched) -> dict[int, Decimal | None]:
        index = self.count_index
        return {org: Decimal(row[index] or 0) for org, row in fetched.rows.items()}

    def details(self, row: Any) -> dict[str, str]:
        return {self.count_name: _text(row[self.count_index] or 0)}


class Orders(SalesCount):
    name = "orders"
    description = "Distinct order numbers (a line without one counts as an order)."
    fields = frozenset({"orders"})


class AverageOrderValue(PerRowSales):
    name = "average_order_value"
    description = "Revenue / orders."
    fields = frozenset({"revenue", "orders"})

    def value(self, row: Any) -> Decimal | None:
        orders = row[ORDERS] or 0
        if not orders:
            return None
        return (_money(row[REVENUE]) / orders).quantize(CENT, rounding=ROUND_HALF_EVEN)

    def details(self, row: Any) -> dict[str, str]:
        return {
            "formula": "revenue / orders",
            "revenue": _text(_money(row[REVENUE])),
            "orders": _text(row[ORDERS] or 0),
            "currency": base_currency(),
        }


class DistinctProducts(SalesCount):
    name = "distinct_products"
    description = "Distinct products sold."
    fields = frozenset({"products"})
    count_index, count_name = PRODUCTS, "products"


class DistinctCustomers(SalesCount):
    name = "distinct_customers"
    description = "Distinct end-customer keys on the lines."
    fields = frozenset({"customers"})
    count_index, count_name = CUSTOMERS, "customers"
    parameters = {**SALES_PARAMETERS, "direction": (_direction, "sell_through")}


class Growth(SalesCalculation):
    name = "growth"
    description = (
        "(revenue - comparison revenue) / |comparison revenue|, against the previous window "
        "of the same length or the same window a year earlier."
    )
    parameters = {**SALES_PARAMETERS, "compare": (_compare, "previous")}

    def windows(self, params: dict[str, Any], period: Period, as_of: dt.date) -> tuple:
        window = window_for(period, as_of, params)
        other = window.year_before() if params["compare"] == "year" else window.previous()
        return window, other

    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        window, other = self.windows(params, period, as_of)
        return [
            (self.sales_need(params, window), self.fields),
            (self.sales_need(params, other), self.fields),
        ]

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        window, other = self.windows(params, period, as_of)
        current = data[self.sales_need(params, window)]
        previous = data[self.sales_need(params, other)]
        current_rows, previous_rows = current.rows, previous.rows
        now_of, places = current.money(REVENUE).get, PLACES
        # No previous revenue (absent or zero): undefined, the column's default None.
        values: dict[int, Decimal | None] = {
            org: ((now_of(org, ZERO) - before) / abs(before)).quantize(places)
            for org, before in previous.money(REVENUE).items()
            if before
        }

        def explain(org: int) -> dict[str, str]:
            now_row, before_row = current_rows.get(org), previous_rows.get(org)
            inputs = self.base_inputs(params, window, current, now_row)
            now = _money(now_row[REVENUE]) if now_row is not None else ZERO
            before = _money(before_row[REVENUE]) if before_row is not None else ZERO
            inputs.update(
                {
                    "formula": "(current - previous) / |previous|",
                    "current": _text(now),
                    "previous": _text(before),
                    "previous_window": str(other),
                    "previous_source": previous.source,
                    "currency": base_currency(),
                }
            )
            if window.end < add_months(window.start, window.months):
                inputs["note"] = "current window cut at as_of"
            if not before:
                inputs["undefined"] = "previous revenue is zero"
            return inputs

        return Column(values, None, explain)


INVENTORY_PARAMETERS = {"window_months": (_window_months, None)}


class InventoryTurnover(Calculation):
    name = "inventory_turnover"
    description = "Units sold through / average units on hand over the window's snapshot dates."
    parameters = INVENTORY_PARAMETERS

    def _needs(self, params: dict[str, Any], period: Period, as_of: dt.date) -> tuple:
        window = window_for(period, as_of, params)
        return window, Need("sales", window, direction="sell_through"), Need("inventory", window)

    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        _window, sales, inventory = self._needs(params, period, as_of)
        return [(sales, frozenset({"quantity"})), (inventory, NO_FIELDS)]

    def figures(self, org: int, sales: Fetched, inventory: Fetched) -> tuple:
        row = sales.rows.get(org)
        sold = _units(row[QUANTITY]) if row is not None else _units(ZERO)
        snapshots = inventory.rows.get(org) or []
        average = (
            sum((units for _when, units in snapshots), ZERO) / len(snapshots) if snapshots else None
        )
        return sold, snapshots, average

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        window, sales_need, inventory_need = self._needs(params, period, as_of)
        sales, inventory = data[sales_need], data[inventory_need]
        values = {}
        for org in inventory.rows:
            sold, _snapshots, average = self.figures(org, sales, inventory)
            values[org] = _ratio(sold, average) if average else None

        def explain(org: int) -> dict[str, str]:
            sold, snapshots, average = self.figures(org, sales, inventory)
            inputs = {
                "formula": "units sold through / average units on hand",
                "window": str(window),
                "units_sold": _text(sold),
                "sales_source": sales.source,
                "snapshot_dates": str(len(snapshots)),
                "average_on_hand": _text(
                    average.quantize(PLACES, ROUND_HALF_EVEN) if average is not None else None
                ),
            }
            if not snapshots:
                inputs["undefined"] = "no inventory snapshots in the window"
            return inputs

        return Column(values, None, explain)


class WeeksOfSupply(InventoryTurnover):
    name = "weeks_of_supply"
    description = "Latest units on hand / average weekly units sold through in the window."

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        window, sales_need, inventory_need = self._needs(params, period, as_of)
        sales, inventory = data[sales_need], data[inventory_need]
        weeks = Decimal(window.days) / SEVEN

        def figures(org: int) -> tuple:
            sold, snapshots, _average = self.figures(org, sales, inventory)
            latest = snapshots[-1] if snapshots else None
            weekly = sold / weeks
            return sold, latest, weekly

        values = {}
        for org in inventory.rows:
            _sold, latest, weekly = figures(org)
            values[org] = _ratio(latest[1], weekly) if latest is not None else None

        def explain(org: int) -> dict[str, str]:
            sold, latest, weekly = figures(org)
            inputs = {
                "formula": "latest units on hand / (units sold through / weeks)",
                "window": str(window),
                "weeks": _text(weeks.quantize(PLACES, ROUND_HALF_EVEN)),
                "units_sold": _text(sold),
                "weekly_units_sold": _text(weekly.quantize(PLACES, ROUND_HALF_EVEN)),
                "sales_source": sales.source,
            }
            if latest is None:
                inputs["undefined"] = "no inventory snapshots in the window"
            else:
                inputs["latest_snapshot"] = latest[0].isoformat()
                inputs["latest_on_hand"] = _text(latest[1])
                if not weekly:
                    inputs["undefined"] = "nothing sold through in the window"
            return inputs

        return Column(values, None, explain)


class DeliveryCalculation(Calculation):
    parameters = INVENTORY_PARAMETERS

    def _need(self, params: dict[str, Any], period: Period, as_of: dt.date) -> Need:
        return Need("deliveries", window_for(period, as_of, params))

    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        return [(self._need(params, period, as_of), NO_FIELDS)]

    @abstractmethod
    def value(self, row: tuple) -> Decimal | None:
        """The value of one organisation's aggregated row."""

    @abstractmethod
    def details(self, row: tuple) -> dict[str, str]:
        """The figures behind that value, as inputs."""

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        need = self._need(params, period, as_of)
        fetched = data[need]
        values = {org: self.value(row) for org, row in fetched.rows.items()}

        def explain(org: int) -> dict[str, str]:
            row = fetched.rows.get(org)
            inputs = {"window": str(need.window), "source": "deliveries promised in the window"}
            if row is None:
                inputs["activity"] = "none"
                return inputs
            inputs.update(self.details(row))
            return inputs

        return Column(values, None, explain)


class FillRate(DeliveryCalculation):
    name = "fill_rate"
    description = "Filled / ordered quantity over deliveries promised in the window."

    def value(self, row: tuple) -> Decimal | None:
        return _ratio(row[2], row[1])

    def details(self, row: tuple) -> dict[str, str]:
        return {
            "formula": "filled / ordered",
            "deliveries": str(row[0]),
            "ordered": _text(row[1]),
            "filled": _text(row[2]),
        }


class OnTimeDelivery(DeliveryCalculation):
    name = "on_time_delivery"
    description = "Deliveries made on or before the promised date / deliveries made."

    def value(self, row: tuple) -> Decimal | None:
        return _ratio(Decimal(row[4]), Decimal(row[3]))

    def details(self, row: tuple) -> dict[str, str]:
        return {
            "formula": "on_time / delivered",
            "deliveries": str(row[0]),
            "delivered": str(row[3]),
            "on_time": str(row[4]),
        }


class SurveyCalculation(DeliveryCalculation):
    parameters = {**INVENTORY_PARAMETERS, "respondent_side": (_side, "customer")}

    def _need(self, params: dict[str, Any], period: Period, as_of: dt.date) -> Need:
        return Need("surveys", window_for(period, as_of, params), side=params["respondent_side"])

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        column = super().column(params, period, as_of, data)
        explain = column.explain

        def with_side(org: int) -> dict[str, str]:
            inputs = explain(org)
            inputs["source"] = "survey responses in the window"
            inputs["respondent_side"] = params["respondent_side"]
            return inputs

        column.explain = with_side
        return column


class Csat(SurveyCalculation):
    name = "csat"
    description = "Mean CSAT score (1-5) of the responses in the window."

    def value(self, row: tuple) -> Decimal | None:
        return _ratio(Decimal(row[0]), Decimal(row[1]))

    def details(self, row: tuple) -> dict[str, str]:
        return {"formula": "sum / responses", "sum": str(row[0]), "responses": str(row[1])}


class Nps(SurveyCalculation):
    name = "nps"
    description = "% promoters (9-10) - % detractors (0-6) of the NPS answers in the window."

    def value(self, row: tuple) -> Decimal | None:
        if not row[4]:
            return None
        return (Decimal(row[2] - row[3]) * HUNDRED / row[4]).quantize(PLACES, ROUND_HALF_EVEN)

    def details(self, row: tuple) -> dict[str, str]:
        return {
            "formula": "100 * (promoters - detractors) / responses",
            "promoters": str(row[2]),
            "detractors": str(row[3]),
            "responses": str(row[4]),
        }


class CertifiedStaff(Calculation):
    name = "certified_staff"
    description = (
        "Distinct people holding a certification valid on the period's last day "
        "(on as_of for a period still open)."
    )
    parameters = {"certifications": (_names, [])}

    def _need(self, params: dict[str, Any], period: Period, as_of: dt.date) -> Need:
        day = min(period.last_day, as_of)
        return Need("certifications", day=day, names=tuple(sorted(params["certifications"])))

    def needs(
        self, params: dict[str, Any], period: Period, as_of: dt.date
    ) -> list[tuple[Need, frozenset[str]]]:
        return [(self._need(params, period, as_of), NO_FIELDS)]

    def column(
        self,
        params: dict[str, Any],
        period: Period,
        as_of: dt.date,
        data: dict[Need, Fetched],
    ) -> Column:
        need = self._need(params, period, as_of)
        fetched = data[need]
        values = {org: Decimal(people) for org, people in fetched.rows.items()}

        def explain(org: int) -> dict[str, str]:
            inputs = {
                "valid_on": need.day.isoformat(),
                "people": str(fetched.rows.get(org, 0)),
                "source": "certifications earned on or before the day, expiring after it",
            }
            if need.names:
                inputs["certifications"] = ", ".join(need.names)
            if org not in fetched.rows:
                inputs["activity"] = "none"
            return inputs

        return Column(values, ZERO, explain)


# The registry a definition's ``calculation`` names. Deal-registration and lead metrics
# (win rate, acceptance rate, MDF ROI) plug in here later: a Calculation with its own Need
# family and a fetcher in ``fetch``.
CALCULATIONS: dict[str, Calculation] = {
    calculation.name: calculation
    for calculation in (
        Revenue(),
        GrossMargin(),
        Growth(),
        Orders(),
        AverageOrderValue(),
        DistinctProducts(),
        DistinctCustomers(),
        InventoryTurnover(),
        WeeksOfSupply(),
        FillRate(),
        OnTimeDelivery(),
        Csat(),
        Nps(),
        CertifiedStaff(),
    )
}


# -- the engine -----------------------------------------------------------------
def resolve_metrics(metrics: Iterable[str]) -> list[MetricDefinition]:
    """The definitions named by ``metrics`` ("code" = current version, "code@3" = version 3),
    in the order given; ValueError naming any unknown one."""
    wanted: list[tuple[str, int | None]] = []
    for item in metrics:
        text = str(item).strip()
        code, _at, version = text.partition("@")
        if not code:
            continue
        if version and not version.isdigit():
            raise KpiInputError(
                "metrics",
                _("Unknown metric '%(metric)s': a version is a number, e.g. revenue@1.")
                % {"metric": text},
            )
        wanted.append((code, int(version) if version else None))
    if not wanted:
        raise KpiInputError("metrics", _("Name at least one metric."))
    query = Q()
    for code, version in wanted:
        query |= Q(code=code, version=version) if version else Q(code=code, is_current=True)
    found = list(MetricDefinition.objects.filter(query))
    current = {d.code: d for d in found if d.is_current}
    versions = {(d.code, d.version): d for d in found}
    definitions, missing = [], []
    for code, version in wanted:
        definition = versions.get((code, version)) if version else current.get(code)
        if definition is None:
            missing.append(f"{code}@{version}" if version else code)
        elif definition not in definitions:
            if any(other.code == definition.code for other in definitions):
                raise KpiInputError(
                    "metrics",
                    _("Name metric %(code)s once (one version per computation).") % {"code": code},
                )
            definitions.append(definition)
    if missing:
        known = ", ".join(
            MetricDefinition.objects.filter(is_current=True)
            .order_by("code")
            .values_list("code", flat=True)
        )
        raise KpiInputError(
            "metrics",
            _("Unknown metric: %(missing)s. Known metrics: %(known)s.")
            % {"missing": ", ".join(missing), "known": known},
        )
    return definitions


def compute(
    metrics: list[str],
    *,
    period: str,
    as_of: dt.date,
    organisations: QuerySet,
    periods: int = 1,
) -> KpiTable:
    """Evaluate ``metrics`` for every organisation of ``organisations`` (already restricted
    by the caller) in the ``periods`` periods of kind ``period`` ending with the one holding
    ``as_of``. One row per organisation and period, in the queryset's order."""
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise KpiInputError("as_of", _("as_of must be a date."))
    if not MIN_YEAR <= as_of.year <= MAX_YEAR:
        raise KpiInputError(
            "as_of",
            _("as_of must lie between the years %(first)s and %(last)s.")
            % {"first": MIN_YEAR, "last": MAX_YEAR},
        )
    period_list = periods_for(period, as_of, periods)
    definitions = resolve_metrics(metrics)
    plans = []
    for definition in definitions:
        calculation = CALCULATIONS.get(definition.calculation)
        if calculation is None:
            raise KpiInputError(
                "metrics",
                _("Metric %(code)s names an unknown calculation '%(calculation)s'.")
                % {"code": definition.code, "calculation": definition.calculation},
            )
        try:
            params = calculation.clean_params(definition.params or {})
        except ValueError as error:
            raise KpiInputError(
                "metrics",
                _("Metric %(code)s: %(error)s.") % {"code": definition.code, "error": error},
            ) from error
        plans.append((definition.code, calculation, params))

    needs: dict[Need, frozenset[str]] = {}
    for _code, calculation, params in plans:
        for item in period_list:
            for need, fields in calculation.needs(params, item, as_of):
                needs[need] = needs.get(need, NO_FIELDS) | fields

    orgs = organisations.values("pk")
    data = fetch(needs, orgs, as_of)
    columns = [
        [
            (code, calculation.column(params, item, as_of, data))
            for code, calculation, params in plans
        ]
        for item in period_list
    ]
    rows = _Rows(
        list(organisations.values_list("pk", "external_key", "name")),
        list(zip(period_list, columns, strict=True)),
    )
    return KpiTable(metrics=definitions, periods=period_list, as_of=as_of, rows=rows)
