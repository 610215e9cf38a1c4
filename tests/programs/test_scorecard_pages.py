"""Scorecard pages through the Django test client on the real database: the list, one
scorecard's standings with filters and "score now", the editor and its errors, one
organisation's scores explained, the organisation page's "Tiers & scores" tab; partners
see only their own organisation (404 for another's)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accord.core.models import AuditEntry
from accord.partners.models import Organisation
from accord.programs import scorecards, services
from accord.programs.loader import load, read
from accord.programs.models import Program, Score, ScorecardTemplate
from tests.channel.factories import SurveyResponseFactory
from tests.programs.builders import certify, sell_many

DEMO = Path(__file__).resolve().parents[2] / "accord" / "demo" / "programs.toml"
D = dt.date
AS_OF = D(2026, 7, 1)  # scores 2025-Q3 .. 2026-Q2 (the quarter of 1 July is not complete)
LIST = "/scorecards/"
CARD = "/scorecards/partner-scorecard/"


def card_org(organisation: Organisation, code: str = "partner-scorecard") -> str:
    return f"/scorecards/{code}/organisations/{organisation.pk}/"


def build_facts(a: Organisation, b: Organisation) -> None:
    """Partner A: revenue 250,000 in 2026-Q1 and 500,000 in 2026-Q2, CSAT 4 then 5, three
    certified people throughout. Partner B: 100,000 in 2025-Q3 and 50,000 in 2026-Q2,
    nothing in between (two quarters of no activity), no surveys, no certifications."""
    sell_many(
        [
            (a, D(2026, 2, 10), "250000"),
            (a, D(2026, 5, 10), "500000"),
            (b, D(2025, 8, 1), "100000"),
            (b, D(2026, 4, 20), "50000"),
        ]
    )
    certify(a, 3, earned=D(2025, 1, 1), expires=None)
    SurveyResponseFactory(organisation=a, date=D(2026, 2, 1), csat=4)
    SurveyResponseFactory(organisation=a, date=D(2026, 5, 1), csat=5)


def load_demo_programs() -> None:
    load(actor=None, data=read(DEMO))


@pytest.fixture
def scored(
    vendor_admin: Any, partner_a: Organisation, partner_a_child: Organisation, partner_b: Any
) -> dict[str, Any]:
    """The demo scorecards, loaded and scored as of 2026-07-01 over hand-countable facts."""
    load_demo_programs()
    build_facts(partner_a, partner_b)
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    scorecards.score_scorecard(actor=vendor_admin, template=template, as_of=AS_OF)
    return {"template": template, "a": partner_a, "child": partner_a_child, "b": partner_b}


def latest(template: ScorecardTemplate, organisation: Organisation) -> Score:
    return Score.objects.filter(template=template, organisation=organisation).latest("period_start")


def rows(html: str) -> dict[str, str]:
    """organisation id -> that row's HTML, from the latest standings table."""
    body = html.split('id="scorecard-rows"', 1)[1].split("</tbody>", 1)[0]
    found = re.findall(r'<tr data-organisation="(\d+)">(.*?)</tr>', body, flags=re.S)
    return {pk: row for pk, row in found}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the scores themselves (what the pages show) ------------------------------------------
def test_the_fixture_scores_are_the_hand_counted_ones(scored: dict[str, Any]) -> None:
    template, a, b = scored["template"], scored["a"], scored["b"]
    by_period = {s.period_start: s for s in Score.objects.filter(template=template, organisation=a)}
    # 2026-Q2: revenue 500,000 -> 100, CSAT 5 -> 100, 3 certified -> 100.
    assert by_period[D(2026, 4, 1)].score == Decimal("100.00")
    # 2026-Q1: 250,000 -> 60 (x40), CSAT 4 -> 70 (x30), 3 certified -> 100 (x30) = 75.
    assert by_period[D(2026, 1, 1)].score == Decimal("75.00")
    assert latest(template, a).standing == "good"
    quiet = Score.objects.filter(template=template, organisation=b, no_activity=True)
    assert sorted(s.period_start for s in quiet) == [D(2025, 10, 1), D(2026, 1, 1)]
    assert all(s.score is None for s in quiet)
    assert latest(template, b).standing == "at-risk"
    assert latest(template, scored["child"]).overall is None  # never active


