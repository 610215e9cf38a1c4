"""REST API of accord.partners: organisations, contacts, territories, assignments, agreements.

Thin by design: parse the request, read through ``selectors`` (which call ``restrict()``),
write through ``services``. Path ids the caller cannot see answer 404; ids referenced in a
request body that the caller cannot see answer 422 with a field error, exactly like ids
that do not exist.
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.pagination import paginate

from accord.core.schemas import (
    AuditEntryOut,
    ObjectId,
    Pagination,
    error_responses,
    field_error,
    renamed_fields,
)
from accord.partners import selectors, services
from accord.partners.models import Organisation, Territory
from accord.partners.schemas import (
    AgreementFilter,
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AgreementTransitionIn,
    ContactFilter,
    ContactIn,
    ContactOut,
    ContactPatch,
    OrganisationFilter,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    OrganisationTransitionIn,
    TerritoryAssignmentFilter,
    TerritoryAssignmentIn,
    TerritoryAssignmentOut,
    TerritoryFilter,
    TerritoryIn,
    TerritoryNodeOut,
    TerritoryOut,
    TerritoryPatch,
)

router = Router()
organisations = Router(tags=["organisations"])
contacts = Router(tags=["contacts"])
territories = Router(tags=["territories"])
assignments = Router(tags=["territory-assignments"])
agreements = Router(tags=["agreements"])

READ = error_responses(404, 422)
LIST = error_responses(422)
WRITE = error_responses(400, 403, 404, 409, 422)
DELETE = error_responses(403, 404, 409, 422)


def _organisation_reference(user: Any, pk: int | None, field: str) -> Organisation | None:
    organisation = selectors.find_organisation(user, pk)
    if pk is not None and organisation is None:
        raise field_error(field, _("Unknown organisation."))
    return organisation


def _territory_reference(user: Any, pk: int | None, field: str) -> Territory | None:
    territory = selectors.find_territory(user, pk)
    if pk is not None and territory is None:
        raise field_error(field, _("Unknown territory."))
    return territory


# -- organisations ------------------------------------------------------------
@organisations.get(
    "", response={200: list[OrganisationOut], **LIST}, operation_id="organisations_list"
)
@paginate(Pagination)
def organisations_list(request: HttpRequest, filters: Query[OrganisationFilter]) -> Any:
    """Organisations the caller may see: a partner sees its own and those below it."""
    return selectors.search_organisations(request.auth, **filters.model_dump())


@organisations.get(
    "/{id}", response={200: OrganisationOut, **READ}, operation_id="organisations_get"
)
def organisations_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_organisation_detail(request.auth, id)


@organisations.post(
    "", response={201: OrganisationOut, **WRITE}, operation_id="organisations_create"
)
def organisations_create(request: HttpRequest, payload: OrganisationIn) -> Any:
    user = request.auth
    data = payload.model_dump()
    tags = data.pop("tags")
    data["parent"] = _organisation_reference(user, data.pop("parent_id"), "parent_id")
    with renamed_fields({"parent": "parent_id"}):
        organisation = services.create_organisation(actor=user, data=data, tags=tags)
    return 201, selectors.get_organisation_detail(user, organisation.pk)


@organisations.patch(
    "/{id}", response={200: OrganisationOut, **WRITE}, operation_id="organisations_update"
)
def organisations_update(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: OrganisationPatch,
) -> Any:
    user = request.auth
    organisation = selectors.get_organisation_detail(user, id)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    if "parent_id" in data:
        data["parent"] = _organisation_reference(user, data.pop("parent_id"), "parent_id")
    with renamed_fields({"parent": "parent_id"}):
        services.update_organisation(actor=user, organisation=organisation, data=data, tags=tags)
    return selectors.get_organisation_detail(user, id)


@organisations.post(
    "/{id}/transitions",
    response={200: OrganisationOut, **WRITE},
    operation_id="organisations_transition",
)
def organisations_transition(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: OrganisationTransitionIn,
) -> Any:
    """Move the organisation along its lifecycle; 409 ``invalid_transition`` when the
    status cannot follow the current one (see ``allowed_transitions``)."""
    user = request.auth
    organisation = selectors.get_organisation_detail(user, id)
    services.transition_organisation(
        actor=user, organisation=organisation, status=payload.status, reason=payload.reason
    )
    return selectors.get_organisation_detail(user, id)


@organisations.get(
    "/{id}/children",
    response={200: list[OrganisationOut], **READ},
    operation_id="organisations_children",
)
@paginate(Pagination)
def organisations_children(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The visible organisations directly below this one."""
    organisation = selectors.get_organisation_detail(request.auth, id)
    return selectors.search_organisations(request.auth, parent=organisation.pk)


