"""Clinical metrics: fact precision/recall/F1, hallucination rate and critical omissions.

Facts come from ``echogpt.checker.facts.extract_facts``; statement verdicts and omissions from
``echogpt.checker.check.check``. Facts match on concept, location, polarity, grade and value
within the unit tolerances of ``resources/metric_tolerances.json``.

    fact_f1(["1. LVEF 60%."], ["1. LVEF 40%."])["per_sample"][0]["fact_f1"]   # 0.0
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.evaluation.metrics import MetricResult, aggregate_means, check_lengths, prediction_text
from echogpt.schemas import CheckResult, Fact, Study


class Tolerance(BaseModel):
    """Absolute and relative tolerance of one unit, with where it comes from."""

    model_config = ConfigDict(extra="forbid")
    abs: float = Field(0.0, ge=0)
    rel: float = Field(0.0, ge=0)
    source: str


class Tolerances(BaseModel):
    """The tolerance table (``resources/metric_tolerances.json``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    units: dict[str, Tolerance]
    default: Tolerance
    unit_factors: dict[str, dict[str, float]]


@cache
def tolerances() -> Tolerances:
    """The validated tolerance table (cached)."""
    text = resources.files("echogpt.resources").joinpath("metric_tolerances.json").read_text("utf-8")
    return Tolerances.model_validate(json.loads(text))


def _unit(u: str | None) -> str | None:
    if u is None:
        return None
    from echogpt.units import normalise_unit

    return normalise_unit(u)


def values_match(ref: Fact, hyp: Fact, table: Tolerances | None = None) -> bool:
    """True when the two facts' values (or ranges) agree within the unit's tolerance.

    Facts without a value on either side agree (only facts that both give a number are compared).
    Example: reference LVEF 58 % and "LVEF 55-60 %" agree; LVEF 58 % and 40 % do not.
    """
    if ref.value is None or hyp.value is None:
        return True
    table = table or tolerances()
    ru, hu = _unit(ref.unit), _unit(hyp.unit)
    h_lo, h_hi = hyp.value, hyp.value_max if hyp.value_max is not None else hyp.value
    if ru and hu and ru != hu:
        factor = table.unit_factors.get(hu, {}).get(ru)
        if factor is None:
            return False
        h_lo, h_hi = h_lo * factor, h_hi * factor
    r_lo, r_hi = ref.value, ref.value_max if ref.value_max is not None else ref.value
    tol = table.units.get(ru or hu or "", table.default)
    slack = tol.abs + tol.rel * abs(r_hi)
    return max(r_lo, h_lo) <= min(r_hi, h_hi) + slack + 1e-9


def grades_match(a: str | None, b: str | None) -> bool:
    """Grades agree when equal, when one is missing, or when one is the generic form of the other
    ("dilated" and "mildly_dilated", "reduced" and "severely_reduced")."""
    if a is None or b is None or a == b:
        return True
    return a.endswith("_" + b) or b.endswith("_" + a)


def facts_match(ref: Fact, hyp: Fact, table: Tolerances | None = None) -> bool:
    """Same concept, location and polarity, compatible grade, value within tolerance."""
    return (ref.concept == hyp.concept and ref.location == hyp.location
            and ref.polarity == hyp.polarity and grades_match(ref.grade, hyp.grade)
            and values_match(ref, hyp, table))


def _unique(facts: Sequence[Fact]) -> list[Fact]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in facts:
        key = (f.concept, f.location, f.polarity, f.grade, f.value, f.value_max, _unit(f.unit))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def match_facts(references: Sequence[Fact], hypotheses: Sequence[Fact],
                table: Tolerances | None = None) -> dict[str, float]:
    """Precision, recall and F1 of one-to-one matched facts (duplicates counted once).

    Each hypothesis fact takes the first still-unmatched reference fact it matches. Precision is
    matched / hypothesis facts, recall matched / reference facts; both 1.0 when neither side has
    a fact, 0.0 on the side that has none when the other has some.

    Returns:
        ``fact_precision``, ``fact_recall``, ``fact_f1``, ``ref_facts``, ``pred_facts``.
    """
    refs, hyps = _unique(references), _unique(hypotheses)
    used = [False] * len(refs)
    matched = 0
    for h in hyps:
        for i, r in enumerate(refs):
            if not used[i] and facts_match(r, h, table):
                used[i] = True
                matched += 1
                break
    if not refs and not hyps:
        p = r_ = 1.0
    else:
        p = matched / len(hyps) if hyps else 0.0
        r_ = matched / len(refs) if refs else 0.0
    f1 = 2 * p * r_ / (p + r_) if p + r_ else 0.0
    return {"fact_precision": p, "fact_recall": r_, "fact_f1": f1,
            "ref_facts": len(refs), "pred_facts": len(hyps)}


def _extractor() -> Callable[[str], list[Fact]]:
    try:
        from echogpt.checker.facts import extract_facts
    except ImportError as e:
        raise RuntimeError(f"clinical-fact F1 needs echogpt.checker.facts.extract_facts ({e})") from None
    return extract_facts


def fact_f1(references: Sequence[str], predictions: Sequence[Any],
            studies: Sequence[Study] | None = None,
            extract: Callable[[str], list[Fact]] | None = None) -> MetricResult:
    """Clinical-fact precision, recall and F1 of each prediction against its reference.

    Args:
        references: reference impressions.
        predictions: generated impressions (strings or Predictions).
        studies: unused (facts come from the two texts).
        extract: text -> facts; ``echogpt.checker.facts.extract_facts`` by default.

    Returns:
        Per-sample ``fact_precision``, ``fact_recall``, ``fact_f1`` (and fact counts); their means.
    """
    check_lengths(references, predictions)
    extract = extract or _extractor()
    table = tolerances()
    per_sample = [match_facts(extract(ref), extract(prediction_text(pred)), table)
                  for ref, pred in zip(references, predictions, strict=True)]
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}


