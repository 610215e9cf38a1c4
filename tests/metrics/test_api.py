"""The KPI API: definitions, KPI tables, one organisation's history, stored runs; isolation."""

from __future__ import annotations

from typing import Any

import pytest

from accord.metrics.models import KpiRun, KpiValue
from tests.apitools import call, fingerprint

QUARTER = "metrics=revenue,growth,orders&period=quarter&as_of=2026-03-31"


def test_metrics_lists_current_definitions(api: Any, partner_a_viewer: Any) -> None:
    response = api(partner_a_viewer).get("/api/v1/metrics")
    assert response.status_code == 200
    codes = [m["code"] for m in response.json()]
    assert "revenue" in codes and "nps" in codes and "certified_staff" in codes
    revenue = next(m for m in response.json() if m["code"] == "revenue")
    assert revenue["params"] == {"direction": "sell_in"}
    assert revenue["dimension"] == "financial"
    assert revenue["version"] == 1


def test_kpis_for_staff_cover_every_organisation(facts: dict, api: Any, analyst: Any) -> None:
    response = api(analyst).get(f"/api/v1/kpis?{QUARTER}&periods=2")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2  # A and B, not the vendor
    assert [p["start"] for p in body["periods"]] == ["2025-10-01", "2026-01-01"]
    a_q1 = next(
        i
        for i in body["items"]
        if i["organisation_id"] == facts["a"].pk and i["period_start"] == "2026-01-01"
    )
    assert a_q1["values"] == {"revenue": "500.00", "growth": "0.666667", "orders": "4"}
    assert a_q1["inputs"]["growth"]["previous"] == "300.00"
    assert [m["code"] for m in body["metrics"]] == ["revenue", "growth", "orders"]


def test_kpis_paginate_by_organisation(facts: dict, api: Any, analyst: Any) -> None:
    body = api(analyst).get(f"/api/v1/kpis?{QUARTER}&limit=1&offset=1&periods=3").json()
    assert body["count"] == 2
    assert {i["name"] for i in body["items"]} == {"Bravo Resellers"}
    assert len(body["items"]) == 3


def test_partner_sees_only_its_own_kpis(facts: dict, api: Any, partner_b_user: Any) -> None:
    body = api(partner_b_user).get(f"/api/v1/kpis?{QUARTER}").json()
    assert body["count"] == 1
    assert [i["organisation_id"] for i in body["items"]] == [facts["b"].pk]
    response = api(partner_b_user).get(f"/api/v1/kpis?{QUARTER}&organisation={facts['a'].pk}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("metrics=nope", "metrics"),
        ("metrics=revenue&period=week", "period"),
        ("metrics=revenue&period=trailing_0", "period"),
        ("metrics=revenue&as_of=2026-02-30", "as_of"),
        ("metrics=revenue&as_of=0001-01-01", "as_of"),
        ("metrics=revenue&periods=0", "periods"),
        ("metrics=revenue&periods=121", "periods"),
        ("metrics=rev;drop", "metrics"),
        ("period=month", "metrics"),
    ],
)
def test_bad_parameters_are_422(api: Any, analyst: Any, query: str, field: str) -> None:
    response = api(analyst).get(f"/api/v1/kpis?{query}")
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    assert field in body["fields"]


