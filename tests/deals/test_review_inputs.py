"""Review of issue 5 on a real database: inputs that used to give a 500 on the deal pages, and
how the registration page explains its audit history (names, not ids or field codes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from accord.accounts.models import User
from accord.deals import services
from accord.deals.models import Registration
from tests.deals.builders import deal, set_rules

pytestmark = pytest.mark.django_db
CLOSE = (timezone.localdate() + dt.timedelta(days=120)).isoformat()
HUGE_IDS = ["99999999999999999999", "-99999999999999999999", str(2**63)]


def form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_name": "ACME Corp.",
        "customer_country": "US",
        "other_lines": "Servers",
        "value": "125000.00",
        "currency": "USD",
        "expected_close": CLOSE,
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("product_id", HUGE_IDS)
def test_a_product_id_no_column_holds_is_a_form_error(
    login: Any, partner_a_user: User, product_id: str
) -> None:
    """/deals/new/, the live panel and the edit page took a product id beyond 64 bits to the
    database (SQLite: OverflowError, PostgreSQL: bigint out of range): a 500."""
    client = login(partner_a_user)
    response = client.post("/deals/new/", form(products=[product_id]))
    assert response.status_code == 200
    assert "products" in response.context["form"].errors
    assert not Registration.objects.exists()

    response = client.post("/deals/similar/", form(products=[product_id]))
    assert response.status_code == 200

    set_rules(auto_approve=False)  # left submitted: its partner may still edit it
    registration = services.submit_registration(actor=partner_a_user, data=deal())
    assert registration.status == Registration.Status.SUBMITTED
    response = client.post(
        f"/deals/{registration.pk}/edit/", form(products=[product_id, product_id])
    )
    assert response.status_code == 200
    assert "products" in response.context["form"].errors


def test_the_history_names_the_organisation_and_labels_the_product_lines(
    login: Any, partner_a_user: User
) -> None:
    registration = services.submit_registration(actor=partner_a_user, data=deal())
    page = login(partner_a_user).get(f"/deals/{registration.pk}/").content.decode()
    history = page[page.index('class="history"') :]
    assert f": {registration.organisation_id}<" not in history.replace("</span>", "")
    assert "product_lines" not in history
    assert registration.organisation.name in history
