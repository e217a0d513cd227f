"""Writes ``pairs.jsonl`` from the hand-written pairs in ``authored_*.py``.

Each authored pair lists its impression statements with their verdicts; this script renders the
impression in the pair's layout, checks that ``split_statements`` gives back exactly those
statements, validates the study and writes one JSON object per line.

    python3 tests/data/checker_eval/build.py
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from echogpt.schemas import Study
from echogpt.text import split_statements

HERE = Path(__file__).resolve().parent
MODULES = ["authored_normal", "authored_lv", "authored_valves", "authored_right_peri",
           "authored_misc", "authored_mixed"]
VERDICTS = {"S": "supported", "C": "contradicted", "U": "unsupported", "N": "not_factual"}
LAYOUTS = {"numbered", "bulleted", "paragraph", "lines"}


def render(statements: list[str], layout: str) -> str:
    """The impression text of ``statements`` in one of the layouts."""
    if layout == "numbered":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(statements, 1))
    if layout == "bulleted":
        return "\n".join(f"- {s}" for s in statements)
    if layout == "lines":
        return "\n".join(statements)
    return " ".join(statements)


def build_pair(raw: dict[str, Any]) -> dict[str, Any]:
    """One JSONL object from an authored pair (raises ValueError on any inconsistency)."""
    pid = raw["id"]
    study = dict(raw["study"])
    study.setdefault("study_id", f"ce-{pid}")
    if raw.get("phen"):
        study.setdefault("phenotype", raw["phen"])
    Study.model_validate(study)
    texts = [s[0] for s in raw["imp"]]
    layout = raw.get("layout", "paragraph" if raw["style"] == "narrative" else "numbered")
    if layout not in LAYOUTS:
        raise ValueError(f"{pid}: unknown layout {layout}")
    impression = render(texts, layout)
    split = [s.text for s in split_statements(impression)]
    if split != texts:
        raise ValueError(f"{pid}: split_statements gives {split}, authored {texts}")
    statements = []
    for item in raw["imp"]:
        text, code, *rest = item
        entry: dict[str, Any] = {"text": text, "verdict": VERDICTS[code]}
        error_type = rest[0] if rest else None
        note = rest[1] if len(rest) > 1 else None
        if error_type:
            entry["error_type"] = error_type
        if note:
            entry["note"] = note
        statements.append(entry)
    return {"pair_id": pid, "style": raw["style"], "study": study, "impression": impression,
            "statements": statements, "omitted_critical": list(raw.get("omit", []))}


def main() -> int:
    sys.path.insert(0, str(HERE))
    rows = []
    for name in MODULES:
        rows += [build_pair(raw) for raw in importlib.import_module(name).PAIRS]
    ids = [r["pair_id"] for r in rows]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate pair ids: {dupes}")
    out = HERE / "pairs.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} pairs to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