# -- list --------------------------------------------------------------------------------
def test_list_shows_period_decay_criteria_last_scoring_and_distribution(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client]
) -> None:
    response = login(vendor_admin).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split('data-scorecard="partner-scorecard"', 1)[1].split("</tr>", 1)[0]
    assert "Quarterly" in row and ">0.5<" in row and ">3<" in row  # period, decay, criteria
    assert "July 1, 2026" in row  # the as_of of the latest scoring
    assert re.search(r'data-standing="good">1<', row)
    assert re.search(r'data-standing="at-risk">1<', row)
    assert re.search(r'data-standing="">1<', row)  # the child: no activity, no standing
    supplier = html.split('data-scorecard="supplier-scorecard"', 1)[1].split("</tr>", 1)[0]
    assert "not scored yet" in supplier


def test_list_query_count_does_not_grow_with_organisations(
    scored: dict[str, Any],
    vendor_admin: Any,
    login: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    client = login(vendor_admin)
    with django_assert_max_num_queries(20):
        assert client.get(LIST).status_code == 200


def test_partner_list_counts_only_its_own_organisations(
    scored: dict[str, Any], partner_b_user: Any, login: Callable[..., Client]
) -> None:
    html = login(partner_b_user).get(LIST).content.decode()
    row = html.split('data-scorecard="partner-scorecard"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-standing="at-risk">1<', row)
    assert re.search(r'data-standing="good">0<', row)  # A is good, and invisible to B
    assert 'data-standing="">' not in row


# -- one scorecard -------------------------------------------------------------------------
def test_detail_shows_standings_with_consequences_and_no_activity(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client]
) -> None:
    response = login(vendor_admin).get(CARD)
    assert response.status_code == 200
    html = response.content.decode()
    table = rows(html)
    a, b, child = (str(scored[key].pk) for key in ("a", "b", "child"))
    assert set(table) == {a, b, child}
    assert "Good standing" in table[a] and "100.00" in table[a]  # latest period score
    overall_a = latest(scored["template"], scored["a"]).overall
    assert f">{overall_a}<" in table[a]
    # B's standing blocks deal registrations and MDF, warns on orders, needs a review.
    assert 'data-action="deal_registration" data-level="block"' in table[b]
    assert 'data-action="mdf_requests" data-level="block"' in table[b]
    assert 'data-action="orders" data-level="warn"' in table[b]
    assert 'data-action="review_meeting"' in table[b]
    assert 'data-level="block"' not in table[a]
    assert "no activity" in table[child]
    # The distribution: chart data (json_script) and the same counts as a table.
    data = json.loads(
        html.split('id="scorecard-distribution-data" type="application/json">', 1)[1].split(
            "</script>", 1
        )[0]
    )
    assert [s["name"] for s in data["series"]] == ["At risk", "Watch", "Good standing"]
    assert sum(data["series"][0]["values"]) == 1 and sum(data["series"][2]["values"]) == 1
    assert data["series"][0]["values"][0] == 1  # B's overall lies in 0-10
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'self';" in response["Content-Security-Policy"]  # no inline scripts
    assert "score-now" in html  # an administrator may score


