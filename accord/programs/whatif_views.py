"""The what-if page: a program's draft version against the live one over chosen ``as_of``
dates — tier counts, benefit cost and who moves — computed by ``selectors.what_if``, which
stores nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accord.channel.money import base_currency
from accord.core.charts import chart_context, with_chart_csp
from accord.core.errors import PermissionDenied, ValidationError
from accord.programs import selectors
from accord.programs.models import Program
from accord.programs.scorecard_forms import WhatIfForm, localised
from accord.programs.scorecard_views import number, url_or_path

EVALUATE = "programs.evaluate_program"
NO_TIER = ""


def editor_url(program: Program) -> str:
    """Where the draft is edited: the program editor when that page exists."""
    fallback = f"{reverse('programs:program_list')}{program.code}/edit/"
    url = url_or_path("programs:draft_edit", [program.code], "")
    return url or url_or_path("programs:program_detail", [program.code], fallback)


def money(value: Decimal) -> str:
    return number(value, 2)


def signed(value: Decimal | int, places: int = 0) -> str:
    text = number(abs(value), places)
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"\u2212{text}"  # a minus sign, as wide as the plus
    return text


def comparison(result: dict[str, Any], program: Program) -> dict[str, Any]:
    """The page's tables and chart data from ``selectors.what_if``'s result."""
    tiers = [
        {"code": tier["code"], "name": localised(tier) or tier["code"]} for tier in result["tiers"]
    ]
    known = {tier["code"] for tier in tiers}
    extra = {
        code
        for date in result["dates"]
        for side in ("live", "draft")
        for code in date[side]["distribution"]
        if code not in known
    }
    for code in sorted(extra - {NO_TIER}):
        tiers.append({"code": code, "name": code})
    if NO_TIER in extra:
        tiers.insert(0, {"code": NO_TIER, "name": _("No tier")})
    names = {tier["code"]: tier["name"] for tier in tiers}
    dates = []
    for date in result["dates"]:
        live_cost = Decimal(date["live"]["cost"])
        draft_cost = Decimal(date["draft"]["cost"])
        difference = draft_cost - live_cost
        rows = []
        for tier in tiers:
            live = int(date["live"]["distribution"].get(tier["code"], 0))
            draft = int(date["draft"]["distribution"].get(tier["code"], 0))
            rows.append(
                {
                    "code": tier["code"],
                    "live": live,
                    "draft": draft,
                    "delta": draft - live,
                    "delta_text": signed(draft - live),
                }
            )
        dates.append(
            {
                "as_of": date["as_of"],
                "day": dt.date.fromisoformat(date["as_of"]),
                "rows": rows,
                "live_cost": money(live_cost),
                "draft_cost": money(draft_cost),
                "difference": difference,
                "difference_text": signed(difference, 2),
                "difference_pct": (
                    signed((difference * 100 / live_cost).quantize(Decimal("0.1")), 1)
                    if live_cost
                    else ""
                ),
                "moved": date["moved"],
                "up": date["up"],
                "down": date["down"],
                "movers": [
                    {
                        **mover,
                        "live_name": names.get(mover["live"], mover["live"]) or _("No tier"),
                        "draft_name": names.get(mover["draft"], mover["draft"]) or _("No tier"),
                        "url": reverse("partners:organisation_detail", args=[mover["organisation"]])
                        + "?tab=tiers",
                    }
                    for mover in date["movers"]
                ],
                "truncated": date["moved"] > len(date["movers"]),
            }
        )
    live_label = (
        _("Live (v%(number)s)") % {"number": result["live_version"]}
        if result["live_version"]
        else _("Live (none)")
    )
    draft_label = _("Draft (v%(number)s)") % {"number": result["draft_version"]}
    chart = {
        "tiers": [tier["name"] for tier in tiers],
        "live_label": live_label,
        "draft_label": draft_label,
        "axis": _("Organisations"),
        "dates": [
            {
                "as_of": date["as_of"],
                "live": [row["live"] for row in date["rows"]],
                "draft": [row["draft"] for row in date["rows"]],
            }
            for date in dates
        ],
    }
    return {
        "tiers": tiers,
        "dates": dates,
        "live_label": live_label,
        "draft_label": draft_label,
        "chart": chart,
        "organisations": result["organisations"],
    }


@login_required
@require_GET
def what_if(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    program = selectors.get_program(user, code)
    if not user.has_perm(EVALUATE):
        raise PermissionDenied
    form = WhatIfForm(request.GET if "as_of" in request.GET else None)
    draft = selectors.draft_version(user, program)
    live = selectors.live_version(program)
    context: dict[str, Any] = {
        "nav": "programs",
        "program": program,
        "program_name": localised(program),
        "form": form,
        "draft": draft,
        "live": live,
        "editor_url": editor_url(program),
        "currency": base_currency(),
        "result": None,
        **chart_context(),
    }
    if draft is not None and (not form.is_bound or form.is_valid()):
        try:
            result = selectors.what_if(user, program, dates=form.dates())
        except ValidationError as error:
            form.add_error(None, error.messages)
        except ValueError as error:  # a metric definition the engine cannot evaluate
            form.add_error(None, str(error))
        else:
            context["result"] = comparison(result, program)
            context["dates"] = form.dates()
    return with_chart_csp(render(request, "programs/what_if.html", context))
