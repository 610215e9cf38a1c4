"""The issue pages over real HTTP: the list with filters and CSV, raising an issue (partners on
their own relationship only), one issue with its SLA clock, current tier and escalation
history with its inputs, attachments (upload, download as an attachment), and the actions
each side may take; other partners get 404, partners 403 on staff-only actions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accord.governance.models import ActionItem, Issue, IssueAttachment, IssueEvent
from accord.governance.services import issues as issue_services
from tests.governance import pages_setup
from tests.governance.pages_setup import DAY, HOUR, body, chinese, errors_of, fresh, raise_issue

pytestmark = pytest.mark.django_db
alpha, bravo = pages_setup.alpha, pages_setup.bravo  # the shared fixtures


def attach(issue: Issue, actor, name: str = "report.pdf", content: bytes = b"%PDF-1.4 data"):
    return issue_services.add_attachment(
        actor=actor, issue=issue, name=name, content=content, content_type="application/pdf"
    )


# -- who gets in -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    ["/governance/issues/", "/governance/issues/new/", "/governance/issues/{pk}/"],
)
def test_anonymous_users_are_sent_to_log_in(login, alpha, url):
    response = login(None).get(url.format(pk=alpha["issue"].pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_partner_b_gets_404_on_alphas_issue_its_actions_and_attachments(
    login, alpha, bravo, partner_b_user, channel_manager
):
    issue = alpha["issue"]
    attachment = attach(issue, channel_manager)
    client = login(partner_b_user)
    assert client.get(f"/governance/issues/{issue.pk}/").status_code == 404
    assert client.get(f"/governance/attachments/{attachment.pk}/").status_code == 404
    for action, data in [
        ("respond", {"respond-note": "Seen"}),
        ("comment", {"comment-note": "Hello"}),
        ("attach", {}),
        ("assign", {"assign-owner": bravo["me"].pk}),
        ("resolve", {"resolve-root_cause": "x", "resolve-resolution": "y"}),
        ("reopen", {"reopen-reason": "z"}),
    ]:
        response = client.post(f"/governance/issues/{issue.pk}/{action}/", data)
        assert response.status_code == 404, action
    assert fresh(issue).status == Issue.Status.OPEN
    assert issue.events.count() == 1


def test_the_list_shows_partners_only_their_own_issues(login, alpha, bravo, partner_a_user):
    text = body(login(partner_a_user).get("/governance/issues/"))
    assert "Alpha deliveries late" in text and "Bravo pricing dispute" not in text


def test_staff_filter_the_list_and_export_it(login, alpha, bravo, channel_manager, partner_b):
    client = login(channel_manager)
    text = body(client.get(f"/governance/issues/?organisation={partner_b.pk}"))
    assert "Bravo pricing dispute" in text and "Alpha deliveries late" not in text
    text = body(client.get("/governance/issues/?status=resolved"))
    assert "No issues match these filters." in text
    text = body(client.get("/governance/issues/?status=open&tier=working&q=Alpha"))
    assert "Alpha deliveries late" in text and "Bravo pricing dispute" not in text
    response = client.get("/governance/issues/export.csv?q=Alpha")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = b"".join(response.streaming_content).decode("utf-8-sig")
    assert alpha["issue"].number in exported and bravo["issue"].number not in exported


def test_a_bad_filter_value_is_ignored_not_an_error(login, alpha, channel_manager):
    response = login(channel_manager).get("/governance/issues/?organisation=abc&tier=nowhere")
    assert response.status_code == 200


# -- raising an issue --------------------------------------------------------------------------
def test_partner_raises_an_issue_on_its_own_relationship_only(
    login, alpha, bravo, partner_a_user, partner_a, partner_b
):
    client = login(partner_a_user)
    text = body(client.get(f"/governance/issues/new/?organisation={partner_b.pk}"))
    options = re.findall(r'<option value="(\d+)"', text.split('name="organisation"', 1)[1])
    assert options == [str(partner_a.pk)]
    assert f'<option value="{partner_a.pk}" selected>' in text
    # A forged post for Bravo is refused on the field, nothing is created.
    before = Issue.objects.count()
    response = client.post(
        "/governance/issues/new/",
        {"organisation": partner_b.pk, "title": "x", "category": "other", "severity": "low"},
    )
    assert response.status_code == 200 and errors_of(body(response), "id_organisation")
    assert Issue.objects.count() == before
    response = client.post(
        "/governance/issues/new/",
        {
            "organisation": partner_a.pk,
            "title": "Portal down",
            "category": "support",
            "severity": "critical",
            "description": "Cannot log in",
            "attachment": SimpleUploadedFile("screen.png", b"\x89PNG data", "image/png"),
        },
    )
    issue = Issue.objects.get(title="Portal down")
    assert response.status_code == 302 and response["Location"] == f"/governance/issues/{issue.pk}/"
    assert issue.organisation == partner_a and issue.raised_side == "partner"
    assert issue.attachments.get().name == "screen.png"


def test_staff_see_the_organisation_preselected(login, alpha, channel_manager, partner_a):
    text = body(login(channel_manager).get(f"/governance/issues/new/?organisation={partner_a.pk}"))
    assert f'<option value="{partner_a.pk}" selected>' in text
    assert "resolve within 72 h per tier" in text  # the High SLA hint


def test_the_new_issue_form_shows_field_errors(login, alpha, channel_manager, partner_a):
    client = login(channel_manager)
    response = client.post("/governance/issues/new/", {"organisation": partner_a.pk})
    text = body(response)
    assert response.status_code == 200
    assert errors_of(text, "id_title") and errors_of(text, "id_category")
    big = SimpleUploadedFile("big.bin", b"x" * (IssueAttachment.MAX_BYTES + 1))
    response = client.post(
        "/governance/issues/new/",
        {
            "organisation": partner_a.pk,
            "title": "Big file",
            "category": "other",
            "severity": "low",
            "attachment": big,
        },
    )
    assert "too large" in errors_of(body(response), "id_attachment")
    assert not Issue.objects.filter(title="Big file").exists()


def test_partners_without_the_permission_cannot_raise(login, alpha, partner_a_viewer):
    assert login(partner_a_viewer).get("/governance/issues/new/").status_code == 403


# -- one issue: clock, tier, history -----------------------------------------------------------
def test_the_issue_page_shows_the_sla_clock(login, alpha, channel_manager, partner_a_user):
    text = body(login(partner_a_user).get(f"/governance/issues/{alpha['issue'].pk}/"))
    assert 'id="respond-by" data-overdue="0"' in text and 'id="resolve-by" data-overdue="0"' in text
    assert re.search(r"(7|8)\shours.*left", text)
    assert 'class="current" aria-current="step">Working level<' in text


def test_an_overdue_issue_is_highlighted_and_its_escalation_explained(
    login, alpha, channel_manager
):
    past = timezone.now() - 4 * DAY
    issue = raise_issue(alpha["relationship"].organisation, channel_manager, now=past)
    escalated = issue_services.escalate_due(now=past + 73 * HOUR)
    assert [i.pk for i in escalated] == [issue.pk]
    text = body(login(channel_manager).get(f"/governance/issues/{issue.pk}/"))
    assert 'id="respond-by" data-overdue="1"' in text
    assert 'id="resolve-by" data-overdue="0"' in text  # the operational tier's clock runs
    assert 'class="current" aria-current="step">Operational management<' in text
    explain = re.search(r'<p class="event-explain">(.*?)</p>', text, re.S).group(1)
    assert explain.startswith("Escalated from Working level to Operational management at ")
    assert "because the resolution SLA of 72 h for High ended at" in explain
    # The operational pair of the contact map was told (both sides), by name.
    assert "Rhea Relationship" in explain and "Oscar Operations" in explain
    assert "by the SLA timer" in text and "resolution SLA per tier" in text
    # Every stored input is labelled and formatted: no raw keys, booleans or ISO times.
    inputs = " ".join(re.findall(r'<dl class="inputs">(.*?)</dl>', text, re.S))
    assert "Respond by" in inputs and "Resolve by" in inputs and "Response SLA (hours)" in inputs
    for raw in ("respond_by", "resolve_by", "severity_sla", "on_time", "True", "T12:", "+00:00"):
        assert raw not in inputs, raw


def test_partners_see_vendor_people_notified_as_a_count(
    login, alpha, channel_manager, partner_a_user
):
    past = timezone.now() - 4 * DAY
    issue = raise_issue(alpha["relationship"].organisation, channel_manager, now=past)
    issue_services.escalate_due(now=past + 73 * HOUR)
    text = body(login(partner_a_user).get(f"/governance/issues/{issue.pk}/"))
    explain = re.search(r'<p class="event-explain">(.*?)</p>', text, re.S).group(1)
    assert "Oscar Operations" in explain and "Rhea Relationship" not in explain
    assert re.search(r"\d+ other (person|people)", explain)


# -- actions -----------------------------------------------------------------------------------
def test_partner_responds_and_comments_but_may_not_resolve_assign_or_reopen(
    login, alpha, partner_a_user
):
    issue = alpha["issue"]
    client = login(partner_a_user)
    text = body(client.get(f"/governance/issues/{issue.pk}/"))
    assert 'id="respond-form"' in text and 'id="comment-form"' in text
    assert 'id="resolve-form"' not in text and 'id="assign-form"' not in text
    response = client.post(f"/governance/issues/{issue.pk}/respond/", {"respond-note": "On it"})
    assert response.status_code == 302
    assert fresh(issue).status == Issue.Status.RESPONDED
    response = client.post(f"/governance/issues/{issue.pk}/comment/", {"comment-note": "More"})
    assert response.status_code == 302
    events = issue.events.count()
    for action, data in [
        ("assign", {"assign-owner": alpha["me"].pk}),
        ("resolve", {"resolve-root_cause": "x", "resolve-resolution": "y"}),
        ("reopen", {"reopen-reason": "z"}),
    ]:
        response = client.post(f"/governance/issues/{issue.pk}/{action}/", data)
        assert response.status_code == 403, action
    assert fresh(issue).status == Issue.Status.RESPONDED and issue.events.count() == events


def test_an_empty_note_is_a_field_error(login, alpha, partner_a_user):
    response = login(partner_a_user).post(
        f"/governance/issues/{alpha['issue'].pk}/respond/", {"respond-note": "  "}
    )
    assert response.status_code == 400 and errors_of(body(response), "id_respond-note")


def test_resolve_needs_a_root_cause_and_sane_due_dates(login, alpha, channel_manager):
    issue = alpha["issue"]
    client = login(channel_manager)
    owner = alpha["roles"]["service_delivery"]
    response = client.post(
        f"/governance/issues/{issue.pk}/resolve/",
        {
            "resolve-root_cause": "",
            "resolve-resolution": "Carrier replaced",
            "resolve-action_0_title": "Audit the carrier",
            "resolve-action_0_owner": owner.pk,
            "resolve-action_0_due_on": "2026-13-45",
            "resolve-action_1_title": "Weekly check",
            "resolve-action_1_owner": owner.pk,
            "resolve-action_1_due_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "resolve-action_2_title": "No owner",
        },
    )
    text = body(response)
    assert response.status_code == 400
    assert errors_of(text, "id_resolve-root_cause")
    assert "valid date" in errors_of(text, "id_resolve-action_0_due_on")
    assert "past" in errors_of(text, "id_resolve-action_1_due_on")
    assert errors_of(text, "id_resolve-action_2_owner")
    assert errors_of(text, "id_resolve-action_2_due_on")
    assert fresh(issue).status == Issue.Status.OPEN
    assert not ActionItem.objects.filter(issue=issue).exists()


def test_staff_resolve_with_corrective_actions_then_reopen(login, alpha, channel_manager):
    issue = alpha["issue"]
    client = login(channel_manager)
    owner = alpha["partner"][0]
    due = timezone.localdate() + dt.timedelta(days=14)
    response = client.post(
        f"/governance/issues/{issue.pk}/resolve/",
        {
            "resolve-root_cause": "Carrier capacity",
            "resolve-resolution": "Second carrier contracted",
            "resolve-action_0_title": "Audit the carrier",
            "resolve-action_0_owner": owner.pk,
            "resolve-action_0_due_on": due.isoformat(),
        },
    )
    assert response.status_code == 302
    issue = fresh(issue)
    assert issue.status == Issue.Status.RESOLVED and issue.root_cause == "Carrier capacity"
    action = ActionItem.objects.get(issue=issue)
    assert (action.title, action.owner, action.due_on) == ("Audit the carrier", owner, due)
    text = body(client.get(f"/governance/issues/{issue.pk}/"))
    assert 'id="corrective-actions"' in text and "Audit the carrier" in text
    assert 'id="reopen-form"' in text
    response = client.post(f"/governance/issues/{issue.pk}/reopen/", {"reopen-reason": ""})
    assert response.status_code == 400 and errors_of(body(response), "id_reopen-reason")
    response = client.post(f"/governance/issues/{issue.pk}/reopen/", {"reopen-reason": "Again"})
    assert response.status_code == 302 and fresh(issue).status == Issue.Status.OPEN
    assert issue.events.filter(kind=IssueEvent.Kind.REOPENED).exists()


def test_staff_assign_an_owner(login, alpha, channel_manager):
    issue = alpha["issue"]
    owner = alpha["roles"]["commercial"]
    client = login(channel_manager)
    response = client.post(f"/governance/issues/{issue.pk}/assign/", {"assign-owner": owner.pk})
    assert response.status_code == 302 and fresh(issue).owner == owner
    response = client.post(f"/governance/issues/{issue.pk}/assign/", {"assign-owner": 999999})
    assert response.status_code == 400 and errors_of(body(response), "id_assign-owner")


# -- attachments ------------------------------------------------------------------------------
def test_attachments_upload_and_download_as_a_file(login, alpha, partner_a_user):
    issue = alpha["issue"]
    client = login(partner_a_user)
    upload = SimpleUploadedFile("报告 <x>.html", b"<script>alert(1)</script>", "text/html")
    response = client.post(f"/governance/issues/{issue.pk}/attach/", {"attach-file": upload})
    assert response.status_code == 302
    attachment = issue.attachments.get()
    text = body(client.get(f"/governance/issues/{issue.pk}/"))
    assert f'href="/governance/attachments/{attachment.pk}/"' in text
    response = client.get(f"/governance/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert response.content == b"<script>alert(1)</script>"


def test_attachment_errors_are_field_errors(login, alpha, partner_a_user):
    issue = alpha["issue"]
    client = login(partner_a_user)
    response = client.post(f"/governance/issues/{issue.pk}/attach/", {})
    assert response.status_code == 400 and errors_of(body(response), "id_attach-file")
    big = SimpleUploadedFile("big.bin", b"x" * (IssueAttachment.MAX_BYTES + 1))
    response = client.post(f"/governance/issues/{issue.pk}/attach/", {"attach-file": big})
    assert "too large" in errors_of(body(response), "id_attach-file")
    empty = SimpleUploadedFile("empty.txt", b"")
    response = client.post(f"/governance/issues/{issue.pk}/attach/", {"attach-file": empty})
    assert errors_of(body(response), "id_attach-file")
    assert not issue.attachments.exists()


def test_the_issue_pages_render_in_chinese(login, alpha, channel_manager, partner_a_user):
    past = timezone.now() - 4 * DAY
    issue = raise_issue(alpha["relationship"].organisation, channel_manager, now=past)
    issue_services.escalate_due(now=past + 73 * HOUR)
    for user in (channel_manager, partner_a_user):
        client = chinese(login(user))
        for url in (
            "/governance/issues/",
            "/governance/issues/new/",
            f"/governance/issues/{issue.pk}/",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert 'lang="zh-hans"' in body(response)
