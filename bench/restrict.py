"""The access chokepoint on a large network: restrict() and the list page vs hand-written SQL.

    .venv/bin/python bench/restrict.py [--organisations 50000] [--repeat 20]

Builds (once; kept under var/bench/restrict/ for SQLite) a demo network of the given
size, then times for a partner administrator (organisation subtree), a regional
coordinator (territory scope) and an analyst (everything):

- ``Organisation.objects.restrict(user).count()`` against the plainest SQL giving the same
  number (a range scan over the materialised path, a join over the territory tree, a bare
  count), and
- the organisation list page's query (``selectors.list_organisations``, first 50 rows with
  parents and tags) against one hand-written SELECT ... LIMIT 50 of the same rows.

Ratios are ORM time over SQL time; both include the database's own work. Not a test.
"""

from __future__ import annotations

import argparse

from _setup import best_of, configure, database_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    configure("restrict", keep=True)

    from django.db import connection

    from accord.accounts.models import User
    from accord.demo.network import load_demo_network
    from accord.partners import selectors
    from accord.partners.models import Organisation

    summary = load_demo_network(args.organisations, method="auto")
    if summary.organisations:
        print(f"built {summary.organisations:,} organisations ({summary.method})")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics on both databases

    def users(email: str) -> User:
        return User.objects.select_related("organisation").get(email=email)

    partner = users("admin@huanan.demo")
    coordinator = users("coordinator@accord.demo")
    analyst = users("analyst@accord.demo")

    def sql_scalar(sql: str, params: list) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def sql_rows(sql: str, params: list) -> list:
        """The page's rows, then their tags in a second query (as the ORM prefetches)."""
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            ids = [row[0] for row in rows]
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                cursor.execute(
                    "SELECT ot.organisation_id, t.name FROM partners_organisation_tags ot "
                    "JOIN partners_tag t ON t.id = ot.tag_id "
                    f"WHERE ot.organisation_id IN ({marks})",
                    ids,
                )
                cursor.fetchall()
            return rows

    prefix = partner.organisation.path
    territory_paths = [t.path for t in coordinator.territories.all()]
    territory_match = " OR ".join(["t.path LIKE %s"] * len(territory_paths))
    territory_params = [f"{p}%" for p in territory_paths]
    territory_ids = (
        "SELECT a.organisation_id FROM partners_territoryassignment a "
        f"JOIN partners_territory t ON t.id = a.territory_id WHERE {territory_match}"
    )
    # The subtree as an index range scan: every path that starts with "/1/2/" sorts
    # between "/1/2/" and "/1/20" ("0" follows "/").
    subtree = [prefix, prefix[:-1] + "0"]
    floors = {
        "partner": (
            "SELECT COUNT(*) FROM partners_organisation WHERE path >= %s AND path < %s",
            subtree,
            "SELECT o.id, o.name, p.name FROM partners_organisation o "
            "LEFT JOIN partners_organisation p ON p.id = o.parent_id "
            "WHERE o.path >= %s AND o.path < %s ORDER BY o.name, o.id LIMIT 50",
            subtree,
        ),
        "coordinator": (
            f"SELECT COUNT(*) FROM partners_organisation WHERE id IN ({territory_ids})",
            territory_params,
            "SELECT o.id, o.name, p.name FROM partners_organisation o "
            "LEFT JOIN partners_organisation p ON p.id = o.parent_id "
            f"WHERE o.id IN ({territory_ids}) ORDER BY o.name, o.id LIMIT 50",
            territory_params,
        ),
        "analyst": (
            "SELECT COUNT(*) FROM partners_organisation",
            [],
            "SELECT o.id, o.name, p.name FROM partners_organisation o "
            "LEFT JOIN partners_organisation p ON p.id = o.parent_id "
            "ORDER BY o.name, o.id LIMIT 50",
            [],
        ),
    }
    total = Organisation.objects.count()
    print(f"database: {database_label()}; {total:,} organisations; median of {args.repeat}")
    print(f"{'user':<12} {'query':<22} {'rows':>7} {'ORM ms':>8} {'SQL ms':>8} {'ratio':>6}")
    for label, user in (("partner", partner), ("coordinator", coordinator), ("analyst", analyst)):
        count_sql, count_params, list_sql, list_params = floors[label]
        orm_count = Organisation.objects.restrict(user).count()
        sql_count = sql_scalar(count_sql, count_params)
        assert orm_count == sql_count, (label, orm_count, sql_count)
        orm = best_of(lambda user=user: Organisation.objects.restrict(user).count(), args.repeat)
        floor = best_of(lambda s=count_sql, p=count_params: sql_scalar(s, p), args.repeat)
        print(
            f"{label:<12} {'restrict().count()':<22} {orm_count:>7,} "
            f"{orm * 1000:>8.2f} {floor * 1000:>8.2f} {orm / floor:>5.1f}x"
        )

        def list_page(user: User = user) -> list:
            rows = list(selectors.list_organisations(user)[:50])
            return [
                (o.pk, o.name, o.parent.name if o.parent else None, list(o.tags.all()))
                for o in rows
            ]

        page = list_page()
        floor_rows = sql_rows(list_sql, list_params)
        assert [r[0] for r in page] == [r[0] for r in floor_rows], label
        orm = best_of(list_page, args.repeat)
        floor = best_of(lambda s=list_sql, p=list_params: sql_rows(s, p), args.repeat)
        print(
            f"{label:<12} {'list page (50 rows)':<22} {len(page):>7,} "
            f"{orm * 1000:>8.2f} {floor * 1000:>8.2f} {orm / floor:>5.1f}x"
        )


if __name__ == "__main__":
    main()
