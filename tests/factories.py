"""factory_boy factories for the foundation models."""

from __future__ import annotations

import datetime as dt

import factory

from accord.accounts.models import Role, User
from accord.partners.models import Agreement, Contact, Organisation, Territory


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Partner {n:04d}")
    kind = Organisation.Kind.RESELLER
    status = Organisation.Status.ACTIVE
    country = "US"
    currency = "USD"


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    code = factory.Sequence(lambda n: f"t-{n}")
    name = factory.Sequence(lambda n: f"Territory {n}")
    level = Territory.Level.REGION


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    full_name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    organisation = factory.SubFactory(OrganisationFactory)
    reference = factory.Sequence(lambda n: f"AGR-{n:05d}")
    type = Agreement.Type.RESELLER
    status = Agreement.Status.ACTIVE
    start_on = dt.date(2026, 1, 1)
    end_on = dt.date(2027, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.roles.set(Role.objects.filter(code__in=extracted))
