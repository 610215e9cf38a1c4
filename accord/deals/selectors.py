"""Reads of accord.deals: registrations as a user may see them, the approval queue, and
conflicts shown side by side, redacted for partners (another partner's registration is only
"a conflicting registration exists" unless the rules of engagement reveal it)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accord.channel.models import Product
from accord.core.errors import Http404
from accord.core.models import AuditEntry
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from accord.partners.models import Organisation


def registrations(user: Any) -> QuerySet:
    """The registrations ``user`` may see (partners: their organisation's)."""
    return Registration.objects.restrict(user, "view").select_related(
        "organisation", "registered_by"
    )


def get_registration(user: Any, pk: int) -> Registration:
    try:
        return registrations(user).get(pk=pk)
    except (Registration.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def approval_queue(user: Any) -> QuerySet:
    """Submitted registrations awaiting a decision, the most urgent first; empty for users
    who may not decide."""
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or user.is_partner
        or not user.has_perm("deals.decide_registration")
    ):
        return Registration.objects.none()
    return (
        registrations(user)
        .filter(status=Registration.Status.SUBMITTED)
        .order_by("approval_due", "submitted_at", "pk")
    )


def reason_label(reason: dict[str, Any], *, hidden: bool = False) -> str:
    """A reason as a sentence in the active language (without details when hidden)."""
    code = reason.get("code")
    if code == "tax_id":
        return _("Same tax / registration id")
    if code == "domain":
        if hidden:
            return _("Same website domain")
        return _("Same website domain (%(domain)s)") % {"domain": reason.get("domain", "")}
    if code == "name":
        if hidden:
            return _("Similar company name")
        return _("Similar company name: %(score)s%% (“%(a)s” / “%(b)s”)") % {
            "score": reason.get("score", ""),
            "a": reason.get("name_key", ""),
            "b": reason.get("other_name_key", ""),
        }
    if code == "same_customer":
        return _("Resolved to the same end customer")
    if code == "products":
        if hidden:
            return _("Overlapping product lines")
        return _("Overlapping product lines: %(lines)s") % {
            "lines": ", ".join(reason.get("product_lines", []))
        }
    if code == "named_account":
        return _("A direct-sales named account")
    if code == "territory":
        if hidden:
            return _("Another partner's exclusive territory")
        return _("Exclusive territory %(territory)s") % {
            "territory": reason.get("territory_name", "")
        }
    if code == "duplicate":
        return _("The same organisation has already registered this customer")
    return str(code)


def _sees_other_side(user: Any, conflict: Conflict, rules: EngagementRules) -> bool:
    """Whether ``user`` may see who is on the other side of ``conflict``."""
    if user is None or rules.reveal_conflicts:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if not user.is_partner:
        return True
    if conflict.kind != Conflict.Kind.REGISTRATION or conflict.holder_id is None:
        return False
    return Organisation.objects.restrict(user, "view").filter(pk=conflict.holder_id).exists()


def conflict_view(
    user: Any, conflict: Conflict, *, rules: EngagementRules | None = None
) -> dict[str, Any]:
    """One conflict as ``user`` may see it: score, translated reasons, and the other side
    (registration or end customer) unless it must stay hidden."""
    rules = rules or EngagementRules.current()
    visible = _sees_other_side(user, conflict, rules)
    hidden = not visible
    reasons = []
    for reason in conflict.reasons:
        shown = (
            {
                "code": reason.get("code"),
                **({"score": reason["score"]} if "score" in reason else {}),
            }
            if hidden
            else dict(reason)
        )
        shown["label"] = reason_label(reason, hidden=hidden)
        reasons.append(shown)
    other = None
    if visible and conflict.other_id is not None:
        registration = conflict.other
        other = {
            "id": registration.pk,
            "number": registration.number,
            "organisation": registration.organisation.name,
            "organisation_id": registration.organisation_id,
            "customer_name": registration.customer_name,
            "customer_tax_id": registration.customer_tax_id,
            "customer_domain": registration.customer_domain,
            "customer_country": registration.customer_country,
            "status": registration.status,
            "product_lines": registration.product_lines(),
            "submitted_at": registration.submitted_at,
            "protected_until": registration.protected_until,
        }
    end_customer = None
    if visible and conflict.end_customer_id is not None:
        customer = conflict.end_customer
        end_customer = {
            "id": customer.pk,
            "name": customer.name,
            "named_account": customer.named_account,
            "country": customer.country,
            "tax_key": customer.tax_key,
            "domain_key": customer.domain_key,
        }
    holder = None
    if visible and conflict.holder_id is not None:
        holder = {"id": conflict.holder_id, "name": conflict.holder.name}
    return {
        "id": conflict.pk,
        "kind": str(conflict.kind),
        "kind_label": str(Conflict.Kind(conflict.kind).label),
        "score": conflict.score,
        "reasons": reasons,
        "blocking": conflict.blocking,
        "resolution": str(conflict.resolution),
        "resolution_reason": conflict.resolution_reason if visible else "",
        "hidden": hidden,
        "other": other,
        "end_customer": end_customer,
        "holder": holder,
    }


def conflicts(user: Any, registration: Registration) -> list[dict[str, Any]]:
    """The conflicts of a registration ``user`` may see, strongest first, each redacted."""
    get_registration(user, registration.pk)
    rules = EngagementRules.current()
    rows = (
        Conflict.objects.restrict(user, "view")
        .filter(registration=registration)
        .select_related("other__organisation", "end_customer", "holder")
        .prefetch_related("other__lines")
        .order_by("-blocking", "-score", "pk")
    )
    return [conflict_view(user, row, rules=rules) for row in rows]


def end_customers(user: Any) -> QuerySet:
    """Resolved end customers and named accounts, by name (vendor staff)."""
    return EndCustomer.objects.restrict(user, "view").order_by("name", "pk")


def history(user: Any, registration: Registration) -> QuerySet:
    """The audit entries of a registration ``user`` may see, newest first."""
    get_registration(user, registration.pk)
    return AuditEntry.objects.restrict(user, "view").for_object(registration)


def product_lines() -> list[str]:
    """The catalogue's product lines, sorted."""
    return list(
        Product.objects.exclude(product_line="")
        .order_by("product_line")
        .values_list("product_line", flat=True)
        .distinct()
    )
