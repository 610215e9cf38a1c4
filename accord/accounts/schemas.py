"""API schemas of accord.accounts: users, the caller ("me") and API tokens.

Token schemas never carry the stored hash; the raw token appears once, in the answer
to its creation.
"""

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema

from accord.core.schemas import AwareDatetime, ObjectId, Text

Language = Literal[tuple(["", *(code for code, _ in settings.LANGUAGES)])]  # type: ignore[valid-type]
Scope = Literal["all", "territory", "organisation", "none"]
RoleCode = Text(50, min_length=1)
TerritoryCode = Text(60, min_length=1)
Email = Text(254, min_length=3)


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    organisation_id: int
    organisation_name: str
    roles: list[str] = Field(description="Role codes.")
    territories: list[str] = Field(description="Codes of the territories the user coordinates.")
    language: str
    is_active: bool
    date_joined: dt.datetime
    last_login: dt.datetime | None

    @staticmethod
    def resolve_organisation_name(obj: Any) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_roles(obj: Any) -> list[str]:
        return sorted(role.code for role in obj.roles.all())

    @staticmethod
    def resolve_territories(obj: Any) -> list[str]:
        return sorted(territory.code for territory in obj.territories.all())


class UserIn(Schema):
    organisation_id: ObjectId
    email: Email
    full_name: Text(150, min_length=1)
    language: Language = ""
    is_active: bool = True
    roles: list[RoleCode] = Field(default_factory=list, max_length=20)
    territories: list[TerritoryCode] = Field(default_factory=list, max_length=200)
    password: Text(128, min_length=1, strip=False) = Field(
        None, description="Optional; without one the user sets it through password reset."
    )


class UserPatch(Schema):
    """Only the keys present change; ``roles`` and ``territories`` replace the lists."""

    email: Email = None
    full_name: Text(150, min_length=1) = None
    language: Language = None
    is_active: bool = None
    roles: list[RoleCode] = Field(None, max_length=20)
    territories: list[TerritoryCode] = Field(None, max_length=200)


class UserFilter(Schema):
    organisation: ObjectId = None
    role: RoleCode = None
    is_active: bool = None
    q: Text(200) = Field(None, description="Search in e-mail and name.")


class OrganisationBrief(Schema):
    id: int
    name: str
    is_vendor: bool


class RoleBrief(Schema):
    code: str
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.display_name)


class MeOut(Schema):
    """The caller: who they are, where they belong, what they may do and which rows."""

    id: int
    email: str
    full_name: str
    language: str
    is_partner: bool
    organisation: OrganisationBrief
    roles: list[RoleBrief]
    permissions: list[str]
    access_scope: Scope
    territories: list[str]

    @staticmethod
    def resolve_roles(obj: Any) -> list[Any]:
        return list(obj.roles.all())

    @staticmethod
    def resolve_permissions(obj: Any) -> list[str]:
        return sorted(obj.get_all_permissions())

    @staticmethod
    def resolve_territories(obj: Any) -> list[str]:
        return sorted(territory.code for territory in obj.territories.all())


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's public start, to recognise it in lists.")
    user_id: int
    user_email: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    is_active: bool

    @staticmethod
    def resolve_user_email(obj: Any) -> str:
        return obj.user.email


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret. Shown this once; only its hash is stored.")


class TokenIn(Schema):
    name: Text(100, min_length=1)
    expires_at: AwareDatetime = Field(None, description="Optional expiry, in the future.")
    user_id: ObjectId = Field(
        None, description="Another user's id (administrators only); default: the caller."
    )


class TokenFilter(Schema):
    user_id: ObjectId = Field(None, description="Another user's tokens, if you may see them.")
