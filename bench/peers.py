"""This library against segmentation_models.pytorch (SMP) on the CPU, side by side: training and prediction images/s.

    python bench/peers.py [--quick] [--models fpn_resnet50,unet_mobilenetv2] [--sizes 352x480,512x512]
                          [--batches 2,8] [--only train|predict] [--reps 3] [--no-compile]
                          [--out bench/results/peers.json] [--markdown bench/results/peers.md]
    python bench/peers.py --render bench/results/peers.json [--markdown FILE]   # the docs section again

What it does:

1. creates (once) ``bench/.envs/smp``: a virtual environment with SMP, PyTorch (CPU), ONNX and ONNX Runtime at the
   versions of ``bench/smp_requirements.txt`` (``--torch-index URL`` adds a PyTorch wheel index to pip's);
2. writes one folder of random images and masks (12 classes, smooth blobs plus noise, seed 0) per size, read by
   both libraries; no pretrained weights anywhere (speed does not depend on them);
3. per model, counts the parameters and forward FLOPs of both (they must be within 5 %, else the difference
   is printed and recorded: ``MODELS`` says why where they differ);
4. per model, size and batch, runs every variant (``TRAIN_SLOTS``, ``PREDICT_SLOTS``) in a fresh process of its
   own interpreter (ours: ``--ours-python``, default this one; SMP: ``bench/.envs/smp``), ours and SMP alternating
   in each of ``--reps`` repetitions, after ``--warmup-pairs`` discarded ours/SMP pairs at the start of the run;
   each record holds the process's peak RSS (GNU ``time``, else ``wait4``: ``bench/run.py``'s ``Runner``);
5. writes the JSON (``--out``: every record, medians, ratios ours/SMP pair by pair, ``lscpu``, versions) and the
   Markdown section for ``docs/benchmarks.md`` (``--markdown``).

Training: ours calls ``keras_segmentation.train.train`` (files, no augmentation, Adam, its default loss, a fixed
``steps_per_epoch``) with ``precision="float32"`` and with its default (``"auto"``: bfloat16 where the CPU has it,
float32 for SegFormer); SMP a plain torch loop over a ``DataLoader`` of the same files (fused Adam, cross-entropy,
``channels_last``) in float32, in bfloat16 autocast, and in bfloat16 compiled with ``torch.compile`` (float32 where
the CPU has no bfloat16). Images/s are the steady-state steps after the warm-up steps (``_common.steady_throughput``,
as ``bench/run.py``'s W1). Prediction: ours ``predict_multiple`` over the folder (float32, its default precision,
and the library's exports run by its engines: ONNX float32, ONNX int8 and LiteRT int8, both int8 files calibrated
on the first :data:`CALIBRATION_COUNT` images of the folder), SMP eager float32 / bfloat16, compiled, and its
``torch.onnx.export`` in ONNX Runtime; both write label PNGs, and both are timed after one warm-up batch. The ratio
table compares each library's best with and without ours' int8 engines (the issue allows int8 where it costs at
most 1 mIoU; the cost is measured on a trained model, not on these random weights).

Thread pools: ``--threads`` (default: all CPUs) for TensorFlow, torch and ONNX Runtime; ``OMP_NUM_THREADS`` the
same. Run it on a quiet machine: under load torch's OpenMP threads spin-wait for each other and lose far more than
TensorFlow's (measured: SMP FPN-ResNet50 eager prediction 2.8 s/image, 0.9 with ``OMP_WAIT_POLICY=PASSIVE``, on a
busy 2-core machine), so a busy run favours ours. Duration on 2 cores, extrapolated from smoke runs on a busy
machine (the log prints the time to go after each model): at the defaults (4 models, 352x480, batch 2, 2
repetitions, 8 images) about 25-30 minutes, ``--reps 3`` about 35-40, ``--no-compile`` a third less (every
compiled process spends 0.5-2 minutes compiling); the issue's whole matrix (``--sizes 352x480,512x512 --batches
2,8``) about 3-4 hours.
"""

import argparse
import datetime
import functools
import json
import os
import shutil
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import _common  # noqa: E402
import run as bench_run  # noqa: E402

SMP_ENV = os.path.join(BENCH, ".envs", "smp")
REQUIREMENTS = os.path.join(BENCH, "smp_requirements.txt")
N_CLASSES = 12
SEED = 0
PARAMS_TOLERANCE = 0.05

