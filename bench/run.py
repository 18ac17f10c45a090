"""Benchmark keras-segmentation against the original keras_segmentation 0.3.0, same machine, same run.

    python bench/run.py [--quick] [--camvid PATH] [--only W1,W2,...] [--threads N]

(``make bench`` / ``make bench-quick``). What it does:

1. creates (once) a separate virtual environment for the original library in
   ``bench/.envs/original``: the pinned stack of ``bench/original_requirements.txt``
   (TensorFlow-CPU 2.15 / Keras 2.15; 0.3.0's own ``h5py<=2.10`` pin does not
   build on Python 3.11), then ``pip install --no-deps keras-segmentation==0.3.0``;
2. measures the machine's float32 matmul peak (both TensorFlows, best of several);
3. checks that both libraries build the same graphs (parameters, output size,
   profiler-counted FLOPs) and prepares one set of random weights for both;
4. runs each workload in a fresh subprocess per repetition, alternating
   ours / original (A B A B ...), a warm-up pair first, and records time,
   throughput and the child's peak RSS (``wait4`` rusage);
5. writes ``docs/benchmarks.json`` (every raw figure) and ``docs/benchmarks.md``.

Workloads (CamVid, ``--camvid`` / ``KERAS_SEGMENTATION_CAMVID``, default
``../shared/datasets/camvid`` from the repository root):

* W1 training throughput from files (no augmentation), unet_mini 360x480 and
  vgg_unet 416x608, batch 2, steady-state images/s after warm-up steps;
* W2 ``predict_multiple`` over ``images_prepped_test`` from saved weights, writing outputs;
* W3 ``evaluate`` over the same pairs;
* W4 dataset verification of the 367 training pairs;
* W5 ``python -m keras_segmentation --help`` and ``import keras_segmentation``.

Thread pools are pinned identically in both (TF intra-/inter-op = ``--threads``,
default: the number of CPUs; ``OMP_NUM_THREADS`` likewise).
"""

import argparse
import datetime
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
ORIGINAL_ENV = os.path.join(BENCH, ".envs", "original")
OURS_ENV = os.path.join(BENCH, ".envs", "ours")
REQUIREMENTS = os.path.join(BENCH, "original_requirements.txt")
ORIGINAL_PACKAGE = "keras-segmentation==0.3.0"
N_CLASSES = 12

#: Settings of the two modes. Steps are batches of 2; "warmup" steps are excluded from throughput.
MODES = {
    "full": {
        "reps": 3,
        "warmup_reps": 1,
        "train": {"unet_mini": {"warmup_steps": 2, "steps": 10}, "vgg_unet": {"warmup_steps": 1, "steps": 4}},
        "predict_limit": None,
        "startup_reps": 10,
        "matmul": {"sizes": [2048, 4096], "repeats": 6, "inner": 1},
    },
    "quick": {
        "reps": 2,
        "warmup_reps": 0,
        "train": {"unet_mini": {"warmup_steps": 1, "steps": 2}, "vgg_unet": {"warmup_steps": 1, "steps": 1}},
        "predict_limit": 10,
        "startup_reps": 3,
        "matmul": {"sizes": [2048], "repeats": 8, "inner": 2},
    },
}

TRAIN_MODELS = {"unet_mini": (360, 480), "vgg_unet": (416, 608)}
PREDICT_MODEL = ("unet_mini", 360, 480)
#: W2/W3 batch size for ours: the default of ``predict_multiple`` / ``evaluate`` (the original predicts one image per call).
PREDICT_BATCH_SIZE_OURS = 2
ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


