"""The pure tiering and scoring rules (accord.programs.rules), proved on their edges with
Hypothesis: thresholds, hysteresis, grace periods, promotion, standings bands, score curves,
weighting and decay. No database."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from accord.programs.evaluation import Evaluation
from accord.programs.rules import (
    CriterionRule,
    ProgramRules,
    State,
    TierRule,
    band_for,
    check_bands,
    check_points,
    decayed,
    decide,
    explain,
    gap,
    gap_text,
    number,
    score_value,
    weighted_score,
)

KEY = "revenue@trailing_12"
DAY0 = dt.date(2026, 1, 1)

amounts = st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
positive = st.decimals(min_value=1, max_value=10**9, places=2)
fractions = st.decimals(min_value=0, max_value=Decimal("0.5"), places=4)
comparators = st.sampled_from(["gte", "gt", "lte", "lt"])
scores = st.decimals(min_value=0, max_value=100, places=2)


def rule(threshold: Decimal, comparator: str = "gte", metric: str = "revenue") -> CriterionRule:
    return CriterionRule(metric, metric, comparator, Decimal(threshold), "trailing_12")


def ladder(
    thresholds: list[Decimal], *, grace_days: int = 90, hysteresis: Decimal = Decimal("0.1")
) -> ProgramRules:
    """registered (no criteria), then one tier per threshold on revenue ≥ threshold."""
    tiers = [TierRule("registered", "Registered", 0)]
    for rank, threshold in enumerate(sorted(thresholds), start=1):
        tiers.append(TierRule(f"t{rank}", f"Tier {rank}", rank, criteria=(rule(threshold),)))
    return ProgramRules(tuple(tiers), grace_days=grace_days, hysteresis=hysteresis)


ladders = st.lists(positive, min_size=1, max_size=4, unique=True)
date_steps = st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=12)


def as_of_dates(steps: list[int]) -> list[dt.date]:
    """Non-decreasing evaluation dates from day offsets."""
    day, dates = DAY0, []
    for step in steps:
        day += dt.timedelta(days=step)
        dates.append(day)
    return dates


def run(rules: ProgramRules, state: State, values: list[dict], dates: list[dt.date]) -> list:
    decisions = []
    for value, as_of in zip(values, dates, strict=True):
        decision = decide(rules, state, rules.qualify(value), value, as_of)
        decisions.append(decision)
        state = decision.state
    return decisions


# -- criteria --------------------------------------------------------------------------
@given(amounts)
def test_a_value_exactly_at_the_threshold_passes_gte_lte_and_fails_gt_lt(threshold: Decimal):
    assert rule(threshold, "gte").passes(threshold)
    assert rule(threshold, "lte").passes(threshold)
    assert not rule(threshold, "gt").passes(threshold)
    assert not rule(threshold, "lt").passes(threshold)


@given(amounts, comparators)
def test_no_value_never_passes(threshold: Decimal, comparator: str):
    assert not rule(threshold, comparator).passes(None)
    assert not rule(threshold, comparator).passes(None, threshold - 1)


@given(amounts, amounts, comparators)
def test_passes_is_the_comparator(threshold: Decimal, value: Decimal, comparator: str):
    expected = {
        "gte": value >= threshold,
        "gt": value > threshold,
        "lte": value <= threshold,
        "lt": value < threshold,
    }[comparator]
    assert rule(threshold, comparator).passes(value) is expected


@given(amounts, fractions, comparators, amounts)
def test_keep_thresholds_relax_in_the_right_direction(
    threshold: Decimal, hysteresis: Decimal, comparator: str, value: Decimal
):
    criterion = rule(threshold, comparator)
    keep = criterion.keep_threshold(hysteresis)
    if comparator in ("gte", "gt"):
        assert keep == threshold - abs(threshold) * hysteresis
        assert keep <= threshold
    else:
        assert keep == threshold + abs(threshold) * hysteresis
        assert keep >= threshold
    # Whoever meets the entry threshold also meets the relaxed one.
    if criterion.passes(value):
        assert criterion.passes(value, keep)


def test_keep_threshold_by_hand():
    assert rule(Decimal(500000)).keep_threshold(Decimal("0.05")) == Decimal(475000)
    assert rule(Decimal(10), "lt").keep_threshold(Decimal("0.1")) == Decimal(11)
    # A negative growth threshold still relaxes downwards for ≥.
    assert rule(Decimal(-10), "gte").keep_threshold(Decimal("0.1")) == Decimal(-11)


def test_combines_all_any_at_least():
    criteria = (rule(Decimal(10), metric="a"), rule(Decimal(10), metric="b"), rule(10, metric="c"))
    values = {"a@trailing_12": Decimal(10), "b@trailing_12": Decimal(11), "c@trailing_12": None}
    assert not TierRule("x", "X", 0, "all", criteria=criteria).passes(values)
    assert TierRule("x", "X", 0, "any", criteria=criteria).passes(values)
    assert TierRule("x", "X", 0, "at_least", 2, criteria=criteria).passes(values)
    assert not TierRule("x", "X", 0, "at_least", 3, criteria=criteria).passes(values)
    assert TierRule("x", "X", 0, "at_least", 2, criteria=criteria).required == 2
    assert TierRule("x", "X", 0, "at_least", 9, criteria=criteria).required == 3
    assert TierRule("x", "X", 0).passes({})  # no criteria: everyone


# -- hysteresis and the state machine ----------------------------------------------------
@given(ladders, amounts, fractions, st.integers(0, 400), date_steps)
def test_a_constant_metric_never_flaps(
    thresholds: list[Decimal], value: Decimal, hysteresis: Decimal, grace: int, steps: list[int]
):
    rules = ladder(thresholds, grace_days=grace, hysteresis=hysteresis)
    dates = as_of_dates(steps)
    decisions = run(rules, State(), [{KEY: value}] * len(dates), dates)
    first = decisions[0].state.tier
    assert first == rules.qualify({KEY: value})
    assert [d.state.tier for d in decisions] == [first] * len(dates)
    assert decisions[0].outcome == "entered"
    assert {d.outcome for d in decisions[1:]} <= {"unchanged"}


@given(ladders, amounts, fractions, st.integers(0, 400), date_steps, st.data())
def test_a_constant_metric_changes_a_held_tier_at_most_once(
    thresholds: list[Decimal],
    value: Decimal,
    hysteresis: Decimal,
    grace: int,
    steps: list[int],
    data: st.DataObject,
):
    """From any tier held before, a constant metric moves it at most once (at once, or at
    the end of the grace period) and never back."""
    rules = ladder(thresholds, grace_days=grace, hysteresis=hysteresis)
    held = data.draw(st.sampled_from([tier.code for tier in rules.tiers]))
    dates = as_of_dates(steps)
    tiers = [held] + [
        d.state.tier for d in run(rules, State(held), [{KEY: value}] * len(dates), dates)
    ]
    changes = sum(1 for before, after in itertools.pairwise(tiers) if before != after)
    assert changes <= 1


@given(positive, fractions.filter(lambda h: h > 0), st.lists(st.integers(0, 1000), min_size=2))
def test_a_metric_oscillating_within_the_band_never_flaps(
    threshold: Decimal, hysteresis: Decimal, points: list[int]
):
    """Entered at the threshold, then anywhere in [keep, threshold]: the tier holds. Never
    entered and oscillating in [keep, threshold): the tier is never granted."""
    rules = ladder([threshold], hysteresis=hysteresis, grace_days=30)
    keep = rule(threshold).keep_threshold(hysteresis)
    band = [keep + (threshold - keep) * Decimal(p) / 1000 for p in points]
    dates = [DAY0 + dt.timedelta(days=91 * i) for i in range(len(band))]
    values = [{KEY: threshold}] + [{KEY: v} for v in band[1:]]
    decisions = run(rules, State(), values, dates)
    assert [d.state.tier for d in decisions] == ["t1"] * len(band)
    assert all(d.outcome in {"unchanged", "held"} for d in decisions[1:])
    assert all(d.state.grace_until is None for d in decisions)

    below = [{KEY: min(v, threshold - Decimal("0.01"))} for v in band]
    decisions = run(rules, State(), below, dates)
    assert {d.state.tier for d in decisions} == {"registered"}


@given(positive, fractions, st.data())
def test_oscillation_within_the_band_for_lower_is_better(
    threshold: Decimal, hysteresis: Decimal, data: st.DataObject
):
    criterion = rule(threshold, "lte", metric="returns")
    tiers = (TierRule("none", "None", 0), TierRule("good", "Good", 1, criteria=(criterion,)))
    rules = ProgramRules(tiers, grace_days=10, hysteresis=hysteresis)
    keep = criterion.keep_threshold(hysteresis)
    points = data.draw(st.lists(st.integers(0, 1000), min_size=1, max_size=8))
    state = decide(rules, State(), "good", {criterion.key: threshold}, DAY0).state
    for index, p in enumerate(points, start=1):
        value = threshold + (keep - threshold) * Decimal(p) / 1000
        values = {criterion.key: value}
        state = decide(
            rules, state, rules.qualify(values), values, DAY0 + dt.timedelta(index)
        ).state
        assert state.tier == "good"
        assert not state.in_grace


GOLD = ladder([Decimal(1000), Decimal(5000)], grace_days=90, hysteresis=Decimal("0.1"))


@given(st.integers(1, 400), st.integers(0, 1000), st.data())
def test_grace_begins_at_as_of_and_demotes_exactly_at_its_end(
    grace: int, start: int, data: st.DataObject
):
    rules = ladder([Decimal(1000), Decimal(5000)], grace_days=grace, hysteresis=Decimal("0.1"))
    opened_on = DAY0 + dt.timedelta(days=start)
    low = {KEY: Decimal(1200)}  # t1 only, below t2's keep threshold (4500)
    opened = decide(rules, State("t2"), "t1", low, opened_on)
    assert opened.outcome == "grace_opened"
    until = opened_on + dt.timedelta(days=grace)
    assert opened.state == State("t2", "t1", opened_on, until)
    # Any evaluation before grace_until keeps the tier, the day before included.
    before = data.draw(st.integers(0, grace - 1))
    day = opened_on + dt.timedelta(days=before)
    still = decide(rules, opened.state, "t1", low, day)
    assert still.outcome == "grace_continues"
    assert still.state.tier == "t2"
    assert still.state.grace_until == until
    last_day = decide(rules, opened.state, "t1", low, until - dt.timedelta(days=1))
    assert last_day.outcome == "grace_continues"
    # At exactly grace_until (and any time after) the demotion applies.
    after = data.draw(st.integers(0, 400))
    for on in (until, until + dt.timedelta(days=after)):
        demoted = decide(rules, opened.state, "t1", low, on)
        assert demoted.outcome == "demoted"
        assert demoted.state == State("t1")


@given(st.integers(1, 400), st.integers(0, 800), amounts)
def test_recovery_withdraws_the_grace_period(grace: int, offset: int, value: Decimal):
    rules = ladder([Decimal(1000), Decimal(5000)], grace_days=grace, hysteresis=Decimal("0.1"))
    state = State("t2", "t1", DAY0, DAY0 + dt.timedelta(days=grace))
    values = {KEY: value}
    decision = decide(rules, state, rules.qualify(values), values, DAY0 + dt.timedelta(offset))
    if value >= Decimal(4500):  # meets t2's keep threshold: recovered
        assert decision.outcome == "grace_withdrawn"
        assert decision.state == State("t2")
    elif offset >= grace:
        assert decision.outcome == "demoted"
        assert decision.state == State(rules.qualify(values))
    else:
        assert decision.outcome == "grace_continues"
        assert decision.state.tier == "t2"
        assert decision.state.grace_target == rules.qualify(values)
        assert decision.state.grace_started == DAY0  # the period is not restarted


def test_grace_days_zero_demotes_at_once():
    rules = ladder([Decimal(1000), Decimal(5000)], grace_days=0)
    decision = decide(rules, State("t2"), "t1", {KEY: Decimal(1200)}, DAY0)
    assert decision.outcome == "demoted"
    assert decision.state == State("t1")
    # Within the band it is still held: grace 0 does not remove hysteresis.
    held = decide(rules, State("t2"), "t1", {KEY: Decimal(4600)}, DAY0)
    assert (held.outcome, held.state.tier) == ("held", "t2")


def test_demotion_out_of_every_tier():
    rules = ProgramRules(
        (TierRule("silver", "Silver", 0, criteria=(rule(Decimal(1000)),)),), grace_days=0
    )
    decision = decide(rules, State("silver"), "", {KEY: Decimal(0)}, DAY0)
    assert (decision.outcome, decision.state.tier) == ("demoted", "")


@given(ladders, st.data(), st.integers(0, 400), amounts)
def test_promotion_is_always_immediate(
    thresholds: list[Decimal], data: st.DataObject, grace: int, value: Decimal
):
    rules = ladder(thresholds, grace_days=grace)
    values = {KEY: value}
    qualified = rules.qualify(values)
    codes = [tier.code for tier in rules.tiers]
    held = data.draw(st.sampled_from(["", *codes]))
    assume(rules.rank(qualified) > rules.rank(held))
    in_grace = data.draw(st.booleans()) and held != ""
    state = (
        State(held, "registered", DAY0, DAY0 + dt.timedelta(days=grace))
        if in_grace
        else State(held)
    )
    on = DAY0 + dt.timedelta(days=data.draw(st.integers(0, 1000)))
    decision = decide(rules, state, qualified, values, on)
    assert decision.state == State(qualified)
    assert decision.outcome == ("entered" if held == "" else "promoted")


def test_a_tier_the_new_version_dropped_is_re_entered_or_left():
    rules = GOLD
    entered = decide(rules, State("diamond"), "t1", {KEY: Decimal(1200)}, DAY0)
    assert (entered.outcome, entered.state) == ("entered", State("t1"))
    nothing = ProgramRules((TierRule("t1", "T1", 0, criteria=(rule(Decimal(1000)),)),))
    left = decide(nothing, State("diamond"), "", {KEY: Decimal(10)}, DAY0)
    assert (left.outcome, left.state) == ("demoted", State(""))


@given(
    ladders,
    fractions,
    st.integers(0, 200),
    st.lists(
        st.tuples(
            st.one_of(st.none(), amounts),
            st.integers(0, 5),  # held tier index (0: none)
            st.one_of(st.none(), st.integers(-100, 100)),  # grace_until offset
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(0, 300),
)
def test_the_set_based_decisions_equal_the_rules(
    thresholds: list[Decimal],
    hysteresis: Decimal,
    grace: int,
    organisations: list[tuple],
    day: int,
):
    """Evaluation.decide (the set-based path the services use) decides exactly what
    rules.decide decides for every organisation, whatever it held."""
    rules = ladder(thresholds, grace_days=grace, hysteresis=hysteresis)
    codes = ["", *(tier.code for tier in rules.tiers)]
    as_of = DAY0 + dt.timedelta(days=day)
    ids = list(range(1, len(organisations) + 1))
    column = {org: value for org, (value, _t, _g) in zip(ids, organisations, strict=True)}
    states = {}
    for org, (_value, held, until) in zip(ids, organisations, strict=True):
        code = codes[min(held, len(codes) - 1)]
        if code and until is not None:
            states[org] = State(code, "registered", DAY0, as_of + dt.timedelta(days=until))
        elif code:
            states[org] = State(code)
    qualified = {org: rules.qualify({KEY: column[org]}) for org in ids}
    evaluation = Evaluation(rules, as_of, ids, {KEY: column}, qualified)
    decisions = evaluation.decide(states)
    for org in ids:
        expected = decide(
            rules, states.get(org, State()), qualified[org], {KEY: column[org]}, as_of
        )
        assert decisions[org] == expected


# -- explanations and gaps -------------------------------------------------------------
def test_gap_text_by_hand():
    criterion = rule(Decimal(500000))
    assert gap_text(criterion, Decimal(426600)) == (
        "needs 73,400 more revenue in the trailing 12 months"
    )
    assert gap_text(rule(Decimal(500000), "gt"), Decimal(426600)) == (
        "needs more than 73,400 more revenue in the trailing 12 months"
    )
    returns = CriterionRule("returns", "returns", "lte", Decimal("0.05"), "quarter")
    assert gap_text(returns, Decimal("0.08")) == "needs returns 0.03 lower in the current quarter"
    assert gap_text(criterion, None) == (
        "needs revenue ≥ 500,000 in the trailing 12 months (no data yet)"
    )
    assert number(Decimal("73400.000000")) == "73,400"
    assert number(Decimal("4.200000")) == "4.2"
    assert number(Decimal("1234567.5")) == "1,234,567.5"


def test_gap_to_the_next_tier_and_at_least_n_missing():
    revenue = rule(Decimal(1500000))
    staff = CriterionRule("certified_staff", "certified_staff", "gte", Decimal(3), "month")
    csat = rule(Decimal("4.2"), metric="csat")
    growth = rule(Decimal(0), metric="growth")
    platinum = TierRule(
        "platinum", "Platinum", 1, "at_least", 3, criteria=(revenue, staff, csat, growth)
    )
    rules = ProgramRules(
        (TierRule("registered", "Registered", 0), platinum), hysteresis=Decimal("0.05")
    )
    values = {
        revenue.key: "1426600",
        staff.key: "3",
        csat.key: "4.1",
        growth.key: None,
    }
    found = gap(rules, "registered", values)
    assert found["tier"] == "platinum"
    assert found["missing"] == 2  # 3 needed, only staff passes
    texts = [item["text"] for item in found["items"]]
    assert texts == [
        "needs 73,400 more revenue in the trailing 12 months",
        "needs 0.1 more csat in the trailing 12 months",
        "needs growth ≥ 0 in the trailing 12 months (no data yet)",
    ]
    assert found["items"][0]["shortfall"] == "73400.000000" or Decimal(
        found["items"][0]["shortfall"]
    ) == Decimal(73400)
    assert gap(rules, "platinum", values) == {}  # nothing above the top
    # No tier at all: the gap is to the entry tier, which has no criteria.
    assert gap(rules, "", values) == {
        "tier": "registered",
        "name": "Registered",
        "missing": 0,
        "items": [],
    }
    checks = explain(rules, values)
    staff_check = checks[1].checks[1]
    assert staff_check.passed and staff_check.kept
    assert staff_check.keep_threshold == Decimal("2.85")
    assert not checks[1].passed


def test_rules_round_trip_through_the_run_inputs():
    rules = ProgramRules(
        (
            TierRule(
                "a", "A", 0, "at_least", 1, criteria=(rule(Decimal("10.5")),), cost_pct=Decimal(3)
            ),
        ),
        grace_days=30,
        hysteresis=Decimal("0.05"),
        cost_basis=rule(Decimal(0)),
    )
    again = ProgramRules.from_dict(rules.as_dict())
    assert again.tiers == rules.tiers
    assert again.grace_days == 30
    assert again.hysteresis == Decimal("0.05")
    assert again.cost_basis.key == rules.cost_basis.key


# -- scorecards ----------------------------------------------------------------------------
cuts = st.lists(st.integers(1, 9999), unique=True, max_size=6).map(
    lambda xs: [Decimal(x) / 100 for x in sorted(xs)]
)


def tiling(points: list[Decimal]) -> list[tuple[str, Decimal, Decimal]]:
    edges = [Decimal(0), *points, Decimal(100)]
    return [(f"b{i}", low, high) for i, (low, high) in enumerate(itertools.pairwise(edges))]


@given(cuts, st.randoms())
def test_check_bands_accepts_every_exact_tiling(points: list[Decimal], random):
    bands = tiling(points)
    random.shuffle(bands)
    assert check_bands(bands) == []


@given(cuts, st.data())
def test_check_bands_rejects_a_gap(points: list[Decimal], data: st.DataObject):
    bands = tiling(points)
    index = data.draw(st.integers(0, len(bands) - 1))
    code, low, high = bands[index]
    if data.draw(st.booleans()) or len(bands) == 1:
        # shrink one band from above or below, leaving a hole
        shrink = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=high - low, places=2))
        bands[index] = (
            (code, low + shrink, high) if data.draw(st.booleans()) else (code, low, high - shrink)
        )
    else:
        del bands[index]
    assert check_bands(bands) != []


@given(cuts, st.data())
def test_check_bands_rejects_an_overlap(points: list[Decimal], data: st.DataObject):
    bands = tiling(points)
    assume(len(bands) > 1)
    index = data.draw(st.integers(0, len(bands) - 2))
    code, low, high = bands[index]
    grow = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
    bands[index] = (code, low, min(high + grow, Decimal(100)))
    assert check_bands(bands) != []


def test_check_bands_messages():
    assert check_bands([]) == ["Define at least one standing."]
    assert check_bands([("a", Decimal(0), Decimal(40)), ("b", Decimal(50), Decimal(100))]) == [
        "No standing covers scores from 40 to 50."
    ]
    assert check_bands([("a", Decimal(0), Decimal(90))]) == [
        "No standing covers scores from 90 to 100."
    ]
    assert check_bands([("a", Decimal(0), Decimal(60)), ("b", Decimal(50), Decimal(100))]) == [
        "Standing b overlaps the one below it."
    ]
    assert check_bands([("a", Decimal(0), Decimal(120))]) == ["Standings must lie within 0 to 100."]


@given(cuts, st.decimals(min_value=0, max_value=100, places=3))
def test_band_for_puts_every_score_in_exactly_one_band(points: list[Decimal], score: Decimal):
    bands = tiling(points)
    holders = [code for code, low, high in bands if low <= score < high or (score == 100 == high)]
    assert len(holders) == 1
    assert band_for(bands, score) == holders[0]
    assert band_for(bands, Decimal(100)) == bands[-1][0]
    for code, low, _high in bands:  # a band's lower bound belongs to it
        assert band_for(bands, low) == code


point_lists = st.lists(
    st.tuples(st.integers(-1000, 1000), scores), min_size=2, max_size=6, unique_by=lambda p: p[0]
).map(lambda ps: [(Decimal(x), y) for x, y in sorted(ps)])
values = st.decimals(min_value=-2000, max_value=2000, places=3)


@given(st.sampled_from(["linear", "banded"]), point_lists, values)
def test_score_value_stays_within_0_and_100(rule_name: str, points: list, value: Decimal):
    assert Decimal(0) <= score_value(rule_name, points, value) <= Decimal(100)


@given(st.sampled_from(["linear", "banded"]), point_lists, values, values)
def test_score_value_is_monotone_for_monotone_points(
    rule_name: str, points: list, first: Decimal, second: Decimal
):
    ys = sorted(y for _x, y in points)
    monotone = [(x, y) for (x, _y), y in zip(points, ys, strict=True)]
    low, high = sorted((first, second))
    assert score_value(rule_name, monotone, low) <= score_value(rule_name, monotone, high)


@given(point_lists)
def test_score_value_at_the_points(points: list):
    for x, y in points:
        assert score_value("linear", points, x) == y  # linear passes through its points
        assert score_value("banded", points, x) == y  # exactly at a bound: that band
    below = points[0][0] - 1
    assert score_value("banded", points, below) == 0
    assert score_value("linear", points, below) == points[0][1]  # flat outside
    assert score_value("linear", points, points[-1][0] + 1) == points[-1][1]


def test_score_value_by_hand():
    revenue = check_points("linear", [[0, 0], [250000, 60], [500000, 100]])
    assert score_value("linear", revenue, Decimal(125000)) == Decimal(30)
    assert score_value("linear", revenue, Decimal(375000)) == Decimal(80)
    staff = check_points("banded", [[0, 0], [1, 50], [2, 80], [3, 100]])
    assert score_value("banded", staff, Decimal("1.999")) == Decimal(50)
    assert score_value("banded", staff, Decimal(2)) == Decimal(80)


@pytest.mark.parametrize(
    ("rule_name", "points", "message"),
    [
        ("cubic", [[0, 0], [1, 1]], "The rule must be linear or banded."),
        ("linear", [], "Give at least one point."),
        ("linear", [[0, 0]], "A piecewise-linear rule needs at least two points."),
        ("banded", [[0, 0, 1]], "Each point is a pair [value, score]."),
        ("banded", [["x", 0]], "Each point is a pair of numbers."),
        ("banded", [["NaN", 0]], "Each point is a pair of numbers."),
        ("banded", [[0, 101]], "Scores lie between 0 and 100."),
        ("banded", [[1, 0], [1, 50]], "Point values must increase strictly."),
    ],
)
def test_check_points_rejects(rule_name: str, points: list, message: str):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_points(rule_name, points)


parts = st.lists(st.tuples(st.integers(1, 100), st.one_of(st.none(), scores)), max_size=6)


@given(parts)
def test_weighted_score_renormalises_over_criteria_with_data(items: list):
    value, weight = weighted_score(items)
    known = [(w, s) for w, s in items if s is not None]
    if not known:
        assert (value, weight) == (None, 0)
        return
    assert weight == sum(w for w, _s in known)
    assert value == sum(Decimal(w) * s for w, s in known) / weight
    assert weighted_score(known) == (value, weight)  # the missing ones change nothing
    assert min(s for _w, s in known) <= value <= max(s for _w, s in known)


def test_weighted_score_by_hand():
    # 40 x 60 + 30 x (no data) + 30 x 80 = (2400 + 2400) / 70
    value, weight = weighted_score([(40, Decimal(60)), (30, None), (30, Decimal(80))])
    assert weight == 70
    assert value == Decimal(4800) / 70


@given(st.lists(st.one_of(st.none(), scores), min_size=1, max_size=8), st.decimals(0, 1, places=3))
def test_decayed_ignores_periods_without_activity(history: list, decay: Decimal):
    result = decayed(history, decay)
    weights = {
        age: (decay**age if age else Decimal(1))
        for age, score in enumerate(reversed(history))
        if score is not None
    }
    total = sum(weights.values())
    if not total:
        assert result is None
        return
    by_hand = sum(weights[age] * s for age, s in enumerate(reversed(history)) if s is not None)
    assert result == by_hand / total
    known = [s for s in history if s is not None]
    assert min(known) <= result <= max(known)  # a period with no activity never drags it down


@given(scores, st.decimals(0, 1, places=3))
def test_decayed_of_one_period_is_its_score(score: Decimal, decay: Decimal):
    assert decayed([score], decay) == score
    if decay:  # an older period with the only score: still that score, not dragged down
        assert decayed([None, score, None], decay) == score
    else:  # decay 0: only the newest period counts, and it had no activity
        assert decayed([None, score, None], decay) is None


def test_decayed_by_hand():
    # newest last: 80 (weight 1), none, 40 (weight 0.25): (80 + 10) / 1.25 = 72
    assert decayed([Decimal(40), None, Decimal(80)], Decimal("0.5")) == Decimal(72)
    assert decayed([None, None], Decimal("0.5")) is None
