"""Two-sided health checks: a survey of a relationship with one signed, expiring, single-use
link per respondent, the answers taken through it, the close that turns them into a score and
a misalignment flag that explain themselves (and into KPI facts), and the timers that run it."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import re
import secrets
import zlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import partial
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accord.channel.models import SurveyResponse
from accord.core.errors import Conflict, Http404, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    create_audited,
    ensure_model_permitted,
    ensure_permitted,
    record,
    snapshot,
    validate,
)
from accord.governance.models import (
    DIMENSIONS,
    ContactSlot,
    GovernanceSettings,
    HealthResponse,
    HealthSurvey,
    Relationship,
    RoleAssignment,
    Side,
)
from accord.partners.models import Contact, Organisation

SALT = "governance.health"
DIMENSION_CODES: list[str] = [code for code, _label in DIMENSIONS]
NPS = "nps"
# What the two sides are compared on: the five dimensions and NPS on the same 1-5 scale.
COMPARED: list[str] = [*DIMENSION_CODES, NPS]
SIDES: tuple[str, str] = (Side.VENDOR, Side.PARTNER)
SCALE = (1, 5)
NPS_SCALE = (0, 10)
MAX_COMMENT = 4000
MAX_TOKEN = 500
PERIOD = re.compile(r"[0-9]{4}(-Q[1-4])?")
FREQUENCY_MONTHS = {
    Relationship.HealthFrequency.ANNUAL: 12,
    Relationship.HealthFrequency.QUARTERLY: 3,
}
RULE = (
    "score = mean of the ten side means (vendor and partner, five dimensions each, every "
    "side weighing the same), mapped (mean - 1) / 4 * 100, rounded half up to one decimal; "
    "misaligned when |vendor mean - partner mean| > threshold on any dimension or on NPS "
    "mapped to 1-5 (nps * 0.4 + 1); no score unless both sides answered"
)
HUNDREDTH = Decimal("0.01")
TENTH = Decimal("0.1")


class SurveyLinkError(ValidationError):
    """A survey link that cannot be used: ``reason`` is ``invalid`` (forged, tampered or
    unknown: status 400), ``expired`` or ``used`` (status 410)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code=reason)
        self.reason = reason
        self.status = 400 if reason == "invalid" else 410


def _invalid() -> SurveyLinkError:
    return SurveyLinkError(_("This link is not valid."), reason="invalid")


def _used() -> SurveyLinkError:
    return SurveyLinkError(
        _("This link has already been used: the answers were recorded."), reason="used"
    )


def _expired() -> SurveyLinkError:
    return SurveyLinkError(
        _("This link has expired: the health check is closed."), reason="expired"
    )


# -- periods and tokens ----------------------------------------------------------------


def period_for(frequency: str, now: dt.datetime) -> str:
    """The period label of a survey opened at ``now``: "2026" (annual) or "2026-Q3"."""
    day = timezone.localdate(now)
    if frequency == Relationship.HealthFrequency.QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_token(response_id: int, nonce: str) -> str:
    """The signed link token of a response; only the nonce's hash is stored."""
    return signing.dumps({"r": response_id, "n": nonce}, salt=SALT)


def response_for_token(token: Any, now: dt.datetime | None = None) -> HealthResponse:
    """The response a link token stands for, if it may still be answered.

    Raises SurveyLinkError: "not valid" (bad signature, unknown response, a nonce that is
    not this response's), "already been used" (answered), "expired" (past ``expires_at``
    or the survey closed).
    """
    now = now or timezone.now()
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or "\x00" in token:
        raise _invalid()
    try:
        payload = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError, zlib.error):
        raise _invalid() from None
    if not isinstance(payload, dict):
        raise _invalid()
    response_id, nonce = payload.get("r"), payload.get("n")
    if type(response_id) is not int or not 0 < response_id < 2**63 or not isinstance(nonce, str):
        raise _invalid()
    response = (
        HealthResponse.objects.select_related("survey__organisation", "contact__organisation")
        .filter(pk=response_id)
        .first()
    )
    if response is None or not hmac.compare_digest(response.token_hash, _digest(nonce)):
        raise _invalid()
    if response.answered_at is not None:
        raise _used()
    if response.survey.status != HealthSurvey.Status.OPEN or now >= response.expires_at:
        raise _expired()
    return response


