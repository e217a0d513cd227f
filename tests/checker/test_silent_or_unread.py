"""Unsupported means the study is silent: a subject the findings name but the rules cannot read is
not_checked; a subject the findings never name stays unsupported. One clinical sentence per case."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.subjects import names_subject
from echogpt.schemas import Study


def verdict(impression: str, findings: str) -> tuple[str, str]:
    s = Study.model_validate({"study_id": "S1", "findings_text": findings})
    result = check(impression, s).statements[0]
    return result.verdict, result.reason


CASES = [
    # (impression, findings, verdict): the findings name the subject, its grade or value unread
    ("Severe mitral regurgitation.", "Mitral regurgitation is present; not quantified.", "not_checked"),
    ("Moderate tricuspid regurgitation.", "TR seen, see images.", "not_checked"),
    ("LVEF 62%.", "LVEF (Simpson's biplane, averaged over three beats) was calculated.", "not_checked"),
    ("RVSP 45 mmHg.", "RVSP could not be obtained from the jet this time.", "not_checked"),
    # the findings never name the subject: invented
    ("Severe mitral regurgitation.", "The left ventricle is normal in size and function.", "unsupported"),
    ("LVEF 62%.", "Mild aortic regurgitation.", "unsupported"),
    ("Large LV apical thrombus.", "Normal right ventricle. Mild tricuspid regurgitation.", "unsupported"),
    ("Severe aortic stenosis.", "Mild mitral regurgitation. Normal LV size.", "unsupported"),
    # named at another site only: the claim's subject (concept and location) is not named
    ("Moderate aortic regurgitation.", "Mitral regurgitation is present; not quantified.", "unsupported"),
]


@pytest.mark.parametrize(("impression", "findings", "expected"), CASES)
def test_unsupported_only_when_the_study_is_silent(impression: str, findings: str, expected: str) -> None:
    got, reason = verdict(impression, findings)
    assert got == expected, reason


def test_not_checked_reason_names_what_was_not_read() -> None:
    _, reason = verdict("LVEF 62%.", "LVEF (Simpson's biplane, averaged over three beats) was calculated.")
    assert "lvef" in reason and "cannot read" in reason


NAMED = [
    # (findings, concept, location, named)
    ("Right atrium normal.", "ra_size", None, True),
    ("Right atrium normal.", "lv_systolic_function", None, False),  # "normal" names only its clause
    ("Right heart: RV normal, TAPSE 25 mm.", "ra_size", None, False),  # a section label is no claim
    ("Normal left ventricular function.", "lv_size", None, False),  # "normal" grades the function
    ("Mitral valve: mild regurgitation.", "valve_regurgitation", "mitral", True),
    ("Mitral valve: mild regurgitation.", "valve_regurgitation", "aortic", False),
    ("LVEF (Simpson's biplane) 62 %.", "measurement", "lvef", True),
]


@pytest.mark.parametrize(("findings", "concept", "location", "named"), NAMED)
def test_names_subject(findings: str, concept: str, location: str | None, named: bool) -> None:
    assert names_subject(findings, concept, location) is named


@pytest.mark.parametrize(("impression", "findings"), [
    ("Normally functioning TAVI.",
     "Transcatheter aortic valve: stable position, no reduced leaflet motion seen."),
    ("Successful mitral valve repair.",
     "Repaired valve with annuloplasty ring, well seated, no dehiscence.")])
def test_a_prosthesis_without_a_complication_is_still_there(impression: str, findings: str) -> None:
    got, reason = verdict(impression, findings)
    assert got == "supported", reason


def test_a_bracket_that_opens_with_was_is_the_prior_to_its_end() -> None:
    from echogpt.checker.timeframes import about_prior

    text = "RVSP 28 mmHg (was 3.1 m/s, RAP 8, RVSP 46 mmHg). LV size (previously dilated, now normal)."
    assert [text[a:b].strip() for a, b in about_prior(text) if b > a] == [
        "was 3.1 m/s", "RAP 8", "RVSP 46 mmHg", "previously dilated"]


@pytest.mark.parametrize(("impression", "findings", "expected"), [
    # E/e' names the filling pressure; alone it does not grade it (ASE/EACVI 2016)
    ("Elevated filling pressures (E/e' 19).", "E/e' average 19. LAVi 55 ml/m2.", "not_checked"),
    ("Elevated filling pressures.", "Mild MR. Normal LV size.", "unsupported"),
    # a heading word that opens its line states nothing when the line goes on to say it
    ("Resolution of the previously seen LV apical thrombus.",
     "Thrombus: No LV thrombus identified with contrast. The previously seen apical thrombus has resolved.",
     "supported"),
    ("No LV thrombus.", "Thrombus: No LV thrombus identified with contrast.", "supported"),
])
def test_what_the_findings_name_and_what_they_say(impression: str, findings: str, expected: str) -> None:
    got, reason = verdict(impression, findings)
    assert got == expected, reason


def test_an_unchanged_valve_is_compared_with_the_same_valve_of_the_prior() -> None:
    findings = ("Comparison with prior study: 11/2025: mild TR, moderate MR.\n"
                "Severe TR. Moderate functional MR.")
    assert verdict("Moderate functional MR, unchanged.", findings)[0] == "supported"
    assert verdict("Severe TR, unchanged.", findings)[0] == "contradicted"


def test_a_claim_the_study_is_silent_on_is_not_checked_where_the_import_could_not_read() -> None:
    unread = Study.model_validate({"study_id": "S1", "findings_text": "Mild MR.",
                                   "unread": ["a comparison table left as written"]})
    result = check("Severe aortic stenosis. Moderate MR.", unread).statements
    assert result[0].verdict == "not_checked" and "could not read" in result[0].reason
    assert result[1].verdict == "contradicted"  # what the study does state still refutes
    whole = Study.model_validate({"study_id": "S2", "findings_text": "Mild MR."})
    assert check("Severe aortic stenosis.", whole).statements[0].verdict == "unsupported"


@pytest.mark.parametrize("plan", [
    "Full TTE to follow when stable.", "Cath lab activated per interventional attending.",
    "Neurology informed.",
    "Discussed with PERT attending - intermediate-high risk.", "CT surgery paged; IABP being placed.",
    "He is a reasonable candidate for TAVR after coronary angiography.", "No change to her anticoagulation.",
    "Primary-prevention ICD no longer indicated on current LVEF; continue GDMT."])
def test_a_plan_line_after_the_impression_states_no_finding(plan: str) -> None:
    got, reason = verdict(plan, "Mild MR. Normal LV size and function, LVEF 60%.")
    assert got == "not_factual", reason


@pytest.mark.parametrize(("impression", "findings", "expected"), [
    ("Mild MR, not increased.", "Comparison with prior study: 2025: mild MR.\nMild MR.", "supported"),
    # commissural fusion and a hockey-stick AML are rheumatic (ACC/AHA 2020 VHD); thickened leaflets
    # only name the valve's morphology
    ("Rheumatic heart disease.", "Mitral valve: AML thickened, doming in diastole. Commissural fusion.",
     "supported"),
    ("Rheumatic heart disease.", "Mitral valve: AML thickened, PML restricted.", "not_checked"),
    ("Rheumatic MS.", "Mitral valve: thickened, no doming or commissural fusion.", "contradicted"),
    ("RHD - severe MR.", "MV: AML thickened, PML restricted. No commissural fusion. Severe MR.", "supported"),
    ("Rheumatic mitral stenosis.", "Normal LV size and function.", "unsupported"),
    ("Rheumatic heart disease.", "Mitral valve: thin leaflets. No AML thickening. No commissural fusion.",
     "unsupported"),
])
def test_not_increased_and_rheumatic_features(impression: str, findings: str, expected: str) -> None:
    got, reason = verdict(impression, findings)
    assert got == expected, reason


def test_not_increased_is_compared_with_the_prior() -> None:
    findings = "Comparison with prior study: 2025: mild MR.\nModerate MR."
    got, reason = verdict("Moderate MR, not increased.", findings)
    assert (got, reason) == ("contradicted", "valve regurgitation is worse than in the prior study")


@pytest.mark.parametrize(("impression", "expected"), [
    ("Improved LV function: LVEF 30%, from 25% in January.", "contradicted"),
    ("Improved LV function: LVEF 45%, from 25% in January.", "supported"),
    ("Worse RV function (TAPSE 1.7 from 1.6 cm).", "contradicted")])
def test_the_value_before_from_is_this_study_s(impression: str, expected: str) -> None:
    findings = "Comparison with prior study: Index echo: LVEF 25%, TAPSE 1.6 cm.\nLVEF 45%. TAPSE 1.1 cm."
    got, reason = verdict(impression, findings)
    assert got == expected, reason


def test_no_x_in_a_comparison_speaks_of_now() -> None:
    findings = "Comparison with prior study: 2025: trace pericardial effusion.\nSmall pericardial effusion."
    assert verdict("No pericardial effusion, new.", findings)[0] == "contradicted"


def test_mid_to_apical_names_both_levels_of_the_wall() -> None:
    from echogpt.checker.facts import extract_facts

    facts = extract_facts("Hypokinesis of the mid-to-apical anterior wall.")
    assert {f.location for f in facts if f.concept == "wall_motion"} == {"mid_anterior", "apical_anterior"}


def test_bubbles_in_the_left_atrium_are_a_shunt() -> None:
    findings = ("No shunt by color Doppler at rest. With release of Valsalva, more than 20 microbubbles "
                "appear in the left atrium within 3 cardiac cycles.")
    assert verdict("Positive agitated saline study with Valsalva, consistent with a PFO.", findings)[0] == \
        "supported"
    assert verdict("No interatrial shunt.", findings)[0] == "contradicted"


@pytest.mark.parametrize(("impression", "findings", "expected"), [
    ("No intracardiac mass.", "No LV thrombus.", "supported"),  # a study that looked for masses
    ("No intracardiac mass.", "Normal LV. Mild MR.", "unsupported"),
    ("Large LA mass.", "No LV thrombus.", "unsupported")])
def test_an_absent_mass_is_said_by_a_study_that_looked_for_thrombus(impression: str, findings: str,
                                                                   expected: str) -> None:
    assert verdict(impression, findings)[0] == expected


def test_a_prior_the_indication_only_mentions_makes_the_comparison_not_checked() -> None:
    findings = "Aortic valve: severely calcified, Vmax 4.5 m/s, mean gradient 49 mmHg."
    mentioned = Study.model_validate({"study_id": "S1", "findings_text": findings,
                                      "indication": "Known aortic stenosis, last study 2 years ago."})
    silent = Study.model_validate({"study_id": "S2", "findings_text": findings, "indication": "Murmur."})
    claim = "Compared with the prior study of 2024 (mean gradient 31 mmHg) the stenosis has progressed."
    assert check(claim, mentioned).statements[0].verdict == "not_checked"
    unread = check(claim, silent).statements[0]  # no prior at all: not checked either, said so
    assert unread.verdict == "not_checked" and "no readable prior" in unread.reason
    wrong = "Severe aortic stenosis, worse than on the last study; moderate MR."
    assert check(wrong, mentioned).statements[0].verdict == "unsupported"  # no MR in the findings
