"""The deals REST API over a real database and HTTP: every operation's isolation matrix
(anonymous, other partner, read-only, editor, vendor staff), the done-when flow (ACME Corp.
approved, then Acme Corporation Ltd conflicts with reasons and cannot be approved, also for
a Chinese pair), partner redaction of conflicts, the live similar check, decisions that
explain themselves, and bad input that is a JSON 4xx, never a 500.

The world (auto-approval off, so each registration waits where the test needs it): partner
B holds an approved "ACME Corp." (Servers); partner A registered "Acme Corporation Ltd"
(Servers, blocked by B's), "Globex" (Storage, submitted), "Initech" (approved) and
"Umbrella" (approved, extension asked); the vendor has the named account "Wayne
Enterprises".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accord.deals import services
from accord.deals.models import Conflict, Registration
from accord.partners.models import Organisation, TerritoryAssignment
from tests.apitools import call, fingerprint
from tests.channel.factories import ProductFactory
from tests.deals.builders import gate, set_rules
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
ACTORS = ("anonymous", "other", "readonly", "editor", "staff")
CLOSE = (timezone.now().date() + dt.timedelta(days=120)).isoformat()


def deal(name: str, *lines: str, **fields: Any) -> dict[str, Any]:
    return {
        "customer_name": name,
        "product_lines": list(lines or ["Servers"]),
        "value": "125000.00",
        "currency": "USD",
        "expected_close": CLOSE,
        **fields,
    }


def submit(user: Any, name: str, *lines: str, **fields: Any) -> Registration:
    return services.submit_registration(actor=user, data=deal(name, *lines, **fields))


@pytest.fixture
def world(
    vendor,
    east,
    partner_a,
    partner_a_child,
    partner_b,
    partner_a_user,
    partner_b_user,
    channel_manager,
) -> dict[str, Any]:
    servers = ProductFactory(product_line="Servers")
    ProductFactory(product_line="Storage")
    set_rules(auto_approve=False)
    b_acme = submit(partner_b_user, "ACME Corp.")
    services.approve(actor=None, registration=b_acme)
    a_acme = submit(partner_a_user, "Acme Corporation Ltd")
    a_globex = submit(partner_a_user, "Globex", "Storage")
    a_initech = submit(partner_a_user, "Initech", "Storage")
    services.approve(actor=None, registration=a_initech)
    a_umbrella = submit(partner_a_user, "Umbrella", "Storage")
    services.approve(actor=None, registration=a_umbrella)
    services.request_extension(actor=None, registration=a_umbrella, reason="Tender delayed")
    wayne = services.save_end_customer(
        actor=None, data={"name": "Wayne Enterprises", "country": "US", "named_account": True}
    )
    return {
        "a": partner_a.pk,
        "b": partner_b.pk,
        "east": east.pk,
        "servers": servers.pk,
        "b_acme": b_acme.pk,
        "a_acme": a_acme.pk,
        "a_globex": a_globex.pk,
        "a_initech": a_initech.pk,
        "a_umbrella": a_umbrella.pk,
        "conflict": Conflict.objects.get(registration=a_acme).pk,
        "wayne": wayne.pk,
    }


def get(client: Client, path: str, status: int = 200) -> Any:
    response = client.get(V1 + path)
    assert response.status_code == status, (path, response.content)
    body = response.json()
    if status >= 400:
        assert set(body) == {"error", "detail", "fields"}
    return body


def send(client: Client, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = call(client, method, V1 + path, body)
    assert response.status_code == status, (method, path, response.content)
    answer = response.json()
    if status >= 400:
        assert set(answer) == {"error", "detail", "fields"}
    return answer


def refused(client: Client, method: str, path: str, body: Any, status: int) -> dict:
    """A write that must be refused with ``status`` and change nothing anywhere."""
    before = fingerprint()
    answer = send(client, method, path, body, status)
    assert fingerprint() == before, f"a refused {method} {path} changed data"
    return answer


# -- the isolation matrix -----------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One operation called on partner A's object, and what each actor must get."""

    name: str
    method: str
    path: Callable[[dict], str]
    body: Callable[[dict], Any] | None = None
    editor: str = "partner_a_user"
    readonly: str = "partner_a_viewer"
    expect: dict[str, int] = field(default_factory=dict)
    # For lists: the world keys of A's row and B's row in the answer.
    rows: tuple[str, str] | None = None
    # A POST that only reads (the live similar check).
    writes: bool = True

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


