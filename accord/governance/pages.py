"""What every governance page shares: the permission check and rendering in the section."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from accord.core.errors import PermissionDenied


def require_perm(request: HttpRequest, perm: str) -> None:
    """403 unless the user holds ``perm`` at all (rows are the selectors' business)."""
    if not request.user.has_perm(perm):
        raise PermissionDenied


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A governance page (or, for htmx, its fragment), cached apart per htmx target."""
    response = render(request, template, {"nav": "governance", **context}, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
