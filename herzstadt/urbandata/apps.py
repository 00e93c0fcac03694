from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UrbanDataConfig(AppConfig):
    """Urban data (Stadtdaten): connects the NGSI-LD broker (herzstadt.ngsi) to cities and districts."""

    name = "herzstadt.urbandata"
    label = "urbandata"
    verbose_name = _("Urban data")

    def ready(self) -> None:
        from herzstadt.core import registry
        from herzstadt.urbandata import permissions  # noqa: F401 - defines the rules
        from herzstadt.urbandata.pillar import PILLAR

        registry.register(PILLAR)
