"""The issue's "done when", end to end through HTTP on the demo: a newcomer registers (the e-mail goes
to the mail backend), confirms, posts an idea on the Pfaff-Areal map, comments, supports, answers the
survey; someone reports the idea; city staff moderate it and answer it, and the newcomer is notified."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from herzstadt.accounts.models import Notification
from herzstadt.core.models import District, Measure
from herzstadt.participation.models import Idea, Process, Report, SurveyResponse
from herzstadt.participation.surveys import answering as surveys

pytestmark = pytest.mark.django_db

PASSWORD = "Pfaff-Areal-2030!"


def test_newcomer_and_staff_journey(demo, monkeypatch):
    cache.clear()
    monkeypatch.setattr(surveys, "MIN_FORM_SECONDS", 0)
    newcomer = Client()
    process = Process.objects.get(city=demo, slug="zukunft-pfaff-areal")
    base = "/beteiligung/zukunft-pfaff-areal"

    # 1. register: display name, e-mail, password → a confirmation mail; not signed in yet
    assert newcomer.get("/accounts/signup/").status_code == 200
    response = newcomer.post(
        "/accounts/signup/",
        {
            "display_name": "Neu in KL",
            "email": "neu@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(
        r"https?://[^/\s]+(\S*/accounts/confirm-email/\S+/)", mail.outbox[0].body
    ).group(1)
    assert newcomer.get(f"{base}/ideen/neu/").status_code == 302  # must sign in first

    # 2. confirm the address, then sign in
    assert newcomer.get(link).status_code == 200
    assert newcomer.post(link).status_code == 302
    response = newcomer.post("/accounts/login/", {"login": "neu@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert newcomer.get("/konto/").status_code == 200

    # 3. post an idea on the map, inside the Pfaff-Areal (German decimal comma is fine)
    district = District.objects.get(city=demo, slug="pfaff-areal")
    response = newcomer.post(
        f"{base}/ideen/neu/",
        {
            "title": "Fahrradreparatur-Station",
            "body": "Eine öffentliche Station mit Luftpumpe und Werkzeug am Quartiersplatz.",
            "category": process.categories.get(name="Mobilität").pk,
            "lat": str(district.centroid_lat).replace(".", ","),
            "lon": str(district.centroid_lon),
        },
    )
    idea = Idea.objects.get(title="Fahrradreparatur-Station")
    assert (
        response.status_code == 302
        and idea.has_point
        and idea.author.profile.display_name == "Neu in KL"
    )
    assert "Fahrradreparatur-Station" in newcomer.get(f"{base}/").content.decode()

    # 4. comment on and support another idea
    other = Idea.objects.filter(process=process).exclude(pk=idea.pk).order_by("pk").first()
    supports_before = other.support_count
    assert (
        newcomer.post(
            f"{base}/ideen/{other.pk}/kommentieren/", {"body": "Sehr gute Idee!"}
        ).status_code
        == 302
    )
    assert newcomer.post(f"{base}/ideen/{other.pk}/unterstuetzen/").status_code == 302
    other.refresh_from_db()
    assert other.support_count == supports_before + 1
    assert "Sehr gute Idee!" in newcomer.get(other.get_absolute_url()).content.decode()

    # 5. answer the survey
    survey = process.surveys.get()
    single, multiple, rating, text = survey.questions.order_by("position")
    response = newcomer.post(
        f"{base}/umfrage/{survey.pk}/",
        {
            f"q{single.pk}": "1",
            f"q{multiple.pk}": ["0", "2"],
            f"q{rating.pk}": "5",
            f"q{text.pk}": "Danke!",
        },
    )
    assert response.status_code == 302
    assert SurveyResponse.objects.filter(survey=survey, user=idea.author).exists()

    # 6. someone else reports the idea; staff see it in the queue, hide it, restore it, answer it
    reporter = Client()
    reporter.force_login(other.author, backend="django.contrib.auth.backends.ModelBackend")
    reporter.post(f"{base}/ideen/{idea.pk}/melden/", {"reason": "Das ist Werbung."})
    assert Report.objects.filter(idea=idea, resolved_at__isnull=True).count() == 1

    staff = Client()
    response = staff.post(
        "/accounts/login/", {"login": "stadt@demo.herzstadt.invalid", "password": "herzstadt-demo"}
    )
    assert response.status_code == 302
    queue = staff.get(reverse("backoffice:moderation"))
    assert queue.status_code == 200 and "Das ist Werbung." in queue.content.decode()

    hide = reverse("backoffice:idea-hide", kwargs={"pk": idea.pk})
    assert staff.post(hide, {"reason": "Wird geprüft"}).status_code == 302
    idea.refresh_from_db()
    assert idea.is_hidden
    assert Report.objects.filter(idea=idea, resolved_at__isnull=True).count() == 0
    assert "Wird geprüft" in newcomer.get(idea.get_absolute_url()).content.decode()
    staff.post(reverse("backoffice:idea-restore", kwargs={"pk": idea.pk}))
    idea.refresh_from_db()
    assert not idea.is_hidden

    measure = Measure.objects.get(city=demo, slug="mobilitaetsstation-pfaff-areal")
    response = staff.post(
        reverse("backoffice:idea-answer", kwargs={"slug": process.slug, "pk": idea.pk}),
        {
            f"idea-{idea.pk}-status": "accepted",
            f"idea-{idea.pk}-reason": "Wird an der Mobilitätsstation umgesetzt.",
            f"idea-{idea.pk}-measure": measure.pk,
        },
    )
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.status == "accepted" and idea.measure == measure
    page = newcomer.get(idea.get_absolute_url()).content.decode()
    assert "Wird an der Mobilitätsstation umgesetzt." in page and measure.get_absolute_url() in page

    # 7. the newcomer is told
    note = Notification.objects.filter(user=idea.author, kind="answered").get()
    assert "Fahrradreparatur-Station" in newcomer.get("/konto/benachrichtigungen/").content.decode()
    assert note.read_at is None
