"""Governance pages beyond the relationship page: the dashboard, issues (list, new, one issue
with its SLA clock, escalation history, attachments and actions), one meeting with its record
and action items, the coverage report, handovers, and the network-wide templates and settings.

Thin views: reads through the selectors (every row via ``restrict()``), writes through the
services; service errors become form errors or messages, never error pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accord.core.charts import chart_context, with_chart_csp
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.exports import table_response
from accord.core.forms import add_service_errors
from accord.core.views import next_url
from accord.governance import forms_admin as forms
from accord.governance.models import (
    CadenceTemplate,
    Course,
    Issue,
    IssueEvent,
    Meeting,
    Side,
    Tier,
    in_chinese,
)
from accord.governance.pages import render_page, require_perm
from accord.governance.selectors import continuity as continuity_selectors
from accord.governance.selectors import dashboard as board
from accord.governance.selectors import issues as issue_selectors
from accord.governance.selectors import meetings as meeting_selectors
from accord.governance.services import continuity as continuity_services
from accord.governance.services import issues as issue_services
from accord.governance.services import meetings as meeting_services
from accord.governance.services import settings as settings_services
from accord.partners import selectors as partner_selectors
from accord.partners.models import Contact
from accord.programs import selectors as program_selectors

PAGE_SIZE = 50
VIEW = "governance.view_relationship"
VIEW_ISSUE = "governance.view_issue"
RAISE = "governance.add_issue"
ANSWER = "governance.change_issue"
RESOLVE = "governance.resolve_issue"
ATTACH = "governance.add_issueattachment"
VIEW_MEETING = "governance.view_meeting"
RECORD = "governance.change_meeting"
PLAN = "governance.add_meeting"
ADD_ACTION = "governance.add_actionitem"
COMPLETE_ACTION = "governance.change_actionitem"
VIEW_HANDOVER = "governance.view_handover"
HANDOVER = "governance.add_handover"
MANAGE = "governance.manage_governance"


# -- small helpers ----------------------------------------------------------------------
def _when(value: dt.datetime | str | None) -> str:
    """A time as the page shows it (local time, the language's format)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return "—"
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{message}" for messages_ in error.message_dict.values() for message in messages_
        )
    return " ".join(error.messages)


def _person_choices(
    people: Mapping[str, list[Contact]], vendor_label: str | None = None
) -> list[Any]:
    """People as select options grouped by side (organisation name as the group)."""
    groups: list[Any] = []
    for side in (Side.VENDOR, Side.PARTNER):
        contacts = people.get(side) or []
        if not contacts:
            continue
        label = contacts[0].organisation.name
        if side == Side.VENDOR and vendor_label:
            label = vendor_label
        groups.append((label, [(contact.pk, _person_label(contact)) for contact in contacts]))
    return groups


def _person_label(contact: Contact) -> str:
    label = contact.full_name
    if contact.job_title:
        label = f"{label} ({contact.job_title})"
    if not contact.active:
        label = gettext("%(name)s — left") % {"name": label}
    return label


def _people_by_id(people: Mapping[str, list[Contact]]) -> dict[int, Contact]:
    return {contact.pk: contact for group in people.values() for contact in group}


def _contact_from(
    form: Any, field: str, people: Mapping[str, list[Contact]], value: Any
) -> Contact | None:
    contact = _people_by_id(people).get(value)
    if contact is None:
        form.add_error(field, _("Choose a person from the list."))
    return contact


# -- the dashboard ----------------------------------------------------------------------------
def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What governance-charts.js draws: open issues per tier (bars) and the network's mean
    health score per period (a line)."""
    tiers = data["issues_by_tier"]
    trend = data["health_trend"]
    charts = [
        {
            "id": "chart-escalations",
            "labels": [str(row["label"]) for row in tiers],
            "y_title": gettext("Open issues"),
            "integer": True,
            "series": [
                {
                    "name": pgettext("status", "Open"),
                    "type": "bar",
                    "values": [row["open"] for row in tiers],
                },
                {
                    "name": gettext("Escalated"),
                    "type": "bar",
                    "values": [row["escalated"] for row in tiers],
                },
            ],
        }
    ]
    if trend:
        charts.append(
            {
                "id": "chart-health",
                "labels": [row["period"] for row in trend],
                "y_title": gettext("Health score (0-100)"),
                "range": [0, 100],
                "series": [
                    {
                        "name": gettext("Mean health score"),
                        "type": "line",
                        "values": [str(row["score"]) for row in trend],
                    }
                ],
            }
        )
    return {"charts": charts}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff: the network's overdue cadence and action items, open escalations by tier,
    health trend, misalignment, expiring certifications and coverage. Partners: their own
    relationship's open issues, their action items and tasks, meetings and health."""
    require_perm(request, VIEW)
    user = request.user
    now = timezone.now()
    if user.is_partner:
        context = {"overview": board.partner_overview(user, now)}
        return render_page(request, "governance/dashboard.html", context)
    data = board.dashboard(user, now)
    context = {"board": data, "chart_data": _chart_data(data), **chart_context()}
    return with_chart_csp(render_page(request, "governance/dashboard.html", context))


