"""The what-if page: a draft program version against the live one over chosen dates."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.programs import selectors


@login_required
def what_if(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    return render(request, "programs/what_if.html", {"program": program, "nav": "programs"})
