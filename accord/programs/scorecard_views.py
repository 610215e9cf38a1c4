"""Pages of scorecards: the list, one scorecard's latest standings (with "score now"), its
editor, and one organisation's scores with how each was made.

Thin views: reads through ``selectors`` (scores reach a user only through ``restrict()``),
writes through ``scorecards.save_scorecard`` / ``score_scorecard``; a service's error is
shown on the form it is about, never as an error page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Floor
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.core.charts import chart_context, with_chart_csp
from accord.core.errors import PermissionDenied, ValidationError
from accord.metrics import selectors as metric_selectors
from accord.partners import selectors as partner_selectors
from accord.programs import scorecards, selectors
from accord.programs.models import Consequence, Score, ScorecardTemplate, Standing
from accord.programs.rules import decayed
from accord.programs.scorecard_forms import (
    NO_STANDING,
    ScorecardEditor,
    ScoreNowForm,
    StandingFilterForm,
    localised,
    number_text,
)

PAGE_SIZE = 25
BINS = 10  # the distribution chart's score bins: 0-10, 10-20, ... 90-100
ADD = "programs.add_scorecardtemplate"
CHANGE = "programs.change_scorecardtemplate"
SCORE = "programs.score_scorecardtemplate"
PERCENT_UNITS = {"ratio", "fraction"}
MONEY_UNITS = {"currency", "money"}
COUNT_UNITS = {"count", "people", "orders", "products", "customers"}
# Standings from the lowest band to the highest: red for the worst, green for the best.
PALETTE = ("#c0392b", "#e07b39", "#d4a017", "#7dab3c", "#1e7d4f", "#2457c5")


# -- small helpers -----------------------------------------------------------------------
def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def url_or_path(name: str, args: Sequence[Any], path: str) -> str:
    """The URL of ``name`` when that page exists, else ``path`` (pages built elsewhere)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return path


def program_organisation_url(code: str, organisation_id: int) -> str:
    return url_or_path(
        "programs:organisation",
        [code, organisation_id],
        f"{reverse('programs:program_list')}{code}/organisations/{organisation_id}/",
    )


def number(value: Decimal | int, places: int) -> str:
    """Grouped digits in the current locale, rounded half up (Django's number_format cuts
    the digits off, which would show 40.6857 as 40.68 beside a total of 40.69)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, places, use_l10n=True, force_grouping=True)


def score_text(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return number(value, 2)


def value_text(value: Any, unit: str) -> str:
    """A criterion's metric value for people: ratios as percent, counts whole."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    if unit in PERCENT_UNITS:
        return f"{number(amount * 100, 1)} %"
    if unit in COUNT_UNITS:
        return number(amount, 0)
    return number(amount, 2)


def consequence_list(standing: Standing | None) -> list[dict[str, str]]:
    """What a standing means for each action: none / warn / block, labelled."""
    if standing is None:
        return []
    labels = {
        "deal_registration": _("Deal registrations"),
        "mdf_requests": _("MDF requests"),
        "orders": _("Orders"),
    }
    return [
        {
            "action": action,
            "label": labels[action],
            "level": getattr(standing, action),
            "level_label": Consequence(getattr(standing, action)).label,
        }
        for action in scorecards.ACTIONS
    ]


def standing_rows(template: ScorecardTemplate) -> list[dict[str, Any]]:
    """The template's standings, lowest band first, with colour and consequences."""
    standings = sorted(template.standings.all(), key=lambda s: (s.min_score, s.max_score))
    tones = _tones(len(standings))
    return [
        {
            "code": s.code,
            "name": localised(s),
            "min": s.min_score,
            "max": s.max_score,
            "top": index == len(standings) - 1,
            "tone": tones[index],
            "colour": PALETTE[tones[index]],
            "index": index,
            "consequences": consequence_list(s),
            "review_meeting": s.review_meeting,
            "object": s,
        }
        for index, s in enumerate(standings)
    ]


