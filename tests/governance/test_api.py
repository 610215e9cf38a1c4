"""The governance REST API over a real database and HTTP, beyond the isolation matrix: the
relationship list and its filters, the separated-roles rule (422 naming both roles, swaps
in one PUT), partner side rules (no roles, only the partner half of the contact map, own
key people), meetings and action items, issues from raising to reopening with corrective
actions, attachments (size limit, safe downloads), the SLAs, and bad input that is a JSON
4xx, never a 500. The world is the isolation matrix's (``build_world``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.governance.models import (
    ActionItem,
    ContactSlot,
    Function,
    Issue,
    IssueAttachment,
    KeyPerson,
    Meeting,
    Relationship,
    RoleAssignment,
    SeveritySla,
)
from accord.partners.models import Contact
from tests.apitools import call, fingerprint
from tests.governance.builders import partner_person, vendor_person
from tests.governance.test_api_isolation import CASES, build_world

pytestmark = pytest.mark.django_db
V1 = "/api/v1/governance"
SD, TR, RM, CM = (
    RoleAssignment.Role.SERVICE_DELIVERY,
    RoleAssignment.Role.TRANSFORMATION,
    RoleAssignment.Role.RELATIONSHIP,
    RoleAssignment.Role.COMMERCIAL,
)
SOON = (timezone.localdate() + dt.timedelta(days=10)).isoformat()


@pytest.fixture
def world(
    vendor,
    partner_a,
    partner_a_child,
    partner_b,
    partner_a_user,
    partner_a_viewer,
    partner_b_user,
    channel_manager,
    analyst,
) -> dict[str, Any]:
    return build_world(partner_a, partner_a_child, partner_b)


def get(client: Client, path: str, status: int = 200) -> Any:
    response = client.get(V1 + path)
    assert response.status_code == status, (path, response.content[:500])
    body = response.json()
    if status >= 400:
        assert set(body) == {"error", "detail", "fields"}
    return body


def send(client: Client, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = call(client, method, V1 + path, body)
    assert response.status_code == status, (method, path, response.content[:500])
    if status == 204:
        return None
    answer = response.json()
    if status >= 400:
        assert set(answer) == {"error", "detail", "fields"}
    return answer


def refused(client: Client, method: str, path: str, body: Any, status: int) -> dict:
    """A write refused with ``status`` that changes nothing anywhere."""
    before = fingerprint()
    answer = send(client, method, path, body, status)
    assert fingerprint() == before, f"a refused {method} {path} changed data"
    return answer


def roles_of(organisation_id: int) -> dict[str, int]:
    return dict(
        RoleAssignment.objects.filter(organisation_id=organisation_id).values_list(
            "role", "holder_id"
        )
    )


# -- relationships ---------------------------------------------------------------------------
def test_relationships_list_filters_and_figures(world, api, channel_manager) -> None:
    staff = api(channel_manager)

    def ids(query: str) -> set[int]:
        return {item["id"] for item in get(staff, f"/relationships?{query}")["items"]}

    assert {world["a"], world["b"], world["child"]} <= ids("")
    assert ids("q=alpha") == {world["a"], world["child"]}
    assert ids("kind=reseller") == {world["b"]}
    assert world["a"] in ids("roles=complete")
    RoleAssignment.objects.filter(organisation_id=world["b"], role=CM).delete()
    assert ids("roles=incomplete_or_doubled") == {world["b"]}
    Relationship.objects.filter(organisation_id=world["b"]).update(
        misaligned=True, health_score="41.5"
    )
    assert ids("misaligned=true") == {world["b"]}
    assert ids("health_below=50") == {world["b"]}
    Meeting.objects.filter(pk=world["b_meeting"]).update(
        starts_at=timezone.now() - dt.timedelta(days=30)
    )
    assert ids("overdue=true") == {world["b"]}  # a planned review a month ago
    row = get(staff, f"/relationships/{world['a']}")
    assert row["roles_filled"] == 4 and row["open_issues"] == 1 and row["overdue_meetings"] == 0
    for query in ("roles=some", "kind=spaceship", "health_below=NaN", "misaligned=perhaps"):
        get(staff, f"/relationships?{query}", 422)


def test_a_partner_without_a_record_reads_the_defaults_and_the_vendor_is_no_relationship(
    world, api, channel_manager, vendor, partner_a_user
) -> None:
    staff = api(channel_manager)
    Relationship.objects.filter(organisation_id=world["child"]).delete()
    before = fingerprint()
    row = get(staff, f"/relationships/{world['child']}")
    assert row["health_frequency"] == "annual" and row["roles_filled"] == 0
    assert fingerprint() == before
    get(staff, f"/relationships/{vendor.pk}", 404)
    get(staff, f"/relationships/{vendor.pk}/roles", 404)
    # A partner reads its own, and the PATCH makes the record for staff.
    assert get(api(partner_a_user), f"/relationships/{world['a']}")["id"] == world["a"]
    patched = send(staff, "patch", f"/relationships/{world['child']}", {"notes": "New"})
    assert patched["notes"] == "New"
    assert Relationship.objects.filter(organisation_id=world["child"]).exists()
    refused(api(partner_a_user), "patch", f"/relationships/{world['a']}", {"notes": "x"}, 403)
    answer = refused(
        staff, "patch", f"/relationships/{world['a']}", {"started_on": "1800-01-01"}, 422
    )
    assert "started_on" in answer["fields"]


# -- the separated roles -----------------------------------------------------------------------
def test_roles_read_and_swap_in_one_put(world, api, channel_manager, partner_a_viewer) -> None:
    roles = get(api(partner_a_viewer), f"/relationships/{world['a']}/roles")
    assert [row["role"] for row in roles["roles"]] == [SD, TR, RM, CM]
    assert all(row["holder"]["side"] == "vendor" for row in roles["roles"])
    assert roles["gaps"] == {"missing": [], "doubled": [], "inactive": []}
    answer = send(
        api(channel_manager), "put", f"/relationships/{world['a']}/roles", world["swapped"]
    )
    held = {row["role"]: row["holder"]["id"] for row in answer["roles"]}
    assert held == world["swapped"] == roles_of(world["a"])


def test_one_person_in_two_roles_is_422_naming_both(world, api, channel_manager) -> None:
    body = {**world["swapped"], CM: world["swapped"][SD]}
    answer = refused(api(channel_manager), "put", f"/relationships/{world['a']}/roles", body, 422)
    assert answer["error"] == "invalid"
    [message] = [text for messages in answer["fields"].values() for text in messages]
    assert "Service delivery management" in message and "Commercial management" in message
    assert "only one of the four roles" in message


def test_roles_refuse_people_of_the_wrong_side_and_clear_with_null(
    world, api, channel_manager
) -> None:
    staff = api(channel_manager)
    path = f"/relationships/{world['a']}/roles"
    for holder in (world["a_partner"], 999_999_999):
        answer = refused(staff, "put", path, {**world["swapped"], TR: holder}, 422)
        assert TR in answer["fields"], answer
    answer = refused(staff, "put", path, {SD: world["a_vendor_new"]}, 422)  # all four or none
    assert {TR, RM, CM} <= set(answer["fields"])
    cleared = send(staff, "put", path, {**world["swapped"], CM: None})
    assert cleared["gaps"]["missing"] == [CM]
    assert CM not in roles_of(world["a"])


def test_partners_may_not_assign_roles(world, api, partner_a_user, partner_b_user) -> None:
    path = f"/relationships/{world['a']}/roles"
    refused(api(partner_a_user), "put", path, world["swapped"], 403)
    refused(api(partner_b_user), "put", path, world["swapped"], 404)


# -- the contact map ---------------------------------------------------------------------------
def test_a_partner_names_its_side_of_a_slot_only(world, api, partner_a_user, channel_manager):
    partner = api(partner_a_user)
    path = f"/relationships/{world['a']}/contact-map/working/general"
    slot = send(partner, "put", path, {"partner_contact_id": world["a_new_person"]})
    assert slot["partner_contact"]["id"] == world["a_new_person"]
    assert slot["vendor_contact"]["side"] == "vendor"  # unchanged
    # Never the vendor side, not even to empty it, nor a new slot.
    refused(partner, "put", path, {"vendor_contact_id": world["a_vendor_new"]}, 403)
    refused(partner, "put", path, {"vendor_contact_id": None}, 403)
    new_slot = f"/relationships/{world['a']}/contact-map/executive/finance"
    refused(partner, "put", new_slot, {"partner_contact_id": world["a_new_person"]}, 403)
    # People of another organisation or side are field errors.
    answer = refused(partner, "put", path, {"partner_contact_id": world["a_vendor"]}, 422)
    assert "partner_contact_id" in answer["fields"]
    staff = api(channel_manager)
    answer = refused(staff, "put", path, {"vendor_contact_id": world["a_partner"]}, 422)
    assert "vendor_contact_id" in answer["fields"]
    made = send(staff, "put", new_slot, {"vendor_contact_id": world["a_vendor_new"]})
    assert made["tier"] == "executive" and made["function"] == "finance"
    assert made["partner_contact"] is None
    grid = get(partner, f"/relationships/{world['a']}/contact-map")
    assert {(row["tier"], row["function"]) for row in grid} >= {
        ("working", "general"),
        ("executive", "finance"),
    }
    for bad in ("/contact-map/board/general", "/contact-map/working/legal"):
        refused(staff, "put", f"/relationships/{world['a']}{bad}", {}, 422)


# -- key people --------------------------------------------------------------------------------
def test_key_people_by_side(world, api, partner_a_user, channel_manager) -> None:
    partner, staff = api(partner_a_user), api(channel_manager)
    made = send(
        partner,
        "post",
        "/key-people",
        {"organisation_id": world["a"], "person_id": world["a_new_person"], "backup_id": None},
        201,
    )
    assert made["side"] == "partner" and made["backup"] is None
    backup = partner_person(Contact.objects.get(pk=world["a_partner"]).organisation, "Bo Backup")
    changed = send(partner, "patch", f"/key-people/{made['id']}", {"backup_id": backup.pk})
    assert changed["backup"]["id"] == backup.pk
    answer = refused(
        partner, "patch", f"/key-people/{made['id']}", {"backup_id": world["a_new_person"]}, 422
    )
    assert "backup_id" in answer["fields"]
    # A partner names only its own people, and changes only its side's rows.
    answer = refused(
        partner,
        "post",
        "/key-people",
        {"organisation_id": world["a"], "person_id": world["a_vendor_new"]},
        422,
    )
    assert "person_id" in answer["fields"]
    refused(partner, "patch", f"/key-people/{world['a_vendor_key']}", {"responsibility": "x"}, 403)
    refused(partner, "delete", f"/key-people/{made['id']}", None, 403)
    send(staff, "delete", f"/key-people/{made['id']}", None, 204)
    assert not KeyPerson.objects.filter(pk=made["id"]).exists()
    # The same person twice is refused.
    body = {"organisation_id": world["a"], "person_id": world["a_partner"]}
    send(staff, "post", "/key-people", body, 201)
    answer = refused(staff, "post", "/key-people", body, 422)
    assert "person_id" in answer["fields"]
    listed = get(staff, f"/key-people?organisation={world['a']}&side=partner")["items"]
    assert {row["side"] for row in listed} == {"partner"}


# -- cadence and meetings ----------------------------------------------------------------------
def test_cadence_templates_and_planning_are_idempotent(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    made = send(
        staff,
        "post",
        "/cadence-templates",
        {"name": "Weekly call", "tier": "working", "frequency": "weekly", "agenda": "Orders"},
        201,
    )
    assert made["partner_tiers"] == [] and made["active"] is True
    send(staff, "patch", f"/cadence-templates/{made['id']}", {"active": False})
    planned = send(staff, "post", f"/relationships/{world['a']}/cadence/apply", {"months": 3})
    assert planned and {row["title"] for row in planned} == {"Operations review"}
    assert all(row["cadence_id"] == world["cadence"] for row in planned)
    # Attendees are the contact map's people at the template's tier, both sides.
    assert {person["side"] for person in planned[0]["attendees"]} == {"vendor", "partner"}
    assert send(staff, "post", f"/relationships/{world['a']}/cadence/apply", {"months": 3}) == []
    for bad in ({"months": 0}, {"months": 37}, {"start": "10000-01-01"}, {"weeks": 2}):
        refused(staff, "post", f"/relationships/{world['a']}/cadence/apply", bad, 422)
    answer = refused(staff, "post", "/cadence-templates", {"name": "x", "tier": "board"}, 422)
    assert {"tier", "frequency"} <= set(answer["fields"])


def test_meetings_planned_recorded_and_cancelled(
    world, api, channel_manager, partner_a_user, partner_b_user
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    starts = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    made = send(
        staff,
        "post",
        "/meetings",
        {
            "organisation_id": world["a"],
            "title": "QBR",
            "tier": "operational",
            "starts_at": starts.isoformat(),
            "attendee_ids": [world["a_vendor"], world["a_partner"]],
        },
        201,
    )
    assert made["status"] == "planned" and made["sequence"] == 0 and made["uid"]
    assert dt.datetime.fromisoformat(made["starts_at"]) == starts
    moved = send(staff, "patch", f"/meetings/{made['id']}", {"location": "Shanghai"})
    assert moved["sequence"] == 1 and moved["location"] == "Shanghai"
    # A partner plans nothing and changes no plan, but records a meeting it attended.
    body = {"organisation_id": world["a"], "title": "Own", "tier": "working"}
    refused(partner, "post", "/meetings", {**body, "starts_at": starts.isoformat()}, 403)
    refused(partner, "patch", f"/meetings/{made['id']}", {"location": "x"}, 403)
    refused(partner, "post", f"/meetings/{made['id']}/cancel", {"reason": "x"}, 403)
    held = send(
        partner, "post", f"/meetings/{world['a_meeting']}/record", {"minutes": "Forecast agreed"}
    )
    assert held["status"] == "held" and held["minutes"] == "Forecast agreed"
    answer = refused(
        partner,
        "post",
        f"/meetings/{world['a_meeting']}/record",
        {"minutes": "x", "attendee_ids": [world["a_vendor_new"]]},
        422,
    )
    assert "attendee_ids" in answer["fields"]
    cancelled = send(staff, "post", f"/meetings/{made['id']}/cancel", {"reason": "Holiday"})
    assert cancelled["status"] == "cancelled"
    for path, body in (("cancel", {"reason": "again"}), ("record", {"minutes": "x"})):
        answer = refused(staff, "post", f"/meetings/{made['id']}/{path}", body, 409)
        assert answer["error"] == "invalid_transition"
    get(api(partner_b_user), f"/meetings/{made['id']}", 404)
    listed = get(staff, f"/meetings?organisation={world['a']}&status=cancelled")["items"]
    assert [row["id"] for row in listed] == [made["id"]]


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"starts_at": "2026-09-01T10:00:00"}, "starts_at"),  # no time zone
        ({"starts_at": "9999-12-31T23:00:00-05:00"}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"tier": "board"}, "tier"),
        ({"title": ""}, "title"),
        ({"title": "Q\x00BR"}, "title"),
        ({"duration_minutes": 10**9}, "duration_minutes"),
        ({"attendee_ids": [2**64]}, "attendee_ids.0"),
        ({"attendee_ids": [999_999_999]}, "attendee_ids"),
        ({"organisation_id": "a"}, "organisation_id"),
        ({"organisation_id": 999_999_999}, "organisation_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_meetings_are_422(world, api, channel_manager, fields: dict, name: str) -> None:
    body = {
        "organisation_id": world["a"],
        "title": "QBR",
        "tier": "operational",
        "starts_at": "2027-01-05T10:00:00+08:00",
        **fields,
    }
    answer = refused(api(channel_manager), "post", "/meetings", body, 422)
    assert name in answer["fields"], answer["fields"]


def test_action_items_by_side(world, api, partner_a_user, channel_manager) -> None:
    partner, staff = api(partner_a_user), api(channel_manager)
    item = send(
        partner,
        "post",
        "/action-items",
        {
            "organisation_id": world["a"],
            "title": "Stock report",
            "owner_id": world["a_partner"],
            "due_on": SOON,
            "meeting_id": world["a_meeting"],
        },
        201,
    )
    assert item["meeting_id"] == world["a_meeting"] and item["overdue"] is False
    # A partner's items are owned by its own people; the vendor's items it cannot tick.
    body = {"organisation_id": world["a"], "title": "x", "owner_id": world["a_vendor"]}
    answer = refused(partner, "post", "/action-items", {**body, "due_on": SOON}, 422)
    assert "owner_id" in answer["fields"]
    vendor_item = send(staff, "post", "/action-items", {**body, "due_on": SOON}, 201)
    refused(partner, "post", f"/action-items/{vendor_item['id']}/complete", None, 403)
    done = send(partner, "post", f"/action-items/{item['id']}/complete")
    assert done["status"] == "done" and done["done_at"]
    assert send(partner, "post", f"/action-items/{item['id']}/complete")["status"] == "done"
    for bad, name in (
        ({"meeting_id": world["b_meeting"]}, "meeting_id"),
        ({"issue_id": world["b_issue"]}, "issue_id"),
        ({"due_on": "31/12/2026"}, "due_on"),
        ({"due_on": "0001-01-01"}, "due_on"),
    ):
        answer = refused(staff, "post", "/action-items", {**body, "due_on": SOON, **bad}, 422)
        assert name in answer["fields"], answer
    mine = get(partner, f"/action-items?owner={world['a_partner']}&status=done")["items"]
    assert [row["id"] for row in mine] == [item["id"]]
    ActionItem.objects.filter(pk=vendor_item["id"]).update(
        due_on=timezone.localdate() - dt.timedelta(days=1)
    )
    overdue = get(staff, "/action-items?overdue=true")["items"]
    assert [row["id"] for row in overdue] == [vendor_item["id"]] and overdue[0]["overdue"]


# -- issues ------------------------------------------------------------------------------------
def test_an_issue_from_raising_to_reopening(
    world, api, partner_a_user, channel_manager, partner_b_user
) -> None:
    partner, staff = api(partner_a_user), api(channel_manager)
    issue = send(
        partner,
        "post",
        "/issues",
        {
            "organisation_id": world["a"],
            "title": "Damaged pallets",
            "category": "quality",
            "severity": "critical",
            "description": "Three pallets broke in transit.",
        },
        201,
    )
    assert issue["number"] == f"GI-{issue['id']:06d}"
    assert issue["raised_side"] == "partner" and issue["tier"] == "working"
    assert issue["owner"]["side"] == "vendor"  # the service-delivery holder
    raised = dt.datetime.fromisoformat(issue["raised_at"])
    response_hours, resolution_hours = SeveritySla.DEFAULTS["critical"]
    assert dt.datetime.fromisoformat(issue["respond_by"]) == raised + dt.timedelta(
        hours=response_hours
    )
    assert dt.datetime.fromisoformat(issue["resolve_by"]) == raised + dt.timedelta(
        hours=resolution_hours
    )
    path = f"/issues/{issue['id']}"
    assert send(staff, "post", f"{path}/respond", {"note": "On it"})["status"] == "responded"
    send(partner, "post", f"{path}/comment", {"note": "Photos coming"})
    # Only the vendor assigns, resolves and reopens.
    for step, body in (
        ("assign", {"owner_id": world["a_vendor_new"]}),
        ("resolve", {"root_cause": "x", "resolution": "y"}),
    ):
        refused(partner, "post", f"{path}/{step}", body, 403)
    assigned = send(staff, "post", f"{path}/assign", {"owner_id": world["a_vendor_new"]})
    assert assigned["owner"]["id"] == world["a_vendor_new"]
    answer = refused(staff, "post", f"{path}/resolve", {"root_cause": " ", "resolution": "y"}, 422)
    assert "root_cause" in answer["fields"]
    resolved = send(
        staff,
        "post",
        f"{path}/resolve",
        {
            "root_cause": "Loose straps",
            "resolution": "Re-packed",
            "corrective_actions": [
                {"title": "New straps", "owner_id": world["a_vendor"], "due_on": SOON},
                {"title": "Check loads", "owner_id": world["a_partner"], "due_on": SOON},
            ],
        },
    )
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    actions = get(staff, f"/action-items?issue={issue['id']}")["items"]
    assert {row["title"] for row in actions} == {"New straps", "Check loads"}
    refused(staff, "post", f"{path}/respond", {"note": "late"}, 409)
    refused(staff, "post", f"{path}/resolve", {"root_cause": "a", "resolution": "b"}, 409)
    reopened = send(staff, "post", f"{path}/reopen", {"reason": "Broke again"})
    assert reopened["status"] in ("open", "responded") and reopened["reopened"] == 1
    assert reopened["resolved_at"] is None
    kinds = [row["kind"] for row in get(partner, f"{path}/events")["items"]]
    assert kinds == ["raised", "responded", "commented", "assigned", "resolved", "reopened"]
    get(api(partner_b_user), path, 404)
    get(api(partner_b_user), f"{path}/events", 404)
    refused(api(partner_b_user), "post", f"{path}/comment", {"note": "hi"}, 404)


def test_issue_filters(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)

    def ids(client: Client, query: str) -> set[int]:
        return {row["id"] for row in get(client, f"/issues?{query}")["items"]}

    assert ids(staff, "status=resolved") == {world["a_resolved"]}
    assert ids(staff, f"organisation={world['b']}") == {world["b_issue"]}
    assert ids(staff, "q=invoices") == {world["a_resolved"]}
    Issue.objects.filter(pk=world["b_issue"]).update(escalations=1, tier="operational")
    assert ids(staff, "escalated=true") == {world["b_issue"]}
    assert ids(staff, "tier=operational&severity=high") == {world["b_issue"]}
    assert ids(api(partner_a_user), "") == {world["a_issue"], world["a_resolved"]}
    for query in ("status=lost", "severity=huge", "tier=board", "organisation=0", "q=" + "x" * 201):
        get(staff, f"/issues?{query}", 422)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "A\x00B"}, "title"),
        ({"description": "\x00"}, "description"),
        ({"category": "weather"}, "category"),
        ({"severity": 5}, "severity"),
        ({"owner_id": 0}, "owner_id"),
        ({"owner_id": 2**63}, "owner_id"),
        ({"owner_id": True}, "owner_id"),
        ({"owner_id": 999_999_999}, "owner_id"),
        ({"organisation_id": None}, "organisation_id"),
    ],
)
def test_bad_issues_are_422(world, api, partner_a_user, fields: dict, name: str) -> None:
    body = {
        "organisation_id": world["a"],
        "title": "Late",
        "category": "delivery",
        "severity": "low",
        **fields,
    }
    answer = refused(api(partner_a_user), "post", "/issues", body, 422)
    assert name in answer["fields"], answer["fields"]


# -- attachments -------------------------------------------------------------------------------
def upload(client: Client, issue_id: int, name: str, content: bytes, kind: str) -> Any:
    return client.post(
        f"{V1}/issues/{issue_id}/attachments", {"file": SimpleUploadedFile(name, content, kind)}
    )


def test_attachments_upload_and_download_safely(
    world, api, partner_a_user, partner_b_user, channel_manager
) -> None:
    partner = api(partner_a_user)
    response = upload(
        partner, world["a_issue"], "C:\\fakepath\\page.html", b"<script>1</script>", "text/html"
    )
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["name"] == "page.html" and made["size"] == 18
    download = api(channel_manager).get(f"{V1}/attachments/{made['id']}")
    assert download.status_code == 200 and download.content == b"<script>1</script>"
    # Never served as HTML: a download of opaque bytes the browser may not sniff.
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "page.html" in download["Content-Disposition"]
    image = api(partner_a_user).get(f"{V1}/attachments/{world['a_attachment']}")
    assert image["Content-Type"] == "image/png" and image.content == b"\x89PNG"
    assert image["Content-Disposition"].startswith("attachment;")
    shown = get(partner, f"/issues/{world['a_issue']}")["attachments"]
    assert {row["name"] for row in shown} == {"photo.png", "page.html"}
    assert api(partner_b_user).get(f"{V1}/attachments/{made['id']}").status_code == 404
    assert (
        upload(api(partner_b_user), world["a_issue"], "x.txt", b"x", "text/plain").status_code
        == 404
    )


def test_attachments_over_10_mb_or_empty_are_refused(world, api, partner_a_user) -> None:
    partner = api(partner_a_user)
    before = fingerprint()
    big = upload(partner, world["a_issue"], "big.bin", b"\0" * (IssueAttachment.MAX_BYTES + 1), "")
    assert big.status_code == 413, big.content[:300]
    assert set(big.json()) == {"error", "detail", "fields"} and "file" in big.json()["fields"]
    empty = upload(partner, world["a_issue"], "empty.txt", b"", "text/plain")
    assert empty.status_code == 422 and "file" in empty.json()["fields"]
    missing = partner.post(f"{V1}/issues/{world['a_issue']}/attachments", {})
    assert missing.status_code == 422
    assert fingerprint() == before
    exact = upload(partner, world["a_issue"], "exact.bin", b"1" * IssueAttachment.MAX_BYTES, "")
    assert exact.status_code == 201 and exact.json()["content_type"] == "application/octet-stream"


def test_odd_file_names_and_types_are_stored_safely(world, api, partner_a_user) -> None:
    partner = api(partner_a_user)
    for name, kind in (
        ("", "text/plain"),
        ("\x00evil.txt", "text/plain"),
        ("../../etc/passwd", "text/plain; charset=utf-8"),
        ("é" * 300 + ".pdf", "application/pdf"),
        ("x.bin", "not a type"),
    ):
        response = upload(partner, world["a_issue"], name or "blank", b"data", kind)
        assert response.status_code == 201, (name, response.content)
        stored = IssueAttachment.objects.get(pk=response.json()["id"])
        assert "\x00" not in stored.name and "/" not in stored.name and len(stored.name) <= 200
        assert "/" in stored.content_type and len(stored.content_type) <= 100


# -- SLAs --------------------------------------------------------------------------------------
def test_severity_slas(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)
    defaults = get(api(partner_a_user), "/severity-slas")
    assert [row["severity"] for row in defaults] == ["critical", "high", "medium", "low"]
    assert all(row["default"] for row in defaults)
    body = {"slas": [{"severity": "high", "response_hours": 4, "resolution_hours": 48}]}
    saved = {row["severity"]: row for row in send(staff, "put", "/severity-slas", body)}
    assert saved["high"]["resolution_hours"] == 48 and saved["high"]["default"] is False
    assert saved["low"]["default"] is True
    refused(api(partner_a_user), "put", "/severity-slas", body, 403)
    for bad in (
        {"slas": [{"severity": "high", "response_hours": 0, "resolution_hours": 48}]},
        {"slas": [{"severity": "high", "response_hours": 50, "resolution_hours": 48}]},
        {"slas": [{"severity": "urgent", "response_hours": 1, "resolution_hours": 2}]},
        {"slas": [body["slas"][0], body["slas"][0]]},
        {"slas": [{"severity": "high", "response_hours": 2**40, "resolution_hours": 2}]},
    ):
        refused(staff, "put", "/severity-slas", bad, 422)


# -- malformed requests ------------------------------------------------------------------------
def test_malformed_requests_are_4xx(world, api, channel_manager, partner_a_user) -> None:
    staff = api(channel_manager)
    for raw in ("{", "[]", "null", '"text"', json.dumps({"title": "x" * 1_000_000})):
        for path in ("/issues", "/meetings", "/key-people", "/handovers"):
            before = fingerprint()
            response = call(staff, "post", V1 + path, raw=raw)
            assert 400 <= response.status_code < 500, (path, raw[:20], response.content[:200])
            assert set(response.json()) == {"error", "detail", "fields"}
            assert fingerprint() == before
    for path in (
        "/issues/0",
        "/issues/abc",
        f"/issues/{2**64}",
        "/meetings/-1",
        f"/relationships/{2**63}",
        "/relationships/1e3/roles",
        f"/key-people/{2**70}",
    ):
        assert 400 <= api(channel_manager).get(V1 + path).status_code < 500, path
    get(staff, "/issues/999999999", 404)
    get(staff, "/relationships/999999999", 404)
    refused(api(partner_a_user), "post", "/issues/999999999/respond", {"note": "x"}, 404)


def test_lists_read_a_fixed_number_of_queries(
    world, api, channel_manager, partner_a_user, partner_a, django_assert_max_num_queries
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    owner = Contact.objects.get(pk=world["a_partner"])
    for number in range(12):
        Issue.objects.create(
            organisation=partner_a,
            title=f"Issue {number}",
            category="other",
            severity="low",
            raised_side="vendor",
            owner=owner,
        )
        ActionItem.objects.create(
            organisation=partner_a, title=f"Do {number}", owner=owner, due_on=timezone.localdate()
        )
        meeting = Meeting.objects.create(
            organisation=partner_a, title=f"M {number}", tier="working", starts_at=timezone.now()
        )
        meeting.attendees.set([owner, vendor_person(f"V {number}")])
    for function in Function.values[1:]:
        ContactSlot.objects.create(
            organisation=partner_a,
            tier="executive",
            function=function,
            vendor_contact=vendor_person(f"Exec {function}"),
            partner_contact=owner,
        )
    for client in (staff, partner):
        for path in (
            "/relationships",
            "/issues",
            "/meetings",
            "/action-items",
            "/key-people",
            "/health-surveys",
            "/handovers",
            "/onboarding-plans",
            f"/relationships/{partner_a.pk}/contact-map",
        ):
            with django_assert_max_num_queries(12):
                get(client, path)


# -- hostile values in every field of every write ---------------------------------------------
HOSTILE = ["a\x00b", 2**64, -1, 0, 1.5, True, None, [], {}, "x" * 100_000, "nonsense", "\ud800"]


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if not case.is_read and case.body and not case.multipart],
    ids=lambda case: case.name,
)
def test_hostile_values_in_any_field_are_never_a_500(request, world, api, case) -> None:
    client = api(request.getfixturevalue(case.editor))
    body = case.body(world)
    for key in body:
        for value in HOSTILE:
            response = call(client, case.method, case.path(world), {**body, key: value})
            assert response.status_code < 500, (case.name, key, repr(value)[:40])
            if response.status_code >= 400:
                assert set(response.json()) == {"error", "detail", "fields"}
