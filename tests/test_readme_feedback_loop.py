"""The README's "Feeding reviews back" commands, run verbatim (read from README.md, with a step cap
added) on a fresh home after drafts were edited, approved and signed through the store: the export
must produce files that both training commands accept, so the README cannot drift from the code;
the new versions' model cards state what they continued."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import _tiny
import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.review.store import Store
from echogpt.schemas import CheckResult, Study

README = Path(__file__).parents[1] / "README.md"


def readme_commands(section: str = "Feeding reviews back") -> list[list[str]]:
    """The ``echogpt`` commands of the first bash block after ``section``'s heading, as argv lists
    (line continuations joined, comments dropped)."""
    text = README.read_text(encoding="utf-8")
    heading = re.search(rf"^#+ {re.escape(section)}\s*$", text, re.MULTILINE)
    assert heading, f"README.md has no section {section!r}"
    block = re.search(r"```bash\n(.*?)```", text[heading.end():], re.DOTALL)
    assert block, f"README.md's {section!r} has no bash block"
    joined = block.group(1).replace("\\\n", " ")
    commands = [shlex.split(line, comments=True) for line in joined.splitlines()]
    return [c for c in commands if c]


def test_readme_loop_commands_are_parsed():
    commands = readme_commands()
    assert [c[0] for c in commands] == ["echogpt"] * len(commands)
    assert [c[1] for c in commands] == ["export-feedback", "train", "train"]


def _start_adapter(base: Path, out: Path) -> Path:
    """A LoRA on the tiny base with the prose-only prompt (as the shipped adapter has), saved the way
    ``echogpt train`` saves one."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.base import get_peft_config, resolve_base_model
    from echogpt.model.prompts import PromptSettings

    ref = resolve_base_model(str(base))
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                           get_peft_config(r=4, alpha=8, dropout=0.0))
    model.save_pretrained(out)
    meta = AdapterMeta(base_model=ref.identity, base_weights_hash=ref.weights_hash,
                       base_model_hint=ref.path, method="sft",
                       prompt_settings=PromptSettings(layout="prose"))
    (out / ADAPTER_META).write_text(meta.model_dump_json())
    return out


@pytest.mark.slow  # trains a tiny model twice: ~15 s
def test_readme_feedback_loop_runs_verbatim(tmp_path, monkeypatch, tmp_path_factory):
    tiny = _tiny.shared_tiny_model(tmp_path_factory)
    monkeypatch.chdir(tmp_path)  # the README's relative paths (runs/...) land here
    db = Store()
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    start = _start_adapter(tiny, tmp_path / "adapters" / "sft-1")
    db.register_adapter(admin, start, "sft", name="sft-1")
    db.select_adapter(admin, "sft-1")
    for row in _tiny.study_rows(3):
        st = Study.model_validate({**row, "impression": None})
        empty = CheckResult(study_id=st.study_id, statements=[])
        db.create_study(doc, st)
        d = db.save_draft(doc, st.study_id, "1. Normal study.", "local:tiny-llama", str(start), "h",
                          empty)
        d = db.edit_draft(doc, d.id, row["impression"], d.version, empty)
        report = db.approve(doc, d.id, d.version, confirm=True)
        db.sign(doc, report.id, report.version)
    db.dispose()

    started: list[int] = []  # the version gate's workers, recorded instead of spawned
    monkeypatch.setattr("echogpt.batch.worker.start_worker", lambda _db, _u, job: started.append(job))
    monkeypatch.setenv("ECHOGPT_GATE_N", "2")
    runner = CliRunner()
    for argv in readme_commands():
        if argv[1] == "train":  # a step cap and a tiny base keep it short
            argv = [*argv, "--set", "max_steps=2", "--set", "max_length=512"]
        result = runner.invoke(app, argv[1:])
        assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"

    db = Store()
    try:
        versions = {Path(v.path).resolve(): v for v in db.list_adapters(db.cli_user())}
    finally:
        db.dispose()
    sft, dpo = versions[(tmp_path / "runs/sft-2").resolve()], versions[(tmp_path / "runs/dpo-1").resolve()]
    assert (sft.method, sft.parent, dpo.method, dpo.parent) == ("sft", "sft-1", "dpo", "sft-1")
    # the cards state the LoRA each version continued (r=4 here, not the recipe's r=8) and its data
    for folder in ("runs/sft-2", "runs/dpo-1"):
        card = (tmp_path / folder / "README.md").read_text()
        assert "r=4, alpha=8" in card and "r=8" not in card, card
        assert f"`{start}`: LoRA shape, weights and prompt settings of a SFT adapter" in card
        assert "source: review" in card and "More Information Needed" not in card
        assert "Evaluation pending (batch job" in card  # the version gate runs in the background
    db = Store()
    try:
        from echogpt.review.gate import evaluation_of

        gates = [evaluation_of(db, db.cli_user(), v.name) for v in (sft, dpo)]
    finally:
        db.dispose()
    assert [(g.status, g.n) for g in gates] == [("pending", 2), ("pending", 2)]
    assert sorted(started) == sorted(g.job_id for g in gates)
