"""Isolation matrix for EVERY API endpoint: anonymous, other organisation, read-only,
editor and vendor staff (STYLE.md). Every denied write asserts nothing changed anywhere.

The objects under test belong to partner A. "Other organisation" is partner B's
administrator, "read-only" partner A's viewer (or, where a partner viewer cannot see the
object at all, a read-only vendor analyst), "editor" someone whose role allows the call,
"staff" vendor staff, who see every organisation.

Ids in a request *path* that the caller cannot see answer 404; ids in a request *body*
that the caller cannot see answer 422 with a field error (as for ids that do not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from accord.accounts.services import create_api_token
from accord.partners import services
from accord.partners.models import Contact, Organisation, TerritoryAssignment
from tests.apitools import call, fingerprint
from tests.factories import AgreementFactory, ContactFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
ACTORS = ("anonymous", "other", "readonly", "editor", "staff")


@pytest.fixture
def world(
    vendor,
    east,
    partner_a,
    partner_a_child,
    partner_b,
    partner_a_user,
    partner_a_viewer,
    partner_b_user,
    channel_manager,
    vendor_admin,
    analyst,
) -> dict[str, Any]:
    west = TerritoryFactory(code="de-west", name="West Germany")
    b_assignment = TerritoryAssignment.objects.create(organisation=partner_b, territory=west)
    a_staff = UserFactory(organisation=partner_a, email="staff@alpha.test", roles=["partner_sales"])
    b_staff = UserFactory(organisation=partner_b, email="staff@bravo.test", roles=["partner_sales"])
    a_token, _ = create_api_token(actor=None, user=a_staff, name="a staff token")
    b_token, _ = create_api_token(actor=None, user=b_staff, name="b staff token")
    # Audit entries on both sides.
    services.update_organisation(actor=None, organisation=partner_a, data={"city": "Shanghai"})
    services.update_organisation(actor=None, organisation=partner_b, data={"city": "Köln"})
    return {
        "a": partner_a.pk,
        "a_child": partner_a_child.pk,
        "b": partner_b.pk,
        "east": east.pk,
        "west": west.pk,
        "leaf": TerritoryFactory(code="leaf", name="Leaf", parent=east).pk,
        "a_assignment": TerritoryAssignment.objects.get(organisation=partner_a).pk,
        "b_assignment": b_assignment.pk,
        "a_contact": ContactFactory(organisation=partner_a).pk,
        "b_contact": ContactFactory(organisation=partner_b).pk,
        "a_agreement": AgreementFactory(organisation=partner_a, status="draft").pk,
        "b_agreement": AgreementFactory(organisation=partner_b).pk,
        "a_staff": a_staff.pk,
        "b_staff": b_staff.pk,
        "a_token": a_token.pk,
        "b_token": b_token.pk,
    }


@dataclass(frozen=True)
class Case:
    """One endpoint called on partner A's object, and what each actor must get."""

    name: str
    method: str
    path: Callable[[dict], str]
    body: Callable[[dict], Any] | None = None
    editor: str = "partner_a_user"
    expect: dict[str, int] = field(default_factory=dict)
    readonly: str = "partner_a_viewer"
    # For lists: the world keys of A's row and B's row in the answer.
    rows: tuple[str, str | None] | None = None
    # Lists a read-only partner viewer sees nothing of (no permission on the model).
    readonly_sees_nothing: bool = False

    @property
    def is_read(self) -> bool:
        return self.method == "get"

    def expected(self, actor: str) -> int:
        defaults = {
            "anonymous": 401,
            "other": 200 if self.rows else 404,
            "readonly": 200 if self.is_read else 403,
            "editor": 200,
            "staff": 200 if self.is_read else 403,
        }
        return self.expect.get(actor, defaults[actor])


def p(template: str) -> Callable[[dict], str]:
    return lambda w: V1 + template.format(**w)


