import pytest


@pytest.fixture
def demo(db):
    """The demo city, loaded from the package's data files."""
    from herzstadt.demo import load_demo

    load_demo()
    from herzstadt.core.models import City

    return City.objects.get(slug="kaiserslautern")
