"""Failed sign-ins slow down the address they come from, never lock out the account's owner.

Before, five wrong passwords for an e-mail address, from anywhere, locked that account for everyone for
five minutes (allauth's per-account ``key`` limit): a stranger could keep the real owner out for good.
Now two things count, both by the client's address (``core/client_ip.py``):

- **per address and account** — after :data:`FREE_FAILURES` (five) failed attempts from one address for one
  account, that address must wait before it may try that account again: 15 s, then 30 s, 1 min, 2 min,
  … up to :data:`MAX_WAIT` (15 min) after each further failure. Within the wait, attempts are refused
  before the password is checked (so even a right guess is worthless to the attacker), with a message
  that says how long to wait. A successful sign-in from that address clears its count. The owner, signing
  in from another address, is never affected.
- **per address** — allauth's ``login_failed`` limit without its ``key`` part (settings.py): many failures
  from one address across accounts (password spraying) are refused for a while.

Refusing instead of sleeping: a delay that holds the request would let an attacker tie up the server's
threads with slow requests; a refusal with a waiting time costs nothing, and needs no CAPTCHA (no
third-party service, accessible).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from herzstadt.core.client_ip import client_ip

FREE_FAILURES = 5
FIRST_WAIT = 15
MAX_WAIT = 15 * 60
#: how long failures are remembered
MEMORY = 24 * 60 * 60


def _account(credentials: dict) -> str:
    for field in ("email", "username", "phone", "login"):
        value = credentials.get(field)
        if value:
            return str(value).strip().lower()
    return ""


def _key(request, credentials: dict) -> str:
    message = f"{client_ip(request)}\x1f{_account(credentials)}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"herzstadt:signin-failures:{digest}"


def now() -> float:
    return time.time()


def wait_seconds(failures: int) -> int:
    """How long an address must wait after its ``failures``-th failure for an account."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_WAIT, FIRST_WAIT * 2 ** (failures - FREE_FAILURES))


def remaining_wait(request, credentials: dict) -> int:
    """Seconds this address must still wait before it may try this account again (0: go ahead)."""
    key = _key(request, credentials)
    state = cache.get_many([f"{key}:n", f"{key}:t"])
    failures, last = int(state.get(f"{key}:n") or 0), float(state.get(f"{key}:t") or 0)
    left = last + wait_seconds(failures) - now()
    return max(0, int(left + 0.999))


def record_failure(request, credentials: dict) -> int:
    """Count a failed attempt of this address for this account (atomically); the new count."""
    key = _key(request, credentials)
    cache.add(f"{key}:n", 0, timeout=MEMORY)
    try:
        failures = cache.incr(f"{key}:n")
    except ValueError:  # expired between add and incr
        cache.set(f"{key}:n", 1, timeout=MEMORY)
        failures = 1
    cache.set(f"{key}:t", now(), timeout=MEMORY)
    return failures


def forget(request, credentials: dict) -> None:
    """A successful sign-in from this address: its failures for the account no longer count."""
    key = _key(request, credentials)
    cache.delete_many([f"{key}:n", f"{key}:t"])
