"""A process's statistics: participation over time, ideas by status and its surveys' results, as
accessible SVG charts with tables. Staff of the current city."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from herzstadt.accounts.backoffice.access import staff_required
from herzstadt.core.models import City
from herzstadt.participation.backoffice import charts
from herzstadt.participation.backoffice.stats import process_stats, survey_results
from herzstadt.participation.backoffice.views.common import get_process
from herzstadt.participation.models import QuestionKind, Survey


def _survey_charts(survey: Survey) -> list[dict]:
    results = survey_results(survey)
    for item in results:
        chart_id = f"chart-question-{item['id']}"
        if item["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            item["chart"] = charts.bar_chart(
                [(c["label"], c["count"]) for c in item["choices"]],
                chart_id=chart_id,
                title=item["text"],
                desc=_(
                    "Number of answers per choice; %(n)s people answered. The table has the same numbers."
                )
                % {"n": item["answered"]},
            )
        elif item["kind"] == QuestionKind.RATING:
            item["chart"] = charts.bar_chart(
                [(c["label"], c["count"]) for c in item["distribution"]],
                chart_id=chart_id,
                title=item["text"],
                desc=_("Number of answers per rating from 1 to %(max)s; %(n)s people answered.")
                % {"max": item["scale_max"], "n": item["answered"]},
            )
    return results


@require_safe
@staff_required
def statistics(request: HttpRequest, city: City, slug: str) -> HttpResponse:
    process = get_process(city, slug)
    stats = process_stats(process)
    days = stats["days"]
    day_chart = None
    if days:
        labels = [formats.date_format(d["day"], "MONTH_DAY_FORMAT") for d in days]
        day_chart = charts.line_chart(
            labels,
            [
                (_("Ideas"), [d["ideas"] for d in days]),
                (_("Comments"), [d["comments"] for d in days]),
                (_("Supports"), [d["supports"] for d in days]),
            ],
            chart_id="chart-days",
            title=_("Ideas, comments and supports per day"),
            desc=_("From %(first)s to %(last)s. The table below the chart has every value.")
            % {
                "first": formats.date_format(days[0]["day"], "SHORT_DATE_FORMAT"),
                "last": formats.date_format(days[-1]["day"], "SHORT_DATE_FORMAT"),
            },
        )
    status_chart = charts.bar_chart(
        [(str(s["label"]), s["count"]) for s in stats["by_status"]],
        chart_id="chart-status",
        title=_("Ideas by status"),
        desc=_("Number of ideas per status. The table has the same numbers."),
    )
    surveys = [{"survey": s, "results": _survey_charts(s)} for s in process.surveys.order_by("id")]
    context = {
        "process": process,
        "stats": stats,
        "day_chart": day_chart,
        "status_chart": status_chart,
        "surveys": surveys,
    }
    return render(request, "participation/backoffice/statistics.html", context)
