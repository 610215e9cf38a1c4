"""The scorecards REST API over a real database and HTTP: templates with criteria and
standings, scoring, the scores list, an organisation's trend and what its standing means
for deal registration, MDF requests and orders — error paths, permissions, isolation.

The world: one quarterly scorecard, revenue 0 → 0 and 1,000 → 100 (linear, weight 100),
decay 0.5 over 4 quarters; standings at-risk [0, 40) blocking deal registration and MDF,
watch [40, 70) warning on them, good [70, 100]. Scored as of 2026-09-30 (Q4 2025 to
Q3 2026):
  A: Q4 400 (40), Q1 nothing (no activity), Q2 800 (80), Q3 1,200 (100)
     overall (100 + 80 * 0.5 + 40 * 0.125) / 1.625 = 89.23 → good
  B: Q1 200 (20), Q3 500 (50): overall (50 + 20 * 0.25) / 1.25 = 44.00 → watch
  A's child: no sales at all: every period no activity, no overall, no standing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accord.partners.models import Organisation
from accord.programs import scorecards
from accord.programs.models import Score, ScorecardTemplate
from tests.apitools import call, fingerprint
from tests.programs.builders import D, sell_many

pytestmark = pytest.mark.django_db
V1 = "/api/v1"

CRITERIA = [{"metric": "revenue", "weight": 100, "rule": "linear", "points": [[0, 0], [1000, 100]]}]
STANDINGS = [
    {
        "code": "at-risk",
        "name": "At risk",
        "min_score": 0,
        "max_score": 40,
        "deal_registration": "block",
        "mdf_requests": "block",
        "review_meeting": True,
    },
    {
        "code": "watch",
        "name": "Watch",
        "min_score": 40,
        "max_score": 70,
        "deal_registration": "warn",
        "mdf_requests": "warn",
    },
    {"code": "good", "name": "Good standing", "min_score": 70, "max_score": 100},
]


@pytest.fixture
def world(
    vendor: Organisation,
    partner_a: Organisation,
    partner_a_child: Organisation,
    partner_b: Organisation,
) -> dict[str, Any]:
    sell_many(
        [
            (partner_a, D(2025, 11, 10), 400),
            (partner_a, D(2026, 5, 5), 800),
            (partner_a, D(2026, 8, 1), 1200),
            (partner_b, D(2026, 2, 10), 200),
            (partner_b, D(2026, 8, 15), 500),
        ]
    )
    template = scorecards.save_scorecard(
        actor=None,
        data={"code": "card", "name": "Partner scorecard", "period": "quarter", "decay": "0.5"},
        content={"criteria": CRITERIA, "standings": STANDINGS},
    )
    scorecards.score_scorecard(actor=None, template=template, as_of=D(2026, 9, 30))
    return {
        "a": partner_a.pk,
        "child": partner_a_child.pk,
        "b": partner_b.pk,
        "vendor": vendor.pk,
        "template": template,
    }


def get(client: Client, path: str, status: int = 200) -> Any:
    response = client.get(V1 + path)
    assert response.status_code == status, (path, response.content)
    body = response.json()
    if status >= 400:
        assert set(body) == {"error", "detail", "fields"}
    return body


def refused(client: Client, method: str, path: str, body: Any, status: int) -> dict:
    """A write that must be refused with ``status`` and change nothing anywhere."""
    before = fingerprint()
    response = call(client, method, V1 + path, body)
    assert response.status_code == status, response.content
    assert fingerprint() == before
    answer = response.json()
    assert set(answer) == {"error", "detail", "fields"}
    return answer


def new_card(**change: Any) -> dict[str, Any]:
    return {
        "code": "new-card",
        "name": "New card",
        "criteria": CRITERIA,
        "standings": STANDINGS,
        **change,
    }


# -- templates --------------------------------------------------------------------------
def test_list_and_get(world: dict, api: Any, partner_a_viewer: Any) -> None:
    client = api(partner_a_viewer)
    listed = get(client, "/scorecards")
    assert listed["count"] == 1
    assert (listed["items"][0]["code"], listed["items"][0]["decay"]) == ("card", "0.500")
    card = get(client, "/scorecards/card")
    assert card["criteria"] == [
        {
            "metric": "revenue",
            "weight": 100,
            "rule": "linear",
            "points": [["0", "0"], ["1000", "100"]],
        }
    ]
    assert [(s["code"], s["min_score"], s["max_score"]) for s in card["standings"]] == [
        ("at-risk", "0.00", "40.00"),
        ("watch", "40.00", "70.00"),
        ("good", "70.00", "100.00"),
    ]
    assert card["standings"][0]["deal_registration"] == "block"
    assert card["standings"][0]["review_meeting"] is True
    get(client, "/scorecards/nope", 404)
    get(client, "/scorecards/no%20such", 422)


def test_create_and_replace(world: dict, api: Any, channel_manager: Any) -> None:
    client = api(channel_manager)
    body = new_card(
        name_zh="新记分卡",
        period="month",
        decay="0.25",
        history_periods=6,
        kinds=["supplier"],
        criteria=[
            {"metric": "on_time_delivery", "weight": 60, "points": [[0.8, 0], [1, 100]]},
            {"metric": "csat", "weight": 40, "rule": "banded", "points": [[0, 0], [4, 80]]},
        ],
    )
    response = call(client, "post", f"{V1}/scorecards", body)
    assert response.status_code == 201, response.content
    card = response.json()
    assert (card["period"], card["decay"], card["history_periods"]) == ("month", "0.250", 6)
    assert card["kinds"] == ["supplier"]
    assert [c["metric"] for c in card["criteria"]] == ["on_time_delivery", "csat"]
    assert card["criteria"][0]["points"] == [["0.8", "0"], ["1", "100"]]

    replaced = {k: v for k, v in body.items() if k != "code"}
    everyone = {"code": "all", "name": "Everyone", "min_score": 0, "max_score": 100}
    replaced.update(name="Renamed", criteria=CRITERIA, standings=[everyone])
    response = call(client, "put", f"{V1}/scorecards/new-card", replaced)
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["name"] == "Renamed" and [s["code"] for s in card["standings"]] == ["all"]
    assert [c["metric"] for c in card["criteria"]] == ["revenue"]
    assert ScorecardTemplate.objects.get(code="new-card").standings.count() == 1


def test_taken_code_is_409(world: dict, api: Any, channel_manager: Any) -> None:
    answer = refused(api(channel_manager), "post", "/scorecards", new_card(code="card"), 409)
    assert "code" in answer["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"criteria": [{**CRITERIA[0], "weight": 90}]}, "criteria"),
        ({"criteria": [{**CRITERIA[0], "metric": "nope"}]}, "criteria.0.metric"),
        ({"criteria": [CRITERIA[0], CRITERIA[0]]}, "criteria.1.metric"),
        ({"criteria": [{**CRITERIA[0], "points": [[0, 0], [0, 100]]}]}, "criteria.0.points"),
        ({"criteria": [{**CRITERIA[0], "points": [[0, 0], [1, 120]]}]}, "criteria.0.points.1.1"),
        ({"criteria": [{**CRITERIA[0], "points": [[0, 0]]}]}, "criteria.0.points"),
        ({"criteria": [{**CRITERIA[0], "rule": "curved"}]}, "criteria.0.rule"),
        ({"criteria": [{**CRITERIA[0], "wieght": 5}]}, "criteria.0.wieght"),
        ({"criteria": []}, "criteria"),
        ({"standings": STANDINGS[:2]}, "standings"),
        ({"standings": [{**STANDINGS[0], "max_score": 50}, *STANDINGS[1:]]}, "standings"),
        ({"standings": [{**STANDINGS[0], "orders": "maybe"}]}, "standings.0.orders"),
        ({"decay": "1.5"}, "decay"),
        ({"history_periods": 0}, "history_periods"),
        ({"period": "week"}, "period"),
        ({"code": "no spaces"}, "code"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_scorecards_are_422(
    world: dict, api: Any, channel_manager: Any, change: dict, field: str
) -> None:
    answer = refused(api(channel_manager), "post", "/scorecards", new_card(**change), 422)
    assert field in answer["fields"], answer["fields"]


@pytest.mark.parametrize("user", ["partner_a_user", "analyst"])
def test_editing_and_scoring_need_permission(
    request: Any, world: dict, api: Any, user: str
) -> None:
    client = api(request.getfixturevalue(user))
    refused(client, "post", "/scorecards", new_card(), 403)
    replaced = {k: v for k, v in new_card().items() if k != "code"}
    refused(client, "put", "/scorecards/card", replaced, 403)
    refused(client, "post", "/scorecards/card/scores", {"as_of": "2026-09-30"}, 403)


# -- scoring ----------------------------------------------------------------------------
def test_scoring_through_the_api(world: dict, api: Any, channel_manager: Any) -> None:
    Score.objects.all().delete()
    response = call(
        api(channel_manager), "post", f"{V1}/scorecards/card/scores", {"as_of": "2026-10-15"}
    )
    assert response.status_code == 200, response.content
    # Q4 2026 is not complete on 2026-10-15: scoring stops at Q3.
    assert response.json() == {
        "as_of": "2026-10-15",
        "organisations": 3,
        "periods": ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"],
        "standings": {"good": 1, "watch": 1},
    }
    assert Score.objects.filter(template=world["template"]).count() == 12


@pytest.mark.parametrize("body", [{}, {"as_of": "2026-02-30"}, {"as_of": "0001-01-01"}])
def test_scoring_bad_as_of_is_422(world: dict, api: Any, channel_manager: Any, body: dict) -> None:
    answer = refused(api(channel_manager), "post", "/scorecards/card/scores", body, 422)
    assert "as_of" in answer["fields"]


def test_scoring_an_unknown_scorecard_is_404(world: dict, api: Any, channel_manager: Any) -> None:
    refused(api(channel_manager), "post", "/scorecards/nope/scores", {"as_of": "2026-09-30"}, 404)


def test_scores_list_for_staff(world: dict, api: Any, analyst: Any) -> None:
    client = api(analyst)
    every = get(client, "/scorecards/card/scores")
    assert every["count"] == 12
    latest = get(client, "/scorecards/card/scores?period_start=2026-07-01")
    by_org = {item["organisation_id"]: item for item in latest["items"]}
    a, b, child = by_org[world["a"]], by_org[world["b"]], by_org[world["child"]]
    assert (a["score"], a["overall"], a["standing"]) == ("100.00", "89.23", "good")
    assert (b["score"], b["overall"], b["standing"]) == ("50.00", "44.00", "watch")
    assert (child["no_activity"], child["score"], child["overall"], child["standing"]) == (
        True,
        None,
        None,
        "",
    )
    assert a["criteria"] == [
        {
            "metric": "revenue",
            "weight": 100,
            "rule": "linear",
            "value": "1200.00",
            "score": "100.00",
        }
    ]
    assert [i["weight"] for i in a["overall_inputs"]] == ["0.125", "0.25", "0.5", "1"]
    watch = get(client, "/scorecards/card/scores?standing=watch")
    assert [i["organisation_id"] for i in watch["items"]] == [world["b"]]
    page = get(client, "/scorecards/card/scores?limit=2&offset=10")
    assert page["count"] == 12 and len(page["items"]) == 2
    get(client, "/scorecards/card/scores?period_start=someday", 422)


def test_scores_page_takes_the_same_queries_for_more_organisations(
    world: dict, api: Any, analyst: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import OrganisationFactory

    client = api(analyst)
    client.get(f"{V1}/scorecards")  # the token's first use writes last_used_at

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            body = get(client, "/scorecards/card/scores")
        return len(captured), body["count"]

    small, count = queries()
    others = OrganisationFactory.create_batch(5)
    sell_many([(org, D(2026, 8, 1), 700) for org in others])
    scorecards.score_scorecard(actor=None, template=world["template"], as_of=D(2026, 9, 30))
    assert queries() == (small, count + 5 * 4)


def test_partners_see_only_their_own_scores(
    world: dict, api: Any, partner_a_user: Any, partner_b_user: Any
) -> None:
    a_rows = get(api(partner_a_user), "/scorecards/card/scores")
    assert {i["organisation_id"] for i in a_rows["items"]} == {world["a"], world["child"]}
    assert a_rows["count"] == 8
    b_rows = get(api(partner_b_user), "/scorecards/card/scores")
    assert {i["organisation_id"] for i in b_rows["items"]} == {world["b"]}
    # Naming the other side's organisation yields nothing, not their rows.
    asked = get(api(partner_b_user), f"/scorecards/card/scores?organisation={world['a']}")
    assert asked == {"count": 0, "items": []}


# -- an organisation's trend and standing -----------------------------------------------
def test_organisation_trend(world: dict, api: Any, partner_a_viewer: Any) -> None:
    (trend,) = get(api(partner_a_viewer), f"/organisations/{world['a']}/scores")
    assert (trend["scorecard"], trend["name"]) == ("card", "Partner scorecard")
    rows = [(p["period_start"], p["no_activity"], p["score"]) for p in trend["periods"]]
    assert rows == [
        ("2025-10-01", False, "40.00"),
        ("2026-01-01", True, None),
        ("2026-04-01", False, "80.00"),
        ("2026-07-01", False, "100.00"),
    ]
    assert trend["periods"][-1]["overall"] == "89.23"
    assert trend["periods"][-1]["criteria"][0]["value"] == "1200.00"
    one = get(api(partner_a_viewer), f"/organisations/{world['a']}/scores?scorecard=card")
    assert one == [trend]
    get(api(partner_a_viewer), f"/organisations/{world['a']}/scores?scorecard=nope", 404)


def test_standing_says_what_each_action_meets(world: dict, api: Any, partner_b_user: Any) -> None:
    body = get(api(partner_b_user), f"/organisations/{world['b']}/standing")
    actions = {item["action"]: item for item in body["actions"]}
    assert actions["deal_registration"]["level"] == "warn"
    assert actions["mdf_requests"]["level"] == "warn"
    assert actions["orders"]["level"] == "none"
    assert actions["deal_registration"]["reasons"] == [
        "Partner scorecard: standing Watch (overall score 44.00, 2026-07-01)"
    ]
    assert actions["orders"]["reasons"] == []
    assert body["standings"] == [
        {
            "scorecard": "card",
            "scorecard_name": "Partner scorecard",
            "standing": "watch",
            "standing_name": "Watch",
            "overall": "44.00",
            "period_start": "2026-07-01",
        }
    ]


def test_standing_at_risk_blocks_and_asks_for_a_review(
    world: dict, api: Any, channel_manager: Any, partner_b_user: Any
) -> None:
    lower = [{**STANDINGS[0], "max_score": 50}, {**STANDINGS[1], "min_score": 50}, STANDINGS[2]]
    replaced = {"name": "Partner scorecard", "criteria": CRITERIA, "standings": lower}
    assert call(api(channel_manager), "put", f"{V1}/scorecards/card", replaced).status_code == 200
    score = call(
        api(channel_manager), "post", f"{V1}/scorecards/card/scores", {"as_of": "2026-09-30"}
    )
    assert score.json()["standings"] == {"good": 1, "at-risk": 1}
    body = get(api(partner_b_user), f"/organisations/{world['b']}/standing")
    levels = {item["action"]: (item["level"], item["review_meeting"]) for item in body["actions"]}
    assert levels == {
        "deal_registration": ("block", True),
        "mdf_requests": ("block", True),
        "orders": ("none", True),
    }


def test_no_scores_no_consequence(world: dict, api: Any, partner_a_user: Any) -> None:
    body = get(api(partner_a_user), f"/organisations/{world['child']}/standing")
    assert {item["level"] for item in body["actions"]} == {"none"}
    assert body["standings"] == []
    # Its trend shows four periods without activity: no score, not zeros.
    (trend,) = get(api(partner_a_user), f"/organisations/{world['child']}/scores")
    assert [(p["no_activity"], p["score"]) for p in trend["periods"]] == [(True, None)] * 4
    assert trend["periods"][-1]["overall"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/organisations/{a}/scores",
        "/organisations/{a}/scores?scorecard=card",
        "/organisations/{a}/standing",
        "/organisations/{child}/standing",
        "/organisations/999999/standing",
    ],
)
def test_other_partner_gets_404(world: dict, api: Any, partner_b_user: Any, path: str) -> None:
    get(api(partner_b_user), path.format(**world), 404)


def test_standing_needs_the_score_permission(world: dict, api: Any) -> None:
    from accord.accounts.models import Role
    from tests.factories import UserFactory

    role = Role.objects.create(
        code="org-reader", name="Reader", scope="all", permissions=["partners.view_organisation"]
    )
    user = UserFactory(organisation=Organisation.objects.vendor(), roles=[role.code])
    get(api(user), f"/organisations/{world['b']}/standing", 403)
    # Without any programs permission the lists are empty, not someone's rows.
    assert get(api(user), f"/organisations/{world['b']}/scores") == []


def test_anonymous_is_401(world: dict, api: Any) -> None:
    from accord.api import api as ninja_api

    client = api(None)
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            if operation["tags"] != ["scorecards"]:
                continue
            url = path.format(code="card", id=world["a"])
            before = fingerprint()
            response = call(client, method, url, None if method == "get" else {})
            assert response.status_code == 401, (method, url)
            assert fingerprint() == before


# The tests above cover every scorecards operation: operation -> the tests that do.
SCORECARDS_OPERATIONS = {
    "scorecards_list": ("test_list_and_get", "test_anonymous_is_401"),
    "scorecards_create": (
        "test_editing_and_scoring_need_permission",
        "test_bad_scorecards_are_422",
    ),
    "scorecards_get": ("test_list_and_get",),
    "scorecards_update": ("test_editing_and_scoring_need_permission",),
    "scorecards_score": ("test_editing_and_scoring_need_permission",),
    "scorecards_scores": ("test_partners_see_only_their_own_scores",),
    "organisations_scores": ("test_other_partner_gets_404", "test_organisation_trend"),
    "organisations_standing": (
        "test_other_partner_gets_404",
        "test_standing_needs_the_score_permission",
    ),
}


def test_every_scorecards_operation_has_isolation_tests() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["scorecards"]
    }
    assert operations == set(SCORECARDS_OPERATIONS)
    for tests in SCORECARDS_OPERATIONS.values():
        assert all(callable(globals().get(test)) for test in tests)
