"""REST endpoints of accord.governance (mounted under /api/v1/): relationships with their
separated roles, contact map and key people; cadence and meetings; action items; issues with
SLAs, escalation and attachments; two-sided health checks (and the token survey that needs no
account); handovers and coverage; onboarding and enablement; settings and the dashboard.

Thin: reads go through the governance selectors (which call ``restrict``), writes through
the services, which keep partner users to their own side (403 otherwise). A relationship is
addressed by its organisation's id. Ids in the path that the caller cannot see answer 404;
ids in a body answer 422 with a field error, as unknown ones do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Path, Query, Router
from ninja.files import UploadedFile

from accord.core.schemas import (
    ObjectId,
    PageInput,
    error_responses,
    field_error,
    renamed_fields,
)
from accord.governance import calendar, people
from accord.governance.models import (
    ActionItem,
    ContactSlot,
    GovernanceSettings,
    IssueAttachment,
    KeyPerson,
    Meeting,
    OnboardingTask,
    RoleAssignment,
)
from accord.governance.schemas import (
    ActionItemFilter,
    ActionItemIn,
    ActionItemOut,
    ActionItemPage,
    AttachmentOut,
    CadenceApplyIn,
    CadenceTemplateIn,
    CadenceTemplateOut,
    CadenceTemplatePatch,
    CertificationPage,
    ContactSlotIn,
    ContactSlotOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    CoverageOut,
    DashboardOut,
    EnablementOut,
    EnablementQuery,
    ExpiringQuery,
    FunctionName,
    GovernanceIssueOut,
    GovernanceSettingsIn,
    GovernanceSettingsOut,
    HandoverFilter,
    HandoverIn,
    HandoverOut,
    HandoverPage,
    HealthPointOut,
    HealthSurveyDetailOut,
    HealthSurveyPage,
    IssueAssignIn,
    IssueEventPage,
    IssueFilter,
    IssueIn,
    IssueNoteIn,
    IssuePage,
    IssueReopenIn,
    IssueResolveIn,
    KeyPersonFilter,
    KeyPersonIn,
    KeyPersonOut,
    KeyPersonPage,
    KeyPersonPatch,
    MeetingCancelIn,
    MeetingFilter,
    MeetingIn,
    MeetingOut,
    MeetingPage,
    MeetingPatch,
    MeetingRecordIn,
    OnboardingPlanIn,
    OnboardingPlanOut,
    OnboardingPlanPage,
    OnboardingTaskOut,
    OnboardingTemplateIn,
    OnboardingTemplateOut,
    OnboardingTemplatePatch,
    PlanFilter,
    RelationshipFilter,
    RelationshipOut,
    RelationshipPage,
    RelationshipPatch,
    RequirementFilter,
    RequirementOut,
    RequirementsIn,
    RolesIn,
    RolesOut,
    SeveritySlaOut,
    SeveritySlasIn,
    SurveyAnsweredOut,
    SurveyAnswerIn,
    SurveyFilter,
    SurveyFormOut,
    SurveyOpenIn,
    SurveyToken,
    TaskDoneIn,
    TierCode,
    TierName,
)
from accord.governance.selectors import continuity as continuity_reads
from accord.governance.selectors import dashboard as dashboard_reads
from accord.governance.selectors import health as health_reads
from accord.governance.selectors import issues as issue_reads
from accord.governance.selectors import meetings as meeting_reads
from accord.governance.selectors import structure as structure_reads
from accord.governance.services import continuity, health, issues, meetings, structure
from accord.governance.services import settings as settings_services
from accord.governance.services.health import SurveyLinkError
from accord.partners import selectors as partner_selectors
from accord.partners.models import Contact, Organisation

router = Router(tags=["governance"])

READ = error_responses(403, 404, 422)
LIST = error_responses(403, 422)
WRITE = error_responses(400, 403, 404, 409, 422)
UPLOAD = error_responses(400, 403, 404, 409, 413, 422)
# The services' field names -> the request's.
FIELDS = {
    "owner": "owner_id",
    "person": "person_id",
    "backup": "backup_id",
    "attendees": "attendee_ids",
    "subject": "subject_id",
    "template": "template_id",
    "predecessor": "predecessor_id",
    "successor": "successor_id",
    "vendor_contact": "vendor_contact_id",
    "partner_contact": "partner_contact_id",
    "respondents": "respondent_ids",
    "organisation": "organisation_id",
    "meeting": "meeting_id",
    "issue": "issue_id",
    "course": "course_id",
}
CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# Served with their own type only when a browser cannot run it; everything else downloads as bytes.
SAFE_INLINE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
}


# -- helpers ---------------------------------------------------------------------------------
def _require(user: Any, permission: str) -> None:
    """403 unless ``user`` holds ``permission`` at all."""
    if not user.has_perm(permission):
        raise PermissionDenied


def _page(items: QuerySet, query: PageInput, build: Callable[[Any], Any]) -> dict[str, Any]:
    rows = items[query.offset : query.offset + query.limit]
    return {"count": items.count(), "items": [build(row) for row in rows]}


def _filters(query: Any, exclude: Iterable[str] = ("limit", "offset")) -> dict[str, Any]:
    """The filter keys the caller set (None and paging left out)."""
    return {
        name: value
        for name, value in query.model_dump(exclude=set(exclude)).items()
        if value is not None
    }


def _organisation(user: Any, pk: int) -> Organisation:
    """The organisation of the relationship ``pk`` as the caller sees it (404 when it
    cannot, and for the vendor itself)."""
    return structure_reads.get_relationship(user, pk).organisation


def _body_organisation(user: Any, pk: int) -> Organisation:
    organisation = partner_selectors.find_organisation(user, pk)
    if organisation is None or organisation.is_vendor:
        raise field_error("organisation_id", _("Unknown organisation."))
    return organisation


def _contacts(user: Any, pks: list[int], field: str) -> list[Contact]:
    rows = structure_reads.visible_contacts(user).select_related("organisation").filter(pk__in=pks)
    found = {contact.pk: contact for contact in rows}
    missing = [pk for pk in pks if pk not in found]
    if missing:
        raise field_error(field, _("Unknown person: %(ids)s.") % {"ids": missing})
    return [found[pk] for pk in dict.fromkeys(pks)]


def _person(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "id": contact.pk,
        "name": contact.full_name,
        "organisation_id": contact.organisation_id,
        "side": people.side_of_contact(contact),
        "active": contact.active,
    }


# -- relationships ---------------------------------------------------------------------------
def _relationship_out(relationship: Any) -> dict[str, Any]:
    organisation = relationship.organisation
    return {
        "id": organisation.pk,
        "organisation_name": organisation.name,
        "organisation_kind": organisation.kind,
        "health_frequency": relationship.health_frequency,
        "started_on": relationship.started_on,
        "health_score": relationship.health_score,
        "misaligned": relationship.misaligned,
        "notes": relationship.notes,
        "roles_filled": getattr(relationship, "roles_filled", 0) or 0,
        "open_issues": getattr(relationship, "open_issues", 0) or 0,
        "overdue_meetings": getattr(relationship, "overdue_meetings", 0) or 0,
        "created_at": relationship.created_at,
    }


def _relationship(user: Any, organisation_id: int) -> dict[str, Any]:
    """The relationship with its list figures (the defaults before its record exists)."""
    row = structure_reads.list_relationships(user).filter(organisation_id=organisation_id).first()
    return _relationship_out(row or structure_reads.get_relationship(user, organisation_id))


@router.get(
    "/governance/relationships",
    response={200: RelationshipPage, **LIST},
    operation_id="governance_relationships_list",
)
def governance_relationships_list(request: HttpRequest, filters: Query[RelationshipFilter]) -> Any:
    """Relationships the caller may see (a partner: its own), by organisation name. Filter
    by a search, the organisation's kind, the separated roles (incomplete or doubled),
    the misalignment flag, a health score below a value, or overdue cadence."""
    user = request.auth
    rows = structure_reads.list_relationships(user, _filters(filters))
    return _page(rows, filters, _relationship_out)


@router.get(
    "/governance/relationships/{id}",
    response={200: RelationshipOut, **READ},
    operation_id="governance_relationships_get",
)
def governance_relationships_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The relationship with the organisation ``id``."""
    return _relationship(request.auth, id)


