"""Studies become chat messages: one function builds them for training and for inference.

The prompt settings (system prompt, layout of the study) are a named, versioned object saved with
every adapter, so generation reuses exactly what training used.

    messages = build_messages(study)                       # inference
    messages = build_messages(study, answer=study.impression)  # training example
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt import units
from echogpt.schemas import SEGMENTS, Findings, Measurements, Study

SYSTEM_PROMPT = (
    "You are an echocardiographer writing the IMPRESSION of a transthoracic echocardiography "
    "report. Use only facts stated in the study below; never add a measurement, grade or finding "
    "that is not there. List the most important findings first (critical findings such as "
    "tamponade, thrombus, vegetation, severe valve disease or severely reduced LVEF before "
    "anything else), one statement per line, numbered 1., 2., 3. Leave out trace or physiologic "
    "findings. Be concise."
)


class PromptSettings(BaseModel):
    """How a study is turned into chat messages; saved with each adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field("echo-impression", description="Name of this prompt style")
    version: int = Field(1, description="Bumped whenever the rendered text changes")
    system_prompt: str = Field(SYSTEM_PROMPT, description="The system message")
    layout: Literal["structured+prose", "prose"] = Field(
        "structured+prose", description="Include structured blocks, or findings prose only")
    instruction: str = Field("Write the impression for this echocardiogram.",
                             description="First line of the user message")

    def fingerprint(self) -> str:
        """Short hash of the settings (changes whenever the prompt text would)."""
        blob = json.dumps(self.model_dump(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


DEFAULT_PROMPT = PromptSettings()


def _fmt(x: float) -> str:
    return f"{x:g}"


def render_measurements(m: Measurements) -> list[str]:
    """One line per measured value, with its canonical unit."""
    lines = []
    for name, value in m.model_dump(exclude_none=True).items():
        if name == "lvef":
            lines.append(f"- LVEF: {m.lvef.text()}" + (f" ({m.lvef.method})" if m.lvef.method else ""))
        elif name == "septal_flattening":
            lines.append(f"- Septal flattening: {'yes' if value else 'no'}")
        else:
            s = units.spec(name)
            lines.append(f"- {s.label}: {_fmt(value)} {s.unit}".rstrip())
    return lines


_LABELS = {"lv_size": "LV size", "rv_size": "RV size", "rv_function": "RV function",
           "la_size": "LA size", "ra_size": "RA size", "diastolic_function": "Diastolic function",
           "image_quality": "Image quality"}
_FLAGS = {"lvot_obstruction": "LVOT obstruction", "sam": "SAM of the mitral valve",
          "aortic_dissection": "Aortic dissection flap"}


def render_findings(f: Findings) -> list[str]:
    """One line per structured finding."""
    lines = []
    for valve in ("aortic", "mitral", "tricuspid", "pulmonic"):
        v = getattr(f, valve)
        if v is None:
            continue
        parts = []
        if v.stenosis:
            parts.append(f"stenosis {v.stenosis.value}")
        if v.regurgitation:
            parts.append(f"regurgitation {v.regurgitation.value}")
        if v.mechanism:
            parts.append(f"{v.mechanism} mechanism")
        if v.prosthesis:
            p = v.prosthesis
            pvl = f", paravalvular leak {p.paravalvular_leak.value}" if p.paravalvular_leak else ""
            parts.append(f"{p.kind} prosthesis, function {p.function}{pvl}")
        parts += v.morphology
        if parts:
            lines.append(f"- {valve.capitalize()} valve: " + "; ".join(parts))
    if f.wall_motion:
        abnormal = {n: w for n, w in sorted(f.wall_motion.items()) if w.value != "normal"}
        if abnormal:
            lines.append("- Wall motion: " + "; ".join(f"{SEGMENTS[n - 1]} {w.value}"
                                                       for n, w in abnormal.items()))
        else:
            lines.append("- Wall motion: all segments normal")
    for name, label in _LABELS.items():
        value = getattr(f, name)
        if value is not None:
            lines.append(f"- {label}: {value.value}")
    if f.effusion is not None:
        e = f.effusion
        signs = [s.replace("_", " ") for s in ("ra_collapse", "rv_collapse", "plethoric_ivc",
                                               "respiratory_variation") if getattr(e, s)]
        lines.append(f"- Pericardial effusion: {e.size.value}" + (f", {e.location}" if e.location else "")
                     + (", tamponade physiology" if e.tamponade else "")
                     + (f" ({', '.join(signs)})" if signs else ""))
    for kind in ("thrombus", "vegetation", "mass"):
        for lesion in getattr(f, kind):
            extra = [f"{lesion.size_cm:g} cm" if lesion.size_cm else "",
                     "mobile" if lesion.mobile else "", lesion.description or ""]
            lines.append(f"- {kind.capitalize()}: {lesion.location}"
                         + "".join(f", {x}" for x in extra if x))
    if f.shunt is not None:
        lines.append(f"- {f.shunt.kind.upper()} by {f.shunt.method}: "
                     + ("present" if f.shunt.present else "absent"))
    for flag, label in _FLAGS.items():
        value = getattr(f, flag)
        if value is not None:
            lines.append(f"- {label}: {'yes' if value else 'no'}")
    return lines


def render_study(study: Study, settings: PromptSettings = DEFAULT_PROMPT) -> str:
    """The study as the text of the user message (deterministic)."""
    lines = [settings.instruction, ""]
    if settings.layout == "structured+prose":
        header = [f"Study type: {study.study_type.value}"]
        if study.indication:
            header.append(f"Indication: {study.indication}")
        p = study.patient
        if p is not None:
            demo = [f"{p.age:g} years" if p.age else "", p.sex.value if p.sex else "",
                    f"BSA {p.bsa_m2:g} m²" if p.bsa_m2 else ""]
            if any(demo):
                header.append("Patient: " + ", ".join(x for x in demo if x))
        if study.rhythm:
            header.append(f"Rhythm: {study.rhythm.value}")
        flags = [name.replace("_", " ") for name in ("lbbb", "ventilated", "contrast", "agitated_saline")
                 if getattr(study, name)]
        if flags:
            header.append("Also: " + ", ".join(f.upper() if f == "lbbb" else f for f in flags))
        lines += header
        if study.measurements is not None:
            rendered = render_measurements(study.measurements)
            if rendered:
                lines += ["", "Measurements:", *rendered]
        if study.findings is not None:
            rendered = render_findings(study.findings)
            if rendered:
                lines += ["", "Structured findings:", *rendered]
        if study.prior is not None:
            pr = study.prior
            prior = [f"Prior study{f' ({pr.study_date.isoformat()})' if pr.study_date else ''}:"]
            if pr.lvef is not None:
                prior.append(f"- LVEF: {pr.lvef.text()}")
            if pr.impression:
                prior.append(f"- Impression: {pr.impression}")
            lines += ["", *prior]
    lines += ["", "Findings:", study.findings_text.strip()]
    return "\n".join(lines)


def build_messages(
    study: Study,
    settings: PromptSettings = DEFAULT_PROMPT,
    *,
    answer: str | None = None,
    shots: list[Study] | None = None,
) -> list[dict[str, str]]:
    """Chat messages for one study; the one builder used in training and in inference.

    Args:
        study: The study to describe.
        settings: Prompt settings (saved with each adapter).
        answer: The reference impression; when given it is appended as the assistant turn
            (a training example).
        shots: Few-shot examples (studies with an ``impression``), shown as earlier turns.

    Returns:
        A list of ``{"role", "content"}`` messages.
    """
    messages = [{"role": "system", "content": settings.system_prompt}]
    for shot in shots or []:
        if not shot.impression:
            raise ValueError(f"few-shot example {shot.study_id} has no impression")
        messages.append({"role": "user", "content": render_study(shot, settings)})
        messages.append({"role": "assistant", "content": shot.impression.strip()})
    messages.append({"role": "user", "content": render_study(study, settings)})
    if answer is not None:
        messages.append({"role": "assistant", "content": answer.strip()})
    return messages


def prompt_hash(messages: list[dict[str, str]]) -> str:
    """Stable short hash of the prompt messages (without any assistant answer at the end)."""
    if messages and messages[-1]["role"] == "assistant":
        messages = messages[:-1]
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def load_study_file(path: Path) -> Study:
    """Read one Study from a JSON file (or the first line of a JSONL file).

    Raises:
        ValueError: a one-line message when the file is missing, not JSON or not a valid Study.
    """
    from pydantic import ValidationError

    from echogpt.files import FileError, decode_text, parse_json, read_bytes

    try:  # 16 MiB: a study is a few kilobytes
        text = decode_text(read_bytes(path, limit=16 * 2**20), str(path)).strip()
    except FileError as err:
        raise ValueError(f"cannot read {err}") from None
    try:
        raw = parse_json(text)
    except ValueError as err:
        try:  # a JSONL file: take its first line
            raw = parse_json(text.splitlines()[0]) if text else None
        except ValueError:
            raise ValueError(f"{path} is not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object with study_id and findings_text")
    try:
        return Study.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ValueError(f"{path}: invalid study: {where}: {first['msg']} "
                         f"({err.error_count()} error(s))") from None


def render_chat(messages: list[dict[str, str]], base_model: str | None = None) -> str:
    """The messages rendered through the base model's own chat template, generation prompt added."""
    from echogpt.model.base import load_tokenizer

    tokenizer = load_tokenizer(base_model)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
