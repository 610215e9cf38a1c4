"""App config for accord.channel."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelConfig(AppConfig):
    name = "accord.channel"
    label = "channel"
    verbose_name = _("Channel data")
