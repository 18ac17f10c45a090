"""``bench/peers.py``'s pure parts: arguments, pins, medians, ratios ours/SMP pair by pair, the docs section.

The benchmark itself (PyTorch in its own environment, minutes per model) is not run here."""

import argparse
import importlib.util
import json
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "peers.py"
_spec = importlib.util.spec_from_file_location("peers", SCRIPT)
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)


def record(rate, rss=1000.0, precision=None, error=None):
    if error:
        return {"error": error, "peak_rss_mib": rss}
    out = {"images_per_s": rate, "peak_rss_mib": rss, "cpu_seconds_per_image": 2.0 / rate}
    if precision:
        out["precision_used"] = precision
    return out


RUNS = {
    ("ours", "float32"): [record(1.0), record(1.2), record(0.8)],
    ("smp", "float32"): [record(0.5), record(0.6), record(0.4)],
    ("ours", "default"): [record(3.0, precision="mixed_bfloat16"), record(2.0, precision="mixed_bfloat16"),
                          record(1.0, precision="mixed_bfloat16")],
    ("smp", "bfloat16"): [record(1.0), record(None, error="boom"), record(2.0)],
    ("smp", "compiled"): [record(1.5), record(4.0), record(0.5)],
}


def test_sizes_and_lists_are_parsed_and_bad_ones_named():
    assert peers.size_arg("352x480") == (352, 480)
    assert peers.list_arg(peers.size_arg)("352x480, 512x512") == [(352, 480), (512, 512)]
    assert peers.list_arg(int)("2,8") == [2, 8]
    with pytest.raises(argparse.ArgumentTypeError, match="multiples of 32"):
        peers.size_arg("360x480")
    with pytest.raises(argparse.ArgumentTypeError, match="HEIGHTxWIDTH"):
        peers.size_arg("352")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown model 'fpn'"):
        peers.model_arg("fpn")


def test_pins_are_read_from_the_requirements_file(tmp_path):
    path = tmp_path / "req.txt"
    path.write_text("# a comment\nsegmentation_models_pytorch==0.6.0\ntorch==2.13.0  # CPU\n\nnumpy>=2\n")
    assert peers.pinned_versions(str(path)) == {"segmentation-models-pytorch": "0.6.0", "torch": "2.13.0"}
    pins = peers.pinned_versions()  # the committed file pins what ensure_smp_env checks
    assert {"segmentation-models-pytorch", "torch", "onnxruntime", "onnx"} <= set(pins)


def test_ratios_are_taken_repetition_by_repetition_then_summarised():
    assert peers.ratio_pairs(RUNS, "float32", "float32", 3) == [2.0, 2.0, 2.0]
    assert peers.ratio_pairs(RUNS, "default", "bfloat16", 3) == [3.0, None, 0.5]  # a failed run gives no ratio
    assert peers.median_stats([3.0, None, 0.5]) == {"median": 1.75, "min": 0.5, "max": 3.0, "n": 2}
    assert peers.median_stats([None]) is None
    # best of each: per repetition, each library's fastest variant
    assert [peers.best_variant(RUNS, "smp", rep) for rep in range(3)] == [
        ("compiled", 1.5), ("compiled", 4.0), ("bfloat16", 2.0)]
    assert peers.ratio_pairs(RUNS, peers.BEST, peers.BEST, 3) == [2.0, 0.5, 0.5]
    assert peers.best_variant({("ours", "float32"): [record(None, error="x")]}, "ours", 0) == (None, None)


def test_a_group_summary_has_medians_precisions_errors_and_comparisons():
    summary = peers.summarise_group(RUNS, peers.COMPARISONS["train"], 3)
    ours = summary["variants"]["ours:default"]
    assert ours["images_per_s"] == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert ours["precision_used"] == ["mixed_bfloat16"]
    assert ours["cpu_seconds_per_image"]["median"] == pytest.approx(1.0)
    assert summary["variants"]["smp:bfloat16"]["errors"] == ["boom"]
    assert summary["variants"]["smp:bfloat16"]["peak_rss_mib"]["n"] == 2
    titles = [c["title"] for c in summary["comparisons"]]
    assert titles == ["float32", "defaults: ours auto, SMP bfloat16", "best of each"]
    assert summary["comparisons"][0]["ratio"]["median"] == 2.0
    assert summary["comparisons"][2]["ratio_pairs"] == [2.0, 0.5, 0.5]
    assert summary["best_variants"] == {"ours": ["default", "default", "default"],
                                        "smp": ["compiled", "compiled", "bfloat16"]}


