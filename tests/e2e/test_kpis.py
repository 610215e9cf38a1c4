"""In a real browser: the KPI table sorts and exports, an organisation's Plotly charts render
under the strict CSP, a partner sees only its own rows; screenshots for the docs."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accord.channel.services import record_sales_lines
from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from tests.channel.factories import DeliveryFactory, SurveyResponseFactory, sales_line
from tests.e2e.conftest import Session
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = pytest.mark.browser
CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def metrics(transactional_db: None) -> None:
    """The built-in definitions: a transactional test's flush removes what migrations seeded."""
    seed = importlib.import_module("accord.metrics.migrations.0002_builtin_metrics").seed
    seed(django_apps, None)


ADMIN = "admin@accord.demo"
PARTNER = "admin@huanan.demo"
OWN = "华南电子分销有限公司"


@pytest.fixture
def sales(network: Any) -> None:
    """Two years of sell-in and sell-through, deliveries and surveys for a dozen partners,
    so that the charts and the table have something to show."""
    today = timezone.localdate()
    first = dt.date(today.year - 2, today.month, 1)
    partners = list(Organisation.objects.exclude(kind=Organisation.Kind.VENDOR).order_by("pk")[:12])
    lines, deliveries, surveys = [], [], []
    for rank, organisation in enumerate(partners):
        rng = random.Random(organisation.external_key)
        size = Decimal(40_000 - rank * 2_500)
        for month in range(25):
            start = dt.date(
                first.year + (first.month - 1 + month) // 12, (first.month - 1 + month) % 12 + 1, 1
            )
            if start > today:
                break
            trend = Decimal(1) + Decimal(month) / 40
            for order in range(3):
                day = start + dt.timedelta(days=order * 9)
                if day > today:
                    continue
                amount = (size * trend * Decimal(rng.uniform(0.6, 1.4)) / 3).quantize(CENT)
                for direction, share in (("sell_in", Decimal(1)), ("sell_through", Decimal("0.8"))):
                    lines.append(
                        sales_line(
                            organisation,
                            direction=direction,
                            order_number=f"{direction}-{start:%Y%m}-{order}",
                            date=day,
                            amount=(amount * share).quantize(CENT),
                            quantity=Decimal(rng.randint(5, 40)),
                            unit_price=None,
                            source_key=f"e2e-{organisation.pk}-{direction}-{start:%Y%m}-{order}",
                        )
                    )
                deliveries.append(
                    DeliveryFactory.build(
                        organisation=organisation,
                        promised_date=day,
                        actual_date=day + dt.timedelta(days=rng.choice([-1, 0, 0, 1, 3])),
                        ordered_quantity=Decimal(20),
                        filled_quantity=Decimal(rng.randint(16, 20)),
                    )
                )
                surveys.append(
                    SurveyResponseFactory.build(
                        organisation=organisation,
                        date=day,
                        csat=rng.choice([3, 4, 4, 5, 5]),
                        nps=rng.choice([6, 8, 9, 9, 10]),
                    )
                )
    record_sales_lines(actor=None, lines=lines)
    for delivery in deliveries:
        delivery.save()
    for survey in surveys:
        survey.save()


def kpi_rows(session: Session) -> list[str]:
    return session.page.locator("#kpi-rows tr td:first-child > a").all_inner_texts()


def test_organisation_charts_render_under_the_csp(session: Session, sales: None) -> None:
    huanan = Organisation.objects.get(name=OWN)
    session.log_in(ADMIN, DEMO_PASSWORD)
    response = session.goto(f"/kpis/organisation/{huanan.pk}/")
    assert response.status == 200
    session.page.wait_for_selector("#chart-revenue .main-svg")
    assert session.page.locator(".chart .main-svg").count() >= 3
    # Plotly's hover and mode-bar styles were let in (empty <style> filled via the CSSOM).
    assert session.page.evaluate(
        "() => !!document.getElementById('plotly.js-style-global')"
        " && document.getElementById('plotly.js-style-global').sheet.cssRules.length > 0"
    )
    # The table under the charts opens a value's inputs.
    first = session.page.locator("#kpi-history-rows details.why").first
    if first.count():
        first.locator("summary").click()
        assert first.locator(".why-inputs").is_visible()
    assert not session.csp_violations(), session.console
    assert not [line for line in session.console if line.startswith("pageerror")], session.console


def test_table_sorts_live_and_exports(session: Session, sales: None) -> None:
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/kpis/?period=year")
    names = kpi_rows(session)
    assert len(names) == 25  # one page
    with session.page.expect_response(lambda r: "/kpis/" in r.url and "sort=-name" in r.url):
        session.page.click("th a[data-sort=name]")  # already by name: now descending
    session.page.wait_for_function(
        "first => document.querySelector('#kpi-rows tr td a').textContent !== first", arg=names[0]
    )
    descending = kpi_rows(session)
    assert descending[0] != names[0]
    assert "sort=-name" in session.page.url  # htmx pushed the URL
    with session.page.expect_download() as download:
        session.page.click("#kpi-exports a[data-export=csv]")
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = content.splitlines()
    assert lines[0].startswith("External key,Organisation,")
    assert len(lines) > 26  # every row, not one page
    assert lines[1].split(",")[1] == descending[0] or descending[0] in lines[1]
    assert not session.csp_violations(), session.console


def test_partner_sees_only_its_own_rows(session: Session, sales: None) -> None:
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/kpis/")
    names = set(kpi_rows(session))
    assert OWN in names
    visible = set(
        Organisation.objects.filter(
            path__startswith=Organisation.objects.get(name=OWN).path
        ).values_list("name", flat=True)
    )
    assert names <= visible
    other = Organisation.objects.get(name="Northwind Retail Inc.")
    assert session.goto(f"/kpis/organisation/{other.pk}/").status == 404


@pytest.mark.screenshots
def test_screenshots_of_the_kpi_pages(session: Session, sales: None, screenshot_dir: Path) -> None:
    huanan = Organisation.objects.get(name=OWN)
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/kpis/?period=quarter&sort=-revenue")
    written = [shoot(session, screenshot_dir, "kpis")]
    session.goto(f"/kpis/organisation/{huanan.pk}/")
    session.page.wait_for_selector("#chart-revenue .main-svg")
    written.append(shoot(session, screenshot_dir, "kpi-organisation", full_page=True))
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "zh-hans")
    session.page.wait_for_selector("#chart-revenue .main-svg")
    written.append(shoot(session, screenshot_dir, "kpi-organisation_zh", full_page=True))
    session.goto("/kpis/?period=quarter&sort=-revenue")
    written.append(shoot(session, screenshot_dir, "kpis_zh"))
    for path in written:
        assert path.read_bytes().startswith(PNG_MAGIC), path
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"
    assert not session.csp_violations(), session.console
