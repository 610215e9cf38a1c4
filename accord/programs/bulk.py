"""One-statement bulk writes for evaluations: every row travels in a single JSON parameter, so
storing 100,000 organisations' results is one INSERT (or UPDATE), not one per few hundred rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections, models, router


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)  # type: ignore[return-value]


def _encoder(connection: Any) -> Any:
    """JSON for the values of a row: dates as ISO text, datetimes as the database stores
    them, Decimals as exact text (the database casts them back)."""

    def default(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if connection.vendor == "sqlite":
                return connection.ops.adapt_datetimefield_value(value)
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"{type(value).__name__} is not a column value")

    return default


def _payload(rows: Iterable[Sequence[Any]], connection: Any) -> str:
    return json.dumps(
        rows if isinstance(rows, list) else list(rows),
        separators=(",", ":"),
        ensure_ascii=False,  # text as it is, no escapes (nor surrogate pairs) to decode
        default=_encoder(connection),
    )


def _element(connection: Any, field: models.Field, index: int) -> str:
    """The SQL reading element ``index`` of a row (``value`` / ``r``) as ``field``'s type."""
    if connection.vendor == "postgresql":
        if isinstance(field, models.JSONField):
            return f"(r->{index})::jsonb"
        return f"(r->>{index})::{field.db_type(connection)}"
    if isinstance(field, models.JSONField):
        # The JSON text of the element (an object stays an object, a string is quoted).
        return f"json_quote(json_extract(value, '$[{index}]'))"
    return f"json_extract(value, '$[{index}]')"


def _rows_source(connection: Any) -> str:
    if connection.vendor == "postgresql":
        return "json_array_elements(%s::json) AS r"
    return "json_each(%s)"


def _constant(connection: Any, field: models.Field, value: Any) -> tuple[str, Any]:
    prepared = field.get_db_prep_save(value, connection)
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.db_type(connection)})", prepared
    return "%s", prepared


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ``rows`` (one value per name in ``fields``) into ``model``'s table in one
    statement; ``constants`` gives fields that are the same on every row, and every other
    concrete field takes its default. Like ``bulk_create``: no signals, no ``save()``."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    constants = dict(constants or {})
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    given = [_field(model, name) for name in fields]
    fixed = {_field(model, name).attname: value for name, value in constants.items()}
    named = {field.attname for field in given} | set(fixed)
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in named:
            continue
        fixed[field.attname] = field.get_default()
    columns, selects, params = [], [], []
    for index, field in enumerate(given):
        columns.append(quote(field.column))
        selects.append(_element(connection, field, index))
    for attname, value in fixed.items():
        field = next(f for f in model._meta.concrete_fields if f.attname == attname)
        columns.append(quote(field.column))
        sql, param = _constant(connection, field, value)
        selects.append(sql)
        params.append(param)
    params.append(_payload(rows, connection))
    # Table and column names come from _meta; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM {_rows_source(connection)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def update_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """UPDATE ``fields`` of the rows whose primary key is each row's first value, from the
    values that follow it, in one statement (like ``bulk_update``: no signals)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = model._meta.pk
    given = [_field(model, name) for name in fields]
    selects = [f"{_element(connection, pk, 0)} AS k"]
    selects += [
        f"{_element(connection, field, index)} AS v{index}"
        for index, field in enumerate(given, start=1)
    ]
    assignments = ", ".join(
        f"{quote(field.column)} = j.v{index}" for index, field in enumerate(given, start=1)
    )
    table = quote(model._meta.db_table)
    # Table and column names come from _meta; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {assignments} "  # noqa: S608
        f"FROM (SELECT {', '.join(selects)} FROM {_rows_source(connection)}) AS j "
        f"WHERE {table}.{quote(pk.column)} = j.k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_payload(rows, connection)])
