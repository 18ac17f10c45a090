"""The package's rooms stand in layers: no import cycles, and imports point down, counting imports inside functions.

A room is a top-level module or subpackage of ``keras_segmentation``. :data:`LAYERS` stacks the rooms bottom
to top: a module may import its own room and the rooms below it. The original API's model methods
(``model.train(...)`` and others) are bound from the top (:mod:`keras_segmentation.model_methods`), so the model
package imports no pipeline. :data:`RUNS_UP` lists the imports allowed to point up, each with its reason.
"""

import ast
import pathlib

import pytest

PACKAGE = "keras_segmentation"
ROOT = pathlib.Path(__file__).resolve().parents[2] / PACKAGE

#: the rooms, bottom to top; rooms on one line may import each other only where no cycle forms
LAYERS = (
    ("errors", "version", "atomic", "json_files", "native_logs", "startup_logs", "model_methods", "backend"),
    ("data",),
    ("options",),
    ("models",),
    ("losses", "metrics", "uncertainty"),
    ("checkpoints",),
    ("precision",),
    ("inference",),
    ("calibration",),
    ("evaluation",),
    ("export",),
    ("training",),
    ("distillation", "autofit", "migrate", "suggest"),
    ("presets",),
    ("serve", "demo"),
    ("cli",),
    ("__init__", "__main__", "train", "predict", "pretrained", "model_compression", "cli_interface", "data_utils"),
)

#: (importing module, imported module) pairs that point up a layer, and why
RUNS_UP = {
    # model paths: exported files run by their format's runner, which lives beside its writer in export/
    ("keras_segmentation.inference.predictor", "keras_segmentation.export.formats"):
        "inference runs an exported file through the runner of its format",
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
    return {name: imported_modules(path, name, known) for name, path in known.items()}


def room(module):
    """The room of a module: ``keras_segmentation.models.unet`` -> ``models``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(name):
    return next(level for level, rooms in enumerate(LAYERS) if name in rooms)


def imports_up(graph):
    """The imports that point to a higher layer: ``(module, imported module)`` pairs."""
    return sorted((source, target) for source, targets in graph.items() for target in targets
                  if layer_of(room(target)) > layer_of(room(source)))


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


def test_every_room_has_a_layer():
    rooms = {room(name) for name in modules()}
    listed = {name for layer in LAYERS for name in layer}
    assert rooms <= listed, f"rooms missing from LAYERS: {sorted(rooms - listed)}"
    assert not listed - rooms, f"LAYERS names rooms that do not exist: {sorted(listed - rooms)}"


def test_imports_point_down_the_layers():
    assert imports_up(import_graph()) == sorted(RUNS_UP)
    assert len(RUNS_UP) <= 2


def test_the_layer_check_finds_an_import_that_points_up():
    graph = {f"{PACKAGE}.models.unet": {f"{PACKAGE}.training.loop"}, f"{PACKAGE}.training.loop": {f"{PACKAGE}.models"}}
    assert imports_up(graph) == [(f"{PACKAGE}.models.unet", f"{PACKAGE}.training.loop")]


@pytest.mark.parametrize("low", ["data", "models", "losses", "metrics"])
def test_the_lower_rooms_import_no_pipeline(low):
    pipelines = {"training", "inference", "evaluation", "export", "autofit", "presets", "serve", "cli", "__init__"}
    graph = import_graph()
    offending = sorted((m, t) for m, targets in graph.items() if room(m) == low for t in targets if room(t) in pipelines)
    assert not offending
