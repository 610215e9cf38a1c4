"""The demo network's relationship governance: settings, SLAs, cadence and onboarding templates,
courses and tier requirements; for six featured relationships the four separated roles, a contact
map at the three tiers, key people, a year of meetings, issues that climbed the tiers, two-sided
health checks, a handover and onboarding plans. Everything goes through the governance services,
replayed in time order up to the start of the demo's day; loaded once (a database that already
has governed relationships is left alone)."""

# ruff: noqa: RUF001 - the Chinese minutes, issues and answers use Chinese punctuation

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.test.utils import override_settings

from accord.accounts.models import User
from accord.channel.models import Certification
from accord.core import errors
from accord.demo.network import DEFAULT_SEED, EXTERNAL_KEY_PREFIX
from accord.demo.programs import PROGRAM_CODE, QUIET_MAIL
from accord.governance import people
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    Course,
    Function,
    Handover,
    HealthSurvey,
    Issue,
    Meeting,
    OnboardingPlan,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    SeveritySla,
    Tier,
)
from accord.governance.selectors import meetings as meeting_selectors
from accord.governance.services import continuity, health, issues, meetings, structure
from accord.governance.services import settings as governance_settings
from accord.partners.models import Contact, Organisation
from accord.partners.services import create_contact
from accord.programs.models import Program

Role = RoleAssignment.Role
SD, TR, REL, COM = Role.SERVICE_DELIVERY, Role.TRANSFORMATION, Role.RELATIONSHIP, Role.COMMERCIAL
WORKING, OPERATIONAL, EXECUTIVE = Tier.WORKING, Tier.OPERATIONAL, Tier.EXECUTIVE

# --- the network-wide set-up ----------------------------------------------------------------
# (name, Chinese name, tier, frequency, partner tiers, minutes, standing agenda)
CADENCES: tuple[tuple[str, str, str, str, list[str], int, str], ...] = (
    (
        "Weekly operational call",
        "每周运营例会",
        WORKING,
        "weekly",
        ["platinum", "gold"],
        30,
        "Orders and deliveries of the week; open service cases; stock and allocations.",
    ),
    (
        "Monthly operations review",
        "月度运营回顾",
        OPERATIONAL,
        "monthly",
        [],
        60,
        "Sell-in and sell-through against plan; service levels; open issues and actions.",
    ),
    (
        "Quarterly business review",
        "季度业务回顾",
        OPERATIONAL,
        "quarterly",
        [],
        120,
        "The quarter against the business plan; the tier and its criteria; the health "
        "check; next quarter's priorities and joint marketing.",
    ),
    (
        "Annual executive review",
        "年度高层会晤",
        EXECUTIVE,
        "annual",
        [],
        120,
        "The year's results; the strategy on both sides; the agreement and its renewal; "
        "the relationship's health and what to change.",
    ),
)
# The default SLAs (hours to respond, hours to resolve at each tier).
SLAS = SeveritySla.DEFAULTS
# (name, Chinese name, kind, [(title, Chinese title, side, due days)])
ONBOARDING: tuple[tuple[str, str, str, list[tuple[str, str, str, int]]], ...] = (
    (
        "New partner",
        "新合作伙伴入驻",
        "partner",
        [
            ("Agreement signed", "签署合作协议", "partner", 7),
            ("Portal access set up", "开通门户账号", "vendor", 10),
            ("Product training completed", "完成产品培训", "partner", 30),
            ("First business plan agreed", "商定首份业务计划", "vendor", 45),
        ],
    ),
    (
        "New staff member",
        "新成员加入",
        "staff",
        [
            ("Read the agreement", "阅读合作协议", "vendor", 3),
            ("Meet the peer on the other side", "与对方对口人员会面", "vendor", 10),
            ("Learn the relationship's goals", "了解合作目标", "vendor", 14),
        ],
    ),
)
# (code, name, Chinese name, certification earned, months valid, hours); the certifications
# are the ones the channel data's certificates carry.
COURSES: tuple[tuple[str, str, str, str, int, int], ...] = (
    (
        "sales-associate",
        "Sales Associate",
        "销售助理认证课程",
        "Accord Certified Sales Associate",
        24,
        8,
    ),
    (
        "technical-specialist",
        "Technical Specialist",
        "技术专家认证课程",
        "Accord Certified Technical Specialist",
        24,
        16,
    ),
    (
        "solution-architect",
        "Solution Architect",
        "解决方案架构师认证课程",
        "Accord Certified Solution Architect",
        24,
        24,
    ),
    (
        "service-professional",
        "Service Professional",
        "服务专业人员认证课程",
        "Accord Certified Service Professional",
        24,
        12,
    ),
)
# Partner tier -> [(course code, people needed)].
REQUIREMENTS: dict[str, list[tuple[str, int]]] = {
    "silver": [("sales-associate", 1)],
    "gold": [("sales-associate", 2), ("technical-specialist", 1)],
    "platinum": [
        ("sales-associate", 2),
        ("technical-specialist", 2),
        ("service-professional", 1),
    ],
}


# --- people -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    """Someone in the stories: a demo login's contact card, or a contact without an account."""

    name: str
    job_title: str
    login: str = ""  # the demo user's e-mail, when the person has a login
    email: str = ""


VENDOR_PEOPLE: dict[str, Person] = {
    "erin": Person("Erin Executive", "Vice President, Channels", "executive@accord.demo"),
    "chris": Person("Chris Channel", "Channel Manager", "channel@accord.demo"),
    "pat": Person("Pat Account", "Partner Account Manager", "pam@accord.demo"),
    "zhou": Person("周敏 (Zhou Min)", "华东区域经理", "coordinator@accord.demo"),
    "casey": Person("Casey Commercial", "Commercial Manager", "commercial@accord.demo"),
    "dana": Person("Dana Delivery", "Service Delivery Manager", "delivery@accord.demo"),
    "toni": Person("Toni Transformation", "Transformation Lead", "transformation@accord.demo"),
    "alex": Person("Alex Admin", "Partner Operations", "admin@accord.demo"),
    "ana": Person("Ana Analyst", "Channel Analyst", "analyst@accord.demo"),
    # Without a login: the handover's predecessor (leaves), engineers in the contact map.
    "morgan": Person("Morgan Reid", "Service Engineer", email="morgan.reid@accord.demo"),
    "chen": Person("陈静 (Chen Jing)", "技术客户经理", email="chen.jing@accord.demo"),
    "lin": Person("林晓 (Lin Xiao)", "渠道销售经理", email="lin.xiao@accord.demo"),
    "priya": Person("Priya Nair", "Supplier Quality Engineer", email="priya.nair@accord.demo"),
}
# The person who leaves, the one who takes over, and when (days before the demo's day).
LEAVER, SUCCESSOR, HANDOVER_DAYS = "morgan", "dana", 40


View = tuple[int, int, int, int, int, int]


