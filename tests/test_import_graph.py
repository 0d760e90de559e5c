"""The import graph points one way, rec_env <- agents <- distill <- benchmarks, and has no cycle
among the modules' top-level imports (imports inside functions and under TYPE_CHECKING are
deferred and do not count)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("rec_env", "agents", "distill", "benchmarks")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (``from x import y`` may name a submodule ``x.y``)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def project_graph() -> dict[str, set[str]]:
    files = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    return {name: top_level_imports(path) & modules.keys() for name, path in modules.items()}


def test_every_layer_imports_only_the_layers_below_it():
    wrong = []
    for layer_index, layer in enumerate(LAYERS):
        above = set(LAYERS[layer_index + 1 :])
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):  # deferred imports count here
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                wrong += [f"{path.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] in above]
    assert wrong == []


def test_no_import_cycle_between_modules():
    graph = project_graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert len(graph) > 50
