"""split_statements: one statement per numbered line, bullet or sentence, with exact offsets."""

import pytest

from echogpt.text import number_statements, split_statements

CASES = [
    ("1. Normal LV size. LVEF 55-60%.\n2. Mild MR; trace TR.",
     ["Normal LV size.", "LVEF 55-60%.", "Mild MR; trace TR."]),
    ("- LVEF approx. 35%.\n• Dr. Smith notified.", ["LVEF approx. 35%.", "Dr. Smith notified."]),
    ("Moderate AS: Vmax 3.5 m/s. 2. Mild MR.", ["Moderate AS: Vmax 3.5 m/s.", "Mild MR."]),
    ("LVEF 60 %. 2.5 cm aortic root.", ["LVEF 60 %.", "2.5 cm aortic root."]),
    ("1) Severe AS (AVA 0.8 cm2)\n\n2) No effusion", ["Severe AS (AVA 0.8 cm2)", "No effusion"]),
    ("", []),
    ("   \n 3. \n", []),
    # "MR." at a sentence end is mitral regurgitation, not the title "Mr."
    ("Mild MR. Aortic sclerosis without stenosis.", ["Mild MR.", "Aortic sclerosis without stenosis."]),
    ("Moderate AR. Mild TR.", ["Moderate AR.", "Mild TR."]),
    ("Seen by Mr. Jones.", ["Seen by Mr. Jones."]),
    # lower-case dictation: a period and a lower-case word end a sentence, except after an abbreviation
    ("normal lv size. mild mr. no effusion.", ["normal lv size.", "mild mr.", "no effusion."]),
    ("ef approx. 35 percent. trace tr.", ["ef approx. 35 percent.", "trace tr."]),
    ("septal hypertrophy vs. hcm. no sam.", ["septal hypertrophy vs. hcm.", "no sam."]),
    # an abbreviation inside brackets never ends a sentence
    ("Asymmetric septal hypertrophy (max. 16 mm). No SAM.",
     ["Asymmetric septal hypertrophy (max. 16 mm).", "No SAM."]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_statements(text, expected):
    got = split_statements(text)
    assert [s.text for s in got] == expected
    for s in got:
        assert text[s.start : s.end] == s.text


def test_number_statements_round_trip():
    text = number_statements(["Normal LV size.", "Mild MR."])
    assert text == "1. Normal LV size.\n2. Mild MR."
    assert [s.text for s in split_statements(text)] == ["Normal LV size.", "Mild MR."]


def test_a_leading_question_mark_is_a_hedge_kept_with_its_statement():
    text = "3. Normal LV.\n4. ? Tubercular pericardial effusion - correlate clinically.\n- ?LV thrombus"
    assert [s.text for s in split_statements(text)] == [
        "Normal LV.", "? Tubercular pericardial effusion - correlate clinically.", "?LV thrombus"]
