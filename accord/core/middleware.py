"""Security headers Django 5.2 does not send by itself; JSON errors for every API path."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class ContentSecurityPolicyMiddleware:
    """Send a strict Content-Security-Policy: no inline scripts or styles anywhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.ACCORD_CSP)
        return response


API_ERROR_CODES = {405: "method_not_allowed", 406: "not_acceptable", 415: "unsupported_media_type"}


class ApiErrorShapeMiddleware:
    """Give API errors that bypass the API's own handlers (such as a 405 for a method the
    path does not offer) the same ``{"error", "detail", "fields"}`` JSON body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            code = API_ERROR_CODES.get(response.status_code, "error")
            detail = response.reason_phrase or "Error"
            replacement = JsonResponse(
                {"error": code, "detail": f"{detail}.", "fields": {}}, status=response.status_code
            )
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response


SESSION_KEY = re.compile(r"[a-z0-9]{32}")


class SessionKeyGuardMiddleware:
    """Ignore a session cookie that no session key could ever match.

    Django looks any cookie value up in the session table; PostgreSQL refuses one with a
    NUL character with an error (a 500). Such a cookie is treated as no session at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key is not None and not SESSION_KEY.fullmatch(key):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        return self.get_response(request)
