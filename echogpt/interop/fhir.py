"""FHIR R4 out: a signed report as a Bundle of a DiagnosticReport, one Observation per measurement
and a Provenance of the signature, each validated with the ``fhir.resources`` models.

The models are fhir.resources 8's R4B (4.3.0) package: the R4 (4.0.1) models ship only in
fhir.resources <= 6.1, on pydantic 1. Bundle, DiagnosticReport, Observation and Provenance are the
same in R4 and R4B (R4B changed the medication-definition, subscription and evidence resources).
Nothing leaves beyond what the study holds: the patient is its patient_id, no name or birth date.

    bundle = report_bundle(load_report(db, user, "S1")); write_bundles(db, user, Path("fhir/"))
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from echogpt.interop.fields import measurement_rows, report_fields, ucum
from echogpt.interop.reports import StudyReport, load_report, signed_study_ids
from echogpt.review import workflow as review

if TYPE_CHECKING:
    from echogpt.review.accounts import User
    from echogpt.review.store import Store

SYSTEMS = {"LN": "http://loinc.org", "SCT": "http://snomed.info/sct"}
UCUM = "http://unitsofmeasure.org"
LOCAL = "urn:echogpt:measurement"
"""EchoGPT's own code system: the Study measurement field name (every Observation carries it)."""
_NS = uuid.UUID("6f1f7a52-4c1e-4d55-9d0e-2f0c2f7c9a11")  # fixed: re-exports give the same ids


# Required bindings of the coded elements written here (FHIR R4 value sets); the fhir.resources
# models check structure and types, not bindings, so these are checked on top.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("DiagnosticReport", "status"): frozenset({"registered", "partial", "preliminary", "final", "amended",
                                                "corrected", "appended", "cancelled", "entered-in-error",
                                                "unknown"}),
    ("Observation", "status"): frozenset({"registered", "preliminary", "final", "amended", "corrected",
                                           "cancelled", "entered-in-error", "unknown"}),
    ("Bundle", "type"): frozenset({"document", "message", "transaction", "transaction-response", "batch",
                                   "batch-response", "history", "searchset", "collection"}),
}


class FHIRValidationError(ValueError):
    """A resource the fhir.resources models refuse; the message names the resource and the field."""


def validate_resource(data: dict[str, Any]) -> Any:
    """Validate one resource (or a Bundle) with its R4B model.

    Args:
        data: the resource as JSON-ready data, with ``resourceType``.

    Returns:
        The model instance.

    Raises:
        FHIRValidationError: unknown resource type or invalid content (one line per problem).
    """
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    kind = data.get("resourceType", "?")
    try:
        model = get_fhir_model_class(str(kind))
    except ValueError:
        raise FHIRValidationError(f"unknown FHIR resource type {kind!r}") from None
    try:
        resource = model.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors()[:5])
        raise FHIRValidationError(f"{kind} {data.get('id', '')}: {problems}") from None
    for (rtype, element), allowed in REQUIRED_CODES.items():
        if rtype == kind and data.get(element) not in allowed:
            raise FHIRValidationError(f"{kind} {data.get('id', '')}: {element}: {data.get(element)!r} is not "
                                      f"one of {', '.join(sorted(allowed))}")
    return resource


def _id(study_id: str, part: str) -> str:
    return str(uuid.uuid5(_NS, f"{study_id}/{part}"))


def _ts(t: Any) -> str:
    return t.isoformat(timespec="seconds")


def _study_ref(study_id: str) -> dict[str, Any]:
    # a DICOM Study Instance UID is referenced as such; any other study id as EchoGPT's identifier
    if re.fullmatch(r"[0-2](\.(0|[1-9]\d*))+", study_id) and len(study_id) <= 64:
        ident = {"system": "urn:dicom:uid", "value": f"urn:oid:{study_id}"}
    else:
        ident = {"system": "urn:echogpt:study", "value": study_id}
    return {"type": "ImagingStudy", "identifier": ident}


def _coding(code: str | None, display: str | None, field: str, label: str) -> list[dict[str, str]]:
    out = []
    if code:
        scheme, value = code.split(":", 1)
        out.append({"system": SYSTEMS[scheme], "code": value, "display": display or label})
    out.append({"system": LOCAL, "code": field, "display": label})
    return out


def _observations(item: StudyReport, subject: dict[str, Any], status: str) -> list[dict[str, Any]]:
    study = item.study
    out = []
    for row in measurement_rows(study):
        spec = report_fields().fields[row.field]
        obs: dict[str, Any] = {
            "resourceType": "Observation", "id": _id(study.study_id, f"obs/{row.field}"), "status": status,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "imaging", "display": "Imaging"}]}],
            "code": {"coding": _coding(spec.code, spec.display, row.field, row.label), "text": row.label},
            "subject": subject, "derivedFrom": [_study_ref(study.study_id)],
        }
        if study.study_date:
            obs["effectiveDateTime"] = study.study_date.isoformat()
        unit = {"unit": row.unit or "1", "system": UCUM, "code": ucum(row.field)}
        if row.low is not None and row.high is not None and row.low != row.high:
            obs["valueRange"] = {"low": {"value": row.low, **unit}, "high": {"value": row.high, **unit}}
        elif row.value is not None:
            obs["valueQuantity"] = {"value": row.value, **unit}
        else:
            obs["valueString"] = row.text
        if row.method:
            obs["method"] = {"text": row.method}
        if row.normal:
            obs["referenceRange"] = [{"text": row.normal}]
        out.append(obs)
    return out


