"""The ASGI entry point: herzstadt's Django site, with room for framework-free sub-applications.

``application`` dispatches by path prefix: mounted sub-applications (e.g. the NGSI-LD broker under
``/ngsi-ld/``, which must be fast and does not need Django) get the request directly; everything else goes
to Django. Lifespan events go to every mounted application.
"""

from __future__ import annotations

import os

from herzstadt.db.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")

django_app = get_asgi_application()


class Dispatcher:
    def __init__(self, default, mounts: dict[str, object] | None = None) -> None:
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
            await self._lifespan(receive, send)
            return
        await self.default(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        # Sub-applications open their resources lazily; acknowledge start-up and shutdown.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _mounts() -> dict[str, object]:
    """Framework-free sub-applications by path prefix."""
    from herzstadt.urbandata.broker import ngsi_application

    return {"/ngsi-ld/": ngsi_application()}


application = Dispatcher(django_app, _mounts())
