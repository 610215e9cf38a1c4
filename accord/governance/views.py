"""Relationship pages of accord.governance: the list of relationships with their governance
state, and one relationship with its tabs (structure, contact map, cadence, meetings, health,
issues, continuity, onboarding, enablement) and the forms that change it.

Thin views: reads through ``selectors`` (every row via ``restrict()``), writes through
``services``, which also keep partner users to their own side; service errors become form
errors or messages, never error pages. A relationship's id is its organisation's id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accord.core.charts import chart_context, with_chart_csp
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.forms import add_service_errors
from accord.core.views import next_url
from accord.governance.forms import (
    ApplyCadenceForm,
    KeyPersonForm,
    MeetingForm,
    OpenSurveyForm,
    RelationshipFilterForm,
    RelationshipForm,
    RolesForm,
    SlotForm,
    StartOnboardingForm,
)
from accord.governance.models import (
    TIER_ORDER,
    Function,
    HealthSurvey,
    Issue,
    Meeting,
    Relationship,
    RoleAssignment,
    Side,
    Tier,
    in_chinese,
)
from accord.governance.pages import render_page, require_perm
from accord.governance.selectors import continuity as continuity_selectors
from accord.governance.selectors import health as health_selectors
from accord.governance.selectors import issues as issue_selectors
from accord.governance.selectors import meetings as meeting_selectors
from accord.governance.selectors import structure as structure_selectors
from accord.governance.services import continuity as continuity_services
from accord.governance.services import health as health_services
from accord.governance.services import meetings as meeting_services
from accord.governance.services import structure as structure_services
from accord.partners.models import Contact, Organisation

PAGE_SIZE = 25
VIEW_PERMISSION = "governance.view_relationship"
TABS = (
    ("structure", gettext_lazy("Structure")),
    ("contacts", gettext_lazy("Contact map")),
    ("cadence", pgettext_lazy("governance", "Cadence")),
    ("meetings", gettext_lazy("Meetings")),
    ("health", gettext_lazy("Health")),
    ("issues", gettext_lazy("Issues")),
    ("continuity", gettext_lazy("Continuity")),
    ("onboarding", pgettext_lazy("governance", "Onboarding")),
    ("enablement", gettext_lazy("Enablement")),
)
# Tabs whose page draws a chart: linked as whole pages (the chart script and its CSP come
# with the page, not with an htmx swap).
CHART_TABS = frozenset({"health"})
ROLES = RoleAssignment.Role
MEETINGS_SHOWN = 200


# -- small helpers ----------------------------------------------------------------------------
def _require_staff(request: HttpRequest, perm: str) -> None:
    """Vendor staff holding ``perm``; partner users never (the services refuse them too)."""
    if request.user.is_partner:
        raise PermissionDenied
    require_perm(request, perm)


def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _messages_of(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _tab_url(organisation_id: int, tab: str = "", **params: Any) -> str:
    url = reverse("governance:relationship_detail", args=[organisation_id])
    query = {"tab": tab, **params} if tab else params
    if not query:
        return url
    return f"{url}?{urlencode(query)}"


def _organisation(request: HttpRequest, pk: int) -> Organisation:
    """The partner organisation of the relationship ``pk``: 404 when the user cannot see it,
    it is the vendor itself, or the user may not read governance."""
    return structure_selectors.get_relationship(request.user, pk).organisation


def _relationship(request: HttpRequest, organisation: Organisation) -> Relationship:
    """The relationship's record; one not created yet comes unsaved with its defaults
    (pages only read, the first write creates it)."""
    return structure_selectors.get_relationship(request.user, organisation.pk)


def _vendor_people(user: Any, organisation: Organisation) -> Any:
    """Active vendor staff the user may choose (None for partner users: they name their own
    side only)."""
    if user.is_partner:
        return None
    return structure_selectors.selectable_people(user, organisation, Side.VENDOR)


def _partner_people(user: Any, organisation: Organisation) -> Any:
    return structure_selectors.selectable_people(user, organisation, Side.PARTNER)


def _both_sides(user: Any, organisation: Organisation) -> Any:
    """People of either side the user may choose, partner first (partners: their own)."""
    partner = _partner_people(user, organisation)
    vendor = _vendor_people(user, organisation)
    people = partner if vendor is None else (partner | vendor)
    return people.select_related("organisation").order_by(
        "organisation__is_vendor", "full_name", "pk"
    )


# -- the list ---------------------------------------------------------------------------------
@login_required
@require_GET
def relationship_list(request: HttpRequest) -> HttpResponse:
    """Every relationship the user sees, with its health, roles filled, open issues and
    overdue meetings; filters for the ones that need attention."""
    require_perm(request, VIEW_PERMISSION)
    form = RelationshipFilterForm(request.GET or None)
    filters = form.filters()
    try:
        queryset = structure_selectors.list_relationships(request.user, filters)
    except ValidationError as error:
        add_service_errors(form, error)
        queryset = structure_selectors.list_relationships(request.user, {})
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "rows": [_list_row(item) for item in page.object_list],
        "filtered": bool(filters),
        "query": request.GET.urlencode(),
        "role_total": len(ROLES.values),
    }
    if _wants_partial(request, "relationship-results"):
        return render_page(request, "governance/_relationship_rows.html", context)
    return render_page(request, "governance/relationship_list.html", context)


def _list_row(relationship: Relationship) -> dict[str, Any]:
    """A list row: the relationship annotated by ``list_relationships``."""
    roles_filled = getattr(relationship, "roles_filled", 0) or 0
    return {
        "relationship": relationship,
        "organisation": relationship.organisation,
        "roles_filled": roles_filled,
        "roles_doubled": bool(getattr(relationship, "roles_doubled", False)),
        "roles_incomplete": roles_filled < len(ROLES.values)
        or bool(getattr(relationship, "roles_doubled", False)),
    }


# -- one relationship -------------------------------------------------------------------------
def _abilities(user: Any) -> dict[str, bool]:
    """What the user may do on a relationship page (the POST views and services check again)."""
    staff = not user.is_partner

    def has(perm: str) -> bool:
        return user.has_perm(f"governance.{perm}")

    return {
        "is_staff": staff,
        "can_edit_relationship": staff and has("change_relationship"),
        "can_assign_roles": staff and has("change_roleassignment"),
        "can_edit_slots": has("change_contactslot"),
        "can_delete_slots": staff and has("delete_contactslot"),
        "can_add_key_people": has("add_keyperson"),
        "can_remove_key_people": staff and has("delete_keyperson"),
        "can_apply_cadence": staff and has("add_meeting"),
        "can_plan_meeting": staff and has("add_meeting"),
        "can_open_survey": staff and has("add_healthsurvey"),
        "can_raise_issue": has("add_issue"),
        "can_handover": staff and has("add_handover"),
        "can_start_onboarding": staff and has("add_onboardingplan"),
        "can_tick_tasks": has("change_onboardingtask"),
    }


def _tabs() -> list[dict[str, Any]]:
    return [{"key": key, "label": label, "chart": key in CHART_TABS} for key, label in TABS]


def _detail_context(
    request: HttpRequest,
    organisation: Organisation,
    tab: str,
    relationship: Relationship | None = None,
    **forms: Any,
) -> dict[str, Any]:
    user = request.user
    if relationship is None:
        relationship = _relationship(request, organisation)
    context: dict[str, Any] = {
        "organisation": organisation,
        "relationship": relationship,
        "tabs": _tabs(),
        "tab": tab,
        "now": timezone.now(),
        **_abilities(user),
    }
    builder = TAB_BUILDERS[tab]
    context.update(builder(request, organisation, relationship, context, forms))
    return context


def _detail_page(
    request: HttpRequest,
    organisation: Organisation,
    tab: str,
    relationship: Relationship | None = None,
    **forms: Any,
) -> HttpResponse:
    context = _detail_context(request, organisation, tab, relationship, **forms)
    if _wants_partial(request, "relationship-tabs"):
        return render_page(request, "governance/_relationship_tab.html", context)
    response = render_page(request, "governance/relationship_detail.html", context)
    if tab in CHART_TABS:
        response = with_chart_csp(response)
    return response


@login_required
@require_GET
def relationship_detail(request: HttpRequest, pk: int) -> HttpResponse:
    relationship = structure_selectors.get_relationship(request.user, pk)
    tab = request.GET.get("tab", "structure")
    if tab not in TAB_BUILDERS:
        tab = "structure"
    return _detail_page(request, relationship.organisation, tab, relationship)


# -- structure tab ----------------------------------------------------------------------------
def _role_rows(user: Any, organisation: Organisation) -> list[dict[str, Any]]:
    held = {
        assignment.role: assignment
        for assignment in structure_selectors.list_roles(user, organisation)
    }
    return [
        {"role": value, "label": label, "assignment": held.get(value)}
        for value, label in ROLES.choices
    ]


def _structure_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    roles = _role_rows(user, organisation)
    gaps = structure_selectors.role_gaps(organisation)
    labels = dict(ROLES.choices)
    data: dict[str, Any] = {
        "roles": roles,
        "gaps": {
            "missing": [labels.get(role, role) for role in gaps.get("missing", [])],
            "doubled": [
                [labels.get(role, role) for role in pair] for pair in gaps.get("doubled", [])
            ],
            "inactive": [labels.get(role, role) for role in gaps.get("inactive", [])],
        },
        "key_people": _key_people(user, organisation),
    }
    if context["can_assign_roles"]:
        data["roles_form"] = forms.get("roles_form") or RolesForm(
            people=_vendor_people(user, organisation),
            initial={
                row["role"]: row["assignment"].holder_id
                for row in roles
                if row["assignment"] is not None
            },
        )
    if context["can_add_key_people"]:
        data["key_person_form"] = forms.get("key_person_form") or KeyPersonForm(
            people=_both_sides(user, organisation)
        )
    if context["can_edit_relationship"]:
        data["relationship_form"] = forms.get("relationship_form") or RelationshipForm(
            initial={
                "health_frequency": relationship.health_frequency,
                "started_on": relationship.started_on,
                "notes": relationship.notes,
            }
        )
    return data


def _key_people(user: Any, organisation: Organisation) -> list[dict[str, Any]]:
    rows = []
    for row in structure_selectors.list_key_people(user, organisation):
        side = Side.VENDOR if row.person.organisation_id != organisation.pk else Side.PARTNER
        rows.append(
            {
                "row": row,
                "side": side,
                "side_label": Side(side).label,
                "no_backup": row.backup_id is None,
                "backup_left": row.backup is not None and not row.backup.active,
                "person_left": not row.person.active,
                "own_side": not user.is_partner or side == Side.PARTNER,
            }
        )
    return rows


def _role_errors(form: RolesForm, error: ValidationError) -> None:
    """A service error on the role inputs it names: a field of the form, or the roles a
    separated-roles message names (``holder``/``holders`` keys name no input)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, texts in error.message_dict.items():
        if key in form.fields:
            form.add_error(key, texts)
            continue
        # "holder" or "holders": put it on each role whose person is taken twice.
        chosen = form.holders()
        doubled = [
            role
            for role, person in chosen.items()
            if person is not None
            and sum(1 for other in chosen.values() if other is not None and other.pk == person.pk)
            > 1
        ]
        if doubled:
            for role in doubled:
                form.add_error(role, texts)
        else:
            form.add_error(None, texts)