# -- answers -----------------------------------------------------------------------------


def _whole(value: Any, low: int, high: int) -> tuple[int | None, str | None]:
    """``value`` as a whole number in [low, high], or the field's error message."""
    out_of_range = _("Choose a whole number from %(low)s to %(high)s.") % {
        "low": low,
        "high": high,
    }
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _("Answer this question.")
    if isinstance(value, bool):
        return None, out_of_range
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        if "\x00" in value:
            return None, _("Null characters are not allowed.")
        text = value.strip()
        if not re.fullmatch(r"[0-9]{1,3}", text):
            return None, out_of_range
        number = int(text)
    else:
        return None, out_of_range
    if not low <= number <= high:
        return None, out_of_range
    return number, None


def clean_answers(data: Any) -> dict[str, Any]:
    """The answers of ``data`` (a form's POST or an API body) checked: the five dimensions
    1-5 and NPS 0-10 required, a comment optional. ValidationError with a field dict."""
    if not isinstance(data, Mapping):
        raise ValidationError(_("Send the answers as fields."))
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for code in COMPARED:
        low, high = NPS_SCALE if code == NPS else SCALE
        number, error = _whole(data.get(code), low, high)
        if error:
            errors[code] = [error]
        else:
            values[code] = number
    comment = data.get("comment", "")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        errors["comment"] = [_("Enter text.")]
    elif "\x00" in comment:
        errors["comment"] = [_("Null characters are not allowed.")]
    elif len(comment.strip()) > MAX_COMMENT:
        errors["comment"] = [
            _("Keep the comment to %(limit)s characters.") % {"limit": MAX_COMMENT}
        ]
    else:
        values["comment"] = comment.strip()
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic(durable=True)
def answer(*, token: Any, data: Any, now: dt.datetime | None = None) -> HealthResponse:
    """Record one respondent's answers through their link; the link then stops working.

    The link is checked before the answers (an expired link says so, whatever was sent),
    and again under the survey's lock, so a survey closing at the same moment either counts
    the answers or refuses them.
    """
    now = now or timezone.now()
    found = response_for_token(token, now)
    HealthSurvey.objects.select_for_update().filter(pk=found.survey_id).first()
    response = response_for_token(token, now)  # re-read under the lock
    values = clean_answers(data)
    for name, value in values.items():
        setattr(response, name, value)
    response.answered_at = now
    validate(response)
    response.save(update_fields=[*values, "answered_at"])
    # The values stay out of the audit log: it is readable on both sides, the answers
    # of one side are not.
    record(
        actor=None,
        obj=response,
        action=AuditEntry.Action.UPDATE,
        changes={"answered_at": [None, now.isoformat()]},
        reason="answered through the survey link",
    )
    return response


# -- opening -------------------------------------------------------------------------------


def default_respondents(organisation: Organisation) -> list[Contact]:
    """Who a health check asks unless told otherwise: every active person of the contact
    map (both sides) and the holders of the four roles, each once."""
    vendor_id = Organisation.objects.vendor().pk
    ids: set[int] = set()
    for vendor_contact, partner_contact in ContactSlot.objects.filter(
        organisation=organisation
    ).values_list("vendor_contact", "partner_contact"):
        ids.update(pk for pk in (vendor_contact, partner_contact) if pk)
    ids.update(
        RoleAssignment.objects.filter(organisation=organisation).values_list("holder", flat=True)
    )
    return list(
        Contact.objects.filter(
            pk__in=ids, active=True, organisation_id__in=(vendor_id, organisation.pk)
        )
        .select_related("organisation", "user")
        .order_by("organisation__is_vendor", "full_name", "pk")
    )


