"""Exclusive territories hold under concurrent writers (separate database connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accord.core.errors import Conflict
from accord.partners import services
from accord.partners.models import TerritoryAssignment
from tests.factories import OrganisationFactory, TerritoryFactory


@pytest.mark.django_db(transaction=True)
def test_simultaneous_exclusive_assignments_leave_exactly_one_holder():
    territory = TerritoryFactory(code="contested")
    rivals = [OrganisationFactory(name=f"Rival {n}") for n in range(6)]
    barrier = threading.Barrier(len(rivals))
    outcomes: list[str] = []

    def claim(organisation) -> None:
        try:
            barrier.wait(timeout=10)
            services.assign_territory(actor=None, organisation=organisation,
                                      territory=territory, exclusive=True)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        except Exception as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(org,)) for org in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    holders = TerritoryAssignment.objects.filter(territory=territory)
    assert holders.count() == 1
    assert holders.get().exclusive
    assert outcomes.count("won") == 1
    if connection.vendor == "postgresql":
        assert sorted(outcomes) == ["conflict"] * 5 + ["won"]
