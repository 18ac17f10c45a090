"""Helpers shared by the two benchmark workers (standard library only).

``worker_ours.py`` runs in this project's environment (Keras 3 / TF 2.21) and
``worker_original.py`` in ``bench/.envs/original`` (Keras 2.15 / TF 2.15), so
nothing here may import Keras, TensorFlow or either library at module level.

A worker is started as ``python worker_X.py SPEC.json RESULT.json``: the spec
names the workload and its settings; the worker writes one JSON object with
its measurements (plus its own peak RSS) to RESULT.json.
"""

import json
import os
import resource
import subprocess
import sys
import time


def lscpu():
    """``(model name, flags)`` as ``lscpu`` prints them, to record with every benchmark run."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "lscpu unavailable", ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return fields.get("Model name", "?").strip(), fields.get("Flags", "").strip()


def print_lscpu_and_save(json_path, **figures):
    """Print ``lscpu``'s model and flags; with ``json_path``, write them and ``figures`` there as JSON."""
    model_name, flags = lscpu()
    print(f"\nlscpu: {model_name}; flags: {flags}")
    if json_path:
        with open(json_path, "w") as handle:
            json.dump({"lscpu": {"model": model_name, "flags": flags}, **figures}, handle, indent=1)


def read_spec():
    """The spec dict and the result path from ``argv``."""
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {os.path.basename(sys.argv[0])} SPEC.json RESULT.json")
    with open(sys.argv[1]) as handle:
        return json.load(handle), sys.argv[2]


def write_result(path, result):
    """Write ``result`` (plus this process's peak RSS in MiB) as JSON."""
    result = dict(result)
    result["self_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    with open(path, "w") as handle:
        json.dump(result, handle, indent=1, sort_keys=True, default=_jsonable)
        handle.write("\n")


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def pin_threads(tf, spec):
    """Pin TensorFlow's intra-/inter-op thread pools the same way in both environments.

    Must run before TensorFlow executes its first op. Returns what TF reports back.
    """
    intra, inter = int(spec["intra_op_threads"]), int(spec["inter_op_threads"])
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def timings(fn, repeats):
    """(best wall s, median wall s, median CPU s of this process) over ``repeats`` calls of ``fn``."""
    times, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return min(times), sorted(times)[len(times) // 2], sorted(cpu)[len(cpu) // 2]


def make_batch_timer(callback_base):
    """A Keras callback class (for either Keras) that timestamps every training batch end."""

    class BatchTimer(callback_base):
        def __init__(self):
            super().__init__()
            self.ends, self.cpu_ends = [], []
            self.begin = self.cpu_begin = None

        def on_train_begin(self, logs=None):
            self.begin, self.cpu_begin = time.perf_counter(), time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())
            self.cpu_ends.append(time.process_time())

    return BatchTimer


def steady_throughput(timer, warmup_steps, batch_size):
    """Images/s (and CPU seconds per image) over the batches after ``warmup_steps``.

    Compile/trace time and the first steps are excluded. CPU time is this process's
    user + system time (all threads): less sensitive than wall time to other jobs
    sharing the machine.
    """
    begin, ends = timer.begin, timer.ends
    if len(ends) <= warmup_steps:
        raise RuntimeError(f"only {len(ends)} batches ran; need more than the {warmup_steps} warm-up steps")
    start = ends[warmup_steps - 1] if warmup_steps > 0 else begin
    cpu_start = timer.cpu_ends[warmup_steps - 1] if warmup_steps > 0 else timer.cpu_begin
    measured = len(ends) - warmup_steps
    seconds = ends[-1] - start
    steps = [b - a for a, b in zip([begin] + ends[:-1], ends)]
    return {
        "images_per_s": measured * batch_size / seconds,
        "cpu_seconds_per_image": (timer.cpu_ends[-1] - cpu_start) / (measured * batch_size),
        "measured_steps": measured,
        "measured_seconds": seconds,
        "warmup_seconds": start - begin,
        "step_seconds": [round(s, 4) for s in steps],
    }


def matmul_peak(tf, sizes, repeats, inner, dtype="float32"):
    """Best ``dtype`` GFLOP/s of ``n x n`` matmuls, TF's own kernel and XLA-compiled, for each ``n`` in ``sizes``.

    ``inner`` products are chained per timing; the best of ``repeats`` timings is kept.
    The machine peak is the best of all (XLA's CPU matmul is often the faster one).
    """
    results = []
    for n in sizes:
        a = tf.cast(tf.random.uniform((n, n)), dtype)
        b = tf.cast(tf.random.uniform((n, n)), dtype)
        for jit in (False, True):

            def chain(x, y):
                out = x
                for _ in range(inner):
                    out = tf.matmul(out, y) * (1.0 / n)
                return out

            fn = tf.function(chain, jit_compile=jit, autograph=False)
            fn(a, b).numpy()  # trace, compile, warm up
            best, times = 0.0, []
            for _ in range(repeats):
                start = time.perf_counter()
                fn(a, b).numpy()
                seconds = time.perf_counter() - start
                times.append(round(seconds, 4))
                best = max(best, 2.0 * n**3 * inner / seconds / 1e9)
            results.append({"n": n, "xla": jit, "best_gflops": best, "seconds": times})
    best = max(r["best_gflops"] for r in results)
    return {"inner": inner, "repeats": repeats, "dtype": dtype, "runs": results, "best_gflops": best}


def profiler_flops(tf, model, input_shape):
    """Forward FLOPs of one sample counted by TensorFlow's graph profiler (multiply and add = 2 FLOPs)."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    fn = tf.function(lambda x: model(x, training=False))
    concrete = fn.get_concrete_function(tf.TensorSpec([1, *input_shape], tf.float32))
    frozen = convert_variables_to_constants_v2(concrete)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=frozen.graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options)
    return int(info.total_float_ops)


def image_list(folder, limit=None):
    """Sorted image paths of ``folder`` (the first ``limit`` when given)."""
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")))
    if limit:
        names = names[: int(limit)]
    return [os.path.join(folder, n) for n in names]


def count_files(folder):
    """Number of plain files in ``folder`` (0 when it does not exist)."""
    if not os.path.isdir(folder):
        return 0
    return sum(1 for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)))


class Stopwatch:
    """``with Stopwatch() as t: ...`` then ``t.seconds`` (wall) and ``t.cpu_seconds`` (this process, all threads)."""

    def __enter__(self):
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.process_time() - self.cpu_start
        return False
