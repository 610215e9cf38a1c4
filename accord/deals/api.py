"""REST endpoints of accord.deals (mounted under /api/v1/): deal registrations and their
workflow, conflicts side by side, the live similar-registrations check, the approval queue,
the rules of engagement and the vendor's named accounts.

Thin: reads go through ``selectors`` (which call ``restrict``), writes through
``services``. Ids in the path that the caller cannot see answer 404; ids in a body that
the caller cannot see answer 422 with a field error, as unknown ones do. Conflicts are
shown through ``selectors.conflict_view``: a partner learns only that a conflicting
registration exists, unless the rules of engagement reveal who holds it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from accord.core.api import get_restricted_or_404
from accord.core.schemas import ObjectId, PageInput, error_responses, field_error, renamed_fields
from accord.core.services import ensure_permitted
from accord.deals import selectors, services
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from accord.deals.schemas import (
    ConflictOut,
    EndCustomerFilter,
    EndCustomerIn,
    EndCustomerOut,
    EndCustomerPage,
    EndCustomerPatch,
    EngagementRulesIn,
    EngagementRulesOut,
    ExtensionDecisionIn,
    ReasonIn,
    RegistrationCloseIn,
    RegistrationFilter,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    RegistrationPatch,
    RequiredReasonIn,
    ResolveIn,
    SimilarIn,
)
from accord.partners import selectors as partner_selectors

router = Router(tags=["deals"])

READ = error_responses(403, 404, 422)
WRITE = error_responses(400, 403, 404, 409, 422)
# The services' data keys -> the request's field names.
FIELDS = {"territory": "territory_id", "products": "product_ids", "organisation": "organisation_id"}
REGISTRATION_FIELDS = (
    "id",
    "number",
    "organisation_id",
    "registered_by_id",
    "customer_name",
    "customer_tax_id",
    "customer_domain",
    "customer_street",
    "customer_city",
    "customer_region",
    "customer_country",
    "territory_id",
    "value",
    "currency",
    "expected_close",
    "notes",
    "status",
    "submitted_at",
    "approval_due",
    "decided_at",
    "decided_by_id",
    "protected_until",
    "extension_requested_at",
    "extension_reason",
    "extension_decided_at",
    "extended",
    "created_at",
    "updated_at",
)


# -- helpers --------------------------------------------------------------------------
def _require(user: Any, permission: str) -> None:
    """403 unless ``user`` holds ``permission`` at all."""
    if not user.has_perm(permission):
        raise PermissionDenied


def _page(items: QuerySet, query: PageInput, build: Any) -> dict[str, Any]:
    rows = items[query.offset : query.offset + query.limit]
    return {"count": items.count(), "items": [build(row) for row in rows]}


def _data(user: Any, payload: Any, *, partial: bool = False, rename: bool = True) -> dict:
    """The request body as the services take it (``territory``, ``products``,
    ``organisation``). A territory the caller cannot see is unknown, as in the forms."""
    data = payload.model_dump(exclude_unset=partial)
    territory = data.get("territory_id")
    if territory is not None and partner_selectors.find_territory(user, territory) is None:
        raise field_error("territory_id", _("Unknown territory."))
    for service_key, api_key in FIELDS.items():
        if rename and api_key in data:
            data[service_key] = data.pop(api_key)
    return data


def _registration_out(user: Any, registration: Registration) -> dict[str, Any]:
    return {
        **{name: getattr(registration, name) for name in REGISTRATION_FIELDS},
        "organisation_name": registration.organisation.name,
        # The resolved end customer is vendor staff's (it links registrations of others).
        "end_customer_id": (
            registration.end_customer_id if user.has_perm("deals.view_endcustomer") else None
        ),
        "product_lines": registration.product_lines(),
        "product_ids": sorted(product.pk for product in registration.products.all()),
        "decision": registration.decision or {},
        "open_conflicts": sum(
            1 for c in registration.conflicts.all() if c.resolution == Conflict.Resolution.OPEN
        ),
    }


def _registrations(user: Any) -> QuerySet:
    return selectors.registrations(user).prefetch_related("lines", "products", "conflicts")


def _answer(user: Any, registration: Registration) -> dict[str, Any]:
    """The registration as it stands after a write, re-read through the selector."""
    return _registration_out(user, _registrations(user).get(pk=registration.pk))


def _transition(request: HttpRequest, id: int, action: Any, **kwargs: Any) -> dict[str, Any]:
    """Run a workflow service on the registration ``id`` and answer it as it stands."""
    user = request.auth
    registration = action(actor=user, registration=selectors.get_registration(user, id), **kwargs)
    return _answer(user, registration)


def _rules_out(rules: EngagementRules) -> dict[str, Any]:
    return {
        **{
            name: getattr(rules, name)
            for name in (
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
                "tier_protection_days",
                "updated_at",
            )
        },
        "tier_program": rules.tier_program.code if rules.tier_program_id else None,
    }


# -- registrations ------------------------------------------------------------------------
@router.get(
    "/deals/registrations",
    response={200: RegistrationPage, **error_responses(422)},
    operation_id="deals_registrations_list",
)
def deals_registrations_list(request: HttpRequest, filters: Query[RegistrationFilter]) -> Any:
    """Registrations the caller may see, newest first: a partner its own organisation's,
    vendor staff every one. Filter by status, organisation, product line or a search."""
    user = request.auth
    rows = _registrations(user)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.organisation is not None:
        rows = rows.filter(organisation_id=filters.organisation)
    if filters.product_line:
        rows = rows.filter(lines__product_line=filters.product_line)
    if filters.q:
        rows = rows.filter(Q(customer_name__icontains=filters.q) | Q(number__icontains=filters.q))
    return _page(rows.distinct(), filters, lambda r: _registration_out(user, r))


@router.post(
    "/deals/registrations",
    response={201: RegistrationOut, **WRITE},
    operation_id="deals_registrations_create",
)
def deals_registrations_create(request: HttpRequest, payload: RegistrationIn) -> Any:
    """Register a deal. Conflicts are detected at once (same tax id, same domain, similar
    name after normalisation, overlapping product lines, exclusive territories, named
    accounts); without a blocking one and with a standing that allows it, the rules may
    approve it at once, else it waits for a decision. ``decision`` says which rule
    decided and on what inputs. 422 when the partner's standing blocks registrations."""
    user = request.auth
    _require(user, "deals.add_registration")
    data = _data(user, payload)
    organisation = data.pop("organisation")
    with renamed_fields(FIELDS):
        registration = services.submit_registration(
            actor=user, data=data, organisation=organisation
        )
    return 201, _answer(user, registration)


