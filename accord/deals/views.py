"""Deal registration pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.deals.models import Registration


@login_required
def registration_list(request: HttpRequest) -> HttpResponse:
    rows = Registration.objects.restrict(request.user, "view")[:100]
    return render(request, "deals/registration_list.html", {"rows": rows, "nav": "deals"})