RULES = {
    "policy": "first_to_file",
    "name_threshold": 80,
    "require_product_overlap": True,
    "check_territories": True,
    "check_named_accounts": True,
    "auto_approve": True,
    "reveal_conflicts": False,
    "approval_sla_hours": 24,
    "protection_days": 60,
    "extension_days": 30,
    "expiry_reminder_days": 7,
    "tier_program": None,
    "tier_protection_days": {},
}
CASES = [
    Case(
        "deals_registrations_list",
        "get",
        p("/deals/registrations"),
        rows=("a_globex", "b_acme"),
    ),
    Case(
        "deals_registrations_create",
        "post",
        p("/deals/registrations"),
        lambda w: deal("Hooli", "Storage", organisation_id=w["a"]),
        # B may not register for A (an organisation it cannot see is unknown).
        expect={"other": 422, "editor": 201},
    ),
    Case("deals_registrations_get", "get", p("/deals/registrations/{a_globex}")),
    Case(
        "deals_registrations_update",
        "patch",
        p("/deals/registrations/{a_globex}"),
        lambda w: {"notes": "Budget confirmed", "value": "130000"},
    ),
    Case(
        "deals_registrations_approve",
        "post",
        p("/deals/registrations/{a_globex}/approve"),
        lambda w: {"reason": "Clean"},
        editor="channel_manager",
    ),
    Case(
        "deals_registrations_reject",
        "post",
        p("/deals/registrations/{a_globex}/reject"),
        lambda w: {"reason": "Not qualified"},
        editor="channel_manager",
    ),
    Case(
        "deals_registrations_return",
        "post",
        p("/deals/registrations/{a_globex}/return"),
        lambda w: {"reason": "Which products?"},
        editor="channel_manager",
    ),
    Case(
        "deals_registrations_withdraw",
        "post",
        p("/deals/registrations/{a_globex}/withdraw"),
        lambda w: {"reason": "Customer went elsewhere"},
    ),
    Case(
        "deals_registrations_close",
        "post",
        p("/deals/registrations/{a_initech}/close"),
        lambda w: {"outcome": "won"},
    ),
    Case(
        "deals_registrations_extension",
        "post",
        p("/deals/registrations/{a_initech}/extension"),
        lambda w: {"reason": "Budget moved to next quarter"},
    ),
    Case(
        "deals_registrations_extension_decide",
        "post",
        p("/deals/registrations/{a_umbrella}/extension/decide"),
        lambda w: {"grant": True, "reason": "Fair"},
        editor="channel_manager",
    ),
    Case("deals_registrations_conflicts", "get", p("/deals/registrations/{a_acme}/conflicts")),
    Case(
        "deals_conflicts_resolve",
        "post",
        p("/deals/conflicts/{conflict}/resolve"),
        lambda w: {"resolution": "dismissed", "reason": "Different company"},
        editor="channel_manager",
    ),
    Case(
        "deals_similar",
        "post",
        p("/deals/similar"),
        lambda w: {"customer_name": "Acme Corporation", "product_lines": ["Servers"]},
        # B checks its own would-be registration: allowed, and it writes nothing.
        expect={"other": 200},
        writes=False,
    ),
    Case(
        "deals_queue",
        "get",
        p("/deals/queue"),
        editor="channel_manager",
        expect={"other": 403, "readonly": 403, "staff": 403},
    ),
    Case("deals_rules_get", "get", p("/deals/rules"), expect={"other": 200}),
    Case(
        "deals_rules_update",
        "put",
        p("/deals/rules"),
        lambda w: RULES,
        editor="channel_manager",
        expect={"other": 403},
    ),
    Case(
        "deals_customers_list",
        "get",
        p("/deals/customers"),
        editor="channel_manager",
        expect={"other": 403, "readonly": 403},
    ),
    Case(
        "deals_customers_create",
        "post",
        p("/deals/customers"),
        lambda w: {"name": "Stark Industries", "country": "US"},
        editor="channel_manager",
        expect={"other": 403, "editor": 201},
    ),
    Case(
        "deals_customers_get",
        "get",
        p("/deals/customers/{wayne}"),
        editor="channel_manager",
        expect={"other": 404, "readonly": 404},
    ),
    Case(
        "deals_customers_update",
        "patch",
        p("/deals/customers/{wayne}"),
        lambda w: {"city": "Gotham"},
        editor="channel_manager",
        # Partners cannot see end customers at all; the analyst sees but may not change.
        expect={"readonly": 404},
    ),
]
DEALS_OPERATIONS = {case.name for case in CASES}


