"""The SOC report as HTML (the e-mail, and the page the PDF is printed from) and as PDF (WeasyPrint)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from socdesk.reports.report_content import ReportContent

KEY_NUMBERS_PER_ROW = 4


def report_html(content: ReportContent, *, pdf: bool = False, charts: list[SafeString] | None = None) -> str:
    """The report page: for the PDF (`pdf`: page breaks, and the SVG `charts` when given) or for e-mail
    (inline styles and bars drawn as tables, which mail clients keep; they strip SVG)."""
    numbers = content.key_numbers
    return render_to_string(
        "reports/report.html",
        {
            "content": content,
            "key_rows": [
                numbers[i : i + KEY_NUMBERS_PER_ROW] for i in range(0, len(numbers), KEY_NUMBERS_PER_ROW)
            ],
            "pdf": pdf,
            "charts": charts or [],
            "generated_at": timezone.localtime(),
            "time_zone": settings.TIME_ZONE,
        },
    )


def report_pdf(content: ReportContent, *, charts: list[SafeString] | None = None) -> bytes:
    """The report as a PDF document (A4)."""
    # Imported here: WeasyPrint loads Pango when imported, which only the report needs. Presentational
    # hints: the page is written for mail clients too, with width="..." and bgcolor attributes.
    from weasyprint import HTML

    return HTML(string=report_html(content, pdf=True, charts=charts)).write_pdf(presentational_hints=True)
