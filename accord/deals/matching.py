"""Entity resolution for deal registrations: normalised company names, tax ids and domains,
the name similarity score and the NameGram blocking index that finds similar names fast."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from django.db import connection
from publicsuffixlist import PublicSuffixList
from rapidfuzz import fuzz

from accord.deals.models import NameGram, Registration

# -- names ------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Legal forms, as tokens after normalisation (dots and slashes gone, runs of single letters
# joined: "S.A." -> "sa", "L.L.C." -> "llc", "A/S" -> "as", "Sp. z o.o." -> "sp zoo").
# Dropped from the end of a name (repeatedly: "GmbH & Co. KG"), never the last token left.
LEGAL_SUFFIXES = _words(
    """
    inc incorporated corp corporation co company companies cos llc llp lp ltd limited plc pty
    pte pvt lllp pllc pc ltda ltee cia cie sarl eurl sas sasu sa sci snc scs sca
    gmbh mbh ag kg kgaa ohg gbr ug ev eg se sce haftungsbeschrankt
    sl slu sau srl srls spa sapa scarl sc sccl bv nv vof cv bvba cvba sprl
    ab as asa aps oy oyj hf ehf ks spzoo sk sro kft zrt nyrt doo dd ad ead ood ou sia uab
    kk yk gk tbk bhd sdn jsc ojsc pjsc cjsc pcl
    group gruppe groupe grupo gruppo groep
    and und et en
    """
)
# Legal forms of several tokens (after the single letters are joined).
LEGAL_PHRASES = tuple(
    tuple(phrase.split())
    for phrase in (
        "sp zoo",
        "sp z oo",
        "sp k",
        "sa de cv",
        "s de rl",
        "s de rl de cv",
        "sab de cv",
        "kabushiki kaisha",
        "kabushiki gaisha",
        "godo kaisha",
        "yugen kaisha",
        "private limited",
        "public limited",
        "societe anonyme",
        "societe par actions simplifiee",
        "sociedad anonima",
        "sociedad limitada",
        "societa per azioni",
        "societa a responsabilita limitata",
        "besloten vennootschap",
        "naamloze vennootschap",
        "sdn bhd",
        "s en c",
        "et cie",
    )
)
# "the", and the Indonesian and Russian forms that come first (the last ones in Cyrillic).
LEGAL_PREFIXES = _words(
    "the pt ooo oao zao pao ao"
    " \u043e\u043e\u043e \u043e\u0430\u043e \u0437\u0430\u043e \u043f\u0430\u043e \u0430\u043e"
)
# Chinese, Japanese and Korean legal forms, dropped from the end (or, for the Japanese and
# Korean ones, the start) of a run of CJK characters, longest first.
CJK_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "集團有限公司",
    "控股有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "集團公司",
    "总公司",
    "總公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "주식회사",
    "유한회사",
    "集团",
    "集團",
    "控股",
    "股份",
    "公司",
)
CJK_PREFIXES = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "주식회사", "유한회사")
# "(株)", "㈱" (NFKC: "(株)"), "(有)", "(주)": a token of its own once the brackets are gone.
CJK_LEGAL_TOKENS = frozenset(("株", "有", "주", *CJK_SUFFIXES))
ABBREVIATIONS = {
    "intl": "international",
    "mfg": "manufacturing",
    "bros": "brothers",
    "natl": "national",
    "svcs": "services",
    "mgmt": "management",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holding",
}
# Letters that do not decompose into a base letter and a combining accent.
FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
# Combining accents of Latin, Greek and Cyrillic letters (not the kana voicing marks).
ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
CJK = re.compile(
    "[\u1100-\u11ff\u3005-\u3007\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)
CJK_SPACE = re.compile(f"(?<={CJK.pattern}) (?={CJK.pattern})")


def _base(name: str) -> list[str]:
    """The name's tokens: NFKC, casefolded, accents stripped, punctuation to spaces, runs of
    single letters joined, a few abbreviations spelled out."""
    text = unicodedata.normalize("NFKC", name).casefold().translate(FOLD)
    text = ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    text = unicodedata.normalize("NFKC", text).replace("&", " and ")
    chars = []
    for char in text:
        if char in "'\u2019`\u00b4":  # apostrophes: "McDonald's" -> "mcdonalds"
            continue
        category = unicodedata.category(char)
        chars.append(" " if category[0] in "PSZC" else char)
    tokens = "".join(chars).split()
    joined: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha() and not CJK.match(token):
            run.append(token)
            continue
        if run:
            joined.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if token:
            joined.append(ABBREVIATIONS.get(token, token))
    return joined


def _strip_cjk(token: str) -> str:
    """``token`` without CJK legal forms at its end (or a Japanese/Korean one at its start)."""
    changed = True
    while changed:
        changed = False
        for suffix in CJK_SUFFIXES:
            if token.endswith(suffix) and len(token) > len(suffix):
                token, changed = token[: -len(suffix)], True
                break
        for prefix in CJK_PREFIXES:
            if token.startswith(prefix) and len(token) > len(prefix):
                token, changed = token[len(prefix) :], True
                break
    return token


def _strip_legal(tokens: list[str]) -> list[str]:
    """Drop legal forms from both ends, never the last token left."""
    tokens = [_strip_cjk(token) for token in tokens]
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for phrase in LEGAL_PHRASES:
            if len(tokens) > len(phrase) and tuple(tokens[-len(phrase) :]) == phrase:
                tokens, changed = tokens[: -len(phrase)], True
                break
        else:
            if tokens[-1] in LEGAL_SUFFIXES or tokens[-1] in CJK_LEGAL_TOKENS:
                tokens, changed = tokens[:-1], True
            elif tokens[0] in LEGAL_PREFIXES or tokens[0] in CJK_LEGAL_TOKENS:
                tokens, changed = tokens[1:], True
    return tokens


def normalise_name(name: str) -> str:
    """The comparable key of a company name: "ACME Corp." and "Acme Corporation Ltd" give
    "acme", "华为技术有限公司" gives "华为技术". A name made only of legal words keeps its last
    one ("Limited" -> "limited")."""
    tokens = _base(name)
    while True:
        stripped = _strip_legal(tokens)
        text = CJK_SPACE.sub("", " ".join(stripped))
        again = _base(text)
        if again == tokens:
            return text
        tokens = again


def normalise_tax_id(value: str) -> str:
    """A tax or registration id to compare: upper-case, separators (spaces, dashes, dots,
    slashes) removed: "de 123.456-789" -> "DE123456789"."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(char for char in text if char.isalnum())


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def normalise_domain(value: str) -> str:
    """The registrable domain of a host name, URL or e-mail address ("https://Sales.ACME.co.uk/x"
    -> "acme.co.uk", "acme.myshopify.com" stays), IDN in ASCII form; "" if it has none."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#\\]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]
    text = re.sub(r":\d*\Z", "", text).strip(".")
    if not text or any(char.isspace() for char in text):
        return ""
    try:
        host = text.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(HOST_LABEL.match(label) for label in labels):
        return ""
    if labels[-1].isdigit():  # an IPv4 address
        return ""
    return _public_suffixes().privatesuffix(host, accept_unknown=False) or ""


def name_score(a_key: str, b_key: str) -> int:
    """How alike two normalised names are, 0..100 (100 for equal keys); symmetric. The better
    of the plain and the word-order-free edit similarity."""
    return round(max(fuzz.ratio(a_key, b_key), fuzz.token_sort_ratio(a_key, b_key)))


# -- the blocking index -----------------------------------------------------------------------


def name_grams(name_key: str) -> set[str]:
    """The grams of a normalised name: padded trigrams of each word, padded bigrams of each
    run of CJK characters (their names have no spaces and short words)."""
    grams: set[str] = set()
    for token in name_key.split():
        for run in re.findall(f"{CJK.pattern}+|[^{CJK.pattern[1:-1]}]+", token):
            size = 2 if CJK.match(run) else 3
            padded = f" {run} "
            grams.update(padded[i : i + size] for i in range(len(padded) - size + 1))
    return grams


def index_names(registrations: Iterable[Registration]) -> None:
    """(Re)write the NameGram rows of ``registrations`` from their name keys."""
    registrations = list(registrations)
    unindex_names(registration.pk for registration in registrations)
    NameGram.objects.bulk_create(
        NameGram(gram=gram, registration_id=registration.pk)
        for registration in registrations
        for gram in sorted(name_grams(_key(registration)))
    )


def _key(registration: Registration) -> str:
    return registration.name_key or normalise_name(registration.customer_name)


def unindex_names(registration_ids: Iterable[int]) -> None:
    """Drop the NameGram rows of these registrations (they no longer take part in matching)."""
    ids = list(registration_ids)
    if ids:
        NameGram.objects.filter(registration_id__in=ids).delete()


CANDIDATES = 400  # registrations re-ranked per query


def similar_names(
    name_key: str, *, threshold: int, limit: int = 20, exclude: Iterable[int] = ()
) -> list[tuple[int, int]]:
    """Indexed registrations whose names score at least ``threshold`` against ``name_key``:
    (registration id, score), best first (then oldest id). The registrations sharing the
    most grams are the candidates, re-ranked with :func:`name_score`."""
    grams = sorted(name_grams(name_key))
    if not grams or limit <= 0:
        return []
    excluded = set(exclude)
    gram_table = NameGram._meta.db_table
    registration_table = Registration._meta.db_table
    placeholders = ", ".join(["%s"] * len(grams))
    # Table names from _meta; the grams are parameters.
    sql = (
        f"SELECT r.id, r.name_key FROM {registration_table} r JOIN ("  # noqa: S608
        f" SELECT registration_id, COUNT(*) AS hits FROM {gram_table}"
        f" WHERE gram IN ({placeholders}) GROUP BY registration_id"
        f" ORDER BY hits DESC, registration_id LIMIT %s) c ON c.registration_id = r.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*grams, CANDIDATES + len(excluded)])
        rows = cursor.fetchall()
    scored = [
        (pk, score)
        for pk, key in rows
        if pk not in excluded and (score := name_score(name_key, key)) >= threshold
    ]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]
