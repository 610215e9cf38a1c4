"""The leads REST API over a real database and HTTP: every operation's isolation matrix
(anonymous, other partner, read-only, editor, vendor staff), routing with its explained
history (a partner sees only the events about itself), accept / decline / recall over HTTP,
the rules and settings round trips, and bad input that is a JSON 4xx, never a 500.

The world: routing rules territory (required) then weighted random; partner A holds China
East exclusively. Lead "Initech" is offered to A, "Globex" accepted by A, "Hooli" offered to
B, and "Vandelay" is new (not routed, seen by vendor staff only).
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

from accord.leads import services
from accord.leads.models import Lead, RoutingEvent
from tests.apitools import call, fingerprint
from tests.leads.builders import rule, set_rules

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
ACTORS = ("anonymous", "other", "readonly", "editor", "staff")


def offer(name: str, organisation: Any, **data: Any) -> Lead:
    lead = services.create_lead(actor=None, data={"company_name": name, **data}, route=False)
    return services.assign_lead(actor=None, lead=lead, organisation=organisation, reason="Fit")


@pytest.fixture
def world(
    vendor, east, partner_a, partner_a_child, partner_b, partner_a_user, channel_manager
) -> dict[str, Any]:
    set_rules(rule("territory", required=True), rule("random", weight="equal"))
    initech = offer("Initech", partner_a)
    globex = offer("Globex", partner_a)
    services.accept_lead(actor=partner_a_user, lead=globex)
    hooli = offer("Hooli", partner_b)
    vandelay = services.create_lead(actor=None, data={"company_name": "Vandelay"}, route=False)
    return {
        "a": partner_a.pk,
        "b": partner_b.pk,
        "east": east.pk,
        "lead_a": initech.pk,
        "accepted": globex.pk,
        "lead_b": hooli.pk,
        "new": vandelay.pk,
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
    if status == 204:
        return None
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
    """One operation called on partner A's lead, and what each actor must get."""

    name: str
    method: str
    path: Callable[[dict], str]
    body: Callable[[dict], Any] | None = None
    editor: str = "partner_a_user"
    readonly: str = "partner_a_viewer"
    expect: dict[str, int] = field(default_factory=dict)
    rows: tuple[str, str] | None = None

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


RULES = [
    {"name": "Territory", "kind": "territory", "required": True, "params": {}},
    {"name": "Resellers", "kind": "partner_kind", "params": {"kinds": ["reseller"]}},
    {"name": "Capacity", "kind": "capacity", "params": {"max_open": 5}},
    {"name": "Pick", "kind": "random", "params": {"weight": "lead_priority"}},
]
SETTINGS = {
    "acceptance_hours": 24,
    "tier_program": None,
    "tier_acceptance_hours": {},
    "max_offers": 3,
    "performance_days": 90,
}
# Staff-only configuration: partners hold no permission on it at all (403).
STAFF_ONLY = {"other": 403, "readonly": 403}
CASES = [
    Case("leads_list", "get", p("/leads"), rows=("lead_a", "lead_b")),
    Case(
        "leads_create",
        "post",
        p("/leads"),
        lambda w: {"company_name": "Soylent", "territory_id": w["east"]},
        editor="channel_manager",
        expect={"other": 403, "editor": 201},
    ),
    Case("leads_get", "get", p("/leads/{lead_a}")),
    Case("leads_accept", "post", p("/leads/{lead_a}/accept")),
    Case(
        "leads_decline",
        "post",
        p("/leads/{lead_a}/decline"),
        lambda w: {"reason": "No capacity this month"},
        expect={"editor": 204},
    ),
    Case(
        "leads_assign",
        "post",
        p("/leads/{lead_a}/assign"),
        lambda w: {"organisation_id": w["a"], "reason": "Strategic account"},
        editor="channel_manager",
    ),
    Case("leads_close", "post", p("/leads/{accepted}/close"), lambda w: {"outcome": "won"}),
    Case(
        "leads_route",
        "post",
        p("/leads/{new}/route"),
        editor="channel_manager",
        # A new lead is no partner's: the read-only case is the vendor analyst.
        readonly="analyst",
    ),
    Case("leads_events", "get", p("/leads/{lead_a}/events")),
    Case("leads_rules_get", "get", p("/leads/rules"), editor="channel_manager", expect=STAFF_ONLY),
    Case(
        "leads_rules_update",
        "put",
        p("/leads/rules"),
        lambda w: {"rules": RULES},
        editor="channel_manager",
        expect={"other": 403},
    ),
    Case(
        "leads_settings_get",
        "get",
        p("/leads/settings"),
        editor="channel_manager",
        expect=STAFF_ONLY,
    ),
    Case(
        "leads_settings_update",
        "put",
        p("/leads/settings"),
        lambda w: SETTINGS,
        editor="channel_manager",
        expect={"other": 403},
    ),
]
LEADS_OPERATIONS = {case.name for case in CASES}


