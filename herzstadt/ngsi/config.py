"""Configuration of the NGSI-LD broker core, built by the caller (never from Django settings)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(name: str, raw: str) -> bool:
    """An environment flag: 1/true/yes/on or 0/false/no/off (any case); anything else is an
    error (a typo must not silently open or close something)."""
    v = raw.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


@dataclass
class NgsiConfig:
    #: ``sqlite:///path``, a plain file path, ``:memory:`` or ``postgresql://…`` (``?schema=`` optional)
    database: str = "data/ngsi.sqlite3"
    #: folder of preload maps (``*.json``: ``{"<context url>": "<file relative to the map>"}``)
    preload_dir: str | None = None
    #: extra preload map files
    preload_files: list[str] = field(default_factory=list)
    #: ship-and-use the ETSI test-suite preload map (contexts/etsi-test-suite-preload.json)
    etsi_preload: bool = True
    #: fetch remote @contexts over HTTP from the hosts of ``context_hosts`` (off: only shipped,
    #: preloaded and hosted ones, whatever the list says)
    allow_remote_contexts: bool = True
    #: hosts remote @contexts may be fetched from: ``host``, ``host:port``, ``*.example.org``
    #: (its subdomains); empty: none (only shipped, preloaded and hosted @contexts)
    context_hosts: list[str] = field(default_factory=list)
    #: let allow-listed hosts resolve to loopback/private/link-local addresses (a local test
    #: suite's context server); off: such addresses are never fetched from
    context_allow_private: bool = False
    #: seconds one fetch may take in total (connect, TLS, headers, body, redirects)
    context_fetch_timeout: float = 5.0
    #: largest remote @context document fetched (bytes)
    context_max_bytes: int = 1024 * 1024
    #: memory budget (bytes) of each cache of a worker's @context resolver: fetched/preloaded
    #: documents, inline (implicitly created) contexts, built contexts, hosted documents
    context_cache_bytes: int = 64 * 1024 * 1024
    #: URL announced for the core context (Link header, @context of responses)
    core_context_url: str = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    #: path prefix under which the API is served (the app sees full paths)
    base_path: str = "/ngsi-ld/v1"
    #: public base URL (``https://data.example.org``) of the broker: URLs the broker hands out
    #: (Link headers of implicitly created @contexts) are built from it, never from ``Host``
    #: (empty: ``http://localhost``; the standalone broker sets it from --host/--port)
    public_url: str = ""
    #: Host header values accepted (Django's syntax: ``example.org``, ``.example.org`` for it and
    #: its subdomains, ``*`` for any); other hosts get a 400
    allowed_hosts: list[str] = field(default_factory=lambda: ["*"])
    #: every request acts as an all-scopes principal of any tenant; tenants are created on write
    #: (conformance runs and experiments only; herzstadt refuses it in production)
    open_access: bool = False
    #: seconds a verifier's answer (credential, tenant policy) is cached per worker: a revoked
    #: credential keeps working at most this long
    auth_cache_ttl: float = 30.0
    auth_cache_entries: int = 10_000
    #: JSON file of hashed API keys and tenants for the standalone broker (``KeyFileVerifier``)
    api_keys_file: str | None = None
    #: threads per worker that run the use cases (handlers never run on the event loop)
    handler_threads: int = 8
    #: audit trail bounds per tenant: newest rows kept, days kept, pruning every n-th write
    audit_max_rows: int = 100_000
    audit_max_days: float = 90.0
    audit_prune_every: int = 1000
    default_limit: int = 20
    max_limit: int = 1000
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 64
    max_batch_entities: int = 10000
    #: wait for the disk at every commit (SQLite ``synchronous=FULL``, PostgreSQL
    #: ``synchronous_commit=on``). Off by default: a power failure or OS crash may lose the last
    #: moments of acknowledged writes, never consistency (SQLite WAL ``synchronous=NORMAL``,
    #: PostgreSQL ``synchronous_commit=off``); a crash of the broker process loses nothing.
    durable_commits: bool = False
    #: database connections per worker process: the PostgreSQL pool's size (requests beyond it
    #: queue), SQLite's reader connections beside its one writer
    db_pool_size: int = 4
    #: seconds a request waits for a free database connection before a 503
    db_pool_timeout: float = 10.0
    #: hosts notification endpoints may be on: ``host``, ``host:port``, ``*.example.org``, or
    #: ``*`` for any public host; empty: no endpoint is allowed (subscriptions are refused)
    notify_hosts: list[str] = field(default_factory=list)
    #: let allowed endpoint hosts resolve to loopback/private addresses (tests, a receiver in
    #: the same network); off: only public addresses are connected to
    notify_allow_private: bool = False
    #: hosts context source registrations may point at (``endpoint``): ``host``, ``host:port``,
    #: ``*.example.org``, or ``*`` for any public host; empty: registrations are refused
    csource_hosts: list[str] = field(default_factory=list)
    #: let allowed context source hosts be loopback/private addresses (tests, a context source
    #: in the same network); off: only public addresses
    csource_allow_private: bool = False
    #: seconds one delivery (connect, send, answer) may take
    notify_timeout: float = 10.0
    #: delivery attempts of one notification before it is given up (counted as failed)
    notify_max_attempts: int = 8
    #: seconds between polls of the change events / the outbox (the wake-up of the notifier)
    notify_poll: float = 0.01

    #: distributed operations (forwarding to the endpoints of ``csource_hosts``): seconds one
    #: forwarded request (connect, send, answer) may take
    csource_timeout: float = 5.0
    #: largest answer of a context source (bytes)
    csource_max_bytes: int = 4 * 1024 * 1024
    #: forwarded requests in flight at once per worker (the fan-out pool)
    csource_pool: int = 8

    #: temporal API: instances per attribute in one response; beyond it the answer is a 206
    #: with a ``Content-Range`` (ETSI GS CIM 009 6.3.10)
    temporal_max_instances: int = 10_000
    #: temporal API: days attribute instances are kept (per tenant it can be set otherwise;
    #: 0: forever) and seconds between two purges of the standalone broker
    temporal_retention_days: float = 0.0
    temporal_purge_interval: float = 3600.0

    @classmethod
    def from_env(cls, **overrides: Any) -> NgsiConfig:
        """Build from ``HERZSTADT_NGSI_*`` / ``HERZSTADT_DATA_DIR`` / ``DATABASE_URL`` variables."""
        env = os.environ
        cfg = cls()
        db = env.get("HERZSTADT_NGSI_DATABASE")
        if not db:
            url = env.get("DATABASE_URL", "")
            if url.startswith(("postgres://", "postgresql://")):
                db = url
            else:
                data = env.get("HERZSTADT_DATA_DIR", "data")
                db = str(Path(data) / "ngsi.sqlite3")
        cfg.database = db
        cfg.preload_dir = env.get("HERZSTADT_NGSI_PRELOAD_DIR") or None
        for name, var in (
            ("etsi_preload", "HERZSTADT_NGSI_ETSI_PRELOAD"),
            ("allow_remote_contexts", "HERZSTADT_NGSI_REMOTE_CONTEXTS"),
            ("context_allow_private", "HERZSTADT_NGSI_CONTEXT_ALLOW_PRIVATE"),
            ("open_access", "HERZSTADT_NGSI_OPEN_ACCESS"),
            ("durable_commits", "HERZSTADT_NGSI_DURABLE_COMMITS"),
            ("notify_allow_private", "HERZSTADT_NGSI_NOTIFY_ALLOW_PRIVATE"),
            ("csource_allow_private", "HERZSTADT_NGSI_CSOURCE_ALLOW_PRIVATE"),
        ):
            if var in env:
                setattr(cfg, name, parse_bool(var, env[var]))
        for name, conv in (
            ("context_fetch_timeout", float),
            ("context_max_bytes", int),
            ("context_cache_bytes", int),
            ("default_limit", int),
            ("max_limit", int),
            ("max_body_bytes", int),
            ("max_json_depth", int),
            ("auth_cache_ttl", float),
            ("auth_cache_entries", int),
            ("handler_threads", int),
            ("audit_max_rows", int),
            ("audit_max_days", float),
            ("audit_prune_every", int),
            ("db_pool_size", int),
            ("db_pool_timeout", float),
            ("notify_timeout", float),
            ("notify_max_attempts", int),
            ("notify_poll", float),
            ("csource_timeout", float),
            ("csource_max_bytes", int),
            ("csource_pool", int),
            ("temporal_max_instances", int),
            ("temporal_retention_days", float),
            ("temporal_purge_interval", float),
        ):
            v = env.get("HERZSTADT_NGSI_" + name.upper())
            if v:
                setattr(cfg, name, conv(v))
        if "HERZSTADT_NGSI_CONTEXT_HOSTS" in env:
            hosts = env["HERZSTADT_NGSI_CONTEXT_HOSTS"].split(",")
            cfg.context_hosts = [h.strip() for h in hosts if h.strip()]
        if "HERZSTADT_NGSI_NOTIFY_HOSTS" in env:
            hosts = env["HERZSTADT_NGSI_NOTIFY_HOSTS"].split(",")
            cfg.notify_hosts = [h.strip() for h in hosts if h.strip()]
        if "HERZSTADT_NGSI_CSOURCE_HOSTS" in env:
            hosts = env["HERZSTADT_NGSI_CSOURCE_HOSTS"].split(",")
            cfg.csource_hosts = [h.strip() for h in hosts if h.strip()]
        if env.get("HERZSTADT_NGSI_PUBLIC_URL"):
            cfg.public_url = env["HERZSTADT_NGSI_PUBLIC_URL"]
        if env.get("HERZSTADT_NGSI_ALLOWED_HOSTS"):
            hosts = env["HERZSTADT_NGSI_ALLOWED_HOSTS"].split(",")
            cfg.allowed_hosts = [h.strip() for h in hosts if h.strip()]
        if env.get("HERZSTADT_NGSI_API_KEYS_FILE"):
            cfg.api_keys_file = env["HERZSTADT_NGSI_API_KEYS_FILE"]
        if env.get("HERZSTADT_NGSI_CORE_CONTEXT_URL"):
            cfg.core_context_url = env["HERZSTADT_NGSI_CORE_CONTEXT_URL"]
        for k, v in overrides.items():
            setattr(cfg, k, v)
        return cfg
