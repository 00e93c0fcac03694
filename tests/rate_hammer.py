"""One of several processes hammering one rate limit (run by tests/test_rate_limits.py):

    python -m tests.rate_hammer START_FILE ATTEMPTS RATE ACTION COUNTER_KEY

waits until START_FILE exists, then makes ATTEMPTS sign-in-like attempts through allauth's rate limit
(``RATE`` for ``ACTION``, per IP) and as many ``add``/``incr`` on COUNTER_KEY (how the survey limit
counts), and prints how many attempts were allowed, as JSON. Configured by the environment like the
site (DATABASE_URL, HERZSTADT_REDIS_URL, …)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(start_file: str, attempts: int, rate: str, action: str, counter_key: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")
    import django

    django.setup()
    from allauth.core.internal import ratelimit
    from django.core.cache import cache
    from django.test import RequestFactory

    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    deadline = time.monotonic() + 60
    while not Path(start_file).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    allowed = 0
    for _ in range(attempts):
        usage = ratelimit.consume(
            request, app="allauth.account", action=action, config={action: rate}
        )
        if usage is not None:
            allowed += 1
        cache.add(counter_key, 0, timeout=3600)
        cache.incr(counter_key)
    print(json.dumps({"allowed": allowed}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
