"""Keeping the sales rollups current: recompute the (organisation, period) cells a write touched.

Callers (imports, the demo, services that write sales lines) pass the ``(organisation id,
month key)`` pairs they inserted, updated or deleted, inside their own transaction. Each
grain (month, quarter, year) is rebuilt for the touched periods with one DELETE and one
``INSERT ... SELECT ... GROUP BY`` over the raw lines, so the statement count does not
grow with the number of organisations.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from accord.channel.models import SalesLine, SalesRollup

# Above this many organisations a refresh rebuilds whole periods instead of listing ids.
ORGANISATION_LIST_LIMIT = 500

# period -> SQL expression mapping a line's ``month`` (yyyymm) to the period's first month.
PERIOD_EXPRESSIONS = {
    SalesRollup.Period.MONTH: "month",
    SalesRollup.Period.QUARTER: "(month / 100) * 100 + ((month %% 100 - 1) / 3) * 3 + 1",
    SalesRollup.Period.YEAR: "(month / 100) * 100 + 1",
}


def period_key(period: str, month: int) -> int:
    """The key (``yyyymm`` of its first month) of the ``period`` holding ``month``."""
    year, mon = divmod(month, 100)
    if period == SalesRollup.Period.QUARTER:
        return year * 100 + ((mon - 1) // 3) * 3 + 1
    if period == SalesRollup.Period.YEAR:
        return year * 100 + 1
    return month


def months_of(period: str, key: int) -> list[int]:
    """Every month key inside the ``period`` starting at ``key``."""
    year, first = divmod(key, 100)
    count = {SalesRollup.Period.MONTH: 1, SalesRollup.Period.QUARTER: 3}.get(period, 12)
    return [year * 100 + first + offset for offset in range(count)]


def refresh_sales_rollups(touched: Iterable[tuple[int, int]]) -> None:
    """Rebuild the rollup cells for the touched ``(organisation id, month key)`` pairs."""
    pairs = set(touched)
    if not pairs:
        return
    organisation_ids = sorted({org for org, _ in pairs})
    by_org = len(organisation_ids) <= ORGANISATION_LIST_LIMIT
    lines = SalesLine._meta.db_table
    rollups = SalesRollup._meta.db_table
    with connection.cursor() as cursor:
        for period, expression in PERIOD_EXPRESSIONS.items():
            keys = sorted({period_key(period, month) for _, month in pairs})
            months = sorted({m for key in keys for m in months_of(period, key)})
            key_list = ", ".join(str(int(k)) for k in keys)
            month_list = ", ".join(str(int(m)) for m in months)
            org_filter, params = "", []
            if by_org:
                placeholders = ", ".join(["%s"] * len(organisation_ids))
                org_filter = f" AND organisation_id IN ({placeholders})"
                params = organisation_ids
            delete = f"DELETE FROM {rollups} WHERE period = %s AND period_key IN ({key_list})"  # noqa: S608
            cursor.execute(delete + org_filter, [str(period), *params])
            cursor.execute(
                f"""
                INSERT INTO {rollups} (organisation_id, direction, period, period_key, revenue,
                    cost, costed_revenue, quantity, lines, orders, products, customers)
                SELECT organisation_id, direction, %s, {expression},
                    SUM(amount_base),
                    SUM(COALESCE(cost_base, 0)),
                    SUM(CASE WHEN cost_base IS NULL THEN 0 ELSE amount_base END),
                    SUM(quantity),
                    COUNT(*),
                    COUNT(DISTINCT CASE WHEN order_number = '' THEN source_key
                                        ELSE order_number END),
                    COUNT(DISTINCT product_id),
                    COUNT(DISTINCT NULLIF(end_customer_key, ''))
                FROM {lines}
                WHERE month IN ({month_list}){org_filter}
                GROUP BY organisation_id, direction, {expression}
                """,  # noqa: S608 - table names from _meta, keys are ints, values are params
                [str(period), *params],
            )


def rebuild_all_sales_rollups() -> None:
    """Recompute every rollup row from the raw lines (repair; also used by the demo)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT organisation_id, month FROM {SalesLine._meta.db_table}"  # noqa: S608
        )
        touched = cursor.fetchall()
    SalesRollup.objects.all().delete()
    refresh_sales_rollups((org, month) for org, month in touched)
