"""市(州) of Sichuan (R6): names, aliases and codes to one code."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from ._base import RuleError, _number_to_text, normalize_text
from .tables import Region, region_table

_PROVINCE_PREFIXES = ("四川省", "四川")


def _region_aliases(region: Region) -> set[str]:
    """Full name, and the short forms people write: 成都 for 成都市; 阿坝 and 阿坝州 for 阿坝…自治州."""
    name = normalize_text(region.name)
    aliases = {name}
    if name.endswith("自治州"):
        aliases |= {name[:2], name[:2] + "州"}
    elif name.endswith(("市", "州", "地区")):
        aliases.add(name.removesuffix("地区").removesuffix("市").removesuffix("州"))
    return aliases


@functools.lru_cache(maxsize=32)
def _region_index(rows: tuple[Region, ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for region in rows:
        index[region.code] = region.code
        index.update(dict.fromkeys(_region_aliases(region), region.code))
    return index


def _region_key(text: str, codes: Mapping[str, str]) -> str:
    if re.fullmatch(r"51\d{4}", text) and text not in codes:
        return text[:4] + "00"  # county code 51xxyy → its 市(州) 51xx00
    for prefix in _PROVINCE_PREFIXES:
        if text.startswith(prefix) and text.removeprefix(prefix) in codes:
            return text.removeprefix(prefix)
    return text


def normalize_region(value: object, *, table: Iterable[Region] | None = None) -> str:
    """6-digit code of one of the province's 21 市(州) from a code, county code, full or short name."""
    rows = tuple(Region(*r) for r in (region_table() if table is None else table))
    index = _region_index(rows)
    number = _number_to_text(value)
    text = number if number is not None else normalize_text("" if value is None else str(value))
    code = index.get(_region_key(text, index))
    if code is None:
        raise RuleError(
            "region_unknown",
            f"所在市(州)“{value}”不是本省 {len(rows)} 个市(州)之一，应填写如 510100 或 成都市",
        )
    return code
