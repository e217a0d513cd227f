"""The hallucination check: every statement of an impression against the study it came from.

Each statement gets a verdict (supported, contradicted, unsupported, not_factual, not_checked: a
claim no rule verifies) and a reason, in the steps of ``check_statement``: what the statement
asserts; what decides before any claim is judged (a plan, the comparison with the prior study, no
clinical fact, a bubble study not done); each claim judged (``judge.py``), the worst verdict kept;
an unsupported the checker cannot fairly judge turned into not_checked; notes added to the reason.
Critical findings present in the study and absent from the impression are reported as omissions
(``omissions.py``).

    result = check("1. Severe AS.\\n2. No pericardial effusion.", study)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from echogpt.checker.compare import Status, locations_compatible
from echogpt.checker.earlier import (
    against_prior,
    cannot_exclude,
    earlier_spans,
    earlier_value_wrong,
    is_change,
    recovery_unstated,
    resolved_grade_wrong,
    said_of_earlier,
)
from echogpt.checker.facts import extract_facts, mentions_comparison
from echogpt.checker.judge import judge, synthesis
from echogpt.checker.lexicon import lexicon
from echogpt.checker.omissions import omissions
from echogpt.checker.phases import in_a_phase, phase_views
from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.study_facts import StudyFacts, study_facts
from echogpt.checker.subjects import unread_note
from echogpt.data.report_flags import bubble_study
from echogpt.schemas import CheckResult, Fact, StatementCheck, Study, StudyType
from echogpt.text import mask_struck, split_statements


def _no_bubble_study(text: str, study: Study) -> bool:
    """The statement cites a bubble study that the study never did: neither its field nor its
    findings say agitated saline was given (the import's reading, ``bubble_study``)."""
    bubble = lexicon().bubble
    if not bubble or not bubble.search(text) or study.agitated_saline:
        return False
    if re.search(r"(?:bubble|saline)[^.]*not (?:performed|done|obtained)|no (?:bubble|agitated saline) study",
                 text, re.I):  # "No bubble study performed, so a PFO has not been assessed"
        return False
    return not bubble_study([study.findings_text])


def unchecked_topics(text: str) -> list[tuple[str, str, bool]]:
    """Topics of a statement that no rule verifies (``fact_rules.json`` ``not_checked``).

    Args:
        text: The statement.

    Returns:
        (topic, the words that name it, whether a would-be flag becomes not_checked) per topic found.
    """
    out = []
    for topic, (rx, flags) in lexicon().unchecked.items():
        m = rx.search(text)
        if m is not None:
            out.append((topic, m.group(), flags))
    return out


def _clause_start(text: str, at: int) -> int:
    """Where the clause holding offset ``at`` begins ("Severe AS; TAVR recommended" -> at 'TAVR')."""
    return max(text.rfind(c, 0, at) for c in (";", ",", ":", " - ", "—", "(")) + 1


_CITED = re.compile(r"\[(?:findings_text: (?P<quote>'[^\]]*')|(?P<field>[^\[\]]+))\]")


def _evidence(reason: str) -> str | None:
    """The study fact a reason cites in brackets ("[findings_text: 'Mild MR']",
    "[LVEF 35 % (measurements.lvef)]"), worded for the reader: "study: 'Mild MR' (findings text)"."""
    m = _CITED.search(reason)
    if m is None:
        return None
    return f"study: {m['quote']} (findings text)" if m["quote"] else f"study: {m['field']}"


_FROM = re.compile(r"\s*,?\s*\(?\s*(?:(?:up|down|increased|decreased|improved|reduced) )?"
                   r"(?:from|vs\.?|versus)\s+\d", re.IGNORECASE)


def _now_of_from(text: str, f: Fact, start: int) -> bool:
    """"LVEF 30%, from 25%", "TAPSE 1.1 from 1.6 cm": the value before "from" is this study's, never
    the prior's, even in a statement that compares (``start``: the statement's offset, as the fact's)."""
    return (f.concept == "measurement" and f.end is not None
            and _FROM.match(text, f.end - start) is not None)


def _quote(text: str, f: Fact, start: int) -> str:
    return text[(f.start or start) - start:(f.end or start) - start]


def _statement(text: str, start: int, verdict: Status, reason: str, facts: list[Fact]) -> StatementCheck:
    return StatementCheck(text=text, start=start, end=start + len(text), verdict=verdict, reason=reason,
                          facts=facts, evidence=_evidence(reason))


@dataclass(frozen=True)
class _Said:
    """What a statement asserts, read before any of its claims is judged."""

    text: str
    start: int  # its offset in the impression (its facts' spans use it)
    facts: list[Fact]  # every fact read from it
    clinical: list[Fact]  # the claims to judge: no image quality, change over time or plan clause
    changes: list[Fact]  # the changes over time it states ("Vmax +0.3 m/s/year"), which are not read
    topics: list[tuple[str, str, bool]]  # the topics no rule verifies (``unchecked_topics``)
    stress: bool  # a topic whose would-be flag becomes not_checked (the stress images)
    plan: bool  # it holds a plan or recommendation; the claims of its clause were cut
    comparison: bool  # it compares with an earlier study
    mentioned: bool  # ... that the study only mentions, or of which it has no readable record
    unread_prior: bool  # ... the study has no readable prior at all


def _read_statement(text: str, start: int, study: Study, sf: StudyFacts) -> _Said:
    """What a statement asserts: its facts less the changes over time and the clause of a plan
    ("TEE recommended to assess for abscess"), the topics no rule verifies, and whether it
    compares with an earlier study that the study gives, only mentions or does not have."""
    facts = extract_facts(text, offset=start)
    outside = lexicon().outside_rules.search(text) is not None
    topics = unchecked_topics(text) if outside else []
    stress = any(t[2] for t in topics)
    clinical = [f for f in facts if f.concept != "image_quality"]
    # "Vmax +0.3 m/s/year": a change over time is no value of this study or the prior, and is not read
    changes = [f for f in clinical if f.concept == "measurement"
               and is_change(text, (f.start or start) - start, (f.end or start) - start)]
    clinical = [f for f in clinical if f not in changes]
    said = text  # what the statement asserts: all of it, or what comes before its plan
    plan = lexicon().plan.search(text) if outside else None
    if plan is not None:  # "TEE recommended to assess for abscess": a plan; its clause states no finding
        said = text[:_clause_start(text, plan.start())]
        clinical = [f for f in clinical if (f.end or 0) <= start + len(said)]
    # "new hypokinesis at peak" in a stress echo compares with rest, not with a prior study
    comparison = mentions_comparison(said) and not (stress and study.study_type == StudyType.stress)
    # the indication says an earlier study exists ("last study 2 years ago") but gives none of it: the
    # comparison cannot be checked; what the statement says of now still can
    mentioned = (comparison and study.prior is None and not sf.prior_in_text
                 and rule_regex(rules().prior_mentioned).search(study.indication or "") is not None)
    # no readable prior at all: the comparison is not checked, what the statement says of now still is
    unread_prior = comparison and study.prior is None and not sf.prior_in_text and not mentioned
    return _Said(text=text, start=start, facts=facts, clinical=clinical, changes=changes, topics=topics,
                 stress=stress, plan=plan is not None, comparison=comparison,
                 mentioned=mentioned or unread_prior, unread_prior=unread_prior)


def _recommendation(s: _Said) -> tuple[Status, str] | None:
    """not_factual: a plan whose clause held every claim states no finding of this study."""
    if s.plan and not s.clinical:
        return "not_factual", "a recommendation, not a finding of this study"
    return None


def _versus_prior(s: _Said, sf: StudyFacts) -> tuple[Status, str] | None:
    """The comparison with the prior study decides first: contradicted when the stated change
    ("improved", "unchanged") is wrong, and its verdict whatever it is when the statement says
    nothing else ("Unchanged from the prior study.")."""
    versus = against_prior(s.text, s.clinical, sf) if s.comparison else None
    if versus is not None and versus[0] == "contradicted":
        return "contradicted", versus[1]
    wrong = (earlier_value_wrong(s.text, s.clinical, sf, s.start)
             or resolved_grade_wrong(s.text, s.clinical, sf))
    if wrong is not None:
        return "contradicted", wrong
    unstated = recovery_unstated(s.text, s.clinical, sf, s.start)
    if unstated is not None:
        return "unsupported", unstated
    if not s.clinical and versus is not None:
        return versus
    return None


def _no_clinical_fact(s: _Said) -> tuple[Status, str] | None:
    """A statement with no claim to judge: not_checked when it compares with a prior the study does
    not have, states only a change over time, or names a topic no rule verifies; else not_factual."""
    if s.clinical:
        return None
    if s.unread_prior:  # "Unchanged since 2021."
        return "not_checked", ("compares with an earlier study, but the study has no readable prior: the "
                               "comparison is not checked")
    if s.changes:
        said_change = _quote(s.text, s.changes[0], s.start)
        return "not_checked", (f"states a change over time ('{said_change}'), which the checker does not "
                               "verify")
    if s.topics:
        return "not_checked", f"no rule verifies {s.topics[0][0]}: '{s.topics[0][1]}'"
    return "not_factual", "states no clinical fact"


def _bubble_study_not_done(s: _Said, study: Study) -> tuple[Status, str] | None:
    """unsupported: a shunt claim that cites a bubble study the study never did."""
    if any(f.concept == "shunt" for f in s.clinical) and _no_bubble_study(s.text, study):
        return "unsupported", "cites an agitated-saline (bubble) study that was not done"
    return None


def _unchecked_comparison(s: _Said, study: Study) -> str:
    """Why a comparison with an earlier study the study does not give is not checked."""
    if not s.unread_prior:
        return f"compares with a prior study the report only mentions ('{study.indication}')"
    return ("compares with an earlier study, but the study has no readable prior: the comparison is not "
            "checked")


def _claims_of_now(s: _Said) -> list[Fact]:
    """The claims to judge; where the earlier study is only mentioned, those outside the words about
    it ("(mean gradient 31 mmHg)" of "the prior study of 2024" is the prior's, not now). None left:
    the statement is not_checked."""
    if not s.mentioned:
        return s.clinical
    spans = [(s.start + a, s.start + b) for a, b in earlier_spans(s.text)]
    return [f for f in s.clinical if not any(a <= (f.start or 0) < b for a, b in spans)]


_RANK = {"contradicted": 0, "unsupported": 1, "not_checked": 2, "supported": 3}


def _worst_verdict(s: _Said, claims: list[Fact], study: Study, sf: StudyFacts
                   ) -> tuple[tuple[Status, str], list[Fact]]:
    """Each claim judged (a clinical synthesis may support what the study does not state), and the
    worst verdict with the claims nothing in the study states. In a stress echo a claim about the
    stress images that only the resting findings refute is unsupported, not contradicted."""
    worst: tuple[Status, str] | None = None
    silent = []  # the claims nothing in the study states
    spans = earlier_spans(s.text) if s.comparison else []
    for f in claims:
        compares = s.comparison and not s.unread_prior and not _now_of_from(s.text, f, s.start)
        # a claim outside the words about the earlier study speaks of now: the prior may hold it only
        # where this study is silent ("LV dilated compared with 2026 ... and mild MR": MR is now's)
        now = compares and not said_of_earlier(s.text, (f.start or s.start) - s.start, spans)
        status, reason = judge(f, study, sf, compares and not now)
        if now and status in ("unsupported", "not_checked"):
            status, reason = judge(f, study, sf, True)
        if status in ("unsupported", "not_checked"):
            status, reason = synthesis(f, sf) or (status, reason)
        silent += [f] if status == "unsupported" else []
        if worst is None or _RANK[status] < _RANK[worst[0]]:
            worst = (status, reason)
    assert worst is not None
    if worst[0] == "contradicted" and s.stress and study.study_type == StudyType.stress:
        # a claim about the stress images is refuted only by them, never by the resting findings
        alone = sf.stress_only()
        if not any(judge(f, study, alone, False)[0] == "contradicted" for f in claims):
            worst = ("unsupported", f"the resting findings differ ({worst[1]}); the stress findings do not "
                                    "state it")
    return worst, silent


def _abstention(s: _Said, worst: tuple[Status, str], silent: list[Fact], claims: list[Fact],
                study: Study) -> tuple[Status, str] | None:
    """not_checked for an unsupported statement the checker cannot fairly judge: it only says the
    finding could not be ruled out, the import could not read all of the report about each claim
    the study is silent on, or a topic no rule verifies (the stress images) leaves it ungraded."""
    if worst[0] != "unsupported":
        return None
    # "LV thrombus cannot be excluded" where the study saw none either way
    if silent and all(f.polarity == "uncertain" for f in silent) and cannot_exclude(s.text):
        return "not_checked", (f"{worst[1]}; the statement only says it could not be ruled out, which a "
                               "study silent about it does not refute")
    # each claim the study is silent on may stand where the import could not read (a quoted part that
    # names its subject, or an unquoted note)
    notes = [unread_note(study.unread, [f]) for f in silent or claims]
    note = notes[0] if notes and all(notes) else None
    if note is not None:
        return "not_checked", f"{worst[1]}; but the import could not read all of the report: {note}"
    beyond = [t for t in s.topics if t[2]]
    invented = worst[1].startswith(("nothing in the study states it", "the study reports this at"))
    if beyond and not invented:  # the stress findings do not grade it
        return "not_checked", f"no rule verifies {beyond[0][0]} ('{beyond[0][1]}'); {worst[1]}"
    return None


def _noted(s: _Said, reason: str, claims: list[Fact], sf: StudyFacts) -> str:
    """The reason, with what was not checked (the comparison, where no prior is readable) and where
    the findings text and the structured fields disagree about a claim."""
    if s.unread_prior:
        reason += "; the comparison with an earlier study is not checked (no readable prior)"
    clash = [c for c in sf.conflicts for f in claims
             if c.concept == f.concept and locations_compatible(f.concept, f.location, c.location)]
    if clash:  # never choose silently between the prose and the structured fields
        reason += f"; note: the findings text and the structured fields disagree ({clash[0].reason})"
    return reason


def check_statement(text: str, start: int, study: Study, sf: StudyFacts) -> StatementCheck:
    """The verdict on one statement.

    Args:
        text: The statement.
        start: Its offset in the impression (spans of the result and its facts use it).
        study: The study.
        sf: The study's facts (``study_facts(study)``).

    Returns:
        The StatementCheck; a statement with several facts takes its worst verdict.
    """
    s = _read_statement(mask_struck(text), start, study, sf)  # a struck word says nothing
    # what decides before any claim is judged, in this order
    early = (_recommendation(s) or _versus_prior(s, sf) or _no_clinical_fact(s)
             or _bubble_study_not_done(s, study))
    if early is not None:
        return _statement(text, start, *early, s.facts)
    claims = _claims_of_now(s)
    if not claims:
        return _statement(text, start, "not_checked", _unchecked_comparison(s, study), s.facts)
    if s.stress:  # a claim about the stress images is judged on them too
        sf = sf.with_stress()
    worst, silent = _worst_verdict(s, claims, study, sf)
    abstain = _abstention(s, worst, silent, claims, study)
    if abstain is not None:
        return _statement(text, start, *abstain, s.facts)
    # what it says of now holds (or is not checked); its comparison is not checked
    if s.mentioned and worst[0] in ("supported", "not_checked"):
        return _statement(text, start, "not_checked", f"{_unchecked_comparison(s, study)}; what it says of "
                          f"now: {worst[1]}", s.facts)
    return _statement(text, start, worst[0], _noted(s, worst[1], claims, sf), s.facts)


def check(impression: str, study: Study, profile: str = "default") -> CheckResult:
    """Check every statement of an impression against its study.

    Args:
        impression: The impression text (numbered, bulleted or plain sentences).
        study: The study it was written from.
        profile: Lab profile (which guideline schemes and tolerances are accepted).

    Returns:
        The CheckResult: one StatementCheck per statement plus the critical omissions.
    """
    sf = study_facts(study, profile)
    statements = [check_statement(s.text, s.start, study, sf) for s in split_statements(impression)]
    flagged = [s.verdict in ("contradicted", "unsupported") for s in statements]
    views = phase_views(study) if any(flagged) else []
    if views:  # an intraoperative study: a flagged statement may hold in one operative phase
        facts = [study_facts(view, profile) for _, view in views]  # each phase's facts, read once
        statements = [in_a_phase(s, views, lambda k, s=s: check_statement(s.text, s.start, views[k][1],
                                                                          facts[k])) if f else s
                      for s, f in zip(statements, flagged, strict=True)]
    stated = [f for s in statements for f in s.facts]
    return CheckResult(study_id=study.study_id, statements=statements, omissions=omissions(sf, stated))


def read_impression(arg: str) -> str:
    """The impression text of a command-line argument: the text itself, or ``@FILE``.

    Raises:
        ValueError: a one-line message when the file cannot be read or the text is empty.
    """
    from echogpt.files import FileError, decode_text, read_bytes

    text = arg
    if arg.startswith("@"):
        try:  # 1 MiB: an impression is a paragraph
            text = decode_text(read_bytes(arg[1:], limit=2**20), arg[1:])
        except FileError as err:
            raise ValueError(f"cannot read impression file {err}") from None
    if not text.strip():
        raise ValueError("the impression is empty")
    return text


def format_result(result: CheckResult) -> str:
    """Human form: one line per statement (verdict and reason), then omissions and counts."""
    lines = [f"{i}. [{s.verdict}] {s.text} -- {s.reason}" for i, s in enumerate(result.statements, 1)]
    lines += [f"omitted ({o.severity}): {o.finding} -- {o.evidence}" for o in result.omissions]
    counts = ", ".join(f"{k} {v}" for k, v in result.summary.items())
    lines.append(f"{'FLAGGED' if result.flagged else 'ok'}: {counts}")
    return "\n".join(lines)
