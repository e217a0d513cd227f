"""HL7 v2 result messages (ORU^R01) pasted as report text, read as the report they carry.

Applied only when the text is a message (its first segment is ``MSH|``), as HL7 v2.5.1 writes them:
narrative OBX rows (value types TX, FT, ST) are the report's lines in OBX order, under the heading
of the section their identifier (OBX-3) names (``resources/hl7_sections.json``); numeric rows (NM, SN)
a measurements block; NTE comments stay where they are, a signature at the end; PID and OBR give
the patient id, sex, age, study date, reason for study and interpreter. Parsing is python-hl7's.

    report = message_report(text)  # None for a text that is no message; report.text, .header, .warnings
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt.data.report_sections import SECTION_KINDS, heading_kind, sentence_patterns

_START = re.compile(r"^[\ufeff\x0b\s]*MSH\|")  # a BOM or an MLLP start byte may come before it
_SEGMENT = re.compile(r"^[A-Z][A-Z0-9]{2}(?:\||$)")
_NARRATIVE, _NUMERIC, _CODED = ("TX", "FT", "ST", ""), ("NM", "SN"), ("CE", "CWE", "CNE")  # "": untyped text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# OBX-11 result statuses (HL7 table 0085) whose row is no longer part of the report
_WITHDRAWN = {"W": "wrong", "D": "deleted"}
# the escape sequences of HL7 v2.5.1 section 2.7 read as text (the rest stays as written)
_ESCAPES = (r"[FSTREHN]|\.br|\.sp[+-]?\d*|\.in[+-]?\d*|\.ti[+-]?\d*|\.sk[+-]?\d*|\.ce|\.fi|\.nf"
            r"|X(?:[0-9A-Fa-f]{2})+")


@dataclass
class MessageReport:
    """The report a message carries: its text, the header values it gives, what could not be read."""

    text: str
    header: dict[str, str] = field(default_factory=dict)  # Study field path -> value, as header_fields
    title: str = ""  # the service ordered (OBR-4): it may name the study type
    warnings: list[str] = field(default_factory=list)


class SectionCode(BaseModel):
    """A report section an observation identifier (OBX-3) names, and the heading it is written under."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[SECTION_KINDS + ("addendum",)]  # type: ignore[valid-type]
    heading: str = Field(description="the heading line written over the section's text ('IMPRESSION:')")
    codes: list[str] = Field(description="OBX-3 identifiers (LOINC, DCM) of the section")
    names: list[str] = Field(description="upper-case words of a text identifier that name it ('IMP')")


