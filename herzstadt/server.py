"""``herzstadt serve``: granian, configured so that idle sockets, dying workers and a killed main process
cannot take the site down.

- **Idle sockets** (issue 8, finding 4): granian holds one "backpressure" permit per *connection* and, in its
  automatic HTTP/1-or-2 mode, never times out a connection that sends nothing, so ~1,100 silent sockets took
  every permit for good. herzstadt serves HTTP/1.1 only (the reverse proxy speaks HTTP/1.1 to its upstream),
  where hyper's header-read timeout starts the moment a connection is accepted and again after every
  response: a connection that has not sent a whole request head within ``HERZSTADT_HEADER_TIMEOUT``
  seconds is closed, whether it is new or an idle keep-alive connection. The connection cap per worker
  (``HERZSTADT_MAX_CONNECTIONS``) is granian's backpressure: above it, new connections wait in the kernel's
  accept queue (``HERZSTADT_BACKLOG``) instead of costing memory; the open-files limit is raised to fit it.
- **Dying workers** (finding 11): granian ends the whole server when the same worker dies twice within
  5.5 s ("crash loop detected"). :class:`SupervisedServer` respawns a dead worker at once, waits a little
  longer before each further respawn of a worker that keeps dying (0.5 s, 1 s, 2 s, …) while the other
  workers go on serving, and gives up (exit code 1, for systemd to restart the service) only when one
  worker died more than :data:`MAX_CRASHES` times within :data:`CRASH_WINDOW` seconds.
- **A killed main process**: workers die with it (``PR_SET_PDEATHSIG`` with SIGKILL on Linux: the kernel
  ends them at once, with no Python code that could hang; elsewhere a watchdog thread that notices the new
  parent), so they never keep the port as orphans; and should orphans exist
  anyway (e.g. stopped processes, or a server of an older version), :func:`describe_port_holders` names
  them and says how to end them.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

log = logging.getLogger("herzstadt.server")

#: a worker that died more often than this within CRASH_WINDOW seconds is not respawned again
MAX_CRASHES = 5
CRASH_WINDOW = 60.0
#: longest wait before respawning a worker that keeps dying
MAX_RESPAWN_DELAY = 8.0
#: file descriptors a worker needs besides its client connections (database, files, pipes)
FD_RESERVE = 256
#: how long a worker whose main process is gone may take to finish its requests
ORPHAN_GRACE = 10.0


class ServerConfigError(ValueError):
    """An invalid HERZSTADT_* server setting (the message says which and what is allowed)."""


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    kind: Callable[[str], Any] = int,
) -> Any:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ServerConfigError(f"{name}={raw!r} is not a number.") from None
    if not low <= value <= high:
        raise ServerConfigError(f"{name} must lie between {low} and {high} (got {raw}).")
    return value


@dataclass(frozen=True)
class ServerLimits:
    """Timeouts and caps of ``herzstadt serve`` (environment variables in the README)."""

    #: seconds a connection may take to send a whole request head; also the idle time of a keep-alive
    #: connection between two requests (the proxy's upstream keep-alive must be shorter)
    header_timeout: float = 10.0
    #: open connections per worker; more wait in the kernel's accept queue
    max_connections: int = 2048
    #: length of the kernel's accept queue of the listening socket
    backlog: int = 1024
    #: keep connections open for further requests
    keep_alive: bool = True
    #: seconds workers may take to finish their requests on shutdown before they are killed
    shutdown_timeout: int = 30

    @classmethod
    def from_env(cls, environ=None) -> ServerLimits:
        from herzstadt.config import ConfigError, env_bool

        environ = os.environ if environ is None else environ
        try:
            keep_alive = env_bool("HERZSTADT_KEEP_ALIVE", True, dict(environ))
        except ConfigError as exc:
            raise ServerConfigError(str(exc)) from None
        return cls(
            header_timeout=_number(environ, "HERZSTADT_HEADER_TIMEOUT", 10.0, 1, 300, float),
            max_connections=_number(environ, "HERZSTADT_MAX_CONNECTIONS", 2048, 16, 100_000),
            backlog=_number(environ, "HERZSTADT_BACKLOG", 1024, 128, 65_535),
            keep_alive=keep_alive,
            shutdown_timeout=_number(environ, "HERZSTADT_SHUTDOWN_TIMEOUT", 30, 1, 1800),
        )


def raise_open_files_limit(limits: ServerLimits) -> ServerLimits:
    """Raise this process's soft limit of open files (inherited by the workers) so that a worker can hold
    ``max_connections`` sockets; where the hard limit is lower, lower the cap instead and say so."""
    needed = limits.max_connections + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        cap = max(16, soft - FD_RESERVE)
        print(
            f"Warning: the open-files limit is {soft}; connections per worker lowered from "
            f"{limits.max_connections} to {cap} (raise LimitNOFILE / ulimit -n to allow more).",
            file=sys.stderr,
        )
        return ServerLimits(**{**limits.__dict__, "max_connections": cap})
    return limits


# --- workers die with their main process ------------------------------------------------------------


def _set_parent_death_signal() -> None:
    """Linux: the kernel kills this process when the thread that forked it ends.

    SIGKILL, not SIGTERM: a main process only ends without stopping its workers when it was killed or
    crashed, and then a graceful shutdown buys nothing but a port held longer. A SIGTERM there ran
    granian's shutdown handler, which could hang with the GIL held (seen about once in three runs
    of ``test_serve_names_orphaned_workers_that_hold_the_port`` on a busy machine), and with it the
    watchdog thread below."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _watch_parent(parent_pid: int, grace: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    log.warning("the main process %s is gone: this worker stops", parent_pid)
    os.kill(os.getpid(), signal.SIGTERM)  # granian's graceful shutdown
    time.sleep(grace)
    os._exit(1)


