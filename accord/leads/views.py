"""Pages of accord.leads: the lead list (partners: their inbox), a new lead, one lead with its
routing history and the responses and staff actions on it, the routing rules editor and the
lead settings.

Thin views: reads through ``selectors`` (every row via ``restrict()``), writes through
``services``; service errors become form errors or messages, never error pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.timesince import timeuntil
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accord.core.errors import PermissionDenied, ValidationError
from accord.core.exports import table_response
from accord.core.forms import add_service_errors
from accord.deals import selectors as deal_selectors
from accord.leads import forms as lead_forms
from accord.leads import selectors, services
from accord.leads.forms import (
    AssignForm,
    CloseForm,
    DeclineForm,
    LeadFilterForm,
    LeadForm,
    SettingsForm,
)
from accord.leads.models import Lead, RoutingRule
from accord.partners import selectors as partner_selectors
from accord.partners.models import Organisation, within_path
from accord.programs import selectors as program_selectors

PAGE_SIZE = 50
PARTNER_LIMIT = 100
VIEW_PERMISSION = "leads.view_lead"
ADD_PERMISSION = "leads.add_lead"
ROUTE_PERMISSION = "leads.route_lead"
RESPOND_PERMISSION = "leads.respond_lead"
RULES_VIEW_PERMISSION = "leads.view_routingrule"
RULES_EDIT_PERMISSION = "leads.change_routingrule"
SETTINGS_VIEW_PERMISSION = "leads.view_leadsettings"
SETTINGS_EDIT_PERMISSION = "leads.change_leadsettings"
URGENT = dt.timedelta(hours=4)
CLOSED = (Lead.Status.WON, Lead.Status.LOST)


# -- small helpers ----------------------------------------------------------------------
def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, {"nav": "leads", **context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _localized(name: str, name_zh: str = "") -> str:
    chinese = (get_language() or "").lower().startswith("zh")
    return name_zh if chinese and name_zh else name


def deadline(lead: Lead, now: dt.datetime) -> dict[str, Any] | None:
    """The accept-by time of an offered lead as text: how long is left, or that it lapsed."""
    if lead.status != Lead.Status.OFFERED or lead.accept_by is None:
        return None
    left = lead.accept_by - now
    if left <= dt.timedelta(0):
        text = _("The acceptance time has run out; the lead is about to be recalled.")
    else:
        text = _("%(left)s left to accept") % {"left": timeuntil(lead.accept_by, now, depth=2)}
    return {
        "at": lead.accept_by,
        "text": text,
        "overdue": left <= dt.timedelta(0),
        "urgent": dt.timedelta(0) < left <= URGENT,
    }


def _rows(leads: Any, now: dt.datetime) -> list[dict[str, Any]]:
    return [{"lead": lead, "deadline": deadline(lead, now)} for lead in leads]


def _partner_options(user: Any) -> list[tuple[int, str]]:
    """The partners a lead may be given to by hand: active, visible, not the vendor."""
    return list(
        partner_selectors.list_organisations(user, status=Organisation.Status.ACTIVE)
        .filter(is_vendor=False)
        .values_list("pk", "name")
    )


# -- the list -----------------------------------------------------------------------------
def _filtered(user: Any, filters: Mapping[str, Any]) -> QuerySet:
    queryset = selectors.leads(user).select_related("assigned_to", "territory")
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    partner = filters.get("partner")
    if partner == 0:
        queryset = queryset.filter(assigned_to__isnull=True)
    elif partner:
        queryset = queryset.filter(assigned_to_id=partner)
    if filters.get("territory"):
        territory = partner_selectors.find_territory(user, filters["territory"])
        if territory is not None:
            queryset = queryset.filter(within_path(territory.path, "territory__path"))
    text = filters.get("q")
    if text:
        queryset = queryset.filter(
            Q(number__icontains=text)
            | Q(company_name__icontains=text)
            | Q(contact_name__icontains=text)
            | Q(contact_email__icontains=text)
            | Q(external_key__icontains=text)
            | Q(city__icontains=text)
        )
    return queryset


def _filter_form(request: HttpRequest) -> LeadFilterForm:
    user = request.user
    partners = (
        selectors.leads(user)
        .exclude(assigned_to=None)
        .order_by("assigned_to__name", "assigned_to_id")
        .values_list("assigned_to_id", "assigned_to__name")
        .distinct()
    )
    return LeadFilterForm(
        request.GET or None,
        partners=list(partners),
        territories=lead_forms.territory_options(user),
    )


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    """Staff: every lead they see, filtered, with exports. Partners: their inbox (offers
    awaiting acceptance, with the time left) and the leads they work on."""
    _require_perm(request, VIEW_PERMISSION)
    user = request.user
    now = timezone.now()
    if user.is_partner:
        own = selectors.leads(user).select_related("assigned_to", "territory")
        context = {
            "inbox": _rows(selectors.inbox(user).select_related("territory"), now),
            "accepted": _rows(own.filter(status=Lead.Status.ACCEPTED)[:PARTNER_LIMIT], now),
            "closed": _rows(own.filter(status__in=CLOSED)[:PARTNER_LIMIT], now),
            "can_respond": user.has_perm(RESPOND_PERMISSION),
        }
        return _render(request, "leads/inbox.html", context)
    form = _filter_form(request)
    filters = form.filters()
    page = Paginator(_filtered(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "rows": _rows(page.object_list, now),
        "filtered": bool(filters),
        "query": request.GET.urlencode(),
    }
    if _wants_partial(request, "lead-results"):
        return _render(request, "leads/_lead_rows.html", context)
    return _render(request, "leads/lead_list.html", context)


def _wall_clock(value: dt.datetime | None) -> dt.datetime | None:
    """A time as the site's clock shows it, without a zone (spreadsheets refuse zones)."""
    return timezone.localtime(value).replace(tzinfo=None) if value is not None else None


