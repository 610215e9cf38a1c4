"""docs/examples/adventureworks/import.sh against a fresh database of its own: the figures the
data's README states, then a second run that changes nothing."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "examples" / "adventureworks" / "import.sh"
DATA = ROOT.parent / "shared" / "data" / "adventureworks"

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"AdventureWorks data not found in {DATA} (see shared/data)"
)

QUERIES = {
    "organisations": "SELECT COUNT(*) FROM partners_organisation WHERE external_key LIKE 'aw-%'",
    "kinds": "SELECT COUNT(DISTINCT kind) FROM partners_organisation "
    "WHERE external_key LIKE 'aw-%'",
    "with_sales": "SELECT COUNT(DISTINCT organisation_id) FROM channel_salesline",
    "lines": "SELECT COUNT(*) FROM channel_salesline",
    "amount": "SELECT SUM(amount) FROM channel_salesline",
    "rollup_years": "SELECT SUM(revenue) FROM channel_salesrollup WHERE period = 'year'",
    "rollup_months": "SELECT SUM(revenue) FROM channel_salesrollup WHERE period = 'month'",
    "groups": "SELECT COUNT(*) FROM partners_territory WHERE level = 'group'",
    "regions": "SELECT COUNT(*) FROM partners_territory t JOIN partners_territory g "
    "ON t.parent_id = g.id WHERE t.level = 'region' AND g.level = 'group'",
    "products": "SELECT COUNT(*) FROM channel_product",
    "phones": "SELECT COUNT(*) FROM partners_organisation WHERE phone <> ''",
    "batches": "SELECT COUNT(*) FROM imports_importbatch",
}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A URL of an empty database and a function running one SQL query on it."""
    configured = os.environ.get("ACCORD_DATABASE_URL", "")
    if not configured.startswith("postgres"):
        path = tmp_path / "aw.sqlite3"

        def query(sql: str) -> Any:
            with sqlite3.connect(path) as connection:
                return connection.execute(sql).fetchone()[0]

        yield f"sqlite:///{path}", query
        return
    import psycopg

    base, _, _name = configured.rpartition("/")
    name = f"accord_aw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"

    def query(sql: str) -> Any:
        with psycopg.connect(url) as connection:
            return connection.execute(sql).fetchone()[0]

    try:
        yield url, query
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_script(url: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["ACCORD_DATABASE_URL"] = url
    completed = subprocess.run(
        [str(SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "rows/s" in completed.stderr  # the progress bar
    return completed.stdout


def figures(query: Any) -> dict[str, Any]:
    found = {name: query(sql) for name, sql in QUERIES.items()}
    for name in ("amount", "rollup_years", "rollup_months"):
        found[name] = Decimal(str(found[name])).quantize(Decimal("0.01"))
    return found


def test_adventureworks_import_and_reimport(database, tmp_path: Path) -> None:
    url, query = database
    output = run_script(url, cwd=tmp_path)  # from an unrelated working directory
    first = figures(query)
    total = Decimal("77548570.20")
    assert first["organisations"] == 701 and first["kinds"] == 3
    assert first["with_sales"] == 632 and first["lines"] == 57851
    assert first["amount"] == total
    assert first["rollup_years"] == total and first["rollup_months"] == total
    assert (first["groups"], first["regions"]) == (3, 10)
    assert first["products"] == 397 and first["phones"] == 701
    assert "sales_lines: applied" in output and "created 57,851" in output

    again = run_script(url, cwd=tmp_path)
    summaries = re.findall(r"^\w+: applied .*$", again, flags=re.M)
    assert len(summaries) == 6
    for line in summaries:
        assert "created 0, updated 0" in line, line
    second = figures(query)
    assert second.pop("batches") == first.pop("batches") + 6  # the runs are in the history
    assert second == first
