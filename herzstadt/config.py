"""Configuration from the environment (12-factor), independent of Django.

Every setting comes from an environment variable; ``docs``/README list them. Development gets safe,
convenient defaults (an embedded SQLite database in the data directory, a secret key generated once and
kept there). Production (``HERZSTADT_ENV=production``) has no insecure defaults: a missing secret key or
host list is a start-up error that says what to set.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from herzstadt.ngsi.config import parse_bool


class ConfigError(Exception):
    """The environment does not describe a runnable installation (the message says what to set)."""


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """A boolean variable, parsed like every ``HERZSTADT_NGSI_*`` flag (one parser)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        return parse_bool(name, raw)
    except ValueError as e:
        raise ConfigError(f"{e}.") from None


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Config:
    production: bool
    debug: bool
    data_dir: Path
    database_url: str
    secret_key: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    default_city: str
    map_tile_url: str
    map_attribution: str
    email_backend: str
    default_from_email: str
    log_level: str
    ngsi_database: str
    smtp_options: dict[str, object] = field(default_factory=dict)
    trusted_proxy_hops: int = 0
    redis_url: str = ""
    upload_max_pixels: int = 12_000_000
    upload_wait: float = 10.0
    #: the site's public base URL (https://herzstadt.example.org): URLs the NGSI-LD API hands out
    public_url: str = ""
    #: behind nginx: answer /media/ with X-Accel-Redirect to this internal location (web/media.py)
    media_accel_redirect: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def _secret_key(production: bool, data_dir: Path, environ: dict[str, str]) -> str:
    key = environ.get("HERZSTADT_SECRET_KEY", "").strip()
    if key:
        if production and len(key) < 32:
            raise ConfigError(
                "HERZSTADT_SECRET_KEY is too short for production (use 50 random chars)."
            )
        return key
    if production:
        raise ConfigError(
            "HERZSTADT_SECRET_KEY is not set. In production the secret key must come from the "
            "environment, e.g. HERZSTADT_SECRET_KEY=$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')"
        )
    # Development: a random key, generated once per data directory and kept there (never a constant).
    path = data_dir / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return key


def load(environ: dict[str, str] | None = None) -> Config:
    """Read the configuration from ``environ`` (default: the process environment)."""
    environ = dict(os.environ if environ is None else environ)
    mode = environ.get("HERZSTADT_ENV", "development").strip().lower()
    if mode not in {"development", "production"}:
        raise ConfigError(f"HERZSTADT_ENV={mode!r}: use 'development' or 'production'.")
    production = mode == "production"
    data_dir = Path(environ.get("HERZSTADT_DATA_DIR", "data")).expanduser().resolve()
    database_url = (
        environ.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'herzstadt.sqlite3'}"
    )
    if not database_url.startswith(("sqlite:", "postgres:", "postgresql:", "postgis:")):
        raise ConfigError(
            f"DATABASE_URL scheme not supported: {database_url.split(':', 1)[0]!r}; "
            "use sqlite:///path or postgresql://user@host:5432/db."
        )
    allowed_hosts = env_list(
        "HERZSTADT_ALLOWED_HOSTS",
        [] if production else ["127.0.0.1", "localhost", "[::1]"],
        environ,
    )
    if production and not allowed_hosts:
        raise ConfigError(
            "HERZSTADT_ALLOWED_HOSTS is not set. In production list the host names the site is "
            "served under, e.g. HERZSTADT_ALLOWED_HOSTS=herzstadt.kaiserslautern.de"
        )
    if production and env_bool("HERZSTADT_NGSI_OPEN_ACCESS", False, environ):
        raise ConfigError(
            "HERZSTADT_NGSI_OPEN_ACCESS is on. Open access lets anyone change or purge the city's"
            " data; it is for conformance runs and experiments, never for production."
        )
    return Config(
        production=production,
        debug=env_bool("HERZSTADT_DEBUG", False, environ),
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(production, data_dir, environ),
        allowed_hosts=allowed_hosts,
        csrf_trusted_origins=env_list("HERZSTADT_CSRF_TRUSTED_ORIGINS", [], environ),
        default_city=environ.get("HERZSTADT_DEFAULT_CITY", "").strip(),
        map_tile_url=environ.get("HERZSTADT_MAP_TILE_URL", "").strip(),
        map_attribution=environ.get("HERZSTADT_MAP_ATTRIBUTION", "").strip(),
        email_backend=environ.get(
            "HERZSTADT_EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if production
            else "django.core.mail.backends.console.EmailBackend",
        ),
        default_from_email=environ.get("HERZSTADT_FROM_EMAIL", "herzstadt <noreply@localhost>"),
        log_level=environ.get("HERZSTADT_LOG_LEVEL", "INFO").upper(),
        ngsi_database=environ.get("HERZSTADT_NGSI_DATABASE", "").strip()
        or (str(data_dir / "ngsi.sqlite3") if database_url.startswith("sqlite:") else database_url),
        smtp_options=_smtp_options(environ),
        trusted_proxy_hops=_proxy_hops(environ),
        redis_url=_redis_url(environ),
        upload_max_pixels=_whole_number(
            environ, "HERZSTADT_UPLOAD_MAX_PIXELS", 12_000_000, 100_000, 100_000_000
        ),
        upload_wait=_whole_number(environ, "HERZSTADT_UPLOAD_WAIT", 10, 1, 120),
        public_url=environ.get("HERZSTADT_PUBLIC_URL", "").strip().rstrip("/"),
        media_accel_redirect=_accel_location(environ),
    )


