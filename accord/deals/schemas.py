"""Ninja schemas of the deals API: registrations and their workflow, conflicts (redacted for
partners), the live similar-registrations check, the rules of engagement and named accounts.

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
from accord.deals.models import Conflict, EngagementRules, Registration

Status = Literal[tuple(Registration.Status.values)]  # type: ignore[valid-type]
ConflictKind = Literal[tuple(Conflict.Kind.values)]  # type: ignore[valid-type]
ResolutionName = Literal[tuple(Conflict.Resolution.values)]  # type: ignore[valid-type]
PolicyName = Literal[tuple(EngagementRules.Policy.values)]  # type: ignore[valid-type]
Country = Annotated[Text(2, pattern=r"^([A-Za-z]{2})?$"), AfterValidator(str.upper)]
Currency = Annotated[Text(3, min_length=3, pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]
ProductLine = Text(100, min_length=1)
Reason = Text(2000, strip=False)
RequiredReason = Text(2000, min_length=1)
Code = Text(60, min_length=1, pattern=r"^[-a-zA-Z0-9_]+$")
# A plausible close date (as the registration form takes it).
Day = Annotated[dt.date, Field(ge=dt.date(1990, 1, 1), le=dt.date(2999, 12, 31))]
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2, ge=0)]
Days = Annotated[int, Field(ge=1, le=36_500)]


def _text(value: Any) -> Any:
    return None if value is None else str(value) if isinstance(value, Decimal) else value


# A Decimal shown as its string (every digit kept), or null.
DecimalText = Annotated[str | None, BeforeValidator(_text)]


class Strict(Schema):
    """Refuses keys it does not know, so a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


# -- registrations ------------------------------------------------------------------
class CustomerFields(Strict):
    customer_tax_id: Text(50) = Field("", description="Tax / registration id, e.g. a USCC.")
    customer_domain: Text(253) = Field(
        "", description="Website or e-mail domain; sub-domains count as the same customer."
    )
    customer_street: Text(200) = ""
    customer_city: Text(100) = ""
    customer_region: Text(100) = Field("", description="Province / state.")
    customer_country: Country = Field("", description="ISO 3166 two-letter code.")
    territory_id: ObjectId | None = None
    product_lines: list[ProductLine] = Field(
        default_factory=list,
        max_length=50,
        description=(
            "Product lines claimed (a catalogue line matches ignoring case; others are kept "
            "as typed); the products' lines are added."
        ),
        examples=[["Servers"]],
    )
    product_ids: list[ObjectId] = Field(default_factory=list, max_length=200)


class RegistrationIn(CustomerFields):
    customer_name: Text(200, min_length=1) = Field(..., examples=["ACME Corp."])
    value: Money = Field(..., description="Estimated value (>= 0).", examples=["125000.00"])
    currency: Currency = Field("USD", examples=["USD"])
    expected_close: Day = Field(..., examples=["2026-12-31"])
    notes: Text(10_000, strip=False) = ""
    organisation_id: ObjectId | None = Field(
        None,
        description=(
            "Vendor staff only: the partner registered for (default: the vendor's direct "
            "sales). A partner's registration is always its own organisation's."
        ),
    )


class RegistrationPatch(Strict):
    """Only the keys present change; allowed while submitted or returned for information."""

    customer_name: Text(200, min_length=1) = None
    customer_tax_id: Text(50) = None
    customer_domain: Text(253) = None
    customer_street: Text(200) = None
    customer_city: Text(100) = None
    customer_region: Text(100) = None
    customer_country: Country = None
    territory_id: ObjectId | None = None
    product_lines: list[ProductLine] = Field(None, max_length=50)
    product_ids: list[ObjectId] = Field(None, max_length=200)
    value: Money = None
    currency: Currency = None
    expected_close: Day = None
    notes: Text(10_000, strip=False) = None


class SimilarIn(CustomerFields):
    """What the registration form holds so far: only the name is needed."""

    customer_name: Text(200, min_length=1) = Field(..., examples=["Acme Corporation Ltd"])
    organisation_id: ObjectId | None = Field(
        None, description="Vendor staff: the partner the registration would be for."
    )


