"""Pages of accord.deals: registrations ("My registrations" for partners), the registration
form with its live similar-registrations panel, a registration with its conflicts side by
side and its decisions, the approval queue, the rules of engagement and named accounts.

Thin views: reads through ``selectors`` (every row via ``restrict()``), writes through
``services``; service errors become form errors or messages, never error pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accord.accounts import selectors as account_selectors
from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.exports import table_response
from accord.core.forms import add_service_errors
from accord.deals import selectors, services
from accord.deals.forms import (
    EndCustomerFilterForm,
    EndCustomerForm,
    ReasonForm,
    RegistrationFilterForm,
    RegistrationForm,
    ResolveForm,
    RulesForm,
)
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from accord.programs import selectors as program_selectors

PAGE_SIZE = 25
HISTORY_LIMIT = 100
VIEW = "deals.view_registration"
REGISTER = "deals.add_registration"
CHANGE = "deals.change_registration"
DECIDE = "deals.decide_registration"
RESOLVE = "deals.change_conflict"
VIEW_RULES = "deals.view_engagementrules"
MANAGE_RULES = "deals.change_engagementrules"
VIEW_CUSTOMERS = "deals.view_endcustomer"
ADD_CUSTOMER = "deals.add_endcustomer"
CHANGE_CUSTOMER = "deals.change_endcustomer"

Status = Registration.Status
# Registration statuses drawn with the house badge colours.
STATUS_BADGES = {
    Status.SUBMITTED: "applied",
    Status.RETURNED: "warning",
    Status.APPROVED: "active",
    Status.REJECTED: "terminated",
    Status.WON: "active",
    Status.LOST: "suspended",
    Status.EXPIRED: "expired",
    Status.WITHDRAWN: "draft",
}
# The fields of a registration a conflict reason points at (highlighted side by side).
REASON_FIELDS = {
    "name": "customer_name",
    "tax_id": "customer_tax_id",
    "domain": "customer_domain",
    "products": "product_lines",
    "product_lines": "product_lines",
    "country": "customer_country",
}
# What a decision's rule means, for the "why?" of a registration.
RULES = {
    "auto_approve": gettext_lazy("Approved automatically: no conflict, and the standing allows it"),
    "manual_review": gettext_lazy("Left for a channel manager to decide"),
    "manual_approval": gettext_lazy("Approved by a channel manager"),
    "rejected": gettext_lazy("Rejected by a channel manager"),
    "returned": gettext_lazy("Returned to the registrant for more information"),
}


# -- small helpers -------------------------------------------------------------------------
def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, {"nav": "deals", **context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _badge(registration: Registration) -> Registration:
    registration.badge = STATUS_BADGES.get(registration.status, "draft")  # type: ignore[attr-defined]
    return registration


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


# -- the list and its export ---------------------------------------------------------------
def _filtered_registrations(
    request: HttpRequest,
) -> tuple[RegistrationFilterForm, QuerySet, dict[str, Any]]:
    form = RegistrationFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    queryset = selectors.registrations(request.user).select_related("organisation")
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("organisation"):
        queryset = queryset.filter(organisation_id=filters["organisation"])
    if filters.get("q"):
        text = filters["q"]
        queryset = queryset.filter(
            Q(number__icontains=text)
            | Q(customer_name__icontains=text)
            | Q(customer_tax_id__icontains=text)
            | Q(customer_domain__icontains=text)
        )
    queryset = queryset.annotate(
        open_conflicts=Count("conflicts", filter=Q(conflicts__resolution=Conflict.Resolution.OPEN))
    ).prefetch_related("lines")
    # Aggregating drops the model's default ordering: keep the newest first.
    return form, queryset.order_by("-submitted_at", "-pk"), filters


@login_required
@require_GET
def registration_list(request: HttpRequest) -> HttpResponse:
    _require_perm(request, VIEW)
    form, queryset, filters = _filtered_registrations(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "registrations": [_badge(row) for row in page.object_list],
        "filtered": bool(filters),
        "export_query": request.GET.urlencode(),
    }
    template = (
        "deals/_registration_rows.html"
        if _wants_partial(request, "registration-results")
        else "deals/registration_list.html"
    )
    return _render(request, template, context)


@login_required
@require_GET
def registration_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Exactly the filtered registrations: every row, not one page."""
    _require_perm(request, VIEW)
    _form, queryset, _filters = _filtered_registrations(request)
    status_labels = dict(Status.choices)
    header = [
        _("Number"),
        _("Registered by"),
        _("End customer"),
        _("Tax / registration id"),
        _("Website domain"),
        _("Country"),
        _("Product lines"),
        _("Estimated value"),
        _("Currency"),
        _("Expected close date"),
        _("Status"),
        _("Submitted"),
        _("Decision due"),
        _("Protected until"),
        _("Open conflicts"),
    ]

    def lines() -> Iterator[list[Any]]:
        for row in queryset.iterator(chunk_size=2000):
            yield [
                row.number,
                row.organisation.name,
                row.customer_name,
                row.customer_tax_id,
                row.customer_domain,
                row.customer_country,
                ", ".join(row.product_lines()),
                row.value,
                row.currency,
                row.expected_close,
                status_labels.get(row.status, row.status),
                timezone.localtime(row.submitted_at).replace(tzinfo=None),
                timezone.localtime(row.approval_due).replace(tzinfo=None)
                if row.approval_due
                else None,
                row.protected_until,
                row.open_conflicts,
            ]

    basename = f"deal-registrations-{timezone.localdate().isoformat()}"
    return table_response(fmt, basename, header, lines(), title=_("Deal registrations"))


