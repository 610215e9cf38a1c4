"""Pages of accord.programs: the program list ("My tier" for partners), a program with its
tiers, the draft editor, evaluation runs and their explained results, and one organisation
in one program (progress, overrides, tier history).

Thin views: reads through ``selectors`` (every row via ``restrict()``), writes through
``services``; service errors become form errors or messages, never error pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accord.channel.money import base_currency
from accord.core.charts import chart_context, with_chart_csp
from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.exports import table_response
from accord.core.forms import add_service_errors
from accord.core.models import SCOPE_ALL
from accord.metrics import selectors as metric_selectors
from accord.partners.models import Organisation
from accord.programs import forms as program_forms
from accord.programs import selectors, services
from accord.programs import warnings as warning_texts
from accord.programs.forms import (
    EndOverrideForm,
    EvaluateForm,
    OverrideForm,
    ProgramSettingsForm,
    ResultFilterForm,
    RunFilterForm,
)
from accord.programs.models import (
    Comparator,
    EvaluationResult,
    EvaluationRun,
    Membership,
    Outcome,
    Program,
    ProgramVersion,
    Tier,
    TierChange,
)
from accord.programs.rules import COMPARATORS, ProgramRules, gap_text

PAGE_SIZE = 25
HISTORY_LIMIT = 200
WARNING_LIMIT = 200
RUNS_PERMISSION = "programs.view_evaluationrun"
EVALUATE_PERMISSION = "programs.evaluate_program"
EDIT_PERMISSION = "programs.change_program"
PUBLISH_PERMISSION = "programs.publish_program"
OVERRIDE_PERMISSION = "programs.override_program"


# -- small helpers ------------------------------------------------------------------
def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def localized(name: str, name_zh: str = "") -> str:
    """The Chinese name when the page is in Chinese and there is one, else the name."""
    return name_zh if _chinese() and name_zh else name


def _tier_labels(tiers: Any) -> dict[str, str]:
    """tier code -> the tier's name in the page's language ("" is no tier)."""
    labels = {tier.code: localized(tier.name, tier.name_zh) for tier in tiers}
    labels[""] = _("No tier")
    return labels


def _label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code) or code


def _wants_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, {"nav": "programs", **context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _metric_labels(user: Any) -> dict[str, str]:
    return {
        metric.code: localized(metric.name, metric.name_zh)
        for metric in metric_selectors.current_metrics(user)
    }


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _combine_text(combine: str, at_least: int | None, count: int) -> str:
    if count == 0:
        return _("no criteria: every organisation in scope qualifies")
    if combine == Tier.Combine.ANY:
        return _("any criterion")
    if combine == Tier.Combine.AT_LEAST:
        return _("at least %(n)s of %(count)s criteria") % {
            "n": min(at_least or 1, count),
            "count": count,
        }
    return _("all criteria")


# -- reading a program --------------------------------------------------------------
def _tier_rows(version: ProgramVersion, metric_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The version's tiers for the table: criteria as sentences, combine rule, benefits."""
    rows = []
    for tier in version.tiers.prefetch_related("criteria").order_by("rank"):
        criteria = list(tier.criteria.all())
        rows.append(
            {
                "tier": tier,
                "label": localized(tier.name, tier.name_zh),
                "other_name": tier.name_zh if not _chinese() else tier.name,
                "criteria": [
                    {
                        "metric": criterion.metric,
                        "label": metric_labels.get(criterion.metric, criterion.metric),
                        "symbol": COMPARATORS.get(criterion.comparator, criterion.comparator),
                        "threshold": criterion.threshold,
                        "window": program_forms.window_label(criterion.window),
                        "pinned": criterion.metric_version,
                    }
                    for criterion in criteria
                ],
                "combine": _combine_text(tier.combine, tier.at_least, len(criteria)),
            }
        )
    return rows


def _distribution(run: EvaluationRun, labels: Mapping[str, str], rules: ProgramRules) -> list:
    """[(code, label, count)] of the run's effective tiers, top tier first, no tier last."""
    counts = dict(run.summary.get("distribution", {}))
    ordered = [tier.code for tier in reversed(rules.tiers)]
    ordered += sorted(code for code in counts if code not in ordered and code)
    ordered.append("")
    return [(code, _label(labels, code), counts[code]) for code in ordered if counts.get(code)]


