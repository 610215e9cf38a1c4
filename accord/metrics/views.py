"""Pages of accord.metrics: the KPI table across organisations (with CSV/XLSX exports) and
one organisation's KPIs over time (Plotly charts and the same figures as a table).

Thin views: the organisation set comes from the partners selectors (``restrict()``), the
figures from the KPI engine; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accord.channel.money import base_currency
from accord.core.charts import PLOTLY_JS, chart_context, with_chart_csp
from accord.core.errors import PermissionDenied
from accord.core.exports import table_response
from accord.metrics import engine, selectors
from accord.metrics.forms import KpiHistoryForm, KpiTableForm, metric_label
from accord.metrics.models import MetricDefinition
from accord.partners import selectors as partner_selectors

PAGE_SIZE = 25
VIEW_PERMISSION = "metrics.view_kpivalue"
PERCENT_UNITS = {"ratio", "fraction"}
MONEY_UNITS = {"currency", "money"}
# The chart page: which metrics each chart draws (those not defined are left out).
CHARTS = (
    {
        "id": "chart-revenue",
        "title": "Revenue and orders",
        "series": (("revenue", "bar", "y"), ("orders", "line", "y2")),
    },
    {
        "id": "chart-sell-through",
        "title": "Sell-in and sell-through",
        "series": (("revenue", "line", "y"), ("sell_through_revenue", "line", "y")),
    },
    {
        "id": "chart-growth",
        "title": "Growth",
        "series": (("growth", "bar", "y"), ("growth_yoy", "line", "y")),
    },
    {
        "id": "chart-operations",
        "title": "Delivery and stock",
        "series": (
            ("fill_rate", "line", "y"),
            ("on_time_delivery", "line", "y"),
            ("inventory_turnover", "line", "y2"),
        ),
    },
    {
        "id": "chart-satisfaction",
        "title": "Customer satisfaction",
        "series": (("csat", "line", "y"), ("nps", "line", "y2")),
    },
)


def _chart_title(key: str) -> str:
    # Listed here so that makemessages finds each title (CHARTS holds the English text).
    titles = {
        "Revenue and orders": _("Revenue and orders"),
        "Sell-in and sell-through": _("Sell-in and sell-through"),
        "Growth": _("Growth"),
        "Delivery and stock": _("Delivery and stock"),
        "Customer satisfaction": _("Customer satisfaction"),
    }
    return titles.get(key, key)


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def format_value(value: Decimal | None, unit: str) -> str:
    """A KPI value for people: grouped digits in the current locale, ratios as percent."""
    if value is None:
        return "—"
    if unit in PERCENT_UNITS:
        return f"{number_format(value * 100, 1, use_l10n=True, force_grouping=True)} %"
    if unit == "percent":
        return f"{number_format(value, 1, use_l10n=True, force_grouping=True)} %"
    if unit in ("count", "people", "orders", "products", "customers"):
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    return number_format(value, 2, use_l10n=True, force_grouping=True)


def _unit_label(metric: MetricDefinition) -> str:
    if metric.unit in MONEY_UNITS:
        return base_currency()
    if metric.unit in PERCENT_UNITS or metric.unit == "percent":
        return "%"
    return ""


def _column_label(metric: MetricDefinition) -> str:
    unit = _unit_label(metric)
    return f"{metric_label(metric)} ({unit})" if unit else metric_label(metric)


def _period_label(period: Any) -> str:
    kind = period.kind
    if kind == "month":
        return date_format(period.start, "YEAR_MONTH_FORMAT")
    if kind == "quarter":
        return f"{period.start.year} Q{(period.start.month - 1) // 3 + 1}"
    if kind == "year":
        return str(period.start.year)
    start = date_format(period.start, "SHORT_DATE_FORMAT")
    last = date_format(period.end - dt.timedelta(days=1), "SHORT_DATE_FORMAT")
    return f"{start} - {last}"


def _inputs_list(inputs: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(key), str(value)) for key, value in (inputs or {}).items()]


def _sort_rows(rows: list[Any], sort: str) -> list[Any]:
    key = sort.lstrip("-")
    reverse = sort.startswith("-")
    if key == "name":
        return sorted(
            rows, key=lambda row: (row.name.casefold(), row.organisation_id), reverse=reverse
        )
    present = [row for row in rows if row.values.get(key) is not None]
    missing = [row for row in rows if row.values.get(key) is None]
    present.sort(key=lambda row: (row.values[key], row.name.casefold()), reverse=reverse)
    missing.sort(key=lambda row: row.name.casefold())
    return present + missing  # no value sorts last in either direction


def _table(request: HttpRequest) -> tuple[KpiTableForm, dict[str, Any], Any, list[Any]]:
    """The form, its choices, and the computed table (None when there is nothing to compute:
    the form has errors, or no metric is defined)."""
    form = KpiTableForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, {}, None, []
    choices = form.choices()
    if not choices["metrics"]:
        return form, choices, None, []
    # The vendor's own row is not a partner KPI (its sell-in would be sales to itself).
    organisations = partner_selectors.list_organisations(
        request.user, q=choices["q"], kind=choices["kind"], status=choices["status"]
    ).filter(is_vendor=False)
    try:
        table = engine.compute(
            choices["metrics"],
            period=choices["period"],
            as_of=choices["as_of"],
            organisations=organisations,
        )
    except ValueError as error:  # a definition the engine cannot evaluate: say so, no 500
        form.add_error(None, str(error))
        return form, choices, None, []
    return form, choices, table, _sort_rows(list(table.rows), choices["sort"])


@login_required
@require_GET
def kpi_table(request: HttpRequest) -> HttpResponse:
    _require_perm(request, VIEW_PERMISSION)
    form, choices, table, rows = _table(request)
    metrics = list(table.metrics) if table is not None else []
    sort = choices.get("sort", "name")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    columns = []
    for key, label in [("name", _("Organisation"))] + [(m.code, metric_label(m)) for m in metrics]:
        current = sort.lstrip("-") == key
        columns.append(
            {
                "key": key,
                "label": label,
                "unit": "",
                "next": f"-{key}" if sort == key else key,
                "direction": ("desc" if sort.startswith("-") else "asc") if current else "",
            }
        )
    for column, metric in zip(columns[1:], metrics, strict=True):
        column["unit"] = _unit_label(metric)
    page_rows = [
        {
            "organisation_id": row.organisation_id,
            "external_key": row.external_key,
            "name": row.name,
            "cells": [
                {
                    "code": metric.code,
                    "text": format_value(row.values.get(metric.code), metric.unit),
                    "missing": row.values.get(metric.code) is None,
                    "inputs": _inputs_list(row.inputs.get(metric.code)),
                }
                for metric in metrics
            ],
        }
        for row in page.object_list
    ]
    period = table.periods[-1] if table is not None and table.periods else None
    context = {
        "nav": "kpis",
        "form": form,
        "page_obj": page,
        "rows": page_rows,
        "columns": columns,
        "period": period,
        "period_label": _period_label(period) if period else "",
        "as_of": choices.get("as_of"),
        "export_query": request.GET.urlencode(),
        "invalid": table is None and bool(form.errors),
        "no_metrics": table is None and not form.errors,
    }
    template = (
        "metrics/_kpi_results.html"
        if _wants_partial(request, "kpi-results")
        else "metrics/kpi_table.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@login_required
@require_GET
def kpi_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Exactly the filtered, sorted table: every row, not just one page."""
    _require_perm(request, VIEW_PERMISSION)
    _form, choices, table, rows = _table(request)
    if table is None:
        return kpi_table(request)
    metrics = list(table.metrics)
    header = [
        _("External key"),
        _("Organisation"),
        _("Period start"),
        _("Period end"),
        *[_column_label(m) for m in metrics],
    ]

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            yield [
                row.external_key,
                row.name,
                row.period.start,
                row.period.end,
                *[row.values.get(m.code) for m in metrics],
            ]

    basename = f"kpis-{choices['period']}-{choices['as_of'].isoformat()}"
    return table_response(fmt, basename, header, lines(), title=_("KPIs"))


