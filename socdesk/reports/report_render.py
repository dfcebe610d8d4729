"""The SOC report as HTML (the e-mail, and the page the PDF is printed from) and as PDF (WeasyPrint)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from socdesk.reports.figures import PeriodFigures
from socdesk.reports.report_charts import ReportChart, report_charts
from socdesk.reports.report_content import ReportContent, report_content

KEY_NUMBERS_PER_ROW = 4


@dataclass(frozen=True)
class RenderedReport:
    """One report, ready to save or send: its title, the e-mail's HTML and plain text, and the PDF."""

    title: str
    html: str
    text: str
    pdf: bytes

    @property
    def pdf_filename(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title).strip("-").lower() + ".pdf"


def report_html(content: ReportContent, *, pdf: bool = False, charts: list[ReportChart] | None = None) -> str:
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


def report_text(content: ReportContent) -> str:
    """The plain-text part of the e-mail: the key numbers (the HTML part and the PDF have the rest)."""
    lines = [f"{content.title}: {content.scope_label}", content.period_label, ""]
    lines += [f"{n.label}: {n.value}" + (f" ({n.note})" if n.note else "") for n in content.key_numbers]
    lines += ["", "The charts and tables are in the HTML version of this message and in the PDF attached."]
    return "\n".join(lines) + "\n"


def report_pdf(content: ReportContent, *, charts: list[ReportChart] | None = None) -> bytes:
    """The report as a PDF document (A4)."""
    # Imported here: WeasyPrint loads Pango when imported, which only the report needs. Presentational
    # hints: the page is written for mail clients too, with width="..." and bgcolor attributes.
    from weasyprint import HTML

    return HTML(string=report_html(content, pdf=True, charts=charts)).write_pdf(presentational_hints=True)


def report_render(figures: PeriodFigures, *, scope_label: str) -> RenderedReport:
    """The report of `figures` for the scope named `scope_label`: the e-mail's parts and the PDF."""
    content = report_content(figures, scope_label=scope_label)
    return RenderedReport(
        title=f"{content.title} {content.scope_label} {content.period_label}",
        html=report_html(content),
        text=report_text(content),
        pdf=report_pdf(content, charts=report_charts(figures)),
    )
