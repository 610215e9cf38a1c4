"""In a real browser: a partner sees only its own network, gets 404 elsewhere, reads Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from tests.e2e.conftest import Session

pytestmark = pytest.mark.browser

PARTNER = "admin@huanan.demo"
OWN = "华南电子分销有限公司"
CHILD = "深圳星河数码科技有限公司"
OTHERS = ("Northwind Retail Inc.", "Atlas Distribution GmbH", "华东恒通商贸有限公司")


def chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def in_page_language(session: Session, text: str) -> str:
    """``text`` translated into the language the page is rendered in."""
    with translation.override(session.page.locator("html").get_attribute("lang")):
        return translation.gettext(text)


def list_text(session: Session) -> str:
    return session.page.locator("main").inner_text()


def test_partner_sees_only_their_network(session: Session, network: Any) -> None:
    session.log_in(PARTNER, DEMO_PASSWORD)
    response = session.goto("/organisations/")
    assert response.status == 200

    text = list_text(session)
    assert OWN in text
    assert CHILD in text  # its resellers are part of its network
    for other in OTHERS:
        assert other not in text
    assert not session.csp_violations(), session.console


def test_another_organisations_page_is_not_found(session: Session, network: Any) -> None:
    own = Organisation.objects.get(name=OWN)
    other = Organisation.objects.get(name="Northwind Retail Inc.")
    session.log_in(PARTNER, DEMO_PASSWORD)

    response = session.goto(f"/organisations/{own.pk}/")
    assert response.status == 200
    assert OWN in session.page.locator("h1").first.inner_text()

    response = session.goto(f"/organisations/{other.pk}/")
    assert response.status == 404
    body = session.page.locator("main").inner_text()
    assert in_page_language(session, "Not found") in body
    assert "Northwind" not in body  # not even the name leaks
    # The same for an id that does not exist at all: the two are indistinguishable.
    missing = session.goto("/organisations/999999/")
    assert missing.status == 404
    assert session.page.locator("main").inner_text() == body
    assert not session.csp_violations(), session.console


def test_switching_to_simplified_chinese(session: Session, network: Any) -> None:
    translated = chinese("Organisations")
    assert translated != "Organisations", "the zh-hans catalogue lacks 'Organisations'"
    session.log_in("viewer@northwind.demo", DEMO_PASSWORD)  # a user who reads English
    session.goto("/organisations/")
    assert session.page.locator("html").get_attribute("lang") == "en"
    assert "Organisations" in session.page.locator("nav").first.inner_text()

    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "zh-hans")

    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    assert translated in session.page.locator("nav").first.inner_text()
    assert chinese("Log out") != "Log out"
    assert "Northwind Retail Inc." in list_text(session)
    # The choice sticks for the next page, and switching back works.
    session.goto("/territories/")
    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "en")
    assert session.page.locator("html").get_attribute("lang") == "en"
    assert not session.csp_violations(), session.console


def test_a_chinese_partner_gets_the_chinese_ui_at_login(session: Session, network: Any) -> None:
    session.log_in(PARTNER, DEMO_PASSWORD)  # the demo gives this user zh-hans
    session.goto("/organisations/")
    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    assert chinese("Organisations") in session.page.locator("nav").first.inner_text()
    assert OWN in list_text(session)
    assert not session.csp_violations(), session.console


def test_login_page_has_no_csp_violations_and_rejects_bad_passwords(
    session: Session, network: Any
) -> None:
    session.goto("/accounts/login/")
    session.page.fill("input[name=username]", PARTNER)
    session.page.fill("input[name=password]", "not-the-password")
    with session.page.expect_navigation():
        session.page.click("form[action$='/accounts/login/'] button[type=submit]")
    assert "/accounts/login/" in session.page.url
    assert session.page.locator("[role=alert]").count() >= 1
    assert not session.csp_violations(), session.console
