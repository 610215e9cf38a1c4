"""In a real browser: upload a file with bad rows (preview + row report, nothing written), then
a good one (imported, its batch page), with upload progress and no CSP errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.channel.models import SalesLine
from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from tests.e2e.conftest import Session
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = pytest.mark.browser

HEADER = "source_key,organisation,direction,date,quantity,amount,currency\n"


def csv_file(name: str, rows: list[str]) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": (HEADER + "\n".join(rows)).encode()}


def choose_and_upload(session: Session, file: dict[str, Any]) -> None:
    page = session.page
    session.goto("/imports/new/")
    page.select_option("select[name=kind]", "sales_lines")
    page.set_input_files("input[name=file]", files=[file])
    with page.expect_navigation(url="**/imports/staged/**"):
        page.click("form.upload-form button[type=submit]")


def test_upload_preview_report_then_import(
    session: Session, network: Any, screenshot_dir: Path
) -> None:
    organisation = Organisation.objects.get(name="Northwind Retail Inc.")
    key = organisation.external_key
    before = SalesLine.objects.count()
    session.log_in("channel@accord.demo", DEMO_PASSWORD)

    bad = csv_file(
        "northwind-march.csv",
        [
            f"E2E-1,{key},sell_through,2026-03-02,2,200.00,USD",
            f"E2E-2,{key},sell_through,2026-03-32,1,80.00,USD",
            "E2E-3,NO-SUCH-KEY,sell_through,2026-03-04,1,80.00,USD",
            f"E2E-4,{key},sell_through,2026-03-05,-3,90.00,USD",
        ],
    )
    choose_and_upload(session, bad)
    page = session.page
    report = page.locator("#report-rows")
    assert report.locator("tr").count() == 3
    assert "2026-03-32" in report.inner_text() and "NO-SUCH-KEY" in report.inner_text()
    assert page.locator("#import-skip-button").is_visible()
    assert page.locator("#import-button").count() == 0
    assert SalesLine.objects.count() == before  # the preview wrote nothing
    path = shoot(session, screenshot_dir, "import-preview", full_page=True)
    assert path.read_bytes().startswith(PNG_MAGIC)

    good = csv_file(
        "northwind-march-fixed.csv",
        [
            f"E2E-1,{key},sell_through,2026-03-02,2,200.00,USD",
            f"E2E-2,{key},sell_through,2026-03-03,1,80.00,USD",
        ],
    )
    choose_and_upload(session, good)
    assert page.locator("#preview-clean").is_visible()
    with page.expect_navigation(url="**/imports/*/"):
        page.click("#import-button")
    assert page.locator("#batch-status").inner_text().strip() == "Applied"
    assert SalesLine.objects.count() == before + 2
    assert not session.csp_violations(), session.console


def test_upload_progress_is_shown(session: Session, network: Any) -> None:
    organisation = Organisation.objects.get(name="Northwind Retail Inc.")
    rows = [
        f"E2E-P{index},{organisation.external_key},sell_through,2026-03-02,1,10.00,USD"
        for index in range(20_000)
    ]
    session.log_in("channel@accord.demo", DEMO_PASSWORD)
    page = session.page
    session.goto("/imports/new/")
    page.select_option("select[name=kind]", "sales_lines")
    page.set_input_files("input[name=file]", files=[csv_file("big.csv", rows)])
    seen: list[tuple[int, bool]] = []
    page.expose_function("reportProgress", lambda value, busy: seen.append((value, busy)))
    page.evaluate(
        """() => document.addEventListener("htmx:xhr:progress", () => {
             const bar = document.getElementById("upload-progress-bar");
             const box = document.querySelector(".upload-progress");
             window.reportProgress(bar.value, !box.hidden);
           })"""
    )
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url("**/imports/staged/**", timeout=120_000)
    assert page.locator("#preview-counts").is_visible()
    assert seen, "no upload progress event"
    assert max(value for value, _ in seen) == 100 and all(shown for _, shown in seen)
    assert not session.csp_violations(), session.console


@pytest.mark.screenshots
def test_screenshot_of_the_upload_page_in_chinese(
    session: Session, network: Any, screenshot_dir: Path
) -> None:
    session.log_in("channel@accord.demo", DEMO_PASSWORD)
    session.goto("/imports/new/")
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "zh-hans")
    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    path = shoot(session, screenshot_dir, "import-new_zh")
    assert path.stat().st_size > 10_000
