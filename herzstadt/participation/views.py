"""Citizen pages of the participation pillar: read everything without an account, contribute after
sign-in. Every POST goes through a use case in services.py; the page explains what is not possible and
why, instead of hiding it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import orjson
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from herzstadt.core import leichte_sprache, permissions
from herzstadt.core import panels as core_panels
from herzstadt.core.geojson import district_feature
from herzstadt.core.ttlcache import TTLCache
from herzstadt.participation import services
from herzstadt.participation.forms import (
    CommentForm,
    IdeaEditForm,
    IdeaFilterForm,
    IdeaForm,
    ReportForm,
)
from herzstadt.participation.models import (
    Comment,
    Follow,
    Idea,
    IdeaStatus,
    Phase,
    Process,
    Support,
)
from herzstadt.participation.permissions import FEATURE_PERMISSIONS
from herzstadt.participation.phases import Feature
from herzstadt.web.forms import apply_errors

PAGE_SIZE = 20
#: extra tag of a message shown next to a comment: ``note-comment-<pk>``
_NOTE_TAG = "note-comment-"


def _city(request: HttpRequest):
    if not request.city:
        raise Http404(_("No city has been set up yet."))
    return request.city


def _process(request: HttpRequest, slug: str) -> Process:
    """A published process of this city (the city's staff also see drafts, as a preview)."""
    city = _city(request)
    qs = Process.objects.filter(city=city, slug=slug).select_related("district", "measure", "city")
    process = qs.prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("start"))
    ).first()
    if process is None or not (
        process.is_published or permissions.allowed(request.user, "participation.manage", city)
    ):
        raise Http404(_("There is no such participation process."))
    return process


def _idea(request: HttpRequest, process: Process, pk: int) -> Idea:
    return get_object_or_404(
        Idea.objects.select_related("author__profile", "category", "measure", "process"),
        pk=pk,
        process=process,
    )


def _login_url(request: HttpRequest) -> str:
    return f"{reverse('account_login')}?next={request.get_full_path()}"


def _why_not(request: HttpRequest, process: Process, feature: Feature) -> str | None:
    """Why the person cannot do ``feature`` now (``None`` if they can), in plain language."""
    return permissions.explain(request.user, FEATURE_PERMISSIONS[feature], process)


def _feature_map(process: Process, ideas, with_district: bool = True) -> dict:
    features = [district_feature(process.district)] if with_district and process.district_id else []
    for idea in ideas:
        if idea.has_point and not idea.is_hidden:
            features.append(idea_feature(idea))
    return {"type": "FeatureCollection", "features": features}


def idea_feature(idea: Idea) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [idea.lon, idea.lat]},
        "properties": {
            "kind": "idea",
            "id": idea.pk,
            "name": idea.title,
            "url": idea.get_absolute_url(),
            "status": idea.status,
            "status_label": str(idea.get_status_display()),
            "supports": idea.support_count,
            "comments": idea.comment_count,
        },
    }


#: a process's ideas as GeoJSON, per worker: (process id, language) → (ETag, body); 15 s
ideas_geojson_cache = TTLCache(ttl=15.0, max_entries=256)
_PK_SENTINEL = 987654321


@receiver(post_save, sender=Idea, dispatch_uid="herzstadt-ideas-geojson-save")
@receiver(post_delete, sender=Idea, dispatch_uid="herzstadt-ideas-geojson-delete")
def _idea_changed(**kwargs) -> None:
    ideas_geojson_cache.clear()


def _ideas_geojson_body(process: Process) -> tuple[str, bytes]:
    """The visible ideas with a point as GeoJSON bytes and their ETag: one query of plain rows."""
    url = reverse("participation:idea", kwargs={"slug": process.slug, "pk": _PK_SENTINEL})
    head, tail = url.split(str(_PK_SENTINEL), 1)
    labels = {value: str(label) for value, label in IdeaStatus.choices}
    rows = (
        Idea.objects.filter(process=process, hidden_at__isnull=True, deleted_at__isnull=True)
        .filter(lon__isnull=False, lat__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("pk", "title", "lon", "lat", "status", "support_count", "comment_count")
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "kind": "idea",
                "id": pk,
                "name": title,
                "url": f"{head}{pk}{tail}",
                "status": status,
                "status_label": labels.get(status, status),
                "supports": supports,
                "comments": comments,
            },
        }
        for pk, title, lon, lat, status, supports, comments in rows.iterator(chunk_size=2000)
    ]
    body = orjson.dumps({"type": "FeatureCollection", "features": features})
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"', body


