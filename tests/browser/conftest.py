"""Browser tests: Playwright for Python driving the system's Chromium (Debian's ``chromium`` package,
never a downloaded browser) against an in-process live server with the demo city loaded once for the
whole package. Marked ``browser``; skipped when the Chromium or axe-core (``npm ci``) is missing —
unless ``HERZSTADT_TEST_REQUIRE_BROWSER=1`` (CI), which turns a missing piece into a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HERZSTADT_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-Secret-123"


def _original_database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"]["NAME"])


_ORIGINAL_NAME = _original_database_name()


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if not AXE.exists():
        return f"no {AXE.relative_to(ROOT)} (npm ci)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is missing (uv sync)"
    return None


@pytest.fixture(scope="package")
def browser():
    if os.environ.get("HERZSTADT_TEST_BROWSER_ON_POSTGRESQL") == "0" and os.environ.get(
        "HERZSTADT_TEST_DATABASE_URL", ""
    ).startswith("postgres"):
        # .ci/run: the pages and their accessibility are checked in the SQLite pass; the
        # PostgreSQL pass covers the same views through the Django test client
        pytest.skip("browser tests run in the SQLite pass (HERZSTADT_TEST_BROWSER_ON_POSTGRESQL=0)")
    reason = _missing()
    if reason:
        if os.environ.get("HERZSTADT_TEST_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Site:
    """The running site: its address, the demo's pages and people, and signed-in browser contexts."""

    def __init__(self, url: str, browser) -> None:
        self.url = url
        self.browser = browser
        self.pages: dict[str, str] = {}
        self.staff = None
        self.citizen = None
        self.ids: dict[str, int] = {}

    def context(self, user=None, width: int = 1280, height: int = 900):
        """A fresh browser context (no cookies), signed in as ``user`` when given."""
        from django.conf import settings
        from django.test import Client

        context = self.browser.new_context(
            viewport={"width": width, "height": height}, bypass_csp=True
        )  # bypass_csp: axe-core is injected as an inline script
        if user is not None:
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": self.url}]
            )
        return context


