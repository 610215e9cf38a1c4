"""Helpers for the API tests: JSON requests and a whole-database fingerprint."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.test import Client

# Columns that change on every authenticated request (token last use, login time).
VOLATILE = {("accounts", "apitoken"): {"last_used_at"}, ("accounts", "user"): {"last_login"}}


def call(client: Client, method: str, path: str, body: Any = None, *, raw: str | None = None):
    """Send ``body`` as JSON (or ``raw`` as the body verbatim) with ``method``."""
    method = method.lower()
    if raw is not None:
        return getattr(client, method)(path, data=raw, content_type="application/json")
    if body is None and method in ("get", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(
        path, data=json.dumps(body if body is not None else {}), content_type="application/json"
    )


def fingerprint() -> dict[str, list[dict[str, Any]]]:
    """Every row of every Accord table (minus volatile columns), to prove nothing changed."""
    state: dict[str, list[dict[str, Any]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("accord."):
            continue
        key = (model._meta.app_label, model._meta.model_name)
        skip = VOLATILE.get(key, set())
        rows = [
            {k: v for k, v in row.items() if k not in skip}
            for row in model._base_manager.order_by("pk").values()
        ]
        state[".".join(key)] = rows
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            state[f"{'.'.join(key)}.{field.name}"] = list(
                through._base_manager.order_by("pk").values()
            )
    return state
