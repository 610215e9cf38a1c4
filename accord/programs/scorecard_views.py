"""Pages of scorecards and what-if."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.programs import selectors


@login_required
def scorecard_list(request: HttpRequest) -> HttpResponse:
    templates = selectors.scorecards(request.user)
    return render(
        request, "programs/scorecard_list.html", {"scorecards": templates, "nav": "scorecards"}
    )
