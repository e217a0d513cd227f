"""The base of every record: unknown keys are errors, whitespace is stripped, NaN is refused.

    class Echo(Strict): study_id: str
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of every record: unknown keys are errors, whitespace is stripped."""

    # allow_inf_nan=False: a NaN age or size passes every "<"/">" range check, so refuse it outright
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True,
                              allow_inf_nan=False)
