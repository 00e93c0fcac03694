"""Crash safety: the server and the notifier processes are killed with SIGKILL while
notifications are being delivered; after a restart every notification arrives (at least once)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

from tests.serverutil import ROOT, clean_environment, free_port

from .conftest import db_url, until

N = 120


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "herzstadt.ngsi", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: granian's worker dies with it
    )


def _kill(p: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    p.wait(10)


def _post(port: int, path: str, body: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def _up(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/ngsi-ld/v1/types")
        conn.getresponse().read()
        conn.close()
        return True
    except OSError:
        return False


def test_sigkill_server_and_notifier_during_delivery(backend, tmp_path, receiver):
    url, drop = db_url(backend, tmp_path)
    port = free_port()
    env = clean_environment(
        HERZSTADT_NGSI_DATABASE=url,
        HERZSTADT_NGSI_OPEN_ACCESS="1",
        HERZSTADT_NGSI_NOTIFY_HOSTS=f"127.0.0.1:{receiver.port}",
        HERZSTADT_NGSI_NOTIFY_ALLOW_PRIVATE="1",
        HERZSTADT_NGSI_NOTIFY_TIMEOUT="1",
        HERZSTADT_NGSI_ETSI_PRELOAD="0",
        HERZSTADT_NGSI_REMOTE_CONTEXTS="0",
    )
    server_env = {**env, "HERZSTADT_NGSI_NOTIFIER": "0"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        server = _start(["--port", str(port)], server_env)
        procs.append(server)
        until(lambda: _up(port), timeout=30)
        sub = {
            "id": "urn:ngsi-ld:Subscription:crash",
            "type": "Subscription",
            "entities": [{"type": "Sensor"}],
            "notification": {"endpoint": {"uri": receiver.url()}},
        }
        assert _post(port, "/ngsi-ld/v1/subscriptions", sub) == 201
        receiver.delay = 0.02  # deliveries are in flight when the processes die
        workers = [_start(["notify"], env), _start(["notify"], env)]
        procs += workers
        written = 0

        def write(k: int) -> None:
            nonlocal written
            for _ in range(k):
                e = {
                    "id": f"urn:ngsi-ld:Sensor:s{written}",
                    "type": "Sensor",
                    "n": {"type": "Property", "value": written},
                }
                assert _post(port, "/ngsi-ld/v1/entities", e) == 201
                written += 1
                time.sleep(0.005)

        write(1)
        until(receiver.ids, timeout=30)  # the notifiers are up
        writer = threading.Thread(target=write, args=(N // 2,))
        writer.start()
        until(lambda: len(receiver.ids()) >= 10, timeout=30)
        for w in workers:  # killed in the middle of delivering
            _kill(w)
        writer.join()
        _kill(server)  # and the server, with changes not yet dispatched
        assert len(receiver.ids()) < written  # something was left to do
        server = _start(["--port", str(port)], server_env)
        procs.append(server)
        until(lambda: _up(port), timeout=30)
        procs.append(_start(["notify"], env))
        write(N - written)
        until(lambda: len(receiver.ids()) >= N, timeout=60)
        assert receiver.ids() == {f"urn:ngsi-ld:Sensor:s{i}" for i in range(N)}
    finally:
        for p in procs:
            _kill(p)
        drop()
