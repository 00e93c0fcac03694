"""Who gets into the back office: every URL × the five actors, and foreign ids are 404."""

import pytest

from herzstadt.accounts.models import AccessibilityFeedback, Membership
from herzstadt.participation.models import Comment, Idea, Report
from tests.conftest import login
from tests.participation.backoffice.conftest import bo_url

pytestmark = pytest.mark.django_db

MOD, STAFF, ADMIN = "moderator", "staff", "admin"


def urls(w):
    """Every back-office page (GET) and who may see it."""
    p = w["process"].slug
    survey, question = w["survey"].pk, w["question"].pk
    return [
        ("home", {}, MOD),
        ("moderation", {}, MOD),
        ("hidden", {}, MOD),
        ("blocked", {}, MOD),
        ("unblock", {"user_id": w["troll"].pk}, MOD),
        ("report-dismiss", {"pk": w["idea_report"].pk}, MOD),
        ("idea-hide", {"pk": w["idea"].pk}, MOD),
        ("idea-restore", {"pk": w["idea"].pk}, MOD),
        ("idea-block", {"pk": w["idea"].pk}, MOD),
        ("idea-versions", {"pk": w["idea"].pk}, MOD),
        ("comment-versions", {"pk": w["comment"].pk}, MOD),
        ("comment-hide", {"pk": w["comment"].pk}, MOD),
        ("comment-restore", {"pk": w["comment"].pk}, MOD),
        ("comment-block", {"pk": w["comment"].pk}, MOD),
        ("process-create", {}, STAFF),
        ("process", {"slug": p}, STAFF),
        ("process-edit", {"slug": p}, STAFF),
        ("phase-create", {"slug": p}, STAFF),
        ("phase-edit", {"slug": p, "pk": w["phase"].pk}, STAFF),
        ("phase-delete", {"slug": p, "pk": w["phase"].pk}, STAFF),
        ("category-create", {"slug": p}, STAFF),
        ("category-edit", {"slug": p, "pk": w["category"].pk}, STAFF),
        ("category-delete", {"slug": p, "pk": w["category"].pk}, STAFF),
        ("survey-create", {"slug": p}, STAFF),
        ("survey-edit", {"slug": p, "pk": survey}, STAFF),
        ("question-create", {"slug": p, "pk": survey}, STAFF),
        ("question-edit", {"slug": p, "pk": survey, "qpk": question}, STAFF),
        ("question-delete", {"slug": p, "pk": survey, "qpk": question}, STAFF),
        ("ideas", {"slug": p}, STAFF),
        ("idea-answer", {"slug": p, "pk": w["idea"].pk}, STAFF),
        ("statistics", {"slug": p}, STAFF),
        ("exports", {"slug": p}, STAFF),
        ("export", {"slug": p, "fmt": "csv"}, STAFF),
        ("export", {"slug": p, "fmt": "json"}, STAFF),
        ("export", {"slug": p, "fmt": "geojson"}, STAFF),
        ("roles", {}, STAFF),
        ("role-remove", {"user_id": w["moderator"].pk}, STAFF),
        # accounts' legal pages: staff read accessibility feedback, administrators edit the texts
        ("accessibility-feedback", {}, STAFF),
        ("accessibility-feedback-handled", {"pk": w["feedback"].pk}, STAFF),
        ("legal-pages", {}, ADMIN),
        ("reserved-names", {}, ADMIN),
        # urban data's section "API-Zugänge": the city's administrators only
        ("api-access", {}, ADMIN),
        ("api-open-data", {}, ADMIN),
        ("api-client-create", {}, ADMIN),
        ("api-client", {"pk": w["api_client"].pk}, ADMIN),
        ("api-client-edit", {"pk": w["api_client"].pk}, ADMIN),
        ("api-client-revoke", {"pk": w["api_client"].pk}, ADMIN),
        ("api-client-new-key", {"pk": w["api_client"].pk}, ADMIN),
        ("api-client-oauth", {"pk": w["api_client"].pk}, ADMIN),
        ("api-device-create", {}, ADMIN),
        ("api-device", {"pk": w["device"].pk}, ADMIN),
        ("api-device-revoke", {"pk": w["device"].pk}, ADMIN),
        ("api-registry", {}, ADMIN),
        ("api-registry-create", {}, ADMIN),
        ("api-registry-edit", {"pk": w["registry_device"].pk}, ADMIN),
        ("api-registry-delete", {"pk": w["registry_device"].pk}, ADMIN),
        ("api-dead-letters", {}, ADMIN),
        # knowledge's section "Wissenstransfer": staff of the city
        ("knowledge-profiles", {}, STAFF),
        ("knowledge-profile-edit", {"slug": w["measure"].slug}, STAFF),
        # knowledge's section "Städtenetzwerk": staff of the city
        ("network-partners", {}, STAFF),
        ("network-partner", {"pk": w["partner"].pk}, STAFF),
        ("network-keys", {}, STAFF),
        ("network-adopt", {"pk": w["partner_measure"].pk}, STAFF),
        # the compass's section "Wertekompass": staff of the city
        ("compass", {}, STAFF),
        ("compass-value-create", {}, STAFF),
        ("compass-value", {"pk": w["value"].pk}, STAFF),
        ("compass-goal-create", {}, STAFF),
        ("compass-goal", {"pk": w["goal"].pk}, STAFF),
        ("compass-indicator-create", {}, STAFF),
        ("compass-indicator", {"pk": w["indicator"].pk}, STAFF),
        ("compass-assess", {"slug": w["measure"].slug}, STAFF),
        # the decisions' sections: staff set them up, clerks (moderators and up) count
        ("decisions", {}, STAFF),
        ("decisions-new", {}, STAFF),
        ("decisions-edit", {"slug": w["budget"].slug}, STAFF),
        ("decisions-proposals", {"slug": w["budget"].slug}, STAFF),
        ("decisions-proposal-new", {"slug": w["budget"].slug}, STAFF),
        ("decisions-proposal-edit", {"slug": w["budget"].slug, "number": 1}, STAFF),
        ("decisions-options", {"slug": w["poll"].slug}, STAFF),
        ("decisions-results", {"slug": w["budget"].slug}, STAFF),
        ("decisions-census", {"slug": w["budget"].slug}, STAFF),
        ("decisions-codes", {"slug": w["budget"].slug}, STAFF),
        ("decisions-eligibility", {}, MOD),
        ("decisions-electors", {"slug": w["budget"].slug}, MOD),
        ("decisions-booth", {"slug": w["budget"].slug}, MOD),
        ("decisions-postal-cards", {"slug": w["budget"].slug}, MOD),
        ("decisions-postal-sheets", {"slug": w["budget"].slug}, MOD),
    ]


