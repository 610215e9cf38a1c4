"""The demo network's deal registrations and leads: rules of engagement with per-tier protection
windows, named accounts, ~150 registrations in every status with real conflicts among them, lead
routing rules and ~80 leads with their routing history. Everything goes through the services,
replayed in time order with dates relative to the demo's today; loaded once (a database that
already has registrations, or demo leads, is left alone)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.test.utils import override_settings

from accord.accounts.models import User
from accord.channel.models import Product
from accord.core import errors, gates
from accord.deals import matching
from accord.deals import services as deals
from accord.deals.models import Conflict, EngagementRules, Registration
from accord.demo.programs import PROGRAM_CODE, QUIET_MAIL
from accord.leads import services as leads
from accord.leads.models import Lead, RoutingEvent
from accord.partners.models import Organisation, Territory, TerritoryAssignment
from accord.programs.models import Program, Tier
from accord.programs.selectors import live_version

EXTERNAL_KEY_PREFIX = "demo-"
LEAD_KEY_PREFIX = "demo-lead-"
# The done-when stories (docs/deals.md walks through them): who holds which approved
# registration. Atlas's login is sales@atlas.demo, 华南电子分销's sales@ and admin@huanan.demo.
ACME = "ACME Corp."
ACME_HOLDER = "demo-000012"  # Atlas Distribution GmbH
ACME_LINE = "Computing"
HUAWEI = "华为技术有限公司"
HUAWEI_HOLDER = "demo-000001"  # 华南电子分销有限公司
HUAWEI_LINE = "Infrastructure"
LAKESIDE = "Lakeside Hospitality Group"  # two partners file it within a day: first to file
NAMED_ACCOUNT_OWNER = "commercial@accord.demo"
# Protection windows by tier rank, lowest tier first (registered 60 ... platinum 180 days);
# acceptance SLAs by rank, highest tier first (platinum 24 h, gold 36 h, the rest 48 h).
PROTECTION_LADDER = (60, 90, 120, 180)
ACCEPTANCE_LADDER = (24, 36)
ACCEPTANCE_HOURS = 48
APPROVAL_SLA_HOURS = 48
# Generated customer names stay below this similarity to each other (the rules' threshold
# is 85), so only the stories' names conflict.
DISTINCT_BELOW = 75
# How many registrations end in each status (150 in all), stories included.
STATUS_PLAN: tuple[tuple[str, int], ...] = (
    ("submitted", 22),
    ("returned", 10),
    ("approved", 38),
    ("rejected", 16),
    ("won", 26),
    ("lost", 16),
    ("expired", 16),
    ("withdrawn", 6),
)
# How many leads live through each story (80 in all). "declined" and "recalled" leads are
# re-routed to another partner who accepts; "overdue" ones are still offered past their SLA
# for `accord worker` to recall; "manual" ones come from places no partner covers.
LEAD_PLAN: tuple[tuple[str, int], ...] = (
    ("accepted", 16),
    ("won", 14),
    ("lost", 10),
    ("declined", 10),
    ("recalled", 8),
    ("offered", 8),
    ("overdue", 8),
    ("manual", 6),
)
PARTNER_KINDS = ("distributor", "wholesaler", "retailer", "reseller", "var", "ecommerce")
LEAD_KINDS = ["reseller", "var", "retailer", "distributor"]


class ConflictStory(NamedTuple):
    """An approved registration and a later one by another partner for the same customer."""

    country: str
    first: str
    second: str
    link: str  # what ties them besides the name: "" | "tax_id" | "domain"
    outcome: str  # the second's fate: "open" | "upheld" | "returned" | "dismissed"


CONFLICT_STORIES = (
    ConflictStory("US", "Brightwater Logistics Inc.", "Brightwater Logistics LLC", "", "open"),
    ConflictStory("DE", "Krüger Maschinenbau GmbH", "Krueger Maschinenbau", "tax_id", "upheld"),
    ConflictStory(
        "US", "Northstar Health Partners LLC", "NorthStar Medical Group", "domain", "returned"
    ),
    ConflictStory("CN", "杭州宏远物流有限公司", "杭州宏远物流集团有限公司", "", "upheld"),
    ConflictStory("CN", "上海瑞丰医疗科技股份有限公司", "瑞丰医疗科技(上海)有限公司", "", "open"),
    ConflictStory(
        "GB", "Harbor Point Insurance Ltd", "Harbour Point Insurance Limited", "", "dismissed"
    ),
)
# Direct-sales named accounts: name, tax id, domain, city territory.
NAMED_ACCOUNTS = (
    ("Contoso Health Group Inc.", "", "contoso-health.com", "us-ny-new-york"),
    ("长江能源集团有限公司", "91420100MA4K2X7Q3N", "", "cn-hb-wuhan"),
    ("Rheinland Versicherung AG", "DE118765432", "rheinland-versicherung.de", "de-nw-koeln"),
    ("Pacific Crest Financial Corp.", "", "pacificcrest.com", "us-ca-san-francisco"),
)

# --- name material ---------------------------------------------------------------------
# fmt: off
EN_BRANDS = (
    "Blue Ridge", "Pinecrest", "Ironclad", "Crescent", "Evergreen", "Oakmont", "Westfield",
    "Clearview", "Starling", "Riverbend", "Copperfield", "Falcon Ridge", "Maple Leaf", "Sterling",
    "Cobalt", "Juniper", "Highland", "Bayview", "Cedar Creek", "Golden Gate", "Prairie",
    "Foxglove", "Tidewater", "Sunridge", "Marlow", "Ashford",
)
EN_TRADES = (
    "Logistics", "Health", "Manufacturing", "Financial", "Foods", "Energy", "Hospitality",
    "Legal", "Engineering", "Insurance", "Media", "Retail Group", "Schools", "Labs",
    "Dental Care", "Architects", "Properties", "Biotech",
)
EN_LEGAL = {
    "US": ("Inc.", "LLC", "Corp.", "Co."),
    "CA": ("Inc.", "Ltd."),
    "GB": ("Ltd", "plc", "Limited"),
    "FR": ("SAS", "SA"),
    "NL": ("B.V.", "N.V."),
}
DE_BRANDS = (
    "Müller", "Schneider", "Fischer", "Becker", "Hoffmann", "Schäfer", "Wagner", "Bauer",
    "Zimmermann", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Schmitt", "Braun", "Vogel",
    "Keller", "Frank", "Berger",
)
DE_TRADES = (
    "Maschinenbau", "Logistik", "Bau", "Elektrotechnik", "Versicherung", "Kliniken",
    "Lebensmittel", "Automation", "Verlag", "Präzisionstechnik", "Immobilien", "Medizintechnik",
)
DE_LEGAL = ("GmbH", "AG", "GmbH & Co. KG", "KG", "SE")
CN_BRANDS = (
    "鑫达", "博海", "金桥", "恒信", "天诚", "中联", "华信", "东方", "新世纪", "嘉禾",
    "明辉", "海川", "远航", "锦程", "盛世", "百川", "九州", "聚丰", "汇通", "永安",
    "同创", "德润", "信达", "华锐", "启明", "星辰", "雅居", "蓝海", "凯旋", "安泰",
    "万象", "卓越", "智远", "银河", "青松", "和信", "福瑞",
)
CN_TRADES = (
    "物流", "医疗科技", "制造", "实业", "食品", "能源",
    "建设", "教育科技", "电子", "传媒", "酒店管理", "生物科技",
)
CN_LEGAL = ("有限公司", "股份有限公司", "集团有限公司")
# fmt: on
CN_CITIES = ("深圳", "上海", "杭州", "成都", "武汉", "南京")
PEOPLE = {
    "CN": ("王芳", "李强", "张静", "刘洋", "陈杰", "杨敏", "赵磊", "周婷"),
    "DE": ("Anna Schulz", "Jonas Weber", "Lena Koch", "Felix Richter", "Marie Wolf"),
    "": ("Emma Clarke", "Liam Foster", "Olivia Grant", "Noah Bennett", "Mia Hughes", "Ava Turner"),
}
CURRENCIES = {"CN": "CNY", "US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR"}
TLDS = {"US": "com", "CA": "ca", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl"}
# Leads from places outside the territory tree: nobody covers them, so manual review.
FOREIGN_PLACES = (("JP", "Osaka", "大阪府"), ("SG", "Singapore", ""), ("AU", "Melbourne", "VIC"))
REJECT_REASONS = (
    "The customer buys direct from us.",
    "Not enough detail on the opportunity.",
    "Below the registration threshold.",
)
DECLINE_REASONS = (
    "No capacity this month.",
    "Outside our product focus.",
    "The customer is already served by our sister company.",
    "目前没有足够的人手跟进。",
)
LEAD_NOTES = (
    "Asked for a quote on the web site.",
    "Met us at the trade fair; wants a demo.",
    "Tender announced for next quarter.",
    "官网咨询,希望尽快报价。",
    "Anfrage über das Kontaktformular.",
)


# --- the summary -------------------------------------------------------------------------
@dataclass
class DealsSummary:
    """What one run added (nothing on a re-run) and how the demo's deals and leads stand."""

    rules: bool = False
    named_accounts: int = 0
    registrations: dict[str, int] = field(default_factory=dict)  # status -> count
    conflicts: int = 0
    overdue_approvals: int = 0  # submitted, past their approval SLA
    leads: dict[str, int] = field(default_factory=dict)  # status -> count
    overdue_offers: int = 0  # offered, past their acceptance SLA
    routing_events: int = 0
    # Planned steps the services refused, each with why (none in the default demo).
    refusals: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self) -> int:
        return (
            self.rules
            + self.named_accounts
            + sum(self.registrations.values())
            + sum(self.leads.values())
        )


