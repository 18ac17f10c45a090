"""The export format registry: each format is one module registered by a decorator; finding one loads no runtime."""

import subprocess
import sys

import numpy as np
import pytest

from keras_segmentation.errors import ExportError
from keras_segmentation.export import formats
from keras_segmentation.export.formats.runner import ExportedModel


def test_every_format_is_found_by_name_suffix_and_engine():
    assert sorted(formats.FORMATS) == ["keras", "litert", "onnx", "savedmodel"]
    found = {name: (formats.format_for_path(f"model{formats.get_format(name).suffix}").name
                    if formats.get_format(name).suffix else None,
                    formats.format_for_engine(formats.get_format(name).engine).name) for name in formats.FORMATS}
    assert found == {"keras": ("keras", "keras"), "litert": ("litert", "litert"), "onnx": ("onnx", "onnx"),
                     "savedmodel": (None, "savedmodel")}


def test_importing_the_registry_loads_no_runtime():
    code = ("import sys, keras_segmentation.export.formats as f; print(len(f.FORMATS), sorted(m for m in ('keras', "
            "'tensorflow', 'onnxruntime', 'onnx', 'tf2onnx', 'ai_edge_litert', 'jax', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 []"


def test_a_registered_format_is_written_found_and_run(monkeypatch, tmp_path):
    """What a new member module does: one decorated runner; export and load find it with no other edit."""
    monkeypatch.setattr(formats, "_REGISTRY", dict(formats._REGISTRY))

    @formats.register_format("npy", suffixes=(".npy",), any_backend=True)
    class NumpyModel(ExportedModel):
        engine = "numpy"

        def __init__(self, path, threads=None):
            self.weights = np.load(path)
            super().__init__(path, (None, None, 3), self.weights.shape[-1])

        @staticmethod
        def write(deployable, path, precision, calibration):
            with open(path, "wb") as handle:
                np.save(handle, deployable)

        def run(self, images):
            return np.broadcast_to(self.weights, (*images.shape[:3], self.weights.shape[-1]))

    formats.write_export(np.array([0.25, 0.75], np.float32), tmp_path / "model.npy", "npy")
    engine = formats.load_engine(tmp_path / "model.npy", "numpy")
    assert isinstance(engine, NumpyModel) and engine.n_classes == 2
    assert engine.predict_on_batch(np.zeros((1, 2, 2, 3), np.uint8))[0, 1, 1].tolist() == [0.25, 0.75]
    with pytest.raises(ExportError, match="is written in float32 only; use litert or onnx for int8"):
        formats.check_request("npy", "int8", None)
    with pytest.raises(ExportError, match=r"expected \.keras, \.tflite, \.onnx, \.npy or a folder"):
        formats.format_for_path(tmp_path / "model.txt")
