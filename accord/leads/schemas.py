"""Ninja schemas of the leads API: leads and their responses, the routing history with its
explanation, the ordered routing rules and the acceptance SLA settings.

Amounts travel as decimal strings (every digit kept), never floats. Lengths mirror the
model fields so over-long text is a 422 before it reaches the database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict

from accord.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, PAGE_SIZE, ObjectId, Text
from accord.leads.models import Lead, RoutingEvent, RoutingRule

Status = Literal[tuple(Lead.Status.values)]  # type: ignore[valid-type]
SourceName = Literal[tuple(Lead.Source.values)]  # type: ignore[valid-type]
EventKind = Literal[tuple(RoutingEvent.Kind.values)]  # type: ignore[valid-type]
RuleKind = Literal[tuple(RoutingRule.Kind.values)]  # type: ignore[valid-type]
Country = Annotated[Text(2, pattern=r"^([A-Za-z]{2})?$"), AfterValidator(str.upper)]
Currency = Annotated[Text(3, min_length=3, pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2, ge=0)]
Code = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")


def _text(value: Any) -> Any:
    return None if value is None else str(value) if isinstance(value, Decimal) else value


# A Decimal shown as its string (every digit kept), or null.
DecimalText = Annotated[str | None, BeforeValidator(_text)]


class Strict(Schema):
    """Refuses keys it does not know, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


# -- leads --------------------------------------------------------------------------
class LeadIn(Strict):
    company_name: Text(200, min_length=1) = Field(..., examples=["Globex GmbH"])
    contact_name: Text(150) = ""
    contact_email: Text(254) = ""
    contact_phone: Text(50) = ""
    country: Country = Field("", description="ISO 3166 two-letter code.")
    region: Text(100) = Field("", description="Province / state.")
    city: Text(100) = ""
    territory_id: ObjectId | None = Field(
        None, description="Where the lead is; routing walks up the territory tree from here."
    )
    product_line: Text(100) = ""
    value: Money = Field(Decimal(0), description="Estimated value (>= 0).")
    currency: Currency = "USD"
    description: Text(10_000, strip=False) = ""
    external_key: Text(100) = Field(
        "", description="The lead's key in the source system (unique when given)."
    )
    route: bool = Field(True, description="Route at once (false: leave it new).")


class LeadFilter(Schema):
    status: Status = None
    assigned_to: ObjectId = Field(None, description="Offered or assigned to this organisation.")
    inbox: bool = Field(
        None, description="Only leads offered to the caller's organisation, awaiting an answer."
    )
    q: Text(200) = Field(None, description="Search in the number and the company's name.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class LeadOut(Schema):
    id: int
    number: str
    external_key: str | None
    source: SourceName
    company_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    country: str
    region: str
    city: str
    territory_id: int | None
    product_line: str
    value: DecimalText
    currency: str
    description: str
    status: Status
    assigned_to_id: int | None
    assigned_to_name: str | None
    offered_at: dt.datetime | None
    accept_by: dt.datetime | None
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    offers: int = Field(description="Offers made so far.")
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_assigned_to_name(obj: Any) -> str | None:
        return obj.assigned_to.name if obj.assigned_to_id else None


class LeadPage(Schema):
    count: int
    items: list[LeadOut]


class DeclineIn(Schema):
    reason: Text(2000, min_length=1)


class AssignIn(Schema):
    organisation_id: ObjectId
    reason: Text(2000, min_length=1)


class LeadCloseIn(Schema):
    outcome: Literal["won", "lost"]
    reason: Text(2000, strip=False) = ""


# -- routing history --------------------------------------------------------------------
class RoutingEventOut(Schema):
    id: int
    at: dt.datetime
    kind: EventKind
    organisation_id: int | None
    organisation_name: str | None
    actor_id: int | None
    reason: str
    trace: dict[str, Any] = Field(
        description="For offers: each rule's candidates before and after, the weights and draw."
    )
    explanation: list[str] = Field(description="The trace in words, one line a step.")


class RoutingEventPage(Schema):
    count: int
    items: list[RoutingEventOut]


# -- routing rules ----------------------------------------------------------------------
class RoutingRuleIn(Strict):
    id: ObjectId | None = Field(
        None, description="An existing rule's id to keep it (its history points at it)."
    )
    name: Text(100, min_length=1) = Field(..., examples=["Territory"])
    kind: RuleKind = Field(..., examples=["territory"])
    required: bool = Field(False, description="Nobody left after it: manual review.")
    active: bool = True
    params: dict[Text(60, min_length=1), Any] = Field(
        default_factory=dict,
        description=(
            'By kind: territory {"exclusive_first": bool}; partner_kind {"kinds": [...]}; '
            'tier {"min_rank": n} or {"tiers": [codes]}; capacity {"max_open": n}; '
            'performance {"min_acceptance": 0..1, "min_win": 0..1, "min_offers": n}; '
            'random {"weight": "lead_priority" | "equal" | "performance"}.'
        ),
    )


class RoutingRulesIn(Strict):
    rules: list[RoutingRuleIn] = Field(
        ...,
        max_length=50,
        description="Applied in this order; rules left out are deleted.",
    )


class RoutingRuleOut(Schema):
    id: int
    position: int
    name: str
    kind: RuleKind
    required: bool
    active: bool
    params: dict[str, Any]


class RoutingRulesOut(Schema):
    rules: list[RoutingRuleOut]


# -- settings -------------------------------------------------------------------------
class LeadSettingsIn(Strict):
    acceptance_hours: int = Field(48, ge=1, le=8760, description="Default acceptance SLA.")
    tier_program: Code | None = Field(
        None, description="The program whose effective tier picks the SLA and priority."
    )
    tier_acceptance_hours: dict[Text(40, min_length=1), Annotated[int, Field(ge=1, le=8760)]] = (
        Field(default_factory=dict, description="Tier code -> acceptance SLA in hours.")
    )
    max_offers: int = Field(5, ge=1, le=100, description="Offers before manual review.")
    performance_days: int = Field(
        180, ge=1, le=3650, description="Acceptance and win rates count offers this recent."
    )


class LeadSettingsOut(Schema):
    acceptance_hours: int
    tier_program: str | None
    tier_acceptance_hours: dict[str, int]
    max_offers: int
    performance_days: int
    updated_at: dt.datetime
