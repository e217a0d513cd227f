"""What a statement says of an earlier study (the words after a prior-study cue) and of a change over
time (a signed number, a rate per year): neither is a value of this study."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.earlier import earlier_spans, is_change
from echogpt.schemas import Study


@pytest.mark.parametrize(("text", "prior"), [
    ("LVEF 32%, compared with baseline of 58%.", ["compared with baseline of 58%"]),
    ("Mild MR (previously moderate).", ["previously moderate"]),
    ("Compared with the prior study of 2024 (mean gradient 31 mmHg) the AS has progressed.",
     ["Compared with the prior study of 2024 (mean gradient 31 mmHg"]),
    ("New large effusion since the prior study.", ["prior study"]),  # what comes before is now's
    ("Previously moderate, now mild MR.", ["Previously moderate"]),
    ("The previously seen thrombus has resolved.", []),  # a finding named by what was seen before
])
def test_earlier_spans(text: str, prior: list[str]) -> None:
    assert [text[a:b] for a, b in earlier_spans(text)] == prior


@pytest.mark.parametrize(("text", "claim", "change"), [
    ("Vmax +0.3 m/s/year.", "Vmax +0.3 m/s", True),
    ("Vmax rose 0.3 m/s per year.", "0.3 m/s", True),
    ("LVEF fell -15 points.", "LVEF fell -15 points", True),
    ("Vmax 3.4 m/s.", "Vmax 3.4 m/s", False),
    ("GLS -18.4%.", "GLS -18.4%", False),  # a negative strain is a value
])
def test_is_change(text: str, claim: str, change: bool) -> None:
    at = text.index(claim)
    assert is_change(text, at, at + len(claim)) is change


def test_a_rate_of_change_is_not_checked_as_a_value_of_the_study() -> None:
    s = Study.model_validate({"study_id": "S1", "findings_text": "Comparison with prior study: Previous "
                              "11/2025: Vmax 3.1 m/s.\nAortic valve: Vmax 3.4 m/s."})
    result = check("Vmax +0.3 m/s/year.", s).statements[0]
    assert result.verdict == "not_checked" and "change over time" in result.reason


def test_a_parenthesis_opened_in_the_earlier_words_belongs_to_them() -> None:
    text = "Moderate AS (mean gradient 28 mmHg), progressed since 2024 (Vmax 3.1 m/s, mean gradient 21 mmHg)."
    spans = [text[a:b] for a, b in earlier_spans(text)]
    assert spans and "mean gradient 21" in spans[-1], spans
