"""App config for accord.programs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "accord.programs"
    label = "programs"
    verbose_name = _("Programs")
