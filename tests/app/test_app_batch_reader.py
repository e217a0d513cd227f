"""The batch and reader-study pages driven through AppTest: upload with rejects, a real worker
process in template mode, progress after a reload, resume, flagged filter, hand-off to the
worklist and the draft page; a reader rating blinded tasks and resuming; the admin creating a
study from an upload and seeing the analysis with its plots; pages by role.
"""

from __future__ import annotations

import json
import time

import pytest
from _app_fixtures import copilot_fixture, new_app, talking_model_fixture, texts  # noqa: F401

from echogpt.batch import jobs as batch
from echogpt.reader import design as rd
from echogpt.reader import study as rs

pytestmark = pytest.mark.timeout(180)

SOURCES = ("srcCardioZQ", "srcModelZQ")
TAMPONADE = {"study_id": "B-TAMP", "patient_id": "P9",
             "findings": {"effusion": {"size": "large", "tamponade": True, "rv_collapse": True}},
             "findings_text": "Large circumferential pericardial effusion with right ventricular "
                              "diastolic collapse, consistent with tamponade physiology. LVEF 60%."}


def _wait_done(copilot, job_id: int, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while batch.get_job(copilot.db, copilot.doc, job_id).status != "done":
        assert time.time() < deadline, batch.get_job(copilot.db, copilot.doc, job_id)
        time.sleep(0.2)


def test_batch_page_upload_run_filter_and_send_to_worklist(copilot):
    rows = [{"study_id": "B-1", "findings_text": "Normal left ventricular size. LVEF 60%."},
            {"study_id": "B-2", "measurements": {"lvef": 150}, "findings_text": "LVEF 150 %."},
            TAMPONADE]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    assert [t.value for t in at.title] == ["Batch generation"]
    at.file_uploader(key="batch_file").set_value(("studies.jsonl", data, "application/jsonl"))
    at.selectbox(key="batch_mode").select("template")  # a form: sent with the click
    at.button(key="batch_start").click().run()
    assert not at.exception, at.exception
    job_id = at.session_state["batch_job"]
    assert f"Job {job_id} started with 2 studies." in [s.value for s in at.success]
    assert "1 rows rejected" in texts(at)
    assert list(at.dataframe[0].value["row"]) == [2]  # the rejected row, shown and downloadable
    assert at.download_button(key="batch_rejects_download")
    _wait_done(copilot, job_id)

    again = new_app(copilot.doc).run()  # a fresh session (a reload) finds the job and its results
    again.switch_page("views/batch_page.py").run()
    assert "2/2 studies" in again.progress[0].proto.text
    table = again.dataframe[-1].value
    assert list(table["study_id"]) == ["B-1", "B-TAMP"]
    # the template rarely gets flagged: flag one row in the database to see the filter work
    from echogpt.batch.tables import BatchItemRow

    with copilot.db.transaction() as s:
        s.query(BatchItemRow).filter_by(job_id=job_id, study_id="B-1").update({"flagged": True})
    again.toggle(key="batch_flagged").set_value(True).run()
    assert list(again.dataframe[-1].value["study_id"]) == ["B-1"]
    again.toggle(key="batch_flagged").set_value(False).run()
    again.multiselect(key="batch_send_pick").set_value(["B-1", "B-TAMP"]).run()
    again.button(key="batch_send").click().run()
    assert not again.exception
    assert copilot.db.worklist_item(copilot.doc, "B-1").status.value == "drafted"
    assert copilot.db.current_draft(copilot.doc, "B-TAMP").text == table["impression"][1]
    again.selectbox(key="batch_open_pick").select("B-TAMP")
    again.button(key="batch_open").click().run()
    assert [t.value for t in again.title] == ["Draft"]
    assert again.session_state["study_id"] == "B-TAMP"


def test_batch_page_resumes_a_job_without_a_worker(copilot):
    from echogpt.schemas import Study

    job = batch.create_job(copilot.db, copilot.boss, [Study.model_validate(TAMPONADE)], "template")
    at = new_app(copilot.boss).run()
    at.switch_page("views/batch_page.py").run()
    assert "No worker is running this job." in texts(at)
    at.button(key="batch_resume").click().run()
    assert not at.exception
    _wait_done(copilot, job.id)
    assert "batch_send" not in [b.key for b in at.button]  # admins do not send drafts


def _reader_study(copilot, name: str = "pilot") -> str:
    cases = [rd.Case(case_id=f"K{i}", findings_text=f"LVEF {50 + i}%. Mild MR.",
                     reports={SOURCES[0]: f"1. LVEF {50 + i}%.\n2. Mild mitral regurgitation.",
                              SOURCES[1]: f"LVEF {50 + i}%. Mild MR."}) for i in range(3)]
    rs.create_study(copilot.db, copilot.boss, name, cases, ["reader", "doc"], None,
                    rd.Design(likert=True, reference=SOURCES[0]), seed=4)
    return name


def test_reader_rates_blinded_tasks_and_resumes(copilot):
    _reader_study(copilot)
    at = new_app(copilot.reader).run()
    at.switch_page("views/reader_page.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Task 1 of 9" in page and not any(s in page for s in SOURCES)
    assert at.button(key="reader_submit").disabled  # nothing chosen yet: no default answer
    first = rs.get_task(copilot.db, copilot.reader, "pilot", 1)
    for radio in at.radio:  # the middle of each scale: no preference, or "Acceptable"
        radio.set_value(0 if first.kind == "ab" else 3)
    at.text_area(key="reader_comment_pilot_1").input("Both fine")
    at.run()
    at.button(key="reader_submit").click().run()
    assert not at.exception, at.exception
    assert "Task 2 of 9" in texts(at)
    assert rs.progress(copilot.db, copilot.reader, "pilot").answered == 1
    rows = rs.export_ratings(copilot.db, copilot.boss, "pilot")
    assert {r["comment"] for r in rows} == {"Both fine"} and all(r["seconds"] >= 0 for r in rows)
    assert all(r["value"] in (0, 3) for r in rows)
    resumed = new_app(copilot.reader).run()  # stop and come back: the next unanswered task
    resumed.switch_page("views/reader_page.py").run()
    assert "Task 2 of 9" in texts(resumed)
    with pytest.raises(ValueError, match="not a registered page|Could not find"):
        resumed.switch_page("views/reader_admin_page.py")


def test_admin_creates_a_study_from_an_upload_and_sees_the_analysis(copilot):
    cases = [rd.Case(case_id=f"U{i}", findings_text="LVEF 55%.",
                     reports={SOURCES[0]: "1. Normal LVEF 55%.", SOURCES[1]: "Normal LV function."})
             for i in range(4)]
    at = new_app(copilot.boss).run()
    at.switch_page("views/reader_admin_page.py").run()
    assert not at.exception, at.exception
    at.text_input(key="rs_name").input("upl")
    at.file_uploader(key="rs_cases").set_value(
        ("cases.jsonl", "".join(c.model_dump_json() + "\n" for c in cases).encode(), "application/jsonl"))
    at.multiselect(key="rs_readers").set_value(["reader", "doc"])
    at.selectbox(key="rs_design").select("both")
    at.text_input(key="rs_reference").input(SOURCES[0])
    at.run()
    at.button(key="rs_create").click().run()
    assert not at.exception, at.exception
    assert "Reader study upl created." in [s.value for s in at.success]
    assert rs.progress(copilot.db, copilot.reader, "upl").total == 4 * 3
    for who, value in ((copilot.reader, 1), (copilot.doc, 1)):
        while (t := rs.next_task(copilot.db, who, "upl")) is not None:
            ans = {d: value if t.kind == "ab" else 4 for d in t.dimensions}
            rs.submit_answer(copilot.db, who, "upl", t.position, ans, seconds=5.0)
    at.run()
    assert not at.exception, at.exception
    assert at.download_button(key="rs_download")
    pref = at.dataframe[1].value
    rows = rs.export_ratings(copilot.db, copilot.boss, "upl")
    for dim, mean in zip(pref["dimension"], pref["mean_toward_B"], strict=True):
        v = [r["toward_design_b"] for r in rows if r["kind"] == "ab" and r["dimension"] == dim]
        assert len(v) == 8 and mean == pytest.approx(sum(v) / 8, abs=1e-3)
    assert len(at.image) >= 2
    assert "Agreement needs" not in texts(at)  # two readers on the same cases: an alpha table


def test_agreement_with_one_reader_says_what_it_needs(copilot):
    _reader_study(copilot)
    while (t := rs.next_task(copilot.db, copilot.reader, "pilot")) is not None:
        ans = {d: 1 if t.kind == "ab" else 4 for d in t.dimensions}
        rs.submit_answer(copilot.db, copilot.reader, "pilot", t.position, ans, seconds=5.0)
    at = new_app(copilot.boss).run()
    at.switch_page("views/reader_admin_page.py").run()
    assert not at.exception, at.exception
    assert ("Agreement needs two or more readers on the same cases: 1 reader answered so far."
            in [i.value for i in at.info])


def _jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def media_files(monkeypatch):
    """The media file managers of the AppTest runs (where download buttons keep their data)."""
    from streamlit.testing.v1 import app_test

    made = []

    class Recording(app_test.MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return made


def _download(at, files, key: str) -> str:
    """What the download button ``key`` hands the browser when clicked (deferred data is built
    now, as Streamlit does on the click)."""
    proto = at.download_button(key=key).proto
    url = files.execute_deferred(proto.deferred_file_id) if proto.deferred_file_id else proto.url
    return files._storage.get_file(url.rsplit("/", 1)[-1].split(".")[0]).content.decode()


def _start(at, name: str, row: dict) -> int:
    at.file_uploader(key="batch_file").set_value((name, _jsonl(row), "application/jsonl"))
    at.selectbox(key="batch_mode").select("template")  # a form: sent with the click
    at.button(key="batch_start").click().run()
    assert not at.exception, at.exception
    return at.session_state["batch_job"]


def test_batch_page_follows_the_job_just_started(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    first = _start(at, "a.jsonl", TAMPONADE)
    assert at.selectbox(key="batch_job_pick").value == first
    second = _start(at, "b.jsonl", {**TAMPONADE, "study_id": "B-2"})
    assert second != first
    assert at.selectbox(key="batch_job_pick").value == second
    assert at.session_state["batch_job"] == second
    _wait_done(copilot, first)
    _wait_done(copilot, second)


def test_choosing_a_file_keeps_the_new_job_form_open(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    job_id = _start(at, "a.jsonl", TAMPONADE)
    at.file_uploader(key="batch_file").set_value(
        ("b.jsonl", _jsonl({**TAMPONADE, "study_id": "B-2"}), "application/jsonl"))
    at.run()
    assert at.expander[0].label == "New batch job" and at.expander[0].proto.expanded
    assert not at.button(key="batch_start").disabled
    _wait_done(copilot, job_id)


def test_batch_page_says_a_worker_is_starting_and_refreshes_until_the_job_is_finished(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    at.file_uploader(key="batch_file").set_value(("a.jsonl", _jsonl(TAMPONADE), "application/jsonl"))
    at.selectbox(key="batch_mode").select("template")  # a form: sent with the click
    at.button(key="batch_start").click().run()
    job_id = at.session_state["batch_job"]
    page = texts(at)
    assert "No worker is running this job." not in page  # the worker is still loading
    view = batch.get_job(copilot.db, copilot.doc, job_id)
    assert view.status == "done" or view.worker_alive or view.starting
    if view.status != "done":
        assert view.refresh_seconds == batch.REFRESH_SECONDS
    _wait_done(copilot, job_id)
    deadline = time.time() + 30  # the worker gives its lease back right after the last row
    while not (done := batch.get_job(copilot.db, copilot.doc, job_id)).finished:
        assert time.time() < deadline, done
        time.sleep(0.2)
    assert done.refresh_seconds is None


def test_batch_download_is_built_from_the_database_when_clicked(copilot, media_files):
    from echogpt.batch import worker
    from echogpt.schemas import Study

    job = batch.create_job(copilot.db, copilot.doc, [Study.model_validate(TAMPONADE)], "template")
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    assert "pending" in list(at.dataframe[-1].value["status"])
    worker.run_worker(job.id, copilot.db.url)  # the job finishes after the page was drawn
    csv_text = _download(at, media_files[-1], "batch_csv")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["study_id"], r["status"]) for r in rows] == [("B-TAMP", "done")]
    assert rows[0]["impression"].strip()
    assert json.loads(_download(at, media_files[-1], "batch_jsonl"))["status"] == "done"


def test_batch_template_mode_with_an_active_adapter(copilot, tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "x"}))
    copilot.db.register_adapter(copilot.boss, folder, "sft", name="sft-1")
    copilot.db.select_adapter(copilot.boss, "sft-1")
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    assert at.selectbox(key="batch_mode").options == ["fine-tuned", "template"]
    at.file_uploader(key="batch_file").set_value(("a.jsonl", _jsonl(TAMPONADE), "application/jsonl"))
    at.selectbox(key="batch_mode").select("template")  # a form: sent with the click
    at.button(key="batch_start").click().run()
    assert not at.error, [e.value for e in at.error]
    job = batch.get_job(copilot.db, copilot.doc, at.session_state["batch_job"])
    assert (job.mode, job.adapter) == ("template", None)
    _wait_done(copilot, job.id)


def test_batch_page_summarises_flags_by_type_with_omission_severity(copilot, monkeypatch):
    from echogpt.batch import worker
    from echogpt.schemas import Study

    severe_as = {"study_id": "B-AS", "findings": {"aortic": {"stenosis": "severe"}},
                 "findings_text": "Severe aortic stenosis, mean gradient 48 mmHg, AVA 0.7 cm2. LVEF 60%."}
    job = batch.create_job(copilot.db, copilot.doc, [Study.model_validate(TAMPONADE),
                                                     Study.model_validate(severe_as)], "template")

    def drafter(_job):  # leaves the tamponade and the aortic stenosis out; claims a severe MR
        return lambda sts: [("1. Normal LVEF 60%.\n2. Severe mitral regurgitation.", "fake", None, 0.1)
                            for _ in sts]

    monkeypatch.setattr(worker, "_drafter", drafter)
    worker.run_worker(job.id, copilot.db.url)
    rows = {r.study_id: r for r in batch.results(copilot.db, copilot.doc, job.id)}
    assert rows["B-TAMP"].critical_omissions >= 1 and "(critical)" in rows["B-TAMP"].omissions
    assert rows["B-AS"].high_omissions == 1 and "(high)" in rows["B-AS"].omissions
    summary = batch.flag_summary(rows.values())
    assert summary["critical omissions"] >= 1 and summary["high omissions"] >= 1
    assert summary["contradicted"] + summary["unsupported"] >= 2
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    assert not at.exception, at.exception
    assert batch.flag_line(rows.values()) in texts(at)
    table = at.dataframe[-1].value
    assert any("(high)" in (o or "") for o in table["omissions"])


def test_starting_a_batch_without_a_file_asks_for_one(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/batch_page.py").run()
    at.button(key="batch_start").click().run()
    assert not at.exception, at.exception
    assert "Choose a studies file first." in [w.value for w in at.warning]
    assert "batch_job" not in at.session_state
