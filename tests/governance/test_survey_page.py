"""The public health-check page over real HTTP: a respondent without an account answers
through their link (CSRF still on), the link then shows a clear 410; forged, tampered,
expired and garbage links give 400 or 410 pages, never a 500; bilingual, strict CSP."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone

from accord.accounts.models import User
from accord.governance.models import HealthResponse, HealthSurvey, Side
from accord.governance.services import health
from accord.partners.models import Organisation
from tests.governance.builders import governed

pytestmark = pytest.mark.django_db

DIMENSIONS = ("communication", "satisfaction", "trust", "compatibility", "goal_alignment")


def body(response: Any) -> str:
    return response.content.decode()


def url(token: str) -> str:
    return f"/governance/survey/{token}/"


def csrf_from(page: Any) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body(page))
    assert match, "the form carries a CSRF token"
    return match.group(1)


def form_data(value: str = "4", nps: str = "8", **overrides: str) -> dict[str, str]:
    data = dict.fromkeys(DIMENSIONS, value) | {"nps": nps, "comment": ""}
    data.update(overrides)
    return data


@pytest.fixture
def links(partner_a: Organisation, channel_manager: User) -> dict[str, Any]:
    """An open survey of Alpha opened just now: a partner-side and a vendor-side link."""
    governed(partner_a)
    survey, links = health.open_survey(
        actor=channel_manager, organisation=partner_a, now=timezone.now()
    )
    partner_response, partner_token = next(pair for pair in links if pair[0].side == Side.PARTNER)
    vendor_response, vendor_token = next(pair for pair in links if pair[0].side == Side.VENDOR)
    return {
        "survey": survey,
        "partner": partner_token,
        "partner_response": partner_response,
        "vendor": vendor_token,
        "vendor_response": vendor_response,
    }


def test_anonymous_respondent_answers_with_csrf_on(links: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(url(links["partner"]))
    assert page.status_code == 200
    text = body(page)
    assert "Relationship health check" in text
    assert links["partner_response"].contact.full_name in text
    for code in (*DIMENSIONS, "nps"):
        assert f'name="{code}"' in text
    assert "How effective is the communication" in text
    assert 'id="language-switcher"' in text  # the language switch of the base layout
    assert "Cache-Control" in page and "no-cache" in page["Cache-Control"]
    response = client.post(
        url(links["partner"]),
        form_data("5", "9", trust="3", comment="Quicker answers, please.")
        | {"csrfmiddlewaretoken": csrf_from(page)},
    )
    assert response.status_code == 200
    assert 'id="survey-thanks"' in body(response)
    answered = HealthResponse.objects.get(pk=links["partner_response"].pk)
    assert (answered.trust, answered.satisfaction, answered.nps) == (3, 5, 9)
    assert answered.comment == "Quicker answers, please."
    assert answered.answered_at is not None

    # Used: the link now says so, for GET and POST alike (410), and changes nothing.
    again = client.get(url(links["partner"]))
    assert again.status_code == 410 and "already answered" in body(again)
    replay = client.post(
        url(links["partner"]), form_data("1", "0") | {"csrfmiddlewaretoken": csrf_from(page)}
    )
    assert replay.status_code == 410
    assert HealthResponse.objects.get(pk=answered.pk).trust == 3


def test_a_post_without_csrf_token_is_refused(links: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(links["partner"]), form_data())
    assert response.status_code == 403
    assert HealthResponse.objects.get(pk=links["partner_response"].pk).answered_at is None


def test_the_page_works_for_a_logged_in_user_too(
    links: dict[str, Any], login: Any, partner_b_user: User
) -> None:
    """The link is the credential: whoever holds it answers as its respondent."""
    client = login(partner_b_user)
    assert client.get(url(links["vendor"])).status_code == 200
    assert client.post(url(links["vendor"]), form_data()).status_code == 200
    assert HealthResponse.objects.get(pk=links["vendor_response"].pk).answered_at is not None


def test_out_of_range_answers_are_field_errors_on_the_page(links: dict[str, Any]) -> None:
    client = Client()
    response = client.post(
        url(links["partner"]),
        form_data(trust="6", nps="11", communication="0", comment="a\x00b"),
    )
    assert response.status_code == 200
    text = body(response)
    assert 'id="survey-errors"' in text
    for code in ("trust", "nps", "communication"):
        assert f'id="errors-{code}"' in text
    assert "Choose a whole number from 1 to 5." in text
    assert "Choose a whole number from 0 to 10." in text
    assert "Null characters are not allowed." in text
    # What was valid stays chosen; the link still works.
    assert re.search(r'name="satisfaction" value="4" checked', text)
    assert HealthResponse.objects.get(pk=links["partner_response"].pk).answered_at is None
    assert client.get(url(links["partner"])).status_code == 200


def test_missing_answers_are_field_errors(links: dict[str, Any]) -> None:
    response = Client().post(url(links["partner"]), {"trust": "3"})
    assert response.status_code == 200
    assert body(response).count("Answer this question.") == 5


def tamper(token: str) -> str:
    payload, signature = token.rsplit(":", 1)
    return f"{payload}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: tamper(t),
        lambda t: t[:-3],
        lambda t: "nonsense",
        lambda t: "%00",
        lambda t: "x" * 3000,
        lambda t: "令牌",
        lambda t: "a:b:c:d",
        lambda t: signing.dumps({"r": 1, "n": "guess"}, salt="other"),
        lambda t: signing.dumps({"r": 2**80, "n": "guess"}, salt=health.SALT),
        lambda t: signing.dumps(["r"], salt=health.SALT),
    ],
    ids=[
        "tampered",
        "truncated",
        "nonsense",
        "nul",
        "long",
        "unicode",
        "colons",
        "other-salt",
        "huge-id",
        "wrong-shape",
    ],
)
def test_a_forged_or_broken_link_is_a_clear_400(links: dict[str, Any], make: Any) -> None:
    client = Client()
    token = make(links["partner"])
    for response in (client.get(url(token)), client.post(url(token), form_data())):
        assert response.status_code == 400
        assert 'id="survey-link-error"' in body(response)
        assert "This link is not valid." in body(response)
    assert not HealthResponse.objects.filter(answered_at__isnull=False).exists()


def test_an_expired_link_is_a_clear_410(partner_a: Organisation, channel_manager: User) -> None:
    governed(partner_a)
    long_ago = timezone.now() - dt.timedelta(days=30)
    _survey, links = health.open_survey(actor=channel_manager, organisation=partner_a, now=long_ago)
    token = links[0][1]
    client = Client()
    page = client.get(url(token))
    assert page.status_code == 410
    assert "This health check is closed" in body(page)
    assert client.post(url(token), form_data()).status_code == 410
    assert not HealthResponse.objects.filter(answered_at__isnull=False).exists()


def test_a_link_of_a_closed_survey_is_410(links: dict[str, Any], channel_manager: User) -> None:
    health.close_survey(actor=channel_manager, survey=links["survey"])
    assert Client().get(url(links["partner"])).status_code == 410


def test_other_methods_are_not_allowed(links: dict[str, Any]) -> None:
    client = Client()
    assert client.put(url(links["partner"])).status_code == 405
    assert client.delete(url(links["partner"])).status_code == 405
    assert HealthSurvey.objects.get().status == "open"


def test_strict_csp_and_no_inline_script_or_style(links: dict[str, Any]) -> None:
    client = Client()
    pages = [
        client.get(url(links["partner"])),
        client.post(url(links["partner"]), form_data(trust="9")),
        client.get(url("nonsense")),
    ]
    client.post(url(links["vendor"]), form_data())
    pages.append(client.get(url(links["vendor"])))
    for page in pages:
        assert "Content-Security-Policy" in page
        text = body(page)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
        assert "<style" not in text and " style=" not in text


def test_chinese_page(links: dict[str, Any]) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(url(links["partner"]))
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in body(page)
    assert client.get(url("nonsense")).status_code == 400


def test_the_language_switch_works_without_an_account(links: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(url(links["partner"]))
    switched = client.post(
        "/i18n/setlang/",
        {
            "language": "zh-hans",
            "next": url(links["partner"]),
            "csrfmiddlewaretoken": csrf_from(page),
        },
    )
    assert switched.status_code == 302 and switched["Location"] == url(links["partner"])
    assert '<html lang="zh-hans">' in body(client.get(url(links["partner"])))
