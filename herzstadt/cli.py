"""The ``herzstadt`` command: run, set up and look after a herzstadt installation.

Exit codes (also in the README):
  0 success · 1 unexpected error · 2 wrong usage · 3 configuration error ·
  4 database unreachable · 5 address/port not available · 130 interrupted
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DATABASE = 4
EXIT_ADDRESS = 5
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure the user can act on: printed without a traceback, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")
    from herzstadt.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        raise CommandError(f"Configuration error: {exc}", EXIT_CONFIG) from exc
    except Exception as exc:
        from django.core.exceptions import ImproperlyConfigured

        if isinstance(exc, ImproperlyConfigured):
            raise CommandError(f"Configuration error: {exc}", EXIT_CONFIG) from exc
        raise


def _masked_database_url() -> str:
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    url = settings.CONFIG.database_url
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        url = urlunsplit(parts._replace(netloc=netloc))
    return url


def _check_database() -> None:
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(
            f"The database is unreachable ({_masked_database_url()}): {reason}\n"
            "Check DATABASE_URL and that the database server is running.",
            EXIT_DATABASE,
        ) from exc


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except PermissionError as exc:
            raise CommandError(
                f"Not allowed to listen on {host}:{port}. Choose a port above 1023 with --port.",
                EXIT_ADDRESS,
            ) from exc
        except OSError as exc:
            from herzstadt.server import describe_port_holders

            who = describe_port_holders(port) or (
                "Is another server running there? Stop it or choose another port with --port."
            )
            raise CommandError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. {who}",
                EXIT_ADDRESS,
            ) from exc


def _migrate(verbosity: int = 1) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
    # the cache table of the rate limits (a no-op with Redis or when it exists)
    call_command("createcachetable", verbosity=verbosity)


def _cache_table_missing() -> bool:
    from django.conf import settings
    from django.db import connection

    cache = settings.CACHES["default"]
    if not cache["BACKEND"].endswith("DatabaseCache"):
        return False
    return cache["LOCATION"] not in connection.introspection.table_names()


def _load_demo() -> str:
    from herzstadt.demo import load_demo

    return load_demo()


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - only for display
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _serve(host: str, port: int, workers: int, access_log: bool = False) -> None:
    from django.conf import settings

    from herzstadt import server

    try:
        server.ServerLimits.from_env()
    except server.ServerConfigError as exc:
        raise CommandError(f"Configuration error: {exc}", EXIT_CONFIG) from exc
    if settings.CONFIG.production:
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    _check_port(host, port)
    print(f"herzstadt is running at {_url(host, port)}  (stop with Ctrl+C)", flush=True)
    from herzstadt import worker

    background = worker.spawn_embedded()  # the background tasks, unless workers run apart
    try:
        server.serve(host, port, workers, access_log=access_log)
    finally:
        worker.stop_embedded(background)


# --- sub-commands -----------------------------------------------------------------------------


def _start_simulation(on: bool) -> None:
    """The living Pfaff-Areal of ``herzstadt demo``: switch the worker's task ``simulate`` on or
    off (``HERZSTADT_SIMULATE``, inherited by the worker; with it on, the demo loader writes the
    simulation's current values instead of the snapshot's old ones); when on, backfill the
    history. Called after loading the demo."""
    if not on:
        print("Simulation: off (the district keeps the snapshot's values)", flush=True)
        return
    from herzstadt.urbandata.simulation import runner

    print("Backfilling 30 days of history …", flush=True)
    print(f"History: {runner.backfill_demo()}", flush=True)
    print(
        f"Simulation: the district's values change every {runner.interval_from_env():g} s "
        "(--no-simulate: off)",
        flush=True,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings

    _check_port(args.host, args.port)
    _check_database()
    # addresses the demo prints (and the API hands out) name the port it runs on
    os.environ["HERZSTADT_PORT"] = str(args.port)
    print(f"Data directory: {settings.DATA_DIR}")
    print("Preparing the database …", flush=True)
    _migrate(verbosity=0)
    os.environ["HERZSTADT_SIMULATE"] = "0" if args.no_simulate else "1"
    print(f"Loading the demo city: {_load_demo()}", flush=True)
    _start_simulation(not args.no_simulate)
    _serve(args.host, args.port, args.workers)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _check_database()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()) or _cache_table_missing():
        print(
            "Warning: the database has unapplied migrations; run 'herzstadt migrate'.",
            file=sys.stderr,
        )
    _serve(args.host, args.port, args.workers, access_log=args.access_log)
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    _check_database()
    from herzstadt import worker

    try:
        tasks = worker.selected(args.task or ())
    except KeyError as exc:
        raise CommandError(f"Unknown background task: {exc.args[0]}", EXIT_USAGE) from exc
    if args.list:
        for task in tasks:
            print(f"{task.key}\t{task.label}")
        return EXIT_OK
    worker.run([t.key for t in tasks])
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    _setup_django()
    from herzstadt.ngsi.errors import NgsiError
    from herzstadt.urbandata.demo import DEMO_FILES
    from herzstadt.urbandata.simulation import district, publish, runner

    path = DEMO_FILES.get(args.city)
    if path is None:
        raise CommandError(f"No demo snapshot for the city {args.city!r}.", EXIT_USAGE)
    if args.interval < 0.1 or args.speed <= 0:
        raise CommandError("--interval must be at least 0.1 and --speed positive.", EXIT_USAGE)
    entities = district.load_snapshot(path)
    city = None
    if args.via != "http" or args.backfill:
        _check_database()
        from herzstadt.core.models import City

        city = City.objects.filter(slug=args.city).first()
        if city is None:
            raise CommandError(
                f"The city {args.city!r} is not in the database: run 'herzstadt loaddemo' first.",
                EXIT_USAGE,
            )
    sink: publish.Sink
    try:
        if args.via == "http":
            key = args.api_key or os.environ.get("HERZSTADT_SIMULATE_API_KEY", "")
            if not args.url or not key:
                raise CommandError(
                    "--via http needs --url and an API key with write access "
                    "(--api-key or HERZSTADT_SIMULATE_API_KEY).",
                    EXIT_USAGE,
                )
            sink = publish.HttpSink(args.url, key, args.tenant)
            where = publish.without_credentials(args.url)
        elif args.via == "mqtt":
            url = args.url or os.environ.get("HERZSTADT_MQTT_URL", "")
            if not url:
                raise CommandError("--via mqtt needs --url or HERZSTADT_MQTT_URL.", EXIT_USAGE)
            device_key = args.device_key or os.environ.get("HERZSTADT_SIMULATE_DEVICE_KEY", "")
            if not device_key:
                assert city is not None
                device_key = runner.simulator_device_key(city)
            prefix = os.environ.get("HERZSTADT_MQTT_TOPIC_PREFIX", "")
            sink = publish.MqttSink(publish.MqttTarget.parse(url), device_key, prefix)
            where = publish.without_credentials(url)
        else:
            assert city is not None
            sink = publish.InProcessSink(city.ngsi_tenant)
            where = "the broker (in-process)"
    except publish.PublishError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from exc
    if args.backfill:
        from herzstadt.urbandata.broker import get_broker
        from herzstadt.urbandata.simulation.backfill import backfill

        assert city is not None
        report = backfill(get_broker(), city.ngsi_tenant, entities, datetime.now(UTC))
        print(f"History: {report.summary()}", flush=True)

    def tick(at: datetime, written: int) -> None:
        print(f"{district.iso(at)}  {written} entities → {where}", flush=True)

    print(
        f"Simulating {len(district.simulated(entities))} entities of {args.city} "
        f"every {args.interval:g} s{' (once)' if args.once else ''} (stop with Ctrl+C)",
        flush=True,
    )
    try:
        runner.run(
            sink,
            entities,
            interval=args.interval,
            once=args.once,
            clock=runner.Clock(speed=args.speed),
            seed=args.seed,
            on_tick=tick,
        )
    except (publish.PublishError, NgsiError) as exc:
        raise CommandError(f"Publishing failed: {exc}", EXIT_ERROR) from exc
    finally:
        sink.close()
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    _check_database()
    _migrate(verbosity=args.verbosity)
    return EXIT_OK


def cmd_loaddemo(args: argparse.Namespace) -> int:
    _setup_django()
    _check_database()
    if not args.no_migrate:
        _migrate(verbosity=0)
    print(f"Demo loaded: {_load_demo()}")
    return EXIT_OK


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup_django()
    _check_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    user_model = get_user_model()
    try:
        validate_email(args.email)
    except ValidationError as exc:
        raise CommandError(f"Not a valid e-mail address: {args.email}", EXIT_USAGE) from exc
    username = args.username or args.email.split("@", 1)[0]
    if user_model.objects.filter(username=username).exists():
        raise CommandError(f"A user named {username!r} exists already.", EXIT_ERROR)
    password = os.environ.get("HERZSTADT_ADMIN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(
                "No terminal to ask for a password: set HERZSTADT_ADMIN_PASSWORD.", EXIT_USAGE
            )
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise CommandError("The passwords do not match.", EXIT_USAGE)
    candidate = user_model(username=username, email=args.email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CommandError("Password rejected: " + " ".join(exc.messages), EXIT_USAGE) from exc
    user_model.objects.create_superuser(username=username, email=args.email, password=password)
    print(f"Administrator {username!r} created. Sign in at /admin/.")
    return EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["herzstadt manage", *args.rest])
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------


def _server_options(parser: argparse.ArgumentParser, workers: int) -> None:
    parser.add_argument(
        "--host",
        default=os.environ.get("HERZSTADT_HOST", "127.0.0.1"),
        help="address to listen on (default: %(default)s; 0.0.0.0 for all)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("HERZSTADT_PORT", "8000")),
        help="port to listen on (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=workers,
        help="number of worker processes (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="herzstadt",
        description="herzstadt: a people-first smart city platform. Configuration comes from "
        "environment variables (see the README).",
        epilog="Exit codes: 0 ok, 1 error, 2 usage, 3 configuration, 4 database unreachable, "
        "5 address in use, 130 interrupted.",
    )
    from herzstadt import __version__

    parser.add_argument("--version", action="version", version=f"herzstadt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="set up the database, load the demo city and start the server",
        description="Create or migrate the database, load the demo city "
        "(Kaiserslautern with the Pfaff-Areal), start the server and print its URL.",
    )
    _server_options(demo, workers=1)
    demo.add_argument(
        "--no-simulate",
        action="store_true",
        help="no simulation: the district keeps the snapshot's values and has no history",
    )
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser(
        "simulate",
        help="publish simulated live values of the demo district",
        description="Publish the current simulated values of the Pfaff-Areal's sensors every "
        "--interval seconds: into the broker in-process (default), to a herzstadt over HTTP "
        "(NGSI-LD batch upsert with an API key) or over MQTT (the device topic "
        "herzstadt/<device-key>/entities). 'herzstadt demo' runs the simulation itself.",
    )
    simulate.add_argument(
        "--via",
        choices=["inprocess", "http", "mqtt"],
        default="inprocess",
        help="where the values go (default: %(default)s)",
    )
    simulate.add_argument(
        "--url",
        help="http: the herzstadt's base URL (e.g. https://daten.example.de); "
        "mqtt: the MQTT broker (default: HERZSTADT_MQTT_URL)",
    )
    simulate.add_argument(
        "--api-key", help="http: an API key with write access (or HERZSTADT_SIMULATE_API_KEY)"
    )
    simulate.add_argument("--tenant", default="", help="http: the NGSILD-Tenant (default: none)")
    simulate.add_argument(
        "--device-key",
        help="mqtt: a device key (or HERZSTADT_SIMULATE_DEVICE_KEY; default: the demo city's "
        "simulator device, re-keyed)",
    )
    simulate.add_argument(
        "--city", default="kaiserslautern", help="demo city (default: %(default)s)"
    )
    simulate.add_argument(
        "--interval", type=float, default=10.0, help="seconds between ticks (default: %(default)s)"
    )
    simulate.add_argument("--once", action="store_true", help="publish one tick and exit")
    simulate.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="time-lapse: simulated seconds per second (default: %(default)s)",
    )
    simulate.add_argument("--seed", type=int, default=11, help="seed of the simulation")
    simulate.add_argument(
        "--backfill",
        action="store_true",
        help="first write 30 days of history (15 minutes apart) through the temporal API, "
        "unless it is there",
    )
    simulate.set_defaults(func=cmd_simulate)

    serve = sub.add_parser(
        "serve",
        help="start the web server (ASGI, granian)",
        description="Start the web server. In production run it behind a reverse "
        "proxy with several workers, e.g. --workers 4.",
    )
    _server_options(serve, workers=int(os.environ.get("HERZSTADT_WORKERS", "1")))
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=cmd_serve)

    work = sub.add_parser(
        "worker",
        help="run the background tasks (notifications, MQTT devices, schedules)",
        description="Run the pillars' background tasks until stopped. 'herzstadt serve' starts "
        "one worker itself unless HERZSTADT_EMBEDDED_WORKER=0; in production run one or more "
        "'herzstadt worker' processes beside the server (they share the work).",
    )
    work.add_argument(
        "--task", action="append", metavar="KEY", help="run only this task (repeatable)"
    )
    work.add_argument("--list", action="store_true", help="list the tasks and exit")
    work.set_defaults(func=cmd_worker)

    migrate = sub.add_parser(
        "migrate",
        help="create or update the database tables",
        description="Create or update the database schema.",
    )
    migrate.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=1)
    migrate.set_defaults(func=cmd_migrate)

    createadmin = sub.add_parser(
        "createadmin",
        help="create an administrator account",
        description="Create an administrator (superuser). The password is "
        "asked for, or read from HERZSTADT_ADMIN_PASSWORD.",
    )
    createadmin.add_argument("--email", required=True, help="e-mail address of the administrator")
    createadmin.add_argument("--username", help="user name (default: the part before @)")
    createadmin.set_defaults(func=cmd_createadmin)

    loaddemo = sub.add_parser(
        "loaddemo",
        help="load (or refresh) the demo city",
        description="Load the demo city from the data files in the package. "
        "Idempotent: running it again updates the same records.",
    )
    loaddemo.add_argument("--no-migrate", action="store_true", help="do not migrate first")
    loaddemo.set_defaults(func=cmd_loaddemo)

    manage = sub.add_parser(
        "manage",
        help="run a Django management command",
        description="Run any Django management command, e.g. 'herzstadt manage check --deploy'.",
        add_help=False,
    )
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CommandError as exc:
        print(f"herzstadt: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("\nherzstadt: stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
