"""Load the reference data carried in registry/data/ (copied from the spec)."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"

SHORT_NAMES = {
    "513200": "阿坝州",
    "513300": "甘孜州",
    "513400": "凉山州",
}


def _rows(name):
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _dec(value):
    return Decimal(value) if value not in ("", None) else None


def load(apps, schema_editor):
    Region = apps.get_model("registry", "Region")
    Section = apps.get_model("registry", "IndustrySection")
    Division = apps.get_model("registry", "IndustryDivision")
    Lpr = apps.get_model("registry", "LprRate")
    Sme = apps.get_model("registry", "SmeThreshold")
    for row in _rows("regions.csv"):
        short = SHORT_NAMES.get(row["code"], row["name"].removesuffix("市"))
        Region.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "short_name": short, "kind": row["kind"]}
        )
    for row in _rows("industry_sections.csv"):
        Section.objects.update_or_create(
            code=row["section"], defaults={"name": row["name"], "three_sector": int(row["three_sector"])}
        )
    for row in _rows("industry_divisions.csv"):
        Division.objects.update_or_create(
            code=row["code"],
            defaults={"section_id": row["section"], "name": row["name"], "is_service": row["service"] == "1"},
        )
    for row in _rows("lpr_1y.csv"):
        Lpr.objects.update_or_create(
            effective_from=row["effective_from"], defaults={"rate_percent": Decimal(row["rate_percent"])}
        )
    for position, row in enumerate(_rows("sme_size_thresholds.csv")):
        Sme.objects.update_or_create(
            group=row["group"],
            defaults={
                "codes": row["gbt4754_codes"],
                "indicator_1": row["indicator_1"],
                "indicator_2": row["indicator_2"],
                "medium_min_1": _dec(row["medium_min_1"]),
                "medium_min_2": _dec(row["medium_min_2"]),
                "small_min_1": _dec(row["small_min_1"]),
                "small_min_2": _dec(row["small_min_2"]),
                "large_min_1": _dec(row["large_min_1"]),
                "large_min_2": _dec(row["large_min_2"]),
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