def _scoped(user: Any, run: EvaluationRun) -> EvaluationRun:
    """``run`` with its totals narrowed to the organisations ``user`` sees: a run's stored
    summary covers the whole network, which only staff of full scope may see (as the API
    does). In memory only; the benefit cost, a network figure, is left out."""
    if user.access_scope == SCOPE_ALL:
        return run
    visible = selectors.results(user, run).order_by()
    run.organisation_count = visible.count()
    run.summary = {
        name: dict(visible.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
        for name, field in (("distribution", "effective_tier"), ("outcomes", "outcome"))
    }
    if run.applied:
        run.summary["changes"] = (
            selectors.run_changes(user, run).exclude(kind=TierChange.Kind.OVERRIDE_ENDED).count()
        )
        run.summary["warnings"] = selectors.warnings(user, run).count()
    return run


def _run_summary(run: EvaluationRun, user: Any) -> dict[str, Any]:
    run = _scoped(user, run)
    rules = selectors.run_rules(run)
    labels = _tier_labels(rules.tiers)
    outcome_labels = dict(Outcome.choices)
    outcomes = sorted(run.summary.get("outcomes", {}).items(), key=lambda item: (-item[1], item[0]))
    return {
        "run": run,
        "rules": rules,
        "labels": labels,
        "distribution": _distribution(run, labels, rules),
        "outcomes": [(code, outcome_labels.get(code, code), n) for code, n in outcomes],
        "cost": _decimal(run.summary.get("cost")),
        "currency": base_currency(),
    }


def _chart_data(summary: dict[str, Any]) -> dict[str, Any]:
    distribution = list(reversed(summary["distribution"]))  # lowest tier first on the axis
    return {
        "kind": "bar",
        "labels": [label for _code, label, _count in distribution],
        "values": [count for _code, _label_, count in distribution],
        "title": _("Organisations"),
    }


@login_required
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    programs = list(selectors.programs(user))
    if user.is_partner:
        organisation = user.organisation
        cards = []
        for program in programs:
            standing = _standing(user, program, organisation)
            if standing["membership"] is not None or standing["result"] is not None:
                cards.append(standing)
        return _render(
            request, "programs/my_tier.html", {"cards": cards, "organisation": organisation}
        )
    show_runs = user.has_perm(RUNS_PERMISSION)
    rows = []
    for program in programs:
        live = selectors.live_version(program)
        run = selectors.latest_applied_run(program) if show_runs else None
        rows.append(
            {
                "program": program,
                "label": localized(program.name, program.name_zh),
                "live": live,
                "draft": selectors.draft_version(user, program),
                "summary": _run_summary(run, user) if run is not None else None,
            }
        )
    return _render(request, "programs/program_list.html", {"rows": rows, "show_runs": show_runs})


def _version_to_show(request: HttpRequest, program: Program) -> ProgramVersion | None:
    versions = selectors.versions(request.user, program)
    wanted = request.GET.get("version", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) < 9:
        chosen = versions.filter(number=int(wanted)).first()
        if chosen is not None:
            return chosen
    return (
        selectors.live_version(program)
        or versions.filter(status=ProgramVersion.Status.DRAFT).first()
    )


def _detail_context(
    request: HttpRequest, program: Program, evaluate_form: EvaluateForm | None = None
) -> dict[str, Any]:
    user = request.user
    draft = selectors.draft_version(user, program)
    version = _version_to_show(request, program)
    metric_labels = _metric_labels(user)
    context: dict[str, Any] = {
        "program": program,
        "label": localized(program.name, program.name_zh),
        "version": version,
        "versions": list(selectors.versions(user, program).order_by("-number")),
        "live": selectors.live_version(program),
        "draft": draft,
        "tiers": _tier_rows(version, metric_labels) if version else [],
        "cost_basis": metric_labels.get(version.cost_basis_metric, version.cost_basis_metric)
        if version
        else "",
        "cost_window": program_forms.window_label(version.cost_basis_window) if version else "",
        "summary": None,
        "chart_data": None,
        "can_evaluate": user.has_perm(EVALUATE_PERMISSION),
        "can_edit": user.has_perm(EDIT_PERMISSION),
        "can_publish": user.has_perm(PUBLISH_PERMISSION),
        "can_see_runs": user.has_perm(RUNS_PERMISSION),
        **chart_context(),
    }
    if context["can_see_runs"]:
        run = selectors.latest_applied_run(program)
        if run is not None:
            context["summary"] = _run_summary(run, user)
            context["chart_data"] = _chart_data(context["summary"])
    if context["can_evaluate"]:
        context["evaluate_form"] = evaluate_form or EvaluateForm(has_draft=draft is not None)
    if user.is_partner:
        context["own"] = _standing(user, program, user.organisation)
    return context


@login_required
@require_GET
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    context = _detail_context(request, program)
    return with_chart_csp(_render(request, "programs/program_detail.html", context))


@login_required
@require_POST
def program_evaluate(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    _require_perm(request, EVALUATE_PERMISSION)
    draft = selectors.draft_version(request.user, program)
    form = EvaluateForm(request.POST, has_draft=draft is not None)
    if form.is_valid():
        mode = form.cleaned_data["mode"]
        try:
            run = services.evaluate_program(
                actor=request.user,
                program=program,
                as_of=form.cleaned_data["as_of"],
                apply=mode == EvaluateForm.APPLY,
                trigger=EvaluationRun.Trigger.MANUAL,
                version=draft if mode == EvaluateForm.DRAFT else None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if run.applied:
                done = _("Evaluated and applied as of %(date)s: %(changes)s tier changes.")
            else:
                done = _("Preview as of %(date)s: nothing was changed.")
            messages.success(
                request,
                done % {"date": run.as_of.isoformat(), "changes": run.summary.get("changes", 0)},
            )
            return redirect("programs:run_detail", code=program.code, pk=run.pk)
    context = _detail_context(request, program, evaluate_form=form)
    return with_chart_csp(_render(request, "programs/program_detail.html", context))


def _detail_url(program: Program) -> str:
    return reverse("programs:program_detail", args=[program.code])


@login_required
@require_POST
def draft_publish(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    _require_perm(request, PUBLISH_PERMISSION)
    try:
        version = services.publish_version(actor=request.user, program=program)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("programs:draft_edit", code=program.code)
    messages.success(request, _("Version %(number)s is live.") % {"number": version.number})
    return redirect(_detail_url(program))


@login_required
@require_POST
def draft_discard(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    _require_perm(request, EDIT_PERMISSION)
    try:
        services.discard_draft(actor=request.user, program=program)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The draft was discarded."))
    return redirect(_detail_url(program))


# -- the draft editor -------------------------------------------------------------------
def _editor_choices(user: Any, state: Mapping[str, Any]) -> dict[str, Any]:
    metrics = list(_metric_labels(user).items())
    known = {code for code, _name in metrics}
    used = {state["cost_basis_metric"]} | {
        item["metric"] for tier in state["tiers"] for item in tier["criteria"]
    }
    # A metric that is no longer defined stays selectable, so the page shows what was saved
    # (saving it then says it is unknown).
    metrics += [(code, code) for code in sorted(used - known) if code]
    return {
        "metric_choices": metrics,
        "comparator_choices": Comparator.choices,
        "window_choices": program_forms.window_choices(),
        "combine_choices": Tier.Combine.choices,
    }


@login_required
def draft_edit(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    program = selectors.get_program(user, code)
    _require_perm(request, EDIT_PERMISSION)
    draft = selectors.draft_version(user, program)
    live = selectors.live_version(program)
    loose: list[str] = []
    metrics = list(_metric_labels(user))
    if request.method == "POST":
        state = program_forms.parse_editor(request.POST)
        operation = request.POST.get("op", "")
        if operation:
            program_forms.apply_operation(
                state, operation, "revenue" if "revenue" in metrics else (metrics or [""])[0]
            )
        else:
            content = program_forms.editor_content(state)
            try:
                # Checked before anything is written, so that a refused save leaves no draft.
                services.clean_content(content)
                if draft is None:
                    services.start_draft(actor=user, program=program)
                saved = services.save_draft(actor=user, program=program, content=content)
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    loose = program_forms.attach_errors(state, error.message_dict)
                else:
                    loose = list(error.messages)
            else:
                messages.success(
                    request, _("Draft version %(number)s was saved.") % {"number": saved.number}
                )
                return redirect("programs:draft_edit", code=program.code)
    else:
        base = draft or live
        state = program_forms.editor_state(services.version_content(base) if base else None)
    partial = _wants_partial(request, "draft-editor")
    context = {
        "program": program,
        "label": localized(program.name, program.name_zh),
        "draft": draft,
        "live": live,
        "state": program_forms.number_inputs(state),
        "live_tiers": _tier_rows(live, _metric_labels(user)) if live and not partial else [],
        "loose_errors": loose,
        "has_errors": bool(loose) or program_forms.has_errors(state),
        "can_publish": user.has_perm(PUBLISH_PERMISSION),
        "max_tiers": services.MAX_TIERS,
        "max_criteria": services.MAX_CRITERIA,
        **_editor_choices(user, state),
    }
    template = "programs/_editor_form.html" if partial else "programs/draft_edit.html"
    return _render(request, template, context)


# -- runs ------------------------------------------------------------------------------
@login_required
@require_GET
def run_list(request: HttpRequest, code: str) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    _require_perm(request, RUNS_PERMISSION)
    form = RunFilterForm(request.GET or None)
    runs = selectors.runs(request.user, program).select_related("created_by")
    kind = form.chosen_kind()
    if kind:
        runs = runs.filter(applied=kind == "applied")
    page = Paginator(runs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [_run_summary(run, request.user) for run in page.object_list]
    return _render(
        request,
        "programs/run_list.html",
        {
            "program": program,
            "label": localized(program.name, program.name_zh),
            "form": form,
            "page_obj": page,
            "rows": rows,
            "can_evaluate": request.user.has_perm(EVALUATE_PERMISSION),
        },
    )


def _get_run(request: HttpRequest, program: Program, pk: int) -> EvaluationRun:
    _require_perm(request, RUNS_PERMISSION)
    run = selectors.runs(request.user, program).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def _rank_order(field: str, rules: ProgramRules) -> Case:
    return Case(
        *[When(**{field: tier.code}, then=Value(tier.rank)) for tier in rules.tiers],
        default=Value(-1),
        output_field=IntegerField(),
    )


def _filtered_results(
    request: HttpRequest, run: EvaluationRun, rules: ProgramRules, labels: Mapping[str, str]
) -> tuple[ResultFilterForm, QuerySet, str]:
    tiers = [(tier.code, labels[tier.code]) for tier in reversed(rules.tiers)]
    form = ResultFilterForm(request.GET or None, tiers=tiers)
    filters = form.filters()
    results = selectors.results(request.user, run)
    if filters.get("q"):
        text = filters["q"].strip()
        results = results.filter(
            Q(organisation__name__icontains=text) | Q(organisation__external_key__icontains=text)
        )
    if filters.get("tier"):
        results = results.filter(effective_tier="" if filters["tier"] == "-" else filters["tier"])
    if filters.get("outcome"):
        results = results.filter(outcome=filters["outcome"])
    sort = filters.get("sort", "name")
    key, descending = sort.lstrip("-"), sort.startswith("-")
    name_order = ["organisation__name", "organisation_id"]
    if key == "tier":
        results = results.annotate(_rank=_rank_order("effective_tier", rules))
        order = ["_rank", *name_order]
    elif key == "previous":
        results = results.annotate(_rank=_rank_order("previous_tier", rules))
        order = ["_rank", *name_order]
    elif key == "outcome":
        order = ["outcome", *name_order]
    elif key == "key":
        order = ["organisation__external_key", *name_order]
    else:
        order = name_order
    if descending:
        order = [f"-{field}" for field in order]
    return form, results.order_by(*order), sort


RESULT_COLUMNS = (
    ("name", "Organisation"),
    ("key", "Key"),
    ("previous", "Previous tier"),
    ("tier", "Tier"),
    ("outcome", "Outcome"),
)


def _warning_rows(run: EvaluationRun, warnings: Any, labels: Mapping[str, str]) -> list:
    """(warning, tier label, its sentence in the reader's language) for the run page."""
    metrics = warning_texts.metric_names()
    rows = []
    for warning in warnings:
        warning.run = run
        rows.append(
            (warning, _label(labels, warning.tier_code), warning_texts.describe(warning, metrics))
        )
    return rows


def _column_label(key: str) -> str:
    # Listed here so that makemessages finds each heading.
    return {
        "name": _("Organisation"),
        "key": _("Key"),
        "previous": _("Previous tier"),
        "tier": _("Tier"),
        "outcome": _("Outcome"),
    }[key]


@login_required
@require_GET
def run_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    run = _get_run(request, program, pk)
    summary = _run_summary(run, request.user)
    labels = summary["labels"]
    form, results, sort = _filtered_results(request, run, summary["rules"], labels)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    outcome_labels = dict(Outcome.choices)
    rows = [
        {
            "result": result,
            "previous": _label(labels, result.previous_tier),
            "qualified": _label(labels, result.qualified_tier),
            "effective": _label(labels, result.effective_tier),
            "outcome": outcome_labels.get(result.outcome, result.outcome),
        }
        for result in page.object_list
    ]
    columns = []
    for key, _english in RESULT_COLUMNS:
        current = sort.lstrip("-") == key
        columns.append(
            {
                "key": key,
                "label": _column_label(key),
                "next": f"-{key}" if sort == key else key,
                "direction": ("desc" if sort.startswith("-") else "asc") if current else "",
            }
        )
    warnings = selectors.warnings(request.user, run)
    context = {
        "program": program,
        "label": localized(program.name, program.name_zh),
        "summary": summary,
        "run": run,
        "form": form,
        "page_obj": page,
        "rows": rows,
        "columns": columns,
        "export_query": request.GET.urlencode(),
        "warnings": _warning_rows(run, warnings[:WARNING_LIMIT], labels),
        "warning_count": warnings.count(),
        "warning_limit": WARNING_LIMIT,
        "chart_data": _chart_data(summary),
        **chart_context(),
    }
    template = (
        "programs/_results.html"
        if _wants_partial(request, "run-results")
        else "programs/run_detail.html"
    )
    return with_chart_csp(_render(request, template, context))


@login_required
@require_GET
def run_export(request: HttpRequest, code: str, pk: int, fmt: str) -> HttpResponse:
    """Exactly the filtered, sorted results: every row, not one page."""
    program = selectors.get_program(request.user, code)
    run = _get_run(request, program, pk)
    rules = selectors.run_rules(run)
    labels = _tier_labels(rules.tiers)
    _form, results, _sort = _filtered_results(request, run, rules, labels)
    keys = list(dict.fromkeys(criterion.key for criterion in rules.criteria()))
    outcome_labels = dict(Outcome.choices)
    header = [
        _("External key"),
        _("Organisation"),
        _("Previous tier"),
        _("Qualifies for"),
        _("Resulting tier"),
        _("Effective tier"),
        _("Outcome"),
        _("Grace until"),
        *keys,
        _("Gap to the next tier"),
    ]

    def lines() -> Iterator[list[Any]]:
        for result in results.iterator(chunk_size=2000):
            gap = selectors.explain_result(result, rules)["gap"]
            yield [
                result.organisation.external_key,
                result.organisation.name,
                result.previous_tier,
                result.qualified_tier,
                result.resulting_tier,
                result.effective_tier,
                outcome_labels.get(result.outcome, result.outcome),
                result.grace_until,
                *[_decimal(result.values.get(key)) for key in keys],
                _gap_sentence(gap, labels),
            ]

    basename = f"{program.code}-run-{run.pk}-{run.as_of.isoformat()}"
    return table_response(fmt, basename, header, lines(), title=program.code)


def _gap_sentence(gap: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if not gap:
        return ""
    texts = [item["text"] for item in gap.get("items", [])]
    if not texts:
        return ""
    prefix = _("To reach %(tier)s") % {"tier": _label(labels, gap["tier"])}
    if gap.get("missing", 0) < len(texts):
        prefix += " " + _("(%(n)s of these)") % {"n": gap["missing"]}
    return f"{prefix}: " + "; ".join(texts)


# -- explanations ---------------------------------------------------------------------
def _outcome_sentence(result: EvaluationResult, labels: Mapping[str, str]) -> str:
    values = {
        "tier": _label(labels, result.resulting_tier),
        "previous": _label(labels, result.previous_tier),
        "qualified": _label(labels, result.qualified_tier),
        "effective": _label(labels, result.effective_tier),
        "until": result.grace_until.isoformat() if result.grace_until else "",
    }
    sentences = {
        Outcome.ENTERED: _("Entered the program at %(tier)s."),
        Outcome.PROMOTED: _("Promoted from %(previous)s to %(tier)s."),
        Outcome.UNCHANGED: _("Stays %(tier)s: it meets the entry criteria of %(tier)s."),
        Outcome.HELD: _(
            "Stays %(tier)s, held by the hysteresis band: it misses the entry thresholds of "
            "%(tier)s but meets the relaxed thresholds for keeping it."
        ),
        Outcome.GRACE_OPENED: _(
            "Grace period opened: stays %(tier)s until %(until)s unless recovered "
            "(then %(qualified)s)."
        ),
        Outcome.GRACE_CONTINUES: _(
            "Still in the grace period: stays %(tier)s until %(until)s unless recovered "
            "(then %(qualified)s)."
        ),
        Outcome.GRACE_WITHDRAWN: _("Recovered: the grace period is withdrawn and %(tier)s kept."),
        Outcome.DEMOTED: _("Demoted from %(previous)s to %(tier)s."),
        Outcome.OVERRIDDEN: _(
            "A manual override holds %(effective)s; the evaluation alone gives %(tier)s."
        ),
    }
    if result.outcome == Outcome.UNCHANGED and not result.resulting_tier:
        return _("Qualifies for no tier yet.")
    sentence = sentences.get(result.outcome)
    return sentence % values if sentence else result.get_outcome_display()


def _explanation(
    result: EvaluationResult, rules: ProgramRules, metric_labels: Mapping[str, str]
) -> dict[str, Any]:
    """Everything the "why?" partial shows: each tier's criteria with value, threshold,
    kept threshold and pass/fail, the combine rule, the outcome sentence and the gap."""
    explained = selectors.explain_result(result, rules)
    labels = _tier_labels(rules.tiers)
    hysteresis = _decimal(explained["hysteresis_pct"]) or Decimal(0)
    tiers = []
    for check in explained["tiers"]:
        rule = rules.tier(check["tier"])
        tiers.append(
            {
                "code": check["tier"],
                "label": _label(labels, check["tier"]),
                "passed": check["passed"],
                "held": check["tier"] == result.resulting_tier,
                "qualified": check["tier"] == result.qualified_tier,
                "combine": _combine_text(
                    check["combine"], rule.at_least if rule else None, len(check["criteria"])
                ),
                "required": check["required"],
                "passed_count": sum(1 for item in check["criteria"] if item["passed"]),
                "criteria": [
                    {
                        "label": metric_labels.get(item["metric"], item["metric"]),
                        "metric": item["metric"],
                        "symbol": COMPARATORS.get(item["comparator"], item["comparator"]),
                        "threshold": item["threshold"],
                        "keep_threshold": item["keep_threshold"],
                        "window": program_forms.window_label(item["window"]),
                        "value": item["value"],
                        "passed": item["passed"],
                        "kept": item["kept"],
                    }
                    for item in check["criteria"]
                ],
            }
        )
    gap = explained["gap"]
    return {
        "result": result,
        "tiers": list(reversed(tiers)),  # top tier first
        "hysteresis": hysteresis,
        "outcome": _outcome_sentence(result, labels),
        "outcome_label": result.get_outcome_display(),
        "gap": {
            "code": gap["tier"],
            "label": _label(labels, gap["tier"]),
            "missing": gap["missing"],
            "texts": [item["text"] for item in gap["items"]],
            "some": gap["missing"] < len(gap["items"]),
        }
        if gap
        else None,
        "effective": _label(labels, result.effective_tier),
        "as_of": result.run.as_of,
    }


def _progress(
    explanation: Mapping[str, Any], result: EvaluationResult, rules: ProgramRules
) -> dict[str, Any] | None:
    """Progress bars for what matters next: keeping the tier held when the organisation
    holds it only by the hysteresis band or a grace period (its keep thresholds); else the
    entry criteria of the next tier; at the top, keeping the top tier."""
    gap = explanation["gap"]
    keeping = rules.rank(result.resulting_tier) > rules.rank(result.qualified_tier) or not gap
    code = result.resulting_tier if keeping and result.resulting_tier else (gap or {}).get("code")
    target = next((tier for tier in explanation["tiers"] if tier["code"] == code), None)
    rule = rules.tier(code or "")
    if target is None or rule is None or not target["criteria"]:
        return None
    items, texts = [], []
    for item, criterion in zip(target["criteria"], rule.criteria, strict=True):
        value = _decimal(item["value"])
        threshold = _decimal(item["keep_threshold"] if keeping else item["threshold"])
        met = item["kept"] if keeping else item["passed"]
        if not met and keeping and threshold is not None:
            texts.append(gap_text(replace(criterion, threshold=threshold), value))
        items.append(
            {
                **item,
                "shown_threshold": threshold,
                "met": met,
                "percent": _percent(value, threshold, item["symbol"], met),
            }
        )
    if keeping:
        missing = max(rule.required - sum(1 for item in items if item["met"]), 0)
        texts = texts if missing else []  # kept: the failing criteria are not needed
    else:
        texts, missing = gap["texts"], gap["missing"]
    return {
        "label": target["label"],
        "keeping": keeping,
        "items": items,
        "combine": target["combine"],
        "texts": texts,
        "missing": missing,
        "some": 0 < missing < len(texts),
    }


def _percent(value: Decimal | None, threshold: Decimal | None, symbol: str, met: bool) -> int:
    """How far along a bar is (0-100): met is full; "at least" criteria fill as value /
    threshold; "at most" ones as threshold / value."""
    if met:
        return 100
    if value is None or threshold is None:
        return 0
    if symbol in (COMPARATORS["gte"], COMPARATORS["gt"]):
        ratio = value / threshold if threshold > 0 else Decimal(0)
    else:
        ratio = threshold / value if value > 0 and threshold > 0 else Decimal(0)
    return int(max(Decimal(0), min(ratio * 100, Decimal(99))))


@login_required
@require_GET
def result_why(request: HttpRequest, code: str, pk: int, organisation_id: int) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    run = _get_run(request, program, pk)
    result = selectors.results(request.user, run).filter(organisation_id=organisation_id).first()
    if result is None:
        raise Http404
    explanation = _explanation(result, selectors.run_rules(run), _metric_labels(request.user))
    context = {
        "program": program,
        "label": localized(program.name, program.name_zh),
        "run": run,
        "organisation": result.organisation,
        "why": explanation,
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request
    return _render(request, "programs/_why.html" if partial else "programs/why.html", context)


# -- one organisation in one program ----------------------------------------------------
def _standing(user: Any, program: Program, organisation: Organisation) -> dict[str, Any]:
    """The organisation's tier in ``program``: effective tier and its benefits, grace,
    override, the latest applied evaluation explained, progress to the next tier."""
    today = timezone.localdate()
    live = selectors.live_version(program)
    tiers = list(live.tiers.all()) if live else []
    labels = _tier_labels(tiers)
    membership: Membership | None = (
        selectors.memberships(user, organisation).filter(program=program).first()
    )
    result = selectors.organisation_result(user, program, organisation)
    standing: dict[str, Any] = {
        "program": program,
        "program_label": localized(program.name, program.name_zh),
        "organisation": organisation,
        "membership": membership,
        "result": result,
        "today": today,
    }
    if membership is not None:
        effective = membership.effective_tier(today)
        standing.update(
            {
                "effective_code": effective,
                "effective": _label(labels, effective),
                "evaluated": _label(labels, membership.tier_code),
                "benefits": next((tier for tier in tiers if tier.code == effective), None),
                "grace": {
                    "tier": _label(labels, membership.tier_code),
                    "until": membership.grace_until,
                    "target": _label(labels, membership.grace_target),
                    "started": membership.grace_started,
                }
                if membership.grace_until
                else None,
                "override": {
                    "tier": _label(labels, membership.override_tier),
                    "until": membership.override_until,
                    "reason": membership.override_reason,
                }
                if membership.override_until and today < membership.override_until
                else None,
            }
        )
    if result is not None:
        rules = selectors.run_rules(result.run)
        explanation = _explanation(result, rules, _metric_labels(user))
        standing["why"] = explanation
        standing["progress"] = _progress(explanation, result, rules)
    return standing


def _timeline_chart(user: Any, program: Program, organisation: Organisation) -> dict | None:
    results = list(selectors.timeline(user, program, organisation))
    if not results:
        return None
    live = selectors.live_version(program)
    ordered = list(live.tiers.order_by("rank")) if live else []
    labels = _tier_labels(ordered)
    categories = [labels[""]] + [labels[tier.code] for tier in ordered]
    points = [
        (result.run.as_of.isoformat(), _label(labels, result.effective_tier)) for result in results
    ]
    categories += sorted({label for _day, label in points} - set(categories))
    return {
        "kind": "steps",
        "labels": [day for day, _tier in points],
        "values": [tier for _day, tier in points],
        "categories": categories,
        "title": _("Tier"),
    }


def _organisation_context(
    request: HttpRequest,
    program: Program,
    organisation: Organisation,
    override_form: OverrideForm | None = None,
    end_form: EndOverrideForm | None = None,
) -> dict[str, Any]:
    user = request.user
    standing = _standing(user, program, organisation)
    live = selectors.live_version(program)
    labels = _tier_labels(live.tiers.all() if live else [])
    kinds = dict(TierChange.Kind.choices)
    outcome_labels = dict(Outcome.choices)
    changes = list(selectors.history(user, program, organisation)[:HISTORY_LIMIT])
    history = [
        {
            "change": change,
            "kind": kinds.get(change.kind, change.kind),
            "from": _label(labels, change.from_tier),
            "to": _label(labels, change.to_tier),
            "reason": outcome_labels.get(change.reason, change.reason),
            "who": (change.created_by.full_name or change.created_by.email)
            if change.created_by
            else _("System"),
        }
        for change in changes
    ]
    context: dict[str, Any] = {
        "program": program,
        "label": localized(program.name, program.name_zh),
        "organisation": organisation,
        "standing": standing,
        "history": history,
        "history_limit": HISTORY_LIMIT,
        "chart_data": _timeline_chart(user, program, organisation),
        "can_override": user.has_perm(OVERRIDE_PERMISSION) and live is not None,
        "can_see_runs": user.has_perm(RUNS_PERMISSION),
        **chart_context(),
    }
    if context["can_override"]:
        choices = [(tier.code, labels[tier.code]) for tier in live.tiers.order_by("-rank")]
        context["override_form"] = override_form or OverrideForm(tiers=choices)
        context["end_form"] = end_form or EndOverrideForm()
    return context


def _get_organisation(request: HttpRequest, pk: int) -> Organisation:
    organisation = selectors.visible_organisations(request.user).filter(pk=pk).first()
    if organisation is None:
        raise Http404
    return organisation


def _organisation_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return with_chart_csp(_render(request, "programs/organisation.html", context))


@login_required
@require_GET
def organisation_program(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    organisation = _get_organisation(request, pk)
    return _organisation_page(request, _organisation_context(request, program, organisation))


def _organisation_url(program: Program, organisation: Organisation) -> str:
    return reverse("programs:organisation", args=[program.code, organisation.pk])


@login_required
@require_POST
def override_set(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    organisation = _get_organisation(request, pk)
    _require_perm(request, OVERRIDE_PERMISSION)
    live = selectors.live_version(program)
    labels = _tier_labels(live.tiers.all() if live else [])
    choices = [(tier, label) for tier, label in labels.items() if tier]
    form = OverrideForm(request.POST, tiers=choices)
    if form.is_valid():
        try:
            services.override_tier(
                actor=request.user,
                program=program,
                organisation=organisation,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(organisation)s is held in %(tier)s until %(until)s.")
                % {
                    "organisation": organisation.name,
                    "tier": labels.get(form.cleaned_data["tier"]),
                    "until": form.cleaned_data["until"].isoformat(),
                },
            )
            return redirect(_organisation_url(program, organisation))
    context = _organisation_context(request, program, organisation, override_form=form)
    return _organisation_page(request, context)


@login_required
@require_POST
def override_end(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = selectors.get_program(request.user, code)
    organisation = _get_organisation(request, pk)
    _require_perm(request, OVERRIDE_PERMISSION)
    form = EndOverrideForm(request.POST)
    membership = selectors.memberships(request.user, organisation).filter(program=program).first()
    if form.is_valid():
        if membership is None:
            form.add_error(None, _("No override is in force."))
        else:
            try:
                services.end_override(
                    actor=request.user, membership=membership, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The override was ended."))
                return redirect(_organisation_url(program, organisation))
    context = _organisation_context(request, program, organisation, end_form=form)
    return _organisation_page(request, context)


# -- program settings ---------------------------------------------------------------
SETTINGS_FIELDS = (
    "name",
    "name_zh",
    "description",
    "kinds",
    "regions",
    "tags",
    "cadence",
    "schedule_enabled",
    "next_evaluation",
)


@login_required
def program_create(request: HttpRequest) -> HttpResponse:
    """A new program (name, scope, schedule); its tiers are then written in the draft editor."""
    _require_perm(request, "programs.add_program")
    form = ProgramSettingsForm(request.POST or None, new=True)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("code", *SETTINGS_FIELDS)}
        if data["schedule_enabled"] and not data["next_evaluation"]:
            data.pop("next_evaluation")
        try:
            program = services.create_program(actor=request.user, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Program created: now give it its tiers."))
            return redirect("programs:draft_edit", code=program.code)
    return render(
        request,
        "programs/program_settings.html",
        {"form": form, "program": None, "nav": "programs"},
    )


@login_required
def program_settings(request: HttpRequest, code: str) -> HttpResponse:
    """Change a program's name, scope, cadence and schedule (audited)."""
    program = selectors.get_program(request.user, code)
    _require_perm(request, EDIT_PERMISSION)
    initial = {name: getattr(program, name) for name in SETTINGS_FIELDS}
    form = ProgramSettingsForm(request.POST or None, initial=initial, new=False)
    if request.method == "POST" and form.is_valid():
        data = {
            name: form.cleaned_data[name]
            for name in SETTINGS_FIELDS
            if form.cleaned_data[name] != initial[name]
        }
        try:
            services.update_program(actor=request.user, program=program, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Program settings saved."))
            return redirect("programs:program_detail", code=program.code)
    return render(
        request,
        "programs/program_settings.html",
        {"form": form, "program": program, "nav": "programs"},
    )
