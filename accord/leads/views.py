"""Lead pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.leads.models import Lead


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    rows = Lead.objects.restrict(request.user, "view")[:100]
    return render(request, "leads/lead_list.html", {"rows": rows, "nav": "leads"})
