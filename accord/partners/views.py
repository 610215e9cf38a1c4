"""Pages of accord.partners: organisations, contacts, agreements, territories.

Thin views: reads through ``selectors`` (every row via ``restrict()``), writes through
``services``; service errors become form errors or messages, never error pages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.channel import selectors as channel_selectors
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.forms import ReasonForm, add_service_errors
from accord.partners import selectors, services
from accord.partners.forms import (
    AgreementForm,
    AssignmentForm,
    ContactForm,
    OrganisationFilterForm,
    OrganisationForm,
    TargetFormSet,
    TerritoryForm,
    target_initial,
)
from accord.partners.models import Agreement, Contact, Organisation
from accord.programs import selectors as program_selectors

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50

TABS = (
    ("profile", gettext_lazy("Profile")),
    ("contacts", gettext_lazy("Contacts")),
    ("territories", gettext_lazy("Territories")),
    ("agreements", gettext_lazy("Agreements")),
    ("channel", gettext_lazy("Channel data")),
    ("tiers", gettext_lazy("Tiers & scores")),
    ("history", gettext_lazy("History")),
)
# Tabs shown only to users holding this permission.
TAB_PERMISSIONS = {
    "history": "core.view_auditentry",
    "channel": "channel.view_salesline",
    "tiers": "programs.view_membership",
}
SORT_COLUMNS = (
    ("name", gettext_lazy("Name")),
    ("kind", gettext_lazy("Kind")),
    ("status", gettext_lazy("Status")),
    ("country", gettext_lazy("Country")),
)


def _wants_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request aimed at ``target`` (not a history restore, which needs the page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _form_data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def home(request: HttpRequest) -> HttpResponse:
    return redirect("partners:organisation_list")


# -- organisations --------------------------------------------------------------
@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    form = OrganisationFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    sort = filters.get("sort", "name")
    queryset = selectors.list_organisations(request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    columns = []
    for key, label in SORT_COLUMNS:
        current = sort.lstrip("-") == key
        columns.append(
            {
                "key": key,
                "label": label,
                "next": f"-{key}" if sort == key else key,
                "direction": ("desc" if sort.startswith("-") else "asc") if current else "",
            }
        )
    context = {
        "nav": "organisations",
        "form": form,
        "page_obj": page,
        "organisations": page.object_list,
        "columns": columns,
        "sort": sort,
        "filtered": any(name != "sort" for name in filters),
    }
    template = (
        "partners/_organisation_rows.html"
        if _wants_partial(request, "organisation-results")
        else "partners/organisation_list.html"
    )
    return _render(request, template, context)


def _confirm_then(
    request: HttpRequest,
    perform: Callable[[], Any],
    *,
    done: str,
    back: str,
    nav: str,
    title: str,
    question: str,
    button: str,
) -> HttpResponse:
    """GET asks ``question``; POST runs ``perform`` (a service call) and goes ``back``."""
    if request.method == "POST":
        try:
            perform()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect(back)
    return _render(
        request,
        "partners/confirm.html",
        {
            "nav": nav,
            "title": title,
            "question": question,
            "button": button,
            "cancel_url": back,
        },
    )


def _detail_url(organisation_id: int, tab: str = "") -> str:
    url = reverse("partners:organisation_detail", args=[organisation_id])
    return f"{url}?tab={tab}" if tab else url


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    organisation = selectors.get_organisation(user, pk)
    tabs = [t for t in TABS if t[0] not in TAB_PERMISSIONS or user.has_perm(TAB_PERMISSIONS[t[0]])]
    tab = request.GET.get("tab", "profile")
    if tab not in dict(tabs):
        tab = "profile"
    context: dict[str, Any] = {
        "nav": "organisations",
        "organisation": organisation,
        "tabs": tabs,
        "tab": tab,
        "transitions": [],
        "renewal_due": selectors.count_renewal_due(user, organisation),
    }
    if user.has_perm("partners.transition_organisation"):
        context["transitions"] = [
            (status, Organisation.Status(status).label)
            for status in organisation.allowed_transitions()
        ]
        context["transition_form"] = ReasonForm()
    if tab == "profile":
        context["children"] = selectors.organisation_children(user, organisation)
    elif tab == "contacts":
        context["contacts"] = selectors.list_contacts(user, organisation)
    elif tab == "territories":
        context["assignments"] = selectors.list_assignments(user, organisation)
    elif tab == "agreements":
        context["agreements"] = selectors.list_agreements(user, organisation)
    elif tab == "channel":
        context.update(
            channel_selectors.organisation_channel_context(
                user, organisation.pk, timezone.localdate()
            )
        )
    elif tab == "tiers":
        context.update(program_selectors.organisation_tiers_context(user, organisation))
    elif tab == "history":
        page = Paginator(
            selectors.organisation_history(user, organisation), HISTORY_PAGE_SIZE
        ).get_page(request.GET.get("page"))
        context["page_obj"] = page
        context["entries"] = page.object_list
    template = (
        "partners/_organisation_tab.html"
        if _wants_partial(request, "organisation-tabs")
        else "partners/organisation_detail.html"
    )
    return _render(request, template, context)


@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "partners.add_organisation")
    form = OrganisationForm(_form_data(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_organisation(
                actor=request.user, data=form.service_data(), tags=form.cleaned_data["tags"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Organisation %(name)s was created.") % {"name": organisation.name}
            )
            return redirect(_detail_url(organisation.pk))
    return _render(
        request,
        "partners/organisation_form.html",
        {
            "nav": "organisations",
            "form": form,
            "organisation": None,
        },
    )


@login_required
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.get_organisation(request.user, pk, "change")
    form = OrganisationForm(
        _form_data(request), user=request.user, instance=copy.copy(organisation)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(
                actor=request.user,
                organisation=organisation,
                data=form.service_data(),
                tags=form.cleaned_data["tags"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect(_detail_url(organisation.pk))
    return _render(
        request,
        "partners/organisation_form.html",
        {
            "nav": "organisations",
            "form": form,
            "organisation": organisation,
        },
    )


@login_required
@require_POST
def organisation_transition(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.get_organisation(request.user, pk, "transition")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The status change was not valid."))
        return redirect(_detail_url(organisation.pk))
    try:
        services.transition_organisation(
            actor=request.user,
            organisation=organisation,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Status changed to %(status)s.") % {"status": organisation.get_status_display()},
        )
    return redirect(_detail_url(organisation.pk))


# -- contacts ---------------------------------------------------------------------
@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.get_organisation(request.user, pk)
    _require_perm(request, "partners.add_contact")
    form = ContactForm(_form_data(request), instance=Contact(organisation=organisation))
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.create_contact(
                actor=request.user, organisation=organisation, data=form.service_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact %(name)s was added.") % {"name": contact})
            return redirect(_detail_url(organisation.pk, "contacts"))
    return _render(
        request,
        "partners/contact_form.html",
        {
            "nav": "organisations",
            "form": form,
            "organisation": organisation,
            "contact": None,
        },
    )


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact(request.user, pk, "change")
    form = ContactForm(_form_data(request), instance=copy.copy(contact))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(actor=request.user, contact=contact, data=form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect(_detail_url(contact.organisation_id, "contacts"))
    return _render(
        request,
        "partners/contact_form.html",
        {
            "nav": "organisations",
            "form": form,
            "organisation": contact.organisation,
            "contact": contact,
        },
    )


@login_required
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact(request.user, pk, "delete")
    return _confirm_then(
        request,
        lambda: services.delete_contact(actor=request.user, contact=contact),
        done=_("Contact %(name)s was deleted.") % {"name": contact},
        back=_detail_url(contact.organisation_id, "contacts"),
        nav="organisations",
        title=_("Delete contact"),
        question=_("Delete the contact %(name)s of %(organisation)s?")
        % {"name": contact, "organisation": contact.organisation},
        button=_("Delete"),
    )


# -- agreements ---------------------------------------------------------------------
def _agreement_form_page(
    request: HttpRequest, organisation: Organisation, agreement: Agreement | None
) -> HttpResponse:
    data = _form_data(request)
    form = AgreementForm(
        data,
        instance=copy.copy(agreement) if agreement else Agreement(organisation=organisation),
    )
    formset = TargetFormSet(
        data, prefix="targets", initial=target_initial(agreement) if agreement else None
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            if agreement is None:
                agreement = services.create_agreement(
                    actor=request.user,
                    organisation=organisation,
                    data=form.service_data(),
                    targets=formset.rows(),
                )
                messages.success(
                    request,
                    _("Agreement %(reference)s was created.") % {"reference": agreement.reference},
                )
            else:
                services.update_agreement(
                    actor=request.user,
                    agreement=agreement,
                    data=form.service_data(),
                    targets=formset.rows(),
                )
                messages.success(request, _("Your changes were saved."))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("partners:agreement_detail", pk=agreement.pk)
    return _render(
        request,
        "partners/agreement_form.html",
        {
            "nav": "organisations",
            "form": form,
            "formset": formset,
            "organisation": organisation,
            "agreement": agreement,
        },
    )


@login_required
def agreement_create(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.get_organisation(request.user, pk)
    _require_perm(request, "partners.add_agreement")
    return _agreement_form_page(request, organisation, None)


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.get_agreement(request.user, pk, "change")
    return _agreement_form_page(request, agreement.organisation, agreement)


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    agreement = selectors.get_agreement(user, pk)
    context: dict[str, Any] = {
        "nav": "organisations",
        "agreement": agreement,
        "organisation": agreement.organisation,
        "transitions": [],
        "entries": [],
    }
    if user.has_perm("partners.transition_agreement"):
        context["transitions"] = [
            (status, Agreement.Status(status).label)
            for status in Agreement.TRANSITIONS.get(agreement.status, ())
        ]
        context["transition_form"] = ReasonForm()
    if user.has_perm("core.view_auditentry"):
        context["entries"] = selectors.object_history(user, agreement)[:50]
    return _render(request, "partners/agreement_detail.html", context)


@login_required
@require_POST
def agreement_transition(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = selectors.get_agreement(request.user, pk, "transition")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The status change was not valid."))
        return redirect("partners:agreement_detail", pk=agreement.pk)
    try:
        services.transition_agreement(
            actor=request.user,
            agreement=agreement,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Status changed to %(status)s.") % {"status": agreement.get_status_display()}
        )
    return redirect("partners:agreement_detail", pk=agreement.pk)


# -- territory assignments ----------------------------------------------------------
@login_required
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = selectors.get_organisation(request.user, pk)
    _require_perm(request, "partners.add_territoryassignment")
    form = AssignmentForm(_form_data(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = services.assign_territory(
                actor=request.user,
                organisation=organisation,
                territory=form.cleaned_data["territory"],
                exclusive=form.cleaned_data["exclusive"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Territory %(territory)s was assigned.") % {"territory": assignment.territory},
            )
            return redirect(_detail_url(organisation.pk, "territories"))
    return _render(
        request,
        "partners/assignment_form.html",
        {
            "nav": "organisations",
            "form": form,
            "organisation": organisation,
        },
    )


@login_required
def assignment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = selectors.get_assignment(request.user, pk, "delete")
    return _confirm_then(
        request,
        lambda: services.unassign_territory(actor=request.user, assignment=assignment),
        done=_("Territory %(territory)s was removed.") % {"territory": assignment.territory},
        back=_detail_url(assignment.organisation_id, "territories"),
        nav="organisations",
        title=_("Remove territory"),
        question=_("Remove %(territory)s from %(organisation)s?")
        % {"territory": assignment.territory, "organisation": assignment.organisation},
        button=_("Remove"),
    )


# -- territories ------------------------------------------------------------------------
@login_required
def territory_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "partners/territory_list.html",
        {
            "nav": "territories",
            "tree": selectors.territory_tree(request.user),
        },
    )


@login_required
def territory_create(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "partners.add_territory")
    form = TerritoryForm(_form_data(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            territory = services.create_territory(actor=request.user, data=form.service_data())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Territory %(name)s was created.") % {"name": territory.name}
            )
            return redirect("partners:territory_list")
    return _render(
        request,
        "partners/territory_form.html",
        {
            "nav": "territories",
            "form": form,
            "territory": None,
        },
    )


@login_required
def territory_edit(request: HttpRequest, pk: int) -> HttpResponse:
    territory = selectors.get_territory(request.user, pk, "change")
    form = TerritoryForm(_form_data(request), user=request.user, instance=copy.copy(territory))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_territory(
                actor=request.user, territory=territory, data=form.service_data()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("partners:territory_list")
    return _render(
        request,
        "partners/territory_form.html",
        {
            "nav": "territories",
            "form": form,
            "territory": territory,
        },
    )


@login_required
def territory_delete(request: HttpRequest, pk: int) -> HttpResponse:
    territory = selectors.get_territory(request.user, pk, "delete")
    return _confirm_then(
        request,
        lambda: services.delete_territory(actor=request.user, territory=territory),
        done=_("Territory %(name)s was deleted.") % {"name": territory.name},
        back=reverse("partners:territory_list"),
        nav="territories",
        title=_("Delete territory"),
        question=_("Delete the territory %(name)s?") % {"name": territory.name},
        button=_("Delete"),
    )
