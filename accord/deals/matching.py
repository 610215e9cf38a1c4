"""Entity resolution for deal registrations: normalised company names, tax ids and domains,
the name similarity score and the NameGram blocking index that finds similar names fast."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from publicsuffixlist import PublicSuffixList
from rapidfuzz import fuzz, process

from accord.deals.models import NameGram, NameGramCount, Registration

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
    kk yk gk tbk bhd sdn jsc ojsc pjsc cjsc pcl ek
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
    while changed and token not in CJK_LEGAL_TOKENS:  # a whole legal form goes as a word
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
    of the edit similarity of the names and of their words sorted (word order ignored)."""
    return round(max(fuzz.ratio(a_key, b_key), fuzz.token_sort_ratio(a_key, b_key)))


# -- the blocking index -----------------------------------------------------------------------
#
# Every indexed name is stored under each of its grams: padded trigrams of its words, the
# words themselves ("=word", the first 15 letters), each word with the first and the last
# trigram of every other word ("maschinenbau| am", "maschinenbau|is ") and padded bigrams of
# its runs of CJK characters (Chinese and Japanese names have no spaces). A row also holds
# the name's length and the name, so candidates come straight from the index. A search for
# a threshold reads only names whose length allows the threshold (the score can't exceed
# 2 min / (a + b)), and of the query's grams the rarest ones, by NameGramCount, until
# GRAM_BUDGET rows: a name that scores high shares many grams with the query, so it shares
# some rare one too. The common grams are those of shared words ("tech", "maschinenbau",
# "科技"): thousands of rows each. The words in context make the names that share such a word
# and begin or end another word alike ("ampeis maschinenbau", "cais maschinenbau") cheap to
# find. Every candidate read is verified with RapidFuzz in C: no ranking by gram counts to
# get wrong, what the budget reads is all that can be missed.

GRAM_BUDGET = 10_000
"""Index rows a search reads at most (by the counts; measured by bench/conflicts.py)."""
WORD_GRAM = 15  # letters of a whole word kept in its "=" gram (NameGram.gram holds 16)
CONTEXT_WORD = 12  # letters of a word kept in a word-in-context gram, with "|" and a trigram
CONTEXT_WORDS = 8  # words of a name that make words-in-context grams
RUNS = re.compile(f"{CJK.pattern}+|[^{CJK.pattern[1:-1]}]+")


def name_grams(name_key: str) -> set[str]:
    """The grams of a normalised name: padded trigrams and "=word" of each word, each word
    with the first and last trigram of the others, padded bigrams of each run of CJK
    characters."""
    grams: set[str] = set()
    words = []
    for token in name_key.split():
        for run in RUNS.findall(token):
            cjk = CJK.match(run) is not None
            size = 2 if cjk else 3
            padded = f" {run} "
            grams.update(padded[i : i + size] for i in range(len(padded) - size + 1))
            if not cjk:
                grams.add("=" + run[:WORD_GRAM])
                words.append(run)
    words = words[:CONTEXT_WORDS]
    for i, word in enumerate(words):
        for j, other in enumerate(words):
            if i != j:
                grams.add(f"{word[:CONTEXT_WORD]}|{f' {other}'[:3]}")
                grams.add(f"{word[:CONTEXT_WORD]}|{f'{other} '[-3:]}")
    return grams


def length_band(length: int, threshold: float) -> tuple[int, int]:
    """The lengths a name may have to score ``threshold`` against a name of ``length``:
    both scores are at most 2 min(a, b) / (a + b) (rounded: from ``threshold`` - 0.5)."""
    ratio = (threshold - 0.5) / 100
    if ratio <= 0:
        return 0, 32767
    low = math.ceil(length * ratio / (2 - ratio) - 1e-9)
    high = math.floor(length * (2 - ratio) / ratio + 1e-9)
    return low, high


def _key(registration: Registration) -> str:
    return (registration.name_key or normalise_name(registration.customer_name))[:200]


def index_names(registrations: Iterable[Registration]) -> None:
    """(Re)write the NameGram rows of ``registrations`` from their name keys, and the counts.

    Call it last in the service's transaction: the counts of shared grams are rows every
    indexing updates, held (PostgreSQL) until the commit."""
    registrations = [registration for registration in registrations if registration.pk]
    if not registrations:
        return
    with transaction.atomic():
        counts = _drop([registration.pk for registration in registrations])
        rows = []
        for registration in registrations:
            key = _key(registration)
            for gram in sorted(name_grams(key)):
                rows.append(
                    NameGram(registration_id=registration.pk, gram=gram, length=len(key), key=key)
                )
                counts[gram, len(key)] += 1
        NameGram.objects.bulk_create(rows, batch_size=1000)
        _count(counts)


