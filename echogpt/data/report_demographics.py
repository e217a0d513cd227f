"""The patient's sex, age and body size as report headers write them in prose: "Male, 64.", "F, 38 y",
"52-year-old man", "64 yo F", "Patient: 81F", "BSA 1.82 m2", "Ht 164 cm  Wt 70 kg", several on one
line between runs of spaces, "|" or "::".

Only the report's header block is read (the lines down to the first blank line after the patient
number and date, ``report_identity``), never the findings, an earlier study's line or the other
numbers of the history ("G2P2", "3 episodes", "BP 168/88"). Sex and age are read only in a clear form
that opens a field of the line; BSA, height and weight only after their label and with their unit.

    prose_demographics("MRN 4471902  Date: 2026-11-30\\nMale, 54 y    BSA 1.95 m2", sections)
    # {"patient.sex": "male", "patient.age": "54", "patient.bsa_m2": "1.95"}
"""

from __future__ import annotations

import re

from echogpt.data.report_identity import HEADER_LINES, labelled_date, labelled_patient_id
from echogpt.data.report_sections import Section, prior_label, section_table

# fields of a header line: "|", "::", a tab, two spaces or more, " - ", " — ", " / " (not in "38 Y / M"),
# ";" and the end of a sentence ("... NT-proBNP. M, 81")
_FIELD = re.compile(r"\s*(?:\||::)\s*|\t+|\s{2,}|\s[-–—]\s|\s/\s(?!(?i:m|f|male|female)\s*(?:$|\s\s|\|))|"
                    r";\s*|(?<=[A-Za-z0-9)]\.)\s+(?=[A-Z0-9])")
# what may stand before the form: "Patient: M, 63", "Pt: 63M", "Clinical history: 54 year old man",
# "Patient is an 81 year old female"
_LABEL = (r"(?i:(?:(?:patient|pt|(?:clinical\s+)?history|hx|indication|age\s*/\s*sex)\.?\s*[:.]?\s*)|"
          r"patient\s+is\s+an?\s+)?")
_SEX = r"(?:male|female|man|woman|gentleman|lady|m|f)"
# "J." (Jahre), "años", "ans", "anni": the age in translated German, Spanish, French and Italian reports
_YEARS = r"(?:(?:years?|yrs?)[- ]old|years?|yrs?|yo|y/o|y|j|jahre|años|anos|ans|anni)"
# where the age ends: the field, a comma, a full stop, a bracket; "Female, 3 episodes" is no age
_END = r"(?=\s*(?:$|[,.;:()]))"
# "Male, 64", "F, 38 y", "M 52", "Patient: male, 28 y", "M 61y", "Man of 61 years" (translated)
_SEX_AGE = re.compile(rf"^{_LABEL}(?P<sex>{_SEX})\b\.?,?\s*(?:of\s+)?(?P<age>\d{{1,3}})"
                      rf"(?:\s*{_YEARS}\b\.?)?{_END}",
                      re.IGNORECASE)
# "52-year-old man", "64 yo F", "28 yo female", "59 yo man", "45 Y/F"
_AGE_SEX = re.compile(rf"^{_LABEL}(?P<age>\d{{1,3}})\s*-?\s*{_YEARS}\b\.?,?\s*/?\s*"
                      rf"(?P<sex>{_SEX})\b", re.IGNORECASE)
# "81F", "66M", "57 M": capitals only, the age first
_AGE_LETTER = re.compile(rf"^{_LABEL}(?P<age>\d{{2,3}})\s?(?P<sex>[MF]){_END}")
# "RAMIREZ, ELENA 68F", "Pt: KOVACS, ISTVAN, 63M": the compact form after a name, anywhere in a field
_AGE_LETTER_AFTER_NAME = re.compile(r"(?<![\w/.-])(?P<age>\d{2,3})(?P<sex>[MF])(?![\w/-])")
# "52-year-old" with no sex beside it
_YEAR_OLD = re.compile(r"^(?P<age>\d{1,3})\s*-?\s*(?:(?:years?|yrs?)[- ]old|yo|y/o)\b", re.IGNORECASE)
# "Sex: F", "Age: 34" written as fields of a line that is no header section ("MRN 5520193   Sex: F")
_LABELLED_SEX = re.compile(r"^(?:sex|gender)\s*[:=]?\s*(?P<sex>male|female|m|f)\b", re.IGNORECASE)
_LABELLED_AGE = re.compile(rf"^age\s*[:=]?\s*(?P<age>\d{{1,3}})(?:\s*{_YEARS}\b\.?)?{_END}", re.IGNORECASE)
# "BSA 1.82 m2", "BSA: 1.95 m²", "bsa 1.62": a number with m2, m² or no unit after the label; "SC 1.92 m2",
# "SC (body surface) 1.71 m2": the Spanish, French and Italian label (superficie corporal / corporelle),
# with its unit
_BSA = re.compile(r"\b(?:BSA|SC(?=[^\n]{0,40}?\d\s*(?:m2|m²)))(?:\s*\([a-z ]{1,30}\))?\s*[:=]?\s*"
                  r"(?P<v>\d{1,2}(?:\.\d{1,3})?)\s*(?:m2|m²|m\^2|sq\.?\s*m)?(?![\w/²^]|[.,]\d)",
                  re.IGNORECASE)
