"""Everything a study says, as Facts: its prose, its structured fields, and where the two disagree.

Structured facts come from the guideline engine (``echogpt.guidelines.study.grade_study``) plus one
``measurement`` fact per number; prose facts from ``echogpt.checker.facts.sentence_facts``. When prose and
structured fields disagree both are kept and the disagreement is listed in ``conflicts``.
Which parts of the prose speak of an earlier study or of the stress images is ``timeframes.py``; how a
claim is judged against one piece of evidence lives in ``echogpt.checker.compare``.

    sf = study_facts(study); sf.conflicts
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from echogpt import units
from echogpt.checker.compare import (
    LOCATION_OVERLAPS,
    NO_GRADES,
    Evidence,
    compare,
    locations_compatible,
    numbers_agree,
)
from echogpt.checker.facts import sentence_facts
from echogpt.checker.regurgitant_width import width_evidence
from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.timeframes import about_prior, blanked, prior_cues, prior_view, stress_sentences
from echogpt.checker.tokens import headings
from echogpt.data.report_addenda import addendum_start
from echogpt.guidelines.acceptance import acceptable_grades, needs_study
from echogpt.guidelines.grading import rap_from_ivc
from echogpt.guidelines.study import grade_study
from echogpt.schemas import Fact, Measurements, Study, StudyType, concept_vocabulary


@dataclass(frozen=True)
class Conflict:
    """Prose and structured fields of one study disagree about one fact."""

    concept: str
    location: str | None
    text_fact: Fact
    field_fact: Fact
    reason: str


@dataclass
class StudyFacts:
    """All facts of a study, indexed by concept, and the prose/structured conflicts."""

    study_id: str
    evidence: list[Evidence]
    conflicts: list[Conflict] = field(default_factory=list)
    by_concept: dict[str, list[Evidence]] = field(default_factory=dict)
    prior_in_text: bool = False  # the findings compare with a prior study ("previously moderate")
    at_stress: list[Evidence] = field(default_factory=list)  # a stress echo's peak/recovery findings

    def with_stress(self) -> StudyFacts:
        """These facts with the stress images' findings added (for a claim about the stress images)."""
        if not self.at_stress:
            return self
        by_concept = {k: list(v) for k, v in self.by_concept.items()}
        for e in self.at_stress:
            by_concept.setdefault(e.fact.concept, []).append(e)
        return StudyFacts(self.study_id, self.evidence + self.at_stress, self.conflicts, by_concept,
                          self.prior_in_text, self.at_stress)

    def stress_only(self) -> StudyFacts:
        """The stress images' findings alone (rest does not refute a claim about peak stress)."""
        by_concept: dict[str, list[Evidence]] = {}
        for e in self.at_stress:
            by_concept.setdefault(e.fact.concept, []).append(e)
        return StudyFacts(self.study_id, list(self.at_stress), [], by_concept, self.prior_in_text)

    @property
    def facts(self) -> list[Fact]:
        """The facts alone."""
        return [e.located() for e in self.evidence]

    def about(self, concept: str, location: str | None = None) -> list[Evidence]:
        """Evidence for a concept whose location is compatible with ``location``."""
        found = self.by_concept.get(concept)
        if not found:
            return []
        if location is None:
            return list(found)
        if concept not in LOCATION_OVERLAPS:  # same name or none: locations_compatible without the call
            return [e for e in found if e.fact.location in (None, location)]
        return [e for e in found if locations_compatible(concept, location, e.fact.location)]


@cache
def _field_units() -> dict[str, tuple[str | None, str]]:
    """Measurement field -> (canonical unit, source path), for the fields that are plain numbers."""
    return {name: (units.spec(name).unit or None, f"measurements.{name}")
            for name in Measurements.model_fields if name not in ("lvef", "septal_flattening")}


def _measured(name: str, value: float, value_max: float | None = None) -> Evidence:
    """The evidence of one structured measurement (``value_max``: the upper end of an LVEF range)."""
    if name == "lvef":
        fact = Fact(concept="measurement", location="lvef", value=value, unit="%", value_max=value_max,
                    source="measurements.lvef")
    else:
        unit, source = _field_units()[name]
        fact = Fact(concept="measurement", location=name, value=value, unit=unit, source=source)
    return Evidence(fact, NO_GRADES, "structured")


