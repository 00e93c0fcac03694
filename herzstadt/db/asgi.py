"""Django's ASGI handler, changed in one thing: every request gives its database connections back.

Django returns a request's connections through the ``request_finished`` signal, which it sends when the
response is closed. Two ways of ending a request skip that: sending the response fails (the client has
gone and the server's ``send`` raises) and the request's task is cancelled (e.g. when a worker shuts
down). Without a pool that cost nothing (the orphaned connection was closed when it was garbage
collected); with a pool, each such request kept one of the pool's connections for good, and a pool
under a load of impatient clients ran dry (docs/performance.md, "Found on the way").
``tests/test_db_pool.py`` proves the pool whole after each way of ending a request.

The connections belong to the request's own thread (asgiref runs a request's synchronous code in one
thread per request), so they are closed there: after the request however it ended, shielded from
cancellation, before the request's thread is retired.
"""

from __future__ import annotations

import asyncio

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import connections


def _close_connections() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()


class ConnectionReturningASGIHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        async with ThreadSensitiveContext():
            try:
                await self.handle(scope, receive, send)
            finally:
                # In the request's thread (thread-sensitive context); shielded, so a cancelled request
                # still runs it: leaving the context waits for the thread to finish its queue.
                await asyncio.shield(sync_to_async(_close_connections)())


def get_asgi_application() -> ConnectionReturningASGIHandler:
    """Like :func:`django.core.asgi.get_asgi_application`, with :class:`ConnectionReturningASGIHandler`."""
    django.setup(set_prefix=False)
    return ConnectionReturningASGIHandler()
