"""Fact extraction from prose: one clinical sentence per case, the facts a cardiologist reads in it."""
# ruff: noqa: E501

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts, mentions_comparison
from echogpt.checker.lexicon import lexicon, segments_of
from echogpt.checker.rules import resolve_grade, rules
from echogpt.schemas import Fact

# (sentence, expected facts as (concept, location, polarity, grade, value)); None = "any".
# Each expected fact must be among the extracted ones.
CASES: list[tuple[str, list[tuple]]] = [
    # --- LV size, function, EF with numbers and ranges
    ("Normal left ventricular size and systolic function.",
     [("lv_size", None, "present", "normal", None), ("lv_systolic_function", None, "present", "normal", None)]),
    ("LVEF 55-60%.", [("measurement", "lvef", "present", None, 55.0)]),
    ("LVEF 55–60 %.", [("measurement", "lvef", "present", None, 55.0)]),
    ("Ejection fraction is estimated at 35 to 40 percent.", [("measurement", "lvef", "present", None, 35.0)]),
    ("EF <30%.", [("measurement", "lvef", "present", None, 5.0)]),
    ("Severely reduced LV systolic function, EF 25%.",
     [("lv_systolic_function", None, "present", "severely_reduced", None), ("measurement", "lvef", "present", None, 25.0)]),
    ("The left ventricle is mildly dilated with moderately reduced systolic function.",
     [("lv_size", None, "present", "mildly_dilated", None),
      ("lv_systolic_function", None, "present", "moderately_reduced", None)]),
    ("Preserved left ventricular ejection fraction.", [("lv_systolic_function", None, "present", "normal", None)]),
    ("Vigorous LV systolic function.", [("lv_systolic_function", None, "present", "hyperdynamic", None)]),
    ("Low normal LV systolic function.", [("lv_systolic_function", None, "present", "low_normal", None)]),
    ("Mod dilated LV.", [("lv_size", None, "present", "moderately_dilated", None)]),
    ("LVIDd 52 mm.", [("measurement", "lvidd", "present", None, 5.2)]),
    ("The left ventricle is not dilated.", [("lv_size", None, "present", "normal", None)]),
    ("Normal biventricular size and function.",
     [("lv_size", None, "present", "normal", None), ("rv_size", None, "present", "normal", None),
      ("lv_systolic_function", None, "present", "normal", None),
      ("rv_systolic_function", None, "present", "normal", None)]),
    # --- wall thickness and geometry
    ("Mild concentric left ventricular hypertrophy.", [("lv_wall_thickness", None, "present", "mildly_increased", None)]),
    ("Severe LVH.", [("lv_wall_thickness", None, "present", "severely_increased", None)]),
    ("Concentric remodeling.", [("lv_geometry", None, "present", "concentric_remodeling", None)]),
    ("Normal LV wall thickness without hypertrophy.", [("lv_wall_thickness", None, "present", "normal", None)]),
    # --- regional wall motion by segment and territory
    ("Hypokinesis of the basal and mid inferior walls.",
     [("wall_motion", "basal_inferior", "present", "hypokinetic", None),
      ("wall_motion", "mid_inferior", "present", "hypokinetic", None)]),
    ("Apical akinesis.", [("wall_motion", "apical", "present", "akinetic", None)]),
    ("Akinesis of the apex and the apical and mid anteroseptal segments.",
     [("wall_motion", "apex", "present", "akinetic", None), ("wall_motion", "apical_septal", "present", "akinetic", None),
      ("wall_motion", "mid_anteroseptal", "present", "akinetic", None)]),
    ("Inferior AK and basal inferoseptal HK.",
     [("wall_motion", "inferior", "present", "akinetic", None),
      ("wall_motion", "basal_inferoseptal", "present", "hypokinetic", None)]),
    ("Hypokinesis in the LAD territory.", [("wall_motion", "lad", "present", "hypokinetic", None)]),
    ("Global hypokinesis.", [("wall_motion", "global", "present", "hypokinetic", None)]),
    ("The posterior wall is dyskinetic.", [("wall_motion", "inferolateral", "present", "dyskinetic", None)]),
    ("No regional wall motion abnormalities.", [("wall_motion", None, "absent", None, None)]),
    ("No RWMA.", [("wall_motion", None, "absent", None, None)]),
    # --- diastology and filling pressure
    ("Grade II diastolic dysfunction.", [("diastolic_function", None, "present", "grade_2", None)]),
    ("Impaired relaxation pattern.", [("diastolic_function", None, "present", "grade_1", None)]),
    ("Restrictive filling pattern.", [("diastolic_function", None, "present", "grade_3", None)]),
    ("Normal diastolic function.", [("diastolic_function", None, "present", "normal", None)]),
    ("Elevated LV filling pressures.", [("filling_pressure", None, "present", "elevated", None)]),
    ("G2 DD, elevated LVEDP.",
     [("diastolic_function", None, "present", "grade_2", None), ("filling_pressure", None, "present", "elevated", None)]),
    # --- right heart, atria, pressures
    ("Mildly reduced RV systolic function, TAPSE 14 mm.",
     [("rv_systolic_function", None, "present", "mildly_reduced", None), ("measurement", "tapse", "present", None, 1.4)]),
    ("The right ventricle is severely dilated.", [("rv_size", None, "present", "severely_dilated", None)]),
    ("Biatrial enlargement.", [("la_size", None, "present", "dilated", None), ("ra_size", None, "present", "dilated", None)]),
    ("Moderate left atrial enlargement (LAVI 45 mL/m2).",
     [("la_size", None, "present", "moderately_dilated", None), ("measurement", "lavi", "present", None, 45.0)]),
    ("RVSP 44 mmHg.", [("measurement", "rvsp", "present", None, 44.0)]),
    ("Moderate pulmonary hypertension.", [("pasp", None, "present", "moderately_elevated", None)]),
    ("Estimated PA systolic pressure is mildly elevated at 42 mmHg.",
     [("pasp", None, "present", "mildly_elevated", None), ("measurement", "rvsp", "present", None, 42.0)]),
    ("High echocardiographic probability of pulmonary hypertension.",
     [("ph_probability", None, "present", "high", None)]),
    ("Plethoric IVC.", [("rap", None, "present", "elevated", None)]),
    ("TR velocity 3.1 m/s.", [("measurement", "tr_vmax", "present", None, 3.1)]),
    # --- valves: abbreviations, grades, coordination
    ("Mild MR.", [("valve_regurgitation", "mitral", "present", "mild", None)]),
    ("Moderate mitral insufficiency.", [("valve_regurgitation", "mitral", "present", "moderate", None)]),
    ("Moderate AI.", [("valve_regurgitation", "aortic", "present", "moderate", None)]),
    ("Trace TR.", [("valve_regurgitation", "tricuspid", "present", "trace", None)]),
    ("MR 3+.", [("valve_regurgitation", "mitral", "present", "moderate_severe", None)]),
    ("1+ mitral regurgitation.", [("valve_regurgitation", "mitral", "present", "mild", None)]),
    ("Mild-to-moderate aortic regurgitation.", [("valve_regurgitation", "aortic", "present", "mild_moderate", None)]),
    ("Moderate mitral and tricuspid regurgitation.",
     [("valve_regurgitation", "mitral", "present", "moderate", None),
      ("valve_regurgitation", "tricuspid", "present", "moderate", None)]),
    ("Mild MR and TR.",
     [("valve_regurgitation", "mitral", "present", "mild", None), ("valve_regurgitation", "tricuspid", "present", "mild", None)]),
    ("Severe AS.", [("valve_stenosis", "aortic", "present", "severe", None)]),
    ("Critical aortic stenosis.", [("valve_stenosis", "aortic", "present", "very_severe", None)]),
    ("Aortic valve sclerosis without stenosis.",
     [("valve_stenosis", "aortic", "present", "sclerosis", None)]),
    ("Severe aortic stenosis: Vmax 4.3 m/s, mean gradient 48 mmHg, AVA 0.8 cm2.",
     [("valve_stenosis", "aortic", "present", "severe", None), ("measurement", "av_vmax", "present", None, 4.3),
      ("measurement", "av_mean_gradient", "present", None, 48.0), ("measurement", "ava", "present", None, 0.8)]),
    ("Moderate mitral stenosis, mean gradient 8 mmHg, MVA 1.2 cm2.",
     [("valve_stenosis", "mitral", "present", "moderate", None),
      ("measurement", "mv_mean_gradient", "present", None, 8.0), ("measurement", "mva", "present", None, 1.2)]),
    ("No significant valvular disease.",
     [("valve_regurgitation", None, "absent", None, None), ("valve_stenosis", None, "absent", None, None)]),
    ("Mitral valve prolapse.", [("valve_morphology", "mitral", "present", "prolapse", None)]),
    ("Normally functioning bioprosthetic AVR.", [("prosthetic_valve", "aortic", "present", "normal", None)]),
    ("Mild paravalvular leak.", [("paravalvular_leak", None, "present", "mild", None)]),
    # --- negation and its scope over coordinated lists
    ("No pericardial effusion, thrombus or vegetation.",
     [("pericardial_effusion", None, "absent", None, None), ("thrombus", None, "absent", None, None),
      ("vegetation", None, "absent", None, None)]),
    ("There is no evidence of LV thrombus.", [("thrombus", "lv", "absent", None, None)]),
    ("Negative for intracardiac shunt.", [("shunt", None, "absent", None, None)]),
    ("The left ventricle is free of thrombus.", [("thrombus", "lv", "absent", None, None)]),
    ("LV thrombus is not seen.", [("thrombus", "lv", "absent", None, None)]),
    ("No AS or AR.", [("valve_stenosis", "aortic", "absent", None, None), ("valve_regurgitation", "aortic", "absent", None, None)]),
    ("No MR, mild TR.",
     [("valve_regurgitation", "mitral", "absent", None, None), ("valve_regurgitation", "tricuspid", "present", "mild", None)]),
    ("Pericardial effusion: none.", [("pericardial_effusion", None, "absent", None, None)]),
    ("Intact interatrial septum.", [("shunt", None, "absent", None, None)]),
    # --- hedging
    ("Cannot exclude a small vegetation on the aortic valve.", [("vegetation", "aortic", "uncertain", None, None)]),
    ("Possible LV apical thrombus.", [("thrombus", "lv", "uncertain", None, None)]),
    ("Findings suggestive of tamponade physiology.", [("tamponade", None, "uncertain", None, None)]),
    ("Likely PFO.", [("shunt", "pfo", "uncertain", None, None)]),
    ("Thrombus cannot be excluded.", [("thrombus", None, "uncertain", None, None)]),
    # --- pericardium, aorta, masses, shunts, LVOT
    ("Large pericardial effusion (2.4 cm) with tamponade.",
     [("pericardial_effusion", None, "present", "large", None), ("measurement", "effusion_width", "present", None, 2.4),
      ("tamponade", None, "present", None, None)]),
    ("Small posterior pericardial effusion.", [("pericardial_effusion", None, "present", "small", None)]),
    ("Small to moderate pericardial effusion.", [("pericardial_effusion", None, "present", "small_moderate", None)]),
    ("Normal size and function of both ventricles.",
     [("lv_size", None, "present", "normal", None), ("rv_size", None, "present", "normal", None),
      ("lv_systolic_function", None, "present", "normal", None), ("rv_systolic_function", None, "present", "normal", None)]),
    ("Mitral valve: bioprosthetic prosthesis, normal function.", [("prosthetic_valve", "mitral", "present", "normal", None)]),
    ("Dilated aortic root (4.6 cm).",
     [("aortic_dilation", "root", "present", "dilated", None), ("measurement", "aortic_root", "present", None, 4.6)]),
    ("Aortic dissection flap in the ascending aorta.", [("aortic_dissection", None, "present", None, None)]),
    ("Left atrial myxoma.", [("mass", "la", "present", None, None)]),
    ("Patent foramen ovale with right-to-left shunting.", [("shunt", "pfo", "present", None, None)]),
    ("Secundum ASD.", [("shunt", "asd", "present", None, None)]),
    ("Systolic anterior motion of the mitral valve with LVOT obstruction, peak gradient 85 mmHg.",
     [("sam", None, "present", None, None), ("lvot_obstruction", None, "present", None, None),
      ("measurement", "lvot_peak_gradient", "present", None, 85.0)]),
    ("Left atrial appendage thrombus.", [("thrombus", "laa", "present", None, None)]),
    ("Normal transthoracic echocardiogram.", [("normal_study", None, "present", None, None)]),
    ("Technically limited study.", [("image_quality", None, "present", "limited", None)]),
    ("Mild MAC.", [("other_finding", "mac", "present", None, None)]),
    ("Dense spontaneous echo contrast in the LA.", [("other_finding", "sec", "present", None, None)]),
    ("D-shaped septum in systole and diastole.", [("other_finding", "septal_flattening", "present", None, None)]),
    ("No chamber collapse.", [("other_finding", "chamber_collapse", "absent", None, None)]),
]