@dataclass(frozen=True)
class Story:
    """A governed relationship: the featured organisation, its people and how it stands."""

    index: int  # in accord.demo.network.FEATURED
    language: str  # of the minutes and the partner's issues: "zh" or "en"
    people: dict[str, Person]  # partner side, by key
    roles: dict[str, str]  # role -> vendor person key (a role left out is missing)
    # (tier, function, vendor person key, partner person key or "")
    slots: tuple[tuple[str, str, str, str], ...]
    # (person key, backup key or "", responsibility); "v:" keys are vendor people
    key_people: tuple[tuple[str, str, str], ...] = ()
    health_frequency: str = "annual"
    # Each side's answers around these (communication, satisfaction, trust, compatibility,
    # goal alignment, NPS 0-10); the sides differ by more than the threshold where meant to.
    vendor_view: View = (4, 4, 4, 4, 4, 8)
    partner_view: View = (4, 4, 4, 4, 4, 8)
    survey_days: int = 60  # the latest closed health check opened this many days ago
    # Earlier health checks for the trend: (days ago, vendor view, partner view).
    earlier: tuple[tuple[int, View, View], ...] = ()
    missed_qbr: bool = False  # the latest quarterly review did not happen: overdue


STORIES: tuple[Story, ...] = (
    Story(
        0,
        "zh",
        {
            "exec": Person("黄志强", "总经理", email="huang.zhiqiang@huanan-fenxiao.cn"),
            "ops": Person("李娜 (Li Na)", "运营总监", "admin@huanan.demo"),
            "sales": Person("王伟 (Wang Wei)", "销售经理", "sales@huanan.demo"),
            "service": Person("陈晓燕", "售后服务经理", email="chen.xiaoyan@huanan-fenxiao.cn"),
        },
        {SD: "dana", TR: "toni", REL: "pat", COM: "casey"},
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "chris", "ops"),
            (WORKING, Function.SALES, "pat", "sales"),
            (WORKING, Function.SERVICE, "dana", "service"),
        ),
        (("ops", "sales", "业务总负责"), ("v:pat", "v:chris", "Relationship lead")),
        health_frequency="quarterly",
        vendor_view=(4, 4, 5, 4, 4, 9),
        partner_view=(4, 4, 4, 4, 5, 9),
        survey_days=100,
        earlier=((195, (4, 3, 4, 3, 4, 8), (4, 3, 4, 3, 4, 8)),),
    ),
    Story(
        5,
        "zh",
        {
            "exec": Person("吴海", "总经理", email="wu.hai@hengtong-shangmao.cn"),
            "ops": Person("孙丽", "运营总监", email="sun.li@hengtong-shangmao.cn"),
            "sales": Person("郑凯", "销售经理", email="zheng.kai@hengtong-shangmao.cn"),
            "service": Person("何敏", "技术支持主管", email="he.min@hengtong-shangmao.cn"),
        },
        {SD: "dana", TR: "toni", REL: "zhou", COM: "casey"},
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "zhou", "ops"),
            (WORKING, Function.SALES, "lin", "sales"),
            (WORKING, Function.SERVICE, "dana", "service"),
        ),
        (("ops", "sales", "渠道合作负责人"),),
        vendor_view=(4, 4, 4, 3, 4, 8),
        partner_view=(4, 3, 4, 3, 4, 7),
    ),
    Story(
        6,
        "zh",
        {
            "exec": Person("钱伟", "总经理", email="qian.wei@yunduan-ec.cn"),
            "ops": Person("林芳", "运营经理", email="lin.fang@yunduan-ec.cn"),
            "sales": Person("许强", "平台运营主管", email="xu.qiang@yunduan-ec.cn"),
        },
        {SD: "chen", REL: "zhou", COM: "casey"},  # no transformation manager yet
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "zhou", "ops"),
            (WORKING, Function.SALES, "lin", "sales"),
            (WORKING, Function.TECHNICAL, "chen", "sales"),
        ),
        (("ops", "sales", "平台合作负责人"),),
        # The vendor thinks the goals align; the platform does not: misaligned.
        vendor_view=(4, 4, 4, 4, 4, 8),
        partner_view=(4, 3, 4, 3, 2, 6),
    ),
    Story(
        9,
        "zh",
        {
            "exec": Person("顾建华", "总经理", email="gu.jianhua@jinggong-components.cn"),
            "ops": Person("沈洁", "质量经理", email="shen.jie@jinggong-components.cn"),
            "supply": Person("陆明", "供应链主管", email="lu.ming@jinggong-components.cn"),
        },
        {SD: "priya", TR: "toni", REL: "chris"},  # no commercial manager yet
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "chris", "ops"),
            (WORKING, Function.SUPPLY, "priya", "supply"),
        ),
        (("ops", "supply", "质量与交付"),),
        vendor_view=(4, 3, 4, 4, 4, 7),
        partner_view=(4, 4, 4, 4, 4, 8),
    ),
    Story(
        10,
        "en",
        {
            "exec": Person(
                "Daniel Price", "Chief Executive Officer", email="daniel.price@northwind-retail.com"
            ),
            "ops": Person(
                "Rachel Kim", "Director of Operations", email="rachel.kim@northwind-retail.com"
            ),
            "sales": Person("Grace Walker", "Purchasing Lead", "viewer@northwind.demo"),
            "service": Person(
                "Tom Alvarez", "Store Systems Lead", email="tom.alvarez@northwind-retail.com"
            ),
        },
        {SD: LEAVER, TR: "toni", REL: "pat", COM: "casey"},
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "chris", "ops"),
            (WORKING, Function.SALES, "pat", "sales"),
            (WORKING, Function.SERVICE, LEAVER, "service"),
        ),
        # The successor was the leaver's backup: after the handover nobody backs them up.
        (("ops", "sales", "Partnership owner"), (f"v:{LEAVER}", f"v:{SUCCESSOR}", "Service")),
        vendor_view=(4, 4, 4, 4, 4, 8),
        partner_view=(3, 4, 4, 4, 4, 7),
        missed_qbr=True,
    ),
    Story(
        11,
        "en",
        {
            "exec": Person(
                "Katrin Vogel", "Managing Director", email="k.vogel@atlas-distribution.de"
            ),
            "ops": Person(
                "Stefan Braun", "Head of Operations", email="s.braun@atlas-distribution.de"
            ),
            "sales": Person("Jonas Becker", "Sales Manager", "sales@atlas.demo"),
            "service": Person("Miriam Hahn", "Service Lead", email="m.hahn@atlas-distribution.de"),
        },
        {SD: LEAVER, TR: "toni", REL: "chris", COM: "casey"},
        (
            (EXECUTIVE, Function.GENERAL, "erin", "exec"),
            (OPERATIONAL, Function.GENERAL, "chris", "ops"),
            (WORKING, Function.SALES, "pat", "sales"),
            (WORKING, Function.SERVICE, LEAVER, "service"),
        ),
        (("ops", "service", "Partnership owner"), ("v:chris", "v:pat", "Relationship lead")),
        # The vendor rates communication and trust well; the distributor does not.
        vendor_view=(4, 4, 4, 4, 4, 8),
        partner_view=(2, 3, 2, 3, 4, 5),
        # A year earlier both sides were content: the distributor has grown unhappy since.
        earlier=((430, (4, 4, 4, 4, 4, 8), (3, 4, 3, 4, 4, 8)),),
    ),
)
# The onboarding partner: a new-partner plan in progress, roles, a vendor-only contact map.
ONBOARDING_INDEX = 3
# When the structure was set up and the cadences started (days before the demo's day).
CADENCE_START_DAYS = 111
CADENCE_MONTHS = 7
# Meetings are recorded a day or more after they were held; newer ones wait for minutes.
RECORDED_AFTER_DAYS = 2


