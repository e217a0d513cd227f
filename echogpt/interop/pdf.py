"""A printable report (PDF, A4): study details, measurements with units and normal ranges, findings,
impression, critical-result communication, AI-assistance statement, signature line and addenda;
"DRAFT" across every page until the report is signed.

    data = report_pdf(Store(), user, "S1"); Path("S1.pdf").write_bytes(data)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt.interop.fields import MeasurementLine, measurement_rows
from echogpt.review.database import NotFound
from echogpt.review.workflow import AddendumView, NotificationView
from echogpt.schemas import Study

if TYPE_CHECKING:
    from echogpt.review.accounts import User
    from echogpt.review.store import Store

# The PDF core fonts are Latin-1; these signs have a plain spelling so no text turns into "?".
_PLAIN = {"≤": "<=", "≥": ">=", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...",
          "→": "->", "•": "-", "·": "-"}


class PrintedReport(BaseModel):
    """What the printed page shows, from a working draft, an approved or a signed report."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    study: Study
    state: Literal["draft", "approved", "signed"]
    impression: str
    model: str
    adapter: str | None = None
    edited: bool = False
    approved_by: str | None = None
    approved_at: datetime | None = None
    signed_by: str | None = None
    signed_at: datetime | None = None
    addenda: list[AddendumView] = Field(default_factory=list)
    notifications: list[NotificationView] = Field(default_factory=list)


def printed_report(db: Store, user: User, study_id: str) -> PrintedReport:
    """The report of a study as it prints: the approved (maybe signed) report, else the working draft.

    Raises:
        NotFound: no such study, or it has neither a report nor a draft.
    """
    study = db.get_study(user, study_id)
    rep = db.get_report(user, study_id)
    if rep is not None:
        return PrintedReport(study=study, state="signed" if rep.signed_at else "approved",
                             impression=rep.final_text, model=rep.model, adapter=rep.adapter,
                             edited=rep.edited, approved_by=rep.approved_by, approved_at=rep.approved_at,
                             signed_by=rep.signed_by, signed_at=rep.signed_at, addenda=rep.addenda,
                             notifications=rep.notifications)
    draft = db.current_draft(user, study_id)
    if draft is None:
        raise NotFound(f"study '{study_id}' has no draft or report to print")
    return PrintedReport(study=study, state="draft", impression=draft.text, model=draft.model,
                         adapter=draft.adapter, edited=draft.text.strip() != draft.model_text.strip())


def _plain(text: str) -> str:
    for sign, plain in _PLAIN.items():
        text = text.replace(sign, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def _ts(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else ""


def _document(doc: PrintedReport) -> Any:
    from fpdf import FPDF

    draft = doc.state != "signed"
    title = f"Echocardiography report - study {doc.study.study_id}"

    class Page(FPDF):
        def header(self) -> None:
            if draft:  # drawn first, so the text of the page lies over it
                with self.local_context(text_color=(228, 228, 228)):
                    self.set_font("helvetica", "B", 110)
                    with self.rotation(55, x=self.w / 2, y=self.h / 2):
                        self.text(self.w / 2 - 82, self.h / 2 + 16, "DRAFT")
            self.set_font("helvetica", "B", 9)
            self.set_text_color(90)
            state = {"signed": "SIGNED", "approved": "APPROVED - NOT SIGNED", "draft": "DRAFT - NOT SIGNED"}
            self.cell(0, 5, _plain(title), new_x="LMARGIN")
            self.cell(0, 5, state[doc.state], align="R", new_x="LMARGIN", new_y="NEXT")
            self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
            self.set_text_color(0)
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font("helvetica", "", 8)
            self.set_text_color(110)
            self.cell(0, 5, _plain(f"EchoGPT - study {doc.study.study_id}"), new_x="LMARGIN")
            self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="R")

    pdf = Page(format="A4", unit="mm")
    pdf.set_title(_plain(title))
    pdf.set_creator("EchoGPT")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    return pdf


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, _plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)


def _paragraph(pdf: Any, text: str) -> None:
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(0, 5, _plain(text.strip() or "-"), align="L", new_x="LMARGIN", new_y="NEXT")


