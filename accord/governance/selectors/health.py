"""Reads of health checks: surveys and responses as each user may see them (partners: their
own relationship, and of the answers only their own side's), a survey's result explained in
the reader's language, and the health trend of a relationship and of the network."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.errors import Http404
from accord.governance.models import DIMENSIONS, HealthResponse, HealthSurvey, Side
from accord.partners.models import Organisation

NPS = "nps"
LABELS: dict[str, Any] = {
    **dict(DIMENSIONS),
    NPS: gettext_lazy("Likelihood to recommend (NPS)"),
}
QUESTIONS: dict[str, Any] = {
    "communication": gettext_lazy(
        "How effective is the communication between the two organisations?"
    ),
    "satisfaction": gettext_lazy("How satisfied are you with the relationship overall?"),
    "trust": gettext_lazy("How much do you trust the other side to keep its commitments?"),
    "compatibility": gettext_lazy(
        "How well do the two organisations' ways of working fit together?"
    ),
    "goal_alignment": gettext_lazy("How well are the two organisations' goals aligned?"),
    NPS: gettext_lazy(
        "How likely are you to recommend the other side to a colleague as a business partner?"
    ),
}
SCALE_LABELS: dict[int, Any] = {
    1: gettext_lazy("Very poor"),
    2: gettext_lazy("Poor"),
    3: gettext_lazy("Adequate"),
    4: gettext_lazy("Good"),
    5: gettext_lazy("Excellent"),
}


def questions() -> list[dict[str, Any]]:
    """The questions of every health check, in the active language: the five dimensions on
    1-5 and NPS on 0-10."""
    rows = [
        {
            "code": code,
            "label": str(label),
            "question": str(QUESTIONS[code]),
            "min": 1,
            "max": 5,
            "choices": [(value, str(SCALE_LABELS[value])) for value in range(1, 6)],
        }
        for code, label in DIMENSIONS
    ]
    rows.append(
        {
            "code": NPS,
            "label": str(LABELS[NPS]),
            "question": str(QUESTIONS[NPS]),
            "min": 0,
            "max": 10,
            "choices": [(value, str(value)) for value in range(11)],
        }
    )
    return rows


def _int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    return None


def surveys(user: Any) -> QuerySet:
    """The health checks ``user`` may see, with their invited and answered counts."""
    return (
        HealthSurvey.objects.restrict(user, "view")
        .select_related("organisation")
        .annotate(
            invited=Count("responses", distinct=True),
            answered=Count(
                "responses", filter=Q(responses__answered_at__isnull=False), distinct=True
            ),
        )
    )


def list_surveys(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    """Health checks newest first; filters ``organisation`` (id), ``status`` (open|closed),
    ``period``, ``misaligned`` (bool). Values that cannot match are ignored."""
    filters = filters or {}
    queryset = surveys(user)
    organisation = filters.get("organisation")
    if organisation not in (None, ""):
        organisation_id = (
            organisation.pk if isinstance(organisation, Organisation) else _int(organisation)
        )
        if organisation_id is not None:
            queryset = queryset.filter(organisation_id=organisation_id)
    status = filters.get("status")
    if status in HealthSurvey.Status.values:
        queryset = queryset.filter(status=status)
    period = filters.get("period")
    if isinstance(period, str) and period.strip() and "\x00" not in period:
        queryset = queryset.filter(period=period.strip())
    misaligned = _flag(filters.get("misaligned")) if filters.get("misaligned") != "" else None
    if misaligned is not None:
        queryset = queryset.filter(misaligned=misaligned)
    return queryset.order_by("-opened_at", "-pk")


def get_survey(user: Any, pk: Any) -> HealthSurvey:
    """One health check ``user`` may see (404 otherwise, also for a malformed id)."""
    number = _int(pk)
    found = surveys(user).filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404
    return found


def list_responses(user: Any, survey: HealthSurvey) -> QuerySet:
    """The responses of ``survey`` ``user`` may read: vendor staff both sides', partner
    users only their own side's (``HealthResponse.restrict_rows``)."""
    return (
        HealthResponse.objects.restrict(user, "view")
        .filter(survey=survey)
        .select_related("contact")
        .order_by("side", "contact__full_name", "pk")
    )


