"""Reads of accord.partners: every row that reaches a user comes through ``restrict()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Prefetch, Q

from accord.core.errors import Http404, PermissionDenied
from accord.core.models import AuditEntry
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Tag,
    Territory,
    TerritoryAssignment,
)

M = TypeVar("M", bound=models.Model)


def get_restricted(
    queryset: models.QuerySet[M], user: Any, pk: Any, action: str = "view"
) -> M:
    """The row ``pk`` of ``queryset`` for ``user``: 404 when not visible, 403 when visible
    but ``action`` is not allowed on it."""
    model = queryset.model
    try:
        obj = queryset.restrict(user, "view").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise Http404 from error
    if action != "view" and not queryset.restrict(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied
    return obj


def can(user: Any, action: str, obj: models.Model) -> bool:
    """Whether ``user`` may ``action`` this visible object (one indexed query)."""
    manager = type(obj)._default_manager
    return manager.restrict(user, action).filter(pk=obj.pk).exists()


# -- organisations ------------------------------------------------------------
ORGANISATION_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "kind": ("kind", "name", "pk"),
    "-kind": ("-kind", "name", "pk"),
    "status": ("status", "name", "pk"),
    "-status": ("-status", "name", "pk"),
    "country": ("country", "name", "pk"),
    "-country": ("-country", "name", "pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
}
SEARCH_FIELDS = ("name", "legal_name", "tax_id", "external_key", "website_domain", "city")


def list_organisations(
    user: Any,
    *,
    q: str = "",
    kind: str = "",
    status: str = "",
    country: str = "",
    tag: str = "",
    sort: str = "name",
) -> models.QuerySet[Organisation]:
    """Visible organisations filtered and sorted for the list page (no N+1: parent joined,
    tags prefetched)."""
    queryset = Organisation.objects.restrict(user, "view").select_related("parent")
    if q:
        condition = Q()
        for name in SEARCH_FIELDS:
            condition |= Q(**{f"{name}__icontains": q})
        queryset = queryset.filter(condition)
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if country:
        queryset = queryset.filter(country=country)
    if tag:
        queryset = queryset.filter(tags__name=tag)
    ordering = ORGANISATION_SORTS.get(sort, ORGANISATION_SORTS["name"])
    return queryset.order_by(*ordering).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


def organisation_countries(user: Any) -> list[str]:
    """Distinct country codes among the organisations ``user`` sees."""
    return list(
        Organisation.objects.restrict(user, "view").exclude(country="")
        .order_by("country").values_list("country", flat=True).distinct()
    )


def organisation_tags(user: Any) -> list[str]:
    """Names of the tags used on organisations ``user`` sees."""
    visible = Organisation.objects.restrict(user, "view")
    return list(
        Organisation.tags.through.objects.filter(organisation__in=visible)
        .order_by("tag__name").values_list("tag__name", flat=True).distinct()
    )


def get_organisation(user: Any, pk: Any, action: str = "view") -> Organisation:
    return get_restricted(
        Organisation.objects.select_related("parent").prefetch_related("tags"), user, pk, action
    )


def organisation_children(user: Any, organisation: Organisation) -> models.QuerySet[Organisation]:
    return Organisation.objects.restrict(user, "view").filter(parent=organisation).order_by("name")


def parent_choices(user: Any, organisation: Organisation | None = None) -> models.QuerySet:
    """Organisations ``user`` sees that may become the parent (never the organisation itself
    or one below it)."""
    queryset = Organisation.objects.restrict(user, "view").order_by("name")
    if organisation is not None and organisation.pk:
        queryset = queryset.exclude(path__startswith=organisation.path)
    return queryset


# -- contacts -------------------------------------------------------------------
def list_contacts(user: Any, organisation: Organisation) -> models.QuerySet[Contact]:
    return Contact.objects.restrict(user, "view").filter(organisation=organisation)


def get_contact(user: Any, pk: Any, action: str = "view") -> Contact:
    return get_restricted(Contact.objects.select_related("organisation"), user, pk, action)


# -- agreements ---------------------------------------------------------------
def list_agreements(user: Any, organisation: Organisation) -> models.QuerySet[Agreement]:
    return (
        Agreement.objects.restrict(user, "view").filter(organisation=organisation)
        .annotate(target_count=Count("targets"))
    )


def get_agreement(user: Any, pk: Any, action: str = "view") -> Agreement:
    return get_restricted(
        Agreement.objects.select_related("organisation").prefetch_related(
            Prefetch("targets", queryset=AgreementTarget.objects.order_by("metric", "period"))
        ),
        user, pk, action,
    )


# -- territories ----------------------------------------------------------------
def list_assignments(
    user: Any, organisation: Organisation
) -> models.QuerySet[TerritoryAssignment]:
    return (
        TerritoryAssignment.objects.restrict(user, "view").filter(organisation=organisation)
        .select_related("territory")
    )


def get_assignment(user: Any, pk: Any, action: str = "view") -> TerritoryAssignment:
    return get_restricted(
        TerritoryAssignment.objects.select_related("organisation", "territory"), user, pk, action
    )


def territory_choices(user: Any, territory: Territory | None = None) -> models.QuerySet:
    """Territories ``user`` sees, tree-ordered; without ``territory`` and its subtree."""
    queryset = Territory.objects.restrict(user, "view").order_by("path")
    if territory is not None and territory.pk:
        queryset = queryset.exclude(path__startswith=territory.path)
    return queryset


def get_territory(user: Any, pk: Any, action: str = "view") -> Territory:
    return get_restricted(Territory.objects.select_related("parent"), user, pk, action)


@dataclass
class TerritoryNode:
    """One territory of the tree page with its visible assignments and children."""

    territory: Territory
    assignments: list[TerritoryAssignment] = field(default_factory=list)
    children: list[TerritoryNode] = field(default_factory=list)


def territory_tree(user: Any) -> list[TerritoryNode]:
    """The visible territory forest in two queries; a node whose parent is hidden from the
    user becomes a root."""
    territories = list(Territory.objects.restrict(user, "view").order_by("path"))
    assignments = (
        TerritoryAssignment.objects.restrict(user, "view")
        .filter(territory__in=[t.pk for t in territories])
        .select_related("organisation")
        .order_by("-exclusive", "organisation__name")
    )
    nodes = {t.pk: TerritoryNode(t) for t in territories}
    for assignment in assignments:
        nodes[assignment.territory_id].assignments.append(assignment)
    roots: list[TerritoryNode] = []
    for territory in territories:
        node = nodes[territory.pk]
        parent = nodes.get(territory.parent_id) if territory.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


# -- history ------------------------------------------------------------------
HISTORY_MODELS = (Organisation, Contact, Agreement, AgreementTarget, TerritoryAssignment)


def organisation_history(
    user: Any, organisation: Organisation
) -> models.QuerySet[AuditEntry]:
    """Audit entries of the organisation and of its contacts, agreements and assignments."""
    content_types = ContentType.objects.get_for_models(*HISTORY_MODELS).values()
    return (
        AuditEntry.objects.restrict(user, "view")
        .filter(organisation=organisation, content_type__in=list(content_types))
        .select_related("content_type")
        .order_by("-at", "-pk")
    )
