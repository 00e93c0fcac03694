"""Participation's panel on the back-office home: moderation counts and the city's processes with
their numbers (staff get links into each process's pages)."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.template.loader import render_to_string

from herzstadt.core import permissions
from herzstadt.participation.models import Comment, Idea, IdeaStatus, Phase, Process, Report


def _by(qs, key: str) -> dict[int, int]:
    return dict(qs.order_by().values_list(key).annotate(n=Count("id")))


def open_reports(city) -> int:
    return Report.objects.filter(city=city, resolved_at__isnull=True).count()


def home_panel(request, city) -> str:
    processes = list(
        Process.objects.filter(city=city)
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("start")))
        .order_by("-created_at", "-id")
    )
    ideas = Idea.objects.filter(city=city)
    reports = Report.objects.filter(city=city, resolved_at__isnull=True)
    idea_counts = _by(ideas, "process_id")
    unanswered = _by(ideas.filter(status=IdeaStatus.RECEIVED, hidden_at__isnull=True), "process_id")
    comment_counts = _by(Comment.objects.filter(city=city), "idea__process_id")
    reports_by_process = _by(reports.filter(idea__isnull=False), "idea__process_id")
    for pid, n in _by(reports.filter(comment__isnull=False), "comment__idea__process_id").items():
        reports_by_process[pid] = reports_by_process.get(pid, 0) + n
    rows = [
        {
            "process": p,
            "phase": p.active_phase(),
            "ideas": idea_counts.get(p.pk, 0),
            "comments": comment_counts.get(p.pk, 0),
            "open_reports": reports_by_process.get(p.pk, 0),
            "unanswered": unanswered.get(p.pk, 0),
        }
        for p in processes
    ]
    context = {
        "rows": rows,
        "open_reports": reports.count(),
        "hidden_count": ideas.filter(hidden_at__isnull=False).count()
        + Comment.objects.filter(city=city, hidden_at__isnull=False).count(),
        "is_staff": permissions.allowed(request.user, "participation.manage", city),
    }
    return render_to_string("participation/backoffice/_panel_home.html", context, request)