def every_backoffice_name() -> set[str]:
    """Every URL name in the back office, whichever pillar registered it."""
    from django.urls import get_resolver

    names = set()
    for url_name, _ in get_resolver().namespace_dict["backoffice"][1].reverse_dict.items():
        if isinstance(url_name, str):
            names.add(url_name)
    return names


EXPECTED = {
    # actor: (status for moderator pages, for staff pages, for administrator pages)
    "anonymous": (302, 302, 302),
    "citizen": (403, 403, 403),
    "moderator": (200, 403, 403),
    "staff": (200, 200, 403),
    "other_staff": (403, 403, 403),
}
LEVELS = {MOD: 0, STAFF: 1, ADMIN: 2}


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_permission_matrix(client, world, actors, actor):
    from herzstadt.urbandata import access
    from herzstadt.urbandata.models import ApiClient, DeviceCredential

    world["moderator"] = actors["moderator"]
    city = world["process"].city
    world["api_client"] = access.create_client(city, None, ApiClient(name="c", scopes=["read"]))[0]
    device = DeviceCredential(name="d", device_id="d", entity_types=["https://example.org/T"])
    world["device"] = access.create_device(city, None, device)[0]
    from herzstadt.urbandata.models import Device

    world["registry_device"] = Device.objects.create(
        city=city,
        device_id="matrix-sensor",
        entity_id="urn:ngsi-ld:Sensor:matrix",
        entity_type="https://example.org/T",
        credential=world["device"],
    )
    world["feedback"] = AccessibilityFeedback.objects.create(city=city, message="Kontrast")
    from tests.factories import make_measure

    world["measure"] = make_measure(city, slug="matrix-massnahme")
    from herzstadt.knowledge.models import Partner, PartnerMeasure

    world["partner"] = Partner.objects.create(
        city=city, base_url="https://partner.example", remote_slug="p", name="Partnerstadt"
    )
    world["partner_measure"] = PartnerMeasure.objects.create(
        partner=world["partner"],
        remote_id="https://partner.example/api/v1/network/p/measures/m/",
        title="Maßnahme der Partnerstadt",
        data={"title": "Maßnahme der Partnerstadt"},
    )
    from herzstadt.compass.models import Goal, Indicator, Value

    world["value"] = Value.objects.create(city=city, slug="klima", name="Klima")
    world["goal"] = Goal.objects.create(city=city, value=world["value"], slug="luft", title="Luft")
    world["indicator"] = Indicator.objects.create(
        city=city, slug="no2", name="NO2", formula={"kind": "constant", "value": 1}
    )
    from tests.decisions.ballotkit import make_decision

    world["budget"] = make_decision(city)
    world["poll"] = make_decision(city, kind="poll")
    login(client, actors[actor])
    seen = set()
    for name, kwargs, level in urls(world):
        seen.add(name)
        for lang in ("de", "en"):
            url = bo_url(name, lang, **kwargs)
            response = client.get(url)
            expected = EXPECTED[actor][LEVELS[level]]
            assert response.status_code == expected, (actor, url, response.status_code)
            if expected == 302:
                assert (
                    "/accounts/login/" in response["Location"] and "next=" in response["Location"]
                )
            if expected == 403:
                assert (
                    "Zugriff verweigert" in response.content.decode()
                    or "Access denied" in response.content.decode()
                )
    # POST-only actions have their own matrix (tests/participation/test_ux_drafts.py)
    post_only = {
        "process-publish",
        "survey-publish",
        "network-partner-sync",
        "network-partner-delete",
        "network-key-revoke",
        "compass-indicator-compute",
    }
    assert every_backoffice_name() - {"open-data", *post_only} == seen, (
        "every back-office URL is in the matrix"
    )


