"""The imports API: run (multipart), history, one run, report CSV, rollback, kinds; and who
may see or do what (isolation)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.channel.models import SalesLine
from accord.imports.models import ImportBatch
from tests.apitools import fingerprint
from tests.imports.conftest import SALES_CSV, SALES_MAPPING

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports"


def upload(
    client, data: str | bytes = SALES_CSV, mapping: str | None = SALES_MAPPING, **fields: Any
):
    raw = data.encode() if isinstance(data, str) else data
    body: dict[str, Any] = {
        "kind": "sales_lines",
        "file": SimpleUploadedFile("s.csv", raw),
        **fields,
    }
    if mapping is not None:
        body["mapping"] = SimpleUploadedFile("m.toml", mapping.encode())
    return client.post(URL, data=body)


def test_import_applied_dry_run_and_rejected(keyed, vendor_admin, api):
    client = api(vendor_admin)
    dry = upload(client, dry_run="true")
    assert dry.status_code == 200, dry.json()
    assert dry.json()["status"] == "dry_run" and dry.json()["batch"] is None
    assert dry.json()["preview"][0]["source_key"] == "SO1-P-1"
    assert not SalesLine.objects.exists()

    before = fingerprint()
    bad = upload(client, SALES_CSV.replace("R-B,", "R-ZZ,"))
    assert bad.status_code == 422
    body = bad.json()
    assert body["error"] == "import_rejected" and body["fields"] == {}
    assert body["issues"] == [
        {"row": 5, "column": "Reseller", "value": "R-ZZ", "reason": "Unknown organisation key."}
    ]
    assert fingerprint() == before

    applied = upload(client)
    assert applied.status_code == 201, applied.json()
    body = applied.json()
    assert body["status"] == "applied" and body["created"] == 3
    assert body["batch"]["created"] == 3 and body["batch"]["status"] == "applied"
    assert SalesLine.objects.count() == 3


def test_skip_invalid_then_report_csv_and_history(keyed, vendor_admin, api):
    client = api(vendor_admin)
    response = upload(client, SALES_CSV.replace("R-B,", "R-ZZ,"), skip_invalid="true")
    assert response.status_code == 201
    batch_id = response.json()["batch"]["id"]
    assert response.json()["batch"]["issues"] == 1
    report = client.get(f"{URL}/{batch_id}/report.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert report.content.decode().splitlines() == [
        "row,column,value,reason",
        "5,Reseller,R-ZZ,Unknown organisation key.",
    ]
    listing = client.get(URL, {"kind": "sales_lines"}).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == batch_id
    assert client.get(URL, {"kind": "products"}).json()["count"] == 0
    assert client.get(URL, {"status": "nonsense"}).status_code == 422
    detail = client.get(f"{URL}/{batch_id}").json()
    assert detail["rows_rejected"] == 1 and "organisation" in detail["mapping"]


def test_rollback(keyed, vendor_admin, api):
    client = api(vendor_admin)
    batch_id = upload(client).json()["batch"]["id"]
    response = client.post(f"{URL}/{batch_id}/rollback")
    assert response.status_code == 200 and response.json()["status"] == "rolled_back"
    assert not SalesLine.objects.exists()
    again = client.post(f"{URL}/{batch_id}/rollback")
    assert again.status_code == 409 and again.json()["error"] == "conflict"


def test_bad_requests_are_clear(keyed, vendor_admin, api):
    client = api(vendor_admin)
    response = client.post(URL, data={"kind": "widgets", "file": SimpleUploadedFile("a.csv", b"x")})
    assert response.status_code == 422 and response.json()["fields"]["kind"]
    response = upload(client, mapping="fields = [")
    assert (
        response.status_code == 422 and "not valid TOML" in response.json()["fields"]["mapping"][0]
    )
    response = upload(client, mapping=None, data=b"")
    assert response.status_code == 422 and response.json()["issues"][0]["reason"] == (
        "The file is empty."
    )
    response = client.post(URL, data={"kind": "sales_lines"})
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    binary = {
        "kind": "sales_lines",
        "file": SimpleUploadedFile("s.csv", b"x"),
        "mapping": SimpleUploadedFile("m.toml", b"\xff\xfe\x00"),
    }
    response = client.post(URL, data=binary)
    assert response.status_code == 422 and response.json()["fields"]["mapping"]


def test_import_kinds(vendor_admin, partner_a_viewer, api):
    kinds = api(partner_a_viewer).get("/api/v1/import-kinds").json()
    by_code = {kind["code"]: kind for kind in kinds}
    assert set(by_code) == {
        "organisations",
        "contacts",
        "territories",
        "products",
        "sales_lines",
        "inventory",
        "deliveries",
        "surveys",
        "certifications",
        "exchange_rates",
        "leads",
    }
    fields = {f["name"]: f for f in by_code["sales_lines"]["fields"]}
    assert fields["organisation"]["lookup"] == "organisation" and fields["date"]["required"]
    assert by_code["organisations"]["identity"] == ["external_key"]
    assert api(None).get("/api/v1/import-kinds").status_code == 401


# -- isolation -----------------------------------------------------------------------------
@pytest.fixture
def partner_a_batch(keyed, partner_a_user, api) -> int:
    own = "\n".join(SALES_CSV.splitlines()[:3]) + "\n"
    response = upload(api(partner_a_user), own)
    assert response.status_code == 201, response.json()
    return response.json()["batch"]["id"]


def test_anonymous_gets_401_everywhere(partner_a_batch, api):
    client = api(None)
    for path in (URL, f"{URL}/{partner_a_batch}", f"{URL}/{partner_a_batch}/report.csv"):
        assert client.get(path).status_code == 401
    assert client.post(f"{URL}/{partner_a_batch}/rollback").status_code == 401
    assert upload(client).status_code == 401
    assert ImportBatch.objects.get(pk=partner_a_batch).status == "applied"


def test_other_partner_gets_404_and_an_empty_history(partner_a_batch, partner_b_user, api):
    client = api(partner_b_user)
    before = fingerprint()
    assert client.get(f"{URL}/{partner_a_batch}").status_code == 404
    assert client.get(f"{URL}/{partner_a_batch}/report.csv").status_code == 404
    assert client.post(f"{URL}/{partner_a_batch}/rollback").status_code == 404
    assert client.get(URL).json()["count"] == 0
    assert fingerprint() == before


def test_partner_cannot_import_for_another_partner(partner_a_batch, partner_b_user, api):
    client = api(partner_b_user)
    before = fingerprint()
    response = upload(client, SALES_CSV)
    assert response.status_code == 422
    assert {i["value"] for i in response.json()["issues"]} == {"R-A"}
    assert fingerprint() == before


def test_viewer_sees_but_cannot_import_or_roll_back(partner_a_batch, partner_a_viewer, api):
    client = api(partner_a_viewer)
    before = fingerprint()
    assert client.get(f"{URL}/{partner_a_batch}").status_code == 200
    assert client.get(URL).json()["count"] == 1
    assert client.post(f"{URL}/{partner_a_batch}/rollback").status_code == 403
    response = upload(client)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert fingerprint() == before


def test_vendor_staff_see_partner_imports(partner_a_batch, analyst, api):
    client = api(analyst)
    assert client.get(f"{URL}/{partner_a_batch}").json()["organisation_id"]
    assert client.post(f"{URL}/{partner_a_batch}/rollback").status_code == 403


def test_uploads_spooled_to_disk_import_too(keyed, vendor_admin, api, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every upload becomes a temporary file
    response = upload(api(vendor_admin))
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 3


# The isolation tests above cover every imports operation: operation -> the tests that do.
IMPORTS_OPERATIONS = {
    "imports_create": ("test_partner_cannot_import_for_another_partner",),
    "imports_list": ("test_other_partner_gets_404_and_an_empty_history",),
    "imports_get": ("test_other_partner_gets_404_and_an_empty_history",),
    "imports_report": ("test_other_partner_gets_404_and_an_empty_history",),
    "imports_rollback": (
        "test_other_partner_gets_404_and_an_empty_history",
        "test_viewer_sees_but_cannot_import_or_roll_back",
    ),
    "imports_kinds": ("test_import_kinds",),
}


def test_every_imports_operation_has_isolation_tests():
    from accord.api import api
    from accord.imports import api as imports_api

    operations = {
        operation["operationId"]
        for path in api.get_openapi_schema()["paths"].values()
        for operation in path.values()
    }
    assert {name for name in operations if callable(getattr(imports_api, name, None))} == set(
        IMPORTS_OPERATIONS
    )
    for tests in IMPORTS_OPERATIONS.values():
        assert all(callable(globals().get(test)) for test in tests)