#: model key -> ours (``build_model`` decoder/encoder, or a named model), SMP (class, encoder, options), and what
#: differs between the two where the parameter counts are more than 5 % apart or the graphs differ otherwise
MODELS = {
    "fpn_resnet50": {
        "title": "FPN-ResNet50",
        "ours": {"decoder": "fpn", "encoder": "resnet50"},
        "smp": {"class": "FPN", "encoder": "resnet50"},
        "note": "",
    },
    "unet_mobilenetv2": {
        "title": "U-Net-MobileNetV2",
        "ours": {"decoder": "unet", "encoder": "mobilenetv2"},
        "smp": {"class": "Unet", "encoder": "mobilenet_v2"},
        "note": "same decoder widths (256, 128, 64, 32, 16); ours takes the skips from MobileNetV2's expanded "
                "activations (96, 144, 192, 576 channels), SMP from the block outputs (16, 24, 32, 96), so "
                "ours' decoder convolutions have wider inputs",
    },
    "deeplabv3plus_resnet50": {
        "title": "DeepLabV3+-ResNet50",
        "ours": {"decoder": "deeplabv3plus", "encoder": "resnet50"},
        "smp": {"class": "DeepLabV3Plus", "encoder": "resnet50", "options": {"decoder_aspp_separable": False}},
        "note": "SMP with plain ASPP convolutions (decoder_aspp_separable=False; its default, separable ones, has "
                "26.7 M parameters); SMP dilates ResNet-50's last stage (output stride 16), ours runs ASPP on the "
                "stride-32 map (as keras-hub), so SMP does more FLOPs; SMP refines with one separable 3x3 "
                "convolution, ours with two 3x3 convolutions",
    },
    "segformer_b0": {
        "title": "SegFormer-B0 (MiT-B0)",
        "ours": {"named": "segformer_b0"},
        "smp": {"class": "Segformer", "encoder": "mit_b0"},
        "note": "",
    },
}

#: (library, variant, spec fields); ours and SMP alternate in this order within every repetition
TRAIN_SLOTS = (
    ("ours", "float32", {"precision": "float32"}),
    ("smp", "float32", {"precision": "float32"}),
    ("ours", "default", {}),
    ("smp", "bfloat16", {"precision": "bfloat16"}),
    ("smp", "compiled", {"precision": "bfloat16", "compile": True}),
)
PREDICT_SLOTS = (
    ("ours", "float32", {"precision": "float32"}),
    ("smp", "float32", {"engine": "eager", "precision": "float32"}),
    ("ours", "default", {"precision": "auto"}),
    ("smp", "bfloat16", {"engine": "eager", "precision": "bfloat16"}),
    ("ours", "onnx", {"engine": "onnx"}),
    ("smp", "onnx", {"engine": "onnx"}),
    ("ours", "onnx_int8", {"engine": "onnx_int8"}),
    ("smp", "compiled", {"engine": "compile", "precision": "bfloat16"}),
    ("ours", "litert_int8", {"engine": "litert_int8"}),
)
#: ours' exported engines (``make_exports``): variant -> (format, precision, file suffix)
OURS_EXPORTS = {"onnx": ("onnx", "float32", ".onnx"), "onnx_int8": ("onnx", "int8", "_int8.onnx"),
                "litert_int8": ("litert", "int8", "_int8.tflite")}
#: images the int8 exports are calibrated on (the first of the benchmark's own images)
CALIBRATION_COUNT = 8
VARIANT_TITLES = {
    ("ours", "float32"): "ours float32",
    ("ours", "default"): 'ours default ("auto")',
    ("ours", "onnx"): "ours ONNX Runtime",
    ("ours", "onnx_int8"): "ours ONNX Runtime int8",
    ("ours", "litert_int8"): "ours LiteRT int8",
    ("smp", "float32"): "SMP float32",
    ("smp", "bfloat16"): "SMP bfloat16 autocast",
    ("smp", "compiled"): "SMP torch.compile",
    ("smp", "onnx"): "SMP ONNX Runtime",
}
BEST = "best"
#: each library's fastest variant that computes in floating point (ours' int8 engines left out)
BEST_FLOAT = "best float"
INT8_VARIANTS = ("onnx_int8", "litert_int8")
#: (title, ours variant, SMP variant): the ratios ours/SMP reported; BEST is each library's fastest in the repetition
COMPARISONS = {
    "train": (("float32", "float32", "float32"), ("defaults: ours auto, SMP bfloat16", "default", "bfloat16"),
              ("best of each", BEST, BEST)),
    "predict": (("float32", "float32", "float32"), ("defaults: ours auto, SMP bfloat16", "default", "bfloat16"),
                ("ONNX Runtime", "onnx", "onnx"), ("best of each without int8", BEST_FLOAT, BEST),
                ("best of each (ours' int8 engines included)", BEST, BEST)),
}