# -- issues: the list ---------------------------------------------------------------------------
def _issue_organisations(user: Any) -> list[tuple[int, str]]:
    """The relationships an issue can be about: a partner's own organisation, staff's
    visible partners."""
    if user.is_partner:
        organisation = partner_selectors.find_organisation(user, user.organisation_id)
        return [(organisation.pk, organisation.name)] if organisation else []
    return list(
        partner_selectors.list_organisations(user)
        .filter(is_vendor=False)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def _issue_filter_form(request: HttpRequest) -> forms.IssueFilterForm:
    return forms.IssueFilterForm(
        request.GET or None, organisations=_issue_organisations(request.user)
    )


def _filtered_issues(user: Any, filters: Mapping[str, Any]) -> QuerySet[Issue]:
    wanted = dict(filters)
    if wanted.get("status") == "open":
        wanted["status"] = "unresolved"
    return issue_selectors.list_issues(user, wanted).select_related("owner")


def sla_clock(issue: Issue, now: dt.datetime) -> dict[str, Any]:
    """The issue's deadlines: respond by (until responded) and resolve by (until resolved),
    each with the time left or how long it is overdue."""

    def deadline(at: dt.datetime | None, done: bool) -> dict[str, Any] | None:
        if at is None:
            return None
        overdue = not done and at <= now
        if done:
            text = ""
        elif overdue:
            text = gettext("overdue by %(time)s") % {"time": timeuntil(now, at, depth=2)}
        else:
            text = gettext("%(time)s left") % {"time": timeuntil(at, now, depth=2)}
        return {"at": at, "overdue": overdue, "text": text, "done": done}

    resolved = issue.status == Issue.Status.RESOLVED
    return {
        "respond": deadline(issue.respond_by, issue.responded_at is not None or resolved),
        "resolve": deadline(issue.resolve_by, resolved),
    }


@login_required
@require_GET
def issue_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW_ISSUE)
    user = request.user
    form = _issue_filter_form(request)
    filters = form.filters()
    page = Paginator(_filtered_issues(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "form": form,
        "page_obj": page,
        "rows": [{"issue": issue, "clock": sla_clock(issue, now)} for issue in page.object_list],
        "filtered": bool(filters),
        "query": request.GET.urlencode(),
    }
    return render_page(request, "governance/issue_list.html", context)


def _wall_clock(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value is not None else None


@login_required
@require_GET
def issue_export(request: HttpRequest) -> HttpResponse:
    """The filtered issue list as CSV, every row."""
    require_perm(request, VIEW_ISSUE)
    queryset = _filtered_issues(request.user, _issue_filter_form(request).filters())
    header = [
        _("Number"),
        _("Relationship"),
        _("Title"),
        _("Category"),
        _("Severity"),
        _("Status"),
        _("Management tier"),
        _("Escalations"),
        _("Raised by side"),
        _("Owner"),
        _("Raised"),
        _("Respond by"),
        _("Resolve by"),
        _("Resolved"),
    ]

    def lines() -> Iterator[list[Any]]:
        for issue in queryset.iterator(chunk_size=2000):
            yield [
                issue.number,
                issue.organisation.name,
                issue.title,
                issue.get_category_display(),
                issue.get_severity_display(),
                issue.get_status_display(),
                issue.get_tier_display(),
                issue.escalations,
                issue.get_raised_side_display(),
                issue.owner.full_name if issue.owner else "",
                _wall_clock(issue.raised_at),
                _wall_clock(issue.respond_by),
                _wall_clock(issue.resolve_by),
                _wall_clock(issue.resolved_at),
            ]

    stamp = timezone.localdate().isoformat()
    return table_response("csv", f"issues-{stamp}", header, lines(), title=_("Issues"))


# -- issues: a new one ------------------------------------------------------------------------
def _initial_organisation(request: HttpRequest, choices: list[tuple[int, str]]) -> int | None:
    value = request.GET.get("organisation", "")
    if value.isascii() and value.isdigit() and len(value) < 19:
        wanted = int(value)
        if any(pk == wanted for pk, _name in choices):
            return wanted
    if request.user.is_partner and choices:
        return choices[0][0]
    return None


@login_required
def issue_new(request: HttpRequest) -> HttpResponse:
    """Raise an issue on a relationship (partners: their own); an optional first file."""
    require_perm(request, RAISE)
    user = request.user
    choices = _issue_organisations(user)
    form = forms.IssueForm(
        request.POST or None,
        request.FILES or None,
        organisations=choices,
        initial={"organisation": _initial_organisation(request, choices)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = partner_selectors.find_organisation(user, data["organisation"])
        if organisation is None:
            form.add_error("organisation", _("Choose a relationship from the list."))
        else:
            try:
                issue = issue_services.raise_issue(
                    actor=user,
                    organisation=organisation,
                    title=data["title"],
                    category=data["category"],
                    severity=data["severity"],
                    description=data["description"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                upload = data.get("attachment")
                if upload is not None:
                    _attach(request, issue, upload)
                messages.success(
                    request,
                    _("Issue %(number)s was raised; it must be answered by %(at)s.")
                    % {"number": issue.number, "at": _when(issue.respond_by)},
                )
                return redirect("governance:issue_detail", pk=issue.pk)
    slas = board.severity_slas(user) if user.has_perm("governance.view_severitysla") else []
    return render_page(request, "governance/issue_form.html", {"form": form, "slas": slas})


def _attach(request: HttpRequest, issue: Issue, upload: Any) -> bool:
    try:
        issue_services.add_attachment(
            actor=request.user,
            issue=issue,
            name=upload.name,
            content=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return False
    return True


# -- issues: one issue --------------------------------------------------------------------------
def escalation_text(event: IssueEvent, names: Mapping[int, str]) -> str:
    """Why an escalation happened, from the inputs it stored."""
    data = event.data or {}
    tiers = dict(Tier.choices)
    severities = dict(Issue.Severity.choices)
    notified_ids = data.get("notified") or []
    shown = [names[pk] for pk in notified_ids if pk in names]
    hidden = len(notified_ids) - len(shown)
    notified = ", ".join(shown)
    if hidden:
        others = ngettext("%(count)d other person", "%(count)d other people", hidden) % {
            "count": hidden
        }
        notified = f"{notified}, {others}" if notified else others
    return gettext(
        "Escalated from %(from)s to %(to)s at %(at)s because the resolution SLA of "
        "%(hours)s h for %(severity)s ended at %(deadline)s; notified: %(notified)s."
    ) % {
        "from": tiers.get(data.get("from") or event.from_tier, event.from_tier or "—"),
        "to": tiers.get(data.get("to") or event.to_tier, event.to_tier or "—"),
        "at": _when(data.get("now") or event.at),
        "hours": data.get("resolution_hours", "—"),
        "severity": severities.get(data.get("severity", ""), data.get("severity", "—")),
        "deadline": _when(data.get("deadline")),
        "notified": notified or gettext("nobody"),
    }


def _event_inputs(event: IssueEvent, names: Mapping[int, str]) -> list[tuple[str, str]]:
    """The stored inputs of an event, each labelled and formatted for the page."""
    data = event.data or {}
    labels = {
        "rule": gettext("Rule"),
        "severity": gettext("Severity"),
        "response_hours": gettext("Response SLA (hours)"),
        "resolution_hours": gettext("Resolution SLA per tier (hours)"),
        "respond_by": gettext("Respond by"),
        "resolve_by": gettext("Resolve by"),
        "on_time": gettext("Within the response SLA"),
        "deadline": gettext("Deadline"),
        "now": gettext("Checked at"),
        "from": gettext("From tier"),
        "to": gettext("To tier"),
        "tier": gettext("Management tier"),
        "hours_to_resolve": gettext("Hours to resolve"),
        "escalations": gettext("Escalations"),
        "corrective_actions": gettext("Corrective actions"),
        "notified": gettext("Notified"),
    }
    rules = {
        "severity_sla": gettext("the SLAs of the severity"),
        "resolution_sla": gettext("resolution SLA per tier"),
        "response_sla": gettext("response SLA"),
    }
    tiers = dict(Tier.choices)
    severities = dict(Issue.Severity.choices)
    found: list[tuple[str, str]] = []
    for key, value in data.items():
        if key not in labels or (event.kind == IssueEvent.Kind.ASSIGNED and key in ("from", "to")):
            continue  # bookkeeping the page does not explain (ids of other rows)
        if key in ("deadline", "now", "respond_by", "resolve_by"):
            shown = _when(value)
        elif key in ("from", "to", "tier"):
            shown = str(tiers.get(value, value))
        elif key == "severity":
            shown = str(severities.get(value, value))
        elif key == "rule":
            shown = rules.get(value, str(value))
        elif key == "notified" and isinstance(value, list):
            shown = ", ".join(names.get(pk, f"#{pk}") for pk in value) or "—"
        elif isinstance(value, bool):
            shown = gettext("Yes") if value else gettext("No")
        elif key == "corrective_actions" and isinstance(value, list):
            shown = str(len(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = formats.number_format(value, decimal_pos=None if isinstance(value, int) else 1)
        else:
            shown = str(value)
        found.append((labels[key], shown))
    return found


def _history(user: Any, issue: Issue) -> list[dict[str, Any]]:
    events = list(issue_selectors.issue_events(user, issue))
    ids: set[int] = set()
    for event in events:
        ids.update(pk for pk in (event.data or {}).get("notified") or [] if isinstance(pk, int))
    names = board.contact_names(user, ids) if ids else {}
    return [
        {
            "event": event,
            "explain": escalation_text(event, names)
            if event.kind == IssueEvent.Kind.ESCALATED
            else "",
            "inputs": _event_inputs(event, names),
        }
        for event in events
    ]


def _issue_context(request: HttpRequest, issue: Issue, **bound: Any) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    is_open = issue.status in Issue.OPEN_STATUSES
    staff = not user.is_partner
    can_answer = user.has_perm(ANSWER) and is_open
    can_resolve = staff and user.has_perm(RESOLVE)
    people = board.people(user, issue.organisation) if can_resolve and is_open else {}
    choices = _person_choices(people)
    context: dict[str, Any] = {
        "issue": issue,
        "clock": sla_clock(issue, now),
        "tiers": [
            {"value": tier, "label": label, "current": tier == issue.tier}
            for tier, label in Tier.choices
        ],
        "history": _history(user, issue),
        "attachments": list(issue_selectors.issue_attachments(user, issue)),
        "today": timezone.localdate(now),
        "corrective_actions": list(issue.corrective_actions.select_related("owner")),
        "is_staff": staff,
        "can_respond": can_answer and issue.status == Issue.Status.OPEN,
        "can_comment": can_answer,
        "can_attach": user.has_perm(ATTACH),
        "can_assign": can_resolve and is_open,
        "can_resolve": can_resolve and is_open,
        "can_reopen": can_resolve and issue.status == Issue.Status.RESOLVED,
        "can_complete": user.has_perm(COMPLETE_ACTION),
    }
    if context["can_respond"]:
        context["respond_form"] = bound.get("respond_form") or forms.NoteForm(
            prefix="respond", label=_("Response")
        )
    if context["can_comment"]:
        context["comment_form"] = bound.get("comment_form") or forms.NoteForm(
            prefix="comment", label=_("Comment")
        )
    if context["can_attach"]:
        context["attach_form"] = bound.get("attach_form") or forms.AttachForm()
    if context["can_assign"]:
        context["assign_form"] = bound.get("assign_form") or forms.AssignForm(
            people=choices, initial={"owner": issue.owner_id}
        )
    if context["can_resolve"]:
        context["resolve_form"] = bound.get("resolve_form") or forms.ResolveForm(people=choices)
    if context["can_reopen"]:
        context["reopen_form"] = bound.get("reopen_form") or forms.ReopenForm()
    return context


def _issue_page(
    request: HttpRequest, issue: Issue, status: int = 200, **bound: Any
) -> HttpResponse:
    context = _issue_context(request, issue, **bound)
    return render_page(request, "governance/issue_detail.html", context, status=status)


def _issue_url(issue: Issue) -> str:
    return reverse("governance:issue_detail", args=[issue.pk])


@login_required
@require_GET
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    issue = issue_selectors.get_issue(request.user, pk)
    return _issue_page(request, issue)


def _note_action(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    user = request.user
    issue = issue_selectors.get_issue(user, pk)
    require_perm(request, ANSWER)
    label = _("Response") if kind == "respond" else _("Comment")
    form = forms.NoteForm(request.POST, prefix=kind, label=label)
    if form.is_valid():
        service = issue_services.respond if kind == "respond" else issue_services.comment
        try:
            service(actor=user, issue=issue, note=form.cleaned_data["note"], now=timezone.now())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            text = _("Your response was recorded.") if kind == "respond" else _("Comment added.")
            messages.success(request, text)
            return redirect(_issue_url(issue))
    return _issue_page(request, issue, status=400, **{f"{kind}_form": form})


@login_required
@require_POST
def issue_respond(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(request, pk, "respond")


@login_required
@require_POST
def issue_comment(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_action(request, pk, "comment")


def _staff_only(request: HttpRequest, perm: str) -> None:
    if request.user.is_partner:
        raise PermissionDenied
    require_perm(request, perm)


@login_required
@require_POST
def issue_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    issue = issue_selectors.get_issue(user, pk)
    _staff_only(request, RESOLVE)
    people = board.people(user, issue.organisation)
    form = forms.AssignForm(request.POST, people=_person_choices(people))
    if form.is_valid():
        owner = _contact_from(form, "owner", people, form.cleaned_data["owner"])
        if owner is not None:
            try:
                issue_services.assign(actor=user, issue=issue, owner=owner)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s now owns issue %(number)s.")
                    % {"name": owner.full_name, "number": issue.number},
                )
                return redirect(_issue_url(issue))
    return _issue_page(request, issue, status=400, assign_form=form)


@login_required
@require_POST
def issue_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve with root cause, resolution and corrective actions (owners and due dates)."""
    user = request.user
    issue = issue_selectors.get_issue(user, pk)
    _staff_only(request, RESOLVE)
    people = board.people(user, issue.organisation)
    form = forms.ResolveForm(request.POST, people=_person_choices(people))
    if form.is_valid():
        by_id = _people_by_id(people)
        actions = []
        for action in form.actions:
            owner = by_id.get(action["owner"])
            if owner is None:
                form.add_error(action["field"]["owner"], _("Choose a person from the list."))
                continue
            actions.append({"title": action["title"], "owner": owner, "due_on": action["due_on"]})
        if not form.errors:
            try:
                issue_services.resolve(
                    actor=user,
                    issue=issue,
                    root_cause=form.cleaned_data["root_cause"],
                    resolution=form.cleaned_data["resolution"],
                    corrective_actions=actions,
                    now=timezone.now(),
                )
            except ValidationError as error:
                _service_errors_on_resolve(form, error)
            else:
                messages.success(
                    request, _("Issue %(number)s was resolved.") % {"number": issue.number}
                )
                return redirect(_issue_url(issue))
    return _issue_page(request, issue, status=400, resolve_form=form)


def _service_errors_on_resolve(form: forms.ResolveForm, error: ValidationError) -> None:
    """Service errors on the resolve form; "corrective_actions" ones go on top."""
    add_service_errors(form, error)


@login_required
@require_POST
def issue_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    issue = issue_selectors.get_issue(user, pk)
    _staff_only(request, RESOLVE)
    form = forms.ReopenForm(request.POST)
    if form.is_valid():
        try:
            issue_services.reopen(
                actor=user, issue=issue, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Issue %(number)s was reopened.") % {"number": issue.number}
            )
            return redirect(_issue_url(issue))
    return _issue_page(request, issue, status=400, reopen_form=form)


@login_required
@require_POST
def issue_attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    issue = issue_selectors.get_issue(user, pk)
    require_perm(request, ATTACH)
    form = forms.AttachForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            issue_services.add_attachment(
                actor=user,
                issue=issue,
                name=upload.name,
                content=upload.read(),
                content_type=upload.content_type or "application/octet-stream",
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("%(name)s was attached.") % {"name": upload.name})
            return redirect(_issue_url(issue))
    return _issue_page(request, issue, status=400, attach_form=form)


def _attach_errors(form: forms.AttachForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for texts in error.message_dict.values():
            form.add_error("file", texts)
    else:
        form.add_error("file", error.messages)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file as a download (never shown inline: it comes from a user)."""
    attachment = issue_selectors.get_attachment(request.user, pk)
    response = HttpResponse(bytes(attachment.content), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# -- meetings and action items ------------------------------------------------------------------
def _meeting_people(user: Any, meeting: Meeting) -> dict[str, list[Contact]]:
    return board.people(user, meeting.organisation)


def _attendee_choices(people: Mapping[str, list[Contact]], meeting: Meeting) -> list[Any]:
    """Attendees to tick: the people the user may name, plus the meeting's current ones
    that are inactive now (so that a record does not silently drop them)."""
    return _person_choices(people)


def _meeting_context(request: HttpRequest, meeting: Meeting, **bound: Any) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    attendees = list(meeting.attendees.select_related("organisation").order_by("full_name", "pk"))
    staff = not user.is_partner
    planned = meeting.status == Meeting.Status.PLANNED
    can_record = user.has_perm(RECORD) and meeting.status != Meeting.Status.CANCELLED
    can_add_action = user.has_perm(ADD_ACTION) and meeting.status != Meeting.Status.CANCELLED
    people = board.people(user, meeting.organisation) if can_record or can_add_action else {}
    grace = board.governance_settings(user).meeting_grace_days
    context: dict[str, Any] = {
        "meeting": meeting,
        "title": meeting.label,
        "vendor_attendees": [c for c in attendees if c.organisation.is_vendor],
        "partner_attendees": [c for c in attendees if not c.organisation.is_vendor],
        "action_items": list(
            meeting_selectors.list_action_items(user, {"meeting": meeting.pk}).select_related(
                "owner"
            )
        ),
        "overdue": planned and meeting.starts_at + dt.timedelta(days=grace) < now,
        "today": timezone.localdate(now),
        "can_record": can_record,
        "can_add_action": can_add_action,
        "can_cancel": staff and user.has_perm(PLAN) and planned,
        "can_complete": user.has_perm(COMPLETE_ACTION),
        "is_staff": staff,
    }
    if can_record:
        context["record_form"] = bound.get("record_form") or forms.RecordForm(
            people=_attendee_choices(people, meeting),
            initial={
                "minutes": meeting.minutes,
                "decisions": meeting.decisions,
                "attendees": [c.pk for c in attendees],
                "held_at": timezone.localtime(meeting.held_at or meeting.starts_at).replace(
                    tzinfo=None
                ),
            },
        )
    if can_add_action:
        context["action_form"] = bound.get("action_form") or forms.ActionItemForm(
            people=_person_choices(people)
        )
    if context["can_cancel"]:
        context["cancel_form"] = bound.get("cancel_form") or forms.CancelForm()
    return context


def _meeting_page(
    request: HttpRequest, meeting: Meeting, status: int = 200, **bound: Any
) -> HttpResponse:
    context = _meeting_context(request, meeting, **bound)
    return render_page(request, "governance/meeting_detail.html", context, status=status)


def _meeting_url(meeting: Meeting) -> str:
    return reverse("governance:meeting_detail", args=[meeting.pk])


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_selectors.get_meeting(request.user, pk)
    return _meeting_page(request, meeting)


@login_required
@require_POST
def meeting_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record minutes and decisions; attendees of the other side (which a partner user does
    not see) stay as they were."""
    user = request.user
    meeting = meeting_selectors.get_meeting(user, pk)
    require_perm(request, RECORD)
    people = _meeting_people(user, meeting)
    form = forms.RecordForm(request.POST, people=_attendee_choices(people, meeting))
    if form.is_valid():
        by_id = _people_by_id(people)
        chosen = [by_id[pk] for pk in form.cleaned_data["attendees"] if pk in by_id]
        # Staff keep attendees who have left since (they are not offered any more); a
        # partner's list replaces only its own side (the service keeps the vendor's).
        kept = [] if user.is_partner else [c for c in meeting.attendees.all() if c.pk not in by_id]
        held_at = form.cleaned_data.get("held_at")
        try:
            meeting_services.record_meeting(
                actor=user,
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                decisions=form.cleaned_data["decisions"],
                attendees=[*kept, *chosen],
                held_at=held_at,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The meeting's record was saved."))
            return redirect(_meeting_url(meeting))
    return _meeting_page(request, meeting, status=400, record_form=form)


@login_required
@require_POST
def meeting_add_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = meeting_selectors.get_meeting(user, pk)
    require_perm(request, ADD_ACTION)
    people = _meeting_people(user, meeting)
    form = forms.ActionItemForm(request.POST, people=_person_choices(people))
    if form.is_valid():
        owner = _contact_from(form, "owner", people, form.cleaned_data["owner"])
        if owner is not None:
            try:
                meeting_services.add_action_item(
                    actor=user,
                    organisation=meeting.organisation,
                    title=form.cleaned_data["title"],
                    owner=owner,
                    due_on=form.cleaned_data["due_on"],
                    meeting=meeting,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The action item was added."))
                return redirect(_meeting_url(meeting))
    return _meeting_page(request, meeting, status=400, action_form=form)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    meeting = meeting_selectors.get_meeting(user, pk)
    _staff_only(request, PLAN)
    form = forms.CancelForm(request.POST)
    if form.is_valid():
        try:
            meeting_services.cancel_meeting(
                actor=user, meeting=meeting, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The meeting was cancelled."))
            return redirect(_meeting_url(meeting))
    return _meeting_page(request, meeting, status=400, cancel_form=form)


@login_required
@require_POST
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an action item done, then back to where the button was."""
    user = request.user
    item = meeting_selectors.get_action_item(user, pk)
    require_perm(request, COMPLETE_ACTION)
    try:
        meeting_services.complete_action_item(actor=user, item=item, now=timezone.now())
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("“%(title)s” is done.") % {"title": item.title})
    if item.meeting_id:
        default = reverse("governance:meeting_detail", args=[item.meeting_id])
    elif item.issue_id:
        default = reverse("governance:issue_detail", args=[item.issue_id])
    else:
        default = reverse("governance:dashboard")
    return redirect(next_url(request, default))


# -- coverage ----------------------------------------------------------------------------------
@login_required
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """Relationships that lost cover: roles missing or held by someone who left, empty or
    orphaned contact-map slots, key people gone or without a backup."""
    require_perm(request, VIEW)
    report = continuity_selectors.coverage_report(request.user)
    context = {
        "report": report,
        "problems": sum(len(entry["problems"]) for entry in report),
        "can_handover": request.user.has_perm(HANDOVER) and not request.user.is_partner,
    }
    return render_page(request, "governance/coverage.html", context)


# -- handovers -------------------------------------------------------------------------------------
MOVED_LABELS = {
    "roles": gettext_lazy("Roles"),
    "slots": gettext_lazy("Contact-map slots"),
    "key_people": gettext_lazy("Key person"),
    "backups": gettext_lazy("Backup of"),
    "issues": gettext_lazy("Open issues"),
    "action_items": gettext_lazy("Open action items"),
    "onboarding_tasks": gettext_lazy("Onboarding tasks"),
    "meetings": gettext_lazy("Planned meetings"),
    "registrations": gettext_lazy("Deal registrations"),
}


def _moved_sections(user: Any, moved: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = board.moved_rows(user, moved)
    sections = []
    for kind in MOVED_LABELS:
        ids = list(moved.get(kind) or [])
        if not ids:
            continue
        sections.append(
            {
                "kind": kind,
                "label": str(MOVED_LABELS[kind]),
                "count": len(ids),
                "rows": rows.get(kind, []),
                "hidden": max(len(ids) - len(rows.get(kind, [])), 0)
                if kind != "registrations"
                else 0,
            }
        )
    return sections


@login_required
@require_GET
def handover_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW_HANDOVER)
    user = request.user
    queryset = continuity_selectors.list_handovers(user).select_related(
        "organisation", "predecessor", "successor", "actor"
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "can_handover": user.has_perm(HANDOVER) and not user.is_partner,
    }
    return render_page(request, "governance/handover_list.html", context)


def _handover_choices(user: Any) -> tuple[list[Any], list[Any], dict[int, Contact]]:
    """Predecessors (anyone, also who already left) and successors (active people), grouped
    by organisation."""
    contacts = list(board.handover_people(user))
    groups: dict[int, tuple[str, list[Contact]]] = {}
    for contact in contacts:
        groups.setdefault(contact.organisation_id, (contact.organisation.name, []))[1].append(
            contact
        )
    predecessors = [
        (name, [(c.pk, _person_label(c)) for c in members]) for name, members in groups.values()
    ]
    successors = [
        (name, [(c.pk, _person_label(c)) for c in members if c.active])
        for name, members in groups.values()
    ]
    return predecessors, [group for group in successors if group[1]], {c.pk: c for c in contacts}


@login_required
def handover_new(request: HttpRequest) -> HttpResponse:
    """Choose who hands over to whom, see what will move, then confirm (one audited step)."""
    user = request.user
    _staff_only(request, HANDOVER)
    predecessors, successors, by_id = _handover_choices(user)
    initial: dict[str, Any] = {"leaving": True}
    wanted = request.GET.get("predecessor", "")
    if wanted.isascii() and wanted.isdigit() and int(wanted) in by_id:
        initial["predecessor"] = int(wanted)
    form = forms.HandoverForm(
        request.POST or None,
        predecessors=predecessors,
        successors=successors,
        initial=initial,
    )
    preview: list[dict[str, Any]] | None = None
    previewed = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        predecessor, successor = by_id[data["predecessor"]], by_id[data["successor"]]
        if predecessor.organisation_id != successor.organisation_id:
            form.add_error(
                "successor",
                _("Choose a person of %(organisation)s, like the predecessor.")
                % {"organisation": predecessor.organisation.name},
            )
        elif request.POST.get("confirm") == "1" and request.POST.get("previewed") == (
            f"{predecessor.pk}:{successor.pk}"
        ):
            try:
                handover = continuity_services.handover(
                    actor=user,
                    predecessor=predecessor,
                    successor=successor,
                    leaving=data["leaving"],
                    reason=data["reason"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(from)s handed over to %(to)s.")
                    % {"from": predecessor.full_name, "to": successor.full_name},
                )
                return redirect("governance:handover_detail", pk=handover.pk)
        if not form.errors:
            # The first step, or the people changed since the preview: show what will move.
            preview = _moved_sections(user, continuity_services.orphans(predecessor))
            previewed = f"{predecessor.pk}:{successor.pk}"
    context = {
        "form": form,
        "preview": preview,
        "confirming": preview is not None,
        "previewed": previewed,
    }
    return render_page(request, "governance/handover_form.html", context)


@login_required
@require_GET
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    require_perm(request, VIEW_HANDOVER)
    handover = continuity_selectors.get_handover(user, pk)
    context = {"handover": handover, "sections": _moved_sections(user, handover.moved or {})}
    return render_page(request, "governance/handover_detail.html", context)


# -- settings and templates -----------------------------------------------------------------------
def _manage(request: HttpRequest) -> None:
    _staff_only(request, MANAGE)


def _tier_choices(user: Any, program: Any) -> list[tuple[str, str]]:
    version = program_selectors.live_version(program) if program is not None else None
    if version is None:
        return []
    return [
        (tier.code, in_chinese(tier.name, tier.name_zh)) for tier in version.tiers.order_by("rank")
    ]


def _partner_tiers(user: Any) -> list[tuple[str, str]]:
    return _tier_choices(user, board.governance_settings(user).tier_program)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The network-wide settings: partner tier program, misalignment threshold, survey days,
    grace days of missed meetings, warning days of expiring certifications."""
    user = request.user
    _manage(request)
    current = board.governance_settings(user)
    programs = [(p.pk, in_chinese(p.name, p.name_zh)) for p in program_selectors.programs(user)]
    initial = {name: getattr(current, name) for name in forms.SettingsForm.FIELDS}
    initial["tier_program"] = current.tier_program_id
    form = forms.SettingsForm(request.POST or None, initial=initial, programs=programs)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        program_id = data.pop("tier_program")
        program = (
            program_selectors.programs(user).filter(pk=program_id).first() if program_id else None
        )
        try:
            settings_services.update_settings(actor=user, data={**data, "tier_program": program})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The governance settings were saved."))
            return redirect("governance:settings")
    return render_page(request, "governance/settings.html", {"form": form, "settings": current})


def _cadence_rows(user: Any) -> list[dict[str, Any]]:
    tiers = dict(_partner_tiers(user))
    return [
        {
            "template": template,
            "name": in_chinese(template.name, template.name_zh),
            "partner_tiers": [tiers.get(code, code) for code in template.partner_tiers or []],
        }
        for template in board.cadence_templates(user)
    ]


def _cadence_initial(template: CadenceTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in forms.CadenceTemplateForm.FIELDS}


@login_required
def cadence_templates(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Cadence templates: the list, a new one, or (with ``pk``) one being edited."""
    user = request.user
    _manage(request)
    template = board.get_template(user, "cadence", pk) if pk is not None else None
    form = forms.CadenceTemplateForm(
        request.POST or None,
        partner_tiers=_partner_tiers(user),
        initial=_cadence_initial(template) if template else {"active": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                meeting_services.create_cadence_template(actor=user, data=form.service_data())
            else:
                meeting_services.update_cadence_template(
                    actor=user, template=template, data=form.service_data()
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The cadence template was saved."))
            return redirect("governance:cadence_templates")
    context = {"rows": _cadence_rows(user), "form": form, "editing": template}
    return render_page(request, "governance/cadence_templates.html", context)


@login_required
def slas(request: HttpRequest) -> HttpResponse:
    """The response and resolution SLA of each severity."""
    user = request.user
    _manage(request)
    current = board.severity_slas(user)
    initial = {}
    for row in current:
        initial[f"{row['severity']}_response_hours"] = row["response_hours"]
        initial[f"{row['severity']}_resolution_hours"] = row["resolution_hours"]
    form = forms.SlaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        rows = [{"severity": key, **hours} for key, hours in form.service_data().items()]
        try:
            issue_services.set_severity_slas(actor=user, rows=rows)
        except ValidationError as error:
            _sla_errors(form, error)
        else:
            messages.success(request, _("The severity SLAs were saved."))
            return redirect("governance:slas")
    return render_page(request, "governance/slas.html", {"form": form, "current": current})


def _sla_errors(form: forms.SlaForm, error: ValidationError) -> None:
    """The service names fields ``critical.response_hours``; the form ``critical_...``."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, texts in error.message_dict.items():
        name = key.replace(".", "_")
        form.add_error(name if name in form.fields else None, texts)


def _template_rows(user: Any) -> list[dict[str, Any]]:
    sides = dict(Side.choices)
    return [
        {
            "template": template,
            "name": in_chinese(template.name, template.name_zh),
            "tasks": [
                {
                    "title": in_chinese(task.get("title", ""), task.get("title_zh", "")),
                    "side": sides.get(task.get("side"), task.get("side")),
                    "due_days": task.get("due_days"),
                }
                for task in template.tasks or []
                if isinstance(task, dict)
            ],
        }
        for template in board.onboarding_templates(user)
    ]


@login_required
def onboarding_templates(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Onboarding templates with their task lists: the list, a new one, or one edited."""
    user = request.user
    _manage(request)
    template = board.get_template(user, "onboarding", pk) if pk is not None else None
    tasks = [t for t in (template.tasks or []) if isinstance(t, dict)] if template else []
    initial = (
        {name: getattr(template, name) for name in forms.OnboardingTemplateForm.FIELDS}
        if template
        else {"active": True}
    )
    data = request.POST if request.method == "POST" else None
    form = forms.OnboardingTemplateForm(data, tasks=tasks, initial=initial)
    if data is not None and data.get("op") == "more":
        # "More rows" without JavaScript: the same inputs again with three empty rows.
        form = forms.OnboardingTemplateForm(
            None, tasks=_posted_tasks(data, form), initial=_posted_initial(data, form)
        )
    elif data is not None and form.is_valid():
        try:
            if template is None:
                continuity_services.create_onboarding_template(actor=user, data=form.service_data())
            else:
                continuity_services.update_onboarding_template(
                    actor=user, template=template, data=form.service_data()
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The onboarding template was saved."))
            return redirect("governance:onboarding_templates")
    context = {"rows": _template_rows(user), "form": form, "editing": template}
    return render_page(request, "governance/onboarding_templates.html", context)


def _posted_tasks(data: Any, form: forms.OnboardingTemplateForm) -> list[dict[str, Any]]:
    prefix = f"{form.prefix}-task_"
    tasks = []
    for index in range(form.task_count):
        title = data.get(f"{prefix}{index}_title", "")
        if not title:
            continue
        tasks.append(
            {
                "title": title,
                "title_zh": data.get(f"{prefix}{index}_title_zh", ""),
                "side": data.get(f"{prefix}{index}_side", Side.PARTNER),
                "due_days": data.get(f"{prefix}{index}_due_days", ""),
            }
        )
    return tasks


def _posted_initial(data: Any, form: forms.OnboardingTemplateForm) -> dict[str, Any]:
    return {
        name: data.get(f"{form.prefix}-{name}", "")
        if name != "active"
        else bool(data.get(f"{form.prefix}-active"))
        for name in forms.OnboardingTemplateForm.FIELDS
    }


def _course_initial(course: Course) -> dict[str, Any]:
    return {name: getattr(course, name) for name in forms.CourseForm.FIELDS}


@login_required
def courses(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Courses (the list, a new one, one edited) and the certifications each partner tier
    of the governance tier program requires."""
    user = request.user
    _manage(request)
    course = board.get_template(user, "course", pk) if pk is not None else None
    all_courses = list(board.courses(user))
    course_choices = [(c.pk, in_chinese(c.name, c.name_zh)) for c in all_courses]
    tiers = _partner_tiers(user)
    required = board.requirements(user)
    posted_tier = request.POST.get("tier_code") if request.method == "POST" else None
    course_form = forms.CourseForm(
        request.POST if request.method == "POST" and posted_tier is None else None,
        initial=_course_initial(course) if course else {"active": True},
    )
    tier_forms = []
    for code, label in tiers:
        bound = request.POST if posted_tier == code else None
        initial = {"tier_code": code}
        initial.update({f"course_{k}": v for k, v in required.get(code, {}).items()})
        tier_form = forms.RequirementsForm(
            bound, courses=course_choices, initial=initial, prefix=f"tier-{code}"
        )
        tier_forms.append({"code": code, "label": label, "form": tier_form})
    if request.method == "POST":
        if posted_tier is None:
            if course_form.is_valid():
                try:
                    if course is None:
                        continuity_services.create_course(
                            actor=user, data=course_form.service_data()
                        )
                    else:
                        continuity_services.update_course(
                            actor=user, course=course, data=course_form.service_data()
                        )
                except ValidationError as error:
                    add_service_errors(course_form, error)
                else:
                    messages.success(request, _("The course was saved."))
                    return redirect("governance:courses")
        else:
            entry = next((t for t in tier_forms if t["code"] == posted_tier), None)
            if entry is None:
                messages.error(request, _("That partner tier is not in the tier program."))
                return redirect("governance:courses")
            tier_form = entry["form"]
            if tier_form.is_valid():
                by_id = {c.pk: c for c in all_courses}
                try:
                    continuity_services.set_requirements(
                        actor=user,
                        tier_code=posted_tier,
                        requirements=[
                            {"course": by_id[r["course"]], "minimum": r["minimum"]}
                            for r in tier_form.requirements()
                        ],
                    )
                except ValidationError as error:
                    add_service_errors(tier_form, error)
                else:
                    messages.success(
                        request,
                        _("The certifications required at %(tier)s were saved.")
                        % {"tier": entry["label"]},
                    )
                    return redirect("governance:courses")
    context = {
        "rows": [{"course": c, "name": in_chinese(c.name, c.name_zh)} for c in all_courses],
        "form": course_form,
        "editing": course,
        "tier_forms": tier_forms,
        "tier_program": board.governance_settings(user).tier_program,
    }
    return render_page(request, "governance/courses.html", context)
