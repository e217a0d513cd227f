"""What a reader study is, without the database: the cases file, the design (preference and/or
Likert, dimensions, which pairs), the rating scales, the blinded views readers and admins get,
and the normalisation that hides each source's formatting. Format and coding:
``docs/reader_study.md``; the records are ``reader.study``'s.

    cases = load_cases("cases.jsonl"); Design(likert=True, reference="cardiologist")
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from echogpt.text import number_statements, split_statements

DIMENSIONS = ["completeness", "conciseness", "correctness", "clinical_utility"]
PREFERENCE_SCALE = {-2: "A much better", -1: "A somewhat better", 0: "No preference",
                    1: "B somewhat better", 2: "B much better"}
"""EchoGPT's 5-level A-vs-B preference, coded toward report B (negative: A preferred)."""
LIKERT_SCALE = {1: "Very poor", 2: "Poor", 3: "Acceptable", 4: "Good", 5: "Excellent"}


class Case(BaseModel):
    """One line of the cases JSONL: what readers see and the reports to compare."""

    model_config = ConfigDict(extra="forbid")
    case_id: str = Field(min_length=1, max_length=128)
    findings_text: str = Field(min_length=1, description="The study findings shown to readers")
    reports: dict[str, str] = Field(description="source name -> report text (two or more)")
    metrics: dict[str, dict[str, float]] | None = Field(
        None, description="Optional per-source automatic metrics, source -> {name: value}")

    @model_validator(mode="after")
    def _two_sources(self) -> Case:
        if len(self.reports) < 2:
            raise ValueError("a case needs reports from two or more sources")
        if any(not t.strip() for t in self.reports.values()):
            raise ValueError("a report is empty")
        return self


class Design(BaseModel):
    """What readers do. Pair rule: ``all`` shows every pair of sources (B is the later source in
    ``sources`` order); ``vs_reference`` shows each other source against ``reference`` (B is the
    other source). Preference values are stored toward B *as shown* and recoded toward the design's
    B for analysis."""

    model_config = ConfigDict(extra="forbid")
    preference: bool = Field(True, description="A-vs-B 5-level preference per dimension")
    likert: bool = Field(False, description="Absolute 1-5 Likert per report and dimension")
    dimensions: list[str] = Field(default_factory=lambda: list(DIMENSIONS), min_length=1)
    pairs: Literal["all", "vs_reference"] = Field("all", description="Which pairs are shown")
    reference: str | None = Field(None, description="Reference source (metrics, vs_reference)")
    sources: list[str] = Field(default_factory=list, description="Source order; default sorted")

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        if not (self.preference or self.likert):
            raise ValueError("choose preference, likert or both")
        if self.pairs == "vs_reference" and not self.reference:
            raise ValueError("pairs vs_reference needs a reference source")
        return self

    def source_pairs(self) -> list[tuple[str, str]]:
        """(design A, design B) source pairs shown for each case."""
        if self.pairs == "vs_reference":
            return [(self.reference, s) for s in self.sources if s != self.reference]
        return list(itertools.combinations(self.sources, 2))


class BlindReport(BaseModel):
    """A report as a reader sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str  # "A", "B" or "Report"
    report_id: str  # random public id
    text: str


class ReaderTask(BaseModel):
    """One screen of a reader's session."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    study: str
    position: int
    total: int
    kind: Literal["ab", "likert"]
    findings_text: str
    reports: list[BlindReport]
    dimensions: list[str]
    scale: dict[int, str]
    answers: dict[str, int] | None  # this reader's latest answer, when resuming
    comment: str | None


class ReaderProgress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    study: str
    answered: int
    total: int


class StudySummary(BaseModel):
    """An admin's view of a study."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    seed: int
    design: Design
    cases: int
    readers: dict[str, ReaderProgress]


def normalize_report(text: str) -> str:
    """The report as readers see it: one statement per line, numbered ``1.``, single spaces,
    each ending with a full stop, so numbering, bullets or spacing cannot reveal the source."""
    statements = []
    for st in split_statements(text):
        body = re.sub(r"\s+", " ", st.text).strip()
        body = body[0].upper() + body[1:] if body else body
        statements.append(body if body.endswith((".", "!", "?")) else body + ".")
    return number_statements(statements)


def parse_cases(text: str, source: str = "cases") -> list[Case]:
    """Validate cases JSONL text (``ValueError`` naming the line of the first bad one)."""
    cases = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ValueError(f"{source} line {n}: {where + ': ' if where else ''}"
                             f"{err['msg'].removeprefix('Value error, ')}") from None
    if not cases:
        raise ValueError(f"{source} holds no cases")
    return cases


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate a cases JSONL file (see :func:`parse_cases`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return parse_cases(text, str(path))
