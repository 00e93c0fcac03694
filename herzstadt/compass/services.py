"""The compass's use cases. (Contract; helper "kpi" builds the indicator part.)"""

from __future__ import annotations

import datetime as dt

from herzstadt.compass.models import Indicator, IndicatorValue


def compute_indicator(indicator: Indicator, *, now: dt.datetime | None = None) -> IndicatorValue:
    """Compute ``indicator`` for its newest complete period (ending at or before ``now``), store the
    value (upsert), update ``indicator.last_*`` and publish the KeyPerformanceIndicator entity."""
    raise NotImplementedError