def describe(summary: DealsSummary) -> str:
    """One line for ``accord demo``'s summary."""
    parts = []
    if summary.registrations:
        statuses = ", ".join(f"{n} {status}" for status, n in summary.registrations.items())
        parts.append(
            f"{sum(summary.registrations.values())} registrations ({statuses}) with "
            f"{summary.conflicts} conflicts, {summary.overdue_approvals} past their approval "
            f"SLA; {summary.named_accounts} named accounts"
        )
    if summary.leads:
        statuses = ", ".join(f"{n} {status}" for status, n in summary.leads.items())
        parts.append(
            f"{sum(summary.leads.values())} leads ({statuses}), {summary.overdue_offers} offers "
            "past their SLA for `accord worker` to recall and re-route"
        )
    return f"Deals and leads in {summary.seconds:.1f} s: " + "; ".join(parts) + "."


# --- what the plans read from the network ------------------------------------------------
@dataclass(frozen=True)
class Partner:
    pk: int
    key: str
    country: str
    currency: str
    rank: int  # of its tier in the partner program


@dataclass(frozen=True)
class Place:
    territory: int
    city: str
    region: str
    country: str


@dataclass
class _Network:
    """The parts of the demo network the deals and leads are planned from."""

    program: Program
    tiers: list[Tier]  # the live version's, lowest rank first
    lines: list[str]
    products: dict[str, list[int]]  # product line -> product ids
    partners: list[Partner]  # may register: active, in the program, not blocked
    places: dict[str, Place]  # city territory code -> place
    cities: dict[str, list[Place]]  # country -> its cities
    exclusive: dict[int, int]  # territory id -> its exclusive holder
    lead_places: list[Place]  # cities where routing finds two partners or more

    def window(self, partner: Partner) -> int:
        ranks = [tier.rank for tier in self.tiers]
        position = ranks.index(partner.rank) if partner.rank in ranks else 0
        return PROTECTION_LADDER[min(position, len(PROTECTION_LADDER) - 1)]

    def own_cities(self, partner: Partner) -> list[Place]:
        """The cities of the partner's country that nobody else holds exclusively."""
        return [
            place
            for place in self.cities.get(partner.country, [])
            if self.exclusive.get(place.territory, partner.pk) == partner.pk
        ]


