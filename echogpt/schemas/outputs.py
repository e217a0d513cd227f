"""What is made of a study: a generated impression (Prediction, with what the guard changed)
and the checker's result (a verdict per statement, omissions, summary counts).

    CheckResult.model_validate_json(line).flagged
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, computed_field, model_validator

from echogpt.schemas.base import Strict
from echogpt.schemas.fact import Fact


class Prediction(Strict):
    """One generated impression (a line of `echogpt generate`'s output)."""

    study_id: str
    mode: Literal["fine-tuned", "zero-shot", "few-shot", "template"]
    impression: str
    base_model: str | None = Field(None, description="hub id or embedded:smollm2-135m-instruct@<hash>")
    adapter: str | None = None
    prompt_hash: str | None = None
    prompt_tokens: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    stopped: bool = Field(True, description="Ended on the end-of-turn token, not the token limit")
    guard: GuardRecord | None = Field(None, description="What the checker-guided drafting changed; "
                                                        "None when drafted unguarded")


Verdict = Literal["supported", "contradicted", "unsupported", "not_factual", "not_checked"]


class StatementCheck(Strict):
    """The checker's verdict on one statement of an impression."""

    text: str
    start: int
    end: int
    verdict: Verdict
    reason: str
    facts: list[Fact] = Field(default_factory=list)
    evidence: str | None = Field(None, description="what of the study the verdict rests on, in words: "
                                 "\"study: LVEF 35 % (measurements.lvef)\", \"study: 'severe MR' (findings "
                                 "text)\"; None when no fact of the study is cited")


class GuardIntervention(Strict):
    """One change the guard made to a draft while the model wrote it."""

    kind: Literal["repaired", "replaced", "dropped", "added"] = Field(
        description="repaired: one value or grade set to the study's; replaced: rewritten by the model "
                    "(or, when no rewrite on its subject passed, the template's sentence about it); "
                    "dropped: no rewrite passed; added: an omitted critical finding appended")
    original: str | None = Field(None, description="The statement as the model first wrote it (None: added)")
    text: str | None = Field(None, description="The statement now in the draft (None: dropped)")
    verdict: Verdict | None = Field(None, description="The checker's verdict on the original")
    reason: str = Field(description="Why, in words, with the study's evidence")
    start: int = Field(description="Span start in the guarded text (a dropped statement: where it was)")
    end: int = Field(description="Span end in the guarded text (start for a dropped statement)")
    candidates: int = Field(0, ge=0, description="Rewrites the model wrote for it")

    def line(self) -> str:
        """One line for the audit trail and the page's tooltip."""
        was = f"'{self.original}'" if self.original else ""
        now = f"'{self.text}'" if self.text else ""
        change = {"repaired": f"{was} -> {now}", "replaced": f"{was} -> {now}", "dropped": f"{was} left out",
                  "added": f"{now} added"}[self.kind]
        return f"{self.kind}: {change} ({self.reason})"


class GuardRecord(Strict):
    """What checker-guided drafting changed, kept with the draft; the text the model wrote unguarded
    stays readable."""

    unguarded_text: str = Field(description="The draft as the model first wrote each statement: repairs "
                                            "and rewrites undone, dropped statements back, additions out")
    interventions: list[GuardIntervention] = Field(default_factory=list)


class Omission(Strict):
    """A critical finding present in the study and absent from the impression."""

    finding: str
    severity: Literal["critical", "high", "moderate"] = "critical"
    evidence: str


class CheckResult(Strict):
    """The hallucination check of one impression against its study."""

    study_id: str
    statements: list[StatementCheck]
    omissions: list[Omission] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_summary(cls, v: Any) -> Any:
        # summary is computed and written out; reading a written result back must not fail on it
        if isinstance(v, dict) and "summary" in v:
            return {k: x for k, x in v.items() if k != "summary"}
        return v

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, int]:
        counts = {v: 0 for v in ("supported", "contradicted", "unsupported", "not_factual", "not_checked")}
        for s in self.statements:
            counts[s.verdict] += 1
        counts["omissions"] = len(self.omissions)
        return counts

    @property
    def flagged(self) -> bool:
        """True when any statement is contradicted or unsupported, or a critical finding is missing."""
        s = self.summary
        return bool(s["contradicted"] or s["unsupported"] or s["omissions"])