# ------------------------------------------------------------------ helpers
def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Runner:
    """Starts worker subprocesses and records their results, wall time and peak RSS."""

    def __init__(self, workdir, threads, ours_python, original_python, onednn="default"):
        self.workdir = workdir
        self.threads = threads
        self.onednn = onednn
        self.python = {"ours": ours_python, "original": original_python}
        self.counter = 0

    def env(self, lib):
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(
            TF_CPP_MIN_LOG_LEVEL="2",
            OMP_NUM_THREADS=str(self.threads),
            CUDA_VISIBLE_DEVICES="",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if lib == "ours":
            env.update(KERAS_BACKEND="tensorflow", KERAS_SEGMENTATION_ENCODER_WEIGHTS="none")
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)
        if self.onednn != "default":
            env["TF_ENABLE_ONEDNN_OPTS"] = "1" if self.onednn == "on" else "0"
        return env

    def command(self, lib, argv, timeout=3600, check=None):
        """Run ``argv`` (cwd = workdir, outside the repo) and return wall seconds, peak RSS and output.

        The peak RSS comes from GNU ``time`` (``/usr/bin/time -f %M``) when it exists: Linux keeps a
        process's ``ru_maxrss`` across ``exec``, so a child spawned straight from this Python process
        would report at least this process's own RSS; ``time`` is a small C program, so its
        child's figure is the workload's own. Without it, ``wait4`` of the direct child is used.
        """
        self.counter += 1
        out_path = os.path.join(self.workdir, "logs", f"{self.counter:04d}_{lib}.log")
        rss_path = out_path[:-4] + ".rss"
        launcher = [TIME_BIN, "-f", "%M", "-o", rss_path] if TIME_BIN else []
        with open(out_path, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(
                launcher + argv, cwd=self.workdir, env=self.env(lib), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                _, status, usage = _wait4(proc, timeout)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        with open(out_path, "rb") as handle:
            output = handle.read().decode("utf-8", "replace")
        rss_kib, method = usage.ru_maxrss, "wait4"
        if TIME_BIN and os.path.isfile(rss_path):
            with open(rss_path) as handle:
                lines = handle.read().split()
            if lines and lines[-1].isdigit():
                rss_kib, method = int(lines[-1]), "GNU time"
        record = {
            "wall_seconds": seconds,
            "peak_rss_mib": round(rss_kib / 1024.0, 1),
            "rss_method": method,
            "returncode": proc.returncode,
            "log": os.path.relpath(out_path, self.workdir),
        }
        if proc.returncode != 0:
            record["error"] = _tail(output)
        elif check is not None and not check(output):
            record["error"] = "unexpected output: " + _tail(output)
        return record

    def worker(self, lib, spec, timeout=3600):
        """Run one workload spec in a fresh ``worker_<lib>.py`` process."""
        self.counter += 1
        tag = f"{self.counter:04d}_{lib}_{spec['workload']}"
        spec = dict(spec, intra_op_threads=self.threads, inter_op_threads=self.threads)
        spec_path = os.path.join(self.workdir, "specs", tag + ".json")
        result_path = os.path.join(self.workdir, "specs", tag + ".result.json")
        with open(spec_path, "w") as handle:
            json.dump(spec, handle, indent=1)
        script = os.path.join(BENCH, f"worker_{lib}.py")
        record = self.command(lib, [self.python[lib], script, spec_path, result_path], timeout=timeout)
        if record.get("error") is None and os.path.isfile(result_path):
            with open(result_path) as handle:
                record.update(json.load(handle))
        elif record.get("error") is None:
            record["error"] = "the worker wrote no result"
        return record


def _wait4(proc, timeout):
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.02)


def _tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


# -------------------------------------------------------------- environment
def ensure_original_env(workdir, recreate=False):
    """Create ``bench/.envs/original`` if needed; return its python."""
    python = os.path.join(ORIGINAL_ENV, "bin", "python")
    probe = "import keras, keras_segmentation, importlib.metadata as m; print(keras.__version__, m.version('keras_segmentation'))"
    if not recreate and os.path.exists(python):
        done = subprocess.run([python, "-c", probe], cwd=workdir, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.split() == ["2.15.0", "0.3.0"]:
            return python
        log(f"original environment incomplete ({_tail(done.stdout + done.stderr, 2)}); recreating it")
    if os.path.isdir(ORIGINAL_ENV):
        shutil.rmtree(ORIGINAL_ENV)
    log(f"creating {os.path.relpath(ORIGINAL_ENV, ROOT)} (pinned TF-CPU 2.15 stack + {ORIGINAL_PACKAGE}); a few minutes")
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", ORIGINAL_ENV],
        [python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS],
        [python, "-m", "pip", "install", "-q", "--no-deps", ORIGINAL_PACKAGE],
    ]
    with open(os.path.join(workdir, "original_env.log"), "a") as out:
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            subprocess.run(step, check=True, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    done = subprocess.run([python, "-c", probe], cwd=workdir, capture_output=True, text=True, check=True)
    log(f"original environment ready: keras / keras_segmentation = {done.stdout.strip()}")
    return python


def ensure_ours_env(workdir, recreate=False):
    """Create/refresh ``bench/.envs/ours``: this repository installed as a user would (``pip install .``).

    Not the development venv: that one also holds JAX, PyTorch and scikit-learn (backend tests),
    and TensorFlow 2.21 / Keras import JAX and scikit-learn at start-up when they are installed
    (about +0.6 s and +120 MiB), which a user without them never pays. Not an editable install
    either: its import hook adds ~15 ms and ~3 MiB to ``import keras_segmentation``. The
    dependencies are installed once (again when pyproject.toml changes); the package itself is
    rebuilt from the working tree at every run (``--no-deps --force-reinstall``, a few seconds).
    """
    import hashlib

    python = os.path.join(OURS_ENV, "bin", "python")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:12]
    marker = os.path.join(OURS_ENV, f".installed-{digest}")
    base = getattr(sys, "_base_executable", sys.executable)
    steps = []
    if recreate or not (os.path.exists(marker) and os.path.exists(python)):
        if os.path.isdir(OURS_ENV):
            shutil.rmtree(OURS_ENV)
        log(f"creating {os.path.relpath(OURS_ENV, ROOT)} (pip install . of this repository); about a minute")
        steps += [[base, "-m", "venv", OURS_ENV], [python, "-m", "pip", "install", "-q", ROOT]]
    steps.append([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", ROOT])
    build_dir = os.path.join(ROOT, "build")
    had_build_dir = os.path.isdir(build_dir)
    with open(os.path.join(workdir, "ours_env.log"), "a") as out:
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            subprocess.run(step, check=True, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    if not had_build_dir:  # setuptools builds in-tree; leave the working tree as it was
        shutil.rmtree(build_dir, ignore_errors=True)
    open(marker, "w").close()
    return python


def machine_description():
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as handle:
            text = handle.read()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
        info["simd"] = sorted(f for f in flags if f.startswith(("avx", "fma", "amx")) or f in ("sse4_2",))
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        info["memory_gib"] = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    return info


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def package_versions(python, workdir, packages):
    code = (
        "import importlib.metadata as m, json, sys; out = {}\n"
        "for p in sys.argv[1:]:\n"
        "    try: out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError: out[p] = None\n"
        "print(json.dumps(out))"
    )
    done = subprocess.run([python, "-c", code, *packages], cwd=workdir, capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {}


# ---------------------------------------------------------------- the run
def alternate(runner, name, reps, warmup_reps, make_spec=None, make_command=None, after=None):
    """Run ours/original alternately: ``warmup_reps`` discarded pairs, then ``reps`` measured pairs."""
    runs = {"ours": [], "original": [], "warmup": {"ours": [], "original": []}}
    for rep in range(warmup_reps + reps):
        for lib in ("ours", "original"):
            if make_spec is not None:
                record = runner.worker(lib, make_spec(lib, rep))
            else:
                argv, check = make_command(lib)
                record = runner.command(lib, argv, check=check)
            if after is not None:
                after(lib, rep, record)
            warm = rep < warmup_reps
            (runs["warmup"][lib] if warm else runs[lib]).append(record)
            log(f"{name} {'warm-up' if warm else f'rep {rep - warmup_reps + 1}/{reps}'} {lib}: {_brief(record)}")
    return runs


def _brief(record):
    if record.get("error"):
        return "FAILED: " + record["error"].splitlines()[-1][:200]
    parts = []
    for key in ("images_per_s", "pairs_per_s", "best_gflops"):
        if key in record:
            parts.append(f"{key}={record[key]:.3g}")
    parts.append(f"wall={record['wall_seconds']:.1f}s rss={record['peak_rss_mib']:.0f}MiB")
    return " ".join(parts)


def run(args, argv_used=()):
    mode = "quick" if args.quick else "full"
    settings = MODES[mode]
    reps = args.reps or settings["reps"]
    warmup_reps = settings["warmup_reps"] if args.warmup_reps is None else args.warmup_reps
    camvid = os.path.abspath(args.camvid)
    if not os.path.isdir(os.path.join(camvid, "images_prepped_train")):
        raise SystemExit(f"CamVid not found at {camvid} (give --camvid or set KERAS_SEGMENTATION_CAMVID)")
    data = {
        "train_images": os.path.join(camvid, "images_prepped_train"),
        "train_annotations": os.path.join(camvid, "annotations_prepped_train"),
        "test_images": os.path.join(camvid, "images_prepped_test"),
        "test_annotations": os.path.join(camvid, "annotations_prepped_test"),
    }
    only = [w.strip().upper() for w in args.only.split(",")] if args.only else list(ALL_WORKLOADS)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = os.path.abspath(args.workdir or os.path.join(BENCH, "results", f"{stamp}-{mode}"))
    for sub in ("logs", "specs", "out"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    log(f"mode {mode}: {reps} measured repetition(s) after {warmup_reps} warm-up pair(s); work dir {workdir}")

    original_python = ensure_original_env(workdir, recreate=args.recreate_env)
    ours_python = args.ours_python or ensure_ours_env(workdir, recreate=args.recreate_env)
    runner = Runner(workdir, args.threads, ours_python, original_python, args.onednn)
    started = time.time()
    results = {
        "mode": mode,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python bench/run.py", *argv_used]),
        "ours_python": ours_python,
        "settings": {
            "reps": reps, "warmup_reps": warmup_reps, "threads": args.threads, "n_classes": N_CLASSES,
            "onednn": args.onednn,
            "batch_size": 2, "optimizer": "adam", "camvid": camvid,
            **{k: settings[k] for k in ("train", "predict_limit", "startup_reps", "matmul")},
            "predict_batch_size_ours": PREDICT_BATCH_SIZE_OURS,
        },
        "machine": machine_description(),
        "load_average_start": load_average(),
        "versions": {
            "ours": package_versions(
                ours_python, workdir,
                ["keras-segmentation", "keras", "tensorflow", "numpy", "opencv-python-headless", "jax", "scikit-learn"],
            ),
            "original": package_versions(
                original_python, workdir, ["keras-segmentation", "keras", "tensorflow-cpu", "numpy", "opencv-python-headless"]
            ),
        },
        "workloads": {},
    }

    # --- machine peak: float32 matmul in both TensorFlows, alternately
    mm = settings["matmul"]
    peak = alternate(runner, "matmul peak", 1, 0, make_spec=lambda lib, rep: {"workload": "matmul", **mm})
    results["matmul"] = peak
    peaks = [r["best_gflops"] for lib in ("ours", "original") for r in peak[lib] if "best_gflops" in r]
    results["peak_gflops"] = max(peaks) if peaks else None
    log(f"machine float32 matmul peak: {results['peak_gflops']} GFLOP/s")
    if args.bf16:
        # bfloat16 exists in ours only (TF 2.21 with oneDNN's bf16 kernels); the bf16 rows' share of peak uses it
        results["matmul_bf16"] = runner.worker("ours", {"workload": "matmul", **mm, "dtype": "bfloat16"})
        results["peak_gflops_bf16"] = results["matmul_bf16"].get("best_gflops")
        log(f"bfloat16 matmul peak (ours): {results['peak_gflops_bf16']} GFLOP/s")
    # ours is pinned to a precision in every row: its training default ("auto") depends on the machine
    precisions = [("float32", "", "")] + ([("mixed_bfloat16", "_bf16", ", ours in mixed_bfloat16")] if args.bf16 else [])
    probe = subprocess.run([ours_python, "-c", "import keras_segmentation.precision as p; "
                            "print(p.resolve_precision('auto', gpus=[], backend='tensorflow'))"],
                           env=runner.env("ours"), cwd=workdir, capture_output=True, text=True)
    results["ours_auto_precision"] = probe.stdout.strip() or _tail(probe.stderr, 1)
    log(f"ours' training default here (precision='auto'): {results['ours_auto_precision']}")

    # --- same graphs? parameters, output size, counted FLOPs
    models = {}
    for name, (height, width) in TRAIN_MODELS.items():
        spec = {"workload": "model_info", "model": name, "height": height, "width": width, "n_classes": N_CLASSES}
        info = {lib: runner.worker(lib, spec) for lib in ("ours", "original")}
        models[name] = _compare_models(name, height, width, info)
        log(f"model {name}: {json.dumps({k: v for k, v in models[name].items() if k != 'runs'})}")
    results["models"] = models

    # --- one set of random weights for W2/W3: created by ours, copied into the original
    name, height, width = PREDICT_MODEL
    ckpt = os.path.join(workdir, "weights", "unet_mini_bench")
    npz = os.path.join(workdir, "weights", "unet_mini_bench.npz")
    original_weights = os.path.join(workdir, "weights", "unet_mini_bench_original.h5")
    base = {"model": name, "height": height, "width": width, "n_classes": N_CLASSES, "seed": 0}
    weights = {}
    if {"W2", "W3"} & set(only):
        weights["ours"] = runner.worker("ours", {"workload": "make_checkpoint", **base, "checkpoints_path": ckpt, "npz": npz})
        weights["original"] = runner.worker(
            "original", {"workload": "make_weights", **base, "from_npz": npz, "out": original_weights}
        )
        weights["bug_check_ours"] = runner.worker(
            "ours",
            {"workload": "check_bugs", **base, "checkpoints_path": ckpt, "images": data["test_images"], "limit": 3,
             "out_dir": os.path.join(workdir, "out", "bug_check")},
        )
        log(f"weights: {weights['original'].get('source') or weights['original'].get('error')}; "
            f"ours finds its checkpoint and creates out_dir: {weights['bug_check_ours'].get('ok')}")
    results["weights"] = weights

    limit = args.predict_limit or settings["predict_limit"]

    # --- W1 training throughput
    if "W1" in only:
        for (precision, suffix, note), (name, (height, width)) in itertools.product(precisions, TRAIN_MODELS.items()):
            steps = settings["train"][name]
            spec = {
                "workload": "train", "model": name, "height": height, "width": width, "n_classes": N_CLASSES,
                "batch_size": 2, "optimizer": "adam", "images": data["train_images"],
                "annotations": data["train_annotations"], "seed": 0, **steps,
            }

            def train_spec(lib, rep, s=spec, p=precision):
                return dict(s, precision=p) if lib == "ours" else s

            runs = alternate(runner, f"W1 {name}{suffix}", reps, warmup_reps, make_spec=train_spec)
            results["workloads"][f"W1_{name}{suffix}"] = {
                "title": f"W1 training {name} {height}x{width}, batch 2, from files{note}",
                "metric": "images_per_s", "unit": "img/s", "higher_is_better": True,
                "cpu_metric": "cpu_seconds_per_image", "train_flops_per_image": _train_flops(models.get(name)),
                **({"peak_gflops": results.get("peak_gflops_bf16")} if precision == "mixed_bfloat16" else {}), **runs,
            }

    # --- W2 predict_multiple
    for precision, suffix, note in precisions if "W2" in only else ():
        def predict_spec(lib, rep, suffix=suffix, precision=precision):
            out_dir = os.path.join(workdir, "out", f"predict{suffix}_{lib}_{rep}")
            spec = {"workload": "predict", **base, "images": data["test_images"], "limit": limit, "out_dir": out_dir}
            if lib == "ours":
                spec.update(checkpoints_path=ckpt, predict_batch_size=PREDICT_BATCH_SIZE_OURS, precision=precision)
            else:
                spec.update(weights=original_weights)
            return spec

        runs = alternate(runner, f"W2 predict_multiple{suffix}", reps, warmup_reps, make_spec=predict_spec)
        agreement = runner.worker("ours", {
            "workload": "agreement", "n_classes": N_CLASSES,
            "ours_dir": os.path.join(workdir, "out", f"predict{suffix}_ours_{warmup_reps}"),
            "original_dir": os.path.join(workdir, "out", f"predict{suffix}_original_{warmup_reps}"),
        })
        for rep in range(warmup_reps + reps):
            if rep != warmup_reps:
                for lib in ("ours", "original"):
                    shutil.rmtree(os.path.join(workdir, "out", f"predict{suffix}_{lib}_{rep}"), ignore_errors=True)
        results["workloads"][f"W2_predict{suffix}"] = {
            "title": f"W2 predict_multiple, unet_mini 360x480, {limit or 101} test images, writing outputs{note}",
            "metric": "images_per_s", "unit": "img/s", "higher_is_better": True, "agreement": agreement,
            "cpu_metric": "cpu_seconds_per_image", **runs,
        }

    # --- W3 evaluate
    for precision, suffix, note in precisions if "W3" in only else ():
        def evaluate_spec(lib, rep, precision=precision):
            spec = {"workload": "evaluate", **base, "images": data["test_images"],
                    "annotations": data["test_annotations"], "limit": limit}
            if lib == "ours":
                spec.update(checkpoints_path=ckpt, predict_batch_size=PREDICT_BATCH_SIZE_OURS, precision=precision)
            else:
                spec.update(weights=original_weights)
            return spec

        runs = alternate(runner, f"W3 evaluate{suffix}", reps, warmup_reps, make_spec=evaluate_spec)
        results["workloads"][f"W3_evaluate{suffix}"] = {
            "title": f"W3 evaluate, unet_mini 360x480, {limit or 101} test pairs{note}",
            "metric": "images_per_s", "unit": "img/s", "higher_is_better": True,
            "cpu_metric": "cpu_seconds_per_image", **runs,
        }

    # --- W4 dataset verification
    if "W4" in only:
        spec = {"workload": "verify", "n_classes": N_CLASSES, "images": data["train_images"],
                "annotations": data["train_annotations"]}
        runs = alternate(runner, "W4 verify", reps, max(1, warmup_reps), make_spec=lambda lib, rep: spec)
        results["workloads"]["W4_verify"] = {
            "title": "W4 verify the 367 training pairs", "metric": "pairs_per_s", "unit": "pairs/s",
            "higher_is_better": True, "cpu_metric": "cpu_seconds", **runs,
        }

    # --- W5 start-up
    if "W5" in only:
        startup_reps = settings["startup_reps"]
        for key, argv_tail, check, title in (
            ("W5_cli_help", ["-m", "keras_segmentation", "--help"], lambda out: "usage" in out.lower(),
             "W5 `python -m keras_segmentation --help`"),
            ("W5_import", ["-c", "import keras_segmentation"], None, "W5 `python -c 'import keras_segmentation'`"),
        ):
            runs = alternate(
                runner, key, startup_reps, 1,
                make_command=lambda lib, t=argv_tail, c=check: ([runner.python[lib], *t], c),
            )
            for lib in ("ours", "original"):
                for record in runs[lib]:
                    record["starts_per_s"] = 1.0 / record["wall_seconds"]
            results["workloads"][key] = {
                "title": title, "metric": "wall_seconds", "unit": "s", "higher_is_better": False, **runs,
            }

    results["load_average_end"] = load_average()
    results["total_seconds"] = time.time() - started
    results["workdir"] = workdir
    summarise(results)
    return results


def _compare_models(name, height, width, info):
    ours, original = info["ours"], info["original"]
    out = {"input": [height, width], "runs": info}
    for lib, record in info.items():
        if record.get("error"):
            out[f"{lib}_error"] = record["error"].splitlines()[-1]
    if not ours.get("error"):
        out.update(ours_params=ours["params"], ours_output=[ours["output_height"], ours["output_width"]],
                   ours_profiler_flops=ours["profiler_forward_flops"], library_forward_flops=ours.get("library_forward_flops"))
    if not original.get("error"):
        out.update(original_params=original["params"], original_output=[original["output_height"], original["output_width"]],
                   original_profiler_flops=original["profiler_forward_flops"])
    if not ours.get("error") and not original.get("error"):
        out["same_params"] = ours["params"] == original["params"]
        out["same_output"] = out["ours_output"] == out["original_output"]
        out["same_weight_shapes"] = sorted(map(tuple, ours["weight_shapes"])) == sorted(map(tuple, original["weight_shapes"]))
    for lib in info:
        info[lib].pop("weight_shapes", None)
    return out


def _train_flops(model):
    """FLOPs of one training image: 3 x forward (forward + two backward products), counted not guessed."""
    if not model:
        return None
    forward = model.get("library_forward_flops") or model.get("ours_profiler_flops") or model.get("original_profiler_flops")
    if not forward:
        return None
    source = "keras_segmentation.models.flops.count_flops" if model.get("library_forward_flops") else "TensorFlow graph profiler"
    return {"forward": forward, "train": 3 * forward, "convention": "training = 3 x forward; 1 multiply-add = 2 FLOPs",
            "source": source}


# ----------------------------------------------------------------- summary
def _value(record, metric):
    if record.get("error") or metric not in record:
        return None
    return float(record[metric])


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarise(results):
    """Add medians, min-max and pair-by-pair ratios (ours/original, as speed-ups) to every workload."""
    for w in results["workloads"].values():
        metric, higher = w["metric"], w["higher_is_better"]
        pairs = list(zip(w["ours"], w["original"]))
        speedups = []
        for ours, original in pairs:
            a, b = _value(ours, metric), _value(original, metric)
            if a is None or b is None or a == 0 or b == 0:
                speedups.append(None)
            else:
                speedups.append(a / b if higher else b / a)
        rss = [
            (o["peak_rss_mib"] / g["peak_rss_mib"]) if not o.get("error") and not g.get("error") else None
            for o, g in pairs
        ]
        summary = {
            "ours": _stats([_value(r, metric) for r in w["ours"]]),
            "original": _stats([_value(r, metric) for r in w["original"]]),
            "speedup_pairs": speedups,
            "speedup": _stats(speedups),
            "rss_ours": _stats([r["peak_rss_mib"] for r in w["ours"] if not r.get("error")]),
            "rss_original": _stats([r["peak_rss_mib"] for r in w["original"] if not r.get("error")]),
            "rss_ratio_pairs": rss,
            "rss_ratio": _stats(rss),
            "errors": {lib: [r["error"] for r in w[lib] if r.get("error")] for lib in ("ours", "original")},
        }
        cpu_metric = w.get("cpu_metric")
        if cpu_metric:
            cpu_pairs = []
            for ours, original in pairs:
                a, b = _value(ours, cpu_metric), _value(original, cpu_metric)
                cpu_pairs.append(b / a if a and b else None)
            summary["ours_cpu"] = _stats([_value(r, cpu_metric) for r in w["ours"]])
            summary["original_cpu"] = _stats([_value(r, cpu_metric) for r in w["original"]])
            summary["cpu_speedup_pairs"] = cpu_pairs
            summary["cpu_speedup"] = _stats(cpu_pairs)
        flops = w.get("train_flops_per_image")
        peak = w.get("peak_gflops") or results.get("peak_gflops")
        if flops and peak:
            for lib in ("ours", "original"):
                if summary[lib]:
                    gflops = summary[lib]["median"] * flops["train"] / 1e9
                    summary[f"{lib}_achieved_gflops"] = gflops
                    summary[f"{lib}_fraction_of_peak"] = gflops / peak
        for extra in ("seconds", "load_seconds", "images_per_s"):
            if any(extra in r for r in w["ours"]):
                summary[f"ours_{extra}"] = _stats([_value(r, extra) for r in w["ours"]])
                summary[f"original_{extra}"] = _stats([_value(r, extra) for r in w["original"]])
        w["summary"] = summary


def relative_paths(value, root=ROOT):
    """``value`` with this machine's absolute paths written relative to the repository root (``.``, ``../shared``).

    The published results name no machine paths: the repository and its sibling
    ``shared`` folder are the only places they point to.
    """
    if isinstance(value, dict):
        return {key: relative_paths(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [relative_paths(item, root) for item in value]
    if isinstance(value, str):
        parent = os.path.dirname(root)
        return value.replace(root + os.sep, "./").replace(root, ".").replace(parent + os.sep, "../")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, images and repetitions (< 10 minutes)")
    parser.add_argument(
        "--camvid",
        default=os.environ.get("KERAS_SEGMENTATION_CAMVID") or os.path.join(ROOT, "..", "shared", "datasets", "camvid"),
        help="CamVid folder (default: $KERAS_SEGMENTATION_CAMVID or ../shared/datasets/camvid from the repo root)",
    )
    parser.add_argument("--only", help="comma-separated subset of W1,W2,W3,W4,W5")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false",
                        help="skip the rows where ours runs in mixed_bfloat16 (W1, W2, W3) and the bf16 matmul peak")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="TF intra- and inter-op threads (both libraries)"
    )
    parser.add_argument("--reps", type=int, help="measured repetitions (default: 3 full, 2 quick)")
    parser.add_argument("--warmup-reps", type=int, help="discarded warm-up pairs before the measured ones")
    parser.add_argument("--predict-limit", type=int, help="images for W2/W3 (default: all 101 full, 10 quick)")
    parser.add_argument("--workdir", help="scratch folder (default: bench/results/<date>-<mode>, git-ignored)")
    parser.add_argument("--json", default=os.path.join(ROOT, "docs", "benchmarks.json"), help="raw results file")
    parser.add_argument("--markdown", default=os.path.join(ROOT, "docs", "benchmarks.md"), help="report file")
    parser.add_argument("--no-docs", action="store_true", help="write the JSON into the work dir only")
    parser.add_argument("--onednn", choices=["default", "on", "off"], default="default",
                        help="TF_ENABLE_ONEDNN_OPTS for both libraries (default: unset, TensorFlow's own choice)")
    parser.add_argument("--recreate-env", action="store_true", help="rebuild bench/.envs/original and bench/.envs/ours")
    parser.add_argument("--ours-python", help="python of the environment for ours (default: bench/.envs/ours, a clean install)")
    args = parser.parse_args(argv)

    results = relative_paths(run(args, sys.argv[1:] if argv is None else argv))
    import report

    json_path = os.path.join(results["workdir"], "benchmarks.json") if args.no_docs else args.json
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write("\n")
    text = report.render(results)
    md_path = os.path.join(results["workdir"], "benchmarks.md") if args.no_docs else args.markdown
    with open(md_path, "w") as handle:
        handle.write(text)
    log(f"wrote {json_path} and {md_path} in {results['total_seconds'] / 60:.1f} min")
    print(report.ratio_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
