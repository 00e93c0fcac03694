from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """Knowledge transfer (Wissenstransfer): measure profiles, DCAT-AP.de, the city network."""

    name = "herzstadt.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge transfer")

    def ready(self) -> None:
        from herzstadt.core import registry
        from herzstadt.knowledge import permissions, search  # noqa: F401 - rules and signals
        from herzstadt.knowledge.pillar import PILLAR

        registry.register(PILLAR)
