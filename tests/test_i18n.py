"""Two languages: the Chinese catalogue is complete, compiled, current, and used by the pages."""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "accord"
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"


def read_po(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file (obsolete ``#~`` entries left out), header first."""
    entries: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    key: tuple[str, str] | None = None

    def finish() -> None:
        if current is not None and current["msgid"] is not None:
            entries.append(current)

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
            current, key = None, None
            continue
        if current is None:
            current = {
                "flags": set(),
                "msgctxt": None,
                "msgid": None,
                "msgid_plural": None,
                "msgstr": {},
            }
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line)
        if match:
            name, index, value = match.group(1), match.group(2), json.loads(match.group(3))
            if name.startswith("msgstr"):
                key = ("msgstr", index or "")
                current["msgstr"][key[1]] = value
            else:
                key = (name, "")
                current[name] = value
        elif line.startswith('"') and key is not None:
            value = json.loads(line)
            if key[0] == "msgstr":
                current["msgstr"][key[1]] += value
            else:
                current[key[0]] += value
    finish()
    return entries


def test_catalogue_is_complete() -> None:
    header, *entries = read_po(CATALOGUE / "django.po")
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][""]
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_placeholders_survive_translation() -> None:
    for entry in read_po(CATALOGUE / "django.po")[1:]:
        # Chinese has one plural form, so msgstr[0] must serve the plural msgid too.
        source = entry["msgid_plural"] if entry["msgid_plural"] is not None else entry["msgid"]
        wanted = sorted(set(re.findall(r"%\(\w+\)[sd]|%[sd]", source)))
        for text in entry["msgstr"].values():
            assert sorted(set(re.findall(r"%\(\w+\)[sd]|%[sd]", text))) == wanted, entry["msgid"]


def test_compiled_catalogue_matches_the_po_file() -> None:
    """The committed .mo is what compilemessages makes of the .po (no gettext needed)."""
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(CATALOGUE / "django.po")[1:]:
        if entry["msgid_plural"] is not None:
            got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            assert got == entry["msgstr"]["0"], entry["msgid"]
        elif entry["msgctxt"] is not None:
            got = compiled.pgettext(entry["msgctxt"], entry["msgid"])
            assert got == entry["msgstr"][""], entry["msgid"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][""], entry["msgid"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_makemessages_finds_no_new_strings(tmp_path: Path) -> None:
    """Every translatable string in the tree is already in the catalogue, translated."""
    copy = tmp_path / "accord"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "var", "*.mo"))
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),  # import the copy, so LOCALE_PATHS points into it
        "DJANGO_SETTINGS_MODULE": "accord.settings",
        "ACCORD_VAR_DIR": str(tmp_path / "var"),
    }
    environment.pop("ACCORD_DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--ignore=tests",
            "--ignore=.venv",
            "--ignore=var",
        ],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )
    before = {(e["msgctxt"], e["msgid"]) for e in read_po(CATALOGUE / "django.po")}
    after = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    new = sorted(str(e["msgid"]) for e in after if (e["msgctxt"], e["msgid"]) not in before)
    assert not new, f"run makemessages and translate: {new}"
    changed = [
        e["msgid"] for e in after[1:] if "fuzzy" in e["flags"] or not all(e["msgstr"].values())
    ]
    assert not changed, changed


# -- the pages in Chinese ----------------------------------------------------------------
@pytest.fixture
def chinese(login) -> Any:
    def make(user: Any) -> Any:
        client = login(user)
        client.cookies["django_language"] = "zh-hans"
        return client

    return make


@pytest.mark.django_db
def test_organisation_list_in_chinese(chinese, vendor_admin, partner_a) -> None:
    body = chinese(vendor_admin).get("/organisations/").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "<h1>组织</h1>" in body
    assert "分销商" in body  # the kind of Alpha Distribution
    assert "活跃" in body  # its status
    assert "退出登录" in body
    assert "Organisations</h1>" not in body


@pytest.mark.django_db
def test_login_and_not_found_pages_in_chinese(chinese, vendor_admin) -> None:
    login_page = chinese(None).get("/accounts/login/").content.decode()
    assert "登录 Accord" in login_page
    response = chinese(vendor_admin).get("/organisations/999999/")
    assert response.status_code == 404
    assert "<h1>未找到</h1>" in response.content.decode()


@pytest.mark.django_db
def test_not_found_page_in_english(login, vendor_admin) -> None:
    response = login(vendor_admin).get("/organisations/999999/")
    assert "<h1>Not found</h1>" in response.content.decode()


@pytest.mark.django_db
def test_language_switcher_sets_the_language(login, vendor_admin) -> None:
    client = login(vendor_admin)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/territories/"})
    assert response.status_code == 302
    assert response["Location"] == "/territories/"
    assert "<h1>区域</h1>" in client.get("/territories/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/territories/"})
    assert "<h1>Territories</h1>" in client.get("/territories/").content.decode()


@pytest.mark.django_db
def test_numbers_and_dates_follow_the_locale(chinese, login, vendor_admin, partner_a) -> None:
    import datetime as dt

    from tests.factories import AgreementFactory

    agreement = AgreementFactory(
        organisation=partner_a, start_on=dt.date(2026, 3, 1), end_on=dt.date(2027, 2, 28)
    )
    agreement.targets.create(metric="revenue", target="1234567.5", unit="CNY")
    chinese_body = chinese(vendor_admin).get(f"/agreements/{agreement.pk}/").content.decode()
    assert "2026年3月1日" in chinese_body
    assert "1,234,567.5" in chinese_body
    english_body = login(vendor_admin).get(f"/agreements/{agreement.pk}/").content.decode()
    assert "March 1, 2026" in english_body
    assert "1,234,567.5" in english_body


@pytest.mark.django_db
def test_scorecard_reasons_use_the_names_of_the_active_language(vendor_admin) -> None:
    """Why an action is warned or blocked names the scorecard and the standing in Chinese
    when the page is in Chinese (their name_zh), in English otherwise."""
    from django.utils import translation

    from accord.programs import gates
    from accord.programs.scorecards import consequence, save_scorecard, score_scorecard
    from tests.programs.builders import D, partners, sell

    template = save_scorecard(
        actor=vendor_admin,
        data={"code": "card", "name": "Partner card", "name_zh": "伙伴记分卡", "period": "quarter"},
        content={
            "criteria": [
                {
                    "metric": "revenue",
                    "weight": 100,
                    "rule": "linear",
                    "points": [[0, 0], [1000, 100]],
                }
            ],
            "standings": [
                {
                    "code": "at-risk",
                    "name": "At risk",
                    "name_zh": "有风险",
                    "min_score": 0,
                    "max_score": 100,
                    "deal_registration": "block",
                }
            ],
        },
    )
    (org,) = partners(1)
    sell(org, D(2026, 2, 1), 100)
    score_scorecard(actor=vendor_admin, template=template, as_of=D(2026, 3, 31))
    with translation.override("zh-hans"):
        (reason,) = consequence(org, "deal_registration").reasons
        blocked = gates.blocked("deal_registration")[org.pk].reason
    for text in (reason, blocked):
        assert text.startswith("伙伴记分卡")
        assert "有风险" in text and "综合得分 10.00" in text
        assert "Partner card" not in text and "At risk" not in text
    with translation.override("en"):
        assert consequence(org, "deal_registration").reasons == (
            "Partner card: standing At risk (overall score 10.00, 2026-01-01)",
        )
