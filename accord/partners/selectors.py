"""Reads of accord.partners: every row that reaches a user comes through ``restrict()``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

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
    within_path,
)

M = TypeVar("M", bound=models.Model)


def get_restricted(queryset: models.QuerySet[M], user: Any, pk: Any, action: str = "view") -> M:
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
    queryset = with_parent_visibility(
        Organisation.objects.restrict(user, "view").select_related("parent"), user
    )
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
        Organisation.objects.restrict(user, "view")
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )


def organisation_tags(user: Any) -> list[str]:
    """Names of the tags used on organisations ``user`` sees."""
    visible = Organisation.objects.restrict(user, "view")
    return list(
        Organisation.tags.through.objects.filter(organisation__in=visible)
        .order_by("tag__name")
        .values_list("tag__name", flat=True)
        .distinct()
    )


def with_parent_visibility(
    queryset: models.QuerySet[Organisation], user: Any
) -> models.QuerySet[Organisation]:
    """Annotate ``parent_visible``: a partner's own parent (say, its distributor) may lie
    outside what the partner sees; pages then show no parent rather than leak its name."""
    visible = Organisation.objects.restrict(user, "view").filter(pk=OuterRef("parent_id"))
    return queryset.annotate(parent_visible=Exists(visible))


def get_organisation(user: Any, pk: Any, action: str = "view") -> Organisation:
    queryset = Organisation.objects.select_related("parent").prefetch_related("tags")
    return get_restricted(with_parent_visibility(queryset, user), user, pk, action)


def organisation_children(user: Any, organisation: Organisation) -> models.QuerySet[Organisation]:
    return Organisation.objects.restrict(user, "view").filter(parent=organisation).order_by("name")


def parent_choices(user: Any, organisation: Organisation | None = None) -> models.QuerySet:
    """Organisations ``user`` sees that may become the parent (never the organisation itself
    or one below it)."""
    queryset = Organisation.objects.restrict(user, "view").order_by("name")
    if organisation is not None and organisation.pk:
        queryset = queryset.exclude(within_path(organisation.path))
    return queryset


# -- contacts -------------------------------------------------------------------
def list_contacts(user: Any, organisation: Organisation) -> models.QuerySet[Contact]:
    return Contact.objects.restrict(user, "view").filter(organisation=organisation)


def get_contact(user: Any, pk: Any, action: str = "view") -> Contact:
    return get_restricted(Contact.objects.select_related("organisation"), user, pk, action)


# -- agreements ---------------------------------------------------------------
def list_agreements(user: Any, organisation: Organisation) -> models.QuerySet[Agreement]:
    return (
        Agreement.objects.restrict(user, "view")
        .filter(organisation=organisation)
        .annotate(target_count=Count("targets"))
    )


def get_agreement(user: Any, pk: Any, action: str = "view") -> Agreement:
    return get_restricted(
        Agreement.objects.select_related("organisation").prefetch_related(
            Prefetch("targets", queryset=AgreementTarget.objects.order_by("metric", "period"))
        ),
        user,
        pk,
        action,
    )


# -- territories ----------------------------------------------------------------
def list_assignments(user: Any, organisation: Organisation) -> models.QuerySet[TerritoryAssignment]:
    return (
        TerritoryAssignment.objects.restrict(user, "view")
        .filter(organisation=organisation)
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
        queryset = queryset.exclude(within_path(territory.path))
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


def organisation_history(user: Any, organisation: Organisation) -> models.QuerySet[AuditEntry]:
    """Audit entries of the organisation and of its contacts, agreements and assignments."""
    content_types = ContentType.objects.get_for_models(*HISTORY_MODELS).values()
    return (
        AuditEntry.objects.restrict(user, "view")
        .filter(organisation=organisation, content_type__in=list(content_types))
        .select_related("content_type")
        .order_by("-at", "-pk")
    )


# -- API reads: filtered lists and details with everything their schemas show ------
API_ORGANISATION_SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "created_at": ("created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "status": ("status", "name", "pk"),
    "-status": ("-status", "name", "pk"),
}


def _organisation_rows(user: Any) -> models.QuerySet[Organisation]:
    """Visible organisations with their tags and visible territory assignments prefetched."""
    assignments = (
        TerritoryAssignment.objects.restrict(user, "view")
        .select_related("territory")
        .order_by("territory__path", "pk")
    )
    queryset = Organisation.objects.restrict(user, "view").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("territory_assignments", queryset=assignments),
    )
    return with_parent_visibility(queryset, user)


def search_organisations(
    user: Any,
    *,
    kind: str | None = None,
    status: str | None = None,
    country: str | None = None,
    parent: int | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: str = "name",
) -> models.QuerySet[Organisation]:
    """The API's organisation list: visible rows, filtered, searched and sorted."""
    queryset = _organisation_rows(user)
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if country:
        queryset = queryset.filter(country=country.upper())
    if parent is not None:
        # Only a parent the user sees can be asked about; otherwise it would be an oracle.
        queryset = queryset.filter(parent_id=parent, parent_visible=True)
    if tag:
        queryset = queryset.filter(tags__name=tag)
    if q:
        condition = Q()
        for name in ("name", "legal_name", "tax_id", "website_domain", "city"):
            condition |= Q(**{f"{name}__icontains": q})
        queryset = queryset.filter(condition)
    return queryset.order_by(*API_ORGANISATION_SORTS.get(sort, API_ORGANISATION_SORTS["name"]))


