"""The citizen's and the staff's journeys, clicked through in Chromium like a person would."""

from __future__ import annotations

import re

from tests.browser.conftest import PASSWORD

LOCAL = re.compile(r"^https?://127\.0\.0\.1[:/]")


def _offline(context):
    """Only the site under test: map tiles and anything else outside are refused at once."""
    context.route(lambda url: not LOCAL.match(url), lambda route: route.abort())
    return context


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "bench.jpg"
    Image.new("RGB", (640, 480), (138, 21, 56)).save(path, "JPEG")
    return path


def _confirmation_link(email: str) -> str:
    from django.core import mail

    for message in reversed(mail.outbox):
        if email in message.to:
            found = re.search(r"https?://\S+/confirm-email/\S+/", message.body)
            if found:
                return found.group(0)
    raise AssertionError(f"no confirmation mail to {email}: {[m.subject for m in mail.outbox]}")


def test_citizen_journey(site, tmp_path):
    from django.urls import translate_url

    from herzstadt.participation.models import Comment, Idea, Support, SurveyResponse

    en = lambda name: translate_url(site.pages[name], "en")  # noqa: E731
    context = _offline(site.context())
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        # Sign up, then confirm the address with the link from the mail.
        page.goto(site.url + en("sign-up"))
        page.get_by_label("Display name").fill("Bench Friend")
        page.locator("input[name=email]").fill("bench.friend@example.org")
        page.locator("input[name=password1]").fill(PASSWORD + "x")
        page.locator("input[name=password2]").fill(PASSWORD + "x")
        page.get_by_role("button", name="Sign Up").click()
        page.wait_for_load_state()
        link = _confirmation_link("bench.friend@example.org")
        page.goto(link.replace("http://testserver", site.url))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        if page.locator("input[name=password]").count():  # allauth asks to sign in
            page.locator("input[name=login]").fill("bench.friend@example.org")
            page.locator("input[name=password]").fill(PASSWORD + "x")
            page.locator("input[name=password]").press("Enter")
            page.wait_for_load_state()
        assert page.locator(".header-wide form[action$='/logout/'] button").is_visible(), (
            "signed in"
        )

        # An idea with a point picked on the map and a photo.
        page.goto(site.url + en("idea-form"))
        page.locator("input[name=title]").fill("A bench under the old plane tree")
        page.locator("textarea[name=body]").fill("Somewhere to sit in the shade between the halls.")
        picker = page.locator(".map-picker")
        picker.wait_for(state="visible")
        picker.click()  # the middle of the district
        lat = page.locator("input[name=lat]").input_value()
        lon = page.locator("input[name=lon]").input_value()
        assert lat and lon, "a click on the map fills the coordinates"
        page.locator("input[type=file][name=image]").set_input_files(str(_photo(tmp_path)))
        page.locator("input[name=image_alt]").fill("A red placeholder picture")
        page.get_by_role("button", name="Publish idea").click()
        page.wait_for_load_state()
        idea = Idea.objects.get(title="A bench under the old plane tree")
        assert idea.lat is not None and idea.image
        assert page.get_by_role("heading", level=1).inner_text() == idea.title

        # Comment and support.
        page.get_by_role("textbox", name=re.compile("Your comment")).fill(
            "I would sit there every day."
        )
        page.get_by_role("button", name=re.compile("Publish comment")).click()
        page.wait_for_load_state()
        assert page.get_by_text("I would sit there every day.").is_visible()
        assert Comment.objects.filter(idea=idea).count() == 1
        # nobody supports their own idea: the page says so instead of offering the button
        assert page.get_by_text("This is your own idea").is_visible()
        assert page.get_by_role("button", name="Support this idea").count() == 0
        other = (
            Idea.objects.filter(
                process=idea.process, hidden_at__isnull=True, deleted_at__isnull=True
            )
            .exclude(author=idea.author)
            .order_by("pk")
            .first()
        )
        page.goto(site.url + translate_url(other.get_absolute_url(), "en"))
        page.get_by_role("button", name="Support this idea").click()
        page.wait_for_load_state()
        assert page.get_by_role("button", name="Withdraw my support").is_visible()
        assert (
            Support.objects.filter(idea=other, user__email="bench.friend@example.org").count() == 1
        )

        # The survey: the first choice of every question, some words for free text.
        page.goto(site.url + en("survey"))
        form = page.locator("form.survey-form")
        seen = set()
        for box in form.locator("input[type=radio], input[type=checkbox]").all():
            name = box.get_attribute("name")
            if name not in seen:
                seen.add(name)
                box.check()
        for field in form.locator("textarea, input[type=text]").all():
            field.fill("More shade, please.")
        before = SurveyResponse.objects.count()
        form.get_by_role("button").last.click()
        page.wait_for_load_state()
        assert SurveyResponse.objects.count() == before + 1
        assert "Thank" in page.locator("main").inner_text()
    finally:
        context.close()


