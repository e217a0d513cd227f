"""DICOM SR import: both templates, unit conversion, duplicates, unknown codes, implausible values,
non-echo documents and broken files, on SR files built with highdicom inside the tests."""

from __future__ import annotations

import json

import _sr
import pytest
from _sr import FLOW, METHOD, PHASE, PROPERTY, SELECTION, SITE, modifier, num, section, sr_file
from typer.testing import CliRunner

from echogpt import units
from echogpt.cli import app
from echogpt.data.dicom_sr import import_sr
from echogpt.data.sr_codes import code_key, match, sr_table


def kinds(result) -> list[str]:
    return [i.kind for i in result.issues]


def test_tid5300_pre_post_adhoc_with_unit_conversion(tmp_path):
    root = _sr.tid5300(
        pre=[num("LN:80007-8", "Left ventricular internal diastolic dimension - 2D", 52, "mm",
                 label="LVIDd (2D)"),
             num("LN:79991-6", "Left ventricular ejection fraction biplane (MOD)", 58, "%"),
             num("LN:80070-6", "Mitral valve E-wave Vmax", 0.82, "m/s")],
        post=[num("99ACME:LAD", "LA Dimension", 39, "mm", modifier(PROPERTY, "SCT:81827009", "Diameter"),
                  modifier(SITE, "SCT:82471001", "Left Atrium"),
                  modifier(PHASE, "SCT:416430001", "End Systole"))],
        adhoc=[num("SCT:385673002", "Interval", 15, "ms", label="MV Jet Duration")])
    result = import_sr([sr_file(tmp_path / "a.dcm", root)])
    (study,) = result.studies
    m = study.measurements
    assert m.lvidd == 5.2 and m.la_diameter == 3.9  # mm -> cm
    assert m.e_velocity == 82  # m/s -> cm/s (the field is in cm/s)
    assert m.lvef.low == 58 and m.lvef.method == "biplane"
    assert study.patient.age == 64 and study.patient.sex == "female" and study.patient.height_cm == 165
    assert study.patient.weight_kg == 70 and study.patient.bsa_m2 == pytest.approx(1.79, abs=0.01)
    assert study.patient_id == "PAT-1" and str(study.study_date) == "2025-01-02"
    assert "LVIDd 5.2 cm" in study.findings_text
    (adhoc,) = result.issues
    assert adhoc.kind == "adhoc" and "MV Jet Duration" in adhoc.message and adhoc.item == "1.4.1"
    assert result.exit_code == 0  # an adhoc note rejects nothing


def test_tid5200_sections_legacy_codes_duplicates_and_unknown_codes(tmp_path):
    lv = section("SCT:87878005", "Left Ventricle", [
        num("LN:29436-3", "LVIDd", 5.0, "cm"), num("LN:29436-3", "LVIDd", 5.5, "cm"),
        num("LN:29436-3", "LVIDd", 6.0, "cm"),
        num("LN:18043-0", "LVEF", 62, "%", modifier(METHOD, "DCM:125209", "Teichholz")),
        num("LN:18043-0", "LVEF", 55, "%", modifier(METHOD, "DCM:125207", "Method of Disks, Biplane"))])
    av = section("SCT:34202007", "Aortic Valve", [
        num("LN:20355-4", "Peak Blood Velocity", 350, "cm/s"),
        num("LN:20354-7", "Velocity Time Integral", 25, "cm")])
    # legacy SNOMED-RT codes, as older machines send them: T-35100 tricuspid valve, R-42E61 retrograde
    tv = section("SRT:T-35100", "Tricuspid Valve", [
        num("LN:20355-4", "Peak Blood Velocity", 2.9, "m/s",
            modifier(("SRT:G-C048", "Direction of flow"), "SRT:R-42E61", "Retrograde Flow"))])
    mv = section("SCT:91134007", "Mitral Valve", [num("LN:20355-4", "Peak Blood Velocity", 1.1, "m/s")])
    result = import_sr([sr_file(tmp_path / "b.dcm", _sr.tid5200([lv, av, tv, mv]))])
    (study,) = result.studies
    m = study.measurements
    assert m.av_vmax == 3.5 and m.tr_vmax == 2.9
    assert m.lvidd == 5.5  # the mean of three beats
    assert m.lvef.low == 55 and m.lvef.method == "biplane method of disks"  # Teichholz not preferred
    dup = {i.message.split(":")[0]: i.message for i in result.issues if i.kind == "duplicate"}
    assert "mean of 3 beats" in dup["LVIDd"] and "none marked on the device" in dup["LVIDd"]
    assert "kept 55: the preferred method (biplane method of disks, ASE15)" in dup["LVEF"]
    vti, mv_peak = [i for i in result.issues if i.kind == "unknown_code"]
    assert "Velocity Time Integral" in vti.message and "at Aortic Valve" in vti.message
    assert vti.code == "LN:20354-7" and vti.message.endswith("no Study field for this code; not imported")
    assert "at Mitral Valve" in mv_peak.message and "with these modifiers" in mv_peak.message
    assert result.exit_code == 0


def test_selection_status_and_device_mean_decide_duplicates(tmp_path):
    pre = [num("LN:80007-8", "LVIDd 2D", 5.0, "cm"),
           num("LN:80007-8", "LVIDd 2D", 5.6, "cm", modifier(SELECTION, "DCM:121410", "User chosen value",
                                                              rel=_sr.PROPS)),
           num("LN:80031-8", "LVPWd 2D", 1.0, "cm"),
           num("LN:80031-8", "LVPWd 2D", 1.2, "cm", modifier(("DCM:121401", "Derivation"), "SCT:373098007",
                                                             "Mean"))]
    result = import_sr([sr_file(tmp_path / "c.dcm", _sr.tid5300(pre=pre))])
    m = result.studies[0].measurements
    assert m.lvidd == 5.6 and m.lvpwd == 1.2
    text = " ".join(i.message for i in result.issues)
    assert "marked 'User chosen value' on the device" in text and "the device's mean" in text


