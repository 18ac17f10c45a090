"""Turn the raw results of ``bench/run.py`` into ``docs/benchmarks.md``.

    python bench/report.py [docs/benchmarks.json] [docs/benchmarks.md]

regenerates the page from a JSON file without re-running anything. The
hand-written analysis (what bounds each figure, profile evidence, proposals)
lives in ``bench/analysis.md`` and is copied in verbatim.
"""

import json
import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

#: (workload key, target speed-up ours vs original, extra check description)
#: with ours' defaults (the float32 rows or the bf16 rows, whichever "auto" picks here): W1 1.5x, W2/W3 2x
DEFAULTS_TARGETS = {"W1_unet_mini": 1.5, "W1_vgg_unet": 1.5, "W2_predict": 2.0, "W3_evaluate": 2.0}
TARGETS = {
    "W1_unet_mini": 1.1,  # float32: never slower than the original
    "W1_vgg_unet": 1.1,
    "W1_unet_mini_bf16": 2.0,
    "W1_vgg_unet_bf16": 2.0,
    "W2_predict": 2.0,
    "W2_predict_bf16": 2.0,
    "W3_evaluate": 2.0,
    "W3_evaluate_bf16": 2.0,
    "W4_verify": 3.0,
    "W5_cli_help": 5.0,
}
PEAK_TARGET = 0.60
PEAK_TARGET_BF16 = 0.80  # of the bfloat16 matmul peak
HELP_SECONDS_TARGET = 1.0


def _fmt(value, digits=3):
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _stat(stats, digits=3):
    if not stats:
        return "–"
    if stats["n"] == 1:
        return _fmt(stats["median"], digits)
    return f"{_fmt(stats['median'], digits)} ({_fmt(stats['min'], digits)}–{_fmt(stats['max'], digits)})"


def _onednn(setting):
    if setting == "default":
        return ("not set by the harness, so each library runs with its own default: ours turns oneDNN on at import "
                "(`os.environ.setdefault` in `keras_segmentation/__init__.py`), the original keeps TensorFlow's default "
                "(oneDNN off on CPUs without AVX-512 VNNI/BF16/AMX, e.g. this one)")
    return "=1 (oneDNN on)" if setting == "on" else "=0 (oneDNN off)"


def _ratio(stats):
    if not stats:
        return "–"
    if stats["n"] == 1:
        return f"{stats['median']:.2f}"
    return f"{stats['median']:.2f} ({stats['min']:.2f}–{stats['max']:.2f})"


def _yes(flag):
    return "–" if flag is None else ("**yes**" if flag else "**no**")


def ratio_table(results):
    """A plain-text summary (printed at the end of a run)."""
    lines = [f"{'workload':<16} {'ours':>22} {'original':>22} {'speed-up':>22} {'RSS ours/orig':>14}"]
    for key, w in results["workloads"].items():
        s = w.get("summary", {})
        lines.append(
            f"{key:<16} {_stat(s.get('ours')):>22} {_stat(s.get('original')):>22} "
            f"{_stat(s.get('speedup')):>22} {_ratio(s.get('rss_ratio')):>14}"
        )
    return "\n".join(lines)


