"""The letters with voting codes as one PDF (reportlab, with its own QR encoder): one A4 page per letter with the address
(when the census gave one), what is decided, how to vote online, at the polling station or by post,
the code in large type and a QR code of the voting page.

The code travels in the QR address's *fragment* (``…/#code=K7QM-…``): browsers never send the
fragment to the server, so it appears in no server or proxy log; a tiny script on the voting page
copies it into the form, and without JavaScript the person types it. The PDF is built in memory for
the one response and never stored.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from herzstadt.decisions.eligible.census import CensusReport, Letter
from herzstadt.decisions.models import Decision

WIDTH, HEIGHT = A4


def code_url(base_url: str, code: str) -> str:
    """The voting page's address with the code in the fragment (never in the query)."""
    return f"{base_url.split('#', 1)[0]}#code={code}"


def _qr(canvas: Canvas, value: str, x: float, y: float, size: float) -> None:
    """A QR code (reportlab's own encoder, error correction M, 4 modules of quiet zone) drawn as
    one filled path: much faster than the QR widget's drawing of one shape per module."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(value)
    qr.make()
    count = qr.getModuleCount()
    box = size / (count + 8)
    path = canvas.beginPath()
    for r, row in enumerate(qr.modules):
        c = 0
        for dark, run in itertools.groupby(bool(m) for m in row):
            length = len(list(run))
            if dark:
                path.rect(x + (c + 4) * box, y + size - (r + 5) * box, length * box, box)
            c += length
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)


def _wrap(canvas: Canvas, text: str, x: float, y: float, width: float, size: float = 11) -> float:
    """Draw ``text`` wrapped to ``width``; returns the y below it."""
    canvas.setFont("Helvetica", size)
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if canvas.stringWidth(trial, "Helvetica", size) > width and line:
                canvas.drawString(x, y, line)
                y -= size * 1.35
                line = word
            else:
                line = trial
        canvas.drawString(x, y, line)
        y -= size * 1.35
    return y


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _letter(canvas: Canvas, decision: Decision, letter: Letter, url: str) -> None:
    left = 25 * mm
    width = WIDTH - 50 * mm
    canvas.setFont("Helvetica", 9)
    canvas.drawString(
        left, HEIGHT - 20 * mm, str(decision.city.official_name or decision.city.name)
    )
    y = HEIGHT - 45 * mm
    canvas.setFont("Helvetica", 11)
    for line in (letter.name, letter.street, f"{letter.postcode} {letter.town}".strip()):
        if line:
            canvas.drawString(left, y, line)
            y -= 5 * mm
    y = HEIGHT - 95 * mm
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(left, y, _("Your voting code"))
    y = _wrap(canvas, decision.title, left, y - 8 * mm, width, 13)
    text = _(
        "You may vote from %(opens)s to %(closes)s. Vote online: scan the QR code or open "
        "%(url)s and enter your code. You can also vote once at a polling station (bring this "
        "letter and your identity card) or by post. Whichever way you choose, you have one vote."
    ) % {"opens": _when(decision.opens_at), "closes": _when(decision.closes_at), "url": url}
    y = _wrap(canvas, text, left, y - 3 * mm, width)
    canvas.setFont("Courier-Bold", 20)
    canvas.drawString(left, y - 12 * mm, letter.code)
    _qr(canvas, code_url(url, letter.code), WIDTH - 25 * mm - 40 * mm, y - 50 * mm, 40 * mm)
    y = _wrap(
        canvas,
        _(
            "Keep this code secret: anyone who has it can cast your vote. Your vote is secret: the "
            "city stores only a salted hash of the code and notes that it has been used, never "
            "what was voted with it."
        ),
        left,
        y - 60 * mm,
        width,
        9,
    )


def _cover(canvas: Canvas, decision: Decision, lines: Sequence[str]) -> None:
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(25 * mm, HEIGHT - 30 * mm, decision.title)
    y = HEIGHT - 45 * mm
    for line in lines:
        y = _wrap(canvas, line, 25 * mm, y, WIDTH - 50 * mm)
    canvas.showPage()


def letters_pdf(
    decision: Decision, letters: Iterable[Letter], url: str, cover: Sequence[str] = ()
) -> bytes:
    """The PDF: a cover page with ``cover`` lines (counts for the office; optional), then one page
    per letter."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(_("Voting codes: %(title)s") % {"title": decision.title})
    canvas.setCreator("herzstadt")
    if cover:
        _cover(canvas, decision, cover)
    for letter in letters:
        _letter(canvas, decision, letter, url)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def report_lines(report: CensusReport) -> list[str]:
    """The census report in words (the cover page and the back-office message)."""
    return [
        _("Rows read: %(n)s") % {"n": report.rows},
        _("Eligible: %(n)s (new: %(added)s, already on the census: %(kept)s)")
        % {"n": report.eligible, "added": report.added, "kept": report.kept},
        _("Too young on the closing day: %(n)s") % {"n": report.too_young},
        _("Living elsewhere: %(n)s") % {"n": report.elsewhere},
        _("Duplicates: %(n)s") % {"n": report.duplicates},
        _("Rows without identifier or valid birth date: %(n)s") % {"n": report.invalid},
        _("No longer on the census, removed: %(n)s") % {"n": report.removed},
        _("No longer on the census but already voted, kept: %(n)s") % {"n": report.kept_voted},
        _("Letters with new codes: %(n)s") % {"n": len(report.letters)},
    ]
