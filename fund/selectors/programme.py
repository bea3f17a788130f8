"""Reads about programmes, partners and loans."""

from __future__ import annotations

from datetime import date

from fund.models import ParameterSet, Partnership, Programme
from registry.errors import BusinessError


def parameters_in_force(*, programme: Programme, on: date) -> ParameterSet:
    """The parameter set in force for ``programme`` on ``on`` (the latest with effective_from ≤ on)."""
    params = (
        ParameterSet.objects.filter(programme=programme, effective_from__lte=on).order_by("-effective_from").first()
    )
    if params is None:
        raise BusinessError(
            f"项目“{programme.name}”在 {on:%Y-%m-%d} 没有生效的参数集", code="no_parameters"
        )
    return params


def partnership_for(*, programme: Programme, bank_id: int) -> Partnership | None:
    return Partnership.objects.filter(programme=programme, bank_id=bank_id).first()