def target_rows(results):
    """One row per target: (what, measured, target, met)."""
    rows = []
    peak = results.get("peak_gflops")
    for key, target in TARGETS.items():
        w = results["workloads"].get(key)
        if not w:
            continue
        s = w["summary"]
        speedup = s["speedup"]["median"] if s.get("speedup") else None
        rows.append((f"{w['title']}: speed-up ≥ {target}×", _fmt(speedup), f"≥ {target}", None if speedup is None else speedup >= target))
        if key.startswith("W1") and peak:
            fraction, goal = s.get("ours_fraction_of_peak"), PEAK_TARGET_BF16 if key.endswith("_bf16") else PEAK_TARGET
            rows.append((f"{w['title']}: share of measured matmul peak ≥ {goal:.0%}",
                         "–" if fraction is None else f"{fraction:.0%}", f"≥ {goal:.0%}",
                         None if fraction is None else fraction >= goal))
        if key == "W5_cli_help":
            seconds = s["ours"]["median"] if s.get("ours") else None
            rows.append(("W5 `--help` wall time < 1 s", _fmt(seconds), "< 1 s", None if seconds is None else seconds < HELP_SECONDS_TARGET))
    suffix = "_bf16" if results.get("ours_auto_precision") == "mixed_bfloat16" else ""
    for key, goal in DEFAULTS_TARGETS.items():
        w = results["workloads"].get(key + suffix)
        speedup = w["summary"]["speedup"]["median"] if w and w["summary"].get("speedup") else None
        if w:
            rows.append((f"{w['title']}, the defaults here: speed-up ≥ {goal}×", _fmt(speedup),
                         f"≥ {goal}", None if speedup is None else speedup >= goal))
    for key, w in results["workloads"].items():
        ratio = w["summary"].get("rss_ratio")
        value = ratio["median"] if ratio else None
        rows.append((f"peak RSS ours ≤ original: {key} (ours/original)", "–" if value is None else f"{value:.3f}", "≤ 1.000",
                     None if value is None else value <= 1.0))
    return rows


def render(results):
    quick = results["mode"] == "quick"
    m = results["machine"]
    out = ["# Benchmarks: keras-segmentation vs the original keras_segmentation 0.3.0", ""]
    out.append("_Generated by `bench/run.py` (do not edit by hand: edit `bench/analysis.md` or `bench/report.py`)._")
    out.append("")
    if quick:
        out += [
            "> **This page comes from a `--quick` run: few steps, 10 of the 101 test images, 2 repetitions, on a machine",
            "> shared with other jobs. Its figures are noisy and indicative only; the full run (`make bench`) on a quiet",
            "> machine gives the figures to quote.**",
            "",
        ]
    out += [
        "## How it was measured",
        "",
        f"* Command: `{results['command']}` (equivalently `make {'bench-quick' if quick else 'bench'}`), {results['date']}, "
        f"{results['total_seconds'] / 60:.1f} min in all.",
        f"* Machine: {m.get('cpu_model', '?')}, {m.get('cpus')} CPUs visible ({m.get('affinity_cpus', '?')} usable), "
        f"{m.get('memory_gib', '?')} GiB RAM, SIMD {', '.join(m.get('simd', [])) or '?'}; {m.get('platform')}. "
        f"Load average at start {results.get('load_average_start')}, at end {results.get('load_average_end')}.",
        f"* Ours: keras-segmentation {results['versions']['ours'].get('keras-segmentation')}, Keras {results['versions']['ours'].get('keras')}, "
        f"TensorFlow {results['versions']['ours'].get('tensorflow')} (TF backend), NumPy {results['versions']['ours'].get('numpy')}, in "
        "`bench/.envs/ours`: the working tree installed as a user would (`pip install .`: no JAX, PyTorch or scikit-learn, "
        "which TensorFlow 2.21 and Keras import at start-up when present; not editable).",
        f"* Original: keras_segmentation {results['versions']['original'].get('keras-segmentation')} from PyPI in `bench/.envs/original` "
        f"(Keras {results['versions']['original'].get('keras')}, TensorFlow-CPU {results['versions']['original'].get('tensorflow-cpu')}, "
        f"NumPy {results['versions']['original'].get('numpy')}), installed from `bench/original_requirements.txt` then "
        "`pip install --no-deps keras-segmentation==0.3.0` (its own `h5py<=2.10` pin does not build on Python 3.11).",
        f"* Each measurement is a fresh subprocess; ours and the original alternate (A B A B …); "
        f"{results['settings']['warmup_reps']} warm-up pair(s) discarded (W4/W5: at least 1), then "
        f"{results['settings']['reps']} measured pair(s) (W5: {results['settings']['startup_reps']}). Figures are "
        "medians with (min–max); *speed-up* is ours/original of the rate (= original/ours of the time), computed pair by pair "
        "and then summarised.",
        f"* Both: TensorFlow intra-op and inter-op threads = {results['settings']['threads']}, `OMP_NUM_THREADS` the same, "
        f"`TF_ENABLE_ONEDNN_OPTS` {_onednn(results['settings'].get('onednn', 'default'))}, "
        f"float32, batch {results['settings']['batch_size']}, optimizer {results['settings']['optimizer']}, "
        f"{results['settings']['n_classes']} classes, CamVid at `{results['settings']['camvid']}`.",
        "* W1 calls each library's `train()` with its defaults otherwise: ours compiles the training step with XLA on a "
        "CPU only where TensorFlow's oneDNN kernels are off (`jit_compile=\"auto\"`; on AVX-512 VNNI/BF16 CPUs like a "
        "Zen 4 oneDNN is on and XLA is left off, see `bench/analysis.md`), the original does not use XLA. Ours is pinned to "
        "a precision in every row (W1, W2, W3): `precision=\"float32\"`, or `\"mixed_bfloat16\"` in the rows marked "
        "so; its default `\"auto\"` (training and prediction) picks "
        f"**{results.get('ours_auto_precision', 'float32')}** on this machine for these convolutional models. The "
        "original runs float32.",
        f"* Duration of this run: {results['total_seconds'] / 60:.0f} min ({results.get('mode', 'full')} mode)."
        " Run the full one on a quiet machine: other jobs move the wall-time figures by up to 2× (the CPU-time "
        "columns much less).",
        "* Peak RSS is the maximum resident set of each workload's own process, taken by GNU `time -f %M` around it "
        "(Linux carries `ru_maxrss` across `exec`, so a child started straight from the harness's Python would report at "
        "least the harness's own RSS). CPU time is the process's user + system time over the measured span.",
        "",
    ]
    out += _matmul_section(results)
    out += _models_section(results)
    out += _results_section(results)
    out += _targets_section(results)
    out += _workload_notes(results)
    analysis = os.path.join(BENCH, "analysis.md")
    if os.path.isfile(analysis):
        with open(analysis) as handle:
            out += ["", handle.read().rstrip(), ""]
    return "\n".join(out) + "\n"