# --- what the meetings said -----------------------------------------------------------------
# Minutes and decisions by cadence frequency and language; the loader cycles through them.
MINUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("weekly", "en"): (
        "Orders and deliveries of the week on plan; two back orders on docking stations, "
        "due next Tuesday. No new service cases.",
        "Notebook stock at six weeks; the monitor promotion's allocation agreed. One RMA open.",
        "A late truck from the regional DC; the carrier promised a second run on Thursday.",
        "Quiet week: all orders shipped, no escalations, the demo pool is back from the fair.",
    ),
    ("weekly", "zh"): (
        "本周订单与交付按计划进行；两张扩展坞缺货订单预计下周二到货。无新增售后工单。",
        "笔记本库存约六周；显示器促销配额已确认。一张退货单待处理。",
        "区域仓一车货物延误，物流商承诺周四加派车辆。",
        "本周平稳：订单全部发出，无升级问题，展会样机已归还。",
    ),
    ("monthly", "en"): (
        "Sell-in at 96 % of plan, sell-through at 102 %; service levels green except the "
        "returns backlog. Reviewed the open issues and action items.",
        "Revenue behind plan in the south region; stock healthy at seven weeks. The returns "
        "process change went live; first results are good.",
        "Month on plan. Fill rate 97 %, on-time delivery 94 %. Two action items overdue, "
        "owners confirmed new dates.",
    ),
    ("monthly", "zh"): (
        "进货完成计划的 96%，出货完成 102%；除退货积压外服务指标正常。逐项检查了未结问题和行动项。",
        "华南区域营收落后于计划；库存健康，约七周。退货流程调整已上线，初步效果良好。",
        "本月达成计划。订单满足率 97%，准时交付率 94%。两项行动项逾期，负责人已确认新的完成日期。",
    ),
    ("quarterly", "en"): (
        "Quarter closed at 104 % of the business plan. Tier criteria reviewed: certified "
        "staff is the gap to the next tier. Agreed next quarter's priorities and the joint "
        "marketing calendar.",
        "Quarter at 91 % of plan: the retail channel slowed. Health check results discussed; "
        "both sides want a clearer escalation path. Priorities for next quarter agreed.",
    ),
    ("quarterly", "zh"): (
        "本季度完成业务计划的 104%。检查了等级标准：认证人员数量是升级的差距。"
        "确定了下季度重点和联合市场活动日程。",
        "本季度完成计划的 91%，零售渠道放缓。讨论了健康度调查结果，双方希望升级路径更清晰。"
        "确定了下季度重点。",
    ),
    ("annual", "en"): (
        "The year in review: revenue up 18 %, two new product lines launched together. The "
        "agreement renews next spring; both executives confirmed the partnership's direction.",
    ),
    ("annual", "zh"): (
        "年度回顾：营收增长 18%，双方共同推出两条新产品线。"
        "协议将于明年春季续签，双方高层确认了合作方向。",
    ),
}
DECISIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "Keep the allocation for the promotion; review it again in four weeks.",
        "Move the returns review to the monthly meeting.",
        "Start the joint campaign for the back-to-school season.",
        "Open a second service desk line for the partner's stores.",
    ),
    "zh": (
        "保持促销配额不变，四周后复核。",
        "退货情况改在月度会议上检查。",
        "启动开学季联合推广活动。",
        "为合作伙伴门店增开一条服务热线。",
    ),
}
# Action items agreed in meetings: (title, the owner's side).
ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Send the updated sell-through forecast", "partner"),
        ("Confirm next month's allocation", "vendor"),
        ("Share the returns analysis by product", "vendor"),
        ("Nominate two sales staff for certification", "partner"),
        ("Draft the joint marketing plan", "partner"),
        ("Propose new stock targets per store", "vendor"),
    ),
    "zh": (
        ("提交更新后的出货预测", "partner"),
        ("确认下月配额", "vendor"),
        ("按产品提供退货分析", "vendor"),
        ("推荐两名销售人员参加认证", "partner"),
        ("起草联合市场推广计划", "partner"),
        ("提出各门店新的库存目标", "vendor"),
    ),
}
# The share of meeting action items nobody completes: overdue once their due date passed.
ACTION_LEFT_OPEN = 0.08
CANCEL_REASON = "Public holiday on the partner's side; the next call covers both weeks."


# --- issues -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IssueStory:
    """An issue of a story's relationship: who raised what when, and what happened to it.

    Times are days before the demo's day; actors are "v:<vendor person>", "p:<partner
    person>" or "" (the system). Steps: ("respond" | "comment", days, actor, note),
    ("attach", days, actor, file name, content), ("resolve", days, actor, root cause,
    resolution, ((title, owner, due in days from the demo's day, done days ago or None),
    ...)), ("reopen", days, actor, reason)."""

    index: int
    severity: str
    category: str
    raised_by: str
    raised: float
    title: str
    description: str
    steps: tuple[tuple[Any, ...], ...] = ()


