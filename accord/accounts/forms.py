"""Forms of the account pages: API tokens and user administration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.accounts import selectors
from accord.accounts.models import User

MAX_TOKEN_LIFETIME_DAYS = 5 * 366


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_('What the token is for, e.g. "ERP sync".'),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional. The token stops working at the start of this day."),
    )

    def clean_expires_on(self) -> dt.date | None:
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        today = timezone.localdate()
        if value <= today:
            raise forms.ValidationError(_("The expiry must be in the future."))
        if value > today + dt.timedelta(days=MAX_TOKEN_LIFETIME_DAYS):
            raise forms.ValidationError(_("A token lives at most five years."))
        return value

    def expires_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


class UserFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, e-mail, organisation…")}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class UserForm(forms.Form):
    """Create or edit a user; roles offered fit the user's organisation (vendor or partner)."""

    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=selectors.user_organisation_choices(None)
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=selectors.role_choices(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_('Leave empty to let the user set one through "Forgot password".'),
    )

    def __init__(self, *args: Any, actor: Any, instance: User | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "email": instance.email,
                    "full_name": instance.full_name,
                    "organisation": instance.organisation_id,
                    "roles": [role.code for role in instance.roles.all()],
                    "language": instance.language,
                    "is_active": instance.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser default")), *settings.LANGUAGES]
        self.fields["organisation"].queryset = selectors.user_organisation_choices(actor)
        if getattr(actor, "is_partner", False):
            self.fields["roles"].queryset = selectors.role_choices(for_partners=True)
        if instance is not None:
            # A user stays in their organisation; the roles offered fit it.
            self.fields["organisation"].disabled = True
            self.fields["roles"].queryset = selectors.role_choices(
                for_partners=not instance.organisation.is_vendor
            )
            del self.fields["password"]
        self.fields["roles"].label_from_instance = lambda role: role.display_name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "email": data["email"],
            "full_name": data["full_name"],
            "language": data.get("language") or "",
            "is_active": bool(data.get("is_active")),
        }

    def role_codes(self) -> list[str]:
        return [role.code for role in self.cleaned_data.get("roles") or []]
