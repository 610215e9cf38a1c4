"""App config for accord.governance: how each relationship is governed, met, measured,
escalated and handed over."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "accord.governance"
    label = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accord.partners.models import Organisation

        post_save.connect(
            _relationship_for_new_organisation,
            sender=Organisation,
            dispatch_uid="governance.relationship_for_new_organisation",
        )


def _relationship_for_new_organisation(
    sender: type, instance: object, created: bool, raw: bool = False, **kwargs: object
) -> None:
    """Every partner organisation has a governance record from its first day."""
    if created and not raw and not getattr(instance, "is_vendor", False):
        from accord.governance.services.structure import ensure_all_relationships

        ensure_all_relationships([instance.pk])
