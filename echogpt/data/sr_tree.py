"""One DICOM echo SR file read into what the import needs: its header, the numeric items with the
modifiers that apply to each (their own or inherited from the section), coded and text items, and
the patient's characteristics. A file that cannot be read raises ``FileError``; a document that is
no adult echo report raises ``NotEchoReport``.

    doc = read_document(Path("echo.dcm")); [n.code for n in doc.nums]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.data.sr_codes import code_key, sr_table
from echogpt.files import FileError


class NotEchoReport(ValueError):
    """A readable DICOM file that is no adult echo Structured Report (TID 5200/5300)."""


class NumItem(BaseModel):
    """One numeric content item with the modifiers that apply to it (role -> SCHEME:VALUE)."""

    model_config = ConfigDict(extra="forbid")
    code: str
    meaning: str
    value: float | None
    unit: str | None
    item: str
    container: str | None
    mods: dict[str, str]
    mod_meanings: dict[str, str]
    label: str | None = None


class SRDocument(BaseModel):
    """What one SR file holds for the import."""

    model_config = ConfigDict(extra="forbid")
    header: dict[str, Any] = Field(description="study_id, patient_id, study_date, study_type")
    nums: list[NumItem]
    codes: list[tuple[str, tuple[str, str]]] = Field(description="(concept, (value, meaning)), CODE items")
    texts: list[tuple[str, str]] = Field(description="(concept, text) of finding and impression items")
    patient: dict[str, Any]


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
         container: str | None) -> NumItem:
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
    return NumItem(code=name, meaning=meaning, value=value, unit=unit, item=path, container=container,
                   mods={r: c for r, (c, _) in mods.items()},
                   mod_meanings={r: m for r, (_, m) in mods.items()}, label=label)


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
    for keyword in ("SOPClassUID", "StudyInstanceUID"):
        if keyword not in ds:
            raise FileError(f"{path.name}: incomplete DICOM file (no {keyword})")
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


def _header(ds: Any) -> dict[str, Any]:
    tee = set(sr_table().documents.tee)
    procs = [code_key(str(c.CodingSchemeDesignator), str(c.CodeValue))
             for seq in ("ProcedureCodeSequence", "PerformedProcedureCodeSequence")
             for c in ds.get(seq, []) if "CodeValue" in c]
    date = str(ds.get("StudyDate", "") or "")
    return {"study_id": str(ds.StudyInstanceUID), "patient_id": str(ds.get("PatientID", "") or "") or None,
            "study_date": f"{date[:4]}-{date[4:6]}-{date[6:8]}" if re.fullmatch(r"\d{8}", date) else None,
            "study_type": "TEE" if tee & set(procs) else "TTE"}


def _patient(nums: list[NumItem], codes: list[tuple[str, tuple[str, str]]], ds: Any) -> dict[str, Any]:
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


def read_document(path: Path) -> SRDocument:
    """Read one SR file.

    Raises:
        FileError: not DICOM, truncated, or no content tree (one line).
        NotEchoReport: a DICOM document that is no adult echo report.
    """
    ds = _read(path)
    problem = _document_problem(ds)
    if problem:
        raise NotEchoReport(problem)
    found: dict[str, list[Any]] = {"num": [], "code": [], "text": []}
    _walk(ds.get("ContentSequence", []), {}, "1.", None, found)
    return SRDocument(header=_header(ds), nums=found["num"], codes=found["code"], texts=found["text"],
                      patient=_patient(found["num"], found["code"], ds))
