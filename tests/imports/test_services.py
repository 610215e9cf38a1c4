"""The import engine on real files: applied, rejected, skipped, idempotent, rolled back."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from accord.channel.models import ExchangeRate, Product, ProductCategory, SalesLine, SalesRollup
from accord.core.models import AuditEntry
from accord.imports.models import ImportBatch, ImportChange
from accord.imports.selectors import issues_csv
from accord.imports.services import ImportRefused, rollback_import
from accord.partners.models import Organisation, Territory
from tests.apitools import fingerprint
from tests.imports.conftest import SALES_CSV, SALES_MAPPING

pytestmark = pytest.mark.django_db


def reasons(result) -> list[tuple]:
    return [(i.row, i.column, i.value, i.reason) for i in result.issues]


# -- a good file ---------------------------------------------------------------------------
def test_sales_lines_are_applied_with_costs_months_and_rollups(keyed, vendor_admin, do_import):
    result = do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    assert result.status == "applied", reasons(result)
    assert (result.rows_read, result.rows_skipped, result.created) == (4, 1, 3)
    line = SalesLine.objects.get(source_key="SO1-P-1")
    assert line.amount == Decimal("1000.50") and line.amount_base == Decimal("1000.50")
    assert line.cost_base == Decimal("200.00")  # unit cost x quantity
    assert line.date == dt.date(2017, 9, 19) and line.month == 201709
    assert line.import_batch == result.batch.pk
    assert SalesLine.objects.get(source_key="SO1-P-2").cost_base is None  # "NULL" is empty
    rollup = SalesRollup.objects.get(
        organisation=keyed["a"], period="month", period_key=201709, direction="sell_in"
    )
    assert rollup.revenue == Decimal("1020.50") and rollup.lines == 2 and rollup.orders == 1
    batch = result.batch
    assert (batch.created_count, batch.rows_read, batch.organisation_id) == (
        3,
        4,
        vendor_admin.organisation_id,
    )
    # One audit entry for the whole batch, none per line.
    entries = AuditEntry.objects.filter(object_id=str(batch.pk), content_type__model="importbatch")
    assert entries.count() == 1
    assert not AuditEntry.objects.filter(content_type__model="salesline").exists()


def test_same_file_again_changes_nothing(keyed, vendor_admin, do_import):
    do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    lines = list(SalesLine.objects.order_by("pk").values())
    rollups = list(SalesRollup.objects.order_by("pk").values())
    again = do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(SalesLine.objects.order_by("pk").values()) == lines
    assert list(SalesRollup.objects.order_by("pk").values()) == rollups
    assert not ImportChange.objects.exists()


def test_a_changed_row_updates_and_rollback_restores_it(keyed, vendor_admin, do_import):
    first = do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    changed = SALES_CSV.replace("R-B,P-1,1,500.00", "R-A,P-1,1,750.00")
    second = do_import(vendor_admin, "sales_lines", changed, SALES_MAPPING)
    assert (second.created, second.updated, second.unchanged) == (0, 1, 2)
    line = SalesLine.objects.get(source_key="SO2-P-1")
    assert line.amount == Decimal("750.00") and line.organisation == keyed["a"]
    change = ImportChange.objects.get(batch=second.batch)
    assert change.before["amount"] == "500.00" and change.before["organisation"] == keyed["b"].pk
    # The rollups followed the line from partner B to partner A.
    assert not SalesRollup.objects.filter(organisation=keyed["b"]).exists()
    assert SalesRollup.objects.get(
        organisation=keyed["a"], period="month", period_key=201710
    ).revenue == Decimal("750.00")

    with pytest.raises(ImportRefused, match="roll that one back first"):
        rollback_import(actor=vendor_admin, batch=first.batch)
    rollback_import(actor=vendor_admin, batch=second.batch)
    line.refresh_from_db()
    assert line.amount == Decimal("500.00") and line.organisation == keyed["b"]
    assert SalesRollup.objects.get(
        organisation=keyed["b"], period="quarter", period_key=201710
    ).revenue == Decimal("500.00")
    second.batch.refresh_from_db()
    assert second.batch.status == ImportBatch.Status.ROLLED_BACK
    assert second.batch.rolled_back_by == vendor_admin

    rollback_import(actor=vendor_admin, batch=first.batch)
    assert not SalesLine.objects.exists()
    assert not SalesRollup.objects.exists()
    with pytest.raises(ImportRefused, match="already rolled back"):
        rollback_import(actor=vendor_admin, batch=first.batch)


def test_dry_run_previews_and_writes_nothing(keyed, vendor_admin, do_import):
    before = fingerprint()
    result = do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING, dry_run=True)
    assert result.status == "dry_run" and result.batch is None
    assert result.created == 3
    assert result.preview[0]["organisation"] == "R-A"
    assert result.preview[0]["date"] == "2017-09-19"
    assert result.preview[0]["source_key"] == "SO1-P-1"
    assert fingerprint() == before


# -- malformed files: a clear report and an unchanged database ----------------------------
def assert_rejected(result, before) -> None:
    assert result.status == "rejected"
    assert result.batch is None
    assert result.created == result.updated == 0
    assert fingerprint() == before


def test_wrong_columns(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = "Order,When,Reseller,Product,Qty,Amount,UnitCost\nSO1,9/19/2017 9:45,R-A,P-1,1,1,1\n"
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert_rejected(result, before)
    assert (None, "Date", "", "This column is not in the file.") in reasons(result)


def test_wrong_columns_without_mapping(keyed, vendor_admin, do_import):
    before = fingerprint()
    result = do_import(vendor_admin, "sales_lines", "foo,bar\n1,2\n")
    assert_rejected(result, before)
    assert result.issues[0].row is None
    assert "No column of this file is named like a field" in result.issues[0].reason


def test_bad_dates(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = SALES_CSV.replace("10/01/2017 10:00", "2017-13-45")
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert_rejected(result, before)
    [issue] = result.issues
    assert (issue.row, issue.column, issue.value) == (5, "Date", "2017-13-45")
    assert "Not a date" in issue.reason and "%m/%d/%Y %H:%M" in issue.reason
    assert result.rows_rejected == 1


def test_negative_quantities(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = SALES_CSV.replace("R-A,P-2,1,", "R-A,P-2,-3,")
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert_rejected(result, before)
    assert reasons(result) == [(3, "Qty", "-3", "Must not be negative.")]


def test_unknown_reseller_key(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = SALES_CSV.replace("R-B,", "R-ZZ,")
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert_rejected(result, before)
    assert reasons(result) == [(5, "Reseller", "R-ZZ", "Unknown organisation key.")]


def test_several_problems_are_all_reported(keyed, vendor_admin, do_import):
    data = SALES_CSV.replace("R-B,P-1,1,500.00", "R-B,P-9,x,500.00").replace(
        "9/19/2017 9:45,R-A,P-1", "bad,R-A,P-1"
    )
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert result.status == "rejected"
    assert {(i.row, i.column) for i in result.issues} == {(2, "Date"), (5, "Qty")}
    assert result.rows_rejected == 2
    csv_text = issues_csv(result.issues)
    assert csv_text.splitlines()[0] == "row,column,value,reason"
    assert "5,Qty,x,Not a number." in csv_text


def test_empty_file(keyed, vendor_admin, do_import):
    before = fingerprint()
    result = do_import(vendor_admin, "sales_lines", b"", SALES_MAPPING)
    assert_rejected(result, before)
    assert reasons(result) == [(None, "", "", "The file is empty.")]


def test_header_only_file(keyed, vendor_admin, do_import):
    before = fingerprint()
    header = SALES_CSV.splitlines()[0] + "\n"
    result = do_import(vendor_admin, "sales_lines", header, SALES_MAPPING)
    assert_rejected(result, before)
    assert reasons(result) == [(None, "", "", "The file has a header but no data rows.")]


def test_binary_file_renamed_csv(keyed, vendor_admin, do_import):
    before = fingerprint()
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    result = do_import(vendor_admin, "sales_lines", png, SALES_MAPPING, file_name="sales.csv")
    assert_rejected(result, before)
    assert result.issues[0].row is None
    assert "not a CSV or XLSX file" in result.issues[0].reason


def test_a_zip_that_is_no_workbook(keyed, vendor_admin, do_import):
    before = fingerprint()
    result = do_import(vendor_admin, "sales_lines", b"PK\x03\x04garbage", file_name="x.xlsx")
    assert_rejected(result, before)
    assert "not a readable XLSX file" in result.issues[0].reason


def test_bad_mapping_is_refused_clearly(keyed, vendor_admin, do_import):
    with pytest.raises(ImportRefused, match="not valid TOML"):
        do_import(vendor_admin, "sales_lines", SALES_CSV, "fields = [")
    with pytest.raises(ImportRefused, match="has no field colour"):
        do_import(vendor_admin, "sales_lines", SALES_CSV, '[fields]\ncolour = "X"')
    with pytest.raises(ImportRefused, match="not organisations"):
        do_import(vendor_admin, "organisations", SALES_CSV, SALES_MAPPING)
    with pytest.raises(ImportRefused, match="Unknown kind"):
        do_import(vendor_admin, "widgets", SALES_CSV)


def test_duplicate_source_keys(keyed, vendor_admin, do_import):
    lines = SALES_CSV.splitlines()
    identical = "\n".join([*lines, lines[1]]) + "\n"
    result = do_import(vendor_admin, "sales_lines", identical, SALES_MAPPING)
    assert result.status == "applied" and result.created == 3 and result.rows_skipped == 2
    SalesLine.objects.all().delete()
    SalesRollup.objects.all().delete()
    different = "\n".join([*lines, lines[1].replace(",2,", ",5,")]) + "\n"
    result = do_import(vendor_admin, "sales_lines", different, SALES_MAPPING)
    assert result.status == "rejected"
    assert [(i.row, i.value) for i in result.issues] == [(6, "SO1-P-1")]
    assert "row 2" in result.issues[0].reason


# -- encodings and formats --------------------------------------------------------------
ORGS_CSV = "external_key,name,kind,country,city\nCN-1,上海自行车有限公司,distributor,CN,上海\n"


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_encodings_import_fine(vendor_admin, do_import, encoding):
    result = do_import(vendor_admin, "organisations", ORGS_CSV, encoding=encoding)
    assert result.status == "applied", reasons(result)
    organisation = Organisation.objects.get(external_key="CN-1")
    assert (organisation.name, organisation.city) == ("上海自行车有限公司", "上海")
    assert organisation.path == f"/{organisation.pk}/"


def test_declared_encoding_and_semicolons(vendor_admin, do_import):
    data = "external_key;name;kind\nX-1;Café Vélo;retailer\n".encode("latin-1")
    mapping = 'encoding = "latin-1"\n[fields]\nexternal_key = "external_key"\nname = "name"\n'
    mapping += 'kind = "kind"\n'
    result = do_import(vendor_admin, "organisations", data, mapping)
    assert result.status == "applied", reasons(result)
    assert Organisation.objects.get(external_key="X-1").name == "Café Vélo"


def test_xlsx_file(keyed, vendor_admin, do_import):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "source_key",
            "organisation",
            "direction",
            "date",
            "product",
            "quantity",
            "amount",
            "currency",
        ]
    )
    sheet.append(["X1", "R-A", "Sell-through", dt.datetime(2024, 2, 29), "P-2", 3, 29.7, "USD"])
    sheet.append([None] * 8)
    sheet.append(["X2", "R-B", "sell_in", dt.date(2024, 3, 1), "P-1", 1.0, 10, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = do_import(vendor_admin, "sales_lines", buffer.getvalue(), file_name="lines.xlsx")
    assert result.status == "applied", reasons(result)
    assert (result.created, result.rows_skipped) == (2, 1)
    line = SalesLine.objects.get(source_key="X1")
    assert line.direction == "sell_through" and line.date == dt.date(2024, 2, 29)
    assert line.amount == Decimal("29.70") and line.quantity == 3
    assert SalesLine.objects.get(source_key="X2").currency == "USD"


# -- skipping bad rows --------------------------------------------------------------------
def test_skip_invalid_applies_the_good_rows_and_keeps_the_report(keyed, vendor_admin, do_import):
    data = SALES_CSV.replace("R-B,", "R-ZZ,")
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING, skip_invalid=True)
    assert result.status == "applied"
    assert (result.created, result.rows_rejected) == (2, 1)
    assert set(SalesLine.objects.values_list("source_key", flat=True)) == {"SO1-P-1", "SO1-P-2"}
    batch = ImportBatch.objects.get(pk=result.batch.pk)
    assert batch.skip_invalid and batch.rows_rejected == 1
    assert batch.report == [
        {"row": 5, "column": "Reseller", "value": "R-ZZ", "reason": "Unknown organisation key."}
    ]


def test_skip_invalid_with_no_good_row_is_rejected(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = SALES_CSV.replace("R-A,", "R-ZZ,").replace("R-B,", "R-ZZ,")
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING, skip_invalid=True)
    assert_rejected(result, before)


# -- who may import what ------------------------------------------------------------------
def test_partner_cannot_import_lines_for_another_partner(keyed, partner_a_user, do_import):
    before = fingerprint()
    result = do_import(partner_a_user, "sales_lines", SALES_CSV, SALES_MAPPING)
    assert_rejected(result, before)
    assert reasons(result) == [(5, "Reseller", "R-B", "Unknown organisation key.")]
    own = "\n".join(SALES_CSV.splitlines()[:3]) + "\n"
    result = do_import(partner_a_user, "sales_lines", own, SALES_MAPPING)
    assert result.status == "applied" and result.created == 2
    assert result.batch.organisation == keyed["a"]


def test_partner_cannot_overwrite_another_partners_row(
    keyed, vendor_admin, partner_a_user, do_import
):
    do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    before = fingerprint()
    hijack = "Order,Date,Reseller,Product,Qty,Amount,UnitCost\nSO2,1/1/2018 0:00,R-A,P-1,1,1,1\n"
    result = do_import(partner_a_user, "sales_lines", hijack, SALES_MAPPING)
    assert_rejected(result, before)
    assert "cannot change" in result.issues[0].reason


@pytest.mark.parametrize("who", ["analyst", "partner_a_viewer", "regional_coordinator"])
def test_users_without_import_permission_are_refused(keyed, request, do_import, who):
    user = request.getfixturevalue(who)
    before = fingerprint()
    with pytest.raises(ImportRefused, match="not allowed"):
        do_import(user, "sales_lines", SALES_CSV, SALES_MAPPING)
    assert fingerprint() == before


def test_partner_staff_cannot_import_master_data(partner_a_user, do_import):
    with pytest.raises(ImportRefused, match="not allowed"):
        do_import(partner_a_user, "organisations", ORGS_CSV)


def test_rollback_permissions(keyed, vendor_admin, partner_b_user, analyst, do_import):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    result = do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING)
    with pytest.raises(Http404):  # partner B cannot see the vendor's import
        rollback_import(actor=partner_b_user, batch=result.batch)
    with pytest.raises(PermissionDenied):  # the analyst sees it but may not undo it
        rollback_import(actor=analyst, batch=result.batch)
    assert SalesLine.objects.count() == 3


# -- master data --------------------------------------------------------------------------
def test_organisations_with_value_maps_and_validation(vendor_admin, do_import):
    mapping = """
