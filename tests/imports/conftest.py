"""Fixtures for the import tests: partners with external keys, a small catalogue, and a
helper that runs an import from text or bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from accord.channel.models import Product
from accord.imports.services import ImportResult, run_import
from accord.partners.models import Organisation


@pytest.fixture
def keyed(partner_a: Organisation, partner_b: Organisation) -> dict[str, Organisation]:
    partner_a.external_key = "R-A"
    partner_a.save()
    partner_b.external_key = "R-B"
    partner_b.save()
    Product.objects.create(key="P-1", name="Road bike", standard_cost="100.00")
    Product.objects.create(key="P-2", name="Helmet", standard_cost="10.00")
    return {"a": partner_a, "b": partner_b}


SALES_MAPPING = """
kind = "sales_lines"
thousands_separator = ","
[source_key]
columns = ["Order", "Product"]
[fields]
organisation = "Reseller"
product = "Product"
order_number = "Order"
date = { column = "Date", format = "%m/%d/%Y %H:%M" }
quantity = "Qty"
amount = "Amount"
unit_cost = "UnitCost"
[constants]
currency = "USD"
direction = "sell_in"
"""

SALES_CSV = (
    "Order,Date,Reseller,Product,Qty,Amount,UnitCost\n"
    'SO1,9/19/2017 9:45,R-A,P-1,2,"1,000.50",100\n'
    "SO1,9/19/2017 9:45,R-A,P-2,1,20.00,NULL\n"
    ",,,,,,\n"
    "SO2,10/01/2017 10:00,R-B,P-1,1,500.00,100\n"
)


@pytest.fixture
def do_import() -> Callable[..., ImportResult]:
    def run(
        actor: Any,
        kind: str,
        data: str | bytes,
        mapping: str | None = None,
        *,
        file_name: str = "data.csv",
        encoding: str = "utf-8",
        **options: Any,
    ) -> ImportResult:
        raw = data.encode(encoding) if isinstance(data, str) else data
        return run_import(
            actor=actor,
            kind=kind,
            source=io.BytesIO(raw),
            file_name=file_name,
            mapping=mapping,
            **options,
        )

    return run
