"""Services for organisations, contacts, territories and agreements: rules, audit, edges."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from accord.core.errors import Conflict, InvalidTransition
from accord.core.models import AuditEntry
from accord.partners import services
from accord.partners.models import Agreement, Contact, Organisation, Territory
from tests.factories import AgreementFactory, OrganisationFactory, TerritoryFactory

pytestmark = pytest.mark.django_db
Status = Organisation.Status


def history(obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.for_object(obj).order_by("pk"))


def test_create_organisation_audits_every_field(channel_manager):
    org = services.create_organisation(
        actor=channel_manager,
        data={
            "name": "华南电子分销有限公司",
            "kind": "distributor",
            "country": "CN",
            "currency": "CNY",
            "tax_id": "91440300MA5D8X1234",
        },
        tags=["strategic", "south"],
    )
    entries = history(org)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].actor == channel_manager
    assert entries[0].changes["name"] == [None, "华南电子分销有限公司"]
    assert entries[0].organisation_id == org.pk
    assert entries[1].changes == {"tags": [[], ["south", "strategic"]]}
    assert org.path == f"/{org.pk}/"


def test_update_records_before_and_after_only_for_changed_fields(channel_manager, partner_a):
    services.update_organisation(
        actor=channel_manager,
        organisation=partner_a,
        data={"name": partner_a.name, "city": "Hangzhou", "website_domain": "Alpha.CN"},
    )
    (entry,) = history(partner_a)
    assert entry.changes == {"city": ["", "Hangzhou"], "website_domain": ["", "alpha.cn"]}


def test_no_change_writes_no_audit_row(channel_manager, partner_a):
    services.update_organisation(
        actor=channel_manager, organisation=partner_a, data={"name": partner_a.name}
    )
    assert history(partner_a) == []


def test_invalid_data_is_refused_with_field_errors(channel_manager, partner_a):
    with pytest.raises(ValidationError) as error:
        services.update_organisation(
            actor=channel_manager,
            organisation=partner_a,
            data={"website_domain": "https://bad domain/", "currency": "usd", "kind": "alien"},
        )
    assert {"website_domain", "currency", "kind"} <= set(error.value.message_dict)
    partner_a.refresh_from_db()
    assert partner_a.currency == "USD"
    assert history(partner_a) == []


def test_unknown_fields_are_refused(channel_manager, partner_a):
    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={"is_vendor": True}
        )
    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={"status": "active"}
        )


def test_other_partner_gets_404_and_read_only_gets_403(partner_a, partner_b_user, partner_a_viewer):
    with pytest.raises(Http404):
        services.update_organisation(
            actor=partner_b_user, organisation=partner_a, data={"city": "X"}
        )
    with pytest.raises(PermissionDenied):
        services.update_organisation(
            actor=partner_a_viewer, organisation=partner_a, data={"city": "X"}
        )
    partner_a.refresh_from_db()
    assert partner_a.city == ""
    assert history(partner_a) == []


def test_partner_cannot_move_their_organisation(partner_a_user, partner_a, partner_a_child):
    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=partner_a_user, organisation=partner_a_child, data={"parent": None}
        )
    partner_a_child.refresh_from_db()
    assert partner_a_child.parent == partner_a


def test_parent_cycle_is_refused(channel_manager, partner_a, partner_a_child):
    with pytest.raises(ValidationError) as error:
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={"parent": partner_a_child}
        )
    assert "parent" in error.value.message_dict


def test_moving_an_organisation_moves_its_subtree(channel_manager, partner_a, partner_a_child):
    grandchild = OrganisationFactory(parent=partner_a_child)
    new_root = OrganisationFactory(name="Holding")
    services.update_organisation(
        actor=channel_manager, organisation=partner_a, data={"parent": new_root}
    )
    grandchild.refresh_from_db()
    assert grandchild.path == f"/{new_root.pk}/{partner_a.pk}/{partner_a_child.pk}/{grandchild.pk}/"
    assert set(Organisation.objects.descendants_of(new_root)) == {
        partner_a,
        partner_a_child,
        grandchild,
    }


ALLOWED = {(a, b) for a, targets in Organisation.TRANSITIONS.items() for b in targets}


@pytest.mark.parametrize("start", Status.values)
@pytest.mark.parametrize("target", Status.values)
def test_only_listed_transitions_are_allowed(channel_manager, start, target):
    org = OrganisationFactory(status=start)
    if (start, target) in ALLOWED:
        services.transition_organisation(
            actor=channel_manager, organisation=org, status=target, reason="review"
        )
        org.refresh_from_db()
        assert org.status == target
        (entry,) = history(org)
        assert entry.changes == {"status": [start, target]}
        assert entry.reason == "review"
    else:
        with pytest.raises(InvalidTransition):
            services.transition_organisation(actor=channel_manager, organisation=org, status=target)
        org.refresh_from_db()
        assert org.status == start
        assert history(org) == []


def test_lifecycle_path_from_prospect_to_terminated(channel_manager):
    org = OrganisationFactory(status=Status.PROSPECT)
    for status in (
        "applied",
        "onboarding",
        "active",
        "suspended",
        "active",
        "suspended",
        "terminated",
    ):
        services.transition_organisation(actor=channel_manager, organisation=org, status=status)
    assert [e.changes["status"][1] for e in history(org)][-1] == "terminated"
    assert org.allowed_transitions() == ()


def test_partner_admin_cannot_change_their_own_status(partner_a_user, partner_a):
    with pytest.raises(PermissionDenied):
        services.transition_organisation(
            actor=partner_a_user, organisation=partner_a, status="suspended"
        )


class TransitionWalks(HypothesisTestCase):
    """Any sequence of requested statuses leaves the organisation in a reachable state,
    with exactly one audit row per accepted transition."""

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.sampled_from(Status.values), max_size=12))
    def test_random_walks(self, requests: list[str]) -> None:
        org = OrganisationFactory(status=Status.PROSPECT)
        status, accepted = Status.PROSPECT.value, 0
        for requested in requests:
            if requested in Organisation.TRANSITIONS[status]:
                services.transition_organisation(actor=None, organisation=org, status=requested)
                status, accepted = requested, accepted + 1
            else:
                with pytest.raises(InvalidTransition):
                    services.transition_organisation(actor=None, organisation=org, status=requested)
        org.refresh_from_db()
        assert org.status == status
        assert len(history(org)) == accepted


# -- contacts -----------------------------------------------------------------
def test_one_primary_contact_per_organisation(partner_a_user, partner_a):
    first = services.create_contact(
        actor=partner_a_user, organisation=partner_a, data={"full_name": "王伟", "is_primary": True}
    )
    second = services.create_contact(
        actor=partner_a_user,
        organisation=partner_a,
        data={"full_name": "Li Na", "is_primary": True},
    )
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary


def test_partner_cannot_add_contacts_to_another_partner(partner_a_user, partner_b):
    with pytest.raises(Http404):
        services.create_contact(
            actor=partner_a_user, organisation=partner_b, data={"full_name": "Intruder"}
        )
    assert not Contact.objects.filter(full_name="Intruder").exists()


def test_deleting_a_contact_keeps_its_history(partner_a_user, partner_a):
    contact = services.create_contact(
        actor=partner_a_user,
        organisation=partner_a,
        data={"full_name": "Temp", "email": "t@alpha.test"},
    )
    pk = contact.pk
    services.delete_contact(actor=partner_a_user, contact=contact)
    assert not Contact.objects.filter(pk=pk).exists()
    entries = AuditEntry.objects.filter(object_id=str(pk), content_type__model="contact")
    assert [e.action for e in entries.order_by("pk")] == ["create", "delete"]
    assert entries.get(action="delete").changes["email"] == ["t@alpha.test", None]


# -- territories --------------------------------------------------------------
def test_exclusive_territory_admits_no_second_holder(channel_manager, partner_a, partner_b, east):
    with pytest.raises(Conflict):
        services.assign_territory(actor=channel_manager, organisation=partner_b, territory=east)
    assert not partner_b.territory_assignments.exists()


def test_shared_territory_cannot_become_exclusive(channel_manager, partner_b):
    west = TerritoryFactory(code="cn-west")
    services.assign_territory(actor=channel_manager, organisation=partner_b, territory=west)
    other = OrganisationFactory()
    services.assign_territory(actor=channel_manager, organisation=other, territory=west)
    with pytest.raises(Conflict):
        services.assign_territory(
            actor=channel_manager, organisation=other, territory=west, exclusive=True
        )
    assert west.assignments.filter(exclusive=True).count() == 0


def test_assignment_is_idempotent_and_audited(channel_manager, partner_b):
    west = TerritoryFactory(code="cn-west")
    first = services.assign_territory(actor=channel_manager, organisation=partner_b, territory=west)
    again = services.assign_territory(actor=channel_manager, organisation=partner_b, territory=west)
    assert first.pk == again.pk
    assert [e.action for e in history(first)] == ["assign"]
    services.unassign_territory(actor=channel_manager, assignment=first)
    assert not partner_b.territory_assignments.exists()


def test_territory_tree_paths_and_moves(vendor_admin):
    root = services.create_territory(
        actor=vendor_admin, data={"code": "cn", "name": "中国", "level": "country"}
    )
    gd = services.create_territory(
        actor=vendor_admin,
        data={"code": "cn-gd", "name": "广东省", "level": "province", "parent": root},
    )
    gz = services.create_territory(
        actor=vendor_admin,
        data={"code": "cn-gd-gz", "name": "广州市", "level": "city", "parent": gd},
    )
    assert gz.depth == 2
    assert list(gz.ancestors()) == [root, gd]
    south = services.create_territory(
        actor=vendor_admin, data={"code": "south", "name": "South", "level": "region"}
    )
    services.update_territory(actor=vendor_admin, territory=gd, data={"parent": south})
    gz.refresh_from_db()
    assert gz.path == f"/{south.pk}/{gd.pk}/{gz.pk}/"
    assert set(Territory.objects.within([south])) == {south, gd, gz}
    with pytest.raises(ValidationError):
        services.update_territory(actor=vendor_admin, territory=south, data={"parent": gz})
    with pytest.raises(Conflict):
        services.delete_territory(actor=vendor_admin, territory=south)


def test_partner_cannot_create_territories(partner_a_user):
    with pytest.raises(PermissionDenied):
        services.create_territory(
            actor=partner_a_user, data={"code": "x", "name": "X", "level": "city"}
        )


# -- agreements ---------------------------------------------------------------
def test_agreement_with_targets_and_renewal_flag(channel_manager, partner_a):
    agreement = services.create_agreement(
        actor=channel_manager,
        organisation=partner_a,
        data={
            "reference": "AGR-1",
            "type": "distribution",
            "start_on": dt.date(2026, 1, 1),
            "end_on": dt.date(2027, 1, 1),
            "renewal_notice_days": 60,
        },
        targets=[
            {"metric": "revenue", "target": "500000", "unit": "USD", "period": "year"},
            {"metric": "certified_staff", "target": "2"},
        ],
    )
    services.transition_agreement(actor=channel_manager, agreement=agreement, status="active")
    agreement.refresh_from_db()
    assert agreement.targets.count() == 2
    assert not agreement.renewal_due(dt.date(2026, 11, 1))
    assert agreement.renewal_due(dt.date(2026, 11, 2))  # 60 days before 2027-01-01
    assert agreement.renewal_due(dt.date(2027, 2, 1))


def test_targets_replace_and_audit(channel_manager, partner_a):
    agreement = AgreementFactory(organisation=partner_a)
    services.update_agreement(
        actor=channel_manager,
        agreement=agreement,
        data={},
        targets=[{"metric": "revenue", "target": "10"}],
    )
    services.update_agreement(
        actor=channel_manager,
        agreement=agreement,
        data={},
        targets=[{"metric": "revenue", "target": "20"}],
    )
    entries = history(agreement)
    assert entries[-1].changes["targets"][0][0]["target"] == "10.0000"
    assert entries[-1].changes["targets"][1][0]["target"] == "20.0000"
    with pytest.raises(ValidationError):
        services.update_agreement(
            actor=channel_manager,
            agreement=agreement,
            data={},
            targets=[{"metric": "revenue", "target": "1"}, {"metric": "revenue", "target": "2"}],
        )


def test_agreement_dates_must_be_ordered(channel_manager, partner_a):
    with pytest.raises(ValidationError) as error:
        services.create_agreement(
            actor=channel_manager,
            organisation=partner_a,
            data={
                "reference": "AGR-BAD",
                "type": "nda",
                "start_on": dt.date(2026, 5, 1),
                "end_on": dt.date(2026, 4, 1),
            },
        )
    assert "end_on" in error.value.message_dict
    assert not Agreement.objects.filter(reference="AGR-BAD").exists()


def test_agreement_transitions(channel_manager, partner_a):
    agreement = AgreementFactory(organisation=partner_a, status="draft")
    with pytest.raises(InvalidTransition):
        services.transition_agreement(actor=channel_manager, agreement=agreement, status="expired")
    services.transition_agreement(actor=channel_manager, agreement=agreement, status="active")
    services.transition_agreement(actor=channel_manager, agreement=agreement, status="terminated")
    with pytest.raises(InvalidTransition):
        services.transition_agreement(actor=channel_manager, agreement=agreement, status="active")


def test_nul_characters_and_bad_tags_are_field_errors(channel_manager, partner_a):
    with pytest.raises(ValidationError) as error:
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={"city": "Nan\x00jing"}
        )
    assert "city" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={}, tags=["ok", "x" * 51]
        )
    assert "tags" in error.value.message_dict
    services.update_organisation(
        actor=channel_manager, organisation=partner_a, data={}, tags=["ok"]
    )
    services.create_organisation(
        actor=channel_manager, data={"name": "Other", "kind": "var"}, tags=["ok"]
    )
    assert partner_a.tags.get().name == "ok"


def test_nesting_is_refused_before_a_path_overflows(channel_manager):
    chain = [OrganisationFactory(name="Level 0")]
    with pytest.raises(ValidationError) as error:
        for depth in range(1, 150):
            chain.append(
                services.create_organisation(
                    actor=channel_manager,
                    data={"name": f"Level {depth}", "kind": "reseller", "parent": chain[-1]},
                )
            )
    assert "parent" in error.value.message_dict
    assert all(len(org.path) <= 255 for org in Organisation.objects.all())
    # Moving a deep subtree under another deep branch is refused the same way.
    other = [OrganisationFactory(name="Other 0")]
    for depth in range(1, 15):
        other.append(OrganisationFactory(name=f"Other {depth}", parent=other[-1]))
    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=channel_manager, organisation=chain[1], data={"parent": other[-1]}
        )
    chain[-1].refresh_from_db()
    assert chain[-1].path.startswith(f"/{chain[0].pk}/{chain[1].pk}/")
