"""The study type and header fields of one free-text echo report, read from its sections.

    header_fields(split_sections(text)); detect_study_type(sections, title="tee_01.txt")
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.data.report_measurements import norm
from echogpt.data.report_sections import Section, section_table


@cache
def _not_done() -> re.Pattern[str]:
    """Mentions of a TEE that was not this study ("TOE not performed", "TOE this week", "consider TEE")."""
    patterns = section_table().study_types.get("not_done", [])
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)", re.IGNORECASE)


def detect_study_type(sections: list[Section], title: str = "") -> str:
    """TEE, stress or TTE, from the title, header, procedure and technique lines.

    The indication, impression and recommendations are not read ("consider TEE" is no TEE);
    findings are read only when nothing else names the type ("dobutamine was infused").
    """
    words = section_table().study_types
    if _titled_tte(sections, words):  # "POST-PROCEDURE TTE" over "TOE-guided implant" in a header line
        return "TTE"
    named = [title] + [s.heading + " " + s.text for s in sections
                       if s.kind in ("preamble", "header", "procedure", "technique", "sedation")]
    later = [s.text for s in sections if s.kind in ("findings", "stage", "anatomy")]
    for texts in (named, later):
        blob = _not_done().sub(" ", " ".join(texts).lower())  # "TOE not performed" is no TEE
        for kind in ("stress", "TEE"):
            if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", blob) for w in words[kind]):
                return kind
    return "TTE"


def _titled_tte(sections: list[Section], words: dict[str, list[str]]) -> bool:
    """The report's first line (its title) names a transthoracic study and no TEE or stress: the TEE
    another line mentions was another study's (``study_types.TTE_title``)."""
    first = next((s for s in sections if s.heading.strip() or s.text.strip()), None)
    if first is None or first.kind not in ("preamble", "header"):
        return False
    line = (first.heading + " " + first.text).strip().split("\n")[0].lower()

    def names(kind: str) -> bool:
        return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", line) for w in words.get(kind, []))
    return names("TTE_title") and not names("TEE") and not names("stress")


_HEADER_KEYS = {"mrn": "patient_id", "patient id": "patient_id", "patient number": "patient_id",
                "hospital number": "patient_id",
                "nhs number": "patient_id", "id": "patient_id", "date": "study_date",
                "study date": "study_date", "exam date": "study_date", "date of study": "study_date",
                "date of exam": "study_date", "age": "patient.age", "sex": "patient.sex",
                "gender": "patient.sex", "height": "patient.height_cm", "weight": "patient.weight_kg",
                "bsa": "patient.bsa_m2", "accession": "study_id", "accession number": "study_id",
                "study id": "study_id", "hr": "measurements.heart_rate",
                "heart rate": "measurements.heart_rate"}


def _paired(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """"Sex / age: F / 74": as many keys as values, each key with its value."""
    out = []
    for key, value in pairs:
        keys, values = key.split("/"), value.split("/")
        out += list(zip(keys, values, strict=True)) if 1 < len(keys) == len(values) else [(key, value)]
    return out


def header_fields(sections: list[Section]) -> dict[str, str]:
    """Identifiers and patient fields from header lines, as Study field path -> raw text.

    Several fields on one line ("Age: 67  Sex: F") are read; the first value of a field wins.
    """
    out: dict[str, str] = {}
    for s in sections:
        if s.kind != "header":
            continue
        pairs = [(s.heading, s.text)]
        # "Age: 67   Sex: F   BSA: 1.9 m2": further "Key: value" pairs on the same line
        parts = re.split(r"\s{2,}|\t|\s[|;,]\s", s.text)
        if len(parts) > 1:
            pairs = [(s.heading, parts[0])] + [tuple(p.split(":", 1)) for p in parts[1:] if ":" in p]
        for key, value in _paired(pairs):
            target = _HEADER_KEYS.get(norm(key))
            value = value.strip().rstrip(".")
            if target and value and target not in out:
                out[target] = value
    return out
