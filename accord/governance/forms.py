"""Forms of the relationship pages: the list filters, the four separated roles, a contact-map
slot, key people, applying cadences, planning a meeting, opening a health check, starting an
onboarding plan and the relationship's own settings.

Forms clean and offer only rows the user may see (the querysets come from the views, read
through the selectors); the services in ``accord.governance.services`` validate again and
write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.core.schemas import MAX_ID
from accord.governance.models import Function, Relationship, RoleAssignment, Tier
from accord.partners.models import Contact, Organisation

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
ROLES = RoleAssignment.Role


def _check_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise forms.ValidationError(_("Enter a date between 2000 and 2999."))
    return value


def _no_nul(value: str) -> str:
    # NUL never belongs in a field (and PostgreSQL refuses it in text).
    return (value or "").replace("\x00", "")


def person_label(contact: Contact) -> str:
    """A person in a choice list: name, job title, and a note when they have left."""
    label = contact.full_name
    if contact.job_title:
        label = f"{label} · {contact.job_title}"
    if not contact.active:
        label = f"{label} ({_('left')})"
    return label


class PersonField(forms.ModelChoiceField):
    """A person (``partners.Contact``) from the queryset the view gives, restricted already."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", None)
        kwargs.setdefault("empty_label", _("(nobody)"))
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Contact) -> str:
        return person_label(obj)


class PeopleField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def _check_values(self, value: Any) -> Any:
        # An id beyond 64 bits is an invalid choice, not a 500 (Django sends ``pk__in``
        # values to the database as they are).
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # Django's own check names the invalid value
            if not -MAX_ID <= number <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)

    def label_from_instance(self, obj: Contact) -> str:
        return f"{person_label(obj)} — {obj.organisation.name}"


class BaseForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# -- the list ---------------------------------------------------------------------------------
ROLES_FILTER = (
    ("", _("Any")),
    ("incomplete_or_doubled", _("Incomplete or doubled")),
    ("complete", _("Complete")),
)


def partner_kinds() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Organisation.Kind.choices if value != "vendor"]


class RelationshipFilterForm(BaseForm):
    """The relationship list's filters; an invalid value is dropped, not reported."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Organisation…")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    roles = forms.ChoiceField(label=_("Separated roles"), required=False, choices=ROLES_FILTER)
    health_below = forms.DecimalField(
        label=_("Health below"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "1", "placeholder": "60"}),
    )
    misaligned = forms.BooleanField(label=_("Sides misaligned"), required=False)
    overdue = forms.BooleanField(label=_("Overdue meetings or actions"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Any kind")), *partner_kinds()]
        self.fields["q"].validators.append(_reject_nul)

    def filters(self) -> dict[str, Any]:
        """The valid filter values the user set (unticked boxes and blanks left out)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: cleaned[name]
            for name in self.fields
            if cleaned.get(name) not in (None, "", False)
        }


def _reject_nul(value: str) -> None:
    if "\x00" in (value or ""):
        raise forms.ValidationError(_("Null characters are not allowed."))


