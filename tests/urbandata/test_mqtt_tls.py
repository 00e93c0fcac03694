"""``mqtts://`` with a user and password: a Mosquitto of the test's own with TLS (a throwaway CA made
with openssl) and a password file; the listener verifies the server against ``?ca=``."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from herzstadt.urbandata.mqtt import Listener, MqttSettings
from tests.urbandata.test_ingest import CORE, device_key, entity
from tests.urbandata.test_mqtt import aq, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            shutil.which("mosquitto")
            and shutil.which("mosquitto_passwd")
            and shutil.which("openssl")
        ),
        reason="needs mosquitto, mosquitto_passwd and openssl",
    ),
]


@pytest.fixture
def city(city):
    """The city with a tenant of its own: the broker's PostgreSQL schema outlives a test run."""
    city.ngsi_tenant = f"dev{uuid.uuid4().hex[:12]}"
    city.save(update_fields=["ngsi_tenant"])
    return city


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_broker():
    # Mosquitto started as root drops to its own user: the files must be readable for it
    tmp_path = Path(tempfile.mkdtemp(prefix="hz-mqtt-tls-"))
    tmp_path.chmod(0o755)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        cwd=tmp_path,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=tmp_path,
    )
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
        cwd=tmp_path,
    )
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(tmp_path / "passwd"), "herzstadt", "s3cret/pw"],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\n"
        f"cafile {tmp_path / 'ca.pem'}\ncertfile {tmp_path / 'server.pem'}\n"
        f"keyfile {tmp_path / 'server.key'}\n"
        f"allow_anonymous false\npassword_file {tmp_path / 'passwd'}\npersistence false\n"
    )
    for f in tmp_path.iterdir():
        f.chmod(0o644)
    log = tmp_path / "log"
    with log.open("w") as err:
        proc = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stderr=err)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    assert proc.poll() is None, log.read_text()
    yield port, tmp_path / "ca.pem"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_mqtts_with_a_password(city, tls_broker):
    port, ca = tls_broker
    _cred, key = device_key(city, types=(CORE + "AirQualityObserved",))
    prefix = f"t-{uuid.uuid4().hex}"
    url = f"mqtts://herzstadt:s3cret%2Fpw@127.0.0.1:{port}/?ca={ca}&client_id=c-{uuid.uuid4().hex}"
    listener = Listener(MqttSettings.from_url(url, prefix=prefix))
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert listener.connected.wait(15)
        time.sleep(0.3)
        pub = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pub-{uuid.uuid4().hex}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        pub.username_pw_set("herzstadt", "s3cret/pw")
        pub.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        pub.publish(
            f"{prefix}/herzstadt/{key}/entities",
            orjson.dumps(aq("urn:ngsi-ld:AQ:tls", no2=3)),
            qos=1,
        ).wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        assert wait_for(lambda: listener.stats.written == 1)
        assert entity(city, "urn:ngsi-ld:AQ:tls")["no2"]["value"] == 3
    finally:
        stop.set()
        thread.join(20)


def test_a_wrong_password_or_an_unknown_ca_never_connects(tls_broker):
    port, ca = tls_broker
    for url in (
        f"mqtts://herzstadt:wrong@127.0.0.1:{port}/?ca={ca}",
        f"mqtts://herzstadt:s3cret%2Fpw@127.0.0.1:{port}/",  # the system CAs do not know the test CA
    ):
        listener = Listener(
            MqttSettings.from_url(
                url + ("&" if "?" in url else "?") + f"client_id=c-{uuid.uuid4().hex}"
            )
        )
        stop = threading.Event()
        thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
        thread.start()
        try:
            assert not listener.connected.wait(3)
            assert listener.stats.connects == 0
        finally:
            stop.set()
            thread.join(20)
            assert not thread.is_alive()
