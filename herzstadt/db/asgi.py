"""Django's ASGI handler, changed in one thing: every request gives its database connections back.

Django returns a request's connections through the ``request_finished`` signal, which it sends when the
response is closed. Two ways of ending a request skip that: sending the response fails (the client has
gone and the server's ``send`` raises) and the request's task is cancelled (e.g. when a worker shuts
down). Without a pool that cost nothing (the orphaned connection was closed when it was garbage
collected); with a pool, each such request kept one of the pool's connections for good, and a pool
under a load of impatient clients ran dry (docs/performance.md, "Found on the way").
``tests/test_db_pool.py`` proves the pool whole after each way of ending a request.

The connections belong to the request's own thread: every request gets an executor of one thread
(asgiref's ``ThreadSensitiveContext(executor=…)``), and its synchronous code — middleware, view, the
response's ``close`` — runs there. After the request, however it ended, the connections are closed by a
job put straight into that executor's queue, so it runs after everything the request queued before,
shielded from cancellation. Routing it through ``sync_to_async`` is not enough: when a request is
cancelled while a synchronous middleware waits in ``async_to_sync`` for the view, asgiref copies that
middleware's ``CurrentThreadExecutor`` into the cancelled task's context, the clean-up ran there
*before* the view took its connection, and the pool lost a connection for good (seen under load,
``tests/test_db_pool.py``).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections


def _close_connections() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()


class ConnectionReturningASGIHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herzstadt-request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # Queued behind whatever the request still runs in its thread (a cancelled request's view
            # may still be running); the thread ends once the queue is empty.
            returned = executor.submit(_close_connections)
            executor.shutdown(wait=False)
            await asyncio.shield(asyncio.wrap_future(returned))


def get_asgi_application() -> ConnectionReturningASGIHandler:
    """Like :func:`django.core.asgi.get_asgi_application`, with :class:`ConnectionReturningASGIHandler`."""
    django.setup(set_prefix=False)
    return ConnectionReturningASGIHandler()
