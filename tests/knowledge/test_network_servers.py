"""Real installations on loopback, each with its own database: Kaiserslautern (the follower, on the
test database) follows Solingen and Wolfsburg (two more ``herzstadt serve`` processes with
databases of their own): following by address, harvesting, 304 on an unchanged catalogue, search,
replication with the report back to the origin, and a partner that goes down and comes back.

The partners' databases are copies of the test database taken after their city was written into
it (SQLite: the backup API; PostgreSQL: ``CREATE DATABASE … TEMPLATE``), so no extra migration runs.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import orjson
import pytest
import rdflib
from django.db import connection
from rdflib.namespace import PROV

from herzstadt.accounts.models import Role
from herzstadt.core.models import City, FieldOfAction, Measure
from herzstadt.knowledge.models import Partner, PartnerMeasure, SyncStatus
from herzstadt.knowledge.network import keys
from tests.factories import make_city
from tests.knowledge.netfactories import shared_measure
from tests.serverutil import (
    Server,
    environment_for_test_database,
    get,
    post_form,
    signed_in_cookies,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Copies:
    """Databases copied from the test database (dropped at the end)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.made: list[str] = []

    def copy(self, name: str) -> str:
        """A copy of the test database now; its DATABASE_URL."""
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            target = self.tmp / f"{name}.sqlite3"
            connection.close()
            with (
                contextlib.closing(sqlite3.connect(db["NAME"])) as src,
                contextlib.closing(sqlite3.connect(target)) as dst,
            ):
                src.backup(dst)
            return f"sqlite:///{target}"
        import psycopg

        copy = f"{db['NAME']}_{name}"[:60]
        connection.close()
        if hasattr(connection, "close_pool"):  # a template must have no other sessions
            connection.close_pool()
        dsn = dict(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres"
        )
        with psycopg.connect(dbname="postgres", autocommit=True, **dsn) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{copy}"')
            pg.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{db["NAME"]}"')
        self.made.append(copy)
        return f"postgresql://{dsn['user']}@{dsn['host']}:{dsn['port']}/{copy}"

    def drop(self) -> None:
        if not self.made:
            return
        import psycopg

        db = connection.settings_dict
        dsn = dict(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres"
        )
        with psycopg.connect(dbname="postgres", autocommit=True, **dsn) as pg:
            for name in self.made:
                pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _origin(copies: Copies, slug: str, name: str, title: str) -> tuple[str, str]:
    """A partner installation's database with one hosted city and one shared measure, and the key
    it issued to Kaiserslautern; the rows are removed from the test database again."""
    city = make_city(slug=slug, name=name)
    shared_measure(city, slug=f"{slug}-massnahme", title=title)
    _row, key = keys.issue(city, "Kaiserslautern")
    url = copies.copy(slug)
    Measure.objects.filter(city=city).delete()
    City.objects.filter(pk=city.pk).delete()
    return url, key


def _json(port: int, path: str):
    status, body = get(port, path)
    assert status == 200, (path, status, body[:500])
    return orjson.loads(body)


