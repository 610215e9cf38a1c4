"""Review: every governance page in Chinese (``django_language=zh-hans``) for partner A's
administrator and a channel manager answers 200, and the navigation, headings, table headers,
labels and buttons show no English UI string (a text that is a msgid of the catalogue, or a
run of plain English words that is not data).
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accord.governance.models import ActionItem, GovernanceSettings, Meeting, Tier
from accord.governance.services import issues
from tests.governance.builders import governed

pytestmark = pytest.mark.django_db
PO = Path(__file__).resolve().parents[2] / "accord/locale/zh_Hans/LC_MESSAGES/django.po"
WATCHED = {"h1", "h2", "h3", "th", "label", "button", "nav", "legend", "summary", "caption"}


def _msgids() -> set[str]:
    """Single-line msgids whose Chinese differs from the English (acronyms such as "SLA"
    stay as they are in both)."""
    text = PO.read_text(encoding="utf-8")
    ids = set()
    for match in re.finditer(r'^msgid "(.+)"\nmsgstr "(.*)"$', text, flags=re.M):
        if match.group(1) != match.group(2):
            ids.add(match.group(1).replace('\\"', '"'))
    return ids


class _Texts(HTMLParser):
    """Text inside the watched elements."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in WATCHED:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in WATCHED and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if self.depth and text:
            self.found.append(text)


def english_ui(html: str, msgids: set[str], data: set[str]) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    assert any(re.search(r"[\u4e00-\u9fff]", text) for text in parser.found), parser.found
    bad = []
    for text in parser.found:
        if text in data or any(text in name or name in text for name in data):
            continue
        if text in msgids or re.fullmatch(r"[A-Z][a-z]+( [a-z]+)+", text):
            bad.append(text)
    return bad


@pytest.fixture
def pages(vendor, partner_a, partner_b) -> dict[str, Any]:
    GovernanceSettings.current()
    a = governed(partner_a)
    governed(partner_b)
    meeting = Meeting.objects.create(
        organisation=partner_a,
        title="Review",
        tier=Tier.WORKING,
        starts_at=timezone.now() - dt.timedelta(days=1),
    )
    meeting.attendees.set([a["vendor"][0], a["partner"][0]])
    ActionItem.objects.create(
        organisation=partner_a,
        title="Send forecast",
        owner=a["partner"][0],
        due_on=timezone.localdate(),
        meeting=meeting,
    )
    issue = issues.raise_issue(
        actor=None, organisation=partner_a, title="Late", category="delivery", severity="high"
    )
    org = partner_a.pk
    urls = [
        "/governance/",
        "/governance/relationships/",
        "/governance/issues/",
        "/governance/coverage/",
        "/governance/handovers/",
        f"/governance/issues/new/?organisation={org}",
        f"/governance/issues/{issue.pk}/",
        f"/governance/meetings/{meeting.pk}/",
        "/governance/calendar/",
    ]
    for tab in (
        "structure",
        "contacts",
        "cadence",
        "meetings",
        "health",
        "issues",
        "continuity",
        "onboarding",
        "enablement",
    ):
        urls.append(f"/governance/relationships/{org}/?tab={tab}")
    vendor_only = [
        "/governance/handovers/new/",
        "/governance/settings/",
        "/governance/cadences/",
        "/governance/slas/",
        "/governance/onboarding-templates/",
        "/governance/courses/",
    ]
    names = {c.full_name for c in a["vendor"] + a["partner"]}
    data = names | {
        partner_a.name,
        partner_b.name,
        "Review",
        "Send forecast",
        "Late",
        "Sponsor",
        "Account lead",
        vendor.name,
    }
    return {"urls": urls, "vendor_only": vendor_only, "data": data}


# UI strings found in English on Chinese pages at review time (catalogue gaps for the i18n
# helper; the catalogue is not ours to edit). Keep this list empty when they are translated.
KNOWN_ENGLISH: set[str] = set()


@pytest.mark.parametrize("who", ["partner_a_user", "channel_manager"])
def test_pages_in_chinese(who, pages, login, request) -> None:
    user = request.getfixturevalue(who)
    client = login(user)
    client.cookies["django_language"] = "zh-hans"
    msgids = _msgids()
    urls = pages["urls"] + (pages["vendor_only"] if who == "channel_manager" else [])
    found: dict[str, list[str]] = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert 'lang="zh-hans"' in response.content.decode() or "zh" in response["Content-Language"]
        bad = [
            t
            for t in english_ui(response.content.decode(), msgids, pages["data"])
            if t not in KNOWN_ENGLISH
        ]
        if bad:
            found[url] = bad
    assert not found, found


def test_partner_vendor_only_pages_refused_in_chinese(pages, login, partner_a_user) -> None:
    client = login(partner_a_user)
    client.cookies["django_language"] = "zh-hans"
    for url in pages["vendor_only"]:
        assert client.get(url).status_code == 403, url
