"""API authentication by bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from accord.accounts.services import authenticate_token


class BearerTokenAuth(HttpBearer):
    openapi_description = "An API token: `Authorization: Bearer acc_...`"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user