def _tones(count: int) -> list[int]:
    """Palette positions (CSS classes tone-0..5) for ``count`` standings, worst first."""
    if count <= 1:
        return [4] * count
    if count == 2:
        return [0, 4]
    if count == 3:
        return [0, 2, 4]
    return [i % len(PALETTE) for i in range(count)]


def metric_units(user: Any) -> dict[str, Any]:
    return {m.code: m for m in metric_selectors.current_metrics(user)}


def latest_period_start(rows: QuerySet) -> dt.date | None:
    return rows.order_by("-period_start").values_list("period_start", flat=True).first()


# -- list ---------------------------------------------------------------------------------
@login_required
def scorecard_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    items = []
    for template in selectors.scorecards(user).prefetch_related("criteria", "standings"):
        standings = standing_rows(template)
        visible = selectors.scores(user, template)
        latest = latest_period_start(visible)
        counts: dict[str, int] = {}
        last_scored = None
        if latest is not None:
            newest = visible.filter(period_start=latest)
            counts = dict(
                newest.values_list("standing").annotate(n=Count("pk")).values_list("standing", "n")
            )
            last_scored = newest.aggregate(last=Max("as_of"))["last"]
        total = sum(counts.values())
        items.append(
            {
                "template": template,
                "name": localised(template),
                "criteria": len(template.criteria.all()),
                "decay": number_text(template.decay),
                "standings": [{**s, "count": counts.get(s["code"], 0)} for s in standings],
                "unscored": counts.get("", 0),
                "total": total,
                "last_scored": last_scored,
                "latest_period": latest,
            }
        )
    return render(
        request,
        "programs/scorecard_list.html",
        {"nav": "scorecards", "items": items, "can_add": user.has_perm(ADD)},
    )


# -- one scorecard --------------------------------------------------------------------------
def _latest_rows(user: Any, template: ScorecardTemplate) -> tuple[QuerySet, dt.date | None]:
    visible = selectors.scores(user, template)
    latest = latest_period_start(visible)
    if latest is None:
        return visible.none(), None
    return visible.filter(period_start=latest), latest


def _filtered(rows: QuerySet, filters: dict[str, str]) -> QuerySet:
    if filters["q"]:
        rows = rows.filter(
            Q(organisation__name__icontains=filters["q"])
            | Q(organisation__external_key__icontains=filters["q"])
        )
    if filters["standing"] == NO_STANDING:
        rows = rows.filter(standing="")
    elif filters["standing"]:
        rows = rows.filter(standing=filters["standing"])
    sort = filters["sort"]
    if sort.lstrip("-") == "overall":
        overall = (
            F("overall").desc(nulls_last=True)
            if sort.startswith("-")
            else F("overall").asc(nulls_last=True)
        )
        return rows.order_by(overall, "organisation__name", "organisation_id")
    if sort == "-name":
        return rows.order_by("-organisation__name", "-organisation_id")
    return rows.order_by("organisation__name", "organisation_id")


def distribution(rows: QuerySet, standings: list[dict[str, Any]]) -> dict[str, Any]:
    """How many organisations hold each standing, and a histogram of overall scores in
    ten-point bins stacked by standing (two grouped queries, whatever the row count)."""
    counts = dict(rows.values_list("standing").annotate(n=Count("pk")).values_list("standing", "n"))
    binned = (
        rows.exclude(overall=None)
        .annotate(bin=Floor(F("overall") / BINS))
        .values_list("standing", "bin")
        .annotate(n=Count("pk"))
    )
    by_standing: dict[str, list[int]] = {s["code"]: [0] * BINS for s in standings}
    for code, number, n in binned:
        index = min(int(number), BINS - 1)  # 100 sits in the top bin
        by_standing.setdefault(code, [0] * BINS)[index] += n
    labels = [f"{i * BINS}-{(i + 1) * BINS}" for i in range(BINS)]
    return {
        "data": {  # what the chart draws (json_script): plain values only
            "labels": labels,
            "axis": {"x": _("Overall score"), "y": _("Organisations")},
            "series": [
                {
                    "name": s["name"],
                    "colour": s["colour"],
                    "values": by_standing.get(s["code"], []),
                }
                for s in standings
            ],
        },
        "counts": [{**s, "count": counts.get(s["code"], 0)} for s in standings],
        "unscored": counts.get("", 0),
        "total": sum(counts.values()),
    }


