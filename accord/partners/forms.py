"""Forms of the organisation, contact, agreement and territory pages.

Forms validate and clean; the services in ``accord.partners.services`` write. Choice fields
offer only rows the user may see (``restrict()`` through the selectors).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from accord.core.forms import TagsField
from accord.partners import selectors
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Territory,
)

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)


def _check_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise forms.ValidationError(_("Enter a date between 1900 and 2999."))
    return value


class OrganisationFilterForm(forms.Form):
    """The organisation list's filters; invalid values are ignored, never an error page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, tax id, domain, city…")}
        ),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Organisation.Status.choices],
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    sort = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(key, key) for key in selectors.ORGANISATION_SORTS],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        kinds = Organisation.Kind.choices
        if getattr(user, "is_partner", True):
            kinds = [c for c in kinds if c[0] != Organisation.Kind.VENDOR]
        self.fields["kind"].choices = [("", _("Any kind")), *kinds]
        self.fields["country"].choices = [
            ("", _("Any country")),
            *[(code, code) for code in selectors.organisation_countries(user)],
        ]
        self.fields["tag"].choices = [
            ("", _("Any tag")),
            *[(name, name) for name in selectors.organisation_tags(user)],
        ]

    def filters(self) -> dict[str, str]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name)}


class OrganisationForm(forms.ModelForm):
    tags = TagsField(label=_("Tags"))

    class Meta:
        model = Organisation
        fields = [
            "name",
            "legal_name",
            "kind",
            "parent",
            "external_key",
            "tax_id",
            "website_domain",
            "email",
            "phone",
            "street",
            "city",
            "region",
            "postal_code",
            "country",
            "currency",
        ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance: Organisation = self.instance
        self.fields["parent"].queryset = selectors.parent_choices(user, instance)
        self.fields["parent"].empty_label = _("(none: top level)")
        if instance.is_vendor:
            self.fields["kind"].disabled = True
        else:
            self.fields["kind"].choices = [
                c for c in self.fields["kind"].choices if c[0] != Organisation.Kind.VENDOR
            ]
        if instance.is_vendor or (getattr(user, "is_partner", False) and instance.pk):
            # The vendor sits at the top, and partner staff cannot re-hang their organisation
            # in the network (its parent may even be hidden from them): no parent field.
            del self.fields["parent"]
        if instance.pk:
            self.fields["tags"].initial = [tag.name for tag in instance.tags.all()]
        self.fields["country"].widget.attrs.update({"placeholder": "CN", "maxlength": 2})
        self.fields["currency"].widget.attrs.update({"placeholder": "USD", "maxlength": 3})
        self.fields["website_domain"].widget.attrs["placeholder"] = "example.com"

    def clean_website_domain(self) -> str:
        return (self.cleaned_data.get("website_domain") or "").strip().lower()

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def service_data(self) -> dict[str, Any]:
        """The fields to hand to the service (disabled ones are left as they are)."""
        return {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name in self.cleaned_data and name in self.fields and not self.fields[name].disabled
        }


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["full_name", "job_title", "email", "phone", "is_primary", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = [
            "reference",
            "type",
            "start_on",
            "end_on",
            "renewal_notice_days",
            "pricing_tier",
            "terms",
        ]
        widgets = {
            "start_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "terms": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["renewal_notice_days"].max_value = 3650
        self.fields["renewal_notice_days"].validators.append(MaxValueValidator(3650))

    def clean_start_on(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("start_on"))

    def clean_end_on(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("end_on"))

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TargetForm(forms.Form):
    """One KPI target row of an agreement."""

    metric = forms.SlugField(label=_("Metric"), max_length=60)
    comparator = forms.ChoiceField(
        label=_("Comparator"),
        choices=AgreementTarget._meta.get_field("comparator").choices,
        initial=">=",
    )
    target = forms.DecimalField(label=_("Target"), max_digits=18, decimal_places=4)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    period = forms.ChoiceField(
        label=_("Period"),
        choices=AgreementTarget.Period.choices,
        initial=AgreementTarget.Period.YEAR,
    )


class BaseTargetFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            key = (form.cleaned_data.get("metric"), form.cleaned_data.get("period"))
            if key in seen:
                raise forms.ValidationError(_("Each metric may have one target per period."))
            seen.add(key)

    def rows(self) -> list[dict[str, Any]]:
        """The target rows to keep, in the shape the agreement services take."""
        return [
            {name: form.cleaned_data[name] for name in TargetForm.base_fields}
            for form in self.forms
            if form.has_changed() and not self._should_delete_form(form) and form.cleaned_data
        ]


TargetFormSet = forms.formset_factory(
    TargetForm,
    formset=BaseTargetFormSet,
    extra=2,
    can_delete=True,
    max_num=50,
    validate_max=True,
    absolute_max=60,
)


def target_initial(agreement: Agreement) -> list[dict[str, Any]]:
    return [
        {
            "metric": t.metric,
            "comparator": t.comparator,
            "target": t.target,
            "unit": t.unit,
            "period": t.period,
        }
        for t in agreement.targets.all()
    ]


class AssignmentForm(forms.Form):
    territory = forms.ModelChoiceField(
        label=_("Territory"), queryset=selectors.territory_choices(None)
    )
    exclusive = forms.BooleanField(
        label=_("Exclusive"),
        required=False,
        help_text=_("An exclusive territory is held by this organisation alone."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = selectors.territory_choices(user)
        self.fields["territory"].label_from_instance = _territory_label


def _territory_label(territory: Territory) -> str:
    return f"{'— ' * territory.depth}{territory.name} ({territory.code})"


class TerritoryForm(forms.ModelForm):
    class Meta:
        model = Territory
        fields = ["code", "name", "level", "parent"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = selectors.territory_choices(user, self.instance)
        self.fields["parent"].label_from_instance = _territory_label

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
