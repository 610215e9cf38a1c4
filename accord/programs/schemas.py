"""Ninja schemas of the programs and scorecards API: programs, versions and their content,
evaluations with explained results, memberships, overrides, what-if, scorecards and scores.

Amounts, thresholds and scores travel as decimal strings (every digit kept), never floats.
Version content mirrors ``services.version_content`` (what ``services.save_draft`` takes);
unknown keys are refused, so a typo is a 422 naming its place, e.g. ``tiers.0.critera``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from accord.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, PAGE_SIZE, ObjectId, Text
from accord.metrics.engine import MAX_YEAR, MIN_YEAR
from accord.partners.models import Organisation
from accord.programs.models import (
    Cadence,
    Comparator,
    Consequence,
    EvaluationRun,
    Outcome,
    ProgramVersion,
    ScorecardCriterion,
    Tier,
    TierChange,
    Warning,
)

Code = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
TierCode = Text(40, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
MetricCode = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
Window = Text(16, min_length=1, pattern=r"^(month|quarter|year|trailing_\d{1,3})$")
PartnerKind = Literal[  # type: ignore[valid-type]
    tuple(k for k in Organisation.Kind.values if k != Organisation.Kind.VENDOR)
]
CadenceName = Literal[tuple(Cadence.values)]  # type: ignore[valid-type]
ComparatorName = Literal[tuple(Comparator.values)]  # type: ignore[valid-type]
CombineName = Literal[tuple(Tier.Combine.values)]  # type: ignore[valid-type]
ConsequenceName = Literal[tuple(Consequence.values)]  # type: ignore[valid-type]
OutcomeName = Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
RuleName = Literal[tuple(ScorecardCriterion.Rule.values)]  # type: ignore[valid-type]
VersionStatus = Literal[tuple(ProgramVersion.Status.values)]  # type: ignore[valid-type]
TriggerName = Literal[tuple(EvaluationRun.Trigger.values)]  # type: ignore[valid-type]
ChangeKind = Literal[tuple(TierChange.Kind.values)]  # type: ignore[valid-type]
WarningKind = Literal[tuple(Warning.Kind.values)]  # type: ignore[valid-type]
Action = Literal["deal_registration", "mdf_requests", "orders"]


def _in_range(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError(
            "date_range",
            "Give a date between the years {first} and {last}.",
            {"first": MIN_YEAR, "last": MAX_YEAR},
        )
    return value


# An as_of the KPI engine can evaluate (its windows reach years back and ahead).
AsOf = Annotated[dt.date, AfterValidator(_in_range)]


def _text(value: Any) -> Any:
    return None if value is None else str(value) if isinstance(value, Decimal) else value


# A Decimal shown as its string (every digit kept), or null.
DecimalText = Annotated[str | None, BeforeValidator(_text)]
Amount = Annotated[Decimal, Field(max_digits=24, decimal_places=6, ge=-(10**17), le=10**17)]
Percent = Annotated[Decimal, Field(max_digits=5, decimal_places=2, ge=0, le=100)]
ScoreValue = Annotated[Decimal, Field(max_digits=5, decimal_places=2, ge=0, le=100)]
ScopeNames = Field(default_factory=list, max_length=50)


class Strict(Schema):
    """Refuses keys it does not know, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


# -- version content (what save_draft takes and version_content gives) -----------
class BenefitsIn(Strict):
    discount_pct: Percent = Decimal(0)
    rebate_pct: Percent = Decimal(0)
    mdf_share_pct: Percent = Decimal(0)
    support_sla_hours: int | None = Field(None, ge=1, le=8760)
    lead_priority: int = Field(0, ge=0, le=100)
    named_account_manager: bool = False


class CriterionIn(Strict):
    metric: MetricCode = Field(..., description="A metric code.", examples=["revenue"])
    comparator: ComparatorName = "gte"
    threshold: Amount = Field(..., examples=["250000"])
    window: Window = Field(
        "trailing_12", description="month, quarter, year or trailing_N.", examples=["trailing_12"]
    )


class TierIn(Strict):
    code: TierCode = Field(..., examples=["silver"])
    name: Text(80, min_length=1) = Field(..., examples=["Silver"])
    name_zh: Text(80) = ""
    combine: CombineName = "all"
    at_least: int | None = Field(
        None, ge=1, le=12, description="With combine at_least: how many criteria must pass."
    )
    benefits: BenefitsIn = Field(default_factory=BenefitsIn)
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=12)


