"""The hallucination check: verdicts per statement, omissions, tolerances, the CLI, and its accuracy."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echogpt.checker.check import check, read_impression
from echogpt.checker.omissions import critical_rules
from echogpt.checker.study_facts import study_facts
from echogpt.cli import app
from echogpt.schemas import Study

HANDWRITTEN = Path(__file__).parents[1] / "fixtures" / "checker_eval" / "pairs.jsonl"


def study(**kw) -> Study:
    base = {"study_id": "S1", "findings_text": kw.pop("text", "Normal study.")}
    return Study.model_validate({**base, **kw})


def verdicts(impression: str, s: Study) -> list[str]:
    return [x.verdict for x in check(impression, s).statements]


PROSE = study(text="The left ventricle is normal in size with mildly reduced systolic function, LVEF 45%. "
                   "Moderate mitral regurgitation. Trace tricuspid regurgitation. No pericardial effusion. "
                   "The right ventricle is normal in size and function.")


@pytest.mark.parametrize(("statement", "verdict"), [
    ("Mildly reduced LV systolic function, LVEF 45%.", "supported"),
    ("LVEF 48%.", "supported"),  # within 5 points
    ("Moderate MR.", "supported"),
    ("No pericardial effusion.", "supported"),
    ("Normal RV size and function.", "supported"),
    ("Severe mitral regurgitation.", "contradicted"),  # grade change
    ("LVEF 60%.", "contradicted"),  # number outside tolerance
    ("Moderate pericardial effusion.", "contradicted"),  # negation flip
    ("No mitral regurgitation.", "contradicted"),  # negation flip
    ("Severely reduced LV systolic function.", "contradicted"),
    ("Moderate aortic stenosis.", "unsupported"),  # nothing backs it
    ("Patent foramen ovale.", "unsupported"),  # no shunt assessment
    ("No left atrial appendage thrombus.", "unsupported"),  # TEE-only view on a TTE
    ("LVEF unchanged compared with the prior study.", "not_checked"),  # no prior to compare with
    ("Clinical correlation is advised.", "not_factual"),
    ("Technically limited study.", "not_factual"),
])
def test_verdict_classes_prose_only(statement: str, verdict: str) -> None:
    assert verdicts(statement, PROSE) == [verdict]


def test_wrong_valve_is_flagged() -> None:
    result = check("Moderate aortic regurgitation.", PROSE)
    assert result.statements[0].verdict in ("contradicted", "unsupported")


STRUCTURED = study(text="See measurements.", patient={"sex": "F", "age": 60},
                   measurements={"lvef": 30, "lvidd": 6.3, "tr_vmax": 2.5, "rap": 3},
                   findings={"mitral": {"regurgitation": "severe"}, "aortic": {"regurgitation": "none"},
                             "effusion": {"size": "none"}})


@pytest.mark.parametrize(("statement", "verdict"), [
    ("Moderately reduced LV systolic function, LVEF 30%.", "supported"),
    ("Severe MR.", "supported"),
    ("No aortic regurgitation.", "supported"),
    ("RVSP 28 mmHg.", "supported"),  # 4 x 2.5² + 3 = 28 (ASE10-RH), derived from the inputs
    ("Moderate MR.", "contradicted"),
    ("Normal LV systolic function.", "contradicted"),
    ("LVEF 45%.", "contradicted"),
    ("Moderate aortic regurgitation.", "contradicted"),
    ("Small pericardial effusion.", "contradicted"),
])
def test_verdict_classes_structured_only(statement: str, verdict: str) -> None:
    assert verdicts(statement, STRUCTURED) == [verdict]


def test_numeric_ef_when_only_qualitative_is_unsupported() -> None:
    s = study(text="Visually normal LV systolic function.", measurements={"lvef": "normal"})
    assert verdicts("Normal LV systolic function.", s) == ["supported"]
    assert verdicts("LVEF 60%.", s) == ["unsupported"]


def test_severity_word_without_data_is_not_checked() -> None:
    # the study names the finding but gives no grade: the claim cannot be checked, it is not invented
    s = study(text="Mitral regurgitation is present; not quantified.")
    assert verdicts("Severe mitral regurgitation.", s) == ["not_checked"]


def test_mixed_study_uses_both_sources_and_reports_conflicts() -> None:
    s = study(text="Mild mitral regurgitation. Moderately dilated left atrium.",
              findings={"mitral": {"regurgitation": "moderate"}}, measurements={"lavi": 45})
    facts = study_facts(s)
    assert [(c.concept, c.location) for c in facts.conflicts] == [("valve_regurgitation", "mitral")]
    assert verdicts("Moderately dilated left atrium.", s) == ["supported"]
    assert verdicts("Severe mitral regurgitation.", s) == ["contradicted"]
    mild = check("Mild mitral regurgitation.", s).statements[0]
    assert mild.verdict == "supported" and "disagree" in mild.reason


def test_borderline_ef_in_a_woman_is_not_a_false_alarm() -> None:
    # ASE15: 53 % is mildly abnormal in women, but a low-normal reading is common and accepted
    s = study(text="LVEF 53%.", patient={"sex": "F", "age": 58}, measurements={"lvef": 53})
    assert verdicts("Low normal LV systolic function, LVEF 53%.", s) == ["supported"]
    assert verdicts("Mildly reduced LV systolic function.", s) == ["supported"]
    assert verdicts("Severely reduced LV systolic function.", s) == ["contradicted"]


def test_range_contains_the_measured_value() -> None:
    s = study(text="Biplane EF 58%.", measurements={"lvef": 58})
    assert verdicts("LVEF 55-60%.", s) == ["supported"]
    assert verdicts("LVEF 35-40%.", s) == ["contradicted"]


def test_dimension_tolerance_in_mm() -> None:
    s = study(text="Aortic root 4.4 cm.", measurements={"aortic_root": 4.4})
    assert verdicts("Aortic root 45 mm.", s) == ["supported"]  # 0.1 cm off, within 0.2 cm
    assert verdicts("Aortic root 50 mm.", s) == ["contradicted"]


def test_comparison_with_a_prior() -> None:
    s = study(text="LVEF 50%.", measurements={"lvef": 50}, prior={"lvef": 35})
    assert verdicts("LVEF has improved from 35% to 50%.", s) == ["supported"]
    assert verdicts("LVEF 50%, worse than the prior study.", s) == ["contradicted"]



@pytest.mark.parametrize(("text", "prior"), [
    ("Mild MR (previously moderate).", ["previously moderate"]),
    ("LVEF 45%, previously 50%.", [" previously 50%"]),
    ("LV normal. Previouſly dilated.", [" Previouſly dilated"]),  # the cues match as re.IGNORECASE does
    ("EF 50%. As on the prıor study, mild MR.", [" As on the prıor study"]),
    ("Compared to the PRIOR study, EF is lower.", []),  # the comparison's own preamble: no finding
    ("The previously seen apical thrombus has resolved.", []),  # a finding of this study
    ("Priority: none. LV 5 cm²", []),
    ("EF 33%. Compared with February 2024 (EF 50%) function has deteriorated.",
     [" Compared with February 2024 ", "EF 50%"]),
    ("EF 30%, unchanged from September 2024. Moderate MR.", [" unchanged from September 2024"]),
    ("LV normal.\nComparison: prior TTE 2023: moderate AS, Vmax 3.6 m/s.",
     ["Comparison: prior TTE 2023: moderate AS, Vmax 3.6 m/s"]),
    # a line labelled "Previous:" is the prior's to its end, not only its first clause
    ("Previous: 15 November 2023 - ascending aorta 45 mm, prosthetic mean gradient 12 mmHg.\nEF 60%.",
     ["Previous: 15 November 2023 - ascending aorta 45 mm, prosthetic mean gradient 12 mmHg"]),
])
def test_prior_clauses(text: str, prior: list[str]) -> None:
    from echogpt.checker.timeframes import about_prior

    assert [text[a:b] for a, b in about_prior(text) if b > a] == prior


def test_omission_of_a_critical_finding() -> None:
    s = study(text="Severely reduced LV function, EF 25%. A 1.5 cm mobile apical LV thrombus is present.")
    result = check("Severely reduced LV systolic function, LVEF 25%.", s)
    assert [o.finding for o in result.omissions] == ["LV thrombus"]
    assert result.omissions[0].severity == "critical"
    assert "thrombus" in result.omissions[0].evidence
    assert result.flagged
    stated = check("Apical LV thrombus. Severely reduced LV systolic function, LVEF 25%.", s)
    assert stated.omissions == [] and not stated.flagged


def test_lesion_size_is_checked() -> None:
    s = study(text="See findings.", findings={"vegetation": [{"location": "mitral", "size_cm": 1.2}]})
    assert verdicts("Mitral valve vegetation, 12 mm.", s) == ["supported"]
    assert verdicts("Mitral valve vegetation, 2.5 cm.", s) == ["contradicted"]


def test_omission_from_a_measurement() -> None:
    s = study(text="See measurements.", measurements={"lvef": 22})
    result = check("Mildly dilated left atrium.", s)
    assert "severely reduced LV systolic function" in [o.finding for o in result.omissions]


def test_critical_rules_carry_severity_and_source() -> None:
    rules = critical_rules().rules
    assert {"tamponade", "lv_thrombus", "vegetation", "severe_lv_dysfunction"} <= {r.id for r in rules}
    assert all(r.source and r.severity in ("critical", "high", "moderate") for r in rules)


def test_spans_and_summary() -> None:
    text = "1. Moderate MR.\n2. Severe AS."
    result = check(text, PROSE)
    assert [text[s.start:s.end] for s in result.statements] == ["Moderate MR.", "Severe AS."]
    assert result.summary["supported"] == 1 and result.summary["unsupported"] == 1


def test_read_impression(tmp_path: Path) -> None:
    f = tmp_path / "imp.txt"
    f.write_text("1. Mild MR.", encoding="utf-8")
    assert read_impression(f"@{f}") == "1. Mild MR."
    with pytest.raises(ValueError, match="cannot read"):
        read_impression(f"@{tmp_path / 'missing.txt'}")
    with pytest.raises(ValueError, match="empty"):
        read_impression("  ")


def test_cli_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text(PROSE.model_dump_json(), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "--study", str(path), "--impression", "Moderate MR."])
    assert ok.exit_code == 0 and "[supported]" in ok.output
    bad = runner.invoke(app, ["check", "--study", str(path), "--impression", "Severe MR.", "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["statements"][0]["verdict"] == "contradicted"
    missing = runner.invoke(app, ["check", "--study", str(tmp_path / "nope.json"), "--impression", "x"])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"study_id": "S"}', encoding="utf-8")
    assert runner.invoke(app, ["check", "--study", str(invalid), "--impression", "x"]).exit_code == 2


def test_synthetic_reference_impressions_pass_their_own_study() -> None:
    from echogpt.synth.corpus import generate_corpus

    problems = []
    for s in generate_corpus(300, seed=1):
        result = check(s.impression or "", s)
        problems += [(s.study_id, x.text, x.reason) for x in result.statements
                     if x.verdict in ("contradicted", "unsupported")]
        problems += [(s.study_id, o.finding, o.evidence) for o in result.omissions]
    assert problems == []


def test_handwritten_set_targets() -> None:
    rows = [json.loads(line) for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    caught, errors, false_alarms, clean = Counter(), Counter(), 0, 0
    omitted = found = 0
    for r in rows:
        result = check(r["impression"], Study.model_validate(r["study"]))
        assert [s.text for s in result.statements] == [s["text"] for s in r["statements"]]
        for want, got in zip(r["statements"], result.statements, strict=True):
            flagged = got.verdict in ("contradicted", "unsupported")
            if want["verdict"] in ("contradicted", "unsupported"):
                errors[want["error_type"]] += 1
                caught[want["error_type"]] += flagged
            else:
                clean += 1
                false_alarms += flagged
        omitted += len(r["omitted_critical"])
        found += min(len(r["omitted_critical"]), len(result.omissions))
    for kind, n in errors.items():
        assert caught[kind] / n >= 0.98, (kind, caught[kind], n)
    assert false_alarms / clean <= 0.02
    assert found / omitted >= 0.98


def test_evidence_lookup_matches_location_compatibility():
    # StudyFacts.about takes shortcuts for concepts whose locations never overlap; it must still
    # return exactly the evidence locations_compatible accepts, in the study's order
    from echogpt.checker.compare import locations_compatible
    from echogpt.synth.corpus import generate_corpus

    asked = 0
    for study in generate_corpus(60, seed=5):
        sf = study_facts(study)
        for concept, found in sf.by_concept.items():
            names = {e.fact.location for e in found} | {None}
            if concept != "wall_motion":  # wall-motion names must be segments or territories
                names |= {"heart", "aorta", "la", "laa", "mitral"}
            for loc in names:
                expected = [e for e in found if locations_compatible(concept, loc, e.fact.location)]
                assert sf.about(concept, loc) == expected, (concept, loc)
                asked += 1
    assert asked > 500


def test_check_output_does_not_depend_on_the_hash_seed():
    # verdicts, reasons and quoted evidence must be reproducible run to run (sets iterate by hash)
    import os
    import subprocess
    import sys

    script = (
        "import json,sys\n"
        "from echogpt.checker.check import check\n"
        "from echogpt.schemas import Study\n"
        "for line in open(sys.argv[1]):\n"
        "    r = json.loads(line)\n"
        "    s = Study.model_validate({'study_id': r['pair_id'], **r['study']})\n"
        "    print(check(r['impression'], s).model_dump_json())\n"
        "s = Study.model_validate({'study_id': 'sets', 'findings_text': 'The left atrium is severely "
        "dilated. The right atrium is mildly dilated.'})\n"
        "print(check('No spontaneous echo contrast.', s).model_dump_json())\n"  # two atria could back it
    )
    pairs = Path(__file__).parents[1] / "fixtures" / "checker_eval" / "pairs.jsonl"
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script, str(pairs)], env=env, capture_output=True,
                             text=True, check=True)
        outputs.append(run.stdout)
    assert outputs[0].count("\n") >= 150
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(("claim", "stated"), [((55, None), (55, None)), ((5.0, 4.0), (5.0, 4.0)),
                                               ((50, 60), (50, 60)), ((50, None), (62, None)),
                                               ((60, 50), (60, 50))])
def test_numbers_agree_as_compare_number_says(claim: tuple, stated: tuple) -> None:
    from echogpt.checker.compare import compare_number, numbers_agree
    from echogpt.schemas import Fact

    a, b = (Fact(concept="measurement", location=loc, value=v, value_max=m, unit=u)
            for (v, m), loc, u in ((claim, "lvef", "%"), (stated, "lvef", "%")))
    assert numbers_agree(a, b) == (compare_number(a, b)[0] == "supported")


def test_study_facts_follow_a_study_changed_in_place() -> None:
    s = study(text="Normal LV size.", measurements={"lvidd": 5.0})
    before = study_facts(s)
    assert study_facts(s) is before  # cached
    s.measurements.lvidd = 6.5  # type: ignore[union-attr]
    s.findings_text = "Severely dilated LV."
    after = study_facts(s)
    assert after is not before
    assert [e.fact.grade for e in after.about("lv_size") if e.origin == "text"] == ["severely_dilated"]
    assert [e.fact.value for e in after.about("measurement", "lvidd") if e.origin == "structured"] == [6.5]


def test_results_are_what_validation_would_build() -> None:
    """A result read back from its JSON equals it (what is written out is all there is)."""
    from echogpt.schemas import CheckResult
    from echogpt.synth.corpus import generate_corpus

    studies = [s for s in generate_corpus(40, seed=12) if s.impression]
    for s in studies:
        for impression in (s.impression or "", " LVEF 20 %.  \n2. Mild MR.  ", "New PFO on bubble study."):
            result = check(impression, s)
            again = CheckResult.model_validate_json(result.model_dump_json())
            assert again == result and again.model_dump_json() == result.model_dump_json()


def test_where_quotes_what_the_located_fact_says() -> None:
    from echogpt.checker.study_facts import study_facts
    from echogpt.synth.corpus import generate_corpus

    quoted = valued = 0
    for s in generate_corpus(30, seed=4):
        for e in study_facts(s).evidence:
            said, source = e.where(), e.located().source or e.origin
            # a structured measurement is cited with its value: "LVEF 35 % (measurements.lvef)"
            valued += said.endswith(f" ({source})") and e.fact.value is not None
            assert said == source or said.endswith(f" ({source})")
            quoted += said.startswith("findings_text: '")
    assert quoted > 100 and valued > 30


@pytest.mark.parametrize(("impression", "findings", "quoted"), [
    ("Moderate aortic regurgitation.", "Trileaflet aortic valve. Moderate mitral regurgitation.",
     "study: 'Moderate mitral regurgitation' (findings text)"),  # a claim at the wrong site
    ("Normal study.", "Normal LV size and function. Moderately dilated left atrium.",
     "study: 'Moderately dilated left atrium' (findings text)")])  # "normal" against an abnormal finding
def test_a_flag_quotes_the_finding_it_rests_on(impression: str, findings: str, quoted: str) -> None:
    s = check(impression, study(text=findings)).statements[0]
    assert s.verdict in ("contradicted", "unsupported")
    assert s.evidence == quoted