def _measurement_facts(study: Study) -> list[Evidence]:
    m = study.measurements
    out: list[Evidence] = []
    if m is None:
        return out
    for name, value in m:
        if value is None or name == "septal_flattening":
            continue
        if name == "lvef":
            if value.low is None:
                continue
            high = value.high if value.high != value.low else None
            out.append(_measured("lvef", value.low, high))
        else:
            out.append(_measured(name, value))
    if m.rvsp is None and m.tr_vmax is not None and m.rap is not None:
        # ASE10-RH: RVSP = 4 x TR Vmax^2 + RAP (mmHg)
        fact = Fact(concept="measurement", location="rvsp", value=round(4 * m.tr_vmax ** 2 + m.rap),
                    unit="mmHg", source="measurements.tr_vmax+rap", rule="ASE10-RH:rvsp")
        out.append(Evidence(fact, NO_GRADES, "structured"))
    return out


def _with_prose_numbers(study: Study, text: list[Evidence]) -> Study:
    """The study with numbers read from its prose added where the measurements block lacks them."""
    m = study.measurements
    have = {k for k, v in m if v is not None} if m is not None else set()
    extra: dict[str, object] = {}
    for e in text:
        f = e.fact
        if f.concept != "measurement" or f.location in have or f.location in extra or f.value is None:
            continue
        if f.location == "lvef":
            extra["lvef"] = f"{f.value:g}-{f.value_max:g}" if f.value_max is not None else f.value
        else:
            extra[f.location or ""] = f.value if f.value_max is None else (f.value + f.value_max) / 2
    if not extra:
        return study
    given = m.model_dump(exclude_none=True) if m is not None else {}
    try:
        merged = Measurements.model_validate({**given, **extra})
    except ValueError:  # a value out of range (or at odds with another) is left out, not the rest
        for name, value in extra.items():
            try:
                given = Measurements.model_validate({**given, name: value}).model_dump(exclude_none=True)
            except ValueError:
                continue
        merged = Measurements.model_validate(given)
    return study.model_copy(update={"measurements": merged})


def _morphology(study: Study) -> list[Evidence]:
    out = []
    allowed = set(concept_vocabulary()["valve_morphology"]["grades"])
    for valve in ("aortic", "mitral", "tricuspid", "pulmonic"):
        vf = getattr(study.findings, valve, None) if study.findings else None
        for word in vf.morphology if vf else []:
            if word.lower() in allowed:
                f = Fact(concept="valve_morphology", location=valve, grade=word.lower(),
                         source=f"findings.{valve}.morphology")
                out.append(Evidence(f, NO_GRADES, "structured"))
    return out


def _other_findings(study: Study) -> list[Evidence]:
    """Septal flattening, chamber collapse and MAC stated in the structured fields."""
    found: list[tuple[str, str]] = []
    m, f = study.measurements, study.findings
    if m is not None and m.septal_flattening is not None:
        found.append(("septal_flattening", "measurements.septal_flattening"))
    eff = f.effusion if f is not None else None
    if eff is not None and (eff.ra_collapse or eff.rv_collapse):
        found.append(("chamber_collapse", "findings.effusion"))
    for valve in ("mitral", "aortic"):
        vf = getattr(f, valve, None) if f is not None else None
        if vf is not None and any("mac" in w.lower() or "annular calc" in w.lower() for w in vf.morphology):
            found.append(("mac", f"findings.{valve}.morphology"))
    out = []
    for loc, source in found:
        absent = loc == "septal_flattening" and m is not None and m.septal_flattening is False
        fact = Fact(concept="other_finding", location=loc, polarity="absent" if absent else "present",
                    source=source)
        out.append(Evidence(fact, NO_GRADES, "structured"))
    return out


_ANY = object()  # a derived-fact rule that names no location


@cache
def _derived_rules() -> tuple[tuple[tuple[str, str | None], str, tuple[tuple[str, str], ...], float | None,
                                    Fact, object], ...]:
    """Each derived-fact rule as (then key, if-concept, other if-conditions, min value, the fact, the
    location it asks for or ``_ANY``)."""
    out = []
    for d in rules().derived_facts:
        cond = tuple((k, v) for k, v in d.if_.items() if k != "concept")
        fact = Fact(source=d.source, **d.then)
        out.append(((fact.concept, fact.location), d.if_.get("concept", ""), cond, d.min_value, fact,
                    d.if_.get("location", _ANY)))
    return tuple(out)


