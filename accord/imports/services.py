"""Running an import (validate, then write in one transaction) and rolling one back.

``run_import`` streams the file in chunks: each chunk is converted, its lookups resolved in
one query per target, its source keys checked in bulk, then inserted (one executemany),
updated (only rows that changed, with their old values kept for rollback) or left alone.
Any row problem stops the writing; unless ``skip_invalid`` is set the transaction is rolled
back at the end, so a rejected (or dry) run commits nothing, not even its batch row.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, BinaryIO

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    connection,
    models,
    router,
    transaction,
)
from django.db.models import ProtectedError, Q, RestrictedError
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accord.channel.models import ProductCategory, SalesLine, month_key
from accord.channel.money import MissingRate, RateTable, base_currency
from accord.channel.rollups import refresh_sales_rollups
from accord.core import gates
from accord.core.models import SCOPE_ALL, AuditEntry
from accord.core.services import ensure_permitted, record, snapshot, validate
from accord.imports.kinds import (
    BOOL,
    CHOICE,
    DATE,
    DECIMAL,
    INT,
    KINDS,
    LOOKUP,
    LOOKUPS,
    Field,
    Kind,
)
from accord.imports.mapping import (
    FieldMap,
    Mapping,
    MappingError,
    compile_getter,
    default_mapping,
    parse_mapping,
)
from accord.imports.models import ImportBatch, ImportChange
from accord.imports.readers import FileProblem, Table, open_table
from accord.partners.models import Organisation

CHUNK_ROWS = 5000
PREVIEW_ROWS = 20
MAX_ISSUES = 10000
HUGE = Decimal(10) ** 18  # beyond any numeric column here; checked before exact arithmetic
MONEY_LIMIT = Decimal(10) ** 16  # amounts are numeric(18, 2)
TRUE = {"1", "true", "yes", "y", "t", "on", "是", "真"}
FALSE = {"0", "false", "no", "n", "f", "off", "否", "假"}


@dataclass
class Issue:
    """One problem: its row (header = row 1; None for the whole file), column, value, why."""

    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportResult:
    kind: str
    status: str  # "applied" | "rejected" | "dry_run"
    batch: ImportBatch | None
    rows_read: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "rows_skipped": self.rows_skipped,
            "rows_rejected": self.rows_rejected,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


class ImportRefused(Exception):
    """The import cannot start (permission, unknown kind, bad mapping) or be rolled back."""

    def __init__(self, message: str, *, code: str = "import_refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Abort(Exception):
    """Rolls the import transaction back (rejected or dry run)."""


class _Bad(ValueError):
    pass


# -- values -------------------------------------------------------------------------------
def _number_text(raw: str, mapping: Mapping) -> str:
    if (
        raw.isascii()
        and " " not in raw
        and not mapping.thousands_separator
        and (mapping.decimal_separator == ".")
    ):
        return raw
    text = raw.replace(" ", "").replace("\u00a0", "")
    if mapping.thousands_separator:
        text = text.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator != ".":
        text = text.replace(mapping.decimal_separator, ".")
    return text


def _parse_decimal(raw: str, mapping: Mapping) -> Decimal:
    try:
        value = Decimal(_number_text(raw, mapping))
    except InvalidOperation as error:
        raise _Bad(_("Not a number.")) from error
    if not value.is_finite():
        raise _Bad(_("Not a number."))
    return value


def _limits(model_field: models.Field | None) -> tuple[Any, Any]:
    low = high = None
    for validator in getattr(model_field, "validators", ()):
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value
    return low, high


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _date_parser(formats: list[str]) -> Callable[[str], dt.date]:
    cache: dict[str, dt.date] = {}

    def parse(raw: str) -> dt.date:
        found = cache.get(raw)
        if found is not None:
            return found
        value = None
        for fmt in formats:
            try:
                if fmt == "%Y-%m-%d":
                    value = dt.date.fromisoformat(raw)
                else:
                    value = dt.datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
        if value is None and ISO_DATE.match(raw):
            try:  # ISO dates (and XLSX date cells) are always understood
                value = dt.date.fromisoformat(raw[:10])
            except ValueError:
                value = None
        if value is None:
            raise _Bad(
                _("Not a date in the expected format (%(formats)s).")
                % {"formats": ", ".join(formats)}
            )
        if len(cache) < 100000:
            cache[raw] = value
        return value

    return parse


@dataclass
class _Column:
    """A mapped field, compiled: how to get its text from a row and turn it into a value."""

    spec: Field
    fmap: FieldMap
    getter: Callable[[list[str]], str]
    convert: Callable[[str], Any]
    source: str  # the source column(s) named in issues


def _converter(
    spec: Field,
    fmap: FieldMap,
    model_field: models.Field | None,
    mapping: Mapping,
    fact: bool = True,
) -> Callable[[str], Any]:
    if spec.type == DECIMAL or spec.type == INT:
        low, high = _limits(model_field)
        places = getattr(model_field, "decimal_places", 4 if spec.type == DECIMAL else None)
        digits = getattr(model_field, "max_digits", 18 if spec.type == DECIMAL else None)
        quantum = Decimal(1).scaleb(-places) if places is not None else None
        limit = Decimal(10) ** (digits - places) if digits is not None else None
        negative = spec.name in ("quantity",)

        plain = not mapping.thousands_separator and mapping.decimal_separator == "."

        def number(raw: str) -> Any:
            try:
                value = Decimal(raw) if plain else _parse_decimal(raw, mapping)
            except InvalidOperation:
                value = _parse_decimal(raw, mapping)
            if not value.is_finite():
                raise _Bad(_("Not a number."))
            if abs(value) >= HUGE:
                raise _Bad(_("The number is too large."))
            if spec.type == INT:
                if value != value.to_integral_value():
                    raise _Bad(_("Not a whole number."))
                value = int(value)
            elif quantum is not None:
                value = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
                if abs(value) >= limit:
                    raise _Bad(_("The number is too large."))
            if (negative or (low is not None and low == 0)) and value < 0:
                raise _Bad(_("Must not be negative."))
            if low is not None and value < low:
                raise _Bad(_("Must be at least %(low)s.") % {"low": low})
            if high is not None and value > high:
                raise _Bad(_("Must be at most %(high)s.") % {"high": high})
            return value

        return number
    if spec.type == DATE:
        return _date_parser(fmap.formats or mapping.date_formats or ["%Y-%m-%d"])
    if spec.type == BOOL:

        def boolean(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in TRUE:
                return True
            if lowered in FALSE:
                return False
            raise _Bad(_("Not a yes/no value."))

        return boolean
    if spec.type == CHOICE:
        known: dict[str, str] = {}
        labels = dict(model_field.choices) if model_field is not None else {}
        for code in spec.choices:
            known[code.lower()] = code
            known[str(labels.get(code, code)).lower()] = code

        def choice(raw: str) -> str:
            found = known.get(raw.lower())
            if found is None:
                raise _Bad(_("Not one of: %(choices)s.") % {"choices": ", ".join(spec.choices)})
            return found

        return choice
    if spec.type == LOOKUP:
        return lambda raw: raw
    # text
    max_length = getattr(model_field, "max_length", None) or 200
    # Master data is validated by full_clean (which also normalises, e.g. website domains).
    validators = list(getattr(model_field, "validators", ())) if fact else []
    validators = [v for v in validators if not v.__class__.__name__.startswith("MaxLength")]
    checked: dict[str, None] = {}

    def text(raw: str) -> str:
        if len(raw) > max_length:
            raise _Bad(_("Longer than %(n)s characters.") % {"n": max_length})
        if "\x00" in raw:
            raise _Bad(_("Null characters are not allowed."))
        if validators and raw not in checked:
            for validator in validators:
                try:
                    validator(raw)
                except DjangoValidationError as error:
                    raise _Bad(" ".join(error.messages)) from error
            if len(checked) < 10000:
                checked[raw] = None
        return raw

    return text


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _empty_values(kind: Kind) -> dict[str, Any]:
    """What an empty cell stores in each column of a fact kind (a model default, "" or None)."""
    empties: dict[str, Any] = {}
    for model_field in kind.model._meta.concrete_fields:
        if model_field.has_default():
            empties[model_field.name] = model_field.get_default()
        elif isinstance(model_field, models.CharField | models.TextField) and not model_field.null:
            empties[model_field.name] = ""
        else:
            empties[model_field.name] = None
    return empties


def _field_name(model: type[models.Model], attname: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field.name
    return attname


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- the run ------------------------------------------------------------------------------
class _Run:
    def __init__(
        self,
        *,
        actor: Any,
        kind: Kind,
        mapping: Mapping,
        table: Table,
        skip_invalid: bool,
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        self.actor = actor
        self.kind = kind
        self.mapping = mapping
        self.table = table
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.result = ImportResult(kind=kind.code, status="applied", batch=None)
        self.issue_count = 0
        self.writing = True
        self.batch: ImportBatch | None = None
        self.seen: dict[Any, tuple[int, int]] = {}
        self.lookup_cache: dict[str, dict[str, int | None]] = {code: {} for code in LOOKUPS}
        self.touched: set[tuple[int, int]] = set()
        self.rates: RateTable | None = None
        self.visible_orgs: set[int] | None = None
        self.columns: list[_Column] = []
        self.source_key: Callable[[list[str]], str] | None = None
        self.source_key_column = ""
        self.skip_rules: list[tuple[int, Any]] = []
        self.max_params = min(connection.features.max_query_params or 10000, 10000) - 10
        self.category_cache: dict[str, int] = {}
        self.fatal = False
        self.data_rows = 0

    # issues
    def issue(self, row: int | None, column: str, value: str, reason: str) -> None:
        self.issue_count += 1
        if not self.skip_invalid:
            self.writing = False
        if len(self.result.issues) < MAX_ISSUES:
            self.result.issues.append(Issue(row, column, value[:200], str(reason)))

    # setup
    def compile(self) -> bool:
        """Check the mapping against the header; False when the file cannot be imported."""
        header = self.table.header
        index: dict[str, int] = {}
        for position, name in enumerate(header):
            index.setdefault(name, position)
        mapping = self.mapping
        if not mapping.explicit:
            mapping = self.mapping = default_mapping(self.kind, header)
            if not mapping.fields:
                self.issue(
                    None,
                    "",
                    ", ".join(header)[:200],
                    _("No column of this file is named like a field of %(kind)s (%(fields)s).")
                    % {
                        "kind": self.kind.code,
                        "fields": ", ".join(f.name for f in self.kind.fields),
                    },
                )
                return False
        ok = True
        for column in sorted(mapping.columns()):
            if column not in index:
                self.issue(None, column, "", _("This column is not in the file."))
                ok = False
        for spec in self.kind.fields:
            if spec.name == "source_key" or (
                not self.kind.fact and spec.name not in self.kind.identity
            ):
                continue  # master data: full validation says what a new row lacks
            if spec.required and spec.name not in mapping.fields:
                self.issue(
                    None,
                    "",
                    "",
                    _("No column is mapped to the required field %(field)s.")
                    % {"field": spec.name},
                )
                ok = False
        if self.kind.fact and mapping.source_key is None:
            self.issue(
                None,
                "source_key",
                "",
                _("The mapping does not say which column(s) make the source key."),
            )
            ok = False
        if not ok:
            return False
        model = self.kind.model
        for name, fmap in mapping.fields.items():
            spec = self.kind.get(name)
            model_field = None if spec.virtual else model._meta.get_field(name)
            if spec.type == LOOKUP:
                model_field = None
            self.columns.append(
                _Column(
                    spec=spec,
                    fmap=fmap,
                    getter=compile_getter(fmap, index),
                    convert=_converter(spec, fmap, model_field, mapping, self.kind.fact),
                    source=", ".join(fmap.columns()) or name,
                )
            )
        self.lookup_columns = [c for c in self.columns if c.spec.type == LOOKUP]
        empties = _empty_values(self.kind) if self.kind.fact else {}
        self.plan = [
            (
                column.spec.name,
                index[column.fmap.column] if column.fmap.column is not None else None,
                column.getter,
                column.fmap.values or None,
                column.fmap.default or "",
                column.spec.required,
                column.convert,
                column.source,
                empties.get(column.spec.name),
            )
            for column in self.columns
        ]
        if mapping.source_key is not None:
            self.source_key = compile_getter(mapping.source_key, index)
            self.source_key_column = ", ".join(mapping.source_key.columns()) or "source_key"
        for rule in mapping.skip:
            self.skip_rules.append((index[rule.column], rule))
        return True

    def skipped_by_rule(self, cells: list[str]) -> bool:
        for position, rule in self.skip_rules:
            value = cells[position].strip() if position < len(cells) else ""
            if rule.empty and not value:
                return True
            if value in rule.equals:
                return True
            if rule.starts_with and value.startswith(tuple(rule.starts_with)):
                return True
            if any(part in value for part in rule.contains):
                return True
        return False

    # conversion
    def convert(self, number: int, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """Typed values and raw texts of the mapped fields; problems become issues."""
        values: dict[str, Any] = {}
        raws: dict[str, str] = {}
        nulls = self.mapping.null_values
        size = len(cells)
        for (
            name,
            position,
            getter,
            value_map,
            default,
            required,
            convert,
            source,
            empty,
        ) in self.plan:
            if position is not None:
                raw = cells[position].strip() if position < size else ""
            else:
                raw = getter(cells).strip()
            if value_map is not None and raw in value_map:
                raw = value_map[raw]
            if not raw or raw in nulls:
                raw = default
                if not raw:
                    raws[name] = ""
                    if required:
                        self.issue(number, source, "", _("A value is required."))
                        values[name] = _Bad
                    else:
                        values[name] = empty
                    continue
            raws[name] = raw
            try:
                values[name] = convert(raw)
            except _Bad as error:
                self.issue(number, source, raw, str(error))
                values[name] = _Bad
        return values, raws

    def resolve_lookups(self, prepared: list[tuple[int, Any, dict, dict]]) -> None:
        wanted: dict[str, set[str]] = {}
        for column in self.columns:
            if column.spec.type != LOOKUP:
                continue
            cache = self.lookup_cache[column.spec.lookup]
            name = column.spec.name
            for _n, _k, values, _r in prepared:
                key = values.get(name)
                if key and key is not _Bad and key not in cache:
                    wanted.setdefault(column.spec.lookup, set()).add(key)
        for code, keys in wanted.items():
            target = LOOKUPS[code]
            manager = target.model._default_manager
            queryset = (
                manager.restrict(self.actor, "view")
                if self.actor is not None
                else target.model._base_manager.all()
            )
            cache = self.lookup_cache[code]
            ordered = sorted(keys)
            for start in range(0, len(ordered), self.max_params):
                part = ordered[start : start + self.max_params]
                for key, pk in queryset.filter(**{f"{target.key_field}__in": part}).values_list(
                    target.key_field, "pk"
                ):
                    cache[key] = pk
                for key in part:
                    cache.setdefault(key, None)

    def apply_lookups(self, number: int, values: dict[str, Any]) -> bool:
        ok = True
        for column in self.lookup_columns:
            key = values.get(column.spec.name)
            if key is None or key is _Bad:
                continue
            pk = self.lookup_cache[column.spec.lookup].get(key)
            if pk is None:
                self.issue(
                    number,
                    column.source,
                    key,
                    _("Unknown %(target)s key.")
                    % {"target": LOOKUPS[column.spec.lookup].model._meta.verbose_name},
                )
                values[column.spec.name] = _Bad
                ok = False
            else:
                values[column.spec.name] = pk
        return ok

    def column_of(self, name: str) -> str:
        for column in self.columns:
            if column.spec.name == name:
                return column.source
        return ""

    def duplicate(self, number: int, key: Any, values: Any, raw_key: str) -> bool:
        """True when the row repeats an earlier key: identical rows collapse, others fail."""
        if isinstance(values, dict):
            values = tuple(sorted((k, repr(v)) for k, v in values.items()))
        fingerprint = hash(values)
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = (number, fingerprint)
            return False
        if earlier[1] != fingerprint:
            self.issue(
                number,
                self.source_key_column or self.column_of(self.kind.identity[0]),
                raw_key,
                _("The same key is on row %(row)s with other values.") % {"row": earlier[0]},
            )
        else:
            self.result.rows_skipped += 1
        return True

    def add_preview(self, raws: dict[str, str], values: dict[str, Any], key: str) -> None:
        if len(self.result.preview) >= PREVIEW_ROWS:
            return
        row = {"source_key": key} if self.kind.fact else {}
        for column in self.columns:
            name = column.spec.name
            row[name] = raws[name] if column.spec.type == LOOKUP else _display(values.get(name))
        self.result.preview.append(row)

    # the main loop
    def run(self) -> None:
        chunk: list[tuple[int, list[str]]] = []
        done = 0
        try:
            for number, cells in self.table.rows:
                self.result.rows_read += 1
                chunk.append((number, cells))
                if len(chunk) >= CHUNK_ROWS:
                    self.process(chunk)
                    done += len(chunk)
                    chunk = []
                    if self.progress:
                        self.progress(done, self.table.total)
        except FileProblem as problem:
            self.issue(problem.row, "", "", str(problem))
            self.writing = False
            self.fatal = True
        if chunk:
            self.process(chunk)
            done += len(chunk)
        if self.progress:
            self.progress(done, self.table.total if self.table.total else done)
        if self.data_rows == 0:
            self.issue(None, "", "", _("The file has a header but no data rows."))
        # Chunks are checked in phases; report the problems in file order.
        self.result.issues.sort(key=lambda issue: issue.row or 0)

    def process(self, chunk: list[tuple[int, list[str]]]) -> None:
        prepared = []
        for number, cells in chunk:
            joined = "".join(cells)
            if not joined or joined.isspace():
                self.result.rows_skipped += 1
                continue
            self.data_rows += 1
            if self.skip_rules and self.skipped_by_rule(cells):
                self.result.rows_skipped += 1
                continue
            before = self.issue_count
            values, raws = self.convert(number, cells)
            key = ""
            if self.kind.fact:
                key = self.source_key(cells).strip()
                if not key:
                    self.issue(number, self.source_key_column, "", _("The source key is empty."))
                elif len(key) > 200:
                    self.issue(
                        number, self.source_key_column, key, _("Longer than 200 characters.")
                    )
            prepared.append((number, key, values, raws, self.issue_count != before))
        self.resolve_lookups([(n, k, v, r) for n, k, v, r, _b in prepared])
        if self.kind.fact:
            self.process_facts(prepared)
        else:
            self.process_master(prepared)

    def reject_row(self) -> None:
        self.result.rows_rejected += 1

    # facts -------------------------------------------------------------------------------
    def fact_setup(self) -> None:
        model = self.kind.model
        self.data_fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in ("source_key", "import_batch")
        ]
        self.data_names = [f.name for f in self.data_fields]
        self.defaults = _empty_values(self.kind)
        self.table_was_empty = not model._base_manager.exists()
        self.orders_blocked: dict[int, Any] = {}
        if self.kind.model is SalesLine:
            self.rates = RateTable.load(None)
            self.base = base_currency()
            # New sell-in orders of an organisation whose standing blocks orders are refused.
            self.orders_blocked = gates.blocked("orders")
        table = model._meta.db_table
        quote = connection.ops.quote_name
        columns = ["source_key", "import_batch", *(f.column for f in self.data_fields)]
        self.insert_sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.copy_sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        self.model_label = f"{model._meta.app_label}.{model._meta.model_name}"
        if self.actor is not None and self.actor.access_scope != SCOPE_ALL:
            self.visible_orgs = set(
                Organisation.objects.filter(
                    pk__in=self.actor.visible_organisation_ids()
                ).values_list("pk", flat=True)
            )

    def finish_fact(self, number: int, values: dict[str, Any]) -> bool:
        """Derived values and cross-field rules; False (with issues) when the row is bad."""
        model = self.kind.model
        if model is SalesLine:
            currency = values.get("currency") or self.base
            values["currency"] = currency
            quantity = values["quantity"]
            amount = values.get("amount")
            if amount is None:
                price = values.get("unit_price")
                if price is None:
                    self.issue(
                        number, self.column_of("amount"), "", _("Give an amount or a unit price.")
                    )
                    return False
                amount = (price * quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
                values["amount"] = amount
            day = values["date"]
            values["month"] = month_key(day)
            block = self.orders_blocked.get(values.get("organisation"))
            if (
                block is not None
                and day > block.since
                and values.get("direction") == SalesLine.Direction.SELL_IN
            ):
                self.issue(number, self.column_of("organisation"), str(day), block.reason)
                return False
            try:
                values["amount_base"] = self.rates.to_base(amount, currency, day)
                total = values.pop("total_cost", None)
                unit = values.pop("unit_cost", None)
                if total is None and unit is not None:
                    total = unit * quantity
                values["cost_base"] = (
                    None if total is None else self.rates.to_base(total, currency, day)
                )
                for name in ("amount", "amount_base", "cost_base"):
                    if values[name] is not None and abs(values[name]) >= MONEY_LIMIT:
                        self.issue(
                            number,
                            self.column_of(name if name == "amount" else "amount"),
                            str(values[name]),
                            _("The amount is too large."),
                        )
                        return False
            except MissingRate:
                self.issue(
                    number,
                    self.column_of("currency"),
                    currency,
                    _("No %(currency)s exchange rate on or before %(day)s.")
                    % {"currency": currency, "day": day.isoformat()},
                )
                return False
        elif model._meta.model_name == "certification":
            expires, earned = values.get("expires_on"), values.get("earned_on")
            if expires is not None and expires < earned:
                self.issue(
                    number,
                    self.column_of("expires_on"),
                    expires.isoformat(),
                    _("Expires before it was earned."),
                )
                return False
        return True

    def process_facts(self, prepared: list) -> None:
        if not hasattr(self, "data_fields"):
            self.fact_setup()
        rows = []
        pairs = [(name, self.defaults[name]) for name in self.data_names]
        for number, key, values, raws, bad in prepared:
            before = self.issue_count
            if bad or not key:
                self.reject_row()
                continue
            if not self.apply_lookups(number, values) or not self.finish_fact(number, values):
                self.reject_row()
                continue
            get = values.get
            row = tuple([get(name, default) for name, default in pairs])
            if self.duplicate(number, key, row, key):
                if self.issue_count != before:
                    self.reject_row()
                continue
            if len(self.result.preview) < PREVIEW_ROWS:
                self.add_preview(raws, values, key)
            rows.append((number, key, row))
        if self.writing and rows:
            self.write_facts(rows)

    def write_facts(self, rows: list[tuple[int, str, tuple]]) -> None:
        model = self.kind.model
        names = self.data_names
        attnames = [f.attname for f in self.data_fields]
        existing: dict[str, tuple] = {}
        keys = [key for _n, key, _r in rows]
        quote = connection.ops.quote_name
        known: list[str] = []
        if self.table_was_empty:
            # Nothing existed before this run (which holds the write lock), and keys repeated
            # within the file were caught as duplicates: every row is new.
            keys = []
        with connection.cursor() as cursor:
            # A bare key probe first: a fresh load finds nothing and stops here.
            for start in range(0, len(keys), self.max_params):
                part = keys[start : start + self.max_params]
                if connection.vendor == "postgresql":
                    condition, params = "= ANY(%s)", [part]
                else:
                    condition, params = f"IN ({', '.join(['%s'] * len(part))})", part
                cursor.execute(
                    f"SELECT source_key FROM {quote(model._meta.db_table)} "  # noqa: S608
                    f"WHERE source_key {condition}",
                    params,
                )
                known.extend(found for (found,) in cursor.fetchall())
        for start in range(0, len(known), self.max_params):
            part = known[start : start + self.max_params]
            for found in model._base_manager.filter(source_key__in=part).values_list(
                "source_key", "pk", *attnames
            ):
                existing[found[0]] = found[1:]
        org_index = names.index("organisation")
        month_index = names.index("month") if "month" in names else None
        inserts, updates, changes = [], [], []
        batch_id = self.batch.pk
        for number, key, row in rows:
            old = existing.get(key)
            if old is None:
                inserts.append((key, batch_id, *row))
                if month_index is not None:
                    self.touched.add((row[org_index], row[month_index]))
                continue
            pk, current = old[0], old[1:]
            if self.visible_orgs is not None and current[org_index] not in self.visible_orgs:
                self.issue(
                    number,
                    self.source_key_column,
                    key,
                    _("This source key belongs to a row you cannot change."),
                )
                self.reject_row()
                continue
            if current == row:
                self.result.unchanged += 1
                continue
            before = {
                names[i]: _plain(current[i]) for i in range(len(names)) if current[i] != row[i]
            }
            updates.append((*row, pk))
            changes.append(
                ImportChange(
                    batch=self.batch,
                    model=self.model_label,
                    object_id=pk,
                    action=ImportChange.Action.UPDATE,
                    before=before,
                )
            )
            if month_index is not None:
                self.touched.add((current[org_index], current[month_index]))
                self.touched.add((row[org_index], row[month_index]))
        if not self.writing:
            return
        with connection.cursor() as cursor:
            if inserts and connection.vendor == "postgresql":
                # COPY is PostgreSQL's bulk path; psycopg adapts Decimal, date and None.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in inserts:
                        copy.write_row(row)
            elif inserts:
                cursor.executemany(self.insert_sql, inserts)
            if updates:
                quote = connection.ops.quote_name
                sets = ", ".join(f"{quote(f.column)} = %s" for f in self.data_fields)
                cursor.executemany(
                    f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s",  # noqa: S608
                    updates,
                )
        if changes:
            ImportChange.objects.bulk_create(changes, batch_size=1000)
        self.result.created += len(inserts)
        self.result.updated += len(updates)

    # master data -------------------------------------------------------------------------
    def identity(self, values: dict[str, Any]) -> Any:
        names = self.kind.identity
        key = tuple(values.get(name) for name in names)
        return key[0] if len(key) == 1 else key

    def existing_master(self, keys: list[Any]) -> dict[Any, models.Model]:
        model = self.kind.model
        names = self.kind.identity
        base = model._base_manager.all()
        found: dict[Any, models.Model] = {}
        if len(names) == 1:
            for start in range(0, len(keys), self.max_params):
                part = keys[start : start + self.max_params]
                for obj in base.filter(**{f"{names[0]}__in": part}):
                    found[getattr(obj, names[0])] = obj
        else:
            wanted = set(keys)
            first = sorted({k[0] for k in keys})
            for obj in base.filter(**{f"{names[0]}__in": first}):
                key = tuple(getattr(obj, n) for n in names)
                if key in wanted:
                    found[key] = obj
        if self.actor is not None and found:
            allowed = set(
                model._default_manager.restrict(self.actor, "change")
                .filter(pk__in=[o.pk for o in found.values()])
                .values_list("pk", flat=True)
            )
            for obj in found.values():
                obj._import_allowed = obj.pk in allowed
        return found

    def category_id(self, values: dict[str, Any]) -> int | None:
        name = values.pop("category", None)
        parent_name = values.pop("parent_category", None)
        if not name:
            name, parent_name = parent_name, None
        if not name:
            return None
        parent_id = None
        key = slugify(name) or name.lower()
        if parent_name:
            parent_key = slugify(parent_name) or parent_name.lower()
            parent_id = self._category(parent_key, parent_name, None)
            key = f"{parent_key}/{key}"
        return self._category(key, name, parent_id)

    def _category(self, key: str, name: str, parent_id: int | None) -> int:
        key = key[:100]
        if key in self.category_cache:
            return self.category_cache[key]
        category = ProductCategory._base_manager.filter(key=key).first()
        if category is None:
            category = ProductCategory(key=key, name=name[:150], parent_id=parent_id)
            category.save()
            self.changes_created("channel.productcategory", category.pk)
        self.category_cache[key] = category.pk
        return category.pk

    def changes_created(self, label: str, pk: int) -> None:
        ImportChange.objects.create(
            batch=self.batch, model=label, object_id=pk, action=ImportChange.Action.CREATE
        )

    def process_master(self, prepared: list) -> None:
        model = self.kind.model
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        rows = []
        for number, _key, values, raws, bad in prepared:
            if bad:
                self.reject_row()
                continue
            rows.append((number, values, raws))
        existing = self.existing_master([self.identity(v) for _n, v, _r in rows])
        self_lookup = next(
            (
                c.spec
                for c in self.columns
                if c.spec.type == LOOKUP and LOOKUPS[c.spec.lookup].model is model
            ),
            None,
        )
        for number, values, raws in rows:
            before = self.issue_count
            if not self.apply_lookups(number, values):
                self.reject_row()
                continue
            key = self.identity(values)
            raw_key = " / ".join(raws.get(n, "") for n in self.kind.identity)
            if self.duplicate(number, key, values, raw_key):
                if self.issue_count != before:
                    self.reject_row()
                continue
            self.add_preview(raws, values, "")
            if self.writing:
                obj = existing.get(key)
                pk = self.save_master(number, obj, values, raws, label)
                if pk is None:
                    self.reject_row()
                elif self_lookup is not None:
                    own_key = LOOKUPS[self_lookup.lookup].key_field
                    self.lookup_cache[self_lookup.lookup][values[own_key]] = pk

    def save_master(
        self,
        number: int,
        obj: models.Model | None,
        values: dict[str, Any],
        raws: dict[str, str],
        label: str,
    ) -> int | None:
        model = self.kind.model
        data = {}
        for name, value in values.items():
            spec = self.kind.get(name)
            if spec.virtual:
                continue
            if spec.type == LOOKUP:
                data[f"{name}_id"] = value
            elif value is None:
                model_field = model._meta.get_field(name)
                data[name] = None if model_field.null else ""
            else:
                data[name] = value
        if model._meta.model_name == "product" and "category" in values:
            data["category_id"] = self.category_id(values)
        creating = obj is None
        if creating:
            obj = model(**data)
            before = None
        else:
            if not getattr(obj, "_import_allowed", True) or getattr(obj, "is_vendor", False):
                self.issue(
                    number,
                    self.column_of(self.kind.identity[0]),
                    raws.get(self.kind.identity[0], ""),
                    _("This key belongs to a row you cannot change."),
                )
                return None
            for name in [n for n in data if self.kind.get(n) and self.kind.get(n).create_only]:
                data.pop(name)
            fields = [_field_name(model, n) for n in data]
            before = snapshot(obj, fields)
            for name, value in data.items():
                setattr(obj, name, value)
        try:
            validate(obj)
        except DjangoValidationError as error:
            for name, messages in error.message_dict.items():
                column = "" if name == "__all__" else self.column_of(name)
                self.issue(number, column, raws.get(name, ""), " ".join(messages))
            return None
        if before is not None:
            # Compared after validation, which normalises (e.g. a pasted website address).
            after = snapshot(obj, before.keys())
            before = {name: value for name, value in before.items() if after[name] != value}
            if not before:
                self.result.unchanged += 1
                return obj.pk
        try:
            with transaction.atomic():
                if creating and self.kind.create is not None:
                    self.kind.create(self.actor, obj)
                else:
                    obj.save()
        except DjangoValidationError as error:
            self.issue(number, "", "", " ".join(error.messages))
            return None
        except (IntegrityError, DatabaseError) as error:
            self.issue(
                number,
                "",
                "",
                _("The database refused the row: %(error)s")
                % {"error": str(error).splitlines()[0][:150]},
            )
            return None
        if creating:
            self.changes_created(label, obj.pk)
            self.result.created += 1
        else:
            ImportChange.objects.create(
                batch=self.batch,
                model=label,
                object_id=obj.pk,
                action=ImportChange.Action.UPDATE,
                before=before,
            )
            self.result.updated += 1
        return obj.pk


# -- entry points -------------------------------------------------------------------------
def _check_permission(actor: Any, kind: Kind) -> None:
    if actor is None:
        return
    if not actor.is_active:
        raise ImportRefused(_("This user account is not active."), code="forbidden")
    missing = [perm for perm in kind.permissions if not actor.has_perm(perm)]
    if missing:
        raise ImportRefused(
            _("You are not allowed to import %(kind)s.") % {"kind": kind.label},
            code="forbidden",
        )


def _digest(source: BinaryIO) -> str:
    source.seek(0)
    digest = hashlib.sha256()
    while chunk := source.read(1024 * 1024):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while rows stream in.

    A large import keeps millions of live objects (the keys seen so far, lookup caches),
    and every full collection walks all of them: measured on 3 M sales lines, 35 s of a
    128 s import, growing faster than the file. The rows make no reference cycles, and
    reference counting still frees everything as usual; the collector resumes after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(
    *,
    actor: Any,
    kind: str,
    source: BinaryIO,
    file_name: str,
    mapping: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportResult:
    """Validate and apply one file of ``kind``; see the module docstring.

    ``mapping`` is the text of a TOML mapping file (None: columns named like the fields).
    Raises ImportRefused for an unknown kind, a missing permission or a bad mapping; every
    problem with the file itself is an Issue in the result.
    """
    spec = KINDS.get(kind)
    if spec is None:
        raise ImportRefused(
            _("Unknown kind %(kind)s; use one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
            code="unknown_kind",
        )
    _check_permission(actor, spec)
    try:
        parsed = parse_mapping(mapping, spec)
    except MappingError as error:
        raise ImportRefused(str(error), code="bad_mapping") from error
    result = ImportResult(kind=spec.code, status="rejected", batch=None)
    try:
        file_hash = _digest(source)
        table = open_table(
            source,
            file_name,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            sheet=parsed.sheet,
        )
    except FileProblem as problem:
        result.issues.append(Issue(None, "", "", str(problem)))
        return result
    except (OSError, ValueError) as error:
        result.issues.append(
            Issue(None, "", "", _("The file cannot be read: %(e)s") % {"e": error})
        )
        return result
    run = _Run(
        actor=actor,
        kind=spec,
        mapping=parsed,
        table=table,
        skip_invalid=skip_invalid,
        progress=progress,
    )
    if not run.compile():
        run.result.status = "rejected"
        return run.result
    organisation = (
        actor.organisation
        if actor is not None and getattr(actor, "organisation_id", None)
        else Organisation.objects.vendor()
    )
    try:
        with transaction.atomic(durable=True):
            run.batch = ImportBatch.objects.create(
                kind=spec.code,
                file_name=file_name[:255],
                file_sha256=file_hash,
                mapping=parsed.text,
                skip_invalid=skip_invalid,
                organisation=organisation,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            with _collector_paused():
                run.run()
            rejected = run.issue_count and (not skip_invalid or run.fatal)
            nothing = (
                skip_invalid
                and not run.fatal
                and run.result.rows_read
                and not (run.result.created or run.result.updated or run.result.unchanged)
            )
            if rejected or nothing:
                if nothing and not run.issue_count:
                    run.issue(None, "", "", _("No row could be imported."))
                run.result.status = "rejected"
                raise _Abort
            if run.touched:
                refresh_sales_rollups(run.touched)
            if dry_run:
                run.result.status = "dry_run"
                raise _Abort
            batch = run.batch
            r = run.result
            batch.rows_read, batch.rows_skipped = r.rows_read, r.rows_skipped
            batch.rows_rejected = r.rows_rejected
            batch.created_count, batch.updated_count = r.created, r.updated
            batch.unchanged_count = r.unchanged
            batch.report = [issue.as_dict() for issue in r.issues]
            batch.finished_at = timezone.now()
            batch.save()
            record(
                actor=actor,
                obj=batch,
                action=AuditEntry.Action.CREATE,
                changes={
                    "kind": [None, spec.code],
                    "file_name": [None, batch.file_name],
                    **{name: [None, value] for name, value in r.summary().items()},
                },
            )
            r.status = "applied"
            r.batch = batch
    except (IntegrityError, DataError) as error:
        # Another import wrote the same keys meanwhile, or a value the checks missed.
        run.result.status = "rejected"
        run.result.issues.append(
            Issue(
                None,
                "",
                "",
                _("The database refused the import (%(error)s); nothing was written.")
                % {"error": str(error).splitlines()[0][:200]},
            )
        )
        run.result.created = run.result.updated = run.result.unchanged = 0
        run.result.batch = None
    except _Abort:
        if run.result.status == "rejected":
            run.result.created = run.result.updated = run.result.unchanged = 0
        run.result.batch = None
    return run.result


def _delete_created(model: type[models.Model], pk: int) -> None:
    """Delete a row an import created, refusing when deleting it would take other rows
    with it (a contact under an imported organisation, a territory assignment...)."""
    obj = model._base_manager.filter(pk=pk).first()
    if obj is None:
        return
    collector = Collector(using=router.db_for_write(model))
    collector.collect([obj])  # raises ProtectedError for PROTECT references
    # Rows that exist only because their owner does (``derived_from_owner``, such as an
    # organisation's default governance record) go with it.
    dependants: list[Any] = [
        o
        for m, objs in collector.data.items()
        for o in objs
        if not (m is model and o.pk == pk) and not getattr(m, "derived_from_owner", False)
    ]
    for queryset in collector.fast_deletes:
        if queryset.model._meta.auto_created or getattr(
            queryset.model, "derived_from_owner", False
        ):
            continue  # many-to-many links (tags) and derived rows go with the row
        dependants.extend(queryset[:3])
    if dependants:
        raise ProtectedError("used elsewhere", set(dependants))
    obj.delete()


def _restore(model: type[models.Model], pk: int, before: dict[str, Any]) -> models.Model | None:
    obj = model._base_manager.filter(pk=pk).first()
    if obj is None:
        return None
    for name, value in before.items():
        model_field = model._meta.get_field(name)
        if model_field.is_relation:
            setattr(obj, model_field.attname, value)
        else:
            setattr(obj, model_field.attname, model_field.to_python(value))
    return obj


def _later_batch_on_same_rows(batch: ImportBatch) -> ImportBatch | None:
    """An applied import after ``batch`` that changed a row ``batch`` created or changed
    (rolling ``batch`` back first would lose or overwrite that import's values). Imports of
    other rows do not count: another organisation's import must not block this one."""
    rows = Q()
    by_model: dict[str, set[int]] = {}
    for label, object_id in batch.changes.values_list("model", "object_id"):
        by_model.setdefault(label, set()).add(object_id)
    for label, ids in by_model.items():
        rows |= Q(model=label, object_id__in=sorted(ids))
    kind = KINDS.get(batch.kind)
    if kind is not None and kind.fact:
        model = kind.model
        created = model._base_manager.filter(import_batch=batch.pk).values("pk")
        rows |= Q(model=f"{model._meta.app_label}.{model._meta.model_name}", object_id__in=created)
    if not rows:
        return None
    later = (
        ImportChange.objects.filter(
            rows, batch__status=ImportBatch.Status.APPLIED, batch__pk__gt=batch.pk
        )
        .order_by("-batch_id")
        .values_list("batch_id", flat=True)
        .first()
    )
    return None if later is None else ImportBatch._base_manager.get(pk=later)


@transaction.atomic(durable=True)
def rollback_import(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Undo an applied batch as a unit: delete what it created, restore what it changed."""
    ensure_permitted(actor, "rollback", batch)
    locked = ImportBatch._base_manager.select_for_update().get(pk=batch.pk)
    if locked.status != ImportBatch.Status.APPLIED:
        raise ImportRefused(_("This import was already rolled back."), code="conflict")
    later = _later_batch_on_same_rows(locked)
    if later is not None:
        raise ImportRefused(
            _("Import #%(later)s of the same kind ran later; roll that one back first.")
            % {"later": later.pk},
            code="conflict",
        )
    kind = KINDS.get(locked.kind)
    touched: set[tuple[int, int]] = set()
    try:
        if kind is not None and kind.fact:
            model = kind.model
            created = model._base_manager.filter(import_batch=locked.pk)
            if model is SalesLine:
                touched.update(created.values_list("organisation_id", "month").distinct())
            created.delete()
        for change in locked.changes.order_by("-pk"):
            model = apps.get_model(change.model)
            if change.action == ImportChange.Action.CREATE:
                _delete_created(model, change.object_id)
                continue
            obj = _restore(model, change.object_id, change.before)
            if obj is None:
                continue
            if model is SalesLine:
                current = SalesLine._base_manager.filter(pk=obj.pk).values_list(
                    "organisation_id", "month"
                )
                touched.update(current)
                touched.add((obj.organisation_id, obj.month))
            obj.save()
    except (ProtectedError, RestrictedError) as error:
        names = ", ".join(sorted({str(o) for o in list(error.protected_objects)[:3]}))
        raise ImportRefused(
            _("Rows this import created are used elsewhere (%(names)s); remove those first.")
            % {"names": names},
            code="conflict",
        ) from error
    refresh_sales_rollups(touched)
    locked.status = ImportBatch.Status.ROLLED_BACK
    locked.rolled_back_at = timezone.now()
    locked.rolled_back_by = actor if getattr(actor, "pk", None) else None
    locked.save(update_fields=["status", "rolled_back_at", "rolled_back_by"])
    record(
        actor=actor,
        obj=locked,
        action=AuditEntry.Action.UPDATE,
        changes={"status": [ImportBatch.Status.APPLIED, ImportBatch.Status.ROLLED_BACK]},
    )
    return locked


def issues_as_dicts(issues: Iterable[Issue]) -> list[dict[str, Any]]:
    return [issue.as_dict() for issue in issues]
