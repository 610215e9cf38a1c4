"""The governance dashboard over real HTTP: staff see the network's figures (each counted
from the data and linking to a filtered list), the escalations chart and table and the health
trend; partners see their own relationship only."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accord.channel.models import Certification
from accord.governance.models import ActionItem, HealthSurvey, Relationship, RoleAssignment
from accord.governance.selectors.dashboard import dashboard
from accord.governance.services import issues as issue_services
from tests.governance import pages_setup
from tests.governance.pages_setup import DAY, HOUR, body, chinese, plan_meeting, raise_issue

pytestmark = pytest.mark.django_db
alpha, bravo = pages_setup.alpha, pages_setup.bravo  # the shared fixtures


def figure(text: str, name: str) -> str:
    match = re.search(rf'id="figure-{name}"[^>]*><span class="figure-value">([^<]*)<', text)
    assert match, name
    return match.group(1)


def survey(organisation, period: str, score: str, misaligned: bool = False) -> HealthSurvey:
    now = timezone.now()
    return HealthSurvey.objects.create(
        organisation=organisation,
        period=period,
        status=HealthSurvey.Status.CLOSED,
        opened_at=now - 30 * DAY,
        closes_at=now - 9 * DAY,
        closed_at=now - 9 * DAY,
        score=Decimal(score),
        misaligned=misaligned,
    )


@pytest.fixture
def network(alpha, bravo, channel_manager, partner_a, partner_b):
    """Alpha: a missed meeting, an overdue action, an issue escalated to operational, two
    health checks, certifications expiring soon and later. Bravo: a role missing, misaligned."""
    today = timezone.localdate()
    plan_meeting(
        partner_a, channel_manager, [], title="Missed QBR", starts_at=timezone.now() - 20 * DAY
    )
    ActionItem.objects.create(
        organisation=partner_a,
        title="Send the forecast",
        owner=alpha["partner"][0],
        due_on=today - dt.timedelta(days=3),
    )
    ActionItem.objects.create(
        organisation=partner_a,
        title="Not yet due",
        owner=alpha["me"],
        due_on=today + dt.timedelta(days=3),
    )
    past = timezone.now() - 4 * DAY
    escalated = raise_issue(partner_a, channel_manager, now=past, title="Escalated one")
    issue_services.escalate_due(now=past + 73 * HOUR)
    RoleAssignment.objects.filter(organisation=partner_b, role="commercial").delete()
    Relationship.objects.filter(organisation=partner_b).update(misaligned=True)
    survey(partner_a, "2025", "70.0")
    survey(partner_b, "2025", "50.0", misaligned=True)
    survey(partner_a, "2026-Q1", "80.0")
    Relationship.objects.filter(organisation=partner_a).update(health_score=Decimal("80.0"))
    for key, days in (("soon", 30), ("later", 200)):
        Certification.objects.create(
            source_key=f"cert-{key}",
            organisation=partner_a,
            person=f"Tech {key}",
            name="Router expert",
            earned_on=today - dt.timedelta(days=400),
            expires_on=today + dt.timedelta(days=days),
        )
    return {"escalated": escalated}


def test_staff_see_the_networks_figures_counted_from_the_data(login, network, channel_manager):
    response = login(channel_manager).get("/governance/")
    assert response.status_code == 200
    text = body(response)
    assert figure(text, "overdue-meetings") == "1"
    assert figure(text, "overdue-actions") == "1"
    assert figure(text, "escalations") == "1"
    assert "open escalations of 3 open issues" in text
    assert figure(text, "misaligned") == "1"
    assert figure(text, "expiring") == "1"
    assert figure(text, "coverage") == "1"
    assert "coverage problems in 1 relationship" in text
    assert figure(text, "roles") == "1"
    # Each figure links to its filtered list.
    assert 'href="/governance/relationship_list/' not in text
    assert 'id="figure-roles" href="/governance/relationships/?roles=incomplete_or_doubled"' in text
    assert 'id="figure-misaligned" href="/governance/relationships/?misaligned=1"' in text
    assert 'href="/governance/issues/?status=open&amp;escalated=on"' in text
    # The table beside the chart.
    rows = text.split('id="escalations-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'data-tier="working".*?data-open="2".*?data-escalated="0"', rows, re.S)
    assert re.search(r'data-tier="operational".*?data-open="1".*?data-escalated="1"', rows, re.S)
    assert "Missed QBR" in text and "Send the forecast" in text and "Not yet due" not in text
    assert "Tech soon" in text and "Tech later" not in text
    assert "Bravo Resellers" in text.split('id="misaligned"', 1)[1].split("</section>", 1)[0]


def test_the_charts_get_their_data_and_the_plotly_csp(login, network, channel_manager):
    response = login(channel_manager).get("/governance/")
    data = json.loads(
        re.search(
            r'<script id="governance-chart-data" type="application/json">(.*?)</script>',
            body(response),
            re.S,
        ).group(1)
    )
    escalations, health = data["charts"]
    assert escalations["labels"] == ["Working level", "Operational management", "Executive"]
    assert [s["values"] for s in escalations["series"]] == [[2, 1, 0], [0, 1, 0]]
    assert health["labels"] == ["2025", "2026-Q1"]
    assert health["series"][0]["values"] == ["60.0", "80.0"]
    assert "sha256-" in response["Content-Security-Policy"]
    assert "/static/accord/governance-charts.js" in body(response)


def test_the_dashboard_selector_agrees_with_the_page(network, channel_manager):
    board = dashboard(channel_manager)
    assert board["counts"] == {
        "overdue_meetings": 1,
        "overdue_action_items": 1,
        "open_issues": 3,
        "escalated_open": 1,
        "misaligned": 1,
        "expiring_certifications": 1,
        "coverage_relationships": 1,
        "coverage_problems": 1,
        "roles_incomplete": 1,
    }
    assert board["open_escalations_by_tier"] == {"working": 0, "operational": 1, "executive": 0}
    assert [(p["period"], p["score"], p["misaligned"]) for p in board["health_trend"]] == [
        ("2025", Decimal("60.0"), True),
        ("2026-Q1", Decimal("80.0"), False),
    ]


def test_partner_a_sees_its_own_relationship_only(login, network, partner_a_user):
    response = login(partner_a_user).get("/governance/")
    assert response.status_code == 200
    text = body(response)
    assert figure(text, "open-issues") == "2"
    assert "Alpha deliveries late" in text and "Escalated one" in text
    assert "Bravo" not in text
    assert figure(text, "actions") == "2"
    assert "(1 yours)" in text and "Send the forecast" in text and "Not yet due" in text
    assert figure(text, "meetings") == "1" and "Alpha operations review" in text
    assert figure(text, "health") == "80.0" and "Health score (2026-Q1)" in text
    assert 'id="figure-coverage"' not in text and "governance-chart-data" not in text


def test_partner_b_sees_bravo_only(login, network, partner_b_user):
    text = body(login(partner_b_user).get("/governance/"))
    assert "Bravo pricing dispute" in text and "Alpha" not in text
    assert figure(text, "open-issues") == "1"


def test_the_dashboard_needs_login_and_the_permission(login, network, user_without_roles):
    response = login(None).get("/governance/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert login(user_without_roles).get("/governance/").status_code == 403


def test_an_empty_network_renders(login, channel_manager, partner_a_user):
    for user in (channel_manager, partner_a_user):
        assert login(user).get("/governance/").status_code == 200


def test_the_dashboard_renders_in_chinese(login, network, channel_manager, partner_a_user):
    for user in (channel_manager, partner_a_user):
        response = chinese(login(user)).get("/governance/")
        assert response.status_code == 200 and 'lang="zh-hans"' in body(response)


@pytest.fixture
def user_without_roles(vendor):
    from tests.factories import UserFactory

    return UserFactory(organisation=vendor, email="nobody@vendor.test", roles=[])


def test_the_dashboard_and_issue_list_read_a_fixed_number_of_queries(
    login, network, channel_manager
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import OrganisationFactory
    from tests.governance.builders import governed

    client = login(channel_manager)
    client.get("/governance/")  # warm the settings row and the session

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = {url: count(url) for url in ("/governance/", "/governance/issues/")}
    for number in range(3):
        organisation = OrganisationFactory(name=f"Extra {number}")
        setup = governed(organisation)
        RoleAssignment.objects.filter(organisation=organisation, role="transformation").delete()
        Relationship.objects.filter(organisation=organisation).update(misaligned=True)
        raise_issue(organisation, channel_manager, title=f"Extra issue {number}")
        plan_meeting(organisation, channel_manager, [], starts_at=timezone.now() - 20 * DAY)
        ActionItem.objects.create(
            organisation=organisation,
            title="Late",
            owner=setup["partner"][0],
            due_on=timezone.localdate() - dt.timedelta(days=2),
        )
    after = {url: count(url) for url in before}
    assert after == before
