"""Evidence and comparison: how a claimed fact is judged against one fact of the study.

Grades are compared on each concept's ordinal scale (``fact_rules.json`` scales), numbers within
the field's tolerance, locations by site (wall-motion segments overlap by the 17-segment model);
a grade the lab profile accepts (``echogpt.guidelines.acceptance.acceptable_grades``) is supported.

    status, reason = compare(claim, Evidence(study_fact))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from echogpt import units
from echogpt.checker.lexicon import lexicon, segments_of
from echogpt.checker.rules import rules, tolerance
from echogpt.checker.tokens import relocated
from echogpt.schemas import Fact

Status = Literal["supported", "contradicted", "unsupported", "not_checked"]
NO_GRADES: frozenset[str] = frozenset()  # one shared empty set: a study holds hundreds of facts


class Evidence:
    """One fact of the study and the grades the lab profile accepts for it (worked out on first use).

    ``fact`` holds what the study says (concept, location, grade, value). A fact read from the
    findings prose keeps the spans of its sentence, shared by every study with that sentence, and
    ``shift`` (the sentence's offset, the prose); ``located()`` makes the fact with spans and quote
    in the whole text when one is needed (a quoted reason, a conflict), which is rarely.
    """

    __slots__ = ("fact", "origin", "_accepted", "_shift", "_located")

    def __init__(self, fact: Fact, accepted: frozenset[str] | Callable[[Fact], frozenset[str]] = NO_GRADES,
                 origin: Literal["text", "structured", "prior"] = "structured",
                 shift: tuple[int, str] | None = None) -> None:
        self.fact, self.origin, self._accepted, self._shift = fact, origin, accepted, shift
        self._located: Fact | None = None

    @property
    def accepted(self) -> frozenset[str]:
        """Grades a report may use for this fact (``echogpt.guidelines.acceptance.acceptable_grades``).

        ``accepted`` may be given as a function of the fact, shared by a study's facts and called once
        per fact on first use (most facts are never asked).
        """
        if callable(self._accepted):
            self._accepted = self._accepted(self.fact)
        return self._accepted

    @property
    def start(self) -> int:
        """The fact's span start in its source text."""
        return (self.fact.start or 0) + (self._shift[0] if self._shift else 0)

    def located(self) -> Fact:
        """The fact with its spans in the whole source text and, for prose, the quoted words."""
        if self._shift is None:
            return self.fact
        if self._located is None:
            offset, text = self._shift
            start, end = (self.fact.start or 0) + offset, (self.fact.end or 0) + offset
            self._located = relocated(self.fact, start, end, f"findings_text: '{text[start:end]}'")
        return self._located

    def where(self) -> str:
        """Where the fact came from: a field path or the quoted findings text (``located().source``,
        worded without making the located fact)."""
        if self._shift is None or self._located is not None:
            return _with_value(self.located()) or self.located().source or self.origin
        offset, text = self._shift
        return f"findings_text: '{text[(self.fact.start or 0) + offset:(self.fact.end or 0) + offset]}'"


def _with_value(f: Fact) -> str | None:
    """A structured measurement as the study gives it: "LVEF 35 % (measurements.lvef)"; None for
    any other fact, and for a fact graded from a field whose value is not the field's (the RAP of
    an IVC diameter)."""
    source = f.source or ""
    field = source.removeprefix("measurements.")
    if f.value is None or not source.startswith("measurements.") or field not in units.table().fields:
        return None
    unit = units.spec(field).unit
    if f.concept != "measurement" and (f.unit or "") != (unit or ""):
        return None
    value = f"{f.value:g}" + (f"-{f.value_max:g}" if f.value_max is not None else "")
    return f"{units.spec(field).label} {value}{' ' + unit if unit else ''} ({f.source})"


# concepts whose different location names can still refer to the same place
LOCATION_OVERLAPS = frozenset({"wall_motion", "thrombus", "mass", "vegetation", "abscess", "shunt",
                               "prosthetic_valve", "aortic_dilation"})


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


def _number_gap(claim: Fact, ev: Fact) -> tuple[tuple[float, float], tuple[float, float], float, float]:
    """Both ranges, the gap between them and the field's tolerance."""
    a = (claim.value or 0.0, claim.value_max if claim.value_max is not None else claim.value or 0.0)
    b = (ev.value or 0.0, ev.value_max if ev.value_max is not None else ev.value or 0.0)
    gap = max(0.0, b[0] - a[1], a[0] - b[1])
    return a, b, gap, tolerance(claim.location or "", max(abs(b[0]), abs(b[1])))


def numbers_agree(claim: Fact, ev: Fact) -> bool:
    """Whether ``compare_number`` supports the claim (without wording a reason)."""
    v, v_max = claim.value, claim.value_max
    if v is not None and v == ev.value and v_max == ev.value_max and (v_max is None or v_max >= v):
        return True  # the same number or range: no gap, and tolerances are never negative
    _, _, gap, tol = _number_gap(claim, ev)
    return gap <= tol + 1e-9


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
    a, b, gap, tol = _number_gap(claim, ev)
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
        a severity word against a finding whose grade is not read is not_checked (the study names the
        subject; unsupported is for a study silent about it).
    """
    f = ev.fact
    if claim.concept == "measurement":
        return compare_number(claim, f)
    if claim.polarity == "uncertain" or f.polarity == "uncertain":
        return _compare_uncertain(claim, f)
    if claim.value is not None and f.value is not None and claim.polarity == f.polarity == "present":
        # lesion size (cm): the largest stated dimension against the study's, length tolerance
        big = claim.value_max if claim.value_max is not None else claim.value
        tol = rules().tolerances.dimensions["length"].abs
        if abs(big - (f.value_max if f.value_max is not None else f.value)) > tol + 1e-9:
            return "contradicted", f"the study gives {_word(f)} of {f.value:g} cm"
    scale = lexicon().scale_of.get(claim.concept)
    if scale is None:
        return _compare_unscaled(claim, ev)
    return _compare_on_scale(claim, ev, scale)


def _compare_uncertain(claim: Fact, f: Fact) -> tuple[Status, str]:
    """A possible finding on either side: a hedge is supported unless the study rules it out."""
    if claim.polarity == "uncertain":
        if f.polarity == "absent":  # "no abscess seen" does not rule out "abscess cannot be excluded":
            # what the images could not show is not read (ESC 2023 endocarditis: a negative TTE does not
            # exclude an abscess or a vegetation)
            return "not_checked", f"the study states {_word(f)}; whether it can be excluded is not checked"
        return "supported", f"the study reports {_word(f)}"
    if claim.polarity == "present" and claim.grade == "indeterminate":
        # "diastolic function not assessable" against "diastolic function not assessed": both say it
        # was not graded
        return "supported", f"the study did not assess {f.concept.replace('_', ' ')}"
    if claim.polarity == "present":
        return "unsupported", f"the study only suggests {_word(f)}"
    return "supported", "the study does not confirm it"


def _compare_unscaled(claim: Fact, ev: Evidence) -> tuple[Status, str]:
    """A concept without an ordinal scale: polarity, then the grade named as such."""
    f = ev.fact
    # "no prosthesis thrombosis" denies the grade, not the valve
    if claim.polarity == "absent" and claim.grade:
        if f.polarity == "present" and f.grade == claim.grade:
            return "contradicted", f"the study states {_word(f)}"
        return "supported", f"the study states {_word(f)}"
    # "TAVI: ..., no reduced leaflet motion", "annuloplasty ring, no dehiscence": the study denies the
    # grade, not the valve
    if f.polarity == "absent" and f.grade and claim.polarity == "present":
        if claim.grade == f.grade:
            return "contradicted", f"the study states no {f.grade.replace('_', ' ')} {_word(f)[3:]}"
        return "supported", f"the study states {_word(f)[3:]} without {f.grade.replace('_', ' ')}"
    if claim.polarity != f.polarity:
        return "contradicted", f"the study states {_word(f)}"
    if claim.grade and f.grade and claim.grade != f.grade and claim.grade not in ev.accepted:
        return "contradicted", f"the study states {_word(f)}"
    if claim.grade and not f.grade and claim.polarity == "present":  # named, its grade not read
        return "not_checked", f"the study gives no grade the checker reads for {_word(f)}"
    return "supported", f"the study states {_word(f)}"


def _compare_on_scale(claim: Fact, ev: Evidence, scale: dict[str, tuple[float, float]]) -> tuple[Status, str]:
    """Grades as intervals on the concept's scale; the lab profile's accepted grades count too."""
    f = ev.fact
    denied, said = scale.get(claim.grade or "") if claim.polarity == "absent" else None, interval(f)
    if denied is not None and denied[0] > 0 and said is not None:
        # "no severe AS", "no apical aneurysm": denies that grade and worse, not a milder one
        if f.polarity == "present" and said[0] >= denied[0]:
            return "contradicted", f"the study states {_word(f)}"
        return "supported", f"the study states {_word(f)}, not {(claim.grade or '').replace('_', ' ')}"
    if denied is not None and said is not None and f.polarity == "present" and said[1] >= denied[1] > 0:
        # "no trace AR", "no aortic sclerosis": denies even the grade below significance that the
        # study states ("No AR" beside trace AR stays supported: it names no grade)
        return "contradicted", f"the study states {_word(f)}"
    ci = interval(claim)
    coarse = {"dilated", "reduced", "increased", "elevated", "abnormal"}
    if f.grade in coarse and ev.accepted:  # "dilated" from a measured value: its specific bands
        stated = [scale[g] for g in ev.accepted if g in scale and g not in coarse]
    else:
        stated = [iv for iv in [interval(f)] if iv is not None]
        if ci is not None and stated and f.grade != "indeterminate" and _overlap(ci, stated[0]):
            return "supported", f"the study states {_word(f)}"  # agreement needs no bands
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
        if claim.polarity == "absent" and ci[1] > 0:  # "no significant TR" against an ungraded "TR"
            return "not_checked", f"the study gives no grade the checker reads for {_word(f)}"
        if claim.polarity == "absent" or ci == (0.0, 0.0):
            return "contradicted", f"the study reports {_word(f)}"
        return "not_checked", f"the study gives no grade the checker reads for {_word(f)}"
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
