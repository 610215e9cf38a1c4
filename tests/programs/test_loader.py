"""loader.load: a file's programs and scorecards, all or nothing, with every error named by
its place in the file, and reloads that change only what changed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from accord.core.errors import PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.programs import services
from accord.programs.loader import load, read
from accord.programs.models import Program, ProgramVersion, ScorecardTemplate

DEMO = Path(__file__).resolve().parents[2] / "accord" / "demo" / "programs.toml"
pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> dict[str, Any]:
    return read(DEMO)


def errors_of(actor: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        load(actor=actor, data=data)
    return raised.value.message_dict


def nothing_written() -> bool:
    return not (
        Program.objects.exists()
        or ProgramVersion.objects.exists()
        or ScorecardTemplate.objects.exists()
        or AuditEntry.objects.filter(content_type__app_label="programs").exists()
    )


def test_a_bad_scorecard_after_a_good_program_loads_nothing(vendor_admin: Any, demo: dict) -> None:
    demo["scorecard"][1]["criteria"][0]["weight"] = 10  # weights now sum to 60
    found = errors_of(vendor_admin, demo)
    assert found == {"scorecard.1.criteria": ["The weights must sum to 100 (they sum to 60)."]}
    assert nothing_written()


def test_every_error_in_the_file_is_named_at_once(vendor_admin: Any, demo: dict) -> None:
    demo["programs"] = []
    demo["program"][0]["colour"] = "red"
    demo["program"][0]["version"]["tiers"][3]["criteria"][2]["window"] = "fortnight"
    demo["program"][0]["version"]["tiers"][1]["benefits"]["discount_pct"] = "200"
    demo["scorecard"][0]["standings"][1]["max_score"] = 75
    demo["scorecard"][1]["cadence"] = "weekly"
    found = errors_of(vendor_admin, demo)
    assert set(found) == {
        "programs",
        "program.0.colour",
        "program.0.version.tiers.3.criteria.2.window",
        "program.0.version.tiers.1.benefits.discount_pct",
        "scorecard.0.standings",
        "scorecard.1.cadence",
    }
    assert found["program.0.version.tiers.1.benefits.discount_pct"] == [
        "Enter a number from 0 to 100."
    ]
    assert found["scorecard.0.standings"] == ["Standing good overlaps the one below it."]
    assert nothing_written()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.update(program={"code": "x"}), "program"),
        (lambda d: d["program"].append(copy.deepcopy(d["program"][0])), "program.1.code"),
        (lambda d: d["scorecard"].append(copy.deepcopy(d["scorecard"][0])), "scorecard.2.code"),
        (lambda d: d["program"][0].update(version=[1]), "program.0.version"),
        (lambda d: d["program"][0]["version"].update(tiers=[]), "program.0.version.tiers"),
        (lambda d: d["program"][0].update(kinds=["alien"]), "program.0.kinds"),
        (lambda d: d["program"][0].update(name="x" * 121), "program.0.name"),
        (lambda d: d["program"][0].update(cadence="weekly"), "program.0.cadence"),
        (lambda d: d["program"][0].update(code=""), "program.0.code"),
        (lambda d: d["scorecard"][0].update(decay="2"), "scorecard.0.decay"),
        (lambda d: d["scorecard"][0].update(period="year"), "scorecard.0.period"),
        (lambda d: d["scorecard"][0].update(history_periods=0), "scorecard.0.history_periods"),
    ],
)
def test_each_bad_place_is_named(vendor_admin: Any, demo: dict, change: Any, key: str) -> None:
    change(demo)
    found = errors_of(vendor_admin, demo)
    assert key in found, found
    assert nothing_written()


def test_a_bad_update_of_a_loaded_file_changes_nothing(vendor_admin: Any, demo: dict) -> None:
    load(actor=vendor_admin, data=copy.deepcopy(demo))
    audit = AuditEntry.objects.count()
    live = services.version_content(services.live_version(Program.objects.get()))
    demo["program"][0]["version"]["grace_days"] = 30  # valid on its own
    demo["scorecard"][0]["criteria"][0]["points"] = [[0, 0], [0, 100]]  # not increasing
    found = errors_of(vendor_admin, demo)
    assert list(found) == ["scorecard.0.criteria.0.points"]
    assert AuditEntry.objects.count() == audit
    program = Program.objects.get()
    assert program.versions.count() == 1
    assert services.version_content(services.live_version(program)) == live


def test_reloading_changes_only_what_changed(vendor_admin: Any, demo: dict) -> None:
    load(actor=vendor_admin, data=copy.deepcopy(demo))
    demo["program"][0]["name"] = "Accord Partner Program 2027"
    demo["program"][0]["version"]["hysteresis_pct"] = "4"
    demo["scorecard"][1]["decay"] = "0.7"
    lines = load(actor=vendor_admin, data=copy.deepcopy(demo))
    assert lines == [
        "program partner-program: settings updated",
        "program partner-program: v2 published",
        "scorecard partner-scorecard: unchanged",
        "scorecard supplier-scorecard: saved",
    ]
    program = Program.objects.get()
    assert program.name == "Accord Partner Program 2027"
    assert list(program.versions.values_list("number", "status")) == [
        (2, "published"),
        (1, "retired"),
    ]
    assert str(services.live_version(program).hysteresis_pct) == "4.00"
    assert str(ScorecardTemplate.objects.get(code="supplier-scorecard").decay) == "0.700"
    assert load(actor=vendor_admin, data=copy.deepcopy(demo)) == [
        "program partner-program: v2 unchanged",
        "scorecard partner-scorecard: unchanged",
        "scorecard supplier-scorecard: unchanged",
    ]


def test_a_user_who_may_not_change_programs_loads_nothing(analyst: Any, demo: dict) -> None:
    with pytest.raises(PermissionDenied):
        load(actor=analyst, data=demo)
    assert nothing_written()


def test_the_demo_program_as_loaded(vendor_admin: Any, demo: dict) -> None:
    load(actor=vendor_admin, data=demo)
    program = Program.objects.get(code="partner-program")
    content = services.version_content(services.live_version(program))
    assert [tier["code"] for tier in content["tiers"]] == [
        "registered",
        "silver",
        "gold",
        "platinum",
    ]
    platinum = content["tiers"][3]
    assert (platinum["combine"], platinum["at_least"], len(platinum["criteria"])) == (
        "at_least",
        3,
        4,
    )
    assert content["tiers"][2]["benefits"]["named_account_manager"] is True
    scorecard = ScorecardTemplate.objects.get(code="partner-scorecard")
    assert [s.code for s in scorecard.standings.all()] == ["at-risk", "watch", "good"]
    assert sum(c.weight for c in scorecard.criteria.all()) == 100
