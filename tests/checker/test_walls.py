"""Walls in prose: a level written once before coordinated walls in the plural ("mid anterior and
anteroseptal walls") is the level of each, and "all" joins a list of walls ("..., all apical segments
and the apex are akinetic")."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def walls(sentence: str) -> list[str | None]:
    return [f.location for f in extract_facts(sentence) if f.concept == "wall_motion" and f.grade]


def test_a_level_before_coordinated_walls_is_each_wall_s_level() -> None:
    assert walls("Akinesis of the mid anterior and anteroseptal walls.") == [
        "mid_anterior", "mid_anteroseptal"]
    assert walls("Basal inferior and inferolateral walls are akinetic.") == [
        "basal_inferior", "basal_inferolateral"]


def test_a_singular_wall_after_and_keeps_its_own_extent() -> None:
    assert walls("Hypokinesis of the mid anterior and inferior wall.") == ["mid_anterior", "inferior"]


def test_all_joins_a_list_of_walls() -> None:
    sentence = "The mid anterior, mid anteroseptal, all apical segments and the apex are akinetic."
    assert walls(sentence) == ["mid_anterior", "mid_anteroseptal", "apical", "apex"]


def test_akinesis_of_the_lad_walls_is_supported_by_the_segments_listed() -> None:
    findings = ("Regional wall motion abnormalities are present: the mid anterior, mid anteroseptal, "
                "all apical segments and the apex are akinetic.")
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    statement = "Akinesis of the mid anterior and anteroseptal walls, all apical segments and the apex."
    assert [s.verdict for s in check(statement, study).statements] == ["supported"]


def _verdict(findings: str, impression: str) -> tuple[str, str]:
    got = check(impression, Study.model_validate({"study_id": "W", "findings_text": findings})).statements[0]
    return got.verdict, got.reason


def test_rv_hypertrophy_is_the_rv_free_wall_not_the_lv_walls() -> None:
    rv = "RV: dilated, free wall thickened to 8 mm. LV normal size and wall thickness."
    assert _verdict(rv, "Hypertrophied RV (free wall 8 mm).")[0] == "supported"
    verdict, reason = _verdict("Concentric LV hypertrophy. RV normal size.", "RV free-wall hypertrophy.")
    assert verdict != "supported" and "lv wall" not in reason


def test_a_hypertrophied_rv_keeps_its_other_grades() -> None:
    facts = {(f.concept, f.grade) for f in extract_facts("The RV is hypertrophied and mildly dilated. "
                                                         "Free wall 6 mm (mildly hypertrophied).")}
    assert {("rv_wall_thickness", "increased"), ("rv_size", "mildly_dilated"),
            ("rv_wall_thickness", "mildly_increased")} <= facts
    assert not any(c == "lv_wall_thickness" for c, _ in facts)


def test_preserved_apical_contraction_is_no_global_function() -> None:
    # the McConnell sign: the apex contracts while the mid free wall does not; the RV is not normal
    findings = "RV dilated; mid free-wall akinesis with preserved apical contraction. TAPSE 11 mm."
    impression = "RV dilatation with mid free-wall akinesis and reduced TAPSE (11 mm)."
    verdict, reason = _verdict(findings, impression)
    assert verdict == "supported", reason
    facts = extract_facts(findings)
    assert not any(f.concept == "rv_systolic_function" and f.grade == "normal" for f in facts)