@login_required
@require_POST
def roles_set(request: HttpRequest, pk: int) -> HttpResponse:
    """The four separated roles at once (swapping two people is one change)."""
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.change_roleassignment")
    user = request.user
    form = RolesForm(request.POST, people=_vendor_people(user, organisation))
    if form.is_valid():
        try:
            structure_services.set_roles(
                actor=user, organisation=organisation, holders=form.holders()
            )
        except ValidationError as error:
            _role_errors(form, error)
        else:
            messages.success(request, _("The separated roles were saved."))
            return redirect(_tab_url(organisation.pk, "structure"))
    return _detail_page(request, organisation, "structure", roles_form=form)


@login_required
@require_POST
def relationship_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.change_relationship")
    user = request.user
    form = RelationshipForm(request.POST)
    if form.is_valid():
        try:
            relationship = _relationship(request, organisation)
            structure_services.update_relationship(
                actor=user, relationship=relationship, data=dict(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The relationship was saved."))
            return redirect(_tab_url(organisation.pk, "structure"))
    return _detail_page(request, organisation, "structure", relationship_form=form)


@login_required
@require_POST
def key_person_add(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    require_perm(request, "governance.add_keyperson")
    user = request.user
    form = KeyPersonForm(request.POST, people=_both_sides(user, organisation))
    if form.is_valid():
        try:
            structure_services.add_key_person(
                actor=user,
                organisation=organisation,
                person=form.cleaned_data["person"],
                backup=form.cleaned_data["backup"],
                responsibility=form.cleaned_data["responsibility"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is now a key person of this relationship.")
                % {"name": form.cleaned_data["person"].full_name},
            )
            return redirect(_tab_url(organisation.pk, "structure"))
    return _detail_page(request, organisation, "structure", key_person_form=form)


@login_required
@require_POST
def key_person_remove(request: HttpRequest, pk: int, key_pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    key_person = structure_selectors.get_key_person(request.user, key_pk)
    if key_person.organisation_id != organisation.pk:
        raise Http404
    _require_staff(request, "governance.delete_keyperson")
    try:
        structure_services.remove_key_person(actor=request.user, key_person=key_person)
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(
            request,
            _("%(name)s is no longer a key person of this relationship.")
            % {"name": key_person.person.full_name},
        )
    back = request.POST.get("back", "")
    return redirect(_tab_url(organisation.pk, back if back in TAB_BUILDERS else "structure"))


# -- contact map tab --------------------------------------------------------------------------
def _contacts_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    slots = {
        (slot.tier, slot.function): slot
        for slot in structure_selectors.list_slots(user, organisation)
    }
    tiers = [(tier, Tier(tier).label) for tier in TIER_ORDER]
    used = {function for _tier, function in slots}
    rows = []
    for function, label in Function.choices:
        if function not in used and function != Function.GENERAL:
            continue
        rows.append(
            {
                "function": function,
                "label": label,
                "cells": [
                    {"tier": tier, "tier_label": tier_label, "slot": slots.get((tier, function))}
                    for tier, tier_label in tiers
                ],
            }
        )
    data: dict[str, Any] = {"map_rows": rows, "map_tiers": tiers}
    if context["can_edit_slots"]:
        form = forms.get("slot_form")
        if form is not None:
            tier, function = form.data.get("slot-tier"), form.data.get("slot-function")
            if tier in Tier.values and function in Function.values:
                data["editing_label"] = f"{Tier(tier).label} · {Function(function).label}"
        else:
            tier = request.GET.get("tier", Tier.WORKING)
            function = request.GET.get("function", Function.GENERAL)
            tier = tier if tier in Tier.values else Tier.WORKING
            function = function if function in Function.values else Function.GENERAL
            slot = slots.get((tier, function))
            if user.is_partner and slot is None:
                # Partners fill their side of the pairs the vendor laid out.
                return data
            form = SlotForm(
                vendor_people=_vendor_people(user, organisation),
                partner_people=_partner_people(user, organisation),
                fixed=user.is_partner,
                initial={
                    "tier": tier,
                    "function": function,
                    "vendor_contact": slot.vendor_contact_id if slot else None,
                    "partner_contact": slot.partner_contact_id if slot else None,
                },
            )
            data["editing_label"] = f"{Tier(tier).label} · {Function(function).label}"
        data["slot_form"] = form
    return data


@login_required
@require_POST
def slot_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the people of one pair of the contact map (partners: their own side only)."""
    organisation = _organisation(request, pk)
    require_perm(request, "governance.change_contactslot")
    user = request.user
    form = SlotForm(
        request.POST,
        vendor_people=_vendor_people(user, organisation),
        partner_people=_partner_people(user, organisation),
        fixed=user.is_partner,
    )
    if user.is_partner and "slot-vendor_contact" in request.POST:
        raise PermissionDenied
    if form.is_valid():
        try:
            structure_services.set_slot(
                actor=user,
                organisation=organisation,
                tier=form.cleaned_data["tier"],
                function=form.cleaned_data["function"],
                **form.sides(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The contact map's %(tier)s · %(function)s pair was saved.")
                % {
                    "tier": Tier(form.cleaned_data["tier"]).label,
                    "function": Function(form.cleaned_data["function"]).label,
                },
            )
            return redirect(_tab_url(organisation.pk, "contacts"))
    return _detail_page(request, organisation, "contacts", slot_form=form)


@login_required
@require_POST
def slot_delete(request: HttpRequest, pk: int, slot_pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    slot = structure_selectors.get_slot(request.user, slot_pk)
    if slot.organisation_id != organisation.pk:
        raise Http404
    _require_staff(request, "governance.delete_contactslot")
    try:
        structure_services.delete_slot(actor=request.user, slot=slot)
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(request, _("The pair was removed from the contact map."))
    return redirect(_tab_url(organisation.pk, "contacts"))


# -- cadence and meetings tabs ----------------------------------------------------------------
def _meeting_rows(queryset: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """The first meetings of ``queryset`` with their display title and whether they are
    overdue (one more query for those, whatever the number of rows)."""
    meetings = list(queryset[:MEETINGS_SHOWN])
    overdue: set[int] = set()
    if any(m.status == Meeting.Status.PLANNED and m.starts_at < now for m in meetings):
        overdue = set(
            queryset.filter(pk__in=[m.pk for m in meetings])
            .filter(meeting_selectors.overdue_meetings(now))
            .values_list("pk", flat=True)
        )
    return [
        {
            "meeting": meeting,
            "title": meeting.label,
            "overdue": meeting.pk in overdue,
        }
        for meeting in meetings
    ]


def _cadence_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    now = context["now"]
    templates = [
        {"template": template, "name": in_chinese(template.name, template.name_zh)}
        for template in meeting_services.cadences_for(organisation, timezone.localdate(now))
    ]
    planned = (
        meeting_selectors.list_meetings(
            user, {"organisation": organisation.pk, "status": Meeting.Status.PLANNED}
        )
        .filter(cadence__isnull=False)
        .order_by("starts_at", "pk")
    )
    data: dict[str, Any] = {
        "cadences": templates,
        "calendar": _meeting_rows(planned, now),
        "meetings_limit": MEETINGS_SHOWN,
    }
    if context["can_apply_cadence"]:
        data["cadence_form"] = forms.get("cadence_form") or ApplyCadenceForm()
    return data


def _meetings_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    now = context["now"]
    meetings = meeting_selectors.list_meetings(user, {"organisation": organisation.pk})
    upcoming = meetings.filter(status=Meeting.Status.PLANNED).order_by("starts_at", "pk")
    past = meetings.exclude(status=Meeting.Status.PLANNED).order_by("-starts_at", "-pk")
    data: dict[str, Any] = {
        "planned": _meeting_rows(upcoming, now),
        "held": _meeting_rows(past, now),
        "meetings_limit": MEETINGS_SHOWN,
    }
    if context["can_plan_meeting"]:
        data["meeting_form"] = forms.get("meeting_form") or MeetingForm(
            people=_both_sides(user, organisation)
        )
    return data


@login_required
@require_POST
def cadence_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan the meetings of every cadence template that applies to this partner."""
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.add_meeting")
    form = ApplyCadenceForm(request.POST)
    if form.is_valid():
        try:
            planned = meeting_services.apply_cadences(
                actor=request.user,
                organisation=organisation,
                start=form.cleaned_data["start"],
                months=form.cleaned_data["months"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if planned:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d meeting was planned from the cadence templates.",
                        "%(count)d meetings were planned from the cadence templates.",
                        len(planned),
                    )
                    % {"count": len(planned)},
                )
            else:
                messages.info(
                    request, _("Nothing new to plan: the calendar already holds these meetings.")
                )
            return redirect(_tab_url(organisation.pk, "cadence"))
    return _detail_page(request, organisation, "cadence", cadence_form=form)


@login_required
@require_POST
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.add_meeting")
    user = request.user
    form = MeetingForm(request.POST, people=_both_sides(user, organisation))
    if form.is_valid():
        try:
            meeting = meeting_services.create_meeting(
                actor=user,
                organisation=organisation,
                data=form.service_data(),
                attendees=list(form.cleaned_data["attendees"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The meeting “%(title)s” was planned.") % {"title": meeting.title}
            )
            return redirect(_tab_url(organisation.pk, "meetings"))
    return _detail_page(request, organisation, "meetings", meeting_form=form)


# -- health tab -------------------------------------------------------------------------------
def _health_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    trend = health_selectors.health_trend(user, organisation)
    surveys = health_selectors.list_surveys(user, {"organisation": organisation.pk})
    last = surveys.filter(status=HealthSurvey.Status.CLOSED).first()
    open_surveys = list(surveys.filter(status=HealthSurvey.Status.OPEN))
    chart = None
    if any(point.get("score") is not None for point in trend):
        chart = {
            "labels": [point["period"] for point in trend],
            "charts": [
                {
                    "series": [
                        {
                            "name": str(_("Health score")),
                            "values": [
                                float(point["score"]) if point.get("score") is not None else None
                                for point in trend
                            ],
                            "axis": "y",
                            "type": "line",
                            "unit": "",
                        }
                    ]
                }
            ],
        }
    data: dict[str, Any] = {
        "trend": trend,
        "chart_data": chart,
        "chart_json": json.dumps(chart) if chart else "",
        "last": health_selectors.survey_summary(last) if last is not None else None,
        "open_surveys": open_surveys,
        **chart_context(),
    }
    if context["can_open_survey"]:
        data["survey_form"] = forms.get("survey_form") or OpenSurveyForm()
    return data


@login_required
@require_POST
def health_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a two-sided health check now (staff): every respondent gets a link by e-mail."""
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.add_healthsurvey")
    form = OpenSurveyForm(request.POST)
    if form.is_valid():
        try:
            survey, invitations = health_services.open_survey(
                actor=request.user, organisation=organisation, period=form.cleaned_data["period"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The health check %(period)s is open: %(count)d person was invited.",
                    "The health check %(period)s is open: %(count)d people were invited.",
                    len(invitations),
                )
                % {"period": survey.period, "count": len(invitations)},
            )
            return redirect(_tab_url(organisation.pk, "health"))
    return _detail_page(request, organisation, "health", survey_form=form)


# -- issues tab -------------------------------------------------------------------------------
def sla_state(issue: Issue, now: dt.datetime) -> dict[str, Any]:
    """Where an issue stands against its SLA: resolved, overdue (response or resolution), or
    the time left to resolve it at its current tier."""
    if issue.status == Issue.Status.RESOLVED:
        return {"code": "resolved", "text": _("Resolved"), "late": False}
    if issue.resolve_by is not None and issue.resolve_by <= now:
        return {
            "code": "resolution_overdue",
            "text": _("Resolution overdue by %(time)s")
            % {"time": timesince(issue.resolve_by, now, depth=1)},
            "late": True,
        }
    if issue.responded_at is None and issue.respond_by is not None and issue.respond_by <= now:
        return {
            "code": "response_overdue",
            "text": _("Response overdue by %(time)s")
            % {"time": timesince(issue.respond_by, now, depth=1)},
            "late": True,
        }
    if issue.resolve_by is not None:
        return {
            "code": "on_time",
            "text": _("%(time)s left to resolve")
            % {"time": timeuntil(issue.resolve_by, now, depth=1)},
            "late": False,
        }
    return {"code": "none", "text": "—", "late": False}


def _issues_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    now = context["now"]
    issues = issue_selectors.list_issues(user, {"organisation": organisation.pk})
    rows = [{"issue": issue, "sla": sla_state(issue, now)} for issue in issues[:MEETINGS_SHOWN]]
    return {
        "open_issues": [row for row in rows if row["issue"].status != Issue.Status.RESOLVED],
        "closed_issues": [row for row in rows if row["issue"].status == Issue.Status.RESOLVED],
        "issues_limit": MEETINGS_SHOWN,
    }


# -- continuity tab ---------------------------------------------------------------------------
def _continuity_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    problems: list[dict[str, Any]] = []
    for entry in continuity_selectors.coverage_report(user, organisation):
        problems.extend(entry["problems"])
    people = _people_in_roles(user, organisation)
    # A vendor person's handover is filed under the vendor: it shows here when it moved
    # someone who now holds something in this relationship (or left it with a leaver).
    ids = [entry["contact"].pk for entry in people]
    handovers = (
        continuity_selectors.list_handovers(user)
        .filter(
            Q(organisation_id=organisation.pk) | Q(successor_id__in=ids) | Q(predecessor_id__in=ids)
        )
        .order_by("-at", "-pk")
    )
    return {
        "key_people": _key_people(user, organisation),
        "coverage": problems,
        "handovers": list(handovers[:50]),
        "people": people,
    }


def _people_in_roles(user: Any, organisation: Organisation) -> list[dict[str, Any]]:
    """Everyone this relationship depends on (role holders, contact-map people, key people
    and backups), once each, with what they hold: where a handover starts."""
    people: dict[int, dict[str, Any]] = {}

    def add(contact: Contact | None, what: str) -> None:
        if contact is None:
            return
        entry = people.setdefault(
            contact.pk,
            {
                "contact": contact,
                "side": Side.VENDOR if contact.organisation_id != organisation.pk else Side.PARTNER,
                "holds": [],
            },
        )
        if what not in entry["holds"]:
            entry["holds"].append(what)

    for assignment in structure_selectors.list_roles(user, organisation):
        add(assignment.holder, str(assignment.get_role_display()))
    for slot in structure_selectors.list_slots(user, organisation):
        where = f"{slot.get_tier_display()} · {slot.get_function_display()}"
        add(slot.vendor_contact, where)
        add(slot.partner_contact, where)
    for row in structure_selectors.list_key_people(user, organisation):
        add(row.person, str(_("Key person")))
        add(row.backup, str(_("Backup")))
    ordered = sorted(
        people.values(),
        key=lambda entry: (entry["side"] != Side.VENDOR, entry["contact"].full_name),
    )
    for entry in ordered:
        entry["side_label"] = Side(entry["side"]).label
    return ordered


# -- onboarding tab ---------------------------------------------------------------------------
def _can_tick(user: Any, task: Any, allowed: bool) -> bool:
    """Whether ``user`` may tick ``task``: staff with the permission any task, partners the
    tasks their own people own (or unowned tasks of the partner side)."""
    if not allowed:
        return False
    if not user.is_partner:
        return True
    if task.owner is not None:
        return task.owner.organisation_id == user.organisation_id
    return task.side == Side.PARTNER


def _onboarding_templates(user: Any) -> Any:
    return continuity_selectors.list_onboarding_templates(user, {"active": "true"})


def _onboarding_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    found = continuity_selectors.list_onboarding_plans(
        user, {"organisation": organisation.pk}, today=today
    ).prefetch_related("tasks__owner")
    plans = []
    for plan in found:
        plans.append(
            {
                "plan": plan,
                "name": plan.label,
                "progress": continuity_selectors.plan_progress(plan, today),
                "tasks": [
                    {
                        "task": task,
                        "title": task.label,
                        "overdue": task.done_at is None and task.due_on < today,
                        "can_tick": _can_tick(user, task, context["can_tick_tasks"]),
                    }
                    for task in plan.tasks.all()
                ],
            }
        )
    data: dict[str, Any] = {"plans": plans}
    if context["can_start_onboarding"]:
        data["onboarding_form"] = forms.get("onboarding_form") or StartOnboardingForm(
            templates=_onboarding_templates(user), people=_both_sides(user, organisation)
        )
    return data


@login_required
@require_POST
def onboarding_new(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    _require_staff(request, "governance.add_onboardingplan")
    user = request.user
    form = StartOnboardingForm(
        request.POST,
        templates=_onboarding_templates(user),
        people=_both_sides(user, organisation),
    )
    if form.is_valid():
        try:
            plan = continuity_services.start_onboarding(
                actor=user,
                organisation=organisation,
                template=form.cleaned_data["template"],
                subject=form.cleaned_data["subject"],
                start=form.cleaned_data["start"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The onboarding plan “%(name)s” was started.") % {"name": plan.name}
            )
            return redirect(_tab_url(organisation.pk, "onboarding"))
    return _detail_page(request, organisation, "onboarding", onboarding_form=form)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick (or, with ``done=0``, untick) an onboarding task; partners their side's only."""
    user = request.user
    task = continuity_selectors.get_task(user, pk)
    require_perm(request, "governance.change_onboardingtask")
    done = request.POST.get("done", "1") != "0"
    organisation_id = task.plan.organisation_id
    try:
        continuity_services.complete_task(actor=user, task=task, done=done)
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    else:
        if done:
            messages.success(request, _("“%(task)s” is done.") % {"task": task.title})
        else:
            messages.success(request, _("“%(task)s” is open again.") % {"task": task.title})
    return redirect(next_url(request, _tab_url(organisation_id, "onboarding")))


# -- enablement tab ---------------------------------------------------------------------------
def _enablement_tab(
    request: HttpRequest,
    organisation: Organisation,
    relationship: Relationship,
    context: dict[str, Any],
    forms: dict[str, Any],
) -> dict[str, Any]:
    found = continuity_selectors.enablement(request.user, organisation, timezone.localdate())
    for row in found["requirements"]:
        course = row["course"]
        row["name"] = in_chinese(course.name, course.name_zh)
    for person in found["people"]:
        for certification in person["certifications"]:
            course = certification.get("course")
            certification["label"] = (
                in_chinese(course.name, course.name_zh)
                if course is not None and certification["name"] == course.certification
                else certification["name"]
            )
    return {"enablement": found}


TabBuilder = Callable[
    [HttpRequest, Organisation, Relationship, dict[str, Any], dict[str, Any]], dict[str, Any]
]
TAB_BUILDERS: dict[str, TabBuilder] = {
    "structure": _structure_tab,
    "contacts": _contacts_tab,
    "cadence": _cadence_tab,
    "meetings": _meetings_tab,
    "health": _health_tab,
    "issues": _issues_tab,
    "continuity": _continuity_tab,
    "onboarding": _onboarding_tab,
    "enablement": _enablement_tab,
}
