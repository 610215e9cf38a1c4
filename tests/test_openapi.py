"""The committed OpenAPI schema (docs/openapi.json) is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from ninja.responses import NinjaJSONEncoder

from accord.api import api

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
REGENERATE = (
    ".venv/bin/python -m accord.cli export_openapi_schema --api accord.api.api "
    "--indent 2 --output docs/openapi.json"
)


def generated() -> dict:
    # Round-trip through JSON exactly as the export command writes it.
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def test_committed_openapi_schema_is_current() -> None:
    assert COMMITTED.exists(), f"docs/openapi.json is missing; generate it with:\n  {REGENERATE}"
    committed = json.loads(COMMITTED.read_text())
    current = generated()
    if committed != current:
        changed = sorted(
            set(committed.get("paths", {})) ^ set(current.get("paths", {}))
            | {
                path
                for path in set(committed.get("paths", {})) & set(current.get("paths", {}))
                if committed["paths"][path] != current["paths"][path]
            }
        )
        schemas = sorted(
            name
            for name in set(committed.get("components", {}).get("schemas", {}))
            | set(current.get("components", {}).get("schemas", {}))
            if committed.get("components", {}).get("schemas", {}).get(name)
            != current.get("components", {}).get("schemas", {}).get(name)
        )
        raise AssertionError(
            "docs/openapi.json is out of date with the API code "
            f"(paths: {changed or 'none'}; schemas: {schemas or 'none'}).\n"
            f"Regenerate it and commit the result:\n  {REGENERATE}"
        )


def test_schema_generation_is_deterministic() -> None:
    assert json.dumps(generated(), indent=2) == json.dumps(generated(), indent=2)


def test_every_operation_has_an_id_a_tag_and_documented_errors() -> None:
    schema = generated()
    ids = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            ids.append(operation["operationId"])
            assert operation.get("tags"), (method, path)
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorOut"), (method, path, status)
            if "requestBody" in operation:
                assert {"400", "422"} <= set(responses), (method, path)
    assert len(ids) == len(set(ids))


def test_schema_and_docs_are_served_without_a_cdn(client) -> None:
    served = client.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == generated()
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