def _checked_respondents(
    actor: Any, organisation: Organisation, vendor: Organisation, respondents: Iterable[Any]
) -> list[Contact]:
    people: list[Contact] = []
    seen: set[int] = set()
    for item in respondents:
        if not isinstance(item, Contact) or item.pk is None:
            raise ValidationError({"respondents": [_("Choose people from the list.")]})
        if item.pk not in seen:
            seen.add(item.pk)
            people.append(item)
    visible = (
        set(
            Contact.objects.restrict(actor, "view").filter(pk__in=seen).values_list("pk", flat=True)
        )
        if actor is not None
        else seen
    )
    current = {
        contact.pk: contact
        for contact in Contact.objects.filter(pk__in=seen).select_related("organisation", "user")
    }
    errors: list[str] = []
    wrong_side = _("Choose a person of %(vendor)s or of %(organisation)s.") % {
        "vendor": vendor.name,
        "organisation": organisation.name,
    }
    for item in people:
        contact = current.get(item.pk)
        if contact is None or item.pk not in visible:
            errors.append(wrong_side)
        elif contact.organisation_id not in (vendor.pk, organisation.pk):
            errors.append(f"{contact.full_name}: {wrong_side}")
        elif not contact.active:
            errors.append(
                _("%(name)s has left %(organisation)s.")
                % {"name": contact.full_name, "organisation": contact.organisation.name}
            )
    if errors:
        raise ValidationError({"respondents": list(dict.fromkeys(errors))})
    return [current[item.pk] for item in people]


def _relationship(actor: Any, organisation: Organisation, *, lock: bool = False) -> Relationship:
    """The organisation's relationship row (made on first use, audited), locked if asked."""
    found = Relationship.objects.filter(organisation=organisation)
    if lock:
        found = found.select_for_update(of=("self",))
    relationship = found.first()
    if relationship is None:
        relationship = Relationship(organisation=organisation)
        validate(relationship)
        relationship.save(force_insert=True)
        record(
            actor=actor,
            obj=relationship,
            action=AuditEntry.Action.CREATE,
            changes={"organisation": [None, organisation.pk]},
            reason="made for a health check",
        )
    return relationship


def _site(base_url: str) -> str:
    """Where links in e-mails point: the caller's ``base_url`` (a page's own address), else
    ``ACCORD_BASE_URL`` when set, else the first trusted origin (the site's public address
    behind a proxy); relative when none is known."""
    for candidate in (
        base_url,
        getattr(settings, "ACCORD_BASE_URL", ""),
        *getattr(settings, "CSRF_TRUSTED_ORIGINS", []),
    ):
        if isinstance(candidate, str) and candidate.startswith(("http://", "https://")):
            return candidate.rstrip("/")
    return ""


def _invitation(
    response: HealthResponse, token: str, survey: HealthSurvey, vendor: Organisation, base_url: str
) -> None:
    """E-mail the respondent their link on commit: in their own language when they have an
    account, in every language of the site otherwise."""
    contact = response.contact
    user = contact.user
    address = contact.email or (user.email if user is not None else "")
    if not address:
        return
    link = f"{_site(base_url)}{reverse('governance:survey', args=[token])}"
    languages = (
        [user.language]
        if user is not None and user.language
        else [code for code, _name in settings.LANGUAGES]
    )
    subjects: list[str] = []
    bodies: list[str] = []
    for language in languages:
        with translation.override(language):
            subjects.append(
                _("Health check of the relationship between %(vendor)s and %(organisation)s")
                % {"vendor": vendor.name, "organisation": survey.organisation.name}
            )
            until = formats.date_format(timezone.localtime(survey.closes_at), "DATETIME_FORMAT")
            bodies.append(
                "\n\n".join(
                    [
                        _("Hello %(name)s,") % {"name": contact.full_name},
                        _(
                            "%(vendor)s and %(organisation)s check how their relationship "
                            "works (%(period)s). Please answer six short questions: how well "
                            "you communicate, how satisfied you are, trust, how well you fit "
                            "together, how well your goals are aligned, and whether you would "
                            "recommend the other side. It takes two minutes and needs no "
                            "account."
                        )
                        % {
                            "vendor": vendor.name,
                            "organisation": survey.organisation.name,
                            "period": survey.period,
                        },
                        _("Your personal link works once, until %(until)s:") % {"until": until},
                        link,
                    ]
                )
            )
    subject = " / ".join(dict.fromkeys(subjects))[:200]
    transaction.on_commit(
        partial(
            send_mail,
            subject,
            "\n\n----\n\n".join(bodies),
            None,
            [address],
            fail_silently=True,
        )
    )


