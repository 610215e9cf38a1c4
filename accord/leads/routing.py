"""Lead routing: the ordered rules that narrow the candidate partners of a lead, the unbiased
weighted pick among those left, and the trace that explains each step.

Every rule reads its inputs for the whole candidate set in one query (never one per partner);
the steps themselves are pure functions of those inputs.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from accord.partners.models import Organisation, Territory, TerritoryAssignment
from accord.programs.models import Membership, ProgramVersion, Tier

OPEN_STATUSES = (Lead.Status.OFFERED, Lead.Status.ACCEPTED)
OFFER_KINDS = (RoutingEvent.Kind.OFFERED, RoutingEvent.Kind.ASSIGNED)
WEIGHTS = ("lead_priority", "equal", "performance")


class Random(Protocol):
    def random(self) -> float: ...


def weighted_choice(weights: Mapping[int, float], rng: Random) -> tuple[int, float]:
    """``(key, draw)``: one ``rng.random()`` draw ``u`` in [0, 1) placed on the cumulative
    weights of the keys in ascending order; key ``k`` wins with probability
    ``weights[k] / sum(weights)``. Keys with a weight of zero or less never win."""
    items = sorted((key, float(weight)) for key, weight in weights.items() if weight > 0)
    if not items:
        raise ValueError("No positive weight to pick from.")
    total = sum(weight for _, weight in items)
    draw = rng.random()
    target = draw * total
    cumulative = 0.0
    for key, weight in items:
        cumulative += weight
        if target < cumulative:
            return key, draw
    return items[-1][0], draw  # float rounding left target == total: the last key


def pick_weighted(weights: Mapping[int, float], rng: Random) -> int:
    """The key picked with probability proportional to its weight (one ``rng.random()``)."""
    return weighted_choice(weights, rng)[0]


# -- the inputs of the rules ----------------------------------------------------------


@dataclass(frozen=True)
class TierInfo:
    code: str
    name: str
    rank: int | None  # None: a tier the live version no longer has
    lead_priority: int


@dataclass(frozen=True)
class Performance:
    offered: int = 0
    accepted: int = 0
    won: int = 0

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.offered if self.offered else None

    @property
    def win(self) -> float | None:
        return self.won / self.accepted if self.accepted else None

    @property
    def weight(self) -> float:
        """Laplace-smoothed acceptance rate times win rate: a partner without history weighs
        0.25, never zero (so it can still be picked and build a history)."""
        acceptance = (self.accepted + 1) / (self.offered + 2)
        return round(acceptance * (self.won + 1) / (self.accepted + 2), 6)


def load_tiers(
    settings: LeadSettings, organisations: Iterable[int] | QuerySet, on: dt.date
) -> dict[int, TierInfo]:
    """The effective tier on ``on`` in the settings' tier program of each organisation that
    holds one, with its rank and lead priority in the program's live version (two queries)."""
    program_id = settings.tier_program_id
    if program_id is None:
        return {}
    tiers = {
        tier.code: tier
        for tier in Tier.objects.filter(
            version__program_id=program_id, version__status=ProgramVersion.Status.PUBLISHED
        )
    }
    found: dict[int, TierInfo] = {}
    for membership in Membership.objects.filter(
        program_id=program_id, organisation_id__in=organisations
    ):
        code = membership.effective_tier(on)
        if not code:
            continue
        tier = tiers.get(code)
        found[membership.organisation_id] = TierInfo(
            code=code,
            name=tier.name if tier else code,
            rank=tier.rank if tier else None,
            lead_priority=tier.lead_priority if tier else 0,
        )
    return found