@cache
def _derived_concepts() -> tuple[frozenset[str], frozenset[str]]:
    """The concepts derived-fact rules start from, and those they conclude."""
    compiled = _derived_rules()
    return frozenset(c[1] for c in compiled), frozenset(c[0][0] for c in compiled)


def _derived(by_concept: dict[str, list[Evidence]]) -> list[Evidence]:
    """Facts the rules derive from the study's own evidence (grouped by concept, in order)."""
    out = []
    _, concluded = _derived_concepts()
    have = {(c, e.fact.location) for c in concluded for e in by_concept.get(c, ())}
    for then, concept, cond, min_value, fact, where in _derived_rules():
        if then in have:
            continue
        for e in by_concept.get(concept, ()):
            f = e.fact
            if f.polarity != "present" or (where is not _ANY and f.location != where):
                continue  # rules on measurements name the field
            if any(getattr(f, k) != v for k, v in cond):
                continue
            if min_value is None or (f.value is not None and max(f.value, f.value_max or f.value)
                                     >= min_value):
                out.append(Evidence(fact, NO_GRADES, e.origin))
                have.add(then)
                break
    return out


class _Bands:
    """The grades a lab profile accepts for a graded fact, asked per fact on first use (``Evidence``):
    from the whole study, or from the patient's sex alone (``acceptance.needs_study``)."""

    __slots__ = ("profile", "sex", "study")

    def __init__(self, profile: str, study: Study | None = None, sex: object = None) -> None:
        self.profile, self.study, self.sex = profile, study, sex

    def __call__(self, f: Fact) -> frozenset[str]:
        try:
            return frozenset(acceptable_grades(f, self.profile, sex=self.sex, study=self.study))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a fact the bands do not cover: its own grade only
            return frozenset([f.grade] if f.grade else [])


def _structured(study: Study, profile: str, text: list[Evidence] | None = None) -> list[Evidence]:
    graded = _with_prose_numbers(study, text or [])
    bands, sex_bands = _Bands(profile, study=graded), _Bands(profile, sex=study.sex)
    out = [Evidence(f, bands if needs_study(f) else sex_bands, "structured")
           for f in grade_study(graded, profile)]
    out += _measurement_facts(study)
    m = graded.measurements
    est = rap_from_ivc(m.ivc_diameter, m.ivc_collapse, study.ventilated) if m and m.rap is None else None
    if est is not None:  # ASE10-RH: RAP estimated from IVC size and collapse where none is stated
        out.append(Evidence(Fact(concept="measurement", location="rap", value=est[0], unit="mmHg",
                                 source="measurements.ivc_diameter+ivc_collapse", rule="ASE10-RH:rap"),
                            NO_GRADES, "structured"))
    return out + _morphology(study) + _other_findings(study)


def _text(study: Study) -> tuple[list[Evidence], list[Evidence], list[Evidence]]:
    """Facts of the findings prose: this study's (at rest), the prior study's where the prose compares,
    and, in a stress echo, those of the stress images; a heading states nothing (``tokens.headings``),
    and an addendum's word on a finding replaces what the report said of it before."""
    text = study.findings_text
    prior = about_prior(text)
    stress = stress_sentences(text) if study.study_type == StudyType.stress else []
    skip = headings(text)
    if not prior and not stress:
        return _latest(_stated(text, text, "text", skip), text), [], []
    own = _latest(_stated(blanked(text, prior + stress, keep=False), text, "text", skip), text)
    before = [e for e in _stated(prior_view(text, prior), text, "prior", skip)
              if any(a <= e.start < b for a, b in prior)] if prior else []
    at_stress = _stated(blanked(text, stress, keep=True), text, "text", skip)
    return own, before, at_stress


def _latest(evidence: list[Evidence], text: str) -> list[Evidence]:
    """Without what an addendum or correction supersedes: a finding (concept and site) or a value the
    addendum states again is the addendum's alone ("Mild AR." then "Addendum: the AR is moderate")."""
    at = addendum_start(text)
    if at is None:
        return evidence
    restated = {(e.fact.concept, e.fact.location) for e in evidence if e.start >= at}
    return [e for e in evidence if e.start >= at or (e.fact.concept, e.fact.location) not in restated]


