"""Review: state transitions that must be refused cleanly (4xx, nothing changed): answering a
closed, forged, reused or tampered survey link (public page and API), bad handovers,
recording a cancelled meeting, completing a cancelled action item, reopening an open issue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from accord.governance.models import ActionItem, GovernanceSettings, Issue, Meeting, Tier
from accord.governance.services import health, issues
from tests.apitools import call, fingerprint
from tests.governance.builders import governed, vendor_person

pytestmark = pytest.mark.django_db
G = "/api/v1/governance"
ANSWERS = {
    "communication": 4,
    "satisfaction": 4,
    "trust": 4,
    "compatibility": 4,
    "goal_alignment": 4,
    "nps": 8,
    "comment": "",
}


@pytest.fixture
def surveys(vendor, partner_a, partner_b) -> dict[str, Any]:
    GovernanceSettings.current()
    a, b = governed(partner_a), governed(partner_b)
    a_survey, a_links = health.open_survey(actor=None, organisation=partner_a)
    _b_survey, b_links = health.open_survey(actor=None, organisation=partner_b)
    return {"a": a, "b": b, "a_survey": a_survey, "a_links": a_links, "b_links": b_links}


def _both(client: Any, api_client: Any, token: str) -> list[Any]:
    """The answers sent through the public page and the API."""
    return [
        client.post(f"/governance/survey/{token}/", {k: str(v) for k, v in ANSWERS.items()}),
        call(api_client, "post", f"{G}/survey/{token}", ANSWERS),
    ]


def _assert_refused(responses: list[Any]) -> None:
    page, api_response = responses
    assert 400 <= page.status_code < 500, page.status_code
    assert 400 <= api_response.status_code < 500, api_response.content
    assert set(api_response.json()) == {"error", "detail", "fields"}


def test_closed_survey_refuses_answers(surveys, login, channel_manager) -> None:
    health.close_survey(actor=None, survey=surveys["a_survey"])
    token = surveys["a_links"][0][1]
    before = fingerprint()
    _assert_refused(_both(login(None), login(None), token))
    assert fingerprint() == before


def test_forged_and_tampered_tokens(surveys, login) -> None:
    response_b = surveys["b_links"][0][0]
    forged = [
        "not-a-token",
        signing.dumps({"r": response_b.pk, "n": "guess"}, salt="governance.health"),
        signing.dumps({"r": response_b.pk, "n": "x"}, salt="other.salt"),
        surveys["a_links"][0][1][:-2] + "xx",
        "A" * 5000,
        "%00",
    ]
    before = fingerprint()
    for token in forged:
        _assert_refused(_both(login(None), login(None), token))
        get_api = login(None).get(f"{G}/survey/{token}")
        assert 400 <= get_api.status_code < 500, (token, get_api.status_code)
    assert fingerprint() == before


def test_other_respondents_nonce_on_another_response(surveys, login) -> None:
    """A's token payload pointing at B's response (re-signing is impossible without the key;
    a token from A's survey used verbatim only ever answers A's response)."""
    token = surveys["a_links"][0][1]
    payload = signing.loads(token, salt="governance.health")
    payload["r"] = surveys["b_links"][0][0].pk
    # Unsigned tamper: keep A's signature on a different body.
    body = signing.dumps(payload, salt="governance.health").split(":")[0]
    tampered = body + ":" + token.split(":", 1)[1]
    before = fingerprint()
    _assert_refused(_both(login(None), login(None), tampered))
    assert fingerprint() == before


def test_token_reused(surveys, login) -> None:
    token = surveys["a_links"][0][1]
    first = login(None).post(
        f"/governance/survey/{token}/", {k: str(v) for k, v in ANSWERS.items()}
    )
    assert first.status_code == 200
    before = fingerprint()
    _assert_refused(_both(login(None), login(None), token))
    assert fingerprint() == before


@pytest.fixture
def people(vendor, partner_a, partner_b) -> dict[str, Any]:
    GovernanceSettings.current()
    return {"a": governed(partner_a), "b": governed(partner_b)}


def _handover(api_client: Any, predecessor: int, successor: int) -> Any:
    before = fingerprint()
    response = call(
        api_client,
        "post",
        f"{G}/handovers",
        {"predecessor_id": predecessor, "successor_id": successor, "leaving": True},
    )
    assert response.status_code in (400, 403, 404, 409, 422), response.content
    assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before
    return response


def test_handover_refusals(people, api, channel_manager) -> None:
    client = api(channel_manager)
    a, b = people["a"], people["b"]
    _handover(client, a["vendor"][0].pk, a["vendor"][0].pk)  # to oneself
    _handover(client, a["partner"][0].pk, a["partner"][0].pk)
    _handover(client, a["partner"][0].pk, b["partner"][0].pk)  # another organisation
    _handover(client, a["vendor"][0].pk, a["partner"][1].pk)  # other side
    gone = vendor_person("Gone Person")
    gone.active = False
    gone.save(update_fields=["active"])
    _handover(client, a["vendor"][0].pk, gone.pk)  # inactive successor
    _handover(client, a["vendor"][0].pk, 10**12)  # unknown


def test_cancelled_meeting_cannot_be_recorded(people, api, channel_manager, partner_a) -> None:
    meeting = Meeting.objects.create(
        organisation=partner_a,
        title="Review",
        tier=Tier.WORKING,
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    client = api(channel_manager)
    cancelled = call(client, "post", f"{G}/meetings/{meeting.pk}/cancel", {"reason": "x"})
    assert cancelled.status_code == 200, cancelled.content
    before = fingerprint()
    for path, body in (
        (f"{G}/meetings/{meeting.pk}/record", {"minutes": "m", "decisions": "d"}),
        (f"{G}/meetings/{meeting.pk}/cancel", {"reason": "again"}),
    ):
        response = call(client, "post", path, body)
        assert 400 <= response.status_code < 500, response.content
        assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before


def test_cancelled_action_item_cannot_be_completed(
    people, api, channel_manager, partner_a_user, partner_a
) -> None:
    item = ActionItem.objects.create(
        organisation=partner_a,
        title="Send",
        owner=people["a"]["partner"][0],
        due_on=timezone.localdate(),
        status=ActionItem.Status.CANCELLED,
    )
    clients = [api(channel_manager), api(partner_a_user)]
    before = fingerprint()
    for client in clients:
        response = call(client, "post", f"{G}/action-items/{item.pk}/complete", {})
        assert 400 <= response.status_code < 500, response.content
        assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before


def test_open_issue_cannot_be_reopened(people, api, channel_manager, partner_a) -> None:
    issue = issues.raise_issue(
        actor=None, organisation=partner_a, title="Late", category="delivery", severity="high"
    )
    assert issue.status == Issue.Status.OPEN
    client = api(channel_manager)
    before = fingerprint()
    response = call(client, "post", f"{G}/issues/{issue.pk}/reopen", {"reason": "again"})
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before


def test_steps_on_finished_rows(people, api, channel_manager, partner_a) -> None:
    """Resolving, assigning or answering a resolved issue, patching a cancelled meeting,
    closing a closed survey: refused, nothing changed."""
    client = api(channel_manager)
    issue = issues.raise_issue(
        actor=None, organisation=partner_a, title="Late", category="delivery", severity="high"
    )
    issues.resolve(actor=None, issue=issue, root_cause="r", resolution="r")
    meeting = Meeting.objects.create(
        organisation=partner_a,
        title="Review",
        tier=Tier.WORKING,
        starts_at=timezone.now() + dt.timedelta(days=1),
        status=Meeting.Status.CANCELLED,
    )
    done = ActionItem.objects.create(
        organisation=partner_a,
        title="Sent",
        owner=people["a"]["vendor"][0],
        due_on=timezone.localdate(),
        status=ActionItem.Status.DONE,
    )
    survey, _links = health.open_survey(actor=None, organisation=partner_a)
    health.close_survey(actor=None, survey=survey)
    owner = people["a"]["vendor"][1].pk
    steps = [
        ("post", f"{G}/issues/{issue.pk}/resolve", {"root_cause": "r", "resolution": "r"}),
        ("post", f"{G}/issues/{issue.pk}/assign", {"owner_id": owner}),
        ("post", f"{G}/issues/{issue.pk}/respond", {"note": "n"}),
        ("patch", f"{G}/meetings/{meeting.pk}", {"title": "Again"}),
        ("post", f"{G}/health-surveys/{survey.pk}/close", {}),
    ]
    before = fingerprint()
    for method, path, body in steps:
        response = call(client, method, path, body)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.content)
        assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before
    # Completing a done action item is idempotent by design ("done stays done"): 200, no change.
    again = call(client, "post", f"{G}/action-items/{done.pk}/complete", {})
    assert again.status_code == 200 and again.json()["status"] == "done"
    assert fingerprint() == before


@pytest.mark.parametrize(
    "change",
    [
        {"nps": 11},
        {"nps": -1},
        {"trust": 0},
        {"trust": 6},
        {"trust": 10**30},
        {"trust": "four"},
        {"trust": None},
        {"comment": "bad\x00"},
        {"comment": "x" * 100_000},
    ],
    ids=lambda change: repr(change)[:30],
)
def test_bad_answers_leave_the_link_usable(surveys, login, change) -> None:
    token = surveys["a_links"][0][1]
    body = {**ANSWERS, **change}
    before = fingerprint()
    api_response = call(login(None), "post", f"{G}/survey/{token}", body)
    assert api_response.status_code in (400, 422), api_response.content
    assert set(api_response.json()) == {"error", "detail", "fields"}
    form = {k: "" if v is None else str(v) for k, v in body.items()}
    page = login(None).post(f"/governance/survey/{token}/", form)
    assert page.status_code in (200, 400), page.status_code
    assert fingerprint() == before
    assert call(login(None), "post", f"{G}/survey/{token}", ANSWERS).status_code == 200


def test_survey_page_in_chinese(surveys, login) -> None:
    client = login(None)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/governance/survey/{surveys['a_links'][0][1]}/")
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
    closed = client.get("/governance/survey/forged/")
    assert 400 <= closed.status_code < 500
    assert "This link does not work" not in closed.content.decode()
