"""One echocardiogram, the input to drafting, checking and evaluation (CONTRACTS.md), and the
previous study's key facts it may carry for comparison statements.

    study = Study.model_validate({"study_id": "S1", "findings_text": "Normal LV size ..."})
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from echogpt import units
from echogpt.schemas.base import Strict
from echogpt.schemas.enums import _RHYTHM, Rhythm, Sex, StudyType, _enum_from
from echogpt.schemas.findings import Findings
from echogpt.schemas.measurements import LVEF, Measurements
from echogpt.schemas.patient import Patient


class Prior(Strict):
    """The previous study's key facts, for comparison statements."""

    study_date: date | None = None
    lvef: LVEF | None = None
    measurements: Measurements | None = None
    findings: Findings | None = None
    impression: str | None = None


# ---------------------------------------------------------------- study


class Study(Strict):
    """One echocardiogram: the input to drafting, checking and evaluation (CONTRACTS.md)."""

    study_id: str = Field(min_length=1, max_length=128)
    patient_id: str | None = Field(None, min_length=1, max_length=128,
                                   description="Splits are by patient; defaults to study_id")
    study_date: date | None = None
    study_type: StudyType = StudyType.TTE
    indication: str | None = Field(None, description="The reason for the study; a report import adds the "
                                   "history and how the study was done, each labelled ('History: ...')")
    rhythm: Rhythm | None = None
    lbbb: bool = False
    ventilated: bool = Field(False, description="Mechanically ventilated (IVC-based RAP not valid)")
    contrast: bool = Field(False, description="Ultrasound-enhancing agent used")
    agitated_saline: bool = Field(False, description="Agitated-saline (bubble) study done")
    patient: Patient | None = None
    measurements: Measurements | None = None
    findings: Findings | None = None
    prior: Prior | None = None
    findings_text: str = Field(min_length=1, description="The findings section as prose")
    impression: str | None = Field(None, description="Reference impression (training/evaluation)")
    unread: list[str] | None = Field(None, description="Parts of the source report the import could not "
                                     "read (a suspect cut, table columns not told apart, lines under no "
                                     "heading, values in a procedure section); a claim the study is silent "
                                     "on is then not_checked, not unsupported; a note that ends with the "
                                     "unread text in double quotes excuses only the claims whose subject "
                                     "that text names")
    superseded: list[str] | None = Field(None, description="Parts of the report that a later part of it "
                                         "replaces (a sonographer's preliminary read under the final "
                                         "report, a first impression an addendum re-issues, a value a "
                                         "correction or the final report replaces), quoted for the record; "
                                         "never evidence for or against a claim")
    recommendations: list[str] | None = Field(None, description="The report's own plan outside its "
                                              "impression (recommendations, referrals, follow-up), one "
                                              "labelled line per section as written; never findings, so "
                                              "never evidence for or against a claim")
    phenotype: str | None = Field(None, description="Synthetic label(s), for breakdowns only")

    @field_validator("study_id", "patient_id", mode="before")
    @classmethod
    def _ident(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("study_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> Any:
        if isinstance(v, str):
            for t in StudyType:
                if t.value.lower() == v.strip().lower():
                    return t
        return v

    @field_validator("rhythm", mode="before")
    @classmethod
    def _rhythm(cls, v: Any) -> Any:
        return _enum_from(Rhythm, _RHYTHM, v, "rhythm")

    @field_validator("measurements")
    @classmethod
    def _lavi(cls, m: Measurements | None, info: ValidationInfo) -> Measurements | None:
        # a field validator (not the model one) so a bad derived LAVI is reported at "measurements"
        p = info.data.get("patient")
        if m and m.lavi is None and m.la_volume and p and p.bsa_m2:
            lavi = round(m.la_volume / p.bsa_m2, 1)  # ASE15: LAVI = LA volume / BSA
            object.__setattr__(m, "lavi", units.check_range("lavi", lavi, had_unit=True))
        return m

    @model_validator(mode="after")
    def _derive(self) -> Study:
        if self.patient_id is None:
            object.__setattr__(self, "patient_id", self.study_id)
        return self

    @property
    def sex(self) -> Sex | None:
        return self.patient.sex if self.patient else None
