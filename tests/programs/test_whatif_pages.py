"""The what-if page through the Django test client on the real database: the draft against
the live version at chosen dates, with the counts selectors.what_if gives; nothing live
changes; only those who may evaluate get it (partners 403, unknown program 404)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accord.core.models import AuditEntry
from accord.programs import selectors, services
from accord.programs.models import (
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Score,
    TierChange,
    Warning,
)
from accord.programs.scorecard_forms import last_quarter_ends
from tests.factories import OrganisationFactory
from tests.programs.builders import certify, ladder, make_program, sell_many
from tests.programs.test_scorecard_pages import AS_OF, build_facts, load_demo_programs

D = dt.date
PAGE = "/programs/partner-program/what-if/"
DATES = ("2025-12-31", "2026-03-31", "2026-06-30")


def query(*dates: str) -> str:
    return PAGE + "?" + "&".join(f"as_of={day}" for day in dates)


@pytest.fixture
def program(vendor_admin: Any, partner_a: Any, partner_b: Any) -> Program:
    """The demo program live (v1) and applied once, and a draft (v2) whose Silver needs
    200,000 instead of 250,000 and whose Gold needs 1,000,000 instead of 750,000."""
    load_demo_programs()
    build_facts(partner_a, partner_b)
    # Two more resellers: one between the old and new Silver threshold, one at 800,000.
    middle = OrganisationFactory(name="Middle Reseller", kind="reseller")
    big = OrganisationFactory(name="Big Reseller", kind="reseller")
    sell_many([(middle, D(2026, 2, 1), "220000"), (big, D(2026, 2, 1), "800000")])
    certify(big, 2, earned=D(2025, 1, 1), expires=None)
    program = Program.objects.get(code="partner-program")
    services.evaluate_program(
        actor=vendor_admin, program=program, as_of=AS_OF, apply=True, trigger="manual"
    )
    draft = services.start_draft(actor=vendor_admin, program=program)
    content = services.version_content(draft)
    content["tiers"][1]["criteria"][0]["threshold"] = "200000"
    content["tiers"][2]["criteria"][0]["threshold"] = "1000000"
    services.save_draft(actor=vendor_admin, program=program, content=content)
    return program


def live_state() -> tuple[Any, ...]:
    return (
        list(Membership.objects.order_by("pk").values()),
        EvaluationRun.objects.count(),
        EvaluationResult.objects.count(),
        TierChange.objects.count(),
        Warning.objects.count(),
        Score.objects.count(),
        AuditEntry.objects.count(),
        list(ProgramVersion.objects.order_by("pk").values_list("pk", "status", "number")),
    )


def cells(html: str, as_of: str, side: str) -> list[str]:
    return re.findall(rf'data-as-of="{as_of}" data-side="{side}">([^<]*)<', html)


def test_counts_costs_and_movers_match_selectors_what_if(
    program: Program, vendor_admin: Any, login: Callable[..., Client]
) -> None:
    expected = selectors.what_if(vendor_admin, program, dates=list(DATES))
    response = login(vendor_admin).get(query(*DATES))
    assert response.status_code == 200
    html = response.content.decode()
    tiers = [tier["code"] for tier in expected["tiers"]]
    for date in expected["dates"]:
        day = date["as_of"]
        live, draft = cells(html, day, "live"), cells(html, day, "draft")
        # One cell per tier, then the cost row (tiers in selectors' order).
        assert [int(v) for v in live[: len(tiers)]] == [
            date["live"]["distribution"].get(code, 0) for code in tiers
        ]
        assert [int(v) for v in draft[: len(tiers)]] == [
            date["draft"]["distribution"].get(code, 0) for code in tiers
        ]
        assert live[len(tiers)].replace(",", "") == date["live"]["cost"]
        assert draft[len(tiers)].replace(",", "") == date["draft"]["cost"]
        assert cells(html, day, "up") == [f"↑ {date['up']}"]
        assert cells(html, day, "down") == [f"↓ {date['down']}"]
        movers = html.split(f'<details class="period-breakdown" data-as-of="{day}"', 1)[1]
        movers = movers.split("</details>", 1)[0]
        listed = re.findall(r'data-organisation="(\d+)" data-direction="(up|down)"', movers)
        assert listed == [(str(m["organisation"]), m["direction"]) for m in date["movers"]]
    # The middle reseller moves up to Silver, the big one down from Gold.
    last = expected["dates"][-1]
    moves = {m["name"]: (m["live"], m["draft"]) for m in last["movers"]}
    assert moves["Middle Reseller"] == ("registered", "silver")
    assert moves["Big Reseller"] == ("gold", "silver")
    chart = json.loads(
        html.split('id="whatif-chart-data" type="application/json">', 1)[1].split("</script>")[0]
    )
    assert len(chart["dates"]) == len(DATES)
    assert chart["dates"][-1]["draft"] == [
        last["draft"]["distribution"].get(code, 0) for code in tiers
    ]
    assert "Draft (v2)" in html and "Live (v1)" in html
    assert response["Content-Security-Policy"].count("'unsafe-inline'") == 0


def test_what_if_writes_nothing(
    program: Program, vendor_admin: Any, channel_manager: Any, login: Callable[..., Client]
) -> None:
    before = live_state()
    assert login(vendor_admin).get(query(*DATES)).status_code == 200
    assert login(channel_manager).get(PAGE).status_code == 200  # the default dates
    assert live_state() == before


def test_default_dates_are_the_last_four_quarter_ends(
    program: Program, vendor_admin: Any, login: Callable[..., Client]
) -> None:
    html = login(vendor_admin).get(PAGE).content.decode()
    defaults = last_quarter_ends(dt.date.today())
    for day in defaults:
        assert f'value="{day.isoformat()}"' in html
        assert f'data-as-of="{day.isoformat()}"' in html
    assert len(defaults) == 4


def test_last_quarter_ends() -> None:
    assert last_quarter_ends(D(2026, 11, 22)) == [
        D(2025, 12, 31),
        D(2026, 3, 31),
        D(2026, 6, 30),
        D(2026, 9, 30),
    ]
    # A quarter end itself is not "before today".
    assert last_quarter_ends(D(2026, 3, 31))[-1] == D(2025, 12, 31)
    assert last_quarter_ends(D(2026, 4, 1))[-1] == D(2026, 3, 31)


def test_no_draft_says_so_and_links_to_the_editor(
    vendor_admin: Any, login: Callable[..., Client]
) -> None:
    load_demo_programs()
    response = login(vendor_admin).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="whatif-no-draft"' in html
    assert "There is no draft version to compare." in html
    assert 'href="/programs/partner-program/edit/"' in html
    assert 'id="whatif-counts"' not in html


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (("not-a-date",), "is not a date"),
        (("2026-02-30",), "is not a date"),
        (tuple(f"2026-01-{day:02d}" for day in range(1, 14)), "At most 12 dates"),
        (("1066-10-14",), "between 1990 and 2999"),
    ],
)
def test_bad_dates_are_shown_on_the_form(
    program: Program,
    vendor_admin: Any,
    login: Callable[..., Client],
    dates: tuple[str, ...],
    message: str,
) -> None:
    before = live_state()
    response = login(vendor_admin).get(query(*dates))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'id="whatif-counts"' not in html
    assert live_state() == before


def test_empty_date_boxes_are_ignored(
    program: Program, vendor_admin: Any, login: Callable[..., Client]
) -> None:
    html = login(vendor_admin).get(PAGE + "?as_of=2026-06-30&as_of=&as_of=").content.decode()
    assert re.findall(r'<section class="card whatif-date"[^>]*data-as-of="([^"]+)"', html) == [
        "2026-06-30"
    ]


def test_only_those_who_may_evaluate_get_the_page(
    program: Program,
    partner_a_user: Any,
    analyst: Any,
    regional_coordinator: Any,
    login: Callable[..., Client],
) -> None:
    assert login(partner_a_user).get(PAGE).status_code == 403
    assert login(analyst).get(PAGE).status_code == 403
    assert login(regional_coordinator).get(PAGE).status_code == 403
    assert login(partner_a_user).get("/programs/no-such/what-if/").status_code == 404
    response = login(None).get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert login(partner_a_user).post(PAGE).status_code in (403, 405)


def test_a_program_never_published_compares_against_no_tiers(
    vendor_admin: Any, partner_a: Any, partner_b: Any, login: Callable[..., Client]
) -> None:
    build_facts(partner_a, partner_b)
    program = make_program(vendor_admin, ladder(silver=100000, gold=600000), publish=False)
    expected = selectors.what_if(vendor_admin, program, dates=["2026-06-30"])
    response = login(vendor_admin).get(f"/programs/{program.code}/what-if/?as_of=2026-06-30")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Live (none)" in html and "Draft (v1)" in html
    # Everyone in scope enters some tier of the draft: every one of them moves up.
    date = expected["dates"][0]
    assert date["up"] == date["moved"] == expected["organisations"] > 0
    assert cells(html, "2026-06-30", "up") == [f"↑ {date['up']}"]
    assert "No tier" in html  # the live side: nobody holds a tier
