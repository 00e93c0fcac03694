"""Demo measure profiles of the hosted cities (helper: parts)."""

from __future__ import annotations

from typing import Any


def load_profiles(context: Any) -> Any:
    """Measure profiles for the demo cities' measures."""
    return None
