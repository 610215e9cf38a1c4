"""Import pages: history, upload -> preview (dry run, row report) -> import or import with the
bad rows skipped, the staged file's ownership, one import's page and its rollback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.models import User
from accord.channel.models import SalesLine
from accord.imports.models import ImportBatch
from accord.partners.models import Organisation
from tests.channel.factories import ImportBatchFactory
from tests.factories import UserFactory

HEADER = "source_key,organisation,direction,date,quantity,amount,currency\n"
GOOD = HEADER + (
    "L1,ALPHA,sell_through,2026-02-03,2,100.00,USD\nL2,ALPHA,sell_through,2026-02-04,1,50.00,USD\n"
)
# Row 2: a bad date; row 3: a negative quantity; rows 4 and 5 are fine.
BAD = HEADER + (
    "L2,ALPHA,sell_through,2026-02-31,1,50.00,USD\n"
    "L3,ALPHA,sell_through,2026-02-05,-4,80.00,USD\n"
    "L1,ALPHA,sell_through,2026-02-03,2,100.00,USD\n"
    "L4,ALPHA,sell_through,2026-02-06,1,20.00,USD\n"
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def alpha(partner_a: Organisation) -> Organisation:
    partner_a.external_key = "ALPHA"
    partner_a.save(update_fields=["external_key"])
    return partner_a


@pytest.fixture
def importer(channel_manager: User) -> User:
    """Vendor staff importing partners' sell-through."""
    return channel_manager


@pytest.fixture
def no_role_user(vendor: Organisation) -> User:
    return UserFactory(organisation=vendor, email="nobody@vendor.test")


