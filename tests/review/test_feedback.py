"""Feedback export: identifier detection, SFT records and preference pairs, hold-back and clearance,
and the ``export-feedback`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.model.prompts import build_messages
from echogpt.review.feedback import export_feedback, find_identifiers, identifier_fields
from echogpt.review.permissions import PermissionDenied
from echogpt.review.store import Store
from echogpt.schemas import CheckResult, Study

MODEL = "embedded:smollm2-135m-instruct"


@pytest.mark.parametrize(("text", "kinds"), [
    ("Discussed with Dr. Smith by phone.", ["name"]),
    ("Results given to Mrs Jones.", ["name"]),
    ("MRN: 00412345", ["mrn"]),
    ("Patient 4412398 seen today.", ["mrn"]),
    ("Compared with the study of 03/14/2024.", ["date"]),
    ("Compared with the study of 2023-01-05.", ["date"]),
    ("Prior echo on March 14, 2024 showed LVEF 40%.", ["date"]),
    ("Call 555-123-4567 with questions.", ["phone"]),
    ("Page (555) 123 4567.", ["phone"]),
    ("Send images to echo.lab@example.org.", ["email"]),
    ("Dr. Patel notified on 3/2/25.", ["date", "name"]),
])
def test_identifiers_found(text, kinds):
    assert find_identifiers(text) == kinds


@pytest.mark.parametrize("text", [
    "1. Severe aortic stenosis (mean gradient 45 mmHg, AVA 0.8 cm2, Vmax 4.3 m/s).",
    "2. LVEF 55-60 % by biplane Simpson; LVIDd 5.2 cm; LAVI 38 mL/m2.",
    "3. RVSP 42 mmHg (TR 2.9 m/s, RAP 8 mmHg). BP 120/80. Heart rate 72 bpm.",
    "4. Compared with the prior study, LV function is unchanged. Grade 2 diastolic dysfunction.",
    "Segments 1-17 reviewed; LVEDV 145 mL.",
])
def test_clinical_text_is_not_flagged(text):
    assert find_identifiers(text) == []


def _approved(db, doc, sid, findings, draft, final, patient="P1"):
    st = Study(study_id=sid, patient_id=patient, findings_text=findings, study_date="2025-02-03",
               prior={"study_date": "2024-01-01", "impression": "Normal study."})
    db.create_study(doc, st)
    chk = CheckResult(study_id=sid, statements=[])
    d = db.save_draft(doc, sid, draft, MODEL, None, "h", chk)
    if final != draft:
        d = db.edit_draft(doc, d.id, final, d.version, chk)
    return st, db.approve(doc, d.id, d.version)


@pytest.fixture
def filled(tmp_path):
    db = Store(f"sqlite:///{tmp_path / 'fb.sqlite'}")
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    plain = _approved(db, doc, "ACC-1", "Normal LV size. LVEF 60%.", "1. Normal study.",
                      "1. Normal study.")
    edited = _approved(db, doc, "ACC-2", "Calcified AV. Mean gradient 45 mmHg.",
                       "1. Mild aortic stenosis.", "1. Severe aortic stenosis.", "P2")
    named = _approved(db, doc, "ACC-3", "Images reviewed with Dr. Smith. LVEF 35%.",
                      "1. Reduced LVEF.", "1. Moderately reduced LVEF, 35%.", "P3")
    db.create_study(doc, Study(study_id="ACC-4", findings_text="Not yet reported."))
    yield db, admin, doc, plain, edited, named
    db.dispose()


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_sft_pairs_and_hold_back(filled, tmp_path):
    db, admin, doc, plain, edited, named = filled
    out = tmp_path / "fb"
    report = export_feedback(db, admin, out)
    assert (report.sft_records, report.preference_pairs) == (2, 1)
    assert [h.report_id for h in report.held_back] == [named[1].id]
    assert report.held_back[0].fields == {"findings_text": ["name"]}

    studies = _rows(out / "studies.jsonl")
    sft = _rows(out / "sft.jsonl")
    pairs = _rows(out / "preferences.jsonl")
    assert [s["impression"] for s in studies] == ["1. Normal study.", "1. Severe aortic stenosis."]
    for s in studies:  # pseudonymous ids, no dates
        assert s["study_id"].startswith("fb-") and s["patient_id"].startswith("fb-")
        assert "study_date" not in s and "study_date" not in s.get("prior", {})
    # SFT records are exactly what build_messages makes of the exported study and its final text
    expected = build_messages(Study.model_validate(studies[1]), answer="1. Severe aortic stenosis.")
    assert sft[1] == {"prompt": expected[:-1], "completion": expected[-1:]}
    assert len(pairs) == 1
    assert pairs[0]["prompt"] == expected[:-1]
    assert pairs[0]["chosen"] == [{"role": "assistant", "content": "1. Severe aortic stenosis."}]
    assert pairs[0]["rejected"] == [{"role": "assistant", "content": "1. Mild aortic stenosis."}]
    # the shape `echogpt preference-pairs` writes too, so both train through one DPO path
    assert pairs[0]["source"] == "review"
    assert pairs[0]["prompt_fingerprint"] == report.prompt_fingerprint
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in ("ACC-1", "ACC-2", "ACC-3", "Dr. Smith", "2025-02-03", "2024-01-01"):
        assert secret not in everything
    assert _rows(out / "held_back.jsonl")[0]["report_id"] == named[1].id
    assert json.loads((out / "manifest.json").read_text())["preference_pairs"] == 1


def test_admin_clearance_releases_held_records(filled, tmp_path):
    db, admin, doc, plain, edited, named = filled
    with pytest.raises(PermissionDenied):
        db.clear_for_export(doc, named[1].id)
    with pytest.raises(PermissionDenied):
        identifier_fields(db, doc, named[1].id)
    # What the admin page shows for review: the fields with likely identifiers, with their text.
    assert identifier_fields(db, admin, named[1].id) == {
        "findings_text": "Images reviewed with Dr. Smith. LVEF 35%."}
    assert identifier_fields(db, admin, plain[1].id) == {}
    db.clear_for_export(admin, named[1].id)
    db.clear_for_export(admin, named[1].id)  # a second clearance changes nothing
    report = export_feedback(db, admin, tmp_path / "fb2")
    assert (report.sft_records, report.preference_pairs, report.held_back) == (3, 2, [])
    assert report.cleared_by_admin == 1
    cleared = [a for a in db.audit_log(admin) if a.action == "feedback.clear"]
    assert [(a.user, a.entity, a.entity_id) for a in cleared] == [("cli", "report", named[1].id)]


def test_only_admins_export(filled, tmp_path):
    db, admin, doc, *_ = filled
    with pytest.raises(PermissionDenied, match="admin"):
        export_feedback(db, doc, tmp_path / "nope")
    assert not (tmp_path / "nope" / "sft.jsonl").exists()


def test_export_feedback_command(tmp_path):
    db = Store()  # the configured database under this test's ECHOGPT_HOME
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    _approved(db, doc, "ACC-9", "LVEF 60%.", "1. Normal.", "1. Normal LV function.")
    _approved(db, doc, "ACC-8", "Seen by Mr. Brown 01/02/2025.", "1. Normal.", "1. Normal.", "P8")
    db.dispose()
    result = CliRunner().invoke(app, ["export-feedback", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 SFT records and 1 preference pairs" in result.output
    assert "findings_text: date, name" in result.output and "Brown" not in result.output
    assert len(_rows(tmp_path / "out" / "preferences.jsonl")) == 1


def _adapter_folder(folder: Path, layout: str) -> Path:
    """An adapter folder as far as its metadata goes (what the export reads)."""
    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.prompts import PromptSettings

    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": MODEL}))
    meta = AdapterMeta(base_model=MODEL, prompt_settings=PromptSettings(layout=layout))
    (folder / ADAPTER_META).write_text(meta.model_dump_json())
    return folder


def test_export_uses_the_active_adapters_prompt(filled, tmp_path):
    from echogpt.model.prompts import PromptSettings

    db, admin, *_ = filled
    prose = PromptSettings(layout="prose")
    db.register_adapter(admin, _adapter_folder(tmp_path / "prose", "prose"), "sft", name="prose-1")
    db.select_adapter(admin, "prose-1")
    report = export_feedback(db, admin, tmp_path / "fb")
    assert report.prompt_fingerprint == prose.fingerprint() != PromptSettings().fingerprint()
    assert report.adapter == str(tmp_path / "prose")
    assert json.loads((tmp_path / "fb" / "manifest.json").read_text())["prompt_fingerprint"] == \
        prose.fingerprint()
    study = Study.model_validate(_rows(tmp_path / "fb" / "studies.jsonl")[1])
    pair = _rows(tmp_path / "fb" / "preferences.jsonl")[0]
    assert pair["prompt"] == build_messages(study, prose)
    assert pair["prompt"] != build_messages(study)


def test_export_feedback_command_takes_the_adapter(tmp_path):
    from echogpt.model.prompts import PromptSettings

    db = Store()
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    _approved(db, doc, "ACC-9", "LVEF 60%.", "1. Normal.", "1. Normal LV function.")
    db.register_adapter(admin, _adapter_folder(tmp_path / "active", "structured+prose"), "sft",
                        name="sft-1")
    db.select_adapter(admin, "sft-1")
    db.dispose()
    other = _adapter_folder(tmp_path / "other", "prose")
    result = CliRunner().invoke(app, ["export-feedback", "--out", str(tmp_path / "out"),
                                      "--adapter", str(other)])
    assert result.exit_code == 0, result.output
    fingerprint = PromptSettings(layout="prose").fingerprint()
    assert f"prompt settings {fingerprint} of the adapter {other}" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["prompt_fingerprint"] == fingerprint
    bad = CliRunner().invoke(app, ["export-feedback", "--out", str(tmp_path / "o2"),
                                   "--adapter", str(tmp_path / "missing")])
    assert bad.exit_code != 0 and "does not exist" in bad.output
