"""The published record formats: JSON Schemas generated from ``echogpt.schemas`` and example records.

``echogpt export-schemas`` writes them to ``data_schemas/``; a test regenerates them and fails
when the committed files drift from the models.

    export_schemas("data_schemas")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from echogpt.data.import_result import RejectedRow
from echogpt.data.mapping import ColumnMapping
from echogpt.schemas import RECORD_MODELS, Study

MINIMAL_STUDY: dict[str, Any] = {
    "study_id": "EX-0001",
    "findings_text": "Normal left ventricular size and systolic function. No significant valve "
                     "disease. No pericardial effusion.",
}
"""The smallest valid study (CONTRACTS.md): only study_id and findings_text."""

FULL_STUDY: dict[str, Any] = {
    "study_id": "EX-0002",
    "patient_id": "P-0002",
    "study_date": "2025-03-14",
    "study_type": "TTE",
    "indication": "Dyspnoea on exertion; prior inferior myocardial infarction",
    "rhythm": "sinus",
    "lbbb": False,
    "ventilated": False,
    "contrast": False,
    "agitated_saline": True,
    "patient": {"age": 67, "sex": "male", "height_cm": 176, "weight_kg": 84},
    "measurements": {
        "lvef": {"low": 40, "high": 45, "method": "biplane"},
        "lvidd": 5.9, "lvids": 4.4, "ivsd": 1.0, "lvpwd": 0.9, "lvedv": 168, "lvesv": 96,
        "la_volume": 90, "la_diameter": 4.3, "e_velocity": 92, "a_velocity": 55,
        "e_prime_septal": 5.0, "e_prime_lateral": 7.0, "e_a_ratio": 1.7, "e_e_prime_avg": 15.3,
        "tr_vmax": 3.0, "ivc_diameter": 2.3,
        "ivc_collapse": 40, "rap": 8, "rvsp": 44, "tapse": 1.9, "rv_basal_diameter": 4.0,
        "rv_lv_ratio": 0.7, "septal_flattening": False, "rvot_acceleration_time": 95,
        "pa_diameter": 2.6, "ra_area": 19, "av_vmax": 1.6, "av_mean_gradient": 5,
        "av_peak_gradient": 10, "ava": 2.6, "sv_index": 34, "lvot_diameter": 2.2,
        "lvot_peak_gradient": 6, "mva": 3.8, "mv_mean_gradient": 2, "mv_pht": 60,
        "aortic_root": 3.6, "ascending_aorta": 3.4, "effusion_width": 0.3, "heart_rate": 72,
    },
    "findings": {
        "aortic": {"regurgitation": "trace", "stenosis": "sclerosis", "morphology": ["calcified"]},
        "mitral": {"regurgitation": "moderate", "stenosis": "none", "mechanism": "secondary",
                   "morphology": ["tethered leaflets"]},
        "tricuspid": {"regurgitation": "mild", "prosthesis": {"kind": "repair"}},
        "pulmonic": {"regurgitation": "trace"},
        "wall_motion": {"4": "akinetic", "10": "hypokinetic", "5": "hypokinetic"},
        "lv_size": "mildly-dilated",
        "rv_size": "normal",
        "rv_function": "normal",
        "la_size": "moderately-dilated",
        "ra_size": "normal",
        "diastolic_function": "grade-2",
        "effusion": {"size": "trivial", "location": "posterior"},
        "thrombus": [],
        "vegetation": [],
        "mass": [{"location": "la", "size_cm": 0.6, "mobile": False,
                  "description": "small echodensity at the interatrial septum, likely lipomatous"}],
        "shunt": {"kind": "pfo", "present": False, "method": "agitated-saline"},
        "lvot_obstruction": False,
        "sam": False,
        "aortic_dissection": False,
        "image_quality": "adequate",
    },
    "prior": {
        "study_date": "2023-02-01",
        "lvef": {"low": 50, "high": 50},
        "findings": {"mitral": {"regurgitation": "mild"}},
        "impression": "1. Low-normal LV systolic function, LVEF 50 %.\n2. Mild mitral regurgitation.",
    },
    "findings_text": "The left ventricle is mildly dilated with mildly reduced systolic function "
                     "(biplane LVEF 40-45 %). Akinesis of the basal inferior wall and hypokinesis "
                     "of the basal inferolateral and mid inferior segments. Grade 2 diastolic "
                     "dysfunction. Moderately dilated left atrium. Moderate secondary mitral "
                     "regurgitation. Aortic sclerosis without stenosis. Normal RV size and "
                     "function. RVSP 44 mmHg. Trivial posterior pericardial effusion. No shunt "
                     "on agitated saline.",
    "impression": "1. Mildly dilated LV with mildly reduced systolic function, LVEF 40-45 %, "
                  "lower than the prior study (50 %).\n"
                  "2. Regional wall motion abnormalities in the RCA territory (inferior and "
                  "inferolateral).\n"
                  "3. Moderate secondary mitral regurgitation, increased from mild.\n"
                  "4. Grade 2 diastolic dysfunction with a moderately dilated left atrium.\n"
                  "5. Mildly elevated RVSP, 44 mmHg.",
    "phenotype": "ischemic-cardiomyopathy",
}
"""A study with every block filled in (values in canonical units)."""

EXPORTED_MODELS: dict[str, type[BaseModel]] = {
    **RECORD_MODELS, "column_mapping": ColumnMapping, "rejected_row": RejectedRow,
}
"""Everything written to data_schemas/: the record models plus the mapping file and rejects line."""


def _dumps(obj: Any, sort_keys: bool) -> str:
    return json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """Relative path -> text of every generated file (schemas, sorted keys; then the examples).

    Schemas are in serialization mode: they describe the records EchoGPT writes (canonical
    units and terms); the importer accepts more (units in text, synonyms such as "1+").
    """
    files = {f"{name}.schema.json": _dumps(model.model_json_schema(mode="serialization"), True)
             for name, model in EXPORTED_MODELS.items()}
    for name, example in (("minimal", MINIMAL_STUDY), ("full", FULL_STUDY)):
        canonical = Study.model_validate(example).model_dump(mode="json", exclude_none=True)
        files[f"examples/study.{name}.json"] = _dumps(canonical, False)
    return files


def export_schemas(out: str | Path = "data_schemas") -> list[Path]:
    """Write every generated file under ``out`` (other files there are left alone).

    Args:
        out: the folder, created if needed.

    Returns:
        The paths written.
    """
    written = []
    for rel, text in schema_files().items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
