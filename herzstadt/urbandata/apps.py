from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UrbanDataConfig(AppConfig):
    """Urban data (Stadtdaten): connects the NGSI-LD broker (herzstadt.ngsi) to cities and districts."""

    name = "herzstadt.urbandata"
    label = "urbandata"
    verbose_name = _("Urban data")
    demo_order = 20

    def load_demo(self) -> str:
        from herzstadt.urbandata.demo import load_demo

        return load_demo()
