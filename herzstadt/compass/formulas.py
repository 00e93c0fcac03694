"""Indicator formulas: a declarative JSON specification over the urban data, validated, described
in words, and computed by small strategy classes. (Contract; helper "kpi" builds it.)

- ``validate(spec) -> dict``: the normalised spec, or ``django.core.exceptions.ValidationError``
  with a message a member of staff understands.
- ``describe(spec) -> str``: the formula in words (translated), e.g. "Mittelwert von no2
  (AirQualityObserved) im Pfaff-Areal je Tag".
- ``compute(spec, start, end, source) -> Result``: the value over ``[start, end)`` with its data
  coverage, reading observations from ``source`` (tests pass fixed data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    value: float | None
    coverage: float
    details: dict[str, Any] = field(default_factory=dict)


def validate(spec: Any) -> dict[str, Any]:
    raise NotImplementedError


def describe(spec: dict[str, Any]) -> str:
    raise NotImplementedError


def compute(spec: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    raise NotImplementedError
