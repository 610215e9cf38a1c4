"""Tiered partner programs (versioned tiers, criteria, benefits), their evaluations and the
tier each organisation holds; scorecard templates, standings and period scores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.channel.models import Shared
from accord.core.models import OrganisationOwned

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Comparator(models.TextChoices):
    GTE = "gte", "≥"
    GT = "gt", ">"
    LTE = "lte", "≤"
    LT = "lt", "<"


class Cadence(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")


RESERVED_CODES = frozenset({"new"})


class Scope(models.Model):
    """Which organisations something applies to: kinds, regions (a country code or a
    province / state name), tags; an empty list does not narrow."""

    kinds = models.JSONField(_("organisation kinds"), default=list, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        # /programs/new/ and /scorecards/new/ are the pages that create one: a program or
        # scorecard coded "new" could never be opened (the API and files made them).
        if self._state.adding and getattr(self, "code", None) in RESERVED_CODES:
            raise ValidationError({"code": _("This code is reserved; choose another.")})


class Program(Scope, Shared):
    """A tiered partner program; its rules live in versions, the live one is published."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    cadence = models.CharField(
        _("evaluation cadence"), max_length=10, choices=Cadence.choices, default=Cadence.QUARTER
    )
    # The worker evaluates and applies the live version when next_evaluation comes.
    schedule_enabled = models.BooleanField(_("scheduled evaluation"), default=False)
    next_evaluation = models.DateField(_("next scheduled evaluation"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        permissions = [
            ("evaluate_program", "Can run and apply evaluations"),
            ("publish_program", "Can publish a program version"),
            ("override_program", "Can override an organisation's tier"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramVersion(Shared):
    """One version of a program's rules. A published version is immutable; edits go into
    the one draft; publishing retires the previous live version."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published (live)")
        RETIRED = "retired", _("Retired")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # Demotion waits this many days after the first failed evaluation (0: at once).
    grace_days = models.PositiveIntegerField(_("grace period (days)"), default=90)
    # To keep a tier, each threshold is relaxed by this percentage (entry needs it in full).
    hysteresis_pct = models.DecimalField(
        _("hysteresis band (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(5),
        validators=PERCENT,
    )
    # The revenue the benefit cost (discount + rebate + MDF share) is a percentage of.
    cost_basis_metric = models.CharField(_("benefit cost basis"), max_length=60, default="revenue")
    cost_basis_window = models.CharField(
        _("benefit cost window"), max_length=16, default="trailing_12"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["program", "-number"]
        verbose_name = _("program version")
        verbose_name_plural = _("program versions")
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="program_version_number"),
            models.UniqueConstraint(
                fields=["program"], condition=Q(status="published"), name="program_one_live"
            ),
            models.UniqueConstraint(
                fields=["program"], condition=Q(status="draft"), name="program_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.code} v{self.number}"

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        # Partners see the rules that apply (live and past), never a draft in the making.
        return queryset.exclude(status=cls.Status.DRAFT)

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Tier(Shared):
    """A rung of a program version: entry criteria and the benefits it brings."""

    class Combine(models.TextChoices):
        ALL = "all", _("all criteria")
        ANY = "any", _("any criterion")
        AT_LEAST = "at_least", _("at least N criteria")

    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="tiers")
    rank = models.PositiveSmallIntegerField(_("rank"))  # 0 is the entry tier
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    combine = models.CharField(
        _("combine criteria"), max_length=10, choices=Combine.choices, default=Combine.ALL
    )
    at_least = models.PositiveSmallIntegerField(_("N"), null=True, blank=True)
    # Benefits: structured, read by incentives (discount, rebate, MDF) and leads (priority).
    discount_pct = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT
    )
    rebate_pct = models.DecimalField(
        _("rebate rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PERCENT,
    )
    mdf_share_pct = models.DecimalField(
        _("MDF share (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT
    )
    support_sla_hours = models.PositiveIntegerField(_("support SLA (hours)"), null=True, blank=True)
    lead_priority = models.PositiveSmallIntegerField(_("lead priority"), default=0)
    named_account_manager = models.BooleanField(_("named account manager"), default=False)

    class Meta:
        ordering = ["version", "rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["version", "rank"], name="tier_rank_unique"),
            models.UniqueConstraint(fields=["version", "code"], name="tier_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cost_pct(self) -> Decimal:
        return self.discount_pct + self.rebate_pct + self.mdf_share_pct


class Criterion(Shared):
    """metric (comparator) threshold over a window, e.g. trailing_12 revenue ≥ 500,000."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    metric = models.SlugField(_("metric"), max_length=60)
    # Pinned when the version is published, so a later metric version changes nothing here.
    metric_version = models.PositiveIntegerField(_("metric version"), null=True, blank=True)
    comparator = models.CharField(_("comparator"), max_length=3, choices=Comparator.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=24, decimal_places=6)
    window = models.CharField(_("window"), max_length=16, default="trailing_12")

    class Meta:
        ordering = ["tier", "position", "pk"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return f"{self.metric} {self.get_comparator_display()} {self.threshold} ({self.window})"


class Membership(OrganisationOwned):
    """The tier an organisation holds in a program now, and any open grace period or
    manual override. Changed only by evaluations and override services."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="tier_memberships"
    )
    tier_code = models.CharField(_("tier"), max_length=40, blank=True)  # "" = no tier
    since = models.DateField(_("since"))
    # A demotion on probation: it applies at the first evaluation on or after grace_until.
    grace_target = models.CharField(_("demotion target"), max_length=40, blank=True)
    grace_started = models.DateField(_("grace started"), null=True, blank=True)
    grace_until = models.DateField(_("grace until"), null=True, blank=True)
    last_evaluated = models.DateField(_("last evaluated"), null=True, blank=True)
    override_tier = models.CharField(_("override tier"), max_length=40, blank=True)
    override_reason = models.TextField(_("override reason"), blank=True)
    override_until = models.DateField(_("override expires"), null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["program", "organisation"]
        verbose_name = _("tier membership")
        verbose_name_plural = _("tier memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organisation"], name="membership_one_per_program"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} in {self.program_id}: {self.tier_code or '-'}"

    def effective_tier(self, on: Any = None) -> str:
        """The override while it lasts ([set, override_until)), else the evaluated tier."""
        day = on or timezone.localdate()
        if self.override_until and day < self.override_until:
            return self.override_tier
        return self.tier_code


class EvaluationRun(Shared):
    """One evaluation of a program version at an ``as_of``: its inputs, every organisation's
    result and, when applied, the changes it made. Previews and what-ifs apply nothing."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Button")
        API = "api", _("API")
        CLI = "cli", _("Command line")
        SCHEDULE = "schedule", _("Schedule")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(ProgramVersion, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField(_("as of"))
    applied = models.BooleanField(_("applied"), default=False)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    organisation_count = models.PositiveIntegerField(_("organisations"), default=0)
    # The rules as evaluated (tiers, criteria, metric versions, grace, hysteresis).
    inputs = models.JSONField(_("inputs"), default=dict)
    # Tier distribution, changes by kind, warnings.
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")

    def __str__(self) -> str:
        return f"{self.program.code} as of {self.as_of} (#{self.pk})"


class Outcome(models.TextChoices):
    ENTERED = "entered", _("Entered the program")
    PROMOTED = "promoted", _("Promoted")
    UNCHANGED = "unchanged", _("Unchanged")
    HELD = "held", _("Held by the hysteresis band")
    GRACE_OPENED = "grace_opened", _("Grace period opened")
    GRACE_CONTINUES = "grace_continues", _("In grace period")
    GRACE_WITHDRAWN = "grace_withdrawn", _("Recovered: grace withdrawn")
    DEMOTED = "demoted", _("Demoted")
    OVERRIDDEN = "overridden", _("Manual override in force")


class EvaluationResult(OrganisationOwned):
    """One organisation in one run: the tier it qualifies for, every criterion with its
    value, threshold and pass/fail, the gap to the next tier, and what was decided."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    previous_tier = models.CharField(_("previous tier"), max_length=40, blank=True)
    qualified_tier = models.CharField(_("qualifies for"), max_length=40, blank=True)
    resulting_tier = models.CharField(_("resulting tier"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    # Every criterion's metric value, keyed "metric@window" (None: no data). With the run's
    # rules (run.inputs) they give each pass/fail, the kept thresholds and the gap.
    values = models.JSONField(_("metric values"), default=dict)
    grace_until = models.DateField(_("grace until"), null=True, blank=True)
    effective_tier = models.CharField(_("effective tier"), max_length=40, blank=True)

    class Meta:
        ordering = ["run", "organisation"]
        verbose_name = _("evaluation result")
        verbose_name_plural = _("evaluation results")
        constraints = [
            models.UniqueConstraint(fields=["run", "organisation"], name="result_one_per_run"),
        ]


class TierChange(OrganisationOwned):
    """The tier history: every change of an organisation's tier in a program, and why."""

    class Kind(models.TextChoices):
        ENTRY = "entry", _("Entry")
        PROMOTION = "promotion", _("Promotion")
        DEMOTION = "demotion", _("Demotion")
        OVERRIDE = "override", _("Manual override")
        OVERRIDE_ENDED = "override_ended", _("Override ended")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="changes")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_tier = models.CharField(_("from"), max_length=40, blank=True)
    to_tier = models.CharField(_("to"), max_length=40, blank=True)
    effective = models.DateField(_("effective"))
    run = models.ForeignKey(
        EvaluationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["-effective", "-pk"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["program", "organisation"], name="tierchange_org")]


class Warning(OrganisationOwned):
    """Early warning from an evaluation: this organisation may drop a tier at the next one."""

    class Kind(models.TextChoices):
        TREND = "trend", _("Criterion trending below its threshold")
        CERTIFICATION = "certification", _("Certifications expire before the next evaluation")
        GRACE = "grace", _("Grace period ends before the next evaluation")

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="warnings")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    tier_code = models.CharField(_("tier at risk"), max_length=40)
    next_evaluation = models.DateField(_("next evaluation"))
    message = models.TextField(_("reason"))
    details = models.JSONField(_("details"), default=dict)

    class Meta:
        ordering = ["run", "organisation", "kind"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")


# -- scorecards -----------------------------------------------------------------------
class ScorecardTemplate(Scope, Shared):
    """Weighted criteria scored 0-100 per period, with standings and their consequences."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    period = models.CharField(
        _("period"), max_length=10, choices=Cadence.choices, default=Cadence.QUARTER
    )
    # The overall score weighs a period `age` periods back by decay ** age.
    decay = models.DecimalField(
        _("decay per period"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    history_periods = models.PositiveSmallIntegerField(
        _("periods in the overall score"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        permissions = [("score_scorecardtemplate", "Can compute scorecards")]

    def __str__(self) -> str:
        return self.name


class ScorecardCriterion(Shared):
    """A metric mapped to 0-100 by a piecewise-linear or banded rule, with a weight."""

    class Rule(models.TextChoices):
        LINEAR = "linear", _("Piecewise linear")
        BANDED = "banded", _("Banded")

    template = models.ForeignKey(
        ScorecardTemplate, on_delete=models.CASCADE, related_name="criteria"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    metric = models.SlugField(_("metric"), max_length=60)
    weight = models.PositiveSmallIntegerField(
        _("weight"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    rule = models.CharField(_("rule"), max_length=8, choices=Rule.choices)
    # linear: [[value, score], ...] by increasing value, interpolated, flat outside;
    # banded: [[lower bound, score], ...] by increasing bound, the last bound reached wins.
    points = models.JSONField(_("points"), default=list)

    class Meta:
        ordering = ["template", "position", "pk"]
        verbose_name = _("scorecard criterion")
        verbose_name_plural = _("scorecard criteria")


class Consequence(models.TextChoices):
    NONE = "none", _("No effect")
    WARN = "warn", _("Warn")
    BLOCK = "block", _("Block")


class Standing(Shared):
    """A band of the score: [min_score, max_score), the top band also holding 100."""

    template = models.ForeignKey(
        ScorecardTemplate, on_delete=models.CASCADE, related_name="standings"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    min_score = models.DecimalField(_("from score"), max_digits=5, decimal_places=2)
    max_score = models.DecimalField(_("to score"), max_digits=5, decimal_places=2)
    deal_registration = models.CharField(
        _("new deal registrations"),
        max_length=5,
        choices=Consequence.choices,
        default=Consequence.NONE,
    )
    mdf_requests = models.CharField(
        _("MDF requests"), max_length=5, choices=Consequence.choices, default=Consequence.NONE
    )
    orders = models.CharField(
        _("orders"), max_length=5, choices=Consequence.choices, default=Consequence.NONE
    )
    review_meeting = models.BooleanField(_("requires a review meeting"), default=False)

    class Meta:
        ordering = ["template", "min_score"]
        verbose_name = _("standing")
        verbose_name_plural = _("standings")
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="standing_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Score(OrganisationOwned):
    """One organisation's score for one period of a scorecard; ``no_activity`` periods carry
    no score (they are not zeros). ``overall`` is the decayed score over recent periods and
    ``standing`` the band it falls in."""

    template = models.ForeignKey(ScorecardTemplate, on_delete=models.CASCADE, related_name="scores")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    as_of = models.DateField(_("as of"))
    no_activity = models.BooleanField(_("no activity"), default=False)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True)
    overall = models.DecimalField(_("overall score"), max_digits=5, decimal_places=2, null=True)
    standing = models.CharField(_("standing"), max_length=40, blank=True)
    # [{metric, weight, value, score, rule, inputs}], and how overall was made
    criteria = models.JSONField(_("criteria"), default=list)
    overall_inputs = models.JSONField(_("overall inputs"), default=list)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        ordering = ["template", "organisation", "-period_start"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "organisation", "period_start"], name="score_one_per_period"
            ),
        ]
