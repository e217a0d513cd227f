"""The package's layout: dependencies run one way between subpackages, and no module imports itself
back through others. Every import statement counts, those inside functions too.

    python3 -m pytest tests/test_layout.py
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "echogpt"

# Lower layers never import higher ones; parts of one layer do not import each other.
CORE = {"schemas", "units", "text", "files", "config"}  # top-level modules every part uses
LAYERS: list[set[str]] = [
    {"core"},
    {"guidelines"},
    {"data"},
    {"synth", "checker"},
    {"model"},
    {"evaluation"},
    {"review"},
    {"batch", "reader", "interop"},
    {"quickstart", "migrations"},
    {"cli"},
    {"__main__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every echogpt module that ``path`` imports, at any depth of its code."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from echogpt.x import module` names a module, `from echogpt.x import name` the module x
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "echogpt" or m.startswith("echogpt.")}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for imported in _imports(path, name):
            while imported not in files and "." in imported:
                imported = imported.rpartition(".")[0]
            if imported in files and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    part = parts[1] if len(parts) > 1 else "core"  # the package's own __init__ is core
    return "core" if part in CORE else part


def test_every_part_has_a_layer() -> None:
    assert {_part(m) for m in _graph()} <= set(RANK)


def test_no_arrow_runs_upward_or_sideways() -> None:
    wrong = []
    for module, targets in sorted(_graph().items()):
        for target in sorted(targets):
            a, b = _part(module), _part(target)
            if a != b and RANK[b] >= RANK[a]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle() -> None:
    assert _cycle(_graph()) is None


def test_the_checks_can_fail() -> None:
    graph = {"echogpt.a": {"echogpt.b"}, "echogpt.b": {"echogpt.c"}, "echogpt.c": {"echogpt.a"}}
    assert _cycle(graph) == ["echogpt.a", "echogpt.b", "echogpt.c", "echogpt.a"]
    assert _cycle({"echogpt.a": {"echogpt.b"}, "echogpt.b": set()}) is None


def test_lazy_imports_are_seen(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from echogpt.review import store\n    import echogpt.cli\n")
    assert _imports(source, "echogpt.checker.m") >= {"echogpt.review.store", "echogpt.cli"}


def test_import_echogpt_stays_light() -> None:
    code = ("import sys, echogpt, echogpt.data, echogpt.guidelines, echogpt.synth, echogpt.checker, "
            "echogpt.model, echogpt.evaluation, echogpt.review, echogpt.batch, echogpt.reader; "
            "print(sorted({'torch', 'transformers', 'peft', 'bitsandbytes', 'trl'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