def test_detail_filters_search_sort_and_pages(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client]
) -> None:
    client = login(vendor_admin)
    a, b, child = (str(scored[key].pk) for key in ("a", "b", "child"))
    assert set(rows(client.get(CARD + "?standing=at-risk").content.decode())) == {b}
    assert set(rows(client.get(CARD + "?standing=none").content.decode())) == {child}
    assert set(rows(client.get(CARD + "?q=alpha").content.decode())) == {a, child}
    ordered = list(rows(client.get(CARD + "?sort=-overall").content.decode()))
    assert ordered == [a, b, child]  # no overall sorts last
    ordered = list(rows(client.get(CARD + "?sort=overall").content.decode()))
    assert ordered == [b, a, child]
    # The htmx request gets the rows alone.
    partial = client.get(
        CARD + "?standing=good", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="scorecard-results"
    )
    assert partial.status_code == 200
    assert b"<html" not in partial.content and set(rows(partial.content.decode())) == {a}


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=999999999999999999999",
        "?sort=drop table",
        "?standing=%3Cscript%3E",
        "?q=" + "x" * 500,
        "?q=%00",
        "?standing=good&sort=-overall&page=-1",
    ],
)
def test_detail_survives_any_query(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client], query: str
) -> None:
    response = login(vendor_admin).get(CARD + query)
    assert response.status_code == 200
    assert b"<script>" not in response.content


def test_partner_sees_only_its_own_rows_and_gets_404_for_others(
    scored: dict[str, Any], partner_a_user: Any, partner_b_user: Any, login: Callable[..., Client]
) -> None:
    a, b, child = scored["a"], scored["b"], scored["child"]
    html = login(partner_a_user).get(CARD).content.decode()
    assert set(rows(html)) == {str(a.pk), str(child.pk)}
    assert b.name not in html
    assert "score-now" not in html and "scorecard-edit" not in html
    # B sees B only; A's scorecard page answers 404, as does an unknown id or scorecard.
    client_b = login(partner_b_user)
    html_b = client_b.get(CARD).content.decode()
    assert set(rows(html_b)) == {str(b.pk)} and a.name not in html_b
    assert client_b.get(card_org(a)).status_code == 404
    assert client_b.get(card_org(child)).status_code == 404
    assert client_b.get(card_org(b)).status_code == 200
    assert client_b.get("/scorecards/partner-scorecard/organisations/999999999/").status_code == 404
    assert client_b.get("/scorecards/no-such-card/").status_code == 404
    assert login(partner_a_user).get(card_org(b)).status_code == 404


