"""Review finding: NUL characters reached the database from a programs file. TOML writes
them as ``\\u0000``; `accord programs load` passed tier names, version notes, standings
and the scope lists of programs and scorecards to PostgreSQL, which refuses them (a
DataError traceback instead of exit status 2 naming the place; SQLite stored them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import execute_from_command_line
from django.db import connections

from accord.core.errors import ValidationError
from accord.programs import scorecards
from accord.programs.models import Program, ScorecardTemplate, Standing

pytestmark = pytest.mark.django_db

FILE = """
[[program]]
code = "p"
name = "P"
regions = [{region}]
tags = [{program_tag}]
[program.version]
notes = {notes}
[[program.version.tiers]]
code = "r"
name = {tier}
name_zh = {tier_zh}

[[scorecard]]
code = "s"
name = "S"
regions = ["CN"]
tags = [{tag}]
criteria = [{{ metric = "revenue", weight = 100, points = [["0", "0"], ["1", "100"]] }}]
[[scorecard.standings]]
code = {standing_code}
name = {standing}
name_zh = {standing_zh}
min_score = "0"
max_score = "100"
"""
CLEAN = {
    "region": '"CN"',
    "program_tag": '"gold"',
    "notes": '""',
    "tier": '"R"',
    "tier_zh": '""',
    "tag": '"x"',
    "standing_code": '"a"',
    "standing": '"A"',
    "standing_zh": '""',
}
NUL = '"a\\u0000b"'
PLACES = {
    "region": "program.0.regions",
    "program_tag": "program.0.tags",
    "notes": "program.0.version.notes",
    "tier": "program.0.version.tiers.0.name",
    "tier_zh": "program.0.version.tiers.0.name_zh",
    "tag": "scorecard.0.tags",
    "standing_code": "scorecard.0.standings.0.code",
    "standing": "scorecard.0.standings.0.name",
    "standing_zh": "scorecard.0.standings.0.name_zh",
}


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_from_argv closes every connection when a command ends, which would end the test's
    # transaction on PostgreSQL (as tests/programs/test_cli.py does).
    monkeypatch.setattr(connections, "close_all", lambda: None)


def exit_of(capsys: Any, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as raised:
        execute_from_command_line(["accord", *args])
    return raised.value.code, capsys.readouterr().err


@pytest.mark.parametrize("where", list(PLACES))
def test_load_refuses_nul_naming_its_place(
    vendor_admin: Any, tmp_path: Path, capsys: Any, where: str
) -> None:
    path = tmp_path / "nul.toml"
    path.write_text(FILE.format(**{**CLEAN, where: NUL}), encoding="utf-8")
    code, err = exit_of(capsys, "programs", "load", str(path))
    assert code == 2
    assert f"{PLACES[where]}: Null characters are not allowed." in err
    assert "Traceback" not in err
    assert not Program.objects.exists() and not ScorecardTemplate.objects.exists()


def test_load_accepts_the_same_file_without_nul(vendor_admin: Any, tmp_path: Path) -> None:
    path = tmp_path / "clean.toml"
    path.write_text(FILE.format(**CLEAN), encoding="utf-8")
    execute_from_command_line(["accord", "programs", "load", str(path)])
    assert Program.objects.get(code="p").regions == ["CN"]
    assert Standing.objects.get(template__code="s").name == "A"


def test_changing_a_scorecard_refuses_nul_in_its_name(vendor_admin: Any) -> None:
    """The update path used full_clean, which lets NUL through to the database."""
    content = {
        "criteria": [{"metric": "revenue", "weight": 100, "points": [["0", "0"], ["1", "100"]]}],
        "standings": [{"code": "a", "name": "A", "min_score": "0", "max_score": "100"}],
    }
    template = scorecards.save_scorecard(
        actor=vendor_admin, data={"code": "s", "name": "S"}, content=content
    )
    with pytest.raises(ValidationError) as caught:
        scorecards.save_scorecard(
            actor=vendor_admin, data={"name": "a\x00b"}, content=content, template=template
        )
    assert caught.value.message_dict == {"name": ["Null characters are not allowed."]}
    template.refresh_from_db()
    assert template.name == "S"