H = 1 / 24  # an hour, in days
ISSUES: tuple[IssueStory, ...] = (
    # Critical, unanswered for days: working -> operational -> executive, still open.
    IssueStory(
        0,
        "critical",
        "delivery",
        "p:sales",
        60 * H,
        "广州仓三张订单超过承诺交期",
        "项目订单 SO-58213、SO-58217、SO-58230 已超过承诺交期两天，终端客户要求赔偿。",
        (
            ("respond", 58 * H, "v:dana", "已联系物流商加急，预计明早给出新的交期。"),
            (
                "attach",
                57 * H,
                "p:sales",
                "延迟订单清单.csv",
                "订单号,承诺交期,数量\nSO-58213,2 天前,40\nSO-58217,2 天前,25\n"
                "SO-58230,1 天前,60\n",
            ),
            ("comment", 30 * H, "p:sales", "客户今天再次催促，请尽快确认新的交期。"),
        ),
    ),
    # High, past its resolution SLA once: at the operational level now.
    IssueStory(
        11,
        "high",
        "quality",
        "p:sales",
        100 * H,
        "Dead-on-arrival rate of 6 % on USB-C docking stations",
        "Since the last shipment, 14 of 230 docking stations were dead on arrival; the "
        "serial numbers are attached.",
        (
            (
                "attach",
                99 * H,
                "p:sales",
                "doa-serials.csv",
                "serial,store,reported\nDS7-0041,Munich,yes\nDS7-0057,Munich,yes\n"
                "DS7-0102,Augsburg,yes\n",
            ),
            (
                "respond",
                96 * H,
                "v:dana",
                "Replacement units shipped; engineering is analysing the returned units.",
            ),
        ),
    ),
    # Medium, raised by the vendor, no answer within its response SLA.
    IssueStory(
        10,
        "medium",
        "communication",
        "v:pat",
        40 * H,
        "Monthly sell-through report arrives late",
        "The sell-through file for the last two months arrived after the 10th; the rebate "
        "run waits for it.",
    ),
    IssueStory(
        5,
        "low",
        "commercial",
        "v:zhou",
        20 * H,
        "下季度价格表尚未确认",
        "新价格表已于上周发出，合作伙伴尚未确认，影响下季度报价。",
    ),
    IssueStory(
        6,
        "critical",
        "support",
        "v:zhou",
        3 * H,
        "店铺接口所有商品库存显示为 0",
        "自今晨起，平台接口返回的全部 SKU 库存均为 0，前台无法下单。",
    ),
    IssueStory(
        9,
        "high",
        "quality",
        "v:chris",
        30 * H,
        "来料批次尺寸偏差：连接器外壳超差 0.2 mm",
        "批次 L-2611 的连接器外壳尺寸超出公差 0.2 mm，装配线已停用该批次。",
        (("respond", 26 * H, "", "供应商已隔离该批次并安排全检，明日反馈结果。"),),
    ),
    IssueStory(
        0,
        "medium",
        "support",
        "p:ops",
        3,
        "RMA 批次审批等待时间过长",
        "上月提交的 12 张 RMA 仍在等待审批，平均等待 9 天。",
        (("respond", 2.6, "v:dana", "已安排专人处理积压的 RMA，本周内完成审批。"),),
    ),
    IssueStory(
        11,
        "low",
        "communication",
        "p:sales",
        4,
        "German price list missing from the portal",
        "The portal only shows the English price list; our sales team needs the German one.",
        (
            (
                "respond",
                3.8,
                "v:pat",
                "The translation is with the agency; we will upload it next week.",
            ),
        ),
    ),
    # Resolved within the day, with its root cause and two corrective actions, both done.
    IssueStory(
        10,
        "critical",
        "support",
        "v:pat",
        38,
        "Store tills lost the overnight price updates",
        "The price updates of the night did not reach 23 stores; shelves and tills disagree.",
        (
            (
                "respond",
                38 - 1 * H,
                "v:dana",
                "Feed restarted, prices re-sent; checking each store.",
            ),
            (
                "resolve",
                37.5,
                "v:dana",
                "The price feed's certificate expired and the job failed without an alert.",
                "Certificate renewed, prices re-sent, all 23 stores confirmed.",
                (
                    ("Monitor the price feed and alert on failure", "v:dana", -30, 31),
                    ("Retrain store staff on manual price overrides", "p:service", -25, 27),
                ),
            ),
        ),
    ),
    # Escalated once before it was resolved; one corrective action is overdue.
    IssueStory(
        0,
        "high",
        "delivery",
        "p:sales",
        30,
        "双十一备货第二批延迟到仓",
        "双十一备货的第二批货物比计划晚到 5 天，影响促销。",
        (
            ("respond", 29.8, "v:dana", "物流商运力不足，正在从华东仓调拨库存。"),
            (
                "resolve",
                26,
                "v:pat",
                "旺季承运商运力不足，未提前锁定备用运力。",
                "已从华东仓调拨库存，剩余货物已全部到仓。",
                (
                    ("Book backup carrier capacity before the peak season", "v:dana", 20, None),
                    ("提前两周提交旺季备货预测", "p:sales", -10, None),
                ),
            ),
        ),
    ),
    IssueStory(
        5,
        "medium",
        "delivery",
        "v:zhou",
        15,
        "上海仓发货单据与实物不符",
        "本月有 6 张发货单的型号与实物不一致。",
        (
            ("respond", 14.5, "v:dana", "正在核对拣货记录。"),
            (
                "resolve",
                12,
                "v:dana",
                "拣货扫描枪固件版本过旧，条码识别错误。",
                "固件已升级，差异订单已补发。",
                (),
            ),
        ),
    ),
    IssueStory(
        9,
        "low",
        "compliance",
        "v:chris",
        25,
        "材料合规声明 (RoHS) 未更新",
        "供应商档案中的 RoHS 声明已过期。",
        (
            ("respond", 24, "", "已提交最新版 RoHS 声明。"),
            (
                "resolve",
                20,
                "v:chris",
                "供应商文件更新流程未覆盖年度声明。",
                "已收到并归档最新版声明；年度提醒已加入供应商日历。",
                (),
            ),
        ),
    ),
    # Resolved, then reopened: the same error came back.
    IssueStory(
        11,
        "medium",
        "support",
        "p:sales",
        20,
        "Warranty claims rejected without a reason",
        "Eight warranty claims were rejected this month; the e-mails give no reason.",
        (
            ("respond", 19.8, "v:dana", "Looking into the rejected claims."),
            (
                "resolve",
                16,
                "v:dana",
                "The claim portal's rejection template lost its reason field in an update.",
                "Template fixed; the eight claims were sent again with their reasons.",
                (),
            ),
            ("reopen", 5, "v:chris", "Two new rejections without a reason since the fix."),
            ("comment", 4.5, "p:sales", "Two more today: claims WC-20931 and WC-20944."),
        ),
    ),
    # Owned by the person who left: the handover moved it to the successor, who resolved it.
    IssueStory(
        11,
        "medium",
        "support",
        "p:sales",
        45,
        "Loan units for the trade fair not confirmed",
        "We asked for twelve loan notebooks for the trade fair; nobody confirmed them.",
        (
            ("respond", 44.8, "v:pat", "Morgan is checking the loan pool."),
            (
                "resolve",
                39,
                "v:dana",
                "The loan pool was booked for another event and the request was not registered.",
                "Twelve units sent from the Munich pool; loan requests now go through the portal.",
                (),
            ),
        ),
    ),
    IssueStory(
        10,
        "high",
        "commercial",
        "v:pat",
        5 * H,
        "Opening order for the new Seattle store not confirmed",
        "The opening order was sent a week ago; the store opens in three weeks.",
    ),
)
# (story index, partner person key, certification, earned days before the demo's day): a
# certificate is valid two years, so 700 days ago expires within a month.
CERTIFICATES: tuple[tuple[int, str, str, int], ...] = (
    (0, "sales", "Accord Certified Sales Associate", 700),
    (0, "service", "Accord Certified Service Professional", 200),
    (0, "ops", "Accord Certified Technical Specialist", 420),
    (5, "sales", "Accord Certified Sales Associate", 300),
    (10, "sales", "Accord Certified Sales Associate", 715),
    (11, "service", "Accord Certified Technical Specialist", 690),
    (11, "sales", "Accord Certified Sales Associate", 100),
)
CERT_KEY_PREFIX = "demo-governance:cert:"
SURVEY_COMMENTS = {
    "en": ("Good people, slow answers.", "The weekly call helps a lot.", ""),
    "zh": ("对接顺畅，响应及时。", "希望升级路径更清晰。", ""),
}


# --- the summary --------------------------------------------------------------------------
@dataclass
class GovernanceSummary:
    """What one run added (nothing on a re-run) and how the demo's governance stands."""

    templates: int = 0  # cadence and onboarding templates, courses, SLAs
    relationships: int = 0
    background: int = 0  # other relationships given the four roles in bulk
    roles_missing: list[str] = field(default_factory=list)  # organisation names
    meetings: dict[str, int] = field(default_factory=dict)  # status -> count
    overdue_meetings: int = 0
    action_items: dict[str, int] = field(default_factory=dict)
    overdue_actions: int = 0
    issues: dict[str, int] = field(default_factory=dict)  # status -> count
    open_by_tier: dict[str, int] = field(default_factory=dict)
    escalations: int = 0
    surveys: dict[str, int] = field(default_factory=dict)  # status -> count
    scores: dict[str, str] = field(default_factory=dict)  # organisation -> latest score
    misaligned: list[str] = field(default_factory=list)
    handovers: int = 0
    onboarding_plans: int = 0
    certifications: int = 0
    expiring: int = 0
    survey_link: str = ""  # an unanswered link of the open health check
    survey_respondent: str = ""
    survey_expires: dt.datetime | None = None
    # Planned steps the services refused, each with why (none in the default demo).
    refusals: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self) -> int:
        return (
            self.templates
            + self.relationships
            + sum(self.meetings.values())
            + sum(self.issues.values())
            + sum(self.surveys.values())
        )


