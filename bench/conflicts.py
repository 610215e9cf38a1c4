"""Conflict check of one new deal registration against a million existing ones.

    .venv/bin/python bench/conflicts.py [--registrations 1000000] [--queries 1000] [--keep]
    ACCORD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/conflicts.py

Builds a fresh database (SQLite scratch file unless ACCORD_DATABASE_URL is set; with --keep,
./var/bench/conflicts-N/ or the given PostgreSQL database, loaded once and reused) holding
``--registrations`` open registrations whose customers are synthetic company names in eight
languages (bench/conflict_names.py: English, German, French, Spanish, Italian, Dutch, Chinese,
Japanese; brands, surnames and places with shared words such as Tech, Global, Systems,
Maschinenbau, 科技, 贸易, 電機, and legal forms), with tax ids and domains, and their NameGram
and NameGramCount rows, bulk-loaded directly.

The queries are what a second registrant types: ``--queries`` names, nine in ten a variant of
an existing one (one or two typos, legal form dropped or changed, case, abbreviations, word
order, accents, punctuation, full-width letters; for Chinese and Japanese, the legal form
dropped or changed, the city dropped, a character changed, spaces) and one in ten a new
name, half of them with the existing customer's tax id or domain spelled differently.

Measured, per query: the conflict check of the services (accord.deals.services): normalising
the name, tax id and domain, ``matching.similar_names(threshold=85, limit=50)`` and the one
query of the open registrations with those ids or the same tax id or domain; p50 / p90 / p99
over the queries after a warm-up pass.

Recall is against the floor of correctness, an exhaustive RapidFuzz scan of every normalised
name with the same score (``process.extract`` with fuzz.ratio over the names and over their
words sorted, i.e. ``token_sort_ratio``; ``name_score`` is the better of the two): for each
query, k = min(5, names scoring >= 85) and s = the k-th best score; the search finds
min(k, its results scoring >= s) of them, ties at the k-th score counting as found.
Recall = found / k summed over the queries. The unconstrained top-5 (any score, k = 5) is
reported too, from ``similar_names(threshold=0, limit=5)``.

Figures (1,000,000 registrations, 1,000 queries, 2 shared cores; the machine is shared and the
tail follows its load: at a load average of 3 the p99 was 28 ms on both databases; these runs
had it at 0.9-1.0; ``make bench-conflicts BENCH_ARGS=--keep``):

    SQLite        check p50 7.5 ms, p90 10.6 ms, p99 15.0 ms (similar_names p50 6.5, p99 13.6)
    PostgreSQL    check p50 9.1 ms, p90 13.6 ms, p99 18.0 ms (similar_names p50 7.5, p99 15.8)
    recall        top-5 at >= 85: 0.9935 of 3,059 (both databases: the same rows and the same
                  search); unconstrained top-5: 0.950 of 5,000
    floor         exhaustive scan 293-313 ms a query (one process; 12 minutes for the
                  1,000 queries in two processes, cached under ./var/bench/), 32-42x the p50
    sizes         22,362,687 NameGram rows (22 a name), 2,990,204 NameGramCount rows;
                  SQLite file 2.8 GiB, PostgreSQL 4.7 GB (the name index 3.8 GB)
    load          SQLite 215 s (normalising 25, registrations 41, index rows 111, their
                  indexes 35); PostgreSQL 257 s (22, 79, 90 with COPY, 63)

How (accord.deals.matching): each name is indexed under its padded trigrams, its words, each
word with the first and last trigram of the other words, and CJK bigrams, with its length and
the name itself in the row. One statement per search reads NameGramCount for the query's grams
within the lengths that can reach 85, takes the rarest while their rows add up to 10,000
(GRAM_BUDGET), and returns those rows as one string; RapidFuzz verifies every candidate in C.
Recall by budget on SQLite: 8,000 rows 0.9899, 9,000 0.9928, 10,000 0.9935, 20,000 (without
the words in context) 0.9944 at twice the time. The words in context are what made the
difference: without them 10,000 rows found 0.96 (names sharing a common word such as
"maschinenbau", and a brand beginning or ending alike, came only through the word's
thousands of rows).

Accuracy of the score itself (not of the search): the registration a variant was made from
scores >= 85 (or shares the tax id or domain) for 95.9 % of the variants; the misses are
short names with typos and Chinese names without their city (深圳慧源自动化 / 慧源自动化: 83).
A new name scores >= 85 against 17.6 other customers on average: the synthetic brands are
short syllable strings next to shared words, so "likea materials" and "lake materials" (90)
are near neighbours; the services' other conditions (product lines, status) narrow them.

Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _setup import ROOT, configure, database_label

THRESHOLD = 85
LIMIT = 50  # accord.deals.services.SIMILAR_LIMIT
TOP = 5


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# -- the synthetic data -----------------------------------------------------------------------


def make_data(registrations: int, queries: int, seed: int) -> tuple[list, list]:
    """Existing customers (name, tax id, domain) and queries (name, tax id, domain, kind,
    index of the customer it is a variant of or -1)."""
    from conflict_names import Names

    names = Names(seed)
    rng = random.Random(seed + 1)
    customers = []
    for i in range(registrations):
        name, language = names.name()
        tax = (
            f"{language.upper()}{rng.randrange(10**8, 10**9)}{i % 10}" if rng.random() < 0.7 else ""
        )
        domain = f"{_slug(name, i)}.{rng.choice(DOMAINS)}" if rng.random() < 0.5 else ""
        customers.append((name, language, tax, domain))
    asked = []
    for q in range(queries):
        if q % 10 == 9:
            name, _language = names.name()
            origin, kind = -1, "new name"
            other = rng.randrange(registrations)
            _name, _language, tax, domain = customers[other]
            if rng.random() < 0.5 and (tax or domain):  # the same customer's tax id or domain
                tax = _spaced(tax) if tax else ""
                domain = f"https://www.{domain}/contact" if domain else ""
                origin, kind = other, "new name, same tax id or domain"
            else:
                tax = domain = ""
        else:
            origin = rng.randrange(registrations)
            name, language, tax, domain = customers[origin]
            name, kind = names.variant(name, language)
            tax = _spaced(tax) if tax and rng.random() < 0.5 else ""
            domain = f"sales.{domain}" if domain and rng.random() < 0.3 else ""
        asked.append((name, tax, domain, kind, origin))
    return [(name, tax, domain) for name, _language, tax, domain in customers], asked


DOMAINS = ("com", "de", "fr", "es", "it", "nl", "cn", "co.jp", "co.uk", "com.cn", "myshopify.com")


def _slug(name: str, i: int) -> str:
    letters = "".join(c for c in name.lower() if "a" <= c <= "z")[:12]
    return f"{letters or 'shop'}{i}"


def _spaced(tax: str) -> str:
    return f"{tax[:2]} {tax[2:5]}.{tax[5:8]}-{tax[8:]}".lower()


# -- loading ----------------------------------------------------------------------------------


def load(customers: list[tuple[str, str, str]]) -> dict[str, float]:
    """Registrations, NameGram and NameGramCount rows; seconds per step."""
    import datetime as dt
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from accord.deals.matching import (
        name_grams,
        normalise_domain,
        normalise_name,
        normalise_tax_id,
    )
    from accord.deals.models import NameGram, NameGramCount, Registration
    from accord.partners.models import Organisation
    from accord.programs.bulk import insert_rows

    spent: dict[str, float] = {}
    started = time.perf_counter()
    keys = [normalise_name(name)[:200] for name, _tax, _domain in customers]
    spent["names normalised"] = time.perf_counter() - started

    started = time.perf_counter()
    partners = [
        Organisation.objects.create(name=f"Bench partner {i}", kind="reseller", country="US")
        for i in range(20)
    ]
    now = timezone.now()
    fields = [
        "number", "organisation", "customer_name", "customer_tax_id", "customer_domain",
        "name_key", "tax_key", "domain_key", "value", "currency", "expected_close", "status",
        "submitted_at", "updated_at",
    ]  # fmt: skip
    chunk = 20_000
    with transaction.atomic():
        for start in range(0, len(customers), chunk):
            rows = []
            for i in range(start, min(start + chunk, len(customers))):
                name, tax, domain = customers[i]
                rows.append(
                    (
                        f"B{i:08d}", partners[i % len(partners)].pk, name, tax, domain, keys[i],
                        normalise_tax_id(tax), normalise_domain(domain), Decimal(10_000), "USD",
                        dt.date(2027, 6, 30), "submitted", now, now,
                    )
                )  # fmt: skip
            insert_rows(Registration, fields, rows)
    ids = dict(Registration.objects.values_list("number", "pk"))
    spent["registrations"] = time.perf_counter() - started

    started = time.perf_counter()
    gram_table = NameGram._meta.db_table
    count_table = NameGramCount._meta.db_table
    indexes = _drop_indexes(gram_table) + _drop_indexes(count_table)
    counts: Counter[tuple[str, int]] = Counter()

    def gram_rows() -> Any:
        for i, key in enumerate(keys):
            pk = ids[f"B{i:08d}"]
            for gram in name_grams(key):
                counts[gram, len(key)] += 1
                yield (pk, gram, len(key), key)

    with transaction.atomic(), connection.cursor() as cursor:
        columns = "registration_id, gram, length, key"
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {gram_table} ({columns}) FROM STDIN") as copy:
                for row in gram_rows():
                    copy.write_row(row)
            with raw.copy(f"COPY {count_table} (gram, length, registrations) FROM STDIN") as copy:
                for (gram, length), n in counts.items():
                    copy.write_row((gram, length, n))
        else:
            cursor.executemany(
                f'INSERT INTO {gram_table} (registration_id, gram, length, "key") VALUES (%s, %s, %s, %s)',  # noqa: E501
                gram_rows(),
            )
            cursor.executemany(
                f"INSERT INTO {count_table} (gram, length, registrations) VALUES (%s, %s, %s)",
                ((gram, length, n) for (gram, length), n in counts.items()),
            )
    spent["name index rows"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in indexes:
            cursor.execute(sql)
    spent["name index: building its indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    analyse()
    spent["analyse"] = time.perf_counter() - started
    return spent


def _drop_indexes(table: str) -> list[str]:
    """Drop the secondary indexes and the unique and foreign-key constraints of ``table``
    (loading is faster without them); the SQL that creates them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
                [table],
            )
            constraints = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _sql in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            return [sql for _name, sql in indexes] + [
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                for name, definition in constraints
            ]
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
            " AND sql IS NOT NULL",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        return [sql for _name, sql in indexes]


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("deals_namegram", "deals_namegramcount", "deals_registration"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('deals_namegram')),"
                " pg_size_pretty(pg_database_size(current_database()))"
            )
            grams, everything = cursor.fetchone()
            return f"name index {grams}, database {everything}"
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return f"database {pages * cursor.fetchone()[0] / 2**30:.2f} GiB"