def unindex_names(registration_ids: Iterable[int]) -> None:
    """Drop the NameGram rows of these registrations (they no longer take part in matching)."""
    ids = list(registration_ids)
    if ids:
        with transaction.atomic():
            _count(_drop(ids))


def _drop(ids: list[int]) -> Counter[tuple[str, int]]:
    """Delete the rows of these registrations: the change of the counts (negative)."""
    rows = NameGram.objects.filter(registration_id__in=ids)
    dropped: Counter[tuple[str, int]] = Counter()
    for gram_length in rows.values_list("gram", "length"):
        dropped[gram_length] -= 1
    if dropped:
        rows.delete()
    return dropped


def _count(changes: Counter[tuple[str, int]]) -> None:
    """Add ``changes`` to NameGramCount in one statement per 500 grams, in gram order (two
    indexings lock the rows they share in the same order)."""
    table = NameGramCount._meta.db_table
    items = sorted(item for item in changes.items() if item[1])
    with connection.cursor() as cursor:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            # The table name comes from _meta; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {table} (gram, length, registrations) VALUES "  # noqa: S608
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (gram, length) DO UPDATE"
                f" SET registrations = {table}.registrations + excluded.registrations",
                [value for (gram, length), change in chunk for value in (gram, length, change)],
            )
        grams = sorted({gram for (gram, _length), change in items if change < 0})
        for start in range(0, len(grams), 500):
            chunk = grams[start : start + 500]
            cursor.execute(
                f"DELETE FROM {table} WHERE registrations <= 0"  # noqa: S608
                f" AND gram IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )


def similar_names(
    name_key: str, *, threshold: int, limit: int = 20, exclude: Iterable[int] = ()
) -> list[tuple[int, int]]:
    """Indexed registrations whose names score at least ``threshold`` against ``name_key``:
    (registration id, :func:`name_score`), best first (then oldest id)."""
    grams = sorted(name_grams(name_key))
    if not grams or limit <= 0:
        return []
    low, high = length_band(len(name_key), threshold)
    if connection.vendor == "postgresql":
        both = 'string_agg(registration_id::text || chr(31) || "key", chr(31))'
    else:
        both = 'group_concat(registration_id || char(31) || "key", char(31))'
    # One statement: the in-band counts of the query's grams, the rarest ones while their
    # rows add up to GRAM_BUDGET, their rows (and the same name's, whatever its grams cost)
    # as one string "id␟name␟id␟name...": thousands of rows read several times faster so
    # than as rows. Names hold no control characters (normalise_name makes them spaces).
    # Table names come from _meta; every value is a parameter.
    sql = f"""
        WITH costs AS (
            SELECT gram, SUM(registrations) AS n FROM {NameGramCount._meta.db_table}
            WHERE gram IN ({", ".join(["%s"] * len(grams))}) AND length BETWEEN %s AND %s
            GROUP BY gram
        ), probed AS (
            SELECT gram FROM (SELECT gram, SUM(n) OVER (ORDER BY n, gram) AS running
                              FROM costs) AS cumulative
            WHERE running <= %s
        )
        SELECT {both} FROM (
            SELECT registration_id, "key" FROM {NameGram._meta.db_table}
            WHERE gram = %s AND length = %s AND "key" = %s
            UNION ALL
            SELECT registration_id, "key" FROM {NameGram._meta.db_table}
            WHERE gram IN (SELECT gram FROM probed) AND length BETWEEN %s AND %s
        ) AS found
    """  # noqa: S608
    params = [*grams, low, high, GRAM_BUDGET, grams[0], len(name_key), name_key, low, high]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (found,) = cursor.fetchone()
    if not found:
        return []
    fields = found.split("\x1f")
    candidates = dict(zip(fields[::2], fields[1::2], strict=True))  # ids as text: most lose
    for pk in exclude:
        candidates.pop(str(pk), None)
    # token_sort_ratio is ratio of the words sorted: the same as ratio for two one-word names.
    several = candidates if " " in name_key else {k: v for k, v in candidates.items() if " " in v}
    best: dict[str, float] = {}
    for scorer, choices in ((fuzz.ratio, candidates), (fuzz.token_sort_ratio, several)):
        scores = process.extract(
            name_key, choices, scorer=scorer, limit=None, score_cutoff=max(threshold - 0.5, 0)
        )
        for _key_found, score, pk in scores:
            if score > best.get(pk, -1.0):
                best[pk] = score
    scored = [(int(pk), round(score)) for pk, score in best.items() if round(score) >= threshold]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]