CASES = [
    # -- organisations
    Case("organisations_list", "get", p("/organisations"), rows=("a", "b")),
    Case("organisations_get", "get", p("/organisations/{a}")),
    Case(
        "organisations_create",
        "post",
        p("/organisations"),
        lambda w: {"name": "New shop", "kind": "retailer", "parent_id": w["a"]},
        editor="channel_manager",
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "organisations_update",
        "patch",
        p("/organisations/{a}"),
        lambda w: {"city": "Suzhou"},
    ),
    Case(
        "organisations_transition",
        "post",
        p("/organisations/{a}/transitions"),
        lambda w: {"status": "suspended", "reason": "test"},
        editor="channel_manager",
    ),
    Case("organisations_children", "get", p("/organisations/{a}/children")),
    Case("organisations_history", "get", p("/organisations/{a}/history")),
    # -- contacts
    Case("contacts_list", "get", p("/contacts"), rows=("a_contact", "b_contact")),
    Case("contacts_get", "get", p("/contacts/{a_contact}")),
    Case(
        "contacts_create",
        "post",
        p("/contacts"),
        lambda w: {"organisation_id": w["a"], "full_name": "Zhang San"},
        expect={"other": 422, "editor": 201},
    ),
    Case("contacts_update", "patch", p("/contacts/{a_contact}"), lambda w: {"phone": "+86 21"}),
    Case("contacts_delete", "delete", p("/contacts/{a_contact}"), expect={"editor": 204}),
    # -- territories (vendor master data; a partner sees those assigned to it)
    Case("territories_list", "get", p("/territories"), rows=("east", "west")),
    Case("territories_tree", "get", p("/territories/tree"), expect={"other": 200}),
    Case("territories_get", "get", p("/territories/{east}")),
    Case(
        "territories_create",
        "post",
        p("/territories"),
        lambda w: {"code": "cn-sh", "name": "上海", "level": "city", "parent_id": w["east"]},
        editor="vendor_admin",
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "territories_update",
        "patch",
        p("/territories/{east}"),
        lambda w: {"name": "华东"},
        editor="vendor_admin",
    ),
    Case(
        "territories_delete",
        "delete",
        p("/territories/{leaf}"),
        editor="vendor_admin",
        # An unassigned territory is invisible to partner staff: the read-only case is
        # the vendor analyst, who sees it but may not delete it.
        readonly="analyst",
        expect={"editor": 204},
    ),
    # -- territory assignments
    Case(
        "territory_assignments_list",
        "get",
        p("/territory-assignments"),
        rows=("a_assignment", "b_assignment"),
    ),
    Case("territory_assignments_get", "get", p("/territory-assignments/{a_assignment}")),
    Case(
        "territory_assignments_create",
        "post",
        p("/territory-assignments"),
        lambda w: {"organisation_id": w["a"], "territory_id": w["leaf"]},
        editor="channel_manager",
        readonly="analyst",
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "territory_assignments_delete",
        "delete",
        p("/territory-assignments/{a_assignment}"),
        editor="channel_manager",
        expect={"editor": 204},
    ),
    # -- agreements
    Case("agreements_list", "get", p("/agreements"), rows=("a_agreement", "b_agreement")),
    Case("agreements_get", "get", p("/agreements/{a_agreement}")),
    Case(
        "agreements_create",
        "post",
        p("/agreements"),
        lambda w: {
            "organisation_id": w["a"],
            "reference": "AGR-NEW",
            "type": "reseller",
            "start_on": "2026-01-01",
            "targets": [{"metric": "revenue", "target": "100"}],
        },
        editor="channel_manager",
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "agreements_update",
        "patch",
        p("/agreements/{a_agreement}"),
        lambda w: {"terms": "Net 60", "targets": []},
        editor="channel_manager",
    ),
    Case(
        "agreements_transition",
        "post",
        p("/agreements/{a_agreement}/transitions"),
        lambda w: {"status": "active"},
        editor="channel_manager",
    ),
    # -- users (administration: a partner viewer cannot see users at all)
    Case("users_list", "get", p("/users"), rows=("a_staff", "b_staff"), readonly_sees_nothing=True),
    Case("users_get", "get", p("/users/{a_staff}"), expect={"readonly": 404, "staff": 404}),
    Case(
        "users_create",
        "post",
        p("/users"),
        lambda w: {
            "organisation_id": w["a"],
            "email": "new@alpha.test",
            "full_name": "New",
            "roles": ["partner_viewer"],
        },
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "users_update",
        "patch",
        p("/users/{a_staff}"),
        lambda w: {"full_name": "Renamed"},
        expect={"readonly": 404, "staff": 404},
    ),
    Case("me_get", "get", p("/me"), expect={"other": 200}),
    # -- tokens (personal: only the owner and their administrators see them)
    Case(
        "tokens_list",
        "get",
        p("/tokens?user_id={a_staff}"),
        rows=("a_token", None),
        readonly_sees_nothing=True,
    ),
    Case(
        "tokens_create",
        "post",
        p("/tokens"),
        lambda w: {"name": "for staff", "user_id": w["a_staff"]},
        expect={"other": 422, "readonly": 422, "editor": 201, "staff": 422},
    ),
    Case(
        "tokens_revoke",
        "delete",
        p("/tokens/{a_token}"),
        expect={"readonly": 404, "editor": 204, "staff": 404},
    ),
    # -- audit
    Case("audit_list", "get", p("/audit"), rows=("a", "b"), readonly_sees_nothing=True),
]


CASE = {case.name: case for case in CASES}


