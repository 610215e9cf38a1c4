"""API plumbing shared by every router: authentication, errors as JSON, the 404 helper."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, models
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie

from accord.core.errors import Conflict, InvalidTransition

M = TypeVar("M", bound=models.Model)


class ErrorOut(Schema):
    """Every API error: a machine code, a sentence for people, and per-field messages."""

    error: str
    detail: str
    fields: dict[str, list[str]] = {}


class SessionAuth(APIKeyCookie):
    """The browser's session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    error: str,
    detail: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"error": error, "detail": detail, "fields": fields or {}}, status=status
    )


def validation_fields(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in error.message_dict.items()
        }
    return {}


def install_error_handlers(api: NinjaAPI) -> None:
    """Map every failure to ``{"error", "detail", "fields"}`` with the right status."""

    @api.exception_handler(NinjaValidationError)
    def _invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for item in exc.errors:
            loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
            key = ".".join(loc[1:] if loc and loc[0] in ("query", "path") else loc) or "request"
            fields.setdefault(key, []).append(str(item.get("msg", "invalid")))
        return error_response(
            api, request, 422, "invalid_request", "The request is not valid.", fields
        )

    @api.exception_handler(InvalidTransition)
    def _invalid_transition(request: HttpRequest, exc: InvalidTransition) -> HttpResponse:
        return error_response(
            api, request, 409, "invalid_transition", exc.messages[0], {"status": exc.messages}
        )

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        # A Conflict built from {field: message} carries no ``code``; its class says it.
        conflict = isinstance(exc, Conflict) or getattr(exc, "code", None) == "conflict"
        fields = validation_fields(exc)
        if conflict:
            return error_response(api, request, 409, "conflict", "; ".join(exc.messages), fields)
        detail = "; ".join(exc.messages) if not fields else "Some fields are not valid."
        return error_response(api, request, 422, "invalid", detail, fields)

    @api.exception_handler(IntegrityError)
    def _integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # A uniqueness or exclusivity rule enforced by the database lost a race with a
        # concurrent write; the services' own checks answer the ordinary case first.
        return error_response(
            api, request, 409, "conflict", "The change clashes with data saved meanwhile."
        )

    @api.exception_handler(DataError)
    def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # Schemas bound every value; this is the net under them (e.g. a path grown too long).
        return error_response(api, request, 422, "invalid", "A value does not fit its column.")

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", "Not found.")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, 403, "forbidden", "You are not allowed to do this.")

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(api, request, 401, "unauthenticated", "Authentication required.")
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # e.g. 400 for a body that is not JSON, 403 for a failed CSRF check.
        code = HTTP_ERROR_CODES.get(exc.status_code, "error")
        return error_response(api, request, exc.status_code, code, str(exc))


HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "throttled",
}


def get_restricted_or_404(
    queryset: models.QuerySet[M] | type[M], user: Any, action: str = "view", **lookup: Any
) -> M:
    """The one object matching ``lookup`` that ``user`` may ``action``, else 404."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        return queryset.restrict(user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error
