"""Mapping files (TOML): which source column feeds which field, how values are parsed, value
maps, constants, templates, skip rules and the source key. See docs/imports.md."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from accord.imports.kinds import Kind

TEMPLATE_PART = re.compile(r"\{([^{}|]+)(?:\|([a-z]+))?\}")
FILTERS: dict[str, Callable[[str], str]] = {
    "slug": slugify,
    "upper": str.upper,
    "lower": str.lower,
    "strip": str.strip,
}
TOP_LEVEL = {
    "kind",
    "encoding",
    "delimiter",
    "sheet",
    "date_format",
    "decimal_separator",
    "thousands_separator",
    "null_values",
    "source_key",
    "fields",
    "constants",
    "skip",
}
FIELD_KEYS = {"column", "template", "value", "values", "format", "default"}


class MappingError(ValueError):
    """The mapping file cannot be used; the message says why."""


@dataclass
class FieldMap:
    """Where one field's raw text comes from and how it is pre-processed."""

    column: str | None = None
    template: str | None = None
    value: str | None = None  # a constant
    values: dict[str, str] = field(default_factory=dict)
    formats: list[str] = field(default_factory=list)
    default: str | None = None

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return [name.strip() for name, _f in TEMPLATE_PART.findall(self.template)]
        return []


@dataclass
class SkipRule:
    column: str
    equals: list[str] = field(default_factory=list)
    empty: bool = False
    # Plain text tests, not regular expressions: a pattern from an uploaded mapping could
    # backtrack for minutes on one cell.
    starts_with: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    kind: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    date_formats: list[str] = field(default_factory=list)
    decimal_separator: str = "."
    thousands_separator: str = ""
    null_values: set[str] = field(default_factory=lambda: {"NULL"})
    fields: dict[str, FieldMap] = field(default_factory=dict)
    source_key: FieldMap | None = None
    skip: list[SkipRule] = field(default_factory=list)
    text: str = ""
    explicit: bool = False

    def columns(self) -> set[str]:
        """Every source column this mapping reads."""
        names: set[str] = set()
        for spec in [*self.fields.values(), self.source_key]:
            if spec is not None:
                names.update(spec.columns())
        names.update(rule.column for rule in self.skip)
        return names


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MappingError(_("%(where)s must be a text or a list of texts.") % {"where": where})


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(_("%(where)s must be a text.") % {"where": where})
    return str(value)


def _field_map(name: str, spec: Any) -> FieldMap:
    where = f"fields.{name}"
    if isinstance(spec, str):
        return FieldMap(template=spec) if TEMPLATE_PART.search(spec) else FieldMap(column=spec)
    if not isinstance(spec, dict):
        raise MappingError(_("%(where)s must be a column name or a table.") % {"where": where})
    unknown = set(spec) - FIELD_KEYS
    if unknown:
        raise MappingError(
            _("%(where)s has unknown settings: %(names)s.")
            % {"where": where, "names": ", ".join(sorted(unknown))}
        )
    result = FieldMap()
    sources = [k for k in ("column", "template", "value") if k in spec]
    if len(sources) > 1:
        raise MappingError(
            _("%(where)s: give only one of column, template and value.") % {"where": where}
        )
    if "column" in spec:
        result.column = _text(spec["column"], f"{where}.column")
    if "template" in spec:
        result.template = _text(spec["template"], f"{where}.template")
        for _name, flt in TEMPLATE_PART.findall(result.template):
            if flt and flt not in FILTERS:
                raise MappingError(
                    _("%(where)s: unknown template filter %(filter)s.")
                    % {"where": where, "filter": flt}
                )
    if "value" in spec:
        result.value = _text(spec["value"], f"{where}.value")
    if "values" in spec:
        if not isinstance(spec["values"], dict):
            raise MappingError(_("%(where)s.values must be a table.") % {"where": where})
        result.values = {str(k): _text(v, f"{where}.values.{k}") for k, v in spec["values"].items()}
    if "format" in spec:
        result.formats = _str_list(spec["format"], f"{where}.format")
    if "default" in spec:
        result.default = _text(spec["default"], f"{where}.default")
    if not sources and result.default is None:
        raise MappingError(_("%(where)s needs a column, a template or a value.") % {"where": where})
    return result