def describe(summary: GovernanceSummary, base_url: str = "") -> str:
    """Lines for ``accord demo``'s summary: one line, then the survey link to try."""
    parts = [f"{summary.relationships} governed relationships"]
    if summary.roles_missing:
        parts[0] += f" ({len(summary.roles_missing)} with a role missing)"
    if summary.background:
        parts[0] += f", the four roles for {summary.background} more"
    if summary.meetings:
        statuses = ", ".join(f"{n} {status}" for status, n in summary.meetings.items())
        parts.append(
            f"{sum(summary.meetings.values())} meetings ({statuses}; "
            f"{summary.overdue_meetings} overdue)"
        )
    if summary.action_items:
        parts.append(
            f"{sum(summary.action_items.values())} action items ({summary.overdue_actions} overdue)"
        )
    if summary.issues:
        statuses = ", ".join(f"{n} {status}" for status, n in summary.issues.items())
        tiers = ", ".join(f"{n} {tier}" for tier, n in summary.open_by_tier.items())
        parts.append(
            f"{sum(summary.issues.values())} issues ({statuses}; open by tier: {tiers}; "
            f"{summary.escalations} escalations)"
        )
    if summary.surveys:
        scores = ", ".join(f"{name} {score}" for name, score in summary.scores.items())
        parts.append(
            f"{sum(summary.surveys.values())} health checks ({summary.surveys.get('open', 0)} "
            f"open; scores {scores}; {len(summary.misaligned)} misaligned)"
        )
    if summary.handovers:
        parts.append(f"{summary.handovers} handover")
    if summary.onboarding_plans:
        parts.append(f"{summary.onboarding_plans} onboarding plans")
    if summary.certifications:
        parts.append(f"{summary.certifications} certifications ({summary.expiring} expiring soon)")
    text = f"Governance in {summary.seconds:.1f} s: " + "; ".join(parts) + "."
    if summary.survey_link:
        expires = f"{summary.survey_expires:%Y-%m-%d}" if summary.survey_expires else ""
        text += (
            f"\nTry the health-check survey as {summary.survey_respondent} (no login, works "
            f"once, until {expires}): {base_url}{summary.survey_link}"
        )
    return text


# --- the replay ---------------------------------------------------------------------------
class _Replay:
    """Runs steps in time order (a step may schedule later ones); a step the services refuse
    is counted with its story and ends it."""

    REFUSALS = (
        errors.ValidationError,
        errors.Conflict,
        errors.InvalidTransition,
        errors.PermissionDenied,
    )

    def __init__(self, summary: GovernanceSummary) -> None:
        self.summary = summary
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.ended: set[str] = set()
        self.order = itertools.count()

    def at(self, when: dt.datetime, action: Callable[[], Any], story: str) -> None:
        def run() -> None:
            if story in self.ended:
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