def test_every_deals_operation_is_in_the_matrix() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["deals"]
    }
    assert operations == DEALS_OPERATIONS


def actor_user(request: pytest.FixtureRequest, case: Case, actor: str) -> Any:
    name = {
        "anonymous": None,
        "other": "partner_b_user",
        "readonly": case.readonly,
        "editor": case.editor,
        "staff": "analyst",
    }[actor]
    return request.getfixturevalue(name) if name else None


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_isolation(request, world, api, case: Case, actor: str) -> None:
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
        if expected >= 400 or not case.writes:
            assert fingerprint() == before, f"{actor}'s {case.name} changed data"
        else:
            assert fingerprint() != before, f"{case.name} by the editor changed nothing"
    if case.rows and expected == 200:
        found = {item["id"] for item in response.json()["items"]}
        mine, theirs = (world[key] for key in case.rows)
        if actor == "other":
            assert mine not in found
        elif actor in ("readonly", "editor"):
            assert mine in found and theirs not in found
        elif actor == "staff":
            assert {mine, theirs} <= found


# -- the done-when flow over HTTP ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [("ACME Corp.", "Acme Corporation Ltd"), ("华为技术有限公司", "华为技术")],
)
def test_second_registration_of_a_protected_customer_conflicts_and_cannot_be_approved(
    api, vendor, partner_a_user, partner_b_user, channel_manager, first: str, second: str
) -> None:
    ProductFactory(product_line="Servers")
    staff = api(channel_manager)
    held = send(api(partner_a_user), "post", "/deals/registrations", deal(first), 201)
    if held["status"] == "submitted":
        held = send(staff, "post", f"/deals/registrations/{held['id']}/approve", {})
    assert held["status"] == "approved"
    assert held["protected_until"]
    assert held["decision"]["rule"] in ("auto_approve", "manual_approval")

    late = send(api(partner_b_user), "post", "/deals/registrations", deal(second), 201)
    assert late["status"] == "submitted"
    assert late["open_conflicts"] == 1
    # The decision says why it waits, and on what.
    assert late["decision"]["rule"] == "manual_review"
    assert "conflicts" in late["decision"]["why"]
    [recorded] = late["decision"]["inputs"]["conflicts"]
    assert recorded["blocking"] and {"name", "products"} <= set(recorded["reasons"])

    [conflict] = get(staff, f"/deals/registrations/{late['id']}/conflicts")
    assert conflict["blocking"] and not conflict["hidden"]
    assert conflict["other"]["id"] == held["id"]
    assert conflict["other"]["customer_name"] == first
    codes = {reason["code"]: reason for reason in conflict["reasons"]}
    assert {"name", "products"} <= set(codes)
    assert codes["name"]["score"] >= 85 and codes["name"]["label"]
    assert codes["products"]["product_lines"] == ["Servers"]

    answer = refused(staff, "post", f"/deals/registrations/{late['id']}/approve", {}, 409)
    assert answer["error"] == "conflict"
    # Even with the conflict dismissed the database keeps one approval per customer and line.
    send(
        staff,
        "post",
        f"/deals/conflicts/{conflict['id']}/resolve",
        {"resolution": "dismissed", "reason": "Checked"},
    )
    answer = refused(staff, "post", f"/deals/registrations/{late['id']}/approve", {}, 409)
    assert answer["error"] == "conflict"
    assert Registration.objects.filter(status="approved").count() == 1


