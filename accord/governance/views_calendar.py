"""The calendar pages: the subscription page (a new secret key on POST), the user's .ics
feed by session, and the same feed by secret key for calendar clients (no login)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accord.core.errors import PermissionDenied
from accord.governance import calendar

VIEW_PERMISSION = "governance.view_meeting"


def _ics(request: HttpRequest, user: object) -> HttpResponse:
    response = HttpResponse(calendar.feed_for(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="accord-meetings.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def calendar_page(request: HttpRequest) -> HttpResponse:
    """How to subscribe; POST makes a new secret address (shown on this response only)."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    feed_url = None
    if request.method == "POST":
        key = calendar.new_feed_key(request.user)
        feed_url = request.build_absolute_uri(reverse("governance:calendar_feed", args=[key]))
    return render(
        request,
        "governance/calendar.html",
        {
            "nav": "governance",
            "feed_url": feed_url,
            "key_created_at": calendar.feed_created_at(request.user),
            "session_url": reverse("governance:calendar_ics"),
        },
    )


@login_required
@require_GET
def calendar_ics(request: HttpRequest) -> HttpResponse:
    """The signed-in user's meetings as an .ics file."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    return _ics(request, request.user)


@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The feed a calendar client subscribes to: the secret key stands for the login."""
    user = calendar.user_for_feed_key(key)
    if user is None:
        raise Http404
    return _ics(request, user)
