"""Ninja schemas of the governance API: relationships with their separated roles, contact map
and key people, cadence and meetings, action items, issues with SLAs and attachments, health
checks (and the token survey), handovers and coverage, onboarding and enablement, settings.

People on both sides travel as ``{"id", "name", ...}`` of their contact card; requests name
them by contact id. Lengths mirror the model fields so over-long text is a 422 before it
reaches the database; unknown keys are refused (``Strict``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from accord.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, PAGE_SIZE, AwareDatetime, ObjectId, Text
from accord.governance.models import (
    ActionItem,
    Frequency,
    Function,
    HealthSurvey,
    Issue,
    IssueEvent,
    Meeting,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    Side,
    Tier,
)

TierName = Literal[tuple(Tier.values)]  # type: ignore[valid-type]
FunctionName = Literal[tuple(Function.values)]  # type: ignore[valid-type]
FrequencyName = Literal[tuple(Frequency.values)]  # type: ignore[valid-type]
SideName = Literal[tuple(Side.values)]  # type: ignore[valid-type]
RoleName = Literal[tuple(RoleAssignment.Role.values)]  # type: ignore[valid-type]
HealthFrequencyName = Literal[tuple(Relationship.HealthFrequency.values)]  # type: ignore[valid-type]
MeetingStatus = Literal[tuple(Meeting.Status.values)]  # type: ignore[valid-type]
ActionStatus = Literal[tuple(ActionItem.Status.values)]  # type: ignore[valid-type]
Category = Literal[tuple(Issue.Category.values)]  # type: ignore[valid-type]
Severity = Literal[tuple(Issue.Severity.values)]  # type: ignore[valid-type]
IssueStatus = Literal[tuple(Issue.Status.values)]  # type: ignore[valid-type]
EventKind = Literal[tuple(IssueEvent.Kind.values)]  # type: ignore[valid-type]
SurveyStatus = Literal[tuple(HealthSurvey.Status.values)]  # type: ignore[valid-type]
TemplateKind = Literal[tuple(OnboardingTemplate.Kind.values)]  # type: ignore[valid-type]
# Lists answer with the relationships' kinds of organisation (not the vendor itself).
OrganisationKind = Text(30, pattern=r"^[a-z_]*$")

FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
# A plausible day: far enough from the calendar's ends that adding a year never overflows.
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY)]


def _plausible_moment(value: dt.datetime) -> dt.datetime:
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise PydanticCustomError("datetime_range", "Give a time between 1990 and 2999.")
    return value


# An aware time (converted to UTC) within the plausible days.
Moment = Annotated[AwareDatetime, AfterValidator(_plausible_moment)]
TierCode = Text(40, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
ProgramCode = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
LongText = Text(20_000, strip=False)
Minutes = Annotated[int, Field(ge=5, le=1440)]
ContactIds = Annotated[list[ObjectId], Field(max_length=200)]


def _text(value: Any) -> Any:
    return None if value is None else str(value) if isinstance(value, Decimal) else value


# A Decimal shown as its string (every digit kept), or null.
DecimalText = Annotated[str | None, BeforeValidator(_text)]


class Strict(Schema):
    """Refuses keys it does not know, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Paged(Schema):
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PersonOut(Schema):
    """A person on either side: their contact card."""

    id: int
    name: str
    organisation_id: int
    side: SideName
    active: bool = Field(description="False once the person left.")


# -- relationships ------------------------------------------------------------------------
class RelationshipFilter(Paged):
    q: Text(200) = Field(None, description="Search in the organisation's name.")
    kind: OrganisationKind = Field(None, description="The organisation's kind, e.g. reseller.")
    roles: Literal["incomplete_or_doubled", "complete"] = Field(
        None,
        description="incomplete_or_doubled: a separated role missing, doubled or held by "
        "someone who left.",
    )
    misaligned: bool = Field(None, description="The latest health check's misalignment flag.")
    health_below: Decimal = Field(
        None, ge=0, le=100, max_digits=4, decimal_places=1, description="Health score under this."
    )
    overdue: bool = Field(None, description="An overdue meeting or action item.")


