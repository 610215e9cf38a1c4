"""The programs REST API over a real database and HTTP: programs and their draft/publish
cycle, evaluations with explained results and warnings, tiers, history, overrides and
what-if — happy paths, every error path, permissions, and isolation between partners.

The world: partners A (with a retail child) and B on a Registered < Silver (1,000) < Gold
(5,000) ladder over the trailing 12 months, evaluated and applied on 2026-06-30 (A and B
gold, the child registered) and 2026-09-30 (A and B fall to silver level: grace opens
until 2026-12-29, and an early warning goes to their account manager).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.core.models import AuditEntry
from accord.partners.models import Organisation
from accord.programs import services
from accord.programs.models import (
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    TierChange,
)
from tests.apitools import call, fingerprint
from tests.factories import OrganisationFactory
from tests.programs.builders import D, criterion, ladder, make_program, sell_many, tier

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
FAR = (dt.date.today() + dt.timedelta(days=60)).isoformat()


@pytest.fixture
def world(
    vendor: Organisation,
    partner_a: Organisation,
    partner_a_child: Organisation,
    partner_b: Organisation,
    channel_manager: Any,
) -> dict[str, Any]:
    Organisation.objects.filter(pk__in=[partner_a.pk, partner_b.pk]).update(
        account_manager=channel_manager
    )
    sell_many(
        [
            (partner_a, D(2025, 8, 15), 6000),
            (partner_a, D(2026, 2, 1), 1200),
            (partner_b, D(2025, 9, 10), 5500),
            (partner_b, D(2026, 5, 10), 2000),
            (partner_a_child, D(2026, 3, 1), 300),
        ]
    )
    program = make_program(None, ladder(1000, 5000))
    first = services.evaluate_program(actor=None, program=program, as_of=D(2026, 6, 30))
    run = services.evaluate_program(actor=None, program=program, as_of=D(2026, 9, 30))
    return {
        "a": partner_a.pk,
        "child": partner_a_child.pk,
        "b": partner_b.pk,
        "vendor": vendor.pk,
        "program": program,
        "first": first.pk,
        "run": run.pk,
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


# -- programs -----------------------------------------------------------------------------
def test_programs_list_shows_the_draft_number_to_staff_only(
    world: dict, api: Any, channel_manager: Any, partner_a_user: Any
) -> None:
    services.start_draft(actor=None, program=world["program"])
    staff = get(api(channel_manager), "/programs")
    assert staff["count"] == 1
    item = staff["items"][0]
    assert (item["code"], item["live_version"], item["draft_version"]) == ("tiers", 1, 2)
    partner = get(api(partner_a_user), "/programs")["items"][0]
    assert (partner["live_version"], partner["draft_version"]) == (1, None)
    assert get(api(partner_a_user), "/programs/tiers")["draft_version"] is None


def test_create_program_with_content_round_trips(
    world: dict, api: Any, channel_manager: Any
) -> None:
    content = {
        "grace_days": 30,
        "hysteresis_pct": "2.5",
        "tiers": [
            tier("member"),
            tier(
                "star",
                criterion("2500.5"),
                criterion(3, metric="orders", window="quarter"),
                combine="any",
                benefits={"discount_pct": "4", "support_sla_hours": 24},
            ),
        ],
    }
    body = {
        "code": "stars",
        "name": "Stars",
        "name_zh": "星级",
        "kinds": ["reseller"],
        "regions": ["DE"],
        "cadence": "month",
        "content": content,
    }
    created = send(api(channel_manager), "post", "/programs", body, 201)
    assert created["code"] == "stars"
    assert (created["live_version"], created["draft_version"]) == (None, 1)
    assert created["kinds"] == ["reseller"] and created["cadence"] == "month"
    version = get(api(channel_manager), "/programs/stars/versions/1")
    assert version["status"] == "draft"
    stored = version["content"]
    assert stored["grace_days"] == 30 and stored["hysteresis_pct"] == "2.50"
    star = stored["tiers"][1]
    assert star["combine"] == "any"
    assert star["criteria"] == [
        {"metric": "revenue", "comparator": "gte", "threshold": "2500.5", "window": "trailing_12"},
        {"metric": "orders", "comparator": "gte", "threshold": "3", "window": "quarter"},
    ]
    assert star["benefits"]["discount_pct"] == "4.00"
    assert star["benefits"]["support_sla_hours"] == 24
    # What the API answers is what it takes: saving it back changes no rule.
    saved = send(api(channel_manager), "put", "/programs/stars/draft", stored)
    assert saved["content"] == stored
    assert AuditEntry.objects.filter(object_repr="Stars", action="create").exists()


def test_create_program_taken_code_is_409(world: dict, api: Any, channel_manager: Any) -> None:
    answer = refused(
        api(channel_manager), "post", "/programs", {"code": "tiers", "name": "Again"}, 409
    )
    assert "code" in answer["fields"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"tiers": [{"code": "a", "name": "A", "critera": []}]}, "content.tiers.0.critera"),
        ({"tiers": [tier("a", criterion(1, metric="nope"))]}, "content.tiers.0.criteria.0.metric"),
        (
            {"tiers": [tier("a"), tier("b", criterion("lots"))]},
            "content.tiers.1.criteria.0.threshold",
        ),
        ({"tiers": [tier("a"), tier("a")]}, "content.tiers.1.code"),
        ({"tiers": [tier("a", combine="at_least", at_least=3)]}, "content.tiers.0.at_least"),
        ({"tiers": [tier("a", criterion(1, window="week"))]}, "content.tiers.0.criteria.0.window"),
        ({"grace_days": -1}, "content.grace_days"),
        ({"cost_basis_metric": "nope"}, "content.cost_basis_metric"),
        ({"bogus": 1}, "content.bogus"),
    ],
)
def test_create_program_bad_content_names_the_place(
    world: dict, api: Any, channel_manager: Any, content: dict, field: str
) -> None:
    answer = refused(
        api(channel_manager),
        "post",
        "/programs",
        {"code": "fresh", "name": "Fresh", "content": content},
        422,
    )
    assert field in answer["fields"], answer["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "has space", "name": "X"}, "code"),
        ({"code": "x", "name": ""}, "name"),
        ({"code": "x", "name": "X", "kinds": ["vendor"]}, "kinds.0"),
        ({"code": "x", "name": "X", "cadence": "weekly"}, "cadence"),
        ({"code": "x", "name": "X", "next_evaluation": "2026-02-30"}, "next_evaluation"),
        ({"code": "x", "name": "X\x00"}, "name"),
    ],
)
def test_create_program_bad_fields_are_422(
    world: dict, api: Any, channel_manager: Any, body: dict, field: str
) -> None:
    answer = refused(api(channel_manager), "post", "/programs", body, 422)
    assert field in answer["fields"], answer["fields"]


@pytest.mark.parametrize("user", ["partner_a_user", "analyst"])
def test_create_program_needs_permission(request: Any, world: dict, api: Any, user: str) -> None:
    client = api(request.getfixturevalue(user))
    refused(client, "post", "/programs", {"code": "mine", "name": "Mine"}, 403)


def test_update_program(world: dict, api: Any, channel_manager: Any, partner_a_user: Any) -> None:
    body = {"name": "Tiers 2026", "tags": ["gold-club"], "schedule_enabled": True}
    updated = send(api(channel_manager), "patch", "/programs/tiers", body)
    assert updated["name"] == "Tiers 2026" and updated["tags"] == ["gold-club"]
    # Scheduling without a date schedules the next cadence from today.
    assert updated["schedule_enabled"] and updated["next_evaluation"]
    assert updated["description"] == ""  # keys not sent stay
    refused(api(partner_a_user), "patch", "/programs/tiers", {"name": "Mine"}, 403)
    refused(api(channel_manager), "patch", "/programs/nope", {"name": "X"}, 404)
    answer = refused(api(channel_manager), "patch", "/programs/tiers", {"name": None}, 422)
    assert "name" in answer["fields"]


def test_unknown_program_is_404_everywhere(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    for path in ("/programs/nope", "/programs/nope/versions", "/programs/nope/evaluations"):
        get(client, path, 404)
    get(client, "/programs/tiers/versions/9", 404)
    refused(client, "post", "/programs/nope/evaluations", {"as_of": "2026-09-30"}, 404)
    refused(client, "post", "/programs/nope/draft", None, 404)
    refused(client, "post", "/programs/nope/publish", None, 404)
    refused(client, "post", "/programs/nope/what-if", {"dates": ["2026-09-30"]}, 404)
    # A code no program can have is a bad request, not a lookup.
    get(client, "/programs/not%20a%20code", 422)


# -- versions, draft, publish ----------------------------------------------------------
def test_partners_never_see_drafts(
    world: dict, api: Any, channel_manager: Any, partner_a_user: Any
) -> None:
    services.start_draft(actor=None, program=world["program"])
    staff = get(api(channel_manager), "/programs/tiers/versions")
    assert [(v["number"], v["status"]) for v in staff["items"]] == [
        (2, "draft"),
        (1, "published"),
    ]
    partner = get(api(partner_a_user), "/programs/tiers/versions")
    assert [v["number"] for v in partner["items"]] == [1]
    get(api(partner_a_user), "/programs/tiers/versions/2", 404)
    live = get(api(partner_a_user), "/programs/tiers/versions/1")
    assert [t["code"] for t in live["content"]["tiers"]] == ["registered", "silver", "gold"]


def test_draft_cycle_start_save_publish_discard(
    world: dict, api: Any, channel_manager: Any
) -> None:
    client = api(channel_manager)
    started = send(client, "post", "/programs/tiers/draft", None, 201)
    assert started["number"] == 2 and started["status"] == "draft"
    live = get(client, "/programs/tiers/versions/1")["content"]
    assert started["content"]["tiers"] == live["tiers"]  # copied from the live version
    assert send(client, "post", "/programs/tiers/draft", None, 200)["number"] == 2

    content = dict(live, tiers=[*live["tiers"][:2], tier("gold", criterion(4000))])
    saved = send(client, "put", "/programs/tiers/draft", content)
    assert saved["content"]["tiers"][2]["criteria"][0]["threshold"] == "4000"

    published = send(client, "post", "/programs/tiers/publish")
    assert (published["number"], published["status"]) == (2, "published")
    statuses = {v["number"]: v["status"] for v in get(client, "/programs/tiers/versions")["items"]}
    assert statuses == {1: "retired", 2: "published"}
    program = get(client, "/programs/tiers")
    assert (program["live_version"], program["draft_version"]) == (2, None)

    send(client, "post", "/programs/tiers/draft", None, 201)
    send(client, "delete", "/programs/tiers/draft", None, 204)
    assert not ProgramVersion.objects.filter(program=world["program"], status="draft").exists()


def test_publish_or_discard_without_draft_is_409(
    world: dict, api: Any, channel_manager: Any
) -> None:
    client = api(channel_manager)
    answer = refused(client, "post", "/programs/tiers/publish", None, 409)
    assert answer["error"] == "conflict"
    refused(client, "delete", "/programs/tiers/draft", None, 409)


def test_publish_a_draft_without_tiers_is_422(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    send(client, "put", "/programs/tiers/draft", {"tiers": []})
    answer = refused(client, "post", "/programs/tiers/publish", None, 422)
    assert "tiers" in answer["fields"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"tiers": [tier("a"), tier("b", criterion("1,2,3x"))]}, "tiers.1.criteria.0.threshold"),
        ({"tiers": [tier("a"), tier("b", criterion("NaN"))]}, "tiers.1.criteria.0.threshold"),
        ({"tiers": [tier("a"), tier("b", criterion("1e30"))]}, "tiers.1.criteria.0.threshold"),
        (
            {"tiers": [tier("a"), tier("b", criterion(5, metric="nope"))]},
            "tiers.1.criteria.0.metric",
        ),
        ({"tiers": [tier("a", criterion(5, comparator="eq"))]}, "tiers.0.criteria.0.comparator"),
        ({"tiers": [tier("a", benefits={"discount_pct": "101"})]}, "tiers.0.benefits.discount_pct"),
        ({"tiers": [tier("a", benefits={"free_lunch": True})]}, "tiers.0.benefits.free_lunch"),
        ({"tiers": [tier("bad code")]}, "tiers.0.code"),
        ({"tiers": [tier("a", name="")]}, "tiers.0.name"),
        ({"tiers": [tier(f"t{i}") for i in range(13)]}, "tiers"),
        ({"hysteresis_pct": "60"}, "hysteresis_pct"),
        ({"cost_basis_window": "fortnight"}, "cost_basis_window"),
        ({"notes": "\ud800"}, "notes"),
    ],
)
def test_save_draft_errors_name_the_place(
    world: dict, api: Any, channel_manager: Any, content: dict, field: str
) -> None:
    answer = refused(api(channel_manager), "put", "/programs/tiers/draft", content, 422)
    assert field in answer["fields"], answer["fields"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/programs/tiers/draft", None),
        ("put", "/programs/tiers/draft", {"tiers": [{"code": "x", "name": "X"}]}),
        ("post", "/programs/tiers/publish", None),
        ("delete", "/programs/tiers/draft", None),
    ],
)
def test_partners_cannot_edit_or_publish(
    world: dict, api: Any, partner_a_user: Any, method: str, path: str, body: Any
) -> None:
    services.start_draft(actor=None, program=world["program"])
    refused(api(partner_a_user), method, path, body, 403)


# -- evaluations ------------------------------------------------------------------------
def test_evaluate_through_the_api(world: dict, api: Any, channel_manager: Any) -> None:
    run = send(
        api(channel_manager), "post", "/programs/tiers/evaluations", {"as_of": "2026-12-31"}, 201
    )
    assert run["trigger"] == "api" and run["applied"] is True
    assert (run["program"], run["version"], run["as_of"]) == ("tiers", 1, "2026-12-31")
    assert run["organisation_count"] == 3
    # Grace ran out on 2026-12-29: A and B are demoted to silver.
    assert run["summary"]["distribution"] == {"silver": 2, "registered": 1}
    assert run["summary"]["outcomes"]["demoted"] == 2
    assert run["summary"]["changes"] == 2
    assert EvaluationRun.objects.get(pk=run["id"]).created_by == channel_manager
    assert Membership.objects.get(organisation_id=world["a"]).tier_code == "silver"
    assert get(api(channel_manager), f"/evaluations/{run['id']}") == run


def test_applying_an_earlier_as_of_is_422_but_a_preview_is_fine(
    world: dict, api: Any, channel_manager: Any
) -> None:
    client = api(channel_manager)
    answer = refused(client, "post", "/programs/tiers/evaluations", {"as_of": "2026-03-31"}, 422)
    assert "as_of" in answer["fields"]
    before = Membership.objects.order_by("pk").values_list("tier_code", "grace_until")
    before = list(before)
    preview = send(
        client, "post", "/programs/tiers/evaluations", {"as_of": "2026-03-31", "apply": False}, 201
    )
    assert preview["applied"] is False and "changes" not in preview["summary"]
    after = Membership.objects.order_by("pk").values_list("tier_code", "grace_until")
    assert list(after) == before


def test_evaluate_without_live_version_is_409(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    send(client, "post", "/programs", {"code": "empty", "name": "Empty"}, 201)
    refused(client, "post", "/programs/empty/evaluations", {"as_of": "2026-09-30"}, 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "0001-01-01"}, "as_of"),
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({}, "as_of"),
        ({"as_of": "2026-12-31", "apply": "maybe"}, "apply"),
    ],
)
def test_evaluate_bad_input_is_422(
    world: dict, api: Any, channel_manager: Any, body: dict, field: str
) -> None:
    answer = refused(api(channel_manager), "post", "/programs/tiers/evaluations", body, 422)
    assert field in answer["fields"]


@pytest.mark.parametrize("apply", [True, False])
@pytest.mark.parametrize("user", ["partner_a_user", "partner_a_viewer", "analyst"])
def test_evaluating_needs_permission_even_for_a_preview(
    request: Any, world: dict, api: Any, user: str, apply: bool
) -> None:
    client = api(request.getfixturevalue(user))
    body = {"as_of": "2026-12-31", "apply": apply}
    refused(client, "post", "/programs/tiers/evaluations", body, 403)


def test_runs_are_for_staff(
    world: dict, api: Any, analyst: Any, partner_a_user: Any, partner_b_user: Any
) -> None:
    runs = get(api(analyst), "/programs/tiers/evaluations")
    assert [r["id"] for r in runs["items"]] == [world["run"], world["first"]]
    assert runs["items"][0]["summary"]["warnings"] == 2
    for partner in (partner_a_user, partner_b_user):
        get(api(partner), "/programs/tiers/evaluations", 403)
        get(api(partner), f"/evaluations/{world['run']}", 404)
        get(api(partner), f"/evaluations/{world['run']}/results", 404)
        get(api(partner), f"/evaluations/{world['run']}/results/{world['a']}", 404)
        get(api(partner), f"/evaluations/{world['run']}/warnings", 404)
    get(api(analyst), "/evaluations/999999", 404)


def test_results_filter_and_page(world: dict, api: Any, analyst: Any) -> None:
    client = api(analyst)
    path = f"/evaluations/{world['run']}/results"
    every = get(client, path)
    assert every["count"] == 3
    names = [item["organisation_name"] for item in every["items"]]
    assert names == ["Alpha Distribution", "Alpha Retail Shanghai", "Bravo Resellers"]
    alpha = every["items"][0]
    assert alpha["values"] == {"revenue@trailing_12": "1200.00"}
    assert (alpha["previous_tier"], alpha["qualified_tier"], alpha["resulting_tier"]) == (
        "gold",
        "silver",
        "gold",
    )
    assert (alpha["outcome"], alpha["grace_until"]) == ("grace_opened", "2026-12-29")
    gold = get(client, f"{path}?tier=gold")
    assert {i["organisation_id"] for i in gold["items"]} == {world["a"], world["b"]}
    unchanged = get(client, f"{path}?outcome=unchanged")
    assert [i["organisation_id"] for i in unchanged["items"]] == [world["child"]]
    assert get(client, f"{path}?q=bravo")["count"] == 1
    page = get(client, f"{path}?limit=1&offset=2")
    assert page["count"] == 3 and [i["organisation_name"] for i in page["items"]] == [
        "Bravo Resellers"
    ]
    get(client, f"{path}?outcome=lucky", 422)
    get(client, f"{path}?limit=0", 422)


def test_result_and_warning_pages_take_the_same_queries_for_more_organisations(
    world: dict, api: Any, analyst: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(analyst)
    client.get(f"{V1}/programs")  # the token's first use writes last_used_at

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(V1 + path).status_code == 200
        return len(captured)

    paths = ("/evaluations/{run}/results", "/evaluations/{run}/warnings")
    small = [queries(path.format(run=world["run"])) for path in paths]
    # Six more organisations that, like A, fall from gold into a grace period.
    others = OrganisationFactory.create_batch(6)
    sell_many([(org, D(2025, 8, 15), 6000) for org in others])
    sell_many([(org, D(2026, 2, 1), 1200) for org in others])
    program = make_program(None, ladder(1000, 5000), code="again")
    services.evaluate_program(actor=None, program=program, as_of=D(2026, 6, 30))
    big = services.evaluate_program(actor=None, program=program, as_of=D(2026, 9, 30))
    assert big.organisation_count == 9 and big.summary["warnings"] == 8
    assert [queries(path.format(run=big.pk)) for path in paths] == small


def test_explanation_shows_every_criterion_and_the_gap(world: dict, api: Any, analyst: Any) -> None:
    body = get(api(analyst), f"/evaluations/{world['run']}/results/{world['a']}")
    assert (body["organisation_name"], body["as_of"], body["outcome"]) == (
        "Alpha Distribution",
        "2026-09-30",
        "grace_opened",
    )
    silver, gold = body["tiers"][1], body["tiers"][2]
    assert silver["passed"] is True and gold["passed"] is False
    check = gold["criteria"][0]
    assert check["value"] == "1200.00"
    assert float(check["threshold"]) == 5000 and float(check["keep_threshold"]) == 4500
    assert (check["passed"], check["kept"]) == (False, False)
    assert body["gap"]["tier"] == "gold" and body["gap"]["missing"] == 1
    assert body["gap"]["items"][0]["text"] == "needs 3,800 more revenue in the trailing 12 months"
    get(api(analyst), f"/evaluations/{world['run']}/results/{world['vendor']}", 404)


def test_warnings_list_and_notify_the_account_manager(
    world: dict, api: Any, analyst: Any, channel_manager: Any
) -> None:
    warnings = get(api(analyst), f"/evaluations/{world['run']}/warnings")
    assert {(w["organisation_id"], w["kind"], w["tier_code"]) for w in warnings["items"]} == {
        (world["a"], "grace", "gold"),
        (world["b"], "grace", "gold"),
    }
    assert warnings["items"][0]["next_evaluation"] == "2026-12-31"
    assert warnings["items"][0]["details"] == {"grace_until": "2026-12-29", "target": "silver"}
    inbox = get(api(channel_manager), "/notifications")
    assert inbox["count"] == 2
    assert {n["organisation_id"] for n in inbox["items"]} == {world["a"], world["b"]}
    assert get(api(analyst), "/notifications")["count"] == 0


def test_regional_coordinator_sees_only_its_territory_in_a_run(
    world: dict, api: Any, regional_coordinator: Any
) -> None:
    """Partner A is assigned to the coordinator's territory; its child and B are not."""
    client = api(regional_coordinator)
    run = get(client, f"/evaluations/{world['run']}")
    assert run["organisation_count"] == 1
    assert run["summary"] == {"distribution": {"gold": 1}, "outcomes": {"grace_opened": 1}}
    assert [r["id"] for r in get(client, "/programs/tiers/evaluations")["items"]] == [
        world["run"],
        world["first"],
    ]
    results = get(client, f"/evaluations/{world['run']}/results")
    assert [r["organisation_id"] for r in results["items"]] == [world["a"]]
    warnings = get(client, f"/evaluations/{world['run']}/warnings")
    assert [w["organisation_id"] for w in warnings["items"]] == [world["a"]]
    get(client, f"/evaluations/{world['run']}/results/{world['b']}", 404)


