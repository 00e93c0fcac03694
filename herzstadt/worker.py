"""``herzstadt worker``: runs the pillars' background tasks (the registry's ``BackgroundTask``s).

Each task runs in a thread of its own until the process is asked to stop (SIGTERM/SIGINT); a task
that raises is logged and restarted after a pause that doubles up to a minute (reset after it ran
for a minute without failing), so one broken task never stops the others. Several worker processes
may run at once (production: ``herzstadt worker`` under systemd, see ``deploy/``); the tasks claim
shared work themselves. ``herzstadt serve`` starts one worker process as its child for the embedded
default (``HERZSTADT_EMBEDDED_WORKER=0`` turns that off when workers run separately).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from herzstadt.core.registry import BackgroundTask

log = logging.getLogger("herzstadt.worker")

#: pauses before a crashed task is restarted: 1 s, doubling, at most this
MAX_RESTART_PAUSE = 60.0


def _supervise(task: BackgroundTask, stop: threading.Event) -> None:
    pause = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            task.run(stop)
        except Exception:
            log.exception("background task %s failed; restarting in %.0f s", task.key, pause)
        else:
            if stop.is_set():
                return
            log.warning("background task %s returned; restarting in %.0f s", task.key, pause)
        if time.monotonic() - started > MAX_RESTART_PAUSE:
            pause = 1.0
        stop.wait(pause)
        pause = min(pause * 2, MAX_RESTART_PAUSE)


def start(tasks: Sequence[BackgroundTask], stop: threading.Event) -> list[threading.Thread]:
    """Start ``tasks`` in daemon threads that run until ``stop`` is set."""
    threads = []
    for task in tasks:
        t = threading.Thread(
            target=_supervise, args=(task, stop), name=f"task-{task.key}", daemon=True
        )
        t.start()
        threads.append(t)
    return threads


def selected(only: Sequence[str] = ()) -> list[BackgroundTask]:
    """The registered tasks, or those named in ``only`` (unknown names raise ``KeyError``)."""
    from herzstadt.core import registry

    tasks = registry.background_tasks()
    if not only:
        return tasks
    by_key = {t.key: t for t in tasks}
    return [by_key[k] for k in only]


def run(only: Sequence[str] = (), stop: threading.Event | None = None, grace: float = 10.0) -> None:
    """Run the tasks until SIGTERM/SIGINT (or ``stop``), then give them ``grace`` seconds."""
    stop = stop or threading.Event()
    tasks = selected(only)

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    names = ", ".join(t.key for t in tasks) or "no tasks"
    print(f"herzstadt worker {os.getpid()} runs {names}", file=sys.stderr, flush=True)
    threads = start(tasks, stop)
    while not stop.wait(1.0):
        pass
    deadline = time.monotonic() + grace
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def embedded_enabled() -> bool:
    return os.environ.get("HERZSTADT_EMBEDDED_WORKER", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def spawn_embedded(**popen: object) -> subprocess.Popen[bytes] | None:
    """Start ``herzstadt worker`` as a child of the serving process (the embedded default). It gets
    SIGKILL when its parent dies (Linux), so it never outlives ``herzstadt serve``."""
    if not embedded_enabled():
        return None

    def _die_with_parent() -> None:  # runs in the child between fork and exec
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    return subprocess.Popen(
        [sys.executable, "-m", "herzstadt", "worker"],
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        **popen,  # type: ignore[call-overload]
    )


def stop_embedded(proc: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