def test_anonymous_is_sent_to_log_in(scored: dict[str, Any], login: Callable[..., Client]) -> None:
    for url in (LIST, CARD, card_org(scored["a"]), CARD + "edit/"):
        response = login(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- score now --------------------------------------------------------------------------------
def test_score_now_scores_and_says_what_it_did(
    vendor_admin: Any,
    partner_a: Organisation,
    partner_b: Organisation,
    login: Callable[..., Client],
) -> None:
    load_demo_programs()
    build_facts(partner_a, partner_b)
    client = login(vendor_admin)
    response = client.post(CARD + "score/", {"as_of": "2026-07-01"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CARD
    assert "Scored 2 organisations for 2025-Q3 to 2026-Q2" in response.content.decode()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    assert Score.objects.filter(template=template).count() == 8  # 2 organisations x 4
    assert latest(template, partner_a).standing == "good"
    assert AuditEntry.objects.filter(object_id=str(template.pk)).exists()


def test_score_now_refuses_partners_analysts_and_bad_dates_and_writes_nothing(
    scored: dict[str, Any],
    partner_a_user: Any,
    analyst: Any,
    vendor_admin: Any,
    login: Callable[..., Client],
) -> None:
    before = list(Score.objects.order_by("pk").values_list("pk", "computed_at"))
    assert login(partner_a_user).post(CARD + "score/", {"as_of": "2026-10-01"}).status_code == 403
    assert login(analyst).post(CARD + "score/", {"as_of": "2026-10-01"}).status_code == 403
    client = login(vendor_admin)
    for value in ("", "not a date", "1066-10-14", "2026-02-30", "9" * 40):
        response = client.post(CARD + "score/", {"as_of": value})
        assert response.status_code == 200
        assert 'class="errorlist' in response.content.decode()
    assert client.get(CARD + "score/").status_code == 405
    assert (
        login(partner_a_user).post("/scorecards/nope/score/", {"as_of": "2026-10-01"}).status_code
        == 404
    )
    assert list(Score.objects.order_by("pk").values_list("pk", "computed_at")) == before


def test_score_now_of_a_scorecard_without_standings_says_why(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    template.standings.all().delete()  # as an older or hand-made template might be
    response = login(vendor_admin).post(CARD + "score/", {"as_of": "2026-07-01"})
    assert response.status_code == 200
    assert "The scorecard has no criteria or standings." in response.content.decode()
    assert not Score.objects.exists()


# -- one organisation ----------------------------------------------------------------------
def test_organisation_page_explains_the_scores(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client]
) -> None:
    b = scored["b"]
    response = login(vendor_admin).get(card_org(b))
    assert response.status_code == 200
    html = response.content.decode()
    trend = json.loads(
        html.split('id="scorecard-trend-data" type="application/json">', 1)[1].split(
            "</script>", 1
        )[0]
    )
    assert trend["labels"] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    # No activity: a gap (null) flagged for its marker, never a zero.
    assert trend["scores"][1] is None and trend["scores"][2] is None
    assert trend["no_activity"] == [False, True, True, False]
    assert trend["text"]["no_activity"] == "no activity"
    assert trend["overall"][-1] == str(latest(scored["template"], b).overall)
    # How the overall was made: each period's score and decay weight; quiet periods left out.
    overall = html.split('id="overall-inputs"', 1)[1].split("</table>", 1)[0]
    assert "2025-Q3" in overall and ">1<" in overall and ">0.125<" in overall
    assert overall.count("no activity") == 2
    # Each period's criteria: value -> score x weight (B's 2026-Q2: 50,000 -> 12.00 x 40).
    q2 = html.split('data-period="2026-04-01"', 1)[1].split("</details>", 1)[0]
    assert "50,000.00" in q2 and "→ 12.00" in q2 and "\u00d7 40" in q2
    assert "no data" in q2  # no survey: CSAT has no value and is left out
    # Consequences in force (scorecards.consequence for each action), with the reason.
    verdicts = html.split('id="verdicts"', 1)[1].split("</table>", 1)[0]
    deal = verdicts.split('data-action="deal_registration"', 1)[1].split("</tr>", 1)[0]
    assert 'data-level="block"' in deal and "standing At risk" in deal
    orders = verdicts.split('data-action="orders"', 1)[1].split("</tr>", 1)[0]
    assert 'data-level="warn"' in orders
    assert 'data-action="review_meeting"' in verdicts
    assert "At risk" in html.split('id="current-standing-name"', 1)[1][:60]


def test_organisation_page_of_an_organisation_never_scored(
    scored: dict[str, Any], vendor_admin: Any, login: Callable[..., Client], vendor: Any
) -> None:
    response = login(vendor_admin).get(card_org(vendor, "supplier-scorecard"))
    assert response.status_code == 200
    assert 'id="organisation-not-scored"' in response.content.decode()


def test_partner_sees_its_own_organisation_page(
    scored: dict[str, Any], partner_a_user: Any, login: Callable[..., Client]
) -> None:
    response = login(partner_a_user).get(card_org(scored["a"]))
    assert response.status_code == 200
    assert "Good standing" in response.content.decode()


# -- editor -------------------------------------------------------------------------------
def editor_data(**changes: Any) -> dict[str, str]:
    """The demo partner scorecard as the editor posts it (two standings rows blank)."""
    data = {
        "code": "partner-scorecard",
        "name": "Partner scorecard",
        "name_zh": "合作伙伴记分卡",
        "description": "",
        "period": "quarter",
        "decay": "0.5",
        "history_periods": "4",
        "kinds": ["distributor", "reseller"],
        "regions": "",
        "tags": "",
        "is_active": "on",
        "criteria-TOTAL_FORMS": "4",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "20",
        "criteria-0-metric": "revenue",
        "criteria-0-weight": "40",
        "criteria-0-rule": "linear",
        "criteria-0-points": "0:0, 250000:60, 500000:100",
        "criteria-1-metric": "csat",
        "criteria-1-weight": "30",
        "criteria-1-rule": "linear",
        "criteria-1-points": "3:0, 4:70, 5:100",
        "criteria-2-metric": "certified_staff",
        "criteria-2-weight": "30",
        "criteria-2-rule": "banded",
        "criteria-2-points": "0:0, 1:50, 2:80, 3:100",
        "criteria-3-metric": "",
        "criteria-3-weight": "",
        "criteria-3-rule": "linear",
        "criteria-3-points": "",
        "standings-TOTAL_FORMS": "4",
        "standings-INITIAL_FORMS": "0",
        "standings-MIN_NUM_FORMS": "0",
        "standings-MAX_NUM_FORMS": "20",
    }
    bands = [
        ("at-risk", "At risk", "0", "40", "block", "block", "warn", "on"),
        ("watch", "Watch", "40", "70", "warn", "warn", "none", ""),
        ("good", "Good standing", "70", "100", "none", "none", "none", ""),
        ("", "", "", "", "none", "none", "none", ""),
    ]
    for index, (code, name, low, high, deal, mdf, orders, review) in enumerate(bands):
        prefix = f"standings-{index}-"
        data.update(
            {
                prefix + "code": code,
                prefix + "name": name,
                prefix + "name_zh": "",
                prefix + "min_score": low,
                prefix + "max_score": high,
                prefix + "deal_registration": deal,
                prefix + "mdf_requests": mdf,
                prefix + "orders": orders,
            }
        )
        if review:
            data[prefix + "review_meeting"] = review
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def row_html(html: str, prefix: str) -> str:
    return html.split(f'data-row="{prefix}"', 1)[1].split("</tr>", 1)[0]


def snapshot(template: ScorecardTemplate) -> tuple[Any, ...]:
    template.refresh_from_db()
    return (
        template.name,
        template.decay,
        list(template.criteria.values_list("metric", "weight", "rule", "points")),
        list(template.standings.values_list("code", "min_score", "max_score", "orders")),
    )


def test_editor_shows_the_template_as_typed_pairs(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    html = login(vendor_admin).get(CARD + "edit/").content.decode()
    assert 'value="0:0, 250000:60, 500000:100"' in html
    assert 'value="0:0, 1:50, 2:80, 3:100"' in html
    assert 'name="code"' in html and "disabled" in html.split('name="code"', 1)[1][:200]
    assert 'id="criteria-empty-row"' in html  # for "add a row"


def test_editor_saves_a_valid_change(vendor_admin: Any, login: Callable[..., Client]) -> None:
    load_demo_programs()
    response = login(vendor_admin).post(
        CARD + "edit/",
        editor_data(
            **{
                "decay": "0.6",
                "criteria-0-weight": "50",
                "criteria-1-weight": "20",
                "standings-1-orders": "warn",
            }
        ),
    )
    assert response.status_code == 302 and response["Location"] == CARD
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    assert template.decay == Decimal("0.6")
    assert [c.weight for c in template.criteria.all()] == [50, 20, 30]
    assert template.criteria.first().points == [["0", "0"], ["250000", "60"], ["500000", "100"]]
    assert template.standings.get(code="watch").orders == "warn"
    assert template.kinds == ["distributor", "reseller"]


def test_editor_weights_error_is_at_the_criteria_and_nothing_typed_is_lost(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    before = snapshot(template)
    response = login(vendor_admin).post(
        CARD + "edit/",
        editor_data(**{"criteria-0-weight": "30", "name": "Renamed while wrong"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="criteria-errors"', 1)[1].split("</div>", 1)[0]
    assert "The weights must sum to 100 (they sum to 90)." in errors
    assert 'value="Renamed while wrong"' in html
    assert 'value="3:0, 4:70, 5:100"' in html and 'name="criteria-0-weight" value="30"' in html
    assert snapshot(template) == before


def test_editor_band_gap_error_is_at_the_standings(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    before = snapshot(template)
    response = login(vendor_admin).post(
        CARD + "edit/", editor_data(**{"standings-1-min_score": "50"})
    )
    assert response.status_code == 400
    errors = response.content.decode().split('id="standings-errors"', 1)[1].split("</div>", 1)[0]
    assert "No standing covers scores from 40 to 50." in errors
    assert snapshot(template) == before


def test_editor_row_errors_land_on_their_row(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    client = login(vendor_admin)
    # A service error keyed criteria.1.points goes to the second row's points.
    html = client.post(
        CARD + "edit/", editor_data(**{"criteria-1-points": "5:0, 3:100"})
    ).content.decode()
    assert "Point values must increase strictly." in row_html(html, "criteria-1")
    assert "Point values" not in row_html(html, "criteria-0")
    # A pair the form cannot read, a weight out of range, an unknown metric.
    html = client.post(
        CARD + "edit/",
        editor_data(
            **{
                "criteria-0-points": "0:0, 250,000:60",
                "criteria-1-weight": "101",
                "criteria-2-metric": "bogus",
            }
        ),
    ).content.decode()
    assert "is not a value:score pair" in row_html(html, "criteria-0")
    assert 'value="0:0, 250,000:60"' in row_html(html, "criteria-0")
    assert "less than or equal to 100" in row_html(html, "criteria-1")
    assert "Select a valid choice" in row_html(html, "criteria-2")
    # A standing's consequence that is not none/warn/block; a blank code.
    html = client.post(
        CARD + "edit/",
        editor_data(**{"standings-0-deal_registration": "explode", "standings-2-code": " "}),
    ).content.decode()
    assert "Select a valid choice" in row_html(html, "standings-0")
    assert "This field is required." in row_html(html, "standings-2")
    # The same metric twice: the service's criteria.2.metric error on row 2.
    html = client.post(
        CARD + "edit/", editor_data(**{"criteria-2-metric": "revenue"})
    ).content.decode()
    assert "Score each metric once." in row_html(html, "criteria-2")


@pytest.mark.parametrize(
    "changes",
    [
        {"criteria-TOTAL_FORMS": None, "criteria-INITIAL_FORMS": None},  # no management form
        {"criteria-TOTAL_FORMS": "abc"},
        {"criteria-TOTAL_FORMS": "100000"},
        {"decay": "NaN"},
        {"decay": "1e999"},
        {"history_periods": "99999999999999999999"},
        {"standings-0-min_score": "Infinity"},
        {"kinds": ["vendor"]},
        {"criteria-0-points": "\uff1a\uff1b\uff0c"},  # full-width separators only
        {"criteria-0-points": "1e999999:5"},
        {"name": ""},
    ],
)
def test_editor_never_500s_and_saves_nothing_on_bad_input(
    vendor_admin: Any, login: Callable[..., Client], changes: dict[str, Any]
) -> None:
    load_demo_programs()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    before = snapshot(template)
    response = login(vendor_admin).post(CARD + "edit/", editor_data(**changes))
    assert response.status_code == 400
    assert snapshot(template) == before


def test_editor_removes_a_row_marked_for_removal(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    response = login(vendor_admin).post(
        CARD + "edit/",
        editor_data(
            **{"criteria-2-DELETE": "on", "criteria-0-weight": "70", "criteria-1-weight": "30"}
        ),
    )
    assert response.status_code == 302
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    assert [c.metric for c in template.criteria.all()] == ["revenue", "csat"]


def test_new_scorecard_is_created_and_a_taken_code_is_refused(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    client = login(vendor_admin)
    assert client.get("/scorecards/new/").status_code == 200
    response = client.post(
        "/scorecards/new/", editor_data(code="reseller-health", name="Reseller health")
    )
    assert response.status_code == 302 and response["Location"] == "/scorecards/reseller-health/"
    created = ScorecardTemplate.objects.get(code="reseller-health")
    assert created.criteria.count() == 3 and created.standings.count() == 3
    taken = client.post("/scorecards/new/", editor_data(name="Again"))
    assert taken.status_code == 400
    assert "A scorecard with this code already exists." in taken.content.decode()
    assert ScorecardTemplate.objects.filter(name="Again").count() == 0


def test_editor_is_refused_without_permission(
    partner_a_user: Any, analyst: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    before = snapshot(template)
    for user in (partner_a_user, analyst):
        client = login(user)
        assert client.get(CARD + "edit/").status_code == 403
        assert client.post(CARD + "edit/", editor_data(decay="0.9")).status_code == 403
        assert client.get("/scorecards/new/").status_code == 403
        assert client.post("/scorecards/new/", editor_data(code="x1")).status_code == 403
    assert snapshot(template) == before
    assert not ScorecardTemplate.objects.filter(code="x1").exists()


# -- the organisation page's "Tiers & scores" tab --------------------------------------------
@pytest.fixture
def with_tiers(scored: dict[str, Any], vendor_admin: Any) -> dict[str, Any]:
    program = Program.objects.get(code="partner-program")
    services.evaluate_program(
        actor=vendor_admin, program=program, as_of=AS_OF, apply=True, trigger="manual"
    )
    return {**scored, "program": program}


def test_tiers_tab_shows_memberships_and_scorecard_standings(
    with_tiers: dict[str, Any], vendor_admin: Any, login: Callable[..., Client]
) -> None:
    a = with_tiers["a"]
    response = login(vendor_admin).get(f"/organisations/{a.pk}/?tab=tiers")
    assert response.status_code == 200
    html = response.content.decode()
    program_row = html.split('data-program="partner-program"', 1)[1].split("</tr>", 1)[0]
    # Trailing-12 revenue 750,000 but 3 certified: Gold (>= 750,000 and >= 2 certified).
    assert 'data-tier="gold"' in program_row and "Gold" in program_row
    assert f'href="/programs/partner-program/organisations/{a.pk}/"' in program_row
    score_row = html.split('data-scorecard="partner-scorecard"', 1)[1].split("</tr>", 1)[0]
    assert "Good standing" in score_row
    assert f'href="/scorecards/partner-scorecard/organisations/{a.pk}/"' in score_row
    b_html = login(vendor_admin).get(f"/organisations/{with_tiers['b'].pk}/?tab=tiers").content
    assert b'data-action="deal_registration"' in b_html and b"Review meeting required" in b_html
    # The tab through htmx is the tab alone.
    partial = login(vendor_admin).get(
        f"/organisations/{a.pk}/?tab=tiers",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="organisation-tabs",
    )
    assert b"<html" not in partial.content and b'id="tab-tiers"' in partial.content


def test_tiers_tab_for_partners_is_their_own(
    with_tiers: dict[str, Any], partner_b_user: Any, login: Callable[..., Client]
) -> None:
    client = login(partner_b_user)
    own = client.get(f"/organisations/{with_tiers['b'].pk}/?tab=tiers")
    assert own.status_code == 200 and b"At risk" in own.content
    assert client.get(f"/organisations/{with_tiers['a'].pk}/?tab=tiers").status_code == 404


def test_a_new_scorecard_may_not_take_the_code_of_the_new_page(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    response = login(vendor_admin).post("/scorecards/new/", editor_data(code="new"))
    assert response.status_code == 400
    assert "names a page of its own" in response.content.decode()
    assert not ScorecardTemplate.objects.filter(code="new").exists()


def test_detail_query_count_does_not_grow_with_rows(
    scored: dict[str, Any],
    vendor_admin: Any,
    login: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    client = login(vendor_admin)
    with django_assert_max_num_queries(25):
        assert client.get(CARD).status_code == 200
