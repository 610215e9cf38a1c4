"""Shared API schema building blocks: safe text, ids, aware datetimes, pagination, errors.

Every string that reaches the database goes through ``Text`` (no NUL bytes, which
PostgreSQL rejects, and no lone surrogates, which cannot be encoded), every id through
``ObjectId`` (a positive 64-bit integer) and every timestamp through ``AwareDatetime``
(with an offset, convertible to UTC), so bad input is a 422 and never a database error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from accord.core.api import ErrorOut
from accord.core.models import AuditEntry

MAX_ID = 2**63 - 1
# Deep enough for any real listing, small enough that OFFSET never overflows a bigint.
MAX_OFFSET = 10**12
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def clean_text(value: str) -> str:
    """Refuse characters no database column can hold."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PydanticCustomError(
            "invalid_unicode", "Text must be valid Unicode (no lone surrogates)."
        ) from error
    return value


def Text(
    max_length: int, *, min_length: int = 0, strip: bool = True, pattern: str | None = None
) -> Any:
    """A string of at most ``max_length`` characters that the database can store."""
    return Annotated[
        str,
        StringConstraints(
            max_length=max_length, min_length=min_length, strip_whitespace=strip, pattern=pattern
        ),
        AfterValidator(clean_text),
    ]


ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "timezone_required", "Give a time zone offset, e.g. 2026-01-31T12:00:00Z."
        )
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as error:
        raise PydanticCustomError("datetime_range", "Date and time out of range.") from error


AwareDatetime = Annotated[dt.datetime, AfterValidator(_to_utc)]


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """``{status: ErrorOut}`` for an operation's documented error statuses (401 always)."""
    return {code: ErrorOut for code in sorted({401, *codes})}


class PageInput(Schema):
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip.")


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` answering ``{"items": [...], "count": N}``."""

    Input = PageInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Re-key a service's field errors to the API's field names (``parent`` → ``parent_id``)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict") or not set(error.error_dict) & set(names):
            raise
        renamed = ValidationError(
            {names.get(name, name): messages for name, messages in error.error_dict.items()}
        )
        # Keep the error's class so conflicts stay conflicts (409).
        renamed.__class__ = type(error)
        raise renamed from error


def field_error(field: str, message: str) -> ValidationError:
    """A 422 for one request field."""
    return ValidationError({field: [message]})


# -- the audit log --------------------------------------------------------------
AuditAction = Literal[tuple(AuditEntry.Action.values)]  # type: ignore[valid-type]


class AuditEntryOut(Schema):
    """One write: who, when, what, each changed field as ``[before, after]``, and why."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor_label: str
    action: AuditAction
    object_type: str = Field(description='"app_label.model", e.g. "partners.organisation".')
    object_id: str
    object_repr: str
    organisation_id: int | None
    changes: dict[str, Any]
    reason: str

    @staticmethod
    def resolve_object_type(obj: Any) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AuditEntryFilter(Schema):
    object_type: Text(100, pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$") = Field(
        None, description='"app_label.model", e.g. "partners.organisation".'
    )
    object_id: Text(64) = None
    organisation: ObjectId = None
    action: AuditAction = None
    since: AwareDatetime = Field(None, description="Entries at or after this time.")
    until: AwareDatetime = Field(None, description="Entries before this time.")
