"""Health-check reads as each user may see them: partner B sees nothing of Alpha's checks,
partner A sees its own checks and only its own side's answers, vendor staff both sides; the
result explained in words (why misaligned, why not, why no score); the trend of one
relationship and of the network by period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.accounts.models import User
from accord.core.errors import Http404
from accord.governance.models import HealthSurvey, Side
from accord.governance.selectors import health as selectors
from accord.governance.services import health
from accord.partners.models import Organisation
from tests.governance.builders import NOW, governed

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
DIMENSIONS = ("communication", "satisfaction", "trust", "compatibility", "goal_alignment")


def answers(value: int = 4, nps: int = 8, **overrides: Any) -> dict[str, Any]:
    return dict.fromkeys(DIMENSIONS, value) | {"nps": nps} | overrides


def run_survey(
    actor: User,
    organisation: Organisation,
    *,
    vendor: dict[str, Any] | None,
    partner: dict[str, Any] | None,
    period: str,
    now: dt.datetime,
) -> HealthSurvey:
    """Open, answer once per side (None: that side does not answer), close."""
    survey, links = health.open_survey(
        actor=actor, organisation=organisation, period=period, now=now
    )
    for side, data in ((Side.VENDOR, vendor), (Side.PARTNER, partner)):
        if data is not None:
            token = next(t for r, t in links if r.side == side)
            health.answer(token=token, data=data, now=now + DAY)
    return health.close_survey(actor=actor, survey=survey, now=now + 2 * DAY)


@pytest.fixture
def network(
    partner_a: Organisation, partner_b: Organisation, channel_manager: User
) -> dict[str, Any]:
    """Alpha: 2025 aligned at 72.5 (trust differs by exactly 1.0), 2026 misaligned on
    trust at 75; Bravo: 2026 at 50."""
    governed(partner_a, now=NOW)
    governed(partner_b, now=NOW)
    a_2025 = run_survey(
        channel_manager,
        partner_a,
        vendor=answers(4),
        partner=answers(4, trust=3),
        period="2025",
        now=NOW - 365 * DAY,
    )
    a_2026 = run_survey(
        channel_manager,
        partner_a,
        vendor=answers(4, trust=5),
        partner=answers(4, trust=3),
        period="2026",
        now=NOW,
    )
    b_2026 = run_survey(
        channel_manager,
        partner_b,
        vendor=answers(3),
        partner=answers(3),
        period="2026",
        now=NOW,
    )
    return {"a_2025": a_2025, "a_2026": a_2026, "b_2026": b_2026}


def test_partner_b_sees_nothing_of_alphas_checks(
    network: dict[str, Any], partner_b_user: User, partner_a: Organisation
) -> None:
    assert [s.pk for s in selectors.list_surveys(partner_b_user)] == [network["b_2026"].pk]
    with pytest.raises(Http404):
        selectors.get_survey(partner_b_user, network["a_2026"].pk)
    assert list(selectors.list_responses(partner_b_user, network["a_2026"])) == []
    assert selectors.health_trend(partner_b_user, partner_a) == []
    trend = selectors.network_health_trend(partner_b_user)
    assert [(p["period"], p["relationships"]) for p in trend] == [("2026", 1)]
    assert trend[0]["mean_score"] == Decimal("50.0")


def test_partner_a_sees_only_its_sides_answers(
    network: dict[str, Any], partner_a_user: User, partner_a_viewer: User, analyst: User
) -> None:
    survey = network["a_2026"]
    for user in (partner_a_user, partner_a_viewer):
        assert selectors.get_survey(user, survey.pk).pk == survey.pk
        rows = list(selectors.list_responses(user, survey))
        assert rows and {r.side for r in rows} == {Side.PARTNER}
    staff_rows = list(selectors.list_responses(analyst, survey))
    assert {r.side for r in staff_rows} == {Side.VENDOR, Side.PARTNER}
    assert len(staff_rows) == 8  # five vendor people and three partner people invited


def test_list_filters(network: dict[str, Any], analyst: User, partner_a: Organisation) -> None:
    def ids(filters: dict[str, Any]) -> set[int]:
        return {s.pk for s in selectors.list_surveys(analyst, filters)}

    everything = {network["a_2025"].pk, network["a_2026"].pk, network["b_2026"].pk}
    assert ids({}) == everything
    assert ids({"organisation": partner_a.pk}) == {network["a_2025"].pk, network["a_2026"].pk}
    assert ids({"organisation": str(partner_a.pk)}) == ids({"organisation": partner_a})
    assert ids({"misaligned": True}) == {network["a_2026"].pk}
    assert ids({"misaligned": "false"}) == {network["a_2025"].pk, network["b_2026"].pk}
    assert ids({"period": "2025"}) == {network["a_2025"].pk}
    assert ids({"status": "open"}) == set()
    # Values that cannot match are ignored rather than failing.
    assert ids({"organisation": "abc", "status": "weird", "misaligned": "maybe"}) == everything
    assert ids({"period": "20\x0025"}) == everything
    newest = selectors.list_surveys(analyst, {"organisation": partner_a.pk}).first()
    assert newest.pk == network["a_2026"].pk
    assert (newest.invited, newest.answered) == (8, 2)


@pytest.mark.parametrize("pk", ["abc", "", None, 2**70, -1, "1\x00"])
def test_get_survey_malformed_id_is_404(network: dict[str, Any], analyst: User, pk: Any) -> None:
    with pytest.raises(Http404):
        selectors.get_survey(analyst, pk)


def test_summary_explains_a_misalignment(network: dict[str, Any]) -> None:
    summary = selectors.survey_summary(network["a_2026"])
    assert summary["closed"] and summary["misaligned"]
    assert summary["threshold"] == Decimal("1.0")
    trust = next(row for row in summary["rows"] if row["code"] == "trust")
    assert (trust["vendor"], trust["partner"], trust["divergence"], trust["flagged"]) == (
        Decimal("5.00"),
        Decimal("3.00"),
        Decimal("2.00"),
        True,
    )
    assert [row["code"] for row in summary["rows"]] == [*DIMENSIONS, "nps"]
    assert summary["misaligned_on"] == ["Trust"]
    assert summary["reasons"] == [
        "Trust: the sides differ by 2.00 points, more than the threshold of 1.0 "
        "(vendor 5.00, partner 3.00)."
    ]
    assert summary["why"] == (
        "Misaligned on Trust: the sides differ by more than the threshold of 1.0 points."
    )
    # Score: vendor (4+4+5+4+4)/5 = 4.2, partner 3.8 -> mean 4.0 -> 75.0
    assert summary["score"] == Decimal("75.0")
    assert "(4.00 - 1) / 4 x 100 = 75.0" in summary["rule"]
    assert summary["side_scores"] == {"vendor": Decimal("80.0"), "partner": Decimal("70.0")}
    assert summary["nps"] == {"vendor": Decimal("8.00"), "partner": Decimal("8.00")}
    assert summary["progress"]["vendor"] == {"invited": 5, "answered": 1}


def test_summary_explains_alignment_at_the_threshold(network: dict[str, Any]) -> None:
    summary = selectors.survey_summary(network["a_2025"])
    assert not summary["misaligned"] and summary["reasons"] == []
    assert "Aligned" in summary["why"] and "Trust, 1.00" in summary["why"]


def test_summary_without_a_score_says_why(partner_a: Organisation, channel_manager: User) -> None:
    governed(partner_a, now=NOW)
    survey = run_survey(
        channel_manager, partner_a, vendor=answers(), partner=None, period="2026", now=NOW
    )
    summary = selectors.survey_summary(survey)
    assert summary["score"] is None
    assert summary["no_score"] == "No score: nobody on the partner side answered."
    assert summary["why"] == summary["no_score"]
    assert next(r for r in summary["rows"] if r["code"] == "trust")["partner"] is None


def test_summary_of_an_open_survey_is_its_progress(
    partner_a: Organisation, channel_manager: User
) -> None:
    governed(partner_a, now=NOW)
    survey, links = health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW)
    health.answer(token=links[0][1], data=answers(), now=NOW)
    summary = selectors.survey_summary(survey)
    assert not summary["closed"] and summary["rows"] == [] and summary["score"] is None
    answered = sum(side["answered"] for side in summary["progress"].values())
    invited = sum(side["invited"] for side in summary["progress"].values())
    assert (answered, invited) == (1, 8)


def test_health_trend_of_one_relationship(
    network: dict[str, Any], partner_a_user: User, analyst: User, partner_a: Organisation
) -> None:
    for user in (partner_a_user, analyst):
        trend = selectors.health_trend(user, partner_a)
        assert [(p["period"], p["score"], p["misaligned"]) for p in trend] == [
            ("2025", Decimal("72.5"), False),
            ("2026", Decimal("75.0"), True),
        ]
    assert selectors.health_trend(analyst, "not a number") == []


def test_network_health_trend_by_period(
    network: dict[str, Any], analyst: User, partner_a_user: User
) -> None:
    trend = selectors.network_health_trend(analyst)
    assert trend == [
        {"period": "2025", "mean_score": Decimal("72.5"), "relationships": 1, "misaligned": 0},
        {"period": "2026", "mean_score": Decimal("62.5"), "relationships": 2, "misaligned": 1},
    ]
    mine = selectors.network_health_trend(partner_a_user)
    assert [(p["period"], p["mean_score"]) for p in mine] == [
        ("2025", Decimal("72.5")),
        ("2026", Decimal("75.0")),
    ]


def test_network_trend_in_a_fixed_number_of_queries(
    network: dict[str, Any], analyst: User, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        selectors.network_health_trend(analyst)
    with django_assert_max_num_queries(3):
        list(selectors.list_surveys(analyst))


def test_questions_cover_the_five_dimensions_and_nps() -> None:
    rows = selectors.questions()
    assert [r["code"] for r in rows] == [*DIMENSIONS, "nps"]
    assert (rows[0]["min"], rows[0]["max"], rows[-1]["min"], rows[-1]["max"]) == (1, 5, 0, 10)
    assert len(rows[-1]["choices"]) == 11


def test_a_regional_coordinator_reads_both_sides(
    network: dict[str, Any], regional_coordinator: User
) -> None:
    rows = list(selectors.list_responses(regional_coordinator, network["a_2026"]))
    assert {r.side for r in rows} == {Side.VENDOR, Side.PARTNER}