@login_required
@require_GET
def lead_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as CSV or XLSX: every row, not one page."""
    _require_perm(request, VIEW_PERMISSION)
    user = request.user
    queryset = _filtered(user, _filter_form(request).filters())
    header = [
        _("Number"),
        _("Created"),
        _("Company"),
        _("Contact"),
        _("E-mail"),
        _("Phone"),
        _("Country"),
        _("Province / state"),
        _("City"),
        _("Territory"),
        _("Product line"),
        _("Estimated value"),
        _("Currency"),
        _("Status"),
        _("Assigned to"),
        _("Offered"),
        _("Accept by"),
        _("Accepted"),
        _("Closed"),
        _("Offers made"),
        _("Source"),
        _("External key"),
    ]

    def lines() -> Iterator[list[Any]]:
        for lead in queryset.iterator(chunk_size=2000):
            created, offered, accept_by, accepted, closed = (
                _wall_clock(value)
                for value in (
                    lead.created_at,
                    lead.offered_at,
                    lead.accept_by,
                    lead.accepted_at,
                    lead.closed_at,
                )
            )
            yield [
                lead.number,
                created,
                lead.company_name,
                lead.contact_name,
                lead.contact_email,
                lead.contact_phone,
                lead.country,
                lead.region,
                lead.city,
                lead.territory.name if lead.territory else "",
                lead.product_line,
                lead.value,
                lead.currency,
                lead.get_status_display(),
                lead.assigned_to.name if lead.assigned_to else "",
                offered,
                accept_by,
                accepted,
                closed,
                lead.offers,
                lead.get_source_display(),
                lead.external_key or "",
            ]

    stamp = timezone.localdate().isoformat()
    return table_response(fmt, f"leads-{stamp}", header, lines(), title=_("Leads"))


# -- a new lead ---------------------------------------------------------------------------
def _routed_message(lead: Lead, now: dt.datetime) -> tuple[str, str]:
    """(level, text) saying where a new lead went."""
    if lead.status == Lead.Status.OFFERED and lead.assigned_to is not None:
        return "success", _(
            "Lead %(number)s was offered to %(partner)s, who has until %(until)s to accept."
        ) % {
            "number": lead.number,
            "partner": lead.assigned_to.name,
            "until": timezone.localtime(lead.accept_by).strftime("%Y-%m-%d %H:%M %Z")
            if lead.accept_by
            else "—",
        }
    if lead.status == Lead.Status.MANUAL:
        return "warning", _(
            "Lead %(number)s was saved but no rule found a partner: it waits for manual review."
        ) % {"number": lead.number}
    return "success", _("Lead %(number)s was saved.") % {"number": lead.number}


@login_required
def lead_new(request: HttpRequest) -> HttpResponse:
    """Enter a lead; saving routes it at once and the lead's page shows where it went."""
    _require_perm(request, ADD_PERMISSION)
    user = request.user
    form = LeadForm(
        request.POST or None,
        territories=lead_forms.territory_options(user),
        product_lines=deal_selectors.product_lines(),
    )
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        try:
            lead = services.create_lead(actor=user, data=form.service_data(), source="ui", now=now)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            level, text = _routed_message(lead, now)
            getattr(messages, level)(request, text)
            return redirect("leads:lead_detail", pk=lead.pk)
    return _render(request, "leads/lead_form.html", {"form": form})


