"""The package's shape: no import circles, dependencies pointing down the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neuroanim"


def import_graph() -> dict[str, set[str]]:
    """neuroanim module -> the neuroanim modules it imports (function-level too)."""
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(ROOT).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph: dict[str, set[str]] = {}
    for name, p in mods.items():
        is_pkg = p.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                subs = {f"{mod}.{a.name}" for a in node.names} & set(mods)
                deps |= subs or ({mod} & set(mods))
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names} & set(mods)
        graph[name] = deps - {name}
    return graph


def test_no_module_imports_another_in_a_circle():
    graph = import_graph()
    assert len(graph) > 20
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {exc.args[1]}") from None


def test_the_core_and_the_scene_api_stay_below_the_pipeline():
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith("neuroanim.core"):
            assert all(d.startswith("neuroanim.core") for d in deps), (name, deps)
    for low in ("neuroanim.spec", "neuroanim.registry", "neuroanim.options",
                "neuroanim.trajectory", "neuroanim.params"):
        assert not graph[low] & {"neuroanim.pipeline", "neuroanim.build",
                                 "neuroanim.cli", "neuroanim.render"}, (low, graph[low])


def test_listing_and_every_card_import_no_manim():
    code = ("import sys; from neuroanim import registry; "
            "specs = registry.scenes(); "
            "[s.alt_text(s.prepare(s.resolve({}))) for s in specs.values()]; "
            "assert 'manim' not in sys.modules, 'manim imported'; print(len(specs))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 4
