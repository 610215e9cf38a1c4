"""Writes of accord.leads: creating leads, routing them to a partner by the ordered rules,
the partner's acceptance within the SLA (or decline), recall of overdue offers, manual
assignment, closing, and the rules and settings. Each top-level service is one durable,
audited transaction."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.accounts.models import Role, User
from accord.core.errors import (
    Conflict,
    Http404,
    InvalidTransition,
    PermissionDenied,
    ValidationError,
)
from accord.core.models import AuditEntry, Notification
from accord.core.services import (
    apply_changes,
    create_audited,
    delete_audited,
    ensure_model_permitted,
    ensure_permitted,
    notify_many,
    record,
    snapshot,
    validate,
)
from accord.leads import tasks
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from accord.leads.routing import (
    WEIGHTS,
    Random,
    Router,
    load_tiers,
    manual_reason,
    sla_hours,
)
from accord.partners.models import Organisation, Territory, country_validator
from accord.programs.models import Program

LEAD_FIELDS = frozenset(
    {
        "company_name",
        "contact_name",
        "contact_email",
        "contact_phone",
        "country",
        "region",
        "city",
        "territory",
        "product_line",
        "value",
        "currency",
        "description",
        "external_key",
    }
)
RULE_FIELDS = frozenset({"id", "name", "kind", "required", "active", "params"})
SETTINGS_FIELDS = frozenset(
    {"acceptance_hours", "tier_program", "tier_acceptance_hours", "max_offers", "performance_days"}
)
MAX_RULES = 50
MAX_HOURS = 24 * 365
PARTNER_KINDS = [kind for kind in Organisation.Kind.values if kind != Organisation.Kind.VENDOR]


# -- helpers -------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _locked(lead: Lead) -> Lead:
    """The lead re-read under a row lock (PostgreSQL; SQLite serialises writers anyway)."""
    found = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("territory")
        .filter(pk=lead.pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


TRACKED = ("status", "assigned_to", "accept_by", "accepted_at", "closed_at", "territory")


def _snapshot(lead: Lead) -> dict[str, Any]:
    return snapshot(lead, TRACKED)


def _transition(*, actor: Any, lead: Lead, before: Mapping[str, Any], reason: str = "") -> None:
    """Audit the lead's status change (and whatever else changed with it)."""
    after = _snapshot(lead)
    changes = {
        name: [before.get(name), after[name]] for name in TRACKED if before.get(name) != after[name]
    }
    record(
        actor=actor, obj=lead, action=AuditEntry.Action.TRANSITION, changes=changes, reason=reason
    )