def resolve_territory(country: str, region: str, city: str) -> tuple[Territory | None, str]:
    """The territory a lead without one belongs to, matched on its city, then its province /
    state, then its country, against territory names (case-insensitive) and codes; a name
    several territories share is settled by the lead's broader places (a "Springfield" under
    the lead's state). Returns the territory and which field matched ("" if none)."""
    places = [("city", city.strip()), ("region", region.strip()), ("country", country.strip())]
    values = [value for _, value in places if value]
    if not values:
        return None, ""
    condition = Q()
    for value in values:
        condition |= Q(name__iexact=value) | Q(code__iexact=value)
    found = list(Territory.objects.filter(condition).order_by("path"))
    matches: dict[str, list[Territory]] = {}
    for label, value in places:
        if value:
            folded = value.casefold()
            matches[label] = [t for t in found if folded in (t.name.casefold(), t.code.casefold())]
    for index, (label, _value) in enumerate(places):
        options = matches.get(label) or []
        if len(options) > 1:
            # The nearest broader place that tells them apart (the region before the country).
            for later, _v in places[index + 1 :]:
                broader = matches.get(later) or []
                narrowed = [t for t in options if any(t.path.startswith(b.path) for b in broader)]
                if narrowed:
                    options = narrowed
                    break
        if options:
            # With several equally good matches the first in tree order wins (deterministic).
            return options[0], label
    return None, ""


@dataclass
class Outcome:
    """What a routing run decided: the chosen partner (or None: manual review) and why."""

    chosen: int | None
    trace: dict[str, Any]
    failed_rule: RoutingRule | None = None
    territory: Territory | None = None  # resolved from the lead's place, to store on it
    tier: TierInfo | None = None


