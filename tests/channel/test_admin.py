"""Admin for channel, import and KPI models: registered, read-only, rows through restrict()."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accord.channel.models import Certification, Product, SalesLine
from accord.imports.models import ImportBatch
from accord.metrics.models import KpiRun, KpiValue, MetricDefinition

pytestmark = pytest.mark.django_db

MODELS = (SalesLine, Certification, Product, ImportBatch, KpiValue, KpiRun, MetricDefinition)


def request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_registered_and_read_only(model, vendor_admin):
    model_admin = admin.site._registry[model]
    request = request_for(vendor_admin)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_rows_go_through_restrict(channel, partner_b_user, analyst):
    model_admin = admin.site._registry[SalesLine]
    own = model_admin.get_queryset(request_for(partner_b_user))
    assert set(own.values_list("pk", flat=True)) == {channel["b_line"]}
    assert model_admin.get_queryset(request_for(analyst)).count() == 4
