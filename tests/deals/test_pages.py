"""The deal registration pages over real HTTP (Django test client) on the real database:
who sees and may do what, form errors instead of error pages, what partners are told about
other partners' registrations (nothing but "a conflicting registration exists"), and the
issue's done-when flow (ACME Corp. vs Acme Corporation Ltd, 华为技术有限公司 vs 华为技术)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accord.accounts.models import User
from accord.deals import services
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from tests.deals.builders import deal, gate, set_rules
from tests.programs.builders import make_program

pytestmark = pytest.mark.django_db
Status = Registration.Status
CLOSE = (timezone.localdate() + dt.timedelta(days=120)).isoformat()
CONFLICT_SENTENCE = "A conflicting registration exists."


def form(**fields: Any) -> dict[str, Any]:
    """The registration form as a browser posts it: ACME Corp. (US), Servers."""
    data: dict[str, Any] = {
        "customer_name": "ACME Corp.",
        "customer_country": "US",
        "other_lines": "Servers",
        "value": "125000.00",
        "currency": "USD",
        "expected_close": CLOSE,
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def register(actor: User, **fields: Any) -> Registration:
    """A registration through the service, at the real clock (the pages use it too)."""
    registration = services.submit_registration(actor=actor, data=deal(**fields))
    return Registration.objects.get(pk=registration.pk)


def html(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(html(response).lstrip("\ufeff"))))


@pytest.fixture
def held(partner_a_user: User) -> Registration:
    """Partner A's approved ACME Corp. (Servers)."""
    registration = register(partner_a_user, expected_close=dt.date.fromisoformat(CLOSE))
    assert registration.status == Status.APPROVED
    return registration


@pytest.fixture
def second(held: Registration, partner_b_user: User) -> Registration:
    """Partner B's Acme Corporation Ltd on the same line: waits, blocked by A's."""
    registration = register(
        partner_b_user,
        customer_name="Acme Corporation Ltd",
        expected_close=dt.date.fromisoformat(CLOSE),
    )
    assert registration.status == Status.SUBMITTED
    return registration