def test_every_leads_operation_is_in_the_matrix() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["leads"]
    }
    assert operations == LEADS_OPERATIONS


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
        if expected >= 400:
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


# -- routing, answers and the explained history ----------------------------------------------
def test_created_lead_is_routed_and_explained(
    world, api, channel_manager, partner_a_user, partner_b_user, partner_a
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    lead = send(
        staff,
        "post",
        "/leads",
        {"company_name": "Soylent", "territory_id": world["east"], "value": "5000"},
        201,
    )
    assert lead["source"] == "api" and lead["status"] == "offered"
    assert lead["assigned_to_id"] == partner_a.pk
    assert lead["assigned_to_name"] == partner_a.name
    assert lead["accept_by"] and lead["value"] == "5000.00"
    [event] = get(staff, f"/leads/{lead['id']}/events")["items"]
    assert event["kind"] == "offered" and event["organisation_id"] == partner_a.pk
    # The trace: each rule with the candidates before and after, the weights and the draw.
    steps = event["trace"]["steps"]
    assert [step["kind"] for step in steps] == ["territory", "random"]
    assert steps[0]["after"] == 1
    assert event["trace"]["chosen"] == partner_a.pk
    assert any("Territory" in line for line in event["explanation"])
    assert any(partner_a.name in line for line in event["explanation"])
    # The partner sees the offer in its inbox and the event about itself, and B nothing.
    inbox = get(partner, "/leads?inbox=true")["items"]
    assert lead["id"] in {item["id"] for item in inbox}
    [own] = get(partner, f"/leads/{lead['id']}/events")["items"]
    assert own["explanation"] == event["explanation"]
    assert set(own["trace"]["weights"]) <= {str(partner_a.pk)}
    get(api(partner_b_user), f"/leads/{lead['id']}", 404)
    get(api(partner_b_user), f"/leads/{lead['id']}/events", 404)


def test_created_lead_without_a_match_goes_to_manual_review(world, api, channel_manager) -> None:
    lead = send(api(channel_manager), "post", "/leads", {"company_name": "Nowhere Inc."}, 201)
    assert lead["status"] == "manual" and lead["assigned_to_id"] is None
    [event] = get(api(channel_manager), f"/leads/{lead['id']}/events")["items"]
    assert event["kind"] == "manual" and event["reason"]
    assert event["explanation"][-1]


def test_accept_decline_and_close_over_http(
    world, api, partner_a_user, partner_b_user, channel_manager
) -> None:
    partner, staff = api(partner_a_user), api(channel_manager)
    accepted = send(partner, "post", f"/leads/{world['lead_a']}/accept")
    assert accepted["status"] == "accepted" and accepted["accepted_at"]
    refused(partner, "post", f"/leads/{world['lead_a']}/accept", None, 409)
    refused(partner, "post", f"/leads/{world['lead_a']}/decline", {"reason": "Late"}, 409)
    won = send(partner, "post", f"/leads/{world['lead_a']}/close", {"outcome": "won"})
    assert won["status"] == "won" and won["closed_at"]
    kinds = [e["kind"] for e in get(staff, f"/leads/{world['lead_a']}/events")["items"]]
    assert kinds == ["assigned", "accepted", "won"]

    # B declines its offer with a reason: the lead goes on, out of B's sight.
    hooli = f"/leads/{world['lead_b']}"
    answer = refused(api(partner_b_user), "post", f"{hooli}/decline", {"reason": " "}, 422)
    assert "reason" in answer["fields"]
    send(api(partner_b_user), "post", f"{hooli}/decline", {"reason": "Not our market"}, 204)
    get(api(partner_b_user), hooli, 404)
    events = get(staff, f"{hooli}/events")["items"]
    assert [e["kind"] for e in events][:2] == ["assigned", "declined"]
    assert events[1]["reason"] == "Not our market"


def test_accept_after_the_sla_is_refused(world, api, partner_a_user) -> None:
    Lead.objects.filter(pk=world["lead_a"]).update(
        accept_by=timezone.now() - dt.timedelta(minutes=1)
    )
    answer = refused(api(partner_a_user), "post", f"/leads/{world['lead_a']}/accept", None, 409)
    assert answer["error"] == "conflict"


def test_recall_shows_in_the_history(world, api, channel_manager, partner_a) -> None:
    lead = Lead.objects.get(pk=world["lead_a"])
    services.recall_overdue(now=lead.accept_by + dt.timedelta(seconds=1))
    events = get(api(channel_manager), f"/leads/{world['lead_a']}/events")["items"]
    recalled = next(e for e in events if e["kind"] == "recalled")
    assert recalled["organisation_id"] == partner_a.pk and "Not accepted" in recalled["reason"]


def test_assign_and_route_by_hand(world, api, channel_manager, partner_b, vendor) -> None:
    staff = api(channel_manager)
    assigned = send(
        staff,
        "post",
        f"/leads/{world['new']}/assign",
        {"organisation_id": partner_b.pk, "reason": "Knows the buyer"},
    )
    assert assigned["status"] == "offered" and assigned["assigned_to_id"] == partner_b.pk
    [event] = get(staff, f"/leads/{world['new']}/events")["items"]
    assert event["kind"] == "assigned" and event["reason"] == "Knows the buyer"
    assert any("Knows the buyer" in line for line in event["explanation"])
    for organisation_id in (vendor.pk, 999_999_999):
        answer = refused(
            staff,
            "post",
            f"/leads/{world['lead_a']}/assign",
            {"organisation_id": organisation_id, "reason": "x"},
            422,
        )
        assert "organisation_id" in answer["fields"]
    # Routing again is for new and manual-review leads only.
    refused(staff, "post", f"/leads/{world['lead_a']}/route", None, 409)


def test_list_filters(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)

    def ids(client: Client, query: str) -> set[int]:
        return {item["id"] for item in get(client, f"/leads?{query}")["items"]}

    assert ids(staff, "status=offered") == {world["lead_a"], world["lead_b"]}
    assert ids(staff, f"assigned_to={world['a']}") == {world["lead_a"], world["accepted"]}
    assert ids(staff, "q=vande") == {world["new"]}
    assert ids(api(partner_a_user), "inbox=true") == {world["lead_a"]}
    assert ids(api(partner_a_user), "") == {world["lead_a"], world["accepted"]}
    page = get(staff, "/leads?limit=1&offset=1")
    assert page["count"] == 4 and len(page["items"]) == 1
    get(staff, "/leads?status=lost-ish", 422)


# -- rules and settings ---------------------------------------------------------------------
def test_rules_round_trip(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    saved = send(staff, "put", "/leads/rules", {"rules": RULES})["rules"]
    assert [(r["position"], r["kind"]) for r in saved] == [
        (0, "territory"),
        (1, "partner_kind"),
        (2, "capacity"),
        (3, "random"),
    ]
    assert saved[0]["required"] is True and saved[1]["active"] is True
    assert saved[0]["params"] == {"exclusive_first": False}
    assert get(staff, "/leads/rules") == {"rules": saved}
    # Keeping a rule by its id keeps the row; rules left out are deleted.
    kept = send(staff, "put", "/leads/rules", {"rules": [{**RULES[2], "id": saved[2]["id"]}]})
    assert [r["id"] for r in kept["rules"]] == [saved[2]["id"]]


@pytest.mark.parametrize(
    ("rules", "field_name"),
    [
        ([{"name": "x", "kind": "capacity", "params": {"max_open": 0}}], "rules.0.params"),
        ([{"name": "x", "kind": "capacity", "params": {"bogus": 1}}], "rules.0.params"),
        (
            [{"name": "x", "kind": "partner_kind", "params": {"kinds": ["vendor"]}}],
            "rules.0.params",
        ),
        ([{"name": "x", "kind": "random"}, {"name": "y", "kind": "territory"}], "rules.0.kind"),
        ([{"name": "x", "kind": "tier", "params": {"tiers": ["gold\x00"]}}], "rules.0.params"),
        ([{"name": "x", "kind": "tier", "params": {"min_rank\x00": 1}}], "rules.0.params"),
        ([{"name": "x", "kind": "telepathy"}], "rules.0.kind"),
        ([{"name": "", "kind": "territory"}], "rules.0.name"),
        ([{"name": "x\x00", "kind": "territory"}], "rules.0.name"),
        ([{"name": "x", "kind": "territory", "id": 999_999}], "rules.0.id"),
        ([{"name": "x", "kind": "territory", "colour": "red"}], "rules.0.colour"),
        ([{"name": "x", "kind": "territory"}] * 51, "rules"),
    ],
)
def test_bad_rules_name_their_place(
    world, api, channel_manager, rules: list, field_name: str
) -> None:
    answer = refused(api(channel_manager), "put", "/leads/rules", {"rules": rules}, 422)
    # A bad key in the parameters is named with it: "rules.0.params.<key>.[key]".
    assert any(
        name == field_name or (name.startswith(f"{field_name}.") and ".params" in field_name)
        for name in answer["fields"]
    ), answer["fields"]


def test_settings_round_trip(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    saved = send(staff, "put", "/leads/settings", SETTINGS)
    assert {k: v for k, v in saved.items() if k != "updated_at"} == SETTINGS
    assert get(staff, "/leads/settings")["acceptance_hours"] == 24
    for bad, name in (
        ({"tier_acceptance_hours": {"gold": 12}}, "tier_acceptance_hours"),
        ({"tier_program": "nope"}, "tier_program"),
        ({"max_offers": 0}, "max_offers"),
        ({"acceptance_hours": 10**6}, "acceptance_hours"),
        ({"performance_days": "many"}, "performance_days"),
        ({"extra": 1}, "extra"),
    ):
        answer = refused(staff, "put", "/leads/settings", {**SETTINGS, **bad}, 422)
        assert name in answer["fields"], answer


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"company_name": ""}, "company_name"),
        ({"company_name": "x" * 201}, "company_name"),
        ({"company_name": "A\x00B"}, "company_name"),
        ({"contact_email": "not an e-mail"}, "contact_email"),
        ({"country": "CHN"}, "country"),
        ({"currency": "yuan"}, "currency"),
        ({"value": "-5"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "1e40"}, "value"),
        ({"territory_id": 999_999_999}, "territory_id"),
        ({"territory_id": 0}, "territory_id"),
        ({"description": "x" * 10_001}, "description"),
        ({"route": "sometimes"}, "route"),
        ({"assigned_to": 1}, "assigned_to"),
    ],
)
def test_bad_leads_are_422(world, api, channel_manager, fields: dict, field_name: str) -> None:
    body = {"company_name": "Soylent", "route": False, **fields}
    answer = refused(api(channel_manager), "post", "/leads", body, 422)
    assert field_name in answer["fields"], answer["fields"]


