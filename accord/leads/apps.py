"""App config for accord.leads: lead routing by ordered rules with acceptance SLAs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "accord.leads"
    label = "leads"
    verbose_name = _("Leads")