@organisations.get(
    "/{id}/history",
    response={200: list[AuditEntryOut], **READ},
    operation_id="organisations_history",
)
@paginate(Pagination)
def organisations_history(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """The audit trail of the organisation and of its contacts, agreements and territory
    assignments, newest first."""
    organisation = selectors.get_organisation_detail(request.auth, id)
    return selectors.organisation_history(request.auth, organisation)


# -- contacts -----------------------------------------------------------------
@contacts.get("", response={200: list[ContactOut], **LIST}, operation_id="contacts_list")
@paginate(Pagination)
def contacts_list(request: HttpRequest, filters: Query[ContactFilter]) -> Any:
    return selectors.search_contacts(request.auth, **filters.model_dump())


@contacts.get("/{id}", response={200: ContactOut, **READ}, operation_id="contacts_get")
def contacts_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_contact(request.auth, id)


@contacts.post("", response={201: ContactOut, **WRITE}, operation_id="contacts_create")
def contacts_create(request: HttpRequest, payload: ContactIn) -> Any:
    user = request.auth
    data = payload.model_dump()
    organisation = _organisation_reference(user, data.pop("organisation_id"), "organisation_id")
    contact = services.create_contact(actor=user, organisation=organisation, data=data)
    return 201, selectors.get_contact(user, contact.pk)


@contacts.patch("/{id}", response={200: ContactOut, **WRITE}, operation_id="contacts_update")
def contacts_update(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: ContactPatch,
) -> Any:
    user = request.auth
    contact = selectors.get_contact(user, id)
    services.update_contact(
        actor=user, contact=contact, data=payload.model_dump(exclude_unset=True)
    )
    return selectors.get_contact(user, id)


@contacts.delete("/{id}", response={204: None, **DELETE}, operation_id="contacts_delete")
def contacts_delete(request: HttpRequest, id: Path[ObjectId]) -> Any:
    user = request.auth
    services.delete_contact(actor=user, contact=selectors.get_contact(user, id))
    return 204, None


# -- territories --------------------------------------------------------------
@territories.get("", response={200: list[TerritoryOut], **LIST}, operation_id="territories_list")
@paginate(Pagination)
def territories_list(request: HttpRequest, filters: Query[TerritoryFilter]) -> Any:
    """Territories the caller may see, in tree order (each parent before its children)."""
    return selectors.search_territories(request.auth, **filters.model_dump())


@territories.get(
    "/tree", response={200: list[TerritoryNodeOut], **LIST}, operation_id="territories_tree"
)
def territories_tree(request: HttpRequest) -> Any:
    """The visible territories as a forest; one whose parent is hidden becomes a root."""

    def node(item: selectors.TerritoryNode) -> dict[str, Any]:
        territory = item.territory
        return {
            "id": territory.pk,
            "code": territory.code,
            "name": territory.name,
            "level": territory.level,
            "children": [node(child) for child in item.children],
        }

    return [node(root) for root in selectors.territory_tree(request.auth)]


@territories.get("/{id}", response={200: TerritoryOut, **READ}, operation_id="territories_get")
def territories_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_territory(request.auth, id)


@territories.post("", response={201: TerritoryOut, **WRITE}, operation_id="territories_create")
def territories_create(request: HttpRequest, payload: TerritoryIn) -> Any:
    user = request.auth
    data = payload.model_dump()
    data["parent"] = _territory_reference(user, data.pop("parent_id"), "parent_id")
    with renamed_fields({"parent": "parent_id"}):
        territory = services.create_territory(actor=user, data=data)
    return 201, selectors.get_territory(user, territory.pk)


@territories.patch(
    "/{id}", response={200: TerritoryOut, **WRITE}, operation_id="territories_update"
)
def territories_update(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: TerritoryPatch,
) -> Any:
    user = request.auth
    territory = selectors.get_territory(user, id)
    data = payload.model_dump(exclude_unset=True)
    if "parent_id" in data:
        data["parent"] = _territory_reference(user, data.pop("parent_id"), "parent_id")
    with renamed_fields({"parent": "parent_id"}):
        services.update_territory(actor=user, territory=territory, data=data)
    return selectors.get_territory(user, id)


@territories.delete("/{id}", response={204: None, **DELETE}, operation_id="territories_delete")
def territories_delete(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Delete a territory without sub-territories or assignments (409 otherwise)."""
    user = request.auth
    services.delete_territory(actor=user, territory=selectors.get_territory(user, id))
    return 204, None


# -- territory assignments ----------------------------------------------------------
@assignments.get(
    "",
    response={200: list[TerritoryAssignmentOut], **LIST},
    operation_id="territory_assignments_list",
)
@paginate(Pagination)
def territory_assignments_list(
    request: HttpRequest, filters: Query[TerritoryAssignmentFilter]
) -> Any:
    return selectors.search_assignments(request.auth, **filters.model_dump())


@assignments.get(
    "/{id}",
    response={200: TerritoryAssignmentOut, **READ},
    operation_id="territory_assignments_get",
)
def territory_assignments_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_assignment(request.auth, id)


@assignments.post(
    "",
    response={200: TerritoryAssignmentOut, 201: TerritoryAssignmentOut, **WRITE},
    operation_id="territory_assignments_create",
)
def territory_assignments_create(request: HttpRequest, payload: TerritoryAssignmentIn) -> Any:
    """Assign a territory (201), or change whether an existing assignment is exclusive (200).

    409 ``conflict`` when someone else holds the territory exclusively, or when an
    exclusive right is asked for a territory already shared.
    """
    user = request.auth
    organisation = _organisation_reference(user, payload.organisation_id, "organisation_id")
    territory = _territory_reference(user, payload.territory_id, "territory_id")
    existed = selectors.find_assignment(user, organisation, territory) is not None
    with renamed_fields({"territory": "territory_id"}):
        assignment = services.assign_territory(
            actor=user, organisation=organisation, territory=territory, exclusive=payload.exclusive
        )
    return (200 if existed else 201), selectors.get_assignment(user, assignment.pk)


@assignments.delete(
    "/{id}", response={204: None, **DELETE}, operation_id="territory_assignments_delete"
)
def territory_assignments_delete(request: HttpRequest, id: Path[ObjectId]) -> Any:
    user = request.auth
    services.unassign_territory(actor=user, assignment=selectors.get_assignment(user, id))
    return 204, None


# -- agreements ---------------------------------------------------------------
@agreements.get("", response={200: list[AgreementOut], **LIST}, operation_id="agreements_list")
@paginate(Pagination)
def agreements_list(request: HttpRequest, filters: Query[AgreementFilter]) -> Any:
    return selectors.search_agreements(request.auth, **filters.model_dump())


@agreements.get("/{id}", response={200: AgreementOut, **READ}, operation_id="agreements_get")
def agreements_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_agreement_detail(request.auth, id)


@agreements.post("", response={201: AgreementOut, **WRITE}, operation_id="agreements_create")
def agreements_create(request: HttpRequest, payload: AgreementIn) -> Any:
    user = request.auth
    data = payload.model_dump()
    organisation = _organisation_reference(user, data.pop("organisation_id"), "organisation_id")
    targets = data.pop("targets")
    agreement = services.create_agreement(
        actor=user, organisation=organisation, data=data, targets=targets
    )
    return 201, selectors.get_agreement_detail(user, agreement.pk)


@agreements.patch("/{id}", response={200: AgreementOut, **WRITE}, operation_id="agreements_update")
def agreements_update(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: AgreementPatch,
) -> Any:
    user = request.auth
    agreement = selectors.get_agreement_detail(user, id)
    data = payload.model_dump(exclude_unset=True)
    targets = data.pop("targets", None)
    services.update_agreement(actor=user, agreement=agreement, data=data, targets=targets)
    return selectors.get_agreement_detail(user, id)


@agreements.post(
    "/{id}/transitions",
    response={200: AgreementOut, **WRITE},
    operation_id="agreements_transition",
)
def agreements_transition(
    request: HttpRequest,
    id: Path[ObjectId],
    payload: AgreementTransitionIn,
) -> Any:
    """Move the agreement along draft → active → expired/terminated; 409 when not allowed."""
    user = request.auth
    agreement = selectors.get_agreement_detail(user, id)
    services.transition_agreement(
        actor=user, agreement=agreement, status=payload.status, reason=payload.reason
    )
    return selectors.get_agreement_detail(user, id)


router.add_router("/organisations", organisations)
router.add_router("/contacts", contacts)
router.add_router("/territories", territories)
router.add_router("/territory-assignments", assignments)
router.add_router("/agreements", agreements)
