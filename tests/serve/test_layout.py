"""Where serve sits: above inference, engines and presets, below the CLI. Nothing but the CLI imports it (at module
level or inside a function), it imports no CLI, and importing it loads neither FastAPI nor Keras."""

import importlib.util
import pathlib
import subprocess
import sys

LAYOUT = pathlib.Path(__file__).resolve().parents[1] / "layout" / "test_import_cycles.py"


def import_graph():
    spec = importlib.util.spec_from_file_location("layout_import_cycles", LAYOUT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.import_graph()


def test_only_the_cli_imports_serve_and_serve_imports_no_cli():
    graph = import_graph()
    serve = {name for name in graph if name.startswith("keras_segmentation.serve")}
    assert {"keras_segmentation.serve.app", "keras_segmentation.serve.batcher"} <= serve
    importers = {name for name, targets in graph.items() if targets & serve and name not in serve}
    assert importers == {"keras_segmentation.cli.serve"}
    assert not any(target.startswith("keras_segmentation.cli") for name in serve for target in graph[name])
    uses = set().union(*(graph[name] for name in serve))
    assert {"keras_segmentation.presets.load", "keras_segmentation.inference.predictor",
            "keras_segmentation.inference.writers"} <= uses


def test_importing_serve_loads_neither_fastapi_nor_keras():
    code = ("import sys, keras_segmentation.serve as s; assert callable(s.__getattr__); "
            "print(sorted(m for m in ('fastapi', 'keras', 'tensorflow', 'uvicorn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