def test_every_operation_is_in_the_matrix():
    from accord.api import api

    operations = {
        operation["operationId"]
        for path in api.get_openapi_schema()["paths"].values()
        for operation in path.values()
    }
    # Apps with their own isolation matrix (which checks it covers all their operations).
    from tests.channel.test_api import CHANNEL_OPERATIONS
    from tests.core.test_notifications_api import NOTIFICATIONS_OPERATIONS
    from tests.deals.test_api import DEALS_OPERATIONS
    from tests.governance.test_api_isolation import GOVERNANCE_OPERATIONS
    from tests.imports.test_api import IMPORTS_OPERATIONS
    from tests.leads.test_api import LEADS_OPERATIONS
    from tests.metrics.test_api import METRICS_OPERATIONS
    from tests.programs.test_api import PROGRAMS_OPERATIONS
    from tests.programs.test_api_scorecards import SCORECARDS_OPERATIONS

    elsewhere = {
        *CHANNEL_OPERATIONS.values(),
        *IMPORTS_OPERATIONS,
        *METRICS_OPERATIONS,
        *PROGRAMS_OPERATIONS,
        *SCORECARDS_OPERATIONS,
        *NOTIFICATIONS_OPERATIONS,
        *DEALS_OPERATIONS,
        *LEADS_OPERATIONS,
        *GOVERNANCE_OPERATIONS,
    }
    assert operations - elsewhere == {case.name for case in CASES}


def actor_user(request: pytest.FixtureRequest, case: Case, actor: str):
    name = {
        "anonymous": None,
        "other": "partner_b_user",
        "readonly": case.readonly,
        "editor": case.editor,
        "staff": "analyst",
    }[actor]
    return request.getfixturevalue(name) if name else None


def row_ids(body: dict, case: Case, world: dict) -> set[int]:
    """The world ids found in a list answer (organisation ids for the audit log)."""
    if case.name == "audit_list":
        return {item["organisation_id"] for item in body["items"]}
    return {item["id"] for item in body["items"]}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_isolation(request, world, api, case: Case, actor: str):
    user = actor_user(request, case, actor)
    client = api(user) if user else Client()
    body = case.body(world) if case.body else None
    before = fingerprint()
    response = call(client, case.method, case.path(world), body)

    expected = case.expected(actor)
    assert response.status_code == expected, (actor, response.content)
    if expected >= 400:
        assert set(response.json()) == {"error", "detail", "fields"}
    if not case.is_read:
        if expected >= 400:
            assert fingerprint() == before, f"{actor} changed data with a denied {case.name}"
        else:
            assert fingerprint() != before, f"{case.name} by the editor changed nothing"
    if case.rows and expected == 200:
        found = row_ids(response.json(), case, world)
        mine, theirs = (world[key] if key else None for key in case.rows)
        if actor == "other":
            assert mine not in found
        elif actor == "readonly" and case.readonly_sees_nothing:
            assert found == set()
        elif actor in ("readonly", "editor"):
            assert mine in found
            assert theirs not in found
        elif actor == "staff" and theirs is not None and case.name not in ("users_list",):
            assert {mine, theirs} <= found


@pytest.mark.parametrize("actor", ["other", "readonly", "editor", "staff"])
def test_territory_tree_isolation(request, world, api, actor):
    user = actor_user(request, CASE["territories_tree"], actor)
    codes = set()

    def walk(nodes):
        for node in nodes:
            codes.add(node["code"])
            walk(node["children"])

    walk(api(user).get(f"{V1}/territories/tree").json())
    if actor == "other":
        assert codes == {"de-west"}
    elif actor in ("readonly", "editor"):
        assert codes == {"cn-east"}
    else:
        assert {"asia", "cn-east", "leaf", "de-west"} <= codes


def test_me_answers_for_the_caller_only(world, api, partner_a_user, partner_b_user):
    assert api(partner_b_user).get(f"{V1}/me").json()["email"] == partner_b_user.email
    assert api(partner_a_user).get(f"{V1}/me").json()["email"] == partner_a_user.email


# -- the done-when check ----------------------------------------------------------
def test_partner_token_sees_only_its_organisation_and_children_staff_sees_all(
    api, vendor, partner_a, partner_a_child, partner_b, partner_a_user, analyst
):
    partner = api(partner_a_user)
    listed = partner.get(f"{V1}/organisations").json()
    assert {item["id"] for item in listed["items"]} == {partner_a.pk, partner_a_child.pk}
    assert listed["count"] == 2
    response = partner.get(f"{V1}/organisations/{partner_b.pk}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"

    everything = api(analyst).get(f"{V1}/organisations").json()
    assert {item["id"] for item in everything["items"]} == set(
        Organisation.objects.values_list("pk", flat=True)
    )
    assert {vendor.pk, partner_a.pk, partner_a_child.pk, partner_b.pk} <= {
        item["id"] for item in everything["items"]
    }


def test_denied_delete_keeps_the_contact(world, api, partner_b_user):
    # Belt and braces for the fingerprint: the very row is still there.
    response = api(partner_b_user).delete(f"{V1}/contacts/{world['a_contact']}")
    assert response.status_code == 404
    assert Contact.objects.filter(pk=world["a_contact"]).exists()
