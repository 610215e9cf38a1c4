"""Simplified Chinese formats: Django's, with amounts grouped by thousands (1,234,567.50).

Chinese business documents, invoices and financial statements group digits in threes
with a comma; Django's default for zh_Hans writes long amounts with no grouping at all.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
