"""Everything a study says, as Facts: its prose, its structured fields, and where the two disagree.

Structured facts come from the guideline engine (``echogpt.guidelines.grade_study``) plus one
``measurement`` fact per number; prose facts from ``echogpt.facts.extract_facts``. When prose and
structured fields disagree both are kept and the disagreement is listed in ``conflicts``.
Also owns how a claimed fact is compared with a piece of evidence (scales and tolerances).

    sf = study_facts(study); sf.conflicts
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from echogpt import units
from echogpt.fact_rules import lexicon, rules, segments_of, tolerance
from echogpt.facts import _fact, extract_facts
from echogpt.schemas import Fact, Measurements, Study, concept_vocabulary

Status = Literal["supported", "contradicted", "unsupported"]


class Evidence:
    """One fact of the study and the grades the lab profile accepts for it (worked out on first use)."""

    __slots__ = ("fact", "origin", "_accepted")

    def __init__(self, fact: Fact, accepted: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
                 origin: Literal["text", "structured", "prior"] = "structured") -> None:
        self.fact, self.origin, self._accepted = fact, origin, accepted

    @property
    def accepted(self) -> frozenset[str]:
        """Grades a report may use for this fact (``echogpt.guidelines.acceptable_grades``)."""
        if callable(self._accepted):
            self._accepted = self._accepted()
        return self._accepted

    def where(self) -> str:
        """Where the fact came from: a field path or the quoted findings text."""
        return self.fact.source or self.origin


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
    memo: dict[str, object] = field(default_factory=dict)  # per-study results reused across checks

    @property
    def facts(self) -> list[Fact]:
        """The facts alone."""
        return [e.fact for e in self.evidence]

    def about(self, concept: str, location: str | None = None) -> list[Evidence]:
        """Evidence for a concept whose location is compatible with ``location``."""
        return [e for e in self.by_concept.get(concept, []) if locations_compatible(
            concept, location, e.fact.location)]


def _measurement_facts(study: Study) -> list[Fact]:
    m = study.measurements
    out: list[Fact] = []
    if m is None:
        return out
    for name, value in m:
        if value is None or name == "septal_flattening":
            continue
        unit = units.spec(name).unit or None
        if name == "lvef":
            if value.low is None:
                continue
            out.append(_fact(concept="measurement", location="lvef", value=value.low, unit="%",
                             value_max=value.high if value.high != value.low else None,
                             source="measurements.lvef"))
        else:
            out.append(_fact(concept="measurement", location=name, value=value, unit=unit,
                             source=f"measurements.{name}"))
    if m.rvsp is None and m.tr_vmax is not None and m.rap is not None:
        # ASE10-RH: RVSP = 4 x TR Vmax^2 + RAP (mmHg)
        out.append(Fact(concept="measurement", location="rvsp", value=round(4 * m.tr_vmax ** 2 + m.rap),
                        unit="mmHg", source="measurements.tr_vmax+rap", rule="ASE10-RH:rvsp"))
    return out


def _with_prose_numbers(study: Study, text: list[Evidence]) -> Study:
    """The study with numbers read from its prose added where the measurements block lacks them."""
    have = study.measurements.model_dump(exclude_none=True) if study.measurements else {}
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
    try:
        merged = Measurements.model_validate({**have, **extra})
        return study.model_copy(update={"measurements": merged})
    except ValueError:
        return study


def _morphology(study: Study) -> list[Evidence]:
    out = []
    allowed = set(concept_vocabulary()["valve_morphology"]["grades"])
    for valve in ("aortic", "mitral", "tricuspid", "pulmonic"):
        vf = getattr(study.findings, valve, None) if study.findings else None
        for word in vf.morphology if vf else []:
            if word.lower() in allowed:
                f = Fact(concept="valve_morphology", location=valve, grade=word.lower(),
                         source=f"findings.{valve}.morphology")
                out.append(Evidence(f, frozenset(), "structured"))
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
        out.append(Evidence(fact, frozenset(), "structured"))
    return out


def _derived(evidence: list[Evidence]) -> list[Evidence]:
    out = []
    have = {(e.fact.concept, e.fact.location) for e in evidence}
    by_concept: dict[str, list[Evidence]] = {}
    for e in evidence:
        by_concept.setdefault(e.fact.concept, []).append(e)
    for d in rules().derived_facts:
        if (d.then["concept"], d.then.get("location")) in have:
            continue
        for e in by_concept.get(d.if_.get("concept", ""), []):
            big = d.min_value is None or (e.fact.value is not None and max(
                e.fact.value, e.fact.value_max or e.fact.value) >= d.min_value)
            same = all(getattr(e.fact, k) == v for k, v in d.if_.items())
            if same and e.fact.polarity == "present" and big:
                out.append(Evidence(Fact(source=d.source, **d.then), frozenset(), e.origin))
                have.add((d.then["concept"], d.then.get("location")))
                break
    return out


def _structured(study: Study, profile: str, text: list[Evidence] | None = None) -> list[Evidence]:
    from echogpt.guidelines import acceptable_grades, grade_study

    out = []
    graded = _with_prose_numbers(study, text or [])
    def bands(f: Fact) -> Callable[[], frozenset[str]]:
        def accepted() -> frozenset[str]:
            try:
                return frozenset(acceptable_grades(f, profile, study=graded))
            except Exception:  # noqa: BLE001 - a fact the bands do not cover: its own grade only
                return frozenset([f.grade] if f.grade else [])
        return accepted

    for f in grade_study(graded, profile):
        out.append(Evidence(f, bands(f), "structured"))
    out += [Evidence(f, frozenset(), "structured") for f in _measurement_facts(study)]
    return out + _morphology(study) + _other_findings(study)


def _about_prior(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences (or lines) of a findings text that describe the prior study."""
    cues = re.compile("|".join(rf"\b{re.escape(c)}\b" for c in rules().prior_sentence_cues), re.I)
    spans, start = [], 0
    for m in re.finditer(r"(?<!\d)\.(?!\d)|\n|$", text):
        if cues.search(text[start:m.end()]):
            spans.append((start, m.end()))
        start = m.end()
    return spans


