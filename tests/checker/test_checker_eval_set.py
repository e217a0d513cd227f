"""Format checks of the hand-written checker evaluation set (tests/fixtures/checker_eval/pairs.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from echogpt.schemas import Study
from echogpt.text import split_statements

PAIRS = Path(__file__).parents[1] / "fixtures" / "checker_eval" / "pairs.jsonl"
VERDICTS = {"supported", "contradicted", "unsupported", "not_factual"}
ERROR_TYPES = {"severity_change", "number_change", "negation_flip", "invented_finding",
               "valve_chamber_swap"}
OMISSIONS = {"tamponade", "lv_thrombus", "laa_thrombus", "ra_thrombus", "vegetation", "abscess",
             "severe_lv_dysfunction", "severe_aortic_stenosis", "severe_mitral_stenosis",
             "severe_mitral_regurgitation", "severe_tricuspid_regurgitation", "aortic_dissection",
             "prosthetic_valve_dysfunction", "mass"}
KEYS = {"pair_id", "style", "study", "impression", "statements", "omitted_critical"}


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]


def _errors(pair: dict) -> list[dict]:
    return [s for s in pair["statements"] if s["verdict"] in ("contradicted", "unsupported")]


def test_every_pair_has_the_documented_keys(pairs):
    for p in pairs:
        assert set(p) == KEYS, p["pair_id"]
    ids = [p["pair_id"] for p in pairs]
    assert len(ids) == len(set(ids))


def test_studies_validate_and_ids_are_unique(pairs):
    ids = [Study.model_validate(p["study"]).study_id for p in pairs]
    assert len(ids) == len(set(ids))


def test_statements_match_split_statements_exactly(pairs):
    for p in pairs:
        split = [s.text for s in split_statements(p["impression"])]
        assert split == [s["text"] for s in p["statements"]], p["pair_id"]


def test_verdicts_error_types_and_omissions_use_the_vocabulary(pairs):
    for p in pairs:
        for s in p["statements"]:
            assert set(s) <= {"text", "verdict", "error_type", "note"}, p["pair_id"]
            assert s["verdict"] in VERDICTS, p["pair_id"]
            if s["verdict"] in ("contradicted", "unsupported"):
                assert s.get("error_type") in ERROR_TYPES, p["pair_id"]
            else:
                assert "error_type" not in s, p["pair_id"]
        assert set(p["omitted_critical"]) <= OMISSIONS, p["pair_id"]


def test_size_styles_and_error_mix_meet_the_minimums(pairs):
    assert len(pairs) >= 150
    styles = Counter(p["style"] for p in pairs)
    assert len(styles) >= 4 and min(styles.values()) >= 15, styles
    kinds = Counter(s["error_type"] for p in pairs for s in _errors(p))
    kinds["omission"] = sum(len(p["omitted_critical"]) for p in pairs)
    assert set(kinds) == ERROR_TYPES | {"omission"}
    assert min(kinds.values()) >= 15, kinds
    correct = [p for p in pairs if not _errors(p) and not p["omitted_critical"]]
    assert 0.35 <= len(correct) / len(pairs) <= 0.5
    assert all(len(_errors(p)) + len(p["omitted_critical"]) <= 2 for p in pairs)


def test_near_misses_are_supported_and_numerous(pairs):
    near = [s for p in pairs for s in p["statements"]
            if s.get("note", "").startswith("within tolerance")]
    assert len(near) >= 15
    assert all(s["verdict"] == "supported" for s in near)


def test_pairs_file_is_what_build_writes(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("checker_eval_build", PAIRS.parent / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    monkeypatch.setattr(build, "HERE", tmp_path)
    monkeypatch.syspath_prepend(str(PAIRS.parent))
    build.main()
    assert (tmp_path / "pairs.jsonl").read_text(encoding="utf-8") == PAIRS.read_text(encoding="utf-8")
