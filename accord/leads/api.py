"""REST endpoints of accord.leads (mounted under /api/v1/): leads, their routing to partners
and the partners' answers, the routing history explained, the routing rules and SLAs.

Thin: reads go through ``selectors`` (which call ``restrict``), writes through
``services``. A partner sees the leads offered or assigned to it and only the routing
events about itself; ids in the path it cannot see answer 404, ids in a body 422.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from accord.core.schemas import ObjectId, PageInput, error_responses, field_error, renamed_fields
from accord.leads import selectors, services
from accord.leads.models import Lead, LeadSettings, RoutingEvent
from accord.leads.schemas import (
    AssignIn,
    DeclineIn,
    LeadCloseIn,
    LeadFilter,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadSettingsIn,
    LeadSettingsOut,
    RoutingEventPage,
    RoutingRulesIn,
    RoutingRulesOut,
)
from accord.partners import selectors as partner_selectors

router = Router(tags=["leads"])

READ = error_responses(403, 404, 422)
WRITE = error_responses(400, 403, 404, 409, 422)
FIELDS = {"territory": "territory_id", "organisation": "organisation_id"}


def _require(user: Any, permission: str) -> None:
    """403 unless ``user`` holds ``permission`` at all."""
    if not user.has_perm(permission):
        raise PermissionDenied


def _page(items: QuerySet, query: PageInput, build: Any = None) -> dict[str, Any]:
    rows = items[query.offset : query.offset + query.limit]
    return {"count": items.count(), "items": [build(row) if build else row for row in rows]}


def _answer(user: Any, lead: Lead) -> Lead:
    """The lead as it stands after a write, re-read through the selector."""
    return selectors.get_lead(user, lead.pk)


def _trace(user: Any, event: RoutingEvent) -> dict[str, Any]:
    """The event's routing trace; a partner sees only its own weight among the candidates
    (the others' are other partners' data)."""
    trace = dict(event.trace or {})
    if user.is_partner and "weights" in trace:
        own = str(event.organisation_id)
        trace["weights"] = {k: v for k, v in trace["weights"].items() if k == own}
    return trace


def _event_out(user: Any, event: RoutingEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at,
        "kind": event.kind,
        "organisation_id": event.organisation_id,
        "organisation_name": event.organisation.name if event.organisation_id else None,
        "actor_id": event.actor_id,
        "reason": event.reason,
        "trace": _trace(user, event),
        "explanation": selectors.explain(event),
    }


def _rules_out(rules: Any) -> dict[str, Any]:
    return {"rules": list(rules)}


def _settings_out(found: LeadSettings) -> dict[str, Any]:
    return {
        "acceptance_hours": found.acceptance_hours,
        "tier_program": found.tier_program.code if found.tier_program_id else None,
        "tier_acceptance_hours": found.tier_acceptance_hours,
        "max_offers": found.max_offers,
        "performance_days": found.performance_days,
        "updated_at": found.updated_at,
    }


# -- rules and settings ---------------------------------------------------------------------
@router.get("/leads/rules", response={200: RoutingRulesOut, **READ}, operation_id="leads_rules_get")
def leads_rules_get(request: HttpRequest) -> Any:
    """The routing rules in the order they run. Vendor staff."""
    user = request.auth
    _require(user, "leads.view_routingrule")
    return _rules_out(selectors.rules(user))


@router.put(
    "/leads/rules", response={200: RoutingRulesOut, **WRITE}, operation_id="leads_rules_update"
)
def leads_rules_update(request: HttpRequest, payload: RoutingRulesIn) -> Any:
    """Replace the ordered routing rules (an item with the ``id`` of a rule keeps it; rules
    left out are deleted). 422 names each bad place, e.g. ``rules.2.params``. Needs
    ``leads.change_routingrule``."""
    user = request.auth
    return _rules_out(services.save_rules(actor=user, rules=payload.model_dump()["rules"]))


@router.get(
    "/leads/settings", response={200: LeadSettingsOut, **READ}, operation_id="leads_settings_get"
)
def leads_settings_get(request: HttpRequest) -> Any:
    """The acceptance SLA (default and per tier) and the re-routing limits. Vendor staff."""
    _require(request.auth, "leads.view_leadsettings")
    return _settings_out(selectors.lead_settings(request.auth))


@router.put(
    "/leads/settings",
    response={200: LeadSettingsOut, **WRITE},
    operation_id="leads_settings_update",
)
def leads_settings_update(request: HttpRequest, payload: LeadSettingsIn) -> Any:
    """The acceptance SLA (per tier of ``tier_program``) and re-routing limits. Needs
    ``leads.change_leadsettings``."""
    return _settings_out(services.update_settings(actor=request.auth, data=payload.model_dump()))


# -- leads --------------------------------------------------------------------------------
@router.get("/leads", response={200: LeadPage, **error_responses(422)}, operation_id="leads_list")
def leads_list(request: HttpRequest, filters: Query[LeadFilter]) -> Any:
    """Leads the caller may see, newest first: a partner those offered or assigned to it
    (``inbox`` for those awaiting its answer), vendor staff every lead."""
    user = request.auth
    rows = selectors.inbox(user) if filters.inbox else selectors.leads(user)
    rows = rows.select_related("assigned_to")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.assigned_to is not None:
        rows = rows.filter(assigned_to_id=filters.assigned_to)
    if filters.q:
        rows = rows.filter(Q(company_name__icontains=filters.q) | Q(number__icontains=filters.q))
    return _page(rows, filters)


@router.post("/leads", response={201: LeadOut, **WRITE}, operation_id="leads_create")
def leads_create(request: HttpRequest, payload: LeadIn) -> Any:
    """Create a lead and (unless ``route`` is false) route it: the routing rules pick a
    partner, which must accept before ``accept_by``; when a required rule leaves nobody
    the lead waits in manual review. Needs ``leads.add_lead``."""
    user = request.auth
    _require(user, "leads.add_lead")
    data = payload.model_dump(exclude={"route"})
    data["territory"] = data.pop("territory_id")
    if data["territory"] is not None and not partner_selectors.find_territory(
        user, data["territory"]
    ):
        raise field_error("territory_id", _("Unknown territory."))
    data["external_key"] = data["external_key"] or None
    with renamed_fields(FIELDS):
        lead = services.create_lead(actor=user, data=data, source="api", route=payload.route)
    return 201, _answer(user, lead)


@router.get("/leads/{id}", response={200: LeadOut, **READ}, operation_id="leads_get")
def leads_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_lead(request.auth, id)


@router.post("/leads/{id}/accept", response={200: LeadOut, **WRITE}, operation_id="leads_accept")
def leads_accept(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Accept a lead offered to the caller's organisation, before ``accept_by``."""
    user = request.auth
    return _answer(user, services.accept_lead(actor=user, lead=selectors.get_lead(user, id)))


