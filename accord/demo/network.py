"""The deterministic demo network: a plan built from a seed, and two ways to write it.

``plan_network`` describes every organisation (with its contacts, territories,
agreements and KPI targets) from a seeded ``random.Random`` per organisation, so
organisation *n* is the same whatever the network's size and a larger network extends
a smaller one. ``load_demo_network`` writes what is missing: through the services (with
audit history) for demo-sized networks, with batched ``bulk_create`` for large ones.
Either way a second run with the same arguments changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accord.accounts.models import Role, User
from accord.accounts.roles import BUILTIN_ROLES, sync_builtin_roles
from accord.accounts.services import create_user
from accord.core.errors import Conflict
from accord.demo import data
from accord.demo.channel import CHANNEL_LIMIT, ChannelSummary, load_demo_channel
from accord.demo.deals import DealsSummary, load_demo_deals
from accord.demo.programs import ProgramsSummary, load_demo_programs
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Tag,
    Territory,
    TerritoryAssignment,
)
from accord.partners.services import (
    assign_territory,
    create_agreement,
    create_contact,
    create_organisation,
    create_territory,
    transition_agreement,
    transition_organisation,
)

DEFAULT_ORGANISATIONS = 300
DEFAULT_SEED = 2025
# The one password every demo login shares (documented in the README and printed).
DEMO_PASSWORD = "bamboo-harbour-42"
# Up to this many organisations the loader goes through the services, so the demo shows
# an audit history; above it, batched bulk inserts.
SERVICE_LIMIT = 1000
BATCH_SIZE = 2000
EXTERNAL_KEY_PREFIX = "demo-"

Kind = Organisation.Kind
Status = Organisation.Status


# --- the plan -------------------------------------------------------------------
@dataclass(frozen=True)
class TargetSpec:
    metric: str
    comparator: str
    target: Decimal
    unit: str
    period: str


@dataclass(frozen=True)
class AgreementSpec:
    reference: str
    type: str
    status: str
    start_on: dt.date
    end_on: dt.date | None
    renewal_notice_days: int
    pricing_tier: str
    terms: str
    targets: tuple[TargetSpec, ...]


@dataclass(frozen=True)
class ContactSpec:
    full_name: str
    job_title: str
    email: str
    phone: str
    is_primary: bool


@dataclass(frozen=True)
class OrganisationSpec:
    index: int
    parent_index: int | None
    depth: int
    status: str
    fields: dict[str, str]
    tags: tuple[str, ...]
    territories: tuple[tuple[str, bool], ...]  # (territory code, exclusive)
    contacts: tuple[ContactSpec, ...]
    agreements: tuple[AgreementSpec, ...]

    @property
    def external_key(self) -> str:
        return self.fields["external_key"]

    @property
    def kind(self) -> str:
        return self.fields["kind"]


@dataclass(frozen=True)
class UserSpec:
    email: str
    full_name: str
    role: str
    organisation_index: int | None  # None: the vendor
    territories: tuple[str, ...] = ()
    language: str = ""


@dataclass(frozen=True)
class _Featured:
    """A hand-written organisation at a fixed index, so logins and stories are stable."""

    name: str
    kind: str
    city: str
    status: str
    domain: str
    parent: int | None = None


FEATURED: tuple[_Featured, ...] = (
    _Featured(
        "华南电子分销有限公司",
        Kind.DISTRIBUTOR,
        "cn-gd-guangzhou",
        Status.ACTIVE,
        "huanan-fenxiao.cn",
    ),
    _Featured(
        "深圳星河数码科技有限公司",
        Kind.RESELLER,
        "cn-gd-shenzhen",
        Status.ACTIVE,
        "xinghe-shuma.cn",
        parent=0,
    ),
    _Featured(
        "广州天河智能零售有限公司",
        Kind.RETAILER,
        "cn-gd-guangzhou",
        Status.ACTIVE,
        "tianhe-lingshou.cn",
        parent=0,
    ),
    _Featured(
        "东莞联创系统集成有限公司",
        Kind.VAR,
        "cn-gd-dongguan",
        Status.ONBOARDING,
        "lianchuang-jicheng.cn",
        parent=0,
    ),
    _Featured(
        "东莞鼎盛电器商行",
        Kind.RETAILER,
        "cn-gd-dongguan",
        Status.APPLIED,
        "dingsheng-dianqi.cn",
        parent=3,
    ),
    _Featured(
        "华东恒通商贸有限公司",
        Kind.WHOLESALER,
        "cn-sh-pudong",
        Status.ACTIVE,
        "hengtong-shangmao.cn",
    ),
    _Featured(
        "杭州云端电子商务有限公司", Kind.ECOMMERCE, "cn-zj-hangzhou", Status.ACTIVE, "yunduan-ec.cn"
    ),
    _Featured(
        "成都顺达供应链管理有限公司",
        Kind.LOGISTICS,
        "cn-sc-chengdu",
        Status.SUSPENDED,
        "shunda-scm.cn",
    ),
    _Featured(
        "北京博远管理咨询有限公司",
        Kind.CONSULTANT,
        "cn-bj-haidian",
        Status.PROSPECT,
        "boyuan-consulting.cn",
    ),
    _Featured(
        "苏州精工元器件制造有限公司",
        Kind.SUPPLIER,
        "cn-js-suzhou",
        Status.ACTIVE,
        "jinggong-components.cn",
    ),
    _Featured(
        "Northwind Retail Inc.",
        Kind.RETAILER,
        "us-ca-san-francisco",
        Status.ACTIVE,
        "northwind-retail.com",
    ),
    _Featured(
        "Atlas Distribution GmbH",
        Kind.DISTRIBUTOR,
        "de-by-muenchen",
        Status.ACTIVE,
        "atlas-distribution.de",
    ),
    _Featured(
        "Meridian Systems Ltd",
        Kind.VAR,
        "gb-eng-london",
        Status.TERMINATED,
        "meridian-systems.co.uk",
    ),
    _Featured(
        "Contoso Health Group Inc.",
        Kind.CUSTOMER,
        "us-ny-new-york",
        Status.ACTIVE,
        "contoso-health.com",
    ),
)
MIN_ORGANISATIONS = len(FEATURED)

PARTNER_DOMAIN = {0: "huanan.demo", 10: "northwind.demo", 11: "atlas.demo"}
DEMO_USERS: tuple[UserSpec, ...] = (
    UserSpec("admin@accord.demo", "Alex Admin", "administrator", None),
    UserSpec("executive@accord.demo", "Erin Executive", "executive", None),
    UserSpec("channel@accord.demo", "Chris Channel", "channel_manager", None),
    UserSpec("pam@accord.demo", "Pat Account", "partner_account_manager", None),
    UserSpec(
        "coordinator@accord.demo",
        "周敏 (Zhou Min)",
        "regional_coordinator",
        None,
        territories=data.COORDINATOR_TERRITORIES,
        language="zh-hans",
    ),
    UserSpec("commercial@accord.demo", "Casey Commercial", "commercial_manager", None),
    UserSpec("delivery@accord.demo", "Dana Delivery", "service_delivery_manager", None),
    UserSpec("transformation@accord.demo", "Toni Transformation", "transformation_manager", None),
    UserSpec("analyst@accord.demo", "Ana Analyst", "analyst", None),
    UserSpec("admin@huanan.demo", "李娜 (Li Na)", "partner_admin", 0, language="zh-hans"),
    UserSpec("sales@huanan.demo", "王伟 (Wang Wei)", "partner_sales", 0, language="zh-hans"),
    UserSpec("viewer@northwind.demo", "Grace Walker", "partner_viewer", 10),
    UserSpec("sales@atlas.demo", "Jonas Becker", "partner_sales", 11),
)

# Generated organisations: kind weights, status weights.
KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Kind.DISTRIBUTOR, 8),
    (Kind.WHOLESALER, 7),
    (Kind.RETAILER, 20),
    (Kind.RESELLER, 25),
    (Kind.VAR, 10),
    (Kind.LOGISTICS, 5),
    (Kind.ECOMMERCE, 5),
    (Kind.SUPPLIER, 8),
    (Kind.CONSULTANT, 4),
    (Kind.CUSTOMER, 8),
)
STATUS_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Status.ACTIVE, 62),
    (Status.ONBOARDING, 8),
    (Status.APPLIED, 6),
    (Status.PROSPECT, 8),
    (Status.SUSPENDED, 8),
    (Status.TERMINATED, 8),
)
PARENT_KINDS = frozenset({Kind.DISTRIBUTOR, Kind.WHOLESALER})
CHILD_KINDS = frozenset({Kind.RESELLER, Kind.RETAILER, Kind.VAR})
# Kinds that sell in a territory; suppliers, consultants and customers hold none.
TERRITORIAL_KINDS = frozenset(
    {
        Kind.DISTRIBUTOR,
        Kind.WHOLESALER,
        Kind.RETAILER,
        Kind.RESELLER,
        Kind.VAR,
        Kind.LOGISTICS,
        Kind.ECOMMERCE,
    }
)
MAX_DEPTH = 2  # distributor → reseller → retailer

_CITY_INDEX: dict[str, tuple[data.Country, data.Province, data.City]] = {
    city.code: (country, province, city)
    for group in data.TERRITORY_TREE
    for country in group.countries
    for province in country.provinces
    for city in province.cities
}
_COUNTRY_CITIES: dict[str, list[str]] = defaultdict(list)
for _code, (_country, _province, _city) in _CITY_INDEX.items():
    _COUNTRY_CITIES[_country.code].append(_code)

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_FX = {"USD": 1, "CNY": 7, "EUR": Decimal("0.9"), "GBP": Decimal("0.8"), "CAD": Decimal("1.35")}


def _weighted(rng: random.Random, weights: Sequence[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in weights], [w for _, w in weights])[0]


def unified_social_credit_code(rng: random.Random, division: str) -> str:
    """A well-formed Chinese unified social credit code (GB 32100-2015 check character)."""
    body = "91" + division + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def _tax_id(rng: random.Random, iso: str, city_code: str) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(9))
    return {
        "CN": lambda: unified_social_credit_code(rng, data.CN_DIVISION_CODES[city_code]),
        "US": lambda: f"{digits[:2]}-{digits[2:]}{rng.randint(0, 9)}",
        "CA": lambda: f"{digits}RC0001",
        "DE": lambda: f"DE{digits}",
        "FR": lambda: f"FR{rng.randint(10, 99)}{digits}",
        "GB": lambda: f"GB{digits}",
        "NL": lambda: f"NL{digits}B01",
    }[iso]()


def _phone(rng: random.Random, country: data.Country, city: data.City) -> str:
    if country.iso == "CN":
        return f"+86 {city.phone_area} {rng.randint(5000, 8999)} {rng.randint(1000, 9999)}"
    if country.iso in ("US", "CA"):
        return f"+1 {city.phone_area} 555 01{rng.randint(10, 99)}"
    return f"{country.phone_prefix} {city.phone_area} {rng.randint(100000, 9999999)}"


class _PlanState:
    """What the planner remembers about earlier organisations (parents, names, holders)."""

    def __init__(self) -> None:
        self.parents: dict[str, list[int]] = defaultdict(list)  # country → distributors
        self.sub_parents: dict[str, list[int]] = defaultdict(list)  # country → tier-2 resellers
        self.depth: dict[int, int] = {}
        self.exclusive_cities: set[str] = set()
        self.names: set[str] = set()
        self.domains: set[str] = set()

        self.next_number: dict[str, int] = {}

    def unique(self, value: str, seen: set[str], fmt: Callable[[str, int], str]) -> str:
        """``value``, or ``fmt(value, n)`` for the first free n >= 2."""
        candidate, n = value, self.next_number.get(value, 1)
        while candidate in seen:
            n += 1
            candidate = fmt(value, n)
        self.next_number[value] = n
        seen.add(candidate)
        return candidate


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = ["".join(ch for ch in word.lower() if ch.isalnum()) for word in ascii_text.split()]
    return "-".join(word for word in words if word)


def _generated_identity(
    rng: random.Random,
    state: _PlanState,
    kind: str,
    country: data.Country,
    province: data.Province,
    city: data.City,
) -> tuple[str, str]:
    """(name, website domain) for a generated organisation; names stay unique."""
    tld = data.TLD[country.iso]
    if country.iso == "CN":
        brand, brand_slug = rng.choice(data.CN_BRANDS)
        trade, trade_slug = rng.choice(data.CN_TRADES)
        word, word_slug = rng.choice(data.CN_KIND_WORDS[kind])
        suffix = "集团有限公司" if kind == Kind.CUSTOMER else "有限公司"
        # Same-named companies in other cities carry the city in brackets, the Chinese way.
        place = city.name[:-1] if city.name.endswith("市") else province.name.rstrip("市")
        core = f"{brand}{trade}{word}"
        name = state.unique(
            f"{core}{suffix}",
            state.names,
            lambda v, n: f"{core}（{place}{'' if n == 2 else n - 1}）{suffix}",  # noqa: RUF001
        )
        slug = f"{brand_slug}-{trade_slug}-{word_slug}"
    else:
        brand = rng.choice(data.WEST_BRANDS)
        word = rng.choice(data.WEST_KIND_WORDS[kind])
        legal_suffix = rng.choice(data.LEGAL_SUFFIX[country.iso])
        core = f"{brand} {word}"
        name = state.unique(
            f"{core} {legal_suffix}",
            state.names,
            lambda v, n: f"{core} {city.name}{'' if n == 2 else f' {n - 1}'} {legal_suffix}",
        )
        slug = _slug(core)
    domain = state.unique(f"{slug}.{tld}", state.domains, lambda v, n: v.replace(".", f"{n}.", 1))
    return name, domain


def _targets(
    rng: random.Random, agreement_type: str, kind: str, currency: str
) -> tuple[TargetSpec, ...]:
    year, quarter, month = (
        AgreementTarget.Period.YEAR,
        AgreementTarget.Period.QUARTER,
        AgreementTarget.Period.MONTH,
    )
    revenue_base = {
        Kind.DISTRIBUTOR: (2_000_000, 20_000_000),
        Kind.WHOLESALER: (1_000_000, 8_000_000),
        Kind.RESELLER: (100_000, 1_500_000),
        Kind.RETAILER: (50_000, 800_000),
        Kind.VAR: (200_000, 2_000_000),
        Kind.ECOMMERCE: (500_000, 5_000_000),
    }.get(kind, (100_000, 1_000_000))

    def revenue() -> TargetSpec:
        amount = Decimal(rng.randint(*revenue_base)) * Decimal(_FX[currency])
        rounded = (amount / 10_000).quantize(Decimal(1)) * 10_000
        return TargetSpec("revenue", ">=", rounded, currency, year)

    def pct(metric: str, low: int, high: int, period: str) -> TargetSpec:
        return TargetSpec(metric, ">=", Decimal(rng.randint(low, high)), "%", period)

    Type = Agreement.Type
    if agreement_type == Type.DISTRIBUTION:
        return (
            revenue(),
            pct("revenue_growth", 8, 20, year),
            pct("fill_rate", 92, 98, quarter),
            TargetSpec("weeks_of_supply", "<=", Decimal(rng.randint(6, 10)), "weeks", month),
        )
    if agreement_type == Type.RESELLER:
        return (
            revenue(),
            TargetSpec("orders", ">=", Decimal(rng.randint(10, 120)), "orders", quarter),
            TargetSpec("certified_staff", ">=", Decimal(rng.randint(1, 5)), "people", year),
            pct("csat", 80, 90, quarter),
        )
    if agreement_type == Type.SUPPLY:
        return (pct("on_time_delivery", 95, 99, month), pct("fill_rate", 95, 99, month))
    if agreement_type == Type.SERVICE:
        return (pct("on_time_delivery", 90, 98, month), pct("csat", 80, 92, quarter))
    if agreement_type == Type.REFERRAL:
        return (TargetSpec("qualified_leads", ">=", Decimal(rng.randint(5, 40)), "leads", quarter),)
    return ()


_TERMS = {
    "en": "{type} between the vendor and {name}. Payment 30 days net; prices per the {tier} "
    "price list; the partner reports sell-through monthly.",
    "zh": "{name}与厂商之间的{type}。付款条件：月结30天；价格按{tier}价格表执行；"  # noqa: RUF001
    "合作伙伴每月报送销售数据。",
}
# Agreement type names for the terms text (data, so not translated at run time).
_TYPE_NAMES: dict[str, tuple[str, str]] = {
    Agreement.Type.RESELLER: ("Reseller agreement", "经销协议"),
    Agreement.Type.DISTRIBUTION: ("Distribution agreement", "分销协议"),
    Agreement.Type.SUPPLY: ("Supply agreement", "供货协议"),
    Agreement.Type.SERVICE: ("Service agreement", "服务协议"),
    Agreement.Type.REFERRAL: ("Referral agreement", "推荐合作协议"),
    Agreement.Type.NDA: ("Non-disclosure agreement", "保密协议"),
}
_AGREEMENT_TYPES: dict[str, tuple[str, ...]] = {
    Kind.DISTRIBUTOR: (Agreement.Type.DISTRIBUTION,),
    Kind.WHOLESALER: (Agreement.Type.DISTRIBUTION,),
    Kind.RETAILER: (Agreement.Type.RESELLER,),
    Kind.RESELLER: (Agreement.Type.RESELLER,),
    Kind.ECOMMERCE: (Agreement.Type.RESELLER,),
    Kind.VAR: (Agreement.Type.RESELLER, Agreement.Type.SERVICE),
    Kind.LOGISTICS: (Agreement.Type.SERVICE,),
    Kind.SUPPLIER: (Agreement.Type.SUPPLY,),
    Kind.CONSULTANT: (Agreement.Type.REFERRAL,),
    Kind.CUSTOMER: (Agreement.Type.NDA,),
}


def _agreements(
    rng: random.Random,
    index: int,
    kind: str,
    status: str,
    name: str,
    currency: str,
    chinese: bool,
    today: dt.date,
) -> tuple[AgreementSpec, ...]:
    """The agreements an organisation of this kind and lifecycle status would have."""
    AStatus = Agreement.Status
    types = _AGREEMENT_TYPES[kind]
    plans: list[tuple[str, str]] = []  # (type, status)
    if status == Status.PROSPECT:
        if rng.random() < 0.3:
            plans.append((Agreement.Type.NDA, AStatus.DRAFT))
    elif status in (Status.APPLIED, Status.ONBOARDING):
        plans.append((types[0], AStatus.DRAFT))
    elif status in (Status.ACTIVE, Status.SUSPENDED):
        plans.extend((t, AStatus.ACTIVE) for t in types)
        if rng.random() < 0.2:
            plans.append((types[0], AStatus.EXPIRED))
    else:  # terminated
        plans.append((types[0], AStatus.TERMINATED))

    specs = []
    for number, (agreement_type, agreement_status) in enumerate(plans, 1):
        notice = rng.choice((30, 60, 90))
        if agreement_status == AStatus.DRAFT:
            start = today + dt.timedelta(days=rng.randint(7, 60))
            end = start + dt.timedelta(days=365 * rng.choice((1, 2)))
        elif agreement_status == AStatus.ACTIVE:
            # About one in six runs out within its notice period: renewal due.
            days_left = (
                rng.randint(3, notice) if rng.random() < 0.17 else rng.randint(notice + 1, 700)
            )
            end = today + dt.timedelta(days=days_left)
            years = 1 if days_left < 300 else rng.choice((2, 3))
            start = end - dt.timedelta(days=365 * years)
        elif agreement_status == AStatus.EXPIRED:
            end = today - dt.timedelta(days=rng.randint(30, 400))
            start = end - dt.timedelta(days=365)
        else:
            end = today - dt.timedelta(days=rng.randint(10, 200))
            start = end - dt.timedelta(days=365 * 2)
        tier = rng.choice(data.PRICING_TIERS) if agreement_type != Agreement.Type.NDA else ""
        english, chinese_name = _TYPE_NAMES[agreement_type]
        terms = _TERMS["zh" if chinese else "en"].format(
            type=chinese_name if chinese else english,
            name=name,
            tier=tier or ("标准" if chinese else "standard"),
        )
        specs.append(
            AgreementSpec(
                reference=f"DEMO-{index + 1:06d}-{number}",
                type=agreement_type,
                status=agreement_status,
                start_on=start,
                end_on=end,
                renewal_notice_days=notice,
                pricing_tier=tier,
                terms=terms,
                targets=_targets(rng, agreement_type, kind, currency),
            )
        )
    return tuple(specs)


def _contacts(
    rng: random.Random, country: data.Country, city: data.City, domain: str
) -> tuple[ContactSpec, ...]:
    titles = rng.sample(data.JOB_TITLES, rng.randint(1, 3))
    contacts = []
    for position, (local, english, chinese) in enumerate(titles):
        if country.iso == "CN":
            name = rng.choice(data.CN_SURNAMES) + rng.choice(data.CN_GIVEN_NAMES)
            title = chinese
        else:
            name = f"{rng.choice(data.WEST_FIRST_NAMES)} {rng.choice(data.WEST_LAST_NAMES)}"
            title = english
        contacts.append(
            ContactSpec(
                full_name=name,
                job_title=title,
                email=f"{local}@{domain}",
                phone=_phone(rng, country, city),
                is_primary=position == 0,
            )
        )
    return tuple(contacts)


def _plan_one(index: int, seed: int, state: _PlanState, today: dt.date) -> OrganisationSpec:
    rng = random.Random(f"accord-demo:{seed}:{index}")
    featured = FEATURED[index] if index < len(FEATURED) else None
    if featured:
        kind, status, city_code = featured.kind, featured.status, featured.city
        parent = featured.parent
    else:
        kind = _weighted(rng, KIND_WEIGHTS)
        status = _weighted(rng, STATUS_WEIGHTS)
        if kind == Kind.CUSTOMER and status in (Status.SUSPENDED, Status.ONBOARDING):
            status = Status.ACTIVE
        country_code = _weighted(rng, data.COUNTRY_WEIGHTS)
        city_code = rng.choice(_COUNTRY_CITIES[country_code])
        parent = None
    country, province, city = _CITY_INDEX[city_code]

    if not featured and kind in CHILD_KINDS:
        roll = rng.random()
        if kind == Kind.RETAILER and roll < 0.15 and state.sub_parents[country.code]:
            parent = rng.choice(state.sub_parents[country.code])
        elif roll < 0.5 and state.parents[country.code]:
            parent = rng.choice(state.parents[country.code])
    depth = 0 if parent is None else state.depth[parent] + 1
    state.depth[index] = depth
    if kind in PARENT_KINDS and depth == 0:
        state.parents[country.code].append(index)
    elif kind == Kind.RESELLER and depth == 1 and depth < MAX_DEPTH:
        state.sub_parents[country.code].append(index)

    if featured:
        name = legal = featured.name
        state.names.add(name)
        domain = featured.domain
        state.domains.add(domain)
    else:
        name, domain = _generated_identity(rng, state, kind, country, province, city)
        legal = name

    territories: list[tuple[str, bool]] = []
    if kind in TERRITORIAL_KINDS:
        if city_code in data.EXCLUSIVE_CITIES:
            if kind == Kind.DISTRIBUTOR and depth == 0 and city_code not in state.exclusive_cities:
                state.exclusive_cities.add(city_code)
                territories.append((city_code, True))
            else:
                territories.append((province.code, False))
        else:
            territories.append((city_code, False))

    fields = {
        "external_key": f"{EXTERNAL_KEY_PREFIX}{index + 1:06d}",
        "name": name,
        "legal_name": legal,
        "kind": kind,
        "tax_id": _tax_id(rng, country.iso, city_code),
        "website_domain": domain,
        "email": f"info@{domain}",
        "phone": _phone(rng, country, city),
        "street": rng.choice(data.STREETS[country.iso]).format(n=rng.randint(1, 999)),
        "city": city.name,
        "region": province.name,
        "postal_code": city.postal_code,
        "country": country.iso,
        "currency": country.currency,
    }
    tags = tuple(sorted(rng.sample(data.TAGS, rng.choice((0, 0, 1, 1, 2, 3)))))
    if featured and index == 0:
        tags = ("strategic", "重点客户")
    return OrganisationSpec(
        index=index,
        parent_index=parent,
        depth=depth,
        status=status,
        fields=fields,
        tags=tags,
        territories=tuple(territories),
        contacts=_contacts(rng, country, city, domain),
        agreements=_agreements(
            rng, index, kind, status, name, country.currency, country.iso == "CN", today
        ),
    )


def plan_network(
    organisations: int = DEFAULT_ORGANISATIONS,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
) -> Iterator[OrganisationSpec]:
    """Yield the specs of ``organisations`` organisations, parents before their children."""
    if organisations < MIN_ORGANISATIONS:
        raise ValueError(f"The demo network needs at least {MIN_ORGANISATIONS} organisations.")
    today = today or timezone.localdate()
    state = _PlanState()
    for index in range(organisations):
        yield _plan_one(index, seed, state, today)


def territory_rows() -> Iterator[tuple[str, str, str, str | None]]:
    """(code, name, level, parent code) for the whole tree, parents first."""
    Level = Territory.Level
    for group in data.TERRITORY_TREE:
        yield group.code, group.name, Level.GROUP, None
        for country in group.countries:
            yield country.code, country.name, Level.COUNTRY, group.code
            for province in country.provinces:
                yield province.code, province.name, Level.PROVINCE, country.code
                for city in province.cities:
                    yield city.code, city.name, Level.CITY, province.code


# --- writing ----------------------------------------------------------------------
@dataclass
class DemoSummary:
    """What one run of the loader created (zero everywhere on a re-run)."""

    method: str = ""
    organisations: int = 0
    existing_organisations: int = 0
    territories: int = 0
    contacts: int = 0
    agreements: int = 0
    targets: int = 0
    assignments: int = 0
    users: int = 0
    skipped_assignments: int = 0
    channel: ChannelSummary = field(default_factory=ChannelSummary)
    programs: ProgramsSummary = field(default_factory=ProgramsSummary)
    deals: DealsSummary = field(default_factory=DealsSummary)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, organisation

    def created_anything(self) -> bool:
        return any(
            (
                self.organisations,
                self.territories,
                self.contacts,
                self.agreements,
                self.targets,
                self.assignments,
                self.users,
                self.channel.total(),
                self.programs.total(),
                self.deals.total(),
            )
        )


def _status_path(status: str) -> list[str]:
    """The transitions from prospect to ``status`` (shortest path in the state machine)."""
    paths: dict[str, list[str]] = {Status.PROSPECT: []}
    queue = [Status.PROSPECT]
    while queue:
        current = queue.pop(0)
        for following in Organisation.TRANSITIONS.get(current, ()):
            if following not in paths:
                paths[following] = [*paths[current], following]
                queue.append(following)
    # Terminated the long way (through suspended) reads better in a demo history.
    if status == Status.TERMINATED:
        return [*paths[Status.SUSPENDED], Status.TERMINATED]
    return paths[status]


def _agreement_path(status: str) -> list[str]:
    AStatus = Agreement.Status
    return {
        AStatus.DRAFT: [],
        AStatus.ACTIVE: [AStatus.ACTIVE],
        AStatus.EXPIRED: [AStatus.ACTIVE, AStatus.EXPIRED],
        AStatus.TERMINATED: [AStatus.ACTIVE, AStatus.TERMINATED],
    }[status]


def _ensure_territories(summary: DemoSummary) -> dict[str, Territory]:
    existing = {t.code: t for t in Territory.objects.all()}
    for code, name, level, parent in territory_rows():
        if code not in existing:
            existing[code] = create_territory(
                actor=None,
                data={
                    "code": code,
                    "name": name,
                    "level": level,
                    "parent": existing[parent] if parent else None,
                },
            )
            summary.territories += 1
    return existing


def _ensure_tags(names: Iterable[str]) -> dict[str, int]:
    wanted = set(names)
    existing = dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))
    missing = [Tag(name=name) for name in sorted(wanted - set(existing))]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))


class _ServiceWriter:
    """Writes each organisation through the services: validated and audited, one by one."""

    method = "services"

    def __init__(
        self,
        summary: DemoSummary,
        territories: dict[str, Territory],
        organisations: dict[str, Organisation],
    ) -> None:
        self.summary = summary
        self.territories = territories
        self.organisations = organisations  # external key → organisation

    def write(self, specs: Sequence[OrganisationSpec], keys: list[str]) -> None:
        for spec in specs:
            self._write_one(spec, keys)

    def _write_one(self, spec: OrganisationSpec, keys: list[str]) -> None:
        parent = (
            self.organisations[keys[spec.parent_index]] if spec.parent_index is not None else None
        )
        organisation = create_organisation(
            actor=None, data={**spec.fields, "parent": parent}, tags=spec.tags
        )
        for status in _status_path(spec.status):
            transition_organisation(actor=None, organisation=organisation, status=status)
        self.organisations[spec.external_key] = organisation
        self.summary.organisations += 1
        for contact in spec.contacts:
            create_contact(actor=None, organisation=organisation, data=contact.__dict__)
            self.summary.contacts += 1
        for code, exclusive in spec.territories:
            try:
                assign_territory(
                    actor=None,
                    organisation=organisation,
                    territory=self.territories[code],
                    exclusive=exclusive,
                )
                self.summary.assignments += 1
            except Conflict:
                # Held exclusively by an organisation from an earlier, different network.
                self.summary.skipped_assignments += 1
        for agreement_spec in spec.agreements:
            values = {
                k: v for k, v in agreement_spec.__dict__.items() if k not in ("targets", "status")
            }
            agreement = create_agreement(
                actor=None,
                organisation=organisation,
                data=values,
                targets=[t.__dict__ for t in agreement_spec.targets],
            )
            for status in _agreement_path(agreement_spec.status):
                transition_agreement(actor=None, agreement=agreement, status=status)
            self.summary.agreements += 1
            self.summary.targets += len(agreement_spec.targets)


class _BulkWriter:
    """Writes batches with ``bulk_create``: no per-row validation or audit, many rows a second.

    The plan is already valid (the tests load the same plan through the services);
    materialised paths are computed in the database right after each insert.
    """

    method = "bulk"

    def __init__(
        self,
        summary: DemoSummary,
        territories: dict[str, Territory],
        organisations: dict[str, Organisation],
    ) -> None:
        self.summary = summary
        self.territory_ids = {code: t.pk for code, t in territories.items()}
        self.organisations = organisations
        self.paths: dict[str, tuple[int, str]] = {
            key: (org.pk, org.path) for key, org in organisations.items()
        }
        self.tag_ids = _ensure_tags(data.TAGS)
        # territory id → (exclusive holder or None, number of holders): keeps the
        # one-exclusive-holder rule (an exclusive territory admits no other holder).
        self.holders: dict[int, list[Any]] = defaultdict(lambda: [None, 0])
        for territory_id, organisation_id, exclusive in TerritoryAssignment.objects.values_list(
            "territory_id", "organisation_id", "exclusive"
        ):
            state = self.holders[territory_id]
            state[1] += 1
            if exclusive:
                state[0] = organisation_id

    def write(self, specs: Sequence[OrganisationSpec], keys: list[str]) -> None:
        with transaction.atomic():
            by_depth: dict[int, list[OrganisationSpec]] = defaultdict(list)
            for spec in specs:
                by_depth[spec.depth].append(spec)
            for depth in sorted(by_depth):
                self._insert_organisations(by_depth[depth], keys)
            self._insert_dependents(specs)

    def _insert_organisations(self, specs: list[OrganisationSpec], keys: list[str]) -> None:
        now = timezone.now()
        rows = [
            Organisation(
                **spec.fields,
                status=spec.status,
                parent_id=(
                    self.paths[keys[spec.parent_index]][0]
                    if spec.parent_index is not None
                    else None
                ),
                created_at=now,
                updated_at=now,
            )
            for spec in specs
        ]
        Organisation.objects.bulk_create(rows, batch_size=500)
        ids = [row.pk for row in rows]
        own = Cast("pk", output_field=CharField())
        if specs[0].parent_index is None:
            path: Any = Concat(Value("/"), own, Value("/"), output_field=CharField())
        else:
            parent_path = Subquery(
                Organisation.objects.filter(pk=OuterRef("parent_id")).values("path")[:1]
            )
            path = Concat(parent_path, own, Value("/"), output_field=CharField())
        for start in range(0, len(ids), 500):
            Organisation.objects.filter(pk__in=ids[start : start + 500]).update(path=path)
        for spec, row in zip(specs, rows, strict=True):
            parent_path_value = (
                self.paths[keys[spec.parent_index]][1] if spec.parent_index is not None else "/"
            )
            self.paths[spec.external_key] = (row.pk, f"{parent_path_value}{row.pk}/")
        self.summary.organisations += len(rows)

    def _insert_dependents(self, specs: Sequence[OrganisationSpec]) -> None:
        tag_links, contacts, assignments, agreements, target_specs = [], [], [], [], []
        today = timezone.localdate()
        TagLink = Organisation.tags.through
        for spec in specs:
            organisation_id = self.paths[spec.external_key][0]
            tag_links.extend(
                TagLink(organisation_id=organisation_id, tag_id=self.tag_ids[name])
                for name in spec.tags
            )
            contacts.extend(
                Contact(organisation_id=organisation_id, **c.__dict__) for c in spec.contacts
            )
            for code, exclusive in spec.territories:
                territory_id = self.territory_ids[code]
                holder, count = self.holders[territory_id]
                if holder is not None or (exclusive and count):
                    self.summary.skipped_assignments += 1
                    continue
                self.holders[territory_id] = [organisation_id if exclusive else None, count + 1]
                assignments.append(
                    TerritoryAssignment(
                        organisation_id=organisation_id,
                        territory_id=territory_id,
                        exclusive=exclusive,
                        assigned_on=today,
                    )
                )
            for agreement_spec in spec.agreements:
                values = {k: v for k, v in agreement_spec.__dict__.items() if k != "targets"}
                agreements.append(Agreement(organisation_id=organisation_id, **values))
                target_specs.append(agreement_spec.targets)
        TagLink.objects.bulk_create(tag_links, batch_size=1000)
        Contact.objects.bulk_create(contacts, batch_size=1000)
        TerritoryAssignment.objects.bulk_create(assignments, batch_size=1000)
        Agreement.objects.bulk_create(agreements, batch_size=500)
        targets = [
            AgreementTarget(agreement_id=agreement.pk, **target.__dict__)
            for agreement, specs_of_agreement in zip(agreements, target_specs, strict=True)
            for target in specs_of_agreement
        ]
        AgreementTarget.objects.bulk_create(targets, batch_size=1000)
        self.summary.contacts += len(contacts)
        self.summary.assignments += len(assignments)
        self.summary.agreements += len(agreements)
        self.summary.targets += len(targets)


def _ensure_users(
    summary: DemoSummary,
    organisations: dict[str, Organisation],
    territories: dict[str, Territory],
    keys: list[str],
) -> None:
    vendor = Organisation.objects.vendor()
    if Role.objects.filter(code__in=BUILTIN_ROLES).count() < len(BUILTIN_ROLES):
        # The roles come with a data migration; a flushed database (`accord flush`, a
        # transactional test) has lost them.
        sync_builtin_roles(Role)
    existing = set(
        User.objects.filter(email__in=[u.email for u in DEMO_USERS]).values_list("email", flat=True)
    )
    created: list[int] = []
    for spec in DEMO_USERS:
        organisation = (
            vendor
            if spec.organisation_index is None
            else organisations[keys[spec.organisation_index]]
        )
        if spec.email not in existing:
            user = create_user(
                actor=None,
                organisation=organisation,
                data={"email": spec.email, "full_name": spec.full_name, "language": spec.language},
                roles=[spec.role],
                territories=[territories[code] for code in spec.territories],
            )
            validate_password(DEMO_PASSWORD, user)
            created.append(user.pk)
        summary.logins.append((spec.email, spec.role, organisation.name))
    if created:
        # One Argon2 hash (half a second of CPU each) shared by every demo login; the
        # password is public anyway.
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
        summary.users += len(created)


def load_demo_network(
    organisations: int = DEFAULT_ORGANISATIONS,
    seed: int = DEFAULT_SEED,
    *,
    method: str = "auto",
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    channel: bool = False,
    programs: bool = False,
    deals: bool = False,
) -> DemoSummary:
    """Create whatever of the demo network is missing; never changes an existing row.

    ``method`` is ``"services"``, ``"bulk"`` or ``"auto"`` (services up to SERVICE_LIMIT
    organisations). ``progress(done, total)`` is called after each batch. ``channel``
    also loads the channel data (``accord.demo.channel``) of the first CHANNEL_LIMIT
    organisations (``accord demo`` does). ``programs`` then loads the partner program and
    scorecards with a year of evaluations (``accord.demo.programs``; it also gives demo
    organisations without an account manager one). ``deals`` then loads deal registrations
    and leads with their history (``accord.demo.deals``; needs the program and products).
    """
    if method == "auto":
        method = "services" if organisations <= SERVICE_LIMIT else "bulk"
    if method not in ("services", "bulk"):
        raise ValueError(f"Unknown method {method!r}.")
    summary = DemoSummary(method=method)
    Organisation.objects.vendor()
    territories = _ensure_territories(summary)
    keys = [f"{EXTERNAL_KEY_PREFIX}{index + 1:06d}" for index in range(organisations)]
    existing = {
        org.external_key: org
        for org in Organisation.objects.filter(external_key__startswith=EXTERNAL_KEY_PREFIX).only(
            "pk", "path", "name", "external_key"
        )
    }
    writer_class = _ServiceWriter if method == "services" else _BulkWriter
    writer = writer_class(summary, territories, existing)
    batch: list[OrganisationSpec] = []
    channel_specs: list[OrganisationSpec] = []
    done = 0
    for spec in plan_network(organisations, seed, today):
        if channel and spec.index < CHANNEL_LIMIT:
            channel_specs.append(spec)
        if spec.external_key in existing:
            summary.existing_organisations += 1
        else:
            batch.append(spec)
        done += 1
        if len(batch) >= BATCH_SIZE:
            writer.write(batch, keys)
            batch = []
            if progress:
                progress(done, organisations)
    if batch:
        writer.write(batch, keys)
    if progress:
        progress(done, organisations)
    if method == "bulk":
        # The bulk writer tracked ids only; the users need the featured organisations.
        featured_keys = {
            keys[spec.organisation_index]
            for spec in DEMO_USERS
            if spec.organisation_index is not None
        }
        existing.update(
            (org.external_key, org)
            for org in Organisation.objects.filter(external_key__in=featured_keys)
        )
    _ensure_users(summary, existing, territories, keys)
    if channel:
        summary.channel = load_demo_channel(channel_specs, seed, today or timezone.localdate())
    if programs:
        started = time.perf_counter()
        summary.programs = load_demo_programs(today or timezone.localdate())
        summary.programs.seconds = time.perf_counter() - started
    if deals:
        started = time.perf_counter()
        summary.deals = load_demo_deals(today or timezone.localdate(), seed)
        summary.deals.seconds = time.perf_counter() - started
    return summary