class ContentIn(Strict):
    """A version's rules: tiers lowest first (the first is the entry tier)."""

    grace_days: int = Field(None, ge=0, le=3650, description="Days before a demotion applies.")
    hysteresis_pct: Annotated[Decimal, Field(max_digits=5, decimal_places=2, ge=0, le=50)] = Field(
        None, description="Keeping a tier relaxes each threshold by this percentage."
    )
    cost_basis_metric: MetricCode = Field(None, description="The benefit cost is a % of it.")
    cost_basis_window: Window = None
    notes: Text(10_000, strip=False) = None
    tiers: list[TierIn] = Field(default_factory=list, max_length=12)


class BenefitsOut(Schema):
    discount_pct: str
    rebate_pct: str
    mdf_share_pct: str
    support_sla_hours: int | None
    lead_priority: int
    named_account_manager: bool


class CriterionOut(Schema):
    metric: str
    comparator: str
    threshold: str
    window: str


class TierOut(Schema):
    code: str
    name: str
    name_zh: str
    combine: str
    at_least: int | None
    benefits: BenefitsOut
    criteria: list[CriterionOut]


class ContentOut(Schema):
    grace_days: int
    hysteresis_pct: str
    cost_basis_metric: str
    cost_basis_window: str
    notes: str
    tiers: list[TierOut]


# -- programs -------------------------------------------------------------------
class ProgramOut(Schema):
    code: str
    name: str
    name_zh: str
    description: str
    kinds: list[str]
    regions: list[str]
    tags: list[str]
    cadence: str
    schedule_enabled: bool
    next_evaluation: dt.date | None
    live_version: int | None = Field(description="The published version's number.")
    draft_version: int | None = Field(description="The draft's number (staff only).")
    created_at: dt.datetime


class ProgramFields(Schema):
    name_zh: Text(120) = ""
    description: Text(10_000, strip=False) = ""
    kinds: list[PartnerKind] = ScopeNames
    regions: list[Text(100, min_length=1)] = Field(
        default_factory=list,
        max_length=50,
        description="Country codes or province / state names; empty: every region.",
    )
    tags: list[Text(50, min_length=1)] = ScopeNames
    cadence: CadenceName = "quarter"
    schedule_enabled: bool = False
    next_evaluation: AsOf | None = None


class ProgramIn(ProgramFields):
    code: Code
    name: Text(120, min_length=1)
    content: ContentIn = Field(None, description="The first draft's rules (default: no tiers).")


class ProgramPatch(Schema):
    """Only the keys present change; rules change through the draft."""

    name: Text(120, min_length=1) = None
    name_zh: Text(120) = None
    description: Text(10_000, strip=False) = None
    kinds: list[PartnerKind] = Field(None, max_length=50)
    regions: list[Text(100, min_length=1)] = Field(None, max_length=50)
    tags: list[Text(50, min_length=1)] = Field(None, max_length=50)
    cadence: CadenceName = None
    schedule_enabled: bool = None
    next_evaluation: AsOf | None = None


class VersionOut(Schema):
    number: int
    status: VersionStatus
    grace_days: int
    hysteresis_pct: DecimalText
    cost_basis_metric: str
    cost_basis_window: str
    notes: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    published_by_id: int | None


class VersionDetailOut(VersionOut):
    content: ContentOut


# -- evaluations ----------------------------------------------------------------
class EvaluationIn(Schema):
    as_of: AsOf
    apply: bool = Field(
        True, description="Change memberships (false: a preview that only stores the run)."
    )


class RunOut(Schema):
    id: int
    program: str
    version: int
    as_of: dt.date
    applied: bool
    trigger: TriggerName
    created_at: dt.datetime
    created_by_id: int | None
    organisation_count: int = Field(description="Organisations of the run the caller sees.")
    summary: dict[str, Any] = Field(
        description="distribution (tier -> organisations), outcomes, cost, changes, warnings."
    )


