"""Error pages: the same friendly pages for HTML, and JSON for API paths."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def _error(request: HttpRequest, status: int, code: str, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": code, "detail": message, "fields": {}}, status=status)
    return render(
        request, "error.html", {"status": status, "title": title, "message": message}, status=status
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        "not_found",
        _("Not found"),
        _("There is nothing here, or you do not have access to it."),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 403, "forbidden", _("Not allowed"), _("Your role does not allow this action.")
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 400, "bad_request", _("Bad request"), _("The request could not be understood.")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        500,
        "server_error",
        _("Something went wrong"),
        _("The error has been logged. Please try again."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token (often an expired session): our page, no
    inline styles, instead of Django's built-in one."""
    return _error(
        request,
        403,
        "csrf_failed",
        _("The form has expired"),
        _(
            "The page was open too long or you logged in elsewhere. "
            "Go back, reload the page and try again."
        ),
    )


def next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` address the form carries (POST, else GET) when it is on this site,
    else ``default``: where a page sends its user back after an action."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path on this site: anything else ("0", "a b") redirect() would take for a
    # view name and fail to reverse (a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