def _matches(fact: Fact, want: tuple) -> bool:
    concept, location, polarity, grade, value = want
    return (fact.concept == concept and fact.location == location and fact.polarity == polarity
            and fact.grade == grade and (value is None or (fact.value is not None and abs(fact.value - value) < 1e-6)))


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_extraction_table(sentence: str, expected: list[tuple]) -> None:
    facts = extract_facts(sentence)
    for want in expected:
        assert any(_matches(f, want) for f in facts), f"{want} not in {[f.model_dump(exclude_none=True) for f in facts]}"


def test_table_has_enough_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("sentence", "concept"), [
    ("No pericardial effusion.", "pericardial_effusion"),
    ("Mild MR, EF 55%.", "lv_systolic_function"),  # a grade must not leak onto the EF
    ("Pleural effusion noted.", "pericardial_effusion"),
    ("LV mass index 95 g/m2.", "mass"),
    ("Such as trace TR.", "valve_stenosis"),  # "as" is not aortic stenosis
])
def test_what_must_not_be_extracted(sentence: str, concept: str) -> None:
    facts = extract_facts(sentence)
    wrong = [f for f in facts if f.concept == concept and f.polarity == "present"]
    assert not wrong


def test_spans_point_at_the_text() -> None:
    text = "Normal LV size. Moderate MR."
    mr = next(f for f in extract_facts(text) if f.concept == "valve_regurgitation")
    assert "MR" in text[mr.start:mr.end] and "Moderate" in text[mr.start:mr.end]
    shifted = extract_facts(text, offset=100)
    assert [f.start for f in shifted] == [(f.start or 0) + 100 for f in extract_facts(text)]


