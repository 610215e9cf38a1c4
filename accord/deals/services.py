"""Writes of accord.deals: submitting and deciding deal registrations, conflict detection
(open registrations, named accounts, exclusive territories), protection windows and their
timers, the rules of engagement and named accounts. Each top-level service is one durable,
audited transaction."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.channel.models import Product
from accord.core import errors, gates
from accord.core.models import AuditEntry, Notification
from accord.core.services import (
    apply_changes,
    diff,
    ensure_permitted,
    ensure_still_visible,
    notify_many,
    record,
    snapshot,
    validate,
)
from accord.deals import matching
from accord.deals.models import (
    Conflict,
    EndCustomer,
    EngagementRules,
    Registration,
    RegistrationLine,
)
from accord.partners.models import Organisation, Territory, TerritoryAssignment
from accord.programs.models import Membership, Program

Status = Registration.Status
NUL = "\x00"

# The scores of exact identity matches; a name match scores its similarity (0..100).
TAX_SCORE = 100
DOMAIN_SCORE = 95
SAME_CUSTOMER_SCORE = 90
TERRITORY_SCORE = 100
SIMILAR_LIMIT = 50
MAX_LINES = 50

TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.SUBMITTED: (Status.APPROVED, Status.REJECTED, Status.RETURNED, Status.WITHDRAWN),
    Status.RETURNED: (Status.SUBMITTED, Status.REJECTED, Status.WITHDRAWN),
    Status.APPROVED: (Status.WON, Status.LOST, Status.EXPIRED, Status.WITHDRAWN),
}
CLOSED = (Status.REJECTED, Status.WON, Status.LOST, Status.EXPIRED, Status.WITHDRAWN)

TEXT_FIELDS = {
    "customer_name": 200,
    "customer_tax_id": 50,
    "customer_domain": 253,
    "customer_street": 200,
    "customer_city": 100,
    "customer_region": 100,
    "notes": 10_000,
}
REGISTRATION_KEYS = frozenset(
    {
        *TEXT_FIELDS,
        "customer_country",
        "territory",
        "product_lines",
        "products",
        "value",
        "currency",
        "expected_close",
    }
)
RULE_FIELDS = (
    "policy",
    "name_threshold",
    "require_product_overlap",
    "check_territories",
    "check_named_accounts",
    "auto_approve",
    "reveal_conflicts",
    "approval_sla_hours",
    "protection_days",
    "extension_days",
    "expiry_reminder_days",
    "tier_program",
    "tier_protection_days",
)
END_CUSTOMER_KEYS = {
    "name": "name",
    "tax_id": "tax_key",
    "domain": "domain_key",
    "country": "country",
    "region": "region",
    "city": "city",
    "territory": "territory",
    "territory_id": "territory",
    "named_account": "named_account",
    "account_owner": "account_owner",
    "account_owner_id": "account_owner",
}


# -- small helpers ------------------------------------------------------------------------
def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _label(status: str) -> str:
    return str(Status(status).label)


def _open_q(today: dt.date) -> Q:
    """Registrations that can conflict: pending ones and those still protected."""
    return Q(status__in=(Status.SUBMITTED, Status.RETURNED)) | Q(
        status=Status.APPROVED, protected_until__gte=today
    )


def _ensure_transition(registration: Registration, new: str) -> None:
    if new not in TRANSITIONS.get(registration.status, ()):
        raise errors.InvalidTransition(
            _("A registration that is %(current)s cannot become %(new)s.")
            % {"current": _label(registration.status), "new": _label(new)},
            current=registration.status,
            requested=new,
        )


def _ensure_decider(actor: Any, registration: Registration) -> None:
    """Decisions are vendor staff's, with deals.decide_registration; 404 when not visible."""
    if actor is None:
        return
    ensure_permitted(actor, "view", registration)
    if actor.is_partner or not actor.has_perm("deals.decide_registration"):
        raise errors.PermissionDenied


def _ensure_manager(actor: Any, model_permission: str) -> None:
    if actor is None:
        return
    if actor.is_partner or not (
        actor.has_perm("deals.manage_engagement") and actor.has_perm(model_permission)
    ):
        raise errors.PermissionDenied


def _locked(registration: Registration) -> Registration:
    """``registration`` re-read and locked against other writers of it. FOR NO KEY UPDATE
    (as every registration lock here): rows that only reference it (conflicts, name grams)
    do not wait for it, so two transactions each holding one registration while writing
    conflicts that point at the other's cannot deadlock."""
    return (
        Registration.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organisation", "registered_by", "end_customer")
        .get(pk=registration.pk)
    )


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError({"reason": [_("Give a reason.")]})
    if NUL in reason:
        raise errors.ValidationError({"reason": [_("Null characters are not allowed.")]})
    return reason


def _reason_optional(reason: str) -> str:
    reason = (reason or "").strip()
    if NUL in reason:
        raise errors.ValidationError({"reason": [_("Null characters are not allowed.")]})
    return reason


# -- input ----------------------------------------------------------------------------------
def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("Enter text."))
    value = value.strip()
    if NUL in value:
        raise ValueError(_("Null characters are not allowed."))
    if len(value) > limit:
        raise ValueError(_("At most %(limit)s characters.") % {"limit": limit})
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise ValueError(_("Enter an amount."))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as error:
        raise ValueError(_("Enter an amount.")) from error
    if not number.is_finite():
        raise ValueError(_("Enter an amount."))
    if number < 0:
        raise ValueError(_("The amount cannot be negative."))
    if number.copy_abs() >= Decimal(10) ** 16:
        raise ValueError(_("The amount is too large."))
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(_("Use at most two decimal places."))
    return number


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raise ValueError(_("Enter a date (YYYY-MM-DD)."))


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list | tuple | set):
        raise ValueError(_("Give a list."))
    ids = []
    for item in value:
        pk = getattr(item, "pk", item)
        if isinstance(pk, bool):
            raise ValueError(_("Give a list of ids."))
        try:
            ids.append(int(pk))
        except (TypeError, ValueError) as error:
            raise ValueError(_("Give a list of ids.")) from error
    return ids


def _object_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    if isinstance(pk, bool):
        raise ValueError
    return int(pk)


def _canonical_lines(lines: Iterable[str]) -> dict[str, str]:
    """Product lines as the catalogue spells them (matched ignoring case), else as typed."""
    known = {
        line.casefold(): line
        for line in Product.objects.exclude(product_line="")
        .order_by()
        .values_list("product_line", flat=True)
        .distinct()
    }
    return {line: known.get(line.casefold(), line) for line in lines}


@dataclass
class Cleaned:
    fields: dict[str, Any] = field(default_factory=dict)
    lines: set[str] | None = None  # None: unchanged
    products: list[Product] | None = None  # None: unchanged


