"""No import cycles inside the package, counting imports at module level and inside functions.

The one allowed exception: ``SegmentationModel.train`` / ``predict_segmentation`` /
``predict_multiple`` / ``predict_video`` / ``evaluate_segmentation`` import the
pipeline lazily, because the original API puts those methods on the model; ``save_preset``
(keras-hub's ``save_to_preset``) imports :mod:`keras_segmentation.presets` the same way.
"""

import ast
import pathlib

import pytest

PACKAGE = "keras_segmentation"
ROOT = pathlib.Path(__file__).resolve().parents[2] / PACKAGE

#: (importing module, imported package prefix) edges that are allowed to close a cycle
ALLOWED = {
    (f"{PACKAGE}.models.segmentation_model", f"{PACKAGE}.training"),
    (f"{PACKAGE}.models.segmentation_model", f"{PACKAGE}.inference"),
    (f"{PACKAGE}.models.segmentation_model", f"{PACKAGE}.evaluation"),
    (f"{PACKAGE}.models.segmentation_model", f"{PACKAGE}.presets"),
}


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    return {module_name(path): path for path in ROOT.rglob("*.py")}


def imported_modules(path, name, known):
    """The package's modules that ``path`` (module ``name``) imports, anywhere in the file."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # "from a import b": b is a submodule, or a name defined in a
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def import_graph():
    known = modules()
    graph = {}
    for name, path in known.items():
        graph[name] = {
            target for target in imported_modules(path, name, known)
            if not any(name == source and target.startswith(prefix) for source, prefix in ALLOWED)
        }
    return graph


def find_cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_package_has_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_checker_finds_a_cycle_and_function_level_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from .other import thing\n", encoding="utf-8")
    assert imported_modules(module, "pkg.m", {"pkg.m", "pkg.other"}) == {"pkg.other"}


@pytest.mark.parametrize(("source", "prefix"), sorted(ALLOWED))
def test_the_allowed_exceptions_are_real_lazy_imports(source, prefix):
    """Each allowed edge exists, so the exception list stays honest."""
    known = modules()
    assert any(t.startswith(prefix) for t in imported_modules(known[source], source, known))


def test_nothing_in_models_imports_training():
    graph = import_graph()
    offending = {m: sorted(t for t in targets if t.startswith(f"{PACKAGE}.training"))
                 for m, targets in graph.items() if m.startswith(f"{PACKAGE}.models")}
    assert not {m: t for m, t in offending.items() if t}