def test_extracted_facts_fit_the_vocabulary() -> None:
    # Facts are built without validation for speed; every one must still validate.
    for sentence, _ in CASES:
        for f in extract_facts(sentence):
            Fact.model_validate(f.model_dump())


def test_lesion_sizes_in_cm() -> None:
    veg = next(f for f in extract_facts("Vegetation measuring 0.6 x 0.8 cm on the mitral valve.")
               if f.concept == "vegetation")
    assert (veg.location, veg.value, veg.value_max, veg.unit) == ("mitral", 0.6, 0.8, "cm")
    thr = next(f for f in extract_facts("Mobile 12 mm apical thrombus.") if f.concept == "thrombus")
    assert thr.value == pytest.approx(1.2)


def test_units_are_converted_to_the_canonical_unit() -> None:
    tapse = next(f for f in extract_facts("TAPSE 17 mm.") if f.concept == "measurement")
    assert tapse.value == pytest.approx(1.7) and tapse.unit == "cm"


def test_a_number_with_the_wrong_unit_is_not_taken() -> None:
    assert not [f for f in extract_facts("LVEF 60 mmHg.") if f.concept == "measurement"]


def test_comparison_cues() -> None:
    assert mentions_comparison("Unchanged compared with the prior study.")
    assert mentions_comparison("New inferior wall hypokinesis.")
    assert not mentions_comparison("Moderate mitral regurgitation.")


