"""Reads of accord.leads: leads, a partner's inbox, routing history and rules as each user may
see them, and the routing trace of an event as sentences in the reader's language."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.core.errors import Http404
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from accord.partners.models import Organisation


def leads(user: Any) -> QuerySet:
    """The leads ``user`` may see: staff all (or their territories'), partners those
    offered or assigned to their organisation."""
    return Lead.objects.restrict(user, "view").select_related("assigned_to", "territory")


def get_lead(user: Any, pk: int) -> Lead:
    lead = leads(user).filter(pk=pk).first()
    if lead is None:
        raise Http404
    return lead


def inbox(user: Any) -> QuerySet:
    """The leads waiting for the user's own organisation to accept or decline, the most
    urgent first."""
    organisation_id = getattr(user, "organisation_id", None)
    if organisation_id is None:
        return Lead.objects.none()
    return (
        leads(user)
        .filter(status=Lead.Status.OFFERED, assigned_to_id=organisation_id)
        .order_by("accept_by", "pk")
    )


def events(user: Any, lead: Lead) -> QuerySet:
    """The routing history of ``lead`` that ``user`` may see (a partner: only the events
    about its own organisation)."""
    return (
        RoutingEvent.objects.restrict(user, "view")
        .filter(lead=lead)
        .select_related("organisation", "actor")
        .order_by("at", "pk")
    )


def rules(user: Any) -> QuerySet:
    return RoutingRule.objects.restrict(user, "view").order_by("position", "pk")


def lead_settings(user: Any) -> LeadSettings:
    """The lead settings, for staff who may read them."""
    if not user.has_perm("leads.view_leadsettings"):
        raise Http404
    return LeadSettings.current()


def _rate(value: Any) -> str:
    return f"{float(value) * 100:.0f}%"


def _weight_label(method: str) -> str:
    return {
        "lead_priority": _("lead priority"),
        "equal": _("equal weights"),
        "performance": _("performance"),
    }.get(method, method)


def _detail_text(kind: str, detail: dict[str, Any]) -> str:
    """What a rule looked at, in words."""
    if kind == RoutingRule.Kind.TERRITORY:
        if detail.get("no_territory"):
            return _("the lead has no territory and none matches its place")
        territory = (detail.get("territory") or {}).get("name", "")
        matched = (detail.get("matched") or {}).get("name")
        if matched:
            text = _("in %(matched)s (none in %(territory)s, walked up the tree)") % {
                "matched": matched,
                "territory": territory,
            }
        else:
            text = _("in %(territory)s") % {"territory": territory}
        if detail.get("resolved_from"):
            text += ", " + _("territory found from the lead's %(field)s") % {
                "field": {
                    "city": _("city"),
                    "region": _("province / state"),
                    "country": _("country"),
                }.get(detail["resolved_from"], detail["resolved_from"])
            }
        if detail.get("exclusive"):
            text += ", " + _("the exclusive holder first")
        return text
    if kind == RoutingRule.Kind.PARTNER_KIND:
        labels = dict(Organisation.Kind.choices)
        return _("of kind %(kinds)s") % {
            "kinds": ", ".join(str(labels.get(k, k)) for k in detail.get("kinds", []))
        }
    if kind == RoutingRule.Kind.TIER:
        if detail.get("no_program"):
            return _("no program is set for tiers")
        if "min_rank" in detail:
            return _("with a tier of rank %(rank)s or higher") % {"rank": detail["min_rank"]}
        return _("in tier %(tiers)s") % {"tiers": ", ".join(detail.get("tiers", []))}
    if kind == RoutingRule.Kind.CAPACITY:
        return _("with fewer than %(count)s open leads") % {"count": detail.get("max_open")}
    if kind == RoutingRule.Kind.PERFORMANCE:
        parts = []
        if detail.get("min_acceptance") is not None:
            parts.append(_("acceptance ≥ %(rate)s") % {"rate": _rate(detail["min_acceptance"])})
        if detail.get("min_win") is not None:
            parts.append(_("win rate ≥ %(rate)s") % {"rate": _rate(detail["min_win"])})
        text = _("%(conditions)s over %(days)s days") % {
            "conditions": ", ".join(parts),
            "days": detail.get("days"),
        }
        if detail.get("untested"):
            text += ", " + ngettext(
                "%(count)d with fewer than %(offers)d offers passed",
                "%(count)d with fewer than %(offers)d offers passed",
                detail["untested"],
            ) % {"count": detail["untested"], "offers": detail.get("min_offers", 0)}
        return text
    if kind == RoutingRule.Kind.RANDOM:
        text = _("weighted by %(weight)s") % {"weight": _weight_label(detail.get("weight", ""))}
        if detail.get("default"):
            text = _("%(text)s (there is no weighted random rule)") % {"text": text}
        return text
    return ""


def explain(event: RoutingEvent) -> list[str]:
    """The routing decision of ``event`` as lines in the active language, one per rule run,
    then the draw and the pick (or why the lead went to manual review)."""
    trace = event.trace or {}
    lines: list[str] = []
    if "candidates" in trace:
        lines.append(
            ngettext(
                "%(count)d active partner had not been offered this lead yet.",
                "%(count)d active partners had not been offered this lead yet.",
                trace["candidates"],
            )
            % {"count": trace["candidates"]}
        )
    for step in trace.get("steps", []):
        detail = step.get("detail") or {}
        before, after = step.get("before", 0), step.get("after", 0)
        values = {
            "name": step.get("name", "") if step.get("rule") is not None else _("Final pick"),
            "required": _("required") if step.get("required") else _("optional"),
            "before": before,
            "after": after,
            "detail": _detail_text(step.get("kind", ""), detail),
        }
        if step.get("kind") == RoutingRule.Kind.RANDOM:
            line = _("%(name)s: one of %(before)s partners, %(detail)s")
        elif step.get("skipped"):
            line = _(
                "%(name)s (%(required)s): %(before)s → %(after)s partners %(detail)s; "
                "skipped, since it left nobody"
            )
        else:
            line = _("%(name)s (%(required)s): %(before)s → %(after)s partners %(detail)s")
        lines.append((line % values).replace("  ", " ").strip())
    result = trace.get("result")
    if "chosen" in trace and result == "offered":
        weights = trace.get("weights") or {}
        chosen = str(trace["chosen"])
        total = sum(float(w) for w in weights.values())
        name = _organisation_name(trace["chosen"], event)
        lines.append(
            _("Drew %(draw).4f: %(organisation)s (weight %(weight)s of %(total)s).")
            % {
                "draw": float(trace.get("draw", 0)),
                "organisation": name,
                "weight": _number(weights.get(chosen, 0)),
                "total": _number(total),
            }
        )
    elif result == "assigned":
        lines.append(
            _("Assigned by hand to %(organisation)s: %(reason)s")
            % {
                "organisation": _organisation_name(trace.get("chosen"), event),
                "reason": event.reason,
            }
        )
    elif result == "manual":
        failed = [s for s in trace.get("steps", []) if s.get("rule") == trace.get("failed_rule")]
        lines.append(
            _("The required rule “%(name)s” left no partner: the lead went to manual review.")
            % {"name": failed[0].get("name", "") if failed else "?"}
        )
    elif result == "no_candidates":
        lines.append(_("Every active partner had been offered this lead: manual review."))
    elif result == "max_offers":
        lines.append(
            _("The lead was offered %(count)s times, the most allowed: manual review.")
            % {"count": trace.get("max_offers")}
        )
    if "sla_hours" in trace:
        lines.append(
            ngettext(
                "To be accepted within %(hours)d hour.",
                "To be accepted within %(hours)d hours.",
                trace["sla_hours"],
            )
            % {"hours": trace["sla_hours"]}
        )
    return lines


def _number(value: Any) -> str:
    number = float(value)
    return f"{number:g}"


def _organisation_name(pk: Any, event: RoutingEvent) -> str:
    """The chosen organisation's name: the event's own (loaded with it) when it is the one."""
    if pk is None:
        return ""
    if event.organisation_id == pk and event.organisation is not None:
        return event.organisation.name
    name = Organisation.objects.filter(pk=pk).values_list("name", flat=True).first()
    return name or f"#{pk}"
