"""A flag answered No is no flag: a Yes/No tick box with No ticked ("Contrast: [ ] Yes [x] No") sets
neither contrast nor agitated saline, nor does "No contrast or agitated saline."; a bubble study
whose result follows its label ("Agitated saline: no shunt at rest") was done."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report


def report(technique: str) -> str:
    return (f"TRANSTHORACIC ECHO\n\nTechnique:\n{technique}\n\nFindings:\nNormal LV size and function.\n\n"
            "Impression:\n1. Normal study.")


@pytest.mark.parametrize("technique", [
    "Contrast: [ ] Yes  [x] No\nAgitated saline: [ ] Yes  [x] No",
    "Standard views. No contrast or agitated saline.",
])
def test_a_flag_answered_no_is_not_set(technique: str) -> None:
    parsed = parse_report(report(technique))
    assert (parsed.contrast, parsed.agitated_saline) == (False, False)


@pytest.mark.parametrize(("technique", "flags"), [
    ("Contrast: [x] Yes  [ ] No (Definity)", (True, False)),
    ("Agitated saline: no interatrial shunt at rest or with Valsalva.", (False, True)),
])
def test_a_flag_given_is_still_set(technique: str, flags: tuple[bool, bool]) -> None:
    parsed = parse_report(report(technique))
    assert (parsed.contrast, parsed.agitated_saline) == flags
