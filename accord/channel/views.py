"""Pages of accord.channel: the product catalogue and the sales-line drill-down.

Thin views: every row comes from ``selectors`` (through ``restrict()``). A user without the
model's view permission gets 403; filters with bad values are ignored, never an error.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy

from accord.channel import selectors
from accord.channel.forms import ProductFilterForm, SalesFilterForm
from accord.channel.money import base_currency
from accord.core.errors import PermissionDenied

PAGE_SIZE = 50

PRODUCT_COLUMNS = (
    ("key", gettext_lazy("Key")),
    ("name", gettext_lazy("Name")),
    ("list_price", gettext_lazy("List price")),
)
SALES_COLUMNS = (
    ("date", gettext_lazy("Date")),
    ("amount", gettext_lazy("Amount")),
)


def _wants_partial(request: HttpRequest, target: str) -> bool:
    """An htmx request aimed at ``target`` (not a history restore, which needs the page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def _render(request: HttpRequest, full: str, partial: str, target: str, context: dict) -> Any:
    template = partial if _wants_partial(request, target) else full
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _columns(columns: tuple, sort: str, default_desc: bool = False) -> list[dict[str, str]]:
    result = []
    for key, label in columns:
        current = sort.lstrip("-") == key
        result.append(
            {
                "key": key,
                "label": label,
                "next": f"-{key}" if sort == key else key,
                "direction": ("desc" if sort.startswith("-") else "asc") if current else "",
            }
        )
    return result


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    _require_perm(request, "channel.view_product")
    form = ProductFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    sort = filters.get("sort", "key")
    queryset = selectors.search_products(request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "products",
        "form": form,
        "page_obj": page,
        "products": page.object_list,
        "columns": _columns(PRODUCT_COLUMNS, sort),
        "filtered": any(name != "sort" for name in filters),
    }
    return _render(
        request,
        "channel/product_list.html",
        "channel/_product_rows.html",
        "product-results",
        context,
    )


@login_required
def sales_list(request: HttpRequest) -> HttpResponse:
    """Sales lines the user may see, filtered by organisation, direction and a half-open
    date range: the drill-down behind the KPIs."""
    _require_perm(request, "channel.view_salesline")
    form = SalesFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    sort = filters.get("sort", "-date")
    queryset = selectors.search_sales_lines(request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "sales",
        "form": form,
        "page_obj": page,
        "lines": page.object_list,
        "totals": selectors.sales_totals(queryset),
        "base_currency": base_currency(),
        "columns": _columns(SALES_COLUMNS, sort),
        "filtered": any(name != "sort" for name in filters),
    }
    return _render(
        request, "channel/sales_list.html", "channel/_sales_rows.html", "sales-results", context
    )