# -- one lead -------------------------------------------------------------------------------
def _history(user: Any, lead: Lead) -> list[dict[str, Any]]:
    """The routing events the user may see (a partner: those about its organisation), each
    with the explanation of its routing decision."""
    return [
        {"event": event, "lines": selectors.explain(event)}
        for event in selectors.events(user, lead)
    ]


def _detail_context(request: HttpRequest, lead: Lead, **forms: Any) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    status = lead.status
    is_staff = not user.is_partner
    # A partner answers for its own organisation only (not for a child organisation's leads
    # it can see); it closes the leads it accepted, staff close any accepted lead.
    own = user.is_partner and lead.assigned_to_id == user.organisation_id
    responder = own and user.has_perm(RESPOND_PERMISSION)
    router = is_staff and user.has_perm(ROUTE_PERMISSION)
    can_respond = responder and status == Lead.Status.OFFERED
    can_route = router and status not in CLOSED
    can_close = (responder or router) and status == Lead.Status.ACCEPTED
    context: dict[str, Any] = {
        "lead": lead,
        "deadline": deadline(lead, now),
        "history": _history(user, lead),
        "can_respond": can_respond,
        "can_route": can_route,
        "can_reroute": can_route and status in (Lead.Status.NEW, Lead.Status.MANUAL),
        "can_close": can_close,
        "is_staff": is_staff,
    }
    if can_respond:
        context["decline_form"] = forms.get("decline_form") or DeclineForm()
    if can_route:
        context["assign_form"] = forms.get("assign_form") or AssignForm(
            partners=_partner_options(user)
        )
    if can_close:
        context["close_form"] = forms.get("close_form") or CloseForm()
    return context


def _detail_page(request: HttpRequest, lead: Lead, **forms: Any) -> HttpResponse:
    return _render(request, "leads/lead_detail.html", _detail_context(request, lead, **forms))


def _detail_url(lead: Lead) -> str:
    return reverse("leads:lead_detail", args=[lead.pk])


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.get_lead(request.user, pk)
    return _detail_page(request, lead)