@pytest.mark.parametrize("actor", list(EXPECTED))
def test_posts_are_refused_without_the_right(client, world, actors, actor):
    """POSTs go through the same door: nobody below moderator changes anything, and each POST's
    effect (or its absence) and its answer are checked one by one."""
    login(client, actors[actor])
    idea, comment, bert = world["idea"], world["comment"], world["bert"]
    report = world["comment_report"]
    responses = {
        "idea-hide": client.post(bo_url("idea-hide", pk=idea.pk), {"reason": "weg"}),
        "comment-block": client.post(bo_url("comment-block", pk=comment.pk), {"reason": "weg"}),
        "report-dismiss": client.post(bo_url("report-dismiss", pk=report.pk)),
        "idea-answer": client.post(
            bo_url("idea-answer", slug=world["process"].slug, pk=idea.pk),
            {f"idea-{idea.pk}-status": "accepted", f"idea-{idea.pk}-reason": "gut"},
        ),
    }
    may_moderate = actor in ("moderator", "staff")
    idea.refresh_from_db()
    assert idea.is_hidden == may_moderate
    blocked = Membership.objects.filter(city=idea.city, user=bert, blocked_at__isnull=False)
    assert blocked.exists() == may_moderate
    assert (Report.objects.get(pk=report.pk).resolved_at is not None) == may_moderate
    assert (idea.status == "accepted") == (actor == "staff")
    expected = {
        "anonymous": dict.fromkeys(responses, 302),
        "citizen": dict.fromkeys(responses, 403),
        "other_staff": dict.fromkeys(responses, 403),
        "moderator": {
            "idea-hide": 302,
            "comment-block": 302,
            "report-dismiss": 302,
            "idea-answer": 403,
        },
        "staff": dict.fromkeys(responses, 302),
    }[actor]
    assert {name: r.status_code for name, r in responses.items()} == expected
    if actor == "anonymous":
        assert all("/accounts/login/" in r["Location"] for r in responses.values())


