"""Prompts: one builder for training and inference, deterministic, complete, and the prompt command."""

from __future__ import annotations

import json

import pytest
from _tiny import shared_tiny_model
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings, build_messages, prompt_hash, render_study
from echogpt.schemas import Study

FULL = {
    "study_id": "P1", "indication": "dyspnoea", "rhythm": "AF",
    "patient": {"age": 71, "sex": "F", "height_cm": 160, "weight_kg": 64},
    "measurements": {"lvef": "35-40", "lvidd": "61 mm", "tr_vmax": 3.1, "septal_flattening": True},
    "findings": {"mitral": {"regurgitation": "3+", "mechanism": "secondary"},
                 "wall_motion": {"mid inferior": "akinetic"},
                 "effusion": {"size": "small"}, "thrombus": [{"location": "lv", "mobile": True}]},
    "prior": {"lvef": 55, "impression": "Normal LV function."},
    "findings_text": "Dilated LV with reduced function. Akinetic mid inferior wall.",
    "impression": "1. Mobile LV thrombus.\n2. LVEF 35-40 %.",
}


def test_training_and_inference_prompts_share_every_message_but_the_answer():
    study = Study.model_validate(FULL)
    train = build_messages(study, answer=study.impression)
    infer = build_messages(study)
    assert train[:-1] == infer
    assert train[-1] == {"role": "assistant", "content": study.impression}
    assert prompt_hash(train) == prompt_hash(infer)


def test_user_message_carries_every_structured_fact_with_units():
    text = render_study(Study.model_validate(FULL))
    for expected in ("LVEF: 35-40 %", "LVIDd: 6.1 cm", "TR Vmax: 3.1 m/s", "Septal flattening: yes",
                     "Mitral valve: regurgitation moderate-severe; secondary mechanism",
                     "mid inferior akinetic", "Pericardial effusion: small", "Thrombus: lv, mobile",
                     "Prior study:", "- LVEF: 55 %", "Rhythm: atrial-fibrillation", "Indication: dyspnoea",
                     "Akinetic mid inferior wall."):
        assert expected in text, expected


def test_prose_layout_leaves_out_structured_blocks_and_changes_the_fingerprint():
    prose = PromptSettings(layout="prose")
    text = render_study(Study.model_validate(FULL), prose)
    assert "Measurements:" not in text and "Akinetic mid inferior wall." in text
    assert prose.fingerprint() != DEFAULT_PROMPT.fingerprint()


def test_few_shot_examples_come_first_and_need_an_impression():
    shot = Study.model_validate(FULL)
    target = Study(study_id="T", findings_text="Normal study.")
    messages = build_messages(target, shots=[shot])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == shot.impression
    with pytest.raises(ValueError, match="no impression"):
        build_messages(target, shots=[target])


def test_prompt_command_prints_messages_and_renders_the_chat_template(tmp_path, tmp_path_factory):
    path = tmp_path / "study.json"
    path.write_text(json.dumps(FULL))
    res = CliRunner().invoke(app, ["prompt", str(path)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == build_messages(Study.model_validate(FULL))
    tiny = shared_tiny_model(tmp_path_factory)
    res = CliRunner().invoke(app, ["prompt", str(path), "--render", "--base-model", str(tiny)])
    assert res.exit_code == 0, res.output
    assert "LVIDd: 6.1 cm" in res.output and "<|im_start|>assistant" in res.output


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not JSON"),
    ('{"study_id": "x"}', "findings_text"),
    ('[1, 2]', "expected a JSON object"),
])
def test_prompt_command_bad_study_is_one_line_exit_2(tmp_path, content, message):
    path = tmp_path / "study.json"
    path.write_text(content)
    res = CliRunner().invoke(app, ["prompt", str(path)])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["prompt", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "cannot read" in res.output
