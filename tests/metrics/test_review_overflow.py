"""A KPI too large for a stored value (numeric(24, 6)) refuses the run with a 422 on every
database: SQLite used to store it and then fail reading it back (500), PostgreSQL to refuse
it with a generic message."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accord.channel.services import record_sales_lines
from accord.metrics.models import KpiRun, KpiValue
from tests.channel.factories import sales_line


def _line(organisation: Any, day: dt.date, amount: str, order: str) -> Any:
    return sales_line(
        organisation,
        date=day,
        amount=Decimal(amount),
        quantity=Decimal("1"),
        unit_price=None,
        order_number=order,
    )


def test_a_value_too_large_to_store_refuses_the_run(
    partner_a: Any, api: Any, vendor_admin: Any
) -> None:
    huge = "9999999999999999.99"  # the largest amount an import accepts
    record_sales_lines(
        actor=None,
        lines=[
            _line(partner_a, dt.date(2026, 1, 5), "0.01", "S1"),
            _line(partner_a, dt.date(2026, 2, 5), huge, "S2"),
            _line(partner_a, dt.date(2026, 2, 6), huge, "S3"),
        ],
    )
    client = api(vendor_admin)
    # Computing (not storing) still shows it: growth = 2e18, 19 integer digits.
    table = client.get("/api/v1/kpis?metrics=growth&period=month&as_of=2026-02-28")
    assert table.status_code == 200
    assert table.json()["items"][0]["values"]["growth"].startswith("19999999999999999")
    response = client.post(
        "/api/v1/kpi-runs",
        {"metrics": ["growth", "revenue"], "period": "month", "as_of": "2026-02-28"},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert "too large to store" in response.json()["fields"]["metrics"][0]
    assert not KpiRun.objects.exists() and not KpiValue.objects.exists()


def test_the_cli_says_so_too(partner_a: Any, vendor_admin: Any) -> None:
    partner_a.external_key = "A-1"
    partner_a.save(update_fields=["external_key"])
    huge = "9999999999999999.99"
    record_sales_lines(
        actor=None,
        lines=[
            _line(partner_a, dt.date(2026, 1, 5), "0.01", "S1"),
            _line(partner_a, dt.date(2026, 2, 5), huge, "S2"),
            _line(partner_a, dt.date(2026, 2, 6), huge, "S3"),
        ],
    )
    with pytest.raises(CommandError, match="too large to store"):
        call_command(
            "kpis",
            "growth",
            "--as-of",
            "2026-02-28",
            "--period",
            "month",
            "--save",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not KpiRun.objects.exists()