def _joined(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _reason(reason: Any, *, required: bool = True) -> str:
    """The stripped reason text; refused when missing (if required), not text, or holding
    NUL characters (PostgreSQL refuses them)."""
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({"reason": [_("Expected text.")]})
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": [_("Give a reason.")]})
    if "\x00" in reason:
        raise ValidationError({"reason": [_("Null characters are not allowed.")]})
    return reason


def _ensure_status(lead: Lead, allowed: Sequence[str], requested: str) -> None:
    if lead.status in allowed:
        return
    messages = {
        "routed": _("A lead that is “%(status)s” cannot be routed."),
        "accepted": _("A lead that is “%(status)s” cannot be accepted."),
        "declined": _("A lead that is “%(status)s” cannot be declined."),
        "assigned": _("A lead that is “%(status)s” cannot be assigned."),
        "closed": _("A lead that is “%(status)s” cannot be closed."),
    }
    raise InvalidTransition(
        messages[requested] % {"status": lead.get_status_display()},
        current=lead.status,
        requested=requested,
    )


def _ensure_own_offer(actor: Any, lead: Lead, action: str) -> None:
    """A partner acts only on leads assigned to its own organisation: another's is a 404,
    a child organisation's (visible to the parent) a 403."""
    ensure_permitted(actor, action, lead)
    if actor is not None and actor.is_partner and lead.assigned_to_id != actor.organisation_id:
        raise PermissionDenied


def _users_with(permission: str, **filters: Any) -> list[User]:
    """Active users holding ``permission`` through a role (roles are few: read them all)."""
    roles = [role.pk for role in Role.objects.all() if permission in (role.permissions or [])]
    return list(
        User.objects.filter(is_active=True, roles__in=roles, **filters).distinct().order_by("pk")
    )


def _notify(
    recipients: Sequence[User], lead: Lead, subject: Any, body: Any, *, organisation: Any = None
) -> None:
    """One notification per recipient, written in the recipient's language; ``subject`` and
    ``body`` are callables run under that language."""
    notes = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        with translation.override(user.language or django_settings.LANGUAGE_CODE):
            notes.append(
                Notification(
                    recipient=user,
                    subject=subject(),
                    body=body(),
                    link=f"/leads/{lead.pk}/",
                    organisation=organisation,
                )
            )
    notify_many(notes)


def _notify_offer(lead: Lead, organisation: Organisation) -> None:
    def subject() -> str:
        return _("New lead offered: %(company)s") % {"company": lead.company_name}

    def body() -> str:
        return _(
            "Lead %(number)s (%(company)s) is offered to %(organisation)s. Accept or decline "
            "it by %(deadline)s UTC, or it goes to another partner."
        ) % {
            "number": lead.number,
            "company": lead.company_name,
            "organisation": organisation.name,
            "deadline": lead.accept_by.strftime("%Y-%m-%d %H:%M"),
        }

    _notify(
        _users_with("leads.respond_lead", organisation=organisation),
        lead,
        subject,
        body,
        organisation=organisation,
    )


def _notify_manual(lead: Lead, trace: Mapping[str, Any]) -> None:
    creator = lead.created_by if lead.created_by_id else None
    managers = _users_with(
        "leads.route_lead", organisation__is_vendor=True, roles__code="channel_manager"
    )

    def subject() -> str:
        return _("Lead needs manual routing: %(company)s") % {"company": lead.company_name}

    def body() -> str:
        return _("Lead %(number)s (%(company)s) could not be routed automatically: %(reason)s") % {
            "number": lead.number,
            "company": lead.company_name,
            "reason": manual_reason(trace),
        }

    _notify([*([creator] if creator else []), *managers], lead, subject, body)


def _schedule_recall(lead: Lead) -> None:
    """The recall timer, enqueued once the offer is committed."""
    transaction.on_commit(partial(_enqueue_recall, lead.pk, lead.accept_by), robust=True)


def _enqueue_recall(lead_id: int, accept_by: dt.datetime) -> None:
    tasks.recall_lead.using(run_after=accept_by).enqueue(lead_id)


def _offer(
    *,
    actor: Any,
    lead: Lead,
    organisation_id: int,
    hours: int,
    now: dt.datetime,
    kind: str,
    trace: dict[str, Any],
    reason: str,
    before: Mapping[str, Any],
    why: str = "",
) -> Lead:
    lead.status = Lead.Status.OFFERED
    lead.assigned_to_id = organisation_id
    lead.offered_at = now
    lead.accept_by = now + dt.timedelta(hours=hours)
    lead.accepted_at = None
    lead.offers += 1
    lead.save()
    trace["sla_hours"] = hours
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=kind,
        organisation_id=organisation_id,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        trace=trace,
    )
    _transition(actor=actor, lead=lead, before=before, reason=_joined(why, reason))
    organisation = Organisation.objects.get(pk=organisation_id)
    _notify_offer(lead, organisation)
    _schedule_recall(lead)
    return lead


def _to_manual(
    *,
    actor: Any,
    lead: Lead,
    now: dt.datetime,
    trace: dict[str, Any],
    before: Mapping[str, Any],
    why: str = "",
) -> Lead:
    reason = manual_reason(trace)
    lead.status = Lead.Status.MANUAL
    lead.assigned_to = None
    lead.accept_by = None
    lead.accepted_at = None
    lead.save()
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=RoutingEvent.Kind.MANUAL,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        trace=trace,
    )
    _transition(actor=actor, lead=lead, before=before, reason=_joined(why, reason))
    _notify_manual(lead, trace)
    return lead


