"""The reference tables shipped in ``registry/data`` (cached; callers may pass the admin-edited copies)."""

from __future__ import annotations

import csv
import functools
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from ._base import DATA_DIR


def _read_csv(name: str) -> tuple[dict[str, str], ...]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


class Region(NamedTuple):
    code: str
    name: str
    kind: str = "市"


class Division(NamedTuple):
    code: str
    section: str
    name: str
    service: bool


@functools.cache
def region_table() -> tuple[Region, ...]:
    """The province's 21 市(州) from ``regions.csv``."""
    return tuple(Region(r["code"], r["name"], r["kind"]) for r in _read_csv("regions.csv"))


@functools.cache
def division_table() -> tuple[Division, ...]:
    """The 97 GB/T 4754-2017 divisions (大类) from ``industry_divisions.csv``."""
    return tuple(
        Division(r["code"], r["section"], r["name"], r["service"] == "1")
        for r in _read_csv("industry_divisions.csv")
    )


@functools.cache
def section_table() -> tuple[dict[str, str], ...]:
    """The 20 GB/T 4754-2017 sections (门类) from ``industry_sections.csv``, as raw rows."""
    return _read_csv("industry_sections.csv")


@functools.cache
def lpr_table() -> tuple[tuple[date, Decimal], ...]:
    """1-year LPR history ``(effective_from, rate_percent)``, oldest first."""
    rows = _read_csv("lpr_1y.csv")
    return tuple(sorted((date.fromisoformat(r["effective_from"]), Decimal(r["rate_percent"])) for r in rows))


@functools.cache
def sme_threshold_table() -> tuple[dict[str, str], ...]:
    """Raw rows of ``sme_size_thresholds.csv`` (2011 SME standard)."""
    return _read_csv("sme_size_thresholds.csv")
