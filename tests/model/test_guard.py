"""Checker-guided drafting on the tiny Llama: a planted contradiction is repaired or rewritten, an
impossible statement dropped, an omitted critical finding added, each change recorded; the PyTorch
token source reuses its cache and decodes as ``generate`` does.

The tiny model writes gibberish, so the statements the guard must act on are forced: a token source
writes scripted text on chosen calls and lets the real model write every other call.
"""

from __future__ import annotations

import pytest
from _scripted import Forced
from _tiny import shared_tiny_model, study_rows

from echogpt.checker.check import check
from echogpt.model.decoding import TorchSource
from echogpt.model.generator import Generator, load_generator
from echogpt.model.guard import GuardConfig, guarded_generate, guarded_prediction, guarded_stream
from echogpt.schemas import Study

# study_rows: s000 normal (LVEF 60 %, no valve disease), s001 LVEF 25 % with moderate MR,
# s002 severe aortic stenosis (mean gradient 45 mmHg, AVA 0.8 cm2)
STUDIES = {
    r["study_id"]: Study.model_validate({k: v for k, v in r.items() if k != "phenotype"})
    for r in study_rows(4)
}


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Generator:
    tiny = shared_tiny_model(tmp_path_factory)
    return load_generator(str(tiny), dtype="float32", device="cpu", engine="torch", max_new_tokens=48)


def _first_token(gen: Generator, text: str) -> int:
    return gen.bundle.tokenizer(text, add_special_tokens=False)["input_ids"][0]


def _flags(text: str, study: Study) -> tuple[int, int]:
    summary = check(text, study).summary
    return summary["contradicted"], summary["unsupported"]


def test_a_wrong_value_is_repaired_to_the_study_s_own(gen):
    study = STUDIES["s001"]
    source = Forced(
        gen, {0: "1. LVEF 45%.\n2. Moderate mitral regurgitation.", 1: "\n2. Moderate mitral regurgitation."}
    )
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(add_severities=()))
    assert draft.text == "1. LVEF 25%.\n2. Moderate mitral regurgitation."
    (fix,) = draft.interventions
    assert (fix.kind, fix.original, fix.text, fix.verdict) == (
        "repaired",
        "LVEF 45%.",
        "LVEF 25%.",
        "contradicted",
    )
    assert "'45' set to the study's '25'" in fix.reason
    assert draft.text[fix.start : fix.end] == fix.text
    assert draft.unguarded_text == "1. LVEF 45%.\n2. Moderate mitral regurgitation."
    assert len(source.calls) == 2  # the model went on from the repaired text, not rewritten
    assert _flags(draft.text, study) == (0, 0)


def test_a_contradiction_that_is_not_one_value_is_rewritten_from_the_same_prefix(gen):
    study = STUDIES["s001"]
    script = {
        0: "1. No mitral regurgitation.\n",
        1: " Severe mitral regurgitation.\n",  # the greedy rewrite still contradicts the study
        2: " Moderate mitral regurgitation.\n",  # a sampled one is supported: kept, no third written
        3: "\n2. LVEF 25%.",
    }
    source = Forced(gen, script)
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(candidates=3, add_severities=()))
    assert draft.text == "1. Moderate mitral regurgitation.\n2. LVEF 25%."
    (fix,) = draft.interventions
    assert (fix.kind, fix.original, fix.text, fix.candidates) == (
        "replaced",
        "No mitral regurgitation.",
        "Moderate mitral regurgitation.",
        2,
    )
    assert fix.reason.startswith("contradicted: ") and "(1 of 2 rewrites passed)" in fix.reason
    assert draft.text[fix.start : fix.end] == fix.text
    prefix = source.calls[0][0]
    cut = prefix + gen.bundle.tokenizer("1.", add_special_tokens=False)["input_ids"]
    # candidates from the same prefix: greedy with the failed first token banned, then sampled
    assert [c[0] for c in source.calls[1:3]] == [cut] * 2
    assert source.calls[1][1:] == ([_first_token(gen, " No")], None)
    assert source.calls[2][1] == [] and source.calls[2][2] is not None
    assert len(source.calls) == 4
    assert draft.unguarded_text.startswith("1. No mitral regurgitation.")
    assert _flags(draft.text, study) == (0, 0)