class RelationshipOut(Schema):
    id: int = Field(description="The organisation's id (relationships are keyed by it).")
    organisation_name: str
    organisation_kind: str
    health_frequency: HealthFrequencyName
    started_on: dt.date
    health_score: DecimalText = Field(description="0-100 from the latest closed health check.")
    misaligned: bool
    notes: str
    roles_filled: int = Field(description="Separated roles held (0-4).")
    open_issues: int
    overdue_meetings: int
    created_at: dt.datetime


class RelationshipPage(Schema):
    count: int
    items: list[RelationshipOut]


class RelationshipPatch(Strict):
    """Only the keys present change."""

    health_frequency: HealthFrequencyName = None
    started_on: Day = None
    notes: LongText = None


# -- separated roles ----------------------------------------------------------------------
class RolesIn(Strict):
    """Who holds each of the four separated roles (a vendor contact id, or null to clear).
    One person may hold only one of them; swaps in one request are fine."""

    service_delivery: ObjectId | None = Field(...)
    transformation: ObjectId | None = Field(...)
    relationship: ObjectId | None = Field(...)
    commercial: ObjectId | None = Field(...)


class RoleOut(Schema):
    role: RoleName
    label: str
    holder: PersonOut | None
    assigned_on: dt.date | None


class RoleGapsOut(Schema):
    missing: list[RoleName]
    doubled: list[list[RoleName]]
    inactive: list[RoleName] = Field(description="Roles whose holder left.")


class RolesOut(Schema):
    organisation_id: int
    roles: list[RoleOut]
    gaps: RoleGapsOut


# -- contact map ---------------------------------------------------------------------------
class ContactSlotIn(Strict):
    """Keys left out keep their value; null clears that side. A partner sets only
    ``partner_contact_id``."""

    vendor_contact_id: ObjectId | None = None
    partner_contact_id: ObjectId | None = None


class ContactSlotOut(Schema):
    id: int
    organisation_id: int
    tier: TierName
    function: FunctionName
    vendor_contact: PersonOut | None
    partner_contact: PersonOut | None


# -- key people ------------------------------------------------------------------------------
class KeyPersonFilter(Paged):
    organisation: ObjectId = None
    side: SideName = None


class KeyPersonIn(Strict):
    organisation_id: ObjectId
    person_id: ObjectId
    backup_id: ObjectId | None = Field(None, description="On the same side, not the person.")
    responsibility: Text(150) = ""


class KeyPersonPatch(Strict):
    backup_id: ObjectId | None = None
    responsibility: Text(150) = None


class KeyPersonOut(Schema):
    id: int
    organisation_id: int
    side: SideName
    person: PersonOut
    backup: PersonOut | None
    responsibility: str


class KeyPersonPage(Schema):
    count: int
    items: list[KeyPersonOut]


# -- cadence ----------------------------------------------------------------------------------
class CadenceTemplateIn(Strict):
    name: Text(100, min_length=1) = Field(..., examples=["Quarterly business review"])
    name_zh: Text(100) = ""
    tier: TierName
    frequency: FrequencyName
    partner_tiers: list[TierCode] = Field(
        default_factory=list,
        max_length=50,
        description="Tier codes of the governance tier program; empty: every partner.",
    )
    duration_minutes: Minutes = 60
    agenda: LongText = ""
    active: bool = True


class CadenceTemplatePatch(Strict):
    name: Text(100, min_length=1) = None
    name_zh: Text(100) = None
    tier: TierName = None
    frequency: FrequencyName = None
    partner_tiers: list[TierCode] = Field(None, max_length=50)
    duration_minutes: Minutes = None
    agenda: LongText = None
    active: bool = None


class CadenceTemplateOut(Schema):
    id: int
    name: str
    name_zh: str
    tier: TierName
    frequency: FrequencyName
    partner_tiers: list[str]
    duration_minutes: int
    agenda: str
    active: bool


class CadenceApplyIn(Strict):
    start: Day | None = Field(None, description="First day to plan from (default today).")
    months: int = Field(12, ge=1, le=36, description="How far ahead to plan.")


# -- meetings ---------------------------------------------------------------------------------
class MeetingFilter(Paged):
    organisation: ObjectId = None
    status: MeetingStatus = None
    tier: TierName = None
    overdue: bool = Field(None, description="Planned and past the grace days.")
    since: AwareDatetime = Field(None, description="Starting at or after this time.")
    until: AwareDatetime = Field(None, description="Starting before this time.")


