"""The public page of a health check: a respondent opens their personal link (no account
needed), answers, and the link stops working. A forged, expired or used link gets a clear
page (400 or 410), never an error."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accord.core.errors import ValidationError
from accord.governance.models import HealthResponse, Side
from accord.governance.selectors import health as selectors
from accord.governance.services import health as services


def _link_error(request: HttpRequest, error: services.SurveyLinkError) -> HttpResponse:
    titles = {
        "invalid": _("This link does not work"),
        "expired": _("This health check is closed"),
        "used": _("You have already answered"),
    }
    hints = {
        "invalid": _(
            "Check that you opened the whole link from your e-mail. If it still does not work, "
            "ask the person who sent it for a new one."
        ),
        "expired": _("Answers are no longer taken for this health check. Thank you anyway."),
        "used": _("Each link works once. Thank you for taking part."),
    }
    return render(
        request,
        "governance/survey_closed.html",
        {
            "title": titles.get(error.reason, titles["invalid"]),
            "message": error.messages[0],
            "hint": hints.get(error.reason, hints["invalid"]),
        },
        status=error.status,
    )


def _rows(posted: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = []
    for question in selectors.questions():
        value = posted.get(question["code"]) if posted is not None else None
        rows.append(
            {
                **question,
                "value": str(value) if value is not None else "",
                "errors": errors.get(question["code"], []),
            }
        )
    return rows


def _form(
    request: HttpRequest,
    response: HealthResponse,
    *,
    posted: Any = None,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    errors = errors or {}
    survey = response.survey
    rows = _rows(posted, errors)
    codes = {row["code"] for row in rows}
    return render(
        request,
        "governance/survey_answer.html",
        {
            "respondent": response.contact,
            "side": response.side,
            "partner_side": response.side == Side.PARTNER,
            "survey": survey,
            "organisation": survey.organisation,
            "vendor_name": selectors.vendor_name(),
            "rows": [row for row in rows if row["code"] != selectors.NPS],
            "nps": next(row for row in rows if row["code"] == selectors.NPS),
            "comment": (posted.get("comment", "") if posted is not None else ""),
            "comment_errors": errors.get("comment", []),
            "general_errors": [
                message
                for name, messages in errors.items()
                if name not in codes | {"comment"}
                for message in messages
            ],
            "has_errors": bool(errors),
            "max_comment": services.MAX_COMMENT,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the questions for the link's respondent; POST: record the answers."""
    try:
        response = services.response_for_token(token)
    except services.SurveyLinkError as error:
        return _link_error(request, error)
    if request.method == "POST":
        try:
            services.answer(token=token, data=request.POST)
        except services.SurveyLinkError as error:
            return _link_error(request, error)
        except ValidationError as error:
            errors = (
                error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            )
            return _form(request, response, posted=request.POST, errors=errors)
        return render(
            request,
            "governance/survey_thanks.html",
            {"organisation": response.survey.organisation, "vendor_name": selectors.vendor_name()},
        )
    return _form(request, response)