def _number(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _progress(survey: HealthSurvey) -> dict[str, dict[str, int]]:
    counts = {side: {"invited": 0, "answered": 0} for side in Side.values}
    rows = (
        HealthResponse.objects.filter(survey=survey)
        .order_by()
        .values("side")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    )
    for row in rows:
        counts[row["side"]] = {"invited": row["invited"], "answered": row["answered"]}
    return counts


def survey_summary(survey: HealthSurvey) -> dict[str, Any]:
    """What a health check found, for pages and the API, in the active language.

    {"status", "period", "score", "misaligned", "threshold", "progress": {side: {"invited",
    "answered"}}, "rows": [{"code", "label", "vendor", "partner", "divergence", "flagged"}]
    (the five dimensions, then NPS on 1-5), "nps": {side: mean 0-10}, "side_scores":
    {side: score}, "misaligned_on": [labels], "reasons": [sentences], "why": sentence,
    "rule": sentence, "no_score": sentence or None}. Open surveys have progress only.
    """
    result = survey.result or {}
    closed = survey.status == HealthSurvey.Status.CLOSED
    threshold = _number(result.get("threshold"))
    summary: dict[str, Any] = {
        "id": survey.pk,
        "status": survey.status,
        "period": survey.period,
        "closed": closed,
        "opened_at": survey.opened_at,
        "closes_at": survey.closes_at,
        "closed_at": survey.closed_at,
        "score": survey.score,
        "misaligned": survey.misaligned,
        "threshold": threshold,
        "progress": _progress(survey),
        "rows": [],
        "nps": {},
        "side_scores": {},
        "misaligned_on": [],
        "reasons": [],
        "why": "",
        "rule": "",
        "no_score": None,
    }
    if not closed:
        return summary
    vendor, partner = result.get(Side.VENDOR) or {}, result.get(Side.PARTNER) or {}
    divergence = result.get("divergence") or {}
    flagged = set(result.get("misaligned_on") or [])
    for code, label in LABELS.items():
        summary["rows"].append(
            {
                "code": code,
                "label": str(label),
                "vendor": _number(vendor.get(code)),
                "partner": _number(partner.get(code)),
                "divergence": _number(divergence.get(code)),
                "flagged": code in flagged,
            }
        )
    summary["nps"] = {
        Side.VENDOR: _number(vendor.get("nps_0_10")),
        Side.PARTNER: _number(partner.get("nps_0_10")),
    }
    summary["side_scores"] = {
        Side.VENDOR: _number(vendor.get("score")),
        Side.PARTNER: _number(partner.get("score")),
    }
    summary["misaligned_on"] = [str(LABELS[code]) for code in LABELS if code in flagged]
    for code in LABELS:
        if code in flagged:
            summary["reasons"].append(
                _(
                    "%(dimension)s: the sides differ by %(divergence)s points, more than the "
                    "threshold of %(threshold)s (vendor %(vendor)s, partner %(partner)s)."
                )
                % {
                    "dimension": LABELS[code],
                    "divergence": divergence.get(code),
                    "threshold": result.get("threshold"),
                    "vendor": vendor.get(code),
                    "partner": partner.get(code),
                }
            )
    no_score = result.get("no_score")
    if no_score:
        summary["no_score"] = {
            Side.VENDOR: _("No score: nobody on the vendor side answered."),
            Side.PARTNER: _("No score: nobody on the partner side answered."),
        }.get(no_score, _("No score: nobody answered."))
        summary["why"] = summary["no_score"]
    elif flagged:
        summary["why"] = _(
            "Misaligned on %(dimensions)s: the sides differ by more than the threshold of "
            "%(threshold)s points."
        ) % {
            "dimensions": ", ".join(summary["misaligned_on"]),
            "threshold": result.get("threshold"),
        }
    else:
        largest = result.get("largest") or {}
        summary["why"] = _(
            "Aligned: no dimension differs by more than the threshold of %(threshold)s points "
            "(the largest difference: %(dimension)s, %(divergence)s)."
        ) % {
            "threshold": result.get("threshold"),
            "dimension": LABELS.get(largest.get("dimension"), "-"),
            "divergence": largest.get("divergence", "0"),
        }
    summary["rule"] = _(
        "Score: the mean of both sides' means over the five dimensions (each side weighs the "
        "same), mapped from 1-5 to 0-100 as (mean - 1) / 4 x 100. The sides are misaligned "
        "when their means differ by more than the threshold on any dimension, or on NPS "
        "mapped to 1-5 (NPS x 0.4 + 1)."
    )
    if result.get("mean") is not None and result.get("score") is not None:
        summary["rule"] += " " + _("Here: (%(mean)s - 1) / 4 x 100 = %(score)s.") % {
            "mean": result["mean"],
            "score": result["score"],
        }
    return summary


def health_trend(user: Any, organisation: Organisation | int) -> list[dict[str, Any]]:
    """The closed health checks of one relationship ``user`` may see, oldest first:
    [{"id", "period", "score", "misaligned", "closed_at"}] (score None when unanswered)."""
    organisation_id = (
        organisation.pk if isinstance(organisation, Organisation) else _int(organisation)
    )
    if organisation_id is None:
        return []
    return [
        {
            "id": row["pk"],
            "period": row["period"],
            "score": row["score"],
            "misaligned": row["misaligned"],
            "closed_at": row["closed_at"],
        }
        for row in HealthSurvey.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id, status=HealthSurvey.Status.CLOSED)
        .order_by("opened_at", "pk")
        .values("pk", "period", "score", "misaligned", "closed_at")
    ]


def network_health_trend(user: Any) -> list[dict[str, Any]]:
    """The health of every relationship ``user`` may see, by period (one query): [{"period",
    "mean_score", "relationships", "misaligned"}] over the closed, scored checks."""
    rows = (
        HealthSurvey.objects.restrict(user, "view")
        .filter(status=HealthSurvey.Status.CLOSED, score__isnull=False)
        .order_by()
        .values("period")
        .annotate(
            mean_score=Avg("score"),
            relationships=Count("organisation", distinct=True),
            misaligned_count=Count("pk", filter=Q(misaligned=True)),
        )
        .order_by("period")
    )
    return [
        {
            "period": row["period"],
            "mean_score": Decimal(str(row["mean_score"])).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ),
            "relationships": row["relationships"],
            "misaligned": row["misaligned_count"],
        }
        for row in rows
    ]


def vendor_name() -> str:
    """The vendor's name, for the public survey page (no user to restrict by)."""
    return Organisation.objects.vendor().name
