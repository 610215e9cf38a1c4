"""KPI pipeline at scale: import throughput and quarterly KPIs vs floors measured in the same run.

    .venv/bin/python bench/kpi.py [--organisations 100000] [--lines 10000000] [--products 2000]
    ACCORD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/kpi.py

Builds a synthetic network (organisations, products, two years of sell-in lines written to a
CSV file once and cached under ./var/bench/), then measures, against the same database:

* import: ``accord.imports.services.run_import`` of the whole file (parse, validate, look up,
  insert, rollups, one transaction) against the floor of a bare bulk load of the same file's
  rows into a table with the same columns and no indexes (SQLite: ``csv.reader`` into
  ``executemany`` in one transaction; PostgreSQL: ``COPY ... FROM STDIN``). Ratio = floor time
  / import time (1.0 would be as fast as the bare load; the goal is >= 0.4).
* KPIs: ``accord.metrics.engine.compute`` of quarterly revenue, growth, orders and distinct
  products for every organisation and all eight quarters, against the floor of the fastest of two
  hand-written GROUP BY queries over the raw lines computing the same figures. Ratio = floor
  time / engine time (the goal is >= 3, and the engine under 5 s).

Not a test; nothing is asserted. The database must be empty (the default scratch SQLite is).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import time
from decimal import Decimal
from pathlib import Path

from _setup import ROOT, configure, database_label

START = dt.date(2023, 1, 1)
MONTHS = 24
AS_OF = dt.date(2024, 12, 31)
COLUMNS = [
    "source_key",
    "organisation",
    "direction",
    "order_number",
    "date",
    "product",
    "quantity",
    "unit_price",
    "amount",
    "currency",
]
MAPPING = """
kind = "sales_lines"

[source_key]
columns = ["source_key"]

[fields]
organisation = "organisation"
direction = "direction"
order_number = "order_number"
date = "date"
product = "product"
quantity = "quantity"
unit_price = "unit_price"
amount = "amount"
currency = "currency"
"""


def org_key(i: int) -> str:
    return f"P{i:07d}"


def product_key(i: int) -> str:
    return f"SKU{i:05d}"


def product_price(i: int) -> Decimal:
    return Decimal(5 + (i * 7919) % 995)


def write_lines(path: Path, organisations: int, lines: int, products: int, seed: int) -> None:
    """Two years of sell-in lines: orders of 1-6 lines, bigger partners buy more (Pareto),
    each partner from its own assortment of products."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.3) for _ in range(organisations)]
    total = sum(weights)
    quotas = [max(1, int(lines * w / total)) for w in weights]
    days = (dt.date(START.year + MONTHS // 12, 1, 1) - START).days
    written = 0
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        order = 0
        for i, quota in enumerate(quotas):
            if written >= lines:
                break
            quota = min(quota, lines - written) if i < organisations - 1 else lines - written
            assortment = [rng.randrange(products) for _ in range(min(products, 40))]
            key = org_key(i)
            done = 0
            while done < quota:
                order += 1
                day = START + dt.timedelta(days=rng.randrange(days))
                size = min(quota - done, rng.randint(1, 6))
                for _ in range(size):
                    p = rng.choice(assortment)
                    qty = rng.randint(1, 20)
                    price = product_price(p)
                    written += 1
                    out.writerow(
                        [
                            f"L{written}",
                            key,
                            "sell_in",
                            f"SO{order}",
                            day.isoformat(),
                            product_key(p),
                            qty,
                            price,
                            price * qty,
                            "USD",
                        ]
                    )
                done += size
    tmp.rename(path)


def load_master_data(organisations: int, products: int) -> None:
    from django.db import transaction

    from accord.channel.models import Product
    from accord.partners.models import Organisation

    with transaction.atomic():
        Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"Partner {i}",
                    kind="reseller",
                    status="active",
                    external_key=org_key(i),
                    path="/",
                )
                for i in range(organisations)
            ],
            batch_size=2000,
        )
        Product.objects.bulk_create(
            [
                Product(key=product_key(i), name=f"Product {i}", list_price=product_price(i))
                for i in range(products)
            ],
            batch_size=2000,
        )


