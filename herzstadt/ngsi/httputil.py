"""HTTP header helpers of the broker's HTTP layer (no framework)."""

from __future__ import annotations


def weighted_items(header: str) -> list[tuple[str, float]]:
    """The items of a comma-separated list with ``;q=`` weights (Accept, lang): (item, q) in
    the order given; a missing weight is 1, an unreadable one 0."""
    out = []
    for part in header.split(","):
        bits = part.strip().split(";")
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((bits[0].strip(), q))
    return out
