from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompassConfig(AppConfig):
    """The values compass (Ziel- und Wertekompass): values, goals, indicators, assessments."""

    name = "herzstadt.compass"
    label = "compass"
    verbose_name = _("Values compass")

    def ready(self) -> None:
        from herzstadt.compass.pillar import PILLAR
        from herzstadt.core import registry

        registry.register(PILLAR)
