"""The back-office shell's pages: the home (the sections this person may use and the pillars'
panels), city roles and blocked people. Writes go through :mod:`herzstadt.accounts.commands`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.accounts import commands
from herzstadt.accounts.backoffice.access import (
    GET_POST,
    form_data,
    moderator_required,
    next_url,
    staff_required,
)
from herzstadt.accounts.backoffice.forms import RoleForm
from herzstadt.accounts.models import Membership, Role
from herzstadt.accounts.people import display_name
from herzstadt.core import panels, permissions, registry
from herzstadt.core.models import City
from herzstadt.web.forms import apply_errors


def sections(request: HttpRequest, city: City) -> list[registry.BackofficeSection]:
    """The registered back-office sections this person may use in ``city``."""
    return [
        s
        for s in registry.backoffice_sections()
        if permissions.allowed(request.user, s.permission, city)
    ]


@require_safe
@moderator_required
def home(request: HttpRequest, city: City) -> HttpResponse:
    context = {
        "sections": [
            {
                "section": s,
                "url": reverse(s.url_name),
                "summary": s.summary(city) if s.summary else "",
            }
            for s in sections(request, city)
        ],
        "panels": panels.render(request, "backoffice", city),
    }
    return render(request, "backoffice/home.html", context)


# --- blocked people ---------------------------------------------------------------------------------
@require_safe
@moderator_required
def blocked(request: HttpRequest, city: City) -> HttpResponse:
    memberships = (
        Membership.objects.filter(city=city, blocked_at__isnull=False)
        .select_related("user__profile", "blocked_by__profile")
        .order_by("-blocked_at")
    )
    return render(request, "backoffice/blocked.html", {"memberships": memberships})


@GET_POST
@moderator_required
def unblock(request: HttpRequest, city: City, user_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user__profile"),
        city=city,
        user_id=user_id,
        blocked_at__isnull=False,
    )
    if request.method == "POST":
        commands.unblock_user(request.user, city, membership.user)
        messages.success(request, _("The person can contribute again."))
        return redirect(next_url(request, reverse("backoffice:blocked")))
    return render(request, "backoffice/unblock.html", {"membership": membership})


# --- roles ------------------------------------------------------------------------------------------
@GET_POST
@staff_required
def roles_page(request: HttpRequest, city: City) -> HttpResponse:
    choices = commands.assignable_roles(request.user, city)
    form = RoleForm(choices, form_data(request))
    if request.method == "POST" and form.is_valid():
        person, role = form.cleaned_data["person"], form.cleaned_data["role"]
        try:
            commands.set_city_role(request.user, city, person, role)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {"name": display_name(person), "role": Role(role).label},
            )
            return redirect("backoffice:roles")
    members = (
        Membership.objects.filter(city=city, role__in=[Role.MODERATOR, Role.STAFF, Role.ADMIN])
        .select_related("user__profile")
        .order_by("user__profile__display_name", "user_id")
    )
    rows = [
        {
            "membership": m,
            "can_remove": m.user_id != request.user.pk
            and commands.may_give(request.user, city, Role(m.role)),
        }
        for m in members
    ]
    return render(request, "backoffice/roles.html", {"form": form, "rows": rows})


@GET_POST
@staff_required
def role_remove(request: HttpRequest, city: City, user_id: int) -> HttpResponse:
    membership = get_object_or_404(
        Membership.objects.select_related("user__profile"),
        city=city,
        user_id=user_id,
        role__in=[Role.MODERATOR, Role.STAFF, Role.ADMIN],
    )
    if request.method == "POST":
        commands.remove_city_role(request.user, city, membership.user)
        messages.success(request, _("The role is removed."))
        return redirect("backoffice:roles")
    return render(request, "backoffice/role_remove.html", {"membership": membership})
