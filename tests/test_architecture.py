"""Layering and the access chokepoint, checked on the source itself (STYLE.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from accord.core.models import OrganisationOwned, RestrictedQuerySet

PACKAGE = Path(__file__).resolve().parents[1] / "accord"
CHOKEPOINT = PACKAGE / "core" / "api.py"  # get_restricted_or_404 itself
USER_FACING = ("views.py", "api.py", "audit_api.py", "forms.py")
LAYERS = {  # a module of this kind may not import modules of these kinds
    "models": ("services", "selectors", "views", "api", "forms"),
    "services": ("views", "api", "forms"),
    "selectors": ("services", "views", "api", "forms"),
}


def app_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize(
    "path",
    [p for p in app_modules() if p.name in USER_FACING and p != CHOKEPOINT],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_views_and_api_never_touch_objects_directly(path: Path) -> None:
    """Reads reach users through restrict()/selectors, writes through services."""
    source = path.read_text()
    offending = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), 1)
        if re.search(r"\.objects\b|_default_manager\b", line)
    ]
    assert not offending, "use a selector or restrict():\n" + "\n".join(offending)


def test_every_organisation_owned_model_has_the_restricted_queryset() -> None:
    for model in apps.get_models():
        if issubclass(model, OrganisationOwned) or model._meta.app_label == "partners":
            if model.__name__ == "Tag":
                continue
            queryset = model._default_manager.all()
            assert isinstance(queryset, RestrictedQuerySet), model


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in app_modules() if p.stem in LAYERS],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_lower_layers_do_not_import_higher_ones(path: Path) -> None:
    forbidden = LAYERS[path.stem]
    bad = [
        module
        for module in _imports(path)
        if module.startswith("accord.") and module.rsplit(".", 1)[-1] in forbidden
    ]
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_core_depends_on_no_domain_app() -> None:
    for path in (PACKAGE / "core").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        domain = [
            m for m in _imports(path) if m.startswith("accord.") and not m.startswith("accord.core")
        ]
        assert not domain, f"{path.name} imports {domain}"


def test_apps_do_not_import_each_others_views_api_or_forms() -> None:
    for path in app_modules():
        own_app = path.relative_to(PACKAGE).parts[0]
        for module in _imports(path):
            parts = module.split(".")
            if (
                len(parts) >= 3
                and parts[0] == "accord"
                and parts[1] not in (own_app, "core")
                and (parts[-1] in ("views", "api", "forms"))
            ):
                assert path.name in ("urls.py", "api.py") and path.parent == PACKAGE, (
                    f"{path.relative_to(PACKAGE)} imports {module}"
                )
