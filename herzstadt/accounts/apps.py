from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """People: profiles with a public display name, per-city roles, notifications and GDPR self-service."""

    name = "herzstadt.accounts"
    label = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from herzstadt.accounts import permissions, signals  # noqa: F401 - they register themselves
        from herzstadt.accounts.pillar import PILLAR
        from herzstadt.core import registry

        registry.register(PILLAR)
