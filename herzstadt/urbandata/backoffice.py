"""The back-office section "API-Zugänge": who may use the city's NGSI-LD API.

Administrators of the current city only (``urbandata.manage_access``). Every object is looked up
within the city, so a foreign id is a 404. A key or secret is shown once, on the page that answers
the POST that made it (never stored, never in a redirect or the session; ``no-store``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from herzstadt.accounts.backoffice.access import GET_POST, form_data, form_page
from herzstadt.accounts.permissions import permission_required
from herzstadt.core.models import City
from herzstadt.urbandata import access
from herzstadt.urbandata.broker import public_url
from herzstadt.urbandata.datasets import NGSI_LD_PREFIX
from herzstadt.urbandata.forms import ApiClientForm, DeviceForm, OpenDataForm, RegisteredDeviceForm
from herzstadt.urbandata.models import ApiClient, DeadLetter, Device, DeviceCredential

admin_required = permission_required("urbandata.manage_access")


def _secret_page(request: HttpRequest, context: dict) -> HttpResponse:
    response = render(request, "urbandata/backoffice/secret.html", context)
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


def _api_url(city: City) -> str:
    return f"{public_url()}{NGSI_LD_PREFIX}v1/entities"


@require_safe
@admin_required
def overview(request: HttpRequest, city: City) -> HttpResponse:
    settings = access.settings_of(city)
    context = {
        "clients": ApiClient.objects.filter(city=city).select_related("application"),
        "devices": DeviceCredential.objects.filter(city=city),
        "settings": settings,
        "tenant": city.ngsi_tenant,
        "api_url": _api_url(city),
    }
    return render(request, "urbandata/backoffice/overview.html", context)


@GET_POST
@admin_required
def client_create(request: HttpRequest, city: City) -> HttpResponse:
    form = ApiClientForm(access.known_types(city), form_data(request))
    if request.method == "POST" and form.is_valid():
        client, key = access.create_client(city, request.user, form.save(commit=False))
        return _secret_page(
            request,
            {"obj": client, "key": key, "api_url": _api_url(city), "tenant": city.ngsi_tenant},
        )
    return form_page(
        request,
        form,
        title=_("New API client"),
        back=reverse("backoffice:api-access"),
        submit=_("Create and show the key"),
    )


def _client(city: City, pk: int) -> ApiClient:
    return get_object_or_404(ApiClient.objects.select_related("application"), city=city, pk=pk)


@require_safe
@admin_required
def client_detail(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    client = _client(city, pk)
    context = {"client": client, "audit": access.audit_trail(client), "tenant": city.ngsi_tenant}
    return render(request, "urbandata/backoffice/client.html", context)


@GET_POST
@admin_required
def client_edit(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    client = _client(city, pk)
    form = ApiClientForm(access.known_types(city), form_data(request), instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, _("The API client is saved. Changes take effect within a minute.")
        )
        return redirect("backoffice:api-client", pk=client.pk)
    return form_page(
        request,
        form,
        title=_("Edit API client"),
        back=reverse("backoffice:api-client", args=[client.pk]),
        submit=_("Save"),
    )


@admin_required  # first: who may not use the page gets 302/403 for any method
@require_POST
def client_revoke(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    client = _client(city, pk)
    access.revoke_client(client)
    messages.success(
        request, _("The API client is revoked: its key and tokens stop working within a minute.")
    )
    return redirect("backoffice:api-client", pk=client.pk)


@admin_required  # first: who may not use the page gets 302/403 for any method
@require_POST
def client_new_key(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    client = _client(city, pk)
    if not client.active:
        messages.error(request, _("A revoked or expired client gets no new key."))
        return redirect("backoffice:api-client", pk=client.pk)
    key = access.new_key(client)
    return _secret_page(
        request,
        {"obj": client, "key": key, "api_url": _api_url(city), "tenant": city.ngsi_tenant},
    )


@admin_required  # first: who may not use the page gets 302/403 for any method
@require_POST
def client_oauth(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    client = _client(city, pk)
    if not client.active:
        messages.error(request, _("A revoked or expired client gets no OAuth2 credentials."))
        return redirect("backoffice:api-client", pk=client.pk)
    client_id, secret = access.create_oauth_credentials(client)
    context = {
        "obj": client,
        "oauth_client_id": client_id,
        "oauth_secret": secret,
        "token_url": f"{public_url()}{reverse('api:oauth-token')}",
        "api_url": _api_url(city),
        "tenant": city.ngsi_tenant,
    }
    return _secret_page(request, context)


@GET_POST
@admin_required
def device_create(request: HttpRequest, city: City) -> HttpResponse:
    form = DeviceForm(city, access.known_types(city), form_data(request))
    if request.method == "POST" and form.is_valid():
        device, key = access.create_device(city, request.user, form.save(commit=False))
        return _secret_page(
            request,
            {
                "obj": device,
                "is_device": True,
                "key": key,
                "api_url": _api_url(city),
                "tenant": city.ngsi_tenant,
            },
        )
    return form_page(
        request,
        form,
        title=_("New device key"),
        back=reverse("backoffice:api-access"),
        submit=_("Create and show the key"),
    )


@require_safe
@admin_required
def device_detail(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    device = get_object_or_404(DeviceCredential, city=city, pk=pk)
    context = {"device": device, "audit": access.audit_trail(device), "tenant": city.ngsi_tenant}
    return render(request, "urbandata/backoffice/device.html", context)


@admin_required  # first: who may not use the page gets 302/403 for any method
@require_POST
def device_revoke(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    device = get_object_or_404(DeviceCredential, city=city, pk=pk)
    device.revoke()
    messages.success(request, _("The device key is revoked: it stops working within a minute."))
    return redirect("backoffice:api-device", pk=device.pk)


@GET_POST
@admin_required
def open_data(request: HttpRequest, city: City) -> HttpResponse:
    current = access.settings_of(city)
    form = OpenDataForm(access.known_types(city), current, form_data(request))
    if request.method == "POST" and form.is_valid():
        access.save_settings(
            city,
            form.chosen_types(),
            form.cleaned_data["cors_origins"],
            form.cleaned_data["personal_types"],
        )
        messages.success(request, _("Saved. Changes take effect within a minute."))
        return redirect("backoffice:api-access")
    return form_page(
        request,
        form,
        title=_("Open data, personal data and CORS"),
        back=reverse("backoffice:api-access"),
        submit=_("Save"),
    )


# ------------------------------------------------------------------ device registry (MQTT)
#: Rejected messages the back office shows (the newest).
DEAD_LETTERS_SHOWN = 200


@require_safe
@admin_required
def registry(request: HttpRequest, city: City) -> HttpResponse:
    context = {
        "registered": Device.objects.filter(city=city).select_related("credential"),
        "dead_letter_count": DeadLetter.objects.filter(city=city).count(),
    }
    return render(request, "urbandata/backoffice/registry.html", context)


@GET_POST
@admin_required
def registry_create(request: HttpRequest, city: City) -> HttpResponse:
    form = RegisteredDeviceForm(city, form_data(request))
    if request.method == "POST" and form.is_valid():
        form.device.save()
        messages.success(request, _("The device is saved. Changes take effect within a minute."))
        return redirect("backoffice:api-registry")
    return form_page(
        request,
        form,
        title=_("New device"),
        back=reverse("backoffice:api-registry"),
        submit=_("Save"),
    )


@GET_POST
@admin_required
def registry_edit(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    device = get_object_or_404(Device, city=city, pk=pk)
    form = RegisteredDeviceForm(city, form_data(request), instance=device)
    if request.method == "POST" and form.is_valid():
        form.device.save()
        messages.success(request, _("The device is saved. Changes take effect within a minute."))
        return redirect("backoffice:api-registry")
    return form_page(
        request,
        form,
        title=_("Edit device"),
        back=reverse("backoffice:api-registry"),
        submit=_("Save"),
    )


@admin_required  # first: who may not use the page gets 302/403 for any method
@require_POST
def registry_delete(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    device = get_object_or_404(Device, city=city, pk=pk)
    device.delete()
    messages.success(request, _("The device is deleted; its entity stays."))
    return redirect("backoffice:api-registry")


@require_safe
@admin_required
def dead_letters(request: HttpRequest, city: City) -> HttpResponse:
    letters = DeadLetter.objects.filter(city=city)[:DEAD_LETTERS_SHOWN]
    return render(request, "urbandata/backoffice/dead_letters.html", {"letters": letters})
