"""Metric definitions (named, versioned) and stored KPI snapshots with their inputs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.channel.models import Shared
from accord.core.models import OrganisationOwned


class MetricDefinition(Shared):
    """One version of a metric. Built-in ones are seeded; a change is a new version."""

    class Dimension(models.TextChoices):
        FINANCIAL = "financial", _("Financial")
        MARKET = "market", _("Market")
        OPERATIONAL = "operational", _("Operational")

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    dimension = models.CharField(_("dimension"), max_length=12, choices=Dimension.choices)
    # Which engine calculation computes it, and that calculation's parameters.
    calculation = models.CharField(_("calculation"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    builtin = models.BooleanField(_("built in"), default=False)
    is_current = models.BooleanField(_("current version"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="metric_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(is_current=True), name="metric_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class KpiRun(Shared):
    """A stored computation: which metric versions, which periods, as of when, by whom."""

    as_of = models.DateField(_("as of"))
    period = models.CharField(_("period"), max_length=12)
    metrics = models.JSONField(_("metrics"), default=list)  # ["revenue@1", ...]
    organisation_count = models.PositiveIntegerField(_("organisations"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("KPI run")
        verbose_name_plural = _("KPI runs")

    def __str__(self) -> str:
        return f"KPI run #{self.pk} as of {self.as_of}"


class KpiValue(OrganisationOwned):
    """One metric value of one organisation for one period, with the inputs that made it."""

    run = models.ForeignKey(KpiRun, on_delete=models.CASCADE, related_name="values")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    metric = models.ForeignKey(MetricDefinition, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)

    class Meta:
        ordering = ["run", "organisation", "metric", "period_start"]
        verbose_name = _("KPI value")
        verbose_name_plural = _("KPI values")
        indexes = [models.Index(fields=["organisation", "metric"], name="kpivalue_org_metric")]
