"""Highlighting an impression by the checker's verdicts: spans, tooltips, escaping."""

from __future__ import annotations

import html
import re

from echogpt.checker.highlight import highlight_impression, legend_html, omission_lines
from echogpt.schemas import CheckResult, GuardIntervention, GuardRecord, Omission, StatementCheck

TEXT = "1. Normal LV size.\n2. LVEF 35 %.\n3. Technically limited study."


def _st(text: str, full: str, verdict: str, reason: str) -> StatementCheck:
    start = full.index(text)
    return StatementCheck(text=text, start=start, end=start + len(text), verdict=verdict,
                          reason=reason)


def _result(full: str = TEXT) -> CheckResult:
    return CheckResult(study_id="S1", statements=[
        _st("Normal LV size.", full, "supported", "LVIDd 4.8 cm is normal"),
        _st("LVEF 35 %.", full, "contradicted", 'study says LVEF 60 % ("normal")'),
        _st("Technically limited study.", full, "not_factual", "no clinical fact"),
    ])


def _plain(fragment: str) -> str:
    """The visible text of an HTML fragment (line breaks back to newlines)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def test_each_statement_wrapped_with_its_verdict_and_reason():
    out = highlight_impression(TEXT, _result())
    spans = re.findall(r'<span class="verdict verdict-(\w+)"[^>]*title="([^"]*)"[^>]*>(.*?)</span>',
                       out)
    assert [(v, html.unescape(body)) for v, _, body in spans] == [
        ("supported", "Normal LV size."), ("contradicted", "LVEF 35 %."),
        ("not_factual", "Technically limited study.")]
    assert html.unescape(spans[1][1]) == 'contradicted: study says LVEF 60 % ("normal")'


def test_visible_text_is_the_impression_exactly():
    assert _plain(highlight_impression(TEXT, _result())) == TEXT


def test_markup_in_text_and_reason_is_escaped():
    text = "1. <script>alert(1)</script> MR."
    result = CheckResult(study_id="S1", statements=[
        _st("<script>alert(1)</script> MR.", text, "unsupported", 'no "MR" <b>in</b> study')])
    out = highlight_impression(text, result)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;" in out
    assert _plain(out) == text


def test_edited_text_still_finds_moved_statements_and_skips_missing_ones():
    edited = "0. Added line.\n" + TEXT.replace("LVEF 35 %.", "LVEF 60 %.")
    out = highlight_impression(edited, _result(TEXT))
    verdicts = re.findall(r'verdict-(\w+)"', out)
    assert verdicts == ["supported", "not_factual"]  # the changed statement is left plain
    assert _plain(out) == edited


def test_no_result_only_escapes():
    out = highlight_impression("a < b\nc", None)
    assert "verdict" not in out and _plain(out) == "a < b\nc"


def test_omission_lines_and_legend():
    result = CheckResult(study_id="S1", statements=[], omissions=[
        Omission(finding="Cardiac tamponade", severity="critical", evidence="RV diastolic collapse"),
        Omission(finding="Moderate MR", severity="moderate", evidence="MR moderate")])
    assert omission_lines(result) == ["Cardiac tamponade — study: RV diastolic collapse"]
    assert omission_lines(None) == []
    assert "contradicted" in legend_html()


def test_the_tooltip_names_the_study_fact_the_verdict_rests_on():
    from echogpt.checker.check import check
    from echogpt.schemas import Study

    study = Study.model_validate({"study_id": "S1", "findings_text": "The aortic valve is severely stenotic.",
                                  "measurements": {"lvef": 35}})
    text = "1. Normal LV systolic function.\n2. Mild aortic stenosis.\n3. Small pericardial effusion."
    out = highlight_impression(text, check(text, study))
    tips = [html.unescape(t) for t in re.findall(r'title="([^"]*)"', out)]
    assert tips == [
        "contradicted: the study states moderately reduced lv systolic function\n"
        "study: LVEF 35 % (measurements.lvef)",
        "contradicted: the study states severe valve stenosis (aortic)\n"
        "study: 'severely stenotic' (findings text)",
        "unsupported: nothing in the study states it: no pericardial effusion in the findings or "
        "structured fields"]


def test_quotes_in_a_tooltip_are_escaped_once():
    text = "Mild MR."
    result = CheckResult(study_id="S1",
                         statements=[_st(text, text, "contradicted", "the study's 'MR' & <b>")])
    tip = re.findall(r'title="([^"]*)"', highlight_impression(text, result))[0]
    assert html.unescape(tip) == "contradicted: the study's 'MR' & <b>"


def _guard() -> GuardRecord:
    text = "LVEF 35 %."
    start = TEXT.index(text)
    return GuardRecord(unguarded_text="1. Normal LV size.\n2. LVEF 55 %.\n3. Severe AS.", interventions=[
        GuardIntervention(kind="repaired", original="LVEF 55 %.", text=text, verdict="contradicted",
                          reason='study says <35> "%"', start=start, end=start + len(text)),
        GuardIntervention(kind="dropped", original="Severe AS.", verdict="unsupported", reason="no AS",
                          start=len(TEXT), end=len(TEXT))])


def test_guard_marks_sit_beside_their_statements_with_the_reason_as_tooltip():
    out = highlight_impression(TEXT, _result(), _guard())
    marks = re.findall(r'<span class="guard-mark guard-(\w+)" data-guard="\w+" title="([^"]*)"', out)
    assert [(k, html.unescape(t)) for k, t in marks] == [
        ("repaired", "repaired: 'LVEF 55 %.' -> 'LVEF 35 %.' (study says <35> \"%\")"),
        ("dropped", "dropped: 'Severe AS.' left out (no AS)")]
    # the repaired statement's mark follows its highlighted span; the dropped one ends the text
    assert re.search(r"LVEF 35 %\.</span><span class=\"guard-mark guard-repaired\"", out)
    assert out.endswith("</span></div>") and "<35>" not in out  # escaped
    visible = _plain(out)
    assert visible.replace("🛡 repaired", "").replace("🛡 dropped", "") == TEXT


def test_guard_marks_without_a_check_and_after_an_edit():
    out = highlight_impression(TEXT, None, _guard())
    assert out.count('class="guard-mark') == 2
    edited = TEXT.replace("LVEF 35 %.", "LVEF 30 %.")  # the repaired statement was edited away
    assert 'guard-repaired' not in highlight_impression(edited, None, _guard())
