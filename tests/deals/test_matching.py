"""Entity resolution for deal registrations: normalised names in many languages, tax ids,
registrable domains, the name score, and the NameGram index's similar-name search on the
real database (bench/conflicts.py measures its speed and recall at a million names)."""

# ruff: noqa: RUF001 - full-width letters and Cyrillic are the point of several cases

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.deals.matching import (
    index_names,
    length_band,
    name_grams,
    name_score,
    normalise_domain,
    normalise_name,
    normalise_tax_id,
    similar_names,
    unindex_names,
)
from accord.deals.models import NameGram, NameGramCount, Registration
from accord.partners.models import Organisation

NUMBERS = itertools.count(1)


def register(organisation: Organisation, name: str, *, index: bool = True) -> Registration:
    registration = Registration.objects.create(
        organisation=organisation,
        number=f"M-{next(NUMBERS):07d}",
        customer_name=name,
        name_key=normalise_name(name),
        value=Decimal(1000),
        currency="USD",
        expected_close=dt.date(2026, 12, 31),
    )
    if index:
        index_names([registration])
    return registration


def found(name: str, threshold: int = 85, **kwargs: object) -> dict[int, int]:
    return dict(similar_names(normalise_name(name), threshold=threshold, **kwargs))


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME Corp.", "acme"),
        ("Acme Corporation Ltd", "acme"),
        ("acme, inc.", "acme"),
        ("Acme Incorporated", "acme"),
        ("ACME L.L.C.", "acme"),
        ("Acme Company Limited", "acme"),
        ("华为技术有限公司", "华为技术"),
        ("华为技术", "华为技术"),
        ("华为技术股份有限公司", "华为技术"),
        ("华为 技术 有限责任公司", "华为技术"),
        ("阿里巴巴集团控股有限公司", "阿里巴巴"),
        ("台積電股份有限公司", "台積電"),
        ("香港電訊集團", "香港電訊"),
        ("トヨタ自動車株式会社", "トヨタ自動車"),
        ("株式会社東芝", "東芝"),
        ("㈱ソニー", "ソニー"),
        ("合同会社ミライ", "ミライ"),
        ("삼성전자 주식회사", "삼성전자"),
        ("Siemens AG", "siemens"),
        ("Müller Maschinenbau GmbH & Co. KG", "muller maschinenbau"),
        ("Schröder Handel mbH", "schroder handel"),
        ("Société Générale S.A.", "societe generale"),
        ("Dupont et Cie", "dupont"),
        ("Lefèvre Conseil SARL", "lefevre conseil"),
        ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"),
        ("Telefónica S.A.", "telefonica"),
        ("Distribuciones Pérez S.L.", "distribuciones perez"),
        ("Ferrari S.p.A.", "ferrari"),
        ("Rossi Costruzioni S.r.l.", "rossi costruzioni"),
        ("Koninklijke Philips N.V.", "koninklijke philips"),
        ("de Vries Bouw B.V.", "de vries bouw"),
        ("Nokia Oyj", "nokia"),
        ("Novo Nordisk A/S", "novo nordisk"),
        ("Volvo AB", "volvo"),
        ("Kowalski Sp. z o.o.", "kowalski"),
        ("BHP Group Pty Ltd", "bhp"),
        ("The Coca-Cola Company", "coca cola"),
        ("McDonald's Corporation", "mcdonalds"),
        ("I.B.M. Corp", "ibm"),
        ("Procter & Gamble Co.", "procter and gamble"),
        ("ＡＣＭＥ　Ｃｏｒｐ．", "acme"),
        ("ÀÇMÉ Córp", "acme"),
        ("Smith & Co.", "smith"),
        ("ООО Газпром", "газпром"),
        ("PT Bank Central Asia Tbk", "bank central asia"),
        ("Ärzte-Service Intl GmbH", "arzte service international"),
    ],
)
def test_normalise_name(name: str, key: str) -> None:
    assert normalise_name(name) == key


@pytest.mark.parametrize("name", ["Limited", "Corp Inc", "GmbH", "有限公司", "S.A.", "The Company"])
def test_a_name_made_only_of_legal_words_keeps_one(name: str) -> None:
    key = normalise_name(name)
    assert key
    assert normalise_name(key) == key


def test_empty_and_punctuation_only_names() -> None:
    assert normalise_name("") == ""
    assert normalise_name("  ") == ""
    assert normalise_name("!!!") == ""


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_normalising_is_idempotent(name: str) -> None:
    key = normalise_name(name)
    assert normalise_name(key) == key
    assert key == key.strip()
    assert "  " not in key


