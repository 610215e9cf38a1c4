"""The program pages over real HTTP (Django test client) on the real database: the list and
partners' "My tier", a program, evaluate, the draft editor, runs and their explained
results with exports, one organisation in a program with overrides; who sees what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.programs import services
from accord.programs.models import (
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    TierChange,
)
from tests.factories import OrganisationFactory
from tests.programs.builders import D, criterion, make_program, sell

pytestmark = pytest.mark.django_db

FIRST = D(2025, 12, 31)  # both partners enter: A Silver, B Gold
LATER = D(2026, 9, 30)  # the 2025 sales have left the trailing 12 months: B's grace opens
CONTENT: dict[str, Any] = {
    "grace_days": 90,
    "hysteresis_pct": "10",
    "tiers": [
        {"code": "registered", "name": "Registered", "name_zh": "注册"},
        {
            "code": "silver",
            "name": "Silver",
            "name_zh": "银牌",
            "criteria": [criterion(1000)],
            "benefits": {"discount_pct": "2", "support_sla_hours": 48},
        },
        {
            "code": "gold",
            "name": "Gold",
            "name_zh": "金牌",
            "criteria": [criterion(5000)],
            "benefits": {
                "discount_pct": "5",
                "rebate_pct": "1.5",
                "mdf_share_pct": "1",
                "support_sla_hours": 24,
                "lead_priority": 2,
                "named_account_manager": True,
            },
        },
    ],
}


@pytest.fixture
def program(vendor_admin, partner_a, partner_b) -> Program:
    program = make_program(
        vendor_admin, CONTENT, code="partners", name="Partner Program", name_zh="合作伙伴计划"
    )
    sell(partner_a, D(2025, 6, 1), 1500)
    sell(partner_b, D(2025, 6, 1), 6000)
    sell(partner_b, D(2026, 2, 1), 2000)
    services.evaluate_program(actor=vendor_admin, program=program, as_of=FIRST)
    return program


@pytest.fixture
def first_run(program) -> EvaluationRun:
    return program.runs.get(as_of=FIRST)


def body(response) -> str:
    return response.content.decode()


def chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def badges(text: str) -> list[str]:
    """The tier badges of a page (the effective tier of each card)."""
    return re.findall(r'class="tier-badge" data-tier="([^"]*)">([^<]*)<', text)


def json_script(text: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', text)
    assert match, f"no #{element_id}"
    return json.loads(match.group(1))


def result_names(text: str) -> list[str]:
    tbody = text.split('id="result-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td><a href="/programs/[^"]+/organisations/\d+/">([^<]+)</a></td>', tbody)


# -- the list and "My tier" -------------------------------------------------------------------
def test_staff_list_shows_each_program_with_live_version_cadence_and_last_run(
    login, vendor_admin, program
):
    response = login(vendor_admin).get("/programs/")
    assert response.status_code == 200
    text = body(response)
    row = text.split('data-program="partners"', 1)[1].split("</tr>", 1)[0]
    assert "Partner Program" in row and "v1" in row and "Quarterly" in row
    assert "as of 2025-12-31" in row
    assert "Gold 1" in row and "Silver 1" in row
    assert f"/programs/partners/runs/{program.runs.get().pk}/" in row


def test_partner_sees_my_tier_of_its_own_organisation_only(
    login, partner_a_user, partner_b, program
):
    response = login(partner_a_user).get("/programs/")
    assert response.status_code == 200
    text = body(response)
    assert "My tier" in text
    assert badges(text) == [("silver", "Silver")]
    assert "since 2025-12-31" in text
    # the benefits of Silver, and what Gold needs (its gap from the latest applied run)
    assert "2 %" in text and "48 hours" in text
    assert "Progress to Gold" in text
    assert "needs 3,500 more revenue in the trailing 12 months" in text
    assert '<progress max="100" value="30"' in text  # 1,500 of 5,000
    assert "1,500" in text and "5,000" in text
    assert partner_b.name not in text
    assert "/runs/" not in text  # runs are staff only


def test_my_tier_names_tiers_in_chinese(login, partner_b_user, program):
    text = body(chinese(login(partner_b_user)).get("/programs/"))
    assert badges(text) == [("gold", "金牌")]
    assert "合作伙伴计划" in text
    assert 'lang="zh-hans"' in text


def test_my_tier_shows_grace_and_override(login, vendor_admin, partner_a, partner_b_user, program):
    services.evaluate_program(actor=vendor_admin, program=program, as_of=LATER)
    text = body(login(partner_b_user).get("/programs/"))
    assert badges(text) == [("gold", "Gold")]
    assert "Gold until 2026-12-29 unless recovered" in text
    assert "then Silver" in text
    # in grace, what matters is keeping Gold: its threshold relaxed by the 10 % band
    assert "To keep Gold" in text and "4,500" in text
    assert "needs 2,500 more revenue in the trailing 12 months" in text

    until = timezone.localdate() + dt.timedelta(days=30)
    services.override_tier(
        actor=vendor_admin,
        program=program,
        organisation=partner_b_user.organisation,
        tier="silver",
        reason="Contract renegotiation",
        until=until,
    )
    text = body(login(partner_b_user).get("/programs/"))
    assert badges(text) == [("silver", "Silver")]
    assert f"Held in Silver by a manual override until {until.isoformat()}" in text
    assert "Contract renegotiation" in text


def test_partner_without_any_tier_sees_an_empty_page(login, vendor_admin, partner_a_user):
    make_program(vendor_admin, CONTENT, code="empty")
    text = body(login(partner_a_user).get("/programs/"))
    assert 'id="no-tier"' in text and badges(text) == []


# -- a program --------------------------------------------------------------------------------
def test_program_page_shows_tiers_rules_benefits_and_the_latest_run(
    login, vendor_admin, first_run, program
):
    response = login(vendor_admin).get("/programs/partners/")
    assert response.status_code == 200
    text = body(response)
    gold = text.split('data-tier="gold"', 1)[1].split("</tr>", 1)[0]
    assert "Revenue ≥ 5,000" in gold and "trailing 12 months" in gold
    assert "all criteria" in gold
    assert "5 %" in gold and "1.5 %" in gold and "24 h" in gold and "Yes" in gold
    assert "no criteria: every organisation in scope qualifies" in text  # the entry tier
    assert "90 days" in text and "10 %" in text
    assert 'id="latest-run"' in text and "Tier changes" in text
    chart = json_script(text, "distribution-data")
    assert chart["kind"] == "bar"
    assert dict(zip(chart["labels"], chart["values"], strict=True)) == {"Silver": 1, "Gold": 1}
    assert "/static/accord/programs.js" in text and "/kpis/plotly.min.js" in text
    assert "sha256-" in response["Content-Security-Policy"]
    assert 'action="/programs/partners/evaluate/"' in text
    assert "/programs/partners/what-if/" in text and "/programs/partners/runs/" in text


def test_partner_sees_the_live_rules_but_no_runs_no_draft_and_no_buttons(
    login, vendor_admin, partner_a_user, program
):
    services.start_draft(actor=vendor_admin, program=program)
    client = login(partner_a_user)
    text = body(client.get("/programs/partners/"))
    assert "Revenue ≥ 5,000" in text
    assert badges(text) == [("silver", "Silver")]  # its own standing
    for absent in ('id="latest-run"', "/evaluate/", "/edit/", "/publish/", "/runs/", "draft"):
        assert absent not in text, absent
    # asking for the draft version shows the live one
    text = body(client.get("/programs/partners/?version=2"))
    assert "Tiers of version 1" in text


def test_staff_can_read_a_retired_or_draft_version(login, vendor_admin, program):
    content = services.version_content(program.versions.get())
    content["tiers"][1]["criteria"][0]["threshold"] = "1200"
    services.save_draft(actor=vendor_admin, program=program, content=content)
    client = login(vendor_admin)
    assert "Revenue ≥ 1,000" in body(client.get("/programs/partners/"))
    text = body(client.get("/programs/partners/?version=2"))
    assert "Tiers of version 2" in text and "Revenue ≥ 1,200" in text
    assert "Publish draft v2" in text
    # junk asks for the default
    for junk in ("abc", "99", "-1", "1" * 30, "²", "\u0661"):
        assert "Tiers of version 1" in body(client.get(f"/programs/partners/?version={junk}"))


def test_unknown_program_is_404(login, vendor_admin, partner_a_user, program):
    for user in (vendor_admin, partner_a_user):
        client = login(user)
        for path in ("/programs/nope/", "/programs/nope/edit/", "/programs/nope/runs/"):
            assert client.get(path).status_code == 404


def test_anonymous_users_are_sent_to_log_in(login, program):
    for path in ("/programs/", "/programs/partners/", "/programs/partners/edit/"):
        response = login(None).get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- evaluate ---------------------------------------------------------------------------------
def test_preview_evaluation_redirects_to_its_run_and_changes_nothing(
    login, vendor_admin, partner_b, program
):
    before = list(Membership.objects.values_list("organisation_id", "tier_code", "grace_until"))
    client = login(vendor_admin)
    response = client.post(
        "/programs/partners/evaluate/", {"as_of": LATER.isoformat(), "mode": "preview"}
    )
    run = EvaluationRun.objects.get(as_of=LATER)
    assert response.status_code == 302
    assert response["Location"] == f"/programs/partners/runs/{run.pk}/"
    assert not run.applied and run.trigger == "manual" and run.created_by == vendor_admin
    after = list(Membership.objects.values_list("organisation_id", "tier_code", "grace_until"))
    assert after == before
    text = body(client.get(response["Location"]))
    assert "preview: nothing was changed" in text
    assert "Preview as of 2026-09-30: nothing was changed." in text  # the message


def test_applied_evaluation_changes_tiers(login, vendor_admin, partner_b, program):
    response = login(vendor_admin).post(
        "/programs/partners/evaluate/", {"as_of": LATER.isoformat(), "mode": "apply"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(organisation=partner_b)
    assert membership.grace_until == D(2026, 12, 29)


def test_preview_of_the_draft_evaluates_the_draft(login, vendor_admin, partner_a, program):
    content = services.version_content(program.versions.get())
    content["tiers"][1]["criteria"][0]["threshold"] = "2000"  # A no longer reaches Silver
    draft = services.save_draft(actor=vendor_admin, program=program, content=content)
    response = login(vendor_admin).post(
        "/programs/partners/evaluate/", {"as_of": FIRST.isoformat(), "mode": "draft"}
    )
    run = EvaluationRun.objects.get(version=draft)
    assert response.status_code == 302 and not run.applied
    assert run.results.get(organisation=partner_a).qualified_tier == "registered"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"as_of": "2026-02-30", "mode": "apply"}, "as_of", "Enter a valid date."),
        ({"as_of": "", "mode": "apply"}, "as_of", "This field is required."),
        ({"as_of": "0999-01-01", "mode": "apply"}, "as_of", "between 1990 and 2999"),
        ({"as_of": "2026-01-01", "mode": "explode"}, "mode", "Select a valid choice."),
        ({"as_of": "2026-01-01", "mode": "draft"}, "mode", "Select a valid choice."),  # no draft
        # applying before the last applied evaluation is refused by the service
        ({"as_of": "2025-06-30", "mode": "apply"}, "as_of", "Evaluations were applied up to"),
    ],
)
def test_evaluate_form_shows_errors_and_runs_nothing(
    login, vendor_admin, program, data, field, message
):
    runs = EvaluationRun.objects.count()
    response = login(vendor_admin).post("/programs/partners/evaluate/", data)
    assert response.status_code == 200
    text = body(response)
    section = text.split('id="evaluate"', 1)[1]
    assert message in section
    assert 'class="errorlist' in section
    assert EvaluationRun.objects.count() == runs


def test_evaluate_needs_the_permission(login, analyst, partner_a_user, program):
    runs = EvaluationRun.objects.count()
    data = {"as_of": LATER.isoformat(), "mode": "preview"}
    assert login(analyst).post("/programs/partners/evaluate/", data).status_code == 403
    assert login(partner_a_user).post("/programs/partners/evaluate/", data).status_code == 403
    assert login(analyst).get("/programs/partners/evaluate/").status_code == 405
    assert EvaluationRun.objects.count() == runs
    assert "/evaluate/" not in body(login(analyst).get("/programs/partners/"))


# -- runs and results -------------------------------------------------------------------------
def test_run_list(login, vendor_admin, analyst, partner_a_user, program):
    services.evaluate_program(actor=vendor_admin, program=program, as_of=LATER, apply=False)
    text = body(login(analyst).get("/programs/partners/runs/"))
    rows = re.findall(r'<tr data-run="(\d+)">', text)
    assert len(rows) == 2
    assert "applied" in text and "preview" in text
    previews = body(login(analyst).get("/programs/partners/runs/?kind=preview&page=x"))
    assert len(re.findall(r'<tr data-run="', previews)) == 1
    assert login(partner_a_user).get("/programs/partners/runs/").status_code == 403


def test_run_results_filter_sort_and_paginate(login, vendor_admin, partner_a, partner_b, first_run):
    client = login(vendor_admin)
    url = f"/programs/partners/runs/{first_run.pk}/"
    text = body(client.get(url))
    assert result_names(text) == [partner_a.name, partner_b.name]
    assert "Entered the program" in text
    assert result_names(body(client.get(url, {"tier": "gold"}))) == [partner_b.name]
    assert result_names(body(client.get(url, {"q": partner_a.name[:5].lower()}))) == [
        partner_a.name
    ]
    assert result_names(body(client.get(url, {"sort": "-tier"}))) == [
        partner_b.name,
        partner_a.name,
    ]
    assert result_names(body(client.get(url, {"outcome": "demoted"}))) == []
    # filters that make no sense are ignored, never an error page
    junk = {"tier": "zzz", "outcome": "boom", "sort": "evil", "page": "abc", "q": "x" * 500}
    response = client.get(url, {k: v for k, v in junk.items() if k != "q"})
    assert response.status_code == 200
    assert result_names(body(response)) == [partner_a.name, partner_b.name]
    assert client.get(url, junk).status_code == 200
    assert client.get(url, {"q": "nul\x00"}).status_code == 200
    # htmx asks for the table alone
    partial = client.get(
        url, {"tier": "silver"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-results"
    )
    assert "<html" not in body(partial) and result_names(body(partial)) == [partner_a.name]


def test_run_pages_answer_404_for_runs_of_other_programs_and_403_without_permission(
    login, vendor_admin, analyst, partner_a_user, partner_a, first_run
):
    other = make_program(vendor_admin, CONTENT, code="other")
    client = login(vendor_admin)
    assert client.get(f"/programs/other/runs/{first_run.pk}/").status_code == 404
    assert client.get("/programs/partners/runs/999999999999999999/").status_code == 404
    assert client.get(f"/programs/{other.code}/runs/{first_run.pk}/export.csv").status_code == 404
    partner = login(partner_a_user)
    for path in (
        f"/programs/partners/runs/{first_run.pk}/",
        f"/programs/partners/runs/{first_run.pk}/export.csv",
        f"/programs/partners/runs/{first_run.pk}/why/{partner_a.pk}/",
    ):
        assert partner.get(path).status_code == 403, path
    assert login(analyst).get(f"/programs/partners/runs/{first_run.pk}/").status_code == 200


def test_export_is_the_filtered_table_with_every_value(
    login, vendor_admin, partner_a, partner_b, first_run
):
    url = f"/programs/partners/runs/{first_run.pk}/export.csv"
    response = login(vendor_admin).get(url, {"tier": "silver"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:8] == [
        "External key",
        "Organisation",
        "Previous tier",
        "Qualifies for",
        "Resulting tier",
        "Effective tier",
        "Outcome",
        "Grace until",
    ]
    assert "revenue@trailing_12" in rows[0]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Organisation"] == partner_a.name
    assert row["Effective tier"] == "silver" and row["Outcome"] == "Entered the program"
    assert row["revenue@trailing_12"].startswith("1500")
    assert "needs 3,500 more revenue in the trailing 12 months" in row["Gap to the next tier"]
    xlsx = login(vendor_admin).get(url.replace(".csv", ".xlsx"))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert login(vendor_admin).get(url.replace(".csv", ".pdf")).status_code == 404


def test_why_explains_every_tier_criterion_outcome_and_gap(
    login, vendor_admin, partner_a, partner_b, program
):
    run = services.evaluate_program(actor=vendor_admin, program=program, as_of=LATER)
    client = login(vendor_admin)
    url = f"/programs/partners/runs/{run.pk}/why/{partner_b.pk}/"
    text = body(client.get(url))
    assert "<html" in text
    assert "Grace period opened: stays Gold until 2026-12-29 unless recovered" in text
    gold = text.split('data-tier="gold"', 1)[1].split("</tbody>", 1)[0]
    assert "2,000" in gold  # B's revenue in the trailing 12 months
    assert "≥ 5,000" in gold and "≥ 4,500" in gold  # entry and kept threshold
    assert "✗ fail" in gold
    assert "tier after this evaluation" in gold
    # B qualifies for Silver on 2,000 in the trailing 12 months: Gold needs 3,000 more
    assert "To reach Gold:" in text
    assert "needs 3,000 more revenue in the trailing 12 months" in text
    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"why-{partner_b.pk}")
    assert "<html" not in body(partial) and 'class="why-panel"' in body(partial)
    # an organisation the run does not hold
    assert client.get(f"/programs/partners/runs/{run.pk}/why/999999/").status_code == 404


def test_run_lists_its_early_warnings_with_reasons(login, vendor_admin, partner_b, program):
    run = services.evaluate_program(actor=vendor_admin, program=program, as_of=LATER)
    assert run.warnings.exists()
    text = body(login(vendor_admin).get(f"/programs/partners/runs/{run.pk}/"))
    warnings = text.split('id="warning-rows"', 1)[1].split("</tbody>", 1)[0]
    assert partner_b.name in warnings
    assert "Grace period ends before the next evaluation" in warnings
    assert "2026-12-29" in warnings


# -- one organisation in one program ------------------------------------------------------------
def test_organisation_page_shows_tier_progress_history_and_timeline(
    login, vendor_admin, partner_b, program
):
    services.evaluate_program(actor=vendor_admin, program=program, as_of=LATER)
    response = login(vendor_admin).get(f"/programs/partners/organisations/{partner_b.pk}/")
    assert response.status_code == 200
    text = body(response)
    assert badges(text) == [("gold", "Gold")]
    assert "Gold until 2026-12-29 unless recovered" in text
    history = text.split('id="history-rows"', 1)[1].split("</tbody>", 1)[0]
    assert "2025-12-31" in history and "Entry" in history and "No tier → <strong>Gold" in history
    chart = json_script(text, "timeline-data")
    assert chart["labels"] == ["2025-12-31", "2026-09-30"]
    assert chart["values"] == ["Gold", "Gold"]
    assert chart["categories"] == ["No tier", "Registered", "Silver", "Gold"]
    assert 'id="override-form"' in text


def test_partner_sees_its_own_organisation_page_and_404_for_others(
    login, partner_a_user, partner_a, partner_b, program
):
    client = login(partner_a_user)
    own = client.get(f"/programs/partners/organisations/{partner_a.pk}/")
    assert own.status_code == 200
    text = body(own)
    assert badges(text) == [("silver", "Silver")]
    assert 'id="override-form"' not in text and "/runs/" not in text
    assert client.get(f"/programs/partners/organisations/{partner_b.pk}/").status_code == 404
    assert client.get("/programs/partners/organisations/999999999/").status_code == 404
    # writes on another organisation: 404 too, and nothing changes
    data = {"tier": "gold", "reason": "x", "until": "2099-01-01"}
    assert (
        client.post(f"/programs/partners/organisations/{partner_b.pk}/override/", data).status_code
        == 404
    )
    assert (
        client.post(f"/programs/partners/organisations/{partner_a.pk}/override/", data).status_code
        == 403
    )
    assert not TierChange.objects.filter(kind="override").exists()


def test_override_form_errors_keep_what_was_typed(login, vendor_admin, partner_a, program):
    url = f"/programs/partners/organisations/{partner_a.pk}/override/"
    client = login(vendor_admin)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    cases = [
        ({"tier": "gold", "reason": "", "until": "2099-01-01"}, "reason"),
        ({"tier": "diamond", "reason": "deal", "until": "2099-01-01"}, "tier"),
        ({"tier": "gold", "reason": "deal", "until": "not a date"}, "until"),
        ({"tier": "gold", "reason": "deal", "until": yesterday}, "until"),  # service: after today
        ({"tier": "gold", "reason": "deal", "until": "2099-01-01"}, "until"),  # at most 2 years
    ]
    for data, field in cases:
        response = client.post(url, data)
        assert response.status_code == 200, data
        text = body(response)
        form = text.split('id="override-form"', 1)[1].split("</form>", 1)[0]
        assert f'id="id_{field}"' in form
        errors = form.split(f'id="id_{field}"', 1)[1].split("</div>", 1)[0]
        assert "errorlist" in errors, (data, field)
        if data["reason"]:
            assert data["reason"] in form  # kept
    assert not TierChange.objects.filter(kind="override").exists()
    assert Membership.objects.get(organisation=partner_a).override_tier == ""


def test_override_set_and_end(login, vendor_admin, partner_a, program):
    client = login(vendor_admin)
    base = f"/programs/partners/organisations/{partner_a.pk}/"
    until = timezone.localdate() + dt.timedelta(days=60)
    response = client.post(
        base + "override/", {"tier": "gold", "reason": "Strategic account", "until": until}
    )
    assert response.status_code == 302 and response["Location"] == base
    membership = Membership.objects.get(organisation=partner_a)
    assert (membership.override_tier, membership.override_until) == ("gold", until)
    text = body(client.get(base))
    assert badges(text) == [("gold", "Gold")]
    assert "Manual override" in text and "Strategic account" in text
    # ending needs a reason
    response = client.post(base + "override/end/", {"end-reason": " "})
    assert response.status_code == 200
    assert "errorlist" in body(response).split('id="end-override-form"', 1)[1].split("</form>")[0]
    assert Membership.objects.get(organisation=partner_a).override_tier == "gold"
    response = client.post(base + "override/end/", {"end-reason": "Renewed contract"})
    assert response.status_code == 302
    assert Membership.objects.get(organisation=partner_a).override_until is None
    kinds = list(TierChange.objects.filter(organisation=partner_a).values_list("kind", flat=True))
    assert kinds[:2] == ["override_ended", "override"]
    # ending again: no override in force is a message on the form, not an error page
    response = client.post(base + "override/end/", {"end-reason": "again"})
    assert response.status_code == 200 and "No override is in force." in body(response)


# -- the draft editor -------------------------------------------------------------------------
def editor_data(content: dict[str, Any]) -> dict[str, Any]:
    """What the editor posts for ``content`` (as a browser submits its inputs)."""
    windows = {"month", "quarter", "year", "trailing_3", "trailing_6", "trailing_12", "trailing_24"}

    def window(prefix: str, value: str) -> dict[str, str]:
        if value in windows:
            return {f"{prefix}window_choice": value, f"{prefix}window_other": ""}
        return {f"{prefix}window_choice": "other", f"{prefix}window_other": value}

    data: dict[str, Any] = {
        "grace_days": content.get("grace_days", 90),
        "hysteresis_pct": content.get("hysteresis_pct", "5"),
        "cost_basis_metric": content.get("cost_basis_metric", "revenue"),
        "notes": content.get("notes", ""),
        **window("cost_basis_", content.get("cost_basis_window", "trailing_12")),
    }
    for t, tier in enumerate(content["tiers"]):
        benefits = tier.get("benefits", {})
        data.update(
            {
                f"t{t}-code": tier["code"],
                f"t{t}-name": tier["name"],
                f"t{t}-name_zh": tier.get("name_zh", ""),
                f"t{t}-combine": tier.get("combine", "all"),
                f"t{t}-at_least": tier.get("at_least") or "",
                f"t{t}-discount_pct": benefits.get("discount_pct", "0"),
                f"t{t}-rebate_pct": benefits.get("rebate_pct", "0"),
                f"t{t}-mdf_share_pct": benefits.get("mdf_share_pct", "0"),
                f"t{t}-support_sla_hours": benefits.get("support_sla_hours") or "",
                f"t{t}-lead_priority": benefits.get("lead_priority", 0),
            }
        )
        if benefits.get("named_account_manager"):
            data[f"t{t}-named_account_manager"] = "1"
        for c, item in enumerate(tier.get("criteria", [])):
            prefix = f"t{t}-c{c}-"
            data.update(
                {
                    prefix + "metric": item["metric"],
                    prefix + "comparator": item["comparator"],
                    prefix + "threshold": item["threshold"],
                    **window(prefix, item["window"]),
                }
            )
    return data


def test_editor_shows_the_live_rules_when_there_is_no_draft(login, vendor_admin, program):
    response = login(vendor_admin).get("/programs/partners/edit/")
    assert response.status_code == 200
    text = body(response)
    assert "There is no draft" in text
    assert 'name="t1-code" value="silver"' in text
    assert 'name="t2-c0-threshold" value="5000"' in text
    assert 'name="t2-named_account_manager" value="1" checked' in text
    assert '<option value="trailing_12" selected>' in text
    assert not ProgramVersion.objects.filter(status="draft").exists()  # a GET writes nothing


def test_editor_round_trip_saves_the_draft_and_shows_it(login, vendor_admin, program):
    live = program.versions.get()
    content = services.version_content(live)
    content["tiers"][2]["criteria"].append(
        {"metric": "orders", "comparator": "gte", "threshold": "12", "window": "trailing_18"}
    )
    content["tiers"][2]["combine"] = "any"
    content["tiers"][1]["benefits"]["discount_pct"] = "2.5"
    content["notes"] = "Gold may also qualify on orders."
    client = login(vendor_admin)
    response = client.post("/programs/partners/edit/", editor_data(content))
    assert response.status_code == 302 and response["Location"] == "/programs/partners/edit/"
    draft = ProgramVersion.objects.get(program=program, status="draft")
    saved = services.version_content(draft)
    assert saved["notes"] == "Gold may also qualify on orders."
    assert saved["tiers"][2]["combine"] == "any"
    assert saved["tiers"][2]["criteria"][1] == {
        "metric": "orders",
        "comparator": "gte",
        "threshold": "12",
        "window": "trailing_18",
    }
    assert saved["tiers"][1]["benefits"]["discount_pct"] == "2.50"
    assert saved["tiers"][0] == services.version_content(live)["tiers"][0]  # untouched
    assert services.version_content(live) != saved  # the live version did not change
    text = body(client.get("/programs/partners/edit/"))
    assert "Draft version 2" in text
    assert 'name="t2-c1-window_other" value="trailing_18"' in text
    # saving what the page shows changes nothing
    client.post("/programs/partners/edit/", editor_data(saved))
    assert services.version_content(ProgramVersion.objects.get(pk=draft.pk)) == saved


def test_editor_shows_each_error_next_to_its_input_and_keeps_what_was_typed(
    login, vendor_admin, program
):
    content = services.version_content(program.versions.get())
    data = editor_data(content)
    data.update(
        {
            "t1-c0-threshold": "lots",
            "t2-code": "",
            "t2-name": "Gold (renamed)",
            "t2-c0-window_choice": "other",
            "t2-c0-window_other": "trailing_999",
            "t0-discount_pct": "120",
            "hysteresis_pct": "75",
        }
    )
    response = login(vendor_admin).post("/programs/partners/edit/", data)
    assert response.status_code == 200
    text = body(response)
    assert "Nothing was saved" in text

    def error_for(name: str) -> str:
        match = re.search(
            rf'<ul class="errorlist" id="{name}-errors" data-error-for="{name}">(.*?)</ul>', text
        )
        assert match, f"no error shown for {name}"
        return match.group(1)

    assert "Enter a number." in error_for("t1-c0-threshold")
    assert "code" in error_for("t2-code")
    assert "trailing_N" in error_for("t2-c0-window")
    assert "0 to 100" in error_for("t0-discount_pct")
    assert "0 to 50" in error_for("hysteresis_pct")
    assert 'aria-describedby="t1-c0-threshold-errors"' in text
    # what was typed is still there
    assert 'name="t1-c0-threshold" value="lots"' in text
    assert 'name="t2-name" value="Gold (renamed)"' in text
    assert 'name="t2-c0-window_other" value="trailing_999"' in text
    assert not ProgramVersion.objects.filter(status="draft").exists()


def test_editor_rows_are_added_removed_and_moved_without_saving(login, vendor_admin, program):
    client = login(vendor_admin)
    data = editor_data(services.version_content(program.versions.get()))
    data["t2-name"] = "Gold typed"
    added = body(client.post("/programs/partners/edit/", {**data, "op": "add-criterion-0"}))
    assert 'name="t0-c0-threshold" value=""' in added
    assert 'name="t2-name" value="Gold typed"' in added
    added_tier = body(client.post("/programs/partners/edit/", {**data, "op": "add-tier"}))
    assert 'name="t3-code" value=""' in added_tier
    moved = body(client.post("/programs/partners/edit/", {**data, "op": "up-2"}))
    assert 'name="t1-code" value="gold"' in moved and 'name="t2-code" value="silver"' in moved
    removed = body(client.post("/programs/partners/edit/", {**data, "op": "remove-criterion-2-0"}))
    assert "t2-c0-threshold" not in removed
    gone = body(client.post("/programs/partners/edit/", {**data, "op": "remove-tier-0"}))
    assert 'name="t0-code" value="silver"' in gone
    # junk operations and crafted indices change nothing and never fail
    for op in ("up-0", "down-2", "remove-tier-99", "remove-criterion-1-9", "explode", "up-x"):
        response = client.post("/programs/partners/edit/", {**data, "op": op})
        assert response.status_code == 200, op
        assert 'name="t2-name" value="Gold typed"' in body(response)
    partial = client.post(
        "/programs/partners/edit/",
        {**data, "op": "add-tier"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="draft-editor",
    )
    assert body(partial).lstrip().startswith('<form id="draft-editor"')
    assert not ProgramVersion.objects.filter(status="draft").exists()


def test_editor_survives_crafted_posts(login, vendor_admin, program):
    client = login(vendor_admin)
    crafted = [
        {},
        {"t9999-code": "x", "t9999-c9999-threshold": "1"},
        {"t0-code": "a", "t0-name": "A", "t0-c0-threshold": "1", "t0-c0-metric": "nope"},
        {f"t{i}-code": f"t{i}" for i in range(60)},
        {"grace_days": "-1", "hysteresis_pct": "NaN", "cost_basis_window_choice": "x"},
        {"grace_days": "9", "hysteresis_pct": "1", "t0-code": "x\x00", "t0-name": "N\x00ul"},
    ]
    for data in crafted:
        response = client.post("/programs/partners/edit/", data)
        assert response.status_code in (200, 302), data
    many = client.post("/programs/partners/edit/", {f"t{i}-code": f"t{i}" for i in range(60)})
    assert "At most 12 tiers." in body(many)
    assert body(many).count('class="card tier-editor"') == 40  # what a post can make us render


def test_editor_needs_the_permission(login, analyst, partner_a_user, program):
    for user in (analyst, partner_a_user):
        client = login(user)
        assert client.get("/programs/partners/edit/").status_code == 403
        assert client.post("/programs/partners/edit/", {"t0-code": "x"}).status_code == 403
        assert client.post("/programs/partners/publish/").status_code == 403
        assert client.post("/programs/partners/discard/").status_code == 403
    assert not ProgramVersion.objects.filter(status="draft").exists()


def test_publish_and_discard(login, vendor_admin, program):
    client = login(vendor_admin)
    # nothing to publish or discard: a message, not an error page
    response = client.post("/programs/partners/publish/", follow=True)
    assert response.status_code == 200 and "There is no draft to publish." in body(response)
    response = client.post("/programs/partners/discard/", follow=True)
    assert "There is no draft to discard." in body(response)
    assert client.get("/programs/partners/publish/").status_code == 405

    content = services.version_content(program.versions.get())
    content["tiers"][1]["criteria"][0]["threshold"] = "1100"
    client.post("/programs/partners/edit/", editor_data(content))
    response = client.post("/programs/partners/discard/")
    assert response.status_code == 302
    assert not ProgramVersion.objects.filter(status="draft").exists()

    client.post("/programs/partners/edit/", editor_data(content))
    response = client.post("/programs/partners/publish/", follow=True)
    assert "Version 2 is live." in body(response)
    assert ProgramVersion.objects.get(program=program, status="published").number == 2
    assert "Revenue ≥ 1,100" in body(client.get("/programs/partners/"))


# -- no query per row ---------------------------------------------------------------------------
def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_pages_make_no_query_per_row(login, vendor_admin, partner_a, partner_b, program):
    client = login(vendor_admin)
    run = program.runs.get()
    paths = [
        f"/programs/partners/runs/{run.pk}/",
        "/programs/partners/runs/",
        f"/programs/partners/organisations/{partner_b.pk}/",
    ]
    before = [queries(client, path) for path in paths]
    for index in range(6):
        organisation = OrganisationFactory(kind="reseller", name=f"Extra {index}")
        sell(organisation, D(2025, 6, 1), 1000 * (index + 1))
    services.evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 1, 31))
    services.evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 2, 28))
    run = program.runs.order_by("-as_of").first()
    paths[0] = f"/programs/partners/runs/{run.pk}/"
    after = [queries(client, path) for path in paths]
    assert after == before