_HEIGHT = re.compile(r"\b(?:ht|height)\s*[:=]?\s*(?P<v>\d{1,3}(?:\.\d{1,2})?\s*(?:cm|m|in)\b)", re.IGNORECASE)
_WEIGHT = re.compile(r"\b(?:wt|weight)\s*[:=]?\s*(?P<v>\d{1,3}(?:\.\d)?\s*(?:kg|lbs?)\b)", re.IGNORECASE)
# a field opening with the patient's sex in full and going on with something else than an age
_SEX_FIRST = re.compile(r"^(?:patient\s*:\s*)?(?P<sex>male|female)\s*[,.]\s*(?!\d)", re.IGNORECASE)
_SEX_WORD = {"male": "male", "man": "male", "gentleman": "male", "m": "male",
             "female": "female", "woman": "female", "lady": "female", "f": "female"}
# sections whose lines never hold the patient's header: an earlier study, the summary, the plan
_NOT_HEADER = ("comparison", "impression", "recommendations", "closing")


def header_block(text: str, sections: list[Section]) -> list[str]:
    """The lines of the report's header block: from the top down to the first blank line after the
    last line naming the patient number or the date (the first paragraph when none does), at most
    HEADER_LINES; lines of an earlier study, of the summary and of headed findings sections left out."""
    lines = text.split("\n")[:HEADER_LINES]
    kinds = section_table().findings_kinds
    kind_of: dict[int, Section] = {}
    for s in sections:
        for number, _ in s.rows:
            kind_of.setdefault(number, s)
    identity = [i for i, line in enumerate(lines) if labelled_patient_id(line) or labelled_date(line)
                or (kind_of.get(i + 1) is not None and kind_of[i + 1].kind == "header")]
    start = identity[-1] if identity else next((i for i, line in enumerate(lines) if line.strip()), 0)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    out = []
    for i, line in enumerate(lines[:end]):
        s = kind_of.get(i + 1)
        if s is not None and (s.kind in _NOT_HEADER or (s.kind in kinds and s.heading)):
            continue
        if prior_label().match(line.strip()):
            continue
        out.append(line)
    return out


def _sex_age(field: str) -> dict[str, str]:
    for pattern in (_SEX_AGE, _AGE_SEX, _AGE_LETTER, _AGE_LETTER_AFTER_NAME):
        m = pattern.match(field) if pattern is not _AGE_LETTER_AFTER_NAME else pattern.search(field)
        if m:
            return {"patient.sex": _SEX_WORD[m.group("sex").lower()], "patient.age": m.group("age")}
    if field.lower().rstrip(".,") in ("male", "female", "m", "f"):  # "Age 24 yrs   Male   Reg. No."
        return {"patient.sex": _SEX_WORD[field.lower().rstrip(".,")]}
    m = _SEX_FIRST.match(field)
    if m:  # "Female, BSA 1.72 m2, SR."
        return {"patient.sex": _SEX_WORD[m.group("sex").lower()]}
    m = _LABELLED_SEX.match(field)
    if m:
        return {"patient.sex": _SEX_WORD[m.group("sex").lower()]}
    m = _YEAR_OLD.match(field) or _LABELLED_AGE.match(field)
    return {"patient.age": m.group("age")} if m else {}


def prose_demographics(text: str, sections: list[Section]) -> dict[str, str]:
    """Sex, age, BSA, height and weight written in prose in the report's header block, as Study field
    path -> raw text; the first value of a field wins.

    Args:
        text: the whole report (key = value lines already written as labels).
        sections: its sections (``split_sections``), to leave out earlier-study and findings lines.

    Returns:
        The fields read; values are checked later by the Study model, which names a value out of range.
    """
    out: dict[str, str] = {}
    for line in header_block(text, sections):
        for field in _FIELD.split(line.strip()):
            for key, value in _sex_age(field.strip()).items():
                out.setdefault(key, value)
        for key, pattern in (("patient.bsa_m2", _BSA), ("patient.height_cm", _HEIGHT),
                             ("patient.weight_kg", _WEIGHT)):
            m = pattern.search(line)
            if m:
                out.setdefault(key, m.group("v"))
    return out
