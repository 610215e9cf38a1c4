"""Weighted random selection is unbiased: observed shares against the weights by a
chi-square goodness-of-fit test (the statistic computed here, compared with the critical
value at p = 0.001), for pick_weighted alone and for route_lead over the database."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.leads import services
from accord.leads.models import RoutingEvent
from accord.leads.routing import pick_weighted, weighted_choice
from accord.partners.models import Organisation
from tests.leads.builders import NOW, hold, partner, rule, set_rules, tier_program

# Upper critical values of the chi-square distribution at p = 0.001, by degrees of freedom.
CHI2_CRITICAL_001 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467}


def chi_square(observed: Mapping[int, int], weights: Mapping[int, float]) -> float:
    """Pearson's statistic of the observed counts against the shares the weights give."""
    draws = sum(observed.values())
    total = sum(weights.values())
    statistic = 0.0
    for key, weight in weights.items():
        expected = draws * weight / total
        assert expected >= 5, "too few draws for the chi-square approximation"
        statistic += (observed.get(key, 0) - expected) ** 2 / expected
    return statistic


def test_pick_weighted_follows_the_weights() -> None:
    weights = {1: 1.0, 2: 2.0, 3: 7.0}
    rng = random.Random(20260302)
    draws = 20_000
    observed = Counter(pick_weighted(weights, rng) for _ in range(draws))
    statistic = chi_square(observed, weights)
    critical = CHI2_CRITICAL_001[len(weights) - 1]
    print(f"\npick_weighted: {dict(sorted(observed.items()))} chi2={statistic:.3f} < {critical}")
    assert set(observed) == set(weights)
    assert statistic < critical
    # The shares themselves, to about a percentage point.
    for key, weight in weights.items():
        assert abs(observed[key] / draws - weight / 10) < 0.01


def test_the_check_has_power_against_a_biased_picker() -> None:
    """A picker biased towards the first key (weights 2:2:7 instead of 1:2:7) fails the same
    test: the check would catch such a bug."""
    rng = random.Random(7)
    biased = Counter(pick_weighted({1: 2.0, 2: 2.0, 3: 7.0}, rng) for _ in range(20_000))
    assert chi_square(biased, {1: 1.0, 2: 2.0, 3: 7.0}) > CHI2_CRITICAL_001[2]


def test_pick_weighted_edges() -> None:
    class Fixed:
        def __init__(self, value: float) -> None:
            self.value = value

        def random(self) -> float:
            return self.value

    weights = {3: 1.0, 1: 1.0, 2: 2.0}  # keys are laid out in ascending order: 1, 2, 3
    assert weighted_choice(weights, Fixed(0.0)) == (1, 0.0)
    assert pick_weighted(weights, Fixed(0.2499)) == 1
    assert pick_weighted(weights, Fixed(0.25)) == 2  # intervals are half-open [a, b)
    assert pick_weighted(weights, Fixed(0.7499)) == 2
    assert pick_weighted(weights, Fixed(0.75)) == 3
    assert pick_weighted(weights, Fixed(0.999999999)) == 3
    assert pick_weighted({1: 0.0, 2: 5.0}, Fixed(0.0)) == 2  # zero weight never wins
    with pytest.raises(ValueError):
        pick_weighted({}, Fixed(0.5))
    with pytest.raises(ValueError):
        pick_weighted({1: 0.0}, Fixed(0.5))


@given(
    weights=st.dictionaries(
        st.integers(1, 10_000), st.floats(0.001, 1000), min_size=1, max_size=12
    ),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_the_draw_lands_in_the_chosen_keys_interval(weights: dict[int, float], draw: float) -> None:
    """Laid out in ascending key order, the chosen key's interval [start, end) of the
    cumulative weights holds draw x total (up to float rounding)."""

    class Fixed:
        def random(self) -> float:
            return draw

    chosen, recorded = weighted_choice(weights, Fixed())
    assert recorded == draw
    total = sum(weights.values())
    start = sum(weight for key, weight in weights.items() if key < chosen)
    end = start + weights[chosen]
    assert start - 1e-9 * total <= draw * total <= end + 1e-9 * total


@pytest.mark.django_db
def test_route_lead_shares_follow_the_lead_priorities(vendor: Organisation) -> None:
    """600 leads routed end to end over the database: who gets each offer follows the
    lead-priority weights (priority + 1: registered 1, silver 2, gold 7)."""
    program = tier_program({"registered": 0, "silver": 1, "gold": 6})
    registered, silver, gold = partner(), partner(), partner()
    hold(registered, program, "registered")
    hold(silver, program, "silver")
    hold(gold, program, "gold")
    set_rules(rule("random", weight="lead_priority"))
    weights = {registered.pk: 1.0, silver.pk: 2.0, gold.pk: 7.0}
    rng = random.Random(600)
    leads = 600
    for index in range(leads):
        lead = services.create_lead(
            actor=None, data={"company_name": f"Buyer {index}"}, route=False, now=NOW
        )
        services.route_lead(actor=None, lead=lead, now=NOW, rng=rng)
    offers = RoutingEvent.objects.filter(kind=RoutingEvent.Kind.OFFERED)
    observed = Counter(offers.values_list("organisation_id", flat=True))
    assert sum(observed.values()) == leads
    for event in offers[:20]:  # each trace carries the same weights and its own draw
        assert {int(k): v for k, v in event.trace["weights"].items()} == weights
        assert 0 <= event.trace["draw"] < 1
    statistic = chi_square(observed, weights)
    critical = CHI2_CRITICAL_001[2]
    print(f"\nroute_lead: {dict(observed)} chi2={statistic:.3f} < {critical}")
    assert statistic < critical
    for key, weight in weights.items():  # shares within 5 points (600 draws)
        assert abs(observed[key] / leads - weight / 10) < 0.05