def _demo_people():
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import User

    from herzstadt.accounts.models import Profile, Role
    from herzstadt.accounts.roles import set_role
    from herzstadt.core.models import City

    city = City.objects.get(slug="kaiserslautern")
    people = {}
    for key, role in (("admin", Role.ADMIN), ("citizen", None)):
        email = f"browser-{key}@example.org"
        user = User.objects.create_user(username=f"browser-{key}", email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        Profile.objects.update_or_create(
            user=user, defaults={"display_name": f"Browser {key}", "city": city}
        )
        if role is not None:
            set_role(city, user, role)
        people[key] = user
    return city, people


def _knowledge_objects(city, measure):
    """A shared profile (with provenance and a reuse) and a harvested partner measure: the demo's
    own when it has them, else made here."""
    from django.utils import timezone

    from herzstadt.knowledge.models import MeasureProfile, Partner, PartnerMeasure, Reuse

    profile = (
        MeasureProfile.objects.filter(city=city, shared=True).select_related("measure").first()
    )
    if profile is None:
        profile = MeasureProfile.objects.create(
            measure=measure,
            phase="pilot",
            problem="Zu wenig Wissen über die Nutzung.",
            implementation_steps=["Bedarf erheben", "Umsetzen", "Auswerten"],
            entity_types=["ParkingSpot", "AirQualityObserved"],
            datasets=[{"title": "Parkdaten", "url": "https://daten.example/park"}],
            software=[
                {"name": "ParkApp", "url": "https://git.example/parkapp", "licence": "EUPL-1.2"}
            ],
            cost_investment_eur=120000,
            contact_name="Referat Digitalisierung",
            contact_email="digital@example.org",
            origin_uri="https://wolfsburg.example/api/v1/network/wolfsburg/measures/park/",
            origin_city="Wolfsburg",
            origin_title="Parken mit Sensoren",
            origin_version=2,
            adopted_at=timezone.now(),
        )
        Reuse.objects.create(
            measure=measure,
            adopter_name="Cottbus",
            adopted_measure_url="https://cottbus.example/massnahmen/park/",
            adopted_title="Parken in Cottbus",
        )
    pm = PartnerMeasure.objects.filter(city=city).first()
    if pm is None:
        partner = Partner.objects.create(
            city=city, base_url="https://solingen.example", remote_slug="solingen", name="Solingen"
        )
        pm = PartnerMeasure.objects.create(
            partner=partner,
            remote_id="https://solingen.example/api/v1/network/solingen/measures/licht/",
            url="https://solingen.example/massnahmen/licht/",
            title="Licht nach Bedarf",
            summary="Straßenlaternen, die nur leuchten, wenn jemand kommt.",
            phase="operation",
            entity_types=["Streetlight"],
            data={"problem": "Hohe Stromkosten.", "implementation_steps": ["Planen", "Tauschen"]},
        )
    return profile.measure, pm


def _compass_objects(city, measure):
    """An indicator with values under a goal, an assessed measure and a process in its compass
    rating phase: the demo's own when it has them, else made here."""
    import datetime as dt

    from django.utils import timezone

    from herzstadt.compass.models import Assessment, Goal, Indicator, IndicatorValue, Value
    from herzstadt.participation.models import Phase, Process

    goal = Goal.objects.filter(city=city, indicators__isnull=False).first()
    if goal is None:
        value = Value.objects.create(city=city, slug="klima", name="Klima und Umwelt")
        goal = Goal.objects.create(city=city, value=value, slug="luft", title="Saubere Luft")
        ind = Indicator.objects.create(
            city=city,
            slug="no2",
            name="NO2-Mittel",
            unit="µg/m³",
            target=20,
            warning=40,
            formula={"kind": "constant", "value": 1},
        )
        ind.goals.add(goal)
        ind.measures.add(measure)
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        for i, v in enumerate((31.0, 28.5, None, 24.0)):
            end = now - dt.timedelta(days=3 - i)
            IndicatorValue.objects.create(
                city=city,
                indicator=ind,
                period_start=end - dt.timedelta(days=1),
                period_end=end,
                value=v,
                coverage=0.0 if v is None else 0.95,
                computed_at=end,
            )
        Indicator.objects.filter(pk=ind.pk).update(
            last_value=24.0, last_coverage=0.95, last_period_end=now
        )
    if not Assessment.objects.filter(measure=measure).exists():
        Assessment.objects.create(
            city=city, measure=measure, goal=goal, score=1, reason="Weniger Autoverkehr."
        )
    process = Process.objects.filter(city=city, phases__kind="compass-rating").first()
    if process is None:
        now = timezone.now()
        process = Process.objects.create(
            city=city,
            slug="kompass-bewertung",
            title="Kompass-Bewertung",
            summary="Bewerten Sie.",
            kind="compass",
            is_published=True,
        )
        Phase.objects.create(
            city=city,
            process=process,
            kind="compass-rating",
            title="Bewertung",
            start=now - dt.timedelta(days=5),
            end=now + dt.timedelta(days=20),
        )
    return goal, goal.indicators.first(), process


#: the demo's participatory budget (decisions pillar)
BUDGET = "buergerbudget-pfaff-areal"


def _page_paths(city, people) -> tuple[dict[str, str], dict[str, int]]:
    """Every page type, by name: the path (German; the tests translate it); and the ids of the
    objects these pages show."""
    from django.urls import reverse
    from django.utils import translation

    from herzstadt.core.models import District, Measure
    from herzstadt.participation.models import Idea, Process, Survey

    process = Process.objects.filter(city=city, ideas__isnull=False).distinct().first()
    idea = Idea.objects.filter(city=city, process=process, hidden_at__isnull=True).first()
    survey = Survey.objects.filter(city=city).first()
    district = District.objects.get(city=city, slug="pfaff-areal")  # has sensors: a table
    measure = Measure.objects.filter(city=city).order_by("pk").first()
    profiled, partner_measure = _knowledge_objects(city, measure)
    goal, indicator, rating = _compass_objects(city, measure)
    with translation.override("de"):
        pages = {
            "home": reverse("core:home"),
            "district": reverse("core:district", kwargs={"slug": district.slug}),
            "measures": reverse("core:measures"),
            "measure": reverse("core:measure", kwargs={"slug": measure.slug}),
            "measure-data": reverse(
                "core:measure", kwargs={"slug": "klima-und-luftmessnetz-pfaff-areal"}
            ),
            "urban-data": reverse("urbandata:type", args=[district.slug, "AirQualityObserved"]),
            "urban-data-personal": reverse(
                "urbandata:type", args=[district.slug, "SmartMeteringObservation"]
            ),
            "processes": reverse("participation:processes"),
            "process": reverse("participation:process", kwargs={"slug": process.slug}),
            "idea": reverse("participation:idea", kwargs={"slug": process.slug, "pk": idea.pk}),
            "idea-form": reverse("participation:idea-create", kwargs={"slug": process.slug}),
            "survey": reverse(
                "participation:survey", kwargs={"slug": survey.process.slug, "pk": survey.pk}
            ),
            "survey-results": reverse(
                "participation:survey-results",
                kwargs={"slug": survey.process.slug, "pk": survey.pk},
            ),
            "sign-in": reverse("account_login"),
            "sign-up": reverse("account_signup"),
            "profile": reverse("accounts:profile"),
            "notifications": reverse("accounts:notifications"),
            "privacy": reverse("privacy"),
            "bo-home": reverse("backoffice:home"),
            "bo-moderation": reverse("backoffice:moderation"),
            "bo-hidden": reverse("backoffice:hidden"),
            "bo-ideas": reverse("backoffice:ideas", kwargs={"slug": process.slug}),
            "bo-idea-answer": reverse(
                "backoffice:idea-answer", kwargs={"slug": process.slug, "pk": idea.pk}
            ),
            "bo-process": reverse("backoffice:process", kwargs={"slug": process.slug}),
            "bo-process-edit": reverse("backoffice:process-edit", kwargs={"slug": process.slug}),
            "bo-process-create": reverse("backoffice:process-create"),
            "bo-survey": reverse(
                "backoffice:survey-edit", kwargs={"slug": survey.process.slug, "pk": survey.pk}
            ),
            "bo-statistics": reverse("backoffice:statistics", kwargs={"slug": process.slug}),
            "bo-exports": reverse("backoffice:exports", kwargs={"slug": process.slug}),
            "bo-roles": reverse("backoffice:roles"),
            "bo-blocked": reverse("backoffice:blocked"),
            "bo-api-access": reverse("backoffice:api-access"),
            "bo-api-open-data": reverse("backoffice:api-open-data"),
            "bo-api-client-create": reverse("backoffice:api-client-create"),
            "knowledge": reverse("knowledge:catalogue"),
            "knowledge-search": reverse("knowledge:catalogue") + "?q=Parkplatz&phase=pilot",
            "knowledge-profile": reverse("knowledge:profile", kwargs={"slug": profiled.slug}),
            "knowledge-partner": reverse(
                "knowledge:partner-measure", kwargs={"pk": partner_measure.pk}
            ),
            "measure-knowledge": reverse("core:measure", kwargs={"slug": profiled.slug}),
            "bo-knowledge": reverse("backoffice:knowledge-profiles"),
            "compass": reverse("compass:home"),
            "compass-indicator": reverse("compass:indicator", kwargs={"slug": indicator.slug}),
            "compass-goal": reverse("compass:goal", kwargs={"slug": goal.slug}),
            "compass-measure": reverse("compass:measure", kwargs={"slug": measure.slug}),
            "compass-portfolio": reverse("compass:portfolio"),
            "compass-districts": reverse("compass:districts"),
            "compass-rate-list": reverse("compass:rate-list", kwargs={"slug": rating.slug}),
            "compass-rate": reverse(
                "compass:rate", kwargs={"slug": rating.slug, "measure": measure.slug}
            ),
            "bo-compass": reverse("backoffice:compass"),
            "bo-compass-indicator": reverse(
                "backoffice:compass-indicator", kwargs={"pk": indicator.pk}
            ),
            "bo-compass-goal": reverse("backoffice:compass-goal", kwargs={"pk": goal.pk}),
            "bo-compass-assess": reverse(
                "backoffice:compass-assess", kwargs={"slug": measure.slug}
            ),
            "bo-knowledge-edit": reverse(
                "backoffice:knowledge-profile-edit", kwargs={"slug": profiled.slug}
            ),
            "decision-results": reverse(
                "decisions:results", kwargs={"slug": "buergerbudget-pfaff-areal"}
            ),
            "decision-results-poll": reverse(
                "decisions:results", kwargs={"slug": "strassenname-pfaff-areal"}
            ),
            "bo-decision-results": reverse(
                "backoffice:decisions-results", kwargs={"slug": "buergerbudget-pfaff-areal"}
            ),
            # the decisions demo (participatory budget on the Pfaff-Areal, loaded by its DemoLoader)
            "decisions": reverse("decisions:index"),
            "decision": reverse("decisions:decision", kwargs={"slug": BUDGET}),
            "decision-proposal": reverse(
                "decisions:proposal", kwargs={"slug": BUDGET, "number": 1}
            ),
            "decision-vote": reverse("decisions:vote", kwargs={"slug": BUDGET}),
            "decision-log": reverse("decisions:log", kwargs={"slug": BUDGET}),
            "decision-receipt": reverse("decisions:receipt", kwargs={"slug": BUDGET}),
            "bo-decisions": reverse("backoffice:decisions"),
            "bo-decision-edit": reverse("backoffice:decisions-edit", kwargs={"slug": BUDGET}),
            "bo-decision-proposals": reverse(
                "backoffice:decisions-proposals", kwargs={"slug": BUDGET}
            ),
            "bo-decision-proposal-edit": reverse(
                "backoffice:decisions-proposal-edit", kwargs={"slug": BUDGET, "number": 1}
            ),
        }
    return pages, {"process": process.pk, "idea": idea.pk, "survey": survey.pk}


@pytest.fixture(scope="package")
def site(browser, django_db_setup, django_db_blocker):
    """The demo city on a live server in this process (its own thread), loaded once for the package
    and flushed afterwards, so the rest of the suite sees an empty database again."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from django.test.utils import override_settings, setup_databases, teardown_databases

    from herzstadt.demo import load_demo

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are synchronous and safe.
    unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    hosts = override_settings(ALLOWED_HOSTS=["127.0.0.1", "localhost"])
    hosts.enable()
    with django_db_blocker.unblock():
        own_databases = None
        if connection.settings_dict["NAME"] == _ORIGINAL_NAME:
            # pytest-django sets the test database up only for tests that ask for ``db``; these
            # tests share one loaded demo instead (per-test transactions would hide it from the
            # server thread), so when no other test of the run needs it, set it up here.
            own_databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        load_demo()
        city, people = _demo_people()
        from django.core.handlers.wsgi import WSGIHandler

        # The site exactly as it is deployed (static files by WhiteNoise), not wrapped in the handlers
        # Django's test server adds: those would serve MEDIA_URL, which the site itself may not.
        thread = LiveServerThread("127.0.0.1", lambda _test_app: WSGIHandler(), port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            s = Site(f"http://127.0.0.1:{thread.port}", browser)
            s.pages, s.ids = _page_paths(city, people)
            s.staff = people["admin"]
            s.citizen = people["citizen"]
            s.city = city
            yield s
        finally:
            thread.terminate()
            call_command("flush", interactive=False, verbosity=0)
            if own_databases is not None:
                teardown_databases(own_databases, verbosity=0)
            hosts.disable()
            if unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe


@pytest.fixture(autouse=True)
def _german_first():
    """Paths are reversed and translated from German, whatever language an earlier test of the run
    left active in this thread."""
    from django.utils import translation

    with translation.override("de"):
        yield