def _clean_registration(
    actor: Any, data: Mapping[str, Any], *, current: Registration | None, partial: bool
) -> Cleaned:
    """Parse and check ``data``; ValidationError with every field's errors."""
    if not isinstance(data, Mapping):
        raise errors.ValidationError({"data": [_("Give the registration as an object.")]})
    failures: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        failures.setdefault(name, []).append(message)

    for name in sorted(set(data) - REGISTRATION_KEYS):
        fail(name, _("Unknown field."))
    cleaned = Cleaned()
    for name, limit in TEXT_FIELDS.items():
        if name in data:
            try:
                cleaned.fields[name] = _text(data[name], limit)
            except ValueError as error:
                fail(name, str(error))
    if not cleaned.fields.get("customer_name", "x" if partial else ""):
        fail("customer_name", _("Give the end customer's name."))
    domain = cleaned.fields.get("customer_domain")
    if domain and not matching.normalise_domain(domain):
        fail("customer_domain", _("Enter a website domain such as example.com."))
    if "customer_country" in data:
        country = data["customer_country"] or ""
        if not isinstance(country, str) or not re.fullmatch(r"([A-Za-z]{2})?", country.strip()):
            fail("customer_country", _("Use a two-letter ISO 3166 country code."))
        else:
            cleaned.fields["customer_country"] = country.strip().upper()
    if "territory" in data:
        try:
            territory_id = _object_id(data["territory"])
        except (TypeError, ValueError):
            territory_id = -1
        if territory_id is None:
            cleaned.fields["territory"] = None
        else:
            territory = Territory.objects.filter(pk=territory_id).first()
            if territory is None:
                fail("territory", _("Unknown territory."))
            cleaned.fields["territory"] = territory
    if "value" in data or not partial:
        try:
            cleaned.fields["value"] = _decimal(data.get("value"))
        except ValueError as error:
            fail("value", str(error))
    if "currency" in data:
        currency = data["currency"]
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
            fail("currency", _("Use a three-letter ISO 4217 code."))
        else:
            cleaned.fields["currency"] = currency.strip().upper()
    if "expected_close" in data or not partial:
        try:
            cleaned.fields["expected_close"] = _date(data.get("expected_close"))
        except ValueError as error:
            fail("expected_close", str(error))
    products = None
    if "products" in data:
        try:
            ids = _ids(data["products"])
        except ValueError as error:
            fail("products", str(error))
            ids = []
        visible = Product.objects.all() if actor is None else Product.objects.restrict(actor)
        products = list(visible.filter(pk__in=ids))
        if len({p.pk for p in products}) != len(set(ids)):
            fail("products", _("Unknown product."))
        cleaned.products = products
    typed: list[str] | None = None
    if "product_lines" in data:
        raw = data["product_lines"]
        if raw is None:
            raw = []
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            fail("product_lines", _("Give a list of product lines."))
            raw = []
        typed = []
        for item in raw:
            try:
                line = _text(item, 100)
            except ValueError as error:
                fail("product_lines", str(error))
                continue
            if line:
                typed.append(line)
    if typed is not None or products is not None or not partial:
        if typed is None:
            typed = current.product_lines() if current is not None else []
        if products is None:
            products = list(current.products.all()) if current is not None else []
        lines = set(_canonical_lines(typed).values())
        lines |= {p.product_line for p in products if p.product_line}
        if not lines:
            fail("product_lines", _("Give at least one product line or product."))
        elif len(lines) > MAX_LINES:
            fail("product_lines", _("At most %(max)s product lines.") % {"max": MAX_LINES})
        cleaned.lines = lines
    if failures:
        raise errors.ValidationError(failures)
    return cleaned


def _set_keys(registration: Registration) -> None:
    registration.name_key = matching.normalise_name(registration.customer_name)[:200]
    registration.tax_key = matching.normalise_tax_id(registration.customer_tax_id)[:50]
    registration.domain_key = matching.normalise_domain(registration.customer_domain)[:253]


# -- end customers ----------------------------------------------------------------------------
def _find_end_customer(tax_key: str, domain_key: str, name_key: str, country: str) -> Any:
    if tax_key:
        found = EndCustomer.objects.filter(tax_key=tax_key).first()
        if found is not None:
            return found
    if domain_key:
        found = EndCustomer.objects.filter(domain_key=domain_key).first()
        if found is not None:
            return found
    if not name_key:
        return None
    return EndCustomer.objects.filter(name_key=name_key, country=country).first()


def _resolve_end_customer(registration: Registration) -> EndCustomer:
    """The end customer ``registration`` names: found by tax key, else domain, else name in
    its country; created when none; a concurrent creation is re-read."""
    for _attempt in range(3):
        found = _find_end_customer(
            registration.tax_key,
            registration.domain_key,
            registration.name_key,
            registration.customer_country,
        )
        if found is not None:
            _fill_keys(found, registration)
            return found
        try:
            with transaction.atomic():
                return EndCustomer.objects.create(
                    name=registration.customer_name,
                    name_key=registration.name_key,
                    tax_key=registration.tax_key,
                    domain_key=registration.domain_key,
                    country=registration.customer_country,
                    region=registration.customer_region,
                    city=registration.customer_city,
                    territory=registration.territory,
                )
        except IntegrityError:
            continue  # inserted by a concurrent registration meanwhile: read it
    raise errors.Conflict(
        _("The end customer is being registered by someone else right now; try again.")
    )


def _fill_keys(customer: EndCustomer, registration: Registration) -> None:
    """Give a found end customer the keys it lacks (each alone: another customer may
    already hold one)."""
    for name in ("tax_key", "domain_key"):
        value = getattr(registration, name)
        if value and not getattr(customer, name):
            try:
                with transaction.atomic():
                    EndCustomer.objects.filter(pk=customer.pk, **{name: ""}).update(**{name: value})
                    setattr(customer, name, value)
            except IntegrityError:
                pass


# -- conflict detection ------------------------------------------------------------------------
@dataclass
class Probe:
    """What detection compares: a stored registration or a form being typed."""

    organisation: Organisation
    name_key: str
    tax_key: str
    domain_key: str
    lines: set[str]
    territory_id: int | None
    end_customer_id: int | None
    pk: int | None = None
    submitted_at: dt.datetime | None = None

    @classmethod
    def of(cls, registration: Registration, lines: Iterable[str]) -> Probe:
        return cls(
            organisation=registration.organisation,
            name_key=registration.name_key,
            tax_key=registration.tax_key,
            domain_key=registration.domain_key,
            lines=set(lines),
            territory_id=registration.territory_id,
            end_customer_id=registration.end_customer_id,
            pk=registration.pk,
            submitted_at=registration.submitted_at,
        )


def _identity(probe: Probe, other: Any, threshold: int, name_score: int | None) -> list[dict]:
    """The identity reasons ``probe`` and ``other`` (a registration or end customer) share."""
    reasons: list[dict[str, Any]] = []
    if probe.tax_key and other.tax_key == probe.tax_key:
        reasons.append({"code": "tax_id", "score": TAX_SCORE, "tax_id": probe.tax_key})
    if probe.domain_key and other.domain_key == probe.domain_key:
        reasons.append({"code": "domain", "score": DOMAIN_SCORE, "domain": probe.domain_key})
    if probe.name_key and other.name_key:
        score = (
            name_score
            if name_score is not None
            else matching.name_score(probe.name_key, other.name_key)
        )
        if score >= threshold:
            reasons.append(
                {
                    "code": "name",
                    "score": int(score),
                    "name_key": probe.name_key,
                    "other_name_key": other.name_key,
                }
            )
    return reasons


def _filed_before(other: Registration, submitted_at: dt.datetime | None, pk: int | None) -> bool:
    """Whether ``other`` was filed before the registration (submitted_at, pk); an unsaved
    one files last."""
    if submitted_at is None or pk is None:
        return True
    return (other.submitted_at, other.pk) < (submitted_at, pk)


def detect(probe: Probe, *, rules: EngagementRules, today: dt.date) -> list[Conflict]:
    """Unsaved conflicts of ``probe``: open registrations of any organisation, named
    accounts and other organisations' exclusive territories, each with its reasons."""
    found = _registration_conflicts(probe, rules, today)
    if rules.check_named_accounts and not probe.organisation.is_vendor:
        found.extend(_named_account_conflicts(probe, rules))
    if rules.check_territories and probe.territory_id:
        found.extend(_territory_conflicts(probe))
    found.sort(key=lambda c: (-c.score, c.kind, c.other_id or 0, c.end_customer_id or 0))
    return found