# -- who may open what ---------------------------------------------------------------------
def test_anonymous_visitors_are_sent_to_the_login_page(login, held: Registration) -> None:
    client = login(None)
    pages = [
        "/deals/",
        "/deals/export.csv",
        "/deals/new/",
        f"/deals/{held.pk}/",
        f"/deals/{held.pk}/edit/",
        "/deals/queue/",
        "/deals/rules/",
        "/deals/customers/",
        "/deals/customers/new/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    for url in ("/deals/similar/", f"/deals/{held.pk}/act/", "/deals/new/"):
        response = client.post(url, {"action": "withdraw", **form()})
        assert response.status_code == 302, url
    held.refresh_from_db()
    assert held.status == Status.APPROVED
    assert Registration.objects.count() == 1


def test_partners_see_their_own_registrations_only(
    login, held: Registration, second: Registration, partner_a_user, partner_b_user
) -> None:
    page = html(login(partner_a_user).get("/deals/"))
    assert "My registrations" in page
    assert held.number in page and second.number not in page
    assert "Acme Corporation Ltd" not in page and "Bravo Resellers" not in page

    client_b = login(partner_b_user)
    page = html(client_b.get("/deals/"))
    assert second.number in page and held.number not in page
    # Partner B cannot reach A's registration in any way: 404, never 403.
    for url in (f"/deals/{held.pk}/", f"/deals/{held.pk}/edit/"):
        assert client_b.get(url).status_code == 404, url
    response = client_b.post(
        f"/deals/{held.pk}/act/", {"action": "withdraw", "close-reason": "mine now"}
    )
    assert response.status_code == 404
    response = client_b.post("/deals/similar/", {**form(), "registration": held.pk})
    assert response.status_code == 404
    conflict = Conflict.objects.get(registration=second)
    response = client_b.post(
        f"/deals/{held.pk}/conflicts/{conflict.pk}/resolve/",
        {f"conflict-{conflict.pk}-resolution": "dismissed", f"conflict-{conflict.pk}-reason": "x"},
    )
    assert response.status_code == 404
    held.refresh_from_db()
    assert held.status == Status.APPROVED
    # The export holds the same rows as the list.
    rows = csv_rows(client_b.get("/deals/export.csv"))
    assert [row[0] for row in rows[1:]] == [second.number]


def test_partners_have_no_staff_pages(login, held: Registration, partner_a_user) -> None:
    client = login(partner_a_user)
    for url in ("/deals/queue/", "/deals/rules/", "/deals/customers/", "/deals/customers/new/"):
        assert client.get(url).status_code == 403, url
    page = html(client.get("/deals/"))
    assert "Approval queue" not in page and "Named accounts" not in page


def test_a_viewer_reads_but_cannot_act(
    login, held: Registration, partner_a_viewer, partner_a_user
) -> None:
    client = login(partner_a_viewer)
    assert held.number in html(client.get("/deals/"))
    page = html(client.get(f"/deals/{held.pk}/"))
    assert held.customer_name in page
    assert 'id="actions"' not in page and "Withdraw" not in page and "Edit" not in page
    assert "Register a deal" not in html(client.get("/deals/"))
    assert client.get("/deals/new/").status_code == 403
    assert client.post("/deals/new/", form(customer_name="Viewer Inc")).status_code == 403
    assert client.post("/deals/similar/", form()).status_code == 403
    for action in ("withdraw", "won", "request_extension", "approve"):
        response = client.post(
            f"/deals/{held.pk}/act/", {"action": action, "close-reason": "x", "request-reason": "x"}
        )
        assert response.status_code == 403, action
    assert client.get(f"/deals/{held.pk}/edit/").status_code == 403
    held.refresh_from_db()
    assert held.status == Status.APPROVED and held.extension_requested_at is None
    assert Registration.objects.count() == 1


def test_staff_see_every_registration_and_filter_and_export(
    login, held: Registration, second: Registration, analyst, partner_b
) -> None:
    client = login(analyst)
    page = html(client.get("/deals/"))
    assert "Deal registrations" in page
    assert held.number in page and second.number in page
    page = html(client.get("/deals/", {"status": "submitted"}))
    assert second.number in page and held.number not in page
    page = html(client.get("/deals/", {"organisation": partner_b.pk}))
    assert second.number in page and held.number not in page
    page = html(client.get("/deals/", {"q": "corporation"}))
    assert second.number in page and held.number not in page
    # Invalid filters are ignored, never an error page.
    assert client.get("/deals/", {"organisation": "x", "status": "nope"}).status_code == 200
    # The htmx partial is the rows only.
    partial = client.get(
        "/deals/", {"q": "acme"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="registration-results"
    )
    assert "<html" not in html(partial) and held.number in html(partial)

    rows = csv_rows(client.get("/deals/export.csv", {"status": "submitted"}))
    assert rows[0][:3] == ["Number", "Registered by", "End customer"]
    assert rows[1][:3] == [second.number, "Bravo Resellers", "Acme Corporation Ltd"]
    assert rows[1][rows[0].index("Open conflicts")] == "1"
    assert len(rows) == 2
    xlsx = client.get("/deals/export.xlsx")
    assert xlsx.status_code == 200
    assert b"".join(xlsx.streaming_content).startswith(b"PK")
    # An analyst reads but decides nothing.
    assert client.get("/deals/queue/").status_code == 403
    response = client.post(f"/deals/{second.pk}/act/", {"action": "approve"})
    assert response.status_code == 403
    assert 'value="approve"' not in html(client.get(f"/deals/{second.pk}/"))


def test_the_list_reads_a_fixed_number_of_queries(
    login, held, second, channel_manager, partner_a_user, django_assert_max_num_queries
) -> None:
    for index in range(6):
        register(partner_a_user, customer_name=f"Other Customer {index}")
    client = login(channel_manager)
    client.get("/deals/")
    with django_assert_max_num_queries(14):
        response = client.get("/deals/")
    assert html(response).count('data-registration="') == 8


# -- the registration form -----------------------------------------------------------------
def test_the_form_shows_field_errors_and_saves_nothing(login, partner_a_user) -> None:
    client = login(partner_a_user)
    response = client.post("/deals/new/", {})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {
        "customer_name",
        "value",
        "currency",
        "expected_close",
    }
    response = client.post(
        "/deals/new/",
        form(customer_country="USA", value="-5", currency="dollars", expected_close="3000-01-01"),
    )
    errors = response.context["form"].errors
    assert errors.keys() >= {"customer_country", "value", "currency", "expected_close"}
    # The service's own checks come back as field errors too.
    response = client.post("/deals/new/", form(customer_domain="not a domain", other_lines=""))
    errors = response.context["form"].errors
    assert "customer_domain" in errors and "product_lines" in errors
    assert 'class="field has-error' in html(response)
    # Crafted values are field errors, never a 500.
    response = client.post(
        "/deals/new/",
        form(territory="999999999999", products=["abc"], customer_name="\x00 Evil"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Registration.objects.count() == 0


def test_a_blocking_standing_refuses_the_registration_on_the_form(login, partner_a_user) -> None:
    with gate("block", "Scorecard standing: red"):
        response = login(partner_a_user).post("/deals/new/", form())
    assert response.status_code == 200
    assert "may not register deals now" in html(response)
    assert Registration.objects.count() == 0


def test_staff_register_for_a_partner_or_for_direct_sales(
    login, channel_manager, partner_b, vendor
) -> None:
    client = login(channel_manager)
    page = html(client.get("/deals/new/"))
    assert 'name="organisation"' in page
    response = client.post("/deals/new/", form(organisation=partner_b.pk))
    registration = Registration.objects.get()
    assert response["Location"] == f"/deals/{registration.pk}/"
    assert registration.organisation == partner_b and registration.registered_by == channel_manager
    client.post("/deals/new/", form(customer_name="Direct Customer", organisation=vendor.pk))
    assert Registration.objects.get(customer_name="Direct Customer").organisation == vendor
    response = client.post("/deals/new/", form(customer_name="Nobody", organisation=987654))
    assert "organisation" in response.context["form"].errors


def test_the_similar_panel_lists_candidates_and_saves_nothing(
    login, held: Registration, channel_manager
) -> None:
    client = login(channel_manager)
    before = (Registration.objects.count(), Conflict.objects.count(), EndCustomer.objects.count())
    response = client.post(
        "/deals/similar/", form(customer_name="Acme Corporation Ltd", organisation="")
    )
    page = html(response)
    assert response.status_code == 200 and "<html" not in page
    assert "ACME Corp." in page and held.number in page and "Alpha Distribution" in page
    assert "score 100" in page and "Similar company name" in page
    assert "Overlapping product lines: Servers" in page
    after = (Registration.objects.count(), Conflict.objects.count(), EndCustomer.objects.count())
    assert after == before
    # Nothing typed yet: a hint; a different customer: nothing similar.
    assert "Type the customer" in html(client.post("/deals/similar/", {"customer_name": ""}))
    page = html(client.post("/deals/similar/", form(customer_name="Globex Industries")))
    assert "No similar registration" in page
    # Half-typed, invalid fields are ignored, never an error.
    response = client.post(
        "/deals/similar/", {"customer_name": "acme", "value": "x", "territory": "y"}
    )
    assert response.status_code == 200
    # GET is not how it is asked.
    assert client.get("/deals/similar/").status_code == 405


def test_partners_are_never_told_who_holds_a_conflicting_registration(
    login, held: Registration, second: Registration, partner_b_user
) -> None:
    client = login(partner_b_user)
    secrets = ("Alpha Distribution", "ACME Corp.", held.number, f"/deals/{held.pk}/")
    page = html(client.get(f"/deals/{second.pk}/"))
    assert CONFLICT_SENTENCE in page
    for secret in secrets:
        assert secret not in page, secret
    panel = html(client.post("/deals/similar/", form(customer_name="Acme Corporation Ltd")))
    assert CONFLICT_SENTENCE in panel
    for secret in secrets:
        assert secret not in panel, secret
    # The exports say no more.
    export = html(client.get("/deals/export.csv"))
    for secret in secrets[:3]:
        assert secret not in export

    set_rules(reveal_conflicts=True)
    page = html(client.get(f"/deals/{second.pk}/"))
    assert "Alpha Distribution" in page and "ACME Corp." in page and held.number in page
    assert f'href="/deals/{held.pk}/"' not in page  # still not theirs to open
    panel = html(client.post("/deals/similar/", form(customer_name="Acme Corporation Ltd")))
    assert "Alpha Distribution" in panel and "ACME Corp." in panel


# -- the done-when flow --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "then", "country"),
    [("ACME Corp.", "Acme Corporation Ltd", "US"), ("华为技术有限公司", "华为技术", "CN")],
)
def test_a_second_registration_shows_the_conflict_and_cannot_be_approved(
    login, partner_a_user, partner_b_user, channel_manager, first, then, country
) -> None:
    response = login(partner_a_user).post(
        "/deals/new/", form(customer_name=first, customer_country=country)
    )
    held = Registration.objects.get(customer_name=first)
    assert response["Location"] == f"/deals/{held.pk}/"
    assert held.status == Status.APPROVED and held.protected_until is not None
    page = html(login(partner_a_user).get(f"/deals/{held.pk}/"))
    # "Why?": the rule that approved it and its inputs.
    assert "Approved automatically: no conflict, and the standing allows it" in page
    assert "Conflicts considered</dt><dd>none" in page
    assert "Protection window</dt><dd>90 days" in page

    response = login(partner_b_user).post(
        "/deals/new/", form(customer_name=then, customer_country=country)
    )
    second = Registration.objects.get(customer_name=then)
    assert response.status_code == 302 and second.status == Status.SUBMITTED

    manager = login(channel_manager)
    queue = html(manager.get("/deals/queue/"))
    assert second.number in queue and held.number not in queue
    page = html(manager.get(f"/deals/{second.pk}/"))
    # Side by side: both names, the matching rows marked, the score and the reasons.
    assert "This registration" in page and "The other registration" in page
    assert first in page and then in page and held.number in page
    assert '<tr data-field="customer_name" class="match">' in page
    assert '<tr data-field="product_lines" class="match">' in page
    assert "score 100" in page
    assert "Similar company name" in page and "Overlapping product lines: Servers" in page
    assert "blocks approval" in page
    assert "Left for a channel manager to decide" in page
    assert "possible conflicts were found" in page
    assert "Registration, score 100, Open, blocks approval" in page

    response = manager.post(
        f"/deals/{second.pk}/act/", {"action": "approve", "decide-reason": "looks fine"}
    )
    assert response.status_code == 200
    assert "blocking conflict(s) must be resolved first" in html(response)
    second.refresh_from_db()
    assert second.status == Status.SUBMITTED and second.protected_until is None
    assert not second.lines.filter(protected=True).exists()


def test_dismissing_the_conflict_still_leaves_one_approval_per_customer_and_line(
    login, held: Registration, second: Registration, channel_manager
) -> None:
    client = login(channel_manager)
    conflict = Conflict.objects.get(registration=second)
    prefix = f"conflict-{conflict.pk}"
    # The verdict needs a reason.
    response = client.post(
        f"/deals/{second.pk}/conflicts/{conflict.pk}/resolve/",
        {f"{prefix}-resolution": "dismissed"},
    )
    assert response.status_code == 200 and "reason" in html(response).lower()
    conflict.refresh_from_db()
    assert conflict.resolution == Conflict.Resolution.OPEN
    response = client.post(
        f"/deals/{second.pk}/conflicts/{conflict.pk}/resolve/",
        {f"{prefix}-resolution": "dismissed", f"{prefix}-reason": "another site of theirs"},
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.resolution == Conflict.Resolution.DISMISSED
    page = html(client.get(f"/deals/{second.pk}/"))
    assert "Not a conflict" in page and "another site of theirs" in page
    # Both resolve to one end customer: the database keeps one protected registration.
    response = client.post(f"/deals/{second.pk}/act/", {"action": "approve"})
    assert response.status_code == 200
    assert "already holds protection" in html(response)
    second.refresh_from_db()
    assert second.status == Status.SUBMITTED
    # A conflict of another registration answers 404.
    other = register(channel_manager, customer_name="Stark Industries")
    response = client.post(
        f"/deals/{other.pk}/conflicts/{conflict.pk}/resolve/",
        {f"{prefix}-resolution": "upheld", f"{prefix}-reason": "x"},
    )
    assert response.status_code == 404


# -- the workflow --------------------------------------------------------------------------
def test_return_edit_resubmit_and_reject_with_reasons(
    login, second: Registration, channel_manager, partner_b_user
) -> None:
    manager = login(channel_manager)
    url = f"/deals/{second.pk}/act/"
    response = manager.post(url, {"action": "return", "decide-reason": ""})
    assert response.status_code == 200
    assert response.context["action_forms"]["decide"].errors
    second.refresh_from_db()
    assert second.status == Status.SUBMITTED
    response = manager.post(url, {"action": "return", "decide-reason": "Which site is it?"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Status.RETURNED

    partner = login(partner_b_user)
    page = html(partner.get(f"/deals/{second.pk}/"))
    assert "Which site is it?" in page and f"/deals/{second.pk}/edit/" in page
    # The edit page's panel checks as B's registration and leaves itself out.
    panel = html(partner.post("/deals/similar/", {**form(), "registration": second.pk}))
    assert CONFLICT_SENTENCE in panel and second.number not in panel
    edit = partner.get(f"/deals/{second.pk}/edit/")
    assert edit.context["form"]["customer_name"].value() == "Acme Corporation Ltd"
    assert edit.context["form"]["other_lines"].value() == "Servers"
    response = partner.post(
        f"/deals/{second.pk}/edit/",
        form(customer_name="Acme Corporation Ltd", customer_city="Springfield", value="x"),
    )
    assert response.status_code == 200 and "value" in response.context["form"].errors
    response = partner.post(
        f"/deals/{second.pk}/edit/",
        form(customer_name="Acme Corporation Ltd", customer_city="Springfield"),
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Status.SUBMITTED and second.customer_city == "Springfield"

    response = manager.post(url, {"action": "reject", "decide-reason": "ACME is Alpha's"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Status.REJECTED
    page = html(partner.get(f"/deals/{second.pk}/"))
    assert "Rejected" in page and "ACME is Alpha&#x27;s" in page
    # A rejected registration can no longer be edited.
    response = partner.get(f"/deals/{second.pk}/edit/")
    assert response.status_code == 302
    assert partner.get(f"/deals/{second.pk}/").status_code == 200


def test_extension_closing_and_history(
    login, held: Registration, partner_a_user, channel_manager
) -> None:
    partner = login(partner_a_user)
    url = f"/deals/{held.pk}/act/"
    protected = held.protected_until
    response = partner.post(url, {"action": "request_extension", "request-reason": ""})
    assert response.status_code == 200 and response.context["action_forms"]["request"].errors
    response = partner.post(
        url, {"action": "request_extension", "request-reason": "Board meets in Q3"}
    )
    assert response.status_code == 302
    page = html(partner.get(f"/deals/{held.pk}/"))
    assert "Request an extension" not in page  # once only
    assert partner.post(url, {"action": "grant_extension"}).status_code == 403

    manager = login(channel_manager)
    page = html(manager.get(f"/deals/{held.pk}/"))
    assert "Board meets in Q3" in page and "Grant the extension" in page
    response = manager.post(url, {"action": "grant_extension", "extension-reason": "ok"})
    assert response.status_code == 302
    held.refresh_from_db()
    rules = EngagementRules.current()
    assert held.extended and held.protected_until == protected + dt.timedelta(
        days=rules.extension_days
    )

    response = partner.post(url, {"action": "won", "close-reason": "Signed"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Status.WON
    page = html(partner.get(f"/deals/{held.pk}/"))
    assert 'id="actions"' not in page
    # The history shows every step with its reason.
    assert "Board meets in Q3" in page and "Signed" in page and "Status changed" in page
    # An unknown action is a message, not an error page.
    response = partner.post(url, {"action": "explode"}, follow=True)
    assert response.status_code == 200 and "Choose one of the actions" in html(response)


def test_withdrawing_gives_the_line_back(
    login, held: Registration, partner_a_user, partner_b_user
) -> None:
    response = login(partner_a_user).post(
        f"/deals/{held.pk}/act/", {"action": "withdraw", "close-reason": "Lost interest"}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Status.WITHDRAWN
    login(partner_b_user).post("/deals/new/", form(customer_name="Acme Corporation Ltd"))
    assert Registration.objects.get(customer_name="Acme Corporation Ltd").status == Status.APPROVED


# -- the approval queue --------------------------------------------------------------------
def test_the_queue_lists_the_oldest_due_first_and_flags_the_overdue(
    login, held: Registration, partner_b_user, partner_a_user, channel_manager, analyst
) -> None:
    set_rules(auto_approve=False)
    late = services.submit_registration(
        actor=partner_b_user,
        data=deal(customer_name="Acme Corporation Ltd"),
        now=timezone.now() - dt.timedelta(days=5),
    )
    fresh = register(partner_a_user, customer_name="Globex Industries")
    page = html(login(channel_manager).get("/deals/queue/"))
    assert page.index(late.number) < page.index(fresh.number)
    assert held.number not in page
    assert f'data-registration="{late.pk}" data-overdue="true"' in page
    assert f'data-registration="{fresh.pk}">' in page
    assert "overdue" in page
    # The conflict count and the top score, linked to the side-by-side view.
    assert f'href="/deals/{late.pk}/#conflicts" class="badge badge-warning">1</a>' in page
    assert ">100</td>" in page
    assert login(analyst).get("/deals/queue/").status_code == 403


# -- rules of engagement -------------------------------------------------------------------
def test_the_rules_form_saves_per_tier_windows_and_shows_errors(
    login, channel_manager, vendor_admin, analyst
) -> None:
    program = make_program(vendor_admin, code="partner-program", name="Partner Program")
    client = login(channel_manager)
    page = html(client.get("/deals/rules/"))
    assert "Rules of engagement" in page and "window_silver" not in page
    # Picking the program brings its live tiers' fields (htmx swaps #tier-days).
    page = html(client.get("/deals/rules/", {"tier_program": program.pk}))
    for code in ("registered", "silver", "gold"):
        assert f'name="window_{code}"' in page
    data = {
        "policy": "first_to_file",
        "name_threshold": "90",
        "require_product_overlap": "on",
        "check_territories": "on",
        "check_named_accounts": "on",
        "auto_approve": "on",
        "reveal_conflicts": "",
        "approval_sla_hours": "24",
        "protection_days": "90",
        "extension_days": "30",
        "expiry_reminder_days": "14",
        "tier_program": str(program.pk),
        "window_gold": "180",
        "window_silver": "",
    }
    response = client.post("/deals/rules/", {**data, "name_threshold": "20", "window_gold": "0"})
    assert response.status_code == 200
    assert {"name_threshold", "window_gold"} <= set(response.context["form"].errors)
    rules = EngagementRules.current()
    assert rules.name_threshold == 85 and rules.tier_program is None
    response = client.post("/deals/rules/", data)
    assert response.status_code == 302
    rules = EngagementRules.current()
    assert rules.name_threshold == 90 and rules.approval_sla_hours == 24
    assert not rules.reveal_conflicts
    assert rules.tier_program == program and rules.tier_protection_days == {"gold": 180}
    page = html(client.get("/deals/rules/"))
    assert 'name="window_gold"' in page and 'value="180"' in page
    # Read-only for an analyst, refused when posted.
    page = html(login(analyst).get("/deals/rules/"))
    assert "a channel manager changes them" in page and "Save the rules" not in page
    assert login(analyst).post("/deals/rules/", data).status_code == 403
    assert login(channel_manager).post("/deals/rules/", {"tier_program": "x"}).status_code == 200


# -- named accounts ------------------------------------------------------------------------
def test_named_accounts_list_form_and_errors(
    login, channel_manager, analyst, partner_a_user
) -> None:
    client = login(channel_manager)
    response = client.post(
        "/deals/customers/new/",
        {
            "name": "Initech GmbH",
            "tax_id": "DE 123-456-789",
            "domain": "https://www.initech.de/about",
            "country": "de",
            "named_account": "on",
            "account_owner": channel_manager.pk,
        },
    )
    assert response.status_code == 302
    customer = EndCustomer.objects.get()
    assert (customer.tax_key, customer.domain_key, customer.country) == (
        "DE123456789",
        "initech.de",
        "DE",
    )
    assert customer.named_account and customer.account_owner == channel_manager
    page = html(client.get("/deals/customers/"))
    assert "Initech GmbH" in page and "initech.de" in page
    # The same tax id again is an error on that field.
    response = client.post("/deals/customers/new/", {"name": "Initech AG", "tax_id": "de123456789"})
    assert response.status_code == 200 and "tax_id" in response.context["form"].errors
    response = client.post("/deals/customers/new/", {"name": "", "account_owner": "x"})
    assert {"name", "account_owner"} <= set(response.context["form"].errors)
    # Editing: a customer resolved from a registration becomes a named account.
    response = client.post(
        f"/deals/customers/{customer.pk}/",
        {"name": "Initech GmbH", "tax_id": "DE123456789", "domain": "initech.de", "city": "Berlin"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Berlin" and not customer.named_account
    assert "Initech" not in html(client.get("/deals/customers/"))
    assert "Initech" in html(client.get("/deals/customers/", {"scope": "all"}))
    assert client.get("/deals/customers/999999/").status_code == 404

    # Partners never see end customers; an analyst reads but does not edit.
    assert login(partner_a_user).get("/deals/customers/").status_code == 403
    reader = login(analyst)
    assert reader.get("/deals/customers/", {"scope": "all"}).status_code == 200
    assert reader.get("/deals/customers/new/").status_code == 403
    assert reader.post(f"/deals/customers/{customer.pk}/", {"name": "Hacked"}).status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Initech GmbH"


def test_a_registration_of_a_named_account_is_a_conflict(
    login, channel_manager, partner_a_user
) -> None:
    login(channel_manager).post(
        "/deals/customers/new/",
        {"name": "Initech GmbH", "domain": "initech.de", "named_account": "on"},
    )
    response = login(partner_a_user).post(
        "/deals/new/", form(customer_name="Initech", customer_domain="sales.initech.de")
    )
    registration = Registration.objects.get()
    assert response.status_code == 302 and registration.status == Status.SUBMITTED
    page = html(login(partner_a_user).get(f"/deals/{registration.pk}/"))
    assert CONFLICT_SENTENCE in page and "Initech GmbH" not in page
    page = html(login(channel_manager).get(f"/deals/{registration.pk}/"))
    assert "Against the named account Initech GmbH" in page
    assert '<tr data-field="customer_domain" class="match">' in page


def test_amounts_are_shown_exactly(login, partner_a_user) -> None:
    registration = register(partner_a_user, value=Decimal("1234567.89"), currency="EUR")
    page = html(login(partner_a_user).get(f"/deals/{registration.pk}/"))
    assert "1,234,567.89 EUR" in page


def test_another_partners_exclusive_territory_is_named_to_staff_only(
    login, partner_a, partner_b_user, partner_b, channel_manager, east
) -> None:
    # Partners choose among their own territories: staff register it for partner B.
    response = login(channel_manager).post(
        "/deals/new/",
        form(customer_name="Shanghai Port Logistics", territory=east.pk, organisation=partner_b.pk),
    )
    registration = Registration.objects.get()
    assert response.status_code == 302 and registration.status == Status.SUBMITTED
    page = html(login(partner_b_user).get(f"/deals/{registration.pk}/"))
    assert CONFLICT_SENTENCE in page
    assert "Alpha Distribution" not in page and "Exclusive territory China East" not in page
    page = html(login(channel_manager).get(f"/deals/{registration.pk}/"))
    assert "Against Alpha Distribution" in page and "Exclusive territory China East" in page