def get_organisation_detail(user: Any, pk: int) -> Organisation:
    """One visible organisation with what its API schema shows, else 404."""
    return get_restricted(_organisation_rows(user), user, pk)


def find_organisation(user: Any, pk: int | None) -> Organisation | None:
    """The visible organisation ``pk`` referenced from a request body, else None."""
    if pk is None:
        return None
    return Organisation.objects.restrict(user, "view").filter(pk=pk).first()


def search_contacts(
    user: Any, *, organisation: int | None = None, q: str | None = None
) -> models.QuerySet[Contact]:
    queryset = Contact.objects.restrict(user, "view")
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if q:
        queryset = queryset.filter(
            Q(full_name__icontains=q)
            | Q(email__icontains=q)
            | Q(job_title__icontains=q)
            | Q(phone__icontains=q)
        )
    return queryset.order_by("organisation_id", "-is_primary", "full_name", "pk")


def search_territories(
    user: Any, *, parent: int | None = None, level: str | None = None, q: str | None = None
) -> models.QuerySet[Territory]:
    queryset = Territory.objects.restrict(user, "view")
    if parent is not None:
        queryset = queryset.filter(parent_id=parent)
    if level:
        queryset = queryset.filter(level=level)
    if q:
        queryset = queryset.filter(Q(code__icontains=q) | Q(name__icontains=q))
    return queryset.order_by("path", "pk")


def find_territory(user: Any, pk: int | None) -> Territory | None:
    """The visible territory ``pk`` referenced from a request body, else None."""
    if pk is None:
        return None
    return Territory.objects.restrict(user, "view").filter(pk=pk).first()


def find_territories_by_code(user: Any, codes: list[str]) -> tuple[list[Territory], list[str]]:
    """The visible territories with these codes, and the codes not found among them."""
    found = list(Territory.objects.restrict(user, "view").filter(code__in=set(codes)))
    missing = sorted(set(codes) - {t.code for t in found})
    return found, missing


def search_assignments(
    user: Any, *, organisation: int | None = None, territory: int | None = None
) -> models.QuerySet[TerritoryAssignment]:
    queryset = TerritoryAssignment.objects.restrict(user, "view").select_related(
        "organisation", "territory"
    )
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if territory is not None:
        queryset = queryset.filter(territory_id=territory)
    return queryset.order_by("territory__path", "organisation__name", "pk")


def find_assignment(
    user: Any, organisation: Organisation, territory: Territory
) -> TerritoryAssignment | None:
    """The visible assignment of ``territory`` to ``organisation``, if there is one."""
    return (
        TerritoryAssignment.objects.restrict(user, "view")
        .filter(organisation=organisation, territory=territory)
        .first()
    )


class DaysUntil(models.Func):
    """Whole days from a date to a date column; never overflows, whatever the dates."""

    output_field = models.IntegerField()
    template = "CAST(julianday(%(expressions)s) AS INTEGER)"
    arg_joiner = ") - julianday("

    def __init__(self, column: str, as_of: dt.date) -> None:
        super().__init__(column, models.Value(as_of, output_field=models.DateField()))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # date - date is an integer number of days in PostgreSQL.
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")


def renewal_due_condition() -> Q:
    """Active agreements whose end date is inside their renewal notice window (or past).

    Needs the ``days_to_end`` annotation (``DaysUntil("end_on", as_of)``).
    """
    return Q(
        status=Agreement.Status.ACTIVE,
        end_on__isnull=False,
        days_to_end__lte=models.F("renewal_notice_days"),
    )


def search_agreements(
    user: Any,
    *,
    organisation: int | None = None,
    status: str | None = None,
    type: str | None = None,
    renewal_due: bool | None = None,
    as_of: dt.date | None = None,
) -> models.QuerySet[Agreement]:
    """The API's agreement list, with organisation and targets loaded in two more queries."""
    queryset = _agreement_rows(user)
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if status:
        queryset = queryset.filter(status=status)
    if type:
        queryset = queryset.filter(type=type)
    if renewal_due is not None:
        as_of = as_of or timezone.localdate()
        queryset = queryset.annotate(days_to_end=DaysUntil("end_on", as_of))
        condition = renewal_due_condition()
        queryset = queryset.filter(condition) if renewal_due else queryset.exclude(condition)
    return queryset.order_by("-start_on", "reference", "pk")


def _agreement_rows(user: Any) -> models.QuerySet[Agreement]:
    targets = AgreementTarget.objects.restrict(user, "view").order_by("metric", "period", "pk")
    return (
        Agreement.objects.restrict(user, "view")
        .select_related("organisation")
        .prefetch_related(Prefetch("targets", queryset=targets))
    )


def get_agreement_detail(user: Any, pk: int) -> Agreement:
    """One visible agreement with its organisation and targets, else 404."""
    return get_restricted(_agreement_rows(user), user, pk)


def object_history(user: Any, obj: models.Model) -> models.QuerySet[AuditEntry]:
    """Audit entries of one object that ``user`` may see, newest first."""
    return (
        AuditEntry.objects.restrict(user, "view")
        .for_object(obj)
        .select_related("content_type")
        .order_by("-at", "-pk")
    )


def count_renewal_due(user: Any, organisation: Organisation, as_of: dt.date | None = None) -> int:
    """How many of the organisation's visible agreements are due for renewal (one query)."""
    as_of = as_of or timezone.localdate()
    return (
        Agreement.objects.restrict(user, "view")
        .filter(organisation=organisation)
        .annotate(days_to_end=DaysUntil("end_on", as_of))
        .filter(renewal_due_condition())
        .count()
    )
