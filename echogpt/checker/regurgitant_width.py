"""A valve's regurgitation graded from the vena contracta the findings give ("TR: VC 0.8 cm" is severe
TR, ASE 2017 valvular regurgitation), for a study whose findings grade that regurgitation in no words
of their own. Only the ends of the scale are graded (mild below, severe from the thresholds in
``fact_rules.json`` ``vena_contracta``); a width between them grades nothing alone.

    facts = width_grades("Tricuspid valve: coaptation gap. TR: VC 0.8 cm.")   # severe TR
    extra = width_evidence(findings_text, evidence)   # only where nothing else grades it
"""

from __future__ import annotations

import re

from echogpt.checker.compare import NO_GRADES, Evidence
from echogpt.checker.rules import rules
from echogpt.schemas import Fact

# "VC 0.8 cm", "vena contracta 0.45 cm", "vena contracta: 6 mm"
_WIDTH = re.compile(r"\b(?:vena contracta|VC)(?:\s+width)?\s*(?:of|:|=)?\s*(\d+(?:\.\d+)?)\s*(cm|mm)\b",
                    re.IGNORECASE)
# the valve a line names last before the width: "Mitral valve: ... MR ...", "TR: ..."
_VALVE = re.compile(r"\b(?:(?P<mitral>mitral|MR|MV)|(?P<tricuspid>tricuspid|TR|TV)|"
                    r"(?P<aortic>aortic|AR|AI))\b", re.IGNORECASE)


def _grade(valve: str, cm: float) -> str | None:
    limits = rules().vena_contracta.get(valve)
    if not isinstance(limits, dict):
        return None
    if cm < limits["mild_below"]:
        return "mild"
    severe = cm > limits["severe_above"] if "severe_above" in limits else cm >= limits["severe_from"]
    return "severe" if severe and cm < limits.get("severe_below", 99) else None


def width_grades(findings: str) -> list[Fact]:
    """The regurgitation grade each vena contracta of the findings gives, with its span; lines about
    an earlier study ("Comparison with prior study: ...") give none."""
    out: list[Fact] = []
    at = 0
    for line in findings.splitlines(keepends=True):
        if not line.startswith("Comparison with prior study"):
            for m in _WIDTH.finditer(line):
                valves = list(_VALVE.finditer(line, 0, m.start()))
                if not valves:
                    continue
                valve = valves[-1].lastgroup or ""
                cm = float(m.group(1)) / (10 if m.group(2).lower() == "mm" else 1)
                grade = _grade(valve, cm)
                if grade:
                    out.append(Fact(concept="valve_regurgitation", location=valve, grade=grade,
                                    source="findings_text", start=at + m.start(), end=at + m.end(),
                                    rule="ASE17-VR vena contracta"))
        at += len(line)
    return out


def width_evidence(findings: str, evidence: list[Evidence]) -> list[Evidence]:
    """The grades ``width_grades`` reads, as evidence, at the valves nothing in ``evidence`` grades."""
    graded = {e.fact.location for e in evidence if e.fact.concept == "valve_regurgitation" and e.fact.grade}
    return [Evidence(f, NO_GRADES, "text", (0, findings)) for f in width_grades(findings)
            if f.location not in graded]
