"""DICOM echo Structured Reports in: TID 5200 and TID 5300 measurements -> Study records.

Each coded measurement is looked up in ``resources/dicom_sr.json`` (``sr_codes``), converted to the
field's canonical unit and range-checked; unknown codes, duplicates (which value is kept, and why),
implausible values and documents that are no adult echo report become issues, never silent drops.

    result = import_sr(["exports/"]); print("\\n".join(result.lines())); raise SystemExit(result.exit_code)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from echogpt import units
from echogpt.data.sr_codes import MeasurementRow, code_key, match, sr_table
from echogpt.files import FileError, write_jsonl
from echogpt.schemas import Study

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
            if not mine:
                out.append(f"{name}: ok")
            for i in mine:
                where = f" [item {i.item}]" if i.item else ""
                out.append(f"{name}{where}: {i.kind.replace('_', ' ')}: {i.message}")
        rejected = sum(i.rejected for i in self.issues)
        out.append(f"{len(self.files)} files: {len(self.studies)} studies, {len(self.issues)} issues "
                   f"({rejected} rejections)")
        return out


class _Num(BaseModel):
    """One numeric content item with the modifiers that apply to it."""

    code: str
    meaning: str
    value: float | None
    unit: str | None
    item: str
    container: str | None
    mods: dict[str, str]
    mod_meanings: dict[str, str]
    label: str | None = None


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


# ---------------------------------------------------------------- reading one file


def _key(seq: Any) -> tuple[str, str]:
    c = seq[0]
    return code_key(str(c.CodingSchemeDesignator), str(c.CodeValue)), str(c.get("CodeMeaning", ""))


def _role_of() -> dict[str, str]:
    return {code: role for role, code in sr_table().roles.items()}


def _walk(items: Any, inherited: dict[str, tuple[str, str]], prefix: str, container: str | None,
          out: dict[str, list[Any]]) -> None:
    """Collect NUM items (with inherited finding site etc.) and coded/text items under ``items``."""
    roles, docs = _role_of(), sr_table().documents
    for n, item in enumerate(items, 1):
        path = f"{prefix}{n}"
        vt = str(item.get("ValueType", ""))
        if "ConceptNameCodeSequence" not in item:
            continue
        name, meaning = _key(item.ConceptNameCodeSequence)
        if vt == "CONTAINER":
            mods = dict(inherited)
            if name in sr_table().documents.containers:
                container = docs.containers[name]
            for child in item.get("ContentSequence", []):
                if child.get("RelationshipType") == "HAS CONCEPT MOD" and child.get("ValueType") == "CODE":
                    role = roles.get(_key(child.ConceptNameCodeSequence)[0])
                    if role:
                        mods[role] = _key(child.ConceptCodeSequence)
            _walk(item.get("ContentSequence", []), mods, path + ".", container, out)
        elif vt == "NUM":
            out["num"].append(_num(item, name, meaning, inherited, path, container))
        elif vt == "CODE" and item.get("RelationshipType") != "HAS CONCEPT MOD":
            out["code"].append((name, _key(item.ConceptCodeSequence)))
        elif vt == "TEXT" and name in (docs.finding, docs.impression):
            out["text"].append((name, str(item.get("TextValue", "")).strip()))


def _num(item: Any, name: str, meaning: str, inherited: dict[str, tuple[str, str]], path: str,
         container: str | None) -> _Num:
    roles = _role_of()
    mods = dict(inherited)
    label = None
    for child in item.get("ContentSequence", []):
        if "ConceptNameCodeSequence" not in child:
            continue
        role = roles.get(_key(child.ConceptNameCodeSequence)[0])
        if role == "label" and child.get("ValueType") == "TEXT":
            label = str(child.TextValue)
        elif role and child.get("ValueType") == "CODE":
            mods[role] = _key(child.ConceptCodeSequence)
    value = unit = None
    mv = item.get("MeasuredValueSequence")
    if mv:
        value = float(mv[0].NumericValue)
        unit = str(mv[0].MeasurementUnitsCodeSequence[0].CodeValue)
    return _Num(code=name, meaning=meaning, value=value, unit=unit, item=path, container=container,
                mods={r: c for r, (c, _) in mods.items()}, mod_meanings={r: m for r, (_, m) in mods.items()},
                label=label)


def _read(path: Path) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        raise FileError(f"{path.name}: no such file")
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        raise FileError(f"{path.name}: not a DICOM file") from None
    except Exception as exc:  # noqa: BLE001 - a broken file is one line, never a traceback
        raise FileError(f"{path.name}: unreadable DICOM ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
    # pydicom keeps what it could read of a cut file without a word: an element that runs past the
    # end of the file, or an SR without its content tree, is a broken file, not an empty report
    size = path.stat().st_size
    for tag in ds.keys():
        raw = ds.get_item(tag)
        tell, length = getattr(raw, "value_tell", None), getattr(raw, "length", 0)
        if tell is not None and length != 0xFFFFFFFF and tell + length > size:
            raise FileError(f"{path.name}: truncated DICOM file (element {tag} runs past the end)")
    if "SOPClassUID" not in ds:
        raise FileError(f"{path.name}: incomplete DICOM file (no SOP Class UID)")
    if str(ds.SOPClassUID).startswith("1.2.840.10008.5.1.4.1.1.88.") and "ContentSequence" not in ds:
        raise FileError(f"{path.name}: incomplete structured report (no content tree)")
    return ds


def _document_problem(ds: Any) -> str | None:
    """Why ``ds`` is not an adult echo SR, or None when it is one."""
    docs = sr_table().documents
    if ds.get("ValueType") != "CONTAINER" or "ConceptNameCodeSequence" not in ds:
        return f"not a structured report (modality {ds.get('Modality', '?')}); nothing imported"
    root, meaning = _key(ds.ConceptNameCodeSequence)
    template = next((str(t.get("TemplateIdentifier", "")) for t in ds.get("ContentTemplateSequence", [])),
                    None)
    if root in docs.roots or (template in docs.templates):
        return None
    tid = f", template TID {template}" if template else ""
    return (f"not an adult echo report: document title '{meaning}' ({root}){tid}; EchoGPT reads "
            "TID 5200 and TID 5300; nothing imported")


# ---------------------------------------------------------------- measurements


def _candidate(num: _Num, file: str, issue: Any) -> _Candidate | None:
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
        issue("unknown_code", f"{shown} = {num.value} {num.unit}: no Study field for this code; not imported",
              num)
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
        issue(kind, f"{shown} = {num.value} {num.unit}: {err.message()}; {row.field} not taken from it", num)
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
    return top[0], mean, (f"{head}; kept {mean:g}: the mean of {len(top)} beats of the same method, none "
                          "marked on the device (several beats are averaged, ASE15)")


# ---------------------------------------------------------------- patient and study


def _patient(nums: list[_Num], codes: list[tuple[str, tuple[str, str]]], ds: Any) -> dict[str, Any]:
    keys = {code: name for name, code in sr_table().patient.items()}
    ucum = sr_table().ucum
    out: dict[str, Any] = {}
    for n in nums:
        name = keys.get(n.code)
        if name and n.value is not None:
            unit = ucum.get(n.unit or "", n.unit or "")
            if name == "age":
                out["age"] = round(n.value * {"a": 1, "mo": 1 / 12, "wk": 7 / 365.25, "d": 1 / 365.25}
                                   .get(unit, 1), 1)
            elif name in ("height_cm", "weight_kg"):
                out[name] = f"{n.value} {unit}"
            else:
                out[name] = n.value
    for name, (value, _) in codes:
        if keys.get(name) == "sex":
            out["sex"] = {"DCM:M": "male", "DCM:F": "female"}.get(value)
    age = re.fullmatch(r"(\d{3})([YMWD])", str(ds.get("PatientAge", "")))
    if "age" not in out and age:
        out["age"] = round(int(age[1]) / {"Y": 1, "M": 12, "W": 52.18, "D": 365.25}[age[2]], 1)
    if "sex" not in out and ds.get("PatientSex") in ("M", "F"):
        out["sex"] = {"M": "male", "F": "female"}[ds.PatientSex]
    if "height_cm" not in out and ds.get("PatientSize"):
        out["height_cm"] = f"{float(ds.PatientSize)} m"
    if "weight_kg" not in out and ds.get("PatientWeight"):
        out["weight_kg"] = f"{float(ds.PatientWeight)} kg"
    return {k: v for k, v in out.items() if v is not None}


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


def _header(ds: Any) -> dict[str, Any]:
    tee = set(sr_table().documents.tee)
    procs = [code_key(str(c.CodingSchemeDesignator), str(c.CodeValue))
             for seq in ("ProcedureCodeSequence", "PerformedProcedureCodeSequence")
             for c in ds.get(seq, []) if "CodeValue" in c]
    date = str(ds.get("StudyDate", "") or "")
    return {"study_id": str(ds.StudyInstanceUID), "patient_id": str(ds.get("PatientID", "") or "") or None,
            "study_date": f"{date[:4]}-{date[4:6]}-{date[6:8]}" if re.fullmatch(r"\d{8}", date) else None,
            "study_type": "TEE" if tee & set(procs) else "TTE"}


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
    record = {**parts.header, "measurements": measurements or None,
              "findings_text": "\n".join(parts.findings) or _findings_prose(measurements),
              "impression": "\n".join(parts.impressions) or None}
    if parts.patient:
        record["patient"] = parts.patient
    try:
        return Study.model_validate({k: v for k, v in record.items() if v is not None})
    except ValidationError as err:
        first = err.errors()
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in first)
        kind = "patient" if all(e["loc"][:1] == ("patient",) for e in first) else "invalid_study"
        note(kind, f"study not imported: {msg}", parts.files[0], None)
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

        def issue(kind: str, message: str, num: _Num | None = None, file: str = name) -> None:
            result.issues.append(SRIssue(file=file, kind=kind, message=message,  # type: ignore[arg-type]
                                         code=num.code if num else None, item=num.item if num else None))

        try:
            ds = _read(path)
            problem = _document_problem(ds)
            if problem:
                issue("not_echo", problem)
                continue
            found: dict[str, list[Any]] = {"num": [], "code": [], "text": []}
            _walk(ds.get("ContentSequence", []), {}, "1.", None, found)
            header = _header(ds)
        except FileError as err:
            issue("unreadable", str(err).split(": ", 1)[-1])
            continue
        except Exception as exc:  # noqa: BLE001 - a broken content tree is one line per file
            issue("unreadable", f"broken SR content ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        parts = studies.setdefault(header["study_id"], _StudyParts(header=header))
        parts.files.append(name)
        patient_codes = set(sr_table().patient.values())
        for key, value in _patient(found["num"], found["code"], ds).items():
            parts.patient.setdefault(key, value)
        for num in found["num"]:
            if num.code not in patient_codes:
                cand = _candidate(num, name, issue)
                if cand:
                    parts.cands.append(cand)
        for i in result.issues:
            if i.file == name and i.study_id is None:
                i.study_id = header["study_id"]
        docs = sr_table().documents
        parts.findings += [t for c, t in found["text"] if c == docs.finding and t]
        parts.impressions += [t for c, t in found["text"] if c == docs.impression and t]
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