def _open(
    *,
    actor: Any,
    organisation: Organisation,
    period: str | None,
    respondents: Sequence[Contact] | None,
    now: dt.datetime,
    base_url: str,
) -> tuple[HealthSurvey, list[tuple[HealthResponse, str]]]:
    if organisation.is_vendor:
        raise ValidationError(
            {"organisation": [_("The vendor's own organisation has no relationship to check.")]}
        )
    relationship = _relationship(actor, organisation, lock=True)
    still_open = HealthSurvey.objects.filter(
        organisation=organisation, status=HealthSurvey.Status.OPEN
    ).first()
    if still_open is not None:
        raise Conflict(
            _(
                "The health check %(period)s of this relationship is still open; close it "
                "before opening another."
            )
            % {"period": still_open.period}
        )
    if period is None:
        period = period_for(relationship.health_frequency, now)
    if not isinstance(period, str) or not PERIOD.fullmatch(period.strip()):
        raise ValidationError({"period": [_("Enter a year (2026) or a quarter (2026-Q3).")]})
    period = period.strip()
    if HealthSurvey.objects.filter(organisation=organisation, period=period).exists():
        raise Conflict(
            _("This relationship already has a health check for %(period)s.") % {"period": period},
            field="period",
        )
    vendor = Organisation.objects.vendor()
    people = (
        default_respondents(organisation)
        if respondents is None
        else _checked_respondents(actor, organisation, vendor, respondents)
    )
    sides = {person.organisation_id == vendor.pk for person in people}
    if sides != {True, False}:
        raise ValidationError(
            {
                "respondents": [
                    _(
                        "A health check asks both sides: name at least one person of "
                        "%(vendor)s and one of %(organisation)s (by default the contact map "
                        "and the role holders are asked)."
                    )
                    % {"vendor": vendor.name, "organisation": organisation.name}
                ]
            }
        )
    days = GovernanceSettings.current().survey_days_open
    survey = create_audited(
        actor=actor,
        obj=HealthSurvey(
            organisation=organisation,
            period=period,
            status=HealthSurvey.Status.OPEN,
            opened_at=now,
            closes_at=now + dt.timedelta(days=days),
        ),
    )
    links: list[tuple[HealthResponse, str]] = []
    for person in people:
        nonce = secrets.token_urlsafe(32)
        response = HealthResponse(
            survey=survey,
            contact=person,
            side=Side.VENDOR if person.organisation_id == vendor.pk else Side.PARTNER,
            token_hash=_digest(nonce),
            expires_at=survey.closes_at,
        )
        response.save(force_insert=True)
        record(
            actor=actor,
            obj=response,
            action=AuditEntry.Action.CREATE,
            changes={
                "contact": [None, person.pk],
                "side": [None, response.side],
                "expires_at": [None, response.expires_at.isoformat()],
            },
        )
        token = make_token(response.pk, nonce)
        links.append((response, token))
        _invitation(response, token, survey, vendor, base_url)
    return survey, links