# -- the floor: an exhaustive scan ------------------------------------------------------------

_KEYS: list[str] = []
_SORTED: list[str] = []


def _init_scan(keys: list[str], sorted_keys: list[str]) -> None:
    _KEYS[:] = keys
    _SORTED[:] = sorted_keys


def exhaustive(key: str) -> tuple[list[tuple[int, int]], float]:
    """The best names for ``key`` by name_score over every name: (position, score) of the
    ten best by each of its two parts (their union holds the top five and every tie of the
    fifth score, and all names >= 85 when fewer than five are), and the seconds it took."""
    from rapidfuzz import fuzz, process

    from accord.deals.matching import name_score

    started = time.perf_counter()
    best = {i for _choice, _score, i in process.extract(key, _KEYS, scorer=fuzz.ratio, limit=10)}
    words = " ".join(sorted(key.split()))
    best |= {i for _c, _s, i in process.extract(words, _SORTED, scorer=fuzz.ratio, limit=10)}
    top = sorted(((i, name_score(key, _KEYS[i])) for i in best), key=lambda x: (-x[1], x[0]))
    return top, time.perf_counter() - started


def floor(keys: list[str], query_keys: list[str], cache: Path) -> tuple[list, float]:
    """The exhaustive top names of every query (cached by size and seed) and the median
    seconds of one scan (measured in this run on the first 20 queries, one process)."""
    from django.db import connection

    sorted_keys = [" ".join(sorted(key.split())) for key in keys]
    _init_scan(keys, sorted_keys)
    connection.close()  # the scanning processes are forked: they must not share it
    seconds = statistics.median(exhaustive(key)[1] for key in query_keys[:20])
    names = hashlib.sha256("\n".join(keys).encode()).hexdigest()
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached["names"] == names and cached["queries"] == query_keys:
            return cached["tops"], seconds
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        tops = [top for top, _seconds in pool.map(exhaustive, query_keys, chunksize=8)]
    print(f"  exhaustive scans of all queries: {time.perf_counter() - started:.0f} s (2 processes)")
    cache.write_text(json.dumps({"names": names, "queries": query_keys, "tops": tops}))
    return tops, seconds