class MeetingIn(Strict):
    organisation_id: ObjectId
    title: Text(200, min_length=1) = Field(..., examples=["Operations review"])
    tier: TierName
    starts_at: Moment = Field(..., examples=["2026-09-01T10:00:00+08:00"])
    duration_minutes: Minutes = 60
    location: Text(300) = ""
    agenda: LongText = ""
    attendee_ids: ContactIds = Field(default_factory=list, description="Contacts, both sides.")


class MeetingPatch(Strict):
    title: Text(200, min_length=1) = None
    tier: TierName = None
    starts_at: Moment = None
    duration_minutes: Minutes = None
    location: Text(300) = None
    agenda: LongText = None
    attendee_ids: ContactIds = None


class MeetingRecordIn(Strict):
    minutes: Text(50_000, min_length=1, strip=False)
    decisions: Text(50_000, strip=False) = ""
    attendee_ids: ContactIds | None = Field(None, description="Who attended (default: as planned).")
    held_at: Moment | None = Field(None, description="Default: the planned start.")


class MeetingCancelIn(Strict):
    reason: Text(2000, min_length=1)


class MeetingOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    cadence_id: int | None
    title: str
    tier: TierName
    status: MeetingStatus
    starts_at: dt.datetime
    duration_minutes: int
    location: str
    attendees: list[PersonOut]
    agenda: str
    minutes: str
    decisions: str
    held_at: dt.datetime | None
    uid: str = Field(description="The calendar event's UID.")
    sequence: int
    overdue: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class MeetingPage(Schema):
    count: int
    items: list[MeetingOut]


# -- action items -----------------------------------------------------------------------------
class ActionItemFilter(Paged):
    organisation: ObjectId = None
    status: ActionStatus = None
    owner: ObjectId = Field(None, description="Owned by this contact.")
    meeting: ObjectId = None
    issue: ObjectId = None
    overdue: bool = Field(None, description="Open and past its due day.")


class ActionItemIn(Strict):
    organisation_id: ObjectId
    title: Text(300, min_length=1)
    owner_id: ObjectId
    due_on: Day
    meeting_id: ObjectId | None = None
    issue_id: ObjectId | None = None


class ActionItemOut(Schema):
    id: int
    organisation_id: int
    meeting_id: int | None
    issue_id: int | None
    title: str
    owner: PersonOut
    due_on: dt.date
    status: ActionStatus
    done_at: dt.datetime | None
    overdue: bool
    created_at: dt.datetime


class ActionItemPage(Schema):
    count: int
    items: list[ActionItemOut]


# -- issues -----------------------------------------------------------------------------------
class IssueFilter(Paged):
    organisation: ObjectId = None
    status: IssueStatus = None
    severity: Severity = None
    tier: TierName = None
    escalated: bool = Field(None, description="Escalated at least once.")
    q: Text(200) = Field(None, description="Search in the number and title.")


class IssueIn(Strict):
    organisation_id: ObjectId
    title: Text(200, min_length=1) = Field(..., examples=["Late deliveries to Suzhou"])
    category: Category
    severity: Severity
    description: LongText = ""
    owner_id: ObjectId | None = Field(
        None, description="Default: the service-delivery role holder."
    )


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_by_id: int | None
    uploaded_at: dt.datetime


class GovernanceIssueOut(Schema):
    id: int
    number: str
    organisation_id: int
    organisation_name: str
    title: str
    category: Category
    severity: Severity
    description: str
    status: IssueStatus
    tier: TierName = Field(description="The management tier it sits at now.")
    raised_side: SideName
    raised_by_id: int | None
    owner: PersonOut | None
    raised_at: dt.datetime
    respond_by: dt.datetime | None
    resolve_by: dt.datetime | None
    responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    escalations: int
    reopened: int
    root_cause: str
    resolution: str
    attachments: list[AttachmentOut]
    updated_at: dt.datetime


class IssuePage(Schema):
    count: int
    items: list[GovernanceIssueOut]


class IssueNoteIn(Strict):
    note: Text(10_000, min_length=1)


class IssueAssignIn(Strict):
    owner_id: ObjectId


class CorrectiveActionIn(Strict):
    title: Text(300, min_length=1)
    owner_id: ObjectId
    due_on: Day