def test_parameter_counts_within_five_percent_or_not():
    assert peers.params_check(26_197_132, 26_117_452)["within"]
    check = peers.params_check(8_049_036, 6_630_540)
    assert not check["within"] and check["difference"] == pytest.approx(0.2139, abs=1e-4)


def _result():
    runs = {f"{lib}:{variant}": records for (lib, variant), records in RUNS.items()}
    return {
        "command": "python bench/peers.py --models fpn_resnet50", "date": "2026-12-07T06:40:00", "mode": "full",
        "lscpu": {"model": "AMD EPYC", "flags": "fpu sse avx2 fma avx512f avx512_bf16"},
        "machine": {"cpus": 2}, "load_average_start": [0.1, 0.2, 0.3], "load_average_end": [1.0, 1.0, 1.0],
        "total_seconds": 1500.0,
        "settings": {"reps": 3, "warmup_pairs": 1, "threads": 2, "images": 16, "predict_images": 16,
                     "warmup_steps": 2, "steps": 3, "ours_python": ".venv/bin/python"},
        "versions": {"ours": {"keras-segmentation": "0.4.0", "keras": "3.15.1", "tensorflow": "2.21.0",
                              "onnxruntime": "1.32.0"},
                     "smp": {"segmentation-models-pytorch": "0.6.0", "torch": "2.13.0+cpu", "onnxruntime": "1.32.0"}},
        "models": {"fpn_resnet50": {"title": "FPN-ResNet50", "note": "", "input": [352, 480],
                                    "params": peers.params_check(26_197_132, 26_117_452),
                                    "forward_gflops": {"ours": 40.2, "smp": 40.18},
                                    "smp_compiled_precision": "bfloat16"}},
        "groups": [{"model": "fpn_resnet50", "size": [352, 480], "batch": 2, "task": "train", "runs": runs,
                    "summary": peers.summarise_group(RUNS, peers.COMPARISONS["train"], 3)}],
    }


def test_the_docs_section_has_the_models_the_ratios_and_every_variant():
    text = peers.render_section(_result())
    assert text.startswith("## Against segmentation_models.pytorch on the CPU (`python bench/peers.py --models "
                           "fpn_resnet50`, 2026-12-07)")
    assert '"AMD EPYC", 2 CPUs; flags include avx2 fma avx512f avx512_bf16.' in text
    assert "| FPN-ResNet50 | 26,197,132 / 26,117,452 | +0.3 % | 40.2 / 40.2 at 352×480 | – |" in text
    assert "| FPN-ResNet50 | 352×480 | 2 | train | float32 | 1 (0.8–1.2) | 0.5 (0.4–0.6) | **2×** |" in text
    assert ("| FPN-ResNet50 | 352×480 | 2 | train | defaults: ours auto, SMP bfloat16 | 2 (1–3) | 1.5 (1–2) | "
            "**1.75 (0.5–3)×** |") in text
    assert ("| FPN-ResNet50 | 352×480 | 2 | train | best of each | best: default | best: bfloat16, compiled | "
            "**0.5 (0.5–2)×** |") in text
    assert '| ours default ("auto") (mixed_bfloat16) | 2 (1–3) | 1 (0.667–2) | 1000 | 0 |' in text
    assert "| SMP bfloat16 autocast | 1.5 (1–2) | 1.5 (1–2) | 1000 | 1 |" in text
    assert "median (min–max) of 3 repetition(s)" in text and "25 min in all (full mode)" in text
    assert "after 1 discarded warm-up pair(s)" in text
    assert "`torch.compile` (inductor; for prediction with freezing) in bfloat16 autocast" in text