class RegistrationFilter(Schema):
    status: Status = None
    organisation: ObjectId = Field(None, description="Registered by this organisation.")
    product_line: Text(100) = None
    q: Text(200) = Field(None, description="Search in the number and the customer's name.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class RegistrationOut(Schema):
    id: int
    number: str
    organisation_id: int
    organisation_name: str
    registered_by_id: int | None
    customer_name: str
    customer_tax_id: str
    customer_domain: str
    customer_street: str
    customer_city: str
    customer_region: str
    customer_country: str
    territory_id: int | None
    end_customer_id: int | None = Field(description="The resolved end customer (vendor staff).")
    product_lines: list[str]
    product_ids: list[int]
    value: DecimalText
    currency: str
    expected_close: dt.date
    notes: str
    status: Status
    submitted_at: dt.datetime
    approval_due: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by_id: int | None
    decision: dict[str, Any] = Field(
        description=(
            'Why it stands where it does: {"rule": auto_approve | manual_review | '
            'manual_approval | rejected | returned, "why": [...], "reason": ..., "inputs": '
            '{"conflicts", "gate", "rules", "protection", ...}}.'
        )
    )
    protected_until: dt.date | None
    extension_requested_at: dt.datetime | None
    extension_reason: str
    extension_decided_at: dt.datetime | None
    extended: bool
    open_conflicts: int = Field(description="Conflicts not yet resolved.")
    created_at: dt.datetime
    updated_at: dt.datetime


class RegistrationPage(Schema):
    count: int
    items: list[RegistrationOut]


# -- conflicts --------------------------------------------------------------------
class OtherRegistrationOut(Schema):
    id: int
    number: str
    organisation: str = Field(description="The organisation holding it.")
    organisation_id: int
    customer_name: str
    customer_tax_id: str
    customer_domain: str
    customer_country: str
    status: Status
    product_lines: list[str]
    submitted_at: dt.datetime
    protected_until: dt.date | None


class EndCustomerBrief(Schema):
    id: int
    name: str
    named_account: bool
    country: str
    tax_key: str
    domain_key: str


class HolderOut(Schema):
    id: int
    name: str


class ConflictOut(Schema):
    id: int | None = Field(description="Null in the live check (nothing is stored).")
    kind: ConflictKind
    kind_label: str
    score: int = Field(description="0-100: how sure the match is.")
    reasons: list[dict[str, Any]] = Field(
        description=(
            'Each reason with its "code" (tax_id, domain, name, same_customer, products, '
            'named_account, territory, duplicate), a "label" in the caller\'s language and '
            "its details (e.g. both normalised names and their score, the shared product "
            "lines); for a hidden other side only the code, the score and the label."
        )
    )
    blocking: bool = Field(description="Blocks approval while open.")
    resolution: ResolutionName
    resolution_reason: str
    hidden: bool = Field(
        description=(
            "The other side belongs to someone the caller may not see: only the fact "
            "that a conflicting registration exists is shown."
        )
    )
    other: OtherRegistrationOut | None = Field(description="The conflicting registration.")
    end_customer: EndCustomerBrief | None = Field(description="The named account it matches.")
    holder: HolderOut | None = Field(
        description="Who holds the other side: a partner, or the vendor for named accounts."
    )


class ResolveIn(Schema):
    resolution: Literal["dismissed", "upheld"] = Field(
        ..., description='"dismissed": not a conflict; "upheld": the conflict stands.'
    )
    reason: RequiredReason


# -- workflow bodies ------------------------------------------------------------------
class ReasonIn(Schema):
    reason: Reason = ""


class RequiredReasonIn(Schema):
    reason: RequiredReason


class RegistrationCloseIn(Schema):
    outcome: Literal["won", "lost"]
    reason: Reason = ""


class ExtensionDecisionIn(Schema):
    grant: bool
    reason: Reason = ""


# -- rules of engagement ----------------------------------------------------------------
class EngagementRulesIn(Strict):
    """The whole rules of engagement (PUT replaces them)."""

    policy: PolicyName = Field(
        "first_to_file", description="first_to_file, or manual review of every conflict."
    )
    name_threshold: int = Field(85, ge=50, le=100, description="Name similarity (0-100).")
    require_product_overlap: bool = True
    check_territories: bool = True
    check_named_accounts: bool = True
    auto_approve: bool = True
    reveal_conflicts: bool = Field(
        False, description="Show partners who holds a conflicting registration."
    )
    approval_sla_hours: int = Field(48, ge=1, le=8760)
    protection_days: Days = 90
    extension_days: Days = 30
    expiry_reminder_days: int = Field(14, ge=0, le=36_500)
    tier_program: Code | None = Field(
        None, description="The program whose effective tier picks the protection window."
    )
    tier_protection_days: dict[Text(40, min_length=1), Days] = Field(
        default_factory=dict, description="Tier code -> protection window in days."
    )


class EngagementRulesOut(Schema):
    policy: PolicyName
    name_threshold: int
    require_product_overlap: bool
    check_territories: bool
    check_named_accounts: bool
    auto_approve: bool
    reveal_conflicts: bool
    approval_sla_hours: int
    protection_days: int
    extension_days: int
    expiry_reminder_days: int
    tier_program: str | None
    tier_protection_days: dict[str, int]
    updated_at: dt.datetime


# -- named accounts -------------------------------------------------------------------
class EndCustomerIn(Strict):
    name: Text(200, min_length=1)
    tax_id: Text(50) = Field("", description="Normalised when stored.")
    domain: Text(253) = Field("", description="Normalised to the registrable domain.")
    country: Country = ""
    region: Text(100) = ""
    city: Text(100) = ""
    territory_id: ObjectId | None = None
    named_account: bool = True
    account_owner_id: ObjectId | None = Field(None, description="A vendor user.")


class EndCustomerPatch(Strict):
    name: Text(200, min_length=1) = None
    tax_id: Text(50) = None
    domain: Text(253) = None
    country: Country = None
    region: Text(100) = None
    city: Text(100) = None
    territory_id: ObjectId | None = None
    named_account: bool = None
    account_owner_id: ObjectId | None = None


class EndCustomerOut(Schema):
    id: int
    name: str
    name_key: str
    tax_key: str
    domain_key: str
    country: str
    region: str
    city: str
    territory_id: int | None
    named_account: bool
    account_owner_id: int | None
    created_at: dt.datetime


class EndCustomerFilter(Schema):
    named_account: bool = None
    q: Text(200) = Field(None, description="Search in the name.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class EndCustomerPage(Schema):
    count: int
    items: list[EndCustomerOut]