def _attachment(text: str, title: str) -> dict[str, Any]:
    return {"contentType": "text/plain; charset=utf-8", "language": "en", "title": title,
            "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}


def report_bundle(item: StudyReport) -> dict[str, Any]:
    """The FHIR R4 Bundle (type collection) of one signed report, validated.

    DiagnosticReport.status is ``final``, or ``appended`` once addenda follow the signature (the
    signed text itself never changes); ``conclusion`` is the impression; ``presentedForm`` holds the
    findings and the report as issued (with its addenda).

    Raises:
        ValueError: the report is not signed.
        FHIRValidationError: a resource the models refuse.
    """
    study, rep = item.study, item.report
    if not item.signed or rep.signed_at is None:
        raise ValueError(f"the report of study '{study.study_id}' is not signed; only signed reports leave")
    sid = study.study_id
    subject = {"identifier": {"system": "urn:echogpt:patient", "value": study.patient_id or sid}}
    status = "appended" if rep.addenda else "final"
    observations = _observations(item, subject, "final")
    signer = {"identifier": {"system": "urn:echogpt:user", "value": rep.signed_by}, "display": rep.signed_by}
    dr_id = _id(sid, "report")
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "id": dr_id, "status": status,
        "identifier": [{"system": "urn:echogpt:report", "value": f"{sid}/{rep.id}"}],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "CUS",
                                  "display": "Cardiac Ultrasound"}]}],
        "code": {"coding": [{"system": SYSTEMS["LN"], "code": "42148-7",
                             "display": "Echocardiography Report"}],
                 "text": f"Echocardiography report ({study.study_type.value})"},
        "subject": subject, "issued": _ts(rep.signed_at), "resultsInterpreter": [signer],
        "imagingStudy": [_study_ref(sid)],
        "result": [{"reference": f"urn:uuid:{o['id']}"} for o in observations],
        "conclusion": rep.final_text.strip(),
        "presentedForm": [_attachment(study.findings_text, "Findings"),
                          _attachment(review.final_report_text(rep), "Report as issued")],
    }
    if study.study_date:
        report["effectiveDateTime"] = study.study_date.isoformat()
    device = f"EchoGPT (model {rep.model}, adapter {rep.adapter or 'none'})"
    provenance = {
        "resourceType": "Provenance", "id": _id(sid, "provenance"),
        "target": [{"reference": f"urn:uuid:{dr_id}"}] + report["result"],
        "occurredDateTime": _ts(rep.signed_at), "recorded": _ts(rep.signed_at),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE", "display": "create"}], "text": "report signed"},
        "agent": [
            {"type": _agent_type("legal", "Legal Authenticator"), "who": signer},
            {"type": _agent_type("verifier", "Verifier"),
             "who": {"identifier": {"system": "urn:echogpt:user", "value": rep.approved_by},
                     "display": f"{rep.approved_by} (approved {_ts(rep.approved_at)})"}},
            {"type": _agent_type("assembler", "Assembler"), "who": {"display": device}},
        ] + [{"type": _agent_type("author", "Author"),
              "who": {"identifier": {"system": "urn:echogpt:user", "value": a.author},
                      "display": f"{a.author} (addendum {_ts(a.at)})"}} for a in rep.addenda],
    }
    resources = [report, *observations, provenance]
    for r in resources:
        validate_resource(r)
    bundle = {"resourceType": "Bundle", "id": _id(sid, "bundle"), "type": "collection",
              "timestamp": _ts(rep.addenda[-1].at if rep.addenda else rep.signed_at),
              "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}
    validate_resource(bundle)
    return bundle


def _agent_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": code, "display": display}]}


def bundle_json(db: Store, user: User, study_id: str) -> str:
    """The Bundle of one study's signed report as JSON text (for a download)."""
    return json.dumps(report_bundle(load_report(db, user, study_id)), indent=2, ensure_ascii=False)


def _file_name(study_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", study_id) + ".fhir.json"


def write_bundles(db: Store, user: User, out_dir: str | Path,
                  study_ids: list[str] | None = None) -> list[Path]:
    """Write one Bundle file per signed report (``<study_id>.fhir.json``).

    Args:
        db: the store.
        user: the acting user (needs ``study.read``).
        out_dir: the folder (created).
        study_ids: these studies only (default: every signed one).

    Returns:
        The files written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for sid in study_ids if study_ids is not None else signed_study_ids(db, user):
        path = out_dir / _file_name(sid)
        path.write_text(bundle_json(db, user, sid) + "\n", encoding="utf-8")
        written.append(path)
    return written
