"""The channel read API: isolation for every endpoint, filters, and errors as JSON."""

from __future__ import annotations

import pytest

from tests.channel.factories import sales_line

pytestmark = pytest.mark.django_db
V1 = "/api/v1"

# endpoint -> (world keys of partner A's rows, of partner A's child, of partner B's rows)
OWNED = {
    "/sales-lines": ({"a_line", "a_through"}, {"child_line"}, {"b_line"}),
    "/inventory": ({"a_inventory"}, set(), {"b_inventory"}),
    "/deliveries": ({"a_delivery"}, set(), {"b_delivery"}),
    "/survey-responses": ({"a_survey"}, set(), {"b_survey"}),
    "/certifications": ({"a_cert", "a_expired_cert"}, set(), {"b_cert"}),
}
SHARED = ("/products", "/product-categories", "/exchange-rates")
DETAILS = ("/sales-lines/{b_line}", "/products/{bike}")
# The operation behind each path above: this file is the channel API's isolation matrix.
CHANNEL_OPERATIONS = {
    "/sales-lines": "sales_lines_list",
    "/inventory": "inventory_list",
    "/deliveries": "deliveries_list",
    "/survey-responses": "survey_responses_list",
    "/certifications": "certifications_list",
    "/products": "products_list",
    "/product-categories": "product_categories_list",
    "/exchange-rates": "exchange_rates_list",
    "/sales-lines/{b_line}": "sales_lines_get",
    "/products/{bike}": "products_get",
}


def test_every_channel_operation_is_in_this_matrix():
    from accord.api import api
    from accord.channel import api as channel_api

    operations = {
        operation["operationId"]
        for path in api.get_openapi_schema()["paths"].values()
        for operation in path.values()
    }
    # Every channel endpoint is named after its view function in accord.channel.api.
    channel = {name for name in operations if callable(getattr(channel_api, name, None))}
    assert channel == set(CHANNEL_OPERATIONS.values())
    assert set(CHANNEL_OPERATIONS) == {*OWNED, *SHARED, *DETAILS}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return {item["id"] for item in body["items"]}


@pytest.mark.parametrize("path", [*OWNED, *SHARED, *DETAILS])
def test_anonymous_gets_401_json(path, channel, api):
    response = api(None).get(V1 + path.format(**channel))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


@pytest.mark.parametrize("path", list(OWNED))
def test_each_side_sees_only_its_own_rows(
    path, channel, api, partner_a_user, partner_a_viewer, partner_b_user, analyst
):
    own, child, other = OWNED[path]
    expected_a = {channel[k] for k in own | child}
    expected_b = {channel[k] for k in other}
    assert ids(api(partner_a_user).get(V1 + path)) == expected_a
    assert ids(api(partner_a_viewer).get(V1 + path)) == expected_a
    assert ids(api(partner_b_user).get(V1 + path)) == expected_b
    assert ids(api(analyst).get(V1 + path)) == expected_a | expected_b
    # Asking for the other side's organisation explicitly yields nothing, not their rows.
    assert ids(api(partner_b_user).get(f"{V1}{path}?organisation={channel['a']}")) == set()


@pytest.mark.parametrize("path", [*OWNED, *SHARED])
def test_without_channel_permission_lists_are_empty(path, channel, api, no_channel_user):
    assert ids(api(no_channel_user).get(V1 + path)) == set()


@pytest.mark.parametrize("path", SHARED)
def test_shared_master_data_is_the_same_for_everyone(
    path, channel, api, partner_a_viewer, partner_b_user, analyst
):
    seen = [ids(api(user).get(V1 + path)) for user in (partner_a_viewer, partner_b_user, analyst)]
    assert seen[0] and seen[0] == seen[1] == seen[2]


def test_other_partners_line_is_404_and_own_is_200(channel, api, partner_a_user, partner_b_user):
    path = f"{V1}/sales-lines/{channel['b_line']}"
    hidden = api(partner_a_user).get(path)
    assert hidden.status_code == 404
    assert hidden.json() == {"error": "not_found", "detail": "Not found.", "fields": {}}
    own = api(partner_b_user).get(path)
    assert own.status_code == 200
    assert own.json()["organisation_id"] == channel["b"]


def test_detail_without_permission_is_404(channel, api, no_channel_user):
    assert api(no_channel_user).get(f"{V1}/products/{channel['bike']}").status_code == 404
    assert api(no_channel_user).get(f"{V1}/sales-lines/{channel['a_line']}").status_code == 404


