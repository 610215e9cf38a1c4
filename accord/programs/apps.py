"""App config for accord.programs: registers scorecard standings as gates."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "accord.programs"
    label = "programs"
    verbose_name = _("Programs")

    def ready(self) -> None:
        from accord.core import gates
        from accord.programs import gates as standing_gates

        gates.register(standing_gates.check, standing_gates.blocked)
