"""The pure review state machine: transitions and roles, confirmation flags, critical findings,
edit distance and the final report text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from echogpt.review import workflow as review
from echogpt.review.accounts import User
from echogpt.review.permissions import PermissionDenied, Role
from echogpt.review.workflow import Action, InvalidTransition, Status
from echogpt.schemas import CheckResult, Fact, Omission, StatementCheck, concept_vocabulary

DOC = User(id=1, name="doc", role=Role.cardiologist)
READER = User(id=2, name="reader", role=Role.reader)
ADMIN = User(id=3, name="admin", role=Role.admin)


@pytest.mark.parametrize(("status", "action", "expected"), [
    ("pending", "draft", "drafted"),
    ("drafted", "edit", "drafted"),
    ("drafted", "regenerate", "drafted"),
    ("drafted", "approve", "approved"),
    ("drafted", "reject", "rejected"),
    ("rejected", "draft", "drafted"),
    ("approved", "sign", "signed"),
    ("signed", "addendum", "signed"),
])
def test_allowed_transitions(status, action, expected):
    assert review.transition(DOC, status, action) == Status(expected)


@pytest.mark.parametrize(("status", "action"), [
    ("pending", "approve"), ("pending", "sign"), ("drafted", "sign"), ("approved", "edit"),
    ("approved", "approve"), ("signed", "edit"), ("signed", "approve"), ("signed", "reject"),
    ("rejected", "approve"), ("drafted", "addendum"),
])
def test_refused_transitions(status, action):
    with pytest.raises(InvalidTransition, match=f"cannot {action}"):
        review.transition(DOC, status, action)


def test_signed_reports_point_to_addenda():
    with pytest.raises(InvalidTransition, match="addendum"):
        review.transition(DOC, "signed", "edit")


@pytest.mark.parametrize("user", [READER, ADMIN])
@pytest.mark.parametrize("action", list(Action))
def test_only_cardiologists_report(user, action):
    with pytest.raises(PermissionDenied, match="cardiologist"):
        review.transition(user, "drafted", action)


def test_role_is_checked_before_the_status():
    with pytest.raises(PermissionDenied):
        review.transition(READER, "signed", "edit")


def test_allowed_actions_for_buttons():
    assert set(review.allowed_actions(DOC, Status.drafted)) == {
        Action.edit, Action.regenerate, Action.approve, Action.reject}
    assert review.allowed_actions(READER, Status.drafted) == []
    assert review.allowed_actions(DOC, Status.signed) == [Action.addendum]


@pytest.mark.parametrize("user", [DOC, READER, ADMIN])
@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_are_the_transitions_that_go_through(user, status):
    passing = []
    for action in Action:
        try:
            review.transition(user, status, action)
        except (PermissionDenied, InvalidTransition):
            continue
        passing.append(action)
    assert sorted(review.allowed_actions(user, status)) == sorted(passing)
    assert review.allowed_actions(user, status.value) == review.allowed_actions(user, status)


def _check(verdicts=("supported",), omissions=(), facts=()):
    return CheckResult(study_id="S", statements=[
        StatementCheck(text=f"s{i}", start=0, end=2, verdict=v, reason="r", facts=list(facts))
        for i, v in enumerate(verdicts)], omissions=list(omissions))


def test_approval_flags():
    assert review.approval_flags(_check(("supported", "not_checked", "not_factual"))) == []
    assert review.approval_flags(_check(("supported", "contradicted"))) == ["contradicted: s1"]
    assert review.approval_flags(_check(("supported", "unsupported"))) == ["unsupported: s1"]
    omitted = Omission(finding="large pericardial effusion", severity="critical", evidence="x")
    assert review.approval_flags(_check(omissions=[omitted])) == [
        "omitted critical finding: large pericardial effusion"]
    high = Omission(finding="severe aortic stenosis", severity="high", evidence="x")
    assert review.approval_flags(_check(omissions=[high])) == ["omitted high finding: severe aortic stenosis"]
    moderate = Omission(finding="moderate MR", severity="moderate", evidence="x")
    assert review.approval_flags(_check(omissions=[moderate])) == []
    assert review.approval_flags(None) == ["the draft has not been checked"]


@pytest.mark.parametrize(("fact", "expected"), [
    (Fact(concept="tamponade"), ["tamponade physiology"]),
    (Fact(concept="vegetation", location="mitral"), ["vegetation"]),
    (Fact(concept="vegetation", location="mitral", polarity="absent"), []),
    (Fact(concept="vegetation", location="mitral", polarity="uncertain"), []),
    (Fact(concept="lv_systolic_function", grade="severely_reduced"),
     ["severely reduced LV systolic function"]),
    (Fact(concept="lv_systolic_function", grade="mildly_reduced"), []),
    (Fact(concept="valve_regurgitation", location="mitral", grade="moderate"), []),
])
def test_critical_findings(fact, expected):
    assert review.critical_findings(_check(facts=[fact])) == expected


def test_only_critical_severity_needs_notification(monkeypatch):
    rules = review.CriticalRules.model_validate({"rules": [
        {"label": "LV thrombus", "concept": "thrombus", "locations": ["lv"], "severity": "critical",
         "source": "s"},
        {"label": "severe {location} stenosis", "concept": "valve_stenosis", "grades": ["severe"],
         "severity": "high", "source": "s"},
        {"label": "severe {location} regurgitation", "concept": "valve_regurgitation",
         "grades": ["severe"], "severity": "critical", "source": "s"},
        {"label": "severe pulmonary hypertension", "concept": "pasp", "grades": ["severely_elevated"],
         "severity": "critical", "stated_by": [{"concept": "ph_probability", "grades": ["high"]}],
         "source": "s"}]})
    monkeypatch.setattr(review, "critical_rules", lambda: rules)
    facts = [Fact(concept="thrombus", location="la"), Fact(concept="thrombus", location="lv"),
             Fact(concept="valve_stenosis", location="aortic", grade="severe"),
             Fact(concept="valve_regurgitation", location="mitral", grade="severe"),
             Fact(concept="ph_probability", grade="intermediate")]
    assert review.critical_findings(_check(facts=facts)) == ["LV thrombus",
                                                             "severe mitral regurgitation"]
    # "stated_by" alternatives (how an impression may mention a known finding) assert nothing
    stated = [Fact(concept="ph_probability", grade="high")]
    assert review.critical_findings(_check(facts=stated)) == []


def test_critical_omissions_need_notification_too():
    omitted = Omission(finding="vegetation", severity="critical", evidence="mobile echodensity")
    assert review.critical_findings(_check(omissions=[omitted])) == ["vegetation"]


def test_critical_rules_use_the_fact_vocabulary():
    vocab = concept_vocabulary()
    rules = review.critical_rules().rules
    assert any(r.severity == "critical" for r in rules)
    for rule in rules:
        assert rule.concept in vocab, rule.concept
        assert set(rule.grades) <= set(vocab[rule.concept]["grades"]), rule.label


@pytest.mark.parametrize(("before", "after", "distance"), [
    ("a b c", "a b c", 0),
    ("a b c", "a x c", 1),
    ("", "a b", 2),
    ("a b c d", "b c d e", 2),  # delete a, insert e
    ("1. Mild MR.", "1. Moderate MR.\n2. Normal LVEF.", 4),
])
def test_word_edit_distance(before, after, distance):
    assert review.word_edit_distance(before, after) == distance


def test_edit_entry_has_a_line_diff():
    entry = review.edit_entry("1. Mild MR.\n2. Normal LV.", "1. Moderate MR.\n2. Normal LV.")
    assert "-1. Mild MR." in entry.diff and "+1. Moderate MR." in entry.diff
    assert "2. Normal LV." not in [line[1:] for line in entry.diff.splitlines() if line[:1] in "+-"]


def _report(**kw):
    at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    base = dict(id=1, study_id="S", status=Status.approved, final_text="1. Severe AS.",
                model="embedded:smollm2-135m-instruct", adapter="sft-3", edited=True,
                approved_by="dr-lee", approved_at=at)
    return review.ReportView(**{**base, **kw})


def test_final_report_states_ai_assistance_model_and_adapter():
    text = review.final_report_text(_report())
    assert text.startswith("IMPRESSION\n1. Severe AS.")
    assert "AI assistance" in text and "embedded:smollm2-135m-instruct" in text and "sft-3" in text
    assert "edited and approved by dr-lee" in text and "PRELIMINARY" in text


def test_final_report_signed_with_notifications_and_addenda():
    at = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    text = review.final_report_text(_report(
        status=Status.signed, adapter=None, edited=False, signed_by="dr-lee", signed_at=at,
        notifications=[review.NotificationView(id=1, finding="severe valve stenosis",
                                               notified="Dr. Ward (cardiology)", at=at,
                                               recorded_by="dr-lee")],
        addenda=[review.AddendumView(id=1, text="Mean gradient 48 mmHg.", author="dr-lee", at=at)]))
    assert "adapter none (base model)" in text and "edited" not in text
    assert "Electronically signed by dr-lee on 2025-03-01 10:00 UTC." in text
    assert "communicated to Dr. Ward (cardiology) at 2025-03-01 10:00 UTC" in text
    assert text.endswith("ADDENDUM (2025-03-01 10:00 UTC, dr-lee):\nMean gradient 48 mmHg.")
    assert "PRELIMINARY" not in text
