"""The back-office section "Städtenetzwerk": partners this city follows (add by address, status,
sync now, remove), keys this city issues to partners for their reports, and "Übernehmen".

Staff and administrators of the current city (``accounts.city_staff``); every object is looked up
within the city, so a foreign id is a 404.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from herzstadt.accounts.backoffice.access import GET_POST, form_data, staff_required
from herzstadt.core.models import City
from herzstadt.knowledge.models import Partner, PartnerKey, PartnerMeasure
from herzstadt.knowledge.network import adopt, conf, harvest, keys
from herzstadt.knowledge.network.client import NetworkError, request
from herzstadt.knowledge.network.forms import (
    AdoptForm,
    PartnerAddForm,
    PartnerEditForm,
    PartnerKeyForm,
)

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


def discover(base_url: str) -> list[dict[str, str]]:
    """The hosted cities of the installation at ``base_url`` (its network index), each with
    slug, name, measures and dcat addresses on the installation's origin."""
    answer = request(
        "GET",
        base_url + "/api/v1/network/",
        headers={"Accept": "application/json"},
        max_bytes=512 * 1024,
    )
    if answer.status != 200:
        raise NetworkError(
            _("The address does not answer like a herzstadt installation (HTTP %(status)s).")
            % {"status": answer.status}
        )
    try:
        data = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        raise NetworkError(
            _("The address does not answer like a herzstadt installation.")
        ) from None
    cities = data.get("cities") if isinstance(data, dict) else None
    if not isinstance(cities, list):
        raise NetworkError(_("The address does not answer like a herzstadt installation."))
    found = []
    for c in cities[:500]:
        if not isinstance(c, dict) or not isinstance(c.get("slug"), str):
            continue
        slug = c["slug"]
        if not SLUG.fullmatch(slug):
            continue
        measures = base_url + f"/api/v1/network/{slug}/measures/"
        raw_dcat = c.get("dcat")
        dcat = raw_dcat if isinstance(raw_dcat, str) else ""
        if dcat and _origin(dcat) != _origin(base_url):
            dcat = ""  # only on the installation's address (staff chose that one)
        name = c.get("name") if isinstance(c.get("name"), str) else slug
        found.append(
            {"slug": slug, "name": (name or slug)[:200], "measures": measures, "dcat": dcat[:500]}
        )
    return found


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        return conf.origin(url)
    except ValueError:
        return None


def _partner(city: City, pk: int) -> Partner:
    return get_object_or_404(Partner, city=city, pk=pk)


def _list_page(request: HttpRequest, city: City, form: PartnerAddForm, status: int = 200):
    partners = Partner.objects.filter(city=city).order_by("name")
    counts = {p.pk: p.measures.count() for p in partners}
    context = {
        "partners": [(p, counts[p.pk]) for p in partners],
        "form": form,
        "keys": PartnerKey.objects.filter(city=city, revoked_at__isnull=True).count(),
    }
    return render(request, "knowledge/network/partners.html", context, status=status)


@GET_POST
@staff_required
def partners(request: HttpRequest, city: City) -> HttpResponse:
    """The partners, and the form to follow a new one by the address of its installation (when
    the installation hosts several cities, the form comes back with a choice of them)."""
    form = PartnerAddForm(form_data(request))
    if request.method != "POST" or not form.is_valid():
        return _list_page(request, city, form, 400 if request.method == "POST" else 200)
    base = form.cleaned_data["url"]
    try:
        cities = discover(base)
    except NetworkError as e:
        form.add_error("url", str(e))
        return _list_page(request, city, form, 400)
    if not cities:
        form.add_error("url", _("The installation hosts no city."))
        return _list_page(request, city, form, 400)
    chosen = form.cleaned_data.get("remote_slug") or ""
    if len(cities) == 1 and not chosen:
        chosen = cities[0]["slug"]
    match = next((c for c in cities if c["slug"] == chosen), None)
    if match is None:
        form = PartnerAddForm(request.POST, cities=cities)
        form.is_valid()
        if chosen:
            form.add_error("remote_slug", _("Choose one of the cities of this installation."))
            return _list_page(request, city, form, 400)
        messages.info(
            request, _("This installation hosts several cities: choose the one to follow.")
        )
        return _list_page(request, city, form)
    try:
        with transaction.atomic():
            partner = Partner.objects.create(
                city=city,
                base_url=base,
                remote_slug=match["slug"],
                name=match["name"],
                measures_url=match["measures"],
                dcat_url=match["dcat"],
                api_key=form.cleaned_data.get("api_key", ""),
            )
    except IntegrityError:
        form.add_error("url", _("This city already follows that partner."))
        return _list_page(request, city, form, 400)
    if harvest.sync_partner(partner):
        messages.success(
            request, _("%(name)s is followed; its catalogue was read.") % {"name": partner.name}
        )
    else:
        partner.refresh_from_db()
        messages.warning(
            request,
            _("%(name)s is followed, but its catalogue could not be read yet: %(error)s")
            % {"name": partner.name, "error": partner.last_error},
        )
    return redirect("backoffice:network-partner", pk=partner.pk)