@router.get(
    "/deals/registrations/{id}",
    response={200: RegistrationOut, **READ},
    operation_id="deals_registrations_get",
)
def deals_registrations_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _answer(request.auth, selectors.get_registration(request.auth, id))


@router.patch(
    "/deals/registrations/{id}",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_update",
)
def deals_registrations_update(
    request: HttpRequest, id: Path[ObjectId], payload: RegistrationPatch
) -> Any:
    """Change a submitted or returned registration (only the keys sent change); conflicts
    are detected again, and a returned registration goes back for a decision."""
    user = request.auth
    registration = selectors.get_registration(user, id)
    ensure_permitted(user, "change", registration)
    with renamed_fields(FIELDS):
        registration = services.update_registration(
            actor=user, registration=registration, data=_data(user, payload, partial=True)
        )
    return _answer(user, registration)


@router.post(
    "/deals/registrations/{id}/approve",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_approve",
)
def deals_registrations_approve(request: HttpRequest, id: Path[ObjectId], payload: ReasonIn) -> Any:
    """Approve: the registration is protected until ``protected_until`` (the window of
    the partner's tier). 409 while an open blocking conflict exists, or when another
    registration already holds the same customer and product line."""
    return _transition(request, id, services.approve, reason=payload.reason)


@router.post(
    "/deals/registrations/{id}/reject",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_reject",
)
def deals_registrations_reject(
    request: HttpRequest, id: Path[ObjectId], payload: RequiredReasonIn
) -> Any:
    return _transition(request, id, services.reject, reason=payload.reason)


@router.post(
    "/deals/registrations/{id}/return",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_return",
)
def deals_registrations_return(
    request: HttpRequest, id: Path[ObjectId], payload: RequiredReasonIn
) -> Any:
    """Return for information: the registrant edits it and it is decided again."""
    return _transition(request, id, services.return_for_info, reason=payload.reason)


@router.post(
    "/deals/registrations/{id}/withdraw",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_withdraw",
)
def deals_registrations_withdraw(
    request: HttpRequest, id: Path[ObjectId], payload: ReasonIn
) -> Any:
    return _transition(request, id, services.withdraw, reason=payload.reason)


@router.post(
    "/deals/registrations/{id}/close",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_close",
)
def deals_registrations_close(
    request: HttpRequest, id: Path[ObjectId], payload: RegistrationCloseIn
) -> Any:
    """Close an approved registration as won or lost (its protection ends)."""
    return _transition(
        request, id, services.close_registration, outcome=payload.outcome, reason=payload.reason
    )


@router.post(
    "/deals/registrations/{id}/extension",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_extension",
)
def deals_registrations_extension(
    request: HttpRequest, id: Path[ObjectId], payload: RequiredReasonIn
) -> Any:
    """Ask once for the protection window to be extended."""
    return _transition(request, id, services.request_extension, reason=payload.reason)


@router.post(
    "/deals/registrations/{id}/extension/decide",
    response={200: RegistrationOut, **WRITE},
    operation_id="deals_registrations_extension_decide",
)
def deals_registrations_extension_decide(
    request: HttpRequest, id: Path[ObjectId], payload: ExtensionDecisionIn
) -> Any:
    """Grant (the window grows by the rules' extension days) or refuse the request."""
    return _transition(
        request, id, services.decide_extension, grant=payload.grant, reason=payload.reason
    )


