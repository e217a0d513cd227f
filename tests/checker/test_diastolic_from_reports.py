"""From report text to verdict: a diastolic claim judged on the ratios and velocities the findings state."""

from __future__ import annotations

from pathlib import Path

import pytest

from echogpt.checker.check import check
from echogpt.data.reports import read_reports

REPORT = """TRANSTHORACIC ECHOCARDIOGRAM
FINDINGS:
LV: LVIDd 6.0 cm. Biplane EF 28 %. Global hypokinesis.
Diastolic: E/A 2.2, DT 120 ms, average E/e' 18.
LA volume index 40 mL/m2. TR peak velocity 2.9 m/s.

IMPRESSION:
1. Severe LV systolic dysfunction.
"""

INFLOW = """FINDINGS:
LV: normal size. IVSd 1.3 cm, LVPWd 1.2 cm. EF 60 %.
Mitral inflow: E 1.1 m/s, A 0.69 m/s. e' septal 6 cm/s, lateral 8 cm/s.
LA volume index 38 mL/m2. TR peak velocity 3.0 m/s.

IMPRESSION:
1. Normal LV systolic function.
"""


def _study(tmp_path: Path, text: str):  # noqa: ANN202 - a Study
    path = tmp_path / "r1.txt"
    path.write_text(text, encoding="utf-8")
    result = read_reports(path)
    assert not result.errors, result.lines()
    return result.studies[0]


def _verdict(study, claim: str) -> str:  # noqa: ANN001
    (statement,) = check(claim, study).statements
    return statement.verdict


@pytest.mark.parametrize(("claim", "verdict"), [
    ("Restrictive filling pattern with raised filling pressures.", "supported"),
    ("Grade I diastolic dysfunction.", "contradicted"),
])
def test_stated_ratios_grade_the_diastolic_claim(tmp_path: Path, claim: str, verdict: str) -> None:
    study = _study(tmp_path, REPORT)
    assert (study.measurements.e_a_ratio, study.measurements.e_e_prime_avg) == (2.2, 18)
    assert _verdict(study, claim) == verdict


@pytest.mark.parametrize(("claim", "verdict"), [
    ("Grade II diastolic dysfunction with elevated filling pressure.", "supported"),
    ("Grade III diastolic dysfunction.", "contradicted"),
])
def test_inflow_velocities_in_prose_grade_the_diastolic_claim(tmp_path: Path, claim: str,
                                                              verdict: str) -> None:
    study = _study(tmp_path, INFLOW)
    m = study.measurements
    assert (m.e_velocity, m.a_velocity, m.e_prime_septal, m.e_prime_lateral) == (110, 69, 6, 8)
    assert _verdict(study, claim) == verdict
