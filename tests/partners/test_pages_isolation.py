"""Every organisation, contact, agreement and territory page against every kind of user.

anonymous -> sent to log in; another organisation -> 404; read-only -> 403 on writes;
editor -> works; vendor staff -> sees and does everything. Denied writes change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from accord.core.models import AuditEntry
from accord.partners.models import (
    Agreement,
    Contact,
    Organisation,
    Territory,
    TerritoryAssignment,
)
from tests.factories import AgreementFactory, ContactFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


ROLES = ("anonymous", "other", "viewer", "analyst", "editor", "channel", "staff")
LOGIN = "login"
OK = "ok"


@dataclass
class World:
    partner_a: Organisation
    partner_b: Organisation
    contact: Contact
    agreement: Agreement
    assignment: TerritoryAssignment
    east: Territory
    west: Territory
    leaf: Territory
    users: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(
    partner_a,
    partner_b,
    east,
    partner_b_user,
    partner_a_viewer,
    analyst,
    partner_a_user,
    channel_manager,
    vendor_admin,
) -> World:
    return World(
        partner_a=partner_a,
        partner_b=partner_b,
        contact=ContactFactory(organisation=partner_a, full_name="Ann Alpha"),
        agreement=AgreementFactory(organisation=partner_a, reference="AGR-A-1"),
        assignment=TerritoryAssignment.objects.get(organisation=partner_a, territory=east),
        east=east,
        west=TerritoryFactory(code="cn-west", name="China West"),
        leaf=TerritoryFactory(code="cn-east-leaf", name="Leaf", parent=east),
        users={
            "anonymous": None,
            "other": partner_b_user,
            "viewer": partner_a_viewer,
            "analyst": analyst,
            "editor": partner_a_user,
            "channel": channel_manager,
            "staff": vendor_admin,
        },
    )


def db_state() -> tuple[Any, ...]:
    """Everything a page could write: the audit log and the rows themselves."""
    return (
        AuditEntry.objects.count(),
        list(Organisation.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(Agreement.objects.order_by("pk").values()),
        list(TerritoryAssignment.objects.order_by("pk").values()),
        list(Territory.objects.order_by("pk").values()),
    )


@dataclass
class Page:
    name: str
    url: Callable[[World], str]
    expect: dict[str, Any]
    data: Callable[[World], dict[str, Any]] | None = None  # POST when given

    @property
    def method(self) -> str:
        return "post" if self.data is not None else "get"


def expect(**outcomes: Any) -> dict[str, Any]:
    """Outcome per role; anonymous is always sent to log in."""
    assert set(outcomes) == set(ROLES) - {"anonymous"}, outcomes
    return {"anonymous": LOGIN, **outcomes}


READ_ALL = expect(other=OK, viewer=OK, analyst=OK, editor=OK, channel=OK, staff=OK)
READ_A = expect(other=404, viewer=OK, analyst=OK, editor=OK, channel=OK, staff=OK)
EDIT_ORGANISATION = expect(other=404, viewer=403, analyst=403, editor=OK, channel=OK, staff=OK)
VENDOR_EDIT_ON_A = expect(other=404, viewer=403, analyst=403, editor=403, channel=OK, staff=OK)
CREATE_ORGANISATION = expect(other=403, viewer=403, analyst=403, editor=403, channel=OK, staff=OK)
TERRITORY_EDIT_EAST = expect(other=404, viewer=403, analyst=403, editor=403, channel=403, staff=OK)
TERRITORY_EDIT_LEAF = expect(other=404, viewer=404, analyst=403, editor=404, channel=403, staff=OK)
TERRITORY_CREATE = expect(other=403, viewer=403, analyst=403, editor=403, channel=403, staff=OK)


def organisation_data(w: World) -> dict[str, Any]:
    return {
        "name": "Alpha Renamed",
        "kind": "distributor",
        "currency": "CNY",
        "country": "CN",
        "tags": "gold, east",
    }


def agreement_data(w: World) -> dict[str, Any]:
    return {
        "reference": "AGR-NEW-1",
        "type": "reseller",
        "start_on": "2026-01-01",
        "end_on": "2027-01-01",
        "renewal_notice_days": "30",
        "pricing_tier": "Gold",
        "terms": "Net 30",
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "50",
        "targets-0-metric": "revenue",
        "targets-0-comparator": ">=",
        "targets-0-target": "100000",
        "targets-0-unit": "USD",
        "targets-0-period": "year",
    }


def agreement_edit_data(w: World) -> dict[str, Any]:
    return {**agreement_data(w), "reference": w.agreement.reference}


PAGES = [
    # reads
    Page("organisation list", lambda w: "/organisations/", READ_ALL),
    Page("organisation detail", lambda w: f"/organisations/{w.partner_a.pk}/", READ_A),
    *[
        Page(
            f"organisation tab {tab}",
            lambda w, tab=tab: f"/organisations/{w.partner_a.pk}/?tab={tab}",
            READ_A,
        )
        for tab in ("contacts", "territories", "agreements", "history")
    ],
    Page("agreement detail", lambda w: f"/agreements/{w.agreement.pk}/", READ_A),
    Page("territory tree", lambda w: "/territories/", READ_ALL),
    # organisations
    Page("organisation create form", lambda w: "/organisations/new/", CREATE_ORGANISATION),
    Page(
        "organisation create",
        lambda w: "/organisations/new/",
        CREATE_ORGANISATION,
        data=organisation_data,
    ),
    Page(
        "organisation edit form",
        lambda w: f"/organisations/{w.partner_a.pk}/edit/",
        EDIT_ORGANISATION,
    ),
    Page(
        "organisation edit",
        lambda w: f"/organisations/{w.partner_a.pk}/edit/",
        EDIT_ORGANISATION,
        data=organisation_data,
    ),
    Page(
        "organisation transition",
        lambda w: f"/organisations/{w.partner_a.pk}/transition/",
        VENDOR_EDIT_ON_A,
        data=lambda w: {"status": "suspended", "reason": "audit"},
    ),
    # contacts
    Page(
        "contact create form",
        lambda w: f"/organisations/{w.partner_a.pk}/contacts/new/",
        EDIT_ORGANISATION,
    ),
    Page(
        "contact create",
        lambda w: f"/organisations/{w.partner_a.pk}/contacts/new/",
        EDIT_ORGANISATION,
        data=lambda w: {"full_name": "New Person", "email": "n@a.test"},
    ),
    Page("contact edit form", lambda w: f"/contacts/{w.contact.pk}/edit/", EDIT_ORGANISATION),
    Page(
        "contact edit",
        lambda w: f"/contacts/{w.contact.pk}/edit/",
        EDIT_ORGANISATION,
        data=lambda w: {"full_name": "Ann Renamed", "is_primary": "on"},
    ),
    Page(
        "contact delete confirm", lambda w: f"/contacts/{w.contact.pk}/delete/", EDIT_ORGANISATION
    ),
    Page(
        "contact delete",
        lambda w: f"/contacts/{w.contact.pk}/delete/",
        EDIT_ORGANISATION,
        data=lambda w: {},
    ),
    # agreements
    Page(
        "agreement create form",
        lambda w: f"/organisations/{w.partner_a.pk}/agreements/new/",
        VENDOR_EDIT_ON_A,
    ),
    Page(
        "agreement create",
        lambda w: f"/organisations/{w.partner_a.pk}/agreements/new/",
        VENDOR_EDIT_ON_A,
        data=agreement_data,
    ),
    Page("agreement edit form", lambda w: f"/agreements/{w.agreement.pk}/edit/", VENDOR_EDIT_ON_A),
    Page(
        "agreement edit",
        lambda w: f"/agreements/{w.agreement.pk}/edit/",
        VENDOR_EDIT_ON_A,
        data=agreement_edit_data,
    ),
    Page(
        "agreement transition",
        lambda w: f"/agreements/{w.agreement.pk}/transition/",
        VENDOR_EDIT_ON_A,
        data=lambda w: {"status": "expired"},
    ),
    # territory assignments
    Page(
        "assignment form",
        lambda w: f"/organisations/{w.partner_a.pk}/territories/add/",
        VENDOR_EDIT_ON_A,
    ),
    Page(
        "assignment create",
        lambda w: f"/organisations/{w.partner_a.pk}/territories/add/",
        VENDOR_EDIT_ON_A,
        data=lambda w: {"territory": w.west.pk},
    ),
    Page(
        "assignment remove confirm",
        lambda w: f"/territory-assignments/{w.assignment.pk}/remove/",
        VENDOR_EDIT_ON_A,
    ),
    Page(
        "assignment remove",
        lambda w: f"/territory-assignments/{w.assignment.pk}/remove/",
        VENDOR_EDIT_ON_A,
        data=lambda w: {},
    ),
    # territories
    Page("territory create form", lambda w: "/territories/new/", TERRITORY_CREATE),
    Page(
        "territory create",
        lambda w: "/territories/new/",
        TERRITORY_CREATE,
        data=lambda w: {
            "code": "cn-north",
            "name": "China North",
            "level": "region",
            "parent": w.east.parent_id,
        },
    ),
    Page("territory edit form", lambda w: f"/territories/{w.east.pk}/edit/", TERRITORY_EDIT_EAST),
    Page(
        "territory edit",
        lambda w: f"/territories/{w.east.pk}/edit/",
        TERRITORY_EDIT_EAST,
        data=lambda w: {
            "code": "cn-east",
            "name": "East China",
            "level": "region",
            "parent": w.east.parent_id,
        },
    ),
    Page(
        "territory delete confirm",
        lambda w: f"/territories/{w.leaf.pk}/delete/",
        TERRITORY_EDIT_LEAF,
    ),
    Page(
        "territory delete",
        lambda w: f"/territories/{w.leaf.pk}/delete/",
        TERRITORY_EDIT_LEAF,
        data=lambda w: {},
    ),
]

CASES = [(page, role) for page in PAGES for role in ROLES]


@pytest.mark.parametrize(
    ("page", "role"), CASES, ids=[f"{page.name}-{role}" for page, role in CASES]
)
def test_page_isolation(page: Page, role: str, world: World, login) -> None:
    client = login(world.users[role])
    url = page.url(world)
    outcome = page.expect[role]
    before = db_state()
    response = client.post(url, page.data(world)) if page.method == "post" else client.get(url)

    if outcome == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif outcome == OK:
        if page.method == "post":
            assert response.status_code == 302, response.content.decode()[:3000]
            assert db_state() != before, "the write changed nothing"
        else:
            assert response.status_code == 200
    else:
        assert response.status_code == outcome
    if outcome != OK:
        assert db_state() == before, "a refused request changed data"
        if isinstance(outcome, int):
            # The friendly error page, never a stack trace or the object itself.
            body = response.content.decode()
            assert "Alpha Distribution" not in body or role != "other"


def test_matrix_covers_every_partners_url() -> None:
    """A new page must be added to the matrix above."""
    from accord.partners import urls

    covered = {
        "home",
        "organisation_list",
        "organisation_detail",
        "agreement_detail",
        "territory_list",
        "organisation_create",
        "organisation_edit",
        "organisation_transition",
        "contact_create",
        "contact_edit",
        "contact_delete",
        "agreement_create",
        "agreement_edit",
        "agreement_transition",
        "assignment_create",
        "assignment_delete",
        "territory_create",
        "territory_edit",
        "territory_delete",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == covered


def test_partner_sees_own_organisation_and_children_only(
    login, partner_a_user, partner_a, partner_a_child, partner_b, vendor
) -> None:
    body = login(partner_a_user).get("/organisations/").content.decode()
    assert "Alpha Distribution" in body
    assert "Alpha Retail Shanghai" in body
    assert "Bravo Resellers" not in body
    assert vendor.name not in body
    assert login(partner_a_user).get(f"/organisations/{partner_a_child.pk}/").status_code == 200
    assert login(partner_a_user).get(f"/organisations/{vendor.pk}/").status_code == 404


def test_vendor_staff_sees_every_organisation(
    login, vendor_admin, partner_a, partner_a_child, partner_b
) -> None:
    body = login(vendor_admin).get("/organisations/").content.decode()
    for name in ("Alpha Distribution", "Alpha Retail Shanghai", "Bravo Resellers"):
        assert name in body


def test_regional_coordinator_sees_their_territories_only(
    login, regional_coordinator, partner_a, partner_b
) -> None:
    client = login(regional_coordinator)
    body = client.get("/organisations/").content.decode()
    assert "Alpha Distribution" in body
    assert "Bravo Resellers" not in body
    assert client.get(f"/organisations/{partner_b.pk}/").status_code == 404


def test_territory_tree_shows_only_visible_territories(
    login, partner_b_user, partner_a_user, partner_a, partner_b, east
) -> None:
    TerritoryFactory(code="de", name="Germany")
    body_b = login(partner_b_user).get("/territories/").content.decode()
    assert "China East" not in body_b
    assert "Alpha Distribution" not in body_b
    body_a = login(partner_a_user).get("/territories/").content.decode()
    assert "China East" in body_a
    assert "Germany" not in body_a


def test_history_shows_only_own_organisation_entries(
    login, partner_a_user, partner_a, partner_b, vendor_admin
) -> None:
    from accord.partners import services

    services.update_organisation(
        actor=vendor_admin, organisation=partner_b, data={"phone": "+49 30 999"}
    )
    services.update_organisation(
        actor=vendor_admin, organisation=partner_a, data={"phone": "+86 21 111"}
    )
    body = login(partner_a_user).get(f"/organisations/{partner_a.pk}/?tab=history").content.decode()
    assert "+86 21 111" in body
    assert "+49 30 999" not in body


def test_partner_never_sees_the_name_of_a_hidden_parent(login, vendor_admin) -> None:
    from accord.partners.services import create_organisation
    from tests.conftest import _user

    distributor = create_organisation(
        actor=None, data={"name": "Hidden Distributor Co", "kind": "distributor"}
    )
    reseller = create_organisation(
        actor=None, data={"name": "Visible Reseller", "kind": "reseller", "parent": distributor}
    )
    user = _user(reseller, "staff@reseller.test", "partner_admin")
    client = login(user)
    for path in (
        "/organisations/",
        f"/organisations/{reseller.pk}/",
        f"/organisations/{reseller.pk}/edit/",
    ):
        body = client.get(path).content.decode()
        assert "Visible Reseller" in body
        assert "Hidden Distributor Co" not in body, path
    assert client.get(f"/organisations/{distributor.pk}/").status_code == 404
    # Vendor staff see the parent.
    assert (
        "Hidden Distributor Co"
        in login(vendor_admin).get(f"/organisations/{reseller.pk}/").content.decode()
    )


def test_partner_below_a_hidden_parent_can_still_edit(login) -> None:
    from accord.partners.services import create_organisation
    from tests.conftest import _user

    distributor = create_organisation(
        actor=None, data={"name": "Hidden Distributor Co", "kind": "distributor"}
    )
    reseller = create_organisation(
        actor=None, data={"name": "Visible Reseller", "kind": "reseller", "parent": distributor}
    )
    client = login(_user(reseller, "staff@reseller.test", "partner_admin"))
    response = client.post(
        f"/organisations/{reseller.pk}/edit/",
        {"name": "Visible Reseller Ltd", "kind": "reseller", "currency": "USD"},
    )
    assert response.status_code == 302, response.context["form"].errors
    reseller.refresh_from_db()
    assert (reseller.name, reseller.parent) == ("Visible Reseller Ltd", distributor)
