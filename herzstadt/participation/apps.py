from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """Participation (Teilhabe): processes, ideas on the map, debate, surveys and accountability."""

    name = "herzstadt.participation"
    label = "participation"
    verbose_name = _("Participation")

    def ready(self) -> None:
        from herzstadt.core import registry
        from herzstadt.participation import permissions  # noqa: F401 - defines the rules
        from herzstadt.participation.pillar import PILLAR

        registry.register(PILLAR)