def recall(tops: list, results: list[list[tuple[int, int]]], threshold: int) -> tuple[float, int]:
    """found / k over the queries (see the module docstring); and sum of k."""
    found = total = 0
    for top, result in zip(tops, results, strict=True):
        eligible = [score for _i, score in top if score >= threshold]
        k = min(TOP, len(eligible))
        if not k:
            continue
        kth = eligible[k - 1]
        found += min(k, sum(1 for _pk, score in result if score >= kth))
        total += k
    return (found / total if total else 1.0), total


# -- the conflict check -----------------------------------------------------------------------


def conflict_check(name: str, tax: str, domain: str) -> tuple[list, list[int], float]:
    """What submit_registration runs to find conflicts (before writing any of them): the
    similar names, the open registrations found, and the seconds similar_names took."""
    from django.db.models import Q

    from accord.deals.matching import (
        normalise_domain,
        normalise_name,
        normalise_tax_id,
        similar_names,
    )
    from accord.deals.models import Registration

    key = normalise_name(name)[:200]
    tax_key = normalise_tax_id(tax)[:50]
    domain_key = normalise_domain(domain)[:253]
    started = time.perf_counter()
    names = similar_names(key, threshold=THRESHOLD, limit=LIMIT) if key else []
    searched = time.perf_counter() - started
    exact = Q(pk__in=[pk for pk, _score in names])
    if tax_key:
        exact |= Q(tax_key=tax_key)
    if domain_key:
        exact |= Q(domain_key=domain_key)
    others = list(
        Registration.objects.filter(status__in=Registration.OPEN)
        .filter(exact)
        .order_by("pk")
        .values_list("pk", flat=True)[: LIMIT * 4]
    )
    return names, others, searched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--budget", type=int, help="matching.GRAM_BUDGET for this run")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database (SQLite: under ./var/bench/) and reuse it when it holds the "
        "same registrations",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    configure(f"conflicts-{args.registrations}", keep=args.keep)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.deals import matching
    from accord.deals.models import NameGram, NameGramCount, Registration

    if args.budget:
        matching.GRAM_BUDGET = args.budget
    print(f"database: {database_label()}  ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    started = time.perf_counter()
    customers, queries = make_data(args.registrations, args.queries, args.seed)
    print(
        f"data: {args.registrations:,} registrations, {args.queries:,} queries "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )
    existing = Registration.objects.count()
    if existing and not (args.keep and existing == args.registrations):
        raise SystemExit("Run against an empty database (the default scratch one is).")
    if not existing:
        spent = load(customers)
        print(
            "load: "
            + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in spent.items())
            + f"; total {sum(spent.values()):.0f} s"
        )
    else:
        print("(reusing the loaded registrations)")
    print(
        f"sizes: {Registration.objects.count():,} registrations, "
        f"{NameGram.objects.count():,} NameGram rows, {NameGramCount.objects.count():,} "
        f"NameGramCount rows; {database_size()}"
    )

    numbers = dict(Registration.objects.values_list("number", "pk"))
    position = {pk: int(number[1:]) for number, pk in numbers.items()}
    keys = [""] * len(customers)
    for pk, key in Registration.objects.values_list("pk", "name_key"):
        keys[position[pk]] = key
    query_keys = [matching.normalise_name(name)[:200] for name, *_rest in queries]
    floor_file = f"conflicts-floor-{args.registrations}-{args.queries}-{args.seed}.json"
    cache = ROOT / "var" / "bench" / floor_file
    cache.parent.mkdir(parents=True, exist_ok=True)
    tops, scan_seconds = floor(keys, query_keys, cache)
    tops_by_pk = [[(numbers[f"B{i:08d}"], score) for i, score in top] for top in tops]

    # A warm-up pass, then the measured one.
    for name, tax, domain, *_rest in queries:
        conflict_check(name, tax, domain)
    latencies, searches, results, others = [], [], [], []
    for name, tax, domain, *_rest in queries:
        started = time.perf_counter()
        names, exact, searched = conflict_check(name, tax, domain)
        latencies.append((time.perf_counter() - started) * 1000)
        searches.append(searched * 1000)
        results.append(names)
        others.append(exact)
    with CaptureQueriesContext(connection) as captured:
        conflict_check(*queries[0][:3])
    print(
        f"conflict check (normalise, similar_names >= {THRESHOLD}, the exact tax id / domain "
        f"query; {len(captured.captured_queries)} SQL statements): p50 "
        f"{percentile(latencies, 0.5):.1f} ms, p90 {percentile(latencies, 0.9):.1f} ms, p99 "
        f"{percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms (goal p99 <= 25 ms); "
        f"similar_names alone p50 {percentile(searches, 0.5):.1f} ms, p99 "
        f"{percentile(searches, 0.99):.1f} ms (load {os.getloadavg()[0]:.1f})"
    )
    found, slots = recall(tops_by_pk, results, THRESHOLD)
    unconstrained = [
        matching.similar_names(key, threshold=0, limit=TOP) if key else [] for key in query_keys
    ]
    found_any, slots_any = recall(tops_by_pk, unconstrained, 0)
    print(
        f"top-{TOP} recall against the exhaustive scan: {found:.4f} of {slots:,} at >= "
        f"{THRESHOLD} (goal >= 0.99); unconstrained {found_any:.4f} of {slots_any:,}"
    )
    print(
        f"exhaustive scan: {scan_seconds * 1000:.0f} ms a query (median, one process) = "
        f"{scan_seconds * 1000 / percentile(latencies, 0.5):.0f}x the p50 of the check"
    )
    report_accuracy(queries, numbers, results, others)


def report_accuracy(queries: list, numbers: dict, results: list, others: list) -> None:
    """How often the check finds the customer a query was made from, by kind of variant."""
    hit: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    false_conflicts = []
    for (_name, _tax, _domain, kind, origin), names, exact in zip(
        queries, results, others, strict=True
    ):
        if origin < 0:
            false_conflicts.append(len(names))
            continue
        pk = numbers[f"B{origin:08d}"]
        asked[kind] += 1
        hit[kind] += pk in exact
    print(
        "the registration a query was made from, found (by name >= 85, tax id or domain): "
        + ", ".join(f"{kind} {hit[kind]}/{asked[kind]}" for kind in sorted(asked))
        + f"; all {sum(hit.values()) / sum(asked.values()):.3f}"
    )
    print(
        f"new names: {statistics.mean(false_conflicts or [0]):.1f} names >= {THRESHOLD} on "
        "average (other customers with similar names)"
    )


if __name__ == "__main__":
    main()
