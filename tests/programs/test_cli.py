"""``accord evaluate`` and ``accord programs load``: the table and JSON output, previews,
and bad input -> a message on stderr and exit status 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from accord.programs.models import EvaluationRun, Membership, Program, ScorecardTemplate
from tests.programs.builders import D, ladder, make_program, partners, sell

DEMO = Path(__file__).resolve().parents[2] / "accord" / "demo" / "programs.toml"


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_from_argv closes every connection when a command ends, which would end the test's
    # transaction on PostgreSQL; the command's own work is unchanged.
    monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.fixture
def network(vendor_admin: Any) -> dict[str, Any]:
    program = make_program(vendor_admin, ladder(silver=250000, gold=500000), code="resellers")
    silver, idle = partners(2)
    silver.external_key, silver.name = "R-1", "Silver Shop"
    silver.save()
    idle.external_key, idle.name = "R-2", "Idle Shop"
    idle.save()
    sell(silver, D(2025, 6, 1), 426600)
    return {"program": program, "silver": silver, "idle": idle}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def exit_of(capsys: Any, *args: str) -> tuple[int, str]:
    """Run as from the shell: the real exit status and stderr."""
    with pytest.raises(SystemExit) as raised:
        execute_from_command_line(["accord", *args])
    return raised.value.code, capsys.readouterr().err


# -- accord evaluate ---------------------------------------------------------------------------
def test_evaluate_prints_a_table_and_applies(network: dict) -> None:
    output = run("evaluate", "resellers", "--as-of", "2026-03-31")
    lines = output.splitlines()
    run_pk = EvaluationRun.objects.get().pk
    assert lines[0] == f"resellers v1 as of 2026-03-31: 2 organisations, run #{run_pk}"
    silver = next(line for line in lines if line.startswith("R-1"))
    assert silver.split()[:5] == ["R-1", "Silver", "Shop", "Silver", "entered"]
    assert silver.endswith("needs 73,400 more revenue in the trailing 12 months")
    idle = next(line for line in lines if line.startswith("R-2"))
    assert idle.split()[3:5] == ["Registered", "entered"]
    assert idle.endswith("needs 250,000 more revenue in the trailing 12 months")
    assert "Tiers: Registered: 1, Silver: 1" in lines
    assert lines[-1] == "Changes: 2; early warnings: 0"
    assert Membership.objects.get(organisation=network["silver"]).tier_code == "silver"
    assert EvaluationRun.objects.get().trigger == "cli"


def test_evaluate_json(network: dict) -> None:
    document = json.loads(run("evaluate", "resellers", "--as-of", "2026-03-31", "--json"))
    assert (document["program"], document["version"], document["as_of"]) == (
        "resellers",
        1,
        "2026-03-31",
    )
    assert document["applied"] is True
    assert document["summary"]["distribution"] == {"silver": 1, "registered": 1}
    by_key = {org["external_key"]: org for org in document["organisations"]}
    silver = by_key["R-1"]
    assert (silver["name"], silver["outcome"], silver["effective_tier"]) == (
        "Silver Shop",
        "entered",
        "silver",
    )
    assert silver["gap"]["tier"] == "gold"
    assert silver["gap"]["items"][0]["text"] == (
        "needs 73,400 more revenue in the trailing 12 months"
    )
    criterion = silver["tiers"][1]["criteria"][0]
    assert (criterion["value"], criterion["passed"]) == ("426600.00", True)


def test_evaluate_preview_applies_nothing(network: dict) -> None:
    output = run("evaluate", "resellers", "--as-of", "2026-03-31", "--preview")
    assert output.splitlines()[0].endswith("(preview, nothing applied)")
    assert "Changes:" not in output
    assert not Membership.objects.exists()
    assert EvaluationRun.objects.get().applied is False


def test_evaluate_at_least_n_lines_say_how_many(vendor_admin: Any) -> None:
    content = {
        "tiers": [
            {"code": "base", "name": "Base"},
            {
                "code": "top",
                "name": "Top",
                "combine": "at_least",
                "at_least": 1,
                "criteria": [
                    {"metric": "revenue", "threshold": "100"},
                    {"metric": "orders", "threshold": "2"},
                ],
            },
        ]
    }
    make_program(vendor_admin, content, code="any-of")
    partners(1)[0]
    output = run("evaluate", "any-of", "--as-of", "2026-03-31")
    assert "1 of: needs 100 more revenue in the trailing 12 months; needs 2 more orders" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--as-of", "2026-03-31"], "Unknown program 'nope'. Known: resellers."),
        (["resellers", "--as-of", "31/03/2026"], "--as-of must be a date as YYYY-MM-DD"),
        (["resellers", "--as-of", "2026-02-30"], "--as-of must be a date as YYYY-MM-DD"),
        (["resellers", "--as-of", "2026-03-31", "--user", "ghost@x.test"], "No active user"),
        (["resellers", "--as-of", "1800-01-01"], "as_of must lie between the years"),
    ],
)
def test_evaluate_bad_input_exits_2(
    network: dict, capsys: Any, args: list[str], message: str
) -> None:
    code, err = exit_of(capsys, "evaluate", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not EvaluationRun.objects.exists()


def test_evaluate_refusals_are_command_errors(network: dict, analyst: Any) -> None:
    run("evaluate", "resellers", "--as-of", "2026-03-31")
    with pytest.raises(CommandError) as raised:
        run("evaluate", "resellers", "--as-of", "2026-03-30")
    assert raised.value.returncode == 2
    assert "applied up to 2026-03-31" in str(raised.value)
    with pytest.raises(CommandError) as raised:
        run("evaluate", "resellers", "--as-of", "2026-04-30", "--user", analyst.email)
    assert raised.value.returncode == 2
    assert f"{analyst.email} may not evaluate resellers." in str(raised.value)


def test_evaluate_without_a_live_version(vendor_admin: Any, capsys: Any) -> None:
    make_program(vendor_admin, code="drafty", publish=False)
    code, err = exit_of(capsys, "evaluate", "drafty", "--as-of", "2026-03-31")
    assert code == 2
    assert "The program has no published version to evaluate." in err


def test_evaluate_without_anyone_to_run_as(db: None, capsys: Any) -> None:
    code, err = exit_of(capsys, "evaluate", "resellers", "--as-of", "2026-03-31")
    assert code == 2
    assert "give --user EMAIL" in err


# -- accord programs load ---------------------------------------------------------------------
def test_loading_the_demo_file_twice_changes_nothing_the_second_time(vendor_admin: Any) -> None:
    first = run("programs", "load", str(DEMO)).splitlines()
    assert first == [
        "program partner-program: created",
        "program partner-program: v1 published",
        "scorecard partner-scorecard: saved",
        "scorecard supplier-scorecard: saved",
    ]
    second = run("programs", "load", str(DEMO)).splitlines()
    assert second == [
        "program partner-program: v1 unchanged",
        "scorecard partner-scorecard: unchanged",
        "scorecard supplier-scorecard: unchanged",
    ]
    program = Program.objects.get(code="partner-program")
    assert program.versions.count() == 1
    assert ScorecardTemplate.objects.count() == 2


def test_load_bad_files_exit_2_naming_the_field(
    vendor_admin: Any, tmp_path: Path, capsys: Any
) -> None:
    cases = {
        "broken.toml": ("[[program]\ncode = 1", "file:"),
        "field.toml": (
            '[[program]]\ncode = "p"\nname = "P"\ncolour = "red"\n',
            "program.0.colour: Unknown field.",
        ),
        "criterion.toml": (
            '[[program]]\ncode = "p"\nname = "P"\n[program.version]\n'
            '[[program.version.tiers]]\ncode = "a"\nname = "A"\n'
            'criteria = [{ metric = "revenue", threshold = "lots" }]\n',
            "program.0.version.tiers.0.criteria.0.threshold: Enter a number.",
        ),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, err = exit_of(capsys, "programs", "load", str(path))
        assert code == 2, name
        assert message in err, (name, err)
        assert "Traceback" not in err
    code, err = exit_of(capsys, "programs", "load", str(tmp_path / "missing.toml"))
    assert (code, "file:" in err) == (2, True)
    assert not Program.objects.exists()


def test_load_as_draft(vendor_admin: Any, tmp_path: Path) -> None:
    run("programs", "load", str(DEMO))
    text = DEMO.read_text(encoding="utf-8").replace('threshold = "250000"', 'threshold = "300000"')
    changed = tmp_path / "programs.toml"
    changed.write_text(text, encoding="utf-8")
    lines = run("programs", "load", str(changed), "--draft").splitlines()
    assert lines[0] == "program partner-program: v2 draft saved"
    program = Program.objects.get(code="partner-program")
    assert program.versions.get(status="published").number == 1
    assert program.versions.get(status="draft").number == 2
