"""Plotly under the strict Content-Security-Policy: the one place that knows how pages with
charts relax it (and no further), and what a chart page's template needs."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import plotly
from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

# Plotly creates empty <style> elements and fills them through the CSSOM (insertRule),
# which the CSP does not govern. An empty inline style's hash is therefore the narrowest
# allowance that lets it style its hover labels and mode bar: any <style> with content
# stays blocked, and script-src is untouched (still 'self' only).
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
# plotly.js bundles MapLibre, which at load time appends a <style> with its CSS unless an
# element with that style's id already exists. Charts here draw no maps, so chart pages
# render empty placeholders with those ids instead of letting the CSP block the style.
INJECTED_STYLE = re.compile(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


def plotly_csp() -> str:
    """The site's CSP with ``style-src`` also allowing Plotly's empty style elements."""
    return settings.ACCORD_CSP.replace(
        "style-src 'self'", f"style-src 'self' {EMPTY_STYLE_HASH}", 1
    )


@functools.cache
def plotly_style_ids() -> tuple[str, ...]:
    return tuple(INJECTED_STYLE.findall(PLOTLY_JS.read_text(encoding="utf-8")))


def chart_context() -> dict[str, Any]:
    """What a chart page's template needs: the plotly version (cache-busting the script URL)
    and the MapLibre style placeholders."""
    return {"plotly_version": plotly.__version__, "plotly_style_ids": plotly_style_ids()}


def with_chart_csp(response: HttpResponse) -> HttpResponse:
    """``response`` with the chart CSP; it varies with htmx requests (partials differ)."""
    response["Content-Security-Policy"] = plotly_csp()
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