@transaction.atomic(durable=True)
def open_survey(
    *,
    actor: Any,
    organisation: Organisation,
    period: str | None = None,
    respondents: Sequence[Contact] | None = None,
    now: dt.datetime | None = None,
    base_url: str = "",
) -> tuple[HealthSurvey, list[tuple[HealthResponse, str]]]:
    """Open a health check of ``organisation``'s relationship and invite the respondents.

    ``period`` defaults to the current year or quarter (the relationship's health
    frequency); ``respondents`` to :func:`default_respondents`; at least one person per
    side. Each respondent gets a response row with a fresh link (only the nonce's hash is
    stored) e-mailed on commit; ``base_url`` ("https://accord.example.com") makes the
    e-mailed link absolute. Returns the survey and each response with its raw token.
    """
    now = now or timezone.now()
    ensure_permitted(actor, "view", organisation)
    ensure_model_permitted(actor, "add", HealthSurvey)
    return _open(
        actor=actor,
        organisation=organisation,
        period=period,
        respondents=respondents,
        now=now,
        base_url=base_url,
    )


# -- closing ----------------------------------------------------------------------------


def _decimal(value: Fraction, step: Decimal = HUNDREDTH) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        step, rounding=ROUND_HALF_UP
    )


def health_result(answers: Iterable[Mapping[str, Any]], threshold: Decimal) -> dict[str, Any]:
    """The result of a health check from its answered responses (dicts with ``side``, the
    five dimensions and ``nps``): each side's means, the divergence, the score and the
    dimensions the sides disagree on by more than ``threshold``, with the rule.

    Exact arithmetic (fractions); the stored numbers are rounded half up for reading
    (means and divergences to 0.01, the score to 0.1). Pure: no database.
    """
    limit = Fraction(Decimal(threshold))
    totals = {side: dict.fromkeys(COMPARED, Fraction(0)) for side in SIDES}
    counts = dict.fromkeys(SIDES, 0)
    for row in answers:
        side = row["side"]
        counts[side] += 1
        for code in DIMENSION_CODES:
            totals[side][code] += row[code]
        totals[side][NPS] += Fraction(row[NPS] * 2, 5) + 1  # 0-10 on the 1-5 scale
    means = {
        side: {code: totals[side][code] / counts[side] for code in COMPARED}
        for side in SIDES
        if counts[side]
    }
    result: dict[str, Any] = {
        "rule": RULE,
        "threshold": str(Decimal(threshold).quantize(TENTH)),
        "responses": dict(counts),
        "vendor": {},
        "partner": {},
        "divergence": {},
        "misaligned_on": [],
        "score": None,
        "no_score": None,
    }
    for side, side_means in means.items():
        shown = {code: str(_decimal(side_means[code])) for code in COMPARED}
        shown["nps_0_10"] = str(_decimal((side_means[NPS] - 1) * Fraction(5, 2)))
        dimension_mean = sum(side_means[code] for code in DIMENSION_CODES) / len(DIMENSION_CODES)
        shown["mean"] = str(_decimal(dimension_mean))
        shown["score"] = str(_decimal((dimension_mean - 1) / 4 * 100, TENTH))
        result[side] = shown
    missing = [side for side in SIDES if not counts[side]]
    if missing:
        result["no_score"] = "both" if len(missing) == 2 else missing[0]
        return result
    overall = sum(means[side][code] for side in SIDES for code in DIMENSION_CODES) / (
        len(SIDES) * len(DIMENSION_CODES)
    )
    result["mean"] = str(_decimal(overall))
    result["score"] = str(_decimal((overall - 1) / 4 * 100, TENTH))
    largest: tuple[Fraction, str] | None = None
    for code in COMPARED:
        gap = abs(means[Side.VENDOR][code] - means[Side.PARTNER][code])
        result["divergence"][code] = str(_decimal(gap))
        if gap > limit:
            result["misaligned_on"].append(code)
        if largest is None or gap > largest[0]:
            largest = (gap, code)
    if largest is not None:
        result["largest"] = {"dimension": largest[1], "divergence": str(_decimal(largest[0]))}
    return result