def test_implausible_value_and_bad_unit_are_rejected_not_dropped(tmp_path):
    pre = [num("LN:80007-8", "LVIDd 2D", 15, "cm"), num("LN:79964-3", "Aortic valve Vmax", 2.1, "kg"),
           num("LN:77903-3", "TAPSE", 21, "mm")]
    result = import_sr([sr_file(tmp_path / "d.dcm", _sr.tid5300(pre=pre))])
    m = result.studies[0].measurements
    assert m.tapse == 2.1 and m.lvidd is None and m.av_vmax is None
    assert sorted(kinds(result)) == ["bad_unit", "implausible"]
    implausible = next(i for i in result.issues if i.kind == "implausible")
    assert "LVIDd 15.0 cm is outside the plausible range" in implausible.message and implausible.item
    assert result.exit_code == 1


def test_non_echo_sr_not_dicom_and_truncated_file(tmp_path):
    other = _sr.container("DCM:126000", "Imaging Measurement Report", [], template="1500", rel=None)
    sr_file(tmp_path / "tid1500.dcm", other)
    good = sr_file(tmp_path / "good.dcm", _sr.tid5300(pre=[num("LN:80007-8", "LVIDd", 5.1, "cm")]),
                   study_uid="1.2.826.0.1.3680043.8.498.2002")
    (tmp_path / "notes.txt").write_text("not dicom at all\n")
    (tmp_path / "cut.dcm").write_bytes(good.read_bytes()[:400])
    result = import_sr([tmp_path])
    by_file = {i.file.rsplit("/", 1)[-1]: i for i in result.issues}
    assert by_file["tid1500.dcm"].kind == "not_echo" and "Imaging Measurement Report" in \
        by_file["tid1500.dcm"].message
    assert by_file["notes.txt"].kind == "unreadable" and by_file["notes.txt"].message == "not a DICOM file"
    assert by_file["cut.dcm"].kind == "unreadable" and "\n" not in by_file["cut.dcm"].message
    assert [s.measurements.lvidd for s in result.studies] == [5.1]  # the good file still counts
    assert result.exit_code == 2


def test_files_of_one_study_merge_and_pediatric_study_is_refused(tmp_path):
    a = sr_file(tmp_path / "a.dcm", _sr.tid5300(pre=[num("LN:80007-8", "LVIDd", 5.1, "cm")]))
    b = sr_file(tmp_path / "b.dcm", _sr.tid5300(pre=[num("LN:77903-3", "TAPSE", 2.2, "cm")]))
    kid = _sr.tid5300(pre=[num("LN:80007-8", "LVIDd", 3.1, "cm")], age=9)
    c = sr_file(tmp_path / "c.dcm", kid, study_uid="1.2.826.0.1.3680043.8.498.3003")
    result = import_sr([a, b, c])
    (study,) = result.studies
    assert study.measurements.lvidd == 5.1 and study.measurements.tapse == 2.2
    (refused,) = result.issues
    assert refused.kind == "patient" and "under 18" in refused.message and result.exit_code == 1


def test_implausible_patient_attribute_is_left_out_not_the_study(tmp_path):
    root = _sr.tid5300(pre=[num("LN:80007-8", "LVIDd", 5.0, "cm")], weight_kg=500)
    result = import_sr([sr_file(tmp_path / "w.dcm", root)])
    (study,) = result.studies
    assert study.measurements.lvidd == 5.0 and study.patient.weight_kg is None and study.patient.age == 64
    (issue,) = result.issues
    assert issue.kind == "patient" and "weight_kg" in issue.message and "left out" in issue.message
    assert result.exit_code == 1


def test_cli_writes_studies_and_issues_with_validate_exit_codes(tmp_path):
    (tmp_path / "in").mkdir()
    sr_file(tmp_path / "in" / "a.dcm",
            _sr.tid5300(pre=[num("LN:80007-8", "LVIDd", 52, "mm"), num("LN:20354-7", "VTI", 20, "cm")]))
    out = tmp_path / "studies.jsonl"
    res = CliRunner().invoke(app, ["import-sr", str(tmp_path / "in"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["measurements"]["lvidd"] == 5.2
    issues = [json.loads(x) for x in (tmp_path / "studies.jsonl.issues.jsonl").read_text().splitlines()]
    assert [i["kind"] for i in issues] == ["unknown_code"] and "unknown code" in res.output
    (tmp_path / "in" / "x.dcm").write_text("garbage")
    res = CliRunner().invoke(app, ["import-sr", str(tmp_path / "in"), "--out", str(out)])
    assert res.exit_code == 2 and "x.dcm: unreadable: not a DICOM file" in res.output


def test_code_table_rows_fit_their_fields():
    tbl = sr_table()
    for row in tbl.measurements:
        assert row.unit in tbl.ucum, row
        units.convert(row.field, 1.0, tbl.ucum[row.unit])  # the usual unit fits the field's dimension
    assert code_key("SRT", "T-32600") == "SCT:87878005" and code_key("LN", "8867-4") == "LN:8867-4"
    assert match("LN:20355-4", {"finding_site": "SCT:91134007"}) is None  # MV peak velocity: no field
    assert match("LN:59090-1", {"finding_site": "SCT:87878005", "phase": "SCT:416430001"}).field == "lvids"
    assert FLOW[0] in tbl.roles.values()
