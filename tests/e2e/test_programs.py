"""In a real browser: a program's page and distribution chart, a run's "why?" opened in
place, the draft editor adding a criterion, a preview evaluation from the Evaluate form,
and a partner's "My tier" switched to Chinese; screenshots for the docs."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

import accord.demo
from accord.channel.services import record_sales_lines
from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from accord.programs import services
from accord.programs.evaluation import in_scope
from accord.programs.loader import load, read
from accord.programs.models import EvaluationRun, Membership, Program, ProgramVersion
from tests.channel.factories import CertificationFactory, sales_line
from tests.e2e.conftest import Session
from tests.e2e.test_kpis import metrics, sales  # noqa: F401  (the KPI pages' fixtures)
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = pytest.mark.browser
ADMIN = "admin@accord.demo"
PARTNER = "admin@huanan.demo"
OWN = "华南电子分销有限公司"
CODE = "partner-program"


def quarter_ends(today: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` quarter ends before ``today``, oldest first."""
    first_month = (today.month - 1) // 3 * 3 + 1
    end = dt.date(today.year, first_month, 1) - dt.timedelta(days=1)
    ends = []
    for _index in range(count):
        ends.append(end)
        end = dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1) - dt.timedelta(days=1)
    return list(reversed(ends))


def month_start(day: dt.date, back: int) -> dt.date:
    """The first day of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def lines(organisation: Organisation, amount: int, months: list[dt.date]) -> list[Any]:
    return [
        sales_line(
            organisation,
            date=month + dt.timedelta(days=14),
            amount=Decimal(amount),
            quantity=Decimal(10),
            unit_price=None,
            order_number=f"big-{month:%Y%m}",
            source_key=f"e2e-big-{organisation.pk}-{month:%Y%m}",
        )
        for month in months
    ]


@pytest.fixture
def program(network: Any, sales: None) -> Program:  # noqa: F811
    """The demo program (accord/demo/programs.toml) applied at the last three quarter ends,
    over the KPI pages' sales plus bigger sellers and certified staff, so that every tier,
    a grace period and early warnings show."""
    load(actor=None, data=read(Path(accord.demo.__file__).parent / "programs.toml"))
    program = Program.objects.get(code=CODE)
    ends = quarter_ends(timezone.localdate(), 3)
    earned = month_start(ends[0], 24)
    partners = list(in_scope(program)[:12])
    big = []
    # Ranks 1-4 sell more in the last 14 months: Platinum, Platinum, Gold, Gold.
    for rank, amount in ((1, 90_000), (2, 70_000), (3, 40_000), (4, 25_000)):
        big += lines(partners[rank], amount, [month_start(ends[-1], back) for back in range(14)])
    # Rank 5 sold a lot only a year before the first evaluation: Gold, then a grace period.
    big += lines(partners[5], 160_000, [month_start(ends[0], back) for back in range(6, 12)])
    record_sales_lines(actor=None, lines=big)
    expiring = ends[-1] + dt.timedelta(days=40)  # before the next evaluation
    for rank, people, expires in (
        (0, 1, None),
        (1, 3, None),
        (2, 4, None),
        (3, 2, None),
        (4, 3, expiring),
        (5, 2, None),
    ):
        for _person in range(people):
            CertificationFactory(organisation=partners[rank], earned_on=earned, expires_on=expires)
    for as_of in ends:
        services.evaluate_program(actor=None, program=program, as_of=as_of)
    return program


def no_errors(session: Session) -> None:
    assert not session.csp_violations(), session.console
    assert not [line for line in session.console if line.startswith("pageerror")], session.console


@pytest.mark.screenshots
def test_program_run_why_editor_and_preview(
    session: Session, program: Program, screenshot_dir: Path
) -> None:
    page = session.page
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/programs/")
    assert page.locator(f"tr[data-program='{CODE}']").is_visible()

    # The program: tiers, the latest run, the Plotly distribution chart under the CSP.
    session.goto(f"/programs/{CODE}/")
    page.wait_for_selector("#distribution-chart .main-svg")
    assert page.locator("#tier-rows tr").count() == 4
    assert "Revenue ≥ 750,000" in page.locator("#tier-rows tr[data-tier='gold']").inner_text()
    bars = page.locator("#distribution-chart .point").count()
    assert bars >= 2
    shoot(session, screenshot_dir, "program-detail", full_page=True)

    # A run's results: "why?" opens the explanation under its row, and closes again.
    run = program.runs.filter(applied=True).order_by("-as_of").first()
    session.goto(f"/programs/{CODE}/runs/{run.pk}/")
    rows = page.locator("#result-rows tr[data-organisation]").count()
    assert rows == min(run.organisation_count, 25)  # one page
    first = page.locator("#result-rows a.why-link").first
    organisation_id = first.get_attribute("data-why")
    with page.expect_response(lambda r: "/why/" in r.url):
        first.click()
    row = page.locator(f"#why-{organisation_id}")
    row.locator(".why-panel").wait_for()
    assert row.is_visible()
    panel = row.inner_text()
    assert "Values as of" in panel and "Platinum" in panel and "Registered" in panel
    result = run.results.get(organisation_id=int(organisation_id))
    assert result.get_outcome_display() in panel
    shoot(session, screenshot_dir, "program-run", full_page=True)
    first.click()
    assert row.is_hidden()

    # The draft editor: add a criterion to Silver (tier 2) and save.
    session.goto(f"/programs/{CODE}/edit/")
    page.fill("input[name='t1-name']", "Silver partner")  # typed before adding a row: kept
    page.click("button[name='op'][value='add-criterion-1']")
    page.wait_for_selector("select[name='t1-c1-metric']")
    assert page.input_value("input[name='t1-name']") == "Silver partner"
    page.select_option("select[name='t1-c1-metric']", "orders")
    page.select_option("select[name='t1-c1-comparator']", "gte")
    page.fill("input[name='t1-c1-threshold']", "12")
    assert page.locator("input[name='t1-c1-window_other']").is_hidden()
    page.select_option("select[name='t1-c1-window_choice']", "other")
    assert page.locator("input[name='t1-c1-window_other']").is_visible()
    page.fill("input[name='t1-c1-window_other']", "trailing_9")
    page.locator("#tier-1").scroll_into_view_if_needed()
    shoot(session, screenshot_dir, "program-editor")
    with page.expect_navigation():
        page.click("#save-draft")
    assert "Draft version 2 was saved." in page.locator(".messages").inner_text()
    draft = ProgramVersion.objects.get(program=program, status=ProgramVersion.Status.DRAFT)
    silver = services.version_content(draft)["tiers"][1]
    assert silver["name"] == "Silver partner"
    assert silver["criteria"][1] == {
        "metric": "orders",
        "comparator": "gte",
        "threshold": "12",
        "window": "trailing_9",
    }

    # A preview evaluation from the program page: a run that changes nothing.
    memberships = list(Membership.objects.values_list("organisation_id", "tier_code"))
    session.goto(f"/programs/{CODE}/")
    as_of = timezone.localdate() - dt.timedelta(days=1)
    page.fill("#id_as_of", as_of.isoformat())
    page.check("input[name='mode'][value='preview']")
    with page.expect_navigation():
        page.click("#evaluate-submit")
    assert re.search(rf"/programs/{CODE}/runs/\d+/$", page.url)
    preview = EvaluationRun.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert not preview.applied and preview.as_of == as_of
    assert "preview" in page.locator("h1").inner_text()
    assert list(Membership.objects.values_list("organisation_id", "tier_code")) == memberships

    # One organisation: its tier over time.
    huanan = Organisation.objects.get(name=OWN)
    session.goto(f"/programs/{CODE}/organisations/{huanan.pk}/")
    page.wait_for_selector("#timeline-chart .main-svg")
    assert page.locator("#history-rows tr").count() >= 1
    no_errors(session)


@pytest.mark.screenshots
def test_partner_sees_my_tier_in_english_and_chinese(
    session: Session, program: Program, screenshot_dir: Path
) -> None:
    page = session.page
    huanan = Organisation.objects.get(name=OWN)
    membership = Membership.objects.get(program=program, organisation=huanan)
    tier = program.versions.get(status="published").tiers.get(code=membership.effective_tier())
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/programs/")
    with page.expect_navigation():
        page.select_option("#language-switcher select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    cards = page.locator("#my-tiers .tier-card")
    assert cards.count() == 1
    assert page.locator(".tier-badge").inner_text() == tier.name
    text = cards.first.inner_text()
    assert "Benefits" in text and "As evaluated on" in text
    shoot(session, screenshot_dir, "program-my-tier", full_page=True)

    with page.expect_navigation():
        page.select_option("#language-switcher select[name=language]", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator(".tier-badge").inner_text() == tier.name_zh
    assert "Accord 合作伙伴计划" in page.locator("#my-tiers").inner_text()
    shoot(session, screenshot_dir, "program-my-tier-zh", full_page=True)

    # Another partner's page in the program is not there; runs are not for partners.
    other = Organisation.objects.get(name="Northwind Retail Inc.")
    assert session.goto(f"/programs/{CODE}/organisations/{other.pk}/").status == 404
    assert session.goto(f"/programs/{CODE}/runs/").status == 403
    for name in ("program-my-tier", "program-my-tier-zh"):
        path = screenshot_dir / f"{name}.png"
        assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 10_000
    no_errors(session)
