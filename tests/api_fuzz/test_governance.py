"""Schemathesis over the governance operations, aimed at real rows: every path id points at
a row of partner A's governed relationship (its organisation, key person, meeting, action
item, issue, attachment, health check, plan, task, templates, course) and the survey token
at a live link, so generated bodies and queries reach the services instead of ending at
404. Called as partner A's administrator and as a channel manager; no 5xx, and every
answer (status, content type, body) conforms to the schema.

``ACCORD_FUZZ_EXAMPLES`` and ``ACCORD_FUZZ_PHASES`` as in ``test_schemathesis.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from accord.accounts.services import create_api_token
from tests.api_fuzz.test_schemathesis import (  # noqa: F401  (a fixture)
    CHECKS,
    DETERMINISTIC,
    EXAMPLES,
    keep_test_connection,
)
from tests.governance.test_api_isolation import build_world

GOVERNANCE_SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", get_wsgi_application()
).include(tag="governance")
GOVERNANCE_SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=DETERMINISTIC,
)
GOVERNANCE_SCHEMA.config.phases.update(
    phases=os.environ.get("ACCORD_FUZZ_PHASES", "examples,fuzzing").split(",")
)
# The collection in the path -> the world's row its id points at.
TARGETS = {
    "relationships": "a",
    "key-people": "a_key",
    "cadence-templates": "cadence",
    "meetings": "a_meeting",
    "action-items": "a_action",
    "issues": "a_issue",
    "attachments": "a_attachment",
    "health-surveys": "a_survey",
    "onboarding-templates": "template",
    "onboarding-plans": "a_plan",
    "onboarding-tasks": "a_task",
    "courses": "course",
}


@pytest.fixture
def governance_world(
    keep_test_connection: None,  # noqa: F811
    vendor,
    partner_a,
    partner_a_child,
    partner_b,
    partner_a_user,
    channel_manager,
) -> dict[str, object]:
    world = build_world(partner_a, partner_a_child, partner_b)
    world["tokens"] = [
        create_api_token(actor=None, user=user, name="fuzz")[1]
        for user in (partner_a_user, channel_manager)
    ]
    return world


def aim(case, world: dict[str, object]) -> None:
    """Point the case's path id (and a survey token) at rows that exist."""
    params = case.path_parameters
    if not params:
        return
    collection = case.path.removeprefix("/api/v1/governance/").split("/")[0]
    if "id" in params and collection in TARGETS:
        params["id"] = world[TARGETS[collection]]
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if "token" in params and positive:
        params["token"] = world["token"]


@pytest.mark.fuzz
@pytest.mark.django_db
@GOVERNANCE_SCHEMA.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_governance_on_real_rows_never_fails(case, governance_world):
    aim(case, governance_world)
    for token in governance_world["tokens"]:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
