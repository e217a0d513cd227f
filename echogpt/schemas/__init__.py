"""Record shapes of EchoGPT: a study (patient, measurements, findings, prose) and what is made of it.

One module per record part (``enums``, ``patient``, ``measurements``, ``findings``, ``study``,
``fact``, ``outputs``); every public name is re-exported here, so ``from echogpt.schemas import X``.

    study = Study.model_validate({"study_id": "S1", "findings_text": "Normal LV size ..."})
"""

from __future__ import annotations

from pydantic import BaseModel

from echogpt.schemas.base import Strict
from echogpt.schemas.enums import (
    DiastolicGrade,
    EFCategory,
    EffusionSize,
    FunctionGrade,
    ImageQuality,
    RegurgitationGrade,
    Rhythm,
    Sex,
    SizeGrade,
    StenosisGrade,
    StudyType,
    WallMotion,
)
from echogpt.schemas.fact import Fact, concept_vocabulary
from echogpt.schemas.findings import (
    SEGMENTS,
    Effusion,
    Findings,
    Lesion,
    Prosthesis,
    Shunt,
    ValveFinding,
    segment_number,
)
from echogpt.schemas.measurements import LVEF, Measurements
from echogpt.schemas.outputs import (
    CheckResult,
    GuardIntervention,
    GuardRecord,
    Omission,
    Prediction,
    StatementCheck,
    Verdict,
)
from echogpt.schemas.patient import Patient
from echogpt.schemas.study import Prior, Study

RECORD_MODELS: dict[str, type[BaseModel]] = {
    "study": Study, "fact": Fact, "prediction": Prediction, "check_result": CheckResult,
}
"""Models exported as JSON Schema to data_schemas/ (name -> model)."""

__all__ = [
    "LVEF", "RECORD_MODELS", "SEGMENTS", "CheckResult", "DiastolicGrade", "EFCategory", "Effusion",
    "EffusionSize", "Fact", "Findings", "FunctionGrade", "GuardIntervention", "GuardRecord",
    "ImageQuality", "Lesion", "Measurements", "Omission", "Patient", "Prediction", "Prior", "Prosthesis",
    "RegurgitationGrade", "Rhythm", "Sex", "Shunt", "SizeGrade", "StatementCheck", "StenosisGrade",
    "Strict", "Study", "StudyType", "ValveFinding", "Verdict", "WallMotion", "concept_vocabulary",
    "segment_number",
]