def test_partner_sees_only_that_a_conflicting_registration_exists(
    world, api, partner_a_user, partner_b, channel_manager
) -> None:
    path = f"/deals/registrations/{world['a_acme']}/conflicts"
    response = api(partner_a_user).get(V1 + path)
    [conflict] = response.json()
    assert conflict["hidden"] is True
    assert conflict["other"] is None and conflict["holder"] is None
    assert conflict["end_customer"] is None
    assert {reason["code"] for reason in conflict["reasons"]} >= {"name", "products"}
    for reason in conflict["reasons"]:
        assert set(reason) <= {"code", "label", "score"}
    text = response.content.decode()
    for secret in ("ACME Corp", partner_b.name, "acme", "DR-"):
        assert secret not in text, secret
    # Nor through the registration itself.
    detail = api(partner_a_user).get(f"{V1}/deals/registrations/{world['a_acme']}")
    assert partner_b.name not in detail.content.decode()
    assert detail.json()["end_customer_id"] is None
    for recorded in detail.json()["decision"]["inputs"]["conflicts"]:
        assert set(recorded) == {"id", "kind", "score", "blocking", "resolution", "reasons"}

    # Staff see both sides.
    [shown] = get(api(channel_manager), path)
    assert shown["hidden"] is False
    assert shown["other"]["organisation"] == partner_b.name
    assert shown["holder"] == {"id": partner_b.pk, "name": partner_b.name}

    # The vendor may choose to reveal conflicts to partners.
    set_rules(reveal_conflicts=True)
    [revealed] = get(api(partner_a_user), path)
    assert revealed["hidden"] is False
    assert revealed["other"]["customer_name"] == "ACME Corp."


def test_similar_check_finds_the_conflict_and_stores_nothing(
    world, api, partner_a_user, partner_b, channel_manager
) -> None:
    body = {"customer_name": "Acme Corporation", "product_lines": ["Servers"]}
    partner, staff = api(partner_a_user), api(channel_manager)
    before = fingerprint()
    response = call(partner, "post", f"{V1}/deals/similar", body)
    assert response.status_code == 200
    theirs, mine = sorted(response.json(), key=lambda item: not item["hidden"])
    # B's registration: only that it exists; A's own: shown, as a duplicate.
    assert theirs["id"] is None and theirs["hidden"] and theirs["blocking"]
    assert theirs["other"] is None and theirs["holder"] is None
    assert mine["other"]["id"] == world["a_acme"]
    assert "duplicate" in {reason["code"] for reason in mine["reasons"]}
    assert partner_b.name not in response.content.decode()
    shown = send(staff, "post", "/deals/similar", body)
    assert {item["other"]["id"] for item in shown} == {world["b_acme"], world["a_acme"]}
    # Without overlapping product lines it is no conflict (the default rules).
    assert send(partner, "post", "/deals/similar", {**body, "product_lines": []}) == []
    assert send(partner, "post", "/deals/similar", {"customer_name": "Zed"}) == []
    # A named account of the vendor's direct sales is found too (hidden from partners).
    wayne = {"customer_name": "Wayne Enterprises Inc.", "customer_country": "US"}
    [named] = send(partner, "post", "/deals/similar", wayne)
    assert named["kind"] == "named_account" and named["hidden"]
    assert named["end_customer"] is None
    [named] = send(staff, "post", "/deals/similar", {**wayne, "organisation_id": world["a"]})
    assert named["kind"] == "named_account" and named["end_customer"]["id"] == world["wayne"]
    assert fingerprint() == before


def test_registration_round_trip(world, api, partner_a_user, partner_a) -> None:
    body = deal(
        "Hooli Inc.",
        "storage",
        customer_tax_id="91310000-MA1K",
        customer_domain="https://www.hooli.com/about",
        customer_city="Palo Alto",
        customer_country="us",
        product_ids=[world["servers"]],
        notes="  keep my spaces  ",
    )
    created = send(api(partner_a_user), "post", "/deals/registrations", body, 201)
    assert created["number"].startswith("DR-")
    assert created["organisation_id"] == partner_a.pk
    assert created["organisation_name"] == partner_a.name
    assert created["customer_country"] == "US"
    # The catalogue's spelling of a line; the products' lines are added.
    assert created["product_lines"] == ["Servers", "Storage"]
    assert created["product_ids"] == [world["servers"]]
    assert created["value"] == "125000.00" and created["currency"] == "USD"
    assert created["expected_close"] == CLOSE
    assert created["approval_due"] and created["decision"]["rule"] == "manual_review"
    assert created["decision"]["why"] == ["auto_approve_off"]
    assert get(api(partner_a_user), f"/deals/registrations/{created['id']}") == created

    changed = send(
        api(partner_a_user),
        "patch",
        f"/deals/registrations/{created['id']}",
        {"product_ids": [], "product_lines": ["Storage"], "value": "99.5"},
    )
    assert changed["product_lines"] == ["Storage"] and changed["value"] == "99.50"
    assert changed["customer_name"] == "Hooli Inc."  # keys not sent stay


