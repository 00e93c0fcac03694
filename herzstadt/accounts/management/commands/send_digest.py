"""``herzstadt manage send_digest``: the daily e-mail digest of notifications.

Everyone who switched on the digest (``Profile.email_digest``) gets one plain-text e-mail with their
notifications that are neither read nor e-mailed yet and not older than ``--days``; those notifications
are then marked as e-mailed. Running it twice sends nothing new. Run it once a day (cron, systemd
timer); see README, section Production.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.management.base import BaseCommand
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from herzstadt.accounts.links import in_language
from herzstadt.accounts.models import Notification, Profile

log = logging.getLogger(__name__)


def default_base_url() -> str:
    """Where links point when a city has no domain of its own: the first configured host name."""
    hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*"]
    host = hosts[0] if hosts else "localhost"
    if settings.CONFIG.production:
        return f"https://{host}"
    return f"http://{host}:8000"


class Command(BaseCommand):
    help = "E-mail everyone who asked for it their new notifications in one message (run daily)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=7,
            help="only notifications from the last N days (default: 7; older ones are not e-mailed)",
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="address of the site for links, e.g. https://beteiligung.example.de "
            "(default: the city's domain, else the first of HERZSTADT_ALLOWED_HOSTS)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show who would get an e-mail; send nothing"
        )

    def handle(self, *args, days: int, base_url: str, dry_run: bool, **options):
        base_url = (base_url or default_base_url()).rstrip("/")
        now = timezone.now()
        pending = Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            created_at__gte=now - dt.timedelta(days=days),
            user__is_active=True,
            user__profile__email_digest=True,
        )
        by_user: dict[int, list[Notification]] = defaultdict(list)
        for n in pending.select_related("city").order_by("user_id", "created_at", "id"):
            by_user[n.user_id].append(n)
        addresses = dict(
            EmailAddress.objects.filter(user_id__in=by_user, verified=True)
            .order_by("user_id", "primary", "id")  # the primary address comes last and wins
            .values_list("user_id", "email")
        )
        profiles = {
            p.user_id: p for p in Profile.objects.filter(user_id__in=by_user).select_related("city")
        }
        sent = skipped = 0
        mailer = mailers.default
        with mailer:  # one connection to the mail server for the whole run
            for user_id, items in by_user.items():
                address = addresses.get(user_id)
                if not address:  # no confirmed address: nothing goes out, nothing is marked
                    skipped += 1
                    continue
                message = self._message(profiles.get(user_id), items, address, base_url)
                if dry_run:
                    self.stdout.write(f"would send {len(items)} notification(s) to user {user_id}")
                    continue
                try:
                    mailer.send_messages([message])
                except Exception:
                    log.exception(
                        "digest for user %s could not be sent; will retry next run", user_id
                    )
                    skipped += 1
                    continue
                Notification.objects.filter(
                    pk__in=[n.pk for n in items], emailed_at__isnull=True
                ).update(emailed_at=timezone.now())
                sent += 1
        self.stdout.write(f"digest: {sent} e-mail(s) sent, {skipped} skipped")

    @staticmethod
    def _site(city, base_url: str) -> str:
        return f"https://{city.domain}" if city is not None and city.domain else base_url

    def _message(self, profile, items, address: str, base_url: str) -> EmailMessage:
        with translation.override("de"):
            home = self._site(profile.city if profile else None, base_url)
            lines = [
                {
                    "message": n.message,
                    "link": self._site(n.city, base_url) + in_language(n.url, "de")
                    if n.url.startswith("/")
                    else "",
                    "city": n.city.tr.name if n.city_id else "",
                    "created_at": timezone.localtime(n.created_at),
                }
                for n in items
            ]
            context = {
                "name": profile.display_name if profile else "",
                "items": lines,
                "several_cities": len({n.city_id for n in items}) > 1,
                "notifications_url": home + reverse("accounts:notifications"),
                "profile_url": home + reverse("accounts:profile"),
            }
            subject = render_to_string("accounts/email/digest_subject.txt", context)
            body = render_to_string("accounts/email/digest_message.txt", context)
        return EmailMessage(" ".join(subject.split()), body.strip() + "\n", to=[address])