@router.patch(
    "/governance/relationships/{id}",
    response={200: RelationshipOut, **WRITE},
    operation_id="governance_relationships_update",
)
def governance_relationships_update(
    request: HttpRequest, id: Path[ObjectId], payload: RelationshipPatch
) -> Any:
    """Change the health-check frequency, the start day or the notes (only the keys sent).
    The relationship's record is made on first use. Needs ``governance.change_relationship``."""
    user = request.auth
    organisation = _organisation(user, id)
    _require(user, "governance.change_relationship")
    relationship = structure.ensure_relationship(actor=user, organisation=organisation)
    structure.update_relationship(
        actor=user, relationship=relationship, data=payload.model_dump(exclude_unset=True)
    )
    return _relationship(user, id)


# -- separated roles ---------------------------------------------------------------------------
def _roles_out(user: Any, organisation: Organisation) -> dict[str, Any]:
    held = {
        row.role: row
        for row in structure_reads.list_roles(user, organisation).select_related(
            "holder__organisation"
        )
    }
    return {
        "organisation_id": organisation.pk,
        "roles": [
            {
                "role": role,
                "label": str(label),
                "holder": _person(held[role].holder) if role in held else None,
                "assigned_on": held[role].assigned_on if role in held else None,
            }
            for role, label in RoleAssignment.Role.choices
        ],
        "gaps": structure.role_gaps(organisation),
    }


@router.get(
    "/governance/relationships/{id}/roles",
    response={200: RolesOut, **READ},
    operation_id="governance_roles_get",
)
def governance_roles_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The four separated roles (service delivery, transformation, relationship, commercial
    management), each held by a named vendor person, and what is missing or doubled."""
    user = request.auth
    return _roles_out(user, _organisation(user, id))


@router.put(
    "/governance/relationships/{id}/roles",
    response={200: RolesOut, **WRITE},
    operation_id="governance_roles_update",
)
def governance_roles_update(request: HttpRequest, id: Path[ObjectId], payload: RolesIn) -> Any:
    """Set all four roles at once (null clears one). One person may hold only one role of a
    relationship: naming the same person twice is a 422 naming both roles. Holders are
    active vendor people. Vendor staff with ``governance.change_roleassignment``."""
    user = request.auth
    organisation = _organisation(user, id)
    _require(user, "governance.change_roleassignment")
    holders = payload.model_dump()
    structure.set_roles(actor=user, organisation=organisation, holders=holders)
    return _roles_out(user, organisation)


# -- contact map -------------------------------------------------------------------------------
def _slot_out(slot: ContactSlot) -> dict[str, Any]:
    return {
        "id": slot.pk,
        "organisation_id": slot.organisation_id,
        "tier": slot.tier,
        "function": slot.function,
        "vendor_contact": _person(slot.vendor_contact),
        "partner_contact": _person(slot.partner_contact),
    }


SLOT_RELATED = ("vendor_contact__organisation", "partner_contact__organisation")


@router.get(
    "/governance/relationships/{id}/contact-map",
    response={200: list[ContactSlotOut], **READ},
    operation_id="governance_contact_map_get",
)
def governance_contact_map_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The peer-to-peer contact map: per management tier and function, the vendor's person
    and the partner's, who talk to each other directly."""
    user = request.auth
    organisation = _organisation(user, id)
    slots = structure_reads.list_slots(user, organisation).select_related(*SLOT_RELATED)
    return [_slot_out(slot) for slot in slots]


@router.put(
    "/governance/relationships/{id}/contact-map/{tier}/{function}",
    response={200: ContactSlotOut, **WRITE},
    operation_id="governance_contact_map_set",
)
def governance_contact_map_set(
    request: HttpRequest,
    id: Path[ObjectId],
    tier: Path[TierName],
    function: Path[FunctionName],
    payload: ContactSlotIn,
) -> Any:
    """Name the people of one slot (keys left out keep theirs, null empties a side). A
    partner names only its own side (``partner_contact_id``): the vendor side is 403."""
    user = request.auth
    organisation = _organisation(user, id)
    data = payload.model_dump(exclude_unset=True)
    sides = {name.removesuffix("_id"): pk for name, pk in data.items()}
    with renamed_fields(FIELDS):
        slot = structure.set_slot(
            actor=user, organisation=organisation, tier=tier, function=function, **sides
        )
    return _slot_out(structure_reads.get_slot(user, slot.pk))


# -- key people --------------------------------------------------------------------------------
def _key_person_out(row: KeyPerson) -> dict[str, Any]:
    return {
        "id": row.pk,
        "organisation_id": row.organisation_id,
        "side": people.side_of_contact(row.person),
        "person": _person(row.person),
        "backup": _person(row.backup),
        "responsibility": row.responsibility,
    }


def _key_people(user: Any) -> QuerySet:
    return structure_reads.list_key_people(user).select_related("backup__organisation")


@router.get(
    "/governance/key-people",
    response={200: KeyPersonPage, **LIST},
    operation_id="governance_key_people_list",
)
def governance_key_people_list(request: HttpRequest, filters: Query[KeyPersonFilter]) -> Any:
    """People the relationships depend on, on both sides, each with a named backup."""
    rows = _key_people(request.auth)
    if filters.organisation is not None:
        rows = rows.filter(organisation_id=filters.organisation)
    if filters.side == "vendor":
        rows = rows.filter(person__organisation__is_vendor=True)
    elif filters.side == "partner":
        rows = rows.filter(person__organisation__is_vendor=False)
    return _page(rows, filters, _key_person_out)


@router.post(
    "/governance/key-people",
    response={201: KeyPersonOut, **WRITE},
    operation_id="governance_key_people_create",
)
def governance_key_people_create(request: HttpRequest, payload: KeyPersonIn) -> Any:
    """Name a key person of a relationship and their backup (same side, not the person).
    A partner names people of its own side."""
    user = request.auth
    _require(user, "governance.add_keyperson")
    organisation = _body_organisation(user, payload.organisation_id)
    with renamed_fields(FIELDS):
        row = structure.add_key_person(
            actor=user,
            organisation=organisation,
            person=payload.person_id,
            backup=payload.backup_id,
            responsibility=payload.responsibility,
        )
    return 201, _key_person_out(_key_people(user).get(pk=row.pk))