def test_run_outside_a_coordinators_territory_is_404(
    world: dict, api: Any, regional_coordinator: Any, channel_manager: Any
) -> None:
    send(api(channel_manager), "patch", "/programs/tiers", {"kinds": ["reseller"]})
    run = send(
        api(channel_manager),
        "post",
        "/programs/tiers/evaluations",
        {"as_of": "2026-09-30", "apply": False},
        201,
    )
    assert run["organisation_count"] == 1  # B only
    client = api(regional_coordinator)
    get(client, f"/evaluations/{run['id']}", 404)
    listed = [r["id"] for r in get(client, "/programs/tiers/evaluations")["items"]]
    assert run["id"] not in listed and world["run"] in listed


# -- an organisation's tiers and history --------------------------------------------------
def test_organisation_tiers_explain_the_latest_evaluation(
    world: dict, api: Any, partner_a_viewer: Any
) -> None:
    (tiers,) = get(api(partner_a_viewer), f"/organisations/{world['a']}/tiers")
    assert (tiers["program"], tiers["tier_code"], tiers["effective_tier"]) == (
        "tiers",
        "gold",
        "gold",
    )
    assert (tiers["tier_name"], tiers["since"]) == ("Gold", "2026-06-30")
    assert (tiers["grace_target"], tiers["grace_until"]) == ("silver", "2026-12-29")
    assert tiers["override"] is None
    assert tiers["benefits"]["discount_pct"] == "5.00"
    latest = tiers["latest"]
    assert latest["run_id"] == world["run"] and latest["qualified_tier"] == "silver"
    assert latest["gap"]["items"][0]["text"].startswith("needs 3,800 more revenue")
    assert [w["kind"] for w in tiers["warnings"]] == ["grace"]
    assert {w["organisation_id"] for w in tiers["warnings"]} == {world["a"]}


