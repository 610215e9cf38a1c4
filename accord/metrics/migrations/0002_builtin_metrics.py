"""Seed the built-in metric definitions (version 1 of each). The data lives here, not in app
code, so this migration keeps meaning the same thing when the app's defaults change later."""

from django.db import migrations

# code, name, Chinese name, dimension, calculation, params, unit, higher is better, description
BUILTIN = [
    (
        "revenue",
        "Revenue",
        "收入",
        "financial",
        "revenue",
        {"direction": "sell_in"},
        "currency",
        True,
        "Sell-in revenue: what the vendor sold to the organisation, in the base currency.",
    ),
    (
        "sell_through_revenue",
        "Sell-through revenue",
        "分销收入",
        "market",
        "revenue",
        {"direction": "sell_through"},
        "currency",
        True,
        "What the organisation sold on to end customers, in the base currency.",
    ),
    (
        "gross_margin",
        "Gross margin",
        "毛利率",
        "financial",
        "gross_margin",
        {"direction": "sell_in"},
        "ratio",
        True,
        "(Revenue - cost) / revenue over the sell-in lines whose cost is known.",
    ),
    (
        "growth",
        "Revenue growth",
        "收入增长率",
        "financial",
        "growth",
        {"direction": "sell_in", "compare": "previous"},
        "ratio",
        True,
        "Sell-in revenue against the previous period of the same length.",
    ),
    (
        "growth_yoy",
        "Revenue growth year on year",
        "收入同比增长率",
        "financial",
        "growth",
        {"direction": "sell_in", "compare": "year"},
        "ratio",
        True,
        "Sell-in revenue against the same period a year earlier.",
    ),
    (
        "orders",
        "Orders",
        "订单数",
        "market",
        "orders",
        {"direction": "sell_in"},
        "count",
        True,
        "Distinct sell-in orders.",
    ),
    (
        "average_order_value",
        "Average order value",
        "平均订单金额",
        "financial",
        "average_order_value",
        {"direction": "sell_in"},
        "currency",
        True,
        "Sell-in revenue / sell-in orders.",
    ),
    (
        "distinct_products",
        "Distinct products",
        "产品种类数",
        "market",
        "distinct_products",
        {"direction": "sell_in"},
        "count",
        True,
        "Distinct products bought from the vendor.",
    ),
    (
        "distinct_customers",
        "Distinct end customers",
        "终端客户数",
        "market",
        "distinct_customers",
        {"direction": "sell_through"},
        "count",
        True,
        "Distinct end customers on the organisation's sell-through lines.",
    ),
    (
        "inventory_turnover",
        "Inventory turnover",
        "库存周转率",
        "operational",
        "inventory_turnover",
        {},
        "turns",
        True,
        "Units sold through / average units on hand over the period's inventory snapshots.",
    ),
    (
        "weeks_of_supply",
        "Weeks of supply",
        "库存可供周数",
        "operational",
        "weeks_of_supply",
        {},
        "weeks",
        False,
        "Latest units on hand / average weekly units sold through.",
    ),
    (
        "fill_rate",
        "Fill rate",
        "订单满足率",
        "operational",
        "fill_rate",
        {},
        "ratio",
        True,
        "Filled / ordered quantity over the deliveries promised in the period.",
    ),
    (
        "on_time_delivery",
        "On-time delivery rate",
        "准时交付率",
        "operational",
        "on_time_delivery",
        {},
        "ratio",
        True,
        "Deliveries made on or before the promised date / deliveries made.",
    ),
    (
        "csat",
        "Customer satisfaction (CSAT)",
        "客户满意度",
        "market",
        "csat",
        {"respondent_side": "customer"},
        "score",
        True,
        "Mean CSAT (1-5) of end customers' answers.",
    ),
    (
        "nps",
        "Net promoter score (NPS)",
        "净推荐值",
        "market",
        "nps",
        {"respondent_side": "customer"},
        "score",
        True,
        "% promoters (9-10) minus % detractors (0-6) among end customers' answers.",
    ),
    (
        "certified_staff",
        "Certified staff",
        "认证员工数",
        "operational",
        "certified_staff",
        {},
        "people",
        True,
        "Distinct people holding a certification valid at the period's end.",
    ),
]


def seed(apps, schema_editor):
    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    for code, name, name_zh, dimension, calculation, params, unit, higher, description in BUILTIN:
        MetricDefinition.objects.get_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "description": description,
                "dimension": dimension,
                "calculation": calculation,
                "params": params,
                "unit": unit,
                "higher_is_better": higher,
                "builtin": True,
                "is_current": True,
            },
        )


def unseed(apps, schema_editor):
    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    MetricDefinition.objects.filter(
        builtin=True, version=1, code__in=[row[0] for row in BUILTIN]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