# --- processes --------------------------------------------------------------------------------------
def take_part(request: HttpRequest) -> HttpResponse:
    """How to take part; in Leichte Sprache when the reader asked for it."""
    _city(request)
    easy = leichte_sprache.active()
    return render(request, f"participation/take_part{'_ls' if easy else ''}.html")


def process_list(request: HttpRequest) -> HttpResponse:
    city = _city(request)
    # a correlated subquery: grouping the processes by every column (boundary JSON included) to count
    # their ideas cost more the more ideas there were
    visible_ideas = (
        Idea.objects.filter(process=OuterRef("pk"), hidden_at__isnull=True, deleted_at__isnull=True)
        .order_by()
        .values("process")
        .annotate(n=Count("pk"))
        .values("n")
    )
    processes = (
        Process.objects.filter(city=city, is_published=True)
        .select_related("district", "measure")
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("start")))
        .annotate(idea_total=Coalesce(Subquery(visible_ideas), 0))
    )
    return render(request, "participation/process_list.html", {"processes": processes})


def process_detail(request: HttpRequest, slug: str) -> HttpResponse:
    process = _process(request, slug)
    phase = process.active_phase()
    filters = IdeaFilterForm(process, request.GET or None)
    ideas = filters.apply(
        Idea.objects.filter(process=process, hidden_at__isnull=True, deleted_at__isnull=True)
    )
    # the page's ids first (a narrow query in index order), then those ideas with their authors: the
    # database never sorts thousands of wide joined rows to show twenty
    page = Paginator(ideas.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    found = Idea.objects.select_related("author__profile", "category").in_bulk(ids)
    page.object_list = [found[pk] for pk in ids if pk in found]
    for idea in page.object_list:
        idea.process = process  # their URLs need the process: no query per idea
    user = request.user
    following = user.is_authenticated and Follow.objects.filter(user=user, process=process).exists()
    status_counts = dict(
        Idea.objects.filter(process=process, hidden_at__isnull=True, deleted_at__isnull=True)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    context = {
        "process": process,
        "phase": phase,
        "phases": process.phases.all(),
        "page": page,
        "filters": filters,
        "following": following,
        "surveys": process.surveys.all()
        if permissions.allowed(user, "participation.manage", process.city)
        else process.surveys.filter(is_published=True),
        "can_post": _why_not(request, process, Feature.POST_IDEA) is None,
        "post_blocked": _why_not(request, process, Feature.POST_IDEA),
        # the map draws the district from the page and fetches the ideas from the GeoJSON endpoint;
        # the list of places under it (the text version) holds this page's ideas only
        "map_data": _feature_map(process, []),
        "map_places": _feature_map(process, page.object_list, with_district=False),
        "map_legend": IdeaStatus.choices,
        "ideas_geojson_url": reverse("api:ideas-geojson", kwargs={"slug": process.slug}),
        "status_counts": [
            (label, status_counts.get(value, 0)) for value, label in IdeaStatus.choices
        ],
    }
    return render(request, "participation/process_detail.html", context)


def _toggle_follow(request: HttpRequest, followed_msg: str, unfollowed_msg: str, **target) -> None:
    """Follow or (with ``action=unfollow``) stop following a process or an idea."""
    if request.POST.get("action") == "unfollow":
        services.unfollow(request.user, **target)
        messages.success(request, unfollowed_msg)
    else:
        services.follow(request.user, **target)
        messages.success(request, followed_msg)


@require_POST
def process_follow(request: HttpRequest, slug: str) -> HttpResponse:
    process = _process(request, slug)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    _toggle_follow(
        request,
        _("You now follow this process and will be notified of new ideas."),
        _("You no longer follow this process."),
        process=process,
    )
    return redirect(process)


# --- ideas --------------------------------------------------------------------------------------------
def idea_create(request: HttpRequest, slug: str) -> HttpResponse:
    process = _process(request, slug)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    why_not = _why_not(request, process, Feature.POST_IDEA)
    if why_not:
        return render(
            request,
            "participation/not_allowed.html",
            {"process": process, "reason": why_not},
            status=403,
        )
    form = IdeaForm(process, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            idea = services.post_idea(
                request.user,
                process,
                title=data["title"],
                body=data["body"],
                category=data.get("category"),
                lon=data.get("lon"),
                lat=data.get("lat"),
                location_text=data.get("location_text", ""),
                image=data.get("image"),
                image_alt=data.get("image_alt", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Thank you! Your idea has been published."))
            return redirect(idea)
    if form.errors:
        form.note_image_to_choose_again()
    context = {
        "process": process,
        "form": form,
        "map_data": _feature_map(process, []),
    }
    return render(
        request, "participation/idea_form.html", context, status=400 if form.errors else 200
    )


def _comment_tree(idea: Idea, notes: dict[int, object] | None = None) -> list[Comment]:
    """The comments as a tree: each top-level comment with ``.children`` (replies, oldest first) and
    ``.note``, the message about it (e.g. "published") to show next to it."""
    comments = list(Comment.objects.filter(idea=idea).select_related("author__profile"))
    children: dict[int | None, list[Comment]] = defaultdict(list)
    for c in comments:
        children[c.parent_id].append(c)
        c.note = (notes or {}).pop(c.pk, None)
    for c in comments:
        c.children = children.get(c.pk, [])
        c.idea = idea  # the permission checks of the author's own comments need no query
    return children.get(None, [])


def idea_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    process = _process(request, slug)
    return _idea_page(request, process, _idea(request, process, pk))


def _idea_page(request, process: Process, idea: Idea, status: int = 200, **forms) -> HttpResponse:
    """The idea page; after a failed comment or report, with that form and its errors."""
    user = request.user
    idea.process = process  # with its phases, for the permission checks
    # a message about one comment is shown next to that comment (the redirect lands there), not at
    # the top of the page, scrolled out of sight
    page_messages, notes = [], {}
    for message in messages.get_messages(request):
        tag = next((t for t in message.extra_tags.split() if t.startswith(_NOTE_TAG)), None)
        if tag and tag.removeprefix(_NOTE_TAG).isdigit():
            notes[int(tag.removeprefix(_NOTE_TAG))] = message
        else:
            page_messages.append(message)
    context = {
        "process": process,
        "idea": idea,
        "messages": page_messages,
        "comments": _comment_tree(idea, notes),
        "comment_form": CommentForm(),
        "report_form": ReportForm(),
        "supported": user.is_authenticated
        and Support.objects.filter(idea=idea, user=user).exists(),
        "following": user.is_authenticated and Follow.objects.filter(idea=idea, user=user).exists(),
        "comment_blocked": _why_not(request, process, Feature.COMMENT),
        "support_blocked": _why_not(request, process, Feature.SUPPORT),
        "own_idea": services.is_own_idea(user, idea),
        "own_idea_note": services.OWN_IDEA,
        "map_data": _feature_map(process, [idea]) if idea.has_point else None,
        "map_legend": [(idea.status, idea.get_status_display())],
        "panels": core_panels.render(request, "idea", idea),
        **forms,
    }
    page_messages.extend(notes.values())  # about a comment not on the page (any more)
    return render(request, "participation/idea_detail.html", context, status=status)


def _back_to(idea: Idea, anchor: str = "") -> HttpResponse:
    return redirect(idea.get_absolute_url() + anchor)


def _forbidden(request: HttpRequest, process: Process, exc: PermissionDenied) -> HttpResponse:
    return render(
        request,
        "participation/not_allowed.html",
        {"process": process, "reason": str(exc)},
        status=403,
    )


@require_POST
def comment_create(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    form = CommentForm(request.POST, idea=idea)
    if form.is_valid():
        try:
            comment = services.add_comment(
                request.user, idea, form.cleaned_data["body"], form.cleaned_data.get("parent")
            )
        except PermissionDenied as exc:
            return _forbidden(request, process, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your comment has been published."),
                extra_tags=f"{_NOTE_TAG}{comment.pk}",
            )
            return _back_to(idea, f"#comment-{comment.pk}")
    return _idea_page(request, process, idea, 400, comment_form=form)


@require_POST
def idea_support(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    try:
        if request.POST.get("action") == "withdraw":
            services.withdraw_support(request.user, idea)
            messages.success(request, _("You no longer support this idea."))
        else:
            services.support(request.user, idea)
            messages.success(request, _("Thank you for your support."))
    except PermissionDenied as exc:
        return _forbidden(request, process, exc)
    return _back_to(idea, "#support")


@require_POST
def idea_follow(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    _toggle_follow(
        request,
        _("You now follow this idea and will be notified of comments and answers."),
        _("You no longer follow this idea."),
        idea=idea,
    )
    return _back_to(idea)


@require_POST
def report(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    form = ReportForm(request.POST)
    if form.is_valid():
        target = idea
        if form.cleaned_data.get("comment"):
            target = get_object_or_404(Comment, pk=form.cleaned_data["comment"], idea=idea)
        try:
            services.report(request.user, target, form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            note = f"{_NOTE_TAG}{target.pk}" if isinstance(target, Comment) else ""
            messages.success(
                request, _("Thank you. The moderators will look at it."), extra_tags=note
            )
            anchor = f"#comment-{target.pk}" if isinstance(target, Comment) else ""
            return _back_to(idea, anchor)
    return _idea_page(request, process, idea, 400, report_form=form, report_open=True)


# --- machine-readable -----------------------------------------------------------------------------------
def ideas_geojson(request: HttpRequest, slug: str) -> HttpResponse:
    """The visible ideas of a published process that have a point, as a GeoJSON FeatureCollection.

    The process page's map fetches it. Its cost does not depend on the page that links it: one query
    of plain rows (no model instances), kept for 15 s per worker and language, with an ETag
    (``If-None-Match`` → 304 without a body). ``?lang=en`` gives the English addresses and status
    labels (the map of an English page asks for them; the API's default is German)."""
    lang = request.GET.get("lang", "")
    if lang in dict(settings.LANGUAGES):
        with translation.override(lang):
            return _ideas_geojson(request, slug)
    return _ideas_geojson(request, slug)


def _ideas_geojson(request: HttpRequest, slug: str) -> HttpResponse:
    city = _city(request)
    process = get_object_or_404(
        Process.objects.only("pk", "slug"), city=city, slug=slug, is_published=True
    )
    etag, body = ideas_geojson_cache.get_or_set(
        (process.pk, get_language()), lambda: _ideas_geojson_body(process)
    )
    if etag in _etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/geo+json")
        response["Content-Disposition"] = f'inline; filename="{process.slug}-ideas.geojson"'
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=15"
    return response


def _etags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


# --- one's own ideas and comments ---------------------------------------------------------------------
def _own_comment(idea: Idea, cpk: int) -> Comment:
    return get_object_or_404(Comment.objects.select_related("idea__process"), pk=cpk, idea=idea)


def _own_page(request, process, idea, template: str, status: int = 200, **extra) -> HttpResponse:
    return render(request, template, {"process": process, "idea": idea, **extra}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def idea_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The author edits their idea while the phase allows it (``participation.edit_own_idea``)."""
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    why_not = permissions.explain(request.user, "participation.edit_own_idea", idea)
    if why_not:
        return _forbidden(request, process, PermissionDenied(why_not))
    initial = {"title": idea.title, "body": idea.body}
    form = IdeaEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_idea(request.user, idea, **form.cleaned_data)
        except PermissionDenied as exc:
            return _forbidden(request, process, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your idea has been changed."))
            return _back_to(idea)
    return _own_page(
        request,
        process,
        idea,
        "participation/own_edit.html",
        400 if form.errors else 200,
        form=form,
        heading=_("Edit your idea"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HttpRequest, slug: str, pk: int, cpk: int) -> HttpResponse:
    """The author edits their comment while the phase allows it."""
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    comment = _own_comment(idea, cpk)
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    why_not = permissions.explain(request.user, "participation.edit_own_comment", comment)
    if why_not:
        return _forbidden(request, process, PermissionDenied(why_not))
    form = CommentForm(request.POST or None, idea=idea, initial={"body": comment.body})
    if "parent" in form.fields:
        del form.fields["parent"]
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_comment(request.user, comment, form.cleaned_data["body"])
        except PermissionDenied as exc:
            return _forbidden(request, process, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your comment has been changed."))
            return _back_to(idea, f"#comment-{comment.pk}")
    return _own_page(
        request,
        process,
        idea,
        "participation/own_edit.html",
        400 if form.errors else 200,
        form=form,
        heading=_("Edit your comment"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def idea_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The author deletes their idea (asks first; ``participation.delete_own``)."""
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    return _delete_own(request, process, idea, idea, _("Delete your idea"))


@require_http_methods(["GET", "HEAD", "POST"])
def comment_delete(request: HttpRequest, slug: str, pk: int, cpk: int) -> HttpResponse:
    process = _process(request, slug)
    idea = _idea(request, process, pk)
    return _delete_own(request, process, idea, _own_comment(idea, cpk), _("Delete your comment"))


def _delete_own(request, process: Process, idea: Idea, target, heading: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(_login_url(request))
    why_not = permissions.explain(request.user, "participation.delete_own", target)
    if why_not:
        return _forbidden(request, process, PermissionDenied(why_not))
    if request.method == "POST":
        if isinstance(target, Idea):
            services.delete_idea(request.user, target)
            messages.success(request, _("Your idea has been deleted."))
            return _back_to(idea)
        services.delete_comment(request.user, target)
        messages.success(request, _("Your comment has been deleted."))
        return _back_to(idea, f"#comment-{target.pk}")
    return _own_page(
        request,
        process,
        idea,
        "participation/own_delete.html",
        target=target,
        is_idea=isinstance(target, Idea),
        heading=heading,
    )