def _network(today: dt.date) -> _Network | None:
    program = Program.objects.filter(code=PROGRAM_CODE).first()
    live = live_version(program) if program else None
    products: dict[str, list[int]] = {}
    for pk, line in Product.objects.exclude(product_line="").values_list("pk", "product_line"):
        products.setdefault(line, []).append(pk)
    if live is None or not products:
        return None
    tiers = sorted(live.tiers.all(), key=lambda tier: tier.rank)
    rank = {tier.code: tier.rank for tier in tiers}
    held = {m.organisation_id: m.effective_tier(today) for m in program.memberships.all()}
    blocked = gates.blocked("deal_registration")
    active = Organisation.objects.partners().filter(status=Organisation.Status.ACTIVE)
    partners = [
        Partner(org.pk, org.external_key, org.country, org.currency, rank.get(held[org.pk], 0))
        for org in active.filter(
            external_key__startswith=EXTERNAL_KEY_PREFIX, kind__in=PARTNER_KINDS
        ).order_by("external_key")
        if held.get(org.pk) and org.pk not in blocked
    ]
    territories = {t.pk: t for t in Territory.objects.all()}
    exclusive = dict(
        TerritoryAssignment.objects.filter(exclusive=True).values_list(
            "territory_id", "organisation_id"
        )
    )
    active_ids = set(active.values_list("pk", flat=True))
    holders: dict[int, set[int]] = {}
    for territory_id, organisation_id in TerritoryAssignment.objects.values_list(
        "territory_id", "organisation_id"
    ):
        if organisation_id in active_ids:
            holders.setdefault(territory_id, set()).add(organisation_id)
    places: dict[str, Place] = {}
    cities: dict[str, list[Place]] = {}
    lead_places: list[Place] = []
    for territory in sorted(territories.values(), key=lambda t: t.code):
        if territory.level != Territory.Level.CITY:
            continue
        province = territories[territory.parent_id]
        country = territories[province.parent_id]
        place = Place(territory.pk, territory.name, province.name, country.code.upper())
        places[territory.code] = place
        cities.setdefault(place.country, []).append(place)
        # Routing walks up from the city to the first level an active partner holds: leads
        # go where two partners or more wait, so a decline or a recall finds another.
        found = next((holders[t] for t in (territory.pk, province.pk) if t in holders), set())
        if len(found) >= 2:
            lead_places.append(place)
    return _Network(
        program,
        tiers,
        sorted(products),
        products,
        partners,
        places,
        cities,
        exclusive,
        lead_places,
    )


# --- material ----------------------------------------------------------------------------
def _company(rng: random.Random, country: str, used: list[str]) -> str:
    """A company name in the country's language that the conflict check does not find
    similar to any name in ``used`` (normalised keys, extended), so demo names conflict only
    where a story means them to."""
    brands, trades = {"CN": (CN_BRANDS, CN_TRADES), "DE": (DE_BRANDS, DE_TRADES)}.get(
        country, (EN_BRANDS, EN_TRADES)
    )
    for _attempt in range(500):
        brand, trade = rng.choice(brands), rng.choice(trades)
        if country == "CN":
            prefix = rng.choice(CN_CITIES) if rng.random() < 0.4 else ""
            name = f"{prefix}{brand}{trade}{rng.choice(CN_LEGAL)}"
        elif country == "DE":
            name = f"{brand} {trade} {rng.choice(DE_LEGAL)}"
        else:
            name = f"{brand} {trade} {rng.choice(EN_LEGAL.get(country, ('Ltd',)))}"
        key = matching.normalise_name(name)
        if all(matching.name_score(key, other) < DISTINCT_BELOW for other in used):
            break
    used.append(key)
    return name


