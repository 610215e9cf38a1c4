"""REST API of accord.accounts: users (administration), the caller ("me") and API tokens."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.pagination import paginate

from accord.accounts import selectors, services
from accord.accounts.schemas import (
    MeOut,
    TokenCreatedOut,
    TokenFilter,
    TokenIn,
    TokenOut,
    UserFilter,
    UserIn,
    UserOut,
    UserPatch,
)
from accord.core.schemas import ObjectId, Pagination, error_responses, field_error
from accord.partners import selectors as partner_selectors

router = Router()
users = Router(tags=["users"])
tokens = Router(tags=["tokens"])
me = Router(tags=["users"])

READ = error_responses(404, 422)
LIST = error_responses(422)
WRITE = error_responses(400, 403, 404, 409, 422)


def _territories(user: Any, codes: list[str] | None) -> list[Any] | None:
    if codes is None:
        return None
    found, missing = partner_selectors.find_territories_by_code(user, codes)
    if missing:
        raise field_error("territories", _("Unknown territory: %s") % ", ".join(missing))
    return found


# -- users --------------------------------------------------------------------
@users.get("", response={200: list[UserOut], **LIST}, operation_id="users_list")
@paginate(Pagination)
def users_list(request: HttpRequest, filters: Query[UserFilter]) -> Any:
    """Users the caller may administer (accounts.view_user; partners see their own staff)."""
    return selectors.search_users(request.auth, **filters.model_dump())


@users.get("/{id}", response={200: UserOut, **READ}, operation_id="users_get")
def users_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_user_detail(request.auth, id)


@users.post("", response={201: UserOut, **WRITE}, operation_id="users_create")
def users_create(request: HttpRequest, payload: UserIn) -> Any:
    """Create a user with roles (by code) and, for coordinators, territories (by code)."""
    actor = request.auth
    organisation = partner_selectors.find_organisation(actor, payload.organisation_id)
    if organisation is None:
        raise field_error("organisation_id", _("Unknown organisation."))
    created = services.create_user(
        actor=actor,
        organisation=organisation,
        data={
            "email": payload.email,
            "full_name": payload.full_name,
            "language": payload.language,
            "is_active": payload.is_active,
        },
        roles=payload.roles,
        password=payload.password,
        territories=_territories(actor, payload.territories) or (),
    )
    return 201, selectors.get_user_detail(actor, created.pk)


@users.patch("/{id}", response={200: UserOut, **WRITE}, operation_id="users_update")
def users_update(request: HttpRequest, id: Path[ObjectId], payload: UserPatch) -> Any:
    actor = request.auth
    user = selectors.get_user_detail(actor, id)
    data = payload.model_dump(exclude_unset=True)
    roles = data.pop("roles", None)
    territories = _territories(actor, data.pop("territories", None))
    services.update_user(actor=actor, user=user, data=data, roles=roles, territories=territories)
    return selectors.get_user_detail(actor, id)


@me.get("/me", response={200: MeOut, **error_responses()}, operation_id="me_get")
def me_get(request: HttpRequest) -> Any:
    """The caller: e-mail, name, organisation, roles, permissions and access scope."""
    return selectors.get_me(request.auth)


# -- tokens -------------------------------------------------------------------
@tokens.get("", response={200: list[TokenOut], **LIST}, operation_id="tokens_list")
@paginate(Pagination)
def tokens_list(request: HttpRequest, filters: Query[TokenFilter]) -> Any:
    """The caller's own tokens, or (administrators) those of a user they can see."""
    return selectors.search_tokens(request.auth, user_id=filters.user_id)


@tokens.post("", response={201: TokenCreatedOut, **WRITE}, operation_id="tokens_create")
def tokens_create(request: HttpRequest, payload: TokenIn) -> Any:
    """Create a token; the answer's ``token`` is the secret, shown this once."""
    actor = request.auth
    owner = actor
    if payload.user_id is not None and payload.user_id != actor.pk:
        owner = selectors.find_user(actor, payload.user_id)
        if owner is None:
            raise field_error("user_id", _("Unknown user."))
    token, raw = services.create_api_token(
        actor=actor, user=owner, name=payload.name, expires_at=payload.expires_at
    )
    created = selectors.get_token(actor, token.pk)
    created.token = raw
    return 201, created


@tokens.delete(
    "/{id}",
    response={204: None, **error_responses(403, 404, 422)},
    operation_id="tokens_revoke",
)
def tokens_revoke(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Revoke a token at once (idempotent)."""
    actor = request.auth
    services.revoke_api_token(actor=actor, token=selectors.get_token(actor, id))
    return 204, None


router.add_router("/users", users)
router.add_router("/tokens", tokens)
router.add_router("", me)