def test_auto_approval_explains_itself(world, api, partner_a_user) -> None:
    set_rules(auto_approve=True)
    created = send(api(partner_a_user), "post", "/deals/registrations", deal("Vandelay"), 201)
    assert created["status"] == "approved"
    decision = created["decision"]
    assert decision["rule"] == "auto_approve"
    assert decision["inputs"]["conflicts"] == []
    assert decision["inputs"]["gate"] == {"level": "none", "reasons": []}
    assert decision["inputs"]["rules"]["auto_approve"] is True
    assert decision["inputs"]["protection"]["days"] == 90


def test_staff_register_for_the_vendor_or_a_partner(
    world, api, channel_manager, vendor, partner_b
) -> None:
    direct = send(api(channel_manager), "post", "/deals/registrations", deal("Soylent"), 201)
    assert direct["organisation_id"] == vendor.pk
    for_b = send(
        api(channel_manager),
        "post",
        "/deals/registrations",
        deal("Tyrell", organisation_id=partner_b.pk),
        201,
    )
    assert for_b["organisation_id"] == partner_b.pk


def test_blocking_standing_refuses_registration(world, api, partner_a_user) -> None:
    with gate("block", "Scorecard standing: probation"):
        answer = refused(api(partner_a_user), "post", "/deals/registrations", deal("Hooli"), 422)
    assert "probation" in answer["fields"]["organisation_id"][0]


def test_workflow_over_http(world, api, partner_a_user, channel_manager) -> None:
    partner, staff = api(partner_a_user), api(channel_manager)
    globex = f"/deals/registrations/{world['a_globex']}"
    returned = send(staff, "post", f"{globex}/return", {"reason": "Which site?"})
    assert returned["status"] == "returned"
    assert returned["decision"]["rule"] == "returned"
    assert returned["decision"]["reason"] == "Which site?"
    resubmitted = send(partner, "patch", globex, {"customer_city": "Springfield"})
    assert resubmitted["status"] == "submitted"
    queue = get(staff, "/deals/queue")
    assert world["a_globex"] in {item["id"] for item in queue["items"]}
    approved = send(staff, "post", f"{globex}/approve", {"reason": "Looks right"})
    assert approved["status"] == "approved"
    assert approved["decided_by_id"] == channel_manager.pk
    assert world["a_globex"] not in {item["id"] for item in get(staff, "/deals/queue")["items"]}
    # Approved: no more changes, one extension, then closed.
    refused(partner, "patch", globex, {"notes": "x"}, 409)
    until = approved["protected_until"]
    send(partner, "post", f"{globex}/extension", {"reason": "Slipped a quarter"})
    refused(partner, "post", f"{globex}/extension", {"reason": "Again"}, 409)
    extended = send(staff, "post", f"{globex}/extension/decide", {"grant": True})
    assert extended["extended"] and extended["protected_until"] > until
    refused(staff, "post", f"{globex}/extension/decide", {"grant": False}, 409)
    won = send(partner, "post", f"{globex}/close", {"outcome": "won", "reason": "Signed"})
    assert won["status"] == "won"
    refused(partner, "post", f"{globex}/withdraw", {}, 409)


