"""Governance writes: issues raised by either side, their response and resolution SLAs, the
escalation up the management tiers when unresolved, resolution with root cause and
corrective actions, reopening, attachments, and the SLA settings."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accord.core.errors import Http404, InvalidTransition, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    ensure_model_permitted,
    ensure_permitted,
    record,
    validate,
)
from accord.governance.models import (
    ActionItem,
    Issue,
    IssueAttachment,
    IssueEvent,
    Reminder,
    RoleAssignment,
    SeveritySla,
    Tier,
    next_tier,
)
from accord.governance.people import contact_for_user, side_of_user
from accord.governance.services.meetings import (
    active_unique,
    create_action_item,
    create_recorded,
    forbid_partner,
    is_partner,
    notify,
    person,
    relationship_organisation,
    role_holder,
    text,
    tier_people,
    utc,
)
from accord.partners.models import Contact, Organisation

MAX_HOURS = 24 * 365
MAX_CORRECTIVE_ACTIONS = 50
SEVERITY_ORDER = [choice for choice in Issue.Severity.values]


def sla_hours(severity: str) -> tuple[int, int]:
    """(response hours, resolution hours per tier) of ``severity``: its row, else the
    defaults."""
    row = SeveritySla.objects.filter(severity=severity).first()
    if row is not None:
        return row.response_hours, row.resolution_hours
    return SeveritySla.DEFAULTS[severity]


def _link(issue: Issue) -> str:
    return f"/governance/issues/{issue.pk}/"


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _event(
    issue: Issue,
    kind: str,
    *,
    actor: Any,
    at: dt.datetime,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    from_tier: str = "",
    to_tier: str = "",
) -> IssueEvent:
    return IssueEvent.objects.create(
        issue=issue,
        kind=kind,
        actor=_actor(actor),
        at=at,
        note=note,
        data=dict(data or {}),
        from_tier=from_tier,
        to_tier=to_tier,
    )


def _locked(issue: Issue) -> Issue:
    """The issue re-read under a row lock (PostgreSQL; SQLite serialises writers)."""
    found = (
        Issue.objects.select_for_update(of=("self",))
        .select_related("organisation", "owner__user")
        .filter(pk=issue.pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _ensure_open(issue: Issue, requested: str) -> None:
    if issue.status in Issue.OPEN_STATUSES:
        return
    raise InvalidTransition(
        _("An issue that is “%(status)s” cannot be %(action)s.")
        % {"status": issue.get_status_display(), "action": _requested_label(requested)},
        current=issue.status,
        requested=requested,
    )


def _requested_label(requested: str) -> str:
    return {
        "respond": _("responded to"),
        "assign": _("reassigned"),
        "resolve": pgettext("issue action", "resolved"),
        "reopen": _("reopened"),
    }.get(requested, requested)


def _transition(
    actor: Any, issue: Issue, changes: Mapping[str, list[Any]], reason: str = ""
) -> None:
    record(
        actor=actor,
        obj=issue,
        action=AuditEntry.Action.TRANSITION,
        changes={k: v for k, v in changes.items() if v[0] != v[1]},
        reason=reason,
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _fallback_people(organisation: Organisation) -> list[Contact | None]:
    """Who hears of an issue at a tier nobody is mapped at: the relationship-management
    role holder and the organisation's account manager."""
    manager = organisation.account_manager
    return [
        role_holder(organisation.pk, RoleAssignment.Role.RELATIONSHIP),
        contact_for_user(manager) if manager is not None and manager.is_active else None,
    ]


def tier_audience(issue: Issue, tier: str) -> list[Contact]:
    """The people told about ``issue`` at ``tier``: both sides of every contact-map slot at
    that tier (the fallback people when nobody is mapped there), then the owner."""
    organisation = issue.organisation
    mapped = active_unique(tier_people(organisation.pk, tier))
    if not mapped:
        mapped = active_unique(_fallback_people(organisation))
    return active_unique([*mapped, issue.owner])


