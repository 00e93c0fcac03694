"""The deliverer: claims notification rows, sends them, records the outcome.

Claiming is one short write: ``UPDATE … SET lease_until = now + lease, lease_owner = me,
attempts = attempts + 1 WHERE id IN (due rows … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …``
(PostgreSQL skips rows another deliverer is claiming; SQLite serialises writes). A row whose
lease runs out (its deliverer was killed) is claimed again: delivery is at least once.

Sending happens in lanes, one per endpoint (scheme://host:port) with up to ``per_endpoint``
threads, each with its own keep-alive connection: a slow or failing endpoint fills only its own
lane (and the claimer stops claiming for a lane that is full), never the others.
Lanes are keyed by the endpoint URI.. Every send has
a timeout. Outcomes are written in batches: success deletes the row and counts timesSent; a
failure counts timesFailed and schedules the next attempt after an exponential backoff (1 s, 2 s,
4 s, … at most ``MAX_BACKOFF``) until ``max_attempts``, then the row is dropped.
"""

# ruff: noqa: S608 - SQL text from fixed table names and placeholders; all data is bound
from __future__ import annotations

import contextlib
import http.client
import logging
import queue
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from .. import model
from ..broker import Broker
from .endpoints import Endpoint, EndpointPolicy, EndpointRefused, parse

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
LINK_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
USER_AGENT = "herzstadt-ngsi-ld/1 (notifier)"


@dataclass(slots=True)
class Job:
    id: int
    tenant: str
    sub_id: str
    ep_key: str
    target: dict[str, Any]
    payload: dict[str, Any]
    attempts: int


@dataclass(slots=True)
class Outcome:
    job: Job
    ok: bool
    at: str
    error: str = ""


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    return float(min(MAX_BACKOFF, 2 ** max(0, attempts - 1)))


