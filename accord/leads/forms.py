"""Forms of the lead pages: list filters, a new lead, the responses and staff actions on a
lead, the lead settings, and the routing rules editor (the ordered list of rules that
``services.save_rules`` takes, parsed from and rendered back into plain inputs so that
nothing typed is lost on an error)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.leads.models import Lead, RoutingRule
from accord.partners import selectors as partner_selectors
from accord.partners.models import Organisation

MAX_HOURS = 24 * 365
MAX_DAYS = 3650
REASON_LIMIT = 1000
FIELD_LIMIT = 200
# The editor reads at most this many rules from a post (the service has its own limit and
# says so; this only bounds what a crafted post can make us render).
MAX_POSTED = 40
# Numbers of this many digits are beyond any parameter's range (and "1e999999999" would be a
# billion-digit int): they go to the service as typed, which refuses them.
LARGEST_DIGITS = 10
KIND = RoutingRule.Kind
WEIGHTS = (
    ("lead_priority", _("Lead priority of the partner's tier")),
    ("equal", _("Equal chances")),
    ("performance", _("Performance (acceptance and win rates)")),
)
# The parameter inputs of each kind of rule (RoutingRule's docstring gives their meaning).
PARAMS: dict[str, tuple[str, ...]] = {
    KIND.TERRITORY: ("exclusive_first",),
    KIND.PARTNER_KIND: ("kinds",),
    KIND.TIER: ("min_rank", "tiers"),
    KIND.CAPACITY: ("max_open",),
    KIND.PERFORMANCE: ("min_acceptance", "min_win", "min_offers"),
    KIND.RANDOM: ("weight",),
}
INTEGER_PARAMS = ("min_rank", "max_open", "min_offers")
RATE_PARAMS = ("min_acceptance", "min_win")
RULE_TEXT = ("name", "kind")
RULE_FLAGS = ("required", "active")
RULE_INPUTS = ("id", *RULE_TEXT, *RULE_FLAGS, "exclusive_first", "min_rank", "tiers", "max_open")
RULE_INPUTS += ("min_acceptance", "min_win", "min_offers", "weight", "kinds")


def _text(value: Any, limit: int = FIELD_LIMIT) -> str:
    # NUL never belongs in a field (and PostgreSQL refuses it in text).
    return "" if value is None else str(value)[:limit].replace("\x00", "")


def partner_kinds() -> list[tuple[str, str]]:
    """The organisation kinds a lead can go to (all but the vendor)."""
    return [
        (value, label)
        for value, label in Organisation.Kind.choices
        if value != Organisation.Kind.VENDOR
    ]


class FilterForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def filters(self) -> dict[str, Any]:
        """The valid filter values (an invalid field is dropped, not reported)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in self.fields if cleaned.get(name) not in (None, "")}