#: defaults of the two modes; prediction runs over ``predict_batches`` batches of the largest batch size
MODES = {
    "full": {"reps": 2, "warmup_pairs": 1, "warmup_steps": 2, "steps": 3, "predict_batches": 4,
             "sizes": "352x480", "batches": "2"},
    "quick": {"reps": 1, "warmup_pairs": 0, "warmup_steps": 1, "steps": 2, "predict_batches": 2,
              "sizes": "352x480", "batches": "2"},
}
OURS_PACKAGES = ["keras-segmentation", "keras", "tensorflow", "numpy", "onnxruntime", "tf2onnx", "jax", "torch"]
SMP_PACKAGES = ["segmentation-models-pytorch", "torch", "torchvision", "timm", "numpy", "pillow", "onnx", "onnxruntime"]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------ arguments
def size_arg(text):
    """``"352x480"`` -> ``(352, 480)`` (height x width)."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a size as HEIGHTxWIDTH, e.g. 352x480") from None
    if height < 32 or width < 32 or height % 32 or width % 32:
        raise argparse.ArgumentTypeError(f"{text!r}: both sides must be multiples of 32 (SMP's rule), at least 32")
    return height, width


def list_arg(convert):
    def parse(text):
        values = [convert(v.strip()) for v in text.split(",") if v.strip()]
        if not values:
            raise argparse.ArgumentTypeError("give at least one value")
        return values

    return parse


def model_arg(name):
    if name not in MODELS:
        raise argparse.ArgumentTypeError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return name


# ---------------------------------------------------------- environment
def pinned_versions(path=REQUIREMENTS):
    """``{package: version}`` of a requirements file's ``name==version`` lines (names lower-case, ``_`` as ``-``)."""
    pins = {}
    with open(path) as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def ensure_smp_env(workdir, recreate=False, torch_index=None):
    """Create ``bench/.envs/smp`` from ``bench/smp_requirements.txt`` if it is missing or differs; return its python."""
    python = os.path.join(SMP_ENV, "bin", "python")
    pins = pinned_versions()
    wanted = {name: pins[name] for name in ("segmentation-models-pytorch", "torch", "onnxruntime")}
    if not recreate and os.path.exists(python):
        found = bench_run.package_versions(python, workdir, list(wanted))
        if all((found.get(name) or "").split("+")[0] == version for name, version in wanted.items()):
            return python
        log(f"SMP environment differs from {os.path.relpath(REQUIREMENTS, ROOT)} ({found}); recreating it")
    if os.path.isdir(SMP_ENV):
        shutil.rmtree(SMP_ENV)
    log(f"creating {os.path.relpath(SMP_ENV, ROOT)} ({os.path.relpath(REQUIREMENTS, ROOT)}); a few minutes")
    base = getattr(sys, "_base_executable", sys.executable)
    index = ["--extra-index-url", torch_index] if torch_index else []
    with open(os.path.join(workdir, "smp_env.log"), "a") as out:
        for step in ([base, "-m", "venv", SMP_ENV], [python, "-m", "pip", "install", "-q", *index, "-r", REQUIREMENTS]):
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            subprocess.run(step, check=True, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    return python


# ----------------------------------------------------------------- data
def write_data(folder, height, width, count, seed=SEED):
    """``count`` random RGB PNGs in ``folder/images`` and class-id masks (0..11) of the same names in
    ``folder/annotations``: smooth blobs plus noise, so PNG decoding costs what a photograph's would. Kept if there."""
    import cv2
    import numpy as np

    images, masks = os.path.join(folder, "images"), os.path.join(folder, "annotations")
    if _common.count_files(images) == count and _common.count_files(masks) == count:
        return images, masks
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(images)
    os.makedirs(masks)
    rng = np.random.default_rng(seed)
    for k in range(count):
        coarse = rng.integers(0, 256, (height // 16, width // 16, 3)).astype(np.uint8)
        image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
        mask = cv2.resize(rng.integers(0, N_CLASSES, (height // 32, width // 32)).astype(np.uint8), (width, height),
                          interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(os.path.join(images, f"random_{k:03d}.png"), image)
        cv2.imwrite(os.path.join(masks, f"random_{k:03d}.png"), mask)
    return images, masks


# -------------------------------------------------------------- figures
def median_stats(values):
    """Median, min, max and count of the values that are not ``None`` (``None`` when there are none)."""
    return bench_run._stats(values)


def images_per_s(record):
    """A record's images/s, or ``None`` when it failed."""
    if record is None or record.get("error") or "images_per_s" not in record:
        return None
    return float(record["images_per_s"])


def best_variant(runs, lib, rep, float_only=False):
    """``(variant, images/s)`` of ``lib``'s fastest variant in repetition ``rep`` (``(None, None)`` if all failed);
    ``float_only`` leaves out :data:`INT8_VARIANTS`."""
    rates = [(images_per_s(records[rep]), variant) for (owner, variant), records in runs.items()
             if owner == lib and rep < len(records) and images_per_s(records[rep]) is not None
             and not (float_only and variant in INT8_VARIANTS)]
    if not rates:
        return None, None
    rate, variant = max(rates)
    return variant, rate


def rate_of(runs, lib, variant, rep):
    """Images/s of ``lib``'s ``variant`` (or its :data:`BEST`, :data:`BEST_FLOAT`) in repetition ``rep``."""
    if variant in (BEST, BEST_FLOAT):
        return best_variant(runs, lib, rep, float_only=variant == BEST_FLOAT)[1]
    records = runs.get((lib, variant), [])
    return images_per_s(records[rep]) if rep < len(records) else None


def ratio_pairs(runs, ours_variant, smp_variant, reps):
    """Ours/SMP images/s, repetition by repetition (``None`` where either failed)."""
    pairs = []
    for rep in range(reps):
        ours, smp = rate_of(runs, "ours", ours_variant, rep), rate_of(runs, "smp", smp_variant, rep)
        pairs.append(ours / smp if ours and smp else None)
    return pairs


def summarise_group(runs, comparisons, reps):
    """Per variant: images/s, CPU s/image and peak RSS medians and errors; per comparison: the ratio ours/SMP."""
    variants = {}
    for (lib, variant), records in runs.items():
        ok = [r for r in records if not r.get("error")]
        variants[f"{lib}:{variant}"] = {
            "images_per_s": median_stats([images_per_s(r) for r in records]),
            "cpu_seconds_per_image": median_stats([r.get("cpu_seconds_per_image") for r in ok]),
            "peak_rss_mib": median_stats([r["peak_rss_mib"] for r in ok]),
            "precision_used": sorted({r["precision_used"] for r in ok if r.get("precision_used")}),
            "errors": [r["error"] for r in records if r.get("error")],
        }
    compared = []
    for title, ours_variant, smp_variant in comparisons:
        pairs = ratio_pairs(runs, ours_variant, smp_variant, reps)
        compared.append({"title": title, "ours": ours_variant, "smp": smp_variant, "ratio_pairs": pairs,
                         "ratio": median_stats(pairs)})
    best = {lib: [best_variant(runs, lib, rep)[0] for rep in range(reps)] for lib in ("ours", "smp")}
    best_float = {lib: [best_variant(runs, lib, rep, float_only=True)[0] for rep in range(reps)]
                  for lib in ("ours", "smp")}
    return {"variants": variants, "comparisons": compared, "best_variants": best, "best_float_variants": best_float}


def params_check(ours, smp, tolerance=PARAMS_TOLERANCE):
    """``{"ours", "smp", "difference", "within"}``: ours' parameters relative to SMP's (0.03 = 3 % more)."""
    difference = ours / smp - 1.0
    return {"ours": ours, "smp": smp, "difference": difference, "within": abs(difference) <= tolerance}


# -------------------------------------------------------------- the run
def run_slots(runner, slots, make_spec, reps, warmup_pairs, name):
    """``warmup_pairs`` discarded runs of the first two slots (an ours/SMP pair), then every slot of every
    repetition in slot order (ours and SMP alternate); returns ``(runs, warm-up runs)``."""
    runs = {(lib, variant): [] for lib, variant, _ in slots}
    warmup = {(lib, variant): [] for lib, variant, _ in slots[:2]}
    for rep in range(warmup_pairs + reps):
        warm = rep < warmup_pairs
        for lib, variant, fields in slots[:2] if warm else slots:
            record = runner.worker(lib, make_spec(lib, variant, fields, rep))
            (warmup if warm else runs)[(lib, variant)].append(record)
            log(f"{name} {'warm-up' if warm else f'rep {rep - warmup_pairs + 1}/{reps}'} {lib} {variant}: "
                f"{bench_run._brief(record)}")
    return runs, {key: records for key, records in warmup.items() if records}


def _keyed(runs):
    return {f"{lib}:{variant}": records for (lib, variant), records in runs.items()}


def model_info(runner, key, height, width):
    """Both libraries' parameters and forward FLOPs of ``MODELS[key]``, checked against :data:`PARAMS_TOLERANCE`."""
    model = MODELS[key]
    spec = {"workload": "model_info", "model": key, "n_classes": N_CLASSES, "seed": SEED, "height": height,
            "width": width, "architecture": model["ours"], "smp": model["smp"], "profiler": False}
    info = {lib: runner.worker(lib, spec) for lib in ("ours", "smp")}
    info["ours"].pop("weight_shapes", None)
    record = {"title": model["title"], "note": model["note"], "input": [height, width], "info": info,
              "smp_compiled_precision": "bfloat16" if info["smp"].get("bf16_supported") else "float32"}
    if info["ours"].get("error") or info["smp"].get("error"):
        log(f"{model['title']}: model_info failed: {info['ours'].get('error') or info['smp'].get('error')}")
        return record
    record["params"] = params = params_check(info["ours"]["params"], info["smp"]["params"])
    record["forward_gflops"] = flops = {"ours": (info["ours"].get("library_forward_flops") or 0) / 1e9,
                                        "smp": info["smp"]["forward_flops"] / 1e9}
    log(f"{model['title']}: parameters ours {params['ours']:,} / SMP {params['smp']:,} "
        f"({100 * params['difference']:+.1f} %), forward GFLOP/image at {height}x{width} "
        f"{flops['ours']:.1f} / {flops['smp']:.1f}")
    if not params["within"]:
        log(f"  more than {100 * PARAMS_TOLERANCE:.0f} % apart: {model['note']}")
    return record


def make_exports(runner, sized, tag, workdir, images):
    """Ours: a checkpoint of the random model and the library's exports of it (:data:`OURS_EXPORTS`, int8 calibrated
    on :data:`CALIBRATION_COUNT` of ``images``); SMP: ``torch.onnx.export``."""
    weights = os.path.join(workdir, "weights")
    ckpt = os.path.join(weights, tag, "ckpt")
    exports = {"checkpoint": runner.worker("ours", {"workload": "make_checkpoint", **sized, "checkpoints_path": ckpt})}
    for variant, (fmt, precision, suffix) in OURS_EXPORTS.items():
        exports[f"ours_{variant}"] = runner.worker("ours", {
            "workload": "export", **sized, "checkpoints_path": ckpt, "format": fmt, "precision": precision,
            "calibration_images": images if precision == "int8" else None, "calibration_count": CALIBRATION_COUNT,
            "output": os.path.join(weights, tag + suffix)})
    exports["smp_onnx"] = runner.worker("smp", {"workload": "export", **sized,
                                                "output": os.path.join(weights, tag + "_smp.onnx")})
    for name, result in exports.items():
        log(f"{tag} {name}: {result.get('error') or result.get('parity') or result.get('max_abs_diff', 'ok')}")
    return exports


def worker_spec(group, lib, variant, fields, rep):
    """The spec of one run: ``group`` holds the task, batch, model and size fields, files, settings and exports."""
    settings = group["settings"]
    fields = dict(fields)
    if lib == "smp" and variant == "compiled":
        fields["precision"] = group["compiled_precision"]
    spec = {**group["sized"], "workload": group["task"], "images": group["images"], "batch_size": group["batch"],
            **fields}
    if group["task"] == "train":
        return {**spec, "annotations": group["masks"], "optimizer": "adam", "warmup_steps": settings["warmup_steps"],
                "steps": settings["steps"]}
    exports = group["exports"]
    out_dir = os.path.join(group["workdir"], "out", f"{group['name'].replace(' ', '_')}_{lib}_{variant}_{rep}")
    spec.update(out_dir=out_dir, limit=settings["predict_images"])
    if lib == "ours":
        spec.update(predict_batch_size=group["batch"], checkpoints_path=exports["checkpoint"].get("checkpoints_path"),
                    warmup_call=True)
    if variant in OURS_EXPORTS:
        spec["model_path"] = exports.get(f"{lib}_{variant}", {}).get("output")
    return spec


def measure_model(runner, key, sizes, batches, tasks, settings, workdir, data, state):
    """Parameters, exports and every (size, batch, task) group of one model (``state``: what the run did so far)."""
    record = model_info(runner, key, *sizes[0])
    groups = []
    for height, width in sizes:
        tag = f"{key}_{height}x{width}"
        sized = {"model": key, "n_classes": N_CLASSES, "seed": SEED, "architecture": MODELS[key]["ours"],
                 "smp": MODELS[key]["smp"], "height": height, "width": width}
        exports = make_exports(runner, sized, tag, workdir, data[(height, width)][0]) if "predict" in tasks else {}
        record.setdefault("exports", {})[f"{height}x{width}"] = exports
        for batch in batches:
            for task in tasks:
                slots = [slot for slot in (TRAIN_SLOTS if task == "train" else PREDICT_SLOTS)
                         if settings["compile"] or slot[1] != "compiled"]
                images, masks = data[(height, width)]
                group = {"task": task, "batch": batch, "sized": sized, "images": images, "masks": masks,
                         "settings": settings, "exports": exports, "workdir": workdir,
                         "name": f"{tag} batch {batch} {task}", "compiled_precision": record["smp_compiled_precision"]}
                # the run's first group starts with the warm-up pair(s): libraries, model code and files cached
                runs, warmup = run_slots(runner, slots, functools.partial(worker_spec, group), settings["reps"],
                                         0 if state["warmed_up"] else settings["warmup_pairs"], group["name"])
                state["warmed_up"] = True
                groups.append({"model": key, "size": [height, width], "batch": batch, "task": task,
                               "runs": _keyed(runs), "warmup": _keyed(warmup),
                               "summary": summarise_group(runs, COMPARISONS[task], settings["reps"])})
    return record, groups


def run(args, argv_used=()):
    mode = "quick" if args.quick else "full"
    settings = dict(MODES[mode], compile=args.compile)
    for name in ("reps", "warmup_pairs", "warmup_steps", "steps"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    sizes = args.sizes or [size_arg(s) for s in settings["sizes"].split(",")]
    batches = args.batches or [int(b) for b in settings["batches"].split(",")]
    settings["predict_images"] = args.predict_images or settings["predict_batches"] * max(batches)
    tasks = [args.only] if args.only else ["train", "predict"]
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = os.path.abspath(args.workdir or os.path.join(BENCH, "results", f"peers-{stamp}-{mode}"))
    for sub in ("logs", "specs", "out", "weights", "data"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    log(f"mode {mode}: models {','.join(args.models)}, sizes {sizes}, batches {batches}, {tasks}, "
        f"{settings['reps']} rep(s) after {settings['warmup_pairs']} warm-up pair(s); work dir {workdir}")
    smp_python = ensure_smp_env(workdir, args.recreate_env, args.torch_index)
    ours_python = args.ours_python or sys.executable
    runner = bench_run.Runner(workdir, args.threads, ours_python, None)
    runner.python["smp"] = smp_python  # Runner starts bench/worker_<lib>.py with python[lib]
    count = max(settings["predict_images"], max(batches))
    data = {size: write_data(os.path.join(workdir, "data", "x".join(map(str, size))), *size, count) for size in sizes}
    model_name, flags = _common.lscpu()
    load = bench_run.load_average()
    if load and load[0] > 0.5 * (os.cpu_count() or 1):
        log(f"load average {load} on {os.cpu_count()} CPUs: the figures will not be comparable (torch's OpenMP "
            "threads spin-wait for each other, and lose most when other jobs take the cores); run on a quiet machine")
    started = time.time()
    results = {
        "mode": mode,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python bench/peers.py", *argv_used]),
        "lscpu": {"model": model_name, "flags": flags},
        "machine": bench_run.machine_description(),
        "load_average_start": load,
        "settings": {**settings, "sizes": [list(s) for s in sizes], "batches": batches, "tasks": tasks,
                     "models": args.models, "threads": args.threads, "n_classes": N_CLASSES, "seed": SEED,
                     "images": count, "ours_python": ours_python, "smp_python": smp_python},
        "versions": {"ours": bench_run.package_versions(ours_python, workdir, OURS_PACKAGES),
                     "smp": bench_run.package_versions(smp_python, workdir, SMP_PACKAGES)},
        "models": {},
        "groups": [],
    }
    state = {"warmed_up": False}
    for done, key in enumerate(args.models, 1):
        record, groups = measure_model(runner, key, sizes, batches, tasks, settings, workdir, data, state)
        results["models"][key] = record
        results["groups"] += groups
        minutes = (time.time() - started) / 60
        log(f"{done}/{len(args.models)} models in {minutes:.1f} min; "
            f"about {minutes / done * (len(args.models) - done):.0f} min to go")
    results["load_average_end"] = bench_run.load_average()
    results["total_seconds"] = time.time() - started
    results["workdir"] = workdir
    return results


# ------------------------------------------------------------- Markdown
def _num(value, digits=3):
    if value is None:
        return "–"
    return f"{value:.{digits}g}"


def _stat(stats, digits=3):
    """``"median (min–max)"``, or the median alone for one value, or ``–``."""
    if not stats:
        return "–"
    if stats["n"] == 1 or stats["min"] == stats["max"]:
        return _num(stats["median"], digits)
    return f"{_num(stats['median'], digits)} ({_num(stats['min'], digits)}–{_num(stats['max'], digits)})"


def _variant_cell(summary, lib, variant):
    if variant in (BEST, BEST_FLOAT):
        key = "best_variants" if variant == BEST else "best_float_variants"
        chosen = sorted({v for v in summary.get(key, {}).get(lib, []) if v})
        return "best: " + ", ".join(chosen) if chosen else "–"
    entry = summary["variants"].get(f"{lib}:{variant}")
    if entry is None:
        return "–"
    if entry["errors"] and not entry["images_per_s"]:
        return "failed"
    return _stat(entry["images_per_s"])


def ratio_table(results):
    """The main table: per model, size, batch and task, each comparison's images/s and ratio ours/SMP."""
    lines = ["| model | input | batch | task | compared | ours img/s | SMP img/s | ours / SMP |",
             "|---|---|---|---|---|---|---|---|"]
    for group in results["groups"]:
        title = results["models"][group["model"]]["title"]
        size = "×".join(map(str, group["size"]))
        for comparison in group["summary"]["comparisons"]:
            ratio = comparison["ratio"]
            lines.append(
                f"| {title} | {size} | {group['batch']} | {group['task']} | {comparison['title']} | "
                f"{_variant_cell(group['summary'], 'ours', comparison['ours'])} | "
                f"{_variant_cell(group['summary'], 'smp', comparison['smp'])} | "
                f"{'**' + _stat(ratio) + '×**' if ratio else '–'} |")
    return "\n".join(lines)


def variants_table(results):
    """Every variant: images/s, CPU seconds per image, peak RSS and the precision ours ran in."""
    lines = ["| model | input | batch | task | variant | img/s | CPU s/image | peak RSS MiB | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    for group in results["groups"]:
        title = results["models"][group["model"]]["title"]
        size = "×".join(map(str, group["size"]))
        for key, entry in group["summary"]["variants"].items():
            lib, variant = key.split(":", 1)
            name = VARIANT_TITLES.get((lib, variant), key)
            used = [p for p in entry["precision_used"] if p not in name]
            if used:
                name += f" ({', '.join(used)})"
            lines.append(f"| {title} | {size} | {group['batch']} | {group['task']} | {name} | "
                         f"{_stat(entry['images_per_s'])} | {_stat(entry['cpu_seconds_per_image'])} | "
                         f"{_stat(entry['peak_rss_mib'], 4)} | {len(entry['errors'])} |")
    return "\n".join(lines)


def models_table(results):
    lines = ["| model | parameters ours / SMP | ours vs SMP | forward GFLOP/image ours / SMP | what differs |",
             "|---|---|---|---|---|"]
    for record in results["models"].values():
        params, flops = record.get("params"), record.get("forward_gflops")
        size = "×".join(map(str, record["input"]))
        if params is None:
            lines.append(f"| {record['title']} | – | – | – | model_info failed |")
            continue
        mark = "" if params["within"] else " (over 5 %)"
        lines.append(f"| {record['title']} | {params['ours']:,} / {params['smp']:,} | "
                     f"{100 * params['difference']:+.1f} %{mark} | {flops['ours']:.1f} / {flops['smp']:.1f} "
                     f"at {size} | {record['note'] or '–'} |")
    return "\n".join(lines)


def _has_int8(results):
    """Whether any group of ``results`` ran ours' int8 engines (runs before they existed did not)."""
    return any(f"ours:{variant}" in group["summary"]["variants"] for group in results["groups"]
               for variant in INT8_VARIANTS)


def _compile_note(results):
    if not results["settings"].get("compile", True):
        return "No `torch.compile` variants in this run (`--no-compile`)."
    precisions = sorted({m.get("smp_compiled_precision") for m in results["models"].values()} - {None})
    return (f"SMP's compiled variants: `torch.compile` (inductor; for prediction with freezing) in "
            f"{' / '.join(precisions) or '?'} autocast (float32 where the CPU has no bfloat16).")


def render_section(results):
    """The ``docs/benchmarks.md`` section of a result: how it was measured, the ratio table, every variant."""
    settings, versions = results["settings"], results["versions"]
    ours_v, smp_v = versions.get("ours", {}), versions.get("smp", {})
    date = results["date"][:10]
    lines = [
        f"## Against segmentation_models.pytorch on the CPU (`{results['command']}`, {date})",
        "",
        f"`lscpu`: \"{results['lscpu']['model']}\", {results['machine'].get('cpus')} CPUs; flags include "
        + " ".join(f for f in results["lscpu"]["flags"].split() if f.startswith(("avx512", "amx", "avx2", "fma")))
        + f". Load average at start {results.get('load_average_start')}, at end {results.get('load_average_end')}; "
        f"{results['total_seconds'] / 60:.0f} min in all ({results['mode']} mode).",
        "",
        f"* Ours: keras-segmentation {ours_v.get('keras-segmentation')}, Keras {ours_v.get('keras')}, TensorFlow "
        f"{ours_v.get('tensorflow')}, ONNX Runtime {ours_v.get('onnxruntime')}. SMP: segmentation-models-pytorch "
        f"{smp_v.get('segmentation-models-pytorch')}, PyTorch {smp_v.get('torch')}, ONNX Runtime "
        f"{smp_v.get('onnxruntime')} (`bench/.envs/smp`, `bench/smp_requirements.txt`).",
        f"* Each figure is the median (min–max) of {settings['reps']} repetition(s), every variant in a fresh "
        f"process, ours and SMP alternating within a repetition, after {settings['warmup_pairs']} discarded "
        "warm-up pair(s) at the start of the run; *ours / SMP* is computed repetition by repetition, then "
        "summarised. "
        f"Threads: {settings['threads']} for TensorFlow, torch and ONNX Runtime.",
        f"* Data: {settings['images']} random images and masks per size (12 classes), the same PNG files for both; "
        "random weights (no pretrained ones).",
        f"* Training: ours `train()` from the files (Adam, no augmentation, `steps_per_epoch` "
        f"{settings['warmup_steps'] + settings['steps']}), SMP a torch loop over a `DataLoader` of the same files "
        "(fused Adam, cross-entropy, `channels_last`, one loader process); images/s over the "
        f"{settings['steps']} steps after {settings['warmup_steps']} warm-up step(s) (compilation excluded). "
        "Ours' default precision is `\"auto\"`; the precision it chose is in brackets in the second table.",
        f"* Prediction: {settings['predict_images']} images read, predicted and written as label PNGs, after one "
        "warm-up batch; ours `predict_multiple` (Keras, or the library's exports run by its engines: ONNX float32"
        + (f", and ONNX int8 and LiteRT int8 calibrated on {CALIBRATION_COUNT} of the images" if _has_int8(results)
           else "") + "), SMP eager, compiled and `torch.onnx.export` in ONNX Runtime. " + _compile_note(results),
        "* Peak RSS is each process's own (GNU `time`); SMP's loader process is not included in it. Ours ran in "
        f"`{settings['ours_python']}`: in the development environment (`.venv`, which has the `[onnx]` extra the "
        "export needs) TensorFlow also imports JAX and scikit-learn at start-up, about 120 MiB more than in a "
        "plain install.",
        "",
        "### The models",
        "",
        models_table(results),
        "",
        "### Ours / SMP",
        "",
        ratio_table(results),
        "",
        "### Every variant",
        "",
        variants_table(results),
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few steps, 1 repetition, 4 images")
    parser.add_argument("--models", type=list_arg(model_arg), default=list(MODELS),
                        help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    parser.add_argument("--sizes", type=list_arg(size_arg), help="input sizes HxW (default 352x480)")
    parser.add_argument("--batches", type=list_arg(int), help="batch sizes, training and prediction (default 2)")
    parser.add_argument("--only", choices=["train", "predict"], help="one task only")
    parser.add_argument("--reps", type=int, help="measured repetitions (default: 2 full, 1 quick)")
    parser.add_argument("--warmup-pairs", type=int, help="discarded ours/SMP pairs before the first measured "
                                                         "repetition of the run (default 1, quick 0)")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="leave out the torch.compile variants (each compiles for minutes)")
    parser.add_argument("--warmup-steps", type=int, help="training steps left out of images/s (default 2, quick 1)")
    parser.add_argument("--steps", type=int, help="measured training steps (default 3, quick 2)")
    parser.add_argument("--predict-images", type=int, help="images predicted per run (default: 4 batches of the "
                                                           "largest batch size, quick 2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of every runtime")
    parser.add_argument("--ours-python", help="python of this library's environment (default: the one running this)")
    parser.add_argument("--torch-index", help="a PyTorch wheel index for pip when it creates bench/.envs/smp")
    parser.add_argument("--recreate-env", action="store_true", help="rebuild bench/.envs/smp")
    parser.add_argument("--workdir", help="scratch folder (default: bench/results/peers-<date>-<mode>)")
    parser.add_argument("--out", default=os.path.join(BENCH, "results", "peers.json"), help="the JSON result")
    parser.add_argument("--markdown", help="also write the docs/benchmarks.md section to this file")
    parser.add_argument("--render", metavar="JSON", help="only render the section of a result file (to stdout, or "
                                                         "--markdown)")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render) as handle:
            text = render_section(json.load(handle))
    else:
        results = bench_run.relative_paths(run(args, sys.argv[1:] if argv is None else argv))
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=1, sort_keys=True)
            handle.write("\n")
        text = render_section(results)
        log(f"wrote {args.out} in {results['total_seconds'] / 60:.1f} min")
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