def _text(study: Study) -> list[Evidence]:
    text = study.findings_text
    out = []
    prior = _about_prior(text)
    for f in extract_facts(text):
        if any(a <= (f.start or 0) < b for a, b in prior):
            continue  # what the prior study showed is not a finding of this one
        quote = text[f.start or 0:f.end or 0]
        fact = _fact(**{**f.__dict__, "source": f"findings_text: '{quote}'"})
        out.append(Evidence(fact, frozenset(), "text"))
    return out


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


_CACHE: dict[tuple[str, str, str], StudyFacts] = {}


def study_facts(study: Study, profile: str = "default") -> StudyFacts:
    """All facts of a study (cached by study id and content).

    Args:
        study: The study.
        profile: Lab profile name for the guideline engine.

    Returns:
        ``StudyFacts`` with evidence from prose, structured fields and (origin "prior") the prior.
    """
    digest = hashlib.blake2b(study.model_dump_json().encode(), digest_size=12).hexdigest()
    key = (study.study_id, digest, profile)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    text = _text(study)
    structured = _structured(study, profile, text)
    prior = _prior_study(study)
    prior_ev = []
    if prior is not None:
        ptext = _text(prior)
        prior_ev = [Evidence(e.fact, e._accepted, "prior")
                    for e in _structured(prior, profile, ptext) + ptext]
    derived = _derived(text + structured)
    sf = StudyFacts(study.study_id, text + structured + derived + prior_ev)
    for e in sf.evidence:
        if e.origin != "prior":
            sf.by_concept.setdefault(e.fact.concept, []).append(e)
    sf.conflicts = _conflicts(text, structured)
    if len(_CACHE) > 4096:
        _CACHE.clear()
    _CACHE[key] = sf
    return sf


