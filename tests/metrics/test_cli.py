"""``accord kpis``: formats, saving a run, and bad input -> a message and exit status 2."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import call_command, execute_from_command_line
from django.db import connections

from accord.metrics.models import KpiRun, KpiValue


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_from_argv closes every connection when a command ends, which would end the test's
    # transaction on PostgreSQL; the command's own work is unchanged.
    monkeypatch.setattr(connections, "close_all", lambda: None)


@pytest.fixture
def keyed(facts: dict, vendor_admin: Any) -> dict:
    facts["a"].external_key = "A-1"
    facts["a"].save()
    facts["b"].external_key = "B-1"
    facts["b"].save()
    return facts


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("kpis", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def exit_of(capsys: Any, *args: str) -> tuple[int, str]:
    """Run as from the shell: the real exit status and stderr."""
    with pytest.raises(SystemExit) as raised:
        execute_from_command_line(["accord", "kpis", *args])
    return raised.value.code, capsys.readouterr().err


def test_table_lists_every_organisation_and_period(keyed: dict) -> None:
    output = run("revenue,orders", "--period", "quarter", "--as-of", "2026-03-31", "--periods", "2")
    lines = output.splitlines()
    assert lines[0].split() == ["external_key", "name", "period_start", "revenue", "orders"]
    body = [line.split("  ") for line in lines[2:]]
    assert len(body) == 4  # A and B x 2 quarters
    assert lines[2].split() == ["A-1", "Alpha", "Distribution", "2025-10-01", "300.00", "1"]
    assert len({len(line) for line in lines[:3]}) == 1  # aligned columns
    assert lines[3].split()[-2:] == ["500.00", "4"]
    assert lines[5].split()[-2:] == ["0.00", "0"]  # B in Q1 2026


def test_csv_and_json(keyed: dict) -> None:
    rows = list(
        csv.reader(
            io.StringIO(
                run(
                    "revenue,growth",
                    "--as-of",
                    "2026-03-31",
                    "--period",
                    "quarter",
                    "--format",
                    "csv",
                    "--organisations",
                    "A-1,B-1",
                )
            )
        )
    )
    assert rows == [
        ["external_key", "name", "period_start", "revenue", "growth"],
        ["A-1", "Alpha Distribution", "2026-01-01", "500.00", "0.666667"],
        ["B-1", "Bravo Resellers", "2026-01-01", "0.00", "-1.000000"],
    ]
    document = json.loads(
        run(
            "nps",
            "--as-of",
            "2026-03-31",
            "--format",
            "json",
            "--explain",
            "--organisations",
            "A-1",
        )
    )
    assert document["metrics"] == ["nps@1"]
    assert document["rows"][0]["values"] == {"nps": "25.000000"}
    assert document["rows"][0]["inputs"]["nps"]["promoters"] == "2"
    assert document["rows"][0]["complete"] is True


def test_save_stores_a_run_with_inputs(keyed: dict) -> None:
    run("revenue,csat", "--as-of", "2026-03-31", "--save", "--organisations", "A-1")
    stored = KpiRun.objects.get()
    assert stored.metrics == ["revenue@1", "csat@1"]
    assert stored.created_by.email == "admin@vendor.test"
    values = {v.metric.code: v for v in KpiValue.objects.filter(run=stored)}
    assert values["revenue"].value == pytest.approx(150)
    assert values["csat"].inputs["responses"] == "3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "Unknown metric: nope"),
        (["revenue", "--as-of", "2026-02-30"], "--as-of must be a date"),
        (["revenue", "--period", "week"], "Unknown period 'week'"),
        (["revenue", "--periods", "x"], "--periods must be a whole number"),
        (["revenue", "--periods", "0"], "number of periods"),
        (["revenue", "--organisations", "A-1,ZZZ"], "Unknown organisation key: ZZZ"),
        (["revenue", "--user", "nobody@example.com"], "No active user"),
        (["revenue", "--as-of", "0001-01-01"], "as_of must lie between"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    keyed: dict, capsys: Any, args: list[str], message: str
) -> None:
    code, err = exit_of(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not KpiRun.objects.exists()


def test_no_administrator_is_a_clear_error(facts: dict, capsys: Any) -> None:
    code, err = exit_of(capsys, "revenue")
    assert code == 2
    assert "No active vendor administrator" in err


def test_partner_user_sees_only_its_own(keyed: dict, partner_b_user: Any) -> None:
    output = run(
        "revenue", "--as-of", "2026-03-31", "--user", partner_b_user.email, "--format", "csv"
    )
    assert [row[0] for row in csv.reader(io.StringIO(output))] == ["external_key", "B-1"]
    with pytest.raises(Exception, match="Unknown organisation key: A-1"):
        run("revenue", "--user", partner_b_user.email, "--organisations", "A-1")


def test_table_columns_line_up_with_chinese_names() -> None:
    from accord.metrics.management.commands.kpis import shown

    assert shown("华南电子") == 8
    assert shown("Alpha 华南") == 10
    assert shown("") == 0
