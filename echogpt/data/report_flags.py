"""The Study's flags read from a free-text echo report: a bubble study (``agitated_saline``), an
ultrasound-enhancing agent (``contrast``), left bundle branch block (``lbbb``), mechanical
ventilation (``ventilated``) and the rhythm a labelled line states (``rhythm``).

The words are data (``resources/report_flags.json``); the bubble-study words stay here, beside their use.

    flags = study_flags(sections); flags["contrast"], flags["lbbb"]
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from echogpt.data.report_sections import Section
from echogpt.schemas import Rhythm

# a bubble study done: "agitated saline", "bubble study with 2 injections", "contrast-saline study"
_SALINE = (r"(?:agitated[- ]saline|bubbles? (?:stud(?:y|ies)|contrast|test|injections?)|saline[- ]contrast|"
           r"contrast[- ]saline)")
# one not done: "Agitated saline: not performed.", "no bubble study", "No contrast or agitated saline.",
# and a Yes/No tick box answered No ("Agitated saline: absent")
_NO_SALINE = re.compile(rf"\bno (?:\w+ (?:or|nor|and) )?{_SALINE}|{_SALINE}[^.]{{0,20}}\b"
                        r"(?:not (?:performed|done|given)|declined|deferred)|"
                        rf"{_SALINE}\s*:\s*(?:absent|no|none)\b(?!\s*\w)")
# its result, which only a study done has: "Bubble: late appearance of bubbles in LA", "no bubbles crossed",
# "microbubbles appear in the left atrium"
_SALINE_RESULT = re.compile(r"\bbubbles?\s*:\s*\w|"
                            r"\b(?:micro)?bubbles? (?:\w+ )?(?:in|into|across|cross\w*|seen|appear\w*)\b|"
                            r"\b(?:appearance|passage|crossing) of (?:micro)?bubbles")
# sections that say nothing of how this study was done: the reason, the history, the summary and plan,
# an earlier study
_NOT_THIS_STUDY = ("indication", "history", "impression", "recommendations", "closing", "comparison")


class FlagWords(BaseModel):
    """``report_flags.json``: the patterns that set the contrast and LBBB flags."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    contrast: list[str] = Field(description="an ultrasound-enhancing agent named or used")
    contrast_label: str = Field(description="a 'Contrast:' label with text after it")
    contrast_not_given: str = Field(description="a mention that no agent was given")
    saline: str = Field(description="agitated saline, which is no enhancing agent")
    lbbb: str = Field(description="left bundle branch block")
    rhythm_line: str = Field(description="words of a line about the rhythm or ECG")
    negated: str = Field(description="a mention that says LBBB is absent")
    lbbb_stated: str = Field(description="LBBB stated as this study's: the ECG or rhythm word after it, "
                                         "or the septal motion it explains")
    ventilated: str = Field(description="the patient mechanically ventilated at the study")
    ventilated_negated: str = Field(description="a mention that says the patient is not ventilated")
    rhythm_label: str = Field(description="a line that states the rhythm at the study ('Rhythm: AF')")
    rhythms: dict[Rhythm, str] = Field(description="each rhythm's words (Study.rhythm values)")


@cache
def flag_words() -> FlagWords:
    """The validated flag patterns."""
    text = resources.files("echogpt.resources").joinpath("report_flags.json").read_text("utf-8")
    return FlagWords.model_validate(json.loads(text))


@cache
def _pattern(key: str) -> re.Pattern[str]:
    value = getattr(flag_words(), key)
    text = "|".join(f"(?:{p})" for p in value) if isinstance(value, list) else value
    return re.compile(text, re.IGNORECASE)


def bubble_study(texts: list[str]) -> bool:
    """Whether the findings or the account of the study say that agitated saline was given, or give
    its result; a mention that says it was not ("Agitated saline: not performed.") does not count.

    Example: "bubble study with 2 injections at rest: no bubbles crossed" -> True."""
    blob = " ".join(texts).lower()
    given = re.search(_SALINE, _NO_SALINE.sub(" ", blob)) is not None
    return given or _SALINE_RESULT.search(blob) is not None


