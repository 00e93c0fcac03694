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


def _lifespan_app(events, fail_startup=False):
    async def app(scope, receive, send):
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            events.append(message["type"])
            if message["type"] == "lifespan.startup":
                kind = "failed" if fail_startup else "complete"
                await send({"type": f"lifespan.startup.{kind}", "message": "no database"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def _no_lifespan_app(scope, receive, send):
    async def app(scope, receive, send):
        raise ValueError("only http")

    return app


def _lifespan(dispatcher):
    sent = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    asyncio.run(dispatcher({"type": "lifespan"}, receive, send))
    return sent


def test_lifespan_is_forwarded_to_every_mounted_application():
    events = []
    mounts = {"/a/": _lifespan_app(events), "/b/": _no_lifespan_app(None, None, None)}
    sent = _lifespan(Dispatcher(_app("django", []), mounts))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_a_failed_startup_of_a_mounted_application_fails_the_startup():
    sent = _lifespan(Dispatcher(_app("django", []), {"/a/": _lifespan_app([], fail_startup=True)}))
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "/a/: no database" in sent[0]["message"]


def test_the_site_mounts_what_the_registry_holds():
    from herzstadt import asgi

    assert [prefix for prefix, _app in asgi.application.mounts] == ["/ngsi-ld/"]
