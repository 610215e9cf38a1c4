"""Demo network generation speed: rows/s of the generator vs a bare bulk_create floor.

    .venv/bin/python bench/demo_load.py [--organisations 20000]

Both run in the same process against the same (scratch) database: first the generator
(``load_demo_network``, bulk method: planning, path materialisation, dependants), then the
floor, a bare ``bulk_create`` of the same number of rows per table with constant values.
The ratio is the generator's time over the floor's: what planning and wiring cost on top
of the ORM's own insert speed. Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

from _setup import configure, database_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    configure("demo-load", keep=False)

    from django.db import transaction

    from accord.demo.network import BATCH_SIZE, load_demo_network
    from accord.partners.models import (
        Agreement,
        AgreementTarget,
        Contact,
        Organisation,
        Tag,
        Territory,
        TerritoryAssignment,
    )

    TagLink = Organisation.tags.through
    if Organisation.objects.partners().exists():
        raise SystemExit("Run against an empty database (the default scratch one is).")

    started = time.perf_counter()
    summary = load_demo_network(args.organisations, args.seed, method="bulk")
    generator_seconds = time.perf_counter() - started
    counts = {
        "organisations": summary.organisations,
        "contacts": summary.contacts,
        "agreements": summary.agreements,
        "targets": summary.targets,
        "assignments": summary.assignments,
        "tag links": TagLink.objects.count(),
    }
    rows = sum(counts.values())

    territory_ids = list(Territory.objects.values_list("pk", flat=True))
    tag_ids = list(Tag.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    with transaction.atomic():
        organisations = Organisation.objects.bulk_create(
            [
                Organisation(name=f"Floor {i}", kind="reseller", status="active", path="/")
                for i in range(counts["organisations"])
            ],
            batch_size=500,
        )
    org_ids = [o.pk for o in organisations]
    n_org = len(org_ids)
    with transaction.atomic():
        Contact.objects.bulk_create(
            [
                Contact(organisation_id=org_ids[i % n_org], full_name="Floor", email="f@x.cn")
                for i in range(counts["contacts"])
            ],
            batch_size=1000,
        )
        agreements = Agreement.objects.bulk_create(
            [
                Agreement(
                    organisation_id=org_ids[i % n_org],
                    reference=f"FLOOR-{i}",
                    type="reseller",
                    status="active",
                    start_on="2026-01-01",
                    end_on="2027-01-01",
                )
                for i in range(counts["agreements"])
            ],
            batch_size=500,
        )
        agreement_ids = [a.pk for a in agreements]
        AgreementTarget.objects.bulk_create(
            [
                AgreementTarget(
                    agreement_id=agreement_ids[i % len(agreement_ids)],
                    metric=f"m{i}",
                    target=100,
                )
                for i in range(counts["targets"])
            ],
            batch_size=1000,
        )
        TerritoryAssignment.objects.bulk_create(
            [
                TerritoryAssignment(
                    organisation_id=org_ids[i % n_org],
                    territory_id=territory_ids[i // n_org],
                )
                for i in range(counts["assignments"])
            ],
            batch_size=1000,
        )
        TagLink.objects.bulk_create(
            [
                TagLink(organisation_id=org_ids[i % n_org], tag_id=tag_ids[i // n_org])
                for i in range(counts["tag links"])
            ],
            batch_size=1000,
        )
    floor_seconds = time.perf_counter() - started

    print(f"database: {database_label()}; batch size {BATCH_SIZE} organisations")
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print(
        f"generator  {rows:>9,} rows in {generator_seconds:7.2f} s = "
        f"{rows / generator_seconds:>9,.0f} rows/s"
    )
    print(
        f"floor      {rows:>9,} rows in {floor_seconds:7.2f} s = "
        f"{rows / floor_seconds:>9,.0f} rows/s  (bare bulk_create)"
    )
    print(f"ratio generator/floor: {generator_seconds / floor_seconds:.2f}x")


if __name__ == "__main__":
    main()
