"""In a real browser: a partner types a customer into the registration form and the live
panel (htmx) lists the similar approved registration, redacted to "a conflicting registration
exists"; submitted, it waits for a channel manager, who finds it in the approval queue, sees
the conflict side by side and is refused the approval. Once in Chinese, checking the page's
Chinese renders as glyphs, not boxes. Screenshots: deal-new.png, deal-queue.png,
deal-conflict.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation

from accord.deals import services
from accord.deals.models import Conflict, EngagementRules, Registration
from accord.demo.network import DEMO_PASSWORD
from accord.partners.models import Organisation
from tests.channel.factories import ProductFactory
from tests.e2e.conftest import Session
from tests.e2e.test_screenshots import PNG_MAGIC, shoot

pytestmark = pytest.mark.browser
PARTNER = "admin@huanan.demo"
MANAGER = "channel@accord.demo"
HOLDER = "Northwind Retail Inc."
CLOSE = timezone.localdate() + dt.timedelta(days=120)
# Draws each character on a canvas in the page's own font: a font without the glyphs draws
# the same empty box for every one of them, so distinct drawings mean real glyphs.
DISTINCT_GLYPHS = """([selector, chars]) => {
  const font = getComputedStyle(document.querySelector(selector)).fontFamily;
  const drawings = chars.map((ch) => {
    const canvas = document.createElement("canvas");
    canvas.width = 48; canvas.height = 48;
    const context = canvas.getContext("2d");
    context.font = "32px " + font;
    context.fillText(ch, 4, 38);
    return canvas.toDataURL();
  });
  return new Set(drawings).size;
}"""


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


def assert_glyphs(session: Session, selector: str, text: str) -> None:
    chars = sorted({ch for ch in text if "\u4e00" <= ch <= "\u9fff"})
    assert len(chars) >= 3, text
    distinct = session.page.evaluate(DISTINCT_GLYPHS, [selector, chars])
    assert distinct == len(chars), f"{text!r} draws as boxes in {selector}"


@pytest.fixture
def held(network: Any) -> dict[str, Registration]:
    """Northwind's approved registrations: ACME Corp. (Servers) and 华为技术有限公司
    (Storage); products give the form its product lines."""
    for line, name in (
        ("Servers", "R740 server"),
        ("Storage", "Unity array"),
        ("Networking", "Switch"),
    ):
        ProductFactory(product_line=line, name=name)
    holder = Organisation.objects.get(name=HOLDER)
    registrations = {}
    for name, country, line in (
        ("ACME Corp.", "US", "Servers"),
        ("华为技术有限公司", "CN", "Storage"),
    ):
        registration = services.submit_registration(
            actor=None,
            organisation=holder,
            data={
                "customer_name": name,
                "customer_country": country,
                "product_lines": [line],
                "value": "250000",
                "currency": "USD",
                "expected_close": CLOSE,
            },
        )
        assert registration.status == Registration.Status.APPROVED
        registrations[name] = registration
    return registrations


@pytest.fixture
def waiting(held: dict[str, Registration]) -> list[Registration]:
    """More registrations for the queue, decided by hand: one overdue for two days."""
    rules = EngagementRules.current()
    rules.auto_approve = False
    rules.save()
    partners = Organisation.objects.filter(is_vendor=False).exclude(name=HOLDER).order_by("pk")
    now = timezone.now()
    rows = []
    for partner, name, country, line, hours in (
        (partners[3], "Globex Industries", "US", "Networking", 96),
        (partners[4], "深圳市腾飞科技有限公司", "CN", "Storage", 20),
    ):
        rows.append(
            services.submit_registration(
                actor=None,
                organisation=partner,
                data={
                    "customer_name": name,
                    "customer_country": country,
                    "product_lines": [line],
                    "value": "64000",
                    "currency": "USD",
                    "expected_close": CLOSE,
                },
                now=now - dt.timedelta(hours=hours),
            )
        )
    return rows


def fill_registration(session: Session, name: str, country: str, line: str) -> None:
    page = session.page
    page.fill("#id_customer_name", name)
    page.fill("#id_customer_country", country)
    page.check(f"input[name='product_lines'][value='{line}']")
    page.fill("#id_value", "180000")
    page.fill("#id_currency", "USD")
    page.fill("#id_expected_close", CLOSE.isoformat())


@pytest.mark.screenshots
def test_the_live_panel_then_the_conflict_side_by_side(
    session: Session,
    held: dict[str, Registration],
    waiting: list[Registration],
    screenshot_dir: Path,
) -> None:
    page = session.page
    acme = held["ACME Corp."]

    # The partner types the customer: the panel finds the approved ACME Corp., redacted.
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/deals/new/")
    switch_language(session, "en")
    assert "Type the customer" in page.locator("#similar-results").inner_text()
    with page.expect_response(lambda r: r.url.endswith("/deals/similar/")):
        page.fill("#id_customer_name", "Acme Corporation Ltd")
    page.check("input[name='product_lines'][value='Servers']")
    candidate = page.locator("#similar-list li.similar-candidate").first
    candidate.wait_for()
    panel = page.locator("#similar-results").inner_text()
    assert "A conflicting registration exists." in panel
    assert HOLDER not in panel and "ACME Corp." not in panel and acme.number not in panel
    assert Registration.objects.count() == 4  # typing saved nothing
    fill_registration(session, "Acme Corporation Ltd", "US", "Servers")
    with page.expect_navigation():
        page.click("#registration-form button[type=submit]")
    second = Registration.objects.get(customer_name="Acme Corporation Ltd")
    assert page.url.endswith(f"/deals/{second.pk}/")
    assert second.status == Registration.Status.SUBMITTED
    assert page.locator("#registration-status").inner_text() == "Submitted"
    assert "A conflicting registration exists." in page.locator("#conflicts").inner_text()
    assert HOLDER not in page.locator("main").inner_text()
    no_errors(session)

    # A channel manager's panel names the holder, with the score and the reasons.
    log_out(session)
    session.log_in(MANAGER, DEMO_PASSWORD)
    session.goto("/deals/new/")
    fill_registration(session, "ACME Corporation", "US", "Servers")
    page.locator("#similar-list li.similar-candidate").first.wait_for()
    page.wait_for_function(
        "document.querySelector('#similar-list').innerText.includes('Overlapping product lines')"
    )
    panel = page.locator("#similar-results").inner_text()
    assert "ACME Corp." in panel and HOLDER in panel and acme.number in panel
    assert "score 100" in panel and "Similar company name" in panel
    page.locator("h1").click()  # no input focused in the picture
    shoot(session, screenshot_dir, "deal-new", full_page=True)

    # The queue: oldest due first, the conflict count and top score link to the side by side.
    session.goto("/deals/queue/")
    rows = page.locator("#queue-rows tr[data-registration]")
    order = rows.evaluate_all("(rows) => rows.map((row) => Number(row.dataset.registration))")
    assert order == [waiting[0].pk, waiting[1].pk, second.pk]  # the oldest due first
    assert rows.first.get_attribute("data-overdue") == "true"
    row = page.locator(f"#queue-rows tr[data-registration='{second.pk}']")
    assert "Acme Corporation Ltd" in row.inner_text() and "100" in row.inner_text()
    shoot(session, screenshot_dir, "deal-queue", full_page=True)
    with page.expect_navigation():
        row.locator("a.badge").click()
    assert page.url.endswith(f"/deals/{second.pk}/#conflicts")
    conflict = Conflict.objects.get(registration=second, other=acme)
    article = page.locator(f"#conflict-{conflict.pk}")
    name_row = article.locator("tr[data-field='customer_name']")
    assert "match" in name_row.get_attribute("class")
    assert name_row.locator("mark").all_inner_texts() == ["Acme Corporation Ltd", "ACME Corp."]
    assert article.locator("tr[data-field='product_lines'] mark").count() == 2
    assert "Similar company name" in article.locator(".conflict-reasons").inner_text()
    article.scroll_into_view_if_needed()
    shoot(session, screenshot_dir, "deal-conflict", full_page=True)

    # Approving is refused while the conflict stands; the registration stays submitted.
    page.fill("#id_decide-reason", "Looks like a different site")
    with page.expect_navigation():
        page.click("#decide-form button[value='approve']")
    assert "must be resolved first" in page.locator("#decide-form .form-errors").inner_text()
    assert page.locator("#registration-status").inner_text() == "Submitted"
    second.refresh_from_db()
    assert second.status == Registration.Status.SUBMITTED
    for name in ("deal-new", "deal-queue", "deal-conflict"):
        path = screenshot_dir / f"{name}.png"
        assert path.read_bytes().startswith(PNG_MAGIC) and path.stat().st_size > 10_000
    no_errors(session)


def test_registering_in_chinese(session: Session, held: dict[str, Registration]) -> None:
    page = session.page
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/deals/new/")
    switch_language(session, "zh-hans")
    fill_registration(session, "华为技术", "CN", "Storage")
    page.locator("#similar-list li.similar-candidate").first.wait_for()
    panel = page.locator("#similar-results").inner_text()
    assert in_page_language(session, "A conflicting registration exists.") in panel
    assert "华为技术有限公司" not in panel and HOLDER not in panel
    labels = page.locator("#registration-form").inner_text()
    assert in_page_language(session, "End customer") in labels
    assert_glyphs(session, "#registration-form label", in_page_language(session, "End customer"))
    with page.expect_navigation():
        page.click("#registration-form button[type=submit]")
    second = Registration.objects.get(customer_name="华为技术")
    assert second.status == Registration.Status.SUBMITTED
    status = page.locator("#registration-status").inner_text()
    assert status == in_page_language(session, "Submitted")
    assert page.locator("h1").inner_text() == "华为技术"
    assert_glyphs(session, "h1", "华为技术")
    no_errors(session)

    # The channel manager, in Chinese too, sees both names side by side.
    log_out(session)
    session.log_in(MANAGER, DEMO_PASSWORD)
    session.goto(f"/deals/{second.pk}/")
    switch_language(session, "zh-hans")
    table = page.locator("#conflicts table.side-by-side").first
    text = table.inner_text()
    assert "华为技术有限公司" in text and "华为技术" in text
    assert in_page_language(session, "End customer") in text
    assert_glyphs(session, "#conflicts table.side-by-side td", "华为技术有限公司")
    header = in_page_language(session, "History")
    assert header in page.locator("#history h2").inner_text()
    assert_glyphs(session, "#history h2", header)
    no_errors(session)