def _matmul_section(results):
    out = ["## Machine peak (float32 matmul)", ""]
    mm = results.get("matmul", {})
    s = results["settings"]["matmul"]
    out.append(f"Best of {s['repeats']} timings of {s['inner']} chained n×n float32 `tf.matmul`(s), TensorFlow's own kernel "
               "and XLA-compiled (`tf.function(jit_compile=True)`), in each environment:")
    out.append("")
    out.append("| environment | n | TF kernel GFLOP/s | XLA GFLOP/s |")
    out.append("|---|---|---|---|")
    for lib in ("ours", "original"):
        for r in mm.get(lib, []):
            if r.get("error"):
                out.append(f"| {lib} | failed | | |")
                continue
            by_n = {}
            for run in r["runs"]:
                by_n.setdefault(run["n"], {})[run["xla"]] = run["best_gflops"]
            for n, v in sorted(by_n.items()):
                out.append(f"| {lib} (TF {r.get('tf_version')}) | {n} | {_fmt(v.get(False))} | {_fmt(v.get(True))} |")
    out.append("")
    out.append(f"Machine peak used below: **{_fmt(results.get('peak_gflops'))} GFLOP/s** (the best of all).")
    bf16 = results.get("matmul_bf16")
    if bf16 and bf16.get("best_gflops"):
        cells = ", ".join(f"n={r['n']} {'XLA' if r['xla'] else 'TF kernel'} {_fmt(r['best_gflops'])}" for r in bf16["runs"])
        out.append("")
        out.append(f"bfloat16 matmul in ours (oneDNN's bf16 kernels; TF 2.15 has none on this CPU): {cells} GFLOP/s; "
                   f"the mixed_bfloat16 rows' share of peak is against **{_fmt(bf16['best_gflops'])} GFLOP/s**.")
    out.append("")
    return out