def test_tier_history(world: dict, api: Any, partner_a_user: Any, channel_manager: Any) -> None:
    services.override_tier(
        actor=channel_manager,
        program=world["program"],
        organisation=Organisation.objects.get(pk=world["a"]),
        tier="silver",
        reason="Distributor agreement renegotiated",
        until=dt.date.fromisoformat(FAR),
    )
    history = get(api(partner_a_user), f"/organisations/{world['a']}/tier-history?program=tiers")
    assert [(h["kind"], h["from_tier"], h["to_tier"]) for h in history["items"]] == [
        ("override", "gold", "silver"),
        ("entry", "", "gold"),
    ]
    assert history["items"][0]["reason"] == "Distributor agreement renegotiated"
    assert history["items"][1]["run_id"] == world["first"]
    assert get(api(partner_a_user), f"/organisations/{world['a']}/tier-history") == history
    get(api(partner_a_user), f"/organisations/{world['a']}/tier-history?program=nope", 404)


# -- overrides -------------------------------------------------------------------------
def test_override_and_end_it(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    body = {"organisation_id": world["b"], "tier": "silver", "reason": "Strategic", "until": FAR}
    membership = send(client, "post", "/programs/tiers/overrides", body)
    assert membership["effective_tier"] == "silver" and membership["tier_code"] == "gold"
    assert membership["override"] == {"tier": "silver", "reason": "Strategic", "until": FAR}
    (tiers,) = get(client, f"/organisations/{world['b']}/tiers")
    assert tiers["effective_tier"] == "silver" and tiers["effective_tier_name"] == "Silver"
    assert tiers["benefits"]["discount_pct"] == "2.00"

    path = f"/programs/tiers/overrides/{world['b']}"
    ended = send(client, "delete", path, {"reason": "Back to the rules"})
    assert ended["override"] is None and ended["effective_tier"] == "gold"
    change = TierChange.objects.filter(organisation_id=world["b"]).first()
    assert (change.kind, change.reason) == ("override_ended", "Back to the rules")
    refused(client, "delete", path, {"reason": "Again"}, 409)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": None}, "reason"),
        ({"tier": "diamond"}, "tier"),
        ({"until": "2020-01-01"}, "until"),
        ({"until": "2099-01-01"}, "until"),
        ({"until": "soon"}, "until"),
        ({"organisation_id": 999999}, "organisation_id"),
        ({"organisation_id": 0}, "organisation_id"),
    ],
)
def test_override_bad_input_is_422(
    world: dict, api: Any, channel_manager: Any, change: dict, field: str
) -> None:
    body = {"organisation_id": world["b"], "tier": "silver", "reason": "Strategic", "until": FAR}
    answer = refused(
        api(channel_manager), "post", "/programs/tiers/overrides", {**body, **change}, 422
    )
    assert field in answer["fields"], answer["fields"]