def test_reasons_are_required_where_the_rules_say(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    globex = f"/deals/registrations/{world['a_globex']}"
    for action in ("reject", "return"):
        answer = refused(staff, "post", f"{globex}/{action}", {"reason": ""}, 422)
        assert "reason" in answer["fields"]
        answer = refused(staff, "post", f"{globex}/{action}", {"reason": "   "}, 422)
        assert "reason" in answer["fields"]
    conflict = f"/deals/conflicts/{world['conflict']}/resolve"
    answer = refused(staff, "post", conflict, {"resolution": "dismissed", "reason": ""}, 422)
    assert "reason" in answer["fields"]
    answer = refused(staff, "post", conflict, {"resolution": "open", "reason": "x"}, 422)
    assert "resolution" in answer["fields"]


def test_resolved_conflict_is_shown_with_its_reason(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    path = f"/deals/conflicts/{world['conflict']}/resolve"
    resolved = send(staff, "post", path, {"resolution": "upheld", "reason": "Same buyer"})
    assert resolved["resolution"] == "upheld"
    assert resolved["resolution_reason"] == "Same buyer"
    assert resolved["other"]["id"] == world["b_acme"]
    refused(staff, "post", path, {"resolution": "dismissed", "reason": "Changed my mind"}, 409)


def test_list_filters(world, api, channel_manager, partner_a) -> None:
    staff = api(channel_manager)

    def ids(query: str) -> set[int]:
        return {item["id"] for item in get(staff, f"/deals/registrations?{query}")["items"]}

    assert ids("status=approved") == {world["b_acme"], world["a_initech"], world["a_umbrella"]}
    assert ids(f"organisation={partner_a.pk}&product_line=Servers") == {world["a_acme"]}
    assert ids("q=glob") == {world["a_globex"]}
    page = get(staff, "/deals/registrations?limit=2&offset=1")
    assert page["count"] == 5 and len(page["items"]) == 2
    get(staff, "/deals/registrations?status=pending", 422)
    get(staff, "/deals/registrations?limit=0", 422)


def test_rules_round_trip(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)
    saved = send(staff, "put", "/deals/rules", RULES)
    assert {k: v for k, v in saved.items() if k != "updated_at"} == RULES
    assert get(api(partner_a_user), "/deals/rules")["protection_days"] == 60
    answer = refused(staff, "put", "/deals/rules", {**RULES, "tier_program": "nope"}, 422)
    assert "tier_program" in answer["fields"]
    for bad in (
        {"name_threshold": 20},
        {"policy": "last_to_file"},
        {"protection_days": 0},
        {"tier_protection_days": {"gold": -1}},
        {"tier_protection_days": {"gold\x00": 10}},
        {"bogus": True},
    ):
        answer = refused(staff, "put", "/deals/rules", {**RULES, **bad}, 422)
        assert any(name.startswith(tuple(bad)) for name in answer["fields"]), answer


def test_named_accounts(world, api, channel_manager, analyst) -> None:
    staff = api(channel_manager)
    created = send(
        staff,
        "post",
        "/deals/customers",
        {"name": "Stark Industries Inc.", "domain": "https://stark.com", "tax_id": "st-1 2"},
        201,
    )
    assert created["named_account"] is True
    assert (created["name_key"], created["domain_key"], created["tax_key"]) == (
        "stark industries",
        "stark.com",
        "ST12",
    )
    listed = get(api(analyst), "/deals/customers?named_account=true&q=stark")
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    changed = send(staff, "patch", f"/deals/customers/{created['id']}", {"city": "New York"})
    assert changed["city"] == "New York" and changed["name"] == "Stark Industries Inc."
    # Another customer with the same domain is a conflict.
    answer = refused(
        staff, "post", "/deals/customers", {"name": "Other", "domain": "www.stark.com"}, 409
    )
    assert "domain" in answer["fields"]
    answer = refused(
        staff, "post", "/deals/customers", {"name": "Other", "account_owner_id": 10**9}, 422
    )
    assert "account_owner_id" in answer["fields"]
    get(staff, "/deals/customers/999999999", 404)


# -- bad input: a JSON 4xx naming the field, never a 500, nothing stored ---------------------
@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"expected_close": "2026-02-30"}, "expected_close"),
        ({"expected_close": "31/12/2026"}, "expected_close"),
        ({"expected_close": "0001-01-01"}, "expected_close"),
        ({"value": "-1"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "Infinity"}, "value"),
        ({"value": "1e30"}, "value"),
        ({"value": "1.234"}, "value"),
        ({"value": "lots"}, "value"),
        ({"currency": "US"}, "currency"),
        ({"customer_country": "USA"}, "customer_country"),
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "   "}, "customer_name"),
        ({"customer_name": "Acme\x00"}, "customer_name"),
        ({"customer_name": "\ud800"}, "customer_name"),
        ({"customer_name": "x" * 201}, "customer_name"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({"customer_domain": "not a domain"}, "customer_domain"),
        ({"product_lines": []}, "product_lines"),
        ({"product_lines": [""]}, "product_lines.0"),
        ({"product_lines": ["x" * 101]}, "product_lines.0"),
        ({"product_lines": "Servers"}, "product_lines"),
        ({"product_ids": [999_999_999]}, "product_ids"),
        ({"product_ids": [0]}, "product_ids.0"),
        ({"territory_id": 999_999_999}, "territory_id"),
        ({"territory_id": -3}, "territory_id"),
        ({"organisation_id": 999_999_999}, "organisation_id"),
        ({"organisation_id": 2**64}, "organisation_id"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_registrations_are_422(
    world, api, partner_a_user, fields: dict, field_name: str
) -> None:
    answer = refused(
        api(partner_a_user), "post", "/deals/registrations", deal("Hooli", **fields), 422
    )
    assert field_name in answer["fields"], answer["fields"]


def test_territories_the_partner_cannot_see_are_unknown(world, api, partner_a_user) -> None:
    west = TerritoryFactory(code="de-west", name="West Germany")
    TerritoryAssignment.objects.create(
        organisation=Organisation.objects.get(pk=world["b"]), territory=west, exclusive=True
    )
    client = api(partner_a_user)
    answer = refused(
        client, "post", "/deals/registrations", deal("Hooli", territory_id=west.pk), 422
    )
    assert "territory_id" in answer["fields"]
    answer = refused(
        client, "patch", f"/deals/registrations/{world['a_globex']}", {"territory_id": west.pk}, 422
    )
    assert "territory_id" in answer["fields"]
    answer = send(
        client, "post", "/deals/similar", {"customer_name": "X", "territory_id": west.pk}, 422
    )
    assert "territory_id" in answer["fields"]
    # Its own territory is fine.
    send(client, "post", "/deals/registrations", deal("Hooli", territory_id=world["east"]), 201)


def test_huge_and_malformed_bodies_are_4xx(world, api, partner_a_user, channel_manager) -> None:
    client = api(partner_a_user)
    path = f"{V1}/deals/registrations"
    for raw in ("{", "[]", "null", '"text"', "1", json.dumps(deal("x" * 1_000_000))):
        before = fingerprint()
        response = call(client, "post", path, raw=raw)
        assert 400 <= response.status_code < 500, (raw[:20], response.content[:200])
        assert set(response.json()) == {"error", "detail", "fields"}
        assert fingerprint() == before
    for path in (
        "/deals/registrations/0",
        "/deals/registrations/abc",
        f"/deals/registrations/{2**64}",
        "/deals/customers/-1",
    ):
        get(api(channel_manager), path, 422)
    get(api(channel_manager), "/deals/registrations/999999999", 404)
    get(api(channel_manager), "/deals/registrations/999999999/conflicts", 404)
    refused(
        api(channel_manager),
        "post",
        "/deals/conflicts/999999999/resolve",
        {"resolution": "upheld", "reason": "x"},
        404,
    )


def test_patch_with_nothing_valid_changes_nothing(world, api, partner_a_user) -> None:
    path = f"/deals/registrations/{world['a_globex']}"
    for body in ({"customer_name": None}, {"value": None}, {"product_lines": []}):
        answer = refused(api(partner_a_user), "patch", path, body, 422)
        assert set(answer["fields"]) <= {"customer_name", "value", "product_lines"}, answer


def test_lists_read_a_fixed_number_of_queries(
    world, api, partner_a_user, channel_manager, django_assert_max_num_queries
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    for number in range(12):
        submit(partner_a_user, f"Customer {number}", "Storage")
    for client, path in (
        (staff, "/deals/registrations"),
        (partner, "/deals/registrations"),
        (staff, "/deals/queue"),
        (staff, f"/deals/registrations/{world['a_acme']}/conflicts"),
    ):
        with django_assert_max_num_queries(10):
            get(client, path)


def test_schema_names_are_unique_across_the_api() -> None:
    """Ninja names each OpenAPI component after its class: two schemas of one name (as the
    deals' and the leads' RulesOut were) silently share one, and one API is misdocumented."""
    import importlib
    import pkgutil

    from ninja import Schema

    import accord
    from accord.api import api as ninja_api

    components = set(ninja_api.get_openapi_schema()["components"]["schemas"])
    seen: dict[str, set[type]] = {}
    for module_info in pkgutil.walk_packages(accord.__path__, "accord."):
        if not module_info.name.endswith(("schemas", "api")):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Schema):
                seen.setdefault(value.__name__, set()).add(value)
    shared = {name for name, classes in seen.items() if len(classes) > 1} & components
    assert not shared, f"schemas sharing an OpenAPI component name: {sorted(shared)}"
