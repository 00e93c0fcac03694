"""Run the NGSI-LD broker standalone: ``python -m herzstadt.ngsi [--port 1026] [--db PATH] [--workers N]``.

Configuration comes from ``NgsiConfig.from_env()`` (``HERZSTADT_NGSI_*``, ``HERZSTADT_DATA_DIR``,
``DATABASE_URL``); ``--db`` overrides the database.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m herzstadt.ngsi")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1026)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--db", help="database: path, sqlite:///path, :memory: or postgresql://...")
    args = ap.parse_args()
    if args.db:
        os.environ["HERZSTADT_NGSI_DATABASE"] = args.db
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
