"""Forms of the deal registration pages: the registration (with its live similarity check),
list filters, the decisions and their reasons, the rules of engagement, named accounts.

Forms validate and clean; ``accord.deals.services`` writes. Choice fields offer only rows
the user may see (through the selectors).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from accord.channel import selectors as channel_selectors
from accord.core.forms import TagsField
from accord.core.schemas import MAX_ID
from accord.deals import selectors
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from accord.partners import selectors as partner_selectors

MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)
MAX_VALUE = Decimal("9999999999999999.99")
REASON_LIMIT = 2000
COUNTRY = RegexValidator(r"^[A-Za-z]{2}$", _("Enter a two-letter country code (ISO 3166)."))
CURRENCY = RegexValidator(r"^[A-Za-z]{3}$", _("Enter a three-letter currency code (ISO 4217)."))
# The registration fields the service takes, in the order the form shows them.
CUSTOMER_FIELDS = (
    "customer_name",
    "customer_tax_id",
    "customer_domain",
    "customer_street",
    "customer_city",
    "customer_region",
    "customer_country",
)
TIER_PREFIX = "window_"


class ProductsField(forms.ModelMultipleChoiceField):
    """Products by id: an id beyond what the database stores is an invalid choice, not a 500
    (Django's ``pk__in`` lookup sends it to the database as it is)."""

    def _check_values(self, value: Any) -> Any:
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


def _check_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise forms.ValidationError(_("Enter a date between 1990 and 2999."))
    return value


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RegistrationFilterForm(_Form):
    """The registration list's filters; invalid values are ignored, never an error page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, customer, tax id, domain…")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Registration.Status.choices],
    )
    organisation = forms.TypedChoiceField(
        label=_("Registered by"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if getattr(user, "is_partner", True):
            del self.fields["organisation"]
        else:
            self.fields["organisation"].choices = [
                ("", _("Any organisation")),
                *channel_selectors.organisation_choices(user),
            ]

    def filters(self) -> dict[str, Any]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name)}


class RegistrationForm(_Form):
    """A deal registration: the end customer, what is sold, its value and expected close.

    Vendor staff also choose who registers it: the vendor itself (direct sales) or a partner
    on whose behalf they register."""

    organisation = forms.TypedChoiceField(label=_("Registered by"), coerce=int)
    customer_name = forms.CharField(label=_("End customer"), max_length=200)
    customer_tax_id = forms.CharField(
        label=_("Tax / registration id"),
        max_length=50,
        required=False,
        help_text=_("For example the unified social credit code or the VAT number."),
    )
    customer_domain = forms.CharField(
        label=_("Website domain"),
        max_length=253,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "example.com"}),
    )
    customer_street = forms.CharField(label=_("Street"), max_length=200, required=False)
    customer_city = forms.CharField(label=_("City"), max_length=100, required=False)
    customer_region = forms.CharField(label=_("Province / state"), max_length=100, required=False)
    customer_country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        validators=[COUNTRY],
        widget=forms.TextInput(attrs={"placeholder": "CN", "autocomplete": "country"}),
    )
    territory = forms.ModelChoiceField(
        label=_("Territory"), queryset=None, required=False, empty_label=_("(none)")
    )
    product_lines = forms.MultipleChoiceField(
        label=_("Product lines"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("At least one product line, chosen here or through the products."),
    )
    other_lines = TagsField(
        label=_("Other product lines"),
        help_text=_("Lines not in the list, separated by commas."),
    )
    products = ProductsField(
        label=_("Products"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    value = forms.DecimalField(
        label=_("Estimated value"),
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_VALUE,
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        validators=[CURRENCY],
        widget=forms.TextInput(attrs={"placeholder": "USD"}),
    )
    expected_close = forms.DateField(
        label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, user: Any, registration: Registration | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        organisation_field = self.fields["organisation"]
        if registration is not None or getattr(user, "is_partner", True):
            # Partners register for their own organisation; a registration keeps its own.
            del self.fields["organisation"]
        else:
            organisation_field.choices = channel_selectors.organisation_choices(user)
            self.initial.setdefault("organisation", user.organisation_id)
        self.fields["territory"].queryset = partner_selectors.territory_choices(user)
        lines = selectors.product_lines()
        self.fields["product_lines"].choices = [(line, line) for line in lines]
        self.fields["products"].queryset = channel_selectors.search_products(
            user, active=True, sort="name"
        )
        if registration is None:
            organisation = getattr(user, "organisation", None)
            self.initial.setdefault("currency", getattr(organisation, "currency", "") or "USD")

    def clean_customer_name(self) -> str:
        name = self.cleaned_data["customer_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the end customer's name."))
        return name

    def clean_customer_country(self) -> str:
        return self.cleaned_data["customer_country"].upper()

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def clean_expected_close(self) -> dt.date | None:
        return _check_date(self.cleaned_data.get("expected_close"))

    def _lines(self) -> list[str]:
        cleaned = getattr(self, "cleaned_data", {})
        chosen = list(cleaned.get("product_lines") or [])
        return chosen + [line for line in cleaned.get("other_lines") or [] if line not in chosen]

    def service_data(self) -> dict[str, Any]:
        """The cleaned fields as ``services.submit_registration`` takes them."""
        cleaned = self.cleaned_data
        data: dict[str, Any] = {name: cleaned[name] for name in CUSTOMER_FIELDS}
        territory = cleaned.get("territory")
        data.update(
            territory=territory.pk if territory else None,
            product_lines=self._lines(),
            products=[product.pk for product in cleaned.get("products") or []],
            value=cleaned["value"],
            currency=cleaned["currency"],
            expected_close=cleaned["expected_close"],
            notes=cleaned.get("notes", ""),
        )
        return data

    def partial_data(self) -> dict[str, Any]:
        """What the live similarity check can use of a form still being typed: the valid
        customer fields and product lines (the rest is not needed to find conflicts)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        data: dict[str, Any] = {name: cleaned.get(name, "") for name in CUSTOMER_FIELDS}
        territory = cleaned.get("territory")
        data["territory"] = territory.pk if territory else None
        data["product_lines"] = self._lines()
        data["products"] = [product.pk for product in cleaned.get("products") or []]
        if cleaned.get("organisation"):
            data["organisation"] = cleaned["organisation"]
        return data

    @staticmethod
    def initial_from(registration: Registration) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(registration, name) for name in CUSTOMER_FIELDS}
        known = set(selectors.product_lines())
        lines = registration.product_lines()
        initial.update(
            territory=registration.territory_id,
            product_lines=[line for line in lines if line in known],
            other_lines=[line for line in lines if line not in known],
            products=[product.pk for product in registration.products.all()],
            value=registration.value,
            currency=registration.currency,
            expected_close=registration.expected_close,
            notes=registration.notes,
        )
        return initial