@router.post("/leads/{id}/decline", response={204: None, **WRITE}, operation_id="leads_decline")
def leads_decline(request: HttpRequest, id: Path[ObjectId], payload: DeclineIn) -> Any:
    """Decline an offered lead, saying why; it is routed to the next partner at once (and
    leaves the decliner's list, so nothing is answered)."""
    user = request.auth
    services.decline_lead(actor=user, lead=selectors.get_lead(user, id), reason=payload.reason)
    return 204, None


@router.post("/leads/{id}/assign", response={200: LeadOut, **WRITE}, operation_id="leads_assign")
def leads_assign(request: HttpRequest, id: Path[ObjectId], payload: AssignIn) -> Any:
    """Offer the lead to an organisation by hand (staff), with the reason. Needs
    ``leads.route_lead``."""
    user = request.auth
    lead = selectors.get_lead(user, id)
    _require(user, "leads.route_lead")
    organisation = partner_selectors.find_organisation(user, payload.organisation_id)
    if organisation is None:
        raise field_error("organisation_id", _("Unknown organisation."))
    with renamed_fields(FIELDS):
        lead = services.assign_lead(
            actor=user, lead=lead, organisation=organisation, reason=payload.reason
        )
    return _answer(user, lead)


@router.post("/leads/{id}/close", response={200: LeadOut, **WRITE}, operation_id="leads_close")
def leads_close(request: HttpRequest, id: Path[ObjectId], payload: LeadCloseIn) -> Any:
    """Close an accepted lead as won or lost."""
    user = request.auth
    lead = selectors.get_lead(user, id)
    lead = services.close_lead(
        actor=user, lead=lead, outcome=payload.outcome, reason=payload.reason
    )
    return _answer(user, lead)


@router.post("/leads/{id}/route", response={200: LeadOut, **WRITE}, operation_id="leads_route")
def leads_route(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Run the routing rules again (a new or manual-review lead). Needs ``leads.route_lead``."""
    user = request.auth
    return _answer(user, services.route_lead(actor=user, lead=selectors.get_lead(user, id)))


@router.get(
    "/leads/{id}/events", response={200: RoutingEventPage, **READ}, operation_id="leads_events"
)
def leads_events(request: HttpRequest, id: Path[ObjectId], query: Query[PageInput]) -> Any:
    """The lead's routing history, oldest first: each offer with the rules that chose the
    partner and why, acceptances, declines with their reasons, recalls after the SLA. A
    partner sees only the events about its own organisation."""
    user = request.auth
    events = selectors.events(user, selectors.get_lead(user, id))
    return _page(events, query, lambda event: _event_out(user, event))
