"""A new pillar is one package plus one registration: a throw-away pillar registered here appears
with its citizen URL, API URL, navigation entry, panels, back-office section, personal-data export and
erasure, demo loader, notification kind, phase kind, dataset and ASGI mount — and nothing else of the
platform had to change."""

import asyncio
import json
import types

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.urls import path

from herzstadt.core import registry
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db

ERASED = []


def page(request):
    template = engines["django"].from_string(
        '{% extends "web/base.html" %}{% block content %}<p>Seed library of the city</p>'
        "{% endblock %}"
    )
    return HttpResponse(template.render({}, request))


def api(request):
    return JsonResponse({"seeds": 3})


def backoffice_page(request):
    return HttpResponse("seed stock")


def panel(request, obj):
    return f'<section class="seed-panel">Seeds for {obj}</section>'


def export(user):
    return {"seed_loans": [{"user": user.pk, "seed": "Tomate"}]}


def erase(user):
    ERASED.append(user.pk)


def load_demo(context):
    return f"seeds: 3 packets for {context.city.slug}"


def datasets(city):
    return [
        registry.Dataset(
            identifier="seeds-stock",
            title="Seed stock",
            description="What the seed library lends.",
            distributions=(
                registry.Distribution(url="/api/v1/seeds.json", media_type="application/json"),
            ),
            licence="http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        )
    ]


async def seeds_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"seeds over ASGI"})


SEEDS = registry.Pillar(
    name="seeds",
    label="Seed library",
    urls=[path("saatgut/", page, name="library")],
    api_urls=[path("seeds.json", api, name="seeds")],
    backoffice_urls=[path("saatgut/", backoffice_page, name="seeds-stock")],
    url_order=50,
    nav=(
        registry.NavEntry(
            key="seeds", label="Seeds", url_name="seeds:library", order=30, current=("seeds:*",)
        ),
    ),
    panels=tuple(registry.Panel(page=p, render=panel) for p in ("home", "district", "measure")),
    backoffice_sections=(
        registry.BackofficeSection(
            key="seeds",
            label="Seed stock",
            url_name="backoffice:seeds-stock",
            permission="accounts.city_staff",
        ),
    ),
    asgi_mounts=(registry.AsgiMount(prefix="/seeds-live/", factory=lambda: seeds_app),),
    demo=registry.DemoLoader(load=load_demo, order=40),
    personal_data=registry.PersonalData(export=export, erase=erase),
    notification_kinds=(
        registry.NotificationKind("seed_back", "seed returned", "Seed back: %(subject)s"),
    ),
    features=(registry.Feature("seeds.swap", "swap seeds"),),
    phase_kinds=(
        registry.PhaseKind(
            "swap", "Seed swap", frozenset({"seeds.swap", "comment"}), "Swap seeds."
        ),
    ),
    process_kinds=(registry.ProcessKind("seed-swap", "Seed swap", ("information", "swap")),),
    datasets=datasets,
    transfer_parts=(
        registry.TransferPart(
            key="seed-list",
            label="Seed list",
            export=lambda measure: {"seeds": ["Tomate"]} if measure.slug else None,
            adopt=lambda measure, data, user: f"{len(data['seeds'])} seeds for {measure.slug}",
        ),
    ),
)


@pytest.fixture
def seeds(settings):
    """The throw-away pillar, registered for one test, with the site's URLs rebuilt."""
    from herzstadt import urls

    registry.register(SEEDS)
    urlconf = types.ModuleType("seeds_urls")
    urlconf.urlpatterns = urls.build()
    for name in ("handler400", "handler403", "handler404", "handler500"):
        setattr(urlconf, name, getattr(urls, name))
    settings.ROOT_URLCONF = urlconf
    ERASED.clear()
    yield SEEDS
    registry.unregister("seeds")