def _registration_conflicts(probe: Probe, rules: EngagementRules, today: dt.date) -> list[Conflict]:
    open_registrations = Registration.objects.filter(_open_q(today))
    if probe.pk:
        open_registrations = open_registrations.exclude(pk=probe.pk)
    names = dict(
        matching.similar_names(
            probe.name_key,
            threshold=rules.name_threshold,
            limit=SIMILAR_LIMIT,
            exclude=[probe.pk] if probe.pk else [],
        )
        if probe.name_key
        else []
    )
    exact = Q(pk__in=list(names))
    if probe.tax_key:
        exact |= Q(tax_key=probe.tax_key)
    if probe.domain_key:
        exact |= Q(domain_key=probe.domain_key)
    if probe.end_customer_id:
        exact |= Q(end_customer_id=probe.end_customer_id)
    candidates = (
        open_registrations.filter(exact)
        .select_related("organisation")
        .prefetch_related("lines")
        .order_by("pk")[: SIMILAR_LIMIT * 4]
    )
    found = []
    for other in candidates:
        reasons = _identity(probe, other, rules.name_threshold, names.get(other.pk))
        if probe.end_customer_id and other.end_customer_id == probe.end_customer_id:
            reasons.append(
                {
                    "code": "same_customer",
                    "score": SAME_CUSTOMER_SCORE,
                    "end_customer": probe.end_customer_id,
                }
            )
        if not reasons:
            continue
        score = max(reason["score"] for reason in reasons)
        overlap = sorted(probe.lines & {line.product_line for line in other.lines.all()})
        if overlap:
            reasons.append({"code": "products", "product_lines": overlap})
        elif rules.require_product_overlap:
            continue
        if other.organisation_id == probe.organisation.pk:
            reasons.append({"code": "duplicate"})
        blocking = other.status == Status.APPROVED or (
            rules.policy == EngagementRules.Policy.FIRST_TO_FILE
            and _filed_before(other, probe.submitted_at, probe.pk)
        )
        found.append(
            Conflict(
                kind=Conflict.Kind.REGISTRATION,
                other=other,
                holder=other.organisation,
                score=score,
                reasons=reasons,
                blocking=blocking,
            )
        )
    return found


def _named_account_conflicts(probe: Probe, rules: EngagementRules) -> list[Conflict]:
    vendor = Organisation.objects.vendor()
    found = []
    for account in EndCustomer.objects.filter(named_account=True).order_by("pk"):
        reasons = _identity(probe, account, rules.name_threshold, None)
        if probe.end_customer_id == account.pk:
            reasons.append(
                {"code": "same_customer", "score": SAME_CUSTOMER_SCORE, "end_customer": account.pk}
            )
        if not reasons:
            continue
        score = max(reason["score"] for reason in reasons)
        reasons.append({"code": "named_account"})
        found.append(
            Conflict(
                kind=Conflict.Kind.NAMED_ACCOUNT,
                end_customer=account,
                holder=vendor,
                score=score,
                reasons=reasons,
                blocking=True,
            )
        )
    return found


def _territory_conflicts(probe: Probe) -> list[Conflict]:
    territory = Territory.objects.filter(pk=probe.territory_id).first()
    if territory is None:
        return []
    chain = [int(part) for part in territory.path.strip("/").split("/") if part]
    # The registrant and the organisations above it sell in their own network's territory.
    own = [int(part) for part in probe.organisation.path.strip("/").split("/") if part]
    held = (
        TerritoryAssignment.objects.filter(territory_id__in=chain, exclusive=True)
        .exclude(organisation_id__in=own or [probe.organisation.pk])
        .exclude(organisation__status=Organisation.Status.TERMINATED)
        .select_related("organisation", "territory")
        .order_by("organisation_id", "territory__path")
    )
    by_holder: dict[int, Conflict] = {}
    for assignment in held:
        conflict = by_holder.get(assignment.organisation_id)
        if conflict is None:
            conflict = by_holder[assignment.organisation_id] = Conflict(
                kind=Conflict.Kind.TERRITORY,
                holder=assignment.organisation,
                score=TERRITORY_SCORE,
                reasons=[],
                blocking=True,
            )
        conflict.reasons.append(
            {
                "code": "territory",
                "territory": assignment.territory_id,
                "territory_name": assignment.territory.name,
            }
        )
    return list(by_holder.values())


def _key(conflict: Conflict) -> tuple[str, int | None, int | None, int | None]:
    return (conflict.kind, conflict.other_id, conflict.end_customer_id, conflict.holder_id)


def _store_conflicts(
    registration: Registration, found: list[Conflict], now: dt.datetime
) -> list[Conflict]:
    """Replace ``registration``'s open conflicts with ``found`` (kept rows keep their ids;
    resolved ones stay as decided). The conflicts that stand: open and upheld."""
    existing = list(registration.conflicts.all())
    open_rows = {_key(c): c for c in existing if c.resolution == Conflict.Resolution.OPEN}
    resolved = {_key(c): c for c in existing if c.resolution != Conflict.Resolution.OPEN}
    standing = []
    for conflict in found:
        key = _key(conflict)
        if key in resolved:
            if resolved[key].resolution == Conflict.Resolution.UPHELD:
                standing.append(resolved[key])
            continue
        row = open_rows.pop(key, None)
        if row is None:
            conflict.registration = registration
            conflict.found_at = now
            conflict.save(force_insert=True)
            standing.append(conflict)
            continue
        changed = {
            name: getattr(conflict, name)
            for name in ("score", "reasons", "blocking")
            if getattr(row, name) != getattr(conflict, name)
        }
        for name, value in changed.items():
            setattr(row, name, value)
        if changed:
            row.save(update_fields=list(changed))
        standing.append(row)
    if open_rows:
        Conflict.objects.filter(pk__in=[c.pk for c in open_rows.values()]).delete()
    return standing


def _redetect(
    registration: Registration, rules: EngagementRules, now: dt.datetime
) -> list[Conflict]:
    probe = Probe.of(registration, registration.product_lines())
    return _store_conflicts(registration, detect(probe, rules=rules, today=_today(now)), now)


def _refresh_neighbours(
    registration: Registration, rules: EngagementRules, now: dt.datetime
) -> None:
    """Detect again for the pending registrations ``registration`` conflicts with, so each
    side shows the other. Best effort: one locked by a concurrent decision is skipped (it
    detects again itself when decided), which also keeps lock orders from crossing."""
    ids = Conflict.objects.filter(
        registration=registration,
        kind=Conflict.Kind.REGISTRATION,
        other__status__in=(Status.SUBMITTED, Status.RETURNED),
    ).values_list("other_id", flat=True)
    neighbours = (
        Registration.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .filter(pk__in=list(ids))
        .select_related("organisation")
        .order_by("pk")
    )
    for neighbour in neighbours:
        _redetect(neighbour, rules, now)