def _route(
    *,
    actor: Any,
    lead: Lead,
    now: dt.datetime,
    rng: Random | None,
    before: Mapping[str, Any],
    why: str = "",
) -> Lead:
    """Offer the (locked) lead to the partner the rules pick, or send it to manual review."""
    lead_settings = LeadSettings.current()
    if lead.offers >= lead_settings.max_offers:
        return _to_manual(
            actor=actor,
            lead=lead,
            now=now,
            trace={"steps": [], "result": "max_offers", "max_offers": lead_settings.max_offers},
            before=before,
            why=why,
        )
    rules = list(RoutingRule.objects.filter(active=True).order_by("position", "pk"))
    router = Router(lead=lead, settings=lead_settings, now=now, rng=rng or random.Random())
    outcome = router.run(rules)
    if outcome.territory is not None:
        lead.territory = outcome.territory
    if outcome.chosen is None:
        return _to_manual(
            actor=actor,
            lead=lead,
            now=now,
            trace=outcome.trace,
            before=before,
            why=why,
        )
    return _offer(
        actor=actor,
        lead=lead,
        organisation_id=outcome.chosen,
        hours=sla_hours(lead_settings, outcome.tier),
        now=now,
        kind=RoutingEvent.Kind.OFFERED,
        trace=outcome.trace,
        reason="",
        before=before,
        why=why,
    )


def _clean_lead_data(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    errors: dict[str, list[str]] = {}
    for key in set(data) - LEAD_FIELDS:
        errors[str(key)] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    for key in LEAD_FIELDS - {"territory", "value"}:
        if key in data:
            value = data[key]
            if value is None:
                value = None if key == "external_key" else ""
            elif not isinstance(value, str):
                errors[key] = [_("Expected text.")]
                continue
            else:
                value = value.strip()
            cleaned[key] = value
    if "country" in cleaned:
        cleaned["country"] = cleaned["country"].upper()
        if cleaned["country"]:
            try:
                country_validator(cleaned["country"])
            except ValidationError as error:
                errors["country"] = error.messages
    if "currency" in cleaned:
        cleaned["currency"] = cleaned["currency"].upper()
    if cleaned.get("external_key") == "":
        cleaned["external_key"] = None
    if "value" in data:
        raw = data["value"]
        try:
            if isinstance(raw, bool | float):
                raise InvalidOperation
            value = Decimal(str(raw if raw is not None else 0).strip() or "0")
            if not value.is_finite():
                raise InvalidOperation
            cleaned["value"] = value
        except (InvalidOperation, ValueError):
            errors["value"] = [_("Enter a number.")]
    if "territory" in data:
        raw = data["territory"]
        if raw in (None, ""):
            cleaned["territory"] = None
        else:
            territory = (
                raw
                if isinstance(raw, Territory)
                else Territory.objects.filter(pk=raw).first()
                if isinstance(raw, int) and not isinstance(raw, bool)
                else None
            )
            if territory is None:
                errors["territory"] = [_("Choose an existing territory.")]
            else:
                cleaned["territory"] = territory
    if errors:
        raise ValidationError(errors)
    return cleaned


# -- leads ---------------------------------------------------------------------------


@transaction.atomic(durable=True)
def create_lead(
    *,
    actor: Any,
    data: Mapping[str, Any],
    source: str = Lead.Source.UI,
    route: bool = True,
    now: dt.datetime | None = None,
) -> Lead:
    """Store a new lead (from the UI, the API or an import) and route it at once unless
    ``route`` is false."""
    ensure_model_permitted(actor, "add", Lead)
    now = _now(now)
    if source not in Lead.Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    lead = Lead(**_clean_lead_data(data), source=source)
    validate(lead)
    return _store(actor=actor, lead=lead, route=route, now=now)


def _store(*, actor: Any, lead: Lead, route: bool, now: dt.datetime) -> Lead:
    lead.created_by = actor if getattr(actor, "pk", None) else None
    lead.created_at = now
    lead.save(force_insert=True)
    record(
        actor=actor,
        obj=lead,
        action=AuditEntry.Action.CREATE,
        changes={k: [None, v] for k, v in snapshot(lead).items() if v not in (None, "", [])},
    )
    if route:
        lead = _route(actor=actor, lead=_locked(lead), now=now, rng=None, before=_snapshot(lead))
    return lead


def store_imported_lead(*, actor: Any, lead: Lead, now: dt.datetime | None = None) -> Lead:
    """Store a lead an import built and validated, audited, and route it; runs inside the
    import's transaction (its offers' timers and e-mails go out when the import commits)."""
    ensure_model_permitted(actor, "add", Lead)
    lead.source = Lead.Source.IMPORT
    return _store(actor=actor, lead=lead, route=True, now=_now(now))


@transaction.atomic(durable=True)
def route_lead(
    *, actor: Any, lead: Lead, now: dt.datetime | None = None, rng: Random | None = None
) -> Lead:
    """Run the routing rules for a new lead or one in manual review: offer it to the pick, or
    send it (back) to manual review saying which rule left nobody."""
    lead = _locked(lead)
    ensure_permitted(actor, "route", lead)
    _ensure_status(lead, (Lead.Status.NEW, Lead.Status.MANUAL), "routed")
    return _route(actor=actor, lead=lead, now=_now(now), rng=rng, before=_snapshot(lead))


@transaction.atomic(durable=True)
def accept_lead(*, actor: Any, lead: Lead, now: dt.datetime | None = None) -> Lead:
    """The partner the lead is offered to takes it, before its acceptance deadline."""
    lead = _locked(lead)
    _ensure_own_offer(actor, lead, "respond")
    now = _now(now)
    _ensure_status(lead, (Lead.Status.OFFERED,), "accepted")
    if lead.accept_by is not None and now > lead.accept_by:
        raise Conflict(
            _(
                "The time to accept this lead ended at %(deadline)s UTC; it is being offered "
                "to another partner."
            )
            % {"deadline": lead.accept_by.strftime("%Y-%m-%d %H:%M")}
        )
    before = _snapshot(lead)
    lead.status = Lead.Status.ACCEPTED
    lead.accepted_at = now
    lead.save()
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=RoutingEvent.Kind.ACCEPTED,
        organisation_id=lead.assigned_to_id,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    _transition(actor=actor, lead=lead, before=before)
    return lead


@transaction.atomic(durable=True)
def decline_lead(*, actor: Any, lead: Lead, reason: str, now: dt.datetime | None = None) -> Lead:
    """The partner turns the offer down, saying why; the lead goes to the next partner."""
    lead = _locked(lead)
    _ensure_own_offer(actor, lead, "respond")
    reason = _reason(reason)
    now = _now(now)
    _ensure_status(lead, (Lead.Status.OFFERED,), "declined")
    before = _snapshot(lead)
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=RoutingEvent.Kind.DECLINED,
        organisation_id=lead.assigned_to_id,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
    )
    return _route(
        actor=actor,
        lead=lead,
        now=now,
        rng=None,
        before=before,
        why=_("Declined: %(reason)s") % {"reason": reason},
    )


