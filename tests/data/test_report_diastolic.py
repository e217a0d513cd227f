"""Diastolic measurements in report prose: stated E/A and E/e', mitral E and A in an inflow line, and
a bare site word after an e' ("e' septal 6 cm/s, lateral 8 cm/s")."""

from __future__ import annotations

import pytest

from echogpt.data.report_measurements import read_measurements


def _read(text: str, table: bool = False) -> dict[str, str]:
    return {r.field: r.raw for r in read_measurements([(1, text)], table=table)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mitral E 0.7 m/s, E/A 1.2, e' septal 6 cm/s, e' lateral 8 cm/s, average E/e' 12",
         {"e_velocity": "0.7 m/s", "e_a_ratio": "1.2", "e_prime_septal": "6 cm/s",
          "e_prime_lateral": "8 cm/s", "e_e_prime_avg": "12"}),
        ("Diastolic: E/A 2.2, DT 120 ms, average E/e' 18.", {"e_a_ratio": "2.2", "e_e_prime_avg": "18"}),
        ("E:A ratio of 0.7, mean E/e′ 9", {"e_a_ratio": "0.7", "e_e_prime_avg": "9"}),
        ("E/E' 13", {"e_e_prime_avg": "13"}),  # a single unqualified E/e' is the average
    ],
)
def test_stated_ratios_are_read(text: str, expected: dict[str, str]) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize("text", ["E/e' septal 15, lateral 12.", "Septal E/e′ 14.", "lateral E/e' 11",
                                  "E/e' (lateral) 10"])
def test_a_site_specific_e_over_e_prime_is_no_average_and_no_e_prime(text: str) -> None:
    assert _read(text) == {}


def test_mitral_e_and_a_are_read_in_an_inflow_line_with_their_unit() -> None:
    found = _read("Mitral inflow: E 1.1 m/s, A 0.69 m/s, E/A 1.6. e' septal 6 cm/s, lateral 8 cm/s; "
                  "average E/e' 16.")
    assert found == {"e_velocity": "1.1 m/s", "a_velocity": "0.69 m/s", "e_a_ratio": "1.6",
                     "e_prime_septal": "6 cm/s", "e_prime_lateral": "8 cm/s", "e_e_prime_avg": "16"}
    assert _read("Diastolic: E 0.9 m/s, DT 160 ms.") == {"e_velocity": "0.9 m/s"}


@pytest.mark.parametrize("text", [
    "There is a 1.2 cm mass on the septum.",  # "a" is an article, not the A wave
    "Mitral valve: a 2 mm vegetation.",  # in a mitral line, but no velocity unit
    "Inflow: E 1.1 m/s.",  # no mitral context named
    "Mitral inflow: E 90, A 60.",  # no unit in prose
])
def test_e_and_a_need_a_mitral_line_and_a_velocity_unit_in_prose(text: str) -> None:
    assert "a_velocity" not in _read(text) and "e_velocity" not in _read(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Lateral wall 1.1 cm.", {}),  # no e' before it
    ("e' lateral 9 cm/s, basal septal 1.3 cm", {"e_prime_lateral": "9 cm/s"}),  # a length
    ("e' septal 6 cm/s. Lateral 8 cm/s", {"e_prime_septal": "6 cm/s"}),  # another sentence
    ("TR Vmax 2.5 m/s, lateral 8 cm/s", {"tr_vmax": "2.5 m/s"}),  # the last reading is no e'
])
def test_a_bare_site_word_reads_an_e_prime_only_right_after_the_other_site(
        text: str, expected: dict[str, str]) -> None:
    assert _read(text) == expected


def test_septal_after_lateral_e_prime() -> None:
    assert _read("lateral e' 9 cm/s, septal 7 cm/s") == {"e_prime_lateral": "9 cm/s",
                                                          "e_prime_septal": "7 cm/s"}
