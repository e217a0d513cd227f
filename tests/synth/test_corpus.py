"""Synthetic corpus: determinism, by-patient split, validity, derived values, phenotypes, prose
styles and impression conventions (numbering, critical findings first, no trace findings)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.guidelines.acceptance import acceptable_grades
from echogpt.guidelines.study import grade_study
from echogpt.schemas import Study
from echogpt.synth.corpus import generate_corpus, split_by_patient, write_corpus
from echogpt.synth.spec import phenotypes
from echogpt.text import split_statements

N = 2000


@pytest.fixture(scope="module")
def corpus() -> list[Study]:
    return generate_corpus(N, seed=7)


def _lines(study: Study) -> list[str]:
    assert study.impression
    return study.impression.split("\n")


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_corpus(tmp_path / "a", 200, seed=11)
    b = write_corpus(tmp_path / "b", 200, seed=11)
    c = write_corpus(tmp_path / "c", 200, seed=12)
    for name in ("train", "val", "test"):
        assert a[name].read_bytes() == b[name].read_bytes()
    assert a["train"].read_bytes() != c["train"].read_bytes()


def test_written_lines_validate_and_round_trip(tmp_path):
    paths = write_corpus(tmp_path, 200, seed=3)
    count = 0
    for path in paths.values():
        for line in path.read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            study = Study.model_validate(raw)
            assert study.model_dump(mode="json", exclude_none=True) == raw
            count += 1
    assert count == 200


def test_split_is_by_patient_with_fractions_within_two_percent(corpus):
    parts = split_by_patient(corpus, seed=7)
    assert sum(len(v) for v in parts.values()) == N
    owners = {}
    for name, studies in parts.items():
        for s in studies:
            assert owners.setdefault(s.patient_id, name) == name, f"{s.patient_id} in two splits"
    for name, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(len(parts[name]) / N - share) <= 0.02, (name, len(parts[name]))
    # the split matters: some patients have several studies
    per_patient = Counter(s.patient_id for s in corpus)
    assert sum(1 for c in per_patient.values() if c > 1) >= 50


def test_derived_values_are_computed_from_their_inputs(corpus):
    checked = Counter()
    for s in corpus:
        m, p = s.measurements, s.patient
        assert m is not None and p is not None and p.bsa_m2 is not None
        # Mosteller BSA
        assert p.bsa_m2 == pytest.approx(math.sqrt(p.height_cm * p.weight_kg / 3600), abs=0.001)
        if m.lvedv is not None and m.lvesv is not None:
            assert abs(m.lvef.value - (m.lvedv - m.lvesv) / m.lvedv * 100) <= 1
            checked["ef"] += 1
        if m.tr_vmax is not None:
            assert m.rvsp == pytest.approx(4 * m.tr_vmax**2 + m.rap, abs=0.5)
            checked["rvsp"] += 1
        if m.ivc_diameter is not None:
            # ASE10-RH: <= 2.1 cm with > 50 % collapse -> 3; > 2.1 cm with < 50 % -> 15; else 8
            small, collapses = m.ivc_diameter <= 2.1, m.ivc_collapse > 50
            assert m.rap == (3 if small and collapses else 15 if not small and not collapses else 8)
        if m.la_volume is not None:
            assert m.lavi == pytest.approx(m.la_volume / p.bsa_m2, abs=0.051)
            checked["lavi"] += 1
        if m.av_peak_gradient is not None:
            assert m.av_peak_gradient == pytest.approx(4 * m.av_vmax**2, abs=0.5)
            checked["av"] += 1
        if m.mva is not None:
            assert m.mva == pytest.approx(220 / m.mv_pht, abs=0.006)
            checked["mva"] += 1
    assert min(checked.values()) >= 20 and len(checked) == 5


def test_every_phenotype_occurs(corpus):
    seen = Counter(s.phenotype for s in corpus)
    required = {"normal", "HFrEF", "ischemic-RWMA", "HFpEF", "HTN-LVH", "HCM-LVOTO", "mild-AS",
                "moderate-AS", "severe-AS", "primary-MR", "secondary-MR", "AR", "MS", "TR-PH",
                "pericardial-effusion", "tamponade", "LV-thrombus", "vegetation", "dilated-aorta",
                "prosthetic-valve", "severe-AS+HFrEF"}
    assert required <= set(seen)
    assert {p.label for p in phenotypes().values()} <= set(seen)
    assert sum(c for label, c in seen.items() if "+" in label) >= 100


def test_impressions_are_numbered_one_statement_per_line(corpus):
    for s in corpus:
        lines = _lines(s)
        assert [int(x.split(".", 1)[0]) for x in lines] == list(range(1, len(lines) + 1))
        assert all(re.match(r"^\d+\. [A-Z0-9]", x) for x in lines), s.impression
        assert len(split_statements(s.impression)) >= len(lines)


def test_critical_findings_come_first(corpus):
    firsts = Counter()
    for s in corpus:
        lines = [x.lower() for x in _lines(s)]
        f = s.findings
        for word, present in (("tamponade", f and f.effusion and f.effusion.tamponade),
                              ("thrombus", f and f.thrombus), ("vegetation", f and f.vegetation)):
            if present:
                assert word in lines[0], (s.study_id, s.impression)
                firsts[word] += 1
            stated = [x for x in lines if word in x and not re.search(rf"\b(no|without)\b[^.]*{word}", x)]
            if stated:
                assert stated[0] == lines[0], (s.study_id, s.impression)
    assert min(firsts.values()) >= 10 and len(firsts) == 3


def test_no_trace_or_physiologic_findings_in_impressions(corpus):
    in_findings = 0
    for s in corpus:
        assert not re.search(r"\b(trace|trivial|physiologic)\b", s.impression, re.IGNORECASE), s.impression
        in_findings += bool(re.search(r"\b(trace|trivial)\b", s.findings_text, re.IGNORECASE))
    assert in_findings >= N // 4  # trace findings exist and are left out


def _style(text: str) -> str:
    if re.match(r"^(LEFT VENTRICLE|Left ventricle): ", text):
        return "by-structure"
    if text.startswith("LV: "):
        return "terse"
    if re.match(r"^LV size: ", text) and text.count("\n") >= 10:
        return "label-value"
    if "\n" not in text and text.count(". ") >= 10:
        return "narrative"
    return "other"


def test_at_least_four_prose_styles_occur(corpus):
    styles = Counter(_style(s.findings_text) for s in corpus)
    assert styles["other"] == 0, [s.findings_text for s in corpus if _style(s.findings_text) == "other"][:1]
    for style in ("by-structure", "terse", "label-value", "narrative"):
        assert styles[style] >= N // 10, styles


def test_every_impression_number_appears_in_the_findings_text(corpus):
    numbers = 0
    for s in corpus:
        body = "\n".join(x.split(". ", 1)[1] for x in _lines(s))  # without the list numbers
        for number in re.findall(r"\d+(?:\.\d+)?", body):
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", s.findings_text), (
                s.study_id, number, s.impression, s.findings_text)
            numbers += 1
    assert numbers >= N


def test_comparison_statements_only_with_a_prior(corpus):
    previous: dict[str, Study] = {}
    with_prior = 0
    for s in corpus:
        mentions = "prior" in s.impression.lower()
        assert not mentions or s.prior is not None, s.impression
        if s.prior is not None:
            with_prior += 1
            before = previous[s.patient_id]
            assert s.prior.study_date == before.study_date < s.study_date
            assert s.prior.lvef == before.measurements.lvef
            assert s.prior.impression == before.impression
        previous[s.patient_id] = s
    assert with_prior >= 100


def test_missing_and_borderline_measurements_occur(corpus):
    ms = [s.measurements for s in corpus]
    assert sum(m.lvedv is None for m in ms) >= 100
    assert sum(m.tr_vmax is None for m in ms) >= 50
    assert sum(s.findings is None for s in corpus) >= 50  # prose-only studies
    assert sum(m.lavi is not None and 33 <= m.lavi < 34.5 for m in ms) >= 5
    assert sum(m.lvef.low is not None and m.lvef.low != m.lvef.high for m in ms) >= 50  # visual ranges


# Impression wording -> (concept, location, grade word) read back independently of the writer.
_CLAIMS = [
    (re.compile(r"\b(mild|moderate|severe) (?:\w+ )?aortic stenosis", re.I), "valve_stenosis", "aortic"),
    (re.compile(r"\b(moderate|severe) (?:rheumatic )?mitral stenosis", re.I), "valve_stenosis", "mitral"),
    (re.compile(r"\b(mild|moderate|severe)(?:ly dilated| left atrial enlargement)(?= left atrium| \(LAVI)",
                re.I), "la_size", None),
    (re.compile(r"(mildly reduced|moderately reduced|severely reduced|moderately decreased|severely depressed"
                r"|mildly decreased)(?: LV| left ventricular)? systolic function", re.I),
     "lv_systolic_function", None),
    (re.compile(r"\b(small|moderate|large) (?:circumferential |posterior )?pericardial effusion", re.I),
     "pericardial_effusion", None),
    (re.compile(r"\b(mildly|moderately|severely) dilated (?:left ventricle|LV)\b", re.I), "lv_size", None),
    (re.compile(r"\b(mildly|moderately|severely) elevated (?:estimated RVSP|pulmonary artery)", re.I),
     "pasp", None),
]
_WORD = {"mild": "mildly_dilated", "moderate": "moderately_dilated", "severe": "severely_dilated"}


def _grade(concept: str, word: str) -> str:
    word = word.lower().replace("decreased", "reduced").replace("depressed", "reduced")
    if concept == "la_size":
        return _WORD[word]
    if concept == "lv_size":
        return f"{word}_dilated"
    if concept == "pasp":
        return f"{word}_elevated"
    return word.replace(" ", "_")


def test_impression_grades_are_accepted_by_the_guideline_engine(corpus):
    checked = 0
    for s in corpus:
        facts = grade_study(s)
        for pattern, concept, location in _CLAIMS:
            for match in pattern.finditer(s.impression):
                graded = [f for f in facts if f.concept == concept and f.location == location
                          and f.source and f.source.startswith("measurements")]
                assert graded, (s.study_id, match.group(0))
                for fact in graded:  # every measurement of the concept must allow the grade
                    accepted = acceptable_grades(fact, study=s)
                    assert _grade(concept, match.group(1)) in accepted, (s.study_id, match.group(0),
                                                                         fact.source, accepted)
                checked += 1
    assert checked >= 500


def test_synth_command_writes_three_files(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--n", "40", "--seed", "5", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "train" in result.output
    files = [tmp_path / "c" / f"{name}.jsonl" for name in ("train", "val", "test")]
    total = sum(len(f.read_text().splitlines()) for f in files)
    assert total == 40


def test_synth_command_rejects_bad_input(tmp_path):
    bad_n = CliRunner().invoke(app, ["synth", "--n", "0", "--out", str(tmp_path)])
    assert bad_n.exit_code == 2
    bad_profile = CliRunner().invoke(app, ["synth", "--n", "3", "--out", str(tmp_path), "--profile", "nope"])
    assert bad_profile.exit_code == 2
    assert "unknown lab profile" in bad_profile.output


def test_reference_impressions_pass_the_hallucination_check(corpus):
    from echogpt.checker.check import check

    sample = corpus[:200]
    flagged = [(s.study_id, s.impression) for s in sample if check(s.impression, s).flagged]
    assert len(flagged) <= len(sample) // 50, flagged[:3]  # at most 2 %


def test_spec_rejects_unknown_keys_and_grades_without_a_band():
    import copy
    from importlib import resources

    from pydantic import ValidationError

    from echogpt.synth.spec import SyntheticSpec

    raw = json.loads(resources.files("echogpt.resources").joinpath("synthetic.json").read_text("utf-8"))
    raw["phenotypes"] = {"x": {"label": "x", "weight": 1}}
    SyntheticSpec.model_validate(raw)  # the data itself is valid
    typo = copy.deepcopy(raw)
    typo["phenotypes"]["x"]["lvef_grade"] = ["normal"]
    with pytest.raises(ValidationError, match="lvef_grade"):
        SyntheticSpec.model_validate(typo)
    no_band = copy.deepcopy(raw)
    no_band["phenotypes"]["x"]["lvef"] = ["bogus"]
    with pytest.raises(ValidationError, match="has no band"):
        SyntheticSpec.model_validate(no_band)
