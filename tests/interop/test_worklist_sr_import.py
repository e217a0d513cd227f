"""The worklist's import takes a DICOM echo SR: its study joins the worklist and each measurement
item not taken as it came is a row of the table; a file that is not DICOM is one error (AppTest)."""

from __future__ import annotations

import json

import _sr
from _app_fixtures import copilot_fixture, new_app, talking_model_fixture  # noqa: F401  (fixtures)


def _upload(copilot, name: str, data: bytes):
    at = new_app(copilot.doc).run()
    at.file_uploader(key="import_file").set_value((name, data, "application/dicom"))
    at.run()
    return at.button(key="import_submit").click().run()


def test_sr_upload_adds_the_study_and_lists_items_not_taken(copilot, tmp_path):
    root = _sr.tid5300(pre=[_sr.num("LN:80007-8", "LVIDd 2D", 51, "mm"),
                            _sr.num("LN:20354-7", "Velocity Time Integral", 21, "cm")])
    data = _sr.sr_file(tmp_path / "echo.dcm", root).read_bytes()
    at = _upload(copilot, "echo.dcm", data)
    assert not at.exception, at.exception
    assert "Imported 1 studies (0 already on the worklist)." in [s.value for s in at.success]
    rows = at.dataframe[-1].value
    assert list(rows["row"]) == ["1.2.2"] and rows["reason"][0].startswith("unknown code:")
    line = json.loads(at.session_state["import_result"].rejects_jsonl)
    assert line["kind"] == "unknown_code" and line["study_id"] == _sr.STUDY_UID
    assert copilot.db.get_study(copilot.doc, _sr.STUDY_UID).measurements.lvidd == 5.1


def test_non_dicom_upload_is_one_error(copilot):
    at = _upload(copilot, "echo.dcm", b"this is no DICOM file")
    assert [e.value for e in at.error] == ["Nothing imported: echo.dcm: not a DICOM file"]
    assert len(copilot.db.list_worklist(copilot.doc)) == 3
