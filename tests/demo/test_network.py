"""The demo network: deterministic plan, faithful writers, idempotent re-runs, working logins."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Count, F
from django.test import Client

from accord.accounts.models import User
from accord.core.models import AuditEntry
from accord.demo.network import (
    DEMO_PASSWORD,
    DEMO_USERS,
    MIN_ORGANISATIONS,
    OrganisationSpec,
    load_demo_network,
    plan_network,
    territory_rows,
    unified_social_credit_code,
)
from accord.partners.models import Agreement, Organisation, Territory, TerritoryAssignment

TODAY = dt.date(2026, 3, 15)
SMALL = 40


def plan(n: int = SMALL, seed: int = 7) -> list[OrganisationSpec]:
    return list(plan_network(n, seed, TODAY))


# --- the plan ------------------------------------------------------------------
def test_plan_is_deterministic_and_seeded() -> None:
    assert plan() == plan()
    assert plan(seed=8) != plan()
    # Organisation n does not depend on the network's size: bigger networks extend smaller.
    assert plan(120)[:SMALL] == plan(SMALL)


def test_plan_covers_every_kind_status_and_region() -> None:
    specs = plan(300, seed=2025)
    kinds = {spec.kind for spec in specs}
    assert kinds == set(Organisation.Kind.values) - {Organisation.Kind.VENDOR}
    assert {spec.status for spec in specs} == set(Organisation.Status.values)
    countries = Counter(spec.fields["country"] for spec in specs)
    assert {"CN", "US", "CA", "DE", "FR", "GB", "NL"} <= set(countries)
    assert countries["CN"] > 100
    regions = {spec.fields["region"] for spec in specs}
    assert {"广东省", "浙江省", "上海市", "北京市", "四川省"} <= regions
    names = [spec.fields["name"] for spec in specs]
    assert "华南电子分销有限公司" in names
    assert sum(name.endswith("有限公司") for name in names) > 100
    assert len(set(names)) == len(names), "organisation names are unique"
    assert len({spec.fields["website_domain"] for spec in specs}) == len(specs)
    # Multi-tier: children under distributors, and a third tier below those.
    assert max(spec.depth for spec in specs) == 2
    assert sum(spec.parent_index is not None for spec in specs) > 30
    # Agreements with KPI targets, some due for renewal.
    agreements = [a for spec in specs for a in spec.agreements]
    assert all(a.targets for a in agreements if a.type != Agreement.Type.NDA)
    due = [
        a
        for a in agreements
        if a.status == Agreement.Status.ACTIVE
        and a.end_on - dt.timedelta(days=a.renewal_notice_days) <= TODAY
    ]
    assert 5 < len(due) < len(agreements) / 3


def test_plan_respects_the_exclusive_territory_rule() -> None:
    specs = plan(2000, seed=3)
    holders: dict[str, list[tuple[int, bool]]] = {}
    for spec in specs:
        for code, exclusive in spec.territories:
            holders.setdefault(code, []).append((spec.index, exclusive))
    for code, rows in holders.items():
        if any(exclusive for _, exclusive in rows):
            assert len(rows) == 1, f"{code} is exclusive but has {len(rows)} holders"


def test_plan_refuses_a_network_without_its_featured_organisations() -> None:
    with pytest.raises(ValueError, match="at least"):
        list(plan_network(MIN_ORGANISATIONS - 1))


def test_chinese_tax_ids_carry_a_valid_check_character() -> None:
    code = unified_social_credit_code(random.Random(1), "440100")
    assert len(code) == 18 and code.startswith("91440100")
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    assert chars.index(code[17]) == (31 - total % 31) % 31
    # A real, published code validates with the same rule.
    real = "91350100M000100Y43"
    total = sum(chars.index(c) * w for c, w in zip(real[:17], weights, strict=True))
    assert chars.index(real[17]) == (31 - total % 31) % 31


# --- writing ---------------------------------------------------------------------
def expected(specs: list[OrganisationSpec]) -> dict[str, Any]:
    """The network the plan describes, in the same shape as ``stored()``."""
    keys = {spec.index: spec.external_key for spec in specs}
    return {
        spec.external_key: (
            spec.fields["name"],
            spec.kind,
            spec.status,
            keys.get(spec.parent_index),
            spec.depth,
            tuple(sorted(spec.tags)),
            tuple(sorted((c.full_name, c.email, c.is_primary) for c in spec.contacts)),
            tuple(sorted(spec.territories)),
            tuple(
                sorted(
                    (
                        a.reference,
                        a.type,
                        a.status,
                        a.start_on,
                        a.end_on,
                        tuple(
                            sorted(
                                (t.metric, t.period, t.comparator, t.target, t.unit)
                                for t in a.targets
                            )
                        ),
                    )
                    for a in spec.agreements
                )
            ),
        )
        for spec in specs
    }


def stored() -> dict[str, Any]:
    organisations = Organisation.objects.partners().select_related("parent")
    result = {}
    for org in organisations.prefetch_related(
        "contacts", "territory_assignments__territory", "agreements__targets"
    ):
        tags = Organisation.tags.through.objects.filter(organisation=org).values_list(
            "tag__name", flat=True
        )
        result[org.external_key] = (
            org.name,
            org.kind,
            org.status,
            org.parent.external_key if org.parent else None,
            org.path.count("/") - 2,
            tuple(sorted(tags)),
            tuple(sorted((c.full_name, c.email, c.is_primary) for c in org.contacts.all())),
            tuple(sorted((a.territory.code, a.exclusive) for a in org.territory_assignments.all())),
            tuple(
                sorted(
                    (
                        a.reference,
                        a.type,
                        a.status,
                        a.start_on,
                        a.end_on,
                        tuple(
                            sorted(
                                (t.metric, t.period, t.comparator, t.target, t.unit)
                                for t in a.targets.all()
                            )
                        ),
                    )
                    for a in org.agreements.all()
                )
            ),
        )
    return result


def assert_paths_are_materialised() -> None:
    for model in (Organisation, Territory):
        by_id = {
            pk: (parent, path)
            for pk, parent, path in model.objects.values_list("pk", "parent_id", "path")
        }
        for pk, (parent, path) in by_id.items():
            prefix = by_id[parent][1] if parent else "/"
            assert path == f"{prefix}{pk}/", (model.__name__, pk, path)


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ("partners", "accounts", "core")
    }


@pytest.mark.parametrize("method", ["services", "bulk"])
def test_loader_writes_exactly_the_plan(db: None, method: str) -> None:
    summary = load_demo_network(SMALL, 7, method=method, today=TODAY)

    assert summary.method == method
    assert summary.organisations == SMALL
    assert summary.skipped_assignments == 0
    assert stored() == expected(plan())
    assert_paths_are_materialised()
    assert Territory.objects.count() == len(list(territory_rows()))
    assert User.objects.filter(email__in=[u.email for u in DEMO_USERS]).count() == len(DEMO_USERS)
    organisation_audit = AuditEntry.objects.filter(content_type__model="organisation").count()
    if method == "services":
        assert organisation_audit >= SMALL  # every organisation has its history
    else:
        assert organisation_audit == 0  # bulk rows skip the audit, by design


@pytest.mark.parametrize("method", ["services", "bulk"])
def test_rerunning_changes_nothing(db: None, method: str) -> None:
    load_demo_network(SMALL, 7, method=method, today=TODAY)
    before = (
        table_counts(),
        stored(),
        list(Organisation.objects.values_list("pk", "path", "updated_at")),
        list(User.objects.values_list("pk", "password")),
    )

    again = load_demo_network(SMALL, 7, method=method, today=TODAY)

    assert not again.created_anything()
    assert again.existing_organisations == SMALL
    after = (
        table_counts(),
        stored(),
        list(Organisation.objects.values_list("pk", "path", "updated_at")),
        list(User.objects.values_list("pk", "password")),
    )
    assert after == before


def test_a_larger_run_extends_the_network_without_touching_it(db: None) -> None:
    load_demo_network(20, 7, method="services", today=TODAY)
    first = dict(Organisation.objects.partners().values_list("external_key", "pk"))

    summary = load_demo_network(SMALL, 7, method="bulk", today=TODAY)

    assert summary.organisations == SMALL - 20
    assert summary.existing_organisations == 20
    now = dict(Organisation.objects.partners().values_list("external_key", "pk"))
    assert {k: now[k] for k in first} == first
    assert stored() == expected(plan())
    assert_paths_are_materialised()


def test_a_second_network_never_breaks_the_exclusive_rule(db: None) -> None:
    load_demo_network(60, 1, method="bulk", today=TODAY)
    # A different seed beyond the first network: its distributors may want cities the
    # first network already holds exclusively; those assignments are skipped.
    load_demo_network(400, 2, method="bulk", today=TODAY)

    exclusive = TerritoryAssignment.objects.filter(exclusive=True).values("territory")
    crowded = (
        TerritoryAssignment.objects.filter(territory__in=exclusive)
        .values("territory")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not crowded.exists()


# --- who sees what ---------------------------------------------------------------
def test_every_demo_login_works(db: None) -> None:
    summary = load_demo_network(SMALL, 7, today=TODAY)

    assert [email for email, _, _ in summary.logins] == [u.email for u in DEMO_USERS]
    roles = {u.role for u in DEMO_USERS}
    assert len(roles) == 12  # every built-in role, nine vendor and three partner roles
    for spec in DEMO_USERS:
        client = Client()
        assert client.login(username=spec.email, password=DEMO_PASSWORD), spec.email


def test_demo_users_see_what_their_role_allows(db: None) -> None:
    load_demo_network(120, 7, method="bulk", today=TODAY)
    partners = Organisation.objects.partners()

    partner = User.objects.get(email="admin@huanan.demo")
    huanan = Organisation.objects.get(name="华南电子分销有限公司")
    visible = Organisation.objects.restrict(partner)
    assert set(visible) == set(Organisation.objects.filter(path__startswith=huanan.path))
    assert visible.count() >= 5  # itself, its resellers and their retailer

    viewer = User.objects.get(email="viewer@northwind.demo")
    assert [o.name for o in Organisation.objects.restrict(viewer)] == ["Northwind Retail Inc."]

    coordinator = User.objects.get(email="coordinator@accord.demo")
    east = Organisation.objects.restrict(coordinator)
    assert east.exists()
    assert set(east.values_list("region", flat=True)) <= {"上海市", "浙江省", "江苏省"}
    assert east.count() < partners.count() / 2

    analyst = User.objects.get(email="analyst@accord.demo")
    assert Organisation.objects.restrict(analyst).count() == partners.count() + 1
    assert not Organisation.objects.restrict(analyst, "change").exists()


def test_no_constraint_is_violated_on_either_database(db: None) -> None:
    load_demo_network(SMALL, 7, method="bulk", today=TODAY)
    for org in Organisation.objects.partners():
        org.full_clean()  # the bulk path skips validation; the data must pass it anyway
    assert not Agreement.objects.filter(end_on__lte=F("start_on")).exists()
