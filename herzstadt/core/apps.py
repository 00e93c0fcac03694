from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "herzstadt.core"
    label = "core"
    verbose_name = _("City, districts and measures")

    def ready(self) -> None:
        from herzstadt.core import registry
        from herzstadt.core.pillar import PILLAR

        registry.register(PILLAR)
