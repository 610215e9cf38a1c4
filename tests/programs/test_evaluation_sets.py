"""The set-based evaluation (accord.programs.evaluation) against the per-organisation rules
(accord.programs.rules) it must equal: qualification, relaxed thresholds and decisions, for
programs of several criteria over several metrics, every comparator and combine rule,
organisations without values, tiers a version no longer has and open grace periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.programs.evaluation import Evaluation, evaluate_columns
from accord.programs.rules import CriterionRule, ProgramRules, State, TierRule, decide

KEYS = ("revenue@trailing_12", "orders@trailing_12", "growth@quarter")
AS_OF = dt.date(2026, 6, 30)

criteria = st.builds(
    lambda key, comparator, threshold: CriterionRule(
        key.split("@")[0], key.split("@")[0], comparator, Decimal(threshold), key.split("@")[1]
    ),
    st.sampled_from(KEYS),
    st.sampled_from(["gte", "gt", "lte", "lt"]),
    st.integers(-5, 20),
)


@st.composite
def programs(draw: st.DrawFn) -> ProgramRules:
    tiers = []
    for rank in range(draw(st.integers(1, 4))):
        combine = draw(st.sampled_from(["all", "any", "at_least"]))
        tiers.append(
            TierRule(
                code=f"t{rank}",
                name=f"T{rank}",
                rank=rank,
                combine=combine,
                at_least=draw(st.integers(1, 3)) if combine == "at_least" else None,
                criteria=tuple(draw(st.lists(criteria, max_size=4))),
            )
        )
    return ProgramRules(
        tiers=tuple(tiers),
        grace_days=draw(st.sampled_from([0, 30, 90])),
        hysteresis=Decimal(draw(st.sampled_from([0, 5, 10, 50]))) / 100,
    )


values = st.one_of(st.none(), st.integers(-10, 30).map(Decimal))
held = st.sampled_from(["", "t0", "t1", "t2", "t3", "retired"])


@settings(max_examples=300, deadline=None)
@given(
    programs(),
    st.lists(
        st.tuples(
            st.tuples(values, values, values),
            st.booleans(),  # has any data at all
            st.one_of(st.none(), st.tuples(held, st.booleans(), st.integers(-40, 40))),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_the_sets_equal_the_rules_for_every_organisation(
    rules: ProgramRules, organisations: list[tuple]
) -> None:
    ids = list(range(1, len(organisations) + 1))
    columns: dict[str, dict[int, Decimal | None]] = {key: {} for key in KEYS}
    states: dict[int, State] = {}
    for org, (found, has_data, state) in zip(ids, organisations, strict=True):
        if has_data:  # else the organisation is absent from every column
            for key, value in zip(KEYS, found, strict=True):
                columns[key][org] = value
        if state is not None:
            tier, in_grace, offset = state
            until = AS_OF + dt.timedelta(days=offset)
            states[org] = (
                State(tier, "t0", until - dt.timedelta(days=90), until) if in_grace else State(tier)
            )
    evaluation = evaluate_columns(rules, AS_OF, ids, columns)
    decisions = evaluation.decide(states)
    plain = Evaluation(rules, AS_OF, ids, columns, evaluation.qualified)
    for org in ids:
        own = evaluation.values_of(org)
        assert evaluation.qualified[org] == rules.qualify(own)
        assert decisions[org] == decide(
            rules, states.get(org, State()), evaluation.qualified[org], own, AS_OF
        )
    for tier in rules.tiers:
        assert plain.keeps(tier) == {
            org for org in ids if tier.passes(evaluation.values_of(org), rules.hysteresis)
        }
    assert list(decisions) == ids