def _domain(name: str, country: str) -> str:
    letters = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())
    return f"{letters[:24]}.{TLDS.get(country, 'com')}" if letters else ""


def _tax_id(rng: random.Random, country: str) -> str:
    digits = "0123456789"
    if country == "CN":
        return "91" + "".join(rng.choice(digits) for _ in range(15)) + "X"
    if country == "DE":
        return "DE" + "".join(rng.choice(digits) for _ in range(9))
    return ""


def _money(rng: random.Random, currency: str) -> Decimal:
    return Decimal(rng.randrange(50, 4000) * 100 * (7 if currency == "CNY" else 1))


# --- the registration plan ---------------------------------------------------------------
Step = tuple[dt.datetime, str, dict[str, Any]]  # when, verb, the service's arguments


@dataclass
class DealPlan:
    """One registration: who files what when, and the steps that bring it to ``status``."""

    number: int
    organisation: int
    data: dict[str, Any]
    submitted: dt.datetime
    status: str
    steps: list[Step] = field(default_factory=list)
    window: int = 0  # days of protection once approved (the holder's tier)


def _registration(
    rng: random.Random,
    net: _Network,
    partner: Partner,
    name: str,
    lines: Sequence[str],
    submitted: dt.datetime,
    place: Place | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The data a partner types: the customer in one of its own cities by default."""
    if place is None:
        own = net.own_cities(partner)
        place = rng.choice(own) if own else None
    data: dict[str, Any] = {
        "customer_name": name,
        "customer_tax_id": _tax_id(rng, partner.country) if rng.random() < 0.5 else "",
        "customer_domain": _domain(name, partner.country) if rng.random() < 0.6 else "",
        "customer_city": place.city if place else "",
        "customer_region": place.region if place else "",
        "customer_country": place.country if place else partner.country,
        "territory": place.territory if place else None,
        "product_lines": list(lines),
        "products": [rng.choice(net.products[line]) for line in lines if rng.random() < 0.4],
        "value": _money(rng, partner.currency),
        "currency": partner.currency,
        "expected_close": submitted.date() + dt.timedelta(days=rng.randint(30, 150)),
    }
    data.update(extra)
    return data


def _submitted_at(rng: random.Random, status: str, window: int, anchor: dt.datetime) -> dt.datetime:
    """When a registration that ends in ``status`` was filed, so that its timers agree."""
    hours = rng.randint(0, 23)

    def ago(low: int, high: int) -> dt.datetime:
        return anchor - dt.timedelta(days=rng.randint(low, high), hours=hours)

    if status == "submitted":
        # Two in five are past their approval SLA.
        if rng.random() < 0.4:
            return ago(3, 9)
        return anchor - dt.timedelta(hours=rng.randint(2, 40))
    return {
        "returned": lambda: ago(3, 20),
        "approved": lambda: ago(5, window - 4),  # some inside the expiry reminder
        "expired": lambda: ago(window + 8, window + 150),
        "won": lambda: ago(40, 330),
        "lost": lambda: ago(40, 330),
    }.get(status, lambda: ago(5, 200))()


def _steps(rng: random.Random, status: str, submitted: dt.datetime, window: int) -> list[Step]:
    """The decisions after filing that end in ``status``; a closed deal closes inside its
    protection window, before the anchor (the caller picked ``submitted`` for that)."""
    decided = submitted + dt.timedelta(hours=rng.randint(4, 60))
    if status in ("approved", "expired"):
        return [(decided, "approve", {})]
    if status in ("won", "lost"):
        closed = decided + dt.timedelta(days=rng.randint(10, window - 10))
        return [(decided, "approve", {}), (closed, "close", {"outcome": status})]
    reasons = {
        "rejected": ("reject", rng.choice(REJECT_REASONS)),
        "returned": ("return", "Please add the customer's registration number."),
        "withdrawn": ("withdraw", "The customer postponed the project."),
    }
    if status in reasons:
        verb, reason = reasons[status]
        return [(decided, verb, {"reason": reason})]
    return []


class _Planner:
    """Builds the registration plans: the stories first, then ordinary ones to the counts."""

    def __init__(self, net: _Network, anchor: dt.datetime, seed: int) -> None:
        self.net, self.anchor = net, anchor
        self.rng = random.Random(f"accord-demo-deals:{seed}")
        self.plans: list[DealPlan] = []
        self.used: list[str] = [
            matching.normalise_name(name)
            for story in CONFLICT_STORIES
            for name in (story.first, story.second)
        ] + [
            matching.normalise_name(name)
            for name in (ACME, HUAWEI, LAKESIDE, *(account[0] for account in NAMED_ACCOUNTS))
        ]
        self.by_key = {partner.key: partner for partner in net.partners}
        self.countries: dict[str, list[Partner]] = {}
        for partner in net.partners:
            self.countries.setdefault(partner.country, []).append(partner)

    def ago(self, days: float) -> dt.datetime:
        return self.anchor - dt.timedelta(days=days)

    def add(
        self,
        partner: Partner,
        status: str,
        data: dict[str, Any],
        submitted: dt.datetime,
        steps: list[Step],
    ) -> DealPlan:
        plan = DealPlan(
            len(self.plans) + 1,
            partner.pk,
            data,
            submitted,
            status,
            steps,
            self.net.window(partner),
        )
        self.plans.append(plan)
        return plan

    def pair(self, country: str) -> tuple[Partner, Partner] | None:
        """Two different partners, of ``country`` when it has two."""
        pool = self.countries.get(country) or []
        if len(pool) < 2:
            pool = self.net.partners
        if len(pool) < 2:
            return None
        first = self.rng.choice(pool)
        return first, self.rng.choice([p for p in pool if p != first])

    def featured(self) -> None:
        """An approved ACME Corp. at Atlas and an approved 华为技术有限公司 at 华南电子分销,
        both well inside their protection windows."""
        rng, net, lines = self.rng, self.net, self.net.lines
        atlas, huanan = self.by_key.get(ACME_HOLDER), self.by_key.get(HUAWEI_HOLDER)
        if atlas is not None:
            data = _registration(
                rng,
                net,
                atlas,
                ACME,
                [ACME_LINE if ACME_LINE in lines else lines[0]],
                self.ago(21),
                net.places.get("de-by-muenchen"),
                customer_domain="acme-corp.de",
                customer_tax_id="DE129273398",
                customer_street="Leopoldstraße 12",
                notes="Notebook refresh for 400 field engineers.",
            )
            self.add(atlas, "approved", data, self.ago(21), [(self.ago(20), "approve", {})])
        if huanan is not None:
            data = _registration(
                rng,
                net,
                huanan,
                HUAWEI,
                [HUAWEI_LINE if HUAWEI_LINE in lines else lines[-1]],
                self.ago(33),
                net.places.get("cn-gd-shenzhen"),
                customer_domain="",
                customer_tax_id="",
                customer_street="坂田街道",
                notes="园区网络改造:核心交换机与存储扩容。",
            )
            self.add(huanan, "approved", data, self.ago(33), [(self.ago(32), "approve", {})])

    def conflicts(self) -> None:
        """Conflicts of every kind: some waiting in the approval queue, some decided."""
        rng, net = self.rng, self.net
        for story in CONFLICT_STORIES:
            partners = self.pair(story.country)
            if partners is None:
                continue
            first, second = partners
            line = rng.choice(net.lines)
            filed = self.ago(rng.randint(15, 40))
            data = _registration(rng, net, first, story.first, [line], filed)
            extra: dict[str, Any] = {"customer_country": data["customer_country"]}
            if story.link == "tax_id":
                data["customer_tax_id"] = extra["customer_tax_id"] = _tax_id(rng, story.country)
            elif story.link == "domain":
                data["customer_domain"] = _domain(story.first, story.country)
                extra["customer_domain"] = "portal." + data["customer_domain"]
            approved = filed + dt.timedelta(hours=20)
            self.add(first, "approved", data, filed, [(approved, "approve", {})])
            later = self.ago(rng.uniform(0.2, 1.5) if story.outcome == "open" else 6)
            data = _registration(rng, net, second, story.second, [line], later, **extra)
            decided = later + dt.timedelta(hours=rng.randint(3, 30))
            steps: list[Step] = {
                "open": [],
                "upheld": [
                    (decided, "uphold", {"reason": "The same company, already protected."}),
                    (decided, "reject", {"reason": "Another partner holds this customer."}),
                ],
                "returned": [
                    (decided, "return", {"reason": "Is this the company already registered?"})
                ],
                "dismissed": [
                    (decided, "dismiss", {"reason": "A different company (registry checked)."})
                ],
            }[story.outcome]
            status = {"upheld": "rejected", "returned": "returned"}.get(story.outcome, "submitted")
            self.add(second, status, data, later, steps)

        # First to file: two partners after the same new customer, both awaiting a decision.
        partners = self.pair("US")
        if partners is not None:
            line = rng.choice(net.lines)
            name = LAKESIDE
            data = _registration(rng, net, partners[0], f"{name} Inc.", [line], self.ago(1.6))
            self.add(partners[0], "submitted", data, self.ago(1.6), [])
            country = {"customer_country": data["customer_country"]}
            data = _registration(rng, net, partners[1], name, [line], self.ago(0.4), **country)
            self.add(partners[1], "submitted", data, self.ago(0.4), [])

        # Partners running into direct-sales named accounts...
        accounts = {name: code for name, _tax, _domain, code in NAMED_ACCOUNTS}
        for name, country, status in (
            ("Contoso Health Group Inc.", "US", "rejected"),
            ("长江能源集团有限公司", "CN", "submitted"),
        ):
            partner = rng.choice(self.countries.get(country) or net.partners)
            filed = self.ago(rng.uniform(0.5, 1.8) if status == "submitted" else 12)
            place = net.places.get(accounts[name])
            data = _registration(rng, net, partner, name, [rng.choice(net.lines)], filed, place)
            reason = {"reason": "A direct-sales named account."}
            steps = (
                [(filed + dt.timedelta(hours=5), "reject", reason)] if status == "rejected" else []
            )
            self.add(partner, status, data, filed, steps)

        # ... and into another partner's exclusive territory.
        for code, holder_key, status in (
            ("cn-gd-guangzhou", HUAWEI_HOLDER, "submitted"),
            ("de-by-muenchen", ACME_HOLDER, "returned"),
        ):
            place, holder = net.places.get(code), self.by_key.get(holder_key)
            pool = (
                [p for p in self.countries.get(holder.country, []) if p != holder] if holder else []
            )
            if place is None or not pool:
                continue
            partner = rng.choice(pool)
            filed = self.ago(rng.uniform(0.5, 1.8))
            name = _company(rng, partner.country, self.used)
            data = _registration(rng, net, partner, name, [rng.choice(net.lines)], filed, place)
            reason = {"reason": "This city is another partner's exclusive territory."}
            steps = (
                [(filed + dt.timedelta(hours=6), "return", reason)] if status == "returned" else []
            )
            self.add(partner, status, data, filed, steps)

    def ordinary(self) -> None:
        """The rest, up to each status's count; partners of higher tiers file more."""
        rng, net = self.rng, self.net
        left = Counter(dict(STATUS_PLAN))
        left.subtract(plan.status for plan in self.plans)
        statuses = [status for status, _count in STATUS_PLAN for _ in range(max(left[status], 0))]
        rng.shuffle(statuses)
        weights = [1 + partner.rank for partner in net.partners]
        extensions = 0
        for status in statuses:
            partner = rng.choices(net.partners, weights)[0]
            window = net.window(partner)
            filed = _submitted_at(rng, status, window, self.anchor)
            lines = rng.sample(net.lines, 2 if rng.random() < 0.25 else 1)
            name = _company(rng, partner.country, self.used)
            data = _registration(rng, net, partner, name, lines, filed)
            steps = _steps(rng, status, filed, window)
            near_expiry = (self.anchor - filed).days > window - 30
            if status == "approved" and extensions < 4 and near_expiry:
                # The partner asked for more time; the first two were granted.
                asked = self.ago(rng.randint(2, 6))
                reason = {"reason": "The customer's board meets next month."}
                steps.append((asked, "extension", reason))
                if extensions < 2:
                    steps.append((asked + dt.timedelta(hours=8), "grant", {}))
                extensions += 1
            self.add(partner, status, data, filed, steps)


def plan_registrations(net: _Network, anchor: dt.datetime, seed: int) -> list[DealPlan]:
    """Every demo registration with its steps, the same for the same network and anchor."""
    planner = _Planner(net, anchor, seed)
    planner.featured()
    planner.conflicts()
    planner.ordinary()
    return planner.plans


# --- the lead plan -----------------------------------------------------------------------
@dataclass
class LeadPlan:
    number: int
    story: str
    created: dt.datetime
    source: str
    data: dict[str, Any]


def _lead_created(rng: random.Random, story: str, anchor: dt.datetime) -> dt.datetime:
    """When a lead of ``story`` came in: "overdue" ones after every recall the history ran
    (the newest of those runs more than a week ago), "offered" ones within the day."""
    if story == "offered":
        return anchor - dt.timedelta(hours=rng.randint(1, 10))
    if story == "overdue":
        return anchor - dt.timedelta(hours=rng.randint(52, 90))
    low, high = {
        "accepted": (1, 30),
        "won": (45, 170),
        "lost": (45, 170),
        "declined": (8, 120),
        "recalled": (12, 120),
    }.get(story, (1, 20))
    return anchor - dt.timedelta(days=rng.randint(low, high), hours=rng.randint(0, 23))


def plan_leads(net: _Network, anchor: dt.datetime, seed: int) -> list[LeadPlan]:
    """Every demo lead: where it comes from, when, and the story it lives through."""
    rng = random.Random(f"accord-demo-leads:{seed}")
    used: list[str] = []
    stories = [story for story, count in LEAD_PLAN for _ in range(count)]
    rng.shuffle(stories)
    plans = []
    for number, story in enumerate(stories, 1):
        created = _lead_created(rng, story, anchor)
        place = None if story == "manual" or not net.lead_places else rng.choice(net.lead_places)
        if place is None:
            country, city, region = FOREIGN_PLACES[number % len(FOREIGN_PLACES)]
        else:
            country, city, region = place.country, place.city, place.region
        name = _company(rng, country, used)
        currency = CURRENCIES.get(country, "USD")
        domain = _domain(name, country) or f"customer{number}.cn"
        data = {
            "company_name": name,
            "contact_name": rng.choice(PEOPLE.get(country, PEOPLE[""])),
            "contact_email": f"contact{number}@{domain}",
            "country": country,
            "region": region,
            "city": city,
            "territory": place.territory if place else None,
            "product_line": rng.choice(net.lines),
            "value": _money(rng, currency),
            "currency": currency,
            "description": rng.choice(LEAD_NOTES),
            "external_key": f"{LEAD_KEY_PREFIX}{number:04d}",
        }
        plans.append(LeadPlan(number, story, created, rng.choice(("ui", "api", "import")), data))
    return plans


# --- replaying the plans through the services --------------------------------------------
class _Replay:
    """Runs steps in time order (a step may schedule later ones); a step the services refuse
    is counted and ends its story."""

    REFUSALS = (errors.ValidationError, errors.Conflict, errors.InvalidTransition)

    def __init__(self, summary: DealsSummary) -> None:
        self.summary = summary
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.ended: set[Any] = set()
        self.order = itertools.count()

    def at(self, when: dt.datetime, action: Callable[[], Any], story: Any = None) -> None:
        def run() -> None:
            if story is not None and story in self.ended:
                return
            try:
                action()
            except self.REFUSALS as error:
                self.summary.refusals.append(f"{story} at {when:%Y-%m-%d %H:%M}: {error!r}")
                self.ended.add(story)

        heapq.heappush(self.queue, (when, next(self.order), run))

    def run(self) -> None:
        while self.queue:
            heapq.heappop(self.queue)[2]()


def _configure_rules(net: _Network, *, auto_approve: bool) -> None:
    windows = {
        tier.code: PROTECTION_LADDER[min(position, len(PROTECTION_LADDER) - 1)]
        for position, tier in enumerate(net.tiers)
    }
    deals.update_rules(
        actor=None,
        data={
            "policy": EngagementRules.Policy.FIRST_TO_FILE,
            "auto_approve": auto_approve,
            "approval_sla_hours": APPROVAL_SLA_HOURS,
            "protection_days": 90,
            "extension_days": 30,
            "expiry_reminder_days": 14,
            "tier_program": net.program.pk,
            "tier_protection_days": windows,
        },
    )


def _named_accounts(net: _Network) -> int:
    owner = User.objects.filter(email=NAMED_ACCOUNT_OWNER).first()
    for name, tax_id, domain, code in NAMED_ACCOUNTS:
        place = net.places.get(code)
        deals.save_end_customer(
            actor=None,
            data={
                "name": name,
                "tax_id": tax_id,
                "domain": domain,
                "country": place.country if place else "",
                "region": place.region if place else "",
                "city": place.city if place else "",
                "territory": place.territory if place else None,
                "named_account": True,
                "account_owner": owner.pk if owner else None,
            },
        )
    return len(NAMED_ACCOUNTS)


def _replay_registrations(plans: Sequence[DealPlan], anchor: dt.datetime, replay: _Replay) -> None:
    held: dict[int, Registration] = {}
    organisations = Organisation.objects.in_bulk({plan.organisation for plan in plans})

    def submit(plan: DealPlan) -> None:
        held[plan.number] = deals.submit_registration(
            actor=None,
            data=plan.data,
            organisation=organisations[plan.organisation],
            now=plan.submitted,
        )

    def resolve(
        registration: Registration, when: dt.datetime, resolution: str, reason: str
    ) -> None:
        conflict = registration.conflicts.filter(resolution=Conflict.Resolution.OPEN).first()
        if conflict is not None:
            deals.resolve_conflict(
                actor=None, conflict=conflict, resolution=resolution, reason=reason, now=when
            )

    services: dict[str, Callable[..., Any]] = {
        "approve": deals.approve,
        "reject": deals.reject,
        "return": deals.return_for_info,
        "withdraw": deals.withdraw,
        "close": deals.close_registration,
        "extension": deals.request_extension,
        "grant": lambda **kw: deals.decide_extension(grant=True, **kw),
    }

    def step(plan: DealPlan, when: dt.datetime, verb: str, kwargs: dict[str, Any]) -> None:
        registration = held[plan.number]
        if verb in ("uphold", "dismiss"):
            resolution = "upheld" if verb == "uphold" else "dismissed"
            resolve(registration, when, resolution, kwargs["reason"])
        else:
            held[plan.number] = services[verb](
                actor=None, registration=registration, now=when, **kwargs
            )

    for plan in plans:
        story = f"registration {plan.number}"
        replay.at(plan.submitted, partial(submit, plan), story)
        for when, verb, kwargs in plan.steps:
            replay.at(when, partial(step, plan, when, verb, kwargs), story)
    # The timers as the hourly task runs them: in the night after each planned expiry (not
    # every hour of the history: the other runs would change nothing), then at the anchor.
    ticks = {anchor}
    for plan in plans:
        if plan.status == "expired":
            approved = plan.steps[0][0].date()
            night = approved + dt.timedelta(days=plan.window + 1)
            ticks.add(dt.datetime.combine(night, dt.time(1), tzinfo=dt.UTC))
    for tick in sorted(ticks):
        replay.at(tick, partial(deals.run_timers, now=tick))


def _configure_leads(net: _Network) -> None:
    hours = {
        tier.code: ACCEPTANCE_LADDER[position]
        for position, tier in enumerate(reversed(net.tiers))
        if position < len(ACCEPTANCE_LADDER)
    }
    leads.update_settings(
        actor=None,
        data={
            "acceptance_hours": ACCEPTANCE_HOURS,
            "tier_program": net.program.pk,
            "tier_acceptance_hours": hours,
            "max_offers": 5,
            "performance_days": 180,
        },
    )

    def rule(name: str, kind: str, required: bool, **params: Any) -> dict[str, Any]:
        return {"name": name, "kind": kind, "required": required, "active": True, "params": params}

    leads.save_rules(
        actor=None,
        rules=[
            rule("Territory", "territory", True, exclusive_first=True),
            rule("Channel partners", "partner_kind", False, kinds=LEAD_KINDS),
            rule("Capacity", "capacity", True, max_open=10),
            rule("Acceptance rate", "performance", False, min_acceptance=0.3, min_offers=5),
            rule("Weighted by tier", "random", False, weight="lead_priority"),
        ],
    )


def _replay_leads(plans: Sequence[LeadPlan], seed: int, replay: _Replay) -> None:
    """Create and route each lead when it came in; then what its story says happened. A
    decline or a recall re-routes the lead inside the service; the next partner accepts."""
    rng = random.Random(f"accord-demo-routing:{seed}")
    reasons = itertools.cycle(DECLINE_REASONS)

    def current(plan: LeadPlan) -> Lead:
        return Lead.objects.get(external_key=plan.data["external_key"])

    def accept(plan: LeadPlan, when: dt.datetime) -> None:
        """The partner now offered the lead accepts it within hours; some close it later."""
        accepted = when + dt.timedelta(hours=rng.randint(2, 20))
        closed = accepted + dt.timedelta(days=rng.randint(10, 40))

        def take() -> None:
            lead = current(plan)
            if lead.status == Lead.Status.OFFERED:
                leads.accept_lead(actor=None, lead=lead, now=accepted)

        def close() -> None:
            lead = current(plan)
            if lead.status == Lead.Status.ACCEPTED:
                leads.close_lead(actor=None, lead=lead, outcome=plan.story, now=closed)

        replay.at(accepted, take, f"lead {plan.number}")
        if plan.story in ("won", "lost"):
            replay.at(closed, close, f"lead {plan.number}")

    def decline(plan: LeadPlan, when: dt.datetime) -> None:
        leads.decline_lead(actor=None, lead=current(plan), reason=next(reasons), now=when)
        accept(plan, when)

    def sweep(plan: LeadPlan, when: dt.datetime) -> None:
        leads.recall_overdue(now=when)
        accept(plan, when)

    def arrive(plan: LeadPlan) -> None:
        lead = leads.create_lead(
            actor=None, data=plan.data, source=plan.source, route=False, now=plan.created
        )
        lead = leads.route_lead(actor=None, lead=lead, now=plan.created, rng=rng)
        if lead.status != Lead.Status.OFFERED:
            return
        if plan.story in ("accepted", "won", "lost"):
            accept(plan, plan.created)
        elif plan.story == "declined":
            when = plan.created + dt.timedelta(hours=rng.randint(3, 12))
            replay.at(when, lambda: decline(plan, when), f"lead {plan.number}")
        elif plan.story == "recalled":
            # The worker's sweep, an hour or more after the longest SLA ran out.
            when = plan.created + dt.timedelta(hours=ACCEPTANCE_HOURS + rng.randint(1, 12))
            replay.at(when, lambda: sweep(plan, when), f"lead {plan.number}")

    for plan in plans:
        replay.at(plan.created, partial(arrive, plan), f"lead {plan.number}")


def load_demo_deals(today: dt.date, seed: int = 2025) -> DealsSummary:
    """Load the demo's rules of engagement, named accounts and registrations (unless the
    database has registrations) and its lead settings, routing rules and leads (unless it
    has demo leads), replayed through the services up to the start of ``today`` (UTC)."""
    summary = DealsSummary()
    net = _network(today)
    if net is None or not net.partners:
        return summary
    anchor = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
    demo_leads = Lead.objects.filter(external_key__startswith=LEAD_KEY_PREFIX)
    load_registrations = not Registration.objects.exists()
    load_leads = not demo_leads.exists()
    replay = _Replay(summary)
    with override_settings(EMAIL_BACKEND=QUIET_MAIL):
        if load_registrations:
            # The history was decided by hand; auto-approval is on from today.
            _configure_rules(net, auto_approve=False)
            summary.rules = True
            summary.named_accounts = _named_accounts(net)
            _replay_registrations(plan_registrations(net, anchor, seed), anchor, replay)
        if load_leads:
            _configure_leads(net)
            _replay_leads(plan_leads(net, anchor, seed), seed, replay)
        replay.run()
        if load_registrations:
            _configure_rules(net, auto_approve=True)
    if load_registrations:
        summary.registrations = _counts(Registration.objects.all(), Registration.Status.values)
        summary.conflicts = Conflict.objects.count()
        summary.overdue_approvals = Registration.objects.filter(
            status=Registration.Status.SUBMITTED, approval_due__lt=anchor
        ).count()
    if load_leads:
        summary.leads = _counts(demo_leads, Lead.Status.values)
        summary.overdue_offers = demo_leads.filter(
            status=Lead.Status.OFFERED, accept_by__lt=anchor
        ).count()
        summary.routing_events = RoutingEvent.objects.filter(lead__in=demo_leads).count()
    return summary


def _counts(queryset: QuerySet, statuses: Sequence[str]) -> dict[str, int]:
    found = Counter(queryset.values_list("status", flat=True))
    return {status: found[status] for status in statuses if found[status]}
