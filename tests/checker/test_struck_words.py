"""A reviewer's struck-out words ("~~Severe~~ Moderate") are no part of a statement: they neither
support nor contradict anything, and a statement made only of struck words states nothing."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.schemas import Study
from echogpt.text import mask_struck

STUDY = Study.model_validate({
    "study_id": "s1",
    "findings_text": "Calcified aortic valve. AV Vmax 3.4 m/s, mean gradient 27 mmHg, AVA 1.2 cm2. "
                     "Normal LV size. LVEF 60 %. No pericardial effusion.",
    "measurements": {"av_vmax": 3.4, "av_mean_gradient": 27, "ava": 1.2, "lvef": 60}})


def test_struck_words_are_blanked_with_their_offsets() -> None:
    assert mask_struck("~~Mild~~ Moderate AS") == "         Moderate AS"


def test_a_struck_word_neither_supports_nor_contradicts() -> None:
    result = check("1. ~~Small pericardial effusion.~~ No pericardial effusion.\n"
                   "2. ~~Refer for surgical valve replacement~~\n"
                   "3. Normal LV size ~~with severe dilatation~~.", STUDY)
    verdicts = [s.verdict for s in result.statements]
    assert "contradicted" not in verdicts and "unsupported" not in verdicts, verdicts
    assert verdicts[1] == "not_factual"
