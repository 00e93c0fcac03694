"""A bounded PostgreSQL connection pool per worker process (issue 8, finding 7).

Before, every request opened a connection of its own (``CONN_MAX_AGE=0``, about 3 ms each) and 200
simultaneous supports opened 200 of them: PostgreSQL refused the ones above its ``max_connections``
("too many clients already") and the site answered 500. Now each worker process keeps a pool
(psycopg_pool, through Django's native pool support) of at most

    min(16, (max_connections - reserved connections - reserve) // workers)    (at least 2)

connections, where ``max_connections`` and the reserved (superuser) connections are read from the server
when the worker first needs a connection, ``workers`` is the number of worker processes of
``herzstadt serve`` and ``reserve`` (``HERZSTADT_DB_RESERVE``, default a quarter of ``max_connections``,
at least 10) is left for the NGSI-LD broker's own connections, migrations, cron jobs and an
administrator's ``psql``. ``HERZSTADT_DB_POOL_SIZE`` sets the size per worker instead. A request that
finds every connection busy waits in the pool's queue for up to ``HERZSTADT_DB_POOL_TIMEOUT`` seconds
and then gets a friendly 503 page ("busy, try again") — never a 500.

Every request gives its connection back, also when the client disconnects or sending the response
fails (:mod:`herzstadt.db.asgi`): the pool that was tried earlier ran dry exactly there.
``HERZSTADT_DB_POOL=0`` turns pooling off (one connection per request, e.g. behind PgBouncer).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import cast

log = logging.getLogger(__name__)

#: more connections than this per worker add no throughput on a few cores, only load on PostgreSQL
POOL_CAP = 16
POOL_MIN = 2


@dataclass(frozen=True)
class PoolSettings:
    enabled: bool = True
    #: connections per worker; None: computed from the server's max_connections
    size: int | None = None
    #: connections left for everything else; None: a quarter of max_connections, at least 10
    reserve: int | None = None
    #: seconds a request waits for a free connection
    timeout: float = 10.0


def _int(environ, name: str, low: int, high: int) -> int | None:
    from herzstadt.config import ConfigError

    raw = (environ.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high} (got {raw!r}).")
    return int(raw)


def settings_from_env(environ=None) -> PoolSettings:
    from herzstadt.config import ConfigError, env_bool

    environ = dict(os.environ if environ is None else environ)
    raw_timeout = (environ.get("HERZSTADT_DB_POOL_TIMEOUT") or "").strip()
    try:
        timeout = float(raw_timeout) if raw_timeout else 10.0
    except ValueError:
        timeout = -1.0
    if not 0.1 <= timeout <= 300:
        raise ConfigError("HERZSTADT_DB_POOL_TIMEOUT must be a number of seconds from 0.1 to 300.")
    return PoolSettings(
        enabled=env_bool("HERZSTADT_DB_POOL", True, environ),
        size=_int(environ, "HERZSTADT_DB_POOL_SIZE", 1, 1000),
        reserve=_int(environ, "HERZSTADT_DB_RESERVE", 0, 10_000),
        timeout=timeout,
    )


def pool_options(pool: PoolSettings) -> dict | None:
    """``DATABASES[...]["OPTIONS"]["pool"]`` (``max_size`` None: sized by the backend on first use)."""
    if not pool.enabled:
        return None
    return {
        "min_size": 1,
        "max_size": pool.size,
        "timeout": pool.timeout,
        "max_idle": 300,
        "name": "herzstadt-site",
    }


def worker_count(environ=None) -> int:
    """The worker processes serving the site: set by ``herzstadt serve`` for its workers."""
    environ = os.environ if environ is None else environ
    for name in ("HERZSTADT_SERVE_WORKERS", "HERZSTADT_WORKERS"):
        raw = (environ.get(name) or "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
    return 1


def compute_size(
    max_connections: int, reserved: int, workers: int, reserve: int | None = None
) -> int:
    if reserve is None:
        reserve = max(10, max_connections // 4)
    available = max_connections - reserved - reserve
    return max(POOL_MIN, min(POOL_CAP, available // max(1, workers)))


def size_pool(connection_params: dict) -> int:
    """The pool size of this worker, asking the server for its connection limit when not configured."""
    from django.conf import settings

    pool: PoolSettings = getattr(settings, "HERZSTADT_DB_POOL", PoolSettings())
    if pool.size is not None:
        return pool.size
    import psycopg

    params = {k: v for k, v in connection_params.items() if k not in ("cursor_factory", "context")}
    with psycopg.connect(**params) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int,"
            " coalesce(current_setting('superuser_reserved_connections', true), '0')::int"
            " + coalesce(current_setting('reserved_connections', true), '0')::int"
        ).fetchone()
    max_connections, reserved = cast("tuple[int, int]", row)
    workers = worker_count()
    size = compute_size(max_connections, reserved, workers, pool.reserve)
    log.info(
        "database pool: %d connections in this worker (server max_connections %d, reserved %d, "
        "workers %d, reserve %s)",
        size,
        max_connections,
        reserved,
        workers,
        pool.reserve if pool.reserve is not None else "default",
    )
    if (max_connections - reserved - (pool.reserve or 0)) // workers < POOL_MIN:
        log.warning(
            "PostgreSQL allows too few connections (max_connections %d) for %d workers; raise "
            "max_connections or lower HERZSTADT_DB_RESERVE",
            max_connections,
            workers,
        )
    return size
