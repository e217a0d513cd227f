"""FHIR out: a signed report round-trips through the Bundle (codes, UCUM units, status before and after
an addendum, signer and time); the models refuse a broken resource loudly; the CLI writes one file each."""

from __future__ import annotations

import base64
import json

import pytest
from _reports import IMPRESSION, approved_world
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.interop.fhir import FHIRValidationError, report_bundle, validate_resource, write_bundles
from echogpt.interop.reports import load_report


def entries(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_signed_report_round_trips_through_the_bundle(tmp_path, monkeypatch):
    from fhir.resources.R4B.bundle import Bundle

    w = approved_world(tmp_path, monkeypatch)
    bundle = report_bundle(load_report(w.db, w.doc, w.study.study_id))
    parsed = Bundle.model_validate_json(json.dumps(bundle))  # what an EHR would read back
    back = json.loads(parsed.model_dump_json())
    (dr,) = entries(back, "DiagnosticReport")
    assert dr["status"] == "final" and dr["conclusion"] == IMPRESSION
    assert dr["resultsInterpreter"][0]["display"] == "dr-lee" and dr["issued"].startswith("20")
    assert dr["code"]["coding"][0] == {"system": "http://loinc.org", "code": "42148-7",
                                       "display": "Echocardiography Report"}
    findings = base64.b64decode(dr["presentedForm"][0]["data"]).decode()
    assert findings == w.study.findings_text
    obs = {o["code"]["coding"][-1]["code"]: o for o in entries(back, "Observation")}
    assert set(obs) == {"lvef", "lvidd", "ivsd", "lvpwd", "tapse", "tr_vmax", "e_velocity", "la_volume",
                        "lavi", "rv_lv_ratio"}  # LAVI derived from LA volume and BSA
    lvidd = obs["lvidd"]
    assert lvidd["code"]["coding"][0] == {"system": "http://loinc.org", "code": "29436-3",
                                          "display": "Left ventricle internal end diastolic dimension"}
    assert lvidd["valueQuantity"] == {"value": 5.4, "unit": "cm", "system": "http://unitsofmeasure.org",
                                      "code": "cm"}
    assert obs["tr_vmax"]["valueQuantity"]["code"] == "m/s"
    assert obs["e_velocity"]["valueQuantity"]["code"] == "cm/s"
    lvef = obs["lvef"]["valueRange"]
    assert lvef["low"]["value"] == 45 and lvef["high"]["value"] == 50 and lvef["high"]["code"] == "%"
    assert obs["rv_lv_ratio"]["code"]["coding"][0]["system"] == "urn:echogpt:measurement"  # no LOINC code
    assert obs["rv_lv_ratio"]["valueQuantity"]["code"] == "1"
    assert lvidd["derivedFrom"] == [{"type": "ImagingStudy", "identifier": {
        "system": "urn:dicom:uid", "value": "urn:oid:1.2.826.0.1.3680043.8.498.77"}}]
    assert lvidd["referenceRange"] == [{"text": "≤ 5.8 (ASE15)"}]  # the patient is male
    (prov,) = entries(back, "Provenance")
    assert prov["recorded"] == dr["issued"] and prov["agent"][0]["who"]["display"] == "dr-lee"
    assert len(prov["target"]) == 1 + len(obs)
    text = json.dumps(back)
    assert "PAT-77" in text and "birthDate" not in text and '"name"' not in text  # no PHI beyond the study


def test_addendum_makes_the_report_appended(tmp_path, monkeypatch):
    w = approved_world(tmp_path, monkeypatch)
    w.db.add_addendum(w.doc, w.report_id, "Contrast images reviewed: no LV thrombus.",
                      w.db.get_report(w.doc, w.study.study_id).version)
    bundle = report_bundle(load_report(w.db, w.doc, w.study.study_id))
    (dr,) = entries(bundle, "DiagnosticReport")
    assert dr["status"] == "appended" and dr["conclusion"] == IMPRESSION  # the signed text is unchanged
    issued = base64.b64decode(dr["presentedForm"][1]["data"]).decode()
    assert "ADDENDUM" in issued and "no LV thrombus" in issued
    (prov,) = entries(bundle, "Provenance")
    assert prov["agent"][-1]["type"]["coding"][0]["code"] == "author"


def test_unsigned_report_does_not_leave(tmp_path, monkeypatch):
    w = approved_world(tmp_path, monkeypatch, sign=False)
    with pytest.raises(ValueError, match="not signed"):
        report_bundle(load_report(w.db, w.doc, w.study.study_id))


def test_validation_fails_loudly_on_a_broken_resource():
    with pytest.raises(FHIRValidationError, match="status"):
        validate_resource({"resourceType": "DiagnosticReport", "status": "signed-off",
                           "code": {"text": "echo"}})
    with pytest.raises(FHIRValidationError, match="valueQuantity"):
        validate_resource({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                           "valueQuantity": {"value": "five"}})
    with pytest.raises(FHIRValidationError, match="unknown FHIR resource type"):
        validate_resource({"resourceType": "EchoThing"})


def test_export_fhir_writes_one_bundle_per_signed_report(tmp_path, monkeypatch):
    w = approved_world(tmp_path, monkeypatch)
    files = write_bundles(w.db, w.admin, tmp_path / "out")
    assert [f.name for f in files] == ["1.2.826.0.1.3680043.8.498.77.fhir.json"]
    monkeypatch.setenv("ECHOGPT_DATABASE_URL", w.db.url)
    res = CliRunner().invoke(app, ["export-fhir", "--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    bundle = json.loads((tmp_path / "cli" / files[0].name).read_text())
    assert bundle["type"] == "collection" and "1 FHIR bundle" in res.output
