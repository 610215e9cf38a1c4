"""The notification inbox page: the user's own notifications (``restrict()`` gives nobody
else's), unread first; marking read goes through ``services.mark_notification_read``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accord.core import selectors, services
from accord.core.views import next_url

PAGE_SIZE = 25


def safe_link(link: str) -> str:
    """The notification's link when it is a path on this site, else "" (never a
    ``javascript:`` or off-site URL in someone's inbox)."""
    link = (link or "").strip()
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return ""


def _inbox(request: HttpRequest, unread: bool) -> QuerySet:
    return (
        selectors.notifications(request.user, unread=unread)
        .select_related("organisation")
        .annotate(
            read_first=Case(
                When(read_at=None, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("read_first", "-created_at", "-pk")
    )


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(next_url(request, reverse("notifications:inbox")))


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(_inbox(request, unread_only), PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"note": note, "link": safe_link(note.link)} for note in page.object_list]
    return render(
        request,
        "core/notifications.html",
        {
            "nav": "",
            "page_obj": page,
            "items": items,
            "unread_only": unread_only,
            "unread_count": selectors.notifications(request.user, unread=True).count(),
        },
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.notifications(request.user).filter(pk=pk).first()
    if note is None:  # someone else's, or none at all: the same answer
        raise Http404
    services.mark_notification_read(actor=request.user, notification=note)
    return _back(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    unread = list(selectors.notifications(request.user, unread=True))
    for note in unread:
        services.mark_notification_read(actor=request.user, notification=note)
    if unread:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                len(unread),
            )
            % {"count": len(unread)},
        )
    else:
        messages.info(request, _("Nothing was unread."))
    return _back(request)