def _lines(sections: list[Section]) -> list[str]:
    """The lines that may say how this study was done; the first of a section with its label
    ("Rhythm: ...")."""
    out = []
    for s in sections:
        if s.kind in _NOT_THIS_STUDY:
            continue
        lines = [line for line in s.lines if line.strip()] or [""]
        out += [f"{s.heading}: {lines[0]}" if s.heading else lines[0], *lines[1:]]
    return out


def _contrast(line: str) -> bool:
    """An enhancing agent given: "Contrast: Definity 1.3 mL IV", "SonoVue for LV opacification"; not
    "Contrast: none" or "Contrast: agitated saline"."""
    if _pattern("contrast_not_given").search(line):
        return False
    if _pattern("contrast").search(line):
        return True
    return _pattern("contrast_label").match(line) is not None and not _pattern("saline").search(line)


def _lbbb(line: str) -> bool:
    """LBBB where the rhythm is described, after the rhythm words of its sentence: "Rhythm: Sinus rhythm
    with LBBB", "ECG: SR, LBBB"; not "sinus rhythm, no LBBB" nor the history "CRT for LBBB."."""
    for sentence in re.split(r"(?<=[.;])\s+", line):
        m = _pattern("lbbb").search(sentence)
        stated = m and (_pattern("rhythm_line").search(sentence[:m.start()])
                        or _pattern("lbbb_stated").search(sentence))
        if stated and not _pattern("negated").search(sentence):
            return True
    return False


# sections that say nothing of the patient's state at this study: the summary and plan, an earlier study
_NOT_THIS_STATE = ("impression", "recommendations", "closing", "comparison", "letter")


def _ventilated(sections: list[Section]) -> bool:
    """Mechanically ventilated at the study: "intubated and ventilated", "IVC not used for RAP
    (ventilated)", in the findings, the reason or the history; not "SpO2 88 % (not ventilated)"."""
    for s in sections:
        if s.kind in _NOT_THIS_STATE:
            continue
        for sentence in re.split(r"(?<=[.;])\s+|\n", s.text):
            said = _pattern("ventilated").search(sentence)
            if said and not _pattern("ventilated_negated").search(sentence):
                return True
    return False


# a rhythm word denied: "sinus rhythm, no AF", "not paced"
_DENIED = re.compile(r"\b(?:no|not|without|nor)\s+(?:\w+\s+)?$", re.IGNORECASE)


def _rhythm(lines: list[str]) -> str | None:
    """The rhythm the first labelled rhythm line names first: "Rhythm: AF with controlled rate" ->
    atrial-fibrillation; "ECG: sinus rhythm, no AF" -> sinus; None where no line states one."""
    for line in lines:
        label = _pattern("rhythm_label").search(line)
        if label is None:
            continue
        said = line[label.end():]
        found = [(m.start(), rhythm.value) for rhythm, pattern in flag_words().rhythms.items()
                 for m in re.finditer(pattern, said, re.IGNORECASE) if not _DENIED.search(said[:m.start()])]
        if found:
            return min(found)[1]
    return None


def study_flags(sections: list[Section]) -> dict[str, bool | str | None]:
    """The contrast and LBBB flags of a report cut into sections (``split_sections``).

    Args:
        sections: the report's sections; the indication, history, impression, plan and earlier
            studies are not read.

    Returns:
        {"contrast": ..., "lbbb": ..., "ventilated": ..., "rhythm": ...}; ventilation is read in the
        reason and history too; the rhythm is a Study.rhythm value or None.
    """
    lines = _lines(sections)
    return {"contrast": any(map(_contrast, lines)), "lbbb": any(map(_lbbb, lines)),
            "ventilated": _ventilated(sections), "rhythm": _rhythm(lines)}
