"""Snapshots (stored, audited, reproducible) and new metric versions (define_metric)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.core.errors import PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.metrics import selectors
from accord.metrics.engine import compute
from accord.metrics.models import KpiValue, MetricDefinition
from accord.metrics.services import define_metric, snapshot
from accord.partners.models import Organisation

D = dt.date


def everyone() -> Any:
    return Organisation.objects.filter(is_vendor=False)


def stored(run: Any) -> list[tuple]:
    return sorted(
        (v.organisation_id, v.metric.code, v.period_start, v.value, tuple(sorted(v.inputs.items())))
        for v in KpiValue.objects.filter(run=run).select_related("metric")
    )


def test_snapshot_stores_values_inputs_and_versions(facts: dict, channel_manager: Any) -> None:
    table = compute(
        ["revenue", "growth"], period="quarter", as_of=D(2026, 3, 31), organisations=everyone()
    )
    run = snapshot(actor=channel_manager, table=table)
    assert run.metrics == ["revenue@1", "growth@1"]
    assert run.period == "quarter"
    assert run.organisation_count == 2
    value = KpiValue.objects.get(run=run, organisation=facts["a"], metric__code="growth")
    assert value.value == Decimal("0.666667")
    assert value.period_start == D(2026, 1, 1)
    assert value.period_end == D(2026, 4, 1)
    assert value.inputs["previous"] == "300.00"
    assert KpiValue.objects.get(run=run, organisation=facts["b"], metric__code="growth").value == (
        Decimal("-1")
    )
    entry = AuditEntry.objects.get(object_id=str(run.pk), content_type__model="kpirun")
    assert entry.changes["values"] == [None, 4]
    assert entry.actor == channel_manager


def test_same_as_of_reproduces_the_snapshot(facts: dict, channel_manager: Any) -> None:
    from accord.channel.services import record_sales_lines
    from tests.metrics.conftest import line

    arguments = {"period": "month", "as_of": D(2026, 3, 15), "periods": 3}
    metrics = ["revenue", "orders", "growth", "fill_rate", "csat", "certified_staff"]
    first = snapshot(
        actor=channel_manager, table=compute(metrics, organisations=everyone(), **arguments)
    )
    record_sales_lines(actor=None, lines=[line(facts["a"], D(2026, 3, 20), "5", order_number="X")])
    second = snapshot(
        actor=channel_manager, table=compute(metrics, organisations=everyone(), **arguments)
    )
    assert stored(first) == stored(second)
    assert len(stored(first)) == 2 * 3 * len(metrics)


def test_snapshot_needs_permission(facts: dict, partner_a_user: Any) -> None:
    table = compute(["revenue"], period="month", as_of=D(2026, 3, 31), organisations=everyone())
    with pytest.raises(PermissionDenied):
        snapshot(actor=partner_a_user, table=table)
    assert not KpiValue.objects.exists()


def test_define_metric_creates_a_version_and_retires_the_current(
    facts: dict, channel_manager: Any
) -> None:
    a = facts["a"]
    table = compute(["revenue"], period="month", as_of=D(2026, 3, 31), organisations=everyone())
    old_run = snapshot(actor=channel_manager, table=table)

    new = define_metric(
        actor=channel_manager,
        code="revenue",
        data={"params": {"direction": "sell_in", "category": "road"}, "name": "Road revenue"},
    )
    assert (new.version, new.is_current, new.builtin) == (2, True, False)
    assert new.params == {"direction": "sell_in", "category": "road", "window_months": None}
    assert new.dimension == "financial"  # kept from version 1
    old = MetricDefinition.objects.get(code="revenue", version=1)
    assert old.is_current is False
    assert list(selectors.current_metrics(channel_manager).filter(code="revenue")) == [new]

    # Bikes in the "road" category only: 100 EUR at 1.1 in March (the helmet is not).
    table = compute(["revenue"], period="month", as_of=D(2026, 3, 31), organisations=everyone())
    row = next(r for r in table.rows if r.organisation_id == a.pk)
    assert row.values == {"revenue": Decimal("110.00")}
    assert row.inputs["revenue"]["category"] == "road"
    assert row.inputs["revenue"]["source"] == "raw lines (product category filter)"
    # The old version still answers, and old runs keep pointing at it.
    table = compute(["revenue@1"], period="month", as_of=D(2026, 3, 31), organisations=everyone())
    assert next(r for r in table.rows if r.organisation_id == a.pk).values["revenue"] == (
        Decimal("150.00")
    )
    assert KpiValue.objects.filter(run=old_run, metric=old).count() == 2
    actions = set(
        AuditEntry.objects.filter(content_type__model="metricdefinition").values_list(
            "action", flat=True
        )
    )
    assert actions == {"create", "update"}


def test_define_a_new_metric_with_a_trailing_window(facts: dict, channel_manager: Any) -> None:
    define_metric(
        actor=channel_manager,
        code="revenue_t3",
        data={
            "name": "Revenue, trailing 3 months",
            "dimension": "financial",
            "calculation": "revenue",
            "params": {"window_months": 3},
            "unit": "currency",
        },
    )
    table = compute(["revenue_t3"], period="month", as_of=D(2026, 3, 31), organisations=everyone())
    row = next(r for r in table.rows if r.organisation_id == facts["a"].pk)
    assert row.values == {"revenue_t3": Decimal("500.00")}  # January to March
    assert row.inputs["revenue_t3"]["window"] == "[2026-01-01, 2026-04-01)"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"calculation": "eval('1+1')"}, "calculation"),
        ({"params": {"direction": "sideways"}}, "params"),
        ({"params": {"formula": "revenue * 2"}}, "params"),
        ({"params": {"window_months": 0}}, "params"),
        ({"params": "x"}, "params"),
        ({"dimension": "cosmic"}, "dimension"),
    ],
)
def test_define_metric_refuses_bad_definitions(
    facts: dict, channel_manager: Any, data: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        define_metric(actor=channel_manager, code="revenue", data=data)
    assert field in raised.value.message_dict
    assert MetricDefinition.objects.get(code="revenue", is_current=True).version == 1


def test_define_metric_needs_permission(facts: dict, analyst: Any) -> None:
    with pytest.raises(PermissionDenied):
        define_metric(actor=analyst, code="revenue", data={"name": "x"})