def upload(
    client,
    content: str | bytes,
    *,
    kind: str = "sales_lines",
    name: str = "lines.csv",
    mapping: bytes | None = None,
    **extra,
):
    data = content.encode() if isinstance(content, str) else content
    payload = {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if mapping is not None:
        payload["mapping"] = SimpleUploadedFile("map.toml", mapping, content_type="text/plain")
    return client.post("/imports/new/", payload, **extra)


def staged_dirs(var_dir: Path) -> list[Path]:
    root = var_dir / "uploads"
    return sorted(root.iterdir()) if root.exists() else []


# -- the upload flow ------------------------------------------------------------------------
def test_good_file_preview_then_import(login, importer, alpha, var_dir):
    client = login(importer)
    new_page = client.get("/imports/new/")
    assert new_page.status_code == 200 and 'id="columns-sales_lines"' in new_page.content.decode()
    response = upload(client, GOOD)
    assert response.status_code == 302
    preview_url = response["Location"]
    assert preview_url.startswith("/imports/staged/")
    assert SalesLine.objects.count() == 0  # the preview writes nothing
    page = client.get(preview_url)
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="preview-clean"' in text and 'id="import-button"' in text
    assert "L1" in text and "L2" in text  # the preview rows
    assert len(staged_dirs(var_dir)) == 1

    response = client.post(preview_url, {"action": "import"})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert SalesLine.objects.filter(organisation=alpha).count() == 2
    assert staged_dirs(var_dir) == []  # deleted after use
    assert client.get(preview_url).status_code == 404

    detail = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "lines.csv" in detail and 'id="batch-counts"' in detail
    assert 'id="rollback-link"' in detail


def test_bad_rows_are_reported_and_skipping_them_is_an_explicit_choice(login, importer, alpha):
    client = login(importer)
    preview_url = upload(client, BAD)["Location"]
    text = client.get(preview_url).content.decode()
    assert 'id="preview-report"' in text
    assert "2026-02-31" in text and "-4" in text
    assert 'id="import-skip-button"' in text and 'id="import-button"' not in text
    assert "Import and skip the 2 bad rows" in text

    report = client.get(f"{preview_url}report.csv")
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["row", "column", "value", "reason"]
    assert {row[0] for row in rows[1:]} == {"2", "3"}

    # "Import" without the skip choice writes nothing.
    response = client.post(preview_url, {"action": "import"})
    assert SalesLine.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert response.status_code == 200
    assert "Nothing was imported" in response.content.decode()
    assert 'id="import-skip-button"' in response.content.decode()  # still offered

    response = client.post(preview_url, {"action": "skip"})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.skip_invalid and batch.rows_rejected == 2
    assert set(SalesLine.objects.values_list("source_key", flat=True)) == {"L1", "L4"}
    detail = client.get(f"/imports/{batch.pk}/").content.decode()
    assert 'id="batch-report"' in detail and "2026-02-31" in detail
    csv_rows = list(
        csv.reader(io.StringIO(client.get(f"/imports/{batch.pk}/report.csv").content.decode()))
    )
    assert {row[0] for row in csv_rows[1:]} == {"2", "3"}


def test_a_file_level_problem_offers_no_import(login, importer, alpha):
    client = login(importer)
    binary = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff" * 20
    response = upload(client, binary, name="photo.csv")
    assert response.status_code == 302
    text = client.get(response["Location"]).content.decode()
    assert 'id="preview-report"' in text
    assert 'id="import-button"' not in text and 'id="import-skip-button"' not in text
    assert SalesLine.objects.count() == 0


def test_an_empty_file_is_a_form_error(login, importer, alpha, var_dir):
    response = upload(login(importer), b"", name="empty.csv")
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert staged_dirs(var_dir) == []


def test_upload_form_errors(login, importer, alpha):
    client = login(importer)
    response = client.post("/imports/new/", {"kind": "sales_lines"})
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    # A kind the user may not import is not a choice.
    response = upload(client, GOOD, kind="spaceships")
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    # A mapping that is not UTF-8 text, then one that is not valid TOML.
    response = upload(client, GOOD, mapping=b"\xff\xfe\x00bad")
    assert response.status_code == 200 and "UTF-8" in response.content.decode()
    response = upload(client, GOOD, mapping=b"[columns\nthis is not toml")
    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode()
    assert SalesLine.objects.count() == 0


def test_htmx_upload_redirects_the_whole_page(login, importer, alpha):
    response = upload(login(importer), GOOD, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/imports/staged/")
    invalid = login(importer).post("/imports/new/", {"kind": "sales_lines"}, HTTP_HX_REQUEST="true")
    assert invalid.status_code == 200
    assert "<html" not in invalid.content.decode()
    assert 'id="upload-form-wrap"' in invalid.content.decode()


def test_discard_deletes_the_staged_file(login, importer, alpha, var_dir):
    client = login(importer)
    preview_url = upload(client, GOOD)["Location"]
    response = client.post(preview_url, {"action": "cancel"})
    assert response.status_code == 302 and response["Location"] == "/imports/new/"
    assert staged_dirs(var_dir) == []
    assert SalesLine.objects.count() == 0


def test_another_users_token_is_not_found(login, importer, vendor_admin, alpha, var_dir):
    """Even an administrator cannot use someone else's staged upload."""
    preview_url = upload(login(importer), GOOD)["Location"]
    other = login(vendor_admin)
    assert other.get(preview_url).status_code == 404
    assert other.get(f"{preview_url}report.csv").status_code == 404
    assert other.post(preview_url, {"action": "import"}).status_code == 404
    assert other.post(preview_url, {"action": "cancel"}).status_code == 404
    assert len(staged_dirs(var_dir)) == 1 and SalesLine.objects.count() == 0
    for token in ("../../etc", "x" * 32, "short"):
        assert login(importer).get(f"/imports/staged/{token}/").status_code == 404


# -- history, batch page, rollback ----------------------------------------------------------
@pytest.fixture
def batches(partner_a: Organisation, partner_b: Organisation) -> dict[str, ImportBatch]:
    return {
        "a": ImportBatchFactory(organisation=partner_a, file_name="alpha-stock.csv"),
        "b": ImportBatchFactory(organisation=partner_b, file_name="bravo-sales.csv"),
    }


def test_history_lists_what_each_user_may_see(login, vendor_admin, partner_a_user, batches):
    everything = login(vendor_admin).get("/imports/").content.decode()
    assert "alpha-stock.csv" in everything and "bravo-sales.csv" in everything
    own = login(partner_a_user).get("/imports/").content.decode()
    assert "alpha-stock.csv" in own and "bravo-sales.csv" not in own
    filtered = login(vendor_admin).get("/imports/", {"status": "rolled_back"}).content.decode()
    assert "alpha-stock.csv" not in filtered
    odd = login(vendor_admin).get("/imports/", {"kind": "nonsense", "page": "x"})
    assert odd.status_code == 200


def test_batch_pages_isolation(login, partner_b_user, partner_a_viewer, batches):
    a = batches["a"].pk
    other = login(partner_b_user)
    for path in (f"/imports/{a}/", f"/imports/{a}/report.csv", f"/imports/{a}/rollback/"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/imports/{a}/rollback/").status_code == 404
    viewer = login(partner_a_viewer)
    assert viewer.get(f"/imports/{a}/").status_code == 200
    assert 'id="rollback-link"' not in viewer.get(f"/imports/{a}/").content.decode()
    assert viewer.post(f"/imports/{a}/rollback/").status_code == 403
    assert viewer.get("/imports/new/").status_code == 403
    batches["a"].refresh_from_db()
    assert batches["a"].status == ImportBatch.Status.APPLIED


def test_anonymous_and_permissionless_users(client, login, no_role_user, batches):
    a = batches["a"].pk
    for path in ("/imports/", "/imports/new/", f"/imports/{a}/", f"/imports/{a}/rollback/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    nobody = login(no_role_user)
    assert nobody.get("/imports/").status_code == 403
    assert nobody.get("/imports/new/").status_code == 403
    assert nobody.get(f"/imports/{a}/").status_code == 404


def test_rollback_asks_then_undoes_the_import(login, importer, alpha):
    client = login(importer)
    preview_url = upload(client, GOOD)["Location"]
    client.post(preview_url, {"action": "import"})
    batch = ImportBatch.objects.get()
    confirm = client.get(f"/imports/{batch.pk}/rollback/")
    assert confirm.status_code == 200 and "lines.csv" in confirm.content.decode()
    assert SalesLine.objects.count() == 2  # asking changes nothing
    response = client.post(f"/imports/{batch.pk}/rollback/")
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.ROLLED_BACK
    assert SalesLine.objects.count() == 0
    # A second rollback is refused with a message, not an error page.
    again = client.post(f"/imports/{batch.pk}/rollback/", follow=True)
    assert again.status_code == 200
    assert "already rolled back" in again.content.decode()


def test_partner_imports_its_own_lines_and_cannot_name_another_organisation(
    login, partner_a_user, alpha, partner_b
):
    partner_b.external_key = "BRAVO"
    partner_b.save(update_fields=["external_key"])
    client = login(partner_a_user)
    preview_url = upload(client, GOOD + "L9,BRAVO,sell_through,2026-02-05,1,10.00,USD\n")[
        "Location"
    ]
    text = client.get(preview_url).content.decode()
    assert "BRAVO" in text and 'id="report-rows"' in text  # an unknown key for partner A
    client.post(preview_url, {"action": "skip"})
    batch = ImportBatch.objects.get()
    assert batch.organisation == alpha
    assert set(SalesLine.objects.values_list("organisation__name", flat=True)) == {
        "Alpha Distribution"
    }
    assert SalesLine.objects.count() == 2
    assert login(partner_a_user).get(f"/imports/{batch.pk}/").status_code == 200


def test_uploads_left_behind_are_removed_after_a_day(login, importer, alpha, var_dir):
    import os
    import time

    stale = var_dir / "uploads" / ("s" * 32)
    stale.mkdir(parents=True)
    (stale / "source").write_text("old")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    upload(login(importer), GOOD)
    assert not stale.exists()
    assert len(staged_dirs(var_dir)) == 1


def test_history_query_count_does_not_grow_with_rows(login, vendor_admin, partner_a, partner_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(vendor_admin)
    ImportBatchFactory(organisation=partner_a, created_by=vendor_admin)
    client.get("/imports/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/imports/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(15):
        ImportBatchFactory(organisation=partner_b, created_by=vendor_admin)
    assert count() == few


def test_an_xlsx_file_with_a_mapping(login, importer, alpha):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Line", "Reseller", "Day", "Qty", "Total"])
    sheet.append(["X1", "ALPHA", "03/02/2026", 2, 120.5])
    sheet.append(["X2", "ALPHA", "03/03/2026", 1, 80])
    content = io.BytesIO()
    workbook.save(content)
    mapping = b"""
date_format = ["%m/%d/%Y"]
[source_key]
columns = ["Line"]
[fields]
organisation = "Reseller"
date = "Day"
quantity = "Qty"
amount = "Total"
[constants]
direction = "sell_through"
currency = "USD"
"""
    client = login(importer)
    response = upload(client, content.getvalue(), name="march.xlsx", mapping=mapping)
    assert response.status_code == 302, response.content.decode()[:2000]
    text = client.get(response["Location"]).content.decode()
    assert 'id="preview-clean"' in text and "with a mapping file" in text
    client.post(response["Location"], {"action": "import"})
    batch = ImportBatch.objects.get()
    assert "[fields]" in batch.mapping
    assert sorted(SalesLine.objects.values_list("source_key", flat=True)) == ["X1", "X2"]
    assert "Mapping used" in client.get(f"/imports/{batch.pk}/").content.decode()
