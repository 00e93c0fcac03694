"""The background-task seam: registry entries, the supervisor that restarts a failing task, and
the ``herzstadt worker`` command."""

from __future__ import annotations

import threading

import pytest

from herzstadt import worker
from herzstadt.core import registry
from herzstadt.core.registry import BackgroundTask, Pillar, RegistryError


def test_tasks_are_listed_in_order_and_keys_are_unique():
    a = BackgroundTask("t-a", lambda stop: None, order=5)
    b = BackgroundTask("t-b", lambda stop: None, order=1)
    registry.register(Pillar("bg-test", tasks=(a, b)))
    try:
        keys = [t.key for t in registry.background_tasks()]
        assert keys.index("t-b") < keys.index("t-a")
        with pytest.raises(RegistryError, match="background task"):
            registry.register(Pillar("bg-test-2", tasks=(BackgroundTask("t-a", lambda s: None),)))
        assert [t.key for t in worker.selected(["t-a"])] == ["t-a"]
        with pytest.raises(KeyError):
            worker.selected(["no-such-task"])
    finally:
        registry.unregister("bg-test")


def test_a_failing_task_is_restarted_and_stops_with_the_event(monkeypatch):
    calls: list[int] = []
    done = threading.Event()
    stop = threading.Event()

    def flaky(stop_event: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        done.set()
        stop_event.wait()

    waits: list[float] = []
    real_wait = threading.Event.wait

    def short_wait(self, timeout=None):  # restart pauses become instant
        if timeout is not None and self is stop:
            waits.append(timeout)
            return real_wait(self, 0.01)
        return real_wait(self, timeout)

    monkeypatch.setattr(threading.Event, "wait", short_wait)
    threads = worker.start([BackgroundTask("flaky", flaky)], stop)
    assert done.wait(5)
    stop.set()
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert len(calls) == 2
    assert waits and waits[0] == 1.0


def test_embedded_worker_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("HERZSTADT_EMBEDDED_WORKER", "0")
    assert worker.spawn_embedded() is None
    monkeypatch.setenv("HERZSTADT_EMBEDDED_WORKER", "1")
    assert worker.embedded_enabled()


@pytest.mark.django_db
def test_worker_command_lists_tasks(capsys):
    from herzstadt.cli import main

    registry.register(Pillar("bg-list", tasks=(BackgroundTask("listed", lambda s: None, "L"),)))
    try:
        assert main(["worker", "--list"]) == 0
        assert "listed\tL" in capsys.readouterr().out
        assert main(["worker", "--task", "nope"]) == 2
    finally:
        registry.unregister("bg-list")


def test_serve_starts_a_worker_child_that_stops_with_it(monkeypatch, tmp_path):
    """The embedded default: a real ``herzstadt worker`` process, ended gracefully by stop_embedded."""
    import time

    monkeypatch.setenv("HERZSTADT_EMBEDDED_WORKER", "1")
    monkeypatch.setenv("HERZSTADT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    import subprocess

    proc = worker.spawn_embedded(stderr=subprocess.PIPE)
    assert proc is not None
    try:
        line = proc.stderr.readline().decode()  # once it runs, its signal handlers are in place
        assert "herzstadt worker" in line and "runs" in line, line
        time.sleep(0.5)
        assert proc.poll() is None, "the worker exited on its own"
    finally:
        worker.stop_embedded(proc, grace=20)
    assert proc.returncode == 0