class IssueResolveIn(Strict):
    root_cause: Text(10_000, min_length=1)
    resolution: Text(10_000, min_length=1)
    corrective_actions: list[CorrectiveActionIn] = Field(default_factory=list, max_length=50)


class IssueReopenIn(Strict):
    reason: Text(2000, min_length=1)


class IssueEventOut(Schema):
    id: int
    at: dt.datetime
    kind: EventKind
    actor_id: int | None
    from_tier: str
    to_tier: str
    note: str
    data: dict[str, Any] = Field(
        description="For escalations the rule and its inputs: severity, resolution_hours, "
        "deadline, now, from, to, notified."
    )


class IssueEventPage(Schema):
    count: int
    items: list[IssueEventOut]


# -- severity SLAs ----------------------------------------------------------------------------
Hours = Annotated[int, Field(ge=1, le=8760)]


class SeveritySlaIn(Strict):
    severity: Severity
    response_hours: Hours
    resolution_hours: Hours = Field(description="Per tier: the clock restarts on escalation.")


class SeveritySlasIn(Strict):
    slas: list[SeveritySlaIn] = Field(
        ..., max_length=4, description="One per severity; severities left out keep theirs."
    )


class SeveritySlaOut(Schema):
    severity: Severity
    response_hours: int
    resolution_hours: int
    default: bool = Field(description="The built-in value (no row saved).")


# -- health checks ------------------------------------------------------------------------------
class SurveyFilter(Paged):
    organisation: ObjectId = None
    status: SurveyStatus = None


class SurveyOpenIn(Strict):
    period: Text(20, pattern=r"^\d{4}(-Q[1-4])?$") | None = Field(
        None, description='"2026" or "2026-Q3" (default: the current one by frequency).'
    )
    respondent_ids: ContactIds | None = Field(
        None,
        description="Contacts of both sides (default: the contact map and role holders).",
    )


class SurveyResponsesOut(Schema):
    invited: int
    answered: int


class HealthSurveyOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    period: str
    status: SurveyStatus
    opened_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    score: DecimalText = Field(description="0-100; null until closed with both sides.")
    misaligned: bool
    result: dict[str, Any] = Field(
        description="Per side and dimension the mean, the divergence, the threshold and rule."
    )
    invited: int
    answered: int


class HealthSurveyDetailOut(HealthSurveyOut):
    progress: dict[SideName, SurveyResponsesOut] = Field(
        description="Invitations and answers per side."
    )
    why: str = Field(description="Why it scored and flagged as it did, in words.")
    reasons: list[str] = Field(description="Each dimension over the threshold, in words.")
    rule: str


class HealthSurveyPage(Schema):
    count: int
    items: list[HealthSurveyOut]


class HealthPointOut(Schema):
    id: int = Field(description="The health check.")
    period: str
    score: DecimalText
    misaligned: bool
    closed_at: dt.datetime | None


class SurveyQuestionOut(Schema):
    code: str = Field(description="The answer's key.")
    label: str
    question: str
    min: int
    max: int


class SurveyFormOut(Schema):
    organisation_name: str
    vendor_name: str
    period: str
    side: SideName
    respondent: str
    expires_at: dt.datetime
    questions: list[SurveyQuestionOut]


Score = Annotated[int, Field(ge=1, le=5)]


class SurveyAnswerIn(Strict):
    communication: Score
    satisfaction: Score
    trust: Score
    compatibility: Score
    goal_alignment: Score
    nps: int = Field(..., ge=0, le=10, description="Likelihood to recommend, 0-10.")
    comment: Text(5000, strip=False) = ""


class SurveyAnsweredOut(Schema):
    answered_at: dt.datetime


# -- continuity -----------------------------------------------------------------------------------
class HandoverFilter(Paged):
    organisation: ObjectId = None


class HandoverIn(Strict):
    predecessor_id: ObjectId
    successor_id: ObjectId = Field(description="Same organisation, active.")
    leaving: bool = Field(True, description="The predecessor leaves (marked inactive).")
    reason: Text(2000, strip=False) = ""


class HandoverOut(Schema):
    id: int
    organisation_id: int
    predecessor: PersonOut
    successor: PersonOut
    leaving: bool
    reason: str
    moved: dict[str, Any] = Field(description="Ids of what moved, by kind.")
    actor_id: int | None
    at: dt.datetime


