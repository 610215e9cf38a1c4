"""Health-check services on the real database, edges first: the signed, expiring, single-use
link (tampered, forged, expired, used, another survey's), answers out of range, the score and
misalignment rule on hand-computed examples (at and beyond the threshold, NPS on 1-5), the
close that feeds the KPI engine, and the timers that open quarterly and annual checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail, signing
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.accounts.models import User
from accord.channel.models import SurveyResponse
from accord.core.errors import Conflict, Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.governance.models import (
    GovernanceSettings,
    HealthResponse,
    HealthSurvey,
    Relationship,
    Side,
)
from accord.governance.services import health
from accord.governance.services.health import SurveyLinkError
from accord.metrics.engine import compute
from accord.metrics.services import define_metric
from accord.partners.models import Contact, Organisation
from tests.governance.builders import NOW, governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
DIMENSIONS = ("communication", "satisfaction", "trust", "compatibility", "goal_alignment")


def answers(value: int = 4, nps: int = 8, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = dict.fromkeys(DIMENSIONS, value)
    data["nps"] = nps
    data.update(overrides)
    return data


@pytest.fixture
def rel(partner_a: Organisation) -> dict[str, Any]:
    return governed(partner_a, now=NOW)


@pytest.fixture
def opened(rel: dict[str, Any], channel_manager: User, partner_a: Organisation) -> dict[str, Any]:
    """An open survey of Alpha: tokens by contact, and the contacts of each side."""
    survey, links = health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW)
    tokens = {response.contact_id: token for response, token in links}
    return {
        "survey": survey,
        "links": links,
        "tokens": tokens,
        "vendor": [r.contact for r, _t in links if r.side == Side.VENDOR],
        "partner": [r.contact for r, _t in links if r.side == Side.PARTNER],
    }


def token_of(opened: dict[str, Any], contact: Contact) -> str:
    return opened["tokens"][contact.pk]


def reason_of(error: pytest.ExceptionInfo) -> str:
    return error.value.reason


# -- opening ------------------------------------------------------------------------------


def test_open_asks_the_contact_map_and_role_holders_with_one_link_each(
    opened: dict[str, Any], rel: dict[str, Any]
) -> None:
    survey = opened["survey"]
    assert survey.period == "2026"  # annual by default
    assert survey.status == HealthSurvey.Status.OPEN
    assert survey.closes_at == NOW + 21 * DAY
    expected_vendor = {c.pk for c in rel["vendor"]}  # the four role holders and the executive
    assert {c.pk for c in opened["vendor"]} == expected_vendor
    assert {c.pk for c in opened["partner"]} == {c.pk for c in rel["partner"]}
    for response, token in opened["links"]:
        assert response.expires_at == survey.closes_at
        assert response.answered_at is None
        # Only a hash is stored: neither the token nor its nonce appear in the row.
        nonce = signing.loads(token, salt=health.SALT)["n"]
        assert response.token_hash not in (token, nonce)
        assert len(response.token_hash) == 64
        assert health.response_for_token(token, NOW).pk == response.pk
    assert len(set(opened["tokens"].values())) == len(opened["links"])
    assert AuditEntry.objects.for_object(survey).filter(action="create").exists()


def test_open_mails_each_respondent_their_link_in_their_language(
    rel: dict[str, Any],
    channel_manager: User,
    partner_a: Organisation,
    partner_a_user: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    outsider = rel["partner"][0]
    outsider.email = "wendy@alpha.test"
    outsider.save()
    partner_a_user.language = "zh-hans"
    partner_a_user.save()
    insider = rel["partner"][1]
    insider.user = partner_a_user
    insider.save()
    with django_capture_on_commit_callbacks(execute=True):
        _survey, links = health.open_survey(
            actor=channel_manager,
            organisation=partner_a,
            now=NOW,
            base_url="https://accord.example.com/",
        )
    tokens = {r.contact_id: t for r, t in links}
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"wendy@alpha.test", partner_a_user.email}  # the others: no e-mail
    wendy = by_address["wendy@alpha.test"]
    assert f"https://accord.example.com/governance/survey/{tokens[outsider.pk]}/" in wendy.body
    assert "Hello Wendy Working" in wendy.body
    assert "----" in wendy.body  # no account: every language of the site
    user_mail = by_address[partner_a_user.email]
    assert f"/governance/survey/{tokens[insider.pk]}/" in user_mail.body
    assert "----" not in user_mail.body  # their own language only


def test_open_needs_people_on_both_sides(
    channel_manager: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    vendor_only = vendor_person("Vera Vendor")
    with pytest.raises(ValidationError) as error:
        health.open_survey(
            actor=channel_manager, organisation=partner_a, respondents=[vendor_only], now=NOW
        )
    assert "both sides" in error.value.message_dict["respondents"][0]
    # No contact map at all: nobody to ask.
    with pytest.raises(ValidationError) as error:
        health.open_survey(actor=channel_manager, organisation=partner_b, now=NOW)
    assert "respondents" in error.value.message_dict
    assert not HealthSurvey.objects.exists()
    assert not HealthResponse.objects.exists()


def test_open_refuses_people_of_another_organisation_or_who_left(
    rel: dict[str, Any], channel_manager: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    stranger = partner_person(partner_b, "Bruno Bravo")
    with pytest.raises(ValidationError) as error:
        health.open_survey(
            actor=channel_manager,
            organisation=partner_a,
            respondents=[rel["vendor"][0], stranger],
            now=NOW,
        )
    assert "Choose a person of" in error.value.message_dict["respondents"][0]
    gone = rel["partner"][0]
    gone.active = False
    gone.save()
    with pytest.raises(ValidationError) as error:
        health.open_survey(
            actor=channel_manager,
            organisation=partner_a,
            respondents=[rel["vendor"][0], gone],
            now=NOW,
        )
    assert "has left" in error.value.message_dict["respondents"][0]
    # By default people who left are not asked.
    survey, links = health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW)
    assert gone.pk not in {r.contact_id for r, _t in links}
    assert survey.pk


def test_open_explicit_respondents(
    rel: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    chosen = [rel["vendor"][0], rel["partner"][2], rel["vendor"][0]]  # a repeat counts once
    _survey, links = health.open_survey(
        actor=channel_manager, organisation=partner_a, respondents=chosen, period="2026-Q1", now=NOW
    )
    assert sorted((r.contact_id, r.side) for r, _t in links) == sorted(
        [(rel["vendor"][0].pk, Side.VENDOR), (rel["partner"][2].pk, Side.PARTNER)]
    )


def test_open_permissions(
    rel: dict[str, Any],
    partner_a: Organisation,
    partner_a_user: User,
    partner_b_user: User,
    analyst: User,
) -> None:
    with pytest.raises(PermissionDenied):
        health.open_survey(actor=partner_a_user, organisation=partner_a, now=NOW)
    with pytest.raises(Http404):
        health.open_survey(actor=partner_b_user, organisation=partner_a, now=NOW)
    with pytest.raises(PermissionDenied):
        health.open_survey(actor=analyst, organisation=partner_a, now=NOW)  # reads only
    assert not HealthSurvey.objects.exists()


@pytest.mark.parametrize("period", ["2026-Q5", "26", "2026-q1", "2026\x00", "", 2026])
def test_open_refuses_a_malformed_period(
    rel: dict[str, Any], channel_manager: User, partner_a: Organisation, period: Any
) -> None:
    with pytest.raises(ValidationError) as error:
        health.open_survey(actor=channel_manager, organisation=partner_a, period=period, now=NOW)
    assert "period" in error.value.message_dict


def test_open_one_at_a_time_and_once_per_period(
    opened: dict[str, Any], channel_manager: User, partner_a: Organisation, vendor: Organisation
) -> None:
    with pytest.raises(Conflict, match="still open"):
        health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW)
    health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    with pytest.raises(Conflict) as error:
        health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW + 2 * DAY)
    assert "2026" in error.value.message_dict["period"][0]
    with pytest.raises(ValidationError) as error:
        health.open_survey(actor=channel_manager, organisation=vendor, now=NOW)
    assert "organisation" in error.value.message_dict


def test_open_makes_the_relationship_row_when_missing(
    channel_manager: User, partner_b: Organisation
) -> None:
    vendor_side = vendor_person("Vic Vendor")
    partner_side = partner_person(partner_b, "Pia Partner")
    Relationship.objects.filter(organisation=partner_b).delete()  # as if made in bulk
    health.open_survey(
        actor=channel_manager,
        organisation=partner_b,
        respondents=[vendor_side, partner_side],
        now=NOW,
    )
    assert Relationship.objects.filter(organisation=partner_b).exists()


# -- the link ------------------------------------------------------------------------------


def tampered(token: str) -> list[str]:
    payload, signature = token.rsplit(":", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    body_flipped = ("x" if payload[0] != "x" else "y") + payload[1:]
    return [f"{payload}:{flipped}", f"{body_flipped}:{signature}", token[:-1], token + "x"]


def test_a_tampered_token_is_refused(opened: dict[str, Any]) -> None:
    token = opened["links"][0][1]
    for bad in tampered(token):
        with pytest.raises(SurveyLinkError) as error:
            health.response_for_token(bad, NOW)
        assert reason_of(error) == "invalid" and error.value.status == 400
        with pytest.raises(SurveyLinkError):
            health.answer(token=bad, data=answers(), now=NOW)
    assert not HealthResponse.objects.filter(answered_at__isnull=False).exists()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "a:b:c",
        "\x00",
        "x" * 5000,
        "令牌:签名",
        None,
        12,
        ["list"],
    ],
)
def test_garbage_is_not_a_valid_link(opened: dict[str, Any], token: Any) -> None:
    with pytest.raises(SurveyLinkError) as error:
        health.response_for_token(token, NOW)
    assert reason_of(error) == "invalid"


@pytest.mark.parametrize(
    "payload",
    [
        ["r", 1],
        {"r": "1", "n": "x"},
        {"r": True, "n": "x"},
        {"r": 2**70, "n": "x"},
        {"r": -1, "n": "x"},
        {"n": "x"},
        {"r": 1},
        {"r": 1, "n": None},
    ],
    ids=str,
)
def test_a_signed_token_of_the_wrong_shape_is_refused(opened: dict[str, Any], payload: Any) -> None:
    with pytest.raises(SurveyLinkError) as error:
        health.response_for_token(signing.dumps(payload, salt=health.SALT), NOW)
    assert reason_of(error) == "invalid"


def test_a_token_signed_for_something_else_is_refused(opened: dict[str, Any]) -> None:
    response = opened["links"][0][0]
    nonce = signing.loads(opened["links"][0][1], salt=health.SALT)["n"]
    other_salt = signing.dumps({"r": response.pk, "n": nonce}, salt="password-reset")
    with pytest.raises(SurveyLinkError):
        health.response_for_token(other_salt, NOW)


def test_the_link_expires_with_the_survey(opened: dict[str, Any]) -> None:
    response, token = opened["links"][0]
    closes = opened["survey"].closes_at
    assert health.response_for_token(token, closes - dt.timedelta(seconds=1)).pk == response.pk
    with pytest.raises(SurveyLinkError) as error:
        health.response_for_token(token, closes)
    assert reason_of(error) == "expired" and error.value.status == 410
    with pytest.raises(SurveyLinkError) as error:
        health.answer(token=token, data=answers(), now=closes + DAY)
    assert reason_of(error) == "expired"
    response.refresh_from_db()
    assert response.answered_at is None and response.trust is None


def test_the_link_stops_working_when_the_survey_closes_early(
    opened: dict[str, Any], channel_manager: User
) -> None:
    token = opened["links"][0][1]
    health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    with pytest.raises(SurveyLinkError) as error:
        health.answer(token=token, data=answers(), now=NOW + 2 * DAY)
    assert reason_of(error) == "expired"


def test_the_link_works_once(opened: dict[str, Any]) -> None:
    response, token = opened["links"][0]
    health.answer(token=token, data=answers(5, nps=9), now=NOW + DAY)
    with pytest.raises(SurveyLinkError) as error:
        health.answer(token=token, data=answers(1, nps=0), now=NOW + 2 * DAY)
    assert reason_of(error) == "used" and error.value.status == 410
    with pytest.raises(SurveyLinkError) as error:
        health.response_for_token(token, NOW + 2 * DAY)
    assert reason_of(error) == "used"
    response.refresh_from_db()
    assert (response.trust, response.nps, response.answered_at) == (5, 9, NOW + DAY)


def test_a_token_of_survey_a_cannot_answer_survey_b(
    opened: dict[str, Any], channel_manager: User, partner_b: Organisation
) -> None:
    governed(partner_b, now=NOW)
    _survey_b, links_b = health.open_survey(actor=channel_manager, organisation=partner_b, now=NOW)
    response_a, token_a = opened["links"][0]
    response_b, token_b = links_b[0]
    nonce_a = signing.loads(token_a, salt=health.SALT)["n"]
    nonce_b = signing.loads(token_b, salt=health.SALT)["n"]
    # Even with the signing key, pointing A's secret at B's response (or the other way
    # round) fails: each response only takes its own nonce.
    for forged in (
        signing.dumps({"r": response_b.pk, "n": nonce_a}, salt=health.SALT),
        signing.dumps({"r": response_a.pk, "n": nonce_b}, salt=health.SALT),
    ):
        with pytest.raises(SurveyLinkError) as error:
            health.answer(token=forged, data=answers(), now=NOW + DAY)
        assert reason_of(error) == "invalid"
    # A's own token answers A only.
    answered = health.answer(token=token_a, data=answers(), now=NOW + DAY)
    assert answered.pk == response_a.pk and answered.survey_id == opened["survey"].pk
    assert not HealthResponse.objects.filter(
        survey__organisation=partner_b, answered_at__isnull=False
    ).exists()


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trust", 0),
        ("trust", 6),
        ("communication", -1),
        ("nps", 11),
        ("nps", -1),
        ("nps", 100),
        ("satisfaction", "abc"),
        ("satisfaction", "4\x00"),
        ("goal_alignment", True),
        ("compatibility", 3.5),
        ("compatibility", "3.5"),
        ("trust", None),
        ("trust", ""),
        ("nps", " "),
        ("nps", [8]),
        ("comment", "\x00"),
        ("comment", "x" * 4001),
        ("comment", 42),
    ],
    ids=repr,
)
def test_an_answer_out_of_range_is_a_field_error(
    opened: dict[str, Any], field: str, value: Any
) -> None:
    response, token = opened["links"][0]
    with pytest.raises(ValidationError) as error:
        health.answer(token=token, data=answers(**{field: value}), now=NOW + DAY)
    assert list(error.value.message_dict) == [field]
    response.refresh_from_db()
    assert response.answered_at is None
    assert health.response_for_token(token, NOW + DAY).pk == response.pk  # still usable


def test_a_missing_answer_is_a_field_error(opened: dict[str, Any]) -> None:
    token = opened["links"][0][1]
    with pytest.raises(ValidationError) as error:
        health.answer(token=token, data={"trust": 3}, now=NOW + DAY)
    assert set(error.value.message_dict) == {*DIMENSIONS, "nps"} - {"trust"}
    with pytest.raises(ValidationError):
        health.answer(token=token, data="trust=3", now=NOW + DAY)


def test_answers_as_form_text_are_accepted(opened: dict[str, Any]) -> None:
    response, token = opened["links"][0]
    data = {code: " 3 " for code in DIMENSIONS} | {"nps": "0", "comment": "  Good start.  "}
    health.answer(token=token, data=data, now=NOW + DAY)
    response.refresh_from_db()
    assert (response.trust, response.nps, response.comment) == (3, 0, "Good start.")
    entry = AuditEntry.objects.for_object(response).filter(action="update").get()
    assert set(entry.changes) == {"answered_at"}  # the answers stay out of the audit log


# -- the score and the flag ----------------------------------------------------------------


def answer_as(opened: dict[str, Any], contact: Contact, data: dict[str, Any]) -> None:
    health.answer(token=token_of(opened, contact), data=data, now=NOW + DAY)


def test_score_and_divergence_on_a_hand_computed_example(
    opened: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    vendor_a, vendor_b = opened["vendor"][:2]
    partner = opened["partner"][0]
    answer_as(opened, vendor_a, answers(5, nps=10))
    answer_as(opened, vendor_b, answers(4, nps=8))
    answer_as(
        opened,
        partner,
        {
            "communication": 3,
            "satisfaction": 2,
            "trust": 2,
            "compatibility": 3,
            "goal_alignment": 4,
            "nps": 5,
        },
    )
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + 2 * DAY)
    result = survey.result
    # Vendor means 4.5 on every dimension; partner 3, 2, 2, 3, 4 (mean 2.8).
    # Mean of the ten side means = (5 x 4.5 + 14) / 10 = 3.65 -> (3.65 - 1) / 4 x 100
    # = 66.25, rounded half up to 66.3.
    assert result["mean"] == "3.65"
    assert survey.score == Decimal("66.3") and result["score"] == "66.3"
    assert result["vendor"]["trust"] == "4.50" and result["partner"]["trust"] == "2.00"
    assert result["vendor"]["score"] == "87.5"  # (4.5 - 1) / 4 x 100
    assert result["partner"]["score"] == "45.0"  # (2.8 - 1) / 4 x 100
    # NPS on 1-5: vendor mean 9 -> 4.6, partner 5 -> 3.0.
    assert result["vendor"]["nps"] == "4.60" and result["partner"]["nps"] == "3.00"
    assert result["vendor"]["nps_0_10"] == "9.00"
    assert result["divergence"] == {
        "communication": "1.50",
        "satisfaction": "2.50",
        "trust": "2.50",
        "compatibility": "1.50",
        "goal_alignment": "0.50",
        "nps": "1.60",
    }
    assert result["misaligned_on"] == [
        "communication",
        "satisfaction",
        "trust",
        "compatibility",
        "nps",
    ]
    assert survey.misaligned is True
    assert result["threshold"] == "1.0"
    assert result["responses"] == {"vendor": 2, "partner": 1}
    assert result["invited"] == {"vendor": 5, "partner": 3}
    assert "(mean - 1) / 4 * 100" in result["rule"]
    relationship = Relationship.objects.get(organisation=partner_a)
    assert (relationship.health_score, relationship.misaligned) == (Decimal("66.3"), True)
    entry = AuditEntry.objects.for_object(survey).filter(action="transition").get()
    assert entry.changes["status"] == ["open", "closed"]
    assert "threshold 1.0" in entry.reason


def test_misaligned_beyond_the_threshold_not_at_it(
    opened: dict[str, Any], channel_manager: User
) -> None:
    vendor, partner = opened["vendor"][0], opened["partner"][0]
    answer_as(opened, vendor, answers(4, nps=8, trust=4))
    answer_as(opened, partner, answers(4, nps=8, trust=3))  # trust differs by exactly 1.0
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.result["divergence"]["trust"] == "1.00"
    assert survey.misaligned is False and survey.result["misaligned_on"] == []
    assert survey.result["largest"] == {"dimension": "trust", "divergence": "1.00"}


def test_one_dimension_beyond_the_threshold_flags_it_alone(
    rel: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    survey, links = health.open_survey(actor=channel_manager, organisation=partner_a, now=NOW)
    tokens = {r.contact_id: t for r, t in links}
    vendors = [r.contact for r, _t in links if r.side == Side.VENDOR]
    partner = next(r.contact for r, _t in links if r.side == Side.PARTNER)
    # Vendor trust answers 4, 4, 5: mean 13/3 = 4.33..., partner 3: 1.33... > 1.0.
    for contact, trust in zip(vendors[:3], (4, 4, 5), strict=True):
        health.answer(token=tokens[contact.pk], data=answers(3, nps=6, trust=trust), now=NOW)
    health.answer(token=tokens[partner.pk], data=answers(3, nps=6, trust=3), now=NOW)
    survey = health.close_survey(actor=channel_manager, survey=survey, now=NOW + DAY)
    assert survey.result["misaligned_on"] == ["trust"]
    assert survey.result["divergence"]["trust"] == "1.33"
    assert survey.result["vendor"]["trust"] == "4.33"


def test_the_threshold_comes_from_the_settings(
    opened: dict[str, Any], channel_manager: User
) -> None:
    settings_row = GovernanceSettings.current()
    settings_row.misalignment_threshold = Decimal("2.0")
    settings_row.save()
    answer_as(opened, opened["vendor"][0], answers(5, nps=9))
    answer_as(opened, opened["partner"][0], answers(3, nps=9))  # 2.0 everywhere: at the limit
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.result["threshold"] == "2.0"
    assert survey.misaligned is False


def test_nps_is_compared_on_the_1_to_5_scale(opened: dict[str, Any], channel_manager: User) -> None:
    vendor, partner = opened["vendor"][0], opened["partner"][0]
    answer_as(opened, vendor, answers(4, nps=10))  # 10 x 0.4 + 1 = 5.0
    answer_as(opened, partner, answers(4, nps=7))  # 7 x 0.4 + 1 = 3.8
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.result["divergence"]["nps"] == "1.20"
    assert survey.result["misaligned_on"] == ["nps"]
    # NPS does not enter the score: the five dimensions are 4 on both sides.
    assert survey.score == Decimal("75.0")


def test_nps_exactly_at_the_threshold_is_aligned(
    opened: dict[str, Any], channel_manager: User
) -> None:
    first, second = opened["vendor"][:2]
    answer_as(opened, first, answers(4, nps=10))
    answer_as(opened, second, answers(4, nps=5))  # vendor mean 7.5 -> 4.0
    answer_as(opened, opened["partner"][0], answers(4, nps=5))  # 5 -> 3.0
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.result["divergence"]["nps"] == "1.00"
    assert survey.misaligned is False


def test_each_side_weighs_the_same(opened: dict[str, Any], channel_manager: User) -> None:
    for contact in opened["vendor"]:  # five vendor answers of 5
        answer_as(opened, contact, answers(5, nps=10))
    answer_as(opened, opened["partner"][0], answers(1, nps=0))  # one partner answer of 1
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.score == Decimal("50.0")  # (3 - 1) / 4 x 100, not (4.33 - 1) / 4 x 100


def test_without_answers_on_one_side_no_score(
    opened: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    answer_as(opened, opened["vendor"][0], answers(5, nps=10))
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.status == HealthSurvey.Status.CLOSED
    assert survey.score is None and survey.misaligned is False
    assert survey.result["no_score"] == "partner"
    assert survey.result["score"] is None and survey.result["divergence"] == {}
    assert survey.result["vendor"]["trust"] == "5.00" and survey.result["partner"] == {}
    relationship = Relationship.objects.get(organisation=partner_a)
    assert relationship.health_score is None  # unchanged by an unanswered check
    assert SurveyResponse.objects.count() == 1  # the answer still reaches the KPI facts


def test_a_survey_nobody_answered(opened: dict[str, Any], channel_manager: User) -> None:
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    assert survey.result["no_score"] == "both" and survey.result["responses"] == {
        "vendor": 0,
        "partner": 0,
    }


def test_close_permissions_and_once(
    opened: dict[str, Any], channel_manager: User, partner_a_user: User, partner_b_user: User
) -> None:
    with pytest.raises(PermissionDenied):
        health.close_survey(actor=partner_a_user, survey=opened["survey"], now=NOW)
    with pytest.raises(Http404):
        health.close_survey(actor=partner_b_user, survey=opened["survey"], now=NOW)
    assert HealthSurvey.objects.get().status == HealthSurvey.Status.OPEN
    health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    with pytest.raises(Conflict, match="already closed"):
        health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)


def test_an_older_survey_closed_late_does_not_overwrite_the_relationship(
    opened: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    for contact in (opened["vendor"][0], opened["partner"][0]):
        answer_as(opened, contact, answers(5, nps=10))
    health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    # An older check left open (say, imported), answered low and closed afterwards.
    older = HealthSurvey.objects.create(
        organisation=partner_a, period="2025", opened_at=NOW - 400 * DAY, closes_at=NOW + DAY
    )
    for contact, side in ((opened["vendor"][0], "vendor"), (opened["partner"][0], "partner")):
        HealthResponse.objects.create(
            survey=older,
            contact=contact,
            side=side,
            token_hash=f"{side}-older",
            expires_at=older.closes_at,
            answered_at=NOW - 399 * DAY,
            nps=0,
            **dict.fromkeys(DIMENSIONS, 1),
        )
    older = health.close_survey(actor=channel_manager, survey=older, now=NOW + 2 * DAY)
    assert older.score == Decimal("0.0")
    relationship = Relationship.objects.get(organisation=partner_a)
    assert relationship.health_score == Decimal("100.0")  # still the newer check's


# -- the KPI engine ------------------------------------------------------------------------


def test_closing_feeds_csat_and_nps_to_the_kpi_engine(
    opened: dict[str, Any], channel_manager: User, partner_a: Organisation
) -> None:
    v1, v2 = opened["vendor"][:2]
    p1, p2 = opened["partner"][:2]
    answer_as(opened, v1, answers(4, nps=10, satisfaction=5))
    answer_as(opened, v2, answers(4, nps=9, satisfaction=4))
    answer_as(opened, p1, {**answers(3, nps=6, satisfaction=2), "comment": "Slow replies"})
    answer_as(opened, p2, answers(3, nps=9, satisfaction=3))
    survey = health.close_survey(actor=channel_manager, survey=opened["survey"], now=NOW + DAY)
    facts = SurveyResponse.objects.filter(organisation=partner_a).order_by(
        "respondent_side", "csat"
    )
    assert [(f.respondent_side, f.csat, f.nps) for f in facts] == [
        ("partner", 2, 6),
        ("partner", 3, 9),
        ("vendor", 4, 9),
        ("vendor", 5, 10),
    ]
    assert {f.date for f in facts} == {(NOW + DAY).date()}
    assert {f.source_key for f in facts} == {
        f"health:{r.pk}" for r in HealthResponse.objects.filter(answered_at__isnull=False)
    }
    partner_fact = facts.get(respondent_side="partner", csat=2)
    assert (partner_fact.respondent, partner_fact.comment) == (p1.full_name, "Slow replies")
    assert all(
        f.respondent == "" and f.comment == "" for f in facts if f.respondent_side == "vendor"
    )
    assert sorted(survey.result["kpi_facts"]) == sorted(f.pk for f in facts)

    # The built-in csat / nps metrics read end customers: the health check is not theirs.
    # Metrics with respondent_side vendor / partner read it.
    for code, calculation, side in (
        ("partner_csat", "csat", "partner"),
        ("partner_nps", "nps", "partner"),
        ("vendor_csat", "csat", "vendor"),
        ("vendor_nps", "nps", "vendor"),
    ):
        define_metric(
            actor=None,
            code=code,
            data={
                "name": code,
                "dimension": "market",
                "calculation": calculation,
                "params": {"respondent_side": side},
                "unit": "score",
            },
        )
    table = compute(
        ["csat", "nps", "partner_csat", "partner_nps", "vendor_csat", "vendor_nps"],
        period="quarter",
        as_of=dt.date(2026, 3, 31),
        organisations=Organisation.objects.filter(pk=partner_a.pk),
    )
    values = table.rows[0].values
    assert values["csat"] is None and values["nps"] is None
    assert values["partner_csat"] == Decimal("2.50")  # (2 + 3) / 2
    assert values["vendor_csat"] == Decimal("4.50")  # (5 + 4) / 2
    # NPS: partner one promoter (9), one detractor (6) -> 0; vendor two promoters -> 100.
    assert Decimal(values["partner_nps"]) == 0
    assert Decimal(values["vendor_nps"]) == 100
    assert table.rows[0].inputs["partner_csat"]["respondent_side"] == "partner"


# -- timers ---------------------------------------------------------------------------------


def test_timers_open_quarterly_and_annual_checks_on_schedule(
    partner_a: Organisation, partner_b: Organisation
) -> None:
    governed(partner_a, now=NOW)
    governed(partner_b, now=NOW)
    Relationship.objects.filter(organisation=partner_a).update(health_frequency="quarterly")
    done = health.run_health_timers(now=NOW)
    periods = dict(HealthSurvey.objects.values_list("organisation_id", "period"))
    assert periods == {partner_a.pk: "2026-Q1", partner_b.pk: "2026"}
    assert len(done["opened"]) == 2 and done["closed"] == []
    assert health.run_health_timers(now=NOW + DAY) == {"closed": [], "opened": [], "skipped": []}

    # Three weeks later both close (nobody answered: no score).
    done = health.run_health_timers(now=NOW + 21 * DAY)
    assert len(done["closed"]) == 2 and done["opened"] == []
    assert not HealthSurvey.objects.filter(status="open").exists()

    # A quarter after the first: the quarterly relationship only.
    quarter_later = dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC)
    assert health.run_health_timers(now=quarter_later - DAY)["opened"] == []
    done = health.run_health_timers(now=quarter_later)
    assert [HealthSurvey.objects.get(pk=pk).period for pk in done["opened"]] == ["2026-Q2"]
    assert HealthSurvey.objects.filter(organisation=partner_b).count() == 1

    # A year after the first: the annual one again.
    health.run_health_timers(now=quarter_later + 21 * DAY)
    year_later = dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC)
    done = health.run_health_timers(now=year_later)
    opened = {HealthSurvey.objects.get(pk=pk).organisation_id: pk for pk in done["opened"]}
    assert HealthSurvey.objects.get(pk=opened[partner_b.pk]).period == "2027"
    assert HealthSurvey.objects.get(pk=opened[partner_a.pk]).period == "2027-Q1"


def test_timers_close_expired_surveys_with_their_answers(
    opened: dict[str, Any], partner_a: Organisation
) -> None:
    answer_as(opened, opened["vendor"][0], answers(4, nps=8))
    answer_as(opened, opened["partner"][0], answers(2, nps=4))
    assert health.run_health_timers(now=NOW + 20 * DAY)["closed"] == []
    done = health.run_health_timers(now=NOW + 21 * DAY)
    assert done["closed"] == [opened["survey"].pk]
    survey = HealthSurvey.objects.get()
    assert survey.status == "closed" and survey.score == Decimal("50.0")
    assert survey.misaligned is True and survey.result["misaligned_on"][0] == "communication"
    entry = AuditEntry.objects.for_object(survey).filter(action="transition").get()
    assert entry.actor is None and entry.actor_label == "system"
    assert SurveyResponse.objects.filter(organisation=partner_a).count() == 2


def test_timers_skip_relationships_without_both_sides_or_terminated(
    partner_a: Organisation, partner_b: Organisation
) -> None:
    governed(partner_a, now=NOW)
    assert Relationship.objects.filter(organisation=partner_b).exists()  # no contact map
    Organisation.objects.filter(pk=partner_a.pk).update(status="terminated")
    assert health.run_health_timers(now=NOW)["opened"] == []
    Organisation.objects.filter(pk=partner_a.pk).update(status="active")
    assert len(health.run_health_timers(now=NOW)["opened"]) == 1


def test_period_labels() -> None:
    assert health.period_for("annual", dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)) == "2026"
    assert health.period_for("quarterly", dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) == "2026-Q2"
    assert health.period_for("quarterly", dt.datetime(2026, 3, 31, tzinfo=dt.UTC)) == "2026-Q1"


# -- the rule as a property -----------------------------------------------------------------

answer_rows = st.lists(
    st.fixed_dictionaries(
        {
            "side": st.sampled_from(["vendor", "partner"]),
            **{code: st.integers(1, 5) for code in DIMENSIONS},
            "nps": st.integers(0, 10),
        }
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(rows=answer_rows, threshold=st.decimals("0.1", "4", places=1))
def test_health_result_properties(rows: list[dict[str, Any]], threshold: Decimal) -> None:
    result = health.health_result(rows, threshold)
    sides = {row["side"] for row in rows}
    if sides != {"vendor", "partner"}:
        assert result["score"] is None and result["misaligned_on"] == []
        return
    assert Decimal("0") <= Decimal(result["score"]) <= Decimal("100")
    for code, gap in result["divergence"].items():
        vendor = [r[code] for r in rows if r["side"] == "vendor"]
        partner = [r[code] for r in rows if r["side"] == "partner"]
        exact = abs(Decimal(sum(vendor)) / len(vendor) - Decimal(sum(partner)) / len(partner))
        if code == "nps":
            exact = exact * Decimal("0.4")
        assert (code in result["misaligned_on"]) == (exact > threshold) or abs(
            exact - threshold
        ) < Decimal("1e-20")
        assert abs(Decimal(gap) - exact) <= Decimal("0.005")
    # Swapping the sides changes nothing but the sides.
    swapped = [{**row, "side": "partner" if row["side"] == "vendor" else "vendor"} for row in rows]
    mirror = health.health_result(swapped, threshold)
    assert mirror["score"] == result["score"]
    assert mirror["misaligned_on"] == result["misaligned_on"]


def test_timer_mails_carry_the_sites_public_address(
    partner_a: Organisation, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.ACCORD_BASE_URL = ""  # unset: the site's trusted origin is the address
    settings.CSRF_TRUSTED_ORIGINS = ["https://accord.example.com"]
    rel = governed(partner_a, now=NOW)
    person = rel["partner"][0]
    person.email = "wendy@alpha.test"
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        health.run_health_timers(now=NOW)
    (message,) = mail.outbox
    assert "https://accord.example.com/governance/survey/" in message.body


# -- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_answers_with_one_link_count_once(partner_a: Organisation) -> None:
    from threading import Barrier, Thread

    from django.db import connection

    from accord.accounts.models import Role
    from accord.accounts.roles import sync_builtin_roles

    sync_builtin_roles(Role)
    governed(partner_a, now=NOW)
    _survey, links = health.open_survey(actor=None, organisation=partner_a, now=NOW)
    token = links[0][1]
    barrier = Barrier(2)
    outcomes: list[str] = []

    def submit(value: int) -> None:
        try:
            barrier.wait()
            health.answer(token=token, data=answers(value, nps=value), now=NOW + DAY)
            outcomes.append("ok")
        except SurveyLinkError as error:
            outcomes.append(error.reason)
        except Exception as error:  # a lock timeout on SQLite is a refusal too
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [Thread(target=submit, args=(value,)) for value in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1, outcomes
    assert HealthResponse.objects.filter(answered_at__isnull=False).count() == 1
