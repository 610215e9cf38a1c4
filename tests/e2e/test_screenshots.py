"""Screenshots of the main pages for the README and docs (docs/screenshots/*.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from tests.e2e.conftest import Session

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shoot(session: Session, directory: Path, name: str, *, full_page: bool = False) -> Path:
    session.page.wait_for_load_state("networkidle")
    path = directory / f"{name}.png"
    session.page.screenshot(path=str(path), full_page=full_page)
    return path


def test_screenshots_of_the_main_pages(
    session: Session, network: Any, screenshot_dir: Path
) -> None:
    session.goto("/accounts/login/")
    written = [shoot(session, screenshot_dir, "login")]

    session.log_in("admin@accord.demo", DEMO_PASSWORD)
    session.goto("/organisations/")
    written.append(shoot(session, screenshot_dir, "organisations"))

    huanan = Organisation.objects.get(name="华南电子分销有限公司")
    session.goto(f"/organisations/{huanan.pk}/")
    written.append(shoot(session, screenshot_dir, "organisation_detail", full_page=True))
    session.goto(f"/organisations/{huanan.pk}/?tab=agreements")
    written.append(shoot(session, screenshot_dir, "organisation_agreements", full_page=True))

    session.goto("/territories/")
    written.append(shoot(session, screenshot_dir, "territories"))

    session.goto("/accounts/tokens/")
    session.page.fill("main form input[name=name]", "ERP sync")
    with session.page.expect_navigation():
        session.page.click("main form.card button[type=submit]")
    assert "acc_" in session.page.locator("main").inner_text()  # the secret, shown once
    written.append(shoot(session, screenshot_dir, "tokens"))

    session.goto("/organisations/")
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "zh-hans")
    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    written.append(shoot(session, screenshot_dir, "organisations_zh"))

    for path in written:
        assert path.read_bytes().startswith(PNG_MAGIC), path
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"
    assert not session.csp_violations(), session.console