def test_external_key_is_unique(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    body = {"company_name": "Soylent", "external_key": "CRM-1", "route": False}
    send(staff, "post", "/leads", body, 201)
    answer = refused(staff, "post", "/leads", body, 422)
    assert "external_key" in answer["fields"]


def test_malformed_requests_are_4xx(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)
    for raw in ("{", "[]", "null", json.dumps({"company_name": "x" * 1_000_000})):
        before = fingerprint()
        response = call(staff, "post", f"{V1}/leads", raw=raw)
        assert 400 <= response.status_code < 500, (raw[:20], response.content[:200])
        assert set(response.json()) == {"error", "detail", "fields"}
        assert fingerprint() == before
    for path in ("/leads/0", "/leads/abc", f"/leads/{2**64}", "/leads/-1/events"):
        get(staff, path, 422)
    get(staff, "/leads/999999999", 404)
    refused(api(partner_a_user), "post", "/leads/999999999/accept", None, 404)
    assert RoutingEvent.objects.filter(lead_id=999_999_999).count() == 0


def test_lists_read_a_fixed_number_of_queries(
    world, api, partner_a_user, channel_manager, partner_a, django_assert_max_num_queries
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    for number in range(12):
        offer(f"Company {number}", partner_a)
    for client, path in ((staff, "/leads"), (partner, "/leads"), (partner, "/leads?inbox=true")):
        with django_assert_max_num_queries(7):
            get(client, path)