def parse_mapping(text: str | bytes | None, kind: Kind) -> Mapping:
    """Parse a mapping file for ``kind``; ``None`` maps columns named like the fields."""
    if text is None:
        return Mapping()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MappingError(_("The mapping file is not UTF-8 text.")) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(
            _("The mapping file is not valid TOML: %(error)s") % {"error": error}
        ) from error
    unknown = set(data) - TOP_LEVEL
    if unknown:
        raise MappingError(
            _("Unknown settings in the mapping file: %(names)s.")
            % {"names": ", ".join(sorted(unknown))}
        )
    mapping = Mapping(text=text, explicit=True)
    if "kind" in data:
        mapping.kind = _text(data["kind"], "kind")
        if mapping.kind != kind.code:
            raise MappingError(
                _("This mapping is for %(mapped)s, not %(kind)s.")
                % {"mapped": mapping.kind, "kind": kind.code}
            )
    for key in ("encoding", "delimiter", "sheet", "decimal_separator", "thousands_separator"):
        if key in data:
            setattr(mapping, key, _text(data[key], key))
    if mapping.encoding:
        import codecs

        try:
            codec = codecs.lookup(mapping.encoding)
        except LookupError as error:
            raise MappingError(
                _("Unknown encoding %(encoding)s.") % {"encoding": mapping.encoding}
            ) from error
        # rot13, zlib, base64...: codecs that do not turn bytes into text.
        if not getattr(codec, "_is_text_encoding", True):
            raise MappingError(_("Unknown encoding %(encoding)s.") % {"encoding": mapping.encoding})
    if mapping.delimiter is not None and len(mapping.delimiter.replace("\\t", "\t")) != 1:
        raise MappingError(_("The delimiter must be one character."))
    if mapping.delimiter:
        mapping.delimiter = mapping.delimiter.replace("\\t", "\t")
    if "date_format" in data:
        mapping.date_formats = _str_list(data["date_format"], "date_format")
    if "null_values" in data:
        mapping.null_values = set(_str_list(data["null_values"], "null_values"))
    fields = data.get("fields", {})
    constants = data.get("constants", {})
    if not isinstance(fields, dict) or not isinstance(constants, dict):
        raise MappingError(_("[fields] and [constants] must be tables."))
    for name, spec in fields.items():
        if name == "source_key":
            mapping.source_key = _field_map(name, spec)
            continue
        if kind.get(name) is None:
            raise MappingError(
                _("%(kind)s has no field %(name)s.") % {"kind": kind.code, "name": name}
            )
        mapping.fields[name] = _field_map(name, spec)
    for name, value in constants.items():
        if kind.get(name) is None:
            raise MappingError(
                _("%(kind)s has no field %(name)s.") % {"kind": kind.code, "name": name}
            )
        if name in mapping.fields:
            raise MappingError(_("%(name)s is both mapped and a constant.") % {"name": name})
        mapping.fields[name] = FieldMap(value=_text(value, f"constants.{name}"))
    if "source_key" in data:
        spec = data["source_key"]
        if isinstance(spec, dict) and "columns" in spec:
            columns = _str_list(spec["columns"], "source_key.columns")
            prefix = _text(spec.get("prefix", ""), "source_key.prefix")
            separator = _text(spec.get("separator", "-"), "source_key.separator")
            template = prefix + separator.join(
                "{" + c.replace("{", "").replace("}", "") + "}" for c in columns
            )
            mapping.source_key = FieldMap(template=template)
        else:
            mapping.source_key = _field_map("source_key", spec)
    skips = data.get("skip", [])
    if isinstance(skips, dict):
        skips = [skips]
    if not isinstance(skips, list):
        raise MappingError(_("[[skip]] must be a list of tables."))
    for number, rule in enumerate(skips, 1):
        if not isinstance(rule, dict) or "column" not in rule:
            raise MappingError(_("Skip rule %(n)s needs a column.") % {"n": number})
        skip = SkipRule(column=_text(rule["column"], "skip.column"))
        if "equals" in rule:
            skip.equals = _str_list(rule["equals"], "skip.equals")
        skip.empty = bool(rule.get("empty", False))
        if "matches" in rule:
            raise MappingError(
                _("Skip rule %(n)s: use starts_with or contains; patterns are not supported.")
                % {"n": number}
            )
        if "starts_with" in rule:
            skip.starts_with = _str_list(rule["starts_with"], "skip.starts_with")
        if "contains" in rule:
            skip.contains = _str_list(rule["contains"], "skip.contains")
        if not (skip.equals or skip.empty or skip.starts_with or skip.contains):
            raise MappingError(
                _("Skip rule %(n)s needs equals, empty, starts_with or contains.") % {"n": number}
            )
        mapping.skip.append(skip)
    return mapping


def default_mapping(kind: Kind, header: list[str]) -> Mapping:
    """Columns named like the kind's fields (case and spaces ignored) map to those fields."""
    mapping = Mapping()
    by_name = {h.strip().lower().replace(" ", "_"): h for h in header}
    for spec in kind.fields:
        if spec.name in by_name:
            mapping.fields[spec.name] = FieldMap(column=by_name[spec.name])
    if kind.fact and "source_key" in by_name:
        mapping.source_key = FieldMap(column=by_name["source_key"])
    return mapping


def compile_getter(spec: FieldMap, index: dict[str, int]) -> Callable[[list[str]], str]:
    """A function returning the field's raw text from a row (cells as strings)."""
    if spec.value is not None:
        constant = spec.value
        return lambda row: constant
    if spec.column is not None:
        position = index[spec.column]

        def column(row: list[str]) -> str:
            return row[position] if position < len(row) else ""

        return column
    if spec.template is not None:
        parts: list[Any] = []
        last = 0
        for match in TEMPLATE_PART.finditer(spec.template):
            if match.start() > last:
                parts.append(spec.template[last : match.start()])
            name, flt = match.group(1).strip(), match.group(2)
            parts.append((index[name], FILTERS[flt] if flt else None))
            last = match.end()
        if last < len(spec.template):
            parts.append(spec.template[last:])

        def template(row: list[str]) -> str:
            out = []
            for part in parts:
                if isinstance(part, str):
                    out.append(part)
                    continue
                position, flt = part
                text = row[position].strip() if position < len(row) else ""
                if not text:
                    return ""  # a key built from an empty column is no key
                out.append(flt(text) if flt else text)
            return "".join(out)

        return template
    return lambda row: ""
