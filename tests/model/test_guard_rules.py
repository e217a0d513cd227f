"""What the guard asks beyond the checker's verdict, on the tiny Llama with scripted statements: a
rewrite keeps the failed statement's subject (else the template's sentence about it); a statement
the model wrote with a number the study does not back fails; an addition from a forced opening is
kept only when supported with every number backed.
"""

from __future__ import annotations

import pytest
from _scripted import Forced
from _tiny import shared_tiny_model

from echogpt.checker.check import check
from echogpt.model.generator import Generator, load_generator
from echogpt.model.guard import GuardConfig, guarded_generate
from echogpt.schemas import Study

# a dilated, hypokinetic RV in prose and structured fields (the template writes an RV sentence)
RV = Study.model_validate(
    {
        "study_id": "rv",
        "findings_text": "Severely dilated right ventricle with reduced systolic function. LVEF 60%. "
        "No pericardial effusion.",
        "measurements": {"lvef": 60, "tapse": 1.2, "rv_basal_diameter": 5.2},
        "findings": {"rv_size": "severe", "rv_function": "reduced"},
    }
)
NO_SUBJECT = GuardConfig(candidates=3, add_severities=())


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Generator:
    tiny = shared_tiny_model(tmp_path_factory)
    return load_generator(str(tiny), dtype="float32", device="cpu", engine="torch", max_new_tokens=48)


def _flags(text: str, study: Study) -> tuple[int, int]:
    summary = check(text, study).summary
    return summary["contradicted"], summary["unsupported"]


def test_a_rewrite_about_another_subject_is_refused(gen):
    script = {
        0: "1. LVEF 60%.\n2. Normal RV size and function.\n",
        1: " No pericardial effusion.\n",  # supported, but the dilated RV would be said nowhere
        2: " Severely dilated RV with reduced function.\n",
        3: "",
    }
    draft = guarded_generate(gen, RV, source=Forced(gen, script), config=NO_SUBJECT)
    assert draft.text == "1. LVEF 60%.\n2. Severely dilated RV with reduced function."
    (fix,) = draft.interventions
    assert (fix.kind, fix.verdict) == ("replaced", "contradicted")
    assert fix.original == "Normal RV size and function."
    assert "(1 of 2 rewrites passed, 1 refused: about another subject)" in fix.reason
    assert _flags(draft.text, RV) == (0, 0)


def test_no_rewrite_on_the_subject_falls_back_to_the_template_s_sentence(gen):
    script = {
        0: "1. LVEF 60%.\n2. Normal RV size and function.\n",
        1: " No pericardial effusion.\n",
        2: " Normal RV size.\n",  # on the subject, still contradicted
        3: " No pericardial effusion.\n",
        4: "",
    }
    draft = guarded_generate(gen, RV, source=Forced(gen, script), config=NO_SUBJECT)
    sentence = "Dilated right ventricle with reduced right ventricular systolic function (TAPSE 1.2 cm)."
    assert draft.text == f"1. LVEF 60%.\n2. {sentence}"
    (fix,) = draft.interventions
    assert (fix.kind, fix.original, fix.text, fix.candidates) == (
        "replaced",
        "Normal RV size and function.",
        sentence,
        3,
    )
    assert "kept its subject (2 about another subject refused)" in fix.reason
    assert fix.reason.endswith("the template's sentence about rv size, rv systolic function")
    assert draft.text[fix.start : fix.end] == sentence
    assert draft.unguarded_text == "1. LVEF 60%.\n2. Normal RV size and function."
    assert _flags(draft.text, RV) == (0, 0)


@pytest.mark.parametrize(
    ("findings", "wrong", "right", "number"),
    [
        (  # mmHg is no velocity: the number binds to no fact, the grade alone is supported
            "Peak TR velocity 4.2 m/s. Estimated PASP 75 mmHg. Severe pulmonary hypertension.",
            "Severe pulmonary hypertension (peak velocity 102 mmHg).",
            " PASP 75 mmHg, severe pulmonary hypertension.",
            "'102 mmHg'",
        ),
        (  # the size goes to the aortic root, which the findings name without a value
            "Vegetation on the aortic valve, 1.0 cm. Aortic root normal in size.",
            "Vegetation in the aortic root (3.6 cm).",
            " Aortic valve vegetation (1.0 cm).",
            "'3.6 cm'",
        ),
    ],
    ids=["wrong-unit", "unbound-size"],
)
def test_a_number_the_study_does_not_back_fails_the_statement(gen, findings, wrong, right, number):
    study = Study(study_id="n", findings_text=findings)
    assert _flags(f"1. {wrong}", study) == (0, 0)  # the checker alone lets it pass
    # the greedy rewrite (its first token banned) fails: no LVEF in the study; a sampled one is kept
    source = Forced(gen, {0: f"1. {wrong}\n", 1: " LVEF 35%.\n", 2: f"{right}\n", 3: ""})
    draft = guarded_generate(gen, study, source=source, config=NO_SUBJECT)
    assert draft.text == f"1. {right.strip()}"
    (fix,) = draft.interventions
    assert (fix.kind, fix.original, fix.verdict) == ("replaced", wrong, "unsupported")
    assert fix.reason.startswith(f"unsupported: a number the study does not back ({number})")
    assert "(1 of 2 rewrites passed)" in fix.reason


# severe aortic stenosis from its numbers; the MR is named in words the checker does not read
AS = Study(
    study_id="as",
    findings_text="Calcified aortic valve with reduced opening. Mean gradient 45 mmHg, AVA 0.8 cm2. "
    "MR: see comment.",
)


@pytest.mark.parametrize(
    "written",
    [" with moderate mitral regurgitation.", " (mean gradient 45 mmHg, peak velocity 60 mmHg)."],
    ids=["not-checked", "unbacked-number"],
)
def test_an_addition_that_is_not_clean_comes_from_the_template(gen, written):
    source = Forced(gen, {0: "1. Calcified aortic valve.", 1: written})
    draft = guarded_generate(gen, AS, source=source)
    assert check(f"1. Severe aortic stenosis{written}", AS).statements[0].verdict != "contradicted"
    assert draft.text == "1. Calcified aortic valve.\n2. Severe aortic stenosis."
    (add,) = draft.interventions
    assert add.kind == "added" and add.reason.endswith("the template's sentence")
    assert not check(draft.text, AS).omissions


# a mitral vegetation in a study whose aortic root measures 3.6 cm
VEG = Study(
    study_id="veg",
    findings_text="Mobile vegetation on the mitral valve, 1.3 cm. Aortic root 3.6 cm. No AR.",
)


def test_an_addition_at_another_site_comes_from_the_template(gen):
    written = " in the aortic root (3.6 cm)."
    source = Forced(gen, {0: "1. No aortic regurgitation.", 1: written})
    draft = guarded_generate(gen, VEG, source=source)
    (add,) = draft.interventions
    opening = add.reason.split("omitted by the draft: ")[1].split(";")[0]
    assert _flags(f"1. No aortic regurgitation.\n2. {opening.capitalize()}{written}", VEG) == (0, 0)
    assert add.kind == "added" and add.reason.endswith("the template's sentence")
    assert "aortic root (3.6" not in draft.text
    assert not check(draft.text, VEG).omissions
