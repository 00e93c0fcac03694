"""Urban data's registration: the NGSI-LD API mounted at /ngsi-ld/, the OAuth2 token endpoint, the
back-office section "API-Zugänge", the district panel, the demo snapshot (with a demo API client),
one open-data dataset per entity type a city publishes and the background task ``simulate`` (the
living Pfaff-Areal, off unless ``HERZSTADT_SIMULATE`` is on)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from herzstadt.core import registry
from herzstadt.urbandata import datasets, panels, transfer, urls
from herzstadt.urbandata.broker import ngsi_application


def _load_demo(context: registry.DemoContext) -> str:
    from herzstadt.urbandata.demo import demo_loader

    return demo_loader(context)


def _simulate(stop) -> None:
    from herzstadt.urbandata.simulation.runner import task

    task(stop)


def _notify(stop) -> None:
    """Deliver NGSI-LD notifications (herzstadt.ngsi.notify) until ``stop`` is set."""
    from herzstadt.ngsi.notify.runner import Notifier
    from herzstadt.urbandata.broker import ngsi_config

    Notifier(config=ngsi_config()).run(stop)


def _ngsi_retention(stop) -> None:
    from herzstadt.ngsi.retention import run_retention
    from herzstadt.urbandata.broker import get_broker

    run_retention(get_broker(), stop)


def _mqtt_ingest(stop) -> None:
    from herzstadt.urbandata.mqtt import run_task

    run_task(stop)


def _access_summary(city) -> str:
    from django.utils.translation import ngettext

    from herzstadt.urbandata.models import ApiClient

    n = ApiClient.objects.filter(city=city, revoked_at__isnull=True).count()
    return ngettext("%(n)s active API client", "%(n)s active API clients", n) % {"n": n}


SECTIONS = (
    registry.BackofficeSection(
        key="api-access",
        label=_("API access"),
        url_name="backoffice:api-access",
        permission="urbandata.manage_access",
        description=_(
            "Who may use the city's urban data API: API clients with keys or OAuth2, device keys, "
            "the open-data types anyone may read, and the audit trail of writes."
        ),
        order=60,
        current=tuple(f"backoffice:{p.name}" for p in urls.backoffice_urlpatterns),
        summary=_access_summary,
    ),
)

PILLAR = registry.Pillar(
    name="urbandata",
    label=_("Urban data"),
    urls=urls.urlpatterns,
    api_urls=urls.api_urlpatterns,
    backoffice_urls=urls.backoffice_urlpatterns,
    backoffice_sections=SECTIONS,
    asgi_mounts=(registry.AsgiMount(prefix=datasets.NGSI_LD_PREFIX, factory=ngsi_application),),
    panels=(
        registry.Panel(page="district", render=panels.district_panel, order=50),
        registry.Panel(page="measure", render=panels.measure_panel, order=50),
    ),
    demo=registry.DemoLoader(load=_load_demo, order=20),
    datasets=datasets.datasets,
    tasks=(
        registry.BackgroundTask("ngsi-notify", _notify, _("NGSI-LD notifications"), 20),
        registry.BackgroundTask(
            key="simulate",
            run=_simulate,
            label=_("Pfaff-Areal simulation (demo; only with HERZSTADT_SIMULATE=1)"),
            order=90,
        ),
        registry.BackgroundTask(
            key="ngsi-retention",
            run=_ngsi_retention,
            label=_("Deletes attribute instances older than the retention of each tenant"),
            order=80,
        ),
        registry.BackgroundTask(
            key="mqtt-ingest",
            run=_mqtt_ingest,
            label=_("MQTT device ingestion"),
            order=50,
        ),
    ),
    transfer_parts=(transfer.PART,),
)