class ResultFilter(Schema):
    tier: Text(40) = Field(None, description='Effective tier code ("" for none).')
    outcome: OutcomeName = None
    q: Text(200) = Field(None, description="Search in the organisation's name and key.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ResultOut(Schema):
    organisation_id: int
    organisation_name: str
    external_key: str
    previous_tier: str
    qualified_tier: str
    resulting_tier: str
    effective_tier: str
    outcome: OutcomeName
    grace_until: dt.date | None
    values: dict[str, str | None] = Field(description='"metric@window" -> value (null: no data).')


class ResultPage(Schema):
    count: int
    items: list[ResultOut]


class CriterionCheckOut(Schema):
    metric: str
    spec: str = Field(description='What was computed, e.g. "revenue@1" (metric version).')
    comparator: str
    threshold: str
    keep_threshold: str = Field(description="The threshold a holder must meet (hysteresis).")
    window: str
    value: str | None
    passed: bool
    kept: bool


class TierCheckOut(Schema):
    tier: str
    name: str
    rank: int
    combine: str
    required: int = Field(description="How many criteria must pass.")
    passed: bool
    criteria: list[CriterionCheckOut]


class GapItemOut(Schema):
    metric: str
    window: str
    comparator: str
    threshold: str
    value: str | None
    shortfall: str | None
    text: str = Field(description='e.g. "needs 73,400 more revenue in the trailing 12 months".')


class GapOut(Schema):
    tier: str
    name: str
    missing: int = Field(description="How many of the failing criteria must turn.")
    items: list[GapItemOut]


class ExplanationOut(Schema):
    run_id: int
    program: str
    as_of: dt.date
    organisation_id: int
    organisation_name: str
    previous_tier: str
    qualified_tier: str
    resulting_tier: str
    effective_tier: str
    outcome: OutcomeName
    grace_until: dt.date | None
    hysteresis_pct: str
    tiers: list[TierCheckOut]
    gap: GapOut | None = Field(description="What the next tier needs (null at the top).")


class WarningOut(Schema):
    id: int
    run_id: int
    organisation_id: int
    organisation_name: str
    kind: WarningKind
    tier_code: str
    next_evaluation: dt.date
    message: str
    details: dict[str, Any]


# -- memberships, history, overrides -------------------------------------------------
class OverrideOut(Schema):
    tier: str
    reason: str
    until: dt.date


class MembershipOut(Schema):
    program: str
    organisation_id: int
    tier_code: str
    effective_tier: str = Field(description="The override while it lasts, else tier_code.")
    since: dt.date
    grace_target: str
    grace_started: dt.date | None
    grace_until: dt.date | None
    last_evaluated: dt.date | None
    override: OverrideOut | None


class OrganisationTierOut(MembershipOut):
    program_name: str
    tier_name: str
    effective_tier_name: str
    benefits: BenefitsOut | None = Field(description="The effective tier's, in the live version.")
    latest: ExplanationOut | None = Field(description="The latest applied evaluation, explained.")
    warnings: list[WarningOut] = Field(description="Early warnings of that evaluation.")


class HistoryFilter(Schema):
    program: Code = Field(None, description="Only this program's changes.")


class TierChangeOut(Schema):
    id: int
    program: str
    organisation_id: int
    kind: ChangeKind
    from_tier: str
    to_tier: str
    effective: dt.date
    run_id: int | None
    reason: str
    created_by_id: int | None
    created_at: dt.datetime


class OverrideIn(Schema):
    organisation_id: ObjectId
    tier: TierCode
    reason: Text(2000, min_length=1)
    until: AsOf = Field(..., description="The override ends on this day (exclusive).")


class EndOverrideIn(Schema):
    reason: Text(2000, min_length=1)


# -- what-if ------------------------------------------------------------------------
class WhatIfIn(Schema):
    dates: list[AsOf] = Field(..., min_length=1, max_length=12)
    version: int = Field(None, ge=1, le=2_147_483_647, description="Default: the draft.")


class TierNameOut(Schema):
    code: str
    name: str
    name_zh: str


class ScenarioOut(Schema):
    distribution: dict[str, int]
    cost: str


class MoverOut(Schema):
    organisation: int
    name: str
    live: str
    draft: str
    direction: Literal["up", "down"]


class WhatIfDateOut(Schema):
    as_of: dt.date
    live: ScenarioOut
    draft: ScenarioOut
    moved: int
    up: int
    down: int
    movers: list[MoverOut] = Field(description="At most 500, by name.")


class WhatIfOut(Schema):
    program: str
    live_version: int | None
    draft_version: int
    organisations: int
    tiers: list[TierNameOut]
    dates: list[WhatIfDateOut]


# -- scorecards -----------------------------------------------------------------------
class ScorecardCriterionIn(Strict):
    metric: MetricCode = Field(..., examples=["revenue"])
    weight: int = Field(..., ge=1, le=100, description="The weights sum to 100.", examples=[100])
    rule: RuleName = "linear"
    points: list[tuple[Amount, ScoreValue]] = Field(
        ...,
        min_length=1,
        max_length=50,
        description="[[value, score], ...] by increasing value; scores 0-100.",
        examples=[[["0", "0"], ["250000", "100"]]],
    )


class StandingIn(Strict):
    code: TierCode = Field(..., examples=["good"])
    name: Text(80) = ""
    name_zh: Text(80) = ""
    min_score: ScoreValue = Field(..., examples=["0"])
    max_score: ScoreValue = Field(..., examples=["100"], description="Exclusive, but 100 counts.")
    deal_registration: ConsequenceName = "none"
    mdf_requests: ConsequenceName = "none"
    orders: ConsequenceName = "none"
    review_meeting: bool = False


class ScorecardFields(Schema):
    name: Text(120, min_length=1)
    name_zh: Text(120) = ""
    description: Text(10_000, strip=False) = ""
    period: CadenceName = "quarter"
    decay: Annotated[Decimal, Field(max_digits=4, decimal_places=3, ge=0, le=1)] = Decimal("0.5")
    history_periods: int = Field(4, ge=1, le=24)
    is_active: bool = True
    kinds: list[PartnerKind] = ScopeNames
    regions: list[Text(100, min_length=1)] = ScopeNames
    tags: list[Text(50, min_length=1)] = ScopeNames
    criteria: list[ScorecardCriterionIn] = Field(..., min_length=1, max_length=20)
    standings: list[StandingIn] = Field(..., min_length=1, max_length=20)


class ScorecardIn(ScorecardFields):
    code: Code


class ScorecardCriterionOut(Schema):
    metric: str
    weight: int
    rule: str
    points: list[list[str]]


class StandingOut(Schema):
    code: str
    name: str
    name_zh: str
    min_score: DecimalText
    max_score: DecimalText
    deal_registration: ConsequenceName
    mdf_requests: ConsequenceName
    orders: ConsequenceName
    review_meeting: bool


class ScorecardOut(Schema):
    code: str
    name: str
    name_zh: str
    description: str
    period: str
    decay: DecimalText
    history_periods: int
    is_active: bool
    kinds: list[str]
    regions: list[str]
    tags: list[str]
    created_at: dt.datetime


class ScorecardDetailOut(ScorecardOut):
    criteria: list[ScorecardCriterionOut]
    standings: list[StandingOut]


class ScoringIn(Schema):
    as_of: AsOf = Field(..., description="Complete periods up to this day are scored.")


class ScoringOut(Schema):
    as_of: dt.date
    organisations: int
    periods: list[str]
    standings: dict[str, int] = Field(description="standing -> organisations.")


class ScoreFilter(Schema):
    period_start: dt.date = Field(None, description="Only this period.")
    standing: Text(40) = None
    organisation: ObjectId = None


class ScoreCriterionOut(Schema):
    metric: str
    weight: int
    rule: str
    value: str | None
    score: str | None


class ScoreOut(Schema):
    scorecard: str
    organisation_id: int
    organisation_name: str
    period_start: dt.date
    period_end: dt.date = Field(description="Exclusive: the period is [start, end).")
    as_of: dt.date
    no_activity: bool = Field(description="No facts in the period: no score (not a zero).")
    score: DecimalText
    overall: DecimalText = Field(description="Decayed over recent periods (latest period).")
    standing: str
    criteria: list[ScoreCriterionOut]
    overall_inputs: list[dict[str, Any]]
    computed_at: dt.datetime


class ScoreTrendFilter(Schema):
    scorecard: Code = Field(None, description="Only this scorecard.")


class ScoreTrendOut(Schema):
    scorecard: str
    name: str
    periods: list[ScoreOut] = Field(description="Oldest first.")


class VerdictOut(Schema):
    action: Action
    level: ConsequenceName
    reasons: list[str]
    review_meeting: bool


class CurrentStandingOut(Schema):
    scorecard: str
    scorecard_name: str
    standing: str
    standing_name: str
    overall: DecimalText
    period_start: dt.date


class StandingSummaryOut(Schema):
    organisation_id: int
    actions: list[VerdictOut]
    standings: list[CurrentStandingOut]


# -- pages: {"count": all matching, "items": this page} ---------------------------------
class ProgramPage(Schema):
    count: int
    items: list[ProgramOut]


class VersionPage(Schema):
    count: int
    items: list[VersionOut]


class RunPage(Schema):
    count: int
    items: list[RunOut]


class WarningPage(Schema):
    count: int
    items: list[WarningOut]


class TierChangePage(Schema):
    count: int
    items: list[TierChangeOut]


class ScorecardPage(Schema):
    count: int
    items: list[ScorecardOut]


class ScorePage(Schema):
    count: int
    items: list[ScoreOut]