def floor_load(path: Path) -> float:
    """A bare bulk load of the file's rows into an index-free table of the same columns."""
    from django.db import connection

    columns = ", ".join(f"{c} TEXT" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_lines")
        cursor.execute(f"CREATE TABLE bench_floor_lines ({columns})")
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, path.open("rb") as handle:
            copy_sql = "COPY bench_floor_lines FROM STDIN WITH (FORMAT csv, HEADER true)"
            with cursor.cursor.copy(copy_sql) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        connection.commit() if not connection.get_autocommit() else None
    else:
        raw = connection.connection
        placeholders = ", ".join("?" * len(COLUMNS))
        with path.open(newline="") as handle:
            rows = csv.reader(handle)
            next(rows)
            raw.execute("BEGIN")
            raw.executemany(f"INSERT INTO bench_floor_lines VALUES ({placeholders})", rows)
            raw.execute("COMMIT")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_lines")
    return elapsed


def run_import(path: Path) -> tuple[float, object]:
    from accord.accounts.models import User
    from accord.imports.services import run_import as import_file

    actor = User.objects.filter(roles__code="administrator").first()
    started = time.perf_counter()
    with path.open("rb") as source:
        result = import_file(
            actor=actor, kind="sales_lines", source=source, file_name=path.name, mapping=MAPPING
        )
    return time.perf_counter() - started, result


def floor_kpis() -> tuple[float, int]:
    """The fastest of two hand-written queries for the same quarterly figures."""
    from django.db import connection

    from accord.channel.models import SalesLine

    table = SalesLine._meta.db_table
    if connection.vendor == "postgresql":
        by_date = "date_trunc('quarter', date)"
    else:
        by_date = "strftime('%Y', date) || '-' || ((CAST(strftime('%m', date) AS INTEGER) + 2) / 3)"
    by_month = "(month / 100) * 100 + ((month % 100 - 1) / 3) * 3 + 1"
    best, rows = float("inf"), 0
    for expression in (by_date, by_month):
        sql = f"""
            SELECT organisation_id, q, revenue, orders, products,
                   LAG(revenue) OVER (PARTITION BY organisation_id ORDER BY q) AS previous
            FROM (SELECT organisation_id, {expression} AS q, SUM(amount_base) AS revenue,
                         COUNT(DISTINCT order_number) AS orders,
                         COUNT(DISTINCT product_id) AS products
                  FROM {table} WHERE direction = 'sell_in'
                  GROUP BY organisation_id, {expression}) AS per_quarter
        """
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: "%" reaches the database as written
            result = cursor.fetchall()
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best, rows = elapsed, len(result)
    return best, rows


def engine_kpis() -> tuple[float, float, int]:
    """Seconds for ``compute`` (every value computed, per metric and period), seconds for
    that plus assembling every row's ``values`` dict, and the number of rows."""
    from accord.metrics.engine import compute
    from accord.partners.models import Organisation

    organisations = Organisation.objects.filter(is_vendor=False)
    started = time.perf_counter()
    table = compute(
        ["revenue", "growth", "orders", "distinct_products"],
        period="quarter",
        as_of=AS_OF,
        organisations=organisations,
        periods=8,
    )
    computed = time.perf_counter() - started
    # Rows assemble their values dict on first access: read every one, as the floor
    # fetches every row.
    for row in table.rows:
        row.values  # noqa: B018
    return computed, time.perf_counter() - started, len(table.rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database (SQLite: under ./var/bench/) and, when it already holds the "
        "network, measure only the KPIs",
    )
    args = parser.parse_args()

    data_dir = ROOT / "var" / "bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"kpi-{args.organisations}-{args.lines}-{args.products}-{args.seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_lines(path, args.organisations, args.lines, args.products, args.seed)
        print(f"wrote {path.name} in {time.perf_counter() - started:.1f} s")

    configure(f"kpi-{args.organisations}-{args.lines}-{args.products}", keep=args.keep)
    from accord.partners.models import Organisation

    loaded = Organisation.objects.filter(is_vendor=False).exists()
    if loaded and not args.keep:
        raise SystemExit("Run against an empty database (the default scratch one is).")
    from accord.accounts.models import Role, User

    print(f"database: {database_label()}  ({os.cpu_count()} cores)")
    print(
        f"network: {args.organisations:,} organisations, {args.lines:,} lines, "
        f"{args.products:,} products, {MONTHS} months"
    )
    if loaded:
        print("(reusing the loaded network: KPIs only)")
        report_kpis()
        return
    load_master_data(args.organisations, args.products)
    vendor = Organisation.objects.vendor()
    admin = User.objects.create(email="bench@accord.test", full_name="Bench", organisation=vendor)
    admin.roles.set(Role.objects.filter(code="administrator"))

    floor_seconds = floor_load(path)
    import_seconds, result = run_import(path)
    print(
        f"import: {args.lines / import_seconds:,.0f} rows/s ({import_seconds:.1f} s, "
        f"{result.status}, created {result.created:,}); floor "
        f"{args.lines / floor_seconds:,.0f} rows/s ({floor_seconds:.1f} s); "
        f"ratio {floor_seconds / import_seconds:.2f} of the floor (goal >= 0.4)"
    )

    report_kpis()


def report_kpis() -> None:
    floor_q, floor_rows = floor_kpis()
    runs = [engine_kpis() for _ in range(2)]
    computed = min(run[0] for run in runs)
    with_rows = min(run[1] for run in runs)
    engine_rows = runs[0][2]
    print(
        f"quarterly revenue, growth, orders, distinct products for every organisation "
        f"({engine_rows:,} organisation-quarters): hand-written query over raw lines "
        f"{floor_q:.2f} s ({floor_rows:,} rows); engine {computed:.2f} s = "
        f"{floor_q / computed:.1f}x faster, {with_rows:.2f} s = {floor_q / with_rows:.1f}x "
        f"with every row's values assembled (goal >= 3x, < 5 s)"
    )


if __name__ == "__main__":
    main()
