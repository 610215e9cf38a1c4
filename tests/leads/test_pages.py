"""The lead pages over real HTTP (Django test client) on the real database: the staff list
with filters and exports, the partner's inbox, a new lead routed on save, one lead with its
routing history and the responses and staff actions on it, the routing rules editor and the
lead settings; who sees and may do what."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from accord.leads import services
from accord.leads.forms import LeadForm
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from tests.factories import OrganisationFactory
from tests.leads.builders import rule, set_rules, tier_program

pytestmark = pytest.mark.django_db

HOUR = timezone.timedelta(hours=1)


def body(response: Any) -> str:
    return response.content.decode()


def chinese(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def lead_numbers(text: str) -> list[str]:
    return re.findall(r">(L-\d{6})</a>", text)


def errors_for(text: str, name: str) -> str:
    """The error list the page shows next to the input ``name`` ("" if none)."""
    match = re.search(rf'<ul class="errorlist" id="{re.escape(name)}-errors"[^>]*>(.*?)</ul>', text)
    return match.group(1) if match else ""


@pytest.fixture
def rules(db: None) -> list[RoutingRule]:
    """Territory first (required, exclusive holders first), then an equal draw."""
    return set_rules(
        rule("territory", "Territory", required=True, exclusive_first=True),
        rule("random", "Draw", weight="equal"),
    )


@pytest.fixture
def lead(rules: list[RoutingRule], east: Any, partner_a: Any, partner_b: Any) -> Lead:
    """A lead in China East, offered to Alpha (its exclusive holder) just now."""
    lead = services.create_lead(
        actor=None,
        data={
            "company_name": "Shanghai Buyer Co",
            "contact_name": "Zhang San",
            "territory": east.pk,
            "product_line": "Routers",
            "value": "25000",
            "currency": "CNY",
        },
        now=timezone.now(),
    )
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to == partner_a
    return lead


@pytest.fixture
def manual_lead(rules: list[RoutingRule], partner_b: Any) -> Lead:
    """A lead nobody's territory covers: the required territory rule sends it to review."""
    lead = services.create_lead(
        actor=None, data={"company_name": "Nowhere GmbH", "country": "DE"}, now=timezone.now()
    )
    assert lead.status == Lead.Status.MANUAL
    return lead


def unchanged(lead: Lead) -> None:
    """The lead is as it was (denied requests change nothing)."""
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.status, fresh.assigned_to_id, fresh.offers) == (
        lead.status,
        lead.assigned_to_id,
        lead.offers,
    )
    assert fresh.events.count() == lead.events.count()


