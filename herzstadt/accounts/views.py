"""The person's own pages: profile settings, notifications, data export and account deletion.

Every view here shows or changes only the signed-in person's own data (``request.user``); ids in URLs
are always looked up together with the owner.
"""

from __future__ import annotations

import json

from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from herzstadt.accounts import gdpr
from herzstadt.accounts.forms import DeleteAccountForm, ProfileForm
from herzstadt.accounts.links import in_language
from herzstadt.accounts.models import Membership, Notification, Profile
from herzstadt.accounts.notifications import unread_notifications

NOTIFICATIONS_PER_PAGE = 20

#: login_required sends anonymous visitors to the sign-in page in their language.
signed_in = login_required(login_url="account_login")


def _profile(user) -> Profile:
    profile, _created = Profile.objects.get_or_create(
        user=user, defaults={"display_name": f"person-{user.pk}"}
    )
    return profile


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def profile(request):
    profile = _profile(request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your settings have been saved."))
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=profile)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "profile": profile,
            "email_addresses": EmailAddress.objects.filter(user=request.user).order_by(
                "-primary", "email"
            ),
            "memberships": Membership.objects.filter(user=request.user)
            .select_related("city")
            .order_by("city__name"),
            "unread_notifications": unread_notifications(request),
        },
    )


def _link(request, notification: Notification) -> str:
    """Where a notification leads, in the reader's language and on its city's site."""
    url = notification.url or ""
    if not url.startswith("/") or url.startswith("//"):
        return ""
    url = in_language(url, get_language())
    city = getattr(request, "city", None)
    domain = notification.city.domain if notification.city_id else ""
    if domain and (not city or city.pk != notification.city_id):
        return f"{request.scheme}://{domain}{url}"
    return url


@signed_in
@never_cache
@require_GET
def notifications(request):
    qs = Notification.objects.filter(user=request.user).select_related("city")
    page = Paginator(qs.order_by("-created_at", "-id"), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/notifications.html",
        {
            "page": page,
            "unread_count": qs.filter(read_at__isnull=True).count(),
            "total": page.paginator.count,
            "other_cities": any(
                n.city_id != getattr(request.city, "pk", None) for n in page.object_list
            ),
        },
    )


@signed_in
@require_GET
def notification_open(request, pk: int):
    """Open one notification from the list: mark it read and go where it points."""
    notification = get_object_or_404(
        Notification.objects.select_related("city"), pk=pk, user=request.user
    )
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = _link(request, notification)
    allowed = {request.get_host()}
    if notification.city_id and notification.city.domain:
        allowed.add(notification.city.domain)
    if target and url_has_allowed_host_and_scheme(target, allowed, require_https=False):
        return HttpResponseRedirect(target)
    return redirect("accounts:notifications")


@signed_in
@require_POST
def notifications_read(request):
    n = Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if n:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("accounts:notifications")


@signed_in
@never_cache
@require_GET
def export_data(request):
    data = gdpr.collect_personal_data(request.user)
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"herzstadt-personal-data-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@signed_in
@never_cache
@require_http_methods(["GET", "POST"])
def delete_account(request):
    user = request.user
    if user.is_superuser:
        return render(
            request,
            "accounts/delete.html",
            {"refused": True},
            status=403 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        # Guessing the password here is as limited as re-authenticating anywhere else.
        if not ratelimit.consume(request, action="reauthenticate", user=user):
            return ratelimit.respond_429(request)
        form = DeleteAccountForm(request.POST, user=user)
        if form.is_valid():
            gdpr.delete_account(user)
            logout(request)
            return redirect("accounts:deleted")
    else:
        form = DeleteAccountForm(user=user)
    return render(request, "accounts/delete.html", {"form": form})


@require_GET
def account_deleted(request):
    return render(request, "accounts/deleted.html")
