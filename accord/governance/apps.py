"""App config for accord.governance: how each relationship is governed, met, measured,
escalated and handed over."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "accord.governance"
    label = "governance"
    verbose_name = _("Governance")
