"""DICOM echo Structured Reports in: TID 5200 and TID 5300 measurements -> Study records.

Each coded measurement is looked up in ``resources/dicom_sr.json`` (``sr_codes``), converted to the
field's canonical unit and range-checked; unknown codes, duplicates (which value is kept, and why),
implausible values and documents that are no adult echo report become issues, never silent drops.

    result = import_sr(["exports/"]); print("\\n".join(result.lines())); raise SystemExit(result.exit_code)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from echogpt import units
from echogpt.data.sr_codes import MeasurementRow, known_code, match, sr_table
from echogpt.data.sr_tree import NotEchoReport, NumItem, read_document
from echogpt.files import FileError, write_jsonl
from echogpt.schemas import Patient, Study

IssueKind = Literal["unreadable", "not_echo", "unknown_code", "adhoc", "duplicate", "implausible",
                    "bad_unit", "no_value", "patient", "invalid_study"]
REJECTING: frozenset[str] = frozenset({"not_echo", "implausible", "bad_unit", "no_value", "patient",
                                       "invalid_study"})
"""Issue kinds that reject a value or a document (exit 1); the others are notes."""


class SRIssue(BaseModel):
    """One thing the import did not take as it came, with the file and the content item."""

    model_config = ConfigDict(extra="forbid")
    file: str
    kind: IssueKind
    message: str
    study_id: str | None = None
    code: str | None = Field(None, description="SCHEME:VALUE of the measurement concept")
    item: str | None = Field(None, description="Content item path, e.g. 1.3.2 (1-based)")

    @property
    def rejected(self) -> bool:
        return self.kind in REJECTING or self.kind == "unreadable"


class SRImport(BaseModel):
    """What a set of SR files gave: studies, every issue, and the files that could not be read."""

    model_config = ConfigDict(extra="forbid")
    files: list[str] = Field(default_factory=list)
    studies: list[Study] = Field(default_factory=list)
    issues: list[SRIssue] = Field(default_factory=list)
    taken: dict[str, int] = Field(default_factory=dict, description="file -> measurement items taken")

    @property
    def exit_code(self) -> int:
        """2: a file was unreadable; 1: a document or value was rejected; 0: all taken."""
        if any(i.kind == "unreadable" for i in self.issues):
            return 2
        return 1 if any(i.rejected for i in self.issues) else 0

    def lines(self) -> list[str]:
        """Per file: its issues, then one summary line."""
        out = []
        for name in self.files:
            mine = [i for i in self.issues if i.file == name]
            if name in self.taken:
                out.append(f"{name}: {self.taken[name]} measurement items taken, {len(mine)} issues")
            for i in mine:
                where = f" [item {i.item}]" if i.item else ""
                out.append(f"{name}{where}: {i.kind.replace('_', ' ')}: {i.message}")
        rejected = sum(i.rejected for i in self.issues)
        out.append(f"{len(self.files)} files: {len(self.studies)} studies, {len(self.issues)} issues "
                   f"({rejected} rejections)")
        return out


class _Candidate(BaseModel):
    field: str
    value: float
    row: MeasurementRow
    rank: int
    rank_source: str
    method: str | None
    selected: str | None
    mean: bool
    file: str
    item: str


# ---------------------------------------------------------------- measurements


def _candidate(num: NumItem, file: str, issue: Any) -> _Candidate | None:
    """The Study field value of one NUM item, or None (with an issue saying why)."""
    tbl = sr_table()
    where = f" at {num.mod_meanings['finding_site']}" if "finding_site" in num.mod_meanings else ""
    shown = f"'{num.label or num.meaning}' ({num.code}){where}"
    if num.container == "adhoc":
        issue("adhoc", f"{shown} {num.value} {num.unit}: an adhoc measurement has no standard meaning; "
              "not imported", num)
        return None
    row = match(num.code, num.mods) or (match(num.mods["property"], num.mods) if "property" in num.mods
                                         else None)
    if row is None:
        why = ("no Study field for this code with these modifiers (site, phase, flow)" if known_code(num.code)
               else "no Study field for this code")
        issue("unknown_code", f"{shown} = {num.value} {num.unit}: {why}; not imported", num)
        return None
    if num.value is None:
        issue("no_value", f"{shown}: the item carries no number; {row.field} left empty", num)
        return None
    table_unit = tbl.ucum.get(num.unit or "")
    try:
        if table_unit is None:
            raise PydanticCustomError("unknown_unit", "unit '{unit}' is not a UCUM unit EchoGPT reads",
                                      {"unit": num.unit})
        value = units.convert(row.field, num.value, table_unit)
        units.check_range(row.field, value, had_unit=True)
    except PydanticCustomError as err:
        kind = "implausible" if err.type == "implausible_value" else "bad_unit"
        why = err.message().rstrip(".")
        issue(kind, f"{shown} = {num.value} {num.unit}: {why}; {row.field} not taken from it", num)
        return None
    method = tbl.methods.get(num.mods.get("method", ""))
    selected = num.mod_meanings.get("selection")
    return _Candidate(field=row.field, value=value, row=row, rank=method.rank if method else row.rank,
                      rank_source=method.source if method else row.rank_source,
                      method=method.label if method else row.method, selected=selected,
                      mean=num.mods.get("derivation") in tbl.mean, file=file, item=num.item)


def _choose(cands: list[_Candidate]) -> tuple[_Candidate, float, str | None]:
    """The value kept for one field and, when there were several, why."""
    if len(cands) == 1:
        return cands[0], cands[0].value, None
    spec = units.spec(cands[0].field)
    shown = ", ".join(f"{c.value:g}" + (f" ({c.method})" if c.method else "") for c in cands)
    head = f"{spec.label}: {len(cands)} values ({shown} {spec.unit})"
    chosen = [c for c in cands if c.selected]
    if chosen:
        c = min(chosen, key=lambda c: c.rank)
        return c, c.value, f"{head}; kept {c.value:g}: marked '{c.selected}' on the device (Selection Status)"
    means = [c for c in cands if c.mean]
    if means:
        c = min(means, key=lambda c: c.rank)
        return c, c.value, f"{head}; kept {c.value:g}: the device's mean of the measured beats"
    best = min(c.rank for c in cands)
    top = [c for c in cands if c.rank == best]
    if len(top) == 1:
        return top[0], top[0].value, (f"{head}; kept {top[0].value:g}: the preferred method "
                                      f"({top[0].method or top[0].row.meaning}, {top[0].rank_source})")
    mean = round(sum(c.value for c in top) / len(top), 3)
    what = ("beats of the same method" if len({c.method or c.row.code for c in top}) == 1
            else "values of equally preferred methods")
    return top[0], mean, (f"{head}; kept {mean:g}: the mean of {len(top)} {what}, none marked on the "
                          "device (several beats are averaged, ASE15)")


# ---------------------------------------------------------------- patient and study


def _findings_prose(measurements: dict[str, Any]) -> str:
    parts = []
    for field, value in measurements.items():
        spec = units.spec(field)
        v = value["low"] if isinstance(value, dict) else value
        parts.append(f"{spec.label} {v:g}{' ' + spec.unit if spec.unit else ''}")
    return ("Measurements from the DICOM SR: " + "; ".join(parts) + ".") if parts else \
        "DICOM SR without measurements EchoGPT reads."


class _StudyParts(BaseModel):
    """What the files of one study gave so far."""

    header: dict[str, Any]
    files: list[str] = Field(default_factory=list)
    patient: dict[str, Any] = Field(default_factory=dict)
    cands: list[_Candidate] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    impressions: list[str] = Field(default_factory=list)


def _patient(values: dict[str, Any], note: Any, file: str) -> tuple[dict[str, Any] | None, bool]:
    """The patient block with each refused attribute left out (and noted); False for a child."""
    values = dict(values)
    for _ in range(len(values) + 1):
        try:
            Patient.model_validate(values)
            return values or None, True
        except ValidationError as err:
            e = err.errors()[0]
            if e["type"] == "not_adult":
                note("patient", f"study not imported: {e['msg']}", file, None)
                return None, False
            key = str(e["loc"][0]) if e["loc"] else ""
            # a BSA derived from height and weight is out of range: both go
            drop = [key] if key in values else [k for k in ("height_cm", "weight_kg") if k in values]
            note("patient", f"patient {key}: {e['msg']}; {', '.join(drop) or 'it'} left out", file, None)
            for k in drop:
                values.pop(k, None)
    return None, True


def _build(parts: _StudyParts, note: Any) -> Study | None:
    by_field: dict[str, list[_Candidate]] = {}
    for c in parts.cands:
        by_field.setdefault(c.field, []).append(c)
    measurements: dict[str, Any] = {}
    for field, cands in by_field.items():
        kept, value, why = _choose(cands)
        if why:
            note("duplicate", why, kept.file, kept.item)
        measurements[field] = ({"low": value, "high": value, "method": kept.method} if field == "lvef"
                               else value)
    patient, adult = _patient(parts.patient, note, parts.files[0])
    if not adult:
        return None
    record = {**parts.header, "patient": patient, "measurements": measurements or None,
              "findings_text": "\n".join(parts.findings) or _findings_prose(measurements),
              "impression": "\n".join(parts.impressions) or None}
    try:
        return Study.model_validate({k: v for k, v in record.items() if v is not None})
    except ValidationError as err:
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors())
        note("invalid_study", f"study not imported: {msg}", parts.files[0], None)
        return None


def _files(paths: Iterable[str | Path]) -> list[Path]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        else:
            out.append(p)
    return out


def import_sr(paths: Iterable[str | Path]) -> SRImport:
    """Read SR files (and folders of them) into Study records; several files of one study merge.

    Args:
        paths: files or folders (read recursively).

    Returns:
        The studies and every issue; ``exit_code`` follows ``echogpt validate`` (0, 1, 2).

    Raises:
        FileError: pydicom is not installed.
    """
    try:
        import pydicom  # noqa: F401
    except ImportError:
        raise FileError("reading DICOM needs pydicom: pip install 'echogpt[interop]'") from None
    result = SRImport()
    studies: dict[str, _StudyParts] = {}
    for path in _files(paths):
        name = str(path)
        result.files.append(name)

        def issue(kind: str, message: str, num: NumItem | None = None, file: str = name) -> None:
            result.issues.append(SRIssue(file=file, kind=kind, message=message,  # type: ignore[arg-type]
                                         code=num.code if num else None, item=num.item if num else None))

        try:
            doc = read_document(path)
        except NotEchoReport as err:
            issue("not_echo", str(err))
            continue
        except FileError as err:
            issue("unreadable", str(err).split(": ", 1)[-1])
            continue
        except Exception as exc:  # noqa: BLE001 - a broken content tree is one line per file
            issue("unreadable", f"broken SR content ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        sid = doc.header["study_id"]
        parts = studies.setdefault(sid, _StudyParts(header=doc.header))
        parts.files.append(name)
        for key, value in doc.patient.items():
            parts.patient.setdefault(key, value)
        patient_codes = set(sr_table().patient.values())
        taken = 0
        for num in doc.nums:
            if num.code in patient_codes:
                continue
            cand = _candidate(num, name, issue)
            if cand:
                parts.cands.append(cand)
                taken += 1
        result.taken[name] = taken
        for i in result.issues:
            if i.file == name and i.study_id is None:
                i.study_id = sid
        docs = sr_table().documents
        parts.findings += [t for c, t in doc.texts if c == docs.finding and t]
        parts.impressions += [t for c, t in doc.texts if c == docs.impression and t]
    for parts in studies.values():

        def note(kind: str, message: str, file: str, item: str | None,
                 sid: str = parts.header["study_id"]) -> None:
            result.issues.append(SRIssue(file=file, kind=kind, message=message, item=item,  # type: ignore[arg-type]
                                         study_id=sid))

        study = _build(parts, note)
        if study is not None:
            result.studies.append(study)
    return result


def import_sr_bytes(name: str, data: bytes) -> SRImport:
    """``import_sr`` of one uploaded file (the app's worklist import); issues carry ``name``."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="echogpt-sr-") as tmp:
        path = Path(tmp) / (Path(name).name or "upload.dcm")
        path.write_bytes(data)
        result = import_sr([path])
    for issue in result.issues:
        issue.file = name
    result.files = [name]
    return result


def write_import(result: SRImport, out: str | Path, issues: str | Path | None = None) -> list[Path]:
    """Write the studies (canonical JSONL) and, when there are any, the issues (JSONL).

    Args:
        result: what ``import_sr`` gave.
        out: the studies file.
        issues: the issues file (default ``<out>.issues.jsonl``, written only when there are issues).

    Returns:
        The paths written.
    """
    out = Path(out)
    try:
        written = [write_jsonl(result.studies, out, exclude_none=True)]
        if result.issues or issues is not None:
            target = Path(issues) if issues is not None else out.with_name(out.name + ".issues.jsonl")
            written.append(write_jsonl(result.issues, target, exclude_none=True))
    except OSError as e:
        raise FileError(f"cannot write {e.filename or 'output'}: {e.strerror or e}") from None
    return written
