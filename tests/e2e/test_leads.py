"""In a real browser: staff edit the routing rules (htmx: add a rule, change its kind, move
it) and enter a lead, which is offered to the partner holding its territory; the partner
finds it in the inbox and accepts it in Chinese; the lead's page explains the routing.
Screenshots for the docs: lead-rules.png, lead-inbox.png, lead-detail.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from accord.demo.network import DEMO_PASSWORD
from accord.leads import services
from accord.leads.models import Lead, RoutingEvent, RoutingRule
from accord.partners.models import Organisation, TerritoryAssignment
from tests.e2e.conftest import Session
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]
ADMIN = "admin@accord.demo"
PARTNER = "admin@huanan.demo"
OWN = "华南电子分销有限公司"


def in_page_language(session: Session, text: str) -> str:
    """``text`` translated into the language the page is rendered in."""
    with translation.override(session.page.locator("html").get_attribute("lang")):
        return translation.gettext(text)


def switch_language(session: Session, code: str) -> None:
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", code)
    assert session.page.locator("html").get_attribute("lang") == code


def log_out(session: Session) -> None:
    session.page.context.clear_cookies()


def no_errors(session: Session) -> None:
    assert not session.csp_violations(), session.console
    assert not [line for line in session.console if line.startswith("pageerror")], session.console


@pytest.fixture
def routing(network: Any) -> dict[str, Any]:
    """Routing by territory (the exclusive holder first), capacity, then an equal draw; and
    the territory Huanan holds exclusively (Guangzhou in the demo)."""
    services.save_rules(
        actor=None,
        rules=[
            {
                "name": "Territory",
                "kind": "territory",
                "required": True,
                "active": True,
                "params": {"exclusive_first": True},
            },
            {
                "name": "Not overloaded",
                "kind": "capacity",
                "required": False,
                "active": True,
                "params": {"max_open": 20},
            },
            {
                "name": "Draw",
                "kind": "random",
                "required": False,
                "active": True,
                "params": {"weight": "equal"},
            },
        ],
    )
    huanan = Organisation.objects.get(name=OWN)
    assignment = TerritoryAssignment.objects.get(organisation=huanan, exclusive=True)
    return {"huanan": huanan, "territory": assignment.territory}


def test_staff_route_a_lead_that_the_partner_accepts_in_chinese(
    session: Session, routing: dict[str, Any], screenshot_dir: Path
) -> None:
    page = session.page
    territory = routing["territory"]

    # Staff add a performance rule in the editor: htmx adds the row, shows the parameters of
    # the kind chosen, and moves it above the draw, which must stay last.
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/leads/rules/")
    assert page.locator("fieldset.rule-editor").count() == 3
    with page.expect_response(lambda r: r.url.endswith("/leads/rules/")):
        page.click("button.add-rule")
    page.wait_for_selector("select[name='r3-kind']")
    page.fill("input[name='r3-name']", "Reliable partners")
    with page.expect_response(lambda r: r.url.endswith("/leads/rules/")):
        page.select_option("select[name='r3-kind']", "performance")
    page.wait_for_selector("input[name='r3-min_acceptance']")
    assert page.input_value("input[name='r3-name']") == "Reliable partners"  # kept
    page.fill("input[name='r3-min_acceptance']", "0.4")
    page.fill("input[name='r3-min_offers']", "5")
    with page.expect_response(lambda r: r.url.endswith("/leads/rules/")):
        page.click("button[name='op'][value='up-3']")
    page.wait_for_function(
        "document.querySelector(\"input[name='r2-name']\").value === 'Reliable partners'"
    )
    assert page.locator("button.nojs-only").first.is_hidden()  # htmx does it instead
    with page.expect_navigation():
        page.click("#save-rules")
    assert "The routing rules were saved." in page.locator(".messages").inner_text()
    saved = list(RoutingRule.objects.order_by("position").values_list("name", "kind", "params"))
    assert saved[2] == (
        "Reliable partners",
        "performance",
        {"min_acceptance": 0.4, "min_offers": 5},
    )
    assert saved[3][1] == "random"
    page.locator("#rule-2").scroll_into_view_if_needed()
    shoot(session, screenshot_dir, "lead-rules", full_page=True)

    # Staff enter a lead in Huanan's exclusive territory: it is offered to Huanan.
    session.goto("/leads/")
    with page.expect_navigation():
        page.click("#new-lead")
    page.fill("#id_company_name", "广州白云智能制造有限公司")
    page.fill("#id_contact_name", "陈静 (Chen Jing)")
    page.fill("#id_contact_email", "chen.jing@baiyun-mfg.example")
    page.fill("#id_country", "CN")
    page.fill("#id_city", territory.name)
    page.select_option("#id_territory", str(territory.pk))
    page.fill("#id_product_line", "Industrial routers")
    page.fill("#id_value", "380000")
    page.fill("#id_currency", "CNY")
    with page.expect_navigation():
        page.click("#save-lead")
    lead = Lead.objects.get(company_name="广州白云智能制造有限公司")
    assert page.url.endswith(f"/leads/{lead.pk}/")
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to == routing["huanan"]
    assert f"was offered to {OWN}" in page.locator(".messages").inner_text()
    assert OWN in page.locator("#assigned-to").inner_text()
    history = page.locator("#routing-history").inner_text()
    assert re.search(r"Territory \(required\): \d+ → 1 partners in .*the exclusive holder", history)
    no_errors(session)

    # Huanan's administrator finds it in the inbox, with the time left to accept.
    log_out(session)
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/leads/")
    switch_language(session, "en")
    card = page.locator(f"#inbox li[data-lead='{lead.pk}']")
    assert card.is_visible()
    assert "广州白云智能制造有限公司" in card.inner_text()
    assert re.search(r"(1\sday,\s23\shours|2\sdays) left to accept", card.inner_text())
    shoot(session, screenshot_dir, "lead-inbox", full_page=True)

    # ... and accepts it in Chinese.
    switch_language(session, "zh-hans")
    card = page.locator(f"#inbox li[data-lead='{lead.pk}']")
    assert "小时" in card.locator(".time-left").inner_text()  # Django's own Chinese "hours"
    with page.expect_navigation():
        card.locator("button.accept-lead").click()
    assert page.url.endswith(f"/leads/{lead.pk}/")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ACCEPTED and lead.accepted_at is not None
    status = page.locator(".lead-status").first.inner_text()
    assert status == in_page_language(session, "Accepted")
    assert page.locator("#accept-lead").count() == 0
    session.goto("/leads/")
    assert page.locator("#inbox-count").inner_text() == "0"
    assert page.locator(f"#accepted-rows tr[data-lead='{lead.pk}']").is_visible()
    no_errors(session)

    # Staff see the whole story on the lead's page: the offer explained, the acceptance.
    log_out(session)
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto(f"/leads/{lead.pk}/")
    kinds = page.locator("#events > li").evaluate_all("(items) => items.map(i => i.dataset.kind)")
    assert kinds == [RoutingEvent.Kind.OFFERED, RoutingEvent.Kind.ACCEPTED]
    offer = page.locator("#events > li").first.inner_text()
    assert "Reliable partners (optional)" in offer and "Drew 0." in offer
    shoot(session, screenshot_dir, "lead-detail", full_page=True)
    for name in ("lead-rules", "lead-inbox", "lead-detail"):
        path = screenshot_dir / f"{name}.png"
        assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 10_000
    no_errors(session)