@router.patch(
    "/governance/key-people/{id}",
    response={200: KeyPersonOut, **WRITE},
    operation_id="governance_key_people_update",
)
def governance_key_people_update(
    request: HttpRequest, id: Path[ObjectId], payload: KeyPersonPatch
) -> Any:
    """Change the backup or the responsibility (only the keys sent)."""
    user = request.auth
    row = structure_reads.get_key_person(user, id)
    data = payload.model_dump(exclude_unset=True)
    if "backup_id" in data:
        data["backup"] = data.pop("backup_id")
    with renamed_fields(FIELDS):
        structure.update_key_person(actor=user, key_person=row, data=data)
    return _key_person_out(_key_people(user).get(pk=row.pk))


@router.delete(
    "/governance/key-people/{id}",
    response={204: None, **WRITE},
    operation_id="governance_key_people_delete",
)
def governance_key_people_delete(request: HttpRequest, id: Path[ObjectId]) -> Any:
    user = request.auth
    structure.remove_key_person(actor=user, key_person=structure_reads.get_key_person(user, id))
    return 204, None


# -- cadence -----------------------------------------------------------------------------------
@router.get(
    "/governance/cadence-templates",
    response={200: list[CadenceTemplateOut], **LIST},
    operation_id="governance_cadence_templates_list",
)
def governance_cadence_templates_list(request: HttpRequest) -> Any:
    """The recurring meetings per management tier (and for the partners of some tiers)."""
    return list(meeting_reads.list_cadence_templates(request.auth))


@router.post(
    "/governance/cadence-templates",
    response={201: CadenceTemplateOut, **WRITE},
    operation_id="governance_cadence_templates_create",
)
def governance_cadence_templates_create(request: HttpRequest, payload: CadenceTemplateIn) -> Any:
    """Needs ``governance.add_cadencetemplate``."""
    return 201, meetings.create_cadence_template(actor=request.auth, data=payload.model_dump())


@router.patch(
    "/governance/cadence-templates/{id}",
    response={200: CadenceTemplateOut, **WRITE},
    operation_id="governance_cadence_templates_update",
)
def governance_cadence_templates_update(
    request: HttpRequest, id: Path[ObjectId], payload: CadenceTemplatePatch
) -> Any:
    """Change a template (only the keys sent); meetings planned already stay as they are."""
    user = request.auth
    template = meeting_reads.get_cadence_template(user, id)
    return meetings.update_cadence_template(
        actor=user, template=template, data=payload.model_dump(exclude_unset=True)
    )


@router.post(
    "/governance/relationships/{id}/cadence/apply",
    response={200: list[MeetingOut], **WRITE},
    operation_id="governance_cadence_apply",
)
def governance_cadence_apply(
    request: HttpRequest, id: Path[ObjectId], payload: CadenceApplyIn
) -> Any:
    """Plan the meetings of every active cadence template that fits the partner's tier,
    from ``start`` over ``months``, with the contact-map people of the template's tier
    as attendees. Meetings planned before are not planned again: the answer lists the new
    ones (empty on a second run)."""
    user = request.auth
    organisation = _organisation(user, id)
    planned = meetings.apply_cadences(
        actor=user, organisation=organisation, start=payload.start, months=payload.months
    )
    return _meetings_out(user, [meeting.pk for meeting in planned])


# -- meetings ----------------------------------------------------------------------------------
def _meeting_out(meeting: Meeting, now: dt.datetime, grace: int) -> dict[str, Any]:
    return {
        **{
            name: getattr(meeting, name)
            for name in (
                "id",
                "organisation_id",
                "cadence_id",
                "title",
                "tier",
                "status",
                "starts_at",
                "duration_minutes",
                "location",
                "agenda",
                "minutes",
                "decisions",
                "held_at",
                "sequence",
                "created_at",
                "updated_at",
            )
        },
        "organisation_name": meeting.organisation.name,
        "attendees": [_person(contact) for contact in meeting.attendees.all()],
        "uid": str(meeting.uid),
        "overdue": meeting.status == Meeting.Status.PLANNED
        and meeting.starts_at + dt.timedelta(days=grace) < now,
    }


def _meeting_rows(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    filters = dict(filters or {})
    tier = filters.pop("tier", None)
    # The selector's names for the time window.
    for ours, theirs in (("since", "from"), ("until", "to")):
        if ours in filters:
            filters[theirs] = filters.pop(ours)
    rows = meeting_reads.list_meetings(user, filters).prefetch_related("attendees__organisation")
    return rows.filter(tier=tier) if tier else rows


def _meeting_builder() -> Callable[[Meeting], dict[str, Any]]:
    now, grace = timezone.now(), GovernanceSettings.current().meeting_grace_days
    return lambda meeting: _meeting_out(meeting, now, grace)


def _meetings_out(user: Any, pks: list[int]) -> list[dict[str, Any]]:
    build = _meeting_builder()
    return [build(meeting) for meeting in _meeting_rows(user).filter(pk__in=pks)]


def _meeting(user: Any, pk: int) -> dict[str, Any]:
    found = _meetings_out(user, [pk])
    if not found:
        raise Http404
    return found[0]


@router.get(
    "/governance/meetings",
    response={200: MeetingPage, **LIST},
    operation_id="governance_meetings_list",
)
def governance_meetings_list(request: HttpRequest, filters: Query[MeetingFilter]) -> Any:
    """Governance meetings the caller may see, by start time: planned from a cadence or by
    hand, held with their record, or cancelled. ``overdue``: planned and past the grace
    days of the settings."""
    rows = _meeting_rows(request.auth, _filters(filters))
    return _page(rows, filters, _meeting_builder())


@router.post(
    "/governance/meetings",
    response={201: MeetingOut, **WRITE},
    operation_id="governance_meetings_create",
)
def governance_meetings_create(request: HttpRequest, payload: MeetingIn) -> Any:
    """Plan a meeting by hand, with attendees from both sides. Vendor staff."""
    user = request.auth
    _require(user, "governance.add_meeting")
    organisation = _body_organisation(user, payload.organisation_id)
    data = payload.model_dump(exclude={"organisation_id", "attendee_ids"})
    with renamed_fields(FIELDS):
        meeting = meetings.create_meeting(
            actor=user,
            organisation=organisation,
            data=data,
            attendees=payload.attendee_ids,
        )
    return 201, _meeting(user, meeting.pk)


@router.get(
    "/governance/meetings/{id}",
    response={200: MeetingOut, **READ},
    operation_id="governance_meetings_get",
)
def governance_meetings_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _meeting(request.auth, id)


@router.patch(
    "/governance/meetings/{id}",
    response={200: MeetingOut, **WRITE},
    operation_id="governance_meetings_update",
)
def governance_meetings_update(
    request: HttpRequest, id: Path[ObjectId], payload: MeetingPatch
) -> Any:
    """Change a planned meeting (only the keys sent); calendars see a new version. Vendor
    staff."""
    user = request.auth
    meeting = meeting_reads.get_meeting(user, id)
    data = payload.model_dump(exclude_unset=True)
    attendee_ids = data.pop("attendee_ids", None)
    with renamed_fields(FIELDS):
        meetings.update_meeting(
            actor=user,
            meeting=meeting,
            data=data,
            attendees=(attendee_ids),
        )
    return _meeting(user, id)


@router.post(
    "/governance/meetings/{id}/record",
    response={200: MeetingOut, **WRITE},
    operation_id="governance_meetings_record",
)
def governance_meetings_record(
    request: HttpRequest, id: Path[ObjectId], payload: MeetingRecordIn
) -> Any:
    """Record that the meeting was held: minutes, decisions, who attended (a partner names
    its own side's attendees). Recording again corrects the record; 409 when cancelled."""
    user = request.auth
    meeting = meeting_reads.get_meeting(user, id)
    with renamed_fields(FIELDS):
        meetings.record_meeting(
            actor=user,
            meeting=meeting,
            minutes=payload.minutes,
            decisions=payload.decisions,
            attendees=(payload.attendee_ids),
            held_at=payload.held_at,
        )
    return _meeting(user, id)


@router.post(
    "/governance/meetings/{id}/cancel",
    response={200: MeetingOut, **WRITE},
    operation_id="governance_meetings_cancel",
)
def governance_meetings_cancel(
    request: HttpRequest, id: Path[ObjectId], payload: MeetingCancelIn
) -> Any:
    """Cancel a planned meeting, saying why; attendees are told. 409 unless planned."""
    user = request.auth
    meeting = meeting_reads.get_meeting(user, id)
    meetings.cancel_meeting(actor=user, meeting=meeting, reason=payload.reason)
    return _meeting(user, id)


# -- action items ------------------------------------------------------------------------------
def _action_out(item: ActionItem, today: dt.date) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in (
                "id",
                "organisation_id",
                "meeting_id",
                "issue_id",
                "title",
                "due_on",
                "status",
                "done_at",
                "created_at",
            )
        },
        "owner": _person(item.owner),
        "overdue": item.status == ActionItem.Status.OPEN and item.due_on < today,
    }


