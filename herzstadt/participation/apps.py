from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    """Participation (Teilhabe): processes, ideas on the map, debate, surveys and accountability."""

    name = "herzstadt.participation"
    label = "participation"
    verbose_name = _("Participation")
    demo_order = 30

    def load_demo(self) -> str:
        from herzstadt.participation.demo import load_demo

        return load_demo()

    def ready(self) -> None:
        from herzstadt.core import panels
        from herzstadt.participation import panels as ours

        panels.register("home", ours.home_panel, order=10)
        panels.register("district", ours.district_panel, order=20)
        panels.register("measure", ours.measure_panel, order=20)
