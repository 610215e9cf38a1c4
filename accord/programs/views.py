"""Pages of accord.programs."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.programs import selectors


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    programs = selectors.programs(request.user)
    return render(request, "programs/program_list.html", {"programs": programs, "nav": "programs"})
