"""Django settings for herzstadt, read from the environment by :mod:`herzstadt.config`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

from herzstadt import config as _config
from herzstadt.db import pool as _db_pool

CONFIG = _config.load()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG.data_dir
DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "herzstadt.accounts",  # before allauth, so its templates override allauth's
    "allauth",
    "allauth.account",
    "oauth2_provider",
    "herzstadt.web",
    "herzstadt.core",
    "herzstadt.urbandata",
    "herzstadt.participation",
    "herzstadt.knowledge",
    "herzstadt.compass",
    "herzstadt.decisions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "herzstadt.core.leichte_sprache.LeichteSpracheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "herzstadt.core.middleware.CityMiddleware",
]

ROOT_URLCONF = "herzstadt.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "herzstadt.web.context_processors.site",
            ],
        },
    },
]

ASGI_APPLICATION = "herzstadt.asgi.application"
WSGI_APPLICATION = "herzstadt.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# Embedded SQLite in the data directory by default (WAL, IMMEDIATE write transactions so
# concurrent writers queue instead of failing); PostgreSQL (PostGIS optional) via DATABASE_URL.
_db = dj_database_url.parse(CONFIG.database_url, conn_max_age=0)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _db["ENGINE"] == "django.contrib.gis.db.backends.postgis":
    # PostGIS is optional: geometry is computed with shapely, so plain PostgreSQL is enough.
    _db["ENGINE"] = "django.db.backends.postgresql"
# A bounded connection pool per worker process on PostgreSQL (herzstadt/db/pool.py): requests queue
# for a connection instead of opening one each (which ran into max_connections under load), and every
# request returns its connection, cancelled ones included (herzstadt/db/asgi.py).
HERZSTADT_DB_POOL = _db_pool.settings_from_env()
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "herzstadt.db.postgresql"
    _db.setdefault("OPTIONS", {})
    _pool_options = _db_pool.pool_options(HERZSTADT_DB_POOL)
    if _pool_options:
        _db["OPTIONS"]["pool"] = _pool_options
    # with the pool: the pool checks a connection before handing it out (PostgreSQL restarts)
    _db["CONN_HEALTH_CHECKS"] = bool(_pool_options)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Sign-up also asks for the public display name (and remembers the city of registration).
ACCOUNT_SIGNUP_FORM_CLASS = "herzstadt.accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "herzstadt.accounts.adapter.AccountAdapter"
ACCOUNT_USER_DISPLAY = (
    "herzstadt.accounts.adapter.user_display"  # the display name, never the e-mail
)
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = (
    True  # a reset for an unknown address gets a mail too: no enumeration
)
ACCOUNT_RATE_LIMITS = {
    # failed sign-ins per client address only: a per-account ("key") limit would let a stranger lock
    # the owner out. Each address also backs off per account after five failures (accounts/throttle.py)
    "login_failed": "30/15m/ip",
    # generous per IP (a workshop in the town hall shares one address), strict per e-mail address
    "signup": "20/h/ip",
    "reset_password": "20/h/ip,3/h/key",
    "reset_password_from_key": "20/h/ip",
    # the accessibility statement's feedback form (no account needed): enough for a workshop, not spam
    "a11y_feedback": "10/h/ip",
}
# Sign-up does the same work for a known e-mail address as for a new one (accounts/signup.py)
ACCOUNT_FORMS = {"signup": "herzstadt.accounts.signup.SignupForm"}
LOGIN_REDIRECT_URL = "/"
MAILERS = {"default": {"BACKEND": CONFIG.email_backend, "OPTIONS": CONFIG.smtp_options}}
DEFAULT_FROM_EMAIL = CONFIG.default_from_email

# --- Internationalisation: German first, English second ---------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static files: served by WhiteNoise from the package, no CDN --------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if CONFIG.production
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not CONFIG.production
# the schematic base maps (web/static/herzstadt/basemap/*.geojson)
WHITENOISE_MIMETYPES = {".geojson": "application/geo+json"}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Uploads are served by herzstadt/web/media.py, only for published content; behind nginx it answers
# with X-Accel-Redirect to this internal location instead of sending the bytes (deploy/nginx)
HERZSTADT_MEDIA_ACCEL_REDIRECT = CONFIG.media_accel_redirect
# Uploaded images: at most this many pixels (checked before decoding), one processed at a time per
# worker, waiting at most HERZSTADT_UPLOAD_WAIT seconds for the turn (participation/images.py)
HERZSTADT_UPLOAD_MAX_PIXELS = CONFIG.upload_max_pixels
HERZSTADT_UPLOAD_WAIT = CONFIG.upload_wait

# --- Security -----------------------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402


def _tile_origin(url: str) -> list[str]:
    """The origin of a configured map tile server, allowed as an image source (none by default)."""
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_tile_origin(CONFIG.map_tile_url)],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if CONFIG.production:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365

# --- herzstadt ----------------------------------------------------------------------------------
HERZSTADT_DEFAULT_CITY = CONFIG.default_city
HERZSTADT_MAP_TILE_URL = CONFIG.map_tile_url
HERZSTADT_MAP_ATTRIBUTION = CONFIG.map_attribution
# The NGSI-LD broker's store: its own SQLite file next to the site's, or the same PostgreSQL database
# (tables prefixed ngsi_). HERZSTADT_NGSI_DATABASE overrides it.
HERZSTADT_NGSI_DATABASE = CONFIG.ngsi_database
# Who may use the NGSI-LD API: dotted path of a callable returning a herzstadt.ngsi.auth.Verifier.
# The default: the hosted cities' tenants, their API clients (API keys, OAuth2 bearer tokens),
# device keys, open-data types and CORS origins, all managed in the back office ("API-Zugänge").
NGSI_VERIFIER = "herzstadt.urbandata.verifier.SiteVerifier"
# OAuth2 (django-oauth-toolkit): only the client-credentials grant, for API clients; token endpoint
# /api/v1/oauth/token/. Client secrets are stored hashed, access tokens only as SHA-256 checksums
# (RFC 9700); tokens live one hour.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "read": "Read entities",
        "write": "Create, change and delete entities",
        "subscriptions": "Manage subscriptions",
        "admin": "Purge and administration",
    },
    "DEFAULT_SCOPES": ["__all__"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # RFC 9700 (OAuth 2.0 Security BCP) everywhere: tokens stored only as checksums, no implicit
    # or password grant, no tokens in query strings, …
    **{
        f"COMPLIANT_BCP_RFC9700_{name}": True
        for name in (
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "PKCE_REQUIRED",
            "REDIRECT_URI_MATCHING",
            "REDIRECT_URI_SCHEME",
            "REFRESH_TOKEN",
            "TOKEN_STORAGE",
        )
    },
    # client secrets are 320 random bits: a fast salted hash (a slow one would make every token
    # request, also with a wrong secret, cost ~0.4 s of CPU); see urbandata/hashers.py
    "CLIENT_SECRET_HASHER": "sha256_random_secret",
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Django's default password hashers (people's passwords use the first), then the one for OAuth2
# client secrets.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "herzstadt.urbandata.hashers.RandomSecretHasher",
]
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Public base URL of the site (HERZSTADT_PUBLIC_URL); URLs the NGSI-LD API hands out use it.
HERZSTADT_PUBLIC_URL = CONFIG.public_url
# Reverse proxies in front that append to X-Forwarded-For (rate limits then use the client's address).
HERZSTADT_TRUSTED_PROXY_HOPS = CONFIG.trusted_proxy_hops
# ... and the same for allauth (its adapter asks herzstadt's client_ip; this covers allauth's own calls)
ALLAUTH_TRUSTED_PROXY_COUNT = CONFIG.trusted_proxy_hops

# A cache shared by every worker process (and machine): the rate limits of sign-in, sign-up, password
# resets and anonymous survey answers count in it, atomically (herzstadt/db/cache.py). Redis when
# HERZSTADT_REDIS_URL is set, else a table in the site's database (created by `herzstadt migrate`).
CACHES: dict[str, dict[str, Any]]
if CONFIG.redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG.redis_url,
            "KEY_PREFIX": "herzstadt",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "herzstadt.db.cache.DatabaseCache",
            "LOCATION": "herzstadt_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