def test_three_installations(tmp_path, make_user):
    copies = Copies(tmp_path)
    servers: list[Server] = []
    try:
        sol_db, sol_key = _origin(copies, "solingen", "Solingen", "Klingenstadt-Mobilstation")
        wob_db, _wob_key = _origin(copies, "wolfsburg", "Wolfsburg", "Digitale Parkraumsteuerung")

        def start(name: str, env: dict[str, str]) -> Server:
            data = tmp_path / name
            data.mkdir(exist_ok=True)
            server = Server(data, env=env).start()
            servers.append(server)
            return server

        secret = "network-test-secret-key-" + "x" * 40
        sol = start("sol", {"DATABASE_URL": sol_db, "HERZSTADT_SECRET_KEY": secret})
        wob = start("wob", {"DATABASE_URL": wob_db, "HERZSTADT_SECRET_KEY": secret})

        kl = make_city()
        FieldOfAction.objects.create(city=kl, slug="mobilitaet", name="Mobilität")
        staff = make_user(Role.STAFF, kl)
        follower_port_env = {
            "HERZSTADT_NETWORK_ALLOW_PRIVATE": "1",
            "HERZSTADT_NETWORK_TIMEOUT": "5",
        }
        home = Server(tmp_path / "kl", env=environment_for_test_database(**follower_port_env))
        home.env["HERZSTADT_NETWORK_SELF_URL"] = f"http://127.0.0.1:{home.port}"
        (tmp_path / "kl").mkdir()
        home.start()
        servers.append(home)
        cookies = signed_in_cookies(staff)

        # following by address: the partner's index, then the first harvest
        for port in (sol.port, wob.port):
            status, body = post_form(
                home.port, "/verwaltung/netzwerk/", cookies, {"url": f"http://127.0.0.1:{port}"}
            )
            assert status == 302, body.decode(errors="replace")[-2000:]
        p_sol = Partner.objects.get(remote_slug="solingen")
        p_wob = Partner.objects.get(remote_slug="wolfsburg")
        assert p_sol.status == SyncStatus.OK and p_wob.status == SyncStatus.OK
        copy = PartnerMeasure.objects.get(partner=p_sol)
        assert copy.title == "Klingenstadt-Mobilstation" and copy.city == kl
        assert copy.remote_id == (
            f"http://127.0.0.1:{sol.port}/api/v1/network/solingen/measures/solingen-massnahme/"
        )

        # an unchanged catalogue: 304, the copy is not rewritten
        harvested = copy.harvested_at
        status, _ = post_form(
            home.port, f"/verwaltung/netzwerk/{p_sol.pk}/abgleichen/", cookies, {}
        )
        assert status == 302
        copy.refresh_from_db()
        p_sol.refresh_from_db()
        assert copy.harvested_at == harvested and p_sol.status == SyncStatus.OK
        status, _ = get(
            sol.port,
            "/api/v1/network/solingen/measures/?limit=100",
            Host=f"127.0.0.1:{sol.port}",
            If_None_Match=p_sol.etag,
        )
        assert status == 304

        # network-wide search: the partner's measure in the home city's catalogue
        status, body = get(home.port, "/wissen/?q=Klingenstadt")
        assert status == 200 and "Klingenstadt-Mobilstation" in body.decode()

        # replication with report-back
        Partner.objects.filter(pk=p_sol.pk).update(api_key=sol_key)
        status, body = post_form(
            home.port,
            f"/verwaltung/netzwerk/uebernehmen/{copy.pk}/",
            cookies,
            {
                "slug": "mobilstation",
                "title": "Mobilstation Pfaff",
                "field_of_action": str(FieldOfAction.objects.get(city=kl).pk),
                "profile": "on",
                "milestones": "on",
                "start_date": "2027-01-01",
            },
        )
        assert status == 302, body.decode(errors="replace")[-2000:]
        profile = kl.measure_set.get(slug="mobilstation").profile
        assert profile.origin_uri == copy.remote_id and not profile.report_pending
        record = _json(sol.port, "/api/v1/network/solingen/measures/solingen-massnahme/")
        assert record["reuses"][0]["city"] == "Kaiserslautern"
        assert record["reuses"][0]["measure_url"] == (
            f"http://127.0.0.1:{home.port}/api/v1/network/kaiserslautern/measures/mobilstation/"
        )
        # and the adopted measure carries its provenance in Kaiserslautern's own record
        own = _json(home.port, "/api/v1/network/kaiserslautern/measures/mobilstation/")
        assert own["provenance"]["origin_uri"] == copy.remote_id
        assert own["provenance"]["origin_city"] == "Solingen"
        # provenance in HTML and in RDF (W3C PROV) at the adopter ...
        status, body = get(home.port, "/wissen/mobilstation/")
        assert (
            status == 200 and "Übernommen aus" in body.decode() and copy.remote_id in body.decode()
        )
        status, body = get(
            home.port, "/dcat/measures/mobilstation.ttl", Host=f"127.0.0.1:{home.port}"
        )
        graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
        adopted = rdflib.URIRef(record["reuses"][0]["measure_url"])
        assert (adopted, PROV.wasDerivedFrom, rdflib.URIRef(copy.remote_id)) in graph
        # ... and the reuse at the origin, in HTML and in RDF
        status, body = get(sol.port, "/wissen/solingen-massnahme/", Host=f"127.0.0.1:{sol.port}")
        assert status == 200 and "Nachgenutzt von" in body.decode()
        assert "Mobilstation Pfaff" in body.decode()
        status, body = get(
            sol.port, "/dcat/measures/solingen-massnahme.ttl", Host=f"127.0.0.1:{sol.port}"
        )
        graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
        assert (adopted, PROV.wasDerivedFrom, rdflib.URIRef(copy.remote_id)) in graph

        # Wolfsburg goes down: error, the stale copy kept; back up: fine again
        wob_port = wob.port
        wob.stop()
        status, _ = post_form(
            home.port, f"/verwaltung/netzwerk/{p_wob.pk}/abgleichen/", cookies, {}
        )
        p_wob.refresh_from_db()
        assert p_wob.status == SyncStatus.ERROR and "refused" in p_wob.last_error
        assert PartnerMeasure.objects.filter(partner=p_wob).count() == 1
        page = post_form(home.port, "/verwaltung/netzwerk/", cookies, {"url": ""})[1].decode()
        assert re.search(r"Wolfsburg</strong></a>\s*<span class=\"badge badge-warning\">", page)
        wob.port = wob_port
        wob.start()
        status, _ = post_form(
            home.port, f"/verwaltung/netzwerk/{p_wob.pk}/abgleichen/", cookies, {}
        )
        p_wob.refresh_from_db()
        assert p_wob.status == SyncStatus.OK and p_wob.last_error == ""
        assert PartnerMeasure.objects.filter(partner=p_wob).count() == 1
    finally:
        for server in servers:
            server.stop()
        copies.drop()