def _refresh_conflicts_against(
    registration: Registration, rules: EngagementRules, today: dt.date
) -> None:
    """Other registrations' open conflicts with ``registration`` after its status changed:
    gone when it is no longer open, blocking when it is now protected."""
    rows = Conflict.objects.filter(
        other=registration, resolution=Conflict.Resolution.OPEN
    ).select_related("registration")
    if (
        registration.status in CLOSED
        or not Registration.objects.filter(_open_q(today), pk=registration.pk).exists()
    ):
        rows.delete()
        return
    for row in rows:
        blocking = registration.status == Status.APPROVED or (
            rules.policy == EngagementRules.Policy.FIRST_TO_FILE
            and _filed_before(registration, row.registration.submitted_at, row.registration_id)
        )
        if row.blocking != blocking:
            row.blocking = blocking
            row.save(update_fields=["blocking"])


def conflict_inputs(conflicts: Iterable[Conflict]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "kind": c.kind,
            "score": c.score,
            "blocking": c.blocking,
            "resolution": c.resolution,
            "reasons": c.reason_codes(),
        }
        for c in conflicts
    ]


def rules_snapshot(rules: EngagementRules) -> dict[str, Any]:
    values = snapshot(rules, [name for name in RULE_FIELDS if name != "tier_program"])
    values["tier_program"] = rules.tier_program.code if rules.tier_program_id else None
    return values


# -- notifications -------------------------------------------------------------------------------
def _approvers(organisation: Organisation) -> list[User]:
    """Who decides ``organisation``'s registrations: its account manager, else the
    channel managers."""
    manager = organisation.account_manager
    if manager is not None and manager.is_active:
        return [manager]
    return list(
        User.objects.filter(
            is_active=True, organisation__is_vendor=True, roles__code="channel_manager"
        )
        .distinct()
        .order_by("pk")
    )


def _note(recipient: Any, registration: Registration, subject: Any, body: Any) -> Notification:
    """A notification in the recipient's language; ``subject``/``body`` are callables run
    with that language active."""
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        return Notification(
            recipient=recipient,
            subject=subject(),
            body=body(),
            link=f"/deals/{registration.pk}/",
            organisation=registration.organisation,
        )


def _notify_registrant(registration: Registration, actor: Any, subject: Any, body: Any) -> None:
    recipient = registration.registered_by
    if recipient is None or not recipient.is_active or recipient.pk == getattr(actor, "pk", None):
        return
    notify_many([_note(recipient, registration, subject, body)])


def _lines_text(registration: Registration) -> str:
    return ", ".join(registration.product_lines())


def _notify_approvers(registration: Registration, conflicts: list[Conflict]) -> None:
    def subject() -> str:
        return _("Deal registration %(number)s awaits your decision") % {
            "number": registration.number
        }

    def body() -> str:
        text = _("%(organisation)s registered %(customer)s (%(lines)s); decision due %(due)s.") % {
            "organisation": registration.organisation.name,
            "customer": registration.customer_name,
            "lines": _lines_text(registration),
            "due": registration.approval_due.strftime("%Y-%m-%d %H:%M UTC")
            if registration.approval_due
            else "-",
        }
        if conflicts:
            text += " " + _("Possible conflicts: %(count)s.") % {"count": len(conflicts)}
        return text

    notify_many(
        [_note(user, registration, subject, body) for user in _approvers(registration.organisation)]
    )


# -- protection ------------------------------------------------------------------------------------
def protection_window(
    registration: Registration, rules: EngagementRules, today: dt.date
) -> tuple[int, str]:
    """(days, tier code): the tier's window in the rules' tier program, else the default."""
    tier = ""
    if rules.tier_program_id:
        membership = Membership.objects.filter(
            program_id=rules.tier_program_id, organisation_id=registration.organisation_id
        ).first()
        tier = membership.effective_tier(today) if membership is not None else ""
        days = (rules.tier_protection_days or {}).get(tier) if tier else None
        if isinstance(days, int) and not isinstance(days, bool) and days > 0:
            return days, tier
    return rules.protection_days, tier


def _leave_open(registration: Registration) -> None:
    """A registration that is no longer approved protects nothing; a closed one is no
    longer a conflict candidate."""
    RegistrationLine.objects.filter(registration=registration, protected=True).update(
        protected=False
    )
    if registration.status in CLOSED:
        matching.unindex_names([registration.pk])


def _transition(
    registration: Registration,
    new: str,
    *,
    actor: Any,
    reason: str,
    now: dt.datetime,
    rules: EngagementRules,
    fields: Mapping[str, Any] | None = None,
) -> Registration:
    """Move ``registration`` (locked) to ``new``: save, audit, un-protect when it leaves
    approval, update others' conflicts with it."""
    _ensure_transition(registration, new)
    old = registration.status
    registration.status = new
    extra = dict(fields or {})
    for name, value in extra.items():
        setattr(registration, name, value)
    registration.save(update_fields=["status", "updated_at", *extra])
    if old == Status.APPROVED or new in CLOSED:
        _leave_open(registration)
    record(
        actor=actor,
        obj=registration,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": [old, new]},
        reason=reason,
    )
    _refresh_conflicts_against(registration, rules, _today(now))
    return registration


def _expire(registration: Registration, rules: EngagementRules, now: dt.datetime) -> None:
    """Protection ended (locked ``registration``): expired, audited, the registrant told."""
    _transition(
        registration,
        Status.EXPIRED,
        actor=None,
        reason=_("The protection window ended on %(until)s.")
        % {"until": registration.protected_until.isoformat()},
        now=now,
        rules=rules,
    )
    _notify_registrant(
        registration,
        None,
        lambda: _("Deal registration %(number)s expired") % {"number": registration.number},
        lambda: (
            _("The protection of %(customer)s ended on %(until)s.")
            % {
                "customer": registration.customer_name,
                "until": registration.protected_until.isoformat(),
            }
        ),
    )


def _expire_ended(registration: Registration, rules: EngagementRules, now: dt.datetime) -> None:
    """Expire now, rather than at the timer's next run, the registrations of the same end
    customer whose protection has ended: their lines still hold the unique index."""
    ended = (
        Registration.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .filter(
            end_customer_id=registration.end_customer_id,
            status=Status.APPROVED,
            protected_until__lt=_today(now),
        )
        .exclude(pk=registration.pk)
        .select_related("organisation", "registered_by")
        .order_by("pk")
    )
    for stale in ended:
        _expire(stale, rules, now)


def _approve(
    registration: Registration,
    *,
    actor: Any,
    rules: EngagementRules,
    now: dt.datetime,
    reason: str,
    decision: dict[str, Any],
    informed: Any = None,
) -> Registration:
    """Approve and protect; the database refuses a second protected registration of the
    same end customer and product line (nothing is changed then). The registrant is told,
    unless they are the one acting (``actor``, or ``informed``: who submitted it)."""
    _ensure_transition(registration, Status.APPROVED)
    today = _today(now)
    if registration.end_customer_id:
        _expire_ended(registration, rules, now)
    days, tier = protection_window(registration, rules, today)
    decision["inputs"]["protection"] = {"days": days, "tier": tier}
    saved = {
        name: getattr(registration, name)
        for name in ("status", "protected_until", "decided_at", "decided_by", "decision")
    }
    registration.status = Status.APPROVED
    registration.protected_until = today + dt.timedelta(days=days)
    registration.decided_at = now
    registration.decided_by = actor if getattr(actor, "pk", None) else None
    registration.decision = decision
    registration.reminded_at = None
    try:
        with transaction.atomic():
            registration.save(
                update_fields=[
                    "status",
                    "protected_until",
                    "decided_at",
                    "decided_by",
                    "decision",
                    "reminded_at",
                    "updated_at",
                ]
            )
            # One line at a time in a fixed order: concurrent approvals queue, never deadlock.
            for line in registration.lines.order_by("product_line"):
                line.protected = True
                line.end_customer_id = registration.end_customer_id
                line.save(update_fields=["protected", "end_customer"])
    except IntegrityError:
        for name, value in saved.items():
            setattr(registration, name, value)
        raise errors.Conflict(
            _(
                "Another registration of this end customer already holds protection for "
                "one of these product lines."
            )
        ) from None
    record(
        actor=actor,
        obj=registration,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": [saved["status"], Status.APPROVED]},
        reason=reason,
    )
    _refresh_conflicts_against(registration, rules, today)
    _refresh_neighbours(registration, rules, now)
    _notify_registrant(
        registration,
        informed or actor,
        lambda: _("Deal registration %(number)s approved") % {"number": registration.number},
        lambda: (
            _("%(customer)s is protected for you until %(until)s.")
            % {
                "customer": registration.customer_name,
                "until": registration.protected_until.isoformat(),
            }
        ),
    )
    return registration