class MessageTable(BaseModel):
    """``resources/hl7_sections.json``: the sections in the order they are tried, and OBX-6 units."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field("", alias="_about")
    sections: list[SectionCode]
    units: dict[str, str] = Field(description="UCUM unit as sent -> as a report writes it")


@dataclass
class _Parts:
    blocks: list[tuple[SectionCode | None, list[str]]] = field(default_factory=list)  # rows by section
    numbers: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, entry: SectionCode | None, lines: list[str]) -> None:
        """Lines under a section (None: under the section before them)."""
        if self.blocks and (entry is None or entry is self.blocks[-1][0]):
            self.blocks[-1][1].extend(lines)
        else:
            self.blocks.append((entry, list(lines)))

    def lines(self) -> list[str]:
        """The narrative, each named section under its heading unless its own text writes it."""
        out: list[str] = []
        for entry, lines in self.blocks:
            kinds = {(heading_kind(ln) or ("",))[0] for ln in lines if ln.strip()}
            if entry is not None and entry.kind not in kinds:
                out += ["", entry.heading] if out else [entry.heading]
            out += lines
        return out


@cache
def message_table() -> MessageTable:
    """The validated section and unit table."""
    raw = resources.files("echogpt.resources").joinpath("hl7_sections.json").read_text("utf-8")
    return MessageTable.model_validate(json.loads(raw))


def is_message(text: str) -> bool:
    """Whether the text is an HL7 v2 message (its first segment is MSH)."""
    return _START.match(text[:64]) is not None


def message_report(text: str) -> MessageReport | None:
    """The report an HL7 v2 message carries, or None when the text is no message.

    Args:
        text: the whole pasted text; segments may be split by CR, LF or CRLF.

    Returns:
        The report as plain text with headings, the header values (``patient_id``, ``study_date``,
        ``patient.sex``, ``patient.age``) and warnings. A malformed message (a line that is no segment,
        no OBX, a parse error) comes back as it was written, with a one-line warning.
    """
    if not is_message(text):
        return None
    body = text.lstrip("\ufeff\x0b \t\r\n").rstrip("\x1c \t\r\n")
    rows = [row.rstrip() for row in re.split(r"\r\n|\r|\n", body)]
    rows = [row for row in rows if row.strip()]
    bad = next((i for i, row in enumerate(rows) if not _SEGMENT.match(row)), None)
    if bad is not None:
        return _as_written(text, f"segment {bad + 1} ('{rows[bad][:30]}') is no HL7 segment")
    rows, versions = _last_version(rows)
    try:
        import hl7
    except ImportError:
        return _as_written(text, "reading it needs python-hl7: pip install 'echogpt[interop]'")
    try:
        message = hl7.parse("\r".join(rows))
        report = _read(message)
    except Exception as e:  # noqa: BLE001 - any parse failure leaves the text as it was written
        return _as_written(text, f"it cannot be parsed ({type(e).__name__})")
    if report is None:
        return _as_written(text, "it has no OBX segment")
    if not report.text.strip():
        return _as_written(text, "its OBX segments hold no text")
    report.warnings[:0] = versions
    return report


def _last_version(rows: list[str]) -> tuple[list[str], list[str]]:
    """The rows of the message to read, and a warning, when a file holds several messages: of one order
    (the same OBR-3 filler or OBR-2 placer number), the last final or corrected one (OBR-25 F, C), or
    else the last, is the report and the earlier versions (a preliminary) are left out; messages of
    different orders are all read, in order, so that nothing is lost."""
    starts = [i for i, row in enumerate(rows) if row.startswith("MSH")]
    if len(starts) < 2:
        return rows, []
    messages = [rows[a:b] for a, b in zip(starts, [*starts[1:], len(rows)], strict=True)]
    orders, statuses = [], []
    for message in messages:
        sep = message[0][3]  # MSH-1, the field separator
        obr = next((row.split(sep) for row in message if row.startswith("OBR" + sep)), [])
        orders.append(_first_component(obr, 3) or _first_component(obr, 2))
        statuses.append(_first_component(obr, 25).upper())
    if not orders[0] or len(set(orders)) > 1:
        return rows, [f"the file holds {len(messages)} HL7 messages of different orders: all are read, "
                      "in order, as one report"]
    final = [i for i, status in enumerate(statuses) if status in ("F", "C")]
    keep = final[-1] if final else len(messages) - 1
    said = f"result status {statuses[keep]}" if statuses[keep] else "no result status"
    return messages[keep], [f"the file holds {len(messages)} HL7 messages of order {orders[0]}: message "
                            f"{keep + 1} ({said}) is read, the other versions are left out"]


def _first_component(fields: list[str], n: int) -> str:
    """The first component of field ``n`` of a segment split at its field separator, or ''."""
    return fields[n].split("^")[0].strip() if len(fields) > n else ""


def _as_written(text: str, why: str) -> MessageReport:
    return MessageReport(text, warnings=[f"HL7 message not read: {why}; imported as written"])


def _read(message: Any) -> MessageReport | None:
    """The report of a parsed message, or None when it holds no observation."""
    if not any(str(segment[0]) == "OBX" for segment in message):
        return None
    parts = _Parts()
    for segment in message:
        if str(segment[0]) == "OBX":
            _observation(message, segment, parts)
        elif str(segment[0]) == "NTE":
            _comment(message, segment, parts)
    header, title, reason, reader = _order(message)
    lines = parts.lines()
    if parts.numbers:  # before the impression, so that the impression stays the report's summary
        at = _before(lines, "impression", len(lines))
        lines[at:at] = ["", "Measurements:", *parts.numbers, ""]
    if reason:  # under the report's title lines, over its first section
        at = _before(lines, None, 0)
        lines[at:at] = [f"Indication: {reason}", ""]
    if reader:
        parts.signatures.append(f"Interpreted by: {reader}")
    if parts.signatures:
        lines += ["", *parts.signatures]
    return MessageReport("\n".join(lines).strip("\n") + "\n", header, title, parts.warnings)


def _before(lines: list[str], kind: str | None, default: int) -> int:
    """Where the first heading of ``kind`` (None: of any kind) is among the lines, else ``default``."""
    for i, line in enumerate(lines):
        found = heading_kind(line)
        if found is not None and (kind is None or found[0] == kind):
            return i
    return default


# ---------------------------------------------------------------- fields


def _components(segment: Any, n: int, repetition: int = 1) -> list[str]:
    """The components of one repetition of field ``n`` as written (sub-components joined), [] when absent."""
    if n >= len(segment) or repetition > len(segment[n]):
        return []
    rep = segment[n][repetition - 1]
    return [rep] if isinstance(rep, str) else [str(c) for c in rep]


def _part(segment: Any, n: int, component: int = 1, repetition: int = 1) -> str:
    """One component of one repetition of field ``n``, stripped, or ''."""
    found = _components(segment, n, repetition)
    return found[component - 1].strip() if component <= len(found) else ""


def _text(message: Any, raw: str) -> str:
    """A value's text with its HL7 escapes read: ``\\.br\\`` a line break, ``\\F\\`` the field separator,
    ``\\X41\\`` the byte; a backslash that starts no escape stays as it is."""
    esc = message.esc
    known = re.compile(rf"{re.escape(esc)}(?:{_ESCAPES}){re.escape(esc)}|{re.escape(esc)}")
    guarded = known.sub(lambda m: m.group(0) if len(m.group(0)) > 1 else f"{esc}E{esc}", raw)
    text = message.unescape(guarded, {"H": "", "N": ""})  # highlighting on/off: no character
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def _identifier(segment: Any) -> tuple[str, str]:
    """OBX-3 as (code, text): "19005-8^Impression^LN" -> ("19005-8", "Impression"); "&IMP" -> ("IMP", "")."""
    return _part(segment, 3).lstrip(segment.separators[4]).strip(), _part(segment, 3, 2)


def _section(code: str, text: str) -> SectionCode | None:
    """The section an observation identifier names, or None (a narrative row of no named section)."""
    words = set(re.findall(r"[A-Z]+", text.upper()))
    for entry in message_table().sections:
        if code in entry.codes or code.upper() in entry.names or words & set(entry.names):
            return entry
    return None


# ---------------------------------------------------------------- segments


def _observation(message: Any, segment: Any, parts: _Parts) -> None:
    """One OBX: narrative lines (under its section's heading), a measurement row or a labelled value."""
    kind = _part(segment, 2).upper()
    code, name = _identifier(segment)
    label = name or code
    status = _part(segment, 11).upper()
    if status in _WITHDRAWN:  # the sender took this row back; a corrected row (C) carries the text
        number = _part(segment, 1) or "?"
        parts.warnings.append(f"OBX {number} ({label}) is marked {_WITHDRAWN[status]} (OBX-11 {status}): "
                              "not read")
        return
    if kind in _NUMERIC:
        value = "".join(_components(segment, 5)).strip()  # SN ">^55", "^1^:^2": ">55", "1:2"
        unit = _part(segment, 6) or _part(segment, 6, 2)
        unit = message_table().units.get(unit, unit)
        if value:
            parts.numbers.append(" ".join(p for p in (label, value, unit) if p))
        return
    if kind in ("ED", "RP"):
        number = _part(segment, 1) or "?"
        parts.warnings.append(f"OBX {number} ({label}) holds {kind} data, no text: not read")
        return
    values = [_text(message, str(rep)) for rep in segment[5]] if len(segment) > 5 else [""]
    if kind in _CODED:
        values = [_text(message, _part(segment, 5, 2) or _part(segment, 5))]
    lines = [ln.rstrip() for v in values for ln in v.split("\n")]
    if kind not in _NARRATIVE and kind not in _CODED and not any(lines):
        return
    if kind not in _NARRATIVE:  # a coded or dated value: one labelled line
        lines = [f"{label}: {' '.join(ln.strip() for ln in lines if ln.strip())}"]
    parts.add(_section(code, name), lines)


def _comment(message: Any, segment: Any, parts: _Parts) -> None:
    """An NTE: its lines where it stands; a signature ("Electronically signed by ...") at the end."""
    lines = [ln.rstrip() for rep in (segment[3] if len(segment) > 3 else [])
             for ln in _text(message, str(rep)).split("\n")]
    closing = sentence_patterns("closing")
    if any(closing.search(ln.strip()) for ln in lines if ln.strip()):
        parts.signatures += [ln for ln in lines if ln.strip()]
    else:
        parts.add(None, lines)


def _order(message: Any) -> tuple[dict[str, str], str, str, str]:
    """Header values (PID, OBR), the service ordered, the reason for the study and the interpreter."""
    pid, obr = (next((s for s in message if str(s[0]) == name), None) for name in ("PID", "OBR"))
    header: dict[str, str] = {}
    if pid is not None:
        header["patient_id"] = _part(pid, 3)
        sex = _part(pid, 8).upper()  # HL7 table 0001: M, F, O(ther), U(nknown), A(mbiguous), N(ot applicable)
        header["patient.sex"] = sex[:1] if sex in ("M", "F", "MALE", "FEMALE") else ""
    when = _timestamp(_part(obr, 7)) if obr is not None else None
    born = _timestamp(_part(pid, 7)) if pid is not None else None
    if when:
        header["study_date"] = when.isoformat()
    if when and born and born <= when:
        header["patient.age"] = str(when.year - born.year - ((when.month, when.day) < (born.month, born.day)))
    if obr is None:
        return {k: v for k, v in header.items() if v}, "", "", ""
    title = _part(obr, 4, 2) or _part(obr, 4)
    reasons = [_part(obr, 31, 2, r) or _part(obr, 31, 1, r) for r in range(1, 1 + len(obr[31]))] \
        if len(obr) > 31 else []
    reason = "; ".join(r for r in reasons if r) or title
    return {k: v for k, v in header.items() if v}, title, reason, _person(obr)


def _timestamp(raw: str) -> date | None:
    """The date of an HL7 TS ("20261120103000+0100"), or None."""
    m = re.match(r"(\d{4})(\d{2})(\d{2})", raw)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


def _person(obr: Any) -> str:
    """OBR-32, the principal result interpreter (NDL; its CNN name "id&Family&Given&Middle&Suffix&Prefix&
    Degree"), as a signature name: "Dr Ann Smith, MD"."""
    subs = _part(obr, 32).split(obr.separators[4])  # the name's sub-components
    if len(subs) == 1:
        return subs[0].strip()
    subs += [""] * (7 - len(subs))
    name = " ".join(p for p in (subs[5], subs[2], subs[3], subs[1], subs[4]) if p.strip())
    return f"{name}, {subs[6]}" if name and subs[6].strip() else name