def test_its_urls_navigation_and_panels_appear(client, seeds, demo):
    response = client.get("/saatgut/")
    assert response.status_code == 200 and b"Seed library" in response.content
    assert client.get("/en/saatgut/").status_code == 200
    assert client.get("/api/v1/seeds.json").json() == {"seeds": 3}
    home = client.get("/").content.decode()
    assert '<a href="/saatgut/">Seeds</a>' in home
    assert 'class="seed-panel">Seeds for' in home
    district = demo.district_set.first()
    assert "seed-panel" in client.get(district.get_absolute_url()).content.decode()
    measure = demo.measure_set.filter(is_public=True).first()
    assert "seed-panel" in client.get(measure.get_absolute_url()).content.decode()
    # its own pages mark its menu entry as the current one
    assert (
        '<a href="/saatgut/" aria-current="page">Seeds</a>'
        in client.get("/saatgut/").content.decode()
    )


def test_its_backoffice_section_appears_for_the_people_it_is_for(client, seeds, actors):
    login(client, actors["staff"])
    home = client.get(bo_url("home")).content.decode()
    assert bo_url("seeds-stock") in home and "Seed stock" in home
    assert client.get(bo_url("seeds-stock")).content == b"seed stock"
    login(client, actors["moderator"])
    assert bo_url("seeds-stock") not in client.get(bo_url("home")).content.decode()


def test_its_personal_data_is_exported_and_erased(client, seeds, make_user):
    from herzstadt.accounts.gdpr import collect_personal_data, delete_account

    person = make_user()
    data = collect_personal_data(person)
    assert data["seed_loans"] == [{"user": person.pk, "seed": "Tomate"}]
    login(client, person)
    export_json = client.get("/konto/meine-daten.json").content.decode()
    assert json.loads(export_json)["seed_loans"][0]["seed"] == "Tomate"
    json.dumps(data, cls=DjangoJSONEncoder)
    pk = person.pk
    delete_account(person)
    assert [pk] == ERASED


def test_its_demo_loader_runs_in_order_with_the_demo_city(seeds, db):
    from herzstadt.demo import load_demo

    summary = load_demo()
    assert "seeds: 3 packets for kaiserslautern" in summary
    parts = summary.split("; ")
    assert parts.index("seeds: 3 packets for kaiserslautern") > 0  # after the core's cities


def test_its_notifications_datasets_and_asgi_mount(seeds, demo, make_user):
    from herzstadt.accounts.models import Notification
    from herzstadt.accounts.notifications import notify
    from herzstadt.asgi import Dispatcher, _mounts

    person = make_user()
    notify([person.pk], demo, "seed_back", "Tomate", "/saatgut/")
    assert Notification.objects.get(user=person).message == "Seed back: Tomate"
    assert "seeds-stock" in {d.identifier for d in registry.datasets(demo)}
    part = {p.key: p for p in registry.transfer_parts()}["seed-list"]
    measure = demo.measure_set.first()
    assert part.adopt(measure, part.export(measure), person) == f"1 seeds for {measure.slug}"

    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    dispatcher = Dispatcher(None, _mounts())
    asyncio.run(dispatcher({"type": "http", "path": "/seeds-live/x"}, receive, send))
    assert sent[-1]["body"] == b"seeds over ASGI"


def test_its_phase_kind_opens_its_feature_in_processes_of_its_kind(seeds, demo):
    import datetime as dt

    from django.utils import timezone

    from herzstadt.participation.backoffice.forms import PhaseForm
    from herzstadt.participation.models import Phase, Process

    process = Process.objects.create(
        city=demo,
        slug="tauschen",
        title="Saatgut tauschen",
        summary="s",
        kind="seed-swap",
        is_published=True,
    )
    now = timezone.now()
    Phase.objects.create(
        city=demo,
        process=process,
        kind="swap",
        title="Tausch",
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=1),
    )
    process = Process.objects.get(pk=process.pk)
    assert process.allows("seeds.swap") and process.allows("comment")
    assert not process.allows("idea.create")
    assert process.kind_label == "Seed swap"
    choices = dict(PhaseForm(process).fields["kind"].choices)
    assert set(choices) == {"information", "swap"}
