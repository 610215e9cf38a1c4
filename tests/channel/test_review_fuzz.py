"""Review: odd query parameters on the channel pages and API never answer 500."""

from __future__ import annotations

from typing import Any

import pytest

ODD = [
    "date_from=0001-01-01&date_to=9999-12-31",
    "date_to=0001-01-01",
    "valid_on=0001-01-01",
    "valid_on=9999-12-31",
    "organisation=99999999999999999999",
    "organisation=-1",
    "product=99999999999999999999",
    "page=99999999999999999999",
    "offset=99999999999999999999",
    "limit=0",
    "limit=100000",
    "sort=%00",
    "q=%00",
    "q=" + "x" * 5000,
    "direction=nope",
    "currency=%00%00",
    "category=99999999999999999999",
    "as_of=9999-12-31",
    "on=9999-12-31",
]
PAGES = ["/channel/products/", "/channel/sales/"]
API = [
    "/api/v1/products",
    "/api/v1/product-categories",
    "/api/v1/exchange-rates",
    "/api/v1/sales-lines",
    "/api/v1/inventory",
    "/api/v1/deliveries",
    "/api/v1/survey-responses",
    "/api/v1/certifications",
]


@pytest.mark.parametrize("query", ODD)
def test_odd_params(login: Any, api: Any, partner_a_user: Any, analyst: Any, query: str) -> None:
    for user in (partner_a_user, analyst):
        client = login(user)
        for url in PAGES:
            assert client.get(f"{url}?{query}").status_code < 500, (url, query)
        token = api(user)
        for url in API:
            assert token.get(f"{url}?{query}").status_code < 500, (url, query)
