"""The ASGI entry point: herzstadt's Django site, with the framework-free applications pillars mount.

``application`` dispatches by path prefix: every ``AsgiMount`` a pillar registered (e.g. the NGSI-LD
broker under ``/ngsi-ld/``, which must be fast and does not need Django) gets its requests directly;
everything else goes to Django. Lifespan events are forwarded to every mounted application, so each
can open and close its resources (Django itself takes no lifespan events).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from herzstadt.db.threaded import get_django_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")

django_app = get_django_application()  # sets Django up, so the registry is filled

log = logging.getLogger(__name__)

#: How long shutdown waits for a mounted application's lifespan to end after it confirmed.
SHUTDOWN_GRACE_SECONDS = 5


class _AppLifespan:
    """One mounted application's lifespan, run as a task fed through a queue."""

    def __init__(self, prefix: str, app) -> None:
        self.prefix, self.app = prefix, app
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.supported = True

    def start(self, scope: dict) -> None:
        async def run():
            try:
                await self.app(scope, self.inbox.get, self.outbox.put)
            except Exception:
                # An application that raises on lifespan does not support it (ASGI spec).
                log.debug(
                    "ASGI app at %s does not take lifespan events", self.prefix, exc_info=True
                )
            self.supported = False
            await self.outbox.put(None)

        self.task = asyncio.ensure_future(run())

    async def step(self, message: dict) -> dict | None:
        """Send ``message``; the application's answer (``None`` if it does not do lifespan)."""
        if not self.supported:
            return None
        await self.inbox.put(message)
        return await self.outbox.get()


class Dispatcher:
    def __init__(self, default, mounts: dict[str, Any] | None = None) -> None:
        self.default = default
        self.mounts = sorted((mounts or {}).items(), key=lambda item: -len(item[0]))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope["path"]
            for prefix, app in self.mounts:
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self.default(scope, receive, send)

    async def _lifespan(self, scope, receive, send) -> None:
        apps = [_AppLifespan(prefix, app) for prefix, app in self.mounts]
        for app in apps:
            app.start(scope)
        while True:
            message = await receive()
            phase = message["type"].removeprefix("lifespan.")  # startup | shutdown
            failures = []
            for app in apps:
                answer = await app.step(message)
                if answer is not None and answer["type"].endswith(".failed"):
                    failures.append(f"{app.prefix}: {answer.get('message', '')}")
            if failures:
                await send({"type": f"lifespan.{phase}.failed", "message": "; ".join(failures)})
            else:
                await send({"type": f"lifespan.{phase}.complete"})
            if failures:  # the server stops; nothing more will come
                for app in apps:
                    if app.task is not None:
                        app.task.cancel()
                return
            if phase == "shutdown":
                tasks = [a.task for a in apps if a.task is not None]
                if tasks:
                    await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
                return


def _mounts() -> dict[str, object]:
    """Every registered framework-free application by path prefix, built once per worker."""
    from herzstadt.core import registry

    return {prefix: factory() for prefix, factory in registry.asgi_mounts().items()}


application = Dispatcher(django_app, _mounts())
