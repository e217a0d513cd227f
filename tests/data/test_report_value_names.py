"""Values named in the ways clinic and template reports write them: the posterior wall beside the septum,
"e' sep", a unit in the row label, a ratio of VTIs, and a shunt's jet velocity."""

from __future__ import annotations

import pytest

from echogpt.data.report_measurements import read_measurements


def _read(line: str, table: bool = False) -> dict[str, str]:
    return {r.field: r.raw for r in read_measurements([(1, line)], table=table)}


def test_pw_beside_the_septum_is_the_posterior_wall() -> None:
    assert _read("LVEDD 62 mm, IVS 10 mm, PW 9 mm.")["lvpwd"] == "9 mm"
    assert "lvpwd" not in _read("PW Doppler of the mitral inflow: 0.8 m/s")


def test_e_prime_sep_is_the_septal_e_prime() -> None:
    assert _read("e' lat 8 cm/s, e' sep 6 cm/s")["e_prime_septal"] == "6 cm/s"


def test_the_unit_in_the_row_label_is_the_value_s_unit() -> None:
    assert _read("TAPSE (mm)      20      17", table=True)["tapse"] == "20 mm"
    assert _read("TR Vmax (m/s)   2.5     2.9", table=True)["tr_vmax"] == "2.5 m/s"
    assert _read("LVEF biplane (%)   45", table=True)["lvef"] == "45 %"


def test_a_vti_ratio_is_never_an_lvot_diameter() -> None:
    assert "lvot_diameter" not in _read("VTI prosthesis / VTI LVOT: 1.9")
    assert _read("LVOT 2.0 cm")["lvot_diameter"] == "2.0 cm"


def test_a_shunt_jet_velocity_is_never_the_tr_velocity() -> None:
    line = ("Small perimembranous VSD partly covered by tricuspid leaflet tissue. Left-to-right flow, "
            "peak velocity 5.0 m/s.")
    assert "tr_vmax" not in _read(line)
    assert _read("Tricuspid valve: mild TR, peak velocity 2.8 m/s")["tr_vmax"] == "2.8 m/s"


def test_a_value_in_a_clause_dated_in_the_past_is_no_value_of_this_study() -> None:
    def values(line: str, field: str) -> list[str]:
        return [r.raw for r in read_measurements([(1, line)], table=False) if r.field == field]

    assert values("In 08/2026 screening found IVS 13 mm. Now IVS 11 mm.", "ivsd") == ["11 mm"]
    assert values("aortic stenosis (echo 2024: AV Vmax 3.1 m/s). AV Vmax 3.5 m/s.", "av_vmax") == ["3.5 m/s"]
    assert values("Echo 20/11/2026: LVEF 55 %", "lvef") == ["55 %"]


def test_a_unit_with_a_slash_makes_no_ratio() -> None:
    read = _read("E 0.7 m/s   A 0.6 m/s   septal e' 7 cm/s   lateral e' 9 cm/s", table=True)
    assert read["a_velocity"] == "0.6 m/s" and read["e_prime_septal"] == "7 cm/s"


def test_an_earlier_study_in_brackets_is_a_comparison_line() -> None:
    from echogpt.data.report_text import parse_report

    parsed = parse_report("TTE\n81-year-old man, known AS (echo 2024: AV Vmax 3.1 m/s, mean gradient "
                          "21 mmHg).\n\nFindings: AV Vmax 3.5 m/s, mean gradient 28 mmHg.\n\n"
                          "Conclusion:\nModerate AS.")
    assert "Comparison with prior study: echo 2024: AV Vmax 3.1 m/s" in parsed.findings_text
    assert [r.raw for r in parsed.readings if r.field == "av_vmax"] == ["3.5 m/s"]


def test_an_earlier_study_dated_in_full_in_the_history_is_no_value_of_this_study() -> None:
    from echogpt.data.report_text import parse_report

    parsed = parse_report("TTE\nDate: 2026-12-02\n88-year-old woman, known AS (TTE 14/05/2025: Vmax "
                          "4.0 m/s, mean gradient 40 mmHg, EF 60 %).\n\nLV: EF 55 %.\nAortic valve: Vmax "
                          "4.5 m/s, mean gradient 50 mmHg.\n\nConclusion:\nSevere AS.")
    read = {r.field: r.raw for r in parsed.readings}
    assert (read["av_vmax"], read["av_mean_gradient"], read["lvef"]) == ("4.5 m/s", "50 mmHg", "55 %")
    assert "Comparison with prior study: TTE 14/05/2025: Vmax 4.0 m/s" in parsed.findings_text
    assert "known AS." in parsed.findings_text  # the aside left the history line, not lost


@pytest.mark.parametrize(("line", "field", "raw"), [
    ("Diastolic assessment in AF: E 1.05 m/s, septal e' 7 cm/s.", "e_velocity", "1.05 m/s"),
    ("Diastolic (AF): E 0.81 m/s, septal e' 9 cm/s.", "e_velocity", "0.81 m/s"),
    ("IVC plethoric, 2.4 cm, < 50 % collapse.", "ivc_diameter", "2.4 cm"),
    ("RA dilated, area 24 cm2.", "ra_area", "24 cm2"),
    ("RA severely enlarged (area 29 cm2).", "ra_area", "29 cm2"),
    ("RV mildly dilated (basal diameter 43 mm), TAPSE 16 mm.", "rv_basal_diameter", "43 mm"),
    ("RV: dilated (basal 47 mm).", "rv_basal_diameter", "47 mm"),
    ("PA 2.9 cm. RVOT AT 85 ms.", "pa_diameter", "2.9 cm"),
    ("Tricuspid valve: moderate TR. RA dilated. Peak velocity 2.7 m/s.", "tr_vmax", "2.7 m/s"),
])
def test_a_value_after_its_chambers_or_labels_words_is_read(line: str, field: str, raw: str) -> None:
    assert _read(line)[field] == raw


def test_a_diastolic_label_makes_no_valve_of_a_later_line() -> None:
    assert "mv_mean_gradient" not in _read("Diastolic function: normal. Aortic valve: mean gradient 12 mmHg")
