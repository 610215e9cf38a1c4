"""URL converters: ``<id:pk>`` accepts only ids the database can hold (no overflow, no 500)."""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    """A positive integer of at most 18 digits (fits a 64-bit primary key)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
