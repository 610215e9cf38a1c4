"""The relationship pages over real HTTP on the real database: the list with its filters,
one relationship with every governance tab, the forms that change it; who sees and may do
what (partners their own relationship and side only, the POST refused server-side too), and
the pages in Chinese."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accord.governance.models import (
    CadenceTemplate,
    ContactSlot,
    HealthSurvey,
    KeyPerson,
    Meeting,
    Relationship,
    RoleAssignment,
    Tier,
)
from accord.governance.services import health as health_services
from accord.governance.services import issues as issue_services
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory, UserFactory
from tests.governance.builders import governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

ROLES = RoleAssignment.Role
TABS = [
    "structure",
    "contacts",
    "cadence",
    "meetings",
    "health",
    "issues",
    "continuity",
    "onboarding",
    "enablement",
]
SEPARATED = "one person may hold only one of the four roles"


def body(response: Any) -> str:
    return response.content.decode()


def page(pk: int, tab: str = "") -> str:
    return f"/governance/relationships/{pk}/" + (f"?tab={tab}" if tab else "")


def errors_for(text: str, field_id: str) -> str:
    """The error list rendered in the field block of the input ``field_id`` ("" if none)."""
    match = re.search(
        rf'<label for="{re.escape(field_id)}".*?</select>\s*(?:<p class="helptext".*?</p>\s*)?'
        r'(<ul class="errorlist".*?</ul>)?',
        text,
        re.S,
    )
    return (match.group(1) or "") if match else ""


def listed(text: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-relationship="(\d+)"', text)}


@pytest.fixture
def alpha(partner_a: Organisation) -> dict[str, Any]:
    return governed(partner_a)


@pytest.fixture
def bravo(partner_b: Organisation) -> dict[str, Any]:
    return governed(partner_b)


def roles_of(organisation: Organisation) -> dict[str, int]:
    return dict(
        RoleAssignment.objects.filter(organisation=organisation).values_list("role", "holder_id")
    )


def state(organisation: Organisation) -> tuple:
    """Everything a denied request must leave as it was."""
    return (
        roles_of(organisation),
        sorted(
            ContactSlot.objects.filter(organisation=organisation).values_list(
                "pk", "vendor_contact_id", "partner_contact_id"
            )
        ),
        sorted(KeyPerson.objects.filter(organisation=organisation).values_list("pk", "backup_id")),
        Meeting.objects.filter(organisation=organisation).count(),
        HealthSurvey.objects.filter(organisation=organisation).count(),
        list(
            Relationship.objects.filter(organisation=organisation).values_list(
                "health_frequency", "notes"
            )
        ),
    )


# -- who gets in -----------------------------------------------------------------------------
def test_anonymous_users_are_sent_to_log_in(login, alpha, partner_a):
    for url in ("/governance/relationships/", page(partner_a.pk)):
        response = login(None).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_vendor_staff(login, channel_manager, alpha, partner_a, tab):
    response = login(channel_manager).get(page(partner_a.pk, tab))
    assert response.status_code == 200
    text = body(response)
    assert "Alpha Distribution" in text
    assert f'data-tab="{tab}"' in text and 'aria-current="page"' in text


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_the_partner_on_its_own_relationship(
    login, partner_a_user, alpha, partner_a, tab
):
    response = login(partner_a_user).get(page(partner_a.pk, tab))
    assert response.status_code == 200
    assert "Alpha Distribution" in body(response)


@pytest.mark.parametrize("tab", TABS)
def test_a_tab_alone_for_htmx(login, channel_manager, alpha, partner_a, tab):
    response = login(channel_manager).get(
        page(partner_a.pk, tab), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="relationship-tabs"
    )
    assert response.status_code == 200
    text = body(response)
    assert "<html" not in text and 'class="tabs"' in text
    assert "HX-Target" in response["Vary"]


@pytest.mark.parametrize("tab", ["", *TABS])
def test_partner_b_gets_404_on_alphas_relationship(login, partner_b_user, alpha, partner_a, tab):
    client = login(partner_b_user)
    assert client.get(page(partner_a.pk, tab)).status_code == 404
    # And its own list never names Alpha.
    text = body(client.get("/governance/relationships/"))
    assert "Alpha Distribution" not in text


POSTS = [
    ("roles/", {ROLES.RELATIONSHIP: ""}),
    ("edit/", {"health_frequency": "quarterly", "started_on": "2026-01-01"}),
    ("slots/", {"slot-tier": "working", "slot-function": "general", "slot-partner_contact": ""}),
    ("key-people/", {"key-person": "1"}),
    ("cadence/apply/", {"cadence-months": "3"}),
    ("meetings/new/", {"meeting-title": "x"}),
    ("health/open/", {}),
    ("onboarding/new/", {}),
]


@pytest.mark.parametrize(("suffix", "data"), POSTS, ids=[p[0] for p in POSTS])
def test_partner_b_gets_404_posting_on_alphas_relationship(
    login, partner_b_user, alpha, partner_a, suffix, data
):
    before = state(partner_a)
    response = login(partner_b_user).post(page(partner_a.pk) + suffix, data)
    assert response.status_code == 404
    assert state(partner_a) == before


def test_partner_b_gets_404_on_alphas_slot_key_person_and_task(
    login, partner_b_user, alpha, partner_a
):
    client = login(partner_b_user)
    slot = alpha["slots"][Tier.WORKING]
    key = alpha["key_people"][0]
    before = state(partner_a)
    assert client.post(page(partner_a.pk) + f"slots/{slot.pk}/delete/").status_code == 404
    assert client.post(page(partner_a.pk) + f"key-people/{key.pk}/remove/").status_code == 404
    assert state(partner_a) == before


def test_the_vendor_itself_and_unknown_ids_are_404(login, channel_manager, vendor):
    client = login(channel_manager)
    assert client.get(page(vendor.pk)).status_code == 404
    assert client.get(page(10**17)).status_code == 404
    assert client.get("/governance/relationships/99999999999999999999/").status_code == 404


STAFF_ONLY = [
    ("roles/", lambda a: {ROLES.RELATIONSHIP: ""}),
    ("edit/", lambda a: {"health_frequency": "quarterly", "started_on": "2026-01-01"}),
    ("cadence/apply/", lambda a: {"cadence-months": "3"}),
    ("meetings/new/", lambda a: {"meeting-title": "Call", "meeting-tier": "working"}),
    ("health/open/", lambda a: {"survey-period": "2026-Q4"}),
    ("onboarding/new/", lambda a: {}),
    ("slots/{slot}/delete/", lambda a: {}),
    ("key-people/{key}/remove/", lambda a: {}),
]


@pytest.mark.parametrize(("suffix", "data"), STAFF_ONLY, ids=[p[0] for p in STAFF_ONLY])
def test_partner_posts_on_staff_only_actions_are_403(
    login, partner_a_user, alpha, partner_a, suffix, data
):
    before = state(partner_a)
    url = page(partner_a.pk) + suffix.format(
        slot=alpha["slots"][Tier.WORKING].pk, key=alpha["key_people"][0].pk
    )
    response = login(partner_a_user).post(url, data(alpha))
    assert response.status_code == 403
    assert state(partner_a) == before


def test_the_partner_sees_no_staff_forms(login, partner_a_user, alpha, partner_a):
    client = login(partner_a_user)
    structure = body(client.get(page(partner_a.pk, "structure")))
    assert 'id="roles-form"' not in structure and 'id="relationship-form"' not in structure
    assert "Dana Delivery" in structure  # the roles still show, read-only
    assert 'id="key-person-form"' in structure  # their own key people
    assert "Remove" not in structure
    assert 'id="cadence-form"' not in body(client.get(page(partner_a.pk, "cadence")))
    assert 'id="meeting-form"' not in body(client.get(page(partner_a.pk, "meetings")))
    assert 'id="survey-form"' not in body(client.get(page(partner_a.pk, "health")))
    assert 'id="onboarding-form"' not in body(client.get(page(partner_a.pk, "onboarding")))
    continuity = body(client.get(page(partner_a.pk, "continuity")))
    assert "/governance/handovers/new/" not in continuity
    issues = body(client.get(page(partner_a.pk, "issues")))
    assert f"/governance/issues/new/?organisation={partner_a.pk}" in issues


def test_staff_see_their_forms(login, channel_manager, alpha, partner_a):
    client = login(channel_manager)
    assert 'id="roles-form"' in body(client.get(page(partner_a.pk, "structure")))
    assert 'id="cadence-form"' in body(client.get(page(partner_a.pk, "cadence")))
    assert 'id="meeting-form"' in body(client.get(page(partner_a.pk, "meetings")))
    assert 'id="survey-form"' in body(client.get(page(partner_a.pk, "health")))
    assert 'id="onboarding-form"' in body(client.get(page(partner_a.pk, "onboarding")))
    continuity = body(client.get(page(partner_a.pk, "continuity")))
    person = alpha["roles"][ROLES.RELATIONSHIP]
    assert f"/governance/handovers/new/?from={person.pk}" in continuity


def test_an_analyst_reads_but_gets_no_forms_and_is_refused(login, analyst, alpha, partner_a):
    client = login(analyst)
    text = body(client.get(page(partner_a.pk, "structure")))
    assert "Dana Delivery" in text and 'id="roles-form"' not in text
    before = state(partner_a)
    assert client.post(page(partner_a.pk) + "roles/", {}).status_code == 403
    assert state(partner_a) == before


# -- the list --------------------------------------------------------------------------------
def test_the_list_shows_health_roles_issues_and_overdue_meetings(
    login, channel_manager, alpha, bravo, partner_a, partner_b
):
    Relationship.objects.filter(organisation=partner_a).update(
        health_score=Decimal("42.5"), misaligned=True
    )
    RoleAssignment.objects.filter(organisation=partner_b, role=ROLES.COMMERCIAL).delete()
    Meeting.objects.create(
        organisation=partner_b,
        title="Missed review",
        tier=Tier.OPERATIONAL,
        starts_at=timezone.now() - dt.timedelta(days=30),
    )
    issue_services.raise_issue(
        actor=channel_manager,
        organisation=partner_a,
        title="Late deliveries",
        category="delivery",
        severity="high",
    )
    text = body(login(channel_manager).get("/governance/relationships/"))
    assert listed(text) == {partner_a.pk, partner_b.pk}
    row_a = text.split(f'data-relationship="{partner_a.pk}"', 1)[1].split("</tr>", 1)[0]
    row_b = text.split(f'data-relationship="{partner_b.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "42.5" in row_a and "Misaligned" in row_a and "4/4" in row_a
    assert "roles-incomplete" not in row_a
    assert "3/4" in row_b and "roles-incomplete" in row_b
    assert re.search(r">1</a>", row_a)  # one open issue
    assert 'class="overdue"' in row_b


def test_the_list_for_a_partner_holds_its_own_relationship(
    login, partner_a_user, alpha, bravo, partner_a
):
    assert listed(body(login(partner_a_user).get("/governance/relationships/"))) == {partner_a.pk}


@pytest.fixture
def three(alpha, bravo, partner_a, partner_b, vendor) -> dict[str, Organisation]:
    """Alpha complete, Bravo missing a role, Charlie with one person (two cards of one
    account) in two roles."""
    RoleAssignment.objects.filter(organisation=partner_b, role=ROLES.TRANSFORMATION).delete()
    charlie = OrganisationFactory(name="Charlie Logistics", kind="logistics")
    governed(charlie)
    account = UserFactory(organisation=vendor, email="twice@vendor.test")
    first = vendor_person("Tess Twice", user=account)
    second = vendor_person("Tess Twice (second card)", user=account)
    RoleAssignment.objects.filter(organisation=charlie, role=ROLES.SERVICE_DELIVERY).update(
        holder=first
    )
    RoleAssignment.objects.filter(organisation=charlie, role=ROLES.COMMERCIAL).update(holder=second)
    return {"complete": partner_a, "incomplete": partner_b, "doubled": charlie}


def test_the_roles_filter_finds_incomplete_or_doubled(login, channel_manager, three):
    client = login(channel_manager)
    text = body(client.get("/governance/relationships/", {"roles": "incomplete_or_doubled"}))
    assert listed(text) == {three["incomplete"].pk, three["doubled"].pk}
    assert "one person in two roles" in text
    text = body(client.get("/governance/relationships/", {"roles": "complete"}))
    assert listed(text) == {three["complete"].pk}
    text = body(client.get("/governance/relationships/"))
    assert listed(text) == {org.pk for org in three.values()}


def test_the_other_filters(login, channel_manager, three):
    Relationship.objects.filter(organisation=three["complete"]).update(
        health_score=Decimal("80"), misaligned=False
    )
    Relationship.objects.filter(organisation=three["incomplete"]).update(
        health_score=Decimal("40"), misaligned=True
    )
    Meeting.objects.create(
        organisation=three["doubled"],
        title="Missed review",
        tier=Tier.OPERATIONAL,
        starts_at=timezone.now() - dt.timedelta(days=30),
    )
    client = login(channel_manager)

    def found(**params: Any) -> set[int]:
        return listed(body(client.get("/governance/relationships/", params)))

    assert found(misaligned="on") == {three["incomplete"].pk}
    assert found(health_below="50") == {three["incomplete"].pk}
    assert found(health_below="90") == {three["complete"].pk, three["incomplete"].pk}
    assert found(overdue="on") == {three["doubled"].pk}
    assert found(kind="logistics") == {three["doubled"].pk}
    assert found(q="alpha") == {three["complete"].pk}
    # Nonsense is ignored rather than a 500 or an empty list.
    assert found(health_below="abc", kind="vendor", roles="\x00") == {
        org.pk for org in three.values()
    }


def test_the_list_filters_for_htmx_return_the_rows(login, channel_manager, three):
    response = login(channel_manager).get(
        "/governance/relationships/",
        {"roles": "complete"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="relationship-results",
    )
    text = body(response)
    assert "<html" not in text and listed(text) == {three["complete"].pk}


def test_the_list_reads_a_fixed_number_of_queries(
    login, channel_manager, alpha, django_assert_max_num_queries
):
    for number in range(6):
        governed(OrganisationFactory(name=f"Extra {number}"))
    client = login(channel_manager)
    client.get("/governance/relationships/")
    with django_assert_max_num_queries(12):
        response = client.get("/governance/relationships/")
    assert len(listed(body(response))) == 7


# -- structure: the four separated roles -------------------------------------------------------
def test_staff_save_the_roles_and_may_swap_two(login, channel_manager, alpha, partner_a):
    roles = alpha["roles"]
    data = {role: roles[role].pk for role in ROLES.values}
    data[ROLES.COMMERCIAL], data[ROLES.RELATIONSHIP] = (
        roles[ROLES.RELATIONSHIP].pk,
        roles[ROLES.COMMERCIAL].pk,
    )
    response = login(channel_manager).post(page(partner_a.pk) + "roles/", data, follow=True)
    assert response.redirect_chain[-1][0] == page(partner_a.pk, "structure")
    assert "The separated roles were saved." in body(response)
    assert roles_of(partner_a)[ROLES.COMMERCIAL] == roles[ROLES.RELATIONSHIP].pk


def test_one_person_in_two_roles_is_a_field_error(login, channel_manager, alpha, partner_a):
    roles = alpha["roles"]
    before = state(partner_a)
    data = {role: roles[role].pk for role in ROLES.values}
    data[ROLES.COMMERCIAL] = roles[ROLES.RELATIONSHIP].pk
    response = login(channel_manager).post(page(partner_a.pk) + "roles/", data)
    assert response.status_code == 200
    text = body(response)
    errors = errors_for(text, f"id_{ROLES.COMMERCIAL}")
    assert SEPARATED in errors and "Rhea Relationship" in errors
    assert state(partner_a) == before
    # What was chosen stays chosen.
    assert re.search(
        rf'<option value="{roles[ROLES.RELATIONSHIP].pk}" selected>Rhea Relationship', text
    )


def test_a_role_given_to_someone_holding_another_is_a_field_error(
    login, channel_manager, alpha, partner_a
):
    """Only one role changes, to the holder of a role left as it is."""
    roles = alpha["roles"]
    data = {role: roles[role].pk for role in ROLES.values}
    data[ROLES.TRANSFORMATION] = roles[ROLES.SERVICE_DELIVERY].pk
    text = body(login(channel_manager).post(page(partner_a.pk) + "roles/", data))
    assert SEPARATED in errors_for(text, f"id_{ROLES.TRANSFORMATION}")


def test_a_partner_person_cannot_hold_a_role(login, channel_manager, alpha, partner_a):
    data = {role: alpha["roles"][role].pk for role in ROLES.values}
    data[ROLES.COMMERCIAL] = alpha["partner"][0].pk
    text = body(login(channel_manager).post(page(partner_a.pk) + "roles/", data))
    assert "Select a valid choice" in errors_for(text, f"id_{ROLES.COMMERCIAL}")


def test_the_structure_tab_names_the_gaps(login, channel_manager, alpha, partner_a):
    RoleAssignment.objects.filter(organisation=partner_a, role=ROLES.COMMERCIAL).delete()
    holder = alpha["roles"][ROLES.TRANSFORMATION]
    holder.active = False
    holder.save()
    text = body(login(channel_manager).get(page(partner_a.pk)))
    gaps = text.split('id="role-gaps"', 1)[1].split("</div>", 1)[0]
    assert "Nobody holds: Commercial management." in gaps
    assert "Held by someone who left: Transformation management." in gaps


def test_a_partner_without_governance_yet_shows_defaults_and_the_first_write_creates_it(
    login, channel_manager, partner_b
):
    # A partner made in bulk (no post_save) has no record until the worker's sweep.
    Relationship.objects.filter(organisation=partner_b).delete()
    client = login(channel_manager)
    text = body(client.get(page(partner_b.pk)))
    assert 'id="not-set-up"' in text
    assert not Relationship.objects.filter(organisation=partner_b).exists()
    person = vendor_person("Nina New")
    response = client.post(page(partner_b.pk) + "roles/", {ROLES.RELATIONSHIP: person.pk})
    assert response.status_code == 302
    assert Relationship.objects.filter(organisation=partner_b).exists()
    assert roles_of(partner_b) == {ROLES.RELATIONSHIP: person.pk}


def test_staff_change_the_relationship_settings(login, channel_manager, alpha, partner_a):
    client = login(channel_manager)
    response = client.post(
        page(partner_a.pk) + "edit/",
        {"health_frequency": "quarterly", "started_on": "2025-04-01", "notes": "Key account"},
    )
    assert response.status_code == 302
    relationship = Relationship.objects.get(organisation=partner_a)
    assert (relationship.health_frequency, relationship.started_on, relationship.notes) == (
        "quarterly",
        dt.date(2025, 4, 1),
        "Key account",
    )
    text = body(client.post(page(partner_a.pk) + "edit/", {"health_frequency": "daily"}))
    assert "Select a valid choice" in text and "This field is required." in text


# -- key people --------------------------------------------------------------------------------
def test_the_partner_adds_a_key_person_of_its_own_side(login, partner_a_user, alpha, partner_a):
    person = partner_person(partner_a, "Kim Key")
    backup = alpha["partner"][0]
    response = login(partner_a_user).post(
        page(partner_a.pk) + "key-people/",
        {"key-person": person.pk, "key-backup": backup.pk, "key-responsibility": "Logistics"},
    )
    assert response.status_code == 302
    row = KeyPerson.objects.get(organisation=partner_a, person=person)
    assert (row.backup_id, row.responsibility) == (backup.pk, "Logistics")


def test_the_partner_cannot_name_a_vendor_key_person(login, partner_a_user, alpha, partner_a):
    before = state(partner_a)
    vendor_side = alpha["vendor"][-1]
    text = body(
        login(partner_a_user).post(
            page(partner_a.pk) + "key-people/", {"key-person": vendor_side.pk}
        )
    )
    assert "Select a valid choice" in errors_for(text, "id_key-person")
    assert state(partner_a) == before


def test_a_backup_of_the_other_side_is_a_field_error(login, channel_manager, alpha, partner_a):
    person = partner_person(partner_a, "Kim Key")
    text = body(
        login(channel_manager).post(
            page(partner_a.pk) + "key-people/",
            {"key-person": person.pk, "key-backup": alpha["vendor"][-1].pk},
        )
    )
    assert "Choose a person of Alpha Distribution" in errors_for(text, "id_key-backup")


def test_staff_remove_a_key_person(login, channel_manager, alpha, partner_a):
    key = alpha["key_people"][0]
    response = login(channel_manager).post(
        page(partner_a.pk) + f"key-people/{key.pk}/remove/", {"back": "continuity"}
    )
    assert response["Location"] == page(partner_a.pk, "continuity")
    assert not KeyPerson.objects.filter(pk=key.pk).exists()


# -- the contact map ---------------------------------------------------------------------------
def test_the_contact_map_grid(login, channel_manager, alpha, partner_a):
    text = body(login(channel_manager).get(page(partner_a.pk, "contacts")))
    cell = text.split('data-slot="operational:general"', 1)[1].split("</td>", 1)[0]
    assert "Rhea Relationship" in cell and "Oscar Operations" in cell
    assert 'id="slot-form"' in text and 'name="slot-vendor_contact"' in text


def test_staff_set_a_new_pair(login, channel_manager, alpha, partner_a):
    vendor_side = vendor_person("Sam Sales")
    partner_side = partner_person(partner_a, "Pia Purchasing")
    response = login(channel_manager).post(
        page(partner_a.pk) + "slots/",
        {
            "slot-tier": "working",
            "slot-function": "sales",
            "slot-vendor_contact": vendor_side.pk,
            "slot-partner_contact": partner_side.pk,
        },
        follow=True,
    )
    slot = ContactSlot.objects.get(organisation=partner_a, tier="working", function="sales")
    assert (slot.vendor_contact_id, slot.partner_contact_id) == (vendor_side.pk, partner_side.pk)
    text = body(response)
    assert 'data-function="sales"' in text and "Pia Purchasing" in text


def test_the_partner_fills_its_side_of_a_pair(login, partner_a_user, alpha, partner_a):
    client = login(partner_a_user)
    form = body(client.get(page(partner_a.pk, "contacts") + "&tier=executive&function=general"))
    assert 'name="slot-vendor_contact"' not in form and 'name="slot-partner_contact"' in form
    newcomer = partner_person(partner_a, "Nora Newcomer")
    response = client.post(
        page(partner_a.pk) + "slots/",
        {"slot-tier": "executive", "slot-function": "general", "slot-partner_contact": newcomer.pk},
    )
    assert response.status_code == 302
    slot = alpha["slots"][Tier.EXECUTIVE]
    slot.refresh_from_db()
    assert slot.partner_contact_id == newcomer.pk
    assert slot.vendor_contact_id == alpha["vendor"][-1].pk


def test_the_partner_may_not_touch_the_vendor_side(login, partner_a_user, alpha, partner_a):
    before = state(partner_a)
    response = login(partner_a_user).post(
        page(partner_a.pk) + "slots/",
        {
            "slot-tier": "executive",
            "slot-function": "general",
            "slot-vendor_contact": alpha["vendor"][0].pk,
            "slot-partner_contact": alpha["partner"][0].pk,
        },
    )
    assert response.status_code == 403
    assert state(partner_a) == before


def test_the_partner_does_not_lay_out_new_pairs(login, partner_a_user, alpha, partner_a):
    client = login(partner_a_user)
    text = body(client.get(page(partner_a.pk, "contacts") + "&tier=working&function=finance"))
    assert 'id="slot-form"' not in text
    before = state(partner_a)
    response = client.post(
        page(partner_a.pk) + "slots/",
        {"slot-tier": "working", "slot-function": "finance", "slot-partner_contact": ""},
    )
    assert response.status_code == 403
    assert state(partner_a) == before


def test_a_person_of_another_partner_is_a_field_error(
    login, channel_manager, alpha, bravo, partner_a
):
    text = body(
        login(channel_manager).post(
            page(partner_a.pk) + "slots/",
            {
                "slot-tier": "working",
                "slot-function": "general",
                "slot-partner_contact": bravo["partner"][0].pk,
            },
        )
    )
    assert "Select a valid choice" in errors_for(text, "id_slot-partner_contact")


def test_staff_remove_a_pair(login, channel_manager, alpha, partner_a):
    slot = alpha["slots"][Tier.WORKING]
    response = login(channel_manager).post(page(partner_a.pk) + f"slots/{slot.pk}/delete/")
    assert response.status_code == 302
    assert not ContactSlot.objects.filter(pk=slot.pk).exists()


# -- cadence and meetings ----------------------------------------------------------------------
@pytest.fixture
def monthly(db: None) -> CadenceTemplate:
    return CadenceTemplate.objects.create(
        name="Monthly operations review",
        name_zh="月度运营回顾",
        tier=Tier.OPERATIONAL,
        frequency="monthly",
    )


def test_staff_apply_the_cadences_and_see_the_calendar(
    login, channel_manager, alpha, partner_a, monthly
):
    client = login(channel_manager)
    text = body(client.get(page(partner_a.pk, "cadence")))
    assert "Monthly operations review" in text.split('id="cadence-list"', 1)[1]
    start = timezone.localdate() - dt.timedelta(days=70)
    response = client.post(
        page(partner_a.pk) + "cadence/apply/",
        {"cadence-start": start.isoformat(), "cadence-months": "4"},
        follow=True,
    )
    text = body(response)
    assert "meetings were planned from the cadence templates" in text
    planned = Meeting.objects.filter(organisation=partner_a, cadence=monthly)
    assert planned.count() == 4
    calendar = text.split('id="cadence-calendar"', 1)[1]
    assert calendar.count("/governance/meetings/") == 4
    # The meetings of two months ago are past their grace days: overdue.
    assert calendar.count("overdue-flag") == 2
    again = client.post(
        page(partner_a.pk) + "cadence/apply/",
        {"cadence-start": start.isoformat(), "cadence-months": "4"},
        follow=True,
    )
    assert "Nothing new to plan" in body(again)
    assert planned.count() == 4


def test_apply_with_a_bad_number_of_months_is_a_field_error(
    login, channel_manager, alpha, partner_a
):
    text = body(
        login(channel_manager).post(page(partner_a.pk) + "cadence/apply/", {"cadence-months": "99"})
    )
    assert "Ensure this value is less than or equal to 36." in text


def test_staff_plan_a_meeting_and_the_meetings_tab_lists_it(
    login, channel_manager, alpha, partner_a
):
    client = login(channel_manager)
    attendees = [alpha["partner"][0].pk, alpha["roles"][ROLES.RELATIONSHIP].pk]
    response = client.post(
        page(partner_a.pk) + "meetings/new/",
        {
            "meeting-title": "Kick-off",
            "meeting-tier": "executive",
            "meeting-starts_at": "2030-05-06T10:00",
            "meeting-duration_minutes": "90",
            "meeting-attendees": attendees,
        },
        follow=True,
    )
    text = body(response)
    meeting = Meeting.objects.get(organisation=partner_a, title="Kick-off")
    assert sorted(meeting.attendees.values_list("pk", flat=True)) == sorted(attendees)
    planned = text.split('id="planned-meetings"', 1)[1].split("</section>", 1)[0]
    assert f"/governance/meetings/{meeting.pk}/" in planned


def test_a_meeting_without_title_or_time_shows_field_errors(
    login, channel_manager, alpha, partner_a
):
    text = body(
        login(channel_manager).post(page(partner_a.pk) + "meetings/new/", {"meeting-tier": "x"})
    )
    assert text.count("This field is required.") >= 2
    assert not Meeting.objects.filter(organisation=partner_a).exists()


# -- health ----------------------------------------------------------------------------------------
def _closed_survey(actor: Any, organisation: Organisation, vendor: int, partner: int) -> Any:
    survey, invitations = health_services.open_survey(
        actor=actor, organisation=organisation, period="2026"
    )
    for response, token in invitations:
        score = vendor if response.side == "vendor" else partner
        health_services.answer(
            token=token,
            data={
                "communication": score,
                "satisfaction": score,
                "trust": score,
                "compatibility": 4,
                "goal_alignment": 4,
                "nps": 8,
            },
        )
    return health_services.close_survey(actor=actor, survey=survey)


def test_the_health_tab_compares_the_two_sides(login, channel_manager, alpha, partner_a):
    _closed_survey(channel_manager, partner_a, vendor=5, partner=2)
    response = login(channel_manager).get(page(partner_a.pk, "health"))
    text = body(response)
    assert (
        "plotly" in response["Content-Security-Policy"]
        or "sha256-" in response["Content-Security-Policy"]
    )
    assert 'id="kpi-chart-data"' in text and 'data-chart="0"' in text
    assert 'id="misaligned-flag"' in text
    reason = text.split('id="misalignment-reason"', 1)[1].split("</div>", 1)[0]
    assert "Trust" in reason and "threshold" in reason
    trust = text.split('data-dimension="trust"', 1)[1].split("</tr>", 1)[0]
    assert "5.00" in trust and "2.00" in trust and "3.00" in trust
    compatibility = text.split('data-dimension="compatibility"', 1)[1].split("</tr>", 1)[0]
    assert "beyond the threshold" not in compatibility


def test_the_partner_sees_the_comparison_of_its_relationship(
    login, channel_manager, partner_a_user, alpha, partner_a
):
    _closed_survey(channel_manager, partner_a, vendor=4, partner=4)
    text = body(login(partner_a_user).get(page(partner_a.pk, "health")))
    assert 'id="comparison"' in text and 'id="misaligned-flag"' not in text


def test_staff_open_a_health_check(login, channel_manager, alpha, partner_a, mailoutbox):
    response = login(channel_manager).post(
        page(partner_a.pk) + "health/open/", {"survey-period": "2026-Q2"}, follow=True
    )
    text = body(response)
    assert "The health check 2026-Q2 is open" in text
    assert HealthSurvey.objects.filter(organisation=partner_a, period="2026-Q2").exists()
    assert "2026-Q2" in text.split('id="open-surveys"', 1)[1]


def test_opening_a_health_check_without_people_on_both_sides_is_an_error(
    login, channel_manager, partner_b
):
    text = body(login(channel_manager).post(page(partner_b.pk) + "health/open/", {}))
    assert 'class="errorlist' in text
    assert not HealthSurvey.objects.filter(organisation=partner_b).exists()


# -- issues --------------------------------------------------------------------------------
def test_the_issues_tab_with_tier_and_sla_state(login, channel_manager, alpha, partner_a):
    long_ago = timezone.now() - dt.timedelta(days=10)
    late = issue_services.raise_issue(
        actor=channel_manager,
        organisation=partner_a,
        title="Late deliveries",
        category="delivery",
        severity="critical",
        now=long_ago,
    )
    fresh = issue_services.raise_issue(
        actor=channel_manager,
        organisation=partner_a,
        title="Wrong invoice",
        category="commercial",
        severity="low",
    )
    text = body(login(channel_manager).get(page(partner_a.pk, "issues")))
    open_part = text.split('id="open-issues"', 1)[1].split("</section>", 1)[0]
    late_row = open_part.split(f'data-issue="{late.pk}"', 1)[1].split("</tr>", 1)[0]
    fresh_row = open_part.split(f'data-issue="{fresh.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-sla="resolution_overdue"' in open_part
    assert "Resolution overdue" in late_row and "Working level" in late_row
    assert "left to resolve" in fresh_row
    assert f"/governance/issues/{late.pk}/" in late_row
    assert f"/governance/issues/new/?organisation={partner_a.pk}" in text


# -- the organisation page's link ------------------------------------------------------------------
def test_the_organisation_page_links_to_its_governance(
    login, channel_manager, partner_a_user, partner_a_viewer, alpha, partner_a, vendor
):
    link = f'href="/governance/relationships/{partner_a.pk}/" id="governance-link"'
    assert link in body(login(channel_manager).get(f"/organisations/{partner_a.pk}/"))
    assert link in body(login(partner_a_user).get(f"/organisations/{partner_a.pk}/"))
    assert 'id="governance-link"' not in body(
        login(channel_manager).get(f"/organisations/{vendor.pk}/")
    )


# -- Chinese -------------------------------------------------------------------------------
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_in_chinese(
    login, channel_manager, partner_a_user, alpha, partner_a, monthly, tab
):
    issue_services.raise_issue(
        actor=channel_manager, organisation=partner_a, title="x", category="other", severity="low"
    )
    for user in (channel_manager, partner_a_user):
        client = login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        response = client.get(page(partner_a.pk, tab))
        assert response.status_code == 200
        assert 'lang="zh-hans"' in body(response)


def test_the_list_renders_in_chinese_by_accept_language(login, channel_manager, three):
    response = login(channel_manager).get(
        "/governance/relationships/",
        {"roles": "incomplete_or_doubled"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert 'lang="zh-hans"' in body(response)


def test_cadence_names_show_in_chinese(login, channel_manager, alpha, partner_a, monthly):
    client = login(channel_manager)
    client.post(page(partner_a.pk) + "cadence/apply/", {"cadence-months": "2"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    text = body(client.get(page(partner_a.pk, "cadence")))
    assert "月度运营回顾" in text