def test_ending_an_override_needs_a_reason(world: dict, api: Any, channel_manager: Any) -> None:
    services.override_tier(
        actor=None,
        program=world["program"],
        organisation=Organisation.objects.get(pk=world["b"]),
        tier="silver",
        reason="Strategic",
        until=dt.date.fromisoformat(FAR),
    )
    path = f"/programs/tiers/overrides/{world['b']}"
    for body in ({}, {"reason": ""}):
        answer = refused(api(channel_manager), "delete", path, body, 422)
        assert "reason" in answer["fields"]
    refused(
        api(channel_manager),
        "delete",
        f"/programs/tiers/overrides/{world['vendor']}",
        {"reason": "x"},
        404,
    )


def test_partners_cannot_override(
    world: dict, api: Any, partner_a_user: Any, partner_b_user: Any
) -> None:
    services.override_tier(
        actor=None,
        program=world["program"],
        organisation=Organisation.objects.get(pk=world["a"]),
        tier="silver",
        reason="Strategic",
        until=dt.date.fromisoformat(FAR),
    )
    body = {"organisation_id": world["a"], "tier": "gold", "reason": "Mine", "until": FAR}
    refused(api(partner_a_user), "post", "/programs/tiers/overrides", body, 403)
    # B cannot even name A: an organisation it does not see is unknown.
    answer = refused(api(partner_b_user), "post", "/programs/tiers/overrides", body, 422)
    assert "organisation_id" in answer["fields"]
    path = f"/programs/tiers/overrides/{world['a']}"
    refused(api(partner_a_user), "delete", path, {"reason": "Mine"}, 403)
    refused(api(partner_b_user), "delete", path, {"reason": "Theirs"}, 404)