def die_with_parent(parent_pid: int, grace: float = ORPHAN_GRACE) -> None:
    """Make this worker end when its main process ends, however that ends (``kill -9`` included)."""
    _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the main process died before the line above ran
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid, grace), name="herzstadt-parent-watch", daemon=True
    ).start()


def load_worker_application(parent_pid: int, grace: float, target: str):
    """granian's target loader, run in each worker before it serves: tie the worker's life to the main
    process, then import the ASGI application."""
    from granian._internal import load_target

    die_with_parent(parent_pid, grace)
    return load_target(target)


# --- respawning workers -------------------------------------------------------------------------------


def _supervised_server_class():
    from granian.server import Server

    class SupervisedServer(Server):
        """granian's multi-process server with herzstadt's respawn policy (see the module docstring)."""

        def _serve_loop(self, spawn_target, target_loader):
            crashes: dict[int, deque[float]] = {}
            while True:
                self.main_loop_interrupt.wait()
                self.main_loop_interrupt.clear()
                if self.interrupt_signal:
                    break
                if self.interrupt_children:
                    dead = list(dict.fromkeys(self.interrupt_children))
                    self.interrupt_children.clear()
                    if not self._respawn_dead(dead, crashes, spawn_target, target_loader):
                        self.interrupt_children.extend(dead)  # shutdown() then exits with code 1
                        break
                if self.reload_signal:
                    self._reload(spawn_target, target_loader)

        def _respawn_dead(self, dead, crashes, spawn_target, target_loader) -> bool:
            for idx in dead:
                now = time.monotonic()
                history = crashes.setdefault(idx, deque())
                history.append(now)
                while history and history[0] < now - CRASH_WINDOW:
                    history.popleft()
                if len(history) > MAX_CRASHES:
                    log.error(
                        "worker-%d died %d times within %d s; giving up",
                        idx + 1,
                        len(history),
                        CRASH_WINDOW,
                    )
                    return False
                delay = (
                    0.0 if len(history) == 1 else min(MAX_RESPAWN_DELAY, 0.25 * 2 ** len(history))
                )
                if delay:
                    log.warning("worker-%d died again; respawning in %.1f s", idx + 1, delay)
                    deadline = time.monotonic() + delay
                    while time.monotonic() < deadline and not self.interrupt_signal:
                        time.sleep(0.05)
                    if self.interrupt_signal:
                        return True
                self._respawn_workers([idx], spawn_target, target_loader)
            return True

    return SupervisedServer