# ------------------------------------------------------------------------------- senders
class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address (the Host header keeps the name)."""

    def __init__(self, host: str, port: int, addr: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._addr = addr

    def connect(self) -> None:
        self.sock = socket.create_connection((self._addr, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addr: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addr = addr

    def connect(self) -> None:
        sock = socket.create_connection((self._addr, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _info(items: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in items or []:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = str(kv.get("value", ""))
    return out


def message(job: Job, now_iso: str) -> tuple[bytes, dict[str, str]]:
    """The notification body and the headers (Content-Type, Link, receiverInfo, tenant)."""
    t = job.target
    payload = dict(job.payload)
    payload["notifiedAt"] = now_iso
    ctx = t.get("context")
    headers = {"User-Agent": USER_AGENT}
    if t.get("accept") == "application/ld+json":
        headers["Content-Type"] = "application/ld+json"
        if ctx:  # every entity carries the @context, as in an ld+json query answer
            payload["data"] = [
                {**e, "@context": ctx} if isinstance(e, dict) else e for e in payload["data"]
            ]
    else:
        headers["Content-Type"] = "application/json"
        if ctx:
            headers["Link"] = f"<{ctx}>; {LINK_REL}"
    if job.tenant:
        headers["NGSILD-Tenant"] = job.tenant
    for k, v in _info(t.get("receiverInfo")).items():
        headers[k] = v
    return orjson.dumps(payload), headers


class Sender:
    """Sends jobs of one lane thread, keeping its connections open (HTTP keep-alive, one MQTT
    client per broker and options)."""

    def __init__(self, policy: EndpointPolicy, timeout: float):
        self.policy = policy
        self.timeout = timeout
        self.http: dict[str, http.client.HTTPConnection] = {}
        self.mqtt: dict[tuple[Any, ...], Any] = {}

    def close(self) -> None:
        for c in self.http.values():
            c.close()
        for m in self.mqtt.values():
            with contextlib.suppress(Exception):
                m.disconnect()
                m.loop_stop()
        self.http.clear()
        self.mqtt.clear()

    def send(self, job: Job) -> None:
        """Deliver or raise."""
        ep = parse(job.target["uri"])
        body, headers = message(job, model.now_iso())
        if ep.scheme.startswith("http"):
            self._http(ep, body, headers)
        else:
            self._mqtt(ep, job, body, headers)

    def _http(self, ep: Endpoint, body: bytes, headers: dict[str, str]) -> None:
        key = ep.key
        for attempt in (0, 1):  # a kept-alive connection the receiver closed: reconnect once
            conn = self.http.get(key)
            fresh = conn is None
            if conn is None:
                addr = self.policy.addresses(ep)[0]
                cls = _PinnedHTTPS if ep.scheme == "https" else _PinnedHTTP
                conn = cls(ep.host, ep.port, addr, self.timeout)
                self.http[key] = conn
            try:
                conn.request("POST", ep.path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
                    self.http.pop(key, None)
            except (OSError, http.client.HTTPException):
                conn.close()
                self.http.pop(key, None)
                if fresh or attempt:
                    raise
                continue
            if not 200 <= resp.status < 300:
                raise OSError(f"the endpoint answered HTTP {resp.status}")
            return

    def _mqtt(self, ep: Endpoint, job: Job, body: bytes, headers: dict[str, str]) -> None:
        import paho.mqtt.client as mqtt

        ninfo = _info(job.target.get("notifierInfo"))
        v5 = ninfo.get("MQTT-Version", "mqtt3.1.1").lower() in ("mqtt5.0", "mqtt5", "5")
        qos = 1 if str(ninfo.get("MQTT-QoS", "0")) == "1" else 0
        key = (ep.key, ep.user, ep.password, v5)
        client = self.mqtt.get(key)
        if client is None or not client.is_connected():
            if client is not None:
                with contextlib.suppress(Exception):
                    client.loop_stop()
            addr = self.policy.addresses(ep)[0]
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=f"herzstadt-notify-{uuid.uuid4().hex[:12]}",
                protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            )
            if ep.user is not None:
                client.username_pw_set(ep.user, ep.password)
            host = addr
            if ep.scheme == "mqtts":
                client.tls_set()
                host = ep.host  # the certificate names the host (checked above)
            connected = threading.Event()
            client.on_connect = lambda *a, **k: connected.set()
            client.connect(host, ep.port, keepalive=60)
            client.loop_start()
            if not connected.wait(self.timeout):
                client.loop_stop()
                raise OSError(f"MQTT broker {ep.key} did not accept the connection")
            self.mqtt[key] = client
        meta = dict(headers)
        meta.pop("User-Agent", None)
        msg = orjson.dumps({"metadata": meta, "body": orjson.loads(body)})
        info = client.publish(ep.path, msg, qos=qos)
        info.wait_for_publish(self.timeout)
        if not info.is_published():
            raise OSError(f"MQTT publish to {ep.key} not confirmed")


# ------------------------------------------------------------------------------- lanes
class Lane:
    """The queue and threads of one endpoint."""

    def __init__(self, owner: Deliverer, key: str):
        self.owner = owner
        self.key = key
        self.q: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.pending = 0
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def put(self, job: Job) -> None:
        with self.lock:
            self.pending += 1
            if len(self.threads) < min(self.owner.per_endpoint, self.pending):
                t = threading.Thread(target=self._work, name=f"notify-{self.key}", daemon=True)
                self.threads.append(t)
                t.start()
        self.q.put(job)

    def _work(self) -> None:
        sender = Sender(self.owner.policy, self.owner.timeout)
        try:
            while True:
                job = self.q.get()
                if job is None:
                    return
                try:
                    sender.send(job)
                    out = Outcome(job, True, model.now_iso())
                except (
                    EndpointRefused,
                    OSError,
                    ValueError,
                    RuntimeError,
                    http.client.HTTPException,
                ) as e:
                    out = Outcome(job, False, model.now_iso(), str(e))
                except Exception as e:  # a bug must not kill the lane: the row is retried
                    log.exception("notification %s: sending failed", job.id)
                    out = Outcome(job, False, model.now_iso(), repr(e))
                with self.lock:
                    self.pending -= 1
                self.owner.results.put(out)
                self.owner.flush_soon()
        finally:
            sender.close()

    def stop(self) -> None:
        for _ in self.threads:
            self.q.put(None)


class Deliverer:
    def __init__(
        self,
        broker: Broker,
        *,
        owner: str | None = None,
        per_endpoint: int = 4,
        lane_limit: int = 256,
    ):
        c = broker.config
        self.broker = broker
        self.store: Any = broker.store
        self.pg = self.store.dialect == "postgresql"
        self.p = self.store.placeholder
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.policy = EndpointPolicy(c.notify_hosts, allow_private=c.notify_allow_private)
        self.timeout = c.notify_timeout
        self.max_attempts = max(1, c.notify_max_attempts)
        self.lease = c.notify_timeout * 2 + 1.0
        self.per_endpoint = per_endpoint
        self.lane_limit = lane_limit
        self.lanes: dict[str, Lane] = {}
        self.results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.in_flight = 0
        self._flushing = threading.Lock()  # a lane is writing outcomes (others skip)
        self._flushing_rlock = threading.RLock()  # one writer of outcomes at a time
        self._count = threading.Lock()

    def due(self) -> bool:
        """Whether some notification is due (a cheap read before claiming)."""
        now = time.time()
        p = self.p
        with self.store.reading() as cur:
            cur.execute(
                f"SELECT 1 FROM ngsi_notification WHERE next_at <= {p} AND lease_until <= {p}"
                " LIMIT 1",
                (now, now),
            )
            return cur.fetchone() is not None

    def pump(self, limit: int = 500) -> int:
        """Claim due notifications (skipping full lanes) and hand them to their lanes."""
        if not self.due():
            return 0
        full = [k for k, lane in self.lanes.items() if lane.pending >= self.lane_limit]
        jobs = self.claim(limit, full)
        for job in jobs:
            lane = self.lanes.get(job.ep_key)
            if lane is None:
                lane = self.lanes[job.ep_key] = Lane(self, job.ep_key)
            with self._count:
                self.in_flight += 1
            lane.put(job)
        return len(jobs)

    def claim(self, limit: int, skip: list[str]) -> list[Job]:
        now = time.time()
        p = self.p
        cond = f"next_at <= {p} AND lease_until <= {p}"
        params: list[Any] = [now + self.lease, self.owner, now, now]
        if skip:
            cond += f" AND ep_key NOT IN ({','.join([p] * len(skip))})"
            params += skip
        params.append(limit)
        lock = " FOR UPDATE SKIP LOCKED" if self.pg else ""
        with self.store.write("") as tx:
            tx.cur.execute(
                f"UPDATE ngsi_notification SET lease_until={p}, lease_owner={p},"
                " attempts=attempts+1 WHERE id IN (SELECT id FROM ngsi_notification"
                f" WHERE {cond} ORDER BY next_at, id LIMIT {p}{lock})"
                " RETURNING id, tenant, sub_id, ep_key, target, payload, attempts",
                params,
            )
            rows = tx.cur.fetchall()
        jobs = [
            Job(int(r[0]), r[1], r[2], r[3], orjson.loads(r[4]), orjson.loads(r[5]), int(r[6]))
            for r in rows
        ]
        jobs.sort(key=lambda j: j.id)
        return jobs

    def flush_soon(self) -> None:
        """Called by a lane after a delivery: write the outcomes now unless another thread is
        writing them or many are waiting (then the notifier's next round writes them in one
        batch): under light load counters such as timesSent are current as soon as the receiver
        has answered."""
        if self.results.qsize() > 4:
            return  # under load the notifier's round writes them in one batch
        if self._flushing.acquire(blocking=False):
            try:
                self.flush()
            except Exception:
                log.exception("notification outcomes not written (the next round retries)")
            finally:
                self._flushing.release()

    def flush(self) -> int:
        """Write the outcomes gathered so far (one transaction)."""
        with self._flushing_rlock:
            return self._flush()

    def _flush(self) -> int:
        outs: list[Outcome] = []
        while True:
            try:
                outs.append(self.results.get_nowait())
            except queue.Empty:
                break
        if not outs:
            return 0
        try:
            self._write(outs)
        finally:  # written or not (then the leases run out and the rows are sent again)
            with self._count:
                self.in_flight -= len(outs)
        return len(outs)

    def _write(self, outs: list[Outcome]) -> None:
        p = self.p
        now = time.time()
        done, retry, failed_state, ok_state = [], [], [], []
        for o in outs:
            j = o.job
            if o.ok:
                done.append((j.id, self.owner))
                ok_state.append((j.tenant, j.sub_id, o.at, o.at, *((j.tenant, j.sub_id) * 2)))
            else:
                log.info("notification %s to %s failed: %s", j.id, j.target.get("uri"), o.error)
                if j.attempts >= self.max_attempts:
                    done.append((j.id, self.owner))
                else:
                    retry.append((now + backoff(j.attempts), j.id, self.owner))
                failed_state.append((j.tenant, j.sub_id, o.at, o.at, *((j.tenant, j.sub_id) * 2)))
        with self.store.write("") as tx:
            c = tx.cur
            if done:
                c.executemany(
                    f"DELETE FROM ngsi_notification WHERE id={p} AND lease_owner={p}", done
                )
            if retry:
                c.executemany(
                    f"UPDATE ngsi_notification SET next_at={p}, lease_until=0, lease_owner=NULL"
                    f" WHERE id={p} AND lease_owner={p}",
                    retry,
                )
            # the subscription still exists (an entity or a context source subscription)
            exists = (
                f" WHERE EXISTS (SELECT 1 FROM ngsi_subscription WHERE tenant={p} AND id={p})"
                f" OR EXISTS (SELECT 1 FROM ngsi_csource_sub WHERE tenant={p} AND id={p})"
            )
            if ok_state:
                c.executemany(
                    "INSERT INTO ngsi_sub_state(tenant, sub_id, times_sent, last_notification,"
                    f" last_success) SELECT {p}, {p}, 1, {p}, {p}{exists}"
                    " ON CONFLICT (tenant, sub_id) DO UPDATE SET"
                    " times_sent = ngsi_sub_state.times_sent + 1,"
                    " last_notification = excluded.last_notification,"
                    " last_success = excluded.last_success",
                    ok_state,
                )
            if failed_state:
                c.executemany(
                    "INSERT INTO ngsi_sub_state(tenant, sub_id, times_failed, last_notification,"
                    f" last_failure) SELECT {p}, {p}, 1, {p}, {p}{exists}"
                    " ON CONFLICT (tenant, sub_id) DO UPDATE SET"
                    " times_failed = ngsi_sub_state.times_failed + 1,"
                    " last_notification = excluded.last_notification,"
                    " last_failure = excluded.last_failure",
                    failed_state,
                )

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.stop()