def test_the_best_supported_rewrite_is_kept(gen):
    study = STUDIES["s001"]
    script = {  # a repetition: its subject is said already, so a rewrite may be about anything
        0: "1. Moderate mitral regurgitation.\n2. Moderate mitral regurgitation.\n",
        1: " Calcified valve.\n",
        2: " LVEF 25%.\n",
        3: "",
    }
    source = Forced(gen, script)
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(candidates=3, add_severities=()))
    (fix,) = draft.interventions
    assert fix.text == "LVEF 25%."  # supported beats a statement of no fact
    assert "(2 of 2 rewrites passed)" in fix.reason


def test_an_impossible_statement_is_dropped_and_the_model_writes_another(gen):
    study = STUDIES["s000"]
    wrong = " Severe aortic stenosis.\n"
    source = Forced(
        gen,
        {
            0: "1. Normal LV size.\n2. Severe aortic stenosis.\n",
            1: " Moderate aortic stenosis.\n",
            2: wrong,
            3: wrong,
            4: " LVEF 60%.",
        },
    )
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(add_severities=()))
    assert draft.text == "1. Normal LV size.\n2. LVEF 60%."
    (drop,) = draft.interventions
    assert (drop.kind, drop.original, drop.text) == ("dropped", "Severe aortic stenosis.", None)
    assert drop.verdict in ("contradicted", "unsupported") and "none of 3 rewrites passed" in drop.reason
    assert drop.start == drop.end == len("1. Normal LV size.\n2.")
    # the next statement starts elsewhere: the failed openings are banned
    assert {_first_token(gen, " Severe"), _first_token(gen, " Moderate")} <= set(source.calls[4][1])
    assert "Severe aortic stenosis." in draft.unguarded_text
    assert _flags(draft.text, study) == (0, 0)


def test_a_repeated_statement_is_rewritten(gen):
    study = STUDIES["s000"]
    source = Forced(gen, {0: "1. Normal LV size.\n2. Normal LV size.\n", 1: " LVEF 60%.", 2: ""})
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(add_severities=()))
    assert draft.text == "1. Normal LV size.\n2. LVEF 60%."
    (rewrite,) = draft.interventions
    assert (rewrite.kind, rewrite.original, rewrite.text) == ("replaced", "Normal LV size.", "LVEF 60%.")
    assert "repeats an earlier statement" in rewrite.reason


def test_a_repair_that_would_repeat_a_statement_is_rewritten_instead(gen):
    study = STUDIES["s001"]  # LVEF 25 %, moderate MR
    source = Forced(gen, {0: "1. LVEF 25%.\n2. LVEF 45%.\n", 1: " Moderate mitral regurgitation.", 2: ""})
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(add_severities=()))
    assert draft.text == "1. LVEF 25%.\n2. Moderate mitral regurgitation."
    assert [i.kind for i in draft.interventions] == ["replaced"]


def test_a_statement_the_model_keeps_insisting_on_ends_the_draft(gen):
    study = STUDIES["s000"]
    wrong = " Severe aortic stenosis."
    source = Forced(
        gen,
        {
            0: "1. Normal LV size.\n2. Severe aortic stenosis.\n",
            1: " Moderate aortic stenosis.",
            2: wrong,
            3: wrong,
            4: " Mild aortic stenosis.",
            5: wrong,
            6: wrong,
            7: wrong,
        },
    )
    draft = guarded_generate(gen, study, source=source, config=GuardConfig(add_severities=(), max_drops=2))
    assert draft.text == "1. Normal LV size."
    assert [i.kind for i in draft.interventions] == ["dropped", "dropped"]
    assert len(source.calls) == 8


def test_an_omitted_critical_finding_is_added_from_a_forced_opening(gen):
    study = STUDIES["s002"]
    source = Forced(gen, {0: "1. Calcified aortic valve.", 1: " (mean gradient 45 mmHg, AVA 0.8 cm2)."})
    draft = guarded_generate(gen, study, source=source)
    assert check("1. Calcified aortic valve.", study).omissions  # the draft as written omits it
    assert (
        draft.text
        == "1. Calcified aortic valve.\n2. Severe aortic stenosis (mean gradient 45 mmHg, AVA 0.8 cm2)."
    )
    (add,) = draft.interventions
    assert add.kind == "added" and add.original is None and draft.text[add.start : add.end] == add.text
    assert "severe aortic stenosis" in add.reason and "forced opening" in add.reason
    # the forced opening was given to the model after the draft
    opened = gen.bundle.tokenizer.decode(source.calls[1][0][-12:])
    assert opened.endswith("2. Severe aortic stenosis")
    assert not check(draft.text, study).omissions
    assert draft.unguarded_text == "1. Calcified aortic valve."


