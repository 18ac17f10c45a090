"""``bench/serve_load.py`` end to end on the tiny preset: one client for 2 s against the Keras model and its ONNX
export, no errors, the served label map equal to ``predict_multiple``'s, the server stopped, the docs section."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")
SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "serve_load.py"


@pytest.mark.slow
def test_the_serve_load_test_runs_both_engines_without_errors(preset, tmp_path):
    out = tmp_path / "serve_load.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--model", str(preset), "--clients", "1", "--seconds", "2",
                           "--warmup", "0.5", "--image-size", "40x56", "--baseline-images", "4", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [(row["engine"], row["clients"]) for row in result["rows"]] == [("keras", 1), ("onnx", 1)]
    for row in result["rows"]:
        assert row["errors"] == 0 and row["warmup_errors"] == 0, row
        assert row["requests"] >= 1 and row["images_per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p99_ms"] and row["server_peak_rss_mib"] > 0
    for engine in result["engines"]:
        assert engine["server_exit_code"] == 0
        assert engine["baseline"]["images"] == 4 and engine["baseline"]["images_per_s"] > 0
        assert engine["answer"]["shape"] == [40, 56] and engine["answer"]["equals_predict_multiple"], engine["answer"]
    labels = [engine["engine_label"] for engine in result["engines"]]
    assert labels[0].startswith("keras (") and labels[1] == "onnxruntime"
    assert result["lscpu"]["model"] and result["settings"]["image_size"] == [40, 56]
    assert f"| {labels[0]}: `serve` | 1 |" in done.stdout

    spec = importlib.util.spec_from_file_location("serve_load", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    section = module.render_section(result)
    assert section.startswith("## Serving under load") and "| onnxruntime: `serve` | 1 |" in section
    assert "Errors: 0 in the measured windows, 0 in the warm-ups" in section
