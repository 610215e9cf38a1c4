"""API schemas of accord.imports: import runs, their row report, results and the kinds."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from accord.core.api import ErrorOut
from accord.core.schemas import Text
from accord.imports.models import ImportBatch

BatchStatus = Literal[tuple(ImportBatch.Status.values)]  # type: ignore[valid-type]


class IssueOut(Schema):
    """One problem: row as numbered in the file (header = 1; null for the whole file)."""

    row: int | None
    column: str
    value: str
    reason: str


class ImportBatchOut(Schema):
    id: int
    kind: str
    file_name: str
    file_sha256: str
    status: BatchStatus
    skip_invalid: bool
    organisation_id: int
    created_by_id: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rows_read: int
    rows_skipped: int
    rows_rejected: int
    created: int = Field(alias="created_count")
    updated: int = Field(alias="updated_count")
    unchanged: int = Field(alias="unchanged_count")
    issues: int = Field(description="Problems of the rows that were skipped (see report.csv).")
    rolled_back_at: dt.datetime | None
    rolled_back_by_id: int | None
    mapping: str

    @staticmethod
    def resolve_issues(obj: Any) -> int:
        return len(obj.report or [])


class ImportResultOut(Schema):
    kind: str
    status: Literal["applied", "dry_run"]
    batch: ImportBatchOut | None
    rows_read: int
    rows_skipped: int
    rows_rejected: int
    created: int
    updated: int
    unchanged: int
    issues: list[IssueOut]
    preview: list[dict[str, str]] = Field(
        description="The first valid rows as field -> text (lookups show the key)."
    )


class ImportRejectedOut(ErrorOut):
    """422 ``import_rejected``: nothing was written; ``issues`` is the row report."""

    issues: list[IssueOut] = []
    rows_read: int = 0
    rows_rejected: int = 0


class ImportFilter(Schema):
    kind: Text(30) = None
    status: BatchStatus = None


class KindFieldOut(Schema):
    name: str
    type: str
    required: bool
    lookup: str | None = Field(None, description="What the key names (organisation, ...).")
    choices: list[str]
    help: str


class ImportKindOut(Schema):
    code: str
    label: str
    description: str
    identity: list[str] = Field(description="The fields that identify a row across imports.")
    fields: list[KindFieldOut]
