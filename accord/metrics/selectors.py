"""Reads of accord.metrics: metric definitions, KPI tables for what a user may see, stored runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone

from accord.core.errors import Http404, PermissionDenied
from accord.core.models import SCOPE_ALL
from accord.metrics.engine import KpiTable, compute
from accord.metrics.models import KpiRun, KpiValue, MetricDefinition
from accord.partners.models import Organisation

VIEW_KPIS = "metrics.view_kpivalue"


def current_metrics(user: Any) -> models.QuerySet[MetricDefinition]:
    """The current version of every metric ``user`` may see, by code."""
    return MetricDefinition.objects.restrict(user, "view").filter(is_current=True).order_by("code")


def metric_versions(user: Any, code: str) -> models.QuerySet[MetricDefinition]:
    """Every version of one metric, newest first."""
    return MetricDefinition.objects.restrict(user, "view").filter(code=code).order_by("-version")


def ensure_can_view_kpis(user: Any) -> None:
    """403 unless ``user`` may read KPI values at all (rows are then narrowed by scope)."""
    if not (user is not None and user.is_authenticated and user.has_perm(VIEW_KPIS)):
        raise PermissionDenied


def kpi_organisations(user: Any, organisation: Any = None) -> models.QuerySet[Organisation]:
    """Organisations whose KPIs ``user`` may read (the vendor itself left out), optionally
    just one of them: 404 when that one is not visible, 403 without KPI permission."""
    queryset = Organisation.objects.restrict(user, "view").filter(is_vendor=False)
    if organisation is not None:
        pk = getattr(organisation, "pk", organisation)
        try:
            queryset = queryset.filter(pk=int(pk))
        except (TypeError, ValueError, OverflowError) as error:
            raise Http404 from error
        if not queryset.exists():
            raise Http404
    ensure_can_view_kpis(user)
    return queryset


def organisation_history(
    user: Any,
    organisation: Any,
    metrics: list[str],
    period: str = "month",
    as_of: dt.date | None = None,
    periods: int = 24,
) -> KpiTable:
    """One organisation's metrics over ``periods`` periods ending at ``as_of`` (today by
    default), for the chart page. 404 when the organisation is not visible to ``user``;
    ValueError for an unknown metric or period."""
    organisations = kpi_organisations(user, organisation)
    return compute(
        metrics,
        period=period,
        as_of=as_of or timezone.localdate(),
        organisations=organisations,
        periods=periods,
    )


def get_run(user: Any, pk: Any) -> KpiRun:
    """A stored run ``user`` may see: staff with full scope see every run, others only runs
    holding a value of an organisation they see (404 otherwise)."""
    try:
        run = KpiRun.objects.restrict(user, "view").get(pk=pk)
    except (KpiRun.DoesNotExist, TypeError, ValueError, OverflowError) as error:
        raise Http404 from error
    if user.access_scope != SCOPE_ALL and not run_values(user, run).exists():
        raise Http404
    return run


def run_values(user: Any, run: KpiRun) -> models.QuerySet[KpiValue]:
    """The values of ``run`` that ``user`` may see, by organisation, metric and period."""
    return (
        KpiValue.objects.restrict(user, "view")
        .filter(run=run)
        .select_related("metric", "organisation")
        .order_by("organisation__name", "organisation_id", "metric__code", "period_start")
    )


def system_user(email: str | None = None) -> Any:
    """Who ``accord kpis`` runs as: the user with ``email``, else the vendor's first active
    administrator (a superuser or a holder of the administrator role). None if there is none."""
    from accord.accounts.models import User

    users = User.objects.filter(is_active=True).select_related("organisation")
    if email:
        return users.filter(email=email.strip().lower()).first()
    return (
        users.filter(organisation__is_vendor=True)
        .filter(models.Q(is_superuser=True) | models.Q(roles__code="administrator"))
        .order_by("pk")
        .first()
    )


def ensure_can_add_runs(user: Any) -> None:
    """403 unless ``user`` may store KPI runs."""
    if not (user is not None and user.is_authenticated and user.has_perm("metrics.add_kpirun")):
        raise PermissionDenied