def test_staff_of_another_city_runs_only_their_own_back_office(
    client, world, foreign, actors, settings
):
    """On Musterstadt's host, Musterstadt's staff get in and see only Musterstadt's processes."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "musterstadt.example"]
    login(client, actors["other_staff"])
    host = {"HTTP_HOST": "musterstadt.example"}
    html = client.get(bo_url("home"), **host).content.decode()
    assert "Fremdes Verfahren" in html and world["process"].title not in html
    assert client.get(bo_url("process", slug="fremd"), **host).status_code == 200
    assert client.get(bo_url("process", slug=world["process"].slug), **host).status_code == 404
    queue = client.get(bo_url("moderation"), **host).content.decode()
    assert "Fremde Idee" in queue and "Trinkbrunnen" not in queue
    # and Kaiserslautern's moderator is a citizen there
    login(client, actors["moderator"])
    assert client.get(bo_url("home"), **host).status_code == 403


def foreign_urls(w, f):
    """Addresses in this city's back office that name another city's objects."""
    p = w["process"].slug
    return [
        ("unblock", {"user_id": f["blocked"].pk}),
        ("report-dismiss", {"pk": f["report"].pk}),
        ("idea-hide", {"pk": f["idea"].pk}),
        ("idea-restore", {"pk": f["hidden_idea"].pk}),
        ("idea-block", {"pk": f["idea"].pk}),
        ("comment-hide", {"pk": f["comment"].pk}),
        ("comment-restore", {"pk": f["comment"].pk}),
        ("comment-block", {"pk": f["comment"].pk}),
        ("process", {"slug": "fremd"}),
        ("process-edit", {"slug": "fremd"}),
        ("phase-create", {"slug": "fremd"}),
        ("phase-edit", {"slug": p, "pk": f["phase"].pk}),
        ("phase-delete", {"slug": p, "pk": f["phase"].pk}),
        ("category-edit", {"slug": p, "pk": f["category"].pk}),
        ("category-delete", {"slug": p, "pk": f["category"].pk}),
        ("survey-edit", {"slug": p, "pk": f["survey"].pk}),
        ("question-create", {"slug": p, "pk": f["survey"].pk}),
        ("question-edit", {"slug": p, "pk": w["survey"].pk, "qpk": f["question"].pk}),
        ("question-delete", {"slug": p, "pk": w["survey"].pk, "qpk": f["question"].pk}),
        ("ideas", {"slug": "fremd"}),
        ("idea-answer", {"slug": p, "pk": f["idea"].pk}),
        ("statistics", {"slug": "fremd"}),
        ("exports", {"slug": "fremd"}),
        ("export", {"slug": "fremd", "fmt": "csv"}),
        ("role-remove", {"user_id": f["moderator"].pk}),
        ("open-data", {"slug": "fremd", "fmt": "json"}),
    ]


READ_ONLY = {"process", "ideas", "statistics", "exports", "export", "open-data"}


def test_read_only_pages_refuse_posts(client, world, actors):
    login(client, actors["staff"])
    assert client.post(bo_url("home")).status_code == 405
    assert client.post(bo_url("statistics", slug=world["process"].slug)).status_code == 405


def test_foreign_ids_are_not_found(client, world, foreign, actors):
    login(client, actors["staff"])
    for name, kwargs in foreign_urls(world, foreign):
        url = bo_url(name, **kwargs)
        assert client.get(url).status_code == 404, url
        expected = 405 if name in READ_ONLY else 404
        assert client.post(url, {"reason": "x"}).status_code == expected, url
    # nothing changed over there
    foreign["idea"].refresh_from_db()
    foreign["hidden_idea"].refresh_from_db()
    assert not foreign["idea"].is_hidden and foreign["hidden_idea"].is_hidden
    assert Report.objects.get(pk=foreign["report"].pk).resolved_at is None
    assert Comment.objects.get(pk=foreign["comment"].pk).hidden_at is None
    assert foreign["process"].phases.count() == 1 and foreign["survey"].questions.count() == 1
    assert Idea.objects.get(pk=foreign["idea"].pk).status == "received"


def test_foreign_measure_or_district_cannot_be_chosen(client, world, actors, other_city):
    from herzstadt.core.models import FieldOfAction, Measure

    field = FieldOfAction.objects.create(city=other_city, slug="f", name="F")
    measure = Measure.objects.create(
        city=other_city, slug="m", title="Fremde Maßnahme", summary="s", field_of_action=field
    )
    login(client, actors["staff"])
    idea = world["idea"]
    response = client.post(
        bo_url("idea-answer", slug=world["process"].slug, pk=idea.pk),
        {
            f"idea-{idea.pk}-status": "accepted",
            f"idea-{idea.pk}-reason": "gut",
            f"idea-{idea.pk}-measure": measure.pk,
        },
    )
    assert response.status_code == 200
    idea.refresh_from_db()
    assert idea.measure_id is None and idea.status == "received"
    response = client.post(
        bo_url("process-edit", slug=world["process"].slug),
        {"title": "T", "slug": "test-pfaff", "summary": "S", "measure": measure.pk},
    )
    assert response.status_code == 200 and "aria-invalid" in response.content.decode()
    world["process"].refresh_from_db()
    assert world["process"].measure_id is None


def test_open_data_is_public(client, world, actors):
    for actor in ("anonymous", "citizen", "other_staff"):
        login(client, actors[actor])
        for fmt in ("csv", "json", "geojson"):
            response = client.get(bo_url("open-data", slug=world["process"].slug, fmt=fmt))
            assert response.status_code == 200
    assert client.get(bo_url("open-data", slug=world["process"].slug, fmt="xml")).status_code == 404
    world["process"].is_published = False
    world["process"].save()
    assert (
        client.get(bo_url("open-data", slug=world["process"].slug, fmt="json")).status_code == 404
    )
