"""Review: the rollups equal a fresh aggregation after updates that move rows and rollbacks."""

from __future__ import annotations

from typing import Any

from accord.channel.models import SalesRollup
from accord.channel.rollups import rebuild_all_sales_rollups
from accord.imports.services import rollback_import

HEADER = (
    "source_key,organisation,direction,date,quantity,amount,currency,"
    "order_number,product,end_customer_key\n"
)


def snapshot() -> list[tuple]:
    return sorted(
        SalesRollup.objects.values_list(
            "organisation_id",
            "direction",
            "period",
            "period_key",
            "revenue",
            "cost",
            "costed_revenue",
            "quantity",
            "lines",
            "orders",
            "products",
            "customers",
        )
    )


def fresh() -> list[tuple]:
    before = snapshot()
    rebuild_all_sales_rollups()
    after = snapshot()
    return before, after


def test_moves_and_rollbacks_keep_rollups_exact(
    keyed: Any, vendor_admin: Any, do_import: Any
) -> None:
    first = do_import(
        vendor_admin,
        "sales_lines",
        HEADER
        + "L1,R-A,sell_in,2026-01-31,2,100.00,USD,SO1,P-1,C1\n"
        + "L2,R-A,sell_in,2026-03-31,1,50.00,USD,SO2,P-2,\n"
        + "L3,R-B,sell_through,2025-12-31,1,70.00,USD,,P-1,C2\n",
    )
    assert first.status == "applied", first.issues
    before, after = fresh()
    assert before == after
    # L1 moves month + quarter, L2 moves organisation and year, L3 changes direction.
    second = do_import(
        vendor_admin,
        "sales_lines",
        HEADER
        + "L1,R-A,sell_in,2026-04-01,2,100.00,USD,SO1,P-1,C1\n"
        + "L2,R-B,sell_in,2027-01-01,1,50.00,USD,SO2,P-2,\n"
        + "L3,R-B,sell_in,2025-12-31,1,70.00,USD,,P-2,C2\n"
        + "L4,R-A,sell_in,2026-01-15,3,30.00,USD,SO1,P-2,C1\n",
    )
    assert second.status == "applied", second.issues
    assert second.updated == 3
    before, after = fresh()
    assert before == after
    rollback_import(actor=vendor_admin, batch=second.batch)
    before, after = fresh()
    assert before == after
    rollback_import(actor=vendor_admin, batch=first.batch)
    before, after = fresh()
    assert before == after == []