LEGAL = ["Inc.", "Corp.", "Ltd", "LLC", "GmbH", "S.A.", "S.r.l.", "B.V.", "AG", "Co., Ltd."]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéèñ", min_size=3, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=3), st.sampled_from(LEGAL))
def test_case_punctuation_width_and_legal_form_do_not_matter(words: list[str], legal: str) -> None:
    name = " ".join(words)
    key = normalise_name(name)
    for variant in (
        f"{name.upper()} {legal}",
        f"{name.title()}, {legal}",
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in f"{name} {legal}"),
    ):
        assert normalise_name(variant) == key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_score_is_symmetric_and_bounded(a: str, b: str) -> None:
    score = name_score(a, b)
    assert 0 <= score <= 100
    assert score == name_score(b, a)
    assert name_score(a, a) == 100


def test_scores() -> None:
    assert name_score("acme", "acme") == 100
    assert name_score("global tech systems", "systems global tech") == 100
    assert name_score("acme", "acne") == 75
    assert name_score("华为技术", "华为技木") == 75
    assert name_score("acme", "zzzz") == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 200), st.integers(50, 100), st.integers(1, 200))
def test_the_length_band_holds_every_name_that_can_score_the_threshold(
    length: int, threshold: int, other: int
) -> None:
    low, high = length_band(length, threshold)
    best = round(200 * min(length, other) / (length + other))
    if best >= threshold:
        assert low <= other <= high


def test_grams() -> None:
    assert name_grams("acme") == {" ac", "acm", "cme", "me ", "=acme"}
    assert name_grams("acme ag") == {
        *(" ac", "acm", "cme", "me ", "=acme", " ag", "ag ", "=ag"),
        *("acme| ag", "acme|ag ", "ag| ac", "ag|me "),
    }
    assert name_grams("华为技术") == {" 华", "华为", "为技", "技术", "术 "}
    assert name_grams("ibm中国") == {" ib", "ibm", "bm ", "=ibm", " 中", "中国", "国 "}
    assert max(len(gram) for gram in name_grams("a" * 40)) == 16
    assert name_grams("") == set()


# -- tax ids and domains ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("de 123.456-789", "DE123456789"),
        ("DE123456789", "DE123456789"),
        ("91310000-MA1FL0XB3K", "91310000MA1FL0XB3K"),
        ("ｇｂ　９８７６５４３２１", "GB987654321"),
        ("12/345/67890", "1234567890"),
        ("", ""),
        (" - . ", ""),
    ],
)
def test_normalise_tax_id(value: str, key: str) -> None:
    assert normalise_tax_id(value) == key


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://Sales.ACME.co.uk/x", "acme.co.uk"),
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("shop.eu.acme.com.", "acme.com"),
        ("http://acme.com:8080/path?q=1#top", "acme.com"),
        ("sales@mail.acme.de", "acme.de"),
        ("acme.myshopify.com", "acme.myshopify.com"),
        ("store.acme.myshopify.com", "acme.myshopify.com"),
        ("huawei.com.cn", "huawei.com.cn"),
        ("ＡＣＭＥ．ＣＯＭ", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("", ""),
        ("acme", ""),
        ("co.uk", ""),
        ("myshopify.com", ""),
        ("not a domain.com", ""),
        ("acme.notatld", ""),
        ("-acme-.com", ""),
        ("127.0.0.1", ""),
        ("http://", ""),
        ("a..b.com", ""),
    ],
)
def test_normalise_domain(value: str, domain: str) -> None:
    assert normalise_domain(value) == domain


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_domains_never_fail(value: str) -> None:
    domain = normalise_domain(value)
    assert domain == "" or normalise_domain(domain) == domain


# -- the index --------------------------------------------------------------------------------


def test_similar_names_finds_the_examples(partner_a: Organisation) -> None:
    acme = register(partner_a, "ACME Corp.")
    huawei = register(partner_a, "华为技术有限公司")
    register(partner_a, "Globex Corporation")
    assert found("Acme Corporation Ltd") == {acme.pk: 100}
    assert found("华为技术") == {huawei.pk: 100}
    assert found("Acne Corp") == {}  # 75
    assert found("Acne Corp", threshold=70) == {acme.pk: 75}


def test_best_first_then_oldest_within_the_limit(partner_a: Organisation) -> None:
    first = register(partner_a, "Vantara Systems")
    second = register(partner_a, "Vantara Systems GmbH")
    close = register(partner_a, "Vantera Systems")
    assert similar_names("vantara systems", threshold=85) == [
        (first.pk, 100),
        (second.pk, 100),
        (close.pk, 93),
    ]
    assert similar_names("vantara systems", threshold=85, limit=2) == [
        (first.pk, 100),
        (second.pk, 100),
    ]
    assert similar_names("vantara systems", threshold=85, exclude=[first.pk])[0] == (
        second.pk,
        100,
    )
    assert similar_names("", threshold=85) == []
    assert similar_names("vantara systems", threshold=85, limit=0) == []


def test_only_indexed_registrations_are_found(partner_a: Organisation) -> None:
    kept = register(partner_a, "Orbital Dynamics Ltd")
    dropped = register(partner_a, "Orbital Dynamics Inc")
    register(partner_a, "Orbital Dynamics LLC", index=False)
    unindex_names([dropped.pk])
    assert found("Orbital Dynamics") == {kept.pk: 100}
    index_names([dropped])
    assert set(found("Orbital Dynamics")) == {kept.pk, dropped.pk}


