"""KPI pages: the table across organisations (filters, sorting, exports), one organisation's
charts page, plotly.js served from the installed package, and who sees what."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accord.accounts.models import User
from accord.channel.services import record_sales_lines
from accord.partners.models import Organisation
from tests.channel.factories import sales_line
from tests.factories import OrganisationFactory, UserFactory

AS_OF = "2026-03-31"
QUARTER = {"period": "quarter", "as_of": AS_OF, "metrics": ["revenue", "orders"]}


def lines(organisation: Organisation, *amounts: str, day: dt.date = dt.date(2026, 2, 10)) -> None:
    record_sales_lines(
        actor=None,
        lines=[
            sales_line(
                organisation,
                amount=Decimal(amount),
                order_number=f"{organisation.pk}-{index}",
                date=day,
            )
            for index, amount in enumerate(amounts)
        ],
    )


@pytest.fixture
def sales(partner_a: Organisation, partner_a_child: Organisation, partner_b: Organisation) -> None:
    partner_a.external_key = "ALPHA"
    partner_a.save(update_fields=["external_key"])
    lines(partner_a, "100.00", "300.00")  # Q1 2026: 400.00 over 2 orders
    lines(partner_a_child, "1200.50")
    lines(partner_b, "50.00")
    lines(partner_b, "999.00", day=dt.date(2026, 4, 2))  # after as_of: never counted


@pytest.fixture
def no_role_user(vendor: Organisation) -> User:
    return UserFactory(organisation=vendor, email="nobody@vendor.test")


def body(response) -> str:
    return response.content.decode()


def row_names(text: str) -> list[str]:
    """Organisation names in the order of the table's rows."""
    import re

    tbody = text.split('id="kpi-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/kpis/organisation/\d+/">([^<]+)</a>\s*(?:<span|</td>)', tbody)


# -- the table ---------------------------------------------------------------------------
def test_table_shows_each_visible_organisation_with_its_values(login, vendor_admin, sales):
    response = login(vendor_admin).get("/kpis/", QUARTER)
    assert response.status_code == 200
    text = body(response)
    assert row_names(text) == ["Alpha Distribution", "Alpha Retail Shanghai", "Bravo Resellers"]
    assert "400.00" in text and "1,200.50" in text and "50.00" in text
    assert "999.00" not in text  # dated after as_of
    assert "2026 Q1" in text
    assert "ALPHA" in text  # the external key under the name


def test_table_defaults_render_without_parameters(login, analyst, sales):
    response = login(analyst).get("/kpis/")
    assert response.status_code == 200
    assert 'id="kpi-rows"' in body(response)
    assert "Alpha Distribution" in body(response)


def test_sorting_by_a_metric_both_ways(login, vendor_admin, sales):
    client = login(vendor_admin)
    up = row_names(body(client.get("/kpis/", {**QUARTER, "sort": "revenue"})))
    down = row_names(body(client.get("/kpis/", {**QUARTER, "sort": "-revenue"})))
    assert up == ["Bravo Resellers", "Alpha Distribution", "Alpha Retail Shanghai"]
    assert down == list(reversed(up))
    by_name_desc = row_names(body(client.get("/kpis/", {**QUARTER, "sort": "-name"})))
    assert by_name_desc == ["Bravo Resellers", "Alpha Retail Shanghai", "Alpha Distribution"]


def test_filters_narrow_the_organisations(login, vendor_admin, sales):
    client = login(vendor_admin)
    assert row_names(body(client.get("/kpis/", {**QUARTER, "kind": "reseller"}))) == [
        "Bravo Resellers"
    ]
    assert row_names(body(client.get("/kpis/", {**QUARTER, "q": "retail"}))) == [
        "Alpha Retail Shanghai"
    ]


def test_values_link_to_the_organisation_page_and_explain_themselves(
    login, vendor_admin, partner_a, sales
):
    text = body(login(vendor_admin).get("/kpis/", {**QUARTER, "q": "Alpha Distribution"}))
    assert f'href="/kpis/organisation/{partner_a.pk}/"' in text
    assert 'class="why"' in text  # the inputs behind each value


def test_htmx_request_gets_only_the_results(login, vendor_admin, sales):
    response = login(vendor_admin).get(
        "/kpis/", QUARTER, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="kpi-results"
    )
    assert response.status_code == 200
    assert "<html" not in body(response)
    assert 'id="kpi-rows"' in body(response)


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "not-a-date"},
        {"as_of": "0001-01-01"},
        {"period": "fortnight"},
        {"metrics": ["revenue", "no_such_metric"]},
        {"q": "x" * 500},
        {"kind": "spaceship"},
    ],
)
def test_bad_parameters_are_form_errors_not_500(login, vendor_admin, sales, params):
    response = login(vendor_admin).get("/kpis/", params)
    assert response.status_code == 200
    assert 'id="kpi-invalid"' in body(response)
    assert 'class="errorlist' in body(response)