def _decide_submission(
    registration: Registration,
    *,
    actor: Any,
    rules: EngagementRules,
    verdict: gates.Verdict,
    conflicts: list[Conflict],
    now: dt.datetime,
    fresh: bool = True,
) -> Registration:
    """Auto-approve when nothing stands in the way, else leave it for a decider: a fresh
    (re)submission gets a new decision deadline and tells the approvers."""
    inputs = {
        "conflicts": conflict_inputs(conflicts),
        "gate": {"level": verdict.level, "reasons": list(verdict.reasons)},
        "rules": rules_snapshot(rules),
    }
    why = []
    if conflicts:
        why.append("conflicts")
    if verdict.level != "none":
        why.append(f"gate_{verdict.level}")
    if not rules.auto_approve:
        why.append("auto_approve_off")
    if rules.policy != EngagementRules.Policy.FIRST_TO_FILE:
        why.append("policy_manual")
    if not why:
        try:
            with transaction.atomic():
                return _approve(
                    registration,
                    actor=None,
                    rules=rules,
                    now=now,
                    reason=_("Approved automatically: no conflict, and the standing allows it."),
                    decision={"rule": "auto_approve", "inputs": inputs},
                    informed=actor,
                )
        except errors.Conflict:
            # A concurrent registration won the protection since detection ran: it is
            # committed now, so detecting again finds it.
            conflicts = _redetect(registration, rules, now)
            inputs["conflicts"] = conflict_inputs(conflicts)
            why.append("protected_meanwhile")
    registration.decision = {"rule": "manual_review", "why": why, "inputs": inputs}
    if fresh or registration.approval_due is None:
        registration.approval_due = now + dt.timedelta(hours=rules.approval_sla_hours)
        registration.reminded_at = None
    registration.save(update_fields=["approval_due", "reminded_at", "decision", "updated_at"])
    if fresh:
        _notify_approvers(registration, conflicts)
    return registration