def _checker(profile: str) -> Callable[[str, Study], CheckResult]:
    try:
        from echogpt.checker.check import check
    except ImportError as e:
        raise RuntimeError(f"hallucination metrics need echogpt.checker.check.check ({e})") from None
    return lambda text, study: check(text, study, profile=profile)


def check_row(result: CheckResult) -> dict[str, Any]:
    """Per-sample hallucination and omission values of one check result."""
    s = result.summary
    n = len(result.statements)
    return {"hallucination_rate": (s["contradicted"] + s["unsupported"]) / n if n else 0.0,
            "contradicted_rate": s["contradicted"] / n if n else 0.0,
            "unsupported_rate": s["unsupported"] / n if n else 0.0,
            "critical_omission": 1.0 if any(o.severity == "critical" for o in result.omissions) else 0.0,
            "high_omission": 1.0 if any(o.severity == "high" for o in result.omissions) else 0.0,
            "omissions": len(result.omissions),
            "omitted": sorted({o.finding for o in result.omissions})}


def hallucination(references: Sequence[str], predictions: Sequence[Any],
                  studies: Sequence[Study] | None = None, profile: str = "default",
                  checker: Callable[[str, Study], CheckResult] | None = None) -> MetricResult:
    """Share of statements the checker finds contradicted or unsupported, and critical omissions.

    Args:
        references: unused (the prediction is checked against its study, not the reference).
        predictions: generated impressions, aligned with ``studies``.
        studies: the input studies (required).
        profile: checker profile.
        checker: (text, study) -> CheckResult; ``echogpt.checker.check.check`` by default.

    Returns:
        Per-sample ``hallucination_rate``, ``contradicted_rate``, ``unsupported_rate``,
        ``critical_omission`` (1.0 when a critical finding is missing), ``high_omission`` (1.0
        when a high-severity finding is missing), ``omissions`` (count)
        and ``omitted`` (finding names); means of the numeric ones.
    """
    if studies is None:
        raise ValueError("hallucination rate needs the input studies")
    check_lengths(references, predictions, studies)
    checker = checker or _checker(profile)
    per_sample = [check_row(checker(prediction_text(p), s))
                  for p, s in zip(predictions, studies, strict=True)]
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}


def critical_omission(references: Sequence[str], predictions: Sequence[Any],
                      studies: Sequence[Study] | None = None, **options: Any) -> MetricResult:
    """Share of predictions that leave out a critical finding of their study (see
    :func:`hallucination`, whose omission values this keeps)."""
    full = hallucination(references, predictions, studies, **options)
    keep = ("critical_omission", "high_omission", "omissions", "omitted")
    per_sample = [{k: row[k] for k in keep} for row in full["per_sample"]]
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}


def study_critical_findings(study: Study, profile: str = "default") -> list[str]:
    """Names of the critical findings a study holds: what the checker finds omitted from an
    empty impression (empty when the checker is unavailable)."""
    try:
        return sorted({o.finding for o in _checker(profile)("", study).omissions})
    except Exception:  # noqa: BLE001 - a breakdown column, never a reason to fail the evaluation
        return []