# -- what-if ------------------------------------------------------------------------
def test_what_if_compares_the_draft_with_the_live_version(
    world: dict, api: Any, channel_manager: Any
) -> None:
    client = api(channel_manager)
    easier = ladder(1000, 1500)
    send(client, "put", "/programs/tiers/draft", easier)
    before = fingerprint()
    body = {"dates": ["2026-09-30", "2026-06-30", "2026-06-30"]}
    answer = send(client, "post", "/programs/tiers/what-if", body)
    assert fingerprint() == before  # a what-if stores nothing
    assert (answer["live_version"], answer["draft_version"], answer["organisations"]) == (1, 2, 3)
    assert [d["as_of"] for d in answer["dates"]] == ["2026-06-30", "2026-09-30"]
    june, september = answer["dates"]
    assert june["moved"] == 0
    assert june["live"]["distribution"] == {"gold": 2, "registered": 1}
    # On 2026-09-30 B (2,000) meets the draft's gold (1,500) outright; A (1,200) does not.
    assert september["draft"]["distribution"] == {"gold": 2, "registered": 1}
    assert september["moved"] == 0
    # Version 1 against itself moves no one, and its number must exist.
    same = send(client, "post", "/programs/tiers/what-if", {"dates": ["2026-09-30"], "version": 1})
    assert same["draft_version"] == 1 and same["dates"][0]["moved"] == 0
    answer = refused(
        client, "post", "/programs/tiers/what-if", {"dates": ["2026-09-30"], "version": 7}, 422
    )
    assert "version" in answer["fields"]