class _Loader:
    """Loads the governance of the demo network, relative to ``anchor`` (the demo's day)."""

    def __init__(self, today: dt.date, seed: int, summary: GovernanceSummary) -> None:
        self.today = today
        self.anchor = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
        self.rng = random.Random(f"accord-demo-governance:{seed}")
        self.summary = summary
        self.replay = _Replay(summary)
        self.users = {
            user.email: user
            for user in User.objects.filter(
                email__in=[p.login for p in VENDOR_PEOPLE.values() if p.login]
                + [p.login for s in STORIES for p in s.people.values() if p.login]
            ).select_related("organisation")
        }
        self.vendor = Organisation.objects.vendor()
        self.vendor_people: dict[str, Contact] = {}
        self.partner_people: dict[tuple[int, str], Contact] = {}
        self.organisations: dict[int, Organisation] = {}
        self._ticks: set[dt.datetime] = set()

    def ago(self, days: float = 0, hours: float = 0) -> dt.datetime:
        return self.anchor - dt.timedelta(days=days, hours=hours)

    def user(self, login: str) -> User | None:
        return self.users.get(login)

    # -- people ---------------------------------------------------------------------------
    def _contact(self, organisation: Organisation, spec: Person) -> Contact:
        """The person's card: made with its job title, linked to the login if any."""
        login = self.user(spec.login) if spec.login else None
        found = Contact.objects.filter(organisation=organisation, full_name=spec.name).first()
        if found is None and login is not None:
            found = Contact.objects.filter(organisation=organisation, user=login).first()
        if found is None:
            found = create_contact(
                actor=None,
                organisation=organisation,
                data={
                    "full_name": spec.name,
                    "job_title": spec.job_title,
                    "email": login.email if login is not None else spec.email,
                },
            )
        if login is not None:
            linked = people.contact_for_user(login)
            if linked is not None:
                found = linked
        return found

    def setup_people(self) -> None:
        for key, spec in VENDOR_PEOPLE.items():
            self.vendor_people[key] = self._contact(self.vendor, spec)
        for story in STORIES:
            organisation = self.organisations[story.index]
            for key, spec in story.people.items():
                self.partner_people[(story.index, key)] = self._contact(organisation, spec)

    def person(self, story: Story, key: str) -> Contact | None:
        if not key:
            return None
        if key.startswith("v:"):
            return self.vendor_people[key[2:]]
        return self.partner_people[(story.index, key)]

    def actor(self, key: str) -> User | None:
        """The login of a vendor person (None, the system, for people without one)."""
        return self.user(VENDOR_PEOPLE[key].login) if VENDOR_PEOPLE[key].login else None

    # -- the network-wide set-up ----------------------------------------------------------
    def setup_templates(self) -> None:
        program = Program.objects.filter(code=PROGRAM_CODE).first()
        governance_settings.update_settings(
            actor=None, data={"tier_program": program} if program else {}
        )
        issues.set_severity_slas(
            actor=None,
            rows=[
                {"severity": severity, "response_hours": response, "resolution_hours": resolve}
                for severity, (response, resolve) in SLAS.items()
            ],
        )
        self.summary.templates += len(SLAS)
        existing = set(CadenceTemplate.objects.values_list("name", flat=True))
        for name, name_zh, tier, frequency, tiers, minutes, agenda in CADENCES:
            if name in existing:
                continue
            meetings.create_cadence_template(
                actor=None,
                data={
                    "name": name,
                    "name_zh": name_zh,
                    "tier": tier,
                    "frequency": frequency,
                    "partner_tiers": tiers,
                    "duration_minutes": minutes,
                    "agenda": agenda,
                },
            )
            self.summary.templates += 1
        existing = set(OnboardingTemplate.objects.values_list("name", flat=True))
        for name, name_zh, kind, tasks in ONBOARDING:
            if name in existing:
                continue
            continuity.create_onboarding_template(
                actor=None,
                data={
                    "name": name,
                    "name_zh": name_zh,
                    "kind": kind,
                    "tasks": [
                        {"title": title, "title_zh": title_zh, "side": side, "due_days": days}
                        for title, title_zh, side, days in tasks
                    ],
                },
            )
            self.summary.templates += 1
        existing = set(Course.objects.values_list("code", flat=True))
        for code, name, name_zh, certification, months, hours in COURSES:
            if code in existing:
                continue
            continuity.create_course(
                actor=None,
                data={
                    "code": code,
                    "name": name,
                    "name_zh": name_zh,
                    "certification": certification,
                    "validity_months": months,
                    "hours": hours,
                },
            )
            self.summary.templates += 1
        courses = {course.code: course for course in Course.objects.all()}
        for tier_code, needs in REQUIREMENTS.items():
            continuity.set_requirements(
                actor=None,
                tier_code=tier_code,
                requirements=[
                    {"course": courses[code], "minimum": minimum}
                    for code, minimum in needs
                    if code in courses
                ],
            )

    def background_roles(self) -> None:
        """Every other organisation's relationship gets the four roles in one bulk insert
        (no audit history, like the channel facts): the vendor's team covers the whole
        network, so the filters and the coverage report show the stories' gaps alone. The
        relationship manager is the organisation's account manager."""
        cards = {
            contact.user_id: contact
            for contact in self.vendor_people.values()
            if contact.user_id is not None
        }
        pat = self.vendor_people["pat"]
        fixed = {SD: self.vendor_people["dana"], TR: self.vendor_people["toni"]}
        fixed[COM] = self.vendor_people["casey"]
        assigned_on = self.today - dt.timedelta(days=CADENCE_START_DAYS + 20)
        rows = []
        for pk, manager in (
            Organisation.objects.partners()
            .exclude(pk__in=[org.pk for org in self.organisations.values()])
            .filter(governance_roles__isnull=True)
            .values_list("pk", "account_manager")
            .order_by("pk")
        ):
            holders = {**fixed, REL: cards.get(manager, pat)}
            rows.extend(
                RoleAssignment(
                    organisation_id=pk, role=role, holder=holder, assigned_on=assigned_on
                )
                for role, holder in holders.items()
            )
        RoleAssignment.objects.bulk_create(rows, batch_size=1000)
        self.summary.background = len(rows) // 4

    # -- structure ------------------------------------------------------------------------
    def setup_structure(self, story: Story) -> None:
        organisation = self.organisations[story.index]
        relationship = structure.ensure_relationship(actor=None, organisation=organisation)
        started = self.today - dt.timedelta(days=365 * 3 + 40 * story.index)
        structure.update_relationship(
            actor=None,
            relationship=relationship,
            data={"health_frequency": story.health_frequency, "started_on": started},
        )
        structure.set_roles(
            actor=None,
            organisation=organisation,
            holders={role: self.vendor_people[key] for role, key in story.roles.items()},
            now=self.ago(CADENCE_START_DAYS + 20),
        )
        for tier, function, vendor_key, partner_key in story.slots:
            structure.set_slot(
                actor=None,
                organisation=organisation,
                tier=tier,
                function=function,
                vendor_contact=self.vendor_people[vendor_key],
                partner_contact=self.person(story, partner_key),
            )
        for person_key, backup_key, responsibility in story.key_people:
            structure.add_key_person(
                actor=None,
                organisation=organisation,
                person=self.person(story, person_key),
                backup=self.person(story, backup_key),
                responsibility=responsibility,
            )
        self.summary.relationships += 1

    def setup_onboarding_partner(self) -> None:
        organisation = self.organisations[ONBOARDING_INDEX]
        structure.ensure_relationship(actor=None, organisation=organisation)
        structure.set_roles(
            actor=None,
            organisation=organisation,
            holders={
                SD: self.vendor_people["dana"],
                TR: self.vendor_people["toni"],
                REL: self.vendor_people["pat"],
                COM: self.vendor_people["casey"],
            },
        )
        # The partner has not named its people yet: a vendor-only contact map.
        structure.set_slot(
            actor=None,
            organisation=organisation,
            tier=WORKING,
            function=Function.SALES,
            vendor_contact=self.vendor_people["pat"],
        )
        self.summary.relationships += 1
        template = OnboardingTemplate.objects.filter(kind="partner", active=True).first()
        if template is None:
            return
        start = self.today - dt.timedelta(days=20)
        plan = continuity.start_onboarding(
            actor=self.actor("pat"),
            organisation=organisation,
            template=template,
            start=start,
            now=self.ago(20),
        )
        tasks = list(plan.tasks.order_by("position", "pk"))
        # The agreement is signed and the portal open; training and the plan are ahead.
        for task, days in zip(tasks[:2], (15, 12), strict=False):
            self.replay.at(
                self.ago(days),
                lambda task=task, days=days: continuity.complete_task(
                    actor=None, task=task, now=self.ago(days)
                ),
                "onboarding",
            )

    # -- meetings -------------------------------------------------------------------------
    def plan_meetings(self, story: Story) -> None:
        organisation = self.organisations[story.index]
        planner = self.actor(story.roles.get(REL, "pat"))
        start = self.today - dt.timedelta(days=CADENCE_START_DAYS)
        when = self.ago(CADENCE_START_DAYS + 14)

        def plan() -> None:
            planned = meetings.apply_cadences(
                actor=planner,
                organisation=organisation,
                start=start,
                months=CADENCE_MONTHS,
                now=when,
            )
            self._schedule_records(story, planned)

        self.replay.at(when, plan, f"meetings {story.index}")

    def _schedule_records(self, story: Story, planned: list[Meeting]) -> None:
        """Minutes for every meeting held, a day after it; the latest quarterly review of a
        story that missed it stays planned (overdue), one weekly call is cancelled."""
        cutoff = self.anchor - dt.timedelta(days=RECORDED_AFTER_DAYS)
        past = [m for m in planned if m.starts_at < cutoff]
        frequency = {m.pk: m.cadence.frequency for m in past if m.cadence is not None}
        quarterly = [m for m in past if frequency.get(m.pk) == "quarterly"]
        weekly = [m for m in past if frequency.get(m.pk) == "weekly"]
        missed = quarterly[-1] if story.missed_qbr and quarterly else None
        cancelled = weekly[len(weekly) // 2] if story.index == STORIES[0].index and weekly else None
        for number, meeting in enumerate(past):
            if meeting is missed:
                continue
            story_name = f"meeting {meeting.pk}"
            if meeting is cancelled:
                self.replay.at(
                    meeting.starts_at - dt.timedelta(days=3),
                    lambda meeting=meeting: meetings.cancel_meeting(
                        actor=self.actor(story.roles.get(REL, "pat")),
                        meeting=meeting,
                        reason=CANCEL_REASON,
                    ),
                    story_name,
                )
                continue
            recorded = meeting.starts_at + dt.timedelta(days=1, hours=-2)
            self.replay.at(
                recorded,
                lambda meeting=meeting, number=number, recorded=recorded: self._record(
                    story, meeting, frequency.get(meeting.pk, "monthly"), number, recorded
                ),
                story_name,
            )

    def _record(
        self, story: Story, meeting: Meeting, frequency: str, number: int, now: dt.datetime
    ) -> None:
        language = story.language
        pool = MINUTES[(frequency, language)]
        decisions = "" if frequency == "weekly" else DECISIONS[language][number % 4]
        # The partner's own login records some weekly calls; the vendor the rest.
        partner_login = story.people.get("sales", Person("", "")).login
        actor = (
            self.user(partner_login)
            if frequency == "weekly" and partner_login and number % 3 == 1
            else self.actor(story.roles.get(REL, "pat"))
        )
        meetings.record_meeting(
            actor=actor,
            meeting=meeting,
            minutes=pool[number % len(pool)],
            decisions=decisions,
            now=now,
        )
        if frequency == "weekly":
            return
        organisation = self.organisations[story.index]
        actions = ACTIONS[language]
        count = 1 if frequency == "monthly" else 2
        for offset in range(count):
            title, side = actions[(number + offset) % len(actions)]
            owner = (
                self.partner_people[(story.index, "ops")]
                if side == "partner"
                else self._vendor_worker(organisation)
            )
            due = meeting.starts_at.date() + dt.timedelta(days=14 if count == 1 else 30)
            item = meetings.add_action_item(
                actor=self.actor(story.roles.get(REL, "pat")),
                organisation=organisation,
                title=title,
                owner=owner,
                due_on=due,
                meeting=meeting,
                now=meeting.held_at or meeting.starts_at,
            )
            left_open = self.rng.random() < ACTION_LEFT_OPEN
            if left_open or due >= self.today:
                continue
            done = dt.datetime.combine(due, dt.time(15), tzinfo=dt.UTC) - dt.timedelta(days=2)
            self.replay.at(
                max(done, now + dt.timedelta(hours=1)),
                lambda item=item, done=done, now=now: meetings.complete_action_item(
                    actor=None, item=item, now=max(done, now + dt.timedelta(hours=1))
                ),
                f"action {item.pk}",
            )

    def _vendor_worker(self, organisation: Organisation) -> Contact:
        """Who does the vendor's share of the work: the service-delivery role holder (whoever
        holds it at the time), else the relationship manager."""
        for role in (SD, REL):
            found = (
                RoleAssignment.objects.filter(organisation=organisation, role=role)
                .select_related("holder")
                .first()
            )
            if found is not None:
                return found.holder
        return self.vendor_people["pat"]

    # -- issues ---------------------------------------------------------------------------
    def _issue_actor(self, story: Story, key: str) -> User | None:
        if not key:
            return None
        side, name = key.split(":")
        if side == "v":
            return self.actor(name)
        return self.user(story.people[name].login) if story.people[name].login else None

    def _issue_person(self, story: Story, key: str) -> Contact:
        side, name = key.split(":")
        return self.vendor_people[name] if side == "v" else self.partner_people[(story.index, name)]

    def plan_issues(self) -> None:
        stories = {story.index: story for story in STORIES}
        for number, spec in enumerate(ISSUES, 1):
            story = stories[spec.index]
            name = f"issue {number}"
            held: dict[str, Issue] = {}

            def raise_it(spec: IssueStory = spec, story: Story = story, held: dict = held) -> None:
                held["issue"] = issues.raise_issue(
                    actor=self._issue_actor(story, spec.raised_by),
                    organisation=self.organisations[spec.index],
                    title=spec.title,
                    category=spec.category,
                    severity=spec.severity,
                    description=spec.description,
                    now=self.ago(spec.raised),
                )
                self._schedule_timers(held["issue"])

            self.replay.at(self.ago(spec.raised), raise_it, name)
            for step in spec.steps:
                self.replay.at(
                    self.ago(step[1]),
                    lambda step=step, story=story, held=held: self._issue_step(
                        story, held["issue"], step
                    ),
                    name,
                )

    def _issue_step(self, story: Story, issue: Issue, step: tuple[Any, ...]) -> None:
        verb, days, actor_key = step[:3]
        now = self.ago(days)
        actor = self._issue_actor(story, actor_key)
        issue.refresh_from_db()
        if verb == "respond":
            issues.respond(actor=actor, issue=issue, note=step[3], now=now)
        elif verb == "comment":
            issues.comment(actor=actor, issue=issue, note=step[3], now=now)
        elif verb == "attach":
            issues.add_attachment(
                actor=actor,
                issue=issue,
                name=step[3],
                content=step[4].encode(),
                content_type="text/csv",
                now=now,
            )
        elif verb == "resolve":
            _verb, _days, _actor, root_cause, resolution, actions = step
            issues.resolve(
                actor=actor,
                issue=issue,
                root_cause=root_cause,
                resolution=resolution,
                corrective_actions=[
                    {
                        "title": title,
                        "owner": self._issue_person(story, owner),
                        "due_on": self.today - dt.timedelta(days=-due),
                    }
                    for title, owner, due, _done in actions
                ],
                now=now,
            )
            items = list(issue.corrective_actions.order_by("pk"))
            for item, (_title, _owner, _due, done) in zip(items, actions, strict=True):
                if done is not None:
                    self.replay.at(
                        self.ago(done),
                        lambda item=item, done=done: meetings.complete_action_item(
                            actor=None, item=item, now=self.ago(done)
                        ),
                        f"action {item.pk}",
                    )
        elif verb == "reopen":
            issues.reopen(actor=actor, issue=issue, reason=step[3], now=now)
        issue.refresh_from_db()
        self._schedule_timers(issue)

    def _schedule_timers(self, issue: Issue) -> None:
        """The worker's sweep at each deadline of ``issue`` before the demo's day."""
        if issue.status not in Issue.OPEN_STATUSES:
            return
        deadlines = [issue.resolve_by]
        if issue.responded_at is None:
            deadlines.append(issue.respond_by)
        for deadline in deadlines:
            if deadline is None or deadline >= self.anchor or deadline in self._ticks:
                continue
            self._ticks.add(deadline)
            self.replay.at(deadline, lambda deadline=deadline: self._tick(deadline), "timers")

    def _tick(self, now: dt.datetime) -> None:
        issues.run_issue_timers(now=now)
        for issue in Issue.objects.filter(status__in=Issue.OPEN_STATUSES):
            self._schedule_timers(issue)

    # -- health checks --------------------------------------------------------------------
    def plan_health(self, story: Story) -> None:
        for days, vendor_view, partner_view in (
            *story.earlier,
            (story.survey_days, story.vendor_view, story.partner_view),
        ):
            self.replay.at(
                self.ago(days),
                lambda days=days, views=(vendor_view, partner_view): self._survey(
                    story, self.ago(days), views, close=True
                ),
                f"health {story.index}",
            )
        if story.health_frequency == Relationship.HealthFrequency.QUARTERLY:
            # The current quarter's check is open: its link is printed for the demo.
            self.replay.at(
                self.ago(5),
                lambda: self._survey(
                    story, self.ago(5), (story.vendor_view, story.partner_view), close=False
                ),
                f"health {story.index}",
            )

    def _survey(
        self, story: Story, opened: dt.datetime, views: tuple[View, View], *, close: bool
    ) -> None:
        organisation = self.organisations[story.index]
        actor = self.actor(story.roles.get(REL, "pat"))
        survey, links = health.open_survey(
            actor=actor,
            organisation=organisation,
            period=health.period_for(story.health_frequency, opened),
            now=opened,
        )
        by_side: dict[str, list[tuple[Any, str]]] = {"vendor": [], "partner": []}
        for response, token in links:
            by_side[response.side].append((response, token))
        comments = SURVEY_COMMENTS[story.language]
        if not close:
            # The link to try: a partner person's without a login, as most respondents are.
            partner = by_side["partner"]
            response, token = next(
                ((r, t) for r, t in partner if r.contact.user_id is None), partner[0]
            )
            self.summary.survey_link = f"/governance/survey/{token}/"
            self.summary.survey_respondent = f"{response.contact.full_name} ({organisation.name})"
            self.summary.survey_expires = response.expires_at
        for side, view in (("vendor", views[0]), ("partner", views[1])):
            other = views[1] if side == "vendor" else views[0]
            for number, (_response, token) in enumerate(by_side[side]):
                # A closed check misses one respondent in five (never a side's first); the
                # open one has half the vendor side's answers and none of the partner's yet.
                if close and number % 5 == 3:
                    continue
                if not close and (side == "partner" or number % 2 == 1):
                    continue
                answers = {
                    code: _answer(view[position], other[position], number + position, 1, 5)
                    for position, code in enumerate(health.DIMENSION_CODES)
                }
                answers[health.NPS] = _answer(view[5], other[5], number, 0, 10)
                answers["comment"] = comments[number % len(comments)]
                when = opened + dt.timedelta(days=1 + (number * 3 + (side == "partner")) % 11)
                self.replay.at(
                    when,
                    lambda token=token, answers=answers, when=when: health.answer(
                        token=token, data=answers, now=when
                    ),
                    f"survey {survey.pk}",
                )
        if close:
            closing = opened + dt.timedelta(days=19)
            self.replay.at(
                closing,
                lambda: health.close_survey(actor=actor, survey=survey, now=closing),
                f"survey {survey.pk}",
            )

    # -- continuity -----------------------------------------------------------------------
    def plan_handover(self) -> None:
        when = self.ago(HANDOVER_DAYS)
        leaver, successor = self.vendor_people[LEAVER], self.vendor_people[SUCCESSOR]

        def hand_over() -> None:
            continuity.handover(
                actor=self.actor("alex"),
                predecessor=leaver,
                successor=successor,
                leaving=True,
                reason=f"{leaver.full_name} left the company; {successor.full_name} takes "
                "over service delivery.",
                now=when,
            )

        self.replay.at(when, hand_over, "handover")
        # The successor is onboarded into the distributor's relationship the next day.
        atlas = self.organisations[STORIES[-1].index]
        template = OnboardingTemplate.objects.filter(kind="staff", active=True).first()
        if template is None:
            return
        start = (when + dt.timedelta(days=1)).date()

        def onboard() -> None:
            plan = continuity.start_onboarding(
                actor=self.actor("chris"),
                organisation=atlas,
                template=template,
                subject=successor,
                owners={"vendor": successor},
                start=start,
                now=when + dt.timedelta(days=1),
            )
            # Read the agreement and met the peer; the goals are still to learn (overdue).
            for task in list(plan.tasks.order_by("position", "pk"))[:2]:
                done = dt.datetime.combine(task.due_on, dt.time(16), tzinfo=dt.UTC)
                self.replay.at(
                    done - dt.timedelta(days=1),
                    lambda task=task, done=done: continuity.complete_task(
                        actor=self.actor(SUCCESSOR),
                        task=task,
                        now=done - dt.timedelta(days=1),
                    ),
                    "onboarding",
                )

        self.replay.at(when + dt.timedelta(days=1), onboard, "onboarding")

    def certificates(self) -> None:
        """Certificates of the stories' partner people (some expiring within weeks), as the
        channel data's certificates are: facts, bulk-written."""
        rows = []
        for number, (index, key, name, days) in enumerate(CERTIFICATES):
            contact = self.partner_people[(index, key)]
            earned = self.today - dt.timedelta(days=days)
            rows.append(
                Certification(
                    source_key=f"{CERT_KEY_PREFIX}{number}",
                    organisation_id=contact.organisation_id,
                    person=contact.full_name,
                    contact=contact,
                    name=name,
                    earned_on=earned,
                    expires_on=earned + dt.timedelta(days=730),
                )
            )
        Certification.objects.bulk_create(rows, ignore_conflicts=True)


def _answer(mine: int, theirs: int, number: int, low: int, high: int) -> int:
    """One respondent's answer around their side's view: a little spread where both sides
    agree, none where they differ (so the difference is what the sides meant)."""
    spread = (0, 1, -1, 0)[number % 4] if mine == theirs else 0
    return max(low, min(high, mine + spread))


def load_demo_governance(today: dt.date, seed: int = DEFAULT_SEED) -> GovernanceSummary:
    """Load the demo's governance set-up and stories, replayed through the services up to the
    start of ``today`` (UTC). Nothing is done when a relationship is already governed."""
    summary = GovernanceSummary()
    organisations = {
        int(org.external_key.removeprefix(EXTERNAL_KEY_PREFIX)) - 1: org
        for org in Organisation.objects.filter(
            external_key__in=[
                f"{EXTERNAL_KEY_PREFIX}{index + 1:06d}"
                for index in (*(s.index for s in STORIES), ONBOARDING_INDEX)
            ]
        )
    }
    if len(organisations) < len(STORIES) + 1 or RoleAssignment.objects.exists():
        return summary
    loader = _Loader(today, seed, summary)
    loader.organisations = organisations
    with override_settings(EMAIL_BACKEND=QUIET_MAIL):
        loader.setup_templates()
        loader.setup_people()
        for story in STORIES:
            loader.setup_structure(story)
        loader.setup_onboarding_partner()
        loader.background_roles()
        loader.certificates()
        for story in STORIES:
            loader.plan_meetings(story)
            loader.plan_health(story)
        loader.plan_issues()
        loader.plan_handover()
        loader.replay.run()
    _tally(summary, loader.anchor)
    return summary


def _tally(summary: GovernanceSummary, anchor: dt.datetime) -> None:
    today = anchor.date()
    summary.meetings = dict(Counter(Meeting.objects.values_list("status", flat=True)))
    summary.overdue_meetings = Meeting.objects.filter(
        meeting_selectors.overdue_meetings(anchor)
    ).count()
    summary.action_items = dict(Counter(ActionItem.objects.values_list("status", flat=True)))
    summary.overdue_actions = ActionItem.objects.filter(
        meeting_selectors.overdue_actions(today)
    ).count()
    summary.issues = dict(Counter(Issue.objects.values_list("status", flat=True)))
    open_issues = Issue.objects.filter(status__in=Issue.OPEN_STATUSES)
    summary.open_by_tier = dict(Counter(open_issues.values_list("tier", flat=True)))
    summary.escalations = sum(Issue.objects.values_list("escalations", flat=True))
    summary.surveys = dict(Counter(HealthSurvey.objects.values_list("status", flat=True)))
    for relationship in Relationship.objects.filter(health_score__isnull=False).select_related(
        "organisation"
    ):
        summary.scores[relationship.organisation.name] = str(relationship.health_score)
        if relationship.misaligned:
            summary.misaligned.append(relationship.organisation.name)
    held = Counter(RoleAssignment.objects.values_list("organisation", flat=True))
    summary.roles_missing = sorted(
        Organisation.objects.filter(
            pk__in=[pk for pk, roles in held.items() if roles < len(Role.values)]
        ).values_list("name", flat=True)
    )
    summary.handovers = Handover.objects.count()
    summary.onboarding_plans = OnboardingPlan.objects.count()
    governance_certs = Certification.objects.filter(source_key__startswith=CERT_KEY_PREFIX)
    summary.certifications = governance_certs.count()
    summary.expiring = governance_certs.filter(
        Q(expires_on__gte=today) & Q(expires_on__lte=today + dt.timedelta(days=60))
    ).count()