# -- structure --------------------------------------------------------------------------------
class RolesForm(BaseForm):
    """The four separated roles, each held by a different active vendor person (or nobody)."""

    def __init__(self, *args: Any, people: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in ROLES.choices:
            self.fields[value] = PersonField(label=label, queryset=people, required=False)

    def holders(self) -> dict[str, Contact | None]:
        return {value: self.cleaned_data.get(value) for value in ROLES.values}

    def role_fields(self) -> list[forms.BoundField]:
        return [self[value] for value in ROLES.values]


class RelationshipForm(BaseForm):
    """The relationship's own settings: how often its health is checked, since when."""

    health_frequency = forms.ChoiceField(
        label=_("Health check frequency"), choices=Relationship.HealthFrequency.choices
    )
    started_on = forms.DateField(
        label=_("Relationship since"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_started_on(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("started_on"))

    def clean_notes(self) -> str:
        return _no_nul(self.cleaned_data.get("notes", ""))


class SlotForm(BaseForm):
    """One pair of the contact map. Partners name their own side only: the vendor input is
    left out of their form (and the service refuses it anyway)."""

    tier = forms.ChoiceField(label=_("Management tier"), choices=Tier.choices)
    function = forms.ChoiceField(label=_("Function"), choices=Function.choices)
    vendor_contact = PersonField(label=_("Vendor person"), required=False)
    partner_contact = PersonField(label=_("Partner person"), required=False)

    def __init__(
        self,
        *args: Any,
        vendor_people: QuerySet[Contact] | None,
        partner_people: QuerySet[Contact],
        fixed: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "slot")
        super().__init__(*args, **kwargs)
        if fixed:
            # The pair is chosen from the map (partners fill the pairs the vendor laid out).
            self.fields["tier"].widget = forms.HiddenInput()
            self.fields["function"].widget = forms.HiddenInput()
        if vendor_people is None:
            del self.fields["vendor_contact"]
        else:
            self.fields["vendor_contact"].queryset = vendor_people
        self.fields["partner_contact"].queryset = partner_people

    def sides(self) -> dict[str, Contact | None]:
        """The people to set, keyed as ``set_slot`` takes them (only the sides shown)."""
        return {
            name: self.cleaned_data.get(name)
            for name in ("vendor_contact", "partner_contact")
            if name in self.fields
        }


class KeyPersonForm(BaseForm):
    person = PersonField(label=_("Person"), empty_label=_("Choose a person"))
    backup = PersonField(label=_("Backup"), required=False)
    responsibility = forms.CharField(label=_("Responsibility"), required=False, max_length=150)

    def __init__(self, *args: Any, people: QuerySet[Contact], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "key")
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["backup"].queryset = people
        self.fields["person"].label_from_instance = _with_organisation
        self.fields["backup"].label_from_instance = _with_organisation

    def clean_responsibility(self) -> str:
        return _no_nul(self.cleaned_data.get("responsibility", ""))


def _with_organisation(contact: Contact) -> str:
    return f"{person_label(contact)} — {contact.organisation.name}"


# -- cadence and meetings ---------------------------------------------------------------------
class ApplyCadenceForm(BaseForm):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    months = forms.IntegerField(label=_("Months ahead"), min_value=1, max_value=36, initial=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cadence")
        super().__init__(*args, **kwargs)
        self.fields["start"].initial = timezone.localdate()

    def clean_start(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("start"))


class MeetingForm(BaseForm):
    """A meeting planned by hand (cadence meetings are generated)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    tier = forms.ChoiceField(label=_("Management tier"), choices=Tier.choices)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60, initial=60
    )
    location = forms.CharField(label=_("Location or link"), max_length=300, required=False)
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attendees = PeopleField(label=_("Attendees"), required=False)

    FIELDS = ("title", "tier", "starts_at", "duration_minutes", "location", "agenda")

    def __init__(self, *args: Any, people: QuerySet[Contact], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "meeting")
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = people
        self.fields["attendees"].widget.attrs["size"] = 8

    def clean_starts_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("starts_at")
        if value is not None:
            _check_date(
                timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("title", "location", "agenda"):
            if name in cleaned:
                cleaned[name] = _no_nul(cleaned[name])
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


# -- health -----------------------------------------------------------------------------------
class OpenSurveyForm(BaseForm):
    period = forms.CharField(
        label=_("Period"),
        required=False,
        max_length=20,
        help_text=_("Empty: the current year (or quarter, for quarterly checks)."),
        widget=forms.TextInput(attrs={"placeholder": "2026-Q3"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "survey")
        super().__init__(*args, **kwargs)

    def clean_period(self) -> str | None:
        return _no_nul(self.cleaned_data.get("period", "")).strip() or None


# -- onboarding -------------------------------------------------------------------------------
class StartOnboardingForm(BaseForm):
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=None, empty_label=_("Choose a template")
    )
    subject = PersonField(
        label=_("Person onboarded"),
        required=False,
        help_text=_("For a new staff member's plan: who joins the relationship."),
    )
    start = forms.DateField(
        label=_("Start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        templates: Iterable[Any] | QuerySet,
        people: QuerySet[Contact],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "onboarding")
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["template"].label_from_instance = _template_label
        self.fields["subject"].queryset = people
        self.fields["subject"].label_from_instance = _with_organisation
        self.fields["start"].initial = timezone.localdate()

    def clean_start(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("start"))


def _template_label(template: Any) -> str:
    chinese = (get_language() or "").lower().startswith("zh")
    name = template.name_zh if chinese and template.name_zh else template.name
    return f"{name} ({template.get_kind_display()})"