def test_reindexing_follows_a_renamed_registration_and_keeps_the_counts(
    partner_a: Organisation,
) -> None:
    registration = register(partner_a, "Kestrel Aviation")
    other = register(partner_a, "Kestrel Marine")
    registration.customer_name = "Zephyr Logistics"
    registration.name_key = normalise_name(registration.customer_name)
    registration.save()
    index_names([registration])
    assert found("Kestrel Aviation") == {}
    assert found("Zephyr Logistics") == {registration.pk: 100}
    assert set(
        NameGram.objects.filter(registration=registration).values_list("gram", flat=True)
    ) == name_grams("zephyr logistics")
    unindex_names([registration.pk, other.pk])
    assert not NameGram.objects.exists()
    assert not NameGramCount.objects.exists()


def test_counts_follow_the_rows(partner_a: Organisation) -> None:
    names = ["Acme Corp", "Acme Systems", "Apex Systems", "华为技术", "华为终端"]
    registrations = [register(partner_a, name) for name in names]
    unindex_names([registrations[1].pk])
    index_names(registrations[3:])  # again: nothing changes
    expected: dict[tuple[str, int], int] = {}
    for row in NameGram.objects.values_list("gram", "length"):
        expected[row] = expected.get(row, 0) + 1
    counts = {
        (gram, length): n
        for gram, length, n in NameGramCount.objects.values_list("gram", "length", "registrations")
    }
    assert counts == expected


def test_a_registration_without_a_key_is_indexed_by_its_name(partner_a: Organisation) -> None:
    registration = Registration.objects.create(
        organisation=partner_a,
        number="M-NOKEY",
        customer_name="Ä & " * 50,
        value=Decimal(1),
        currency="USD",
        expected_close=dt.date(2026, 12, 31),
    )
    index_names([registration])
    key = NameGram.objects.filter(registration=registration).values_list("key", flat=True)[0]
    assert len(normalise_name("Ä & " * 50)) > 200
    assert key == normalise_name("Ä & " * 50)[:200]


def test_deleting_a_registration_drops_its_rows(partner_a: Organisation) -> None:
    registration = register(partner_a, "Heliotrope Labs")
    registration.delete()
    assert not NameGram.objects.exists()
    assert found("Heliotrope Labs") == {}


def test_many_languages_and_their_variants(partner_a: Organisation) -> None:
    pairs = [
        ("Siemens Healthineers AG", "SIEMENS HEALTHINEERS GMBH"),
        ("Müller Maschinenbau GmbH", "Mueller Maschinenbau"),
        ("Société Générale S.A.", "Societe Generale"),
        ("Telefónica de España S.A.U.", "Telefonica de Espana SA"),
        ("Rossi Costruzioni S.r.l.", "Rossi Costruzioni SRL"),
        ("Koninklijke Philips N.V.", "Koninklijke Phillips NV"),
        ("深圳市腾讯计算机系统有限公司", "深圳市腾讯计算机系统"),
        ("北京字节跳动科技有限公司", "北京字节跳动科技"),
        ("トヨタ自動車株式会社", "株式会社トヨタ自動車"),
        ("ソニーグループ株式会社", "ソニーグループ"),
        ("Ａｌｉｂａｂａ Ｃｌｏｕｄ", "Alibaba Cloud Ltd"),
        ("Global Tech Systems Inc", "Global Tech Sytems Ltd"),
    ]
    registrations = {name: register(partner_a, name) for name, _variant in pairs}
    for name, variant in pairs:
        assert registrations[name].pk in found(variant), (name, variant)


ALPHABET = "abcdefghijklmnopqrstuvwxyz"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    words=st.lists(st.text(alphabet=ALPHABET, min_size=3, max_size=9), min_size=1, max_size=3),
    chinese=st.text(
        alphabet="华为技术中兴通讯腾讯阿里巴巴百度京东美团小米联想海尔格力", min_size=2, max_size=6
    ),
    legal=st.sampled_from(LEGAL),
    data=st.data(),
)
def test_a_name_and_its_variants_find_it(
    partner_a: Organisation, words: list[str], chinese: str, legal: str, data: st.DataObject
) -> None:
    for name, variants in (
        (
            " ".join(words) + " " + legal,
            [
                " ".join(words).upper(),
                " ".join(words).title() + ", " + data.draw(st.sampled_from(LEGAL)),
                "-".join(words) + ".",
                "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in " ".join(words)),
            ],
        ),
        (chinese + "有限公司", [chinese, chinese + "股份有限公司", chinese + "集团"]),
    ):
        registration = register(partner_a, name)
        key = normalise_name(name)
        assert (registration.pk, 100) in similar_names(key, threshold=100, limit=1000)
        for variant in variants:
            matches = found(variant, limit=1000)
            assert matches.get(registration.pk, 0) >= 85, (name, variant, matches)
        unindex_names([registration.pk])