def test_odd_sort_and_page_fall_back_quietly(login, vendor_admin, sales):
    client = login(vendor_admin)
    response = client.get("/kpis/", {**QUARTER, "sort": "-password", "page": "abc"})
    assert response.status_code == 200
    assert len(row_names(body(response))) == 3


def test_the_table_runs_a_fixed_number_of_queries(login, vendor_admin, sales):
    client = login(vendor_admin)
    client.get("/kpis/", QUARTER)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/kpis/", QUARTER).status_code == 200
        return len(queries)

    few = count()
    for _ in range(27):
        OrganisationFactory()
    assert count() == few


# -- exports ----------------------------------------------------------------------------
def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_csv_export_is_the_whole_sorted_table(login, vendor_admin, sales):
    for index in range(30):  # more than one page
        OrganisationFactory(name=f"Zulu {index:02d}")
    response = login(vendor_admin).get("/kpis/export.csv", {**QUARTER, "sort": "-revenue"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["External key", "Organisation", "Period start", "Period end"]
    assert rows[0][4].startswith("Revenue") and rows[0][5] == "Orders"
    assert len(rows) == 1 + 33
    assert rows[1] == ["", "Alpha Retail Shanghai", "2026-01-01", "2026-04-01", "1200.50", "1"]
    assert rows[2] == ["ALPHA", "Alpha Distribution", "2026-01-01", "2026-04-01", "400.00", "2"]
    assert rows[3][1] == "Bravo Resellers" and rows[3][4] == "50.00"


def test_xlsx_export_has_the_same_cells(login, vendor_admin, sales):
    response = login(vendor_admin).get("/kpis/export.xlsx", {**QUARTER, "sort": "name"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet = workbook.active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][1] == "Organisation"
    assert rows[1][:2] == ["ALPHA", "Alpha Distribution"]
    assert rows[1][2] == dt.datetime(2026, 1, 1)
    assert Decimal(str(rows[1][4])) == Decimal("400") and rows[1][5] == 2
    assert [row[1] for row in rows[1:]] == [
        "Alpha Distribution",
        "Alpha Retail Shanghai",
        "Bravo Resellers",
    ]


def test_export_cells_cannot_run_as_formulas(login, vendor_admin, partner_b, sales):
    partner_b.name = "=HYPERLINK(1)"
    partner_b.save(update_fields=["name"])
    rows = read_csv(login(vendor_admin).get("/kpis/export.csv", QUARTER))
    assert "'=HYPERLINK(1)" in [row[1] for row in rows]


def test_bad_export_parameters_show_the_form(login, vendor_admin, sales):
    response = login(vendor_admin).get("/kpis/export.csv", {"as_of": "2026-02-30"})
    assert response.status_code == 200
    assert 'id="kpi-invalid"' in body(response)
    assert login(vendor_admin).get("/kpis/export.pdf").status_code == 404


# -- isolation ----------------------------------------------------------------------------
def test_partner_sees_only_its_own_organisations_in_table_and_exports(
    login, partner_a_user, partner_b_user, sales
):
    text = body(login(partner_a_user).get("/kpis/", QUARTER))
    assert row_names(text) == ["Alpha Distribution", "Alpha Retail Shanghai"]
    assert "Bravo" not in text
    exported = read_csv(login(partner_a_user).get("/kpis/export.csv", QUARTER))
    assert sorted(row[1] for row in exported[1:]) == ["Alpha Distribution", "Alpha Retail Shanghai"]
    bravo = read_csv(login(partner_b_user).get("/kpis/export.csv", QUARTER))
    assert [row[1] for row in bravo[1:]] == ["Bravo Resellers"]


def test_anonymous_is_sent_to_log_in(client, sales, partner_a):
    for path in ("/kpis/", "/kpis/export.csv", f"/kpis/organisation/{partner_a.pk}/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"]


def test_without_the_permission_the_pages_are_forbidden(login, no_role_user, vendor, sales):
    client = login(no_role_user)
    assert client.get("/kpis/").status_code == 403
    assert client.get("/kpis/export.csv").status_code == 403
    assert client.get("/kpis/export.xlsx").status_code == 403


# -- one organisation ----------------------------------------------------------------------
def test_organisation_page_has_chart_data_table_and_plotly(login, vendor_admin, partner_a, sales):
    response = login(vendor_admin).get(
        f"/kpis/organisation/{partner_a.pk}/", {"period": "month", "as_of": AS_OF}
    )
    assert response.status_code == 200
    text = body(response)
    assert 'id="kpi-chart-data"' in text and 'type="application/json"' in text
    assert 'id="chart-revenue"' in text
    assert "/kpis/plotly.min.js?v=" in text and "accord/kpi-charts.js" in text
    assert "<script>" not in text  # no inline script under the CSP
    assert "400.00" in text  # February's revenue in the table
    # the chart data: 24 monthly labels, revenue as exact decimal strings
    import json
    import re

    data = json.loads(
        re.search(r'id="kpi-chart-data" type="application/json">(.*?)</script>', text, re.S)[1]
    )
    assert len(data["labels"]) == 24
    revenue = next(s for s in data["charts"][0]["series"] if s["code"] == "revenue")
    assert revenue["values"][-2] == "400.00" and revenue["values"][-1] in ("0.00", "0", None)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='" in csp


def test_organisation_page_period_controls(login, vendor_admin, partner_a, sales):
    client = login(vendor_admin)
    response = client.get(
        f"/kpis/organisation/{partner_a.pk}/", {"period": "quarter", "periods": 4, "as_of": AS_OF}
    )
    assert response.status_code == 200
    assert "2026 Q1" in body(response) and "2025 Q2" in body(response)
    for bad in ({"periods": "1000"}, {"as_of": "yesterday"}, {"period": "decade"}):
        response = client.get(f"/kpis/organisation/{partner_a.pk}/", bad)
        assert response.status_code == 200, bad
        assert 'id="kpi-invalid"' in body(response)


def test_organisation_page_isolation(
    login, partner_a_user, partner_b_user, no_role_user, partner_a, partner_a_child, sales
):
    assert login(partner_b_user).get(f"/kpis/organisation/{partner_a.pk}/").status_code == 404
    assert login(partner_a_user).get(f"/kpis/organisation/{partner_a_child.pk}/").status_code == 200
    assert login(no_role_user).get(f"/kpis/organisation/{partner_a.pk}/").status_code == 404
    assert login(partner_a_user).get("/kpis/organisation/999999999/").status_code == 404


def test_partner_viewer_reads_its_own_kpis(login, partner_a_viewer, partner_a, sales):
    assert login(partner_a_viewer).get(f"/kpis/organisation/{partner_a.pk}/").status_code == 200
    assert row_names(body(login(partner_a_viewer).get("/kpis/", QUARTER)))[0] == (
        "Alpha Distribution"
    )


# -- plotly.js ----------------------------------------------------------------------------------
def test_plotly_is_served_from_the_installed_package(client):
    response = client.get("/kpis/plotly.min.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    head = b"".join(response.streaming_content)[:200]
    assert b"plotly.js v" in head
    assert "immutable" in response["Cache-Control"]
    again = client.get("/kpis/plotly.min.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_without_any_metric_definition_the_pages_say_so(login, vendor_admin, partner_a, sales):
    from accord.metrics.models import MetricDefinition

    MetricDefinition.objects.update(is_current=False)
    client = login(vendor_admin)
    response = client.get("/kpis/")
    assert response.status_code == 200 and 'id="kpi-no-metrics"' in body(response)
    response = client.get(f"/kpis/organisation/{partner_a.pk}/")
    assert response.status_code == 200 and "No metrics are defined yet." in body(response)


def test_the_organisation_page_links_its_kpis(login, partner_a_user, partner_a, sales):
    text = body(login(partner_a_user).get(f"/organisations/{partner_a.pk}/"))
    assert f'href="/kpis/organisation/{partner_a.pk}/" id="kpis-tab"' in text


def test_regional_coordinator_sees_the_region_only(login, regional_coordinator, sales):
    names = row_names(body(login(regional_coordinator).get("/kpis/", QUARTER)))
    assert "Alpha Distribution" in names
    assert "Bravo Resellers" not in names
    rows = read_csv(login(regional_coordinator).get("/kpis/export.csv", QUARTER))
    assert "Bravo Resellers" not in [row[1] for row in rows]


def test_the_vendor_has_no_kpi_page(login, vendor_admin, vendor, sales):
    assert login(vendor_admin).get(f"/kpis/organisation/{vendor.pk}/").status_code == 404
    text = body(login(vendor_admin).get(f"/organisations/{vendor.pk}/"))
    assert 'id="kpis-tab"' not in text