def test_what_if_lists_movers(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    send(client, "put", "/programs/tiers/draft", ladder(250, 1100, grace_days=0))
    answer = send(client, "post", "/programs/tiers/what-if", {"dates": ["2026-09-30"]})
    (day,) = answer["dates"]
    # Without history the live rules give A and B silver; the draft gives them gold and
    # lifts the child (300) to silver.
    assert day["live"]["distribution"] == {"silver": 2, "registered": 1}
    assert day["draft"]["distribution"] == {"gold": 2, "silver": 1}
    assert (day["moved"], day["up"], day["down"]) == (3, 3, 0)
    assert {(m["organisation"], m["live"], m["draft"]) for m in day["movers"]} == {
        (world["a"], "silver", "gold"),
        (world["b"], "silver", "gold"),
        (world["child"], "registered", "silver"),
    }


@pytest.mark.parametrize(
    "dates",
    [
        [],
        ["2026-13-01"],
        ["31/12/2026"],
        ["0001-01-01"],
        [f"2026-{m:02d}-01" for m in range(1, 13)] + ["2027-01-01"],
        "2026-09-30",
        None,
    ],
)
def test_what_if_bad_dates_are_422(world: dict, api: Any, channel_manager: Any, dates: Any) -> None:
    client = api(channel_manager)
    services.start_draft(actor=None, program=world["program"])
    answer = refused(client, "post", "/programs/tiers/what-if", {"dates": dates}, 422)
    assert any(key.startswith("dates") for key in answer["fields"]), answer["fields"]


def test_what_if_without_draft_is_422(world: dict, api: Any, channel_manager: Any) -> None:
    answer = refused(
        api(channel_manager), "post", "/programs/tiers/what-if", {"dates": ["2026-09-30"]}, 422
    )
    assert "version" in answer["fields"]


@pytest.mark.parametrize("user", ["partner_a_user", "analyst"])
def test_what_if_needs_the_evaluate_permission(
    request: Any, world: dict, api: Any, user: str
) -> None:
    services.start_draft(actor=None, program=world["program"])
    client = api(request.getfixturevalue(user))
    refused(client, "post", "/programs/tiers/what-if", {"dates": ["2026-09-30"]}, 403)


# -- isolation: partner B never sees anything of A -------------------------------------
A_PATHS = [
    "/organisations/{a}/tiers",
    "/organisations/{a}/tier-history",
    "/organisations/{a}/tier-history?program=tiers",
    "/organisations/{child}/tiers",
    "/evaluations/{run}",
    "/evaluations/{run}/results",
    "/evaluations/{run}/results/{a}",
    "/evaluations/{run}/warnings",
]


@pytest.mark.parametrize("path", A_PATHS)
def test_other_partner_gets_404_for_a(
    world: dict, api: Any, partner_b_user: Any, path: str
) -> None:
    get(api(partner_b_user), path.format(**world), 404)


def test_each_partner_sees_only_its_own_tiers_and_history(
    world: dict, api: Any, partner_a_user: Any, partner_b_user: Any
) -> None:
    a_tiers = get(api(partner_a_user), f"/organisations/{world['a']}/tiers")
    b_tiers = get(api(partner_b_user), f"/organisations/{world['b']}/tiers")
    for body, own in ((a_tiers, world["a"]), (b_tiers, world["b"])):
        (item,) = body
        assert item["organisation_id"] == own
        assert item["latest"]["organisation_id"] == own
        assert {w["organisation_id"] for w in item["warnings"]} == {own}
    history = get(api(partner_b_user), f"/organisations/{world['b']}/tier-history")
    assert {h["organisation_id"] for h in history["items"]} == {world["b"]}
    # A parent sees its child; the child's tiers are its own.
    (child,) = get(api(partner_a_user), f"/organisations/{world['child']}/tiers")
    assert child["organisation_id"] == world["child"] and child["tier_code"] == "registered"


def test_anonymous_is_401(world: dict, api: Any) -> None:
    from accord.api import api as ninja_api

    client = api(None)
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            if operation["tags"] != ["programs"]:
                continue
            url = path.format(code="tiers", id=world["run"], number=1, organisation_id=world["a"])
            before = fingerprint()
            response = call(client, method, url, None if method == "get" else {})
            assert response.status_code == 401, (method, url)
            assert response.json()["error"] == "unauthenticated"
            assert fingerprint() == before


# -- robustness: no content, however odd, is a server error --------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(["code", "name", "combine", "at_least", "benefits", "criteria", "x"])
CRITERION = st.fixed_dictionaries(
    {},
    optional={
        "metric": st.sampled_from(["revenue", "orders", "nope", ""]) | JSON,
        "comparator": st.sampled_from(["gte", "lt", "eq"]) | JSON,
        "threshold": st.sampled_from(["1", "-5.5", "1e40", "NaN", "0.0000001"]) | JSON,
        "window": st.sampled_from(["month", "trailing_3", "trailing_0", "trailing_999"]) | JSON,
    },
)
TIER = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from(["a", "b", "a b", ""]) | JSON,
        "name": st.sampled_from(["A", "", "x" * 81]) | JSON,
        "combine": st.sampled_from(["all", "any", "at_least"]) | JSON,
        "at_least": st.integers(-1, 13) | JSON,
        "benefits": st.dictionaries(
            st.sampled_from(["discount_pct", "support_sla_hours", "lead_priority", "y"]),
            st.integers(-5, 10_000) | JSON,
            max_size=3,
        )
        | JSON,
        "criteria": st.lists(CRITERION, max_size=3) | JSON,
    },
)
CONTENT = (
    st.fixed_dictionaries(
        {},
        optional={
            "grace_days": st.integers(-1, 4000) | JSON,
            "hysteresis_pct": st.sampled_from(["5", "50.01", "-1"]) | JSON,
            "cost_basis_metric": st.sampled_from(["revenue", "nope"]) | JSON,
            "cost_basis_window": st.sampled_from(["year", "week"]) | JSON,
            "notes": JSON,
            "tiers": st.lists(TIER, max_size=3) | JSON,
        },
    )
    | JSON
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=CONTENT)
def test_any_draft_content_is_saved_or_refused_never_a_server_error(
    world: dict, api: Any, channel_manager: Any, content: Any
) -> None:
    response = call(api(channel_manager), "put", f"{V1}/programs/tiers/draft", content)
    assert response.status_code in (200, 422), response.content
    if response.status_code == 200:
        # Whatever was accepted can be evaluated as a preview.
        run = services.evaluate_program(
            actor=None,
            program=Program.objects.get(code="tiers"),
            as_of=D(2026, 9, 30),
            apply=False,
            version=ProgramVersion.objects.get(program__code="tiers", status="draft"),
        )
        assert run.organisation_count == 3
    else:
        assert response.json()["fields"]