def test_an_added_finding_the_model_gets_wrong_comes_from_the_template(gen):
    study = STUDIES["s002"]
    source = Forced(gen, {0: "1. Calcified aortic valve.", 1: " with a mean gradient of 12 mmHg."})
    draft = guarded_generate(gen, study, source=source)
    (add,) = draft.interventions
    assert add.kind == "added" and "the template's sentence" in add.reason
    assert "12 mmHg" not in draft.text and not check(draft.text, study).omissions
    assert _flags(draft.text, study) == (0, 0)


@pytest.mark.parametrize("study_id", ["s000", "s001", "s002", "s003"])
def test_unscripted_drafts_of_the_real_model_pass_the_check(gen, study_id):
    study = STUDIES[study_id]
    progress = list(guarded_stream(gen, study))
    draft = progress[-1].draft
    assert draft is not None and all(p.draft is None for p in progress[:-1])
    assert progress[-1].text == draft.text
    assert _flags(draft.text, study) == (0, 0) and not check(draft.text, study).omissions
    for i in draft.interventions:
        if i.kind != "dropped":
            assert draft.text[i.start : i.end] == i.text


def test_guarded_prediction_carries_the_record(gen):
    study = STUDIES["s000"]
    p = guarded_prediction(gen, study, "zero-shot")
    assert p.guard is not None and p.mode == "zero-shot" and p.prompt_hash and p.new_tokens > 0
    assert p.base_model == gen.bundle.base.label and p.prompt_tokens > 50


def test_the_torch_source_decodes_as_generate_and_reuses_its_cache(gen):
    import torch

    study = STUDIES["s001"]
    from echogpt.model.prompts import build_messages

    prompt = gen._prompt_ids(build_messages(study, gen.prompt))
    with torch.inference_mode():
        expected = gen.bundle.model.generate(
            torch.tensor([prompt]),
            max_new_tokens=12,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            eos_token_id=-1,
        )[0, len(prompt) :].tolist()
    source = TorchSource(gen.bundle.model, "cpu", eos_id=-1)
    first = list(source.tokens(prompt, max_new_tokens=6))
    assert source.computed == len(prompt)
    rest = list(source.tokens(prompt + first, max_new_tokens=6))
    assert source.computed == 1  # only the last token of the prefix: the rest came from the cache
    assert first + rest == expected
    again = list(source.tokens(prompt + first[:3], max_new_tokens=9))  # a shorter prefix: cache cropped
    assert source.computed == 1 and first[:3] + again == expected
    banned = next(iter(source.tokens(prompt, max_new_tokens=1, ban_first=[expected[0]])))
    assert banned != expected[0]


@pytest.mark.parametrize("flag", ["on", "off"])
def test_cli_generate_guard_on_and_off(tmp_path, tmp_path_factory, flag):
    from _tiny import write_studies
    from typer.testing import CliRunner

    from echogpt.cli import app
    from echogpt.schemas import Prediction

    tiny = shared_tiny_model(tmp_path_factory)
    out = tmp_path / "pred.jsonl"
    res = CliRunner().invoke(
        app,
        [
            "generate",
            "--studies",
            str(write_studies(tmp_path / "s.jsonl", 3)),
            "--out",
            str(out),
            "--mode",
            "zero-shot",
            "--base-model",
            str(tiny),
            "--max-new-tokens",
            "16",
            "--engine",
            "torch",
            "--guard",
            flag,
        ],
    )
    assert res.exit_code == 0, res.output
    rows = [Prediction.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3
    if flag == "on":  # every draft has its record, an added finding at least for the aortic stenosis
        assert all(r.guard is not None for r in rows)
        assert any(i.kind == "added" for r in rows for i in r.guard.interventions)
    else:
        assert all(r.guard is None for r in rows)


def test_cli_generate_refuses_an_unknown_guard_value(tmp_path):
    from _tiny import write_studies
    from typer.testing import CliRunner

    from echogpt.cli import app

    res = CliRunner().invoke(
        app,
        [
            "generate",
            "--studies",
            str(write_studies(tmp_path / "s.jsonl", 1)),
            "--out",
            str(tmp_path / "p.jsonl"),
            "--guard",
            "maybe",
        ],
    )
    assert res.exit_code == 2 and "--guard must be on or off" in res.output
