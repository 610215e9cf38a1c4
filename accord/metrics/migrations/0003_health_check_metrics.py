"""Built-in metrics over the two-sided relationship health checks: each side's satisfaction
(CSAT 1-5) and NPS, fed by closed health checks (accord.governance)."""

from django.db import migrations

# code, name, Chinese name, calculation, side, unit, description
BUILTIN = [
    (
        "partner_csat",
        "Partner satisfaction (health checks)",
        "健康检查·合作伙伴满意度",
        "csat",
        "partner",
        "Mean satisfaction (1-5) of the partner side's answers to relationship health checks.",
    ),
    (
        "partner_nps",
        "Partner NPS (health checks)",
        "健康检查·合作伙伴净推荐值",
        "nps",
        "partner",
        "% promoters minus % detractors among the partner side's health-check answers.",
    ),
    (
        "vendor_csat",
        "Vendor-side satisfaction (health checks)",
        "健康检查·供应商方满意度",
        "csat",
        "vendor",
        "Mean satisfaction (1-5) of the vendor's own people about the relationship.",
    ),
    (
        "vendor_nps",
        "Vendor-side NPS (health checks)",
        "健康检查·供应商方净推荐值",
        "nps",
        "vendor",
        "% promoters minus % detractors among the vendor's own health-check answers.",
    ),
]


def seed(apps, schema_editor):
    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    for code, name, name_zh, calculation, side, description in BUILTIN:
        MetricDefinition.objects.get_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "description": description,
                "dimension": "market",
                "calculation": calculation,
                "params": {"respondent_side": side},
                "unit": "score",
                "higher_is_better": True,
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
    dependencies = [("metrics", "0002_builtin_metrics")]

    operations = [migrations.RunPython(seed, unseed)]
