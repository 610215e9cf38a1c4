"""Review finding: the run pages printed a run's stored totals (the whole network's tier
counts, outcomes and benefit cost) to a regional coordinator who sees a few
organisations, while the API narrows the same totals to the caller's scope."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from accord.partners.models import Organisation
from accord.programs import services
from accord.programs.models import Program
from tests.programs.builders import D, make_program, sell

pytestmark = pytest.mark.django_db


def body(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def network(vendor_admin: Any, partner_a: Organisation, partner_b: Organisation) -> Program:
    """Partner A (in the coordinator's territory) Silver, partner B (outside it) Gold."""
    program = make_program(vendor_admin, code="tiers")
    sell(partner_a, D(2026, 3, 1), 1500)
    sell(partner_b, D(2026, 3, 1), 6000)
    services.evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 6, 30))
    return program


def distribution_items(text: str) -> list[tuple[str, str]]:
    block = text.split('class="kv run-summary"', 1)[1].split("</dl>", 1)[0]
    return re.findall(r'<li data-tier="([^"]*)">[^<]*<strong>([^<]*)</strong>', block)


def test_coordinator_pages_show_only_the_territorys_run_totals(
    login: Any, network: Program, regional_coordinator: Any, vendor_admin: Any
) -> None:
    """The run pages printed the stored summary (every organisation of the network, its
    tier counts and benefit cost) to a coordinator who sees one organisation, while the
    API narrows the same totals to the caller's scope."""
    run = network.runs.get()
    staff = body(login(vendor_admin).get(f"/programs/tiers/runs/{run.pk}/"))
    assert sorted(distribution_items(staff)) == [("gold", "1"), ("silver", "1")]
    assert "Benefit cost</dt>" in staff

    client = login(regional_coordinator)
    detail = body(client.get(f"/programs/tiers/runs/{run.pk}/"))
    assert distribution_items(detail) == [("silver", "1")]
    assert "Benefit cost</dt>" not in detail
    organisations = detail.split("<dt>Organisations</dt><dd>", 1)[1].split("<", 1)[0]
    assert organisations == "1"
    chart = re.search(
        r'<script id="[^"]*" type="application/json">(\{"kind": "bar".*?)</script>', detail
    )
    assert chart and json.loads(chart.group(1))["values"] == [1]

    listing = body(client.get("/programs/"))
    row = listing.split('data-program="tiers"', 1)[1].split("</tr>", 1)[0]
    assert "Silver 1" in row and "Gold" not in row

    program_page = body(client.get("/programs/tiers/"))
    assert distribution_items(program_page) == [("silver", "1")]
    assert "Benefit cost</dt>" not in program_page

    runs = body(client.get("/programs/tiers/runs/"))
    cells = re.findall(r'<td class="num">([^<]*)</td>', runs.split("<tbody", 1)[1])
    assert cells[0] == "1"  # organisations of the run the coordinator sees
