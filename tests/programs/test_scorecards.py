"""Scorecards against the real database: validation of weights and bands, period scores
with no-activity periods left out, the decayed overall by hand, only complete periods,
the standing and the consequences the rest of the platform enforces, and rescoring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.core.errors import Conflict, ValidationError
from accord.programs.models import Score, ScorecardTemplate
from accord.programs.scorecards import consequence, save_scorecard, score_scorecard
from tests.channel.factories import SurveyResponseFactory
from tests.programs.builders import D, partners, sell

pytestmark = pytest.mark.django_db

STANDINGS = [
    {
        "code": "at-risk",
        "name": "At risk",
        "min_score": 0,
        "max_score": 40,
        "deal_registration": "block",
        "mdf_requests": "block",
        "orders": "warn",
        "review_meeting": True,
    },
    {
        "code": "watch",
        "name": "Watch",
        "min_score": 40,
        "max_score": 70,
        "deal_registration": "warn",
    },
    {"code": "good", "name": "Good", "min_score": 70, "max_score": 100},
]


def content(**changes: Any) -> dict[str, Any]:
    """revenue (60): linear 0 -> 0, 1,000 -> 100; csat (40): linear 1 -> 0, 5 -> 100."""
    return {
        "criteria": [
            {"metric": "revenue", "weight": 60, "rule": "linear", "points": [[0, 0], [1000, 100]]},
            {"metric": "csat", "weight": 40, "rule": "linear", "points": [[1, 0], [5, 100]]},
        ],
        "standings": STANDINGS,
        **changes,
    }


def make_scorecard(actor: Any, code: str = "card", **data: Any) -> ScorecardTemplate:
    data = {"name": code.title(), "period": "quarter", "decay": "0.5", "history_periods": 4, **data}
    return save_scorecard(actor=actor, data={"code": code, **data}, content=content())


def survey(org: Any, day: dt.date, csat: int) -> None:
    SurveyResponseFactory(organisation=org, date=day, csat=csat, nps=None)


def scores_of(template: ScorecardTemplate, org: Any) -> list[Score]:
    return list(Score.objects.filter(template=template, organisation=org).order_by("period_start"))


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (
            {"criteria": [{**content()["criteria"][0], "weight": 50}, content()["criteria"][1]]},
            "criteria",
            "The weights must sum to 100 (they sum to 90).",
        ),
        ({"criteria": []}, "criteria", "Give at least one criterion."),
        (
            {"criteria": [{**content()["criteria"][0], "weight": 0}, content()["criteria"][1]]},
            "criteria.0.weight",
            "A weight is a whole number from 1 to 100.",
        ),
        (
            {
                "criteria": [
                    {**content()["criteria"][0], "metric": "luck"},
                    content()["criteria"][1],
                ]
            },
            "criteria.0.metric",
            "Unknown metric 'luck'.",
        ),
        (
            {"criteria": [content()["criteria"][0], {**content()["criteria"][0], "weight": 40}]},
            "criteria.1.metric",
            "Score each metric once.",
        ),
        (
            {
                "criteria": [
                    {**content()["criteria"][0], "points": [[0, 0]]},
                    content()["criteria"][1],
                ]
            },
            "criteria.0.points",
            "A piecewise-linear rule needs at least two points.",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "min_score": 45}, STANDINGS[2]]},
            "standings",
            "No standing covers scores from 40 to 45.",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "max_score": 75}, STANDINGS[2]]},
            "standings",
            "Standing good overlaps the one below it.",
        ),
        (
            {"standings": [STANDINGS[0], STANDINGS[1]]},
            "standings",
            "No standing covers scores from 70 to 100.",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "orders": "forbid"}, STANDINGS[2]]},
            "standings.1.orders",
            "Choose none, warn or block.",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "code": "at-risk"}, STANDINGS[2]]},
            "standings.1.code",
            "Give each standing its own code (at most 40 characters).",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "min_score": "forty"}, STANDINGS[2]]},
            "standings.1.min_score",
            "Give the band as two numbers from 0 to 100.",
        ),
        (
            {"standings": [STANDINGS[0], {**STANDINGS[1], "max_score": "70.001"}, STANDINGS[2]]},
            "standings.1.min_score",
            "Give the band as two numbers from 0 to 100.",
        ),
    ],
)
def test_scorecard_validation(vendor_admin: Any, change: dict, key: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        save_scorecard(
            actor=vendor_admin, data={"code": "card", "name": "Card"}, content=content(**change)
        )
    assert raised.value.message_dict[key] == [message]
    assert not ScorecardTemplate.objects.exists()


def test_scorecard_settings_are_validated(vendor_admin: Any) -> None:
    make_scorecard(vendor_admin)
    with pytest.raises(Conflict):
        make_scorecard(vendor_admin)
    with pytest.raises(ValidationError) as raised:
        make_scorecard(vendor_admin, code="other", decay="1.5")
    assert "decay" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        make_scorecard(vendor_admin, code="other", colour="red")
    assert "colour" in raised.value.message_dict
    assert ScorecardTemplate.objects.count() == 1


# -- scoring -----------------------------------------------------------------------------------
def _history(org: Any) -> None:
    """Q2 2025: revenue 500, no survey -> 50 (csat left out, weights renormalised);
    Q3 2025: nothing -> no activity; Q4 2025: 1,000 and csat 3 -> 60 + 20 = 80;
    Q1 2026: 250 and csat 5 -> 15 + 40 = 55."""
    sell(org, D(2025, 5, 1), 500)
    sell(org, D(2025, 11, 1), 1000)
    survey(org, D(2025, 11, 2), 3)
    sell(org, D(2026, 2, 1), 250)
    survey(org, D(2026, 2, 2), 5)


def test_period_scores_and_the_decayed_overall_by_hand(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin)
    org, idle = partners(2)
    _history(org)
    summary = score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    assert summary["periods"] == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert summary["organisations"] == 2
    rows = scores_of(template, org)
    assert [(r.period_start, r.period_end) for r in rows] == [
        (D(2025, 4, 1), D(2025, 7, 1)),
        (D(2025, 7, 1), D(2025, 10, 1)),
        (D(2025, 10, 1), D(2026, 1, 1)),
        (D(2026, 1, 1), D(2026, 4, 1)),
    ]
    assert [r.score for r in rows] == [Decimal(50), None, Decimal(80), Decimal(55)]
    assert [r.no_activity for r in rows] == [False, True, False, False]
    assert rows[0].criteria[1] == {
        "metric": "csat",
        "weight": 40,
        "rule": "linear",
        "value": None,
        "score": None,
    }
    # Overall: newest weighs 1, then 0.5, 0.25 (no activity: left out), 0.125:
    # (55 + 0.5 x 80 + 0.125 x 50) / (1 + 0.5 + 0.125) = 101.25 / 1.625 = 62.31
    latest = rows[-1]
    assert latest.overall == Decimal("62.31")
    assert latest.standing == "watch"
    assert [item["weight"] for item in latest.overall_inputs] == ["0.125", "0.25", "0.5", "1"]
    assert [item["score"] for item in latest.overall_inputs] == ["50.00", None, "80.00", "55.00"]
    assert all(r.overall is None and r.standing == "" for r in rows[:-1])
    # The idle organisation: four periods of no activity, no overall, no standing.
    idle_rows = scores_of(template, idle)
    assert [r.no_activity for r in idle_rows] == [True] * 4
    assert idle_rows[-1].overall is None and idle_rows[-1].standing == ""
    assert summary["standings"] == {"watch": 1}


def test_no_activity_does_not_drag_the_overall_down(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin)
    org = partners(1)[0]
    sell(org, D(2025, 11, 1), 1000)
    survey(org, D(2025, 11, 2), 5)  # Q4 2025: 100; Q1 2026 nothing
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    rows = scores_of(template, org)
    assert [r.no_activity for r in rows] == [True, True, False, True]
    assert rows[-1].score is None
    assert rows[-1].overall == Decimal(100)  # not (0 + 0.5 x 100) / 1.5
    assert rows[-1].standing == "good"


def test_only_complete_periods_are_scored(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin)
    org = partners(1)[0]
    sell(org, D(2026, 2, 1), 1000)
    sell(org, D(2026, 4, 10), 1000)  # in the quarter under way on 2026-05-15
    summary = score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 5, 15))
    assert summary["periods"][-1] == "2026-Q1"
    rows = scores_of(template, org)
    assert rows[-1].period_start == D(2026, 1, 1)
    assert rows[-1].criteria[0]["value"] == "1000.00"
    assert rows[-1].as_of == D(2026, 5, 15)
    # On the quarter's last day the quarter is complete, and scored.
    summary = score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 6, 30))
    assert summary["periods"][-1] == "2026-Q2"


def test_monthly_periods(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin, period="month", history_periods=2)
    org = partners(1)[0]
    sell(org, D(2026, 2, 28), 1000)
    assert score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 30))[
        "periods"
    ] == ["2026-01", "2026-02"]
    assert score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))[
        "periods"
    ] == ["2026-02", "2026-03"]


def test_rescoring_replaces_rather_than_duplicates(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin)
    org = partners(1)[0]
    _history(org)
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    first = [(r.period_start, r.score, r.overall, r.standing) for r in scores_of(template, org)]
    sell(org, D(2026, 3, 1), 750)  # Q1 2026: revenue 1,000 -> 60 + 40 = 100
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    again = scores_of(template, org)
    assert len(again) == 4
    assert Score.objects.filter(template=template).count() == 4
    assert [(r.period_start) for r in again] == [row[0] for row in first]
    assert again[-1].score == Decimal(100)
    assert again[-1].overall != first[-1][2]


def test_rescoring_a_later_quarter_moves_the_standing(vendor_admin: Any) -> None:
    template = make_scorecard(vendor_admin)
    org = partners(1)[0]
    _history(org)
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 6, 30))
    rows = scores_of(template, org)
    assert [r.period_start for r in rows][-5:] == [
        D(2025, 4, 1),
        D(2025, 7, 1),
        D(2025, 10, 1),
        D(2026, 1, 1),
        D(2026, 4, 1),
    ]
    assert [r.standing for r in rows] == ["", "", "", "", "watch"]


# -- consequences -----------------------------------------------------------------------------
def test_consequence_takes_the_strictest_level_and_lists_reasons(vendor_admin: Any) -> None:
    lenient = make_scorecard(vendor_admin, code="lenient", name="Lenient")
    strict = save_scorecard(
        actor=vendor_admin,
        data={"code": "strict", "name": "Strict", "period": "quarter", "decay": "0.5"},
        content=content(
            criteria=[
                {
                    "metric": "revenue",
                    "weight": 100,
                    "rule": "linear",
                    "points": [[0, 0], [100000, 100]],
                }
            ]
        ),
    )
    org, other = partners(2)
    _history(org)
    score_scorecard(actor=vendor_admin, template=lenient, as_of=D(2026, 3, 31))
    score_scorecard(actor=vendor_admin, template=strict, as_of=D(2026, 3, 31))
    assert scores_of(lenient, org)[-1].standing == "watch"
    assert scores_of(strict, org)[-1].standing == "at-risk"

    verdict = consequence(org, "deal_registration")
    assert verdict.level == "block" and verdict.blocked
    assert verdict.review_meeting is True
    overall = scores_of(strict, org)[-1].overall
    assert verdict.reasons == (
        "Lenient: standing Watch (overall score 62.31, 2026-01-01)",
        f"Strict: standing At risk (overall score {overall}, 2026-01-01)",
    )
    orders = consequence(org, "orders")
    assert (orders.level, len(orders.reasons)) == ("warn", 1)
    assert not orders.blocked
    # No standing at all (never active): nothing applies.
    assert consequence(other, "deal_registration").level == "none"
    assert consequence(other, "deal_registration").reasons == ()
    # An inactive scorecard no longer counts.
    strict.is_active = False
    strict.save()
    assert consequence(org, "deal_registration").level == "warn"
    with pytest.raises(ValueError):
        consequence(org, "refunds")


def test_a_standing_from_long_ago_does_not_outlive_later_scoring(vendor_admin: Any) -> None:
    """Scored at-risk in 2025 Q1, then no activity at all in the four quarters scored on
    2026-06-30: there is no current standing, so nothing is blocked."""
    template = save_scorecard(
        actor=vendor_admin,
        data={"code": "rev", "name": "Rev", "period": "quarter", "history_periods": 1},
        content=content(
            criteria=[
                {
                    "metric": "revenue",
                    "weight": 100,
                    "rule": "linear",
                    "points": [[0, 0], [1000, 100]],
                }
            ]
        ),
    )
    org = partners(1)[0]
    sell(org, D(2025, 2, 1), 100)
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2025, 3, 31))
    assert consequence(org, "deal_registration").level == "block"
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 6, 30))
    latest = scores_of(template, org)[-1]
    assert (latest.period_start, latest.no_activity, latest.standing) == (D(2026, 4, 1), True, "")
    assert consequence(org, "deal_registration").level == "none"