def test_grade_resolution_uses_the_vocabulary() -> None:
    assert resolve_grade("lv_size", "mild", "dilated") == "mildly_dilated"
    assert resolve_grade("pericardial_effusion", "trace", None) == "trivial"
    assert resolve_grade("valve_regurgitation", "moderate", None) == "moderate"
    assert resolve_grade("thrombus", "mild", None) is None


def test_segments_and_territories() -> None:
    assert segments_of("rca") == frozenset({3, 4, 9, 10, 15})
    assert segments_of("inferior") & segments_of("rca")
    assert not segments_of("anterior") & segments_of("inferior")
    assert segments_of("basal_inferior") == frozenset({4})


def test_rules_file_rejects_unknown_keys(tmp_path) -> None:
    from echogpt.checker.rules import FactRules

    raw = rules().model_dump(by_alias=True)
    raw["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        FactRules.model_validate(raw)


def test_every_grade_of_a_scaled_concept_has_a_position() -> None:
    from echogpt.schemas import concept_vocabulary

    vocab = concept_vocabulary()
    for concept, scale in lexicon().scale_of.items():
        assert set(vocab[concept]["grades"]) <= set(scale), concept


def test_dispatch_by_first_letter_finds_what_all_the_rules_find() -> None:
    """At every word start the rules chosen by its first character find what all the rules together find."""
    lex = lexicon()
    from echogpt.checker.tokens import _START, scan

    text = " ".join(s for s, _ in CASES) + (" Mean gradient 4 mmHg. Mild-to-moderate MR; 1+ AR, grade 2 DD, "
                                             "RVD1 3.9 cm. LVEF <30%, IVC ~2.1 cm, e' 7 cm/s, E/A 0.8, 5x4 mm. "
                                             "AS, MS and TR; ≥ 2 cm; + bubble study; LAD / RCA territory.")
    for p in (m.start() for m in _START.finditer(text)):
        first = text[p]
        chosen = lex.by_first.get(first.lower(), lex.others) if first.isascii() else lex.every
        m1, m2 = chosen.match(text, p), lex.every.match(text, p)
        assert (m1 and (m1.lastgroup, m1.end())) == (m2 and (m2.lastgroup, m2.end())), text[p:p + 30]
    every, pos = [], 0
    while (start := _START.search(text, pos)) is not None:  # all the rules at every word start
        m = lex.every.match(text, start.start())
        if m is not None and m.end() > start.start():
            every.append(m)
            pos = m.end()
        else:
            pos = start.start() + 1
    assert [(m.lastgroup, m.span()) for m in scan(text)] == [(m.lastgroup, m.span()) for m in every]


@pytest.mark.parametrize(("pattern", "firsts"), [
    ("mitral valves?", "m"),
    ("(?-i:AS)", "a"),
    ("collapse of the (?:ra|rv)", "c"),
    ("1[+]", "1"),
    ("ab{2}", "a"),
    ("a|b", "ab"),
    ("a[|(]b|c", "ac"),
    ("a\\(|b", "ab"),
    ("(?:mild|moderate)(?:ly)? dilated", "m"),
    ("(?:has |had )?(?:decreased|reduced)", "dhr"),
    ("(?:a|b){0,2}c", "abc"),
    ("(?:a|b){1,2}c", "ab"),
    ("(?:<|less than )?\\d+ %", "0123456789<l"),
    ("a?b", None),
    ("(?:a|b)?", None),  # may match nothing
    ("[+] bubble study", None),
    ("(?=a)b", None),
    ("(a|b)c", None),
    ("a)|(b", None),
])
def test_first_letters_are_given_only_where_every_match_starts_with_one(pattern: str, firsts: str | None) -> None:
    from echogpt.checker.lexicon import first_letters

    assert first_letters(pattern) == (None if firsts is None else frozenset(firsts))


def test_a_sentence_reads_the_previous_sentences_subject() -> None:
    """The same sentence after a different subject gives other facts (the cache key holds the subject)."""
    mitral = extract_facts("Mitral stenosis. Mean gradient 8 mmHg. No pericardial effusion.")
    aortic = extract_facts("Aortic stenosis. Mean gradient 8 mmHg. No pericardial effusion.")
    fields = {f.location for f in mitral + aortic if f.concept == "measurement"}
    assert fields == {"mv_mean_gradient", "av_mean_gradient"}


@pytest.mark.parametrize(("text", "expected"), [
    ("2+ MR.", ("valve_regurgitation", "moderate", None, None)),
    ("3+ MR.", ("valve_regurgitation", "moderate_severe", None, None)),
    ("4+ MR.", ("valve_regurgitation", "severe", None, None)),
    ("Vegetation measuring 0.6 x 0.8 cm on the mitral valve.", ("vegetation", None, 0.6, 0.8)),
    ("Vegetation measuring 1.1 x 1.4 cm on the mitral valve.", ("vegetation", None, 1.1, 1.4)),
    ("A 12 mm mobile vegetation on the aortic valve.", ("vegetation", None, 1.2, None)),
])
def test_sentences_differing_only_in_digits_keep_their_own_facts(text: str, expected: tuple) -> None:
    """Digits a rule names ("2+") and lesion sizes are read from each sentence's own text."""
    got = [(f.concept, f.grade, f.value, f.value_max) for f in extract_facts(text) if f.concept == expected[0]]
    assert got == [expected]


def test_repeated_sentences_are_worked_out_once() -> None:
    from echogpt.checker import facts

    facts._sentence.cache_clear()
    first = extract_facts("No pericardial effusion. LVEF 55 %.")
    second = extract_facts("No pericardial effusion. LVEF 55 %.")
    assert first == second and facts._sentence.cache_info().hits == 2