@transaction.atomic(durable=True)
def assign_lead(
    *,
    actor: Any,
    lead: Lead,
    organisation: Organisation,
    reason: str,
    now: dt.datetime | None = None,
) -> Lead:
    """Vendor staff offer the lead to a partner of their choice (it still has to accept
    within its SLA)."""
    lead = _locked(lead)
    ensure_permitted(actor, "route", lead)
    reason = _reason(reason)
    now = _now(now)
    _ensure_status(
        lead,
        (Lead.Status.NEW, Lead.Status.OFFERED, Lead.Status.MANUAL, Lead.Status.ACCEPTED),
        "assigned",
    )
    target = Organisation.objects.filter(pk=getattr(organisation, "pk", organisation)).first()
    if target is None or target.is_vendor or target.status != Organisation.Status.ACTIVE:
        raise ValidationError({"organisation": [_("Choose an active partner.")]})
    lead_settings = LeadSettings.current()
    tier = load_tiers(lead_settings, [target.pk], now.date()).get(target.pk)
    trace: dict[str, Any] = {"steps": [], "chosen": target.pk, "result": "assigned"}
    if tier is not None:
        trace["tier"] = tier.code
    return _offer(
        actor=actor,
        lead=lead,
        organisation_id=target.pk,
        hours=sla_hours(lead_settings, tier),
        now=now,
        kind=RoutingEvent.Kind.ASSIGNED,
        trace=trace,
        reason=reason,
        before=_snapshot(lead),
    )