class HandoverPage(Schema):
    count: int
    items: list[HandoverOut]


class CoverageProblemOut(Schema):
    kind: str
    label: str
    detail: str


class CoverageOut(Schema):
    organisation_id: int
    organisation_name: str
    problems: list[CoverageProblemOut]


# -- onboarding -----------------------------------------------------------------------------------
class TemplateTaskIn(Strict):
    title: Text(200, min_length=1)
    title_zh: Text(200) = ""
    side: SideName
    due_days: int = Field(..., ge=0, le=3650, description="Days after the plan starts.")


class OnboardingTemplateIn(Strict):
    name: Text(100, min_length=1)
    name_zh: Text(100) = ""
    kind: TemplateKind
    tasks: list[TemplateTaskIn] = Field(..., min_length=1, max_length=100)
    active: bool = True


class OnboardingTemplatePatch(Strict):
    name: Text(100, min_length=1) = None
    name_zh: Text(100) = None
    kind: TemplateKind = None
    tasks: list[TemplateTaskIn] = Field(None, min_length=1, max_length=100)
    active: bool = None


class TemplateTaskOut(Schema):
    title: str
    title_zh: str = ""
    side: SideName
    due_days: int


class OnboardingTemplateOut(Schema):
    id: int
    name: str
    name_zh: str
    kind: TemplateKind
    tasks: list[TemplateTaskOut]
    active: bool


class PlanOwnersIn(Strict):
    vendor: ObjectId | None = None
    partner: ObjectId | None = None


class OnboardingPlanIn(Strict):
    template_id: ObjectId
    subject_id: ObjectId | None = Field(None, description="The person onboarded (staff).")
    owners: PlanOwnersIn = Field(
        default_factory=PlanOwnersIn,
        description="Contact owning each side's tasks (default: the relationship manager, "
        "the partner's primary contact).",
    )
    start: Day | None = Field(None, description="Default today.")


class OnboardingTaskOut(Schema):
    id: int
    plan_id: int
    position: int
    title: str
    side: SideName
    owner: PersonOut | None
    due_on: dt.date
    done_at: dt.datetime | None
    overdue: bool


class PlanProgressOut(Schema):
    done: int
    total: int
    pct: int
    overdue: int


class OnboardingPlanOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    template_id: int | None
    name: str
    subject: PersonOut | None
    started_on: dt.date
    created_at: dt.datetime
    progress: PlanProgressOut
    tasks: list[OnboardingTaskOut]


class OnboardingPlanPage(Schema):
    count: int
    items: list[OnboardingPlanOut]


class PlanFilter(Paged):
    organisation: ObjectId = None


class TaskDoneIn(Strict):
    done: bool = Field(True, description="False re-opens the task.")


