"""The printable report: text extractable from the PDF, "DRAFT" across it until signed, measurements
with units and normal ranges, signature line and addenda; the CLI writes the file."""

from __future__ import annotations

import io

import pytest
from _reports import approved_world
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.interop.fields import normal_range, show
from echogpt.interop.pdf import report_pdf
from echogpt.review.database import NotFound


def text_of(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_draft_watermark_until_signed_then_signature_and_addenda(tmp_path, monkeypatch):
    w = approved_world(tmp_path, monkeypatch, sign=False)
    draft = text_of(report_pdf(w.db, w.doc, w.study.study_id))
    assert "DRAFT" in draft and "APPROVED - NOT SIGNED" in draft and "PRELIMINARY: not yet signed." in draft
    assert "Signature: ____" in draft
    rep = w.db.sign(w.doc, w.report_id, w.db.get_report(w.doc, w.study.study_id).version)
    w.db.add_addendum(w.doc, w.report_id, "Contrast images reviewed: no LV thrombus.", rep.version)
    signed = text_of(report_pdf(w.db, w.doc, w.study.study_id))
    assert "DRAFT" not in signed and "PRELIMINARY" not in signed
    assert "Electronically signed by dr-lee on" in signed
    assert "Addendum (" in signed and "no LV thrombus" in signed
    for line in ("Study ID", "1.2.826.0.1.3680043.8.498.77", "PAT-77", "2025-03-04", "71 y / male",
                 "Normal LV size. LVEF 45-50% by biplane.", "1. Normal left ventricular size",
                 "2. Mild mitral regurgitation.", "model embedded:smollm2-135m-instruct"):
        assert line in signed, line
    rows = {r.split()[0]: r for r in signed.splitlines()
            if r.split()[:1] and r.split()[0] in ("LVIDd", "TAPSE", "LVEF")}
    assert "5.4 cm <= 5.8 (ASE15)" in rows["LVIDd"] and "2.1 cm >= 1.7 (ASE15)" in rows["TAPSE"]
    assert "45-50 % 52-72 (ASE15)" in rows["LVEF"]


def test_working_draft_prints_and_study_without_report_is_refused(tmp_path, monkeypatch):
    from echogpt.schemas import Study

    w = approved_world(tmp_path, monkeypatch, sign=False)
    other = Study(study_id="S-2", findings_text="Normal study.")
    w.db.create_study(w.doc, other)
    with pytest.raises(NotFound, match="no draft or report"):
        report_pdf(w.db, w.doc, "S-2")
    w.db.save_draft(w.doc, "S-2", "1. Normal study.", "embedded:x", None, None, None)
    text = text_of(report_pdf(w.db, w.doc, "S-2"))
    assert "DRAFT - NOT SIGNED" in text and "not yet approved" in text and "No measurements recorded." in text


def test_normal_ranges_and_values_as_printed():
    assert normal_range("lvidd", "female") == "≤ 5.2 (ASE15)"
    assert normal_range("lvidd") == "M ≤ 5.8; F ≤ 5.2 (ASE15)"  # sex unknown: both
    assert normal_range("lvef", "male") == "52–72 (ASE15)" and normal_range("rvsp") is None
    assert show(1.0, "cm") == "1.0" and show(5.25, "cm") == "5.25" and show(80.0, "cm/s") == "80"


def test_cli_export_report(tmp_path, monkeypatch):
    w = approved_world(tmp_path, monkeypatch)
    monkeypatch.setenv("ECHOGPT_DATABASE_URL", w.db.url)
    out = tmp_path / "r" / "report.pdf"
    res = CliRunner().invoke(app, ["export-report", "--study", w.study.study_id, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF") and "Electronically signed" in text_of(out.read_bytes())
    res = CliRunner().invoke(app, ["export-report", "--study", "nope", "--out", str(out)])
    assert res.exit_code == 2 and "no study 'nope'" in res.output
