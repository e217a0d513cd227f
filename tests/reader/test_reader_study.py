"""Reader studies (``reader_study`` and ``reader_admin``): creation and validation, blinding
(every public function called as a reader, results searched for source names), normalisation,
per-reader randomisation with recorded seeds, private answers, stop and resume with every
answer kept, the coding toward B, the export with the unblinding key, the CLI, and 10 readers
x 100 cases rating at once on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import random
import threading

import _db
import pytest
from typer.testing import CliRunner

from echogpt.reader import admin as ra
from echogpt.reader import design as rd
from echogpt.reader import stats as reader_stats
from echogpt.reader import study as rs
from echogpt.review import accounts
from echogpt.review.database import NotFound
from echogpt.review.permissions import PermissionDenied

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

# Source names that appear nowhere else, so finding one in a reader's view is a leak.
SOURCES = ("srcCardiologistQX", "srcFinetunedQX", "srcTemplateQX")


def _cases(n: int) -> list[rd.Case]:
    out = []
    for i in range(n):
        ef = 35 + i % 30
        out.append(rd.Case(case_id=f"C{i:03d}", findings_text=f"LVEF {ef}% by biplane. Mild MR.",
                           reports={SOURCES[0]: f"1. LVEF {ef}%.\n2. Mild mitral regurgitation.",
                                    SOURCES[1]: f"LVEF  {ef}%.   Mild mitral regurgitation",
                                    SOURCES[2]: f"- Left ventricular ejection fraction {ef}%\n- Mild MR"},
                           metrics={SOURCES[1]: {"supplied": i / n}}))
    return out


def _readers(p, n: int, role: str = "reader") -> list:
    return [p.db.add_user(p.admin, f"rd{i}-{p.tag}", role, "reader-password")
            for i in range(n)]


def _study(p, readers, n_cases=6, per=None, design=None, seed=11, name=None):
    name = name or f"st-{p.tag}-{random.random():.6f}"
    rs.create_study(p.db, p.admin, name, _cases(n_cases), [r.name for r in readers], per,
                    design or rd.Design(likert=True, reference=SOURCES[0]), seed)
    return name


def _answer(task, value=1):
    lo, hi = min(task.scale), max(task.scale)
    return {d: max(lo, min(hi, value)) for d in task.dimensions}


def _leaks(obj) -> list[str]:
    text = repr(obj) + json.dumps(obj, default=lambda o: o.model_dump() if hasattr(o, "model_dump")
                                  else str(o))
    return [s for s in SOURCES if s in text]


def test_normalisation_hides_the_formatting_of_each_source():
    texts = ["1. LVEF 55%.\n2. Mild mitral regurgitation.",
             "LVEF  55%.   Mild mitral regurgitation",
             "- LVEF 55%\n- mild mitral regurgitation.",
             "(1) LVEF 55%.\n\n  (2)  Mild mitral regurgitation.  "]
    assert {rd.normalize_report(t) for t in texts} == {"1. LVEF 55%.\n2. Mild mitral regurgitation."}


def test_a_reader_can_obtain_no_source_label_through_any_public_function(people):
    p = people
    r1, r2 = _readers(p, 2)
    name = _study(p, [r1, r2])
    task = rs.next_task(p.db, r1, name)
    rs.submit_answer(p.db, r1, name, task.position, _answer(task), "ok", 12.0)
    reader_calls = {
        "my_studies": lambda: rs.my_studies(p.db, r1),
        "progress": lambda: rs.progress(p.db, r1, name),
        "next_task": lambda: rs.next_task(p.db, r1, name),
        "get_task": lambda: [rs.get_task(p.db, r1, name, k) for k in range(1, task.total + 1)],
        "submit_answer": lambda: rs.submit_answer(p.db, r1, name, 2, _answer(rs.get_task(
            p.db, r1, name, 2))),
    }
    admin_only = {
        "create_study": lambda: rs.create_study(p.db, r1, "x", _cases(2), [r1.name]),
        "list_studies": lambda: rs.list_studies(p.db, r1),
        "study_summary": lambda: rs.study_summary(p.db, r1, name),
        "export_ratings": lambda: rs.export_ratings(p.db, r1, name),
        "case_metrics": lambda: rs.case_metrics(p.db, r1, name),
        "source_texts": lambda: rs.source_texts(p.db, r1, name),
        "analyze": lambda: reader_stats.analyze(p.db, r1, name),
    }
    # Pure helpers and command-line wrappers (which act as the local admin, never as a reader).
    no_user = {"normalize_report", "load_cases", "parse_cases", "ratings_csv", "create_from_file",
               "export_to_file"}
    public = {n for m in (rd, rs, ra) for n, f in vars(m).items()
              if inspect.isfunction(f) and f.__module__ == m.__name__ and not n.startswith("_")}
    assert public | {"analyze"} == set(reader_calls) | set(admin_only) | no_user, \
        "a new public function needs a check here"
    for fn_name, call in reader_calls.items():
        assert _leaks(call()) == [], fn_name
    for fn_name, call in admin_only.items():
        with pytest.raises(PermissionDenied):
            call()
        assert fn_name
    # and the admin does see them
    assert set(rs.study_summary(p.db, p.admin, name).design.sources) == set(SOURCES)


def test_reports_carry_random_ids_and_normalised_text(people):
    p = people
    (r1,) = _readers(p, 1)
    name = _study(p, [r1], n_cases=1, design=rd.Design(preference=True, likert=True))
    tasks = [rs.get_task(p.db, r1, name, k) for k in range(1, 7)]  # 3 pairs + 3 Likert
    texts = {r.text for t in tasks for r in t.reports}
    ids = {r.report_id for t in tasks for r in t.reports}
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)
    assert all(t.startswith("1. ") and "  " not in t for t in texts)
    assert sorted(t.kind for t in tasks) == ["ab"] * 3 + ["likert"] * 3


def test_order_and_sides_are_random_per_reader_and_reproducible_from_the_seed(people):
    p = people
    readers = _readers(p, 3)
    first = _study(p, readers, n_cases=12, design=rd.Design(), seed=5)
    again = _study(p, readers, n_cases=12, design=rd.Design(), seed=5)

    def plan(name, r):
        out = []
        for k in range(1, 37):
            t = rs.get_task(p.db, r, name, k)
            out.append((t.findings_text, tuple(x.text for x in t.reports)))
        return out

    plans = [plan(first, r) for r in readers]
    assert plans == [plan(again, r) for r in readers]  # same seed, same orders and sides
    assert plans[0] != plans[1] != plans[2]  # each reader has their own order
    # A/B sides are drawn: across readers the same pair is shown both ways round
    shown = {(tuple(sorted(texts)), texts) for pl in plans for _, texts in pl}
    assert len(shown) > len({key for key, _ in shown})
    rows = rs.export_ratings(p.db, p.admin, first)
    assert rows == []  # nothing answered yet
    assert rs.study_summary(p.db, p.admin, first).seed == 5


def test_answers_are_private_saved_as_given_and_resumable(people):
    p = people
    r1, r2 = _readers(p, 2)
    name = _study(p, [r1, r2], n_cases=4)
    for _ in range(3):
        t = rs.next_task(p.db, r1, name)
        rs.submit_answer(p.db, r1, name, t.position, _answer(t, 2), "first", 10.0)
    assert rs.progress(p.db, r1, name).answered == 3
    assert rs.next_task(p.db, r1, name).position == 4  # resume where the reader stopped
    # the other reader sees none of it
    assert rs.progress(p.db, r2, name).answered == 0
    assert all(rs.get_task(p.db, r2, name, k).answers is None for k in range(1, 4))
    # a changed answer is kept next to the first; the latest counts
    t1 = rs.get_task(p.db, r1, name, 1)
    rs.submit_answer(p.db, r1, name, 1, _answer(t1, -1), "changed", 4.0)
    assert rs.get_task(p.db, r1, name, 1).answers == _answer(t1, -1)
    history = [r for r in rs.export_ratings(p.db, p.admin, name, all_answers=True)
               if r["position"] == 1 and r["reader"] == r1.name]
    assert [r["comment"] for r in history][:: len(t1.dimensions)] == ["first", "changed"]
    assert [r["latest"] for r in history][:: len(t1.dimensions)] == [False, True]


def test_bad_answers_and_strangers_are_refused(people):
    p = people
    r1, r2 = _readers(p, 2)
    name = _study(p, [r1], n_cases=2)
    t = rs.next_task(p.db, r1, name)
    with pytest.raises(ValueError, match="answer every dimension"):
        rs.submit_answer(p.db, r1, name, t.position, {"completeness": 0})
    with pytest.raises(ValueError, match="not one of"):
        rs.submit_answer(p.db, r1, name, t.position, {d: 7 for d in t.dimensions})
    with pytest.raises(NotFound):
        rs.get_task(p.db, r1, name, 999)
    with pytest.raises(PermissionDenied, match="not a reader"):
        rs.next_task(p.db, r2, name)
    with pytest.raises(PermissionDenied):
        rs.next_task(p.db, p.admin, name)
    with pytest.raises(ValueError, match="not an active reader"):
        rs.create_study(p.db, p.admin, "bad", _cases(2), [p.admin.name])
    with pytest.raises(ValueError, match="same sources"):
        cases = _cases(2)
        cases[1].reports.pop(SOURCES[2])
        rs.create_study(p.db, p.admin, "bad", cases, [r1.name])
    with pytest.raises(ValueError, match="two or more"):
        rd.Case(case_id="x", findings_text="y", reports={"a": "1. One."})


def test_preferences_are_recoded_toward_the_design_pair(people):
    """Every reader always prefers srcFinetunedQX 'much'; whichever side it was shown on, the
    export codes it +2 toward the design's B (or -2 when it is the design's A)."""
    p = people
    r1, r2 = _readers(p, 2)
    name = _study(p, [r1, r2], n_cases=5, design=rd.Design(), seed=3)
    key = {}
    for r in (r1, r2):
        for k in range(1, 16):
            t = rs.get_task(p.db, r, name, k)
            key[(r.name, k)] = t
    # which shown report is the fine-tuned one: the admin export after a first pass says
    for (rname, k), t in key.items():
        user = r1 if rname == r1.name else r2
        rs.submit_answer(p.db, user, name, k, {d: 0 for d in t.dimensions})
    rows = rs.export_ratings(p.db, p.admin, name)
    sides = {(x["reader"], x["position"]): (x["source_a"], x["source_b"]) for x in rows}
    for (rname, k), t in key.items():
        user = r1 if rname == r1.name else r2
        a, b = sides[(rname, k)]
        value = -2 if a == SOURCES[1] else 2 if b == SOURCES[1] else 0
        rs.submit_answer(p.db, user, name, k, {d: value for d in t.dimensions})
    rows = rs.export_ratings(p.db, p.admin, name)
    assert len(rows) == 2 * 15 * 4
    assert {x["source_a"] for x in rows if x["design_b"] == SOURCES[1]} >= {SOURCES[1]}  # both sides
    for x in rows:
        assert (x["design_a"], x["design_b"]) in {(SOURCES[0], SOURCES[1]), (SOURCES[0], SOURCES[2]),
                                                  (SOURCES[1], SOURCES[2])}
        want = 2 if x["design_b"] == SOURCES[1] else -2 if x["design_a"] == SOURCES[1] else 0
        assert x["toward_design_b"] == want
    parsed = list(csv.DictReader(io.StringIO(ra.ratings_csv(rows))))
    assert len(parsed) == len(rows) and set(parsed[0]) >= {"source_a", "source_b", "reader"}


def test_vs_reference_pairs_each_source_with_the_reference(people):
    p = people
    (r1,) = _readers(p, 1)
    design = rd.Design(pairs="vs_reference", reference=SOURCES[0])
    name = _study(p, [r1], n_cases=3, design=design)
    assert rs.progress(p.db, r1, name).total == 3 * 2
    with pytest.raises(ValueError, match="reference"):
        rd.Design(pairs="vs_reference")


def test_cli_create_export_analyze(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    from echogpt.cli import app
    from echogpt.review.store import Store

    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    db = Store()
    admin = db.cli_user()
    r = db.add_user(admin, "ra", "reader", "reader-password")
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(c.model_dump_json() + "\n" for c in _cases(4)))
    runner = CliRunner()
    res = runner.invoke(app, ["reader-study", "create", "--name", "cli", "--cases", str(cases),
                              "--readers", "ra", "--design", "both", "--reference", SOURCES[0],
                              "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "4 cases, 1 readers, seed 1" in res.output
    while (t := rs.next_task(db, r, "cli")) is not None:
        rs.submit_answer(db, r, "cli", t.position, _answer(t, 1), seconds=3.0)
    out = tmp_path / "ratings.csv"
    res = runner.invoke(app, ["reader-study", "export", "--name", "cli", "--out", str(out)])
    assert res.exit_code == 0 and len(list(csv.DictReader(out.open()))) == (4 * 3 + 4 * 3) * 4
    res = runner.invoke(app, ["reader-study", "analyze", "--name", "cli", "--out", str(tmp_path / "an")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "an" / "analysis.json").is_file() and list((tmp_path / "an").glob("*.png"))
    assert "Agreement needs two or more readers on the same cases: 1 reader answered so far." \
        in res.output
    bad = cases.with_name("bad.jsonl")
    bad.write_text('{"case_id": "x", "findings_text": "y", "reports": {"a": "1. One."}}\n')
    res = runner.invoke(app, ["reader-study", "create", "--name", "b", "--cases", str(bad),
                              "--readers", "ra"])
    assert res.exit_code == 2 and "line 1" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["reader-study", "analyze", "--name", "nope", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no reader study 'nope'" in res.output
    db.dispose()


@pytest.mark.timeout(300)
def test_ten_readers_by_a_hundred_cases_rate_at_once(people):
    """Creation of a 10 x 100 study (3 sources: 300 A-vs-B tasks per reader), then all ten
    readers answering concurrently from threads; every answer lands once, with its reader."""
    p = people
    readers = _readers(p, 10)
    name = _study(p, readers, n_cases=100, per=100, design=rd.Design(), seed=2)
    summary = rs.study_summary(p.db, p.admin, name)
    assert summary.cases == 100 and all(v.total == 300 for v in summary.readers.values())
    errors: list[BaseException] = []

    def rate(r):
        try:
            for _ in range(8):
                t = rs.next_task(p.db, r, name)
                rs.submit_answer(p.db, r, name, t.position, _answer(t, 1), seconds=1.0)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(r,)) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = rs.export_ratings(p.db, p.admin, name)
    assert len(rows) == 10 * 8 * 4
    assert {r["reader"] for r in rows} == {r.name for r in readers}
    assert all(v.answered == 8 for v in rs.study_summary(p.db, p.admin, name).readers.values())
