"""In a real browser: scorecard pages and the what-if comparison draw their Plotly charts
under the strict CSP, htmx filters the standings, the editor keeps what was typed and adds
rows, a partner sees only its own organisation; screenshots for the docs."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accord.accounts.models import User
from accord.demo.network import DEMO_PASSWORD, load_demo_network
from accord.partners.models import Organisation
from accord.programs import scorecards, services
from accord.programs.models import Program, ScorecardTemplate
from tests.e2e.conftest import DEMO_ORGANISATIONS, Session
from tests.e2e.test_screenshots import PNG_MAGIC, shoot
from tests.factories import OrganisationFactory
from tests.programs.builders import sell_many
from tests.programs.test_scorecard_pages import load_demo_programs

pytestmark = pytest.mark.browser

ADMIN = "admin@accord.demo"
PARTNER = "admin@huanan.demo"
OWN = "华南电子分销有限公司"
SPARSE = "Sparse Trading Co."


def quarter_start(day: dt.date, back: int) -> dt.date:
    """The first day of the quarter ``back`` quarters before the one holding ``day``."""
    index = day.year * 4 + (day.month - 1) // 3 - back
    return dt.date(index // 4, index % 4 * 3 + 1, 1)


@pytest.fixture
def programs(transactional_db: None) -> dict[str, Any]:
    """The demo network with its channel data, the demo program and scorecards scored as of
    today, an organisation with two quiet quarters, and a draft of the program for the
    what-if page."""
    seed = importlib.import_module("accord.metrics.migrations.0002_builtin_metrics").seed
    seed(django_apps, None)  # a transactional test's flush removes what migrations seeded
    load_demo_network(DEMO_ORGANISATIONS, method="bulk", channel=True)
    load_demo_programs()
    today = timezone.localdate()
    sparse = OrganisationFactory(name=SPARSE, kind="reseller", country="DE")
    # Sales in the oldest and the newest scored quarter only: the two between are quiet.
    sell_many(
        [
            (sparse, quarter_start(today, 4) + dt.timedelta(days=20), "180000"),
            (sparse, quarter_start(today, 1) + dt.timedelta(days=20), "320000"),
        ]
    )
    admin = User.objects.get(email=ADMIN)
    for template in ScorecardTemplate.objects.all():
        scorecards.score_scorecard(actor=admin, template=template, as_of=today)
    program = Program.objects.get(code="partner-program")
    services.evaluate_program(
        actor=admin, program=program, as_of=today, apply=True, trigger="manual"
    )
    draft = services.start_draft(actor=admin, program=program)
    content = services.version_content(draft)
    content["tiers"][1]["criteria"][0]["threshold"] = "150000"
    content["tiers"][2]["criteria"][0]["threshold"] = "600000"
    services.save_draft(actor=admin, program=program, content=content)
    return {"sparse": sparse, "own": Organisation.objects.get(name=OWN)}


def rows(session: Session) -> list[str]:
    return session.page.locator("#scorecard-rows tr td:first-child > a").all_inner_texts()


def no_errors(session: Session) -> None:
    assert not session.csp_violations(), session.console
    assert not [line for line in session.console if line.startswith("pageerror")], session.console


def test_scorecard_pages_draw_and_filter(session: Session, programs: dict[str, Any]) -> None:
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/scorecards/")
    with session.page.expect_navigation():
        session.page.click("tr[data-scorecard=partner-scorecard] a")
    session.page.wait_for_selector("#scorecard-distribution .main-svg")
    everyone = rows(session)
    assert SPARSE in everyone
    # htmx: picking a standing swaps the rows and pushes the URL.
    with session.page.expect_response(lambda r: "standing=at-risk" in r.url):
        session.page.select_option("#scorecard-filters select[name=standing]", "at-risk")
    session.page.wait_for_function(
        "n => document.querySelectorAll('#scorecard-rows tr').length !== n", arg=len(everyone)
    )
    assert "standing=at-risk" in session.page.url
    at_risk = session.page.locator("#scorecard-rows tr").all()
    assert at_risk and all(
        row.locator("[data-action=deal_registration]").get_attribute("data-level") == "block"
        for row in at_risk
    )
    # One organisation: the trend chart marks its quiet quarters "no activity".
    session.goto(f"/scorecards/partner-scorecard/organisations/{programs['sparse'].pk}/")
    session.page.wait_for_selector("#scorecard-trend .main-svg")
    labels = session.page.eval_on_selector_all(
        "#scorecard-trend .textpoint text", "texts => texts.map(t => t.textContent)"
    )
    assert labels.count("no activity") == 2
    assert session.page.locator("#overall-inputs .no-activity").count() == 2
    no_errors(session)


def test_editor_keeps_what_was_typed_and_adds_rows(
    session: Session, programs: dict[str, Any]
) -> None:
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/scorecards/partner-scorecard/edit/")
    session.page.fill("input[name=criteria-0-weight]", "30")
    session.page.fill("input[name=criteria-1-points]", "3:0, 4:60, 5:100")
    with session.page.expect_navigation():
        session.page.click("#scorecard-editor button[type=submit]")
    assert "The weights must sum to 100 (they sum to 90)." in session.page.inner_text(
        "#criteria-errors"
    )
    assert session.page.input_value("input[name=criteria-1-points]") == "3:0, 4:60, 5:100"
    # "Add a criterion" copies the empty row and counts it.
    before = int(session.page.input_value("#id_criteria-TOTAL_FORMS"))
    session.page.click("button[data-add-row=criteria]")
    assert int(session.page.input_value("#id_criteria-TOTAL_FORMS")) == before + 1
    session.page.select_option(f"select[name=criteria-{before}-metric]", "orders")
    session.page.fill(f"input[name=criteria-{before}-weight]", "10")
    session.page.fill(f"input[name=criteria-{before}-points]", "0:0, 10:100")
    with session.page.expect_navigation():
        session.page.click("#scorecard-editor button[type=submit]")
    assert session.page.url.endswith("/scorecards/partner-scorecard/")
    template = ScorecardTemplate.objects.get(code="partner-scorecard")
    assert [(c.metric, c.weight) for c in template.criteria.all()] == [
        ("revenue", 30),
        ("csat", 30),
        ("certified_staff", 30),
        ("orders", 10),
    ]
    no_errors(session)


def test_partner_sees_only_its_own_scores(session: Session, programs: dict[str, Any]) -> None:
    session.log_in(PARTNER, DEMO_PASSWORD)
    session.goto("/scorecards/partner-scorecard/")
    names = set(rows(session))
    own = programs["own"]
    visible = set(
        Organisation.objects.filter(path__startswith=own.path).values_list("name", flat=True)
    )
    assert OWN in names and names <= visible
    assert session.page.locator("#score-now").count() == 0
    other = programs["sparse"]
    assert session.goto(f"/scorecards/partner-scorecard/organisations/{other.pk}/").status == 404
    assert session.goto("/programs/partner-program/what-if/").status == 403
    session.goto(f"/organisations/{own.pk}/?tab=tiers")
    assert session.page.locator("#tab-scores tr[data-scorecard=partner-scorecard]").count() == 1


def test_what_if_draws_each_date(session: Session, programs: dict[str, Any]) -> None:
    session.log_in(ADMIN, DEMO_PASSWORD)
    response = session.goto("/programs/partner-program/what-if/")
    assert response.status == 200
    session.page.wait_for_selector("#whatif-chart-4 .main-svg")
    assert session.page.locator("#whatif-counts .main-svg").count() >= 4
    assert session.page.locator("#whatif-counts .whatif-date").count() == 4
    # Fewer dates through the form.
    session.page.fill("#id_as_of_1", "")
    session.page.fill("#id_as_of_2", "")
    session.page.fill("#id_as_of_3", "")
    with session.page.expect_navigation():
        session.page.click("#whatif-form button[type=submit]")
    assert session.page.locator("#whatif-counts .whatif-date").count() == 1
    no_errors(session)


@pytest.mark.screenshots
def test_screenshots_of_scorecards_and_what_if(
    session: Session, programs: dict[str, Any], screenshot_dir: Path
) -> None:
    session.log_in(ADMIN, DEMO_PASSWORD)
    session.goto("/scorecards/")
    written = [shoot(session, screenshot_dir, "scorecard-list")]
    session.goto("/scorecards/partner-scorecard/?sort=-overall")
    session.page.wait_for_selector("#scorecard-distribution .main-svg")
    written.append(shoot(session, screenshot_dir, "scorecard-detail", full_page=True))
    session.goto(f"/scorecards/partner-scorecard/organisations/{programs['sparse'].pk}/")
    session.page.wait_for_selector("#scorecard-trend .main-svg")
    written.append(shoot(session, screenshot_dir, "scorecard-organisation", full_page=True))
    session.goto("/scorecards/partner-scorecard/edit/")
    session.page.fill("input[name=criteria-0-weight]", "30")
    session.page.fill("input[name=standings-1-min_score]", "50")
    with session.page.expect_navigation():
        session.page.click("#scorecard-editor button[type=submit]")
    written.append(shoot(session, screenshot_dir, "scorecard-editor", full_page=True))
    session.goto("/programs/partner-program/what-if/")
    session.page.wait_for_selector("#whatif-chart-4 .main-svg")
    written.append(shoot(session, screenshot_dir, "what-if", full_page=True))
    with session.page.expect_navigation():
        session.page.select_option("#language-switcher select[name=language]", "zh-hans")
    session.page.wait_for_selector("#whatif-chart-4 .main-svg")
    assert session.page.locator("html").get_attribute("lang") == "zh-hans"
    written.append(shoot(session, screenshot_dir, "what-if-zh", full_page=True))
    for path in written:
        assert path.read_bytes().startswith(PNG_MAGIC), path
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"
    no_errors(session)
