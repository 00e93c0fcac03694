"""The network's settings, read from the environment when used (so tests and the demo can set them).

- ``HERZSTADT_NETWORK_SYNC_INTERVAL`` (seconds, default 3600): how often a partner is harvested;
- ``HERZSTADT_NETWORK_TIMEOUT`` (seconds, default 10): the deadline of one request to a partner;
- ``HERZSTADT_NETWORK_ALLOW_PRIVATE`` (``1``): also fetch partners on loopback/private addresses
  (tests, a closed network); by default only public addresses are fetched;
- ``HERZSTADT_NETWORK_SELF_URL``: this installation's own address (the demo follows itself there);
  default ``http://127.0.0.1:$HERZSTADT_PORT`` when ``herzstadt demo`` set ``HERZSTADT_PORT``.
  Requests to exactly this origin may go to a loopback address.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

#: the largest answer the harvester reads from a partner (one page, or the DCAT catalogue)
MAX_BODY = 4 * 1024 * 1024
#: the most pages of a partner's catalogue one harvest reads
MAX_PAGES = 100
#: the page size the harvester asks for
PAGE_LIMIT = 100
#: how long a claimed partner stays claimed by one worker (seconds)
LEASE = 600


def _number(name: str, default: float, minimum: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return max(minimum, value)


def sync_interval() -> float:
    return _number("HERZSTADT_NETWORK_SYNC_INTERVAL", 3600.0, 1.0)


def timeout() -> float:
    return _number("HERZSTADT_NETWORK_TIMEOUT", 10.0, 0.1)


def allow_private() -> bool:
    return os.environ.get("HERZSTADT_NETWORK_ALLOW_PRIVATE", "") == "1"


def self_url() -> str:
    url = os.environ.get("HERZSTADT_NETWORK_SELF_URL", "").strip().rstrip("/")
    if url:
        return url
    port = os.environ.get("HERZSTADT_PORT", "").strip()
    return f"http://127.0.0.1:{port}" if port.isdigit() else ""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an address; raises ValueError on a malformed one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def is_self(url: str) -> bool:
    """Whether ``url`` points at this installation's own configured address."""
    own = self_url()
    if not own:
        return False
    try:
        return origin(url) == origin(own)
    except ValueError:
        return False
