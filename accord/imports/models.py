"""Import runs: what each mapped CSV/XLSX import did, its row report, and what rollback undoes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.core.models import OrganisationOwned


class ImportBatch(OrganisationOwned):
    """One applied import of one file. Rejected and dry runs write nothing, not even this row."""

    class Status(models.TextChoices):
        APPLIED = "applied", pgettext_lazy("import status", "Applied")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    kind = models.CharField(_("kind"), max_length=30, db_index=True)
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    mapping = models.TextField(_("mapping"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.APPLIED
    )
    skip_invalid = models.BooleanField(_("bad rows skipped"), default=False)
    # The organisation of the user who ran it: partner staff see their own runs only.
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    # Row-level problems of the rows that were skipped: [{row, column, value, reason}, ...].
    report = models.JSONField(_("report"), default=list, blank=True)
    rolled_back_at = models.DateTimeField(_("rolled back"), null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rolled back by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        permissions = [("rollback_importbatch", "Can roll back an import")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} · {self.file_name}"


class ImportChange(models.Model):
    """A row an import changed that rollback must restore: ``before`` holds its old values.

    Fact rows an import *created* are found by their ``import_batch`` column instead, so a
    ten-million-line load does not write ten million of these.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=60)  # app_label.model_name
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=6, choices=Action.choices)
    before = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "model"], name="importchange_batch")]

    def __str__(self) -> str:
        return f"{self.action} {self.model} #{self.object_id}"
