"""Review: odd inputs on the KPI pages and API never answer 500."""

from __future__ import annotations

from typing import Any

import pytest

ODD = [
    "metrics=revenue@99999999999999999999",
    "metrics=revenue@0",
    "metrics=revenue,revenue",
    "metrics=revenue,revenue@1",
    "metrics=,,,",
    "metrics=revenue&as_of=0001-01-01",
    "metrics=revenue&as_of=9999-12-31",
    "metrics=revenue&period=trailing_0",
    "metrics=revenue&period=trailing_100000",
    "metrics=revenue&periods=100000",
    "metrics=revenue&periods=-1",
    "metrics=revenue&offset=99999999999999999999",
    "metrics=revenue&limit=0",
    "metrics=revenue&organisation=99999999999999999999",
    "metrics=revenue&organisation=-1",
    "metrics=revenue&period=trailing_120&periods=120&as_of=1900-01-01",
    "metrics=revenue&period=year&periods=120&as_of=1900-06-01",
    "metrics=growth_yoy&period=year&periods=120&as_of=1900-06-01",
    "metrics=growth_yoy,inventory_turnover,fill_rate,nps,csat&period=trailing_120&periods=120&as_of=1900-06-01",
    "metrics=revenue&as_of=9000-12-31&period=year",
    "metrics=growth_yoy,inventory_turnover,fill_rate&as_of=9000-12-31&period=trailing_120",
]


@pytest.mark.parametrize("query", ODD)
def test_kpi_api_odd(facts: dict, api: Any, analyst: Any, query: str) -> None:
    client = api(analyst)
    r = client.get(f"/api/v1/kpis?{query}")
    assert r.status_code < 500, (query, r.content[:300])
    r = client.get(f"/api/v1/organisations/{facts['a'].pk}/kpis?{query}")
    assert r.status_code < 500, (query, r.content[:300])


PAGE = [
    "as_of=0001-01-01",
    "as_of=9999-12-31",
    "as_of=2999-12-31&period=year",
    "as_of=1990-01-01&period=trailing_12",
    "period=trailing_0",
    "period=trailing_100000",
    "periods=100000",
    "periods=-5",
    "periods=60&period=year&as_of=1990-01-01",
    "metrics=revenue&metrics=revenue",
    "metrics=",
    "metrics=nope",
    "sort=-revenue&metrics=revenue",
    "sort=-" + "x" * 100,
    "page=99999999999999999999",
    "page=-1",
    "kind=vendor",
    "q=%00",
    "as_of=2026-13-45",
]


@pytest.mark.parametrize("query", PAGE)
def test_kpi_pages_odd(
    facts: dict, login: Any, analyst: Any, partner_a_user: Any, query: str
) -> None:
    for user in (analyst, partner_a_user):
        client = login(user)
        for url in (
            "/kpis/",
            "/kpis/export.csv",
            "/kpis/export.xlsx",
            f"/kpis/organisation/{facts['a'].pk}/",
        ):
            r = client.get(f"{url}?{query}")
            assert r.status_code < 500, (url, query)
