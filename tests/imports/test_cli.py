"""``accord import``: progress on stderr, a summary, the row report and the exit status."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accord.channel.models import SalesLine
from tests.apitools import fingerprint
from tests.imports.conftest import SALES_CSV, SALES_MAPPING

ROOT = Path(__file__).resolve().parents[2]
import_command = importlib.import_module("accord.imports.management.commands.import")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "sales.csv").write_text(SALES_CSV, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(SALES_CSV.replace("R-B,", "R-ZZ,"), encoding="utf-8")
    (tmp_path / "map.toml").write_text(SALES_MAPPING, encoding="utf-8")
    return {p.stem: p for p in tmp_path.iterdir()}


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_shows_progress_and_summary(keyed, vendor_admin, files):
    out, err = run("sales_lines", str(files["sales"]), "--mapping", str(files["map"]))
    assert "sales_lines: applied as import #" in out
    assert "rows read 4, rows skipped 1, rows rejected 0, created 3" in out
    assert "sales_lines [##############################] 4/4 rows (100%)" in err
    assert "rows/s" in err
    assert SalesLine.objects.count() == 3


@pytest.mark.django_db
def test_rejected_import_prints_the_report_and_writes_it(keyed, vendor_admin, files, tmp_path):
    before = fingerprint()
    report = tmp_path / "report.csv"
    err = io.StringIO()
    with pytest.raises(CommandError, match="rejected") as raised:
        call_command(
            "import",
            "sales_lines",
            str(files["bad"]),
            "--mapping",
            str(files["map"]),
            "--report",
            str(report),
            stdout=io.StringIO(),
            stderr=err,
        )
    assert raised.value.returncode == 1
    assert "row 5 Reseller 'R-ZZ': Unknown organisation key." in err.getvalue()
    assert report.read_text().splitlines() == [
        "row,column,value,reason",
        "5,Reseller,R-ZZ,Unknown organisation key.",
    ]
    assert fingerprint() == before


@pytest.mark.django_db
def test_dry_run_and_skip_invalid_and_user(keyed, vendor_admin, partner_a_user, files):
    out, _err = run("sales_lines", str(files["sales"]), "--mapping", str(files["map"]), "--dry-run")
    assert "sales_lines: dry_run: " in out and SalesLine.objects.count() == 0
    out, err = run(
        "sales_lines",
        str(files["bad"]),
        "--mapping",
        str(files["map"]),
        "--skip-invalid",
        "--user",
        partner_a_user.email,
    )
    assert "created 2" in out and "rows rejected 1" in out
    assert "Unknown organisation key" in err
    assert set(SalesLine.objects.values_list("organisation_id", flat=True)) == {keyed["a"].pk}


@pytest.mark.django_db
def test_clear_errors_for_bad_arguments(keyed, vendor_admin, analyst, files, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run("sales_lines", str(tmp_path / "missing.csv"))
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text("fields = [", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid TOML"):
        run("sales_lines", str(files["sales"]), "--mapping", str(bad_mapping))
    with pytest.raises(CommandError, match="not allowed"):
        run("sales_lines", str(files["sales"]), "--user", analyst.email)
    with pytest.raises(CommandError, match="No user"):
        run("sales_lines", str(files["sales"]), "--user", "nobody@example.com")


@pytest.mark.django_db
def test_no_administrator_is_an_error(files):
    with pytest.raises(CommandError, match="No active administrator"):
        run("sales_lines", str(files["sales"]))


def test_progress_lines_without_a_terminal():
    stream = io.StringIO()
    progress = import_command.Progress(stream, "sales_lines", interval=0)
    for done in (5000, 10000, 12000):
        progress(done, 12000)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("sales_lines [##############################] 12,000/12,000")


def test_exit_status_of_the_real_command(tmp_path: Path) -> None:
    """The installed ``accord`` entry point exits 1 on a rejected file, 0 on a good one."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["ACCORD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    accord = [sys.executable, "-m", "accord.cli"]

    def accord_run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*accord, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )

    assert accord_run("migrate", "-v", "0").returncode == 0
    assert (
        accord_run(
            "createsuperuser", "--noinput", "--email", "a@localhost", "--full_name", "A"
        ).returncode
        == 0
    )
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,valid_from,rate\nEUR,2024-01-01,1.1\n", encoding="utf-8")
    good = accord_run("import", "exchange_rates", str(rates))
    assert good.returncode == 0, good.stderr
    assert "created 1" in good.stdout and "1/1 rows" in good.stderr
    rates.write_text("currency,valid_from,rate\nEUR,2024-02-30,1.1\n", encoding="utf-8")
    bad = accord_run("import", "exchange_rates", str(rates))
    assert bad.returncode == 1
    assert "row 2 valid_from '2024-02-30': Not a date" in bad.stderr
