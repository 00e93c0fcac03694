"""The demo network: the hosted demo cities follow each other over HTTP (helper: network)."""

from __future__ import annotations

from typing import Any


def load_partners(context: Any) -> None:
    """Partner records between the demo's hosted cities."""
