"""Every feature on every Keras backend: the suite's worker (``backend_suite.py``) runs once per backend in a fresh process.

The full suite (four families, each in three processes, marked ``backends`` and ``slow``) runs in CI after the fast suite; with
``KERAS_SEGMENTATION_BACKEND_RESULTS=DIR`` it writes each backend's results there, from which ``table.py``
writes docs/backends.md. The fast suite runs a smoke subset (the legacy U-Net) on JAX and PyTorch.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backend_suite import FAMILIES, FEATURES

HERE = Path(__file__).resolve().parent
BACKENDS = ("tensorflow", "jax", "torch")
#: (backend, feature) pairs the library refuses, with a one-line error that names the backend.
UNSUPPORTED = {("jax", "export_onnx"), ("torch", "export_onnx")}
SMOKE = ("build", "train", "keras_fit", "save_load", "predict_resize", "predict_slide")
#: A family's features split over processes: every compiled training keeps memory inside TensorFlow (DEVELOPERS.md),
#: so each process trains at most twice.
PROCESSES = (("build", "train", "train_bfloat16"), ("build", "resume"),
             ("build", "keras_fit", "save_load", "predict_resize", "predict_slide", "evaluate", "export_onnx"))


def run_suite(backend, families, features, tmp_path, part=0):
    """The worker's ``{family: {feature: cell}}`` on ``backend``, run in a fresh process."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e .[test] installs every backend)")
    out = tmp_path / f"{backend}-{'-'.join(families)}-{part}.json"
    env = dict(os.environ, KERAS_BACKEND=backend)
    done = subprocess.run([sys.executable, str(HERE / "backend_suite.py"), str(out), "--features", ",".join(features),
                           *families], env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["meta"]["backend"] == backend
    keep = os.environ.get("KERAS_SEGMENTATION_BACKEND_RESULTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / out.name).write_text(out.read_text())
    return report["results"]


def check_cell(backend, feature, cell):
    if (backend, feature) in UNSUPPORTED:
        assert cell.startswith("unsupported: ") and f"'{backend}'" in cell and "\n" not in cell, cell
    else:
        assert cell == "ok", cell


@pytest.mark.slow
@pytest.mark.backends
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_feature_on_every_backend(backend, family, tmp_path):
    cells = {}
    for part, features in enumerate(PROCESSES):
        cells.update(run_suite(backend, [family], features, tmp_path, part)[family])
    assert set(cells) == set(FEATURES)
    failures = {}
    for feature in FEATURES:
        try:
            check_cell(backend, feature, cells[feature])
        except AssertionError:
            failures[feature] = cells[feature]
    assert not failures, f"{backend} / {family}: {failures}"


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_smoke_on_other_backends(backend, tmp_path):
    results = run_suite(backend, ["unet"], SMOKE, tmp_path)
    for feature in SMOKE:
        check_cell(backend, feature, results["unet"][feature])
