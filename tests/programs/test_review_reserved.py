"""Review finding: the pages refuse the code "new" (/programs/new/ and /scorecards/new/ are
the pages that create one), but the API and programs files did not, and made a program or
scorecard whose page could never be opened (the create page answered instead)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.core.errors import ValidationError
from accord.programs import scorecards
from accord.programs.loader import load
from accord.programs.models import Program, ScorecardTemplate

pytestmark = pytest.mark.django_db

CARD = {
    "name": "New",
    "criteria": [{"metric": "revenue", "weight": 100, "points": [["0", "0"], ["1", "100"]]}],
    "standings": [{"code": "all", "name": "All", "min_score": "0", "max_score": "100"}],
}


def post(client: Any, path: str, payload: dict[str, Any]) -> Any:
    return client.post(f"/api/v1{path}", data=json.dumps(payload), content_type="application/json")


def test_api_refuses_the_code_new(api: Any, vendor_admin: Any) -> None:
    client = api(vendor_admin)
    response = post(client, "/programs", {"code": "new", "name": "New"})
    assert response.status_code == 422
    assert response.json()["fields"]["code"] == ["This code is reserved; choose another."]
    response = post(client, "/scorecards", {"code": "new", **CARD})
    assert response.status_code == 422
    assert response.json()["fields"]["code"] == ["This code is reserved; choose another."]
    assert not Program.objects.exists() and not ScorecardTemplate.objects.exists()


def test_a_file_may_not_use_the_code_new(vendor_admin: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        load(
            actor=vendor_admin,
            data={
                "program": [
                    {
                        "code": "new",
                        "name": "New",
                        "version": {"tiers": [{"code": "member", "name": "Member"}]},
                    }
                ],
                "scorecard": [{"code": "new", **CARD}],
            },
        )
    assert caught.value.message_dict == {
        "program.0.code": ["This code is reserved; choose another."],
        "scorecard.0.code": ["This code is reserved; choose another."],
    }
    assert not Program.objects.exists() and not ScorecardTemplate.objects.exists()


def test_other_codes_still_work_and_their_pages_open(login: Any, vendor_admin: Any) -> None:
    template = scorecards.save_scorecard(
        actor=vendor_admin, data={"code": "newer", "name": "Newer"}, content=CARD
    )
    assert login(vendor_admin).get(f"/scorecards/{template.code}/").status_code == 200