[fields]
external_key = "id"
name = "name"
kind = { column = "type", values = { "Ware House" = "wholesaler" } }
country = { column = "country", values = { "Germany" = "DE" } }
website_domain = "web"
parent = "parent"
"""
    data = (
        "id,name,type,country,web,parent\n"
        "W-1,Lager GmbH,Ware House,Germany,https://Lager.example/,\n"
        "W-2,Lager Filiale,retailer,Germany,,W-1\n"
    )
    result = do_import(vendor_admin, "organisations", data, mapping)
    assert result.status == "applied", reasons(result)
    parent = Organisation.objects.get(external_key="W-1")
    child = Organisation.objects.get(external_key="W-2")
    assert (parent.kind, parent.country, parent.website_domain) == (
        "wholesaler",
        "DE",
        "lager.example",
    )
    assert child.parent == parent and child.path == f"{parent.path}{child.pk}/"
    assert ImportChange.objects.filter(batch=result.batch, action="create").count() == 2

    before = fingerprint()
    bad = "id,name,type,country,web,parent\nW-3,X,vendor,Narnia,,\nW-4,,retailer,DE,,\n"
    result = do_import(vendor_admin, "organisations", bad, mapping)
    assert_rejected(result, before)
    found = {(i.row, i.column) for i in result.issues}
    assert {(2, "type"), (2, "country"), (3, "name")} <= found

    rollback = do_import(
        vendor_admin, "organisations", data.replace("Lager Filiale", "Neu"), mapping
    )
    assert rollback.updated == 1
    rollback_import(actor=vendor_admin, batch=rollback.batch)
    assert Organisation.objects.get(external_key="W-2").name == "Lager Filiale"


def test_territories_tree_in_one_file(vendor_admin, do_import):
    data = "code,name,level,parent\neu,Europe,group,\nde,Germany,country,eu\nfr,France,country,eu\n"
    result = do_import(vendor_admin, "territories", data)
    assert result.status == "applied", reasons(result)
    europe = Territory.objects.get(code="eu")
    assert (
        Territory.objects.get(code="fr").path
        == f"{europe.path}{Territory.objects.get(code='fr').pk}/"
    )
    assert set(europe.children.values_list("code", flat=True)) == {"de", "fr"}


def test_products_with_categories_and_rollback_refused_when_used(keyed, vendor_admin, do_import):
    data = 'key,name,category,parent_category,standard_cost\nB-1,Bike,Road Bikes,Bikes,"12,5"\n'
    mapping = '\ndecimal_separator = ","\n[fields]\nkey="key"\nname="name"\ncategory="category"\n'
    mapping += 'parent_category="parent_category"\nstandard_cost="standard_cost"\n'
    result = do_import(vendor_admin, "products", data, mapping)
    assert result.status == "applied", reasons(result)
    product = Product.objects.get(key="B-1")
    assert product.standard_cost == Decimal("12.5")
    assert product.category.name == "Road Bikes" and product.category.parent.name == "Bikes"
    SalesLine.objects.create(
        source_key="L1",
        organisation=keyed["a"],
        direction="sell_in",
        date=dt.date(2024, 1, 1),
        month=202401,
        product=product,
        quantity=1,
        amount=1,
        currency="USD",
        amount_base=1,
    )
    with pytest.raises(ImportRefused, match="used elsewhere"):
        rollback_import(actor=vendor_admin, batch=result.batch)
    assert Product.objects.filter(key="B-1").exists()
    SalesLine.objects.all().delete()
    rollback_import(actor=vendor_admin, batch=result.batch)
    assert not Product.objects.filter(key="B-1").exists()
    assert not ProductCategory.objects.exists()


def test_exchange_rates_then_sales_in_another_currency(keyed, vendor_admin, do_import):
    rates = "currency,valid_from,rate\nEUR,2024-01-01,1.10\nEUR,2024-02-01,1.20\n"
    assert do_import(vendor_admin, "exchange_rates", rates).created == 2
    assert ExchangeRate.objects.count() == 2
    lines = (
        "source_key,organisation,direction,date,quantity,amount,currency\n"
        "E1,R-A,sell_in,2024-02-15,1,100.00,EUR\n"
        "E2,R-A,sell_in,2023-12-31,1,100.00,EUR\n"
    )
    result = do_import(vendor_admin, "sales_lines", lines)
    assert reasons(result) == [
        (3, "currency", "EUR", "No EUR exchange rate on or before 2023-12-31.")
    ]
    result = do_import(vendor_admin, "sales_lines", lines.rsplit("E2", 1)[0])
    assert result.status == "applied"
    assert SalesLine.objects.get(source_key="E1").amount_base == Decimal("120.00")

    # A corrected rate does not touch lines already converted; importing them again does,
    # and the rollups follow.
    assert (
        do_import(
            vendor_admin, "exchange_rates", "currency,valid_from,rate\nEUR,2024-02-01,1.30\n"
        ).updated
        == 1
    )
    assert SalesLine.objects.get(source_key="E1").amount_base == Decimal("120.00")
    again = do_import(vendor_admin, "sales_lines", lines.rsplit("E2", 1)[0])
    assert (again.updated, again.unchanged) == (1, 0)
    assert SalesLine.objects.get(source_key="E1").amount_base == Decimal("130.00")
    rollup = SalesRollup.objects.get(
        organisation=keyed["a"], direction="sell_in", period="month", period_key=202402
    )
    assert rollup.revenue == Decimal("130.00")


def test_other_fact_kinds_by_column_names(keyed, vendor_admin, do_import):
    cases = {
        "inventory": "source_key,organisation,product,date,on_hand\nI1,R-A,P-1,2024-01-31,5\n",
        "deliveries": (
            "source_key,organisation,promised_date,actual_date,ordered_quantity,filled_quantity\n"
            "D1,R-A,2024-01-10,2024-01-12,10,8\n"
        ),
        "surveys": "source_key,organisation,date,csat,nps\nS1,R-A,2024-01-05,5,9\n",
        "certifications": (
            "source_key,organisation,person,name,earned_on,expires_on\n"
            "C1,R-A,Li Wei,Bike Fitting,2024-01-01,2026-01-01\n"
        ),
    }
    for kind, data in cases.items():
        result = do_import(vendor_admin, kind, data)
        assert (result.status, result.created) == ("applied", 1), (kind, reasons(result))
    bad = do_import(
        vendor_admin, "surveys", "source_key,organisation,date,csat\nS2,R-A,2024-01-05,6\n"
    )
    assert reasons(bad) == [(2, "csat", "6", "Must be at most 5.")]
    bad = do_import(
        vendor_admin,
        "certifications",
        "source_key,organisation,person,name,earned_on,expires_on\nC2,R-A,X,Y,2024-02-01,2024-01-01\n",
    )
    assert reasons(bad) == [(2, "expires_on", "2024-01-01", "Expires before it was earned.")]


def test_empty_optional_cells_store_the_fields_empty_value(keyed, vendor_admin, do_import):
    data = (
        "source_key,organisation,direction,date,quantity,amount,order_number,end_customer_name,"
        "product,territory\n"
        "Z1,R-A,sell_through,2024-01-01,1,5,,,,\n"
    )
    result = do_import(vendor_admin, "sales_lines", data)
    assert result.status == "applied", reasons(result)
    line = SalesLine.objects.get(source_key="Z1")
    assert (line.order_number, line.end_customer_name, line.product, line.territory) == (
        "",
        "",
        None,
        None,
    )
    stock = "source_key,organisation,product,date,on_hand,on_order\nI9,R-A,P-1,2024-01-31,5,\n"
    assert do_import(vendor_admin, "inventory", stock).status == "applied"


def test_absurd_numbers_and_blank_only_files(keyed, vendor_admin, do_import):
    before = fingerprint()
    data = (
        "source_key,organisation,direction,date,quantity,unit_price,unit_cost\n"
        "N1,R-A,sell_in,2024-01-01,1e999999,1,1\n"
        "N2,R-A,sell_in,2024-01-01,99999999999,99999999999999,1\n"
        "N3,R-A,sell_in,2024-01-01,1,1,1e30\n"
        "N4,R-A,sell_in,2024-01-01,NaN,1,1\n"
    )
    result = do_import(vendor_admin, "sales_lines", data)
    assert_rejected(result, before)
    assert [(i.row, i.reason) for i in result.issues] == [
        (2, "The number is too large."),
        (3, "The amount is too large."),
        (4, "The number is too large."),
        (5, "Not a number."),
    ]
    blank = "source_key,organisation,direction,date,quantity\n,,,,\n  ,  ,,,\n"
    result = do_import(vendor_admin, "sales_lines", blank)
    assert_rejected(result, before)
    assert "no data rows" in result.issues[0].reason


def test_undecodable_text_after_the_sample(keyed, vendor_admin, do_import):
    before = fingerprint()
    good_row = "G{n},R-A,sell_in,2024-01-01,1,1\n"
    head = "source_key,organisation,direction,date,quantity,amount\n"
    body = "".join(good_row.format(n=n) for n in range(4000)).encode()
    data = head.encode() + body + b"BAD,R-A,sell_in,2024-01-01,1,\xff\xfe\n"
    result = do_import(vendor_admin, "sales_lines", data, encoding="utf-8")
    assert_rejected(result, before)
    assert "not valid utf-8 text" in result.issues[-1].reason


def test_rollback_refused_when_it_would_take_other_rows_with_it(vendor_admin, do_import):
    from tests.factories import ContactFactory

    result = do_import(vendor_admin, "organisations", ORGS_CSV)
    organisation = Organisation.objects.get(external_key="CN-1")
    contact = ContactFactory(organisation=organisation)
    with pytest.raises(ImportRefused, match="used elsewhere"):
        rollback_import(actor=vendor_admin, batch=result.batch)
    assert Organisation.objects.filter(pk=organisation.pk).exists()
    contact.delete()
    rollback_import(actor=vendor_admin, batch=result.batch)
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


def test_skip_rules_test_plain_text(keyed, vendor_admin, do_import):
    mapping = SALES_MAPPING + '[[skip]]\ncolumn = "Order"\nstarts_with = ["SO2"]\n'
    result = do_import(vendor_admin, "sales_lines", SALES_CSV, mapping)
    assert (result.status, result.created, result.rows_skipped) == ("applied", 2, 2)
    assert not SalesLine.objects.filter(source_key__startswith="SO2").exists()
    mapping = SALES_MAPPING + '[[skip]]\ncolumn = "Date"\ncontains = ["10/01"]\n'
    assert do_import(vendor_admin, "sales_lines", SALES_CSV, mapping).unchanged == 2


def test_skip_rules_refuse_regular_expressions(keyed, vendor_admin, do_import):
    # A pattern from an uploaded mapping could backtrack for minutes ("(a+)+$").
    mapping = SALES_MAPPING + '[[skip]]\ncolumn = "Order"\nmatches = "(a+)+$"\n'
    with pytest.raises(ImportRefused, match="patterns are not supported"):
        do_import(vendor_admin, "sales_lines", SALES_CSV, mapping)
    with pytest.raises(ImportRefused, match="needs equals, empty, starts_with or contains"):
        do_import(
            vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING + '[[skip]]\ncolumn = "Order"\n'
        )


def test_the_cycle_collector_is_paused_only_while_rows_stream(
    keyed, vendor_admin, do_import, monkeypatch
):
    import gc

    from accord.imports import services

    seen = []
    real_run = services._Run.run

    def spying_run(self):
        seen.append(gc.isenabled())
        return real_run(self)

    monkeypatch.setattr(services._Run, "run", spying_run)
    assert do_import(vendor_admin, "sales_lines", SALES_CSV, SALES_MAPPING).status == "applied"
    bad = SALES_CSV.replace("9/19/2017 9:45", "not a date", 1)
    assert do_import(vendor_admin, "sales_lines", bad, SALES_MAPPING).status == "rejected"
    assert seen == [False, False]
    assert gc.isenabled()