# -- conflicts ----------------------------------------------------------------------------
@router.get(
    "/deals/registrations/{id}/conflicts",
    response={200: list[ConflictOut], **READ},
    operation_id="deals_registrations_conflicts",
)
def deals_registrations_conflicts(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The registration's conflicts, best match first, each with its score and reasons
    and the other side shown beside it: for a partner only when it is its own, or when
    the rules of engagement reveal conflicts (else ``hidden``)."""
    user = request.auth
    return selectors.conflicts(user, selectors.get_registration(user, id))


@router.post(
    "/deals/conflicts/{id}/resolve",
    response={200: ConflictOut, **WRITE},
    operation_id="deals_conflicts_resolve",
)
def deals_conflicts_resolve(request: HttpRequest, id: Path[ObjectId], payload: ResolveIn) -> Any:
    """Dismiss a conflict (not a real clash: it no longer blocks approval) or uphold it."""
    user = request.auth
    conflict = get_restricted_or_404(Conflict, user, pk=id)
    conflict = services.resolve_conflict(
        actor=user, conflict=conflict, resolution=payload.resolution, reason=payload.reason
    )
    return selectors.conflict_view(user, conflict)


@router.post(
    "/deals/similar",
    response={200: list[ConflictOut], **WRITE},
    operation_id="deals_similar",
)
def deals_similar(request: HttpRequest, payload: SimilarIn) -> Any:
    """The conflicts a registration with these details would meet, as the form is filled
    in. Nothing is stored; redacted like stored conflicts."""
    user = request.auth
    _require(user, "deals.add_registration")
    data = _data(user, payload)
    with renamed_fields(FIELDS):
        return services.check_similar(actor=user, data=data)


@router.get(
    "/deals/queue",
    response={200: RegistrationPage, **READ},
    operation_id="deals_queue",
)
def deals_queue(request: HttpRequest, query: Query[PageInput]) -> Any:
    """Registrations awaiting a decision, the most overdue first. Needs
    ``deals.decide_registration``."""
    user = request.auth
    _require(user, "deals.decide_registration")
    rows = selectors.approval_queue(user).prefetch_related("lines", "products", "conflicts")
    return _page(rows, query, lambda r: _registration_out(user, r))


# -- rules of engagement -------------------------------------------------------------------
@router.get(
    "/deals/rules", response={200: EngagementRulesOut, **READ}, operation_id="deals_rules_get"
)
def deals_rules_get(request: HttpRequest) -> Any:
    """The rules of engagement: conflict policy, what counts as a conflict, auto-approval,
    the approval SLA and the protection windows (per tier of ``tier_program``)."""
    _require(request.auth, "deals.view_engagementrules")
    return _rules_out(EngagementRules.current())


@router.put(
    "/deals/rules", response={200: EngagementRulesOut, **WRITE}, operation_id="deals_rules_update"
)
def deals_rules_update(request: HttpRequest, payload: EngagementRulesIn) -> Any:
    """Replace the rules of engagement. Needs ``deals.change_engagementrules``."""
    return _rules_out(services.update_rules(actor=request.auth, data=payload.model_dump()))


# -- named accounts ------------------------------------------------------------------------
@router.get(
    "/deals/customers",
    response={200: EndCustomerPage, **READ},
    operation_id="deals_customers_list",
)
def deals_customers_list(request: HttpRequest, filters: Query[EndCustomerFilter]) -> Any:
    """Resolved end customers (vendor staff), by name; ``named_account`` for the direct
    sales team's named accounts."""
    user = request.auth
    _require(user, "deals.view_endcustomer")
    rows = selectors.end_customers(user)
    if filters.named_account is not None:
        rows = rows.filter(named_account=filters.named_account)
    if filters.q:
        rows = rows.filter(name__icontains=filters.q)
    return _page(rows, filters, lambda row: row)


@router.post(
    "/deals/customers",
    response={201: EndCustomerOut, **WRITE},
    operation_id="deals_customers_create",
)
def deals_customers_create(request: HttpRequest, payload: EndCustomerIn) -> Any:
    """A named account of the direct sales team: registrations by partners for this
    customer conflict with it. Needs ``deals.add_endcustomer``."""
    user = request.auth
    _require(user, "deals.add_endcustomer")
    customer = services.save_end_customer(actor=user, data=_data(user, payload, rename=False))
    return 201, customer


@router.get(
    "/deals/customers/{id}",
    response={200: EndCustomerOut, **READ},
    operation_id="deals_customers_get",
)
def deals_customers_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return get_restricted_or_404(EndCustomer, request.auth, pk=id)


@router.patch(
    "/deals/customers/{id}",
    response={200: EndCustomerOut, **WRITE},
    operation_id="deals_customers_update",
)
def deals_customers_update(
    request: HttpRequest, id: Path[ObjectId], payload: EndCustomerPatch
) -> Any:
    """Change a named account (only the keys sent change)."""
    user = request.auth
    customer = get_restricted_or_404(EndCustomer, user, pk=id)
    _require(user, "deals.change_endcustomer")
    data = _data(user, payload, partial=True, rename=False)
    return services.save_end_customer(actor=user, data=data, end_customer=customer)