# The tests above cover every programs operation for isolation and permissions:
# operation -> the tests that do.
PROGRAMS_OPERATIONS = {
    "programs_list": ("test_programs_list_shows_the_draft_number_to_staff_only",),
    "programs_create": (
        "test_create_program_needs_permission",
        "test_create_program_bad_content_names_the_place",
    ),
    "programs_get": ("test_programs_list_shows_the_draft_number_to_staff_only",),
    "programs_update": ("test_update_program",),
    "programs_versions_list": ("test_partners_never_see_drafts",),
    "programs_versions_get": ("test_partners_never_see_drafts",),
    "programs_draft_start": ("test_partners_cannot_edit_or_publish",),
    "programs_draft_save": ("test_partners_cannot_edit_or_publish",),
    "programs_draft_discard": ("test_partners_cannot_edit_or_publish",),
    "programs_publish": ("test_partners_cannot_edit_or_publish",),
    "programs_evaluate": ("test_evaluating_needs_permission_even_for_a_preview",),
    "programs_evaluations_list": (
        "test_runs_are_for_staff",
        "test_run_outside_a_coordinators_territory_is_404",
    ),
    "evaluations_get": ("test_runs_are_for_staff", "test_other_partner_gets_404_for_a"),
    "evaluations_results": (
        "test_runs_are_for_staff",
        "test_regional_coordinator_sees_only_its_territory_in_a_run",
    ),
    "evaluations_explain": ("test_runs_are_for_staff", "test_other_partner_gets_404_for_a"),
    "evaluations_warnings": (
        "test_runs_are_for_staff",
        "test_regional_coordinator_sees_only_its_territory_in_a_run",
    ),
    "programs_what_if": ("test_what_if_needs_the_evaluate_permission",),
    "organisations_tiers": (
        "test_other_partner_gets_404_for_a",
        "test_each_partner_sees_only_its_own_tiers_and_history",
    ),
    "organisations_tier_history": (
        "test_other_partner_gets_404_for_a",
        "test_each_partner_sees_only_its_own_tiers_and_history",
    ),
    "programs_override": ("test_partners_cannot_override",),
    "programs_override_end": ("test_partners_cannot_override",),
}


