"""Django's synchronous (WSGI) request path behind the ASGI server, one worker thread per request.

Why: granian serves one interface per server, and the NGSI-LD broker is an ASGI application, so Django
is served through ASGI as well. Django's ASGI handler costs more than Django itself on small pages: each
request hops between the event loop and threads several times (the ``request_started`` signal, the
middleware chain, ``request_finished``, closing the connections: each a ``sync_to_async`` call), and the
handler reads the body and builds the request in coroutines. ``/healthz`` ran at less than half the rate
of the same view under granian's WSGI interface (issue 10, finding 11; docs/performance.md, "Citizen pages
as the data grows").

This handler keeps the ASGI interface and does the whole of Django's work in one call to a thread pool:
the request body is read on the event loop (into memory, or a temporary file above
``FILE_UPLOAD_MAX_MEMORY_SIZE``), then one worker thread builds the WSGI environ's request, runs Django's
``WSGIHandler`` (all middleware, signals and the view, synchronously), reads the response's body, closes
the response (``request_finished``) and closes the request's database connections (returning them to
the pool), whatever happened — also when the client has gone or the request's task is cancelled, since
the thread runs to its end on its own. Streaming responses are passed to the event loop chunk by chunk,
at most a few chunks ahead of the client.

``HERZSTADT_DJANGO_HANDLER=asgi`` switches back to Django's ASGI handler (``herzstadt.db.asgi``).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

#: worker threads per process: requests waiting for the database or for a slow client's body
THREADS = int(os.environ.get("HERZSTADT_DJANGO_THREADS", "32") or 32)
#: chunks of a streaming response the thread may produce ahead of the client
STREAM_AHEAD = 4

_END = object()


def _close_connections() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close()


def build_environ(scope: dict[str, Any], body: Any) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP scope."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ and key.startswith("HTTP_"):
            value = f"{environ[key]},{value}"
        environ[key] = value
    return environ


class ThreadedDjangoHandler:
    """An ASGI application that runs Django's WSGI handler in a worker thread (see the module)."""

    def __init__(self, threads: int = THREADS) -> None:
        self.wsgi = WSGIHandler()
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="django")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']!r}")
        body = await self._read_body(receive)
        if body is None:  # the client went away before its request was whole
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        room = threading.Semaphore(STREAM_AHEAD)
        gone = threading.Event()

        def emit(item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def run() -> None:
            result: Iterable[bytes] | None = None
            try:
                started: list[Any] = []

                def start_response(status: str, headers, exc_info=None):
                    started[:] = [status, headers]
                    return lambda data: None  # the legacy write() callable: Django never uses it

                result = self.wsgi(build_environ(scope, body), start_response)
                status, headers = started
                if getattr(result, "streaming", True) is False:
                    chunks: Iterable[bytes] = [b"".join(result)]
                else:
                    chunks = result
                emit(("start", status, headers))
                for chunk in chunks:
                    if gone.is_set():
                        break
                    if chunk:
                        room.acquire()
                        emit(("body", chunk))
            except BaseException as exc:  # handed to the event loop
                emit(("error", exc))
            finally:
                try:
                    if result is not None and hasattr(result, "close"):
                        result.close()  # request_finished: Django's per-request clean-up
                finally:
                    _close_connections()
                    body.close()
                    emit(_END)

        future = loop.run_in_executor(self.executor, run)
        try:
            await self._respond(queue, room, send)
        finally:
            gone.set()
            room.release()  # a thread waiting for room sees ``gone`` and stops
        await asyncio.shield(future)

    async def _respond(self, queue: asyncio.Queue, room: threading.Semaphore, send) -> None:
        started = False
        while True:
            item = await queue.get()
            if item is _END:
                if started:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            kind = item[0]
            if kind == "error":
                if started:
                    return  # headers are out: all one can do is end the connection
                raise item[1]
            if kind == "start":
                status, headers = item[1], item[2]
                await send(
                    {
                        "type": "http.response.start",
                        "status": int(status.split(" ", 1)[0]),
                        "headers": [
                            (name.lower().encode("latin-1"), value.encode("latin-1"))
                            for name, value in headers
                        ],
                    }
                )
                started = True
            else:
                room.release()
                await send({"type": "http.response.body", "body": item[1], "more_body": True})

    async def _read_body(self, receive):
        """The request body in memory, or in a temporary file above the in-memory upload size."""
        limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        body: Any = io.BytesIO()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body.close()
                return None
            chunk = message.get("body", b"")
            if chunk:
                if isinstance(body, io.BytesIO) and body.tell() + len(chunk) > limit:
                    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the request
                    spooled.write(body.getvalue())
                    body = spooled
                body.write(chunk)
            if not message.get("more_body", False):
                break
        body.seek(0)
        return body


def get_django_application():
    """Django for ``herzstadt.asgi``: this handler, or with ``HERZSTADT_DJANGO_HANDLER=asgi`` Django's
    ASGI handler (``herzstadt.db.asgi``)."""
    choice = os.environ.get("HERZSTADT_DJANGO_HANDLER", "thread").strip().lower() or "thread"
    if choice == "asgi":
        from herzstadt.db.asgi import get_asgi_application

        return get_asgi_application()
    if choice != "thread":
        raise ValueError(f"HERZSTADT_DJANGO_HANDLER must be thread or asgi, not {choice!r}")
    django.setup(set_prefix=False)
    return ThreadedDjangoHandler()
