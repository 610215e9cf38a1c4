"""In a real browser, on the demo network with its governance: the channel manager's dashboard
(the QBR Northwind missed, the escalations, the misaligned relationships), 华南电子分销's
separated roles and contact map, the issue that climbed to the executives with its history,
Atlas's two-sided health check, and the public survey page a partner respondent answers with
the link `accord demo` prints, without an account. Then a partner administrator, in Chinese,
sees only its own relationship and raises an issue. Screenshots: governance-dashboard.png,
relationship-structure.png, relationship-contacts.png, issue-escalated.png, health-check.png,
survey-answer.png."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accord.demo.governance import GovernanceSummary, load_demo_governance
from accord.demo.network import DEMO_PASSWORD, load_demo_network
from accord.governance.models import HealthResponse, Issue, Tier
from accord.partners.models import Organisation
from tests.e2e.conftest import DEMO_ORGANISATIONS, Session
from tests.e2e.test_deals import (
    assert_glyphs,
    in_page_language,
    log_out,
    no_errors,
    switch_language,
)
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = pytest.mark.browser
MANAGER = "channel@accord.demo"
PARTNER = "admin@huanan.demo"
SHOTS = (
    "governance-dashboard",
    "relationship-structure",
    "relationship-contacts",
    "issue-escalated",
    "health-check",
    "survey-answer",
)


@pytest.fixture
def governed(transactional_db: None) -> GovernanceSummary:
    """The demo network with its channel data and program (partner tiers choose the weekly
    calls), then its governance, loaded as `accord demo` does up to today."""
    seed = importlib.import_module("accord.metrics.migrations.0002_builtin_metrics").seed
    seed(django_apps, None)  # a transactional test's flush removes what migrations seeded
    load_demo_network(DEMO_ORGANISATIONS, method="bulk", channel=True, programs=True)
    summary = load_demo_governance(timezone.localdate())
    assert summary.refusals == [] and summary.survey_link
    return summary


def featured(index: int) -> Organisation:
    return Organisation.objects.get(external_key=f"demo-{index + 1:06d}")


def figure(session: Session, name: str) -> int:
    return int(session.page.locator(f"#figure-{name} .figure-value").inner_text())


@pytest.mark.screenshots
def test_the_governance_pages_and_the_public_survey(
    session: Session, governed: GovernanceSummary, screenshot_dir: Path
) -> None:
    page = session.page
    huanan, northwind, atlas = featured(0), featured(10), featured(11)
    session.log_in(MANAGER, DEMO_PASSWORD)

    # The dashboard: the missed QBR, issues up the tiers, the two misaligned relationships.
    session.goto("/governance/")
    switch_language(session, "en")
    assert figure(session, "overdue-meetings") == 1
    overdue = page.locator("#overdue-meetings").inner_text()
    assert "Quarterly business review" in overdue and northwind.name in overdue
    assert figure(session, "escalations") >= 2
    assert figure(session, "misaligned") == 2
    assert figure(session, "roles") == 2
    executive = page.locator("#escalations-table tr[data-tier='executive'] td[data-open]")
    assert int(executive.get_attribute("data-open")) >= 1
    page.locator("#chart-escalations .main-svg").first.wait_for()
    shoot(session, screenshot_dir, "governance-dashboard", full_page=True)
    no_errors(session)

    # 华南电子分销: four roles held by four people, key people with backups.
    session.goto(f"/governance/relationships/{huanan.pk}/?tab=structure")
    roles = page.locator("#roles-form").inner_text()
    selected = page.locator("#roles-form select").evaluate_all(
        "(selects) => selects.map((s) => s.options[s.selectedIndex].text)"
    )
    assert len(selected) == 4 and len({text.split(" · ")[0] for text in selected}) == 4
    assert "Service delivery management" in roles
    assert "王伟 (Wang Wei)" in page.locator("#key-people").inner_text()
    shoot(session, screenshot_dir, "relationship-structure", full_page=True)

    # Its contact map: a named peer on each side at each tier.
    session.goto(f"/governance/relationships/{huanan.pk}/?tab=contacts")
    contact_map = page.locator("#contact-map")
    text = contact_map.inner_text()
    for name in ("Erin Executive", "黄志强", "Chris Channel", "李娜 (Li Na)", "陈晓燕"):
        assert name in text, name
    assert contact_map.locator("td.map-filled").count() == 4
    shoot(session, screenshot_dir, "relationship-contacts", full_page=True)
    no_errors(session)

    # The critical delivery issue climbed twice on its SLA and sits with the executives.
    issue = Issue.objects.get(organisation=huanan, tier=Tier.EXECUTIVE)
    session.goto(f"/governance/issues/{issue.pk}/")
    assert "Executive" in page.locator("#current-tier").inner_text()
    escalations = page.locator("#events li[data-kind='escalated']")
    assert escalations.count() == 2
    assert "Operational management" in escalations.first.inner_text()
    assert "黄志强" in escalations.nth(1).inner_text()  # the partner's executive was told
    shoot(session, screenshot_dir, "issue-escalated", full_page=True)

    # Atlas's health check: the sides differ on communication and trust.
    session.goto(f"/governance/relationships/{atlas.pk}/?tab=health")
    assert page.locator("#misaligned-flag").is_visible()
    comparison = page.locator("#comparison").inner_text()
    assert "Communication effectiveness" in comparison and "beyond the threshold" in comparison
    page.locator("#health-trend .main-svg").first.wait_for()
    shoot(session, screenshot_dir, "health-check", full_page=True)
    no_errors(session)

    # The link `accord demo` printed: a partner respondent answers without an account.
    log_out(session)
    session.goto(governed.survey_link)
    assert "/accounts/login/" not in page.url
    assert huanan.name in page.locator("main").inner_text()
    for code, value in (
        ("communication", 3),
        ("satisfaction", 4),
        ("trust", 4),
        ("compatibility", 4),
        ("goal_alignment", 5),
    ):
        page.check(f"input[name='{code}'][value='{value}']")
    page.select_option("#id_nps", "8")
    page.fill("#id_comment", "Weekly calls help; escalations take too long.")
    shoot(session, screenshot_dir, "survey-answer", full_page=True)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    answered = HealthResponse.objects.get(
        survey__organisation=huanan,
        survey__status="open",
        side="partner",
        answered_at__isnull=False,
    )
    assert answered.communication == 3 and answered.nps == 8
    session.goto(governed.survey_link)  # the link works once
    assert "already" in page.locator("main").inner_text()
    no_errors(session)

    for name in SHOTS:
        path = screenshot_dir / f"{name}.png"
        assert path.read_bytes().startswith(PNG_MAGIC), path
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"


def test_a_partner_in_chinese_sees_its_own_relationship_and_raises_an_issue(
    session: Session, governed: GovernanceSummary
) -> None:
    page = session.page
    huanan, atlas = featured(0), featured(11)
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/governance/")
    switch_language(session, "zh-hans")
    assert page.locator("#figure-open-issues").is_visible()
    assert atlas.name not in page.locator("main").inner_text()
    with page.expect_navigation():
        page.click("#relationship-link")
    assert page.url.endswith(f"/governance/relationships/{huanan.pk}/")
    heading = page.locator("h1").inner_text()
    assert heading == huanan.name
    assert_glyphs(session, "h1", heading)
    tab = in_page_language(session, "Contact map")
    with page.expect_response(lambda r: "tab=contacts" in r.url):
        page.click("a[data-tab='contacts']")
    assert tab in page.locator("a[data-tab='contacts']").inner_text()
    assert "Erin Executive" in page.locator("#contact-map").inner_text()
    no_errors(session)

    # Another partner's relationship does not exist for it.
    response = session.goto(f"/governance/relationships/{atlas.pk}/")
    assert response.status == 404

    # It raises an issue on its own relationship, in Chinese.
    session.goto("/governance/issues/new/")
    form = page.locator("#issue-form")
    assert in_page_language(session, "Severity") in form.inner_text()
    if form.locator("select[name='organisation']").count():
        page.select_option("select[name='organisation']", str(huanan.pk))
    page.fill("input[name='title']", "深圳仓发票与送货单不一致")
    page.select_option("select[name='category']", "commercial")
    page.select_option("select[name='severity']", "high")
    page.fill("textarea[name='description']", "本周三张发票的金额与送货单不符。")
    with page.expect_navigation():
        page.click("#save-issue")
    raised = Issue.objects.get(title="深圳仓发票与送货单不一致")
    assert raised.organisation == huanan and raised.raised_side == "partner"
    assert raised.tier == Tier.WORKING and raised.resolve_by is not None
    assert page.url.endswith(f"/governance/issues/{raised.pk}/")
    assert "深圳仓发票与送货单不一致" in page.locator("h1").inner_text()
    assert in_page_language(session, "Working level") in page.locator("#current-tier").inner_text()
    assert_glyphs(session, "h1", "深圳仓发票与送货单不一致")
    no_errors(session)