def _models_section(results):
    out = ["## Same graphs in both libraries", ""]
    out.append("| model | input | params ours / original | output ours / original | forward GFLOP/image (count_flops; TF profiler ours / original) |")
    out.append("|---|---|---|---|---|")
    for name, info in results.get("models", {}).items():
        if info.get("ours_error") or info.get("original_error"):
            out.append(f"| {name} | {info['input'][0]}×{info['input'][1]} | failed: {info.get('ours_error') or info.get('original_error')} | | |")
            continue
        lib_flops = info.get("library_forward_flops")
        out.append(
            f"| {name} | {info['input'][0]}×{info['input'][1]} | {info['ours_params']:,} / {info['original_params']:,} "
            f"| {info['ours_output'][0]}×{info['ours_output'][1]} / {info['original_output'][0]}×{info['original_output'][1]} "
            f"| {_fmt(lib_flops / 1e9 if lib_flops else None)}; {info['ours_profiler_flops'] / 1e9:.2f} / {info['original_profiler_flops'] / 1e9:.2f} |"
        )
    out.append("")
    out.append("FLOP convention: a multiply-add is 2 FLOPs; one training image costs 3 × the forward FLOPs (forward, "
               "gradient w.r.t. activations, gradient w.r.t. weights). The TF profiler counts the frozen inference graph "
               "(convolutions, bias adds, softmax…); `count_flops` is the library's own count.")
    w = results.get("weights", {})
    if w.get("original"):
        out.append("")
        out.append(f"W2/W3 weights: one random initialisation made by ours (`keras.utils.set_random_seed(0)`), saved as "
                   f"our checkpoint; the original loads {w['original'].get('source', w['original'].get('error'))}.")
    if w.get("bug_check_ours"):
        b = w["bug_check_ours"]
        out.append(f"Bug check (ours): `predict_multiple(checkpoints_path=..., out_dir=<missing nested folder>)` wrote "
                   f"{b.get('files_written')} of {b.get('n_images')} files: {'ok' if b.get('ok') else 'FAILED ' + str(b.get('error', ''))}.")
    out.append("")
    return out


def _results_section(results):
    out = ["## Results", ""]
    out.append("| workload | ours | original | speed-up (ours vs original) | per pair | CPU-time speed-up | peak RSS MiB ours / original |")
    out.append("|---|---|---|---|---|---|---|")
    for w in results["workloads"].values():
        s = w["summary"]
        unit = w["unit"]
        pairs = ", ".join(_fmt(x) for x in s["speedup_pairs"])
        out.append(
            f"| {w['title']} | {_stat(s['ours'])} {unit} | {_stat(s['original'])} {unit} | **{_stat(s['speedup'])}×** | {pairs} "
            f"| {_stat(s.get('cpu_speedup'))} | {_stat(s['rss_ours'], 4)} / {_stat(s['rss_original'], 4)} |"
        )
    out.append("")
    out.append("*CPU-time speed-up*: original/ours of the process's CPU seconds (all threads) per image (W4: per run) over "
               "the same span as the rate. It is the less noisy figure when other jobs share the machine; it also counts "
               "the work our reader threads do in parallel with the model.")
    out.append("")
    train = [(k, w) for k, w in results["workloads"].items() if k.startswith("W1")]
    if train and results.get("peak_gflops"):
        out.append("Training FLOP/s (median images/s × 3 × forward FLOPs) against the measured matmul peak:")
        out.append("")
        out.append("| workload | FLOPs / training image | ours GFLOP/s (share of peak) | original GFLOP/s (share of peak) |")
        out.append("|---|---|---|---|")
        for _key, w in train:
            s, f = w["summary"], w.get("train_flops_per_image")
            if not f:
                out.append(f"| {w['title']} | not counted | | |")
                continue
            cells = []
            for lib in ("ours", "original"):
                g = s.get(f"{lib}_achieved_gflops")
                cells.append("–" if g is None else f"{g:.1f} ({s[f'{lib}_fraction_of_peak']:.0%})")
            out.append(f"| {w['title']} | {f['train'] / 1e9:.0f} G ({f['source']}) | {cells[0]} | {cells[1]} |")
        out.append("")
    for key in ("W2_predict", "W3_evaluate"):
        w = results["workloads"].get(key)
        if not w:
            continue
        s = w["summary"]
        out.append(f"{key}: end to end including building the model and loading the weights: ours "
                   f"{_stat(s.get('ours_seconds'))} s, original {_stat(s.get('original_seconds'))} s "
                   f"(model load ours {_stat(s.get('ours_load_seconds'))} s, original {_stat(s.get('original_load_seconds'))} s).")
        if w.get("agreement") and w["agreement"].get("pixel_agreement") is not None:
            a = w["agreement"]
            out.append(f"Predicted labels agree on {_fmt(100 * a['pixel_agreement'] if a.get('pixel_agreement') is not None else None, 4)} % "
                       f"of the pixels of {a['files']} images (same weights in both libraries).")
        ev = [r.get("mean_IU") for r in w["ours"] if r.get("mean_IU") is not None]
        eo = [r.get("mean_IU") for r in w["original"] if r.get("mean_IU") is not None]
        if ev and eo:
            out.append(f"mean IU (random weights, so near zero; the definitions differ: ours ignores classes absent from both "
                       f"truth and prediction, the original averages all {results['settings']['n_classes']}): ours {ev[0]:.4f}, original {eo[0]:.4f}.")
        out.append("")
    errors = [(k, lib, e) for k, w in results["workloads"].items() for lib, es in w["summary"]["errors"].items() for e in es]
    if errors:
        out.append("### Failures")
        out.append("")
        for key, lib, error in errors:
            out.append(f"* {key} ({lib}): `{error.splitlines()[-1][:300]}`")
        out.append("")
    return out


