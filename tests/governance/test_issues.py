"""Issues: raising on either side, responses and comments, the vendor-only steps (assign,
resolve, reopen), corrective actions, attachments, the SLA settings, the selectors' filters
and the metrics, with partners kept to their own relationship."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accord.accounts.models import User
from accord.core.errors import Http404, InvalidTransition, PermissionDenied, ValidationError
from accord.core.models import AuditEntry, Notification
from accord.governance.models import (
    ActionItem,
    Issue,
    IssueAttachment,
    IssueEvent,
    RoleAssignment,
    SeveritySla,
    Side,
    Tier,
)
from accord.governance.selectors import issues as selectors
from accord.governance.services import issues
from accord.partners.models import Organisation
from tests.governance.builders import NOW, TODAY, governed, partner_person, vendor_person

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def made(partner_a: Organisation) -> dict[str, Any]:
    return governed(partner_a, now=NOW)


def raise_one(actor: Any, organisation: Organisation, **extra: Any) -> Issue:
    fields = {
        "title": "Invoices wrong",
        "category": Issue.Category.COMMERCIAL,
        "severity": Issue.Severity.MEDIUM,
        "description": "Prices on the March invoices are last year's.",
        "now": NOW,
        **extra,
    }
    return issues.raise_issue(actor=actor, organisation=organisation, **fields)


# -- raising ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_raises_an_issue_on_its_own_relationship(
    made: dict[str, Any], partner_a: Organisation, partner_a_user: User
) -> None:
    issue = raise_one(partner_a_user, partner_a)
    assert issue.number == f"GI-{issue.pk:06d}"
    assert issue.raised_side == Side.PARTNER and issue.raised_by == partner_a_user
    assert issue.owner == made["roles"][RoleAssignment.Role.SERVICE_DELIVERY]
    assert issue.tier == Tier.WORKING and issue.status == Issue.Status.OPEN
    response, resolution = SeveritySla.DEFAULTS["medium"]
    assert issue.respond_by == NOW + response * HOUR
    assert issue.resolve_by == NOW + resolution * HOUR
    (event,) = issue.events.all()
    assert event.kind == IssueEvent.Kind.RAISED and event.actor == partner_a_user
    assert event.data["resolution_hours"] == resolution
    assert AuditEntry.objects.for_object(issue).filter(action="create").exists()


@pytest.mark.django_db
def test_the_owner_defaults_to_the_relationship_holder_without_a_service_delivery_holder(
    made: dict[str, Any], partner_a: Organisation, channel_manager: User
) -> None:
    RoleAssignment.objects.filter(
        organisation=partner_a, role=RoleAssignment.Role.SERVICE_DELIVERY
    ).delete()
    issue = raise_one(channel_manager, partner_a)
    assert issue.owner == made["roles"][RoleAssignment.Role.RELATIONSHIP]
    assert issue.raised_side == Side.VENDOR


@pytest.mark.django_db
def test_a_partner_cannot_raise_on_another_relationship_or_the_vendor(
    made: dict[str, Any], partner_a: Organisation, partner_b_user: User, vendor: Organisation
) -> None:
    with pytest.raises(Http404):
        raise_one(partner_b_user, partner_a)
    with pytest.raises(Http404):
        raise_one(partner_b_user, vendor)
    assert not Issue.objects.exists()


@pytest.mark.django_db
def test_the_vendor_itself_is_no_relationship(vendor: Organisation, channel_manager: User) -> None:
    with pytest.raises(ValidationError) as error:
        raise_one(channel_manager, vendor)
    assert "organisation" in error.value.message_dict


@pytest.mark.django_db
def test_a_read_only_user_cannot_raise(partner_a: Organisation, analyst: User) -> None:
    with pytest.raises(PermissionDenied):
        raise_one(analyst, partner_a)


@pytest.mark.django_db
def test_the_owner_must_be_a_person_of_the_right_side(
    made: dict[str, Any],
    partner_a: Organisation,
    partner_b: Organisation,
    partner_a_user: User,
    channel_manager: User,
) -> None:
    stranger = partner_person(partner_b, "Bea Bravo")
    with pytest.raises(ValidationError) as error:
        raise_one(channel_manager, partner_a, owner=stranger)
    assert "Choose a person of" in str(error.value.message_dict["owner"])
    # A partner names only its own people: a vendor person is refused.
    with pytest.raises(ValidationError) as error:
        raise_one(partner_a_user, partner_a, owner=made["vendor"][0])
    assert error.value.message_dict["owner"] == ["Choose a person of Alpha Distribution."]
    own = made["partner"][0]
    assert raise_one(partner_a_user, partner_a, owner=own.pk).owner == own
    left = vendor_person("Gone Person")
    left.active = False
    left.save()
    with pytest.raises(ValidationError):
        raise_one(channel_manager, partner_a, owner=left)
    assert Issue.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("title", ""),
        ("title", "x" * 201),
        ("title", "nul\x00"),
        ("category", "bogus"),
        ("severity", "urgent"),
        ("severity", None),
        ("description", 7),
    ],
)
def test_bad_input_is_a_field_error(
    partner_a: Organisation, channel_manager: User, field: str, value: Any
) -> None:
    with pytest.raises(ValidationError) as error:
        raise_one(channel_manager, partner_a, **{field: value})
    assert field in error.value.message_dict
    assert not Issue.objects.exists()


# -- working it ---------------------------------------------------------------------


@pytest.mark.django_db
def test_both_sides_respond_and_comment_but_only_the_vendor_resolves(
    made: dict[str, Any], partner_a: Organisation, partner_a_user: User, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    issue = issues.respond(actor=partner_a_user, issue=issue, note="We see it too", now=NOW + HOUR)
    assert issue.status == Issue.Status.RESPONDED and issue.responded_at == NOW + HOUR
    issues.comment(actor=partner_a_user, issue=issue, note="Copies attached", now=NOW + 2 * HOUR)
    before = Issue.objects.get(pk=issue.pk)
    for step in (
        lambda: issues.resolve(
            actor=partner_a_user, issue=issue, root_cause="x", resolution="y", now=NOW
        ),
        lambda: issues.assign(actor=partner_a_user, issue=issue, owner=made["partner"][0]),
        lambda: issues.reopen(actor=partner_a_user, issue=issue, reason="z"),
    ):
        with pytest.raises(PermissionDenied):
            step()
    after = Issue.objects.get(pk=issue.pk)
    assert (after.status, after.owner_id, after.updated_at) == (
        before.status,
        before.owner_id,
        before.updated_at,
    )
    kinds = list(issue.events.values_list("kind", flat=True))
    assert kinds == ["raised", "responded", "commented"]


@pytest.mark.django_db
def test_another_partner_cannot_touch_the_issue(
    partner_a: Organisation, partner_b_user: User, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    with pytest.raises(Http404):
        selectors.get_issue(partner_b_user, issue.pk)
    with pytest.raises(Http404):
        issues.respond(actor=partner_b_user, issue=issue, note="Mine?")
    with pytest.raises(Http404):
        issues.comment(actor=partner_b_user, issue=issue, note="Mine?")
    with pytest.raises(Http404):
        issues.add_attachment(
            actor=partner_b_user, issue=issue, name="a.txt", content=b"x", content_type=""
        )
    assert issue.events.count() == 1 and not IssueAttachment.objects.exists()


@pytest.mark.django_db
def test_assign_moves_the_issue_to_a_person_of_either_side(
    made: dict[str, Any], partner_a: Organisation, partner_b: Organisation, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    partner_side = made["partner"][1]
    previous = issue.owner_id
    issue = issues.assign(actor=channel_manager, issue=issue, owner=partner_side)
    assert issue.owner == partner_side
    event = issue.events.get(kind=IssueEvent.Kind.ASSIGNED)
    assert event.data == {"from": previous, "to": partner_side.pk}
    with pytest.raises(ValidationError):
        issues.assign(actor=channel_manager, issue=issue, owner=partner_person(partner_b, "Other"))


@pytest.mark.django_db
def test_resolving_needs_root_cause_and_resolution_and_makes_corrective_actions(
    made: dict[str, Any], partner_a: Organisation, partner_a_user: User, channel_manager: User
) -> None:
    issue = raise_one(partner_a_user, partner_a)
    with pytest.raises(ValidationError) as error:
        issues.resolve(actor=channel_manager, issue=issue, root_cause=" ", resolution="")
    assert set(error.value.message_dict) == {"root_cause", "resolution"}
    vendor_owner = made["roles"][RoleAssignment.Role.COMMERCIAL]
    partner_owner = made["partner"][0]
    issue = issues.resolve(
        actor=channel_manager,
        issue=issue,
        root_cause="Price list not loaded",
        resolution="Credit notes issued",
        corrective_actions=[
            {"title": "Load price lists on the 1st", "owner": vendor_owner, "due_on": TODAY},
            {"title": "Check invoices", "owner": partner_owner.pk, "due_on": "2026-04-01"},
        ],
        now=NOW + 30 * HOUR,
    )
    assert issue.status == Issue.Status.RESOLVED and issue.resolved_at == NOW + 30 * HOUR
    actions = list(issue.corrective_actions.order_by("pk"))
    assert [(a.title, a.owner, a.due_on) for a in actions] == [
        ("Load price lists on the 1st", vendor_owner, TODAY),
        ("Check invoices", partner_owner, dt.date(2026, 4, 1)),
    ]
    assert all(a.organisation == partner_a and a.status == "open" for a in actions)
    event = issue.events.get(kind=IssueEvent.Kind.RESOLVED)
    assert event.data["hours_to_resolve"] == 30.0
    assert event.data["corrective_actions"] == [a.pk for a in actions]
    # The partner who raised it hears of the resolution.
    assert Notification.objects.filter(
        recipient=partner_a_user, subject__startswith="Issue resolved"
    ).exists()
    with pytest.raises(InvalidTransition):
        issues.respond(actor=partner_a_user, issue=issue, note="Thanks")
    with pytest.raises(InvalidTransition):
        issues.resolve(actor=channel_manager, issue=issue, root_cause="a", resolution="b")
    # Comments stay possible on a resolved issue.
    issues.comment(actor=partner_a_user, issue=issue, note="Thanks")


@pytest.mark.django_db
def test_a_bad_corrective_action_resolves_nothing(
    made: dict[str, Any], partner_a: Organisation, partner_b: Organisation, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    good = {"title": "Fine", "owner": made["vendor"][0], "due_on": TODAY}
    for bad in (
        {"title": "", "owner": made["vendor"][0], "due_on": TODAY},
        {"title": "Who?", "owner": partner_person(partner_b, "Stranger"), "due_on": TODAY},
        {"title": "When?", "owner": made["vendor"][0], "due_on": "soon"},
        {"title": "Extra", "owner": made["vendor"][0], "due_on": TODAY, "cost": 5},
        "not an action",
    ):
        with pytest.raises(ValidationError) as error:
            issues.resolve(
                actor=channel_manager,
                issue=issue,
                root_cause="a",
                resolution="b",
                corrective_actions=[good, bad],
            )
        assert "corrective_actions" in error.value.message_dict
    issue.refresh_from_db()
    assert issue.status == Issue.Status.OPEN and not ActionItem.objects.exists()


@pytest.mark.django_db
def test_reopen_needs_a_reason_and_a_resolved_issue(
    partner_a: Organisation, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    with pytest.raises(InvalidTransition):
        issues.reopen(actor=channel_manager, issue=issue, reason="Again")
    issues.resolve(actor=channel_manager, issue=issue, root_cause="a", resolution="b")
    with pytest.raises(ValidationError):
        issues.reopen(actor=channel_manager, issue=issue, reason="  ")
    issue = issues.reopen(actor=channel_manager, issue=issue, reason="Again", now=NOW + HOUR)
    assert issue.status == Issue.Status.OPEN and issue.resolved_at is None


# -- attachments ----------------------------------------------------------------------


@pytest.mark.django_db
def test_attachments_from_either_side_up_to_ten_megabytes(
    partner_a: Organisation, partner_a_user: User, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    attachment = issues.add_attachment(
        actor=partner_a_user,
        issue=issue,
        name="C:\\fakepath\\invoice.pdf",
        content=b"%PDF-1.4",
        content_type="application/pdf",
    )
    assert (attachment.name, attachment.size, attachment.uploaded_by) == (
        "invoice.pdf",
        8,
        partner_a_user,
    )
    audit = AuditEntry.objects.for_object(attachment).get()
    assert "content" not in audit.changes and audit.changes["size"] == [None, 8]
    found = selectors.get_attachment(partner_a_user, attachment.pk)
    assert bytes(found.content) == b"%PDF-1.4"
    limit = IssueAttachment.MAX_BYTES
    exact = issues.add_attachment(
        actor=channel_manager, issue=issue, name="big.bin", content=b"\0" * limit
    )
    assert exact.size == limit and exact.content_type == "application/octet-stream"
    with pytest.raises(ValidationError) as error:
        issues.add_attachment(
            actor=channel_manager, issue=issue, name="huge.bin", content=b"\0" * (limit + 1)
        )
    assert "10 MB" in error.value.message_dict["content"][0]
    with pytest.raises(ValidationError) as error:
        issues.add_attachment(actor=channel_manager, issue=issue, name="empty.txt", content=b"")
    assert error.value.message_dict["content"] == ["The file is empty."]
    with pytest.raises(ValidationError):
        issues.add_attachment(actor=channel_manager, issue=issue, name=" ", content=b"x")
    assert list(selectors.issue_attachments(partner_a_user, issue)) == [attachment, exact]


@pytest.mark.django_db
def test_another_partner_cannot_download_an_attachment(
    partner_a: Organisation, partner_b_user: User, channel_manager: User
) -> None:
    issue = raise_one(channel_manager, partner_a)
    attachment = issues.add_attachment(
        actor=channel_manager, issue=issue, name="a.txt", content=b"secret"
    )
    with pytest.raises(Http404):
        selectors.get_attachment(partner_b_user, attachment.pk)
    with pytest.raises(Http404):
        selectors.get_attachment(partner_b_user, "nonsense")


# -- selectors and metrics ----------------------------------------------------------


@pytest.mark.django_db
def test_list_issues_filters_and_isolation(
    made: dict[str, Any],
    partner_a: Organisation,
    partner_b: Organisation,
    partner_a_user: User,
    partner_b_user: User,
    channel_manager: User,
) -> None:
    governed(partner_b, now=NOW)
    first = raise_one(channel_manager, partner_a, title="Late trucks", severity="high")
    second = raise_one(channel_manager, partner_a, title="Wrong prices", severity="low")
    other = raise_one(partner_b_user, partner_b, title="Bravo problem")
    issues.escalate_due(now=first.resolve_by)
    issues.resolve(actor=channel_manager, issue=second, root_cause="a", resolution="b")

    def numbers(user: User, **filters: Any) -> set[int]:
        return set(selectors.list_issues(user, filters).values_list("pk", flat=True))

    assert numbers(channel_manager) == {first.pk, second.pk, other.pk}
    assert numbers(partner_a_user) == {first.pk, second.pk}
    assert numbers(partner_b_user) == {other.pk}
    assert numbers(channel_manager, organisation=str(partner_a.pk)) == {first.pk, second.pk}
    assert numbers(channel_manager, status="resolved") == {second.pk}
    assert numbers(channel_manager, status="unresolved") == {first.pk, other.pk}
    assert numbers(channel_manager, severity="high") == {first.pk}
    assert numbers(channel_manager, tier="operational") == {first.pk}
    assert numbers(channel_manager, escalated="true") == {first.pk}
    assert numbers(channel_manager, escalated=False) == {second.pk, other.pk}
    assert numbers(channel_manager, q="trucks") == {first.pk}
    assert numbers(channel_manager, q=first.number) == {first.pk}
    assert numbers(partner_b_user, q="trucks") == set()
    for bad in ({"status": "nope"}, {"tier": "top"}, {"escalated": "maybe"}, {"organisation": "x"}):
        with pytest.raises(ValidationError):
            selectors.list_issues(channel_manager, bad)
    events = selectors.issue_events(partner_a_user, first)
    assert [e.kind for e in events] == ["raised", "escalated"]
    assert list(selectors.issue_events(partner_b_user, first)) == []


@pytest.mark.django_db
def test_issue_metrics(
    made: dict[str, Any],
    partner_a: Organisation,
    partner_b: Organisation,
    partner_a_user: User,
    partner_b_user: User,
    channel_manager: User,
) -> None:
    governed(partner_b, now=NOW)
    escalated = raise_one(channel_manager, partner_a, severity="critical")
    issues.escalate_due(now=escalated.resolve_by)
    for hours in (10, 20, 60):
        issue = raise_one(channel_manager, partner_a)
        issues.resolve(
            actor=channel_manager,
            issue=issue,
            root_cause="a",
            resolution="b",
            now=NOW + hours * HOUR,
        )
    raise_one(channel_manager, partner_b, severity="critical", now=NOW - 50 * HOUR)
    issues.escalate_due(now=NOW - 26 * HOUR)
    issues.escalate_due(now=NOW - 2 * HOUR)

    metrics = selectors.issue_metrics(channel_manager)
    assert metrics["open"] == 2 and metrics["escalated_open"] == 2
    assert metrics["by_tier"] == {"working": 0, "operational": 1, "executive": 1}
    assert metrics["mean_hours_to_resolve"] == 30.0
    assert metrics["median_hours_to_resolve"] == 20.0
    assert metrics["escalations_per_relationship"] == [(partner_b, 2), (partner_a, 1)]

    alpha = selectors.issue_metrics(partner_a_user)
    assert alpha["open"] == 1 and alpha["escalations_per_relationship"] == [(partner_a, 1)]
    assert selectors.issue_metrics(partner_b_user, organisation=partner_a.pk)["open"] == 0
    assert selectors.issue_metrics(channel_manager, organisation=partner_a)["resolved"] == 3


# -- SLA settings -------------------------------------------------------------------


@pytest.mark.django_db
def test_severity_slas_default_and_can_be_set_by_a_manager(
    channel_manager: User, partner_a_user: User, partner_a: Organisation
) -> None:
    rows = selectors.list_severity_slas(channel_manager)
    assert [(r.severity, r.response_hours, r.resolution_hours) for r in rows] == [
        (severity, *hours) for severity, hours in SeveritySla.DEFAULTS.items()
    ]
    assert all(r.pk is None for r in rows)
    issues.set_severity_slas(
        actor=channel_manager,
        rows=[{"severity": "critical", "response_hours": 1, "resolution_hours": 8}],
    )
    issues.set_severity_slas(
        actor=channel_manager,
        rows=[{"severity": "critical", "response_hours": 2, "resolution_hours": 8}],
    )
    critical = SeveritySla.objects.get(severity="critical")
    assert (critical.response_hours, critical.resolution_hours) == (2, 8)
    assert AuditEntry.objects.for_object(critical).count() == 2
    issue = raise_one(channel_manager, partner_a, severity="critical")
    assert issue.resolve_by == NOW + 8 * HOUR
    with pytest.raises(PermissionDenied):
        issues.set_severity_slas(
            actor=partner_a_user,
            rows=[{"severity": "low", "response_hours": 1, "resolution_hours": 2}],
        )
    for bad in (
        [{"severity": "low", "response_hours": 0, "resolution_hours": 2}],
        [{"severity": "low", "response_hours": 5, "resolution_hours": 2}],
        [{"severity": "low", "response_hours": "1", "resolution_hours": 2}],
        [{"severity": "urgent", "response_hours": 1, "resolution_hours": 2}],
        [
            {"severity": "low", "response_hours": 1, "resolution_hours": 2},
            {"severity": "low", "response_hours": 1, "resolution_hours": 3},
        ],
        "low",
    ):
        with pytest.raises(ValidationError):
            issues.set_severity_slas(actor=channel_manager, rows=bad)
    assert not SeveritySla.objects.filter(severity="low").exists()