class LeadFilterForm(FilterForm):
    """Staff's lead list: status, assigned partner, territory (with its subtree), text."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, company, contact…")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Lead.Status.choices]
    )
    partner = forms.TypedChoiceField(label=_("Partner"), required=False, coerce=int)
    territory = forms.TypedChoiceField(label=_("Territory"), required=False, coerce=int)

    def __init__(
        self,
        *args: Any,
        partners: Iterable[tuple[int, str]] = (),
        territories: Iterable[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [
            ("", _("Any partner")),
            (0, _("Not assigned")),
            *partners,
        ]
        self.fields["territory"].choices = [("", _("Any territory")), *territories]


def territory_options(user: Any) -> list[tuple[int, str]]:
    """Visible territories, tree-ordered, indented by depth for a select."""
    return [
        (territory.pk, "\u2003" * max(territory.path.count("/") - 2, 0) + territory.name)
        for territory in partner_selectors.territory_choices(user)
    ]


class LeadForm(forms.Form):
    """A new lead; ``services.create_lead`` validates it again and routes it."""

    company_name = forms.CharField(label=_("Company"), max_length=200)
    contact_name = forms.CharField(label=_("Contact"), max_length=150, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("ISO code, e.g. CN, DE."),
    )
    region = forms.CharField(label=_("Province / state"), max_length=100, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    territory = forms.TypedChoiceField(
        label=_("Territory"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Territory rules route the lead to partners of this territory or above."),
    )
    product_line = forms.CharField(label=_("Product line"), max_length=100, required=False)
    value = forms.DecimalField(
        label=_("Estimated value"),
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(0),
        initial=Decimal(0),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="USD")
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    external_key = forms.CharField(
        label=_("External key"),
        max_length=100,
        required=False,
        help_text=_("The lead's id in another system, if any (unique)."),
    )

    FIELDS = (
        "company_name",
        "contact_name",
        "contact_email",
        "contact_phone",
        "country",
        "region",
        "city",
        "territory",
        "product_line",
        "value",
        "currency",
        "description",
        "external_key",
    )

    def __init__(
        self,
        *args: Any,
        territories: Iterable[tuple[int, str]] = (),
        product_lines: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["territory"].choices = [("", _("(none)")), *territories]
        self.fields["country"].widget.attrs.update({"placeholder": "CN", "maxlength": 2})
        self.fields["currency"].widget.attrs.update({"placeholder": "USD", "maxlength": 3})
        self.product_lines = list(product_lines)
        if self.product_lines:
            self.fields["product_line"].widget.attrs["list"] = "product-lines"

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def clean_external_key(self) -> str | None:
        return (self.cleaned_data.get("external_key") or "").strip() or None

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


def _reason(required: bool, label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or (_("Reason") if required else _("Reason (optional)")),
        required=required,
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DeclineForm(ActionForm):
    reason = _reason(True, _("Why do you decline this lead?"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class AssignForm(ActionForm):
    """Staff give the lead to a partner by hand (routing rules are not consulted)."""

    organisation = forms.TypedChoiceField(label=_("Partner"), coerce=int)
    reason = _reason(True)

    def __init__(self, *args: Any, partners: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", _("Choose a partner")), *partners]


class CloseForm(ActionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(Lead.Status.WON, _("Won")), (Lead.Status.LOST, _("Lost"))],
        widget=forms.RadioSelect,
    )
    reason = _reason(False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)


class SettingsForm(forms.Form):
    """The acceptance SLA (and per tier of the chosen program), offers before manual review
    and the performance window; one field ``tier_<code>`` per live tier of the program."""

    acceptance_hours = forms.IntegerField(
        label=_("Acceptance SLA (hours)"),
        min_value=1,
        max_value=MAX_HOURS,
        help_text=_("How long a partner has to accept an offered lead, unless its tier says."),
    )
    tier_program = forms.TypedChoiceField(
        label=_("Program for tiers"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "Its live tiers give per-tier SLAs here and the lead priority routing rules read."
        ),
    )
    max_offers = forms.IntegerField(
        label=_("Offers before manual review"),
        min_value=1,
        max_value=100,
        help_text=_("After this many offers (declined or recalled) the lead goes to a person."),
    )
    performance_days = forms.IntegerField(
        label=_("Performance window (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_("Acceptance and win rates are counted over this many days."),
    )

    def __init__(
        self,
        *args: Any,
        programs: Iterable[tuple[int, str]] = (),
        tiers: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["tier_program"].choices = [("", _("(none: one SLA for all)")), *programs]
        self.tier_codes: list[str] = []
        for code, label in tiers:
            name = f"tier_{code}"
            self.tier_codes.append(code)
            self.fields[name] = forms.IntegerField(
                label=_("SLA for %(tier)s (hours)") % {"tier": label},
                required=False,
                min_value=1,
                max_value=MAX_HOURS,
                help_text=_("Empty: the SLA above."),
            )

    def tier_fields(self) -> list[forms.BoundField]:
        return [self[f"tier_{code}"] for code in self.tier_codes]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("max_offers", "performance_days")]

    def service_data(self) -> dict[str, Any]:
        """The settings for ``services.update_settings``: per-tier hours only for the tiers
        shown (the chosen program's), so that another program's codes do not linger."""
        hours = {
            code: self.cleaned_data[f"tier_{code}"]
            for code in self.tier_codes
            if self.cleaned_data.get(f"tier_{code}") is not None
        }
        return {
            "acceptance_hours": self.cleaned_data["acceptance_hours"],
            "tier_program": self.cleaned_data["tier_program"],
            "tier_acceptance_hours": hours,
            "max_offers": self.cleaned_data["max_offers"],
            "performance_days": self.cleaned_data["performance_days"],
        }

    def add_service_error(self, key: str, messages: list[str]) -> None:
        """A service error on the field it names (``tier_acceptance_hours.gold`` is the
        Gold input), else on top."""
        name = key
        if key.startswith("tier_acceptance_hours."):
            name = "tier_" + key.split(".", 1)[1]
        if name in self.fields:
            self.add_error(name, messages)
        else:
            label = "" if key in ("__all__", "non_field_errors") else f"{key}: "
            self.add_error(None, [f"{label}{message}" for message in messages])


# -- the routing rules editor --------------------------------------------------------------
def new_rule(kind: str = KIND.TERRITORY) -> dict[str, Any]:
    return {
        "id": "",
        "name": "",
        "kind": kind,
        "required": False,
        "active": True,
        **default_params(kind),
        "errors": {},
    }


def default_params(kind: str) -> dict[str, Any]:
    """The inputs of every kind, with the defaults of ``kind`` filled in."""
    return {
        "exclusive_first": kind == KIND.TERRITORY,
        "kinds": [],
        "min_rank": "",
        "tiers": [],
        "max_open": "10" if kind == KIND.CAPACITY else "",
        "min_acceptance": "",
        "min_win": "",
        "min_offers": "",
        "weight": "lead_priority",
    }


def _tier_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,;\s\uff0c\uff1b]+", value)
    if not isinstance(value, list | tuple):
        return []
    return [_text(item).strip() for item in value if _text(item).strip()][:MAX_POSTED]


def editor_state(rules: Iterable[RoutingRule]) -> dict[str, Any]:
    """The editor's fields from the saved rules, in order."""
    state: dict[str, Any] = {"rules": [], "errors": {}}
    for rule in rules:
        params = rule.params if isinstance(rule.params, dict) else {}
        row = new_rule(rule.kind)
        row.update(id=str(rule.pk), name=rule.name, required=rule.required, active=rule.active)
        for name in PARAMS.get(rule.kind, ()):
            if name not in params:
                continue
            value = params[name]
            if name in ("kinds", "tiers"):
                row[name] = _tier_list(value)
            elif name == "exclusive_first":
                row[name] = bool(value)
            else:
                row[name] = _text(value)
        state["rules"].append(row)
    return state


def _indexes(data: Mapping[str, Any]) -> list[int]:
    pattern = re.compile(r"r(\d{1,4})-kind")
    found = sorted({int(match.group(1)) for key in data if (match := pattern.fullmatch(key))})
    return found[:MAX_POSTED]


def parse_editor(data: Any) -> dict[str, Any]:
    """The editor's fields from a post (a QueryDict), in the order the page showed them.

    Every kind's parameter inputs are read back, so that switching a rule's kind and back
    loses nothing; only the chosen kind's go to the service.
    """
    state: dict[str, Any] = {"rules": [], "errors": {}}
    for index in _indexes(data):
        at = f"r{index}-"
        kind = _text(data.get(at + "kind")).strip()
        row = new_rule(kind)
        rule_id = _text(data.get(at + "id"), 20).strip()
        row["id"] = rule_id if rule_id.isascii() and rule_id.isdigit() else ""
        row["name"] = _text(data.get(at + "name"), 100).strip()
        for flag in RULE_FLAGS:
            row[flag] = bool(data.get(at + flag))
        row["exclusive_first"] = bool(data.get(at + "exclusive_first"))
        getlist = getattr(data, "getlist", None)
        for name in ("kinds", "tiers"):
            values = getlist(at + name) if getlist else data.get(at + name, [])
            if isinstance(values, str):
                values = [values]
            row[name] = _tier_list([part for value in values for part in _tier_list(value)])
        for name in (*INTEGER_PARAMS, *RATE_PARAMS, "weight"):
            row[name] = _text(data.get(at + name), 40).strip()
        state["rules"].append(row)
    return state


OPERATION = re.compile(r"(?P<verb>add|remove|up|down|refresh)(?:-(?P<rule>\d{1,4}))?")


def apply_operation(state: dict[str, Any], operation: str) -> bool:
    """Add, remove or move a rule in ``state`` ("refresh" only re-renders, e.g. after a kind
    was changed); False when ``operation`` is not one (a crafted or stale button)."""
    match = OPERATION.fullmatch(operation or "")
    if match is None:
        return False
    verb = match.group("verb")
    rules = state["rules"]
    if verb == "refresh":
        return True
    if verb == "add":
        if len(rules) >= MAX_POSTED:
            return False
        rules.append(new_rule())
        return True
    if match.group("rule") is None or int(match.group("rule")) >= len(rules):
        return False
    index = int(match.group("rule"))
    if verb == "remove":
        del rules[index]
    elif verb == "up" and index > 0:
        rules[index - 1], rules[index] = rules[index], rules[index - 1]
    elif verb == "down" and index < len(rules) - 1:
        rules[index + 1], rules[index] = rules[index], rules[index + 1]
    else:
        return False
    return True


def _number(value: str, integer: bool) -> Any:
    """A typed number for the JSON parameters; text that is not one goes as typed, for the
    service to refuse with a field error."""
    if not value.isascii():
        return value
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    if not number.is_finite() or number.adjusted() >= LARGEST_DIGITS:
        return value
    if integer and number == number.to_integral_value():
        return int(number)
    return value if integer else float(number)


def rule_params(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``params`` of one rule row for ``services.save_rules`` (only its kind's)."""
    kind = row["kind"]
    params: dict[str, Any] = {}
    if kind == KIND.TERRITORY:
        params["exclusive_first"] = bool(row["exclusive_first"])
    elif kind == KIND.PARTNER_KIND:
        params["kinds"] = list(row["kinds"])
    elif kind == KIND.TIER:
        # One or the other: the service says so when both or neither are given.
        if row["tiers"]:
            params["tiers"] = list(row["tiers"])
        if row["min_rank"] != "":
            params["min_rank"] = _number(row["min_rank"], integer=True)
    elif kind == KIND.CAPACITY:
        params["max_open"] = _number(row["max_open"], integer=True)
    elif kind == KIND.PERFORMANCE:
        for name in RATE_PARAMS:
            if row[name] != "":
                params[name] = _number(row[name], integer=False)
        if row["min_offers"] != "":
            params["min_offers"] = _number(row["min_offers"], integer=True)
    elif kind == KIND.RANDOM:
        params["weight"] = row["weight"]
    return params


def editor_rules(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The list ``services.save_rules`` takes, from the editor's fields."""
    return [
        {
            **({"id": int(row["id"])} if row["id"] else {}),
            "name": row["name"],
            "kind": row["kind"],
            "required": row["required"],
            "active": row["active"],
            "params": rule_params(row),
        }
        for row in state["rules"]
    ]


ERROR_KEY = re.compile(r"rules\.(?P<rule>\d+)(?:\.(?:params\.)?(?P<field>[\w.]+))?")


def attach_errors(state: dict[str, Any], errors: Mapping[str, list[str]]) -> list[str]:
    """Put each service error (keys like ``rules.2.max_open`` or ``rules.2.params.max_open``)
    next to its input in ``state``; the messages that belong to no input are returned for
    the top of the page."""
    loose: list[str] = []
    for key, messages in errors.items():
        messages = [str(message) for message in messages]
        match = ERROR_KEY.fullmatch(key)
        if match is None:
            if key == "rules":
                state["errors"].setdefault("rules", []).extend(messages)
            else:
                label = "" if key in ("__all__", "non_field_errors") else f"{key}: "
                loose.extend(f"{label}{message}" for message in messages)
            continue
        index = int(match.group("rule"))
        if index >= len(state["rules"]):
            loose.extend(messages)
            continue
        row = state["rules"][index]
        field = (match.group("field") or "all").split(".", 1)[0]
        if field == "params":
            for message in messages:
                row["errors"].setdefault(_param_named(row["kind"], message), []).append(message)
            continue
        if field not in RULE_INPUTS:
            field = "all"
        row["errors"].setdefault(field, []).extend(messages)
    return loose


def _param_named(kind: str, message: str) -> str:
    """The parameter input a message about a rule's parameters is about: the one input of
    the rule's kind it names, else the parameters as a whole."""
    named = [name for name in PARAMS.get(kind, ()) if re.search(rf"\b{name}\b", message)]
    return named[0] if len(named) == 1 else "params"


def number_inputs(state: dict[str, Any]) -> dict[str, Any]:
    """Give every rule the input names of its position (``r2-max_open``), which is also the
    position service errors name (``rules.2.max_open``)."""
    for index, row in enumerate(state["rules"]):
        row["index"] = index
        row["names"] = {name: f"r{index}-{name}" for name in RULE_INPUTS}
    return state


def has_errors(state: Mapping[str, Any]) -> bool:
    return bool(state["errors"]) or any(row["errors"] for row in state["rules"])
