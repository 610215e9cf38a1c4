"""Routing by the ordered rules: each rule kind narrows the candidates as documented, required
rules send the lead to manual review when they leave nobody, optional ones are skipped, and
every offer's trace says what each step did."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.leads import selectors, services
from accord.leads.models import Lead, LeadSettings, RoutingEvent
from accord.leads.routing import resolve_territory, weighted_choice
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory
from tests.leads.builders import (
    HOUR,
    NOW,
    hold,
    new_lead,
    partner,
    route,
    rule,
    set_rules,
    tier_program,
    tree,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(vendor: Organisation) -> dict:
    return tree()


def offer(lead: Lead) -> RoutingEvent:
    return lead.events.filter(kind__in=["offered", "assigned"]).latest("at", "pk")


def step(lead: Lead, kind: str) -> dict:
    (found,) = [s for s in offer(lead).trace["steps"] if s["kind"] == kind]
    return found


# -- territory --------------------------------------------------------------------------


def test_territory_keeps_the_partners_of_the_leads_territory(places: dict) -> None:
    in_shanghai = partner(places["shanghai"])
    partner(places["east"])
    partner(places["north"])
    set_rules(rule("territory", required=True))

    lead = route(new_lead(territory=places["shanghai"].pk))

    assert lead.status == Lead.Status.OFFERED and lead.assigned_to_id == in_shanghai.pk
    found = step(lead, "territory")
    assert (found["before"], found["after"], found["skipped"]) == (3, 1, False)
    assert found["detail"]["territory"]["name"] == "Shanghai" and "matched" not in found["detail"]


def test_territory_walks_up_the_tree_to_the_nearest_holder(places: dict) -> None:
    in_east = partner(places["east"])
    partner(places["china"])  # further up: not reached while East China has someone
    partner(places["north"])  # a sibling branch never counts
    set_rules(rule("territory", required=True))

    lead = route(new_lead(territory=places["shanghai"].pk))

    assert lead.assigned_to_id == in_east.pk
    found = step(lead, "territory")
    assert found["after"] == 1
    assert found["detail"]["matched"] == {"id": places["east"].pk, "name": "East China"}
    line = selectors.explain(offer(lead))[1]
    assert line.startswith("Territory (required): 3 → 1 partners in East China")
    assert "walked up" in line


def test_territory_walks_up_to_the_root(places: dict) -> None:
    national = partner(places["china"])
    partner()  # no territory at all
    set_rules(rule("territory", required=True))
    lead = route(new_lead(territory=places["shanghai"].pk))
    assert lead.assigned_to_id == national.pk


def test_exclusive_first_narrows_to_the_exclusive_holder(places: dict) -> None:
    exclusive = partner(places["east"], exclusive=True)
    partner(places["east"])
    set_rules(rule("territory", required=True, exclusive_first=True))
    lead = route(new_lead(territory=places["east"].pk))
    assert lead.assigned_to_id == exclusive.pk
    assert step(lead, "territory")["detail"]["exclusive"] is True
    assert step(lead, "territory")["after"] == 1


def test_without_exclusive_first_shared_and_exclusive_holders_both_stay(places: dict) -> None:
    partner(places["east"], exclusive=True)
    partner(places["east"])
    set_rules(rule("territory", required=True))
    lead = route(new_lead(territory=places["east"].pk))
    assert step(lead, "territory")["after"] == 2


@pytest.mark.parametrize(
    ("place", "expected", "field"),
    [
        ({"city": "shanghai"}, "shanghai", "city"),
        ({"city": "Nowhere", "region": "EAST CHINA"}, "east", "region"),
        ({"country": "CN"}, "china", "country"),
        ({"city": "cn-sh", "country": "CN"}, "shanghai", "city"),
    ],
)
def test_a_lead_without_territory_gets_one_from_its_place(
    places: dict, place: dict, expected: str, field: str
) -> None:
    holder = partner(places[expected])
    set_rules(rule("territory", required=True))
    lead = route(new_lead(**place))
    assert lead.territory_id == places[expected].pk  # stored on the lead
    assert lead.assigned_to_id == holder.pk
    assert step(lead, "territory")["detail"]["resolved_from"] == field


def test_a_shared_city_name_is_settled_by_the_leads_region(places: dict) -> None:
    from tests.factories import TerritoryFactory

    other = TerritoryFactory(code="cn-n-sh", name="Shanghai", parent=places["north"])
    territory, field = resolve_territory("CN", "North China", "Shanghai")
    assert (territory, field) == (other, "city")
    territory, _field = resolve_territory("CN", "East China", "shanghai")
    assert territory == places["shanghai"]
    assert resolve_territory("", "", "") == (None, "")
    assert resolve_territory("DE", "", "Berlin") == (None, "")


def test_no_territory_and_required_rule_sends_the_lead_to_manual_review(places: dict) -> None:
    partner(places["east"])
    territory_rule, _ = set_rules(rule("territory", required=True), rule("random"))
    lead = route(new_lead(city="Berlin", country="DE"))
    assert lead.status == Lead.Status.MANUAL and lead.assigned_to is None
    event = lead.events.get(kind=RoutingEvent.Kind.MANUAL)
    assert "Territory" in event.reason
    assert event.trace["failed_rule"] == territory_rule.pk
    assert event.trace["steps"][0]["detail"] == {"no_territory": True}
    assert event.trace["steps"][0]["after"] == 0
    assert len(event.trace["steps"]) == 1  # nothing ran after the failing rule
    assert selectors.explain(event)[-1] == (
        "The required rule “Territory” left no partner: the lead went to manual review."
    )


def test_an_optional_rule_that_leaves_nobody_is_skipped(places: dict) -> None:
    anywhere = partner()
    set_rules(rule("territory", required=False))
    lead = route(new_lead(city="Berlin"))
    assert lead.assigned_to_id == anywhere.pk
    found = step(lead, "territory")
    assert found["skipped"] is True and found["after"] == 0 and found["before"] == 1
    assert "skipped" in selectors.explain(offer(lead))[1]


# -- partner kind, tier ------------------------------------------------------------------


def test_partner_kind_keeps_the_listed_kinds(vendor: Organisation) -> None:
    var = partner(kind=Organisation.Kind.VAR)
    distributor = partner(kind=Organisation.Kind.DISTRIBUTOR)
    partner(kind=Organisation.Kind.RETAILER)
    set_rules(rule("partner_kind", required=True, kinds=["var", "distributor"]))
    lead = route(new_lead())
    assert lead.assigned_to_id in {var.pk, distributor.pk}
    assert step(lead, "partner_kind")["after"] == 2


def test_inactive_and_vendor_organisations_are_never_candidates(vendor: Organisation) -> None:
    partner(status=Organisation.Status.SUSPENDED)
    partner(status=Organisation.Status.ONBOARDING)
    active = partner()
    lead = route(new_lead())
    assert lead.assigned_to_id == active.pk
    assert offer(lead).trace["candidates"] == 1


def test_tier_min_rank_uses_the_effective_tier(vendor: Organisation) -> None:
    program = tier_program()  # registered 0, silver 1, gold 2
    gold, silver, registered, untiered = (partner() for _ in range(4))
    hold(gold, program, "gold")
    hold(silver, program, "silver")
    # Evaluated registered but held in silver by an override that lasts past NOW.
    hold(
        registered,
        program,
        "registered",
        override_tier="silver",
        override_until=dt.date(2026, 6, 1),
        override_reason="pilot",
    )
    set_rules(rule("tier", required=True, min_rank=1))
    lead = route(new_lead())
    assert step(lead, "tier")["after"] == 3
    assert lead.assigned_to_id != untiered.pk

    set_rules(rule("tier", required=True, min_rank=2))
    assert route(new_lead()).assigned_to_id == gold.pk


def test_an_expired_override_falls_back_to_the_evaluated_tier(vendor: Organisation) -> None:
    program = tier_program()
    lapsed = partner()
    hold(lapsed, program, "registered", override_tier="gold", override_until=NOW.date())
    other = partner()
    hold(other, program, "silver")
    set_rules(rule("tier", required=True, tiers=["gold", "silver"]))
    lead = route(new_lead())
    assert lead.assigned_to_id == other.pk
    assert step(lead, "tier")["detail"] == {"tiers": ["gold", "silver"]}


def test_a_tier_rule_without_a_tier_program_leaves_nobody(vendor: Organisation) -> None:
    partner()
    set_rules(rule("tier", required=True, min_rank=0))
    lead = route(new_lead())
    assert lead.status == Lead.Status.MANUAL
    event = lead.events.get(kind="manual")
    assert event.trace["steps"][0]["detail"]["no_program"] is True


# -- capacity, performance --------------------------------------------------------------


def test_capacity_counts_offered_and_accepted_leads(vendor: Organisation) -> None:
    busy, free = partner(), partner()
    for _ in range(2):
        services.assign_lead(actor=None, lead=new_lead(), organisation=busy, reason="seed")
    accepted = services.assign_lead(actor=None, lead=new_lead(), organisation=free, reason="seed")
    services.accept_lead(actor=None, lead=accepted, now=NOW)
    closed = services.assign_lead(actor=None, lead=new_lead(), organisation=busy, reason="seed")
    services.accept_lead(actor=None, lead=closed, now=NOW)
    services.close_lead(actor=None, lead=closed, outcome="won", now=NOW)  # no longer open

    set_rules(rule("capacity", required=True, max_open=2))
    lead = route(new_lead())
    assert lead.assigned_to_id == free.pk  # busy holds 2 open (limit 2), free holds 1
    assert step(lead, "capacity")["after"] == 1

    set_rules(rule("capacity", required=True, max_open=1))
    assert route(new_lead()).status == Lead.Status.MANUAL  # both at or over one open lead


def history(organisation: Organisation, offered: int, accepted: int, won: int, at: dt.datetime):
    """Offers (by hand) to ``organisation`` at ``at``, some accepted, some of those won; the
    rest declined (each then goes to manual review: nobody else is a candidate there)."""
    for index in range(offered):
        lead = services.assign_lead(
            actor=None, lead=new_lead(now=at), organisation=organisation, reason="seed", now=at
        )
        if index < accepted:
            lead = services.accept_lead(actor=None, lead=lead, now=at)
            if index < won:
                services.close_lead(actor=None, lead=lead, outcome="won", now=at)
            else:
                services.close_lead(actor=None, lead=lead, outcome="lost", now=at)
        else:
            services.decline_lead(actor=None, lead=lead, reason="busy", now=at)


def test_performance_thresholds_with_benefit_of_the_doubt(vendor: Organisation) -> None:
    set_rules(rule("partner_kind", kinds=["var"], required=True))  # seeding leads never route
    at = NOW - dt.timedelta(days=10)
    good, slow, loser, newcomer = (partner(kind="reseller") for _ in range(4))
    history(good, offered=4, accepted=4, won=2, at=at)  # acceptance 100%, win 50%
    history(slow, offered=4, accepted=1, won=1, at=at)  # acceptance 25%
    history(loser, offered=4, accepted=4, won=0, at=at)  # win 0%
    history(newcomer, offered=1, accepted=0, won=0, at=at)  # too few offers to judge

    set_rules(rule("performance", required=True, min_acceptance=0.5, min_win=0.25, min_offers=3))
    lead = route(new_lead())
    found = step(lead, "performance")
    assert found["after"] == 2 and found["detail"]["untested"] == 1
    assert lead.assigned_to_id in {good.pk, newcomer.pk}
    router_keeps = {good.pk, newcomer.pk}
    weights = {int(k) for k in offer(lead).trace["weights"]}
    assert weights == router_keeps


def test_performance_only_reads_the_window(vendor: Organisation) -> None:
    set_rules(rule("partner_kind", kinds=["var"]))
    services.update_settings(actor=None, data={"performance_days": 30})
    old_refuser = partner()
    history(old_refuser, offered=3, accepted=0, won=0, at=NOW - dt.timedelta(days=40))
    set_rules(rule("performance", required=True, min_acceptance=0.5, min_offers=3))
    lead = route(new_lead())  # the refusals are 40 days old: the window is 30
    assert lead.assigned_to_id == old_refuser.pk
    assert step(lead, "performance")["detail"]["untested"] == 1


def test_win_rate_is_not_judged_without_an_acceptance(vendor: Organisation) -> None:
    set_rules(rule("partner_kind", kinds=["var"]))
    at = NOW - dt.timedelta(days=1)
    refuser = partner()
    history(refuser, offered=3, accepted=0, won=0, at=at)
    set_rules(rule("performance", required=True, min_win=0.5, min_offers=1))
    assert route(new_lead()).assigned_to_id == refuser.pk


# -- weighted random, the trace ------------------------------------------------------------


def test_weights_by_lead_priority_equal_and_performance(vendor: Organisation) -> None:
    program = tier_program({"registered": 0, "silver": 2, "gold": 5})
    gold, silver, none = partner(), partner(), partner()
    hold(gold, program, "gold")
    hold(silver, program, "silver")

    set_rules(rule("random", weight="lead_priority"))
    trace = offer(route(new_lead())).trace
    assert trace["weights"] == {str(gold.pk): 6.0, str(silver.pk): 3.0, str(none.pk): 1.0}

    set_rules(rule("random", weight="equal"))
    trace = offer(route(new_lead())).trace
    assert set(trace["weights"].values()) == {1.0}

    newcomer = partner()
    offers = {
        pk: RoutingEvent.objects.filter(organisation_id=pk, kind="offered").count()
        for pk in (gold.pk, silver.pk, none.pk, newcomer.pk)
    }
    set_rules(rule("random", weight="performance"))
    trace = offer(route(new_lead())).trace
    # Nothing accepted yet: (0 + 1) / (offers + 2) x (0 + 1) / (0 + 2); a newcomer 0.25.
    assert trace["weights"] == {str(pk): round(0.5 / (n + 2), 6) for pk, n in offers.items()}
    assert trace["weights"][str(newcomer.pk)] == 0.25


def test_the_offer_trace_explains_every_step(vendor: Organisation) -> None:
    places = tree()
    program = tier_program()
    east_gold = partner(places["east"], kind="var")
    east_silver = partner(places["east"], kind="var")
    partner(places["east"], kind="retailer")
    partner(places["north"], kind="var")
    hold(east_gold, program, "gold")
    hold(east_silver, program, "silver")
    territory, kinds, capacity, randomly = set_rules(
        rule("territory", "Territory", required=True),
        rule("partner_kind", "VARs", kinds=["var"]),
        rule("capacity", "Capacity", max_open=5),
        rule("random", "Pick", weight="lead_priority"),
    )
    lead = route(new_lead(territory=places["shanghai"].pk), seed=7)
    event = offer(lead)
    trace = event.trace
    assert [s["rule"] for s in trace["steps"]] == [territory.pk, kinds.pk, capacity.pk, randomly.pk]
    assert [(s["before"], s["after"]) for s in trace["steps"]] == [(4, 3), (3, 2), (2, 2), (2, 1)]
    assert trace["steps"][0] == {
        "rule": territory.pk,
        "name": "Territory",
        "kind": "territory",
        "required": True,
        "before": 4,
        "after": 3,
        "skipped": False,
        "note": "4 -> 3",
        "detail": {
            "territory": {"id": places["shanghai"].pk, "name": "Shanghai"},
            "matched": {"id": places["east"].pk, "name": "East China"},
        },
    }
    assert trace["weights"] == {str(east_gold.pk): 7.0, str(east_silver.pk): 2.0}
    assert trace["chosen"] == lead.assigned_to_id
    assert trace["sla_hours"] == 48 and lead.accept_by == NOW + 48 * HOUR
    # The recorded draw reproduces the pick.
    draw = random.Random(7).random()
    assert trace["draw"] == draw

    class Replay:
        def random(self) -> float:
            return draw

    weights = {int(k): v for k, v in trace["weights"].items()}
    assert weighted_choice(weights, Replay()) == (trace["chosen"], draw)
    lines = selectors.explain(event)
    assert lines[0] == "4 active partners had not been offered this lead yet."
    assert lines[1].startswith("Territory (required): 4 → 3 partners in East China")
    assert lines[2] == "VARs (optional): 3 → 2 partners of kind Value-added reseller"
    assert lines[3] == "Capacity (optional): 2 → 2 partners with fewer than 5 open leads"
    assert lines[4] == "Pick: one of 2 partners, weighted by lead priority"
    assert lines[5].startswith(f"Drew {draw:.4f}: ")
    assert lines[5].endswith("of 9).")
    assert lines[6] == "To be accepted within 48 hours."


def test_without_a_random_rule_the_last_step_weighs_by_lead_priority(vendor: Organisation) -> None:
    program = tier_program()
    gold, other = partner(), partner()
    hold(gold, program, "gold")
    set_rules(rule("partner_kind", kinds=["reseller"]))
    lead = route(new_lead())
    trace = offer(lead).trace
    last = trace["steps"][-1]
    assert last["rule"] is None and last["detail"] == {"weight": "lead_priority", "default": True}
    assert "no weighted random rule" in last["note"]
    assert selectors.explain(offer(lead))[-3] == (
        "Final pick: one of 2 partners, weighted by lead priority "
        "(there is no weighted random rule)"
    )
    assert trace["weights"] == {str(gold.pk): 7.0, str(other.pk): 1.0}


def test_inactive_rules_do_not_run(vendor: Organisation) -> None:
    anyone = partner()
    set_rules({**rule("territory", required=True), "active": False})
    lead = route(new_lead())
    assert lead.assigned_to_id == anyone.pk
    assert [s["rule"] for s in offer(lead).trace["steps"]] == [None]


# -- limits --------------------------------------------------------------------------------


def test_max_offers_then_manual_review(vendor: Organisation) -> None:
    services.update_settings(actor=None, data={"max_offers": 2})
    partners = {partner().pk for _ in range(4)}
    lead = route(new_lead())
    lead = services.decline_lead(actor=None, lead=lead, reason="no", now=NOW)
    assert lead.status == Lead.Status.OFFERED and lead.offers == 2
    lead = services.decline_lead(actor=None, lead=lead, reason="no", now=NOW)
    assert lead.status == Lead.Status.MANUAL and lead.offers == 2
    event = lead.events.get(kind="manual")
    assert event.trace["result"] == "max_offers"
    assert "2 times" in event.reason
    offered = set(lead.events.filter(kind="offered").values_list("organisation_id", flat=True))
    assert len(offered) == 2 and offered <= partners


def test_when_everyone_was_offered_the_lead_goes_to_manual_review(vendor: Organisation) -> None:
    first, second = partner(), partner()
    lead = route(new_lead())
    lead = services.decline_lead(actor=None, lead=lead, reason="no", now=NOW)
    assert lead.assigned_to_id in {first.pk, second.pk}
    lead = services.decline_lead(actor=None, lead=lead, reason="no", now=NOW)
    assert lead.status == Lead.Status.MANUAL
    event = lead.events.get(kind="manual")
    assert event.trace["result"] == "no_candidates" and event.trace["already_offered"] == 2


def test_routing_reads_a_fixed_number_of_queries_whatever_the_network(vendor: Organisation) -> None:
    places = tree()
    program = tier_program()
    set_rules(
        rule("territory", required=True, exclusive_first=True),
        rule("partner_kind", kinds=["reseller", "var"]),
        rule("tier", min_rank=0),
        rule("capacity", max_open=10),
        rule("performance", min_acceptance=0.1, min_offers=2),
        rule("random", weight="performance"),
    )

    def measure(count: int) -> int:
        for _ in range(count):
            hold(partner(places["east"]), program, "silver")
        lead = new_lead(territory=places["shanghai"].pk)
        with CaptureQueriesContext(connection) as queries:
            route(lead)
        return len(queries)

    small = measure(3)
    large = measure(60)
    assert small == large, (small, large)


def test_the_settings_row_is_created_on_first_use(db: None) -> None:
    assert LeadSettings.objects.count() == 0
    settings = LeadSettings.current()
    assert (settings.pk, settings.acceptance_hours, settings.max_offers) == (1, 48, 5)


def test_route_refuses_an_offered_lead(vendor: Organisation) -> None:
    from accord.core.errors import InvalidTransition

    OrganisationFactory()
    lead = route(new_lead())
    with pytest.raises(InvalidTransition):
        route(lead)