# -- who gets in ------------------------------------------------------------------------------
PAGES = [
    ("get", "/leads/"),
    ("get", "/leads/export.csv"),
    ("get", "/leads/new/"),
    ("get", "/leads/rules/"),
    ("get", "/leads/settings/"),
    ("get", "/leads/{pk}/"),
    ("post", "/leads/{pk}/accept/"),
    ("post", "/leads/{pk}/decline/"),
    ("post", "/leads/{pk}/assign/"),
    ("post", "/leads/{pk}/route/"),
    ("post", "/leads/{pk}/close/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_users_are_sent_to_log_in(login, lead, method, url):
    response = getattr(login(None), method)(url.format(pk=lead.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    unchanged(lead)


def test_partner_a_sees_its_offer_in_the_inbox_with_the_time_left(login, lead, partner_a_user):
    response = login(partner_a_user).get("/leads/")
    assert response.status_code == 200
    text = body(response)
    assert "Lead inbox" in text
    inbox = text.split('id="inbox"', 1)[1].split("</section>", 1)[0]
    assert f'data-lead="{lead.pk}"' in inbox and "Shanghai Buyer Co" in inbox
    assert 'id="inbox-count">1<' in inbox
    # The default 48 h SLA, a moment ago (timeuntil joins its words with no-break spaces).
    assert re.search(r"(1\sday,\s23\shours|2\sdays) left to accept", inbox)
    assert f'action="/leads/{lead.pk}/accept/"' in inbox


def test_partner_a_sees_the_lead_page_with_accept_and_decline(login, lead, partner_a_user):
    text = body(login(partner_a_user).get(f"/leads/{lead.pk}/"))
    assert 'id="accept-lead"' in text and 'id="decline-lead"' in text
    assert "left to accept" in text
    assert 'id="staff-actions"' not in text


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "accept/"), ("post", "decline/"), ("post", "close/")],
)
def test_partner_b_gets_404_on_another_partners_lead(login, lead, partner_b_user, method, suffix):
    client = login(partner_b_user)
    response = getattr(client, method)(f"/leads/{lead.pk}/{suffix}", {"decline-reason": "no"})
    assert response.status_code == 404
    unchanged(lead)
    assert "Shanghai Buyer Co" not in body(client.get("/leads/"))


def test_a_partner_viewer_sees_the_offer_but_cannot_accept_or_decline(
    login, lead, partner_a_viewer
):
    client = login(partner_a_viewer)
    text = body(client.get(f"/leads/{lead.pk}/"))
    assert "Shanghai Buyer Co" in text and 'id="accept-lead"' not in text
    assert 'id="decline-lead"' not in text
    inbox = body(client.get("/leads/"))
    assert f'data-lead="{lead.pk}"' in inbox and "accept-lead" not in inbox
    assert client.post(f"/leads/{lead.pk}/accept/").status_code == 403
    assert client.post(f"/leads/{lead.pk}/decline/", {"decline-reason": "x"}).status_code == 403
    unchanged(lead)


def test_staff_see_every_lead_with_the_assigned_partner(
    login, lead, manual_lead, channel_manager, django_assert_max_num_queries
):
    client = login(channel_manager)
    with django_assert_max_num_queries(9):
        response = client.get("/leads/")
    text = body(response)
    assert lead_numbers(text) == [manual_lead.number, lead.number]
    row = text.split(f'data-lead="{lead.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Alpha Distribution" in row and "Awaiting acceptance" in row
    assert "left to accept" in row
    assert 'id="new-lead"' in text and "/leads/rules/" in text and "/leads/settings/" in text


def test_staff_list_stays_within_its_queries_with_many_leads(
    login, rules, east, partner_a, channel_manager, django_assert_max_num_queries
):
    for index in range(30):
        services.create_lead(
            actor=None,
            data={"company_name": f"Buyer {index}", "territory": east.pk},
            now=timezone.now(),
        )
    client = login(channel_manager)
    with django_assert_max_num_queries(9):
        response = client.get("/leads/")
    assert len(lead_numbers(body(response))) == 30


def test_staff_filter_by_status_partner_and_territory(
    login, lead, manual_lead, channel_manager, partner_a, east
):
    client = login(channel_manager)
    assert lead_numbers(body(client.get("/leads/?status=manual"))) == [manual_lead.number]
    assert lead_numbers(body(client.get(f"/leads/?partner={partner_a.pk}"))) == [lead.number]
    assert lead_numbers(body(client.get("/leads/?partner=0"))) == [manual_lead.number]
    # A territory filter takes in its subtree: the group above China East finds the lead.
    assert lead_numbers(body(client.get(f"/leads/?territory={east.parent_id}"))) == [lead.number]
    assert lead_numbers(body(client.get("/leads/?q=nowhere"))) == [manual_lead.number]
    # Nonsense filters are ignored, never an error.
    response = client.get("/leads/?status=bogus&partner=abc&territory=99999999999999999999")
    assert response.status_code == 200
    assert len(lead_numbers(body(response))) == 2


def test_the_htmx_filter_returns_only_the_rows(login, lead, channel_manager):
    response = login(channel_manager).get(
        "/leads/?status=offered", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="lead-results"
    )
    text = body(response)
    assert "<html" not in text and lead_numbers(text) == [lead.number]


def test_staff_export_the_filtered_leads_as_csv_and_xlsx(login, lead, manual_lead, channel_manager):
    client = login(channel_manager)
    response = client.get("/leads/export.csv?status=offered")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Number", "Created", "Company"]
    assert [row[0] for row in rows[1:]] == [lead.number]
    assert rows[1][14] == "Alpha Distribution" and rows[1][11] == "25000.00"
    response = client.get("/leads/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == sorted([lead.number, manual_lead.number])


def test_a_partners_export_holds_only_its_own_leads(login, lead, manual_lead, partner_b_user):
    response = login(partner_b_user).get("/leads/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert lead.number not in text and manual_lead.number not in text


# -- a new lead --------------------------------------------------------------------------------
NEW = {
    "company_name": "Hangzhou Retail Group",
    "contact_name": "Li Si",
    "contact_email": "li@example.cn",
    "country": "cn",
    "value": "1200.50",
    "currency": "cny",
}


def test_staff_enter_a_lead_that_is_routed_on_save(login, rules, east, partner_a, channel_manager):
    client = login(channel_manager)
    assert client.get("/leads/new/").status_code == 200
    response = client.post("/leads/new/", {**NEW, "territory": east.pk}, follow=True)
    lead = Lead.objects.get(company_name="Hangzhou Retail Group")
    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    assert (lead.status, lead.assigned_to, lead.country, lead.currency) == (
        Lead.Status.OFFERED,
        partner_a,
        "CN",
        "CNY",
    )
    assert lead.created_by == channel_manager and lead.source == Lead.Source.UI
    text = body(response)
    assert f"was offered to {partner_a.name}" in text
    assert 'id="routing-history"' in text and "Territory (required): 1 → 1 partners" in text


def test_a_lead_no_rule_can_place_says_it_waits_for_manual_review(
    login, rules, partner_b, channel_manager
):
    response = login(channel_manager).post("/leads/new/", NEW, follow=True)
    text = body(response)
    assert "waits for manual review" in text
    assert 'id="manual-note"' in text and 'id="route-lead"' in text


def test_the_new_lead_form_shows_field_errors_and_keeps_what_was_typed(
    login, rules, channel_manager
):
    client = login(channel_manager)
    response = client.post(
        "/leads/new/",
        {**NEW, "company_name": "", "value": "-5", "contact_email": "nope", "territory": "999"},
    )
    assert response.status_code == 200
    text = body(response)
    assert text.count('class="errorlist"') >= 3
    assert 'value="Li Si"' in text
    assert not Lead.objects.exists()
    # The service's own checks show on the form too (a country code that is not one).
    response = client.post("/leads/new/", {**NEW, "country": "1A"})
    assert response.status_code == 200 and "has-error" in body(response)
    assert not Lead.objects.exists()


def test_only_staff_who_route_may_enter_leads(login, rules, analyst, partner_a_user):
    for user in (analyst, partner_a_user):
        client = login(user)
        assert client.get("/leads/new/").status_code == 403
        assert client.post("/leads/new/", NEW).status_code == 403
    assert not Lead.objects.exists()
    assert 'id="new-lead"' not in body(login(analyst).get("/leads/"))


# -- one lead: responses ---------------------------------------------------------------------
def test_partner_accepts_through_the_page(login, lead, partner_a_user):
    client = login(partner_a_user)
    response = client.post(f"/leads/{lead.pk}/accept/", follow=True)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ACCEPTED and lead.accepted_at is not None
    text = body(response)
    assert "You accepted lead" in text
    assert 'id="accept-lead"' not in text
    # Accepted: out of the inbox, in "Your accepted leads", and it may be closed.
    inbox = body(client.get("/leads/"))
    assert 'id="inbox-count">0<' in inbox
    assert f'data-lead="{lead.pk}"' in inbox.split('id="accepted-rows"', 1)[1]
    assert 'id="close-lead"' in text


def test_declining_needs_a_reason(login, lead, partner_a_user):
    response = login(partner_a_user).post(f"/leads/{lead.pk}/decline/", {"decline-reason": "  "})
    assert response.status_code == 200
    text = body(response)
    assert "This field is required." in text and 'id="decline-lead"' in text
    unchanged(lead)


def test_partner_declines_with_a_reason_and_the_lead_goes_on(
    login, lead, partner_a_user, partner_b, east
):
    client = login(partner_a_user)
    response = client.post(
        f"/leads/{lead.pk}/decline/", {"decline-reason": "No capacity this month"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/leads/"
    assert "You declined lead" in body(response)
    lead.refresh_from_db()
    # Nobody else holds China East: the required territory rule sends it to manual review.
    assert lead.status == Lead.Status.MANUAL and lead.assigned_to is None
    declined = lead.events.get(kind=RoutingEvent.Kind.DECLINED)
    assert declined.reason == "No capacity this month"
    # The lead is no longer Alpha's to see.
    assert client.get(f"/leads/{lead.pk}/").status_code == 404


def test_a_lapsed_offer_cannot_be_accepted_and_says_why(
    login, rules, east, partner_a, partner_a_user
):
    lead = services.create_lead(
        actor=None,
        data={"company_name": "Late Buyer", "territory": east.pk},
        now=timezone.now() - 49 * HOUR,
    )
    client = login(partner_a_user)
    assert "The acceptance time has run out" in body(client.get(f"/leads/{lead.pk}/"))
    response = client.post(f"/leads/{lead.pk}/accept/", follow=True)
    assert "The time to accept this lead ended" in body(response)
    unchanged(lead)


# -- one lead: routing history --------------------------------------------------------------
def test_the_detail_page_explains_each_routing_step(login, lead, channel_manager):
    text = body(login(channel_manager).get(f"/leads/{lead.pk}/"))
    history = text.split('id="routing-history"', 1)[1]
    event = lead.events.get(kind=RoutingEvent.Kind.OFFERED)
    item = history.split(f'data-event="{event.pk}"', 1)[1].split("</li>\n      \n", 1)[0]
    assert "Alpha Distribution" in item
    assert "2 active partners had not been offered this lead yet." in item
    assert "Territory (required): 2 → 1 partners in China East, the exclusive holder first" in item
    assert "Draw: one of 1 partners, weighted by equal weights" in item
    assert re.search(r"Drew 0\.\d{4}: Alpha Distribution \(weight 1 of 1\)\.", item)
    assert "To be accepted within 48 hours." in item


def test_a_partner_sees_only_the_events_about_itself(
    login, rules, east, partner_a, partner_b, partner_a_user, partner_b_user, channel_manager
):
    # Offered to Bravo by hand first, Bravo declines, then staff give it to Alpha.
    lead = services.create_lead(
        actor=None, data={"company_name": "Shared Buyer"}, now=timezone.now()
    )
    services.assign_lead(
        actor=channel_manager, lead=lead, organisation=partner_b, reason="Knows them"
    )
    services.decline_lead(actor=partner_b_user, lead=lead, reason="Too far away")
    lead.refresh_from_db()
    services.assign_lead(
        actor=channel_manager, lead=lead, organisation=partner_a, reason="Second try"
    )
    text = body(login(partner_a_user).get(f"/leads/{lead.pk}/"))
    kinds = re.findall(r'data-kind="(\w+)"', text)
    assert kinds == ["assigned"]
    assert "Bravo" not in text and "Too far away" not in text
    assert "Only the steps about your organisation are shown." in text
    staff = body(login(channel_manager).get(f"/leads/{lead.pk}/"))
    assert re.findall(r'data-kind="(\w+)"', staff) == [
        "manual",
        "assigned",
        "declined",
        "manual",
        "assigned",
    ]
    assert "Too far away" in staff and "Assigned by hand to Alpha Distribution: Second try" in staff


# -- one lead: staff actions ---------------------------------------------------------------
def test_staff_assign_a_lead_in_manual_review_by_hand(
    login, manual_lead, partner_b, channel_manager
):
    client = login(channel_manager)
    text = body(client.get(f"/leads/{manual_lead.pk}/"))
    assert 'id="assign-form"' in text and "Bravo Resellers" in text
    response = client.post(
        f"/leads/{manual_lead.pk}/assign/",
        {"assign-organisation": partner_b.pk, "assign-reason": "They asked for it"},
        follow=True,
    )
    manual_lead.refresh_from_db()
    assert manual_lead.status == Lead.Status.OFFERED and manual_lead.assigned_to == partner_b
    assert "was given to Bravo Resellers" in body(response)


def test_assigning_shows_field_errors(login, manual_lead, partner_b, vendor, channel_manager):
    client = login(channel_manager)
    response = client.post(
        f"/leads/{manual_lead.pk}/assign/", {"assign-organisation": partner_b.pk}
    )
    assert response.status_code == 200
    assert "This field is required." in body(response)
    # The vendor is not among the choices (and a crafted post is refused, not a 500).
    response = client.post(
        f"/leads/{manual_lead.pk}/assign/",
        {"assign-organisation": vendor.pk, "assign-reason": "x"},
    )
    assert response.status_code == 200 and "Select a valid choice" in body(response)
    unchanged(manual_lead)


def test_staff_re_route_a_lead_in_manual_review(login, manual_lead, channel_manager, partner_b):
    # A new partner now holds Germany's territory... simplest: drop the required rule.
    set_rules(rule("random", "Draw", weight="equal"))
    response = login(channel_manager).post(f"/leads/{manual_lead.pk}/route/", follow=True)
    manual_lead.refresh_from_db()
    assert manual_lead.status == Lead.Status.OFFERED
    assert f"was offered to {manual_lead.assigned_to.name}" in body(response)


def test_re_routing_an_offered_lead_is_refused_with_a_message(login, lead, channel_manager):
    response = login(channel_manager).post(f"/leads/{lead.pk}/route/", follow=True)
    assert "cannot be routed" in body(response)
    unchanged(lead)


def test_staff_close_an_accepted_lead_won(login, lead, partner_a_user, channel_manager):
    services.accept_lead(actor=partner_a_user, lead=lead)
    client = login(channel_manager)
    response = client.post(f"/leads/{lead.pk}/close/", {"close-reason": "Signed"})
    assert response.status_code == 200 and "This field is required." in body(response)
    response = client.post(
        f"/leads/{lead.pk}/close/", {"close-outcome": "won", "close-reason": "Signed"}, follow=True
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.WON
    assert "was closed: Won" in body(response)


def test_people_who_may_not_route_see_no_staff_actions_and_are_refused(
    login, manual_lead, partner_b, analyst
):
    client = login(analyst)
    text = body(client.get(f"/leads/{manual_lead.pk}/"))
    assert 'id="staff-actions"' not in text and "Nowhere GmbH" in text
    data = {"assign-organisation": partner_b.pk, "assign-reason": "x"}
    assert client.post(f"/leads/{manual_lead.pk}/assign/", data).status_code == 403
    assert client.post(f"/leads/{manual_lead.pk}/route/").status_code == 403
    unchanged(manual_lead)


def test_a_bad_lead_id_is_a_404(login, channel_manager):
    client = login(channel_manager)
    assert client.get("/leads/999999999999999999/").status_code == 404
    assert client.get("/leads/9999999999999999999999/").status_code == 404


# -- the routing rules editor ------------------------------------------------------------------
def rules_post(*rows: dict[str, Any], op: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"op": op} if op else {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"r{index}-{key}"] = value
    return data


def test_the_rules_editor_shows_the_saved_rules(login, rules, channel_manager):
    text = body(login(channel_manager).get("/leads/rules/"))
    assert 'name="r0-name" value="Territory"' in text
    assert 'name="r0-exclusive_first" value="1" checked' in text
    assert '<option value="equal" selected>' in text
    assert f'name="r0-id" value="{rules[0].pk}"' in text
    assert 'id="save-rules"' in text


def test_the_rules_editor_saves_the_whole_list_in_order(login, rules, channel_manager):
    data = rules_post(
        {"id": rules[0].pk, "name": "Where", "kind": "territory", "required": "1", "active": "1"},
        {"name": "Resellers", "kind": "partner_kind", "kinds": ["reseller", "var"], "active": "1"},
        {"name": "Not too busy", "kind": "capacity", "max_open": "5", "active": "1"},
        {
            "name": "Good ones",
            "kind": "performance",
            "min_acceptance": "0.5",
            "min_offers": "3",
        },
        {"name": "Pick", "kind": "random", "weight": "performance", "active": "1"},
    )
    response = login(channel_manager).post("/leads/rules/", data, follow=True)
    assert "The routing rules were saved." in body(response)
    saved = list(RoutingRule.objects.order_by("position"))
    assert [(r.name, r.kind, r.required, r.active) for r in saved] == [
        ("Where", "territory", True, True),
        ("Resellers", "partner_kind", False, True),
        ("Not too busy", "capacity", False, True),
        ("Good ones", "performance", False, False),
        ("Pick", "random", False, True),
    ]
    assert saved[0].pk == rules[0].pk  # kept, not recreated
    assert saved[0].params == {"exclusive_first": False}
    assert saved[1].params == {"kinds": ["reseller", "var"]}
    assert saved[2].params == {"max_open": 5}
    assert saved[3].params == {"min_acceptance": 0.5, "min_offers": 3}
    assert saved[4].params == {"weight": "performance"}
    assert not RoutingRule.objects.filter(pk=rules[1].pk).exists()


def test_bad_parameters_show_next_to_their_inputs_and_nothing_is_saved(
    login, rules, channel_manager
):
    before = list(RoutingRule.objects.values_list("pk", "name", "params"))
    data = rules_post(
        {"name": "Busy", "kind": "capacity", "max_open": "lots", "active": "1"},
        {"name": "", "kind": "performance", "min_acceptance": "1.5", "active": "1"},
        {"name": "Kinds", "kind": "partner_kind", "active": "1"},
        {"name": "Pick", "kind": "random", "weight": "equal", "active": "1"},
    )
    response = login(channel_manager).post("/leads/rules/", data)
    assert response.status_code == 200
    text = body(response)
    assert "Nothing was saved" in text
    assert "max_open" in errors_for(text, "r0-max_open")
    assert "min_acceptance" in errors_for(text, "r1-min_acceptance")
    assert "Give the rule a name." in errors_for(text, "r1-name")
    assert "kinds" in errors_for(text, "r2-kinds")
    assert 'value="lots"' in text  # what was typed stays
    assert list(RoutingRule.objects.values_list("pk", "name", "params")) == before


def test_the_random_rule_must_come_last(login, rules, channel_manager):
    data = rules_post(
        {"name": "Pick", "kind": "random", "weight": "equal", "active": "1"},
        {"name": "Where", "kind": "territory", "active": "1"},
    )
    text = body(login(channel_manager).post("/leads/rules/", data))
    assert "must come last" in errors_for(text, "r0-kind")


def test_add_move_remove_and_change_kind_work_without_javascript(login, rules, channel_manager):
    client = login(channel_manager)
    rows = [
        {"id": rules[0].pk, "name": "Territory", "kind": "territory", "active": "1"},
        {"id": rules[1].pk, "name": "Draw", "kind": "random", "weight": "equal", "active": "1"},
    ]
    text = body(client.post("/leads/rules/", rules_post(*rows, op="add")))
    assert 'name="r2-kind"' in text and "Step 3" in text
    text = body(client.post("/leads/rules/", rules_post(*rows, op="down-0")))
    assert text.index('value="Draw"') < text.index('value="Territory"')
    text = body(client.post("/leads/rules/", rules_post(*rows, op="remove-1")))
    assert 'name="r1-kind"' not in text and 'value="Territory"' in text
    changed = [{**rows[0], "kind": "capacity"}, rows[1]]
    text = body(client.post("/leads/rules/", rules_post(*changed, op="refresh")))
    assert 'name="r0-max_open"' in text and 'name="r0-exclusive_first"' not in text
    # Stale or crafted operations do nothing.
    for op in ("remove-9", "up-0", "explode"):
        assert client.post("/leads/rules/", rules_post(*rows, op=op)).status_code == 200
    assert RoutingRule.objects.count() == 2  # nothing saved by any of this


def test_the_htmx_editor_returns_only_the_form(login, rules, channel_manager):
    response = login(channel_manager).post(
        "/leads/rules/",
        rules_post({"name": "x", "kind": "tier"}, op="refresh"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="rules-editor",
    )
    text = body(response)
    assert text.lstrip().startswith("<form") and 'name="r0-min_rank"' in text


def test_a_tier_rule_offers_the_live_tiers_of_the_program(login, rules, channel_manager):
    tier_program()
    text = body(login(channel_manager).get("/leads/rules/"))
    data = rules_post({"name": "Top", "kind": "tier", "tiers": ["gold", "silver"], "active": "1"})
    response = login(channel_manager).post("/leads/rules/", data, follow=True)
    assert "The routing rules were saved." in body(response)
    assert RoutingRule.objects.get().params == {"tiers": ["gold", "silver"]}
    text = body(login(channel_manager).get("/leads/rules/"))
    assert 'value="gold" checked' in text and "and above" in text


def test_analysts_read_the_rules_but_cannot_change_them(login, rules, analyst):
    client = login(analyst)
    text = body(client.get("/leads/rules/"))
    assert 'value="Territory"' in text and 'class="rules-fieldset" disabled' in text
    assert 'id="save-rules"' not in text
    assert client.post("/leads/rules/", rules_post(op="add")).status_code == 403
    assert RoutingRule.objects.count() == 2


def test_partners_have_no_rules_or_settings_pages(login, rules, partner_a_user):
    client = login(partner_a_user)
    assert client.get("/leads/rules/").status_code == 403
    assert client.get("/leads/settings/").status_code == 403


# -- the settings ---------------------------------------------------------------------------
def test_settings_are_saved_with_per_tier_slas(login, channel_manager):
    program = tier_program()
    client = login(channel_manager)
    text = body(client.get("/leads/settings/"))
    assert 'name="tier_gold"' in text and 'name="tier_registered"' in text
    response = client.post(
        "/leads/settings/",
        {
            "acceptance_hours": "36",
            "tier_program": program.pk,
            "tier_gold": "12",
            "tier_silver": "",
            "tier_registered": "72",
            "max_offers": "3",
            "performance_days": "90",
        },
        follow=True,
    )
    assert "The lead settings were saved." in body(response)
    current = LeadSettings.current()
    assert (current.acceptance_hours, current.max_offers, current.performance_days) == (36, 3, 90)
    assert current.tier_acceptance_hours == {"gold": 12, "registered": 72}


def test_settings_show_field_errors(login, channel_manager):
    response = login(channel_manager).post(
        "/leads/settings/",
        {"acceptance_hours": "0", "max_offers": "x", "performance_days": "99999"},
    )
    assert response.status_code == 200
    text = body(response)
    assert text.count('class="errorlist"') >= 3
    assert LeadSettings.current().acceptance_hours == 48


def test_choosing_another_program_shows_its_tiers_without_saving(login, channel_manager):
    program = tier_program({"bronze": 0, "platinum": 3}, code="other")
    LeadSettings.objects.filter(pk=1).update(tier_program=None)
    response = login(channel_manager).post(
        "/leads/settings/",
        {"op": "refresh", "tier_program": program.pk, "acceptance_hours": "20"},
    )
    text = body(response)
    assert 'name="tier_platinum"' in text and 'value="20"' in text and "errorlist" not in text
    assert LeadSettings.current().tier_program is None


def test_analysts_read_the_settings_but_cannot_change_them(login, analyst):
    client = login(analyst)
    text = body(client.get("/leads/settings/"))
    assert 'class="plain-fieldset" disabled' in text and 'id="save-settings"' not in text
    assert client.post("/leads/settings/", {"acceptance_hours": "5"}).status_code == 403
    assert LeadSettings.current().acceptance_hours == 48


# -- Chinese ---------------------------------------------------------------------------------
def test_the_pages_render_in_chinese(login, lead, partner_a_user, channel_manager):
    for user, url in (
        (partner_a_user, "/leads/"),
        (partner_a_user, f"/leads/{lead.pk}/"),
        (channel_manager, "/leads/"),
        (channel_manager, "/leads/rules/"),
        (channel_manager, "/leads/settings/"),
        (channel_manager, "/leads/new/"),
    ):
        response = chinese(login(user)).get(url)
        assert response.status_code == 200
        assert '<html lang="zh-hans">' in body(response)


def test_a_child_organisations_offer_is_visible_to_the_parent_but_not_its_to_answer(
    login, rules, partner_a_user
):
    child = OrganisationFactory(name="Alpha Kid", parent=partner_a_user.organisation)
    lead = services.create_lead(actor=None, data={"company_name": "Kid Buyer"}, now=timezone.now())
    services.assign_lead(actor=None, lead=lead, organisation=child, reason="Local")
    lead.refresh_from_db()
    client = login(partner_a_user)
    text = body(client.get(f"/leads/{lead.pk}/"))
    assert "Kid Buyer" in text and 'id="accept-lead"' not in text
    assert client.post(f"/leads/{lead.pk}/accept/").status_code == 403
    unchanged(lead)


def test_rule_kinds_offered_match_the_model(login, rules, channel_manager):
    text = body(login(channel_manager).get("/leads/rules/"))
    for value, _label in RoutingRule.Kind.choices:
        assert f'<option value="{value}"' in text


def test_the_htmx_settings_form_returns_only_the_form(login, channel_manager):
    program = tier_program({"bronze": 0, "platinum": 3}, code="other")
    response = login(channel_manager).post(
        "/leads/settings/",
        {"op": "refresh", "tier_program": program.pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="settings-form",
    )
    text = body(response)
    assert text.lstrip().startswith("<form") and 'name="tier_bronze"' in text


@pytest.mark.parametrize(
    "value", ["1e999999999", "NaN", "-Infinity", "0x10", "٣", "", "1.5", "-3", "9" * 39]
)
def test_odd_numbers_in_rule_parameters_are_field_errors_never_500(
    login, rules, channel_manager, value
):
    data = rules_post(
        {"name": "Busy", "kind": "capacity", "max_open": value, "active": "1"},
        {"name": "Good", "kind": "performance", "min_win": value, "min_offers": value},
        {"name": "Top", "kind": "tier", "min_rank": value},
        {"id": "99999999999999999999", "name": "Pick", "kind": "nope"},
    )
    response = login(channel_manager).post("/leads/rules/", data)
    assert response.status_code == 200
    text = body(response)
    assert errors_for(text, "r0-max_open") and errors_for(text, "r3-kind")
    assert RoutingRule.objects.count() == 2


ODD = ["\x00", "x" * 5000, "9" * 40, "-1", "1e999999999", "NaN", "<script>", "٣", " "]


@pytest.mark.parametrize("value", ODD)
def test_odd_input_anywhere_is_a_form_error_never_a_500(
    login, lead, manual_lead, channel_manager, partner_a_user, value
):
    staff = login(channel_manager)
    for name in ("q", "status", "partner", "territory", "page"):
        assert staff.get("/leads/", {name: value}).status_code == 200
        assert staff.get("/leads/export.csv", {name: value}).status_code == 200
    for name in LeadForm.FIELDS:
        response = staff.post("/leads/new/", {**NEW, name: value})
        assert response.status_code in (200, 302)
    for name in ("acceptance_hours", "tier_program", "max_offers", "performance_days", "op"):
        data = {"acceptance_hours": "5", "max_offers": "5", "performance_days": "5", name: value}
        assert staff.post("/leads/settings/", data).status_code in (200, 302)
    data = {"assign-organisation": value, "assign-reason": value}
    assert staff.post(f"/leads/{manual_lead.pk}/assign/", data).status_code in (200, 302)
    data = {"close-outcome": value, "close-reason": value}
    assert staff.post(f"/leads/{lead.pk}/close/", data).status_code in (200, 302)
    assert staff.post("/leads/rules/", {"op": value, "r0-kind": value}).status_code == 200
    partner = login(partner_a_user)
    data = {"decline-reason": value}
    assert partner.post(f"/leads/{lead.pk}/decline/", data).status_code in (200, 302)
