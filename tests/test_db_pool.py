"""The PostgreSQL connection pool per worker (issue 8, finding 7): sized from the server's limits, and
whole again after requests that were cancelled, aborted by their client or failed while sending."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from django.db import connection

from herzstadt.db import pool as db_pool

# --- sizing (no database needed) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_connections", "reserved", "workers", "reserve", "expected"),
    [
        (100, 3, 1, None, 16),  # capped
        (100, 3, 4, None, 16),  # (100 - 3 - 25) // 4 = 18 → the cap
        (100, 3, 8, None, 9),  # 72 // 8
        (50, 3, 4, 20, 6),  # an explicit reserve
        (20, 3, 8, None, 2),  # never below two
    ],
)
def test_pool_size_follows_the_server_limit_and_the_workers(
    max_connections, reserved, workers, reserve, expected
):
    assert db_pool.compute_size(max_connections, reserved, workers, reserve) == expected


def test_pool_settings_from_the_environment():
    assert db_pool.settings_from_env({}) == db_pool.PoolSettings(True, None, None, 10.0)
    parsed = db_pool.settings_from_env(
        {
            "HERZSTADT_DB_POOL_SIZE": "5",
            "HERZSTADT_DB_RESERVE": "30",
            "HERZSTADT_DB_POOL_TIMEOUT": "2.5",
        }
    )
    assert parsed == db_pool.PoolSettings(True, 5, 30, 2.5)
    assert db_pool.pool_options(db_pool.settings_from_env({"HERZSTADT_DB_POOL": "0"})) is None


@pytest.mark.parametrize(
    "env",
    [
        {"HERZSTADT_DB_POOL_SIZE": "0"},
        {"HERZSTADT_DB_POOL_SIZE": "many"},
        {"HERZSTADT_DB_POOL_TIMEOUT": "0"},
        {"HERZSTADT_DB_RESERVE": "-1"},
    ],
)
def test_bad_pool_settings_are_configuration_errors(env):
    from herzstadt.config import ConfigError

    with pytest.raises(ConfigError, match=next(iter(env))):
        db_pool.settings_from_env(env)


def test_the_worker_count_comes_from_herzstadt_serve():
    assert db_pool.worker_count({}) == 1
    assert db_pool.worker_count({"HERZSTADT_WORKERS": "3"}) == 3
    assert db_pool.worker_count({"HERZSTADT_SERVE_WORKERS": "4", "HERZSTADT_WORKERS": "3"}) == 4


# --- the pool on a real PostgreSQL ------------------------------------------------------------------

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pool exists on PostgreSQL only"
)


@pytest.fixture
def small_pool(transactional_db, settings):
    """This process's pool, recreated with four connections (and restored afterwards)."""
    settings.ROOT_URLCONF = "tests.pool_urls"
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("pool")
    connection.close()
    connection.close_pool()
    options["pool"] = {**(saved or {}), "min_size": 1, "max_size": 4, "timeout": 5}
    # open it as a serving worker's is (Django opens it lazily, at the first connection: when every
    # request is cancelled before it takes one — seen under load — the pool was never opened and
    # the check below failed on the unopened pool, not on a leak)
    connection.pool.open(wait=True)
    try:
        yield connection.pool
    finally:
        connection.close()
        connection.close_pool()
        if saved is None:
            options.pop("pool", None)
        else:
            options["pool"] = saved


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _request(app, path: str, how: str, sent: list | None = None) -> None:
    """One request, ended the way ``how`` says: ``ok``, ``disconnect`` (the client goes away while the
    view runs), ``send_fails`` (the transport is closed when the response is sent) or ``cancel``."""
    delivered = False
    sent = [] if sent is None else sent

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if how == "disconnect":
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # the client stays

    async def send(message):
        sent.append(message)
        if how == "send_fails" and message["type"] == "http.response.body":
            raise RuntimeError("ASGI transport closed")

    task = asyncio.ensure_future(app(_scope(path), receive, send))
    if how == "cancel":
        await asyncio.sleep(0.05)
        task.cancel()
    with contextlib.suppress(RuntimeError, asyncio.CancelledError):
        await task


def _assert_whole(pool) -> None:
    """Every connection is back in the pool (within a few seconds: a cancelled request returns its
    connection from the shielded clean-up, which may finish just after the cancelled task), and
    all of them can be taken at once."""
    deadline = time.monotonic() + 5
    while True:
        pool.check()
        stats = pool.get_stats()
        if (
            stats.get("pool_size", 0) == stats.get("pool_available", 0)
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.05)
    assert stats.get("pool_size", 0) == stats.get("pool_available", 0), stats
    taken = [pool.getconn(timeout=2) for _ in range(pool.max_size)]
    for conn in taken:
        pool.putconn(conn)


def _django_app(handler: str):
    """Django as herzstadt.asgi serves it: the threaded WSGI path (default) or Django's ASGI handler."""
    if handler == "asgi":
        from herzstadt.db.asgi import get_asgi_application

        return get_asgi_application()
    from herzstadt.db.threaded import ThreadedDjangoHandler

    return ThreadedDjangoHandler()


@postgresql
@pytest.mark.slow
@pytest.mark.parametrize("handler", ["asgi", "thread"])
@pytest.mark.parametrize("how", ["ok", "disconnect", "send_fails", "cancel"])
@pytest.mark.parametrize("path", ["/slow", "/stream"])
def test_the_pool_is_whole_after_cancelled_and_aborted_requests(small_pool, how, path, handler):
    app = _django_app(handler)

    async def many():
        await asyncio.gather(*(_request(app, path, how) for _ in range(12)))

    asyncio.run(many())
    _assert_whole(small_pool)


@postgresql
@pytest.mark.parametrize("handler", ["asgi", "thread"])
def test_no_free_connection_in_time_is_a_friendly_503_not_a_500(small_pool, handler):
    connection.close()
    connection.close_pool()
    connection.settings_dict["OPTIONS"]["pool"].update(max_size=1, min_size=1, timeout=0.3)
    pool = connection.pool
    pool.open()
    held = pool.getconn()  # someone else has the only connection
    sent: list = []
    try:
        asyncio.run(_request(_django_app(handler), "/slow", "ok", sent))
    finally:
        pool.putconn(held)
    start = sent[0]
    assert start["status"] == 503
    assert (b"retry-after", b"5") in [(k.lower(), v) for k, v in start["headers"]]
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert "Gerade sehr viel los" in body
    _assert_whole(pool)


def test_database_busy_recognises_overload_and_nothing_else():
    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    from herzstadt.web.views import database_busy

    try:
        try:
            raise PoolTimeout("couldn't get a connection after 10.00 sec")
        except PoolTimeout as inner:
            raise OperationalError("wrapped") from inner
    except OperationalError as exc:
        assert database_busy(exc)
    assert database_busy(OperationalError("FATAL:  sorry, too many clients already"))
    assert database_busy(OperationalError("remaining connection slots are reserved"))
    assert not database_busy(OperationalError("relation does not exist"))
    assert not database_busy(ValueError("too many"))
    assert not database_busy(None)
