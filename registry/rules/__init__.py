"""Pure business-rule helpers for enterprise eligibility and loan terms.

A package, one module per rule area (``uscc``, ``regions``, ``industries``, ``sme``, ``rates``,
``cells``, and the shipped ``tables``); every public name is re-exported here, so callers write
``from registry import rules`` and ``rules.validate_uscc``.  Nothing here touches the database or
Django models.  The reference tables (regions, GB/T 4754-2017 divisions, the 2011 SME size thresholds, the 1-year LPR) are read from the CSV files
in ``registry/data`` and cached; every function that needs a table also accepts it as a keyword
argument, so the admin-editable copies in the database can be passed instead.

Rules implemented here (see the programme rules): R6 (credit code and 市(州)), R7 (SME size class),
R8 (service industry), R12 (rate cap).  Errors are raised as :class:`RuleError`, whose ``message`` is
Chinese text for bank staff saying what was wrong and what is expected.
"""

from __future__ import annotations

from ._base import (
    CENT,
    DATA_DIR,
    RATE_QUANTUM,
    RuleError,
    normalize_text,
)
from .cells import (
    DATE_FORMATS_HINT,
    EXCEL_EPOCH,
    EXCEL_SERIAL_RANGE,
    parse_date,
    parse_money,
    parse_rate_percent,
)
from .industries import (
    DEFAULT_SERVICE_EXCLUSIONS,
    IndustryCode,
    check_service_industry,
    is_service_industry,
    normalize_industry,
)
from .rates import (
    lpr_in_force,
    rate_cap,
)
from .regions import (
    normalize_region,
)
from .sme import (
    INDICATOR_LABELS,
    SIZE_LABELS,
    SIZE_LEVELS,
    SizeGroup,
    sme_size_class,
    sme_size_group,
)
from .tables import (
    Division,
    Region,
    division_table,
    lpr_table,
    region_table,
    section_table,
    sme_threshold_table,
)
from .uscc import (
    USCC_CHARSET,
    USCC_WEIGHTS,
    make_uscc,
    uscc_check_char,
    validate_uscc,
)

__all__ = [
    "CENT",
    "DATA_DIR",
    "DATE_FORMATS_HINT",
    "DEFAULT_SERVICE_EXCLUSIONS",
    "EXCEL_EPOCH",
    "EXCEL_SERIAL_RANGE",
    "INDICATOR_LABELS",
    "RATE_QUANTUM",
    "SIZE_LABELS",
    "SIZE_LEVELS",
    "USCC_CHARSET",
    "USCC_WEIGHTS",
    "Division",
    "IndustryCode",
    "Region",
    "RuleError",
    "SizeGroup",
    "check_service_industry",
    "division_table",
    "is_service_industry",
    "lpr_in_force",
    "lpr_table",
    "make_uscc",
    "normalize_industry",
    "normalize_region",
    "normalize_text",
    "parse_date",
    "parse_money",
    "parse_rate_percent",
    "rate_cap",
    "region_table",
    "section_table",
    "sme_size_class",
    "sme_size_group",
    "sme_threshold_table",
    "uscc_check_char",
    "validate_uscc",
]