def _detail_context(
    request: HttpRequest, template: ScorecardTemplate, score_form: ScoreNowForm | None = None
) -> dict[str, Any]:
    user = request.user
    standings = standing_rows(template)
    by_code = {s["code"]: s for s in standings}
    rows, latest = _latest_rows(user, template)
    form = StandingFilterForm(request.GET or None, standings=[s["object"] for s in standings])
    filters = form.filters()
    page = Paginator(_filtered(rows, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    units = metric_units(user)
    table = [
        {
            "organisation_id": score.organisation_id,
            "name": score.organisation.name,
            "external_key": score.organisation.external_key,
            "overall": score_text(score.overall),
            "score": score_text(score.score),
            "no_activity": score.no_activity,
            "standing": by_code.get(score.standing),
            "url": reverse(
                "scorecards:scorecard_organisation", args=[template.code, score.organisation_id]
            ),
        }
        for score in page.object_list
    ]
    criteria = [
        {
            "metric": c.metric,
            "label": localised(units[c.metric]) if c.metric in units else c.metric,
            "weight": c.weight,
            "rule": c.get_rule_display(),
            "points": [(value_text(x, _unit(units, c.metric)), y) for x, y in c.points],
        }
        for c in template.criteria.all()
    ]
    chart = distribution(rows, standings)
    can_score = user.has_perm(SCORE)
    return {
        "nav": "scorecards",
        "template": template,
        "name": localised(template),
        "decay": number_text(template.decay),
        "standings": standings,
        "criteria": criteria,
        "form": form,
        "filters": filters,
        "page_obj": page,
        "rows": table,
        "latest": latest,
        "latest_end": rows.values_list("period_end", flat=True).first() if latest else None,
        "last_scored": rows.aggregate(last=Max("as_of"))["last"] if latest else None,
        "chart": chart,
        "can_score": can_score,
        "can_edit": user.has_perm(CHANGE),
        "score_form": score_form or (ScoreNowForm() if can_score else None),
        "sort_links": _sort_links(filters["sort"]),
        **chart_context(),
    }


def _unit(units: dict[str, Any], code: str) -> str:
    metric = units.get(code)
    return metric.unit if metric is not None else ""


def _sort_links(sort: str) -> dict[str, dict[str, str]]:
    links = {}
    for key, first in (("name", "name"), ("overall", "-overall")):
        current = sort.lstrip("-") == key
        links[key] = {
            "next": (sort[1:] if sort.startswith("-") else f"-{sort}") if current else first,
            "direction": ("desc" if sort.startswith("-") else "asc") if current else "",
        }
    return links


@login_required
def scorecard_detail(request: HttpRequest, code: str) -> HttpResponse:
    template = selectors.get_scorecard(request.user, code)
    context = _detail_context(request, template)
    if _wants_partial(request, "scorecard-results"):
        response = render(request, "programs/_scorecard_rows.html", context)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response
    return with_chart_csp(render(request, "programs/scorecard_detail.html", context))


@login_required
@require_POST
def scorecard_score(request: HttpRequest, code: str) -> HttpResponse:
    """Score now: every organisation in scope, up to the date given."""
    template = selectors.get_scorecard(request.user, code)
    _require_perm(request, SCORE)
    form = ScoreNowForm(request.POST)
    if form.is_valid():
        try:
            summary = scorecards.score_scorecard(
                actor=request.user, template=template, as_of=form.cleaned_data["as_of"]
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        except ValueError as error:  # a metric definition the engine cannot evaluate
            form.add_error(None, str(error))
        else:
            names = {s.code: localised(s) for s in template.standings.all()}
            spread = ", ".join(
                f"{names.get(code, code)}: {count}"
                for code, count in sorted(summary["standings"].items())
            )
            periods = summary["periods"]
            messages.success(
                request,
                _(
                    "Scored %(count)s organisations for %(first)s to %(last)s as of %(as_of)s. "
                    "%(spread)s"
                )
                % {
                    "count": summary["organisations"],
                    "first": periods[0] if periods else "—",
                    "last": periods[-1] if periods else "—",
                    "as_of": summary["as_of"],
                    "spread": spread,
                },
            )
            return redirect("scorecards:scorecard_detail", template.code)
    context = _detail_context(request, template, score_form=form)
    return with_chart_csp(render(request, "programs/scorecard_detail.html", context))


# -- editor -------------------------------------------------------------------------------
def _editor(request: HttpRequest, template: ScorecardTemplate | None) -> HttpResponse:
    user = request.user
    data = request.POST if request.method == "POST" else None
    editor = ScorecardEditor(user, data, template=template)
    if data is not None and editor.is_valid():
        try:
            saved = scorecards.save_scorecard(
                actor=user,
                data=editor.settings.data_for_service(),
                content=editor.content(),
                template=template,
            )
        except ValidationError as error:
            editor.add_service_errors(error)
        else:
            messages.success(request, _("Scorecard %(name)s saved.") % {"name": saved.name})
            return redirect("scorecards:scorecard_detail", saved.code)
    status = 200
    if data is not None:
        status = 400 if editor.errors else 200
    return render(
        request,
        "programs/scorecard_form.html",
        {
            "nav": "scorecards",
            "template": template,
            "editor": editor,
            "settings_form": editor.settings,
            "criteria": editor.criteria,
            "standings": editor.standings,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def scorecard_create(request: HttpRequest) -> HttpResponse:
    _require_perm(request, ADD)
    return _editor(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def scorecard_edit(request: HttpRequest, code: str) -> HttpResponse:
    template = selectors.get_scorecard(request.user, code)
    _require_perm(request, CHANGE)
    return _editor(request, template)


# -- one organisation -----------------------------------------------------------------------
def _criteria_rows(score: Score, units: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """A period's criteria: value -> score x weight, and each one's share of the total
    (weights renormalise over the criteria that have a value)."""
    parts = score.criteria or []
    counted = sum(int(p.get("weight") or 0) for p in parts if p.get("score") is not None)
    rows = []
    for part in parts:
        code = str(part.get("metric", ""))
        unit = _unit(units, code)
        value = part.get("value")
        points = part.get("score")
        weight = int(part.get("weight") or 0)
        contribution = None
        if points is not None and counted:
            contribution = Decimal(str(points)) * weight / counted
        rows.append(
            {
                "metric": code,
                "label": localised(units[code]) if code in units else code,
                "value": value_text(value, unit),
                "raw": "" if value is None else number_text(value),
                "rule": part.get("rule", ""),
                "score": score_text(None if points is None else Decimal(str(points))),
                "weight": weight,
                "contribution": score_text(contribution),
                "missing": value is None,
            }
        )
    return rows, counted


def _overall_rows(score: Score) -> dict[str, Any]:
    """How the overall score was made: each period's score and its decay weight."""
    rows, weight_sum, total = [], Decimal(0), Decimal(0)
    for item in score.overall_inputs or []:
        value = item.get("score")
        weight = Decimal(str(item.get("weight", "0")))
        counted = value is not None
        if counted:
            weight_sum += weight
            total += weight * Decimal(str(value))
        rows.append(
            {
                "period": item.get("period", ""),
                "score": score_text(None if value is None else Decimal(str(value))),
                "weight": number_text(weight),
                "weighted": score_text(weight * Decimal(str(value))) if counted else "—",
                "counted": counted,
            }
        )
    return {
        "rows": rows,
        "weight_sum": number_text(weight_sum),
        "total": score_text(total),
        "overall": score_text(score.overall),
    }


def _trend(history: list[Score], template: ScorecardTemplate, labels: list[str]) -> dict[str, Any]:
    """Period scores as bars, the overall as a line (the stored overall where one was
    stored, else the decayed score of the periods up to then); no-activity periods are gaps
    marked "no activity", never zeros."""
    scores = [s.score for s in history]
    overall: list[str | None] = []
    for index, row in enumerate(history):
        if row.overall is not None:
            overall.append(str(row.overall))
            continue
        window = scores[max(0, index + 1 - template.history_periods) : index + 1]
        value = decayed(window, template.decay)
        overall.append(None if value is None else str(value.quantize(Decimal("0.01"))))
    return {
        "labels": labels,
        "scores": [None if s is None else str(s) for s in scores],
        "overall": overall,
        "no_activity": [row.no_activity or row.score is None for row in history],
        "text": {
            "score": _("Period score"),
            "overall": _("Overall (decayed)"),
            "no_activity": _("no activity"),
            "no_activity_hover": _("No activity in this period: left out, not counted as 0"),
            "axis": _("Score (0-100)"),
        },
    }


@login_required
def scorecard_organisation(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    user = request.user
    template = selectors.get_scorecard(user, code)
    organisation = partner_selectors.get_organisation(user, pk)
    units = metric_units(user)
    history = list(
        selectors.scores(user, template).filter(organisation=organisation).order_by("period_start")
    )
    standings = standing_rows(template)
    by_code = {s["code"]: s for s in standings}
    latest = history[-1] if history else None
    # The newest period's standing, as the consequences read it: without one (no activity
    # in every period of the newest scoring) there is no current standing; an older
    # scoring's does not come back.
    current = latest if latest is not None and latest.overall is not None else None
    labels = [_period_label(s) for s in history]
    periods = []
    for score, label in zip(reversed(history), reversed(labels), strict=True):
        rows, counted = _criteria_rows(score, units)
        periods.append(
            {
                "label": label,
                "start": score.period_start,
                "end": score.period_end,
                "score": score_text(score.score),
                "no_activity": score.no_activity or score.score is None,
                "criteria": rows,
                "counted_weight": counted,
                "as_of": score.as_of,
            }
        )
    verdicts = []
    review = False
    for action, label in (
        ("deal_registration", _("New deal registrations")),
        ("mdf_requests", _("MDF requests")),
        ("orders", _("Orders")),
    ):
        verdict = scorecards.consequence(organisation, action)
        review = review or verdict.review_meeting
        verdicts.append(
            {
                "action": action,
                "label": label,
                "level": verdict.level,
                "level_label": Consequence(verdict.level).label,
                "reasons": verdict.reasons,
            }
        )
    context = {
        "nav": "scorecards",
        "template": template,
        "name": localised(template),
        "decay": number_text(template.decay),
        "organisation": organisation,
        "standings": standings,
        "current": current,
        "current_standing": by_code.get(current.standing) if current else None,
        "overall": _overall_rows(current) if current else None,
        "periods": periods,
        "trend": _trend(history, template, labels),
        "verdicts": verdicts,
        "review_meeting": review,
        "tiers_url": reverse("partners:organisation_detail", args=[organisation.pk]) + "?tab=tiers",
        **chart_context(),
    }
    return with_chart_csp(render(request, "programs/scorecard_organisation.html", context))


def _period_label(score: Score) -> str:
    start = score.period_start
    months = (score.period_end.year - start.year) * 12 + score.period_end.month - start.month
    if months == 3 and start.month % 3 == 1:  # as the KPI engine labels periods
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"
