"""Review findings: numbers too large for the editors. A huge threshold or benefit crashed
the program editor (decimal.Overflow from abs()), and the scorecard editor took point
values its page could not print (a 500 there) or overflowed on them itself."""

from __future__ import annotations

from typing import Any

import pytest

from accord.core.errors import ValidationError
from accord.partners.models import Organisation
from accord.programs import services
from accord.programs.models import ScorecardTemplate
from accord.programs.rules import check_points
from tests.programs.builders import make_program

pytestmark = pytest.mark.django_db

HUGE = "1e9999999"  # Decimal parses it; abs() and normalize() overflow on it


def body(response: Any) -> str:
    return response.content.decode()


@pytest.mark.parametrize("key", ["hysteresis_pct", "threshold", "discount_pct"])
@pytest.mark.parametrize("value", [HUGE, f"-{HUGE}"])
def test_clean_content_refuses_a_huge_number_as_a_field_error(key: str, value: str) -> None:
    """services._decimal used abs(), which overflowed: decimal.Overflow, a 500 on the
    editor and a traceback from `accord programs load`."""
    content: dict[str, Any] = {
        "hysteresis_pct": "5",
        "tiers": [
            {"code": "registered", "name": "Registered"},
            {
                "code": "silver",
                "name": "Silver",
                "benefits": {"discount_pct": "3"},
                "criteria": [{"metric": "revenue", "threshold": "1000", "window": "trailing_12"}],
            },
        ],
    }
    where = {
        "hysteresis_pct": (content, "hysteresis_pct", "hysteresis_pct"),
        "threshold": (content["tiers"][1]["criteria"][0], "threshold", "tiers.1.criteria.0"),
        "discount_pct": (content["tiers"][1]["benefits"], "discount_pct", "tiers.1.benefits"),
    }
    target, name, prefix = where[key]
    target[name] = value
    with pytest.raises(ValidationError) as caught:
        services.clean_content(content)
    assert any(field.startswith(prefix) for field in caught.value.message_dict)


def test_draft_editor_shows_a_huge_threshold_as_an_error_at_its_input(
    login: Any, vendor_admin: Any, partner_a: Organisation
) -> None:
    program = make_program(vendor_admin, code="tiers")
    post = {
        "grace_days": "90",
        "hysteresis_pct": "5",
        "cost_basis_metric": "revenue",
        "cost_basis_window_choice": "trailing_12",
        "t0-code": "registered",
        "t0-name": "Registered",
        "t0-combine": "all",
        "t1-code": "silver",
        "t1-name": "Silver",
        "t1-combine": "all",
        "t1-c0-metric": "revenue",
        "t1-c0-comparator": "gte",
        "t1-c0-threshold": HUGE,
        "t1-c0-window_choice": "trailing_12",
    }
    response = login(vendor_admin).post(f"/programs/{program.code}/edit/", post)
    assert response.status_code == 200
    text = body(response)
    assert "The number is too large." in text
    assert f'value="{HUGE}"' in text  # what was typed is kept
    assert program.versions.filter(status="draft").count() == 0


def scorecard_post(points: str, code: str = "big") -> dict[str, str]:
    return {
        "code": code,
        "name": "Big",
        "period": "quarter",
        "decay": "0.5",
        "history_periods": "4",
        "is_active": "on",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-metric": "revenue",
        "criteria-0-weight": "100",
        "criteria-0-rule": "linear",
        "criteria-0-points": points,
        "standings-TOTAL_FORMS": "1",
        "standings-INITIAL_FORMS": "0",
        "standings-0-code": "all",
        "standings-0-name": "All",
        "standings-0-min_score": "0",
        "standings-0-max_score": "100",
        "standings-0-deal_registration": "none",
        "standings-0-mdf_requests": "none",
        "standings-0-orders": "none",
    }


@pytest.mark.parametrize("points", [f"0:0, {HUGE}:100", "0:0, 1e30:100", "-1e400:0, 0:100"])
def test_scorecard_editor_refuses_point_values_too_large_to_show(
    login: Any, vendor_admin: Any, points: str
) -> None:
    """1e9999999 overflowed in the form (a 500); 1e30 and 1e400 were saved, and the
    scorecard's page then failed (a 500) printing the points with two places."""
    response = login(vendor_admin).post("/scorecards/new/", scorecard_post(points))
    assert response.status_code == 400
    assert "Point values lie between -10^17 and 10^17." in body(response)
    assert not ScorecardTemplate.objects.filter(code="big").exists()


def test_scorecard_api_and_editor_agree_on_the_largest_point(login: Any, vendor_admin: Any) -> None:
    """10^17, the API's largest point value, saves from the editor and its page shows it."""
    client = login(vendor_admin)
    response = client.post("/scorecards/new/", scorecard_post("0:0, 1e17:100"))
    assert response.status_code == 302
    page = client.get("/scorecards/big/")
    assert page.status_code == 200
    assert "100,000,000,000,000,000" in body(page)
    with pytest.raises(ValueError, match="10\\^17"):
        check_points("linear", [["0", "0"], ["100000000000000001", "100"]])