def _conflicts(text: list[Evidence], structured: list[Evidence]) -> list[Conflict]:
    index: dict[tuple[str, str | None], list[Evidence]] = {}
    for s in structured:
        index.setdefault((s.fact.concept, s.fact.location), []).append(s)
    out = []
    for t in text:
        for s in index.get((t.fact.concept, t.fact.location), []):
            tf, sf = t.fact, s.fact
            status, reason = compare(tf, s)
            if status == "contradicted":
                out.append(Conflict(tf.concept, tf.location, tf, sf, reason))
    return out


# ---------------------------------------------------------------- comparing a claim with evidence


def locations_compatible(concept: str, claimed: str | None, stated: str | None) -> bool:
    """Whether a claimed location can refer to the same thing as a stated one (None: any)."""
    if claimed is None or stated is None or claimed == stated:
        return True
    if concept == "wall_motion":
        return bool(segments_of(claimed) & segments_of(stated))
    if concept in ("thrombus", "mass", "vegetation", "abscess", "shunt", "prosthetic_valve"):
        return "heart" in (claimed, stated) or {claimed, stated} == {"la", "laa"}
    if concept == "aortic_dilation":
        return "aorta" in (claimed, stated)
    return False


def interval(fact: Fact) -> tuple[float, float] | None:
    """Ordinal position of a fact's grade on its concept's scale (absent sits at 0)."""
    scale = lexicon().scale_of.get(fact.concept)
    if scale is None:
        return None
    if fact.polarity == "absent":
        return (0.0, 1.0) if fact.rule == "no-significant" else (0.0, 0.0)
    if fact.grade is None:
        return None
    if fact.grade == "none":
        return (0.0, 0.0)
    return scale.get(fact.grade)


def _word(f: Fact) -> str:
    what = f.concept.replace("_", " ")
    where = f" ({f.location.replace('_', ' ')})" if f.location else ""
    if f.polarity == "absent":
        return f"no {what}{where}"
    grade = f"{f.grade.replace('_', ' ')} " if f.grade else ""
    return f"{'possible ' if f.polarity == 'uncertain' else ''}{grade}{what}{where}"


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] + 1e-9 and b[0] <= a[1] + 1e-9


def compare_number(claim: Fact, ev: Fact) -> tuple[Status, str]:
    """A stated number (or range) against the study's, within the field's tolerance.

    Args:
        claim: A ``measurement`` fact of the impression.
        ev: The study's ``measurement`` fact for the same field.

    Returns:
        ("supported" | "contradicted", reason): supported when the two ranges are no further apart
        than the tolerance (``fact_rules.json`` tolerances).
    """
    name = claim.location or ""
    a = (claim.value or 0.0, claim.value_max if claim.value_max is not None else claim.value or 0.0)
    b = (ev.value or 0.0, ev.value_max if ev.value_max is not None else ev.value or 0.0)
    gap = max(0.0, b[0] - a[1], a[0] - b[1])
    tol = tolerance(name, max(abs(b[0]), abs(b[1])))
    label = units.spec(name).label
    shown = f"{b[0]:g}" + (f"-{b[1]:g}" if b[1] != b[0] else "")
    if gap <= tol + 1e-9:
        return "supported", f"{label} matches the study ({shown} {ev.unit or ''})".replace(" )", ")")
    return "contradicted", (f"{label} {a[0]:g}{'-' + format(a[1], 'g') if a[1] != a[0] else ''} is "
                            f"outside ±{tol:g} of the study's {shown} {ev.unit or ''}".strip())


