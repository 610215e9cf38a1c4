"""App config for accord.deals: deal registration, conflict detection and protection."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "accord.deals"
    label = "deals"
    verbose_name = _("Deal registration")