def _targets_section(results):
    out = ["## Targets (medians of this run)", "", "| target | measured | wanted | met |", "|---|---|---|---|"]
    for what, measured, wanted, met in target_rows(results):
        out.append(f"| {what} | {measured} | {wanted} | {_yes(met)} |")
    out.append("")
    return out


def _workload_notes(results):
    s = results["settings"]
    t = s["train"]
    return [
        "## What each workload does",
        "",
        f"* **W1** ours: `keras_segmentation.train.train(model, images, annotations, verify_dataset=False, epochs=1, "
        f"batch_size=2, steps_per_epoch=N, optimizer_name='adam')` (its `SegmentationDataset`, integer labels, sparse loss). "
        "Original: its `image_segmentation_generator` + `model.fit(gen, steps_per_epoch=N)` compiled as its `train()` does "
        "(`categorical_crossentropy`, `accuracy`) with Adam. A callback timestamps every batch; images/s is measured after "
        f"the warm-up steps (unet_mini: {t['unet_mini']['warmup_steps']} warm-up + {t['unet_mini']['steps']} measured; "
        f"vgg_unet: {t['vgg_unet']['warmup_steps']} + {t['vgg_unet']['steps']}), so graph building and the first steps "
        "are excluded in both. Augmentation off, fresh model (random init) in each process.",
        f"* **W2** ours: `model_from_checkpoint_path(ckpt)` then `predict_multiple(model=..., inps=..., out_dir=<missing "
        f"folder>, batch_size={s['predict_batch_size_ours']})` (library default batch; writes class-id PNGs at image "
        "resolution); the harness checks that every image produced a file. Original: build `unet_mini` + `load_weights` "
        "(0.3.0's `model_from_checkpoint_path` cannot find TF-format checkpoints), create `out_dir` (0.3.0 writes nothing "
        "into a missing folder), `predict_multiple(model=..., inps=..., out_dir=...)` (one image per `model.predict`, "
        "colour PNGs). Images/s is over the `predict_multiple` call; end-to-end time including the load is listed too.",
        "* **W3** `evaluate(model=..., inp_images=..., annotations=...)` on the same images and masks, model loaded as in W2.",
        "* **W4** ours: `keras_segmentation.data.verify.verify_dataset(images, masks, 12)`; original: "
        "`verify_segmentation_dataset(images, masks, 12)`; 367 pairs (the import of the module is excluded).",
        "* **W5** wall time of a whole `python -m keras_segmentation --help` / `python -c 'import keras_segmentation'` "
        "process, started from a folder outside the repository.",
        "",
    ]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    json_path = argv[0] if argv else os.path.join(ROOT, "docs", "benchmarks.json")
    md_path = argv[1] if len(argv) > 1 else os.path.join(ROOT, "docs", "benchmarks.md")
    with open(json_path) as handle:
        results = json.load(handle)
    with open(md_path, "w") as handle:
        handle.write(render(results))
    print(ratio_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