def _history_series(table: Any, metrics: list[MetricDefinition]) -> dict[str, list[str | None]]:
    """metric code -> one value per period (as strings: Decimal, never float)."""
    by_period = {row.period.start: row for row in table.rows}
    series: dict[str, list[str | None]] = {}
    for metric in metrics:
        values = []
        for period in table.periods:
            row = by_period.get(period.start)
            value = row.values.get(metric.code) if row is not None else None
            if value is not None and metric.unit in PERCENT_UNITS:
                value = value * 100
            values.append(None if value is None else str(value))
        series[metric.code] = values
    return series


@login_required
@require_GET
def organisation_kpis(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = partner_selectors.get_organisation(request.user, pk)
    _require_perm(request, VIEW_PERMISSION)
    form = KpiHistoryForm(request.GET or None)
    metrics = list(selectors.current_metrics(request.user))
    by_code = {m.code: m for m in metrics}
    context: dict[str, Any] = {
        "nav": "kpis",
        "organisation": organisation,
        "form": form,
        "invalid": form.is_bound and not form.is_valid(),
        **chart_context(),
    }
    table = None
    if not context["invalid"] and metrics:
        choices = form.choices()
        try:
            table = selectors.organisation_history(
                request.user,
                organisation,
                [m.code for m in metrics],
                period=choices["period"],
                as_of=choices["as_of"],
                periods=choices["periods"],
            )
        except ValueError as error:  # a definition the engine cannot evaluate: no 500
            form.add_error(None, str(error))
            context["invalid"] = True
    if table is not None:
        shown = list(table.metrics)
        series = _history_series(table, shown)
        labels = [_period_label(period) for period in table.periods]
        axis_labels = [period.label for period in table.periods]  # short: 2026-03, 2026-Q1
        charts = []
        for chart in CHARTS:
            drawn = [
                {
                    "code": code,
                    "name": metric_label(by_code[code]),
                    "type": kind,
                    "axis": axis,
                    "unit": _unit_label(by_code[code]),
                    "values": series[code],
                }
                for code, kind, axis in chart["series"]
                if code in series and code in by_code
            ]
            if drawn:
                title = _chart_title(chart["title"])
                charts.append({"id": chart["id"], "title": title, "series": drawn})
        by_period = {row.period.start: row for row in table.rows}
        table_rows = []
        for period, label in zip(table.periods, labels, strict=True):
            row = by_period.get(period.start)
            table_rows.append(
                {
                    "label": label,
                    "complete": period.complete,
                    "cells": [
                        {
                            "text": format_value(row.values.get(m.code) if row else None, m.unit),
                            "inputs": _inputs_list(row.inputs.get(m.code)) if row else [],
                        }
                        for m in shown
                    ],
                }
            )
        context.update(
            {
                "choices": choices,
                "metrics": [
                    {"code": m.code, "label": metric_label(m), "unit": _unit_label(m)}
                    for m in shown
                ],
                "chart_data": {"labels": axis_labels, "charts": charts},
                "charts": charts,
                "table_rows": list(reversed(table_rows)),  # newest first
            }
        )
    response = render(request, "metrics/organisation_kpis.html", context)
    return with_chart_csp(response)


@functools.cache
def _plotly_etag() -> str:
    digest = hashlib.sha256()
    with PLOTLY_JS.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return f'"{digest.hexdigest()[:32]}"'


@require_GET
def plotly_js(request: HttpRequest) -> HttpResponse:
    """plotly.js from the installed ``plotly`` package (never a CDN), cached for a year:
    the page links it with the package version in the query string."""
    etag = _plotly_etag()
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = FileResponse(PLOTLY_JS.open("rb"), content_type="text/javascript")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    return response