def _feed_kpis(actor: Any, survey: HealthSurvey, answered: Sequence[HealthResponse]) -> list[int]:
    """One ``channel.SurveyResponse`` per answer (CSAT = satisfaction, NPS as given) so the
    KPI engine's csat/nps read health checks with respondent_side vendor or partner.

    Vendor-side rows carry no name or comment: partner users read their organisation's
    survey facts, and the vendor side's individual answers are not theirs to read.
    """
    keys = [f"health:{response.pk}" for response in answered]
    existing = set(
        SurveyResponse.objects.filter(source_key__in=keys).values_list("source_key", flat=True)
    )
    made: list[int] = []
    for response in answered:
        key = f"health:{response.pk}"
        if key in existing:
            continue
        partner_side = response.side == Side.PARTNER
        fact = SurveyResponse(
            source_key=key,
            organisation_id=survey.organisation_id,
            date=timezone.localdate(response.answered_at),
            respondent_side=response.side,
            respondent=response.contact.full_name[:150] if partner_side else "",
            csat=response.satisfaction,
            nps=response.nps,
            comment=response.comment if partner_side else "",
        )
        validate(fact)
        fact.save(force_insert=True)
        record(
            actor=actor,
            obj=fact,
            action=AuditEntry.Action.CREATE,
            changes={
                k: [None, v]
                for k, v in snapshot(fact, ["date", "respondent_side", "csat", "nps"]).items()
            },
            reason=f"health check {survey.pk}",
        )
        made.append(fact.pk)
    return made


def _close(*, actor: Any, survey_id: int, now: dt.datetime) -> HealthSurvey:
    survey = (
        HealthSurvey.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk=survey_id)
        .first()
    )
    if survey is None:
        raise Http404
    if survey.status != HealthSurvey.Status.OPEN:
        raise Conflict(_("This health check is already closed."))
    answered = list(
        HealthResponse.objects.filter(survey=survey, answered_at__isnull=False)
        .select_related("contact")
        .order_by("pk")
    )
    invited = dict(
        HealthResponse.objects.filter(survey=survey)
        .order_by()
        .values_list("side")
        .annotate(n=Count("pk"))
        .values_list("side", "n")
    )
    threshold = GovernanceSettings.current().misalignment_threshold
    result = health_result(
        (
            {"side": r.side, NPS: r.nps, **{code: getattr(r, code) for code in DIMENSION_CODES}}
            for r in answered
        ),
        threshold,
    )
    result["invited"] = {side: invited.get(side, 0) for side in SIDES}
    before = snapshot(survey, ["status", "closed_at", "score", "misaligned"])
    survey.status = HealthSurvey.Status.CLOSED
    survey.closed_at = now
    survey.score = Decimal(result["score"]) if result["score"] is not None else None
    survey.misaligned = bool(result["misaligned_on"])
    result["kpi_facts"] = _feed_kpis(actor, survey, answered)
    survey.result = result
    validate(survey)
    survey.save(update_fields=["status", "closed_at", "score", "misaligned", "result"])
    after = snapshot(survey, ["status", "closed_at", "score", "misaligned"])
    record(
        actor=actor,
        obj=survey,
        action=AuditEntry.Action.TRANSITION,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        reason=_why(result),
    )
    _copy_to_relationship(actor, survey)
    return survey


def _why(result: Mapping[str, Any]) -> str:
    """The decision in one line (English, for the audit log; pages translate their own)."""
    if result["score"] is None:
        return f"no score: no answers from {result['no_score']} side"
    if result["misaligned_on"]:
        gaps = ", ".join(
            f"{code} differs by {result['divergence'][code]}" for code in result["misaligned_on"]
        )
        return f"score {result['score']}; misaligned: {gaps} > threshold {result['threshold']}"
    return f"score {result['score']}; aligned: no divergence > threshold {result['threshold']}"