def test_render_writes_the_section_of_a_result_file_and_says_when_compile_was_left_out(tmp_path, capsys):
    result = _result()
    result["settings"]["compile"] = False
    source, target = tmp_path / "peers.json", tmp_path / "peers.md"
    source.write_text(json.dumps(result))
    assert peers.main(["--render", str(source), "--markdown", str(target)]) == 0
    text = target.read_text()
    assert text == peers.render_section(result) and text in capsys.readouterr().out
    assert "No `torch.compile` variants in this run (`--no-compile`)." in text


def test_worker_specs_carry_each_variant_to_its_worker():
    settings = {"warmup_steps": 2, "steps": 3, "predict_images": 16}
    exports = {"checkpoint": {"checkpoints_path": "w/ckpt"}, "ours_onnx": {"output": "w/ours.onnx"},
               "smp_onnx": {"output": "w/smp.onnx"}}
    group = {"task": "train", "batch": 8, "sized": {"model": "fpn_resnet50", "height": 352, "width": 480},
             "images": "d/images", "masks": "d/annotations", "settings": settings, "exports": exports,
             "workdir": "w", "name": "fpn_resnet50_352x480 batch 8 train", "compiled_precision": "float32"}
    train = peers.worker_spec(group, "smp", "compiled", {"precision": "bfloat16", "compile": True}, 0)
    assert train == {"model": "fpn_resnet50", "height": 352, "width": 480, "workload": "train", "images": "d/images",
                     "batch_size": 8, "precision": "float32", "compile": True, "annotations": "d/annotations",
                     "optimizer": "adam", "warmup_steps": 2, "steps": 3}  # no bfloat16 on this CPU: compiled in float32
    group.update(task="predict", name="fpn_resnet50_352x480 batch 8 predict")
    ours = peers.worker_spec(group, "ours", "onnx", {"engine": "onnx"}, 2)
    assert ours["model_path"] == "w/ours.onnx" and ours["checkpoints_path"] == "w/ckpt"
    assert ours["predict_batch_size"] == 8 and ours["limit"] == 16 and ours["warmup_call"]
    assert ours["out_dir"].endswith("fpn_resnet50_352x480_batch_8_predict_ours_onnx_2")
    smp = peers.worker_spec(group, "smp", "onnx", {"engine": "onnx"}, 2)
    assert smp["model_path"] == "w/smp.onnx" and "checkpoints_path" not in smp and smp["batch_size"] == 8
    assert peers.worker_spec(group, "ours", "float32", {"precision": "float32"}, 0).get("model_path") is None
    exports["ours_litert_int8"] = {"output": "w/ours_int8.tflite"}
    assert peers.worker_spec(group, "ours", "litert_int8", {}, 0)["model_path"] == "w/ours_int8.tflite"
    # an export that failed gives its variant no file, so the worker fails instead of timing Keras under its name
    spec = peers.worker_spec(group, "ours", "onnx_int8", {}, 0)
    assert "model_path" in spec and spec["model_path"] is None


def test_best_without_int8_leaves_ours_int8_engines_out():
    runs = {**RUNS, ("ours", "litert_int8"): [record(9.0), record(9.0), record(None, error="x")]}
    assert [peers.best_variant(runs, "ours", rep) for rep in range(3)] == [
        ("litert_int8", 9.0), ("litert_int8", 9.0), ("default", 1.0)]
    assert [peers.best_variant(runs, "ours", rep, float_only=True)[0] for rep in range(3)] == ["default"] * 3
    summary = peers.summarise_group(runs, peers.COMPARISONS["predict"], 3)
    by_title = {c["title"]: c for c in summary["comparisons"]}
    assert by_title["best of each without int8"]["ratio_pairs"] == [2.0, 0.5, 0.5]
    assert by_title["best of each (ours' int8 engines included)"]["ratio_pairs"] == [6.0, 2.25, 0.5]
    assert summary["best_float_variants"]["ours"] == ["default"] * 3
    assert peers._variant_cell(summary, "ours", peers.BEST_FLOAT) == "best: default"
    assert peers._variant_cell(summary, "ours", peers.BEST) == "best: default, litert_int8"
