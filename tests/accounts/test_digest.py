"""``herzstadt manage send_digest``: one e-mail per person with their new notifications, idempotent."""

import datetime as dt
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from herzstadt.accounts.models import Notification, Profile
from herzstadt.participation.notifications import NotificationKind

pytestmark = pytest.mark.django_db


def digest(*args) -> str:
    out = StringIO()
    call_command("send_digest", "--base-url", "https://beteiligung.example", *args, stdout=out)
    return out.getvalue()


def wants_digest(user, on=True):
    Profile.objects.filter(user=user).update(email_digest=on)
    return user


def notify(user, city, subject="Mehr Bäume", age_days=0, **extra):
    n = Notification.objects.create(
        city=city,
        user=user,
        kind=NotificationKind.NEW_COMMENT,
        subject=subject,
        url="/en/participation/test-pfaff/ideas/7/#comment-9",
        **extra,
    )
    if age_days:
        Notification.objects.filter(pk=n.pk).update(
            created_at=timezone.now() - dt.timedelta(days=age_days)
        )
    return n


def test_one_mail_per_person_with_all_new_notifications_in_german(city, make_user):
    anna = wants_digest(make_user(name="Anna"))
    notify(anna, city, "Mehr Bäume")
    notify(anna, city, "Radweg")
    assert "1 e-mail(s) sent" in digest()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [anna.email]
    assert message.subject == "herzstadt: 2 neue Benachrichtigungen"
    body = message.body
    assert body.startswith("Guten Tag Anna,")
    assert "Neuer Kommentar zu: Mehr Bäume" in body and "Neuer Kommentar zu: Radweg" in body
    # links are absolute and German
    assert "https://beteiligung.example/beteiligung/test-pfaff/ideen/7/#comment-9" in body
    assert "https://beteiligung.example/konto/" in body  # where to switch it off
    assert not Notification.objects.filter(user=anna, emailed_at__isnull=True).exists()


def test_running_twice_sends_nothing_new(city, make_user):
    anna = wants_digest(make_user())
    notify(anna, city)
    digest()
    assert "0 e-mail(s) sent" in digest()
    assert len(mail.outbox) == 1
    notify(anna, city, "Später")
    digest()
    assert (
        len(mail.outbox) == 2
        and "Später" in mail.outbox[1].body
        and "Mehr Bäume" not in mail.outbox[1].body
    )


def test_only_people_who_asked_and_only_their_own(city, make_user):
    anna = wants_digest(make_user(name="Anna"))
    bert = make_user(name="Bert")  # digest off
    notify(anna, city, "Für Anna")
    notify(bert, city, "Für Bert")
    digest()
    assert len(mail.outbox) == 1
    assert "Für Anna" in mail.outbox[0].body and "Für Bert" not in mail.outbox[0].body
    assert Notification.objects.get(user=bert).emailed_at is None


def test_read_old_and_already_mailed_notifications_are_left_out(city, make_user):
    anna = wants_digest(make_user())
    notify(anna, city, "Schon gelesen", read_at=timezone.now())
    notify(anna, city, "Zu alt", age_days=10)
    notify(anna, city, "Schon verschickt", emailed_at=timezone.now())
    assert "0 e-mail(s) sent" in digest()
    assert mail.outbox == []
    notify(anna, city, "Neu")
    digest("--days", "30")
    body = mail.outbox[0].body
    assert "Neu" in body and "Zu alt" in body
    assert "Schon gelesen" not in body and "Schon verschickt" not in body


def test_no_mail_to_unconfirmed_addresses(city, make_user):
    anna = wants_digest(make_user(verified=False))
    n = notify(anna, city)
    assert "1 skipped" in digest()
    assert mail.outbox == []
    n.refresh_from_db()
    assert n.emailed_at is None  # sent once the address is confirmed
    EmailAddress.objects.filter(user=anna).update(verified=True)
    digest()
    assert len(mail.outbox) == 1


def test_the_primary_address_is_used(city, make_user):
    anna = wants_digest(make_user())
    EmailAddress.objects.filter(user=anna).update(primary=False)
    EmailAddress.objects.create(
        user=anna, email="anna-neu@example.org", verified=True, primary=True
    )
    notify(anna, city)
    digest()
    assert mail.outbox[0].to == ["anna-neu@example.org"]


def test_dry_run_sends_and_marks_nothing(city, make_user):
    anna = wants_digest(make_user())
    notify(anna, city)
    assert "would send 1" in digest("--dry-run")
    assert mail.outbox == []
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1


def test_a_failed_send_is_retried_next_time(city, make_user, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    anna = wants_digest(make_user())
    notify(anna, city)

    def broken(self, messages):
        raise OSError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    assert "1 skipped" in digest()
    monkeypatch.undo()
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1
    digest()
    assert len(mail.outbox) == 1


def test_a_city_with_its_own_domain_gets_its_own_links(city, other_city, make_user):
    anna = wants_digest(make_user())
    notify(anna, city, "Kaiserslautern")
    notify(anna, other_city, "Musterstadt")
    digest()
    body = mail.outbox[0].body
    assert "https://musterstadt.example/beteiligung/" in body
    assert "https://beteiligung.example/beteiligung/" in body
    assert "(Musterstadt)" in body and "(Kaiserslautern)" in body