class ReasonForm(_Form):
    """The reason a decision records (required or not, the service says)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(ReasonForm):
    """A channel manager's verdict on one conflict."""

    resolution = forms.ChoiceField(
        label=_("Verdict"),
        choices=[
            (Conflict.Resolution.DISMISSED, _("Not a conflict")),
            (Conflict.Resolution.UPHELD, _("Upheld: a real conflict")),
        ],
    )
    field_order = ("resolution", "reason")


class RulesForm(forms.ModelForm):
    """The rules of engagement, with one protection window per tier of the chosen program's
    live version (empty: the general window)."""

    class Meta:
        model = EngagementRules
        fields = [
            "policy",
            "name_threshold",
            "require_product_overlap",
            "check_territories",
            "check_named_accounts",
            "auto_approve",
            "reveal_conflicts",
            "approval_sla_hours",
            "protection_days",
            "extension_days",
            "expiry_reminder_days",
            "tier_program",
        ]

    def __init__(
        self,
        *args: Any,
        programs: Any,
        tiers: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["tier_program"].queryset = programs
        self.fields["tier_program"].empty_label = _("(none: one window for everybody)")
        days = self.instance.tier_protection_days or {}
        for code, name in tiers:
            self.fields[f"{TIER_PREFIX}{code}"] = forms.IntegerField(
                label=_("%(tier)s (days)") % {"tier": name},
                required=False,
                min_value=1,
                max_value=3650,
                initial=days.get(code),
                help_text=_("Empty: the general protection window."),
            )

    def tier_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(TIER_PREFIX)]

    def service_data(self) -> dict[str, Any]:
        cleaned = self.cleaned_data
        data = {name: cleaned[name] for name in self.Meta.fields if name != "tier_program"}
        program = cleaned.get("tier_program")
        data["tier_program"] = program.pk if program else None
        data["tier_protection_days"] = {
            name.removeprefix(TIER_PREFIX): cleaned[name]
            for name in self.fields
            if name.startswith(TIER_PREFIX) and cleaned.get(name)
        }
        return data


class EndCustomerFilterForm(_Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, tax id, domain…")}),
    )
    scope = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Named accounts")), ("all", _("All end customers"))],
    )

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name)}


class EndCustomerForm(_Form):
    """An end customer: a direct-sales named account when ``named_account`` is on."""

    name = forms.CharField(label=_("Name"), max_length=200)
    tax_id = forms.CharField(label=_("Tax / registration id"), max_length=50, required=False)
    domain = forms.CharField(label=_("Website domain"), max_length=253, required=False)
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, validators=[COUNTRY]
    )
    region = forms.CharField(label=_("Province / state"), max_length=100, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    territory = forms.ModelChoiceField(
        label=_("Territory"), queryset=None, required=False, empty_label=_("(none)")
    )
    named_account = forms.BooleanField(
        label=_("Direct-sales named account"),
        required=False,
        help_text=_("Partners' registrations for this customer are flagged as conflicts."),
    )
    account_owner = forms.TypedChoiceField(
        label=_("Account owner"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, user: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = partner_selectors.territory_choices(user)
        self.fields["account_owner"].choices = [("", _("(none)")), *owners]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the customer's name."))
        return name

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def service_data(self) -> dict[str, Any]:
        cleaned = dict(self.cleaned_data)
        territory = cleaned.pop("territory", None)
        cleaned["territory"] = territory.pk if territory else None
        return cleaned

    @staticmethod
    def initial_from(customer: EndCustomer) -> dict[str, Any]:
        return {
            "name": customer.name,
            "tax_id": customer.tax_key,
            "domain": customer.domain_key,
            "country": customer.country,
            "region": customer.region,
            "city": customer.city,
            "territory": customer.territory_id,
            "named_account": customer.named_account,
            "account_owner": customer.account_owner_id,
        }
