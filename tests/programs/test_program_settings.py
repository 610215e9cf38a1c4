"""Creating a program and changing its settings (name, scope, cadence, schedule) through the
pages, on the real database: field errors, audit, and who may do it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accord.core.models import AuditEntry
from accord.programs.models import Program, ProgramVersion
from tests.programs.builders import ladder, make_program

pytestmark = pytest.mark.django_db

NEW = {
    "code": "resellers",
    "name": "Reseller program",
    "name_zh": "经销商计划",
    "kinds": ["reseller", "var"],
    "regions": "CN, DE",
    "tags": "",
    "cadence": "quarter",
}


def test_creating_a_program_opens_its_draft_editor(login: Any, channel_manager: Any) -> None:
    response = login(channel_manager).post("/programs/new/", NEW)
    assert response.status_code == 302
    assert response["Location"] == "/programs/resellers/edit/"
    program = Program.objects.get(code="resellers")
    assert (program.kinds, program.regions, program.tags) == (["reseller", "var"], ["CN", "DE"], [])
    assert program.versions.get().status == ProgramVersion.Status.DRAFT
    assert AuditEntry.objects.for_object(program).filter(action="create").exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "new"}, "code", "This code is reserved"),
        ({"code": "a b"}, "code", "Enter a valid"),
        ({"name": ""}, "name", "This field is required"),
        ({"kinds": ["vendor"]}, "kinds", "Select a valid choice"),
        ({"cadence": "weekly"}, "cadence", "Select a valid choice"),
        ({"next_evaluation": "2026-02-30"}, "next_evaluation", "Enter a valid date"),
    ],
)
def test_bad_settings_show_field_errors_and_keep_what_was_typed(
    login: Any, channel_manager: Any, change: dict, field: str, message: str
) -> None:
    response = login(channel_manager).post("/programs/new/", {**NEW, **change})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert "Reseller program" in response.content.decode() or field == "name"
    assert not Program.objects.exists()


def test_a_taken_code_is_a_field_error(login: Any, channel_manager: Any) -> None:
    make_program(None, ladder(), code="resellers")
    response = login(channel_manager).post("/programs/new/", NEW)
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["code"])
    assert Program.objects.count() == 1


def test_settings_switch_the_schedule_on_and_are_audited(login: Any, channel_manager: Any) -> None:
    program = make_program(None, ladder(), code="resellers")
    client = login(channel_manager)
    page = client.get("/programs/resellers/settings/")
    assert page.status_code == 200 and 'name="code"' not in page.content.decode()
    response = client.post(
        "/programs/resellers/settings/",
        {
            "name": program.name,
            "cadence": "month",
            "schedule_enabled": "on",
            "next_evaluation": "2030-01-31",
            "regions": "",
            "tags": "gold-partner",
        },
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.schedule_enabled and program.next_evaluation == dt.date(2030, 1, 31)
    assert (program.cadence, program.tags) == ("month", ["gold-partner"])
    entry = AuditEntry.objects.for_object(program).filter(action="update").get()
    assert entry.changes["schedule_enabled"] == [False, True]


def test_partners_and_read_only_staff_may_not(
    login: Any, partner_a_user: Any, analyst: Any
) -> None:
    make_program(None, ladder(), code="resellers")
    for user in (partner_a_user, analyst):
        client = login(user)
        assert client.get("/programs/new/").status_code == 403
        assert client.post("/programs/new/", {**NEW, "code": "x"}).status_code == 403
        assert client.get("/programs/resellers/settings/").status_code == 403
    assert login(analyst).get("/programs/nothing/settings/").status_code == 404
    assert Program.objects.count() == 1
