"""Forms of the governance pages outside the relationship page: issue filters and actions,
meeting records and action items, handovers, and the network-wide templates and settings.

Choices (organisations, people, programs) come from the views, read through the selectors;
the services validate everything again and their errors land on these forms' fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.governance.models import (
    Frequency,
    IssueAttachment,
    OnboardingTemplate,
    Side,
    Tier,
)
from accord.governance.models import Issue as IssueModel

NOTE_LIMIT = 5000
TITLE_LIMIT = 200
Choices = Sequence[Any]
# Rows of corrective actions / template tasks a form offers (plain inputs, no JavaScript).
CORRECTIVE_ROWS = 3
EXTRA_TASK_ROWS = 3
MAX_TASK_ROWS = 60
MAX_DUE_DAYS = 3650


def _text(label: Any, *, required: bool = True, limit: int = NOTE_LIMIT, rows: int = 3) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _clean_text(value: Any) -> str:
    # NUL never belongs in a field (and PostgreSQL refuses it in text).
    return "" if value is None else str(value).replace("\x00", "").strip()


class Form(forms.Form):
    """No label suffix; text stripped of NUL characters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                cleaned[name] = _clean_text(value)
        return cleaned


def due_date_field(label: Any = None, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label or _("Due"),
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def check_due(value: dt.date | None, today: dt.date | None = None) -> None:
    """A new due date may not lie in the past, nor absurdly far ahead."""
    if value is None:
        return
    today = today or timezone.localdate()
    if value < today:
        raise forms.ValidationError(_("The due date cannot be in the past."))
    if value > today + dt.timedelta(days=MAX_DUE_DAYS):
        raise forms.ValidationError(_("The due date is too far ahead."))


# -- issues ---------------------------------------------------------------------------------
class IssueFilterForm(Form):
    """The issue list: status (open means open or responded), severity, tier, relationship,
    escalated only, text."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number or title…")}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    severity = forms.ChoiceField(
        label=_("Severity"),
        required=False,
        choices=[("", _("Any severity")), *IssueModel.Severity.choices],
    )
    tier = forms.ChoiceField(
        label=_("Management tier"),
        required=False,
        choices=[("", pgettext_lazy("management tier", "Any tier")), *Tier.choices],
    )
    organisation = forms.TypedChoiceField(label=_("Relationship"), required=False, coerce=int)
    escalated = forms.BooleanField(label=_("Escalated only"), required=False)
    overdue = forms.BooleanField(label=_("Past the resolution deadline"), required=False)

    def __init__(
        self, *args: Any, organisations: Iterable[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("", _("Any status")),
            ("open", _("Open (not resolved)")),
            *IssueModel.Status.choices,
        ]
        self.fields["organisation"].choices = [("", _("Any relationship")), *organisations]

    def filters(self) -> dict[str, Any]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: cleaned[name]
            for name in self.fields
            if cleaned.get(name) not in (None, "", False)
        }


class IssueForm(Form):
    """A new issue: which relationship, what, how bad; deadlines follow the severity's SLA."""

    organisation = forms.TypedChoiceField(label=_("Relationship"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=TITLE_LIMIT)
    category = forms.ChoiceField(label=_("Category"), choices=IssueModel.Category.choices)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=IssueModel.Severity.choices,
        initial=IssueModel.Severity.MEDIUM,
    )
    description = _text(_("Description"), required=False, rows=5)
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("Optional; at most 10 MB. More files can be added on the issue's page."),
    )

    def __init__(
        self, *args: Any, organisations: Iterable[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", _("Choose a relationship")), *organisations]

    def clean_attachment(self) -> Any:
        return check_upload(self.cleaned_data.get("attachment"), required=False)


def check_upload(upload: Any, *, required: bool = True) -> Any:
    if upload is None:
        if required:
            raise forms.ValidationError(_("Choose a file."))
        return None
    if upload.size > IssueAttachment.MAX_BYTES:
        raise forms.ValidationError(
            _("The file is too large: at most %(limit)d MB.")
            % {"limit": IssueAttachment.MAX_BYTES // (1024 * 1024)}
        )
    if upload.size == 0:
        raise forms.ValidationError(_("The file is empty."))
    return upload


class NoteForm(Form):
    note = _text(_("Note"))

    def __init__(self, *args: Any, label: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["note"].label = label


class AssignForm(Form):
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Choose a person")), *people]


class ReopenForm(Form):
    reason = _text(_("Why does the issue reopen?"), limit=1000, rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reopen")
        super().__init__(*args, **kwargs)


class AttachForm(Form):
    file = forms.FileField(label=_("File"), required=False, help_text=_("At most 10 MB."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "attach")
        super().__init__(*args, **kwargs)

    def clean_file(self) -> Any:
        return check_upload(self.cleaned_data.get("file"))


class ResolveForm(Form):
    """Root cause and resolution, with up to three corrective actions (title, owner, due);
    a row left empty is ignored, a row half filled is an error on its missing inputs."""

    root_cause = _text(_("Root cause"))
    resolution = _text(_("Resolution"))

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "resolve")
        super().__init__(*args, **kwargs)
        self.rows = CORRECTIVE_ROWS
        for index in range(self.rows):
            self.fields[f"action_{index}_title"] = forms.CharField(
                label=_("Corrective action"), required=False, max_length=300
            )
            self.fields[f"action_{index}_owner"] = forms.TypedChoiceField(
                label=_("Owner"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("Choose a person")), *people],
            )
            self.fields[f"action_{index}_due_on"] = due_date_field(required=False)

    def action_rows(self) -> list[dict[str, forms.BoundField]]:
        return [
            {
                "title": self[f"action_{index}_title"],
                "owner": self[f"action_{index}_owner"],
                "due_on": self[f"action_{index}_due_on"],
            }
            for index in range(self.rows)
        ]

    def main_fields(self) -> list[forms.BoundField]:
        return [self["root_cause"], self["resolution"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.actions: list[dict[str, Any]] = []
        for index in range(self.rows):
            names = {part: f"action_{index}_{part}" for part in ("title", "owner", "due_on")}
            values = {part: cleaned.get(name) for part, name in names.items()}
            failed = any(self.has_error(name) for name in names.values())
            if not failed and not any(values.values()):
                continue
            if not values["title"] and not self.has_error(names["title"]):
                self.add_error(names["title"], _("Say what is to be done."))
            if not values["owner"] and not self.has_error(names["owner"]):
                self.add_error(names["owner"], _("Choose who does it."))
            if values["due_on"] is None and not self.has_error(names["due_on"]):
                self.add_error(names["due_on"], _("Give a due date."))
            elif values["due_on"] is not None:
                try:
                    check_due(values["due_on"])
                except forms.ValidationError as error:
                    self.add_error(names["due_on"], error)
            if all(values.values()) and not any(self.has_error(n) for n in names.values()):
                self.actions.append({**values, "field": names})
        return cleaned


# -- meetings and action items ------------------------------------------------------------
class RecordForm(Form):
    """The record of a held meeting: when, who came (both sides), minutes and decisions."""

    held_at = forms.DateTimeField(
        label=_("Held"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: the planned start."),
    )
    attendees = forms.TypedMultipleChoiceField(
        label=_("Attendees"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = _text(_("Minutes"), limit=20000, rows=6)
    decisions = _text(_("Decisions"), required=False, limit=10000, rows=4)

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "record")
        super().__init__(*args, **kwargs)
        self.fields["attendees"].choices = list(people)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        held = cleaned.get("held_at")
        if held is not None and held > timezone.now() + dt.timedelta(hours=1):
            self.add_error("held_at", _("A meeting cannot be recorded before it is held."))
        return cleaned


class ActionItemForm(Form):
    title = forms.CharField(label=pgettext_lazy("action item", "Action"), max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    due_on = due_date_field()

    def __init__(self, *args: Any, people: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "action")
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Choose a person")), *people]

    def clean_due_on(self) -> dt.date:
        value = self.cleaned_data["due_on"]
        check_due(value)
        return value


class CancelForm(Form):
    reason = _text(_("Why is the meeting cancelled?"), limit=1000, rows=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cancel")
        super().__init__(*args, **kwargs)


# -- handovers ------------------------------------------------------------------------------
class HandoverForm(Form):
    """Who hands over to whom; the page shows what will move before it is confirmed."""

    predecessor = forms.TypedChoiceField(label=_("From (predecessor)"), coerce=int)
    successor = forms.TypedChoiceField(
        label=_("To (successor)"),
        coerce=int,
        help_text=_("An active person of the same organisation."),
    )
    leaving = forms.BooleanField(
        label=_("The predecessor leaves (marked inactive)"), required=False, initial=True
    )
    reason = _text(_("Reason"), required=False, limit=1000, rows=2)

    def __init__(
        self,
        *args: Any,
        predecessors: Choices = (),
        successors: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["predecessor"].choices = [("", _("Choose a person")), *predecessors]
        self.fields["successor"].choices = [("", _("Choose a person")), *successors]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        before, after = cleaned.get("predecessor"), cleaned.get("successor")
        if before is not None and before == after:
            self.add_error("successor", _("Choose someone other than the predecessor."))
        return cleaned


# -- settings and templates -------------------------------------------------------------------
class SettingsForm(Form):
    tier_program = forms.TypedChoiceField(
        label=_("Program for partner tiers"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Cadence templates and required certifications follow this program's tiers."),
    )
    misalignment_threshold = forms.DecimalField(
        label=_("Misalignment threshold (points on 1-5)"),
        min_value=0.1,
        max_value=4,
        max_digits=3,
        decimal_places=1,
        help_text=_(
            "The two sides are misaligned when their means differ by more than this on any "
            "dimension."
        ),
    )
    survey_days_open = forms.IntegerField(
        label=_("Days a health check stays open"), min_value=1, max_value=365
    )
    meeting_grace_days = forms.IntegerField(
        label=_("Days before a missed meeting is overdue"), min_value=0, max_value=90
    )
    certification_warning_days = forms.IntegerField(
        label=_("Days ahead to flag an expiring certification"), min_value=1, max_value=730
    )

    FIELDS = (
        "tier_program",
        "misalignment_threshold",
        "survey_days_open",
        "meeting_grace_days",
        "certification_warning_days",
    )

    def __init__(self, *args: Any, programs: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier_program"].choices = [("", _("(none)")), *programs]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class CadenceTemplateForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100, required=False)
    tier = forms.ChoiceField(label=_("Management tier"), choices=Tier.choices)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    partner_tiers = forms.MultipleChoiceField(
        label=_("Partner tiers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the meeting is for every partner."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60, initial=60
    )
    agenda = _text(_("Standing agenda"), required=False, rows=4)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    FIELDS = (
        "name",
        "name_zh",
        "tier",
        "frequency",
        "partner_tiers",
        "duration_minutes",
        "agenda",
        "active",
    )

    def __init__(self, *args: Any, partner_tiers: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cadence")
        super().__init__(*args, **kwargs)
        choices = list(partner_tiers)
        known = {value for value, _label in choices}
        # Codes saved earlier that the program no longer has stay choosable (and visible).
        for code in self.initial.get("partner_tiers") or []:
            if code not in known:
                choices.append((code, code))
        self.fields["partner_tiers"].choices = choices

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class SlaForm(Form):
    """Response and resolution hours of each severity, one pair of inputs per severity."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value in IssueModel.Severity.values:
            self.fields[f"{value}_response_hours"] = forms.IntegerField(
                label=_("Response (hours)"), min_value=1, max_value=24 * 365
            )
            self.fields[f"{value}_resolution_hours"] = forms.IntegerField(
                label=_("Resolution per tier (hours)"), min_value=1, max_value=24 * 365
            )
        self.severity_labels = dict(IssueModel.Severity.choices)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "severity": value,
                "label": label,
                "response": self[f"{value}_response_hours"],
                "resolution": self[f"{value}_resolution_hours"],
            }
            for value, label in IssueModel.Severity.choices
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for value, _label in IssueModel.Severity.choices:
            response = cleaned.get(f"{value}_response_hours")
            resolution = cleaned.get(f"{value}_resolution_hours")
            if response and resolution and response > resolution:
                self.add_error(
                    f"{value}_resolution_hours",
                    _("The resolution time cannot be shorter than the response time."),
                )
        return cleaned

    def service_data(self) -> dict[str, dict[str, int]]:
        return {
            value: {
                "response_hours": self.cleaned_data[f"{value}_response_hours"],
                "resolution_hours": self.cleaned_data[f"{value}_resolution_hours"],
            }
            for value, _label in IssueModel.Severity.choices
        }


class OnboardingTemplateForm(Form):
    """A template and its task list; tasks are rows of inputs (title, Chinese title, side,
    days after the start), a row with an empty title is dropped."""

    name = forms.CharField(label=_("Name"), max_length=100)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("For"), choices=OnboardingTemplate.Kind.choices)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    FIELDS = ("name", "name_zh", "kind", "active")

    def __init__(self, *args: Any, tasks: Sequence[dict[str, Any]] = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "template")
        super().__init__(*args, **kwargs)
        data = args[0] if args else kwargs.get("data")
        count = len(tasks) + EXTRA_TASK_ROWS
        if data is not None:
            count = min(_posted_rows(data, f"{self.prefix}-task_"), MAX_TASK_ROWS)
            count = max(count, 1)
        self.task_count = count
        for index in range(count):
            task = tasks[index] if index < len(tasks) else {}
            self.fields[f"task_{index}_title"] = forms.CharField(
                label=_("Task"), required=False, max_length=200, initial=task.get("title", "")
            )
            self.fields[f"task_{index}_title_zh"] = forms.CharField(
                label=_("Chinese title"),
                required=False,
                max_length=200,
                initial=task.get("title_zh", ""),
            )
            self.fields[f"task_{index}_side"] = forms.ChoiceField(
                label=_("Side"),
                choices=Side.choices,
                required=False,
                initial=task.get("side", Side.PARTNER),
            )
            self.fields[f"task_{index}_due_days"] = forms.IntegerField(
                label=_("Due (days after start)"),
                required=False,
                min_value=0,
                max_value=MAX_DUE_DAYS,
                initial=task.get("due_days", 7),
            )

    def task_rows(self) -> list[dict[str, forms.BoundField]]:
        return [
            {
                part: self[f"task_{index}_{part}"]
                for part in ("title", "title_zh", "side", "due_days")
            }
            for index in range(self.task_count)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.tasks: list[dict[str, Any]] = []
        for index in range(self.task_count):
            title = cleaned.get(f"task_{index}_title")
            if not title:
                continue
            side = cleaned.get(f"task_{index}_side") or Side.PARTNER
            due_days = cleaned.get(f"task_{index}_due_days")
            if due_days is None and not self.has_error(f"task_{index}_due_days"):
                self.add_error(f"task_{index}_due_days", _("Give the days after the start."))
                continue
            self.tasks.append(
                {
                    "title": title,
                    "title_zh": cleaned.get(f"task_{index}_title_zh") or "",
                    "side": side,
                    "due_days": due_days,
                }
            )
        if not self.tasks and not self.errors:
            self.add_error("task_0_title", _("A template needs at least one task."))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {**{name: self.cleaned_data[name] for name in self.FIELDS}, "tasks": self.tasks}


def _posted_rows(data: Any, prefix: str) -> int:
    """How many numbered rows ``<prefix><n>_...`` a post holds (the highest n + 1)."""
    highest = -1
    for key in data:
        if key.startswith(prefix):
            number = key[len(prefix) :].split("_", 1)[0]
            if number.isascii() and number.isdigit() and len(number) < 4:
                highest = max(highest, int(number))
    return highest + 1


class CourseForm(Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=150)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=150, required=False)
    certification = forms.CharField(
        label=_("Certification earned"),
        max_length=150,
        help_text=_("Certifications of this name (imported or recorded) count for the course."),
    )
    validity_months = forms.IntegerField(
        label=_("Valid for (months)"),
        min_value=0,
        max_value=240,
        initial=24,
        help_text=_("0: the certification does not expire."),
    )
    hours = forms.IntegerField(label=_("Hours"), min_value=0, max_value=1000, initial=4)
    description = _text(_("Description"), required=False, rows=3)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    FIELDS = (
        "code",
        "name",
        "name_zh",
        "certification",
        "validity_months",
        "hours",
        "description",
        "active",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "course")
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class RequirementsForm(Form):
    """How many certified people of each course a partner tier needs (0 or empty: none)."""

    def __init__(self, *args: Any, courses: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course_labels: list[tuple[int, str]] = list(courses)
        for pk, label in self.course_labels:
            self.fields[f"course_{pk}"] = forms.IntegerField(
                label=label, required=False, min_value=0, max_value=1000
            )

    def course_fields(self) -> list[forms.BoundField]:
        return [self[f"course_{pk}"] for pk, _label in self.course_labels]

    def requirements(self) -> list[dict[str, Any]]:
        return [
            {"course": pk, "minimum": self.cleaned_data[f"course_{pk}"]}
            for pk, _label in self.course_labels
            if self.cleaned_data.get(f"course_{pk}")
        ]