@transaction.atomic(durable=True)
def close_lead(
    *, actor: Any, lead: Lead, outcome: str, reason: str = "", now: dt.datetime | None = None
) -> Lead:
    """An accepted lead is won or lost (by the partner working it, or vendor staff)."""
    if outcome not in (Lead.Status.WON, Lead.Status.LOST):
        raise ValidationError({"outcome": [_("Choose won or lost.")]})
    lead = _locked(lead)
    if actor is not None and actor.is_partner:
        _ensure_own_offer(actor, lead, "respond")
    else:
        ensure_permitted(actor, "route", lead)
    reason = _reason(reason, required=False)
    now = _now(now)
    _ensure_status(lead, (Lead.Status.ACCEPTED,), "closed")
    before = _snapshot(lead)
    lead.status = outcome
    lead.closed_at = now
    lead.save()
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=outcome,
        organisation_id=lead.assigned_to_id,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
    )
    _transition(actor=actor, lead=lead, before=before, reason=reason)
    return lead


@transaction.atomic(durable=True)
def recall_lead(*, lead_id: int, now: dt.datetime | None = None) -> Lead | None:
    """Recall one lead if its offer is (still) overdue and re-route it; None when there is
    nothing to do (accepted meanwhile, re-offered with a later deadline, gone)."""
    now = _now(now)
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("territory")
        .filter(pk=lead_id, status=Lead.Status.OFFERED, accept_by__lte=now)
        .first()
    )
    if lead is None:
        return None
    before = _snapshot(lead)
    reason = _("Not accepted by %(deadline)s UTC.") % {
        "deadline": lead.accept_by.strftime("%Y-%m-%d %H:%M")
    }
    RoutingEvent.objects.create(
        lead=lead,
        at=now,
        kind=RoutingEvent.Kind.RECALLED,
        organisation_id=lead.assigned_to_id,
        reason=reason,
    )
    return _route(actor=None, lead=lead, now=now, rng=None, before=before, why=reason)


def recall_overdue(now: dt.datetime | None = None) -> list[Lead]:
    """Recall every offered lead past its acceptance deadline and re-route it, each in its
    own transaction (one lead's failure does not hold back the others)."""
    now = _now(now)
    ids = list(
        Lead.objects.filter(status=Lead.Status.OFFERED, accept_by__lte=now)
        .order_by("accept_by", "pk")
        .values_list("pk", flat=True)
    )
    recalled = []
    for lead_id in ids:
        lead = recall_lead(lead_id=lead_id, now=now)
        if lead is not None:
            recalled.append(lead)
    return recalled