@login_required
@require_POST
def lead_accept(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.get_lead(request.user, pk)
    _require_perm(request, RESPOND_PERMISSION)
    try:
        lead = services.accept_lead(actor=request.user, lead=lead, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You accepted lead %(number)s: it is yours to work.") % {"number": lead.number},
        )
    return redirect(_detail_url(lead))


@login_required
@require_POST
def lead_decline(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.get_lead(request.user, pk)
    _require_perm(request, RESPOND_PERMISSION)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.decline_lead(
                actor=request.user,
                lead=lead,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("You declined lead %(number)s; it goes to another partner.")
                % {"number": lead.number},
            )
            # The lead now belongs to someone else (or to no one): back to the inbox.
            return redirect("leads:lead_list")
    return _detail_page(request, lead, decline_form=form)


@login_required
@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lead = selectors.get_lead(user, pk)
    _require_perm(request, ROUTE_PERMISSION)
    form = AssignForm(request.POST, partners=_partner_options(user))
    if form.is_valid():
        organisation = partner_selectors.find_organisation(user, form.cleaned_data["organisation"])
        if organisation is None:
            form.add_error("organisation", _("Choose a partner from the list."))
        else:
            try:
                lead = services.assign_lead(
                    actor=user,
                    lead=lead,
                    organisation=organisation,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Lead %(number)s was given to %(partner)s.")
                    % {"number": lead.number, "partner": organisation.name},
                )
                return redirect(_detail_url(lead))
    return _detail_page(request, lead, assign_form=form)


@login_required
@require_POST
def lead_route(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the routing rules again (a lead in manual review after the rules changed)."""
    user = request.user
    lead = selectors.get_lead(user, pk)
    _require_perm(request, ROUTE_PERMISSION)
    now = timezone.now()
    try:
        lead = services.route_lead(actor=user, lead=lead, now=now)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        level, text = _routed_message(lead, now)
        getattr(messages, level)(request, text)
    return redirect(_detail_url(lead))


@login_required
@require_POST
def lead_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lead = selectors.get_lead(user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            lead = services.close_lead(
                actor=user,
                lead=lead,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Lead %(number)s was closed: %(outcome)s.")
                % {"number": lead.number, "outcome": lead.get_status_display()},
            )
            return redirect(_detail_url(lead))
    return _detail_page(request, lead, close_form=form)


# -- the routing rules ------------------------------------------------------------------------
def _tier_program(user: Any) -> Any:
    """The program whose tiers routing reads (None when unset or not for this user)."""
    if not user.has_perm(SETTINGS_VIEW_PERMISSION):
        return None
    return selectors.lead_settings(user).tier_program


def _tier_options(user: Any) -> list[tuple[str, str, int]]:
    """(code, name, rank) of the live tiers of the settings' tier program, lowest first."""
    program = _tier_program(user)
    version = program_selectors.live_version(program) if program is not None else None
    if version is None:
        return []
    return [
        (tier.code, _localized(tier.name, tier.name_zh), tier.rank)
        for tier in version.tiers.order_by("rank")
    ]


@login_required
def rules_edit(request: HttpRequest) -> HttpResponse:
    """The ordered routing rules: add, remove, move, kind-specific parameters; saved whole."""
    user = request.user
    _require_perm(request, RULES_VIEW_PERMISSION)
    can_edit = user.has_perm(RULES_EDIT_PERMISSION)
    loose: list[str] = []
    if request.method == "POST":
        _require_perm(request, RULES_EDIT_PERMISSION)
        state = lead_forms.parse_editor(request.POST)
        operation = request.POST.get("op", "")
        if not operation:
            try:
                services.save_rules(actor=user, rules=lead_forms.editor_rules(state))
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    loose = lead_forms.attach_errors(state, error.message_dict)
                else:
                    loose = list(error.messages)
            else:
                messages.success(request, _("The routing rules were saved."))
                return redirect("leads:rules")
        else:
            lead_forms.apply_operation(state, operation)
    else:
        state = lead_forms.editor_state(selectors.rules(user))
    tiers = _tier_options(user)
    context = {
        "state": lead_forms.number_inputs(state),
        "loose_errors": loose,
        "has_errors": bool(loose) or lead_forms.has_errors(state),
        "can_edit": can_edit,
        "kind_choices": RoutingRule.Kind.choices,
        "partner_kinds": lead_forms.partner_kinds(),
        "weight_choices": lead_forms.WEIGHTS,
        "tier_choices": [(code, name) for code, name, _rank in tiers],
        "rank_choices": [(str(rank), name) for _code, name, rank in tiers],
        "tier_program": _tier_program(user),
        "max_rules": lead_forms.MAX_POSTED,
    }
    if _wants_partial(request, "rules-editor"):
        return _render(request, "leads/_rules_form.html", context)
    return _render(request, "leads/rules.html", context)


# -- the settings -----------------------------------------------------------------------------
def _program_tiers(user: Any, program_id: int | None) -> list[tuple[str, str]]:
    if program_id is None:
        return []
    program = program_selectors.programs(user).filter(pk=program_id).first()
    version = program_selectors.live_version(program) if program is not None else None
    if version is None:
        return []
    return [
        (tier.code, _localized(tier.name, tier.name_zh)) for tier in version.tiers.order_by("rank")
    ]


def _chosen_program(data: Mapping[str, Any], default: int | None) -> int | None:
    value = str(data.get("tier_program", "")).strip()
    if value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return None if "tier_program" in data else default


@login_required
def lead_settings(request: HttpRequest) -> HttpResponse:
    """The acceptance SLA (per tier of the chosen program), offers before manual review and
    the performance window."""
    user = request.user
    _require_perm(request, SETTINGS_VIEW_PERMISSION)
    current = selectors.lead_settings(user)
    programs = [
        (program.pk, _localized(program.name, program.name_zh))
        for program in program_selectors.programs(user)
    ]
    initial = {
        "acceptance_hours": current.acceptance_hours,
        "tier_program": current.tier_program_id,
        "max_offers": current.max_offers,
        "performance_days": current.performance_days,
        **{f"tier_{code}": hours for code, hours in (current.tier_acceptance_hours or {}).items()},
    }
    data = request.POST if request.method == "POST" else None
    if data is not None:
        _require_perm(request, SETTINGS_EDIT_PERMISSION)
    refresh = data is not None and bool(data.get("op"))
    if refresh:
        # "Show the tiers" after choosing another program: re-render what was typed with
        # that program's tiers; nothing is checked or saved yet.
        initial = {name: data.get(name, "") for name in data if name != "csrfmiddlewaretoken"}
    program_id = _chosen_program(data, current.tier_program_id) if data else current.tier_program_id
    form = SettingsForm(
        None if refresh else data,
        initial=initial,
        programs=programs,
        tiers=_program_tiers(user, program_id),
    )
    if data is not None and not refresh and form.is_valid():
        try:
            services.update_settings(actor=user, data=form.service_data())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for key, texts in error.message_dict.items():
                    form.add_service_error(key, texts)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, _("The lead settings were saved."))
            return redirect("leads:settings")
    context = {
        "form": form,
        "settings": current,
        "can_edit": user.has_perm(SETTINGS_EDIT_PERMISSION),
    }
    if _wants_partial(request, "settings-form"):
        return _render(request, "leads/_settings_form.html", context)
    return _render(request, "leads/settings.html", context)