def _action_rows(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    filters = dict(filters or {})
    related = {name: filters.pop(name) for name in ("meeting", "issue") if name in filters}
    rows = meeting_reads.list_action_items(user, filters)
    return rows.filter(**{f"{name}_id": pk for name, pk in related.items()})


def _action_builder() -> Callable[[ActionItem], dict[str, Any]]:
    today = timezone.localdate()
    return lambda item: _action_out(item, today)


def _action(user: Any, pk: int) -> dict[str, Any]:
    found = _action_rows(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return _action_builder()(found)


@router.get(
    "/governance/action-items",
    response={200: ActionItemPage, **LIST},
    operation_id="governance_action_items_list",
)
def governance_action_items_list(request: HttpRequest, filters: Query[ActionItemFilter]) -> Any:
    """Action items from meetings and issues' corrective actions, by due day."""
    return _page(_action_rows(request.auth, _filters(filters)), filters, _action_builder())


@router.post(
    "/governance/action-items",
    response={201: ActionItemOut, **WRITE},
    operation_id="governance_action_items_create",
)
def governance_action_items_create(request: HttpRequest, payload: ActionItemIn) -> Any:
    """Something someone agreed to do, with an owner and a due day (a partner: owned by
    someone of its own side), from a meeting or an issue of the relationship, or alone."""
    user = request.auth
    _require(user, "governance.add_actionitem")
    organisation = _body_organisation(user, payload.organisation_id)
    meeting = issue = None
    if payload.meeting_id is not None:
        meeting = meeting_reads.list_meetings(user, {}).filter(pk=payload.meeting_id).first()
        if meeting is None:
            raise field_error("meeting_id", _("Unknown meeting."))
    if payload.issue_id is not None:
        issue = issue_reads.list_issues(user, {}).filter(pk=payload.issue_id).first()
        if issue is None:
            raise field_error("issue_id", _("Unknown issue."))
    with renamed_fields(FIELDS):
        item = meetings.add_action_item(
            actor=user,
            organisation=organisation,
            title=payload.title,
            owner=payload.owner_id,
            due_on=payload.due_on,
            meeting=meeting,
            issue=issue,
        )
    return 201, _action(user, item.pk)


@router.post(
    "/governance/action-items/{id}/complete",
    response={200: ActionItemOut, **WRITE},
    operation_id="governance_action_items_complete",
)
def governance_action_items_complete(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Mark an open action item done (a partner: its own side's). Done stays done."""
    user = request.auth
    item = meeting_reads.get_action_item(user, id)
    meetings.complete_action_item(actor=user, item=item)
    return _action(user, id)


# -- issues ------------------------------------------------------------------------------------
def _attachment_out(attachment: IssueAttachment) -> dict[str, Any]:
    return {
        name: getattr(attachment, name)
        for name in ("id", "name", "content_type", "size", "uploaded_by_id", "uploaded_at")
    }


def _issue_out(issue: Any, attachments: Iterable[IssueAttachment]) -> dict[str, Any]:
    return {
        **{
            name: getattr(issue, name)
            for name in (
                "id",
                "number",
                "organisation_id",
                "title",
                "category",
                "severity",
                "description",
                "status",
                "tier",
                "raised_side",
                "raised_by_id",
                "raised_at",
                "respond_by",
                "resolve_by",
                "responded_at",
                "resolved_at",
                "escalations",
                "reopened",
                "root_cause",
                "resolution",
                "updated_at",
            )
        },
        "organisation_name": issue.organisation.name,
        "owner": _person(issue.owner),
        "attachments": [_attachment_out(attachment) for attachment in attachments],
    }


def _issue_rows(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    return issue_reads.list_issues(user, filters or {})


def _issues_out(user: Any, issues: list[Any]) -> list[dict[str, Any]]:
    # The attachments' names and sizes only (one query): their contents stay in the database.
    attachments = issue_reads.attachments_by_issue(user, issues)
    return [_issue_out(issue, attachments.get(issue.pk, [])) for issue in issues]


def _issue(user: Any, pk: int) -> dict[str, Any]:
    found = _issue_rows(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return _issues_out(user, [found])[0]


@router.get(
    "/governance/issues",
    response={200: IssuePage, **LIST},
    operation_id="governance_issues_list",
)
def governance_issues_list(request: HttpRequest, filters: Query[IssueFilter]) -> Any:
    """Issues the caller may see (a partner: its relationship's), newest first. Filter by
    status, severity, current tier, relationship, escalated or a search."""
    user = request.auth
    rows = _issue_rows(user, _filters(filters))
    page = list(rows[filters.offset : filters.offset + filters.limit])
    return {"count": rows.count(), "items": _issues_out(user, page)}


@router.post(
    "/governance/issues",
    response={201: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_create",
)
def governance_issues_create(request: HttpRequest, payload: IssueIn) -> Any:
    """Raise an issue on a relationship (either side; a partner on its own). Its severity's
    SLA sets ``respond_by`` and ``resolve_by``; unresolved past ``resolve_by`` it climbs
    one management tier (working → operational → executive), and the paired people at
    the new tier on both sides are told."""
    user = request.auth
    _require(user, "governance.add_issue")
    organisation = _body_organisation(user, payload.organisation_id)
    with renamed_fields(FIELDS):
        issue = issues.raise_issue(
            actor=user,
            organisation=organisation,
            title=payload.title,
            category=payload.category,
            severity=payload.severity,
            description=payload.description,
            owner=payload.owner_id,
        )
    return 201, _issue(user, issue.pk)


@router.get(
    "/governance/issues/{id}",
    response={200: GovernanceIssueOut, **READ},
    operation_id="governance_issues_get",
)
def governance_issues_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _issue(request.auth, id)


def _issue_step(request: HttpRequest, id: int, action: Callable[..., Any], **kwargs: Any) -> Any:
    user = request.auth
    issue = issue_reads.get_issue(user, id)
    with renamed_fields(FIELDS):
        action(actor=user, issue=issue, **kwargs)
    return _issue(user, id)


@router.post(
    "/governance/issues/{id}/respond",
    response={200: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_respond",
)
def governance_issues_respond(
    request: HttpRequest, id: Path[ObjectId], payload: IssueNoteIn
) -> Any:
    """The first response (stops the response SLA); later ones are comments."""
    return _issue_step(request, id, issues.respond, note=payload.note)


@router.post(
    "/governance/issues/{id}/comment",
    response={200: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_comment",
)
def governance_issues_comment(
    request: HttpRequest, id: Path[ObjectId], payload: IssueNoteIn
) -> Any:
    return _issue_step(request, id, issues.comment, note=payload.note)


@router.post(
    "/governance/issues/{id}/assign",
    response={200: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_assign",
)
def governance_issues_assign(
    request: HttpRequest, id: Path[ObjectId], payload: IssueAssignIn
) -> Any:
    """Give the issue a new owner. Vendor staff with ``governance.resolve_issue``."""
    user = request.auth
    issue = issue_reads.get_issue(user, id)
    _require(user, "governance.resolve_issue")
    with renamed_fields(FIELDS):
        issues.assign(actor=user, issue=issue, owner=payload.owner_id)
    return _issue(user, id)


@router.post(
    "/governance/issues/{id}/resolve",
    response={200: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_resolve",
)
def governance_issues_resolve(
    request: HttpRequest, id: Path[ObjectId], payload: IssueResolveIn
) -> Any:
    """Resolve with the root cause and resolution; each corrective action becomes an
    action item with its owner and due day. Vendor staff with ``governance.resolve_issue``."""
    user = request.auth
    issue = issue_reads.get_issue(user, id)
    _require(user, "governance.resolve_issue")
    actions = [
        {
            "title": action.title,
            "owner": action.owner_id,
            "due_on": action.due_on,
        }
        for index, action in enumerate(payload.corrective_actions)
    ]
    with renamed_fields(FIELDS):
        issues.resolve(
            actor=user,
            issue=issue,
            root_cause=payload.root_cause,
            resolution=payload.resolution,
            corrective_actions=actions,
        )
    return _issue(user, id)


@router.post(
    "/governance/issues/{id}/reopen",
    response={200: GovernanceIssueOut, **WRITE},
    operation_id="governance_issues_reopen",
)
def governance_issues_reopen(
    request: HttpRequest, id: Path[ObjectId], payload: IssueReopenIn
) -> Any:
    """Re-open a resolved issue: the resolution clock restarts at its current tier."""
    user = request.auth
    issue = issue_reads.get_issue(user, id)
    _require(user, "governance.resolve_issue")
    issues.reopen(actor=user, issue=issue, reason=payload.reason)
    return _issue(user, id)


@router.get(
    "/governance/issues/{id}/events",
    response={200: IssueEventPage, **READ},
    operation_id="governance_issues_events",
)
def governance_issues_events(
    request: HttpRequest, id: Path[ObjectId], query: Query[PageInput]
) -> Any:
    """The issue's history, oldest first: raised, responses, comments, owner changes, each
    escalation with the rule and its inputs (severity, SLA hours, deadline, the tiers and
    who was told), resolution and re-opening."""
    user = request.auth
    events = issue_reads.issue_events(user, issue_reads.get_issue(user, id))
    return _page(events, query, lambda event: event)


@router.post(
    "/governance/issues/{id}/attachments",
    response={201: AttachmentOut, **UPLOAD},
    operation_id="governance_issues_attach",
)
def governance_issues_attach(
    request: HttpRequest, id: Path[ObjectId], file: File[UploadedFile]
) -> Any:
    """Attach a file (multipart field ``file``, at most 10 MB, not empty). Either side."""
    user = request.auth
    issue = issue_reads.get_issue(user, id)
    _require(user, "governance.add_issueattachment")
    if file.size is not None and file.size > IssueAttachment.MAX_BYTES:
        return 413, {
            "error": "too_large",
            "detail": _("A file is at most 10 MB."),
            "fields": {"file": [_("A file is at most 10 MB.")]},
        }
    content = file.read(IssueAttachment.MAX_BYTES + 1)
    name = _file_name(file.name)
    with renamed_fields({"content": "file", "name": "file"}):
        attachment = issues.add_attachment(
            actor=user,
            issue=issue,
            name=name,
            content=content,
            content_type=_content_type(file.content_type),
        )
    return 201, _attachment_out(attachment)


def _file_name(name: str | None) -> str:
    """The uploaded file's own name: no folders, no control characters, at most 200."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    try:
        base.encode("utf-8")
    except UnicodeEncodeError:
        base = base.encode("utf-8", "replace").decode("utf-8")
    if len(base) > 200:
        stem, dot, extension = base.rpartition(".")
        base = (stem[:190] + dot + extension[:9]) if dot and len(extension) <= 9 else base[:200]
    return base or "attachment"


def _content_type(value: str | None) -> str:
    value = (value or "").split(";", 1)[0].strip().lower()
    if not CONTENT_TYPE.fullmatch(value) or len(value) > 100:
        return "application/octet-stream"
    return value


@router.get(
    "/governance/attachments/{id}",
    response={200: bytes, **READ},
    operation_id="governance_attachments_download",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file's bytes.",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("application/octet-stream", *sorted(SAFE_INLINE_TYPES))
                },
            }
        }
    },
)
def governance_attachments_download(request: HttpRequest, id: Path[ObjectId]) -> HttpResponse:
    """The file, always as a download. Images and PDF keep their type; everything else
    is ``application/octet-stream`` so no browser runs it."""
    attachment = issue_reads.get_attachment(request.auth, id)
    stored = _content_type(attachment.content_type)
    response = HttpResponse(
        bytes(attachment.content),
        content_type=stored if stored in SAFE_INLINE_TYPES else "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- severity SLAs -----------------------------------------------------------------------------
@router.get(
    "/governance/severity-slas",
    response={200: list[SeveritySlaOut], **LIST},
    operation_id="governance_severity_slas_get",
)
def governance_severity_slas_get(request: HttpRequest) -> Any:
    """Each severity's response SLA and resolution SLA per tier (hours), saved or built in."""
    _require(request.auth, "governance.view_severitysla")
    return dashboard_reads.severity_slas(request.auth)


@router.put(
    "/governance/severity-slas",
    response={200: list[SeveritySlaOut], **WRITE},
    operation_id="governance_severity_slas_update",
)
def governance_severity_slas_update(request: HttpRequest, payload: SeveritySlasIn) -> Any:
    """Set the SLAs of the severities sent (each once). Issues raised later follow them;
    open issues keep their deadlines until their next escalation. Needs
    ``governance.change_severitysla``."""
    user = request.auth
    seen: set[str] = set()
    for index, row in enumerate(payload.slas):
        if row.severity in seen:
            raise field_error(f"slas.{index}.severity", _("Each severity once."))
        seen.add(row.severity)
    issues.set_severity_slas(actor=user, rows=[row.model_dump() for row in payload.slas])
    return dashboard_reads.severity_slas(user)


# -- health checks -----------------------------------------------------------------------------
def _survey_out(survey: Any) -> dict[str, Any]:
    return {
        **{
            name: getattr(survey, name)
            for name in (
                "id",
                "organisation_id",
                "period",
                "status",
                "opened_at",
                "closes_at",
                "closed_at",
                "score",
                "misaligned",
                "result",
                "invited",
                "answered",
            )
        },
        "organisation_name": survey.organisation.name,
    }


def _survey(user: Any, pk: int) -> dict[str, Any]:
    survey = health_reads.get_survey(user, pk)
    summary = health_reads.survey_summary(survey)
    return {
        **_survey_out(survey),
        **{name: summary[name] for name in ("progress", "why", "reasons", "rule")},
    }


@router.get(
    "/governance/health-surveys",
    response={200: HealthSurveyPage, **LIST},
    operation_id="governance_health_surveys_list",
)
def governance_health_surveys_list(request: HttpRequest, filters: Query[SurveyFilter]) -> Any:
    """Two-sided health checks, newest first, with their score and misalignment once closed."""
    rows = health_reads.list_surveys(request.auth, _filters(filters))
    return _page(rows, filters, _survey_out)


@router.get(
    "/governance/health-surveys/{id}",
    response={200: HealthSurveyDetailOut, **READ},
    operation_id="governance_health_surveys_get",
)
def governance_health_surveys_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _survey(request.auth, id)


@router.post(
    "/governance/relationships/{id}/health-surveys",
    response={201: HealthSurveyDetailOut, **WRITE},
    operation_id="governance_health_surveys_open",
)
def governance_health_surveys_open(
    request: HttpRequest, id: Path[ObjectId], payload: SurveyOpenIn
) -> Any:
    """Open a health check: the same questions to both sides (communication, satisfaction,
    trust, compatibility, alignment of goals, NPS). Each respondent is e-mailed a signed,
    expiring, single-use link that needs no account. At least one respondent per side.
    Vendor staff with ``governance.add_healthsurvey``."""
    user = request.auth
    organisation = _organisation(user, id)
    _require(user, "governance.add_healthsurvey")
    respondents = (
        _contacts(user, payload.respondent_ids, "respondent_ids")
        if payload.respondent_ids is not None
        else None
    )
    with renamed_fields(FIELDS):
        survey, _links = health.open_survey(
            actor=user,
            organisation=organisation,
            period=payload.period,
            respondents=respondents,
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    return 201, _survey(user, survey.pk)


@router.post(
    "/governance/health-surveys/{id}/close",
    response={200: HealthSurveyDetailOut, **WRITE},
    operation_id="governance_health_surveys_close",
)
def governance_health_surveys_close(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Close now: per side and dimension the mean, the score (0-100), the divergence per
    dimension and the misalignment flag past the settings' threshold. The answers feed the
    KPI engine's CSAT and NPS."""
    user = request.auth
    health.close_survey(actor=user, survey=health_reads.get_survey(user, id))
    return _survey(user, id)


@router.get(
    "/governance/relationships/{id}/health",
    response={200: list[HealthPointOut], **READ},
    operation_id="governance_health_trend",
)
def governance_health_trend(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The relationship's health score and misalignment per period, oldest first."""
    user = request.auth
    return health_reads.health_trend(user, _organisation(user, id))


LINK_ERRORS = error_responses(400, 410, 422)


def _link_refused(error: SurveyLinkError) -> tuple[int, dict[str, Any]]:
    """400 for a link that is not valid, 410 for one expired or used."""
    return error.status, {
        "error": f"link_{error.reason}",
        "detail": error.messages[0],
        "fields": {},
    }


@router.get(
    "/governance/survey/{token}",
    response={200: SurveyFormOut, **LINK_ERRORS},
    operation_id="governance_survey_get",
    auth=None,
)
def governance_survey_get(request: HttpRequest, token: Path[SurveyToken]) -> Any:
    """The questions behind a health-check link; no account: the signed, expiring,
    single-use token is the key. 400 when the link is not valid, 410 when it expired or
    was used."""
    try:
        response = health.response_for_token(token)
    except SurveyLinkError as error:
        return _link_refused(error)
    return {
        "organisation_name": response.survey.organisation.name,
        "vendor_name": health_reads.vendor_name(),
        "period": response.survey.period,
        "side": response.side,
        "respondent": response.contact.full_name,
        "expires_at": response.expires_at,
        "questions": health_reads.questions(),
    }


@router.post(
    "/governance/survey/{token}",
    response={200: SurveyAnsweredOut, **LINK_ERRORS},
    operation_id="governance_survey_answer",
    auth=None,
)
def governance_survey_answer(
    request: HttpRequest, token: Path[SurveyToken], payload: SurveyAnswerIn
) -> Any:
    """Answer once: the five dimensions 1-5 and NPS 0-10 (a comment is optional). The
    link stops working; the answers count when the health check closes."""
    try:
        response = health.answer(token=token, data=payload.model_dump())
    except SurveyLinkError as error:
        return _link_refused(error)
    return {"answered_at": response.answered_at}


# -- continuity --------------------------------------------------------------------------------
def _handover_out(row: Any) -> dict[str, Any]:
    return {
        **{
            name: getattr(row, name)
            for name in ("id", "organisation_id", "leaving", "reason", "moved", "actor_id", "at")
        },
        "predecessor": _person(row.predecessor),
        "successor": _person(row.successor),
    }


def _handover_rows(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    return continuity_reads.list_handovers(user, filters or {}).select_related(
        "predecessor__organisation", "successor__organisation"
    )


@router.get(
    "/governance/handovers",
    response={200: HandoverPage, **LIST},
    operation_id="governance_handovers_list",
)
def governance_handovers_list(request: HttpRequest, filters: Query[HandoverFilter]) -> Any:
    """Handovers, newest first, each with what moved."""
    return _page(_handover_rows(request.auth, _filters(filters)), filters, _handover_out)


@router.post(
    "/governance/handovers",
    response={201: HandoverOut, **WRITE},
    operation_id="governance_handovers_create",
)
def governance_handovers_create(request: HttpRequest, payload: HandoverIn) -> Any:
    """Move everything a person holds to a successor of the same organisation in one
    audited step: separated roles, contact-map slots, key-person and backup places, open
    issues, open action items, open onboarding tasks, planned meetings and open deal
    registrations. 409 (nothing moves) when the successor already holds another role of a
    relationship. ``leaving`` marks the predecessor inactive. Vendor staff with
    ``governance.add_handover``."""
    user = request.auth
    _require(user, "governance.add_handover")
    with renamed_fields(FIELDS):
        row = continuity.handover(
            actor=user,
            predecessor=payload.predecessor_id,
            successor=payload.successor_id,
            leaving=payload.leaving,
            reason=payload.reason,
        )
    return 201, _handover_out(_handover_rows(user).get(pk=row.pk))


@router.get(
    "/governance/coverage",
    response={200: list[CoverageOut], **LIST},
    operation_id="governance_coverage",
)
def governance_coverage(request: HttpRequest) -> Any:
    """Relationships that lost cover: a role missing or held by someone who left, an empty
    or orphaned contact-map slot, a key person who left, without a backup or whose backup
    left."""
    return [
        {
            "organisation_id": entry["organisation"].pk,
            "organisation_name": entry["organisation"].name,
            "problems": entry["problems"],
        }
        for entry in continuity_reads.coverage_report(request.auth)
    ]


# -- onboarding --------------------------------------------------------------------------------
@router.get(
    "/governance/onboarding-templates",
    response={200: list[OnboardingTemplateOut], **LIST},
    operation_id="governance_onboarding_templates_list",
)
def governance_onboarding_templates_list(request: HttpRequest) -> Any:
    """Checklists to start a relationship (a new partner) or a person in one (new staff)."""
    return list(continuity_reads.list_onboarding_templates(request.auth))


@router.post(
    "/governance/onboarding-templates",
    response={201: OnboardingTemplateOut, **WRITE},
    operation_id="governance_onboarding_templates_create",
)
def governance_onboarding_templates_create(
    request: HttpRequest, payload: OnboardingTemplateIn
) -> Any:
    """Needs ``governance.add_onboardingtemplate``."""
    return 201, continuity.create_onboarding_template(actor=request.auth, data=payload.model_dump())


@router.patch(
    "/governance/onboarding-templates/{id}",
    response={200: OnboardingTemplateOut, **WRITE},
    operation_id="governance_onboarding_templates_update",
)
def governance_onboarding_templates_update(
    request: HttpRequest, id: Path[ObjectId], payload: OnboardingTemplatePatch
) -> Any:
    """Change a template (only the keys sent); plans made from it keep their tasks."""
    user = request.auth
    template = continuity_reads.get_onboarding_template(user, id)
    return continuity.update_onboarding_template(
        actor=user, template=template, data=payload.model_dump(exclude_unset=True)
    )


def _task_out(task: OnboardingTask, today: dt.date) -> dict[str, Any]:
    return {
        **{
            name: getattr(task, name)
            for name in ("id", "plan_id", "position", "title", "side", "due_on", "done_at")
        },
        "owner": _person(task.owner),
        "overdue": task.done_at is None and task.due_on < today,
    }


def _plan_out(plan: Any, today: dt.date) -> dict[str, Any]:
    return {
        **{
            name: getattr(plan, name)
            for name in ("id", "organisation_id", "template_id", "name", "started_on", "created_at")
        },
        "organisation_name": plan.organisation.name,
        "subject": _person(plan.subject),
        "progress": continuity_reads.plan_progress(plan, today),
        # Tasks of a plan the caller sees belong to the same relationship.
        "tasks": [_task_out(task, today) for task in plan.tasks.all()],
    }


def _plan_rows(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    return (
        continuity_reads.list_onboarding_plans(user, filters or {})
        .select_related("subject__organisation")
        .prefetch_related("tasks__owner__organisation")
    )


def _plan_builder() -> Callable[[Any], dict[str, Any]]:
    today = timezone.localdate()
    return lambda plan: _plan_out(plan, today)


def _plan(user: Any, pk: int) -> dict[str, Any]:
    found = _plan_rows(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return _plan_builder()(found)


@router.get(
    "/governance/onboarding-plans",
    response={200: OnboardingPlanPage, **LIST},
    operation_id="governance_onboarding_plans_list",
)
def governance_onboarding_plans_list(request: HttpRequest, filters: Query[PlanFilter]) -> Any:
    """Onboarding plans with their tasks and progress, newest first."""
    return _page(_plan_rows(request.auth, _filters(filters)), filters, _plan_builder())


@router.get(
    "/governance/onboarding-plans/{id}",
    response={200: OnboardingPlanOut, **READ},
    operation_id="governance_onboarding_plans_get",
)
def governance_onboarding_plans_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return _plan(request.auth, id)


@router.post(
    "/governance/relationships/{id}/onboarding-plans",
    response={201: OnboardingPlanOut, **WRITE},
    operation_id="governance_onboarding_plans_create",
)
def governance_onboarding_plans_create(
    request: HttpRequest, id: Path[ObjectId], payload: OnboardingPlanIn
) -> Any:
    """Start a plan from a template: its tasks with owners (by side) and due days from
    ``start``. Vendor staff with ``governance.add_onboardingplan``."""
    user = request.auth
    organisation = _organisation(user, id)
    _require(user, "governance.add_onboardingplan")
    owners = {side: pk for side, pk in payload.owners.model_dump().items() if pk is not None}
    with renamed_fields(FIELDS):
        plan = continuity.start_onboarding(
            actor=user,
            organisation=organisation,
            template=payload.template_id,
            subject=payload.subject_id,
            owners=owners,
            start=payload.start,
        )
    return 201, _plan(user, plan.pk)


@router.post(
    "/governance/onboarding-tasks/{id}/complete",
    response={200: OnboardingTaskOut, **WRITE},
    operation_id="governance_onboarding_tasks_complete",
)
def governance_onboarding_tasks_complete(
    request: HttpRequest, id: Path[ObjectId], payload: TaskDoneIn
) -> Any:
    """Tick a task off (``done`` false re-opens it); a partner its own side's tasks."""
    user = request.auth
    task = continuity_reads.get_task(user, id)
    continuity.complete_task(actor=user, task=task, done=payload.done)
    return _task_out(continuity_reads.get_task(user, id), timezone.localdate())


# -- enablement --------------------------------------------------------------------------------
@router.get(
    "/governance/courses",
    response={200: list[CourseOut], **LIST},
    operation_id="governance_courses_list",
)
def governance_courses_list(request: HttpRequest) -> Any:
    """Training courses and the certification each earns."""
    return list(continuity_reads.list_courses(request.auth))


@router.post(
    "/governance/courses",
    response={201: CourseOut, **WRITE},
    operation_id="governance_courses_create",
)
def governance_courses_create(request: HttpRequest, payload: CourseIn) -> Any:
    """Needs ``governance.add_course``; the code and the certification are unique."""
    return 201, continuity.create_course(actor=request.auth, data=payload.model_dump())


@router.patch(
    "/governance/courses/{id}",
    response={200: CourseOut, **WRITE},
    operation_id="governance_courses_update",
)
def governance_courses_update(
    request: HttpRequest, id: Path[ObjectId], payload: CoursePatch
) -> Any:
    user = request.auth
    course = continuity_reads.get_course(user, id)
    return continuity.update_course(
        actor=user, course=course, data=payload.model_dump(exclude_unset=True)
    )


def _requirements_out(user: Any, tier_code: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": row.pk,
            "tier_code": row.tier_code,
            "course_id": row.course_id,
            "course_code": row.course.code,
            "course_name": row.course.name,
            "certification": row.course.certification,
            "minimum": row.minimum,
        }
        for row in continuity_reads.requirements(user, tier_code)
    ]


@router.get(
    "/governance/certification-requirements",
    response={200: list[RequirementOut], **LIST},
    operation_id="governance_requirements_list",
)
def governance_requirements_list(request: HttpRequest, filters: Query[RequirementFilter]) -> Any:
    """Certified people each partner tier needs, per course."""
    return _requirements_out(request.auth, filters.tier_code)


@router.put(
    "/governance/certification-requirements/{tier_code}",
    response={200: list[RequirementOut], **WRITE},
    operation_id="governance_requirements_update",
)
def governance_requirements_update(
    request: HttpRequest, tier_code: Path[TierCode], payload: RequirementsIn
) -> Any:
    """Replace what partners at ``tier_code`` need (courses left out are no longer
    required). Needs ``governance.change_certificationrequirement``."""
    user = request.auth
    requirements = [
        {"course": row.course_id, "minimum": row.minimum} for row in payload.requirements
    ]
    continuity.set_requirements(actor=user, tier_code=tier_code, requirements=requirements)
    return _requirements_out(user, tier_code)


def _certification_out(certification: Any, status: str) -> dict[str, Any]:
    return {
        **{
            name: getattr(certification, name)
            for name in (
                "id",
                "organisation_id",
                "person",
                "contact_id",
                "name",
                "earned_on",
                "expires_on",
            )
        },
        "organisation_name": certification.organisation.name,
        "status": status,
    }


def _certification_builder(on: dt.date) -> Callable[[Any], dict[str, Any]]:
    days = GovernanceSettings.current().certification_warning_days
    return lambda row: _certification_out(row, continuity_reads.certification_status(row, on, days))


@router.get(
    "/governance/relationships/{id}/enablement",
    response={200: EnablementOut, **READ},
    operation_id="governance_enablement",
)
def governance_enablement(
    request: HttpRequest, id: Path[ObjectId], query: Query[EnablementQuery]
) -> Any:
    """The partner's certified people (each certification ok, expiring within the warning
    days or expired on ``on``) and its tier's requirements: per course the minimum, the
    people who meet it and how many are missing."""
    user = request.auth
    organisation = _organisation(user, id)
    found = continuity_reads.enablement(user, organisation, query.on or timezone.localdate())
    return {
        "organisation_id": organisation.pk,
        "on": found["on"],
        "tier": found["tier"],
        "warning_days": found["warning_days"],
        "complete": found["complete"],
        "people": [
            {
                "person": person["person"],
                "contact": _person(person["contact"]),
                "certifications": [
                    {
                        "id": item["certification"].pk,
                        "name": item["name"],
                        "course_id": item["course"].pk if item["course"] else None,
                        "earned_on": item["earned_on"],
                        "expires_on": item["expires_on"],
                        "status": item["status"],
                    }
                    for item in person["certifications"]
                ],
            }
            for person in found["people"]
        ],
        "requirements": [
            {
                "course_id": item["course"].pk,
                "course_name": item["course"].name,
                "certification": item["course"].certification,
                "minimum": item["minimum"],
                "met": item["met"],
                "missing": item["missing"],
                "ok": item["ok"],
            }
            for item in found["requirements"]
        ],
    }


@router.get(
    "/governance/certifications/expiring",
    response={200: CertificationPage, **LIST},
    operation_id="governance_certifications_expiring",
)
def governance_certifications_expiring(request: HttpRequest, query: Query[ExpiringQuery]) -> Any:
    """Certifications that expire within ``days`` of ``on`` (default: the settings'
    warning days from today), soonest first."""
    on = query.on or timezone.localdate()
    rows = continuity_reads.expiring_certifications(request.auth, on, query.days)
    return _page(rows, query, _certification_builder(on))


# -- calendar, settings, dashboard -------------------------------------------------------------
@router.get(
    "/governance/calendar.ics",
    response={200: bytes, **error_responses()},
    operation_id="governance_calendar",
    openapi_extra={
        "responses": {
            "200": {
                "description": "An iCalendar (RFC 5545) feed.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        }
    },
)
def governance_calendar(request: HttpRequest) -> HttpResponse:
    """The caller's governance meetings as an iCalendar feed (meetings they attend or of
    relationships where they hold a role). Calendar apps that cannot send a token
    subscribe to the secret address on the calendar page instead."""
    response = HttpResponse(
        calendar.feed_for(request.auth), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="governance.ics"'
    return response


def _settings_out(found: Any) -> dict[str, Any]:
    return {
        "tier_program": found.tier_program.code if found.tier_program_id else None,
        **{
            name: getattr(found, name)
            for name in (
                "misalignment_threshold",
                "survey_days_open",
                "meeting_grace_days",
                "certification_warning_days",
                "updated_at",
            )
        },
    }


@router.get(
    "/governance/settings",
    response={200: GovernanceSettingsOut, **READ},
    operation_id="governance_settings_get",
)
def governance_settings_get(request: HttpRequest) -> Any:
    """The tier program, misalignment threshold, survey window, meeting grace days and the
    certification warning window. Needs ``governance.view_governancesettings``."""
    _require(request.auth, "governance.view_governancesettings")
    return _settings_out(dashboard_reads.governance_settings(request.auth))


@router.put(
    "/governance/settings",
    response={200: GovernanceSettingsOut, **WRITE},
    operation_id="governance_settings_update",
)
def governance_settings_update(request: HttpRequest, payload: GovernanceSettingsIn) -> Any:
    """Replace the settings. Needs ``governance.change_governancesettings``."""
    return _settings_out(
        settings_services.update_settings(actor=request.auth, data=payload.model_dump())
    )


@router.get(
    "/governance/dashboard",
    response={200: DashboardOut, **LIST},
    operation_id="governance_dashboard",
)
def governance_dashboard(request: HttpRequest) -> Any:
    """What needs attention across the relationships the caller sees: overdue meetings
    and action items, open issues and escalations by tier, the health trend by period,
    misaligned relationships, expiring certifications, coverage problems, incomplete roles."""
    user = request.auth
    found = dashboard_reads.dashboard(user)
    counts = found["counts"]

    def relationships(rows: list[Any], count: int) -> dict[str, Any]:
        return {
            "count": count,
            "items": [
                {
                    "id": row.organisation_id,
                    "organisation_name": row.organisation.name,
                    "health_score": row.health_score,
                    "misaligned": row.misaligned,
                }
                for row in rows
            ],
        }

    certification = _certification_builder(found["today"])
    actions = _action_builder()
    return {
        "overdue_meetings": {
            "count": counts["overdue_meetings"],
            "items": _meetings_out(user, [meeting.pk for meeting in found["overdue_meetings"]]),
        },
        "overdue_action_items": {
            "count": counts["overdue_action_items"],
            "items": [actions(item) for item in found["overdue_action_items"]],
        },
        "open_issues": counts["open_issues"],
        "escalated_open": counts["escalated_open"],
        "issues_by_tier": [{**row, "label": str(row["label"])} for row in found["issues_by_tier"]],
        "health_trend": [
            {
                "period": row["period"],
                "score": row["score"],
                "relationships": row["relationships"],
                "misaligned": row["misaligned_count"],
            }
            for row in found["health_trend"]
        ],
        "misaligned": relationships(found["misaligned"], counts["misaligned"]),
        "roles_incomplete": relationships(
            found["roles_incomplete_rows"], counts["roles_incomplete"]
        ),
        "expiring_certifications": {
            "count": counts["expiring_certifications"],
            "items": [certification(row) for row in found["expiring_certifications"]],
        },
        "coverage": {
            "relationships": counts["coverage_relationships"],
            "problems": counts["coverage_problems"],
        },
        "warning_days": found["warning_days"],
        "grace_days": found["grace_days"],
    }