def test_idea_photo_is_visible(site):
    from herzstadt.participation.models import Idea

    idea = Idea.objects.exclude(image="").order_by("-pk").first()
    assert idea is not None, "test_citizen_journey posts an idea with a photo"
    context = _offline(site.context())
    page = context.new_page()
    try:
        page.goto(site.url + idea.get_absolute_url())
        image = page.locator("img.idea-image")
        assert image.count() == 1
        assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    finally:
        context.close()


def test_staff_journey(site):
    """A citizen reports an idea; staff hide it from the queue, answer another idea with an
    implementing measure, and publish a new survey that citizens then find on the process page."""
    from django.urls import reverse, translate_url

    from herzstadt.participation.models import Idea, Report, Survey

    shown = site.ids["idea"]
    reported, answered = (
        Idea.objects.filter(process_id=site.ids["process"], hidden_at__isnull=True)
        .exclude(pk=shown)
        .order_by("-pk")[:2]
    )
    citizen = _offline(site.context(site.citizen))
    staff = _offline(site.context(site.staff))
    page = citizen.new_page()
    page.set_default_timeout(10_000)
    desk = staff.new_page()
    desk.set_default_timeout(10_000)
    try:
        # A citizen reports an idea.
        page.goto(site.url + translate_url(reported.get_absolute_url(), "en"))
        page.locator("details.report > summary").first.click()
        page.get_by_label("What is wrong with it?").first.fill("This is an advertisement.")
        page.get_by_role("button", name="Send report").first.click()
        page.wait_for_load_state()
        assert Report.objects.filter(idea=reported).exists()

        # Moderation: the report is in the queue; staff hide the idea with a public reason.
        desk.goto(site.url + translate_url(site.pages["bo-moderation"], "en"))
        report = desk.locator("article.report", has_text=reported.title)
        report.get_by_label("Reason for hiding").fill("Advertising is not allowed here.")
        report.get_by_role("button", name="Hide").click()
        desk.wait_for_load_state()
        reported.refresh_from_db()
        assert reported.hidden_at is not None
        page.goto(site.url + translate_url(reported.get_absolute_url(), "en"))
        assert "Advertising is not allowed here." in page.locator("main").inner_text()

        # Answer an idea and link the measure that implements it.
        desk.goto(
            site.url
            + translate_url(
                site.pages["bo-idea-answer"].replace(f"/{shown}/", f"/{answered.pk}/"), "en"
            )
        )
        desk.get_by_label("Status").select_option("accepted")
        desk.get_by_label("Public reasoning").fill("We will build it with the new square.")
        measure = desk.get_by_label("Implementing measure")
        measure.select_option(index=1)
        chosen = measure.locator("option:checked").inner_text()
        desk.get_by_role("button", name="Publish the answer").click()
        desk.wait_for_load_state()
        answered.refresh_from_db()
        assert answered.status == "accepted" and answered.measure_id is not None
        page.goto(site.url + translate_url(answered.get_absolute_url(), "en"))
        main = page.locator("main")
        assert "We will build it with the new square." in main.inner_text()
        assert main.get_by_role("link", name=chosen).count() >= 1

        # Publish a survey with one question; citizens find it on the process page.
        desk.goto(site.url + translate_url(site.pages["bo-process"], "en"))
        desk.get_by_role("link", name="Add a survey").click()
        desk.get_by_label("Title").fill("Which bench do you like?")
        desk.get_by_role("button", name="Create").click()
        desk.wait_for_load_state()
        survey = Survey.objects.get(title="Which bench do you like?")
        desk.get_by_role("link", name="Add a question").click()
        desk.get_by_label("Kind").select_option("single")
        desk.locator("[name=text]").fill("Wood or stone?")
        desk.locator("textarea[name=choices_text]").fill("Wood\nStone")
        desk.locator("form", has=desk.locator("textarea[name=choices_text]")).locator(
            "button[type=submit]"
        ).click()
        desk.wait_for_load_state()
        assert survey.questions.count() == 1
        # a new survey is a draft until staff publish it
        desk.goto(
            site.url
            + translate_url(
                reverse(
                    "backoffice:survey-edit", kwargs={"slug": survey.process.slug, "pk": survey.pk}
                ),
                "en",
            )
        )
        desk.get_by_role("button", name="Publish the survey").click()
        desk.wait_for_load_state()
        survey.refresh_from_db()
        assert survey.is_published
        page.goto(site.url + translate_url(site.pages["process"], "en"))
        page.get_by_role("link", name="Which bench do you like?").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Which bench do you like?"
        assert page.get_by_label("Stone").count() == 1
    finally:
        citizen.close()
        staff.close()
