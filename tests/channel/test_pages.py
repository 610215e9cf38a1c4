"""Channel pages against every kind of user: catalogue, sales drill-down, organisation tab.

anonymous -> sent to log in; without channel permission -> 403; another organisation's
rows never appear, and its organisation page answers 404.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.channel.factories import CertificationFactory, sales_line

pytestmark = pytest.mark.django_db

PAGES = ("/channel/products/", "/channel/sales/")


def tab_url(organisation_id: int) -> str:
    return f"/organisations/{organisation_id}/?tab=channel"


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_log_in(url, channel, login):
    response = login(None).get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_anonymous_organisation_tab_is_sent_to_log_in(channel, login):
    response = login(None).get(tab_url(channel["a"]))
    assert response.status_code == 302


@pytest.mark.parametrize("url", PAGES)
def test_without_channel_permission_is_403(url, channel, login, no_channel_user):
    assert login(no_channel_user).get(url).status_code == 403


@pytest.mark.parametrize("user", ["partner_a_viewer", "partner_b_user", "analyst"])
def test_catalogue_is_shared(user, channel, login, request):
    response = login(request.getfixturevalue(user)).get("/channel/products/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "BK-1" in content and "HL-1" in content
    assert "2 products" in content


def test_catalogue_filters_and_htmx_partial(channel, login, analyst):
    client = login(analyst)
    response = client.get(
        "/channel/products/?q=helm", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-results"
    )
    content = response.content.decode()
    assert "<html" not in content
    assert "HL-1" in content and "BK-1" not in content
    by_category = client.get(f"/channel/products/?category={channel['bikes']}").content.decode()
    assert "BK-1" in by_category and "HL-1" not in by_category
    # A bad filter value is ignored, never an error page.
    assert client.get("/channel/products/?category=abc&sort=nope&page=x").status_code == 200


def test_partners_see_only_their_own_sales_lines(
    channel, login, partner_a_user, partner_b_user, analyst
):
    a_page = login(partner_a_user).get("/channel/sales/").content.decode()
    assert "SO-A1" in a_page and "ST-A2" in a_page
    assert "SO-B1" not in a_page and "Bravo Resellers" not in a_page
    b_page = login(partner_b_user).get("/channel/sales/").content.decode()
    assert "SO-B1" in b_page and "SO-A1" not in b_page
    assert "Alpha Distribution" not in b_page  # not even as a filter choice
    # Asking for A's organisation is an invalid choice for B: dropped, B still sees only B.
    probing = login(partner_b_user).get(f"/channel/sales/?organisation={channel['a']}")
    assert probing.status_code == 200
    assert "SO-A1" not in probing.content.decode()
    everything = login(analyst).get("/channel/sales/").content.decode()
    assert "SO-A1" in everything and "SO-B1" in everything
    assert "4 lines" in everything


def test_sales_filters_are_half_open_and_totals_follow(channel, login, analyst):
    client = login(analyst)
    page = client.get(
        f"/channel/sales/?organisation={channel['a']}&date_from=2026-03-01&date_to=2026-04-02"
    ).content.decode()
    assert "SO-A1" in page and "ST-A2" not in page  # 2026-04-02 is the excluded end
    assert "1 line" in page
    assert "Total 100.00 USD" in page
    through = client.get(
        "/channel/sales/?direction=sell_through",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="sales-results",
    ).content.decode()
    assert "<html" not in through
    assert "Shanghai Cycling Club" in through and "SO-A1" not in through
    bad = client.get("/channel/sales/?date_from=2026-02-30&direction=x&organisation=99999999")
    assert bad.status_code == 200
    assert "4 lines" in bad.content.decode()


def test_sales_page_query_count_does_not_grow(
    channel, login, analyst, partner_a, django_assert_max_num_queries
):
    client = login(analyst)
    with django_assert_max_num_queries(20) as few:
        client.get("/channel/sales/")
    for n in range(40):
        sales_line(partner_a, save=True, source_key=f"page-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/channel/sales/").status_code == 200


def test_organisation_channel_tab(channel, login, partner_a_user, partner_a):
    CertificationFactory(
        organisation=partner_a,
        person="Soon Sam",
        earned_on=dt.date(2024, 1, 1),
        expires_on=dt.date.today() + dt.timedelta(days=10),
    )
    response = login(partner_a_user).get(tab_url(channel["a"]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Channel data" in content
    assert f"/channel/sales/?organisation={channel['a']}" in content
    assert "Soon Sam" in content and "Expiring soon" in content
    assert "Expired Ed" not in content  # expired certifications are not "valid"
    assert "Engineer of Bravo" not in content
    assert "Main warehouse" in content  # the latest inventory snapshot


def test_other_partner_gets_404_on_the_tab(channel, login, partner_b_user):
    assert login(partner_b_user).get(tab_url(channel["a"])).status_code == 404


def test_tab_hidden_without_channel_permission(channel, login, no_channel_user):
    response = login(no_channel_user).get(tab_url(channel["a"]))
    assert response.status_code == 200
    assert "Channel data" not in response.content.decode()
    assert "Main warehouse" not in response.content.decode()


def test_tab_htmx_partial(channel, login, analyst):
    response = login(analyst).get(
        tab_url(channel["b"]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="organisation-tabs"
    )
    content = response.content.decode()
    assert "<html" not in content
    assert "Engineer of Bravo" in content


def test_main_navigation_links_the_channel_pages(channel, login, partner_a_viewer, no_channel_user):
    page = login(partner_a_viewer).get("/organisations/").content.decode()
    assert 'href="/channel/products/"' in page and 'href="/channel/sales/"' in page
    hidden = login(no_channel_user).get("/organisations/").content.decode()
    assert 'href="/channel/products/"' not in hidden and 'href="/channel/sales/"' not in hidden


def test_tab_links_carry_unformatted_ids(login, analyst):
    # Ids are not numbers to format: 12345 must not become "12,345" in a query string.
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(pk=12345, name="Big Id Trading")
    content = login(analyst).get(tab_url(organisation.pk)).content.decode()
    assert "/channel/sales/?organisation=12345" in content
    assert "12,345" not in content