def _details(pdf: Any, study: Study) -> None:
    p = study.patient
    pairs = [("Study ID", study.study_id), ("Patient ID", study.patient_id or "-"),
             ("Study date", study.study_date.isoformat() if study.study_date else "-"),
             ("Study type", study.study_type.value)]
    if p is not None:
        def show(v: float | None, unit: str) -> str:
            return f"{v:g} {unit}" if v else "-"

        pairs += [("Age / sex", f"{show(p.age, 'y')} / {p.sex.value if p.sex else '-'}"),
                  ("Height / weight", f"{show(p.height_cm, 'cm')} / {show(p.weight_kg, 'kg')}"),
                  ("BSA", f"{p.bsa_m2:.2f} m²" if p.bsa_m2 else "-")]
    if study.rhythm:
        pairs.append(("Rhythm", study.rhythm.value))
    if study.indication:
        pairs.append(("Indication", study.indication))
    with pdf.table(col_widths=(32, 58, 32, 52), first_row_as_headings=False, line_height=5.5,
                   borders_layout="NONE", text_align="LEFT") as table:
        for i in range(0, len(pairs), 2):
            row = table.row()
            for label, value in pairs[i:i + 2]:
                pdf.set_font("helvetica", "B", 9)
                row.cell(_plain(label))
                pdf.set_font("helvetica", "", 9)
                row.cell(_plain(str(value)))


def _measurements(pdf: Any, rows: list[MeasurementLine]) -> None:
    from fpdf.fonts import FontFace

    if not rows:
        _paragraph(pdf, "No measurements recorded.")
        return
    methods = any(r.method for r in rows)
    heads = ("Measurement", "Value", "Unit", "Normal range (source)") + (("Method",) if methods else ())
    widths = (44, 22, 16, 52) + ((40,) if methods else ())
    pdf.set_font("helvetica", "", 9)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=5.2,
                   text_align=("LEFT", "RIGHT", "LEFT", "LEFT", "LEFT")[:len(heads)],
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 242)),
                   borders_layout="HORIZONTAL_LINES") as table:
        head = table.row()
        for h in heads:
            head.cell(h)
        for r in rows:
            row = table.row()
            unit = {"cm2": "cm²", "mL/m2": "mL/m²"}.get(r.unit, r.unit)
            for cell in (r.label, r.text, unit, r.normal or "-") + ((r.method or "",) if methods else ()):
                row.cell(_plain(cell))


def _signature(pdf: Any, doc: PrintedReport) -> None:
    approval = (f"; {'edited and ' if doc.edited else ''}approved by {doc.approved_by} on "
                f"{_ts(doc.approved_at)}." if doc.approved_by else "; not yet approved.")
    ai = f"Drafted with AI assistance (EchoGPT; model {doc.model}, adapter {doc.adapter or 'none'}){approval}"
    pdf.set_font("helvetica", "I", 8.5)
    pdf.multi_cell(0, 4.5, _plain(ai), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("helvetica", "", 10)
    if doc.signed_by:
        pdf.cell(0, 6, _plain(f"Electronically signed by {doc.signed_by} on {_ts(doc.signed_at)}."),
                 new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(0, 6, "Signature: ______________________________   Date: ______________",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(0, 6, "PRELIMINARY: not yet signed.", new_x="LMARGIN", new_y="NEXT")


def render_pdf(doc: PrintedReport) -> bytes:
    """The PDF bytes of one report."""
    pdf = _document(doc)
    _heading(pdf, "Study")
    _details(pdf, doc.study)
    _heading(pdf, "Measurements")
    _measurements(pdf, measurement_rows(doc.study))
    _heading(pdf, "Findings")
    _paragraph(pdf, doc.study.findings_text)
    _heading(pdf, "Impression")
    _paragraph(pdf, doc.impression)
    for n in doc.notifications:
        _paragraph(pdf, f"Critical finding ({n.finding}) communicated to {n.notified} at {_ts(n.at)} "
                        f"by {n.recorded_by}.")
    pdf.ln(3)
    _signature(pdf, doc)
    for a in doc.addenda:
        _heading(pdf, f"Addendum ({_ts(a.at)}, {a.author})")
        _paragraph(pdf, a.text)
    return bytes(pdf.output())


def report_pdf(db: Store, user: User, study_id: str) -> bytes:
    """The PDF of a study's report (see ``printed_report``)."""
    return render_pdf(printed_report(db, user, study_id))


def write_report_pdf(db: Store, user: User, study_id: str, out: str | Path) -> Path:
    """Write the PDF of a study's report to ``out`` (its folder is created)."""
    out = Path(out)
    data = report_pdf(db, user, study_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out
