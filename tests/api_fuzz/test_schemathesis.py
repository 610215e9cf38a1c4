"""Schemathesis over the committed API schema, through the WSGI app: no 5xx for any
input, and every answer (status, content type, body) conforms to the schema.

Runs as a partner administrator and as a vendor administrator, with fresh tokens in the
test database. ``ACCORD_FUZZ_EXAMPLES`` sets the fuzzing examples per operation (CI
raises it), ``ACCORD_FUZZ_PHASES`` the Schemathesis phases (default
``examples,coverage,fuzzing``), ``ACCORD_FUZZ_DETERMINISTIC=0`` new inputs on each run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.accounts.services import create_api_token
from accord.partners.models import TerritoryAssignment
from tests.factories import AgreementFactory, ContactFactory, OrganisationFactory, TerritoryFactory

COVERAGE_TURN = itertools.count()
EXAMPLES = int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "15"))
PHASES = os.environ.get("ACCORD_FUZZ_PHASES", "examples,coverage,fuzzing").split(",")
# Reproducible by default; ACCORD_FUZZ_DETERMINISTIC=0 explores new inputs on every run.
DETERMINISTIC = os.environ.get("ACCORD_FUZZ_DETERMINISTIC", "1") != "0"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=DETERMINISTIC,
)
schema.config.phases.update(phases=PHASES)


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Requests go straight through the WSGI app, so Django's end-of-request handler
    would close the database connection and lose the test's transaction. Django's own
    test client detaches it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_tokens(
    keep_test_connection: None, partner_a_user, partner_a_child, partner_b, vendor_admin, east
) -> dict[str, str]:
    """Raw tokens of a partner administrator and of vendor staff, over a small network."""
    partner_a = partner_a_user.organisation
    for organisation in (partner_a, partner_a_child, partner_b):
        ContactFactory(organisation=organisation)
        AgreementFactory(organisation=organisation)
    TerritoryAssignment.objects.create(
        organisation=partner_b, territory=TerritoryFactory(parent=east.parent)
    )
    OrganisationFactory(parent=partner_b)
    return {
        "partner": create_api_token(actor=None, user=partner_a_user, name="fuzz")[1],
        "staff": create_api_token(actor=None, user=vendor_admin, name="fuzz")[1],
    }


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The token fixture is set up once per operation on purpose: examples share the data.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, fuzz_tokens):
    tokens = [fuzz_tokens["partner"], fuzz_tokens["staff"]]
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE:
        # The coverage phase enumerates hundreds of boundary cases per operation; each
        # goes to one of the two callers in turn, to keep the run within minutes.
        tokens = [tokens[next(COVERAGE_TURN) % 2]]
    for token in tokens:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


# -- deals and leads, aimed at real rows ------------------------------------------------------
# The API-wide leg above meets no registration or lead, so its calls on them end at 404.
# This leg points every path id at a real registration (with a conflict), conflict, named
# account or lead, and calls as partner A's administrator and as a channel manager.
DEALS_SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application()).include(
    tag=["deals", "leads"]
)
DEALS_SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=DETERMINISTIC,
)
# The coverage phase (every boundary of every field, minutes more) only when asked.
DEALS_SCHEMA.config.phases.update(
    phases=os.environ.get("ACCORD_FUZZ_PHASES", "examples,fuzzing").split(",")
)


@pytest.fixture
def deals_world(
    keep_test_connection: None, partner_a_user, partner_b_user, channel_manager, east
) -> dict[str, object]:
    """B holds an approved ACME Corp.; A's "Acme Corporation Ltd" conflicts with it; a
    named account; a lead offered to A under a territory + random routing."""
    from accord.deals import services as deals
    from accord.deals.models import Conflict
    from accord.leads import services as leads
    from tests.channel.factories import ProductFactory

    ProductFactory(product_line="Servers")
    data = {
        "product_lines": ["Servers"],
        "value": "1000",
        "currency": "USD",
        "expected_close": "2027-06-30",
    }
    deals.submit_registration(actor=partner_b_user, data={**data, "customer_name": "ACME Corp."})
    registration = deals.submit_registration(
        actor=partner_a_user, data={**data, "customer_name": "Acme Corporation Ltd"}
    )
    customer = deals.save_end_customer(
        actor=None, data={"name": "Wayne Enterprises", "named_account": True}
    )
    leads.save_rules(
        actor=None,
        rules=[
            {"name": "Territory", "kind": "territory", "required": True},
            {"name": "Pick", "kind": "random"},
        ],
    )
    lead = leads.create_lead(
        actor=None, data={"company_name": "Initech", "territory": east.pk}, route=True
    )
    return {
        "registrations": registration.pk,
        "conflicts": Conflict.objects.filter(registration=registration).first().pk,
        "customers": customer.pk,
        "leads": lead.pk,
        "tokens": [
            create_api_token(actor=None, user=user, name="fuzz")[1]
            for user in (partner_a_user, channel_manager)
        ],
    }


def aim_deals(case, world: dict[str, object]) -> None:
    """Point the case's path id at a row that exists (its body and query stay generated)."""
    params = case.path_parameters
    if params and "id" in params:
        collection = case.path.removeprefix("/api/v1/").split("/")[:2]
        params["id"] = world[collection[-1] if collection[0] == "deals" else "leads"]


@pytest.mark.fuzz
@pytest.mark.django_db
@DEALS_SCHEMA.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_deals_and_leads_on_real_rows_never_fail(case, deals_world):
    aim_deals(case, deals_world)
    for token in deals_world["tokens"]:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
