"""Roles: staff appoint and remove moderators; only administrators handle staff and administrators."""

import pytest

from herzstadt.accounts import commands, roles
from herzstadt.accounts.models import Role
from tests.conftest import bo_url, login

pytestmark = pytest.mark.django_db


def role(user, city):
    return roles.role_of(type(user).objects.get(pk=user.pk), city)


def test_staff_appoint_a_moderator_by_email_or_display_name(client, city, actors, make_user):
    login(client, actors["staff"])
    carla, dirk = make_user(name="Carla"), make_user(name="Dirk")
    response = client.post(bo_url("roles"), {"person": carla.email.upper(), "role": "moderator"})
    assert response.status_code == 302
    assert role(carla, city) == Role.MODERATOR
    client.post(bo_url("roles"), {"person": "dirk", "role": "moderator"})
    assert role(dirk, city) == Role.MODERATOR
    html = client.get(bo_url("roles")).content.decode()
    assert "Carla" in html and "Dirk" in html and carla.email not in html
    # remove again
    assert client.post(bo_url("role-remove", user_id=carla.pk)).status_code == 302
    assert role(carla, city) == Role.CITIZEN


def test_staff_cannot_appoint_or_remove_staff(client, city, actors, make_user):
    login(client, actors["staff"])
    erik = make_user(name="Erik")
    response = client.post(bo_url("roles"), {"person": "Erik", "role": "staff"})
    assert response.status_code == 200 and 'id="id_role_error"' in response.content.decode()
    assert role(erik, city) == Role.CITIZEN
    colleague = make_user(Role.STAFF, city, name="Kollegin")
    assert client.post(bo_url("role-remove", user_id=colleague.pk)).status_code == 403
    assert role(colleague, city) == Role.STAFF
    # nor themselves
    assert client.post(bo_url("role-remove", user_id=actors["staff"].pk)).status_code == 403


def test_admin_appoints_staff(client, city, actors, make_user):
    admin = make_user(Role.ADMIN, city, name="Admina")
    login(client, admin)
    erik = make_user(name="Erik")
    assert client.post(bo_url("roles"), {"person": "Erik", "role": "staff"}).status_code == 302
    assert role(erik, city) == Role.STAFF
    assert client.post(bo_url("role-remove", user_id=actors["staff"].pk)).status_code == 302
    assert role(actors["staff"], city) == Role.CITIZEN


def test_unknown_person_and_blocked_person(client, city, actors, make_user):
    troll = make_user(name="Troll")
    commands.block_user(actors["moderator"], city, troll, "Spam")
    login(client, actors["staff"])
    response = client.post(bo_url("roles"), {"person": "niemand@example.org", "role": "moderator"})
    assert response.status_code == 200 and 'id="id_person_error"' in response.content.decode()
    response = client.post(bo_url("roles"), {"person": "Troll", "role": "moderator"})
    assert response.status_code == 200 and 'id="id_person_error"' in response.content.decode()
    assert role(troll, city) == Role.CITIZEN


def test_roles_are_per_city(client, city, other_city, actors):
    """Appointing in Kaiserslautern leaves the person a citizen in Musterstadt."""
    login(client, actors["staff"])
    citizen = actors["citizen"]
    client.post(bo_url("roles"), {"person": citizen.email, "role": "moderator"})
    assert role(citizen, city) == Role.MODERATOR and role(citizen, other_city) == Role.CITIZEN
