"""Test settings: herzstadt's settings on a throwaway data directory.

The suite runs on SQLite by default; with HERZSTADT_TEST_DATABASE_URL set (e.g.
postgresql://root@127.0.0.1:5432/test) it runs on that database instead (pytest-django creates and
drops a ``test_<name>`` database next to it).
"""

import os
import tempfile

os.environ["HERZSTADT_DATA_DIR"] = tempfile.mkdtemp(prefix="herzstadt-test-")
os.environ.pop("HERZSTADT_ENV", None)
os.environ.pop("HERZSTADT_DEFAULT_CITY", None)
if os.environ.get("HERZSTADT_TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["HERZSTADT_TEST_DATABASE_URL"]
    # The broker's tables go into a schema of their own, so test runs never touch other data.
    sep = "&" if "?" in os.environ["DATABASE_URL"] else "?"
    os.environ["HERZSTADT_NGSI_DATABASE"] = (
        f"{os.environ['DATABASE_URL']}{sep}schema=herzstadt_site_tests"
    )
else:
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("HERZSTADT_NGSI_DATABASE", None)

from herzstadt.settings import *  # noqa: F403

PASSWORD_HASHERS = [  # fast, tests only; then the one for OAuth2 client secrets
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "herzstadt.urbandata.hashers.RandomSecretHasher",
]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: concurrency tests need SQLite's real locking (WAL, busy timeout).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# The production cache (a table in the test database, created with it), so that rate limits are
# tested on the backend that counts them; tests/test_rate_limits.py also covers Redis.