def _default_owner(organisation_id: int) -> Contact | None:
    """The service-delivery role holder, else the relationship-management role holder."""
    for role in (RoleAssignment.Role.SERVICE_DELIVERY, RoleAssignment.Role.RELATIONSHIP):
        holder = role_holder(organisation_id, role)
        if holder is not None and holder.active:
            return holder
    return None


def _choice(value: Any, choices: Any, field: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise ValidationError(
            {field: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}]}
        )
    return value


# -- raising and working an issue ----------------------------------------------------


@transaction.atomic(durable=True)
def raise_issue(
    *,
    actor: Any,
    organisation: Any,
    title: str,
    category: str,
    severity: str,
    description: str = "",
    owner: Any = None,
    now: dt.datetime | None = None,
) -> Issue:
    """Raise an issue on a relationship (a partner: on its own). Its SLA deadlines come
    from the severity; it starts at the working level, whose paired people and the owner
    are told."""
    ensure_model_permitted(actor, "add", Issue)
    organisation = relationship_organisation(actor, organisation, own=True)
    now = now or timezone.now()
    title = text(title, "title", required=True, max_length=200)
    description = text(description, "description")
    category = _choice(category, Issue.Category, "category")
    severity = _choice(severity, Issue.Severity, "severity")
    side = "partner" if is_partner(actor) else None
    chosen = person(actor, organisation, owner, field="owner", side=side, required=False)
    if chosen is None:
        chosen = _default_owner(organisation.pk)
    response_hours, resolution_hours = sla_hours(severity)
    issue = Issue(
        organisation=organisation,
        title=title,
        category=category,
        severity=severity,
        description=description,
        tier=Tier.WORKING,
        raised_side=side_of_user(actor),
        raised_by=_actor(actor),
        owner=chosen,
        raised_at=now,
        respond_by=now + dt.timedelta(hours=response_hours),
        resolve_by=now + dt.timedelta(hours=resolution_hours),
    )
    create_recorded(actor=actor, obj=issue)
    audience = tier_audience(issue, Tier.WORKING)

    def subject() -> str:
        return _("Issue raised: %(number)s %(title)s") % {
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return _(
            "%(organisation)s: %(title)s (%(severity)s). Respond by %(respond_by)s, "
            "resolve by %(resolve_by)s, or it escalates to the next management tier."
        ) % {
            "organisation": organisation.name,
            "title": issue.title,
            "severity": issue.get_severity_display(),
            "respond_by": utc(issue.respond_by),
            "resolve_by": utc(issue.resolve_by),
        }

    notified = notify(
        audience,
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=organisation,
        skip_user=actor,
    )
    _event(
        issue,
        IssueEvent.Kind.RAISED,
        actor=actor,
        at=now,
        note=description,
        to_tier=Tier.WORKING,
        data={
            "rule": "severity_sla",
            "severity": severity,
            "response_hours": response_hours,
            "resolution_hours": resolution_hours,
            "respond_by": _iso(issue.respond_by),
            "resolve_by": _iso(issue.resolve_by),
            "notified": notified,
        },
    )
    return issue


def _check_can_work(actor: Any, issue: Issue) -> None:
    """Responding, commenting and attaching: anyone who may change issues and sees it."""
    ensure_permitted(actor, "change", issue)


@transaction.atomic(durable=True)
def respond(*, actor: Any, issue: Issue, note: str, now: dt.datetime | None = None) -> Issue:
    """A response to an open issue (either side); the first one meets the response SLA."""
    _check_can_work(actor, issue)
    issue = _locked(issue)
    _ensure_open(issue, "respond")
    note = text(note, "note", required=True)
    now = now or timezone.now()
    before = {"status": issue.status, "responded_at": _iso(issue.responded_at)}
    issue.status = Issue.Status.RESPONDED
    if issue.responded_at is None:
        issue.responded_at = now
    issue.save(update_fields=["status", "responded_at", "updated_at"])
    _transition(
        actor,
        issue,
        {
            "status": [before["status"], issue.status],
            "responded_at": [before["responded_at"], _iso(issue.responded_at)],
        },
    )
    on_time = issue.respond_by is None or issue.responded_at <= issue.respond_by
    _event(
        issue,
        IssueEvent.Kind.RESPONDED,
        actor=actor,
        at=now,
        note=note,
        data={"respond_by": _iso(issue.respond_by), "on_time": on_time},
    )
    _tell_about(actor, issue, note, kind=_("Response"))
    return issue


def _raiser(actor: Any, issue: Issue) -> Contact | None:
    """The contact card of whoever raised ``issue``, unless they are the one acting."""
    if issue.raised_by_id is None or issue.raised_by_id == getattr(actor, "pk", None):
        return None
    return contact_for_user(issue.raised_by)


def _tell_about(actor: Any, issue: Issue, note: str, *, kind: str) -> None:
    """The owner and whoever raised the issue hear of a response or comment."""
    raiser = _raiser(actor, issue)

    def subject() -> str:
        return _("%(kind)s on %(number)s %(title)s") % {
            "kind": kind,
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return note

    notify(
        [issue.owner, raiser],
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=issue.organisation,
        skip_user=actor,
    )


@transaction.atomic(durable=True)
def comment(*, actor: Any, issue: Issue, note: str, now: dt.datetime | None = None) -> IssueEvent:
    """A comment on an issue, open or resolved (either side)."""
    _check_can_work(actor, issue)
    issue = _locked(issue)
    note = text(note, "note", required=True)
    event = _event(
        issue, IssueEvent.Kind.COMMENTED, actor=actor, at=now or timezone.now(), note=note
    )
    record(
        actor=actor, obj=issue, action=AuditEntry.Action.UPDATE, changes={"comment": [None, note]}
    )
    _tell_about(actor, issue, note, kind=_("Comment"))
    return event


@transaction.atomic(durable=True)
def assign(*, actor: Any, issue: Issue, owner: Any, now: dt.datetime | None = None) -> Issue:
    """Give an open issue to another owner, of either side (the vendor's call)."""
    forbid_partner(actor)
    ensure_permitted(actor, "resolve", issue)
    issue = _locked(issue)
    _ensure_open(issue, "assign")
    chosen = person(actor, issue.organisation, owner, field="owner")
    if chosen is None or chosen.pk == issue.owner_id:
        return issue
    previous = issue.owner_id
    issue.owner = chosen
    issue.save(update_fields=["owner", "updated_at"])
    record(
        actor=actor,
        obj=issue,
        action=AuditEntry.Action.ASSIGN,
        changes={"owner": [previous, chosen.pk]},
    )
    _event(
        issue,
        IssueEvent.Kind.ASSIGNED,
        actor=actor,
        at=now or timezone.now(),
        data={"from": previous, "to": chosen.pk},
    )

    def subject() -> str:
        return _("Issue for you: %(number)s %(title)s") % {
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return _("%(organisation)s: you now own %(number)s. Resolve it by %(resolve_by)s.") % {
            "organisation": issue.organisation.name,
            "number": issue.number,
            "resolve_by": utc(issue.resolve_by) if issue.resolve_by else "-",
        }

    notify(
        [chosen],
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=issue.organisation,
        skip_user=actor,
    )
    return issue


def _corrective_actions(
    actor: Any, issue: Issue, actions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The corrective actions checked before anything is written."""
    if isinstance(actions, str | bytes | Mapping) or not isinstance(actions, Iterable):
        raise ValidationError({"corrective_actions": [_("Expected a list of actions.")]})
    rows = list(actions)
    if len(rows) > MAX_CORRECTIVE_ACTIONS:
        raise ValidationError(
            {
                "corrective_actions": [
                    _("At most %(count)s actions.") % {"count": MAX_CORRECTIVE_ACTIONS}
                ]
            }
        )
    for number, row in enumerate(rows, 1):
        if not isinstance(row, Mapping) or set(row) - {"title", "owner", "due_on"}:
            raise ValidationError(
                {
                    "corrective_actions": [
                        _("Action %(number)s: give a title, an owner and a due date.")
                        % {"number": number}
                    ]
                }
            )
    return [dict(row) for row in rows]


@transaction.atomic(durable=True)
def resolve(
    *,
    actor: Any,
    issue: Issue,
    root_cause: str,
    resolution: str,
    corrective_actions: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime | None = None,
) -> Issue:
    """Resolve an open issue with its root cause and resolution; each corrective action
    becomes an action item with an owner and a due date. The vendor's call."""
    forbid_partner(actor)
    ensure_permitted(actor, "resolve", issue)
    issue = _locked(issue)
    _ensure_open(issue, "resolve")
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    for name, value in (("root_cause", root_cause), ("resolution", resolution)):
        try:
            text(value, name, required=True)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    root_cause = text(root_cause, "root_cause", required=True)
    resolution = text(resolution, "resolution", required=True)
    rows = _corrective_actions(actor, issue, corrective_actions)
    items: list[ActionItem] = []
    for number, row in enumerate(rows, 1):
        try:
            items.append(
                create_action_item(
                    actor=actor,
                    organisation=issue.organisation,
                    title=row.get("title"),
                    owner=row.get("owner"),
                    due_on=row.get("due_on"),
                    issue=issue,
                    now=now,
                )
            )
        except ValidationError as error:
            messages = [
                _("Action %(number)s: %(problem)s")
                % {"number": number, "problem": " ".join(str(m) for m in problems)}
                for problems in error.message_dict.values()
            ]
            raise ValidationError({"corrective_actions": messages}) from error
    before = {
        "status": issue.status,
        "root_cause": issue.root_cause,
        "resolution": issue.resolution,
        "resolved_at": None,
    }
    issue.status = Issue.Status.RESOLVED
    issue.root_cause = root_cause
    issue.resolution = resolution
    issue.resolved_at = now
    validate(issue)
    issue.save()
    _transition(
        actor,
        issue,
        {
            "status": [before["status"], issue.status],
            "root_cause": [before["root_cause"], root_cause],
            "resolution": [before["resolution"], resolution],
            "resolved_at": [None, _iso(now)],
        },
    )
    hours = round((now - issue.raised_at).total_seconds() / 3600, 2)
    audience = tier_audience(issue, issue.tier)
    raiser = _raiser(actor, issue)

    def subject() -> str:
        return _("Issue resolved: %(number)s %(title)s") % {
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return _("Root cause: %(root_cause)s\nResolution: %(resolution)s") % {
            "root_cause": root_cause,
            "resolution": resolution,
        }

    notified = notify(
        [*audience, raiser],
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=issue.organisation,
        skip_user=actor,
    )
    _event(
        issue,
        IssueEvent.Kind.RESOLVED,
        actor=actor,
        at=now,
        note=resolution,
        data={
            "tier": issue.tier,
            "hours_to_resolve": hours,
            "escalations": issue.escalations,
            "corrective_actions": [item.pk for item in items],
            "notified": notified,
        },
    )
    return issue


@transaction.atomic(durable=True)
def reopen(*, actor: Any, issue: Issue, reason: str, now: dt.datetime | None = None) -> Issue:
    """Reopen a resolved issue at the tier it reached; its resolution clock starts again."""
    forbid_partner(actor)
    ensure_permitted(actor, "resolve", issue)
    issue = _locked(issue)
    reason = text(reason, "reason", required=True)
    if issue.status != Issue.Status.RESOLVED:
        raise InvalidTransition(
            _("Only a resolved issue can be reopened."),
            current=issue.status,
            requested="reopen",
        )
    now = now or timezone.now()
    _response_hours, resolution_hours = sla_hours(issue.severity)
    before = {
        "status": issue.status,
        "resolved_at": _iso(issue.resolved_at),
        "resolve_by": _iso(issue.resolve_by),
        "reopened": issue.reopened,
    }
    issue.status = Issue.Status.RESPONDED if issue.responded_at else Issue.Status.OPEN
    issue.resolved_at = None
    issue.resolve_by = now + dt.timedelta(hours=resolution_hours)
    issue.reopened += 1
    issue.save()
    _transition(
        actor,
        issue,
        {
            "status": [before["status"], issue.status],
            "resolved_at": [before["resolved_at"], None],
            "resolve_by": [before["resolve_by"], _iso(issue.resolve_by)],
            "reopened": [before["reopened"], issue.reopened],
        },
        reason=reason,
    )
    audience = tier_audience(issue, issue.tier)

    def subject() -> str:
        return _("Issue reopened: %(number)s %(title)s") % {
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return _("%(reason)s\nResolve it by %(resolve_by)s.") % {
            "reason": reason,
            "resolve_by": utc(issue.resolve_by),
        }

    notified = notify(
        audience,
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=issue.organisation,
        skip_user=actor,
    )
    _event(
        issue,
        IssueEvent.Kind.REOPENED,
        actor=actor,
        at=now,
        note=reason,
        data={
            "rule": "resolution_sla",
            "tier": issue.tier,
            "resolution_hours": resolution_hours,
            "resolve_by": _iso(issue.resolve_by),
            "notified": notified,
        },
    )
    return issue


@transaction.atomic(durable=True)
def add_attachment(
    *,
    actor: Any,
    issue: Issue,
    name: str,
    content: bytes,
    content_type: str = "",
    now: dt.datetime | None = None,
) -> IssueAttachment:
    """A file on an issue (either side), kept in the database; at most 10 MB, not empty."""
    ensure_model_permitted(actor, "add", IssueAttachment)
    ensure_permitted(actor, "view", issue)
    if not isinstance(content, bytes | bytearray | memoryview):
        raise ValidationError({"content": [_("Expected a file.")]})
    content = bytes(content)
    if not content:
        raise ValidationError({"content": [_("The file is empty.")]})
    if len(content) > IssueAttachment.MAX_BYTES:
        raise ValidationError(
            {
                "content": [
                    _("The file is larger than %(size)s MB.")
                    % {"size": IssueAttachment.MAX_BYTES // (1024 * 1024)}
                ]
            }
        )
    if not isinstance(name, str):
        raise ValidationError({"name": [_("Expected text.")]})
    # A browser may send a path ("C:\\fakepath\\report.pdf"): keep the file's own name.
    name = os.path.basename(name.replace("\\", "/")).strip()
    name = text(name, "name", required=True)
    if len(name) > 200:
        stem, extension = os.path.splitext(name)
        name = stem[: 200 - len(extension[:20])] + extension[:20]
    content_type = text(content_type or "", "content_type") or "application/octet-stream"
    if len(content_type) > 100 or "/" not in content_type:
        content_type = "application/octet-stream"
    attachment = IssueAttachment(
        issue=issue,
        name=name,
        content_type=content_type,
        size=len(content),
        content=content,
        uploaded_by=_actor(actor),
        uploaded_at=now or timezone.now(),
    )
    return create_recorded(actor=actor, obj=attachment, skip={"content"})


# -- timers -------------------------------------------------------------------------


def _escalate_one(
    issue_id: int, now: dt.datetime, hours: Mapping[str, int] | None = None
) -> Issue | None:
    """Move one overdue issue a tier up (or, at the top, tell its people once);
    ``hours``: resolution hours by severity, read once per sweep."""
    with transaction.atomic():
        issue = (
            Issue.objects.select_for_update(of=("self",))
            .select_related("organisation__account_manager", "owner__user")
            .filter(
                pk=issue_id,
                status__in=Issue.OPEN_STATUSES,
                resolve_by__lte=now,
            )
            .first()
        )
        if issue is None:  # resolved or escalated meanwhile
            return None
        higher = next_tier(issue.tier)
        if higher is None:
            _flag_at_top(issue, now)
            return None
        if hours is not None and issue.severity in hours:
            resolution_hours = hours[issue.severity]
        else:
            _response_hours, resolution_hours = sla_hours(issue.severity)
        deadline = issue.resolve_by
        lower = issue.tier
        issue.tier = higher
        issue.escalations += 1
        issue.resolve_by = now + dt.timedelta(hours=resolution_hours)
        issue.save(update_fields=["tier", "escalations", "resolve_by", "updated_at"])
        _transition(
            None,
            issue,
            {
                "tier": [lower, higher],
                "escalations": [issue.escalations - 1, issue.escalations],
                "resolve_by": [_iso(deadline), _iso(issue.resolve_by)],
            },
            reason="resolution SLA",
        )
        audience = tier_audience(issue, higher)
        organisation = issue.organisation
        tier_labels = dict(Tier.choices)

        def subject() -> str:
            return _("Issue escalated to %(tier)s: %(number)s %(title)s") % {
                "tier": tier_labels[higher],
                "number": issue.number,
                "title": issue.title,
            }

        def body() -> str:
            return _(
                "%(organisation)s: %(number)s (%(severity)s) was not resolved by %(deadline)s "
                "and now sits with %(tier)s. Resolve it by %(resolve_by)s."
            ) % {
                "organisation": organisation.name,
                "number": issue.number,
                "severity": issue.get_severity_display(),
                "deadline": utc(deadline),
                "tier": tier_labels[higher],
                "resolve_by": utc(issue.resolve_by),
            }

        notified = notify(
            audience, subject=subject, body=body, link=_link(issue), organisation=organisation
        )
        _event(
            issue,
            IssueEvent.Kind.ESCALATED,
            actor=None,
            at=now,
            from_tier=lower,
            to_tier=higher,
            data={
                "rule": "resolution_sla",
                "severity": issue.severity,
                "resolution_hours": resolution_hours,
                "deadline": _iso(deadline),
                "now": _iso(now),
                "from": lower,
                "to": higher,
                "resolve_by": _iso(issue.resolve_by),
                "notified": notified,
            },
        )
        return issue


def _top_key(issue_id: int, resolve_by: dt.datetime) -> str:
    """The reminder key of an executive-level issue overdue since ``resolve_by``."""
    return f"issue:{issue_id}:overdue:{resolve_by.isoformat()}"


def _flag_at_top(issue: Issue, now: dt.datetime) -> None:
    """An executive-level issue past its deadline stays there; its people hear once per
    deadline."""
    key = _top_key(issue.pk, issue.resolve_by)
    _reminder, created = Reminder.objects.get_or_create(key=key, defaults={"sent_at": now})
    if not created:
        return

    def subject() -> str:
        return _("Issue overdue at the executive level: %(number)s %(title)s") % {
            "number": issue.number,
            "title": issue.title,
        }

    def body() -> str:
        return _(
            "%(organisation)s: %(number)s was due to be resolved by %(deadline)s and is still "
            "open at the highest management tier."
        ) % {
            "organisation": issue.organisation.name,
            "number": issue.number,
            "deadline": utc(issue.resolve_by),
        }

    notify(
        tier_audience(issue, issue.tier),
        subject=subject,
        body=body,
        link=_link(issue),
        organisation=issue.organisation,
    )


def escalate_due(*, now: dt.datetime) -> list[Issue]:
    """Every open issue past its resolution deadline below the executive level moves one
    tier up, its resolution clock restarts, and the paired people at the new tier on both
    sides (and the owner) are told. Each issue in its own transaction; a rerun at the same
    time changes nothing. Executive-level issues whose people already heard of this deadline
    are left out in one query (not a locked read each on every sweep), and the SLA hours are
    read once."""
    due = list(
        Issue.objects.filter(status__in=Issue.OPEN_STATUSES, resolve_by__lte=now)
        .order_by("resolve_by", "pk")
        .values_list("pk", "tier", "resolve_by")
    )
    at_top = {
        _top_key(pk, resolve_by): pk for pk, tier, resolve_by in due if next_tier(tier) is None
    }
    keys = list(at_top)
    settled: set[int] = set()
    for start in range(0, len(keys), 500):
        told = Reminder.objects.filter(key__in=keys[start : start + 500])
        settled.update(at_top[key] for key in told.values_list("key", flat=True))
    hours = {
        severity: resolution for severity, (_response, resolution) in SeveritySla.DEFAULTS.items()
    }
    hours.update(SeveritySla.objects.values_list("severity", "resolution_hours"))
    escalated = []
    for issue_id, _tier, _resolve_by in due:
        if issue_id in settled:
            continue
        issue = _escalate_one(issue_id, now, hours)
        if issue is not None:
            escalated.append(issue)
    return escalated


def _response_overdue_one(issue_id: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        issue = (
            Issue.objects.select_for_update(of=("self",))
            .select_related("organisation__account_manager", "owner__user")
            .filter(
                pk=issue_id,
                status=Issue.Status.OPEN,
                respond_by__lte=now,
                response_overdue_notified_at__isnull=True,
            )
            .first()
        )
        if issue is None:
            return False
        issue.response_overdue_notified_at = now
        issue.save(update_fields=["response_overdue_notified_at", "updated_at"])

        def subject() -> str:
            return _("No response yet: %(number)s %(title)s") % {
                "number": issue.number,
                "title": issue.title,
            }

        def body() -> str:
            return _(
                "%(organisation)s: %(number)s (%(severity)s) should have had a response by "
                "%(respond_by)s."
            ) % {
                "organisation": issue.organisation.name,
                "number": issue.number,
                "severity": issue.get_severity_display(),
                "respond_by": utc(issue.respond_by),
            }

        notified = notify(
            tier_audience(issue, issue.tier),
            subject=subject,
            body=body,
            link=_link(issue),
            organisation=issue.organisation,
        )
        _event(
            issue,
            IssueEvent.Kind.RESPONSE_OVERDUE,
            actor=None,
            at=now,
            data={
                "rule": "response_sla",
                "severity": issue.severity,
                "respond_by": _iso(issue.respond_by),
                "now": _iso(now),
                "notified": notified,
            },
        )
        return True


def run_issue_timers(*, now: dt.datetime) -> dict[str, Any]:
    """The worker's issue sweep: escalations and response-overdue notices, each once."""
    escalated = escalate_due(now=now)
    late = [
        issue_id
        for issue_id in Issue.objects.filter(
            status=Issue.Status.OPEN,
            respond_by__lte=now,
            response_overdue_notified_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        if _response_overdue_one(issue_id, now)
    ]
    return {"escalated": [issue.pk for issue in escalated], "response_overdue": late}


# -- SLA settings -------------------------------------------------------------------


def _hours(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HOURS:
        raise ValidationError(
            {field: [_("Enter whole hours from 1 to %(max)s.") % {"max": MAX_HOURS}]}
        )
    return value


@transaction.atomic(durable=True)
def set_severity_slas(*, actor: Any, rows: Iterable[Mapping[str, Any]]) -> list[SeveritySla]:
    """Set the response and resolution SLA of each severity given (others keep theirs)."""
    ensure_model_permitted(actor, "change", SeveritySla)
    ensure_model_permitted(actor, "add", SeveritySla)
    forbid_partner(actor)
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        raise ValidationError({"rows": [_("Expected a list of severities.")]})
    cleaned: dict[str, tuple[int, int]] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise ValidationError({"rows": [_("Expected a list of severities.")]})
        severity = _choice(row.get("severity"), Issue.Severity, "severity")
        if severity in cleaned:
            raise ValidationError({"severity": [_("Each severity once.")]})
        response = _hours(row.get("response_hours"), f"{severity}.response_hours")
        resolution = _hours(row.get("resolution_hours"), f"{severity}.resolution_hours")
        if response > resolution:
            raise ValidationError(
                {
                    f"{severity}.response_hours": [
                        _("The response SLA cannot be longer than the resolution SLA.")
                    ]
                }
            )
        cleaned[severity] = (response, resolution)
    for severity, (response, resolution) in cleaned.items():
        row = SeveritySla.objects.select_for_update().filter(severity=severity).first()
        if row is None:
            create_recorded(
                actor=actor,
                obj=SeveritySla(
                    severity=severity, response_hours=response, resolution_hours=resolution
                ),
            )
            continue
        changes = {
            name: [getattr(row, name), value]
            for name, value in (("response_hours", response), ("resolution_hours", resolution))
            if getattr(row, name) != value
        }
        if changes:
            row.response_hours, row.resolution_hours = response, resolution
            validate(row)
            row.save()
            record(actor=actor, obj=row, action=AuditEntry.Action.UPDATE, changes=changes)
    found = {row.severity: row for row in SeveritySla.objects.all()}
    return [found[severity] for severity in SEVERITY_ORDER if severity in found]
