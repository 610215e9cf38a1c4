"""The invariant "at most one approved registration per end customer and product line" under
real concurrency: threads with their own PostgreSQL connections register (and approve) the
same customer and line at the same instant; exactly one ends approved."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from accord.accounts.models import Role, User
from accord.accounts.roles import sync_builtin_roles
from accord.core import errors
from accord.deals import services
from accord.deals.models import Conflict, EndCustomer, Registration, RegistrationLine
from tests.deals.builders import deal, set_rules
from tests.factories import OrganisationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite takes its write lock at BEGIN (IMMEDIATE transactions), "
            "so simultaneous registrations never race there"
        )
    # A transactional test flushes the migration-seeded roles: seed them again.
    sync_builtin_roles(Role)


def user_of(organisation: Any, role: str) -> User:
    return User.objects.get(pk=UserFactory(organisation=organisation, roles=[role]).pk)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at once, each on its own thread and database connection; each one's
    result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            outcomes[index] = calls[index]()
        except Exception as error:  # every outcome is asserted on
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def assert_one_protected(customer: EndCustomer) -> None:
    protected = RegistrationLine.objects.filter(
        end_customer=customer, product_line="Servers", protected=True
    )
    assert protected.count() == 1
    assert protected.get().registration.status == Registration.Status.APPROVED


@pytest.mark.parametrize("customer", ["new", "known"])
def test_simultaneous_registrations_of_one_customer_approve_exactly_one(
    customer: str, vendor: Any
) -> None:
    """'new': the end customer is created by the race too (its unique keys decide who
    creates it); 'known': it exists, so every thread passes detection before any commits
    and the partial unique index on protected lines decides."""
    set_rules()  # the rules row exists, as it does in production: nothing serialises on it
    if customer == "known":
        EndCustomer.objects.create(name="ACME", name_key="acme", country="US")
    partners = [OrganisationFactory(name=f"Racer {n}") for n in range(THREADS)]
    users = [user_of(org, "partner_admin") for org in partners]
    names = ["ACME Corp.", "Acme Corporation Ltd", "ACME Corp", "Acme Inc."]

    outcomes = race(
        [
            (
                lambda user=user, n=n: services.submit_registration(
                    actor=user, data=deal(customer_name=names[n % len(names)])
                )
            )
            for n, user in enumerate(users)
        ]
    )

    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, errors.Conflict)
    ]
    assert unexpected == []
    registrations = list(Registration.objects.all())
    statuses = sorted(r.status for r in registrations)
    assert statuses.count(Registration.Status.APPROVED) == 1
    assert set(statuses) <= {Registration.Status.APPROVED, Registration.Status.SUBMITTED}
    assert EndCustomer.objects.count() == 1
    assert_one_protected(EndCustomer.objects.get())
    winner = Registration.objects.get(status=Registration.Status.APPROVED)
    for registration in registrations:
        if registration.pk == winner.pk:
            continue
        # Each loser waits for a decision, blocked by the winner's protection.
        blocking = Conflict.objects.get(registration=registration, other=winner)
        assert blocking.blocking
        assert registration.decision["rule"] == "manual_review"
        # Found by detection (the winner committed first) or refused by the index (both
        # passed detection before either committed), then detected.
        assert set(registration.decision["why"]) <= {"conflicts", "protected_meanwhile"}
        with pytest.raises(errors.Conflict):
            services.approve(actor=None, registration=registration)
    assert_one_protected(EndCustomer.objects.get())


def test_two_approvals_racing_for_one_customer_end_with_one(vendor: Any) -> None:
    set_rules(policy="manual")  # pending filings do not block: both may be approved alone
    first, second = (OrganisationFactory(name=f"Claimant {n}") for n in range(2))
    one = services.submit_registration(actor=user_of(first, "partner_admin"), data=deal())
    two = services.submit_registration(
        actor=user_of(second, "partner_admin"), data=deal(customer_name="Acme Corporation")
    )
    assert one.status == two.status == Registration.Status.SUBMITTED
    deciders = [user_of(vendor, "channel_manager") for _n in range(2)]

    outcomes = race(
        [
            lambda: services.approve(actor=deciders[0], registration=one),
            lambda: services.approve(actor=deciders[1], registration=two),
        ]
    )

    approved = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, errors.Conflict)]
    assert (len(approved), len(refused)) == (1, 1), outcomes
    assert_one_protected(EndCustomer.objects.get())
    loser = two if approved[0].pk == one.pk else one
    assert Registration.objects.get(pk=loser.pk).status == Registration.Status.SUBMITTED