def test_every_programs_operation_has_isolation_tests() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["programs"]
    }
    assert operations == set(PROGRAMS_OPERATIONS)
    for tests in PROGRAMS_OPERATIONS.values():
        assert all(callable(globals().get(test)) for test in tests)


# -- Schemathesis on these operations, aimed at real programs, runs and organisations ------
# (The API-wide leg in tests/api_fuzz meets no program, so its calls end at 404.)
FUZZ_SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application()).include(
    tag=["programs", "scorecards"]
)
FUZZ_SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "8")),
    deterministic=os.environ.get("ACCORD_FUZZ_DETERMINISTIC", "1") != "0",
)
# The coverage phase (every boundary value of every field, ~1.5 min more) only when asked:
# ACCORD_FUZZ_PHASES=examples,coverage,fuzzing.
FUZZ_SCHEMA.config.phases.update(
    phases=os.environ.get("ACCORD_FUZZ_PHASES", "examples,fuzzing").split(",")
)
FUZZ_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_world(
    world: dict, api: Any, partner_a_user: Any, channel_manager: Any
) -> Iterator[dict[str, Any]]:
    """The world plus a scored scorecard, and tokens of partner A and of a channel
    manager. Requests go straight through the WSGI app, so Django's end-of-request
    handler must not close the test's database connection."""
    from accord.accounts.services import create_api_token
    from accord.programs import scorecards

    template = scorecards.save_scorecard(
        actor=None,
        data={"code": "card", "name": "Card"},
        content={
            "criteria": [
                {"metric": "revenue", "weight": 100, "points": [["0", "0"], ["5000", "100"]]}
            ],
            "standings": [{"code": "all", "min_score": "0", "max_score": "100"}],
        },
    )
    scorecards.score_scorecard(actor=None, template=template, as_of=D(2026, 9, 30))
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {
        **world,
        "tokens": [
            create_api_token(actor=None, user=user, name="fuzz")[1]
            for user in (partner_a_user, channel_manager)
        ],
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def aim(case: Any, world: dict[str, Any]) -> None:
    """Point the case's path at rows that exist (its body and query stay generated)."""
    params = case.path_parameters
    if params is None:
        return
    if "code" in params:
        params["code"] = "card" if "/scorecards/" in case.path else "tiers"
    if "id" in params:
        params["id"] = world["run"] if case.path.startswith("/api/v1/evaluations") else world["a"]
    if "organisation_id" in params:
        params["organisation_id"] = world["b"]
    if "number" in params:
        params["number"] = 1


@pytest.mark.fuzz
@FUZZ_SCHEMA.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzzed_calls_on_real_rows_never_fail(case: Any, fuzz_world: dict[str, Any]) -> None:
    aim(case, fuzz_world)
    for token in fuzz_world["tokens"]:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=FUZZ_CHECKS)