def compare(claim: Fact, ev: Evidence) -> tuple[Status, str]:
    """A claimed fact against one piece of evidence about the same concept and location.

    Args:
        claim: A fact of the impression.
        ev: Evidence of the study (its fact and the grades the lab profile accepts for it).

    Returns:
        (status, reason): grades are compared on the concept's scale (overlapping intervals are
        compatible), a grade the profile accepts is supported, polarity flips are contradicted,
        a severity word against an ungraded finding is unsupported.
    """
    f = ev.fact
    if claim.concept == "measurement":
        return compare_number(claim, f)
    if claim.polarity == "uncertain":
        if f.polarity == "absent":
            return "unsupported", f"the study states {_word(f)}"
        return "supported", f"the study reports {_word(f)}"
    if f.polarity == "uncertain":
        if claim.polarity == "present":
            return "unsupported", f"the study only suggests {_word(f)}"
        return "supported", "the study does not confirm it"
    ci, scale = interval(claim), lexicon().scale_of.get(claim.concept)
    if claim.value is not None and f.value is not None and claim.polarity == f.polarity == "present":
        # lesion size (cm): the largest stated dimension against the study's, length tolerance
        big = claim.value_max if claim.value_max is not None else claim.value
        tol = rules().tolerances.dimensions["length"].abs
        if abs(big - (f.value_max if f.value_max is not None else f.value)) > tol + 1e-9:
            return "contradicted", f"the study gives {_word(f)} of {f.value:g} cm"
    if scale is None:
        if claim.polarity != f.polarity:
            return "contradicted", f"the study states {_word(f)}"
        if claim.grade and f.grade and claim.grade != f.grade and claim.grade not in ev.accepted:
            return "contradicted", f"the study states {_word(f)}"
        if claim.grade and not f.grade and claim.polarity == "present":
            return "unsupported", f"the study gives no grade for {claim.concept.replace('_', ' ')}"
        return "supported", f"the study states {_word(f)}"
    coarse = {"dilated", "reduced", "increased", "elevated", "abnormal"}
    if f.grade in coarse and ev.accepted:  # "dilated" from a measured value: its specific bands
        stated = [scale[g] for g in ev.accepted if g in scale and g not in coarse]
    else:
        stated = [iv for iv in [interval(f)] if iv is not None]
    if (claim.polarity == "present" and claim.grade in ev.accepted) or (
            claim.polarity == "absent" and "none" in ev.accepted):
        return "supported", f"the lab profile accepts it for {_word(f)}"
    if f.grade == "indeterminate" and claim.grade not in (None, "indeterminate"):
        return "unsupported", f"the study could not grade {claim.concept.replace('_', ' ')}"
    presence = claim.concept in rules().ungraded_means_abnormal
    if f.polarity == "present" and f.grade is None and not presence:
        return "supported", f"the study mentions {_word(f)} without a grade"
    if ci is None:  # present, no grade: contradicted by a normal or absent finding
        if presence and stated and all(iv[1] <= 0.5 and iv[0] >= 0 for iv in stated):
            return "contradicted", f"the study states {_word(f)}"
        return "supported", f"the study reports {_word(f)}"
    if not stated:
        if claim.polarity == "absent" or ci == (0.0, 0.0):
            return "contradicted", f"the study reports {_word(f)}"
        return "unsupported", f"the study gives no grade for {_word(f)}"
    if any(_overlap(ci, iv) for iv in stated):
        return "supported", f"the study states {_word(f)}"
    return "contradicted", f"the study states {_word(f)}"


def is_stated(e: Evidence) -> bool:
    """Evidence a reader wrote (prose or a stated findings field), not graded from a number."""
    return e.origin == "text" or (e.fact.source or "").startswith("findings.")


def is_normal_claim(claim: Fact) -> bool:
    """An absent finding or a normal grade (what findings often leave unsaid)."""
    return claim.polarity == "absent" or interval(claim) == (0.0, 0.0)


def abnormal(e: Evidence) -> bool:
    """Whether a piece of evidence is an abnormal finding (for "normal study" claims)."""
    f = e.fact
    if f.concept in ("measurement", "image_quality", "normal_study") or f.polarity != "present":
        return False
    iv = interval(f)
    if iv is None:
        return f.concept in ("thrombus", "vegetation", "abscess", "mass", "tamponade", "shunt",
                             "aortic_dissection", "lvot_obstruction", "sam", "prosthetic_valve") \
            and f.grade in (None, "dysfunction", "stenosis", "regurgitation", "dehiscence", "thrombosis")
    allow = rules().normal_study_allows.get(f.concept, 0.0)
    return iv[0] > allow or iv[1] < 0