# -- registration services ---------------------------------------------------------------
def _organisation_for(actor: Any, organisation: Any) -> Organisation:
    """The organisation a registration is for (read afresh): a partner's own (or a child),
    the vendor or any visible partner for staff. Another organisation answers like a
    missing one."""
    if organisation is None:
        if actor is not None and actor.is_partner:
            organisation = actor.organisation_id
        else:
            organisation = Organisation.objects.vendor()
    if actor is None:
        pk = getattr(organisation, "pk", organisation)
        return Organisation.objects.select_related("account_manager").get(pk=pk)
    pk = getattr(organisation, "pk", organisation)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = (
        Organisation.objects.restrict(actor, "view")
        .select_related("account_manager")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if found is None:
        raise errors.ValidationError({"organisation": [_("Unknown organisation.")]})
    return found


def _gate(organisation: Organisation) -> gates.Verdict:
    verdict = gates.check("deal_registration", organisation.pk)
    if verdict.blocked:
        raise errors.ValidationError(
            {
                "organisation": [
                    _("%(organisation)s may not register deals now: %(reasons)s")
                    % {
                        "organisation": organisation.name,
                        "reasons": " ".join(verdict.reasons)
                        or _("the scorecard standing blocks it."),
                    }
                ]
            }
        )
    return verdict


def _write_lines(registration: Registration, lines: set[str]) -> None:
    current = set(registration.lines.values_list("product_line", flat=True))
    registration.lines.filter(product_line__in=current - lines).delete()
    RegistrationLine.objects.bulk_create(
        [
            RegistrationLine(
                registration=registration,
                product_line=line,
                end_customer_id=registration.end_customer_id,
            )
            for line in sorted(lines - current)
        ]
    )
    registration.lines.exclude(end_customer_id=registration.end_customer_id).update(
        end_customer_id=registration.end_customer_id
    )


@transaction.atomic(durable=True)
def submit_registration(
    *,
    actor: Any,
    data: Mapping[str, Any],
    organisation: Any = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Register a deal: resolve its end customer, find its conflicts, and auto-approve it
    when the rules allow, else queue it for a decision (approvers notified)."""
    now = _now(now)
    if actor is not None and not actor.has_perm("deals.add_registration"):
        raise errors.PermissionDenied
    organisation = _organisation_for(actor, organisation)
    cleaned = _clean_registration(actor, data, current=None, partial=False)
    verdict = _gate(organisation)
    rules = EngagementRules.current()
    fields = dict(cleaned.fields)
    fields.setdefault("currency", organisation.currency or settings.ACCORD_BASE_CURRENCY)
    registration = Registration(
        organisation=organisation,
        registered_by=actor if getattr(actor, "pk", None) else None,
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        submitted_at=now,
        created_at=now,
        **fields,
    )
    _set_keys(registration)
    validate(registration)
    registration.end_customer = _resolve_end_customer(registration)
    registration.save(force_insert=True)
    registration.number = f"DR-{registration.pk:06d}"
    registration.save(update_fields=["number"])
    _write_lines(registration, cleaned.lines or set())
    if cleaned.products:
        registration.products.set(cleaned.products)
    record(
        actor=actor,
        obj=registration,
        action=AuditEntry.Action.CREATE,
        changes={
            k: [None, v]
            for k, v in snapshot(
                registration, ["number", "organisation", *sorted(cleaned.fields)]
            ).items()
            if v not in (None, "", [])
        }
        | {"product_lines": [None, sorted(cleaned.lines or ())]},
    )
    matching.index_names([registration])
    conflicts = _redetect(registration, rules, now)
    registration = _decide_submission(
        registration, actor=actor, rules=rules, verdict=verdict, conflicts=conflicts, now=now
    )
    _refresh_neighbours(registration, rules, now)
    ensure_still_visible(actor, registration)
    return registration


@transaction.atomic(durable=True)
def update_registration(
    *,
    actor: Any,
    registration: Registration,
    data: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> Registration:
    """Change a submitted or returned registration (a returned one is submitted again);
    conflicts are detected again and the submission rules applied again."""
    now = _now(now)
    ensure_permitted(actor, "change", registration)
    registration = _locked(registration)
    if registration.status not in (Status.SUBMITTED, Status.RETURNED):
        raise errors.InvalidTransition(
            _("Only a submitted or returned registration can be changed."),
            current=registration.status,
            requested=Status.SUBMITTED,
        )
    cleaned = _clean_registration(actor, data, current=registration, partial=True)
    verdict = _gate(registration.organisation)
    rules = EngagementRules.current()
    before = snapshot(registration, list(cleaned.fields))
    old_lines = registration.product_lines()
    for name, value in cleaned.fields.items():
        setattr(registration, name, value)
    _set_keys(registration)
    validate(registration)
    registration.end_customer = _resolve_end_customer(registration)
    registration.save()
    if cleaned.lines is not None:
        _write_lines(registration, cleaned.lines)
    else:
        _write_lines(registration, set(old_lines))
    if cleaned.products is not None:
        registration.products.set(cleaned.products)
    changes = diff(before, snapshot(registration, list(cleaned.fields)))
    if cleaned.lines is not None and sorted(cleaned.lines) != old_lines:
        changes["product_lines"] = [old_lines, sorted(cleaned.lines)]
    if changes:
        record(actor=actor, obj=registration, action=AuditEntry.Action.UPDATE, changes=changes)
    resubmitted = registration.status == Status.RETURNED
    if resubmitted:
        _transition(
            registration,
            Status.SUBMITTED,
            actor=actor,
            reason=_("Resubmitted with the information asked for."),
            now=now,
            rules=rules,
        )
    matching.index_names([registration])
    conflicts = _redetect(registration, rules, now)
    registration = _decide_submission(
        registration,
        actor=actor,
        rules=rules,
        verdict=verdict,
        conflicts=conflicts,
        now=now,
        fresh=resubmitted,
    )
    _refresh_neighbours(registration, rules, now)
    ensure_still_visible(actor, registration)
    return registration


def check_similar(
    *, actor: Any, data: Mapping[str, Any], now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The conflicts a submission of ``data`` would find, redacted for ``actor``; nothing
    is written. Only the name is needed; what is invalid so far is ignored."""
    from accord.deals.selectors import conflict_view

    if actor is not None and not actor.has_perm("deals.add_registration"):
        raise errors.PermissionDenied
    if not isinstance(data, Mapping):
        raise errors.ValidationError({"data": [_("Give the registration as an object.")]})
    try:
        organisation = _organisation_for(actor, data.get("organisation"))
    except errors.ValidationError:
        organisation = _organisation_for(actor, None)

    def text(name: str, limit: int) -> str:
        try:
            return _text(data.get(name), limit)
        except ValueError:
            return ""

    name_key = matching.normalise_name(text("customer_name", 200))[:200]
    tax_key = matching.normalise_tax_id(text("customer_tax_id", 50))[:50]
    domain_key = matching.normalise_domain(text("customer_domain", 253))[:253]
    country = text("customer_country", 2).upper()
    lines = set()
    raw_lines = data.get("product_lines")
    if isinstance(raw_lines, list | tuple):
        lines = {line.strip() for line in raw_lines if isinstance(line, str) and line.strip()}
    lines = set(_canonical_lines(lines).values())
    try:
        product_ids = _ids(data.get("products"))
    except ValueError:
        product_ids = []
    lines |= set(
        Product.objects.filter(pk__in=product_ids)
        .exclude(product_line="")
        .values_list("product_line", flat=True)
    )
    try:
        territory_id = _object_id(data.get("territory"))
    except (TypeError, ValueError):
        territory_id = None
    if not (name_key or tax_key or domain_key):
        return []
    customer = _find_end_customer(tax_key, domain_key, name_key, country)
    probe = Probe(
        organisation=organisation,
        name_key=name_key,
        tax_key=tax_key,
        domain_key=domain_key,
        lines=lines,
        territory_id=territory_id,
        end_customer_id=customer.pk if customer is not None else None,
    )
    rules = EngagementRules.current()
    found = detect(probe, rules=rules, today=_today(_now(now)))
    return [conflict_view(actor, conflict, rules=rules) for conflict in found]


@transaction.atomic(durable=True)
def approve(
    *, actor: Any, registration: Registration, reason: str = "", now: dt.datetime | None = None
) -> Registration:
    """Approve a submitted registration: refused while an open conflict blocks it (found
    again now) or while another registration holds the same customer and line."""
    now = _now(now)
    _ensure_decider(actor, registration)
    reason = _reason_optional(reason)
    registration = _locked(registration)
    _ensure_transition(registration, Status.APPROVED)
    rules = EngagementRules.current()
    conflicts = _redetect(registration, rules, now)
    blocking = [c for c in conflicts if c.blocking and c.resolution == Conflict.Resolution.OPEN]
    if blocking:
        raise errors.Conflict(
            _(
                "%(count)s blocking conflict(s) must be resolved first (dismissed if they are "
                "not conflicts)."
            )
            % {"count": len(blocking)}
        )
    decision = {
        "rule": "manual_approval",
        "reason": reason,
        "inputs": {"conflicts": conflict_inputs(conflicts), "rules": rules_snapshot(rules)},
    }
    return _approve(
        registration, actor=actor, rules=rules, now=now, reason=reason, decision=decision
    )


def _decide(
    registration: Registration,
    new: str,
    *,
    actor: Any,
    reason: str,
    now: dt.datetime,
    rule: str,
    subject: Any,
) -> Registration:
    rules = EngagementRules.current()
    decision = {
        "rule": rule,
        "reason": reason,
        "inputs": {
            "conflicts": conflict_inputs(registration.conflicts.all()),
            "previous": registration.decision,
        },
    }
    _transition(
        registration,
        new,
        actor=actor,
        reason=reason,
        now=now,
        rules=rules,
        fields={
            "decided_at": now,
            "decided_by": actor if getattr(actor, "pk", None) else None,
            "decision": decision,
        },
    )
    _notify_registrant(
        registration,
        actor,
        lambda: subject() % {"number": registration.number},
        lambda: _("Reason: %(reason)s") % {"reason": reason},
    )
    return registration


@transaction.atomic(durable=True)
def reject(
    *, actor: Any, registration: Registration, reason: str, now: dt.datetime | None = None
) -> Registration:
    """Reject a submitted or returned registration, with a reason."""
    now = _now(now)
    _ensure_decider(actor, registration)
    reason = _reason_required(reason)
    registration = _locked(registration)
    return _decide(
        registration,
        Status.REJECTED,
        actor=actor,
        reason=reason,
        now=now,
        rule="rejected",
        subject=lambda: _("Deal registration %(number)s rejected"),
    )


@transaction.atomic(durable=True)
def return_for_info(
    *, actor: Any, registration: Registration, reason: str, now: dt.datetime | None = None
) -> Registration:
    """Send a submitted registration back to its registrant, saying what is missing."""
    now = _now(now)
    _ensure_decider(actor, registration)
    reason = _reason_required(reason)
    registration = _locked(registration)
    return _decide(
        registration,
        Status.RETURNED,
        actor=actor,
        reason=reason,
        now=now,
        rule="returned",
        subject=lambda: _("Deal registration %(number)s needs more information"),
    )


@transaction.atomic(durable=True)
def resolve_conflict(
    *, actor: Any, conflict: Conflict, resolution: str, reason: str, now: dt.datetime | None = None
) -> Conflict:
    """Decide an open conflict: ``dismissed`` (not a conflict) or ``upheld``."""
    now = _now(now)
    if actor is not None:
        ensure_permitted(actor, "view", conflict)
        if actor.is_partner or not (
            actor.has_perm("deals.decide_registration") and actor.has_perm("deals.change_conflict")
        ):
            raise errors.PermissionDenied
    if resolution not in (Conflict.Resolution.DISMISSED, Conflict.Resolution.UPHELD):
        raise errors.ValidationError({"resolution": [_("Choose dismissed or upheld.")]})
    reason = _reason_required(reason)
    conflict = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.resolution != Conflict.Resolution.OPEN:
        raise errors.InvalidTransition(
            _("This conflict is already resolved."),
            current=conflict.resolution,
            requested=resolution,
        )
    conflict.resolution = resolution
    conflict.resolved_by = actor if getattr(actor, "pk", None) else None
    conflict.resolved_at = now
    conflict.resolution_reason = reason
    conflict.save(update_fields=["resolution", "resolved_by", "resolved_at", "resolution_reason"])
    record(
        actor=actor,
        obj=conflict,
        action=AuditEntry.Action.TRANSITION,
        changes={"resolution": [Conflict.Resolution.OPEN, resolution]},
        reason=reason,
    )
    return conflict


@transaction.atomic(durable=True)
def request_extension(
    *, actor: Any, registration: Registration, reason: str, now: dt.datetime | None = None
) -> Registration:
    """Ask once for more protection time on an approved registration."""
    now = _now(now)
    ensure_permitted(actor, "change", registration)
    reason = _reason_required(reason)
    registration = _locked(registration)
    if registration.status != Status.APPROVED:
        raise errors.InvalidTransition(
            _("Only an approved registration can be extended."),
            current=registration.status,
            requested="extension",
        )
    if registration.extension_requested_at is not None:
        raise errors.Conflict(_("An extension can be asked for only once."))
    registration.extension_requested_at = now
    registration.extension_reason = reason
    registration.save(update_fields=["extension_requested_at", "extension_reason", "updated_at"])
    record(
        actor=actor,
        obj=registration,
        action=AuditEntry.Action.UPDATE,
        changes={"extension_requested_at": [None, now.isoformat()]},
        reason=reason,
    )

    def subject() -> str:
        return _("Extension requested for %(number)s") % {"number": registration.number}

    def body() -> str:
        return _("%(organisation)s asks to extend the protection of %(customer)s: %(reason)s") % {
            "organisation": registration.organisation.name,
            "customer": registration.customer_name,
            "reason": reason,
        }

    notify_many(
        [
            _note(user, registration, subject, body)
            for user in _approvers(registration.organisation)
            if user.pk != getattr(actor, "pk", None)
        ]
    )
    return registration


@transaction.atomic(durable=True)
def decide_extension(
    *,
    actor: Any,
    registration: Registration,
    grant: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Registration:
    """Grant (protection moves on by the rules' extension days) or refuse the request."""
    now = _now(now)
    _ensure_decider(actor, registration)
    reason = _reason_optional(reason)
    registration = _locked(registration)
    if (
        registration.status != Status.APPROVED
        or registration.extension_requested_at is None
        or registration.extension_decided_at is not None
    ):
        raise errors.InvalidTransition(
            _("There is no pending extension request."),
            current=registration.status,
            requested="extension",
        )
    rules = EngagementRules.current()
    before = snapshot(registration, ["protected_until", "extended", "extension_decided_at"])
    registration.extension_decided_at = now
    if grant:
        registration.extended = True
        registration.protected_until = registration.protected_until + dt.timedelta(
            days=rules.extension_days
        )
        registration.reminded_at = None  # a reminder for the new end
    registration.save(
        update_fields=[
            "extension_decided_at",
            "extended",
            "protected_until",
            "reminded_at",
            "updated_at",
        ]
    )
    after = snapshot(registration, ["protected_until", "extended", "extension_decided_at"])
    record(
        actor=actor,
        obj=registration,
        action=AuditEntry.Action.UPDATE,
        changes=diff(before, after),
        reason=reason,
    )
    if grant:
        _notify_registrant(
            registration,
            actor,
            lambda: _("Extension granted for %(number)s") % {"number": registration.number},
            lambda: (
                _("Protection now lasts until %(until)s.")
                % {"until": registration.protected_until.isoformat()}
            ),
        )
    else:
        _notify_registrant(
            registration,
            actor,
            lambda: _("Extension refused for %(number)s") % {"number": registration.number},
            lambda: (
                _("Protection still ends on %(until)s. %(reason)s")
                % {"until": registration.protected_until.isoformat(), "reason": reason}
            ),
        )
    return registration


@transaction.atomic(durable=True)
def close_registration(
    *,
    actor: Any,
    registration: Registration,
    outcome: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Registration:
    """Close an approved registration as won or lost."""
    now = _now(now)
    ensure_permitted(actor, "change", registration)
    if outcome not in (Status.WON, Status.LOST):
        raise errors.ValidationError({"outcome": [_("Choose won or lost.")]})
    reason = _reason_optional(reason)
    registration = _locked(registration)
    return _transition(
        registration,
        outcome,
        actor=actor,
        reason=reason,
        now=now,
        rules=EngagementRules.current(),
    )


@transaction.atomic(durable=True)
def withdraw(
    *, actor: Any, registration: Registration, reason: str = "", now: dt.datetime | None = None
) -> Registration:
    """The registrant gives the opportunity up (pending or approved)."""
    now = _now(now)
    ensure_permitted(actor, "change", registration)
    reason = _reason_optional(reason)
    registration = _locked(registration)
    return _transition(
        registration,
        Status.WITHDRAWN,
        actor=actor,
        reason=reason,
        now=now,
        rules=EngagementRules.current(),
    )


# -- rules and named accounts ----------------------------------------------------------------------
@transaction.atomic(durable=True)
def update_rules(*, actor: Any, data: Mapping[str, Any]) -> EngagementRules:
    """Change the rules of engagement (only the keys given)."""
    _ensure_manager(actor, "deals.change_engagementrules")
    if not isinstance(data, Mapping):
        raise errors.ValidationError({"data": [_("Give the rules as an object.")]})
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise errors.ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    EngagementRules.current()
    rules = EngagementRules.objects.select_for_update().get(pk=1)
    values = dict(data)
    failures: dict[str, list[str]] = {}
    if "tier_program" in values:
        program = values["tier_program"]
        if program in (None, ""):
            values["tier_program"] = None
        elif isinstance(program, Program):
            values["tier_program"] = program
        else:
            found = Program.objects.filter(code=str(program)).first()
            if found is None and str(program).isdigit():
                found = Program.objects.filter(pk=int(program)).first()
            if found is None:
                failures["tier_program"] = [_("Unknown program.")]
            values["tier_program"] = found
    if "tier_protection_days" in values:
        windows = values["tier_protection_days"] or {}
        if not isinstance(windows, Mapping):
            failures["tier_protection_days"] = [_("Give tier codes and days.")]
        else:
            cleaned = {}
            for code, days in windows.items():
                if (
                    not isinstance(code, str)
                    or not code.strip()
                    or len(code) > 40
                    or NUL in code
                    or isinstance(days, bool)
                    or not isinstance(days, int)
                    or not 1 <= days <= 36_500
                ):
                    failures["tier_protection_days"] = [
                        _("Give each tier code a whole number of days from 1 to 36500.")
                    ]
                    break
                cleaned[code.strip()] = days
            values["tier_protection_days"] = cleaned
    for name in (
        "require_product_overlap",
        "check_territories",
        "check_named_accounts",
        "auto_approve",
        "reveal_conflicts",
    ):
        if name in values and not isinstance(values[name], bool):
            failures[name] = [_("Give true or false.")]
    for name in (
        "name_threshold",
        "approval_sla_hours",
        "protection_days",
        "extension_days",
        "expiry_reminder_days",
    ):
        if name not in values:
            continue
        try:
            if isinstance(values[name], bool):
                raise ValueError
            values[name] = int(str(values[name]).strip())
        except (TypeError, ValueError):
            failures[name] = [_("Enter a whole number.")]
            continue
        if not 0 <= values[name] <= 36_500:
            failures[name] = [_("Enter a whole number from 0 to 36500.")]
    if failures:
        raise errors.ValidationError(failures)
    return apply_changes(actor=actor, obj=rules, data=values)


@transaction.atomic(durable=True)
def save_end_customer(
    *, actor: Any, data: Mapping[str, Any], end_customer: EndCustomer | None = None
) -> EndCustomer:
    """Create or change an end customer (a direct-sales named account when
    ``named_account``). Keys: name, tax_id, domain, country, region, city, territory,
    named_account, account_owner (``territory_id``/``account_owner_id`` also accepted)."""
    _ensure_manager(actor, "deals.change_endcustomer" if end_customer else "deals.add_endcustomer")
    if not isinstance(data, Mapping):
        raise errors.ValidationError({"data": [_("Give the end customer as an object.")]})
    failures: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(END_CUSTOMER_KEYS)):
        failures[name] = [_("Unknown field.")]
    values: dict[str, Any] = {}
    limits = {"name": 200, "tax_id": 50, "domain": 253, "region": 100, "city": 100}
    for name, limit in limits.items():
        if name in data:
            try:
                values[name] = _text(data[name], limit)
            except ValueError as error:
                failures[name] = [str(error)]
    if (end_customer is None or "name" in data) and not values.get("name"):
        failures.setdefault("name", [_("Give the customer's name.")])
    if "country" in data:
        country = data["country"] or ""
        if not isinstance(country, str) or not re.fullmatch(r"([A-Za-z]{2})?", country.strip()):
            failures["country"] = [_("Use a two-letter ISO 3166 country code.")]
        else:
            values["country"] = country.strip().upper()
    if values.get("domain") and not matching.normalise_domain(values["domain"]):
        failures["domain"] = [_("Enter a website domain such as example.com.")]
    for key in ("territory", "territory_id"):
        if key in data:
            try:
                pk = _object_id(data[key])
            except (TypeError, ValueError):
                pk = -1
            territory = None if pk is None else Territory.objects.filter(pk=pk).first()
            if pk is not None and territory is None:
                failures[key] = [_("Unknown territory.")]
            values["territory"] = territory
    for key in ("account_owner", "account_owner_id"):
        if key in data:
            try:
                pk = _object_id(data[key])
            except (TypeError, ValueError):
                pk = -1
            owner = (
                None
                if pk is None
                else User.objects.filter(
                    pk=pk, is_active=True, organisation__is_vendor=True
                ).first()
            )
            if pk is not None and owner is None:
                failures[key] = [_("Choose an active vendor user.")]
            values["account_owner"] = owner
    if "named_account" in data:
        if not isinstance(data["named_account"], bool):
            failures["named_account"] = [_("Give true or false.")]
        values["named_account"] = data["named_account"]
    if failures:
        raise errors.ValidationError(failures)
    fields: dict[str, Any] = {}
    for key, value in values.items():
        fields[END_CUSTOMER_KEYS[key]] = value
    if "name" in values:
        fields["name_key"] = matching.normalise_name(values["name"])[:200]
    if "tax_id" in values:
        fields["tax_key"] = matching.normalise_tax_id(values["tax_id"])[:50]
    if "domain" in values:
        fields["domain_key"] = matching.normalise_domain(values["domain"])[:253]
    target = end_customer or EndCustomer()
    merged = {
        name: fields.get(name, getattr(target, name))
        for name in ("tax_key", "domain_key", "name_key", "country")
    }
    clashes = EndCustomer.objects.exclude(pk=target.pk) if target.pk else EndCustomer.objects
    if merged["tax_key"] and clashes.filter(tax_key=merged["tax_key"]).exists():
        failures["tax_id"] = [_("Another end customer has this tax / registration id.")]
    if merged["domain_key"] and clashes.filter(domain_key=merged["domain_key"]).exists():
        failures["domain"] = [_("Another end customer has this domain.")]
    if clashes.filter(name_key=merged["name_key"], country=merged["country"]).exists():
        failures["name"] = [_("Another end customer in this country has this name.")]
    if failures:
        name, messages = next(iter(failures.items()))
        raise errors.Conflict(messages[0], name)
    try:
        with transaction.atomic():
            if end_customer is None:
                customer = EndCustomer(**fields)
                validate(customer)
                customer.save(force_insert=True)
                record(
                    actor=actor,
                    obj=customer,
                    action=AuditEntry.Action.CREATE,
                    changes={
                        k: [None, v]
                        for k, v in snapshot(customer).items()
                        if v not in (None, "", [], False)
                    },
                )
                return customer
            customer = EndCustomer.objects.select_for_update().get(pk=end_customer.pk)
            return apply_changes(actor=actor, obj=customer, data=fields)
    except IntegrityError:
        raise errors.Conflict(
            _("Another end customer has this tax id, domain or name in this country.")
        ) from None


# -- timers ------------------------------------------------------------------------------
@transaction.atomic(durable=True)
def run_timers(now: dt.datetime | None = None) -> dict[str, int]:
    """Expire protection past its end, remind approvers of overdue decisions and
    registrants of protection ending soon; each reminder once. Idempotent."""
    now = _now(now)
    today = _today(now)
    rules = EngagementRules.current()
    done = {"expired": 0, "approval_reminders": 0, "expiry_reminders": 0}
    expiring = (
        Registration.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .filter(status=Status.APPROVED, protected_until__lt=today)
        .select_related("organisation", "registered_by")
        .order_by("pk")
    )
    for registration in expiring:
        _expire(registration, rules, now)
        done["expired"] += 1
    overdue = (
        Registration.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .filter(status=Status.SUBMITTED, approval_due__lte=now, reminded_at=None)
        .select_related("organisation", "organisation__account_manager")
        .order_by("pk")
    )
    notes = []
    for registration in overdue:
        for user in _approvers(registration.organisation):
            notes.append(
                _note(
                    user,
                    registration,
                    lambda r=registration: (
                        _("Deal registration %(number)s is overdue for a decision")
                        % {"number": r.number}
                    ),
                    lambda r=registration: (
                        _("%(organisation)s registered %(customer)s; the decision was due %(due)s.")
                        % {
                            "organisation": r.organisation.name,
                            "customer": r.customer_name,
                            "due": r.approval_due.strftime("%Y-%m-%d %H:%M UTC"),
                        }
                    ),
                )
            )
        Registration.objects.filter(pk=registration.pk).update(reminded_at=now)
        done["approval_reminders"] += 1
    ending = (
        Registration.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .filter(
            status=Status.APPROVED,
            protected_until__gte=today,
            protected_until__lte=today + dt.timedelta(days=rules.expiry_reminder_days),
            reminded_at=None,
        )
        .select_related("organisation", "registered_by")
        .order_by("pk")
    )
    for registration in ending:
        recipient = registration.registered_by
        if recipient is not None and recipient.is_active:
            notes.append(
                _note(
                    recipient,
                    registration,
                    lambda r=registration: (
                        _("Protection of %(number)s ends on %(until)s")
                        % {"number": r.number, "until": r.protected_until.isoformat()}
                    ),
                    lambda r=registration: (
                        _(
                            "Close %(customer)s as won or lost, or ask for an extension before "
                            "%(until)s."
                        )
                        % {"customer": r.customer_name, "until": r.protected_until.isoformat()}
                    ),
                )
            )
        Registration.objects.filter(pk=registration.pk).update(reminded_at=now)
        done["expiry_reminders"] += 1
    notify_many(notes)
    return done