# -- registering ---------------------------------------------------------------------------
@login_required
def registration_new(request: HttpRequest) -> HttpResponse:
    _require_perm(request, REGISTER)
    user = request.user
    form = RegistrationForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data.get("organisation")
        try:
            registration = services.submit_registration(
                actor=user, data=form.service_data(), organisation=organisation
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if registration.status == Status.APPROVED:
                messages.success(
                    request,
                    _("Registration %(number)s is approved: no conflict was found.")
                    % {"number": registration.number},
                )
            else:
                messages.success(
                    request,
                    _("Registration %(number)s is submitted for review.")
                    % {"number": registration.number},
                )
            return redirect("deals:registration_detail", pk=registration.pk)
    return _render(request, "deals/registration_form.html", {"form": form, "registration": None})


@login_required
def registration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    registration = selectors.get_registration(user, pk)
    _require_perm(request, CHANGE)
    if registration.status not in (Status.SUBMITTED, Status.RETURNED):
        messages.error(request, _("Only a submitted or returned registration can be changed."))
        return redirect("deals:registration_detail", pk=registration.pk)
    form = RegistrationForm(
        request.POST if request.method == "POST" else None,
        user=user,
        registration=registration,
        initial=RegistrationForm.initial_from(registration),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_registration(
                actor=user, registration=registration, data=form.service_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Registration saved; conflicts were checked again."))
            return redirect("deals:registration_detail", pk=registration.pk)
    return _render(
        request,
        "deals/registration_form.html",
        {"form": form, "registration": _badge(registration)},
    )


@login_required
@require_POST
def similar(request: HttpRequest) -> HttpResponse:
    """The live panel: the conflicts a submit would find now. Nothing is written."""
    user = request.user
    _require_perm(request, REGISTER)
    registration = None
    exclude = _int(request.POST.get("registration"))
    if exclude is not None:
        registration = selectors.get_registration(user, exclude)
    form = RegistrationForm(request.POST, user=user, registration=registration)
    data = form.partial_data()
    if registration is not None:
        # Checked as the registrant's, whoever edits it.
        data["organisation"] = registration.organisation_id
    context: dict[str, Any] = {"candidates": [], "ready": False, "error": ""}
    if data["customer_name"] or data["customer_tax_id"] or data["customer_domain"]:
        context["ready"] = True
        try:
            candidates = services.check_similar(actor=user, data=data)
        except ValidationError as error:
            context["error"] = _error_text(error)
        else:
            if registration is not None:
                candidates = [
                    c for c in candidates if (c.get("other") or {}).get("id") != registration.pk
                ]
            context["candidates"] = [_with_rows(c, data) for c in candidates]
    return _render(request, "deals/_similar.html", context)


# -- one registration ----------------------------------------------------------------------
# action: (permission, form prefix, what it does, its success message)
ACTIONS: dict[str, tuple[str, str, Callable[..., Any], Any]] = {
    "approve": (
        DECIDE,
        "decide",
        lambda **kw: services.approve(**kw),
        gettext_lazy("Registration approved."),
    ),
    "return": (
        DECIDE,
        "decide",
        lambda **kw: services.return_for_info(**kw),
        gettext_lazy("Registration returned for information."),
    ),
    "reject": (
        DECIDE,
        "decide",
        lambda **kw: services.reject(**kw),
        gettext_lazy("Registration rejected."),
    ),
    "grant_extension": (
        DECIDE,
        "extension",
        lambda **kw: services.decide_extension(grant=True, **kw),
        gettext_lazy("Extension granted."),
    ),
    "refuse_extension": (
        DECIDE,
        "extension",
        lambda **kw: services.decide_extension(grant=False, **kw),
        gettext_lazy("Extension refused."),
    ),
    "request_extension": (
        CHANGE,
        "request",
        lambda **kw: services.request_extension(**kw),
        gettext_lazy("Extension requested."),
    ),
    "won": (
        CHANGE,
        "close",
        lambda **kw: services.close_registration(outcome="won", **kw),
        gettext_lazy("Registration closed as won."),
    ),
    "lost": (
        CHANGE,
        "close",
        lambda **kw: services.close_registration(outcome="lost", **kw),
        gettext_lazy("Registration closed as lost."),
    ),
    "withdraw": (
        CHANGE,
        "close",
        lambda **kw: services.withdraw(**kw),
        gettext_lazy("Registration withdrawn."),
    ),
}


def _why_text(code: str) -> str:
    texts = {
        "conflicts": _("possible conflicts were found"),
        "gate_warn": _("the scorecard standing asks for a review"),
        "gate_block": _("the scorecard standing blocks registrations"),
        "auto_approve_off": _("automatic approval is off"),
        "policy_manual": _("every conflict is reviewed by hand"),
    }
    return texts.get(code, code.replace("_", " "))


def _conflict_input(conflict: Mapping[str, Any]) -> str:
    """One conflict a decision considered: kind, score, resolution, whether it blocked."""
    values = {
        "kind": dict(Conflict.Kind.choices).get(conflict.get("kind"), conflict.get("kind")),
        "score": conflict.get("score"),
        "resolution": dict(Conflict.Resolution.choices).get(
            conflict.get("resolution"), conflict.get("resolution")
        ),
    }
    if conflict.get("blocking"):
        return _("%(kind)s, score %(score)s, %(resolution)s, blocks approval") % values
    return _("%(kind)s, score %(score)s, %(resolution)s") % values


def _decision(registration: Registration) -> dict[str, Any] | None:
    """The rule that placed the registration where it stands, and its inputs ("why?")."""
    decision = registration.decision if isinstance(registration.decision, Mapping) else {}
    if not decision:
        return None
    rule = str(decision.get("rule", ""))
    inputs = decision.get("inputs") if isinstance(decision.get("inputs"), Mapping) else {}
    lines: list[tuple[str, str]] = []
    why = [code for code in decision.get("why") or [] if isinstance(code, str)]
    if why:
        lines.append((_("Because"), "; ".join(_why_text(code) for code in why)))
    conflicts = [c for c in inputs.get("conflicts") or [] if isinstance(c, Mapping)]
    if conflicts:
        lines.append((_("Conflicts considered"), "; ".join(_conflict_input(c) for c in conflicts)))
    elif "conflicts" in inputs:
        lines.append((_("Conflicts considered"), _("none")))
    gate = inputs.get("gate")
    if isinstance(gate, Mapping):
        levels = {"none": _("no restriction"), "warn": _("warning"), "block": _("blocked")}
        text = str(levels.get(gate.get("level"), gate.get("level")))
        reasons = [str(r) for r in gate.get("reasons") or []]
        lines.append((_("Scorecard standing"), "; ".join([text, *reasons])))
    protection = inputs.get("protection")
    if isinstance(protection, Mapping):
        values = {"days": protection.get("days"), "tier": protection.get("tier")}
        if values["tier"]:
            text = _("%(days)s days, the window of tier %(tier)s") % values
        else:
            text = _("%(days)s days") % values
        lines.append((_("Protection window"), text))
    rules = inputs.get("rules")
    if isinstance(rules, Mapping):
        policies = dict(EngagementRules.Policy.choices)
        lines.append(
            (
                _("Rules applied"),
                _("%(policy)s; automatic approval %(auto)s; name threshold %(threshold)s")
                % {
                    "policy": policies.get(rules.get("policy"), rules.get("policy")),
                    "auto": _("on") if rules.get("auto_approve") else _("off"),
                    "threshold": rules.get("name_threshold"),
                },
            )
        )
    if decision.get("reason"):
        lines.append((_("Reason"), str(decision["reason"])))
    return {"rule": rule, "text": RULES.get(rule, rule.replace("_", " ")), "inputs": lines}


def _side(values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if name == "product_lines":
        return [str(line) for line in value or []]
    return value or ""


REGISTRATION_ROWS = (
    ("organisation", gettext_lazy("Registered by")),
    ("number", gettext_lazy("Number")),
    ("customer_name", gettext_lazy("End customer")),
    ("customer_tax_id", gettext_lazy("Tax / registration id")),
    ("customer_domain", gettext_lazy("Website domain")),
    ("customer_country", gettext_lazy("Country")),
    ("product_lines", gettext_lazy("Product lines")),
    ("status", gettext_lazy("Status")),
    ("submitted_at", gettext_lazy("Submitted")),
    ("protected_until", gettext_lazy("Protected until")),
)
CUSTOMER_ROWS = (
    ("customer_name", gettext_lazy("End customer")),
    ("customer_tax_id", gettext_lazy("Tax / registration id")),
    ("customer_domain", gettext_lazy("Website domain")),
    ("customer_country", gettext_lazy("Country")),
)


def _with_rows(conflict: dict[str, Any], mine: Mapping[str, Any]) -> dict[str, Any]:
    """The conflict with its side-by-side rows: this registration vs the other one (or the
    named account), each row marked when a reason points at it."""
    reasons = [r for r in conflict.get("reasons") or [] if isinstance(r, Mapping)]
    matched = {REASON_FIELDS[r.get("code")] for r in reasons if r.get("code") in REASON_FIELDS}
    shared = {
        str(line)
        for r in reasons
        if r.get("code") == "products"
        for line in r.get("product_lines") or []
    }
    other, customer = conflict.get("other"), conflict.get("end_customer")
    if other:
        theirs: Mapping[str, Any] = other
        fields = REGISTRATION_ROWS
    elif customer:
        theirs = {
            "customer_name": customer.get("name"),
            "customer_tax_id": customer.get("tax_key"),
            "customer_domain": customer.get("domain_key"),
            "customer_country": customer.get("country"),
        }
        fields = CUSTOMER_ROWS
    else:
        theirs, fields = {}, ()
    status_labels = dict(Status.choices)
    rows = []
    for name, label in fields:
        left, right = _side(mine, name), _side(theirs, name)
        if name == "status":
            left, right = status_labels.get(left, left), status_labels.get(right, right)
        row: dict[str, Any] = {
            "name": name,
            "label": label,
            "mine": left,
            "theirs": right,
            "match": name in matched,
            "list": name == "product_lines",
            "date": name in ("submitted_at", "protected_until"),
        }
        if row["list"]:
            both = shared or set(left) & set(right)
            row["mine"] = [(line, line in both) for line in left]
            row["theirs"] = [(line, line in both) for line in right]
        rows.append(row)
    return {
        **conflict,
        "rows": rows,
        "resolution_label": dict(Conflict.Resolution.choices).get(
            conflict.get("resolution"), conflict.get("resolution")
        ),
        "kind_label": conflict.get("kind_label")
        or dict(Conflict.Kind.choices).get(conflict.get("kind"), conflict.get("kind")),
    }


def _mine(registration: Registration) -> dict[str, Any]:
    return {
        "organisation": registration.organisation.name,
        "number": registration.number,
        "customer_name": registration.customer_name,
        "customer_tax_id": registration.customer_tax_id,
        "customer_domain": registration.customer_domain,
        "customer_country": registration.customer_country,
        "product_lines": registration.product_lines(),
        "status": registration.status,
        "submitted_at": registration.submitted_at,
        "protected_until": registration.protected_until,
    }


def _detail_context(
    request: HttpRequest,
    registration: Registration,
    *,
    forms: Mapping[str, Any] | None = None,
    resolve_forms: Mapping[int, Any] | None = None,
) -> dict[str, Any]:
    user = request.user
    forms = dict(forms or {})
    resolve_forms = dict(resolve_forms or {})
    status = registration.status
    now = timezone.now()
    mine = _mine(registration)
    conflicts = [_with_rows(c, mine) for c in selectors.conflicts(user, registration)]
    can_resolve = user.has_perm(RESOLVE)
    for conflict in conflicts:
        conflict["can_resolve"] = (
            can_resolve
            and not conflict.get("hidden")
            and conflict.get("id") is not None
            and conflict.get("resolution") == Conflict.Resolution.OPEN
        )
        if conflict["can_resolve"]:
            conflict["form"] = resolve_forms.get(conflict["id"]) or ResolveForm(
                prefix=f"conflict-{conflict['id']}"
            )
    extension_pending = bool(
        registration.extension_requested_at and not registration.extension_decided_at
    )
    can = {
        "decide": user.has_perm(DECIDE) and status in (Status.SUBMITTED, Status.RETURNED),
        "decide_extension": user.has_perm(DECIDE)
        and status == Status.APPROVED
        and extension_pending,
        "request_extension": user.has_perm(CHANGE)
        and status == Status.APPROVED
        and not registration.extension_requested_at,
        "close": user.has_perm(CHANGE) and status == Status.APPROVED,
        "withdraw": user.has_perm(CHANGE) and status in Registration.OPEN,
        "edit": user.has_perm(CHANGE) and status in (Status.SUBMITTED, Status.RETURNED),
    }
    action_forms = {
        prefix: forms.get(prefix) or ReasonForm(prefix=prefix)
        for prefix in ("decide", "extension", "request", "close")
    }
    return {
        "registration": _badge(registration),
        "conflicts": conflicts,
        "open_blocking": sum(
            1
            for c in conflicts
            if c.get("blocking") and c.get("resolution") == Conflict.Resolution.OPEN
        ),
        "decision": _decision(registration),
        "can": can,
        "any_action": any(can.values()),
        "extension_pending": extension_pending,
        "action_forms": action_forms,
        "overdue": status == Status.SUBMITTED
        and registration.approval_due is not None
        and registration.approval_due < now,
        "products": list(registration.products.all()),
        "entries": selectors.history(user, registration)[:HISTORY_LIMIT]
        if user.has_perm("core.view_auditentry")
        else [],
    }


@login_required
@require_GET
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.get_registration(request.user, pk)
    return _render(
        request, "deals/registration_detail.html", _detail_context(request, registration)
    )


@login_required
@require_POST
def registration_action(request: HttpRequest, pk: int) -> HttpResponse:
    """One workflow step (approve, reject, extension, close ...) with its reason."""
    user = request.user
    registration = selectors.get_registration(user, pk)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        messages.error(request, _("Choose one of the actions."))
        return redirect("deals:registration_detail", pk=registration.pk)
    permission, prefix, perform, done = ACTIONS[action]
    _require_perm(request, permission)
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            perform(actor=user, registration=registration, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, str(done))
            return redirect("deals:registration_detail", pk=registration.pk)
    # Show the page as it is now (the service changed nothing) with the errors.
    registration = selectors.get_registration(user, pk)
    context = _detail_context(request, registration, forms={prefix: form})
    context["failed_action"] = prefix
    return _render(request, "deals/registration_detail.html", context)


@login_required
@require_POST
def conflict_resolve(request: HttpRequest, pk: int, conflict_id: int) -> HttpResponse:
    user = request.user
    registration = selectors.get_registration(user, pk)
    _require_perm(request, RESOLVE)
    conflict = registration.conflicts.filter(pk=conflict_id).first()
    if conflict is None:
        raise Http404
    form = ResolveForm(request.POST, prefix=f"conflict-{conflict.pk}")
    if form.is_valid():
        try:
            services.resolve_conflict(
                actor=user,
                conflict=conflict,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Conflict resolved."))
            return redirect("deals:registration_detail", pk=registration.pk)
    registration = selectors.get_registration(user, pk)
    context = _detail_context(request, registration, resolve_forms={conflict.pk: form})
    return _render(request, "deals/registration_detail.html", context)


# -- the approval queue --------------------------------------------------------------------
@login_required
@require_GET
def approval_queue(request: HttpRequest) -> HttpResponse:
    _require_perm(request, DECIDE)
    open_conflict = Q(conflicts__resolution=Conflict.Resolution.OPEN)
    queryset = (
        selectors.approval_queue(request.user)
        .select_related("organisation")
        .prefetch_related("lines")
        .annotate(
            open_conflicts=Count("conflicts", filter=open_conflict),
            top_score=Max("conflicts__score", filter=open_conflict),
        )
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for registration in page.object_list:
        registration.overdue = bool(  # type: ignore[attr-defined]
            registration.approval_due and registration.approval_due < now
        )
        rows.append(_badge(registration))
    context = {"page_obj": page, "registrations": rows}
    return _render(request, "deals/approval_queue.html", context)


# -- rules of engagement -------------------------------------------------------------------
def _tiers(program: Any) -> list[tuple[str, str]]:
    if program is None:
        return []
    live = program_selectors.live_version(program)
    if live is None:
        return []
    return [
        (tier.code, tier.name_zh if _chinese() and tier.name_zh else tier.name)
        for tier in live.tiers.order_by("rank")
    ]


@login_required
def rules_edit(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_perm(request, VIEW_RULES)
    if user.is_partner:
        raise PermissionDenied
    can_edit = user.has_perm(MANAGE_RULES)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    rules = EngagementRules.current()
    programs = program_selectors.programs(user).order_by("name")
    source = request.POST if request.method == "POST" else request.GET
    if "tier_program" in source:
        chosen = _int(source.get("tier_program"))
        program = programs.filter(pk=chosen).first() if chosen else None
    else:
        program = rules.tier_program
    initial = {"tier_program": program.pk if program else None}
    form = RulesForm(
        request.POST if request.method == "POST" else None,
        instance=rules,
        initial=initial,
        programs=programs,
        tiers=_tiers(program),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rules(actor=user, data=form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Rules of engagement saved."))
            return redirect("deals:rules")
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return _render(
        request,
        "deals/rules_form.html",
        {"form": form, "can_edit": can_edit, "program": program, "rules": rules},
    )


# -- named accounts ------------------------------------------------------------------------
@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    _require_perm(request, VIEW_CUSTOMERS)
    form = EndCustomerFilterForm(request.GET or None)
    filters = form.filters()
    queryset = selectors.end_customers(request.user).select_related("territory", "account_owner")
    if filters.get("scope") != "all":
        queryset = queryset.filter(named_account=True)
    if filters.get("q"):
        text = filters["q"]
        queryset = queryset.filter(
            Q(name__icontains=text) | Q(tax_key__icontains=text) | Q(domain_key__icontains=text)
        )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "customers": page.object_list,
        "filtered": bool(filters),
    }
    template = (
        "deals/_customer_rows.html"
        if _wants_partial(request, "customer-results")
        else "deals/customer_list.html"
    )
    return _render(request, template, context)


def _owners(user: Any, customer: EndCustomer | None) -> list[tuple[int, str]]:
    """Vendor staff who may own a named account: those the user may list, and always the
    user and the current owner (a channel manager may not list users)."""
    people = {
        person.pk: person
        for person in account_selectors.list_users(user).filter(organisation__is_vendor=True)
    }
    people.setdefault(user.pk, user)
    owner = customer.account_owner if customer is not None else None
    if owner is not None:
        people.setdefault(owner.pk, owner)
    return sorted(
        (
            (pk, f"{person.full_name or person.email} <{person.email}>")
            for pk, person in people.items()
        ),
        key=lambda choice: choice[1].casefold(),
    )


def _customer_form(request: HttpRequest, customer: EndCustomer | None) -> HttpResponse:
    user = request.user
    form = EndCustomerForm(
        request.POST if request.method == "POST" else None,
        user=user,
        owners=_owners(user, customer),
        initial=EndCustomerForm.initial_from(customer) if customer else {"named_account": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_end_customer(actor=user, data=form.service_data(), end_customer=customer)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("End customer saved."))
            return redirect("deals:customer_list")
    return _render(request, "deals/customer_form.html", {"form": form, "customer": customer})


@login_required
def customer_new(request: HttpRequest) -> HttpResponse:
    _require_perm(request, ADD_CUSTOMER)
    return _customer_form(request, None)


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.end_customers(request.user).filter(pk=pk).first()
    if customer is None:
        raise Http404
    _require_perm(request, CHANGE_CUSTOMER)
    return _customer_form(request, customer)