# --- who holds a port -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortHolder:
    pid: int
    ppid: int
    command: str
    state: str

    @property
    def is_herzstadt(self) -> bool:
        return "herzstadt" in self.command

    @property
    def orphaned(self) -> bool:
        """A herzstadt worker whose main process is gone (its parent is no herzstadt process)."""
        if not self.is_herzstadt:
            return False
        parent = _process(self.ppid)
        return parent is None or not parent.is_herzstadt


def _process(pid: int) -> PortHolder | None:
    proc = Path(f"/proc/{pid}")
    try:
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        fields = {}
        for line in (proc / "status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        return None
    return PortHolder(
        pid=pid,
        ppid=int(fields.get("PPid", "0") or 0),
        command=command.strip(),
        state=fields.get("State", ""),
    )


def _is_herzstadt(pid: int) -> bool:
    process = _process(pid)
    return process is not None and process.is_herzstadt


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def port_holders(port: int) -> list[PortHolder]:
    """The processes (that this user may inspect) with a socket listening on ``port``; Linux only."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not inodes:
        return []
    holders = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            holder = _process(int(entry.name))
            if holder is not None:
                holders.append(holder)
    return sorted(holders, key=lambda h: h.pid)


def describe_port_holders(port: int) -> str | None:
    """One or two sentences on who keeps ``port`` and what to do, or None when nobody can be named."""
    holders = port_holders(port)
    if not holders:
        return None
    orphans = [h for h in holders if h.orphaned]
    if orphans:
        pids = " ".join(str(h.pid) for h in orphans)
        stopped = any(h.state.startswith("T") for h in orphans)
        return (
            f"It is held by {len(orphans)} orphaned herzstadt worker process(es) (PID {pids}) whose "
            f"main process has ended: {orphans[0].command}. "
            + (
                "They are stopped; resume them with `kill -CONT " + pids + "` or "
                if stopped
                else ""
            )
            + f"end them with `kill {pids}` (`kill -9 {pids}` if they do not stop), then start again."
        )
    herzstadt = [h for h in holders if h.is_herzstadt]
    if herzstadt:
        mains = sorted({h.ppid if _is_herzstadt(h.ppid) else h.pid for h in herzstadt})
        return (
            f"A herzstadt server is running there (PID {' '.join(str(p) for p in mains)}): "
            "stop it, or choose another port with --port."
        )
    first = holders[0]
    return f"It is held by PID {first.pid} ({first.command or 'unknown command'})."


# --- serve ---------------------------------------------------------------------------------------------


def build_server(host: str, port: int, workers: int, access_log: bool, limits: ServerLimits):
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    server_class = _supervised_server_class()
    return server_class(
        "herzstadt.asgi:application",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=int(limits.header_timeout * 1000), keep_alive=limits.keep_alive
        ),
        backlog=limits.backlog,
        backpressure=limits.max_connections,
        log_access=access_log,
        respawn_failed_workers=True,
        workers_kill_timeout=limits.shutdown_timeout,
    )


def release_database() -> None:
    """Close this process's database connections and pool before the workers are forked: a worker must
    never share a connection (or a pool's threads) with its main process. Each worker sizes and opens
    its own pool when it first needs a connection (herzstadt/db/pool.py)."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
    for conn in connections.all():
        pools = getattr(conn, "_connection_pools", None)
        if pools and conn.alias in pools:
            conn.close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper only


def serve(host: str, port: int, workers: int, access_log: bool = False) -> None:
    """Run the server in this process until it is stopped (SIGINT/SIGTERM)."""
    limits = raise_open_files_limit(ServerLimits.from_env())
    os.environ["HERZSTADT_SERVE_WORKERS"] = str(workers)  # inherited: each worker sizes its pool
    release_database()
    server = build_server(host, port, workers, access_log, limits)
    loader = partial(load_worker_application, os.getpid(), ORPHAN_GRACE)
    server.serve(target_loader=loader)
