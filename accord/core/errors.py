"""Domain errors shared by services, views and the API."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

__all__ = ["Conflict", "Http404", "InvalidTransition", "PermissionDenied", "ValidationError"]


class InvalidTransition(ValidationError):
    """A lifecycle transition that the state machine does not allow."""

    def __init__(self, message: str, *, current: str, requested: str) -> None:
        super().__init__(message, code="invalid_transition")
        self.current = current
        self.requested = requested


class Conflict(ValidationError):
    """The request is valid on its own but clashes with existing data."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__({field: [message]} if field else message, code="conflict")