@dataclass
class Router:
    """Runs the active rules over a lead's candidate partners; loads each input once."""

    lead: Lead
    settings: LeadSettings
    now: dt.datetime
    rng: Random = field(default_factory=random.Random)
    kinds: dict[int, str] = field(default_factory=dict)
    # The candidates as a subquery: the rules' queries filter by it rather than by a list of
    # ids, which could outgrow the database's parameter limit in a large network.
    pool: QuerySet | None = None
    _tiers: dict[int, TierInfo] | None = None
    _performance: dict[int, Performance] | None = None

    # -- inputs (one query each, for every candidate at once) -------------------------

    def candidates(self) -> tuple[set[int], int]:
        """Active non-vendor organisations not yet offered this lead, and how many were."""
        offered = RoutingEvent.objects.filter(
            lead=self.lead, kind__in=OFFER_KINDS, organisation__isnull=False
        ).values("organisation_id")
        rows = Organisation.objects.filter(
            status=Organisation.Status.ACTIVE, is_vendor=False
        ).exclude(pk__in=offered)
        self.pool = rows.values("pk")
        self.kinds = dict(rows.values_list("pk", "kind"))
        already = (
            RoutingEvent.objects.filter(
                lead=self.lead, kind__in=OFFER_KINDS, organisation__isnull=False
            )
            .values("organisation_id")
            .distinct()
            .count()
        )
        return set(self.kinds), already

    def tiers(self, ids: Iterable[int]) -> dict[int, TierInfo]:
        """Each organisation's effective tier in the tier program (absent: no tier)."""
        if self._tiers is None:
            self._tiers = load_tiers(self.settings, self.pool, self.now.date())
        return {org: self._tiers[org] for org in ids if org in self._tiers}

    def performance(self, ids: Iterable[int]) -> dict[int, Performance]:
        """Offers, acceptances and wins of each organisation within the performance window."""
        if self._performance is None:
            since = self.now - dt.timedelta(days=self.settings.performance_days)
            rows = (
                RoutingEvent.objects.filter(
                    organisation_id__in=self.pool,
                    at__gte=since,
                    at__lte=self.now,
                    kind__in=[*OFFER_KINDS, RoutingEvent.Kind.ACCEPTED, RoutingEvent.Kind.WON],
                )
                .values("organisation_id")
                .annotate(
                    offered=Count("pk", filter=Q(kind__in=OFFER_KINDS)),
                    accepted=Count("pk", filter=Q(kind=RoutingEvent.Kind.ACCEPTED)),
                    won=Count("pk", filter=Q(kind=RoutingEvent.Kind.WON)),
                )
            )
            self._performance = {
                row["organisation_id"]: Performance(row["offered"], row["accepted"], row["won"])
                for row in rows
            }
        return {org: self._performance.get(org, Performance()) for org in ids}

    def open_leads(self) -> dict[int, int]:
        """Leads offered to or accepted by each candidate (other than this one)."""
        rows = (
            Lead.objects.filter(assigned_to__in=self.pool, status__in=OPEN_STATUSES)
            .exclude(pk=self.lead.pk)
            .values("assigned_to")
            .annotate(n=Count("pk"))
        )
        return {row["assigned_to"]: row["n"] for row in rows}

    # -- the steps ------------------------------------------------------------------------

    def territory_step(
        self, candidates: set[int], params: Mapping[str, Any], outcome: Outcome
    ) -> tuple[set[int], dict[str, Any]]:
        territory = self.lead.territory
        detail: dict[str, Any] = {}
        if territory is None:
            territory, matched = resolve_territory(
                self.lead.country, self.lead.region, self.lead.city
            )
            if territory is None:
                return set(), {"no_territory": True}
            outcome.territory = territory
            detail["resolved_from"] = matched
        chain = [*territory.ancestors(), territory]  # root first; walk from the end
        holders: dict[int, list[tuple[int, bool]]] = {}
        for org, territory_id, exclusive in TerritoryAssignment.objects.filter(
            territory__in=[t.pk for t in chain], organisation_id__in=self.pool
        ).values_list("organisation_id", "territory_id", "exclusive"):
            if org in candidates:
                holders.setdefault(territory_id, []).append((org, exclusive))
        detail["territory"] = {"id": territory.pk, "name": territory.name}
        for node in reversed(chain):
            found = holders.get(node.pk)
            if not found:
                continue
            if node.pk != territory.pk:
                detail["matched"] = {"id": node.pk, "name": node.name}
            exclusive = {org for org, is_exclusive in found if is_exclusive}
            if params.get("exclusive_first") and exclusive:
                detail["exclusive"] = True
                return exclusive, detail
            return {org for org, _ in found}, detail
        return set(), detail

    def tier_step(
        self, candidates: set[int], params: Mapping[str, Any]
    ) -> tuple[set[int], dict[str, Any]]:
        if self.settings.tier_program_id is None:
            return set(), {"no_program": True, **params}
        tiers = self.tiers(candidates)
        if "min_rank" in params:
            low = params["min_rank"]
            kept = {
                org for org, info in tiers.items() if info.rank is not None and info.rank >= low
            }
            return kept, {"min_rank": low}
        wanted = set(params.get("tiers") or [])
        return {org for org, info in tiers.items() if info.code in wanted}, {
            "tiers": sorted(wanted)
        }

    def capacity_step(
        self, candidates: set[int], params: Mapping[str, Any]
    ) -> tuple[set[int], dict[str, Any]]:
        limit = params["max_open"]
        counts = self.open_leads()
        return {org for org in candidates if counts.get(org, 0) < limit}, {"max_open": limit}

    def performance_step(
        self, candidates: set[int], params: Mapping[str, Any]
    ) -> tuple[set[int], dict[str, Any]]:
        min_offers = params.get("min_offers", 0)
        min_acceptance = params.get("min_acceptance")
        min_win = params.get("min_win")
        kept, new = set(), 0
        for org, perf in self.performance(candidates).items():
            if perf.offered < min_offers:
                kept.add(org)  # too little history to judge: benefit of the doubt
                new += 1
                continue
            acceptance, win = perf.acceptance, perf.win
            if min_acceptance is not None and (acceptance or 0.0) < min_acceptance:
                continue
            # Without an acceptance there is no win rate to judge yet.
            if min_win is not None and win is not None and win < min_win:
                continue
            kept.add(org)
        detail = {
            "min_acceptance": min_acceptance,
            "min_win": min_win,
            "min_offers": min_offers,
            "days": self.settings.performance_days,
            "untested": new,
        }
        return kept, detail

    def weights(self, candidates: set[int], method: str) -> dict[int, float]:
        if method == "equal":
            return {org: 1.0 for org in candidates}
        if method == "performance":
            return {org: perf.weight for org, perf in self.performance(candidates).items()}
        tiers = self.tiers(candidates)
        return {
            org: float((tiers[org].lead_priority if org in tiers else 0) + 1) for org in candidates
        }

    # -- the run --------------------------------------------------------------------------

    def run(self, rules: Iterable[RoutingRule]) -> Outcome:
        candidates, already = self.candidates()
        trace: dict[str, Any] = {"candidates": len(candidates), "already_offered": already}
        steps: list[dict[str, Any]] = []
        trace["steps"] = steps
        outcome = Outcome(chosen=None, trace=trace)
        if not candidates:
            trace["result"] = "no_candidates"
            return outcome
        method = ""
        for rule in rules:
            step: dict[str, Any] = {
                "rule": rule.pk,
                "name": rule.name,
                "kind": rule.kind,
                "required": rule.required,
                "before": len(candidates),
                "skipped": False,
            }
            steps.append(step)
            params = rule.params or {}
            if rule.kind == RoutingRule.Kind.RANDOM:
                method = params.get("weight", "lead_priority")
                break  # the pick itself comes below; save_rules keeps this rule last
            if rule.kind == RoutingRule.Kind.TERRITORY:
                kept, detail = self.territory_step(candidates, params, outcome)
            elif rule.kind == RoutingRule.Kind.PARTNER_KIND:
                wanted = set(params.get("kinds") or [])
                kept = {org for org in candidates if self.kinds.get(org) in wanted}
                detail = {"kinds": sorted(wanted)}
            elif rule.kind == RoutingRule.Kind.TIER:
                kept, detail = self.tier_step(candidates, params)
            elif rule.kind == RoutingRule.Kind.CAPACITY:
                kept, detail = self.capacity_step(candidates, params)
            else:
                kept, detail = self.performance_step(candidates, params)
            step["after"] = len(kept)
            step["detail"] = detail
            if kept:
                step["note"] = f"{len(candidates)} -> {len(kept)}"
                candidates = kept
                continue
            if rule.required:
                step["note"] = "required rule left no partner: manual review"
                trace["result"] = "manual"
                trace["failed_rule"] = rule.pk
                outcome.failed_rule = rule
                return outcome
            step["skipped"] = True
            step["note"] = "optional rule left no partner: skipped"
        if method:
            step = steps[-1]
            step["detail"] = {"weight": method}
            step["note"] = f"weighted random by {method}"
        else:
            method = "lead_priority"
            step = {
                "rule": None,
                "name": "Weighted random (default)",
                "kind": RoutingRule.Kind.RANDOM,
                "required": False,
                "before": len(candidates),
                "skipped": False,
                "detail": {"weight": method, "default": True},
                "note": "no weighted random rule: picked weighted by lead priority",
            }
            steps.append(step)
        weights = self.weights(candidates, method)
        chosen, draw = weighted_choice(weights, self.rng)
        step["after"] = 1
        trace["weights"] = {str(org): weights[org] for org in sorted(weights)}
        trace["draw"] = draw
        trace["chosen"] = chosen
        trace["result"] = "offered"
        outcome.chosen = chosen
        outcome.tier = self.tiers([chosen]).get(chosen)
        if outcome.tier is not None:
            trace["tier"] = outcome.tier.code
        return outcome


def manual_reason(trace: Mapping[str, Any]) -> str:
    """Why a lead went to manual review, in the active language, from its trace."""
    result = trace.get("result")
    if result == "max_offers":
        return _("The lead was offered %(count)s times, the most allowed; route it by hand.") % {
            "count": trace.get("max_offers")
        }
    if result == "no_candidates":
        return _("No partner is left that has not been offered this lead.")
    failed = [s for s in trace.get("steps", []) if s.get("rule") == trace.get("failed_rule")]
    return _("The required rule “%(name)s” left no partner.") % {
        "name": failed[0]["name"] if failed else "?"
    }


def sla_hours(settings: LeadSettings, tier: TierInfo | None) -> int:
    """The acceptance SLA of a partner of ``tier``: its own entry in tier_acceptance_hours,
    else the default."""
    per_tier = settings.tier_acceptance_hours or {}
    if tier is not None and tier.code in per_tier:
        return int(per_tier[tier.code])
    return settings.acceptance_hours