def test_amounts_are_converted_at_the_dated_rate_and_kept_exact(channel, api, analyst):
    body = api(analyst).get(f"{V1}/sales-lines/{channel['b_line']}").json()
    # 80 EUR on 2026-03-15 at the rate valid from 2026-03-01 (1.2).
    assert body["amount"] == "80.00"
    assert body["amount_base"] == "96.00"
    assert body["currency"] == "EUR"
    through = api(analyst).get(f"{V1}/sales-lines/{channel['a_through']}").json()
    assert through["amount_base"] == "98.00"  # 700 CNY x 0.14
    assert through["end_customer_city"] == "Shanghai"
    assert through["direction"] == "sell_through"


def test_sales_line_filters(channel, api, analyst):
    client = api(analyst)

    def get(query: str) -> set[int]:
        return ids(client.get(f"{V1}/sales-lines?{query}"))

    assert get("direction=sell_through") == {channel["a_through"]}
    assert get(f"organisation={channel['a']}") == {channel["a_line"], channel["a_through"]}
    assert get(f"product={channel['helmet']}") == {channel["a_through"]}
    # Half-open: date_to is exclusive, date_from inclusive.
    assert channel["a_through"] not in get("date_to=2026-04-02")
    assert get("date_from=2026-04-02") == {channel["a_through"]}
    assert get("q=cycling") == {channel["a_through"]}
    amounts = [
        item["amount_base"] for item in client.get(f"{V1}/sales-lines?sort=-amount").json()["items"]
    ]
    assert amounts == sorted(amounts, key=float, reverse=True)


def test_master_data_filters(channel, api, partner_b_user):
    client = api(partner_b_user)
    assert ids(client.get(f"{V1}/products?q=helm")) == {channel["helmet"]}
    assert ids(client.get(f"{V1}/products?category={channel['bikes']}")) == {channel["bike"]}
    rates = client.get(f"{V1}/exchange-rates?currency=eur").json()["items"]
    assert [r["valid_from"] for r in rates] == ["2026-03-01", "2026-01-01"]
    in_force = client.get(f"{V1}/exchange-rates?valid_on=2026-02-15").json()["items"]
    assert {(r["currency"], r["rate"]) for r in in_force} == {
        ("CNY", "0.1400000000"),
        ("EUR", "1.1000000000"),
    }
    categories = client.get(f"{V1}/product-categories").json()["items"]
    assert {c["key"]: c["product_count"] for c in categories}["bikes"] == 1


def test_certifications_valid_on(channel, api, partner_a_user):
    client = api(partner_a_user)
    assert ids(client.get(f"{V1}/certifications?valid_on=2026-03-01")) == {channel["a_cert"]}
    assert ids(client.get(f"{V1}/certifications?valid_on=2024-03-01")) == {
        channel["a_expired_cert"]
    }
    assert ids(client.get(f"{V1}/certifications?expiring_before=2026-01-01")) == {
        channel["a_expired_cert"]
    }


def test_deliveries_late_filter(channel, api, analyst):
    # The factory's deliveries arrive two days after the promise.
    assert ids(api(analyst).get(f"{V1}/deliveries?late=true")) == {
        channel["a_delivery"],
        channel["b_delivery"],
    }
    assert ids(api(analyst).get(f"{V1}/deliveries?late=false")) == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/sales-lines?date_from=2026-13-01", "date_from"),
        ("/sales-lines?date_to=99999-01-01", "date_to"),
        ("/sales-lines?direction=sideways", "direction"),
        ("/sales-lines?organisation=0", "organisation"),
        ("/sales-lines?organisation=99999999999999999999999", "organisation"),
        ("/sales-lines?sort=price", "sort"),
        ("/sales-lines?limit=100000", "limit"),
        ("/sales-lines?q=%00", "q"),
        ("/exchange-rates?currency=EURO", "currency"),
        ("/certifications?valid_on=yesterday", "valid_on"),
        ("/products?category=-1", "category"),
    ],
)
def test_bad_query_is_422_json(query, field, channel, api, analyst):
    response = api(analyst).get(V1 + query)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert field in body["fields"]


def test_sales_lines_list_query_count_does_not_grow(
    channel, api, analyst, partner_a, django_assert_max_num_queries
):
    client = api(analyst)
    with django_assert_max_num_queries(8) as few:
        client.get(f"{V1}/sales-lines")
    for n in range(30):
        sales_line(partner_a, save=True, source_key=f"more-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{V1}/sales-lines")
    assert response.json()["count"] == 34
