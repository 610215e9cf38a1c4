"""Builders for the leads tests: leads, rules and settings through the real services, a
tier program through the programs services, partners placed in territories."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from accord.leads import services
from accord.leads.models import Lead, RoutingRule
from accord.partners.models import Organisation, Territory, TerritoryAssignment
from accord.programs.models import Membership, Program
from tests.factories import OrganisationFactory, TerritoryFactory
from tests.programs.builders import make_program, tier

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def rule(kind: str, name: str | None = None, *, required: bool = False, **params: Any) -> dict:
    return {
        "name": name or kind.replace("_", " ").title(),
        "kind": kind,
        "required": required,
        "active": True,
        "params": params,
    }


def set_rules(*items: dict[str, Any]) -> list[RoutingRule]:
    return services.save_rules(actor=None, rules=list(items))


def new_lead(*, now: dt.datetime = NOW, route: bool = False, **data: Any) -> Lead:
    data.setdefault("company_name", "Example Buyer Ltd")
    return services.create_lead(actor=None, data=data, route=route, now=now)


def route(lead: Lead, *, now: dt.datetime = NOW, seed: int | None = 1) -> Lead:
    rng = random.Random(seed) if seed is not None else None
    return services.route_lead(actor=None, lead=lead, now=now, rng=rng)


def partner(
    territory: Territory | None = None, *, exclusive: bool = False, **fields: Any
) -> Organisation:
    organisation = OrganisationFactory(**fields)
    if territory is not None:
        TerritoryAssignment.objects.create(
            organisation=organisation, territory=territory, exclusive=exclusive
        )
    return organisation


def tree() -> dict[str, Territory]:
    """china > east > shanghai, and china > north."""
    china = TerritoryFactory(code="cn", name="China", level=Territory.Level.COUNTRY)
    east_cn = TerritoryFactory(
        code="cn-e", name="East China", level=Territory.Level.REGION, parent=china
    )
    shanghai = TerritoryFactory(
        code="cn-sh", name="Shanghai", level=Territory.Level.CITY, parent=east_cn
    )
    north = TerritoryFactory(
        code="cn-n", name="North China", level=Territory.Level.REGION, parent=china
    )
    return {"china": china, "east": east_cn, "shanghai": shanghai, "north": north}


def tier_program(priorities: dict[str, int] | None = None, *, code: str = "leadtiers") -> Program:
    """registered < silver < gold with the given lead priorities, live, and named in the
    lead settings as the program for tiers."""
    priorities = priorities or {"registered": 0, "silver": 1, "gold": 6}
    program = make_program(
        None,
        {
            "grace_days": 0,
            "hysteresis_pct": "0",
            "tiers": [
                tier(name, benefits={"lead_priority": priority})
                for name, priority in priorities.items()
            ],
        },
        code=code,
    )
    services.update_settings(actor=None, data={"tier_program": program.pk})
    return program


def hold(organisation: Organisation, program: Program, code: str, **fields: Any) -> Membership:
    return Membership.objects.create(
        program=program,
        organisation=organisation,
        tier_code=code,
        since=dt.date(2026, 1, 1),
        **fields,
    )
