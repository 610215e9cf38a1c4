"""API schemas of accord.partners: organisations, contacts, territories, agreements.

``*In`` creates, ``*Patch`` partially updates (only the keys sent change), ``*Out``
answers, ``*Filter`` holds a list's query parameters. Lengths mirror the model fields so
over-long text is a 422 before it reaches the database.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator

from accord.core.schemas import ObjectId, Text
from accord.partners.models import Agreement, AgreementTarget, Organisation, Territory

OrganisationKind = Literal[tuple(Organisation.Kind.values)]  # type: ignore[valid-type]
PartnerKind = Literal[  # type: ignore[valid-type]
    tuple(k for k in Organisation.Kind.values if k != Organisation.Kind.VENDOR)
]
OrganisationStatus = Literal[tuple(Organisation.Status.values)]  # type: ignore[valid-type]
TerritoryLevel = Literal[tuple(Territory.Level.values)]  # type: ignore[valid-type]
AgreementType = Literal[tuple(Agreement.Type.values)]  # type: ignore[valid-type]
AgreementStatus = Literal[tuple(Agreement.Status.values)]  # type: ignore[valid-type]
TargetPeriod = Literal[tuple(AgreementTarget.Period.values)]  # type: ignore[valid-type]
Comparator = Literal[">=", "<="]

Country = Annotated[Text(2, pattern=r"^([A-Za-z]{2})?$"), AfterValidator(str.upper)]
Currency = Annotated[Text(3, min_length=3, pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]
Search = Text(200)
TagName = Text(50, min_length=1)
NOTICE_DAYS_MAX = 2_147_483_647  # PositiveIntegerField's upper bound on every database


class TransitionIn(Schema):
    """A lifecycle step: the wanted status and, for the history, why."""

    reason: Text(2000) = ""


# -- organisations ------------------------------------------------------------
class TerritoryAssignmentBrief(Schema):
    id: int
    territory_id: int
    territory_code: str
    territory_name: str
    exclusive: bool

    @staticmethod
    def resolve_territory_code(obj: Any) -> str:
        return obj.territory.code

    @staticmethod
    def resolve_territory_name(obj: Any) -> str:
        return obj.territory.name


class OrganisationOut(Schema):
    id: int
    name: str
    legal_name: str
    kind: OrganisationKind
    status: OrganisationStatus
    is_vendor: bool
    parent_id: int | None
    external_key: str
    tax_id: str
    website_domain: str
    email: str
    phone: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    currency: str
    tags: list[str]
    territory_assignments: list[TerritoryAssignmentBrief]
    allowed_transitions: list[OrganisationStatus]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_parent_id(obj: Any) -> int | None:
        # A partner's parent may be outside what the partner sees: then it is not shown.
        return obj.parent_id if getattr(obj, "parent_visible", True) else None

    @staticmethod
    def resolve_tags(obj: Any) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_territory_assignments(obj: Any) -> list[Any]:
        return list(obj.territory_assignments.all())

    @staticmethod
    def resolve_allowed_transitions(obj: Any) -> list[str]:
        return list(obj.allowed_transitions())


class OrganisationFields(Schema):
    legal_name: Text(200) = ""
    external_key: Text(100) = ""
    tax_id: Text(50) = ""
    website_domain: Text(253) = ""
    email: Text(254) = ""
    phone: Text(50) = ""
    street: Text(200) = ""
    city: Text(100) = ""
    region: Text(100) = ""
    postal_code: Text(20) = ""
    country: Country = ""
    currency: Currency = "USD"


class OrganisationIn(OrganisationFields):
    name: Text(200, min_length=1)
    kind: PartnerKind
    parent_id: ObjectId | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=50)


class OrganisationPatch(Schema):
    """Only the keys present change; ``parent_id: null`` makes it a top-level organisation."""

    name: Text(200, min_length=1) = None
    legal_name: Text(200) = None
    kind: OrganisationKind = None
    parent_id: ObjectId | None = None
    external_key: Text(100) = None
    tax_id: Text(50) = None
    website_domain: Text(253) = None
    email: Text(254) = None
    phone: Text(50) = None
    street: Text(200) = None
    city: Text(100) = None
    region: Text(100) = None
    postal_code: Text(20) = None
    country: Country = None
    currency: Currency = None
    tags: list[TagName] = Field(None, max_length=50)


class OrganisationFilter(Schema):
    kind: OrganisationKind = None
    status: OrganisationStatus = None
    country: Country = None
    parent: ObjectId = Field(None, description="Only the children of this organisation.")
    tag: TagName = None
    q: Search = Field(
        None, description="Search in name, legal name, tax id, website domain and city."
    )
    sort: Literal["name", "-name", "created_at", "-created_at", "status", "-status"] = "name"


class OrganisationTransitionIn(TransitionIn):
    status: OrganisationStatus


# -- contacts -----------------------------------------------------------------
class ContactOut(Schema):
    id: int
    organisation_id: int
    full_name: str
    job_title: str
    email: str
    phone: str
    is_primary: bool
    notes: str
    created_at: dt.datetime


class ContactIn(Schema):
    organisation_id: ObjectId
    full_name: Text(150, min_length=1)
    job_title: Text(150) = ""
    email: Text(254) = ""
    phone: Text(50) = ""
    is_primary: bool = False
    notes: Text(10_000) = ""


class ContactPatch(Schema):
    full_name: Text(150, min_length=1) = None
    job_title: Text(150) = None
    email: Text(254) = None
    phone: Text(50) = None
    is_primary: bool = None
    notes: Text(10_000) = None


class ContactFilter(Schema):
    organisation: ObjectId = None
    q: Search = Field(None, description="Search in name, e-mail, job title and phone.")


# -- territories --------------------------------------------------------------
TerritoryCode = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")


class TerritoryOut(Schema):
    id: int
    code: str
    name: str
    level: TerritoryLevel
    parent_id: int | None
    depth: int


class TerritoryNodeOut(Schema):
    """A territory with the visible territories below it."""

    id: int
    code: str
    name: str
    level: TerritoryLevel
    children: list["TerritoryNodeOut"]


TerritoryNodeOut.model_rebuild()


class TerritoryIn(Schema):
    code: TerritoryCode
    name: Text(150, min_length=1)
    level: TerritoryLevel
    parent_id: ObjectId | None = None


class TerritoryPatch(Schema):
    code: TerritoryCode = None
    name: Text(150, min_length=1) = None
    level: TerritoryLevel = None
    parent_id: ObjectId | None = None


class TerritoryFilter(Schema):
    parent: ObjectId = Field(None, description="Only the children of this territory.")
    level: TerritoryLevel = None
    q: Search = Field(None, description="Search in code and name.")


class TerritoryAssignmentOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    territory_id: int
    territory_code: str
    territory_name: str
    exclusive: bool
    assigned_on: dt.date

    @staticmethod
    def resolve_organisation_name(obj: Any) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_territory_code(obj: Any) -> str:
        return obj.territory.code

    @staticmethod
    def resolve_territory_name(obj: Any) -> str:
        return obj.territory.name


class TerritoryAssignmentIn(Schema):
    organisation_id: ObjectId
    territory_id: ObjectId
    exclusive: bool = False


class TerritoryAssignmentFilter(Schema):
    organisation: ObjectId = None
    territory: ObjectId = None


# -- agreements ---------------------------------------------------------------
TargetValue = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


class AgreementTargetIn(Schema):
    metric: Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
    comparator: Comparator = ">="
    target: TargetValue
    unit: Text(20) = ""
    period: TargetPeriod = "year"


class AgreementTargetOut(Schema):
    id: int
    metric: str
    comparator: Comparator
    target: str = Field(description="A decimal number, as a string to keep every digit.")
    unit: str
    period: TargetPeriod

    @staticmethod
    def resolve_target(obj: Any) -> str:
        return str(obj.target)


class AgreementOut(Schema):
    id: int
    organisation_id: int
    organisation_name: str
    reference: str
    type: AgreementType
    status: AgreementStatus
    start_on: dt.date
    end_on: dt.date | None
    renewal_notice_days: int
    renewal_due: bool = Field(
        description="Active and its end date is within the renewal notice window (or past)."
    )
    pricing_tier: str
    terms: str
    targets: list[AgreementTargetOut]
    allowed_transitions: list[AgreementStatus]
    created_at: dt.datetime

    @staticmethod
    def resolve_organisation_name(obj: Any) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_renewal_due(obj: Any) -> bool:
        return obj.renewal_due(timezone.localdate())

    @staticmethod
    def resolve_targets(obj: Any) -> list[Any]:
        return list(obj.targets.all())

    @staticmethod
    def resolve_allowed_transitions(obj: Any) -> list[str]:
        return list(Agreement.TRANSITIONS.get(obj.status, ()))


class AgreementIn(Schema):
    organisation_id: ObjectId
    reference: Text(50, min_length=1)
    type: AgreementType
    start_on: dt.date
    end_on: dt.date | None = None
    renewal_notice_days: int = Field(60, ge=0, le=NOTICE_DAYS_MAX)
    pricing_tier: Text(50) = ""
    terms: Text(100_000) = ""
    targets: list[AgreementTargetIn] = Field(default_factory=list, max_length=100)


class AgreementPatch(Schema):
    """Only the keys present change; ``targets``, when given, replaces every target."""

    reference: Text(50, min_length=1) = None
    type: AgreementType = None
    start_on: dt.date = None
    end_on: dt.date | None = None
    renewal_notice_days: int = Field(None, ge=0, le=NOTICE_DAYS_MAX)
    pricing_tier: Text(50) = None
    terms: Text(100_000) = None
    targets: list[AgreementTargetIn] = Field(None, max_length=100)


class AgreementFilter(Schema):
    organisation: ObjectId = None
    status: AgreementStatus = None
    type: AgreementType = None
    renewal_due: bool = Field(
        None, description="true: only agreements due for renewal; false: only those not due."
    )


class AgreementTransitionIn(TransitionIn):
    status: AgreementStatus
