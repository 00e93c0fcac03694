import pytest

#: Demos the ``demo`` fixture leaves out unless the test is marked ``full_demo``: the participatory
#: budget casts 420 ballots and counts them (seconds per test, and ~70 tests load the demo).
#: ``herzstadt demo``, the CLI test and the browser tests load everything.
SLOW_DEMOS = ("decisions",)


@pytest.fixture
def demo(request, db):
    """The demo city, loaded from the package's data files (every pillar's demo but SLOW_DEMOS unless the
    test is marked ``full_demo``; tests that need only a city, its Pfaff-Areal and a process use
    ``city``/``process``, built by tests/factories.py)."""
    from herzstadt.demo import load_demo

    load_demo(skip=() if request.node.get_closest_marker("full_demo") else SLOW_DEMOS)
    from herzstadt.core.models import City

    return City.objects.get(slug="kaiserslautern")


@pytest.fixture
def city(request, db):
    """Kaiserslautern with its Pfaff-Areal district and nothing else — or the demo's Kaiserslautern
    when the test also asks for ``demo``."""
    if "demo" in request.fixturenames:
        return request.getfixturevalue("demo")
    from tests.factories import make_city, make_district

    kaiserslautern = make_city()
    make_district(kaiserslautern)
    return kaiserslautern


# --- people and a running process, for the participation and accounts tests ----------------------
import itertools  # noqa: E402

_numbers = itertools.count(1)


@pytest.fixture
def make_user(db):
    """``make_user(role=None, city=None, verified=True, name=None)`` → a user with a verified e-mail
    address, a profile and (optionally) a role in a city."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import User

    from herzstadt.accounts.models import Profile
    from herzstadt.accounts.roles import set_role

    def make(role=None, city=None, verified=True, name=None):
        n = next(_numbers)
        email = f"person{n}@example.org"
        user = User.objects.create_user(
            username=f"person{n}", email=email, password="pw-Secret-123"
        )
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        Profile.objects.update_or_create(
            user=user, defaults={"display_name": name or f"Person {n}", "city": city}
        )
        if role is not None:
            set_role(city, user, role)
        return user

    return make


@pytest.fixture
def other_city(db):
    """A second hosted city, to prove that staff of one city never reach another's back office."""
    from herzstadt.core.models import City, CityRole

    return City.objects.create(
        slug="musterstadt", name="Musterstadt", role=CityRole.HOSTED, domain="musterstadt.example"
    )


@pytest.fixture
def actors(city, other_city, make_user):
    """The five kinds of actor every permission test covers (``None`` is the anonymous visitor)."""
    from herzstadt.accounts.models import Role

    return {
        "anonymous": None,
        "citizen": make_user(),
        "moderator": make_user(Role.MODERATOR, city),
        "staff": make_user(Role.STAFF, city),
        "other_staff": make_user(Role.STAFF, other_city),
    }


@pytest.fixture
def process(city):
    """An open process on the Pfaff-Areal, in its ideas phase, with two categories."""
    from herzstadt.core.models import District
    from tests.factories import make_process

    return make_process(city, District.objects.get(city=city, slug="pfaff-areal"))


@pytest.fixture
def point_inside(city):
    """(lon, lat) of a point inside the Pfaff-Areal."""
    from herzstadt.core.models import District

    d = District.objects.get(city=city, slug="pfaff-areal")
    return d.centroid_lon, d.centroid_lat


def login(client, user):
    """Sign ``user`` in on the test client (``None`` stays anonymous)."""
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def bo_url(name: str, lang: str = "de", **kwargs) -> str:
    """A back-office address (``backoffice:<name>``, whichever part registered it) in ``lang``."""
    from django.urls import reverse
    from django.utils import translation

    with translation.override(lang):
        return reverse(f"backoffice:{name}", kwargs=kwargs or None)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty in-process caches (a test's rows are rolled back without signals)."""
    from herzstadt.core.ttlcache import clear_all

    clear_all()
    yield
    clear_all()


# --- tests that touch no database ------------------------------------------------------------------
import os  # noqa: E402

#: For test modules of pure functions (counting rules, indicator formulas, charts): they touch no
#: database, so the PostgreSQL pass of ``.ci/run`` would only repeat the SQLite pass.
DATABASE_INDEPENDENT = pytest.mark.skipif(
    bool(os.environ.get("HERZSTADT_TEST_DATABASE_URL")),
    reason="no database: the SQLite pass runs these",
)
