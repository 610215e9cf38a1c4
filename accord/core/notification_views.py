"""The notification inbox page (placeholder until the UI work lands)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.core.models import Notification


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notes = Notification.objects.restrict(request.user)[:100]
    return render(request, "core/notifications.html", {"notifications": notes, "nav": ""})
