"""Issue 10, part 6: people edit and delete their own ideas and comments. Edits are possible while
the phase allows them, the page says "bearbeitet", earlier versions are kept for the moderators;
deleting removes the text and keeps the replies; the account deletion page names the real contact."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from herzstadt.core import permissions
from herzstadt.participation import services
from herzstadt.participation.models import Comment, Idea, Version
from tests.conftest import bo_url, login
from tests.participation.test_surveys import close_phase
from tests.participation.test_views import url

pytestmark = pytest.mark.django_db

DELETED = "Dieser Beitrag wurde von der Person gelöscht."


@pytest.fixture
def anna(make_user):
    return make_user(name="Anna")


@pytest.fixture
def idea(process, anna, point_inside):
    return services.post_idea(
        anna,
        process,
        title="Trinkbrunnen am Platz",
        body="Ein Trinkbrunnen für heiße Sommertage.",
        lon=point_inside[0],
        lat=point_inside[1],
    )


def test_the_author_edits_an_idea_and_the_moderators_see_the_earlier_version(
    client, idea, anna, actors, city
):
    login(client, anna)
    page = client.get(idea.get_absolute_url()).content.decode()
    edit = url("idea-edit", slug=idea.process.slug, pk=idea.pk)
    assert f'href="{edit}"' in page
    response = client.post(edit, {"title": "Zwei Trinkbrunnen", "body": "Einer reicht nicht."})
    assert response.status_code == 400  # the text is too short: same rules as posting
    assert Version.objects.count() == 0
    response = client.post(
        edit, {"title": "Zwei Trinkbrunnen", "body": "Zwei Trinkbrunnen für heiße Sommertage."}
    )
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.title == "Zwei Trinkbrunnen" and idea.edited_at is not None
    version = Version.objects.get(idea=idea)
    assert version.title == "Trinkbrunnen am Platz" and version.city == idea.city
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "bearbeitet am" in html and "Trinkbrunnen am Platz" not in html
    # the moderators see the earlier version in the back office; citizens do not get there
    versions = bo_url("idea-versions", pk=idea.pk)
    assert client.get(versions).status_code == 403
    client.logout()
    login(client, actors["moderator"])
    assert f'href="{versions}"' in client.get(idea.get_absolute_url()).content.decode()
    html = client.get(versions).content.decode()
    assert "Trinkbrunnen am Platz" in html and "Zwei Trinkbrunnen" in html


def test_only_the_author_may_edit_or_delete(client, idea, actors):
    for actor in ("citizen", "moderator", "staff", "other_staff"):
        client.logout()
        login(client, actors[actor])
        for name in ("idea-edit", "idea-delete"):
            address = url(name, slug=idea.process.slug, pk=idea.pk)
            assert client.get(address).status_code == 403, (actor, name)
            assert client.post(address, {"title": "Gekapert!", "body": "x" * 30}).status_code == 403
    client.logout()
    address = url("idea-edit", slug=idea.process.slug, pk=idea.pk)
    assert client.get(address).status_code == 302  # to sign in
    idea.refresh_from_db()
    assert idea.title == "Trinkbrunnen am Platz" and idea.deleted_at is None
    with pytest.raises(PermissionDenied):
        services.edit_idea(actors["staff"], idea, title="Gekapert", body="y" * 30)


def test_editing_ends_with_the_phase_but_deleting_does_not(client, idea, anna, process):
    comment = services.add_comment(anna, idea, "Gute Idee, finde ich.")
    close_phase(process)
    idea = Idea.objects.get(pk=idea.pk)
    assert not permissions.allowed(anna, "participation.edit_own_idea", idea)
    assert permissions.allowed(anna, "participation.delete_own", idea)
    login(client, anna)
    response = client.get(url("idea-edit", slug=process.slug, pk=idea.pk))
    assert response.status_code == 403 and "Phase" in response.content.decode()
    response = client.get(url("comment-edit", slug=process.slug, pk=idea.pk, cpk=comment.pk))
    assert response.status_code == 403
    response = client.post(url("comment-delete", slug=process.slug, pk=idea.pk, cpk=comment.pk))
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).deleted_at is not None


def test_a_comment_is_edited_and_deleted_replies_stay(client, idea, anna, make_user):
    bert = make_user(name="Bert")
    comment = services.add_comment(anna, idea, "Am besten zwei Brunnen.")
    reply = services.add_comment(bert, idea, "Einverstanden!", parent=comment)
    login(client, anna)
    slug = idea.process.slug
    edit = url("comment-edit", slug=slug, pk=idea.pk, cpk=comment.pk)
    assert client.post(edit, {"body": "Am besten drei Brunnen."}).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Am besten drei Brunnen." and comment.edited_at
    assert Version.objects.get(comment=comment).body == "Am besten zwei Brunnen."
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "bearbeitet" in html
    # Bert cannot edit Anna's comment
    client.logout()
    login(client, bert)
    assert client.post(edit, {"body": "Gekapert"}).status_code == 403
    assert (
        client.post(url("comment-delete", slug=slug, pk=idea.pk, cpk=comment.pk)).status_code == 403
    )
    client.logout()
    login(client, anna)
    delete = url("comment-delete", slug=slug, pk=idea.pk, cpk=comment.pk)
    assert "Endgültig löschen" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "" and comment.deleted_at is not None
    assert not Version.objects.filter(comment=comment).exists()
    html = client.get(idea.get_absolute_url()).content.decode()
    assert DELETED in html and "Am besten" not in html
    assert "Einverstanden!" in html and Comment.objects.filter(pk=reply.pk).exists()
    # deleting twice is not possible
    assert client.post(delete).status_code == 403


def test_a_deleted_idea_keeps_its_comments_and_leaves_lists_and_maps(
    client, idea, anna, make_user, process
):
    services.edit_idea(anna, idea, title="Zwei Trinkbrunnen", body="Zwei Brunnen für den Sommer.")
    services.add_comment(make_user(name="Bert"), idea, "Das fände ich gut.")
    login(client, anna)
    delete = url("idea-delete", slug=process.slug, pk=idea.pk)
    assert client.post(delete).status_code == 302
    idea.refresh_from_db()
    assert idea.deleted_at and idea.title == "" and idea.body == "" and idea.lon is None
    assert not Version.objects.filter(idea=idea).exists()
    html = client.get(idea.get_absolute_url()).content.decode()
    assert DELETED in html and "Das fände ich gut." in html and "Trinkbrunnen" not in html
    assert "Kommentar schreiben" not in html  # no new comments on a deleted idea
    listing = client.get(process.get_absolute_url()).content.decode()
    assert idea.get_absolute_url() not in listing
    geojson = client.get(f"/api/v1/processes/{process.slug}/ideas.geojson").json()
    assert geojson["features"] == []
    with pytest.raises(PermissionDenied):
        services.add_comment(make_user(), idea, "Noch etwas")
    with pytest.raises(PermissionDenied):
        services.support(make_user(), idea)


def test_the_account_deletion_page_names_the_citys_contact(client, anna, city):
    with translation.override("de"):
        address = reverse("accounts:delete")
    login(client, anna)
    city.contact_email = "beteiligung@stadt.example"
    city.website = ""
    city.save()
    html = client.get(address).content.decode()
    assert 'href="mailto:beteiligung@stadt.example"' in html
    assert "„Löschen“" in html or "Löschen" in html
    city.contact_email = ""
    city.website = "https://www.stadt.example/"
    city.save()
    html = client.get(address).content.decode()
    assert 'href="https://www.stadt.example/"' in html


def test_the_back_office_labels_a_deleted_idea(client, idea, anna, actors, process):
    services.report(actors["citizen"], idea, "Passt nicht hierher.")
    services.delete_idea(anna, idea)
    login(client, actors["staff"])
    for page in (bo_url("ideas", slug=process.slug), bo_url("moderation")):
        html = client.get(page).content.decode()
        assert "Gelöschter Beitrag" in html, page
        assert f'href="{idea.get_absolute_url()}"></a>' not in html


def test_the_data_export_has_the_earlier_versions(idea, anna):
    from herzstadt.participation.personal_data import export

    services.edit_idea(anna, idea, title="Zwei Trinkbrunnen", body="Zwei Brunnen für den Sommer.")
    comment = services.add_comment(anna, idea, "Erster Gedanke")
    services.edit_comment(anna, comment, "Zweiter Gedanke")
    data = export(anna)
    assert data["ideas"][0]["earlier_versions"][0]["title"] == "Trinkbrunnen am Platz"
    assert data["ideas"][0]["edited_at"] is not None
    assert data["comments"][0]["earlier_versions"][0]["body"] == "Erster Gedanke"


def test_the_moderation_queue_links_the_earlier_versions(client, idea, anna, actors):
    comment = services.add_comment(anna, idea, "Erster Gedanke")
    services.edit_comment(anna, comment, "Zweiter Gedanke")
    services.report(actors["citizen"], comment, "Unpassend.")
    login(client, actors["moderator"])
    html = client.get(bo_url("moderation")).content.decode()
    assert bo_url("comment-versions", pk=comment.pk) in html
    assert (
        "Erster Gedanke" in client.get(bo_url("comment-versions", pk=comment.pk)).content.decode()
    )