def _copy_to_relationship(actor: Any, survey: HealthSurvey) -> None:
    """The relationship shows its latest scored health check (an unanswered one changes
    nothing, nor does closing an older one after a newer)."""
    if survey.score is None:
        return
    newer = (
        HealthSurvey.objects.filter(
            organisation_id=survey.organisation_id,
            status=HealthSurvey.Status.CLOSED,
            score__isnull=False,
        )
        .filter(Q(opened_at__gt=survey.opened_at) | Q(opened_at=survey.opened_at, pk__gt=survey.pk))
        .exists()
    )
    if newer:
        return
    relationship = _relationship(actor, survey.organisation, lock=True)
    before = snapshot(relationship, ["health_score", "misaligned"])
    relationship.health_score = survey.score
    relationship.misaligned = survey.misaligned
    after = snapshot(relationship, ["health_score", "misaligned"])
    if before != after:
        relationship.save(update_fields=["health_score", "misaligned"])
        record(
            actor=actor,
            obj=relationship,
            action=AuditEntry.Action.UPDATE,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
            reason=f"health check {survey.pk} ({survey.period})",
        )


@transaction.atomic(durable=True)
def close_survey(
    *, actor: Any, survey: HealthSurvey, now: dt.datetime | None = None
) -> HealthSurvey:
    """Close a health check: each side's mean per dimension, the divergence, the score and
    the misalignment flag, stored with the rule and threshold that decided them in
    ``result``; copied onto the relationship and fed to the KPI engine as survey facts.
    A survey without answers from one side closes without a score (``result`` says why)."""
    now = now or timezone.now()
    ensure_permitted(actor, "change", survey)
    return _close(actor=actor, survey_id=survey.pk, now=now)


# -- timers -------------------------------------------------------------------------------


def _due_relationships(now: dt.datetime) -> list[Relationship]:
    """Relationships whose next health check is due at ``now``: none open, the last one
    opened at least a frequency ago (or never), people on both sides of the contact map."""
    vendor_people = ContactSlot.objects.filter(
        organisation=OuterRef("organisation"),
        vendor_contact__active=True,
        vendor_contact__organisation__is_vendor=True,
    )
    partner_people = ContactSlot.objects.filter(
        organisation=OuterRef("organisation"),
        partner_contact__active=True,
        partner_contact__organisation=OuterRef("organisation"),
    )
    still_open = HealthSurvey.objects.filter(
        organisation=OuterRef("organisation"), status=HealthSurvey.Status.OPEN
    )
    candidates = (
        Relationship.objects.filter(Exists(vendor_people), Exists(partner_people))
        .exclude(Exists(still_open))
        .exclude(organisation__is_vendor=True)
        .exclude(organisation__status=Organisation.Status.TERMINATED)
        .annotate(last_opened=Max("organisation__health_surveys__opened_at"))
        .select_related("organisation")
        .order_by("pk")
    )
    today = timezone.localdate(now)
    due = []
    for relationship in candidates:
        months = FREQUENCY_MONTHS.get(relationship.health_frequency, 12)
        last = relationship.last_opened
        if last is None or _add_months(timezone.localdate(last), months) <= today:
            due.append(relationship)
    return due


def run_health_timers(*, now: dt.datetime, base_url: str = "") -> dict[str, Any]:
    """Close the health checks past their closing time, then open one for every
    relationship that is due (annual or quarterly). Idempotent: a rerun changes nothing."""
    closed: list[int] = []
    opened: list[int] = []
    skipped: list[int] = []
    due_to_close = list(
        HealthSurvey.objects.filter(status=HealthSurvey.Status.OPEN, closes_at__lte=now)
        .order_by("closes_at", "pk")
        .values_list("pk", flat=True)
    )
    for survey_id in due_to_close:
        try:
            with transaction.atomic(durable=True):
                closed.append(_close(actor=None, survey_id=survey_id, now=now).pk)
        except (Conflict, Http404):
            continue  # closed by someone else meanwhile
    for relationship in _due_relationships(now):
        try:
            with transaction.atomic(durable=True):
                survey, _links = _open(
                    actor=None,
                    organisation=relationship.organisation,
                    period=None,
                    respondents=None,
                    now=now,
                    base_url=base_url,
                )
            opened.append(survey.pk)
        except ValidationError:
            skipped.append(relationship.organisation_id)
    return {"closed": closed, "opened": opened, "skipped": skipped}