def _accel_location(environ: dict[str, str]) -> str:
    """HERZSTADT_MEDIA_ACCEL_REDIRECT: nginx's internal location for uploads, e.g. /_protected-media/."""
    raw = environ.get("HERZSTADT_MEDIA_ACCEL_REDIRECT", "").strip()
    if raw and not re.fullmatch(r"/[A-Za-z0-9_/-]*/", raw):
        raise ConfigError(
            "HERZSTADT_MEDIA_ACCEL_REDIRECT must be a location path that starts and ends with '/', "
            "e.g. /_protected-media/."
        )
    return raw


def _whole_number(environ: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high} (got {raw!r}).")
    return int(raw)


def _redis_url(environ: dict[str, str]) -> str:
    """HERZSTADT_REDIS_URL: the cache (rate limits) in Redis instead of the site's database."""
    url = environ.get("HERZSTADT_REDIS_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "HERZSTADT_REDIS_URL must start with redis://, rediss:// or unix://, "
            "e.g. redis://127.0.0.1:6379/0."
        )
    return url


def _proxy_hops(environ: dict[str, str]) -> int:
    """How many reverse proxies in front append to X-Forwarded-For (0: use the connecting address)."""
    raw = environ.get("HERZSTADT_TRUSTED_PROXY_HOPS", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError("HERZSTADT_TRUSTED_PROXY_HOPS must be a whole number from 0 to 5.")
    return int(raw)


def _smtp_options(environ: dict[str, str]) -> dict[str, object]:
    """SMTP settings for the default mailer (HERZSTADT_SMTP_HOST, _PORT, _USER, _PASSWORD, _TLS)."""
    if not environ.get("HERZSTADT_SMTP_HOST"):
        return {}
    try:
        port = int(environ.get("HERZSTADT_SMTP_PORT", "587"))
    except ValueError as exc:
        raise ConfigError("HERZSTADT_SMTP_PORT must be a number.") from exc
    return {
        "host": environ["HERZSTADT_SMTP_HOST"],
        "port": port,
        "username": environ.get("HERZSTADT_SMTP_USER", ""),
        "password": environ.get("HERZSTADT_SMTP_PASSWORD", ""),
        "use_tls": env_bool("HERZSTADT_SMTP_TLS", True, environ),
    }