# -- rules and settings --------------------------------------------------------------


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _whole(value: Any, low: int, high: int = 1_000_000) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def clean_params(kind: str, params: Any) -> tuple[dict[str, Any], list[str]]:
    """The parameters of a rule of ``kind``, normalised, and the problems found."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return {}, [_("Parameters must be an object.")]
    allowed = {
        RoutingRule.Kind.TERRITORY: {"exclusive_first"},
        RoutingRule.Kind.PARTNER_KIND: {"kinds"},
        RoutingRule.Kind.TIER: {"min_rank", "tiers"},
        RoutingRule.Kind.CAPACITY: {"max_open"},
        RoutingRule.Kind.PERFORMANCE: {"min_acceptance", "min_win", "min_offers"},
        RoutingRule.Kind.RANDOM: {"weight"},
    }[kind]
    problems: list[str] = []
    unknown = sorted(str(key) for key in params if key not in allowed)
    if unknown:
        problems.append(_("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)})
    cleaned: dict[str, Any] = {}
    if kind == RoutingRule.Kind.TERRITORY:
        flag = params.get("exclusive_first", False)
        if not isinstance(flag, bool):
            problems.append(_("“exclusive_first” must be true or false."))
        cleaned["exclusive_first"] = bool(flag) if isinstance(flag, bool) else False
    elif kind == RoutingRule.Kind.PARTNER_KIND:
        kinds = params.get("kinds")
        if (
            not isinstance(kinds, list)
            or not kinds
            or not all(isinstance(k, str) and k in PARTNER_KINDS for k in kinds)
        ):
            problems.append(
                _("“kinds” must list partner kinds, among: %(kinds)s.")
                % {"kinds": ", ".join(PARTNER_KINDS)}
            )
        else:
            cleaned["kinds"] = sorted(set(kinds))
    elif kind == RoutingRule.Kind.TIER:
        if ("min_rank" in params) == ("tiers" in params):
            problems.append(_("Give either “min_rank” or “tiers”."))
        elif "min_rank" in params:
            if not _whole(params["min_rank"], 0, 1000):
                problems.append(_("“min_rank” must be a whole number of 0 or more."))
            else:
                cleaned["min_rank"] = params["min_rank"]
        else:
            tiers = params["tiers"]
            if (
                not isinstance(tiers, list)
                or not tiers
                or not all(isinstance(t, str) and t.strip() and "\x00" not in t for t in tiers)
            ):
                problems.append(_("“tiers” must list tier codes."))
            else:
                cleaned["tiers"] = sorted({t.strip() for t in tiers})
    elif kind == RoutingRule.Kind.CAPACITY:
        if not _whole(params.get("max_open"), 1):
            problems.append(_("“max_open” must be a whole number of 1 or more."))
        else:
            cleaned["max_open"] = params["max_open"]
    elif kind == RoutingRule.Kind.PERFORMANCE:
        for name in ("min_acceptance", "min_win"):
            if params.get(name) is not None:
                if not _fraction(params[name]):
                    problems.append(
                        _("“%(name)s” must be a rate between 0 and 1.") % {"name": name}
                    )
                else:
                    cleaned[name] = params[name]
        if params.get("min_acceptance") is None and params.get("min_win") is None:
            problems.append(_("Give “min_acceptance”, “min_win” or both."))
        min_offers = params.get("min_offers", 0)
        if not _whole(min_offers, 0):
            problems.append(_("“min_offers” must be a whole number of 0 or more."))
        else:
            cleaned["min_offers"] = min_offers
    else:
        weight = params.get("weight", "lead_priority")
        if weight not in WEIGHTS:
            problems.append(
                _("“weight” must be one of: %(options)s.") % {"options": ", ".join(WEIGHTS)}
            )
        else:
            cleaned["weight"] = weight
    return cleaned, problems


@transaction.atomic(durable=True)
def save_rules(*, actor: Any, rules: Sequence[Mapping[str, Any]]) -> list[RoutingRule]:
    """Replace the ordered list of routing rules. An item may carry the ``id`` of an existing
    rule to keep it (its history keeps pointing at it); rules left out are deleted. The
    weighted random rule, if any, comes last (nothing after the pick could narrow it)."""
    ensure_model_permitted(actor, "change", RoutingRule)
    if not isinstance(rules, list | tuple):
        raise ValidationError({"rules": [_("Expected a list of rules.")]})
    if len(rules) > MAX_RULES:
        raise ValidationError({"rules": [_("At most %(count)d rules.") % {"count": MAX_RULES}]})
    errors: dict[str, list[str]] = {}
    existing = {rule.pk: rule for rule in RoutingRule.objects.select_for_update()}
    cleaned: list[dict[str, Any]] = []
    seen_ids: set[int] = set()
    for index, item in enumerate(rules):
        key = f"rules.{index}"
        if not isinstance(item, Mapping):
            errors[key] = [_("Expected an object.")]
            continue
        for name in set(item) - RULE_FIELDS:
            errors[f"{key}.{name}"] = [_("Unknown field.")]
        entry: dict[str, Any] = {}
        rule_id = item.get("id")
        if rule_id is not None:
            if not isinstance(rule_id, int) or isinstance(rule_id, bool) or rule_id not in existing:
                errors[f"{key}.id"] = [_("No such rule.")]
            elif rule_id in seen_ids:
                errors[f"{key}.id"] = [_("This rule is listed twice.")]
            else:
                seen_ids.add(rule_id)
                entry["id"] = rule_id
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            errors[f"{key}.name"] = [_("Give the rule a name.")]
        elif len(name.strip()) > 100:
            errors[f"{key}.name"] = [_("At most 100 characters.")]
        elif "\x00" in name:
            errors[f"{key}.name"] = [_("Null characters are not allowed.")]
        else:
            entry["name"] = name.strip()
        kind = item.get("kind")
        if kind not in RoutingRule.Kind.values:
            errors[f"{key}.kind"] = [_("Choose a rule kind.")]
        else:
            entry["kind"] = kind
            params, problems = clean_params(kind, item.get("params"))
            if problems:
                errors[f"{key}.params"] = problems
            entry["params"] = params
        for flag, default in (("required", False), ("active", True)):
            value = item.get(flag, default)
            if not isinstance(value, bool):
                errors[f"{key}.{flag}"] = [_("Must be true or false.")]
            entry[flag] = value if isinstance(value, bool) else default
        cleaned.append(entry)
    randoms = [i for i, entry in enumerate(cleaned) if entry.get("kind") == RoutingRule.Kind.RANDOM]
    if len(randoms) > 1:
        errors.setdefault(f"rules.{randoms[1]}.kind", []).append(
            _("Only one weighted random rule: it picks the partner.")
        )
    elif randoms and randoms[0] != len(cleaned) - 1:
        errors.setdefault(f"rules.{randoms[0]}.kind", []).append(
            _("The weighted random rule must come last: it picks the partner.")
        )
    if errors:
        raise ValidationError(errors)
    for rule_id, rule in existing.items():
        if rule_id not in seen_ids:
            delete_audited(actor=actor, obj=rule)
    saved: list[RoutingRule] = []
    for position, entry in enumerate(cleaned):
        values = {k: v for k, v in entry.items() if k != "id"} | {"position": position}
        if "id" in entry:
            saved.append(apply_changes(actor=actor, obj=existing[entry["id"]], data=values))
        else:
            saved.append(create_audited(actor=actor, obj=RoutingRule(**values)))
    return saved


@transaction.atomic(durable=True)
def update_settings(*, actor: Any, data: Mapping[str, Any]) -> LeadSettings:
    """Change the acceptance SLA (default and per tier), the tier program, the most offers
    before manual review and the performance window."""
    ensure_model_permitted(actor, "change", LeadSettings)
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    current = LeadSettings.current()
    errors: dict[str, list[str]] = {}
    for key in set(data) - SETTINGS_FIELDS:
        errors[str(key)] = [_("Unknown field.")]
    values: dict[str, Any] = {}
    limits = {
        "acceptance_hours": (1, MAX_HOURS),
        "max_offers": (1, 100),
        "performance_days": (1, 3650),
    }
    for name, (low, high) in limits.items():
        if name in data:
            if not _whole(data[name], low, high):
                errors[name] = [
                    _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
            else:
                values[name] = data[name]
    program = current.tier_program
    if "tier_program" in data:
        raw = data["tier_program"]
        if raw in (None, ""):
            program = None
        else:
            program = (
                raw
                if isinstance(raw, Program)
                else Program.objects.filter(code=raw).first()
                if isinstance(raw, str)
                else Program.objects.filter(pk=raw).first()
                if isinstance(raw, int) and not isinstance(raw, bool)
                else None
            )
            if program is None:
                errors["tier_program"] = [_("Choose an existing program.")]
        values["tier_program"] = program
    if "tier_acceptance_hours" in data:
        raw = data["tier_acceptance_hours"]
        if not isinstance(raw, Mapping) or not all(
            isinstance(code, str) and code.strip() and _whole(hours, 1, MAX_HOURS)
            for code, hours in raw.items()
        ):
            errors["tier_acceptance_hours"] = [
                _("Give whole hours (1 to %(high)d) per tier code.") % {"high": MAX_HOURS}
            ]
        else:
            values["tier_acceptance_hours"] = {code.strip(): hours for code, hours in raw.items()}
    hours = values.get("tier_acceptance_hours", current.tier_acceptance_hours) or {}
    if hours and "tier_acceptance_hours" not in errors and "tier_program" not in errors:
        if program is None:
            errors["tier_acceptance_hours"] = [_("Choose the program whose tiers these are.")]
        else:
            codes = set(program.versions.values_list("tiers__code", flat=True))
            unknown = sorted(set(hours) - codes)
            if unknown:
                errors["tier_acceptance_hours"] = [
                    _("No such tier in %(program)s: %(codes)s.")
                    % {"program": program.name, "codes": ", ".join(unknown)}
                ]
    if errors:
        raise ValidationError(errors)
    return apply_changes(actor=actor, obj=current, data=values)
