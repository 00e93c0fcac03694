"""Run the NGSI-LD broker standalone: ``python -m herzstadt.ngsi [--port 1026] [--db PATH] [--workers N]``.

Configuration comes from ``NgsiConfig.from_env()`` (``HERZSTADT_NGSI_*``, ``HERZSTADT_DATA_DIR``,
``DATABASE_URL``); ``--db`` overrides the database. Access: ``HERZSTADT_NGSI_API_KEYS_FILE`` (API
keys, see ``herzstadt.ngsi.auth.KeyFileVerifier``) or ``HERZSTADT_NGSI_OPEN_ACCESS=1`` (anyone may
do anything: conformance runs, experiments); with neither, only @contexts can be read.

The server sends notifications itself (a notifier thread per worker process; off with
``HERZSTADT_NGSI_NOTIFIER=0``). ``python -m herzstadt.ngsi notify`` runs a notifier alone (more
processes may run beside the server; they share the work through the database).

``python -m herzstadt.ngsi hash-key [KEY]`` prints a new random API key (or hashes KEY) with the
SHA-256 hash to put into the keys file.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys


def hash_key(argv: list[str]) -> None:
    from herzstadt.ngsi.auth import hash_key as digest

    key = argv[0] if argv else secrets.token_urlsafe(32)
    if not argv:
        print(f"key:    {key}")
    print(f"sha256: {digest(key)}")


def notify(argv: list[str]) -> None:
    """Run a notifier until SIGTERM/SIGINT."""
    import logging
    import signal
    import threading

    from herzstadt.ngsi.notify.runner import Notifier

    ap = argparse.ArgumentParser(prog="python -m herzstadt.ngsi notify")
    ap.add_argument("--db", help="database (as for the server)")
    args = ap.parse_args(argv)
    if args.db:
        os.environ["HERZSTADT_NGSI_DATABASE"] = args.db
    logging.basicConfig(level=logging.INFO)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Notifier().run(stop)


def main() -> None:
    if sys.argv[1:2] == ["hash-key"]:
        hash_key(sys.argv[2:])
        return
    if sys.argv[1:2] == ["notify"]:
        notify(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(prog="python -m herzstadt.ngsi")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1026)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--db", help="database: path, sqlite:///path, :memory: or postgresql://...")
    args = ap.parse_args()
    if args.db:
        os.environ["HERZSTADT_NGSI_DATABASE"] = args.db
    # URLs the broker hands out point at this server unless a public URL is configured
    host = f"[{args.host}]" if ":" in args.host else args.host
    os.environ.setdefault("HERZSTADT_NGSI_PUBLIC_URL", f"http://{host}:{args.port}")
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "herzstadt.ngsi.asgi:app_from_env",
        address=args.host,
        port=args.port,
        workers=args.workers,
        interface=Interfaces.ASGI,
        factory=True,
    ).serve()


if __name__ == "__main__":
    main()
