"""REST endpoints of accord.metrics (mounted under /api/v1/): definitions, KPI tables, runs.

Thin: selectors restrict the organisations, the engine computes, services store runs.
Unknown metrics or periods answer 422; organisations the caller cannot see answer 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from accord.core.schemas import ObjectId, error_responses, field_error
from accord.metrics import selectors, services
from accord.metrics.engine import KpiTable, compute
from accord.metrics.schemas import (
    HistoryQuery,
    KpiQuery,
    KpiRunDetailOut,
    KpiRunIn,
    KpiRunOut,
    KpiTableOut,
    MetricOut,
    RunValuesQuery,
)

router = Router(tags=["metrics"])

READ = error_responses(403, 404, 422)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _table_out(table: KpiTable, count: int) -> dict[str, Any]:
    return {
        "as_of": table.as_of,
        "period": table.periods[0].kind,
        "metrics": table.metrics,
        "periods": [
            {
                "kind": p.kind,
                "start": p.start,
                "end": p.end,
                "complete": p.complete,
                "label": p.label,
            }
            for p in table.periods
        ],
        "count": count,
        "items": [
            {
                "organisation_id": row.organisation_id,
                "external_key": row.external_key,
                "name": row.name,
                "period_start": row.period.start,
                "period_end": row.period.end,
                "complete": row.period.complete,
                "values": {code: _text(value) for code, value in row.values.items()},
                "inputs": row.inputs,
            }
            for row in table.rows
        ],
    }


def _evaluate(
    organisations: Any, metrics: str | list[str], period: str, as_of: dt.date | None, periods: int
) -> KpiTable:
    codes = metrics.split(",") if isinstance(metrics, str) else metrics
    try:
        return compute(
            codes,
            period=period,
            as_of=as_of or timezone.localdate(),
            organisations=organisations,
            periods=periods,
        )
    except ValueError as error:  # KpiInputError names the parameter at fault
        raise field_error(getattr(error, "field", "metrics"), str(error)) from error


@router.get(
    "/metrics", response={200: list[MetricOut], **error_responses()}, operation_id="metrics_list"
)
def metrics_list(request: HttpRequest) -> Any:
    """The current version of every metric definition."""
    return selectors.current_metrics(request.auth)


@router.get("/kpis", response={200: KpiTableOut, **READ}, operation_id="kpis_list")
def kpis_list(request: HttpRequest, query: Query[KpiQuery]) -> Any:
    """KPIs of the organisations the caller sees (partners: their own), one row per
    organisation and period, paginated by organisation (``limit``/``offset``)."""
    organisations = selectors.kpi_organisations(request.auth, query.organisation)
    count = organisations.count()
    page = organisations.order_by("name", "pk")[query.offset : query.offset + query.limit]
    table = _evaluate(page, query.metrics, query.period, query.as_of, query.periods)
    return _table_out(table, count)


@router.get(
    "/organisations/{id}/kpis",
    response={200: KpiTableOut, **READ},
    operation_id="organisations_kpis",
)
def organisations_kpis(request: HttpRequest, id: Path[ObjectId], query: Query[HistoryQuery]) -> Any:
    """One organisation's KPIs over time (404 when the caller cannot see it)."""
    organisations = selectors.kpi_organisations(request.auth, id)
    metrics = query.metrics or [m.code for m in selectors.current_metrics(request.auth)]
    table = _evaluate(organisations, metrics, query.period, query.as_of, query.periods)
    return _table_out(table, 1)


@router.post(
    "/kpi-runs",
    response={201: KpiRunOut, **error_responses(400, 403, 404, 422)},
    operation_id="kpi_runs_create",
)
def kpi_runs_create(request: HttpRequest, payload: KpiRunIn) -> Any:
    """Compute KPIs and store them as a run (values with their inputs), for the given
    organisations or every one the caller sees. Needs ``metrics.add_kpirun``."""
    user = request.auth
    selectors.ensure_can_add_runs(user)
    organisations = selectors.kpi_organisations(user)
    if payload.organisations:
        wanted = set(payload.organisations)
        organisations = organisations.filter(pk__in=sorted(wanted))
        if organisations.count() != len(wanted):
            raise field_error("organisations", _("Unknown organisation."))
    table = _evaluate(
        organisations, payload.metrics, payload.period, payload.as_of, payload.periods
    )
    run = services.snapshot(actor=user, table=table)
    return 201, run


@router.get("/kpi-runs/{id}", response={200: KpiRunDetailOut, **READ}, operation_id="kpi_runs_get")
def kpi_runs_get(request: HttpRequest, id: Path[ObjectId], query: Query[RunValuesQuery]) -> Any:
    """A stored run with the values (and inputs) the caller may see, paginated."""
    run = selectors.get_run(request.auth, id)
    values = selectors.run_values(request.auth, run)
    page = values[query.offset : query.offset + query.limit]
    return {
        "id": run.pk,
        "as_of": run.as_of,
        "period": run.period,
        "metrics": run.metrics,
        # What the caller may see, not the whole run: a partner must not learn the
        # size of the network from a run that also covered other organisations.
        "organisation_count": values.order_by().values("organisation_id").distinct().count(),
        "created_by_id": run.created_by_id,
        "created_at": run.created_at,
        "count": values.count(),
        "values": [
            {
                "organisation_id": v.organisation_id,
                "external_key": v.organisation.external_key,
                "metric": v.metric.code,
                "metric_version": v.metric.version,
                "period_start": v.period_start,
                "period_end": v.period_end,
                "value": _text(v.value),
                "inputs": v.inputs,
            }
            for v in page
        ],
    }