# -- enablement -----------------------------------------------------------------------------------
class CourseIn(Strict):
    code: Text(40, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
    name: Text(150, min_length=1)
    name_zh: Text(150) = ""
    description: Text(10_000, strip=False) = ""
    certification: Text(150, min_length=1) = Field(description="The certification earned.")
    validity_months: int = Field(24, ge=0, le=240, description="0: it does not expire.")
    hours: int = Field(4, ge=0, le=10_000)
    active: bool = True


class CoursePatch(Strict):
    code: Text(40, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$") = None
    name: Text(150, min_length=1) = None
    name_zh: Text(150) = None
    description: Text(10_000, strip=False) = None
    certification: Text(150, min_length=1) = None
    validity_months: int = Field(None, ge=0, le=240)
    hours: int = Field(None, ge=0, le=10_000)
    active: bool = None


class CourseOut(Schema):
    id: int
    code: str
    name: str
    name_zh: str
    description: str
    certification: str
    validity_months: int
    hours: int
    active: bool


class RequirementIn(Strict):
    course_id: ObjectId
    minimum: int = Field(1, ge=1, le=1000, description="Certified people needed.")


class RequirementsIn(Strict):
    requirements: list[RequirementIn] = Field(
        ..., max_length=100, description="The tier's whole list (courses left out are dropped)."
    )


class RequirementOut(Schema):
    id: int
    tier_code: str
    course_id: int
    course_code: str
    course_name: str
    certification: str
    minimum: int


class RequirementFilter(Schema):
    tier_code: TierCode = None


class EnablementQuery(Schema):
    on: Day = Field(None, description="The day the certifications must be valid (today).")


class ExpiringQuery(Paged):
    on: Day = Field(None, description="From this day (today).")
    days: int = Field(None, ge=0, le=3650, description="Window (the settings' warning days).")


CertificationStatus = Literal["ok", "expiring", "expired"]


class CertificationStatusOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    person: str
    contact_id: int | None
    name: str
    earned_on: dt.date
    expires_on: dt.date | None
    status: CertificationStatus


class CertificationPage(Schema):
    count: int
    items: list[CertificationStatusOut]


class HeldCertificationOut(Schema):
    id: int
    name: str
    course_id: int | None = Field(description="The course that earns it, if any.")
    earned_on: dt.date
    expires_on: dt.date | None
    status: CertificationStatus


class CertifiedPersonOut(Schema):
    person: str
    contact: PersonOut | None
    certifications: list[HeldCertificationOut]


class RequirementStatusOut(Schema):
    course_id: int
    course_name: str
    certification: str
    minimum: int
    met: int = Field(description="People holding it valid on the day.")
    missing: int
    ok: bool


class EnablementOut(Schema):
    organisation_id: int
    on: dt.date
    tier: str | None = Field(description="The partner's tier in the governance tier program.")
    warning_days: int
    complete: bool = Field(description="Every requirement of the tier met.")
    people: list[CertifiedPersonOut]
    requirements: list[RequirementStatusOut]


# -- settings and dashboard -----------------------------------------------------------------------
class GovernanceSettingsIn(Strict):
    tier_program: ProgramCode | None = Field(
        None, description="The program whose tiers cadences and certification needs follow."
    )
    misalignment_threshold: Decimal = Field(
        Decimal("1.0"), ge=Decimal("0.1"), le=Decimal(4), max_digits=3, decimal_places=1
    )
    survey_days_open: int = Field(21, ge=1, le=365)
    meeting_grace_days: int = Field(7, ge=0, le=90)
    certification_warning_days: int = Field(60, ge=1, le=730)


class GovernanceSettingsOut(Schema):
    tier_program: str | None
    misalignment_threshold: DecimalText
    survey_days_open: int
    meeting_grace_days: int
    certification_warning_days: int
    updated_at: dt.datetime


class MeetingCountOut(Schema):
    count: int
    items: list[MeetingOut] = Field(description="The first ten.")


class ActionItemCountOut(Schema):
    count: int
    items: list[ActionItemOut] = Field(description="The first ten.")


class RelationshipBrief(Schema):
    id: int = Field(description="The organisation's id.")
    organisation_name: str
    health_score: DecimalText
    misaligned: bool


class RelationshipCountOut(Schema):
    count: int
    items: list[RelationshipBrief] = Field(description="The first ten.")


class CertificationCountOut(Schema):
    count: int
    items: list[CertificationStatusOut] = Field(description="The first ten.")


class TierIssuesOut(Schema):
    tier: TierName
    label: str
    open: int
    escalated: int = Field(description="Of the open issues, those escalated at least once.")


class NetworkHealthOut(Schema):
    period: str
    score: DecimalText = Field(description="Mean score of the relationships scored then.")
    relationships: int
    misaligned: int


class CoverageCountOut(Schema):
    relationships: int = Field(description="Relationships that lost cover.")
    problems: int


class DashboardOut(Schema):
    overdue_meetings: MeetingCountOut
    overdue_action_items: ActionItemCountOut
    open_issues: int
    escalated_open: int
    issues_by_tier: list[TierIssuesOut]
    health_trend: list[NetworkHealthOut]
    misaligned: RelationshipCountOut
    expiring_certifications: CertificationCountOut
    coverage: CoverageCountOut
    roles_incomplete: RelationshipCountOut
    warning_days: int = Field(description="Certifications expiring within these days count.")
    grace_days: int = Field(description="A planned meeting is overdue after these days.")


# The signed token of a health-check link (django.core.signing: base64 and colons).
SurveyToken = Text(500, min_length=1, pattern=r"^[-A-Za-z0-9_:.]+$")