def _stated(view: str, text: str, origin: str, skip: list[tuple[int, int]]) -> list[Evidence]:
    """The evidence of a view of the findings ``text`` (parts blanked), less the facts of its headings
    (``skip``: ``headings(text)``)."""
    return [Evidence(f, NO_GRADES, origin, (offset, text)) for offset, facts in sentence_facts(view)
            for f in facts if not any(a <= offset + (f.start or 0) < b for a, b in skip)]


def _prior_study(study: Study) -> Study | None:
    p = study.prior
    if p is None:
        return None
    measurements = p.measurements
    if p.lvef is not None:
        base = measurements.model_dump(exclude_none=True) if measurements else {}
        base["lvef"] = p.lvef.model_dump(exclude_none=True)
        measurements = base  # type: ignore[assignment]
    return Study.model_validate({"study_id": f"{study.study_id}:prior", "patient": study.patient,
                                 "measurements": measurements, "findings": p.findings,
                                 "findings_text": p.impression or "-"})


def study_facts(study: Study, profile: str = "default") -> StudyFacts:
    """All facts of a study (cached by its content: a study changed in place is worked out anew).

    Args:
        study: The study.
        profile: Lab profile name for the guideline engine.

    Returns:
        ``StudyFacts`` with evidence from prose, structured fields and (origin "prior") the prior.
    """
    return _study_facts(study.model_dump_json(), profile)


@lru_cache(maxsize=256)  # the copilot checks each edit of a draft against the same study
def _study_facts(study_json: str, profile: str) -> StudyFacts:
    study = Study.model_validate_json(study_json)
    text, in_text, at_stress = _text(study)
    structured = _structured(study, profile, text)
    graded = {(e.fact.concept, e.fact.location) for e in structured if e.fact.concept != "measurement"}
    text = [e for e in text if (e.fact.concept, e.fact.location) not in graded or not _method_limited(e)]
    text += width_evidence(study.findings_text, text + structured)
    prior = _prior_study(study)
    prior_ev = list(in_text)
    if prior is not None:
        ptext = _text(prior)[0]
        prior_ev += [Evidence(e.fact, e._accepted, "prior", e._shift)
                     for e in _structured(prior, profile, ptext) + ptext]
    own = text + structured
    by_concept: dict[str, list[Evidence]] = {}
    for e in own:
        by_concept.setdefault(e.fact.concept, []).append(e)
    derived = _derived(by_concept)
    for e in derived:
        by_concept.setdefault(e.fact.concept, []).append(e)
    compares = prior_cues()[0].search(study.findings_text) is not None
    return StudyFacts(study.study_id, own + derived + prior_ev, conflicts=_conflicts(text, structured),
                      by_concept=by_concept, prior_in_text=compares, at_stress=at_stress)


def _method_limited(e: Evidence) -> bool:
    """A prose grade its words limit to one method ("LV: mildly dilated by diameter (LVIDd 5.4 cm)",
    ``method_limited``): where a structured field grades the same finding, the field's grade rules."""
    if e._shift is None:
        return False
    offset, view = e._shift
    return _METHOD().match(view, offset + (e.fact.end or 0)) is not None


@cache
def _METHOD() -> re.Pattern[str]:  # noqa: N802 - a compiled rule, named as the patterns it holds
    return re.compile(r"\s*(?:" + rule_regex(rules().method_limited).pattern + ")", re.I)


def _conflicts(text: list[Evidence], structured: list[Evidence]) -> list[Conflict]:
    index: dict[tuple[str, str | None], list[Evidence]] = {}
    for s in structured:
        index.setdefault((s.fact.concept, s.fact.location), []).append(s)
    out = []
    for t in text:
        for s in index.get((t.fact.concept, t.fact.location), []):
            tf, sf = t.fact, s.fact
            if tf.concept == "measurement":
                if numbers_agree(tf, sf):
                    continue  # the common case, decided without wording a reason
            elif (tf.polarity == sf.polarity and tf.grade == sf.grade and tf.value == sf.value
                  and tf.value_max == sf.value_max):
                continue  # prose and fields say the same thing
            status, reason = compare(tf, s)
            if status == "contradicted":
                out.append(Conflict(tf.concept, tf.location, t.located(), sf, reason))
    return out