def test_organisation_history(facts: dict, api: Any, partner_a_viewer: Any) -> None:
    a = facts["a"]
    response = api(partner_a_viewer).get(
        f"/api/v1/organisations/{a.pk}/kpis?metrics=revenue,csat&as_of=2026-03-31&periods=3"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [i["values"] for i in body["items"]] == [
        {"revenue": "100.00", "csat": None},
        {"revenue": "250.00", "csat": None},
        {"revenue": "150.00", "csat": "3.666667"},
    ]
    every = api(partner_a_viewer).get(f"/api/v1/organisations/{a.pk}/kpis?as_of=2026-03-31")
    assert "nps" in every.json()["items"][0]["values"]


def test_organisation_history_is_404_when_invisible(
    facts: dict, api: Any, partner_b_user: Any
) -> None:
    for pk in (facts["a"].pk, 999999):
        response = api(partner_b_user).get(f"/api/v1/organisations/{pk}/kpis?metrics=revenue")
        assert response.status_code == 404


def test_runs_store_values_and_show_them_restricted(
    facts: dict, api: Any, channel_manager: Any, partner_a_viewer: Any, partner_b_user: Any
) -> None:
    response = call(
        api(channel_manager),
        "post",
        "/api/v1/kpi-runs",
        {"metrics": ["revenue", "nps"], "period": "month", "as_of": "2026-03-31"},
    )
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["metrics"] == ["revenue@1", "nps@1"]
    assert run["organisation_count"] == 2
    assert KpiValue.objects.filter(run_id=run["id"]).count() == 4

    staff = api(channel_manager).get(f"/api/v1/kpi-runs/{run['id']}").json()
    assert staff["count"] == 4
    partner = api(partner_a_viewer).get(f"/api/v1/kpi-runs/{run['id']}").json()
    assert partner["count"] == 2
    assert (staff["organisation_count"], partner["organisation_count"]) == (2, 1)
    assert {v["organisation_id"] for v in partner["values"]} == {facts["a"].pk}
    nps = next(v for v in partner["values"] if v["metric"] == "nps")
    assert nps["value"] == "25.000000"
    assert nps["inputs"]["responses"] == "4"


def test_run_of_other_organisations_only_is_404_for_a_partner(
    facts: dict, api: Any, channel_manager: Any, partner_b_user: Any
) -> None:
    run = call(
        api(channel_manager),
        "post",
        "/api/v1/kpi-runs",
        {"metrics": ["revenue"], "as_of": "2026-03-31", "organisations": [facts["a"].pk]},
    ).json()
    assert api(partner_b_user).get(f"/api/v1/kpi-runs/{run['id']}").status_code == 404
    assert api(partner_b_user).get("/api/v1/kpi-runs/999999").status_code == 404


def test_creating_runs_needs_permission_and_changes_nothing_when_refused(
    facts: dict, api: Any, partner_a_user: Any, analyst: Any
) -> None:
    clients = [api(partner_a_user), api(analyst)]
    before = fingerprint()
    for client in clients:
        response = call(client, "post", "/api/v1/kpi-runs", {"metrics": ["revenue"]})
        assert response.status_code == 403
    assert fingerprint() == before


def test_run_with_unseen_or_unknown_organisation_is_422(
    facts: dict, api: Any, regional_coordinator: Any, channel_manager: Any
) -> None:
    response = call(
        api(channel_manager),
        "post",
        "/api/v1/kpi-runs",
        {"metrics": ["revenue"], "organisations": [999999]},
    )
    assert response.status_code == 422
    assert "organisations" in response.json()["fields"]
    response = call(api(channel_manager), "post", "/api/v1/kpi-runs", {"metrics": ["bogus"]})
    assert response.status_code == 422
    assert not KpiRun.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/metrics",
        f"/api/v1/kpis?{QUARTER}",
        "/api/v1/organisations/1/kpis",
        "/api/v1/kpi-runs/1",
    ],
)
def test_anonymous_is_401(api: Any, path: str) -> None:
    assert api(None).get(path).status_code == 401


def test_anonymous_cannot_create_runs(api: Any) -> None:
    assert call(api(None), "post", "/api/v1/kpi-runs", {"metrics": ["revenue"]}).status_code == 401


def test_user_without_kpi_permission_is_403(facts: dict, api: Any) -> None:
    from accord.accounts.models import Role
    from tests.factories import UserFactory

    role = Role.objects.create(
        code="org-reader", name="Reader", scope="all", permissions=["partners.view_organisation"]
    )
    user = UserFactory(organisation=facts["a"], roles=[role.code])
    assert api(user).get(f"/api/v1/kpis?{QUARTER}").status_code == 403
    assert api(user).get(f"/api/v1/organisations/{facts['a'].pk}/kpis").status_code == 403


# The isolation tests above cover every metrics operation: operation -> the tests that do.
METRICS_OPERATIONS = {
    "metrics_list": ("test_metrics_lists_current_definitions", "test_anonymous_is_401"),
    "kpis_list": ("test_partner_sees_only_its_own_kpis", "test_user_without_kpi_permission_is_403"),
    "organisations_kpis": ("test_organisation_history_is_404_when_invisible",),
    "kpi_runs_create": (
        "test_creating_runs_needs_permission_and_changes_nothing_when_refused",
        "test_run_with_unseen_or_unknown_organisation_is_422",
    ),
    "kpi_runs_get": ("test_run_of_other_organisations_only_is_404_for_a_partner",),
}


def test_every_metrics_operation_has_isolation_tests() -> None:
    from accord.api import api
    from accord.metrics import api as metrics_api

    operations = {
        operation["operationId"]
        for path in api.get_openapi_schema()["paths"].values()
        for operation in path.values()
    }
    assert {name for name in operations if callable(getattr(metrics_api, name, None))} == set(
        METRICS_OPERATIONS
    )
    for tests in METRICS_OPERATIONS.values():
        assert all(callable(globals().get(test)) for test in tests)
