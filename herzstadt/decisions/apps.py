from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    """Binding decisions: participatory budgets and polls, secret and verifiable."""

    name = "herzstadt.decisions"
    label = "decisions"
    verbose_name = _("Decisions")

    def ready(self) -> None:
        from herzstadt.core import registry
        from herzstadt.decisions import eligibility, permissions  # noqa: F401 - salt hook, rules
        from herzstadt.decisions.pillar import PILLAR

        registry.register(PILLAR)
