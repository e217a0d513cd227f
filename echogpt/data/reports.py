"""Free-text echo reports in, Study records out (``echogpt import-reports``), with numbered issues.

Input is a folder of ``.txt`` files (or one file), or a CSV/TSV/JSONL/Parquet file whose column holds
whole reports. Every report becomes a Study or a file/row-numbered error; measurements that cannot be
stored and reports without an impression are listed as warnings, never dropped in silence.

    result = import_reports("reports/", out="studies.jsonl", rejects="issues.jsonl")
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from echogpt.data.report_identity import read_date
from echogpt.data.report_input import (
    NUMBERING,
    TABLE_SUFFIXES,
    ReportMapping,
    UnreadableReport,
    decode_report,
    load_report_mapping,
    row_word,
    table_rows,
    text_files,
)
from echogpt.data.report_text import ParsedReport, Reading, parse_report
from echogpt.files import FileError, jsonable, write_jsonl
from echogpt.schemas import Measurements, Patient, Study


class ReportIssue(BaseModel):
    """One problem with one report: an error (not imported) or a warning (imported, noted)."""

    model_config = ConfigDict(extra="forbid")
    row: int = Field(description="1-based file or row number; see 'numbering'")
    numbering: str
    file: str = Field(description="The report file, or the table the row is in")
    study_id: str | None = None
    severity: Literal["error", "warning"]
    type: str = Field(description="unreadable, empty, no_findings, duplicate_study_id, no_impression, "
                                  "implausible_value, unknown_unit, conflicting_value, bad_date, hl7, ...")
    message: str
    value: Any = None

    def line(self) -> str:
        """One line: where, what, and why."""
        word = row_word(self.numbering)
        where = f"{word} {self.row} ({Path(self.file).name})" if self.row else Path(self.file).name
        return f"{where}: {self.severity}: {self.message}"


class ReportImport(BaseModel):
    """The studies made of one input, and every issue met on the way."""

    model_config = ConfigDict(extra="forbid")
    source: str
    numbering: str
    reports: int = 0
    studies: list[Study] = Field(default_factory=list)
    issues: list[ReportIssue] = Field(default_factory=list)

    @property
    def errors(self) -> list[ReportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def without_impression(self) -> list[str]:
        return [i.study_id or "" for i in self.issues if i.type == "no_impression"]

    @property
    def exit_code(self) -> int:
        """0 when every report was imported, 1 when some were rejected (as ``validate``)."""
        return 1 if self.errors else 0

    def lines(self, max_issues: int = 8) -> list[str]:
        """Counts, the first issues, and the reports imported without an impression."""
        warn = len(self.issues) - len(self.errors)
        noun = "report" if self.reports == 1 else "reports"
        out = [f"{self.source}: {self.reports} {noun} ({self.numbering}): {len(self.studies)} imported, "
               f"{len(self.errors)} rejected, {warn} warning(s)"]
        out += [f"  {i.line()}" for i in self.issues[:max_issues]]
        if len(self.issues) > max_issues:
            out.append(f"  ... and {len(self.issues) - max_issues} more in the rejects file")
        if self.without_impression:
            out.append(f"imported without an impression: {', '.join(self.without_impression)}")
        return out


# ---------------------------------------------------------------- one report -> one study


def _one_field(model: type[BaseModel], name: str, raw: Any) -> tuple[Any, str | None, str | None]:
    """Validate one field alone: (value, None, None) or (None, error type, message)."""
    try:
        return getattr(model.model_validate({name: raw}), name), None, None
    except ValidationError as e:
        err = e.errors()[0]
        return None, err["type"], err["msg"]


def build_study(parsed: ParsedReport, study_id: str, given: dict[str, Any]
                ) -> tuple[Study | None, list[tuple[str, str, str, Any]]]:
    """The Study of a parsed report, and its problems as (severity, type, message, value).

    Args:
        parsed: the parsed report.
        study_id: the id (file stem or the id column).
        given: identifiers from the table's columns (patient_id, study_date), over the header's.

    Returns:
        The study (None when it cannot be made: no findings text) and the problems.
    """
    problems: list[tuple[str, str, str, Any]] = []
    if not parsed.findings_text.strip():
        return None, [("error", "no_findings", "no findings text found (no findings section and no "
                       "text outside the other sections)", None)]
    head = {k: v for k, v in parsed.header.items() if v}
    record: dict[str, Any] = {"study_id": study_id, "study_type": parsed.study_type,
                              "findings_text": parsed.findings_text, "impression": parsed.impression,
                              "indication": parsed.indication, "agitated_saline": parsed.agitated_saline,
                              "contrast": parsed.contrast, "lbbb": parsed.lbbb,
                              "ventilated": parsed.ventilated, "rhythm": parsed.rhythm,
                              "patient_id": given.get("patient_id") or _patient_id(head, problems)}
    raw_date = given.get("study_date") or head.get("study_date")
    if raw_date:
        try:
            record["study_date"] = raw_date if isinstance(raw_date, date) else read_date(str(raw_date))
        except ValueError as e:
            problems.append(("warning", "bad_date", str(e), raw_date))
    readings = list(parsed.readings)
    if "measurements.heart_rate" in head:
        readings.append(Reading("heart_rate", head["measurements.heart_rate"], 0, "header"))
    record["measurements"] = _measurements(readings, problems) or None
    record["patient"] = _patient(head, problems)
    if parsed.impression is None:
        hint = (f"; the last block, under '{parsed.summary_heading}', may be a summary under a heading "
                "EchoGPT does not know, and stays in the findings") if parsed.summary_heading else ""
        problems.append(("warning", "no_impression", "no impression section found: imported without a "
                         f"reference impression{hint}", parsed.summary_heading))
    cut = suspect_cut(parsed)
    problems += cut + [("warning", "unread", f"{note}; claims it may hold are not checked", None)
                       for note in parsed.unread]
    problems += [("warning", "superseded", f"{note}; kept for the record, not as findings", None)
                 for note in parsed.superseded]
    problems += [("warning", "hl7", note, None) for note in parsed.format_notes]
    problems += [("warning", "page_furniture", f"page header or footer dropped: '{line}'", line)
                 for line in parsed.furniture]
    # what the import could not read: a claim the study is silent on may lie there (not_checked)
    # (findings of a line or less from a long report; an impression longer than its findings is often
    # only a terse report, so it stays a warning)
    lost = [message for _, _, message, _ in cut if message.startswith("the findings are")]
    record["unread"] = lost + parsed.unread or None
    record["superseded"] = parsed.superseded or None
    record["recommendations"] = parsed.recommendations or None
    return Study.model_validate(record), problems


def suspect_cut(parsed: ParsedReport) -> list[tuple[str, str, str, Any]]:
    """A warning when the report was probably cut at the wrong heading: an impression longer than the
    findings, or findings of at most one line in a long report (a sanity check for any style)."""
    findings = parsed.findings_text.strip()
    whole = sum(len(sec.text) for sec in parsed.sections)
    if parsed.impression and len(parsed.impression) > len(findings):
        return [("warning", "suspect_cut", f"the impression ({len(parsed.impression)} characters) is longer "
                 f"than the findings ({len(findings)}): check where the report's sections were cut", None)]
    if len(findings) < 100 <= whole / 4:  # a title line or less of a long report
        return [("warning", "suspect_cut", f"the findings are {len(findings)} characters of a "
                 f"{whole}-character report: check where the report's sections were cut", None)]
    return []


# a number written in digit groups split by single spaces, the whole value (NHS style "943 476 5919")
_GROUPED_ID = re.compile(r"\s*\d{2,}(?: \d{2,})+\s*")


def _patient_id(head: dict[str, str], problems: list[tuple[str, str, str, Any]]) -> str | None:
    """The header's patient number ("MRN: 448812"): one token of letters, digits and -_/ (and dots between
    them: "61.228.904") that holds a digit."""
    raw = head.get("patient_id")
    if raw is None:
        return None
    if _GROUPED_ID.fullmatch(raw):  # "663 0019 920", "943 476 5919": one number written in groups
        return re.sub(r"\s", "", raw)
    m = re.fullmatch(r"\s*([A-Za-z0-9](?:[A-Za-z0-9_/-]|\.(?=[A-Za-z0-9])){0,63})(?:\s.*)?", raw)
    if m and re.search(r"\d", m.group(1)):
        return m.group(1)
    problems.append(("warning", "bad_patient_id", f"patient id '{raw[:40]}' is not one identifier; not "
                     "stored (the study is its own patient)", raw[:200]))
    return None


def _measurements(readings: list[Reading], problems: list[tuple[str, str, str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in readings:
        where = f"line {r.line}" if r.line else "header"
        if r.field in out:
            if str(out[r.field][1]) != r.raw:
                problems.append(("warning", "conflicting_value", f"{r.field} given twice "
                                 f"('{out[r.field][1]}', then '{r.quote}' on {where}); the first is kept",
                                 r.raw))
            continue
        value, kind, msg = _one_field(Measurements, r.field, r.raw)
        if kind:
            problems.append(("warning", kind, f"'{r.quote}' ({where}): {msg.rstrip('.')}; left in the "
                             "findings text, "
                             "not stored as a measurement", r.raw))
            continue
        out[r.field] = (value, r.raw)
    return {k: v[0] for k, v in out.items()}


def _patient(head: dict[str, str], problems: list[tuple[str, str, str, Any]]) -> Patient | None:
    fields = {k.split(".", 1)[1]: v for k, v in head.items() if k.startswith("patient.")}
    if "age" in fields:
        fields["age"] = re.sub(r"\s*(?:y|yr|yrs|years?)(?: old)?$", "", fields["age"], flags=re.IGNORECASE)
    if "sex" in fields:  # "Sex: male. BSA 2.00 m2. Rhythm: sinus": the word, not the rest of the line
        fields["sex"] = re.sub(r"^(male|female|m|f)\b[.,;]\s.*$", r"\1", fields["sex"].strip(),
                               flags=re.IGNORECASE | re.DOTALL)
    if "bsa_m2" in fields:
        fields["bsa_m2"] = re.sub(r"\s*m(?:2|²|\^2)$", "", fields["bsa_m2"], flags=re.IGNORECASE)
    kept: dict[str, Any] = {}
    for name, raw in fields.items():
        _, kind, msg = _one_field(Patient, name, raw)
        if kind:
            problems.append(("warning", kind, f"patient {name} '{raw}': {msg}; not stored", raw))
        else:
            kept[name] = raw
    if not kept:
        return None
    try:
        return Patient.model_validate(kept)
    except ValidationError as e:
        problems.append(("warning", "patient", f"patient block left out: {e.errors()[0]['msg']}", kept))
        return None


# ---------------------------------------------------------------- the whole input


def read_reports(path: str | Path, mapping: str | Path | dict[str, Any] | ReportMapping | None = None
                 ) -> ReportImport:
    """Import every report of a folder of .txt files, one .txt file, or a table of reports.

    Args:
        path: a folder, a .txt file, or a .csv/.tsv/.jsonl/.parquet file with a report-text column.
        mapping: the table's column names (see :class:`ReportMapping`); not used for .txt input.

    Returns:
        The studies and every issue (errors: reports not imported; warnings: imported, noted).

    Raises:
        FileError: the input cannot be read at all (missing, unknown type, no reports, bad table).
    """
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if path.is_file() and suffix != ".txt" and suffix not in TABLE_SUFFIXES:
        raise FileError(f"{path}: unknown file type '{suffix or '(none)'}'; give a folder of .txt "
                        f"reports, a .txt report or one of {', '.join(TABLE_SUFFIXES)}")
    cols = load_report_mapping(mapping)
    fmt = "files" if path.is_dir() or suffix == ".txt" else TABLE_SUFFIXES[suffix]
    result = ReportImport(source=str(path), numbering=NUMBERING[fmt])
    seen: dict[str, int] = {}
    if fmt == "files":
        files, others = text_files(path)
        if not files:
            raise FileError(f"{path}: no .txt reports in this folder")
        result.reports = len(files)
        for n, f in enumerate(files, start=1):
            try:
                text = decode_report(f.read_bytes())
            except UnreadableReport as e:
                _add(result, n, str(f), f.stem, [("error", e.kind, str(e), None)])
                continue
            except OSError as e:
                _add(result, n, str(f), f.stem, [("error", "unreadable", f"cannot read it ({e.strerror})",
                                                  None)])
                continue
            _import_one(result, n, str(f), text, f.stem, {}, seen)
        for f in others:
            _add(result, 0, str(f), None, [("warning", "skipped", "not a .txt file; not read", None)])
        return result
    rows = table_rows(path, fmt, cols)
    result.reports = len(rows)
    for n, row in rows:
        if isinstance(row, str):
            _add(result, n, str(path), None, [("error", "unreadable", row, None)])
            continue
        sid, text = row.get(cols.study_id), row.get(cols.text)
        sid = str(sid).strip() if isinstance(sid, str | int) and str(sid).strip() else None
        if sid is None or not isinstance(text, str) or not text.strip():
            what = f"no study id in column '{cols.study_id}'" if sid is None else \
                f"no report text in column '{cols.text}'"
            _add(result, n, str(path), sid, [("error", "empty", what, None)])
            continue
        given = {k: row.get(getattr(cols, k)) for k in ("patient_id", "study_date") if getattr(cols, k)}
        given = {k: str(v).strip() for k, v in given.items() if v not in (None, "")}
        _import_one(result, n, str(path), text, sid, given, seen)
    return result


def _import_one(result: ReportImport, n: int, file: str, text: str, sid: str, given: dict[str, Any],
                seen: dict[str, int]) -> None:
    if sid in seen:
        word = row_word(result.numbering)
        _add(result, n, file, sid, [("error", "duplicate_study_id", f"study id '{sid}' already used by "
                                     f"{word} {seen[sid]}; the first one is kept", sid)])
        return
    try:
        study, problems = build_study(parse_report(text, title=Path(file).name), sid, given)
    except ValidationError as e:  # a record the schema refuses (e.g. an id over 128 characters)
        err = e.errors()[0]
        study, problems = None, [("error", err["type"], f"{'.'.join(map(str, err['loc']))}: {err['msg']}",
                                  None)]
    _add(result, n, file, sid, problems)
    if study is not None:
        seen[sid] = n
        result.studies.append(study)


def _add(result: ReportImport, n: int, file: str, sid: str | None,
         problems: list[tuple[str, str, str, Any]]) -> None:
    for severity, kind, message, value in problems:
        result.issues.append(ReportIssue(row=n, numbering=result.numbering, file=file, study_id=sid,
                                         severity=severity, type=kind, message=message,  # type: ignore[arg-type]
                                         value=jsonable(value)))


def import_reports(path: str | Path, out: str | Path, rejects: str | Path | None = None,
                   mapping: str | Path | dict[str, Any] | ReportMapping | None = None) -> ReportImport:
    """Import reports and write the studies (JSONL) and the issues file.

    Args:
        path: the reports (see :func:`read_reports`).
        out: the Study JSONL to write.
        rejects: the issues file (JSONL, one :class:`ReportIssue` a line); None: ``<out>.rejects.jsonl``
            when there is any issue. A given path is always written.
        mapping: column names of a table of reports.

    Returns:
        The import; ``exit_code`` is 0 or 1.

    Raises:
        FileError: unreadable input, or an output that cannot be written.
    """
    targets = [Path(p).resolve() for p in (out, rejects) if p is not None]
    if Path(path).resolve() in targets or len(set(targets)) < len(targets):
        raise FileError("the input, --out and --rejects must be different files")
    result = read_reports(path, mapping)
    try:
        write_jsonl(result.studies, out, exclude_none=True)
        if rejects is not None or result.issues:
            write_jsonl(result.issues, rejects or Path(str(out) + ".rejects.jsonl"))
    except OSError as e:
        raise FileError(f"cannot write {e.filename or 'output'}: {e.strerror or e}") from None
    return result
