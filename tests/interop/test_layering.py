"""The interop modules and the SR reader load their heavy libraries only when used, and import nothing
from the layers above them (interop: not cli/app/quickstart; the SR reader: data, guidelines, core)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pydicom", "highdicom", "fhir", "fpdf", "pypdf")


def test_imports_stay_light():
    code = ("import sys, echogpt.cli, echogpt.data.dicom_sr, echogpt.interop.fhir, echogpt.interop.pdf; "
            f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "echogpt":
            names.update(f"echogpt.{a.name}" for a in node.names)  # from echogpt import units
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("echogpt")}


def test_no_upward_imports():
    for path in (ROOT / "echogpt" / "interop").glob("*.py"):
        bad = {n for n in _imports(path) if n.split(".")[1:2] and n.split(".")[1] in ("cli", "quickstart")}
        assert not bad, (path.name, bad)
    allowed = ("echogpt.data", "echogpt.guidelines", "echogpt.units", "echogpt.schemas", "echogpt.files",
               "echogpt.text", "echogpt.config")
    for name in ("dicom_sr.py", "sr_codes.py"):
        imported = _imports(ROOT / "echogpt" / "data" / name)
        assert all(n.startswith(allowed) for n in imported), (name, imported)
