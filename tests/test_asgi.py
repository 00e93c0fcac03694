import asyncio

from herzstadt.asgi import Dispatcher


def _app(name, calls):
    async def app(scope, receive, send):
        calls.append((name, scope["path"]))

    return app


def _run(dispatcher, scope):
    async def receive():
        return {"type": "http.request"}

    async def send(message):
        pass

    asyncio.run(dispatcher(scope, receive, send))


def test_mounted_prefix_goes_to_its_application_and_the_rest_to_django():
    calls = []
    dispatcher = Dispatcher(
        _app("django", calls), {"/ngsi-ld/": _app("ngsi", calls), "/ngsi-ld/v2/": _app("v2", calls)}
    )
    for path in ("/ngsi-ld/v1/entities", "/ngsi-ld/v2/x", "/", "/ngsi-ldx"):
        _run(dispatcher, {"type": "http", "path": path})
    assert calls == [
        ("ngsi", "/ngsi-ld/v1/entities"),
        ("v2", "/ngsi-ld/v2/x"),
        ("django", "/"),
        ("django", "/ngsi-ldx"),
    ]


def test_lifespan_is_acknowledged():
    sent = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(Dispatcher(_app("django", []))({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
