"""What reading one study file yields: the valid studies, each rejected row with its row number and
every reason (:class:`FieldError`), and how rows are counted in each format.

    result.counts  # {"rows": 12, "valid": 11, "rejected": 1}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from echogpt.schemas import Study

Format = Literal["jsonl", "json", "csv", "parquet"]

NUMBERING: dict[Format, str] = {
    "jsonl": "JSONL lines, first line = 1",
    "json": "array items, first item = 1",
    "csv": "CSV rows, header = row 1, first data row = 2",
    "parquet": "Parquet rows, first row = 1",
}
"""How row numbers count, per format (said in every message that gives a row number)."""


class FieldError(BaseModel):
    """One reason a row was rejected."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="Dotted Study field path ('' for the whole row)")
    type: str = Field(description="Error type, e.g. implausible_value, missing, json_invalid")
    message: str
    value: Any = Field(None, description="The offending value as read")
    expected: str | None = Field(None, description="Allowed range or values, when known")
    column: str | None = Field(None, description="Source column, when it differs from field")


class RejectedRow(BaseModel):
    """A row that did not become a Study, with every reason."""

    model_config = ConfigDict(extra="forbid")
    row: int = Field(description="1-based row number; see 'numbering'")
    numbering: str = Field(description="How rows are counted in this file")
    study_id: str | None = Field(None, description="The row's study_id, if it could be read")
    raw: Any = Field(description="The original row: an object, a list of CSV cells or the line text")
    errors: list[FieldError] = Field(min_length=1)

    def reason(self) -> str:
        """One line: row number, then each error's field and message."""
        word = {"JSONL": "line", "array": "item"}.get(self.numbering.split(" ", 1)[0], "row")
        parts = [f"{e.field or '(row)'}: {e.message}" for e in self.errors]
        return f"{word} {self.row}: " + "; ".join(parts)


class ImportResult(BaseModel):
    """The outcome of reading one file: valid studies, rejected rows, where they came from."""

    model_config = ConfigDict(extra="forbid")
    source: str
    format: Format
    numbering: str
    studies: list[Study] = Field(default_factory=list)
    rejects: list[RejectedRow] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        """rows read, valid and rejected (rows == valid + rejected)."""
        return {"rows": len(self.studies) + len(self.rejects), "valid": len(self.studies),
                "rejected": len(self.rejects)}