@GET_POST
@staff_required
def partner(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    obj = _partner(city, pk)
    form = PartnerEditForm(form_data(request), instance=obj)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The partner is saved."))
        return redirect("backoffice:network-partner", pk=obj.pk)
    context = {
        "partner": obj,
        "form": form,
        "measures": obj.measures.all(),
    }
    return render(
        request, "knowledge/network/partner.html", context, status=400 if form.errors else 200
    )


@staff_required
@require_POST
def partner_sync(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    obj = _partner(city, pk)
    if harvest.sync_partner(obj):
        messages.success(request, _("The partner's catalogue is read."))
    else:
        obj.refresh_from_db()
        messages.error(
            request,
            _("The partner's catalogue could not be read: %(error)s The copy from before is kept.")
            % {"error": obj.last_error},
        )
    return redirect("backoffice:network-partner", pk=obj.pk)


@staff_required
@require_POST
def partner_delete(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    obj = _partner(city, pk)
    name = obj.name
    obj.delete()
    messages.success(request, _("%(name)s is no longer followed.") % {"name": name})
    return redirect("backoffice:network-partners")


@GET_POST
@staff_required
def partner_keys(request: HttpRequest, city: City) -> HttpResponse:
    """Keys this city issued to partners for their reports; a new key is shown once."""
    form = PartnerKeyForm(form_data(request))
    context: dict[str, Any] = {
        "keys": PartnerKey.objects.filter(city=city),
        "form": form,
        "reuse_example": request.build_absolute_uri(
            reverse("api:network-measures", kwargs={"city": city.slug})
        ),
    }
    if request.method == "POST" and form.is_valid():
        row, key = keys.issue(city, form.cleaned_data["name"])
        context.update({"new_key": key, "new_row": row, "form": PartnerKeyForm()})
        response = render(request, "knowledge/network/keys.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, private"
        return response
    return render(
        request, "knowledge/network/keys.html", context, status=400 if form.errors else 200
    )


@staff_required
@require_POST
def partner_key_revoke(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    row = get_object_or_404(PartnerKey, city=city, pk=pk)
    keys.revoke(row)
    messages.success(request, _("The key is revoked."))
    return redirect("backoffice:network-keys")


def _edit_url(measure: Any) -> str:
    try:
        return reverse("backoffice:knowledge-profile-edit", kwargs={"slug": measure.slug})
    except NoReverseMatch:
        return measure.get_absolute_url()


@GET_POST
@staff_required
def adopt_view(request: HttpRequest, city: City, pk: int) -> HttpResponse:
    """ "Übernehmen": what to copy from the partner's measure, then the new measure's edit page."""
    pm = get_object_or_404(PartnerMeasure.objects.select_related("partner"), city=city, pk=pk)
    parts = adopt.available_parts(pm)
    initial = {
        "title": pm.title,
        "slug": urlsplit(pm.remote_id).path.rstrip("/").rsplit("/", 1)[-1][:80],
    }
    form = AdoptForm(form_data(request), city=city, parts=parts, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        choices = adopt.Choices(
            slug=d["slug"],
            title=d["title"],
            field_of_action=d["field_of_action"],
            district=d.get("district"),
            profile=d["profile"],
            milestones=d["milestones"],
            start_date=d.get("start_date"),
            parts=form.chosen_parts(),
        )
        try:
            measure = adopt.adopt_measure(request.user, pm, choices)
        except adopt.AdoptionError as e:
            form.add_error(None, str(e))
        else:
            profile = measure.profile
            if profile.report_pending:
                messages.warning(
                    request,
                    _(
                        "The measure is taken over. %(origin)s could not be told yet (%(error)s); "
                        "this is retried automatically."
                    )
                    % {"origin": pm.partner.name, "error": profile.report_error},
                )
            else:
                messages.success(
                    request,
                    _(
                        "The measure is taken over and %(origin)s was told. Now adapt it to your city."
                    )
                    % {"origin": pm.partner.name},
                )
            return redirect(_edit_url(measure))
    context = {"pm": pm, "form": form, "parts": parts}
    return render(
        request, "knowledge/network/adopt.html", context, status=400 if form.errors else 200
    )
