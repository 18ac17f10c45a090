"""Data-parallel training on one machine: 1 process against 2 workers (MultiWorkerMirroredStrategy over loopback).

    python bench/distributed.py [--camvid PATH] [--steps 12] [--warmup 3] [--reps 3]

Runs, each in fresh processes, alternating, ``--reps`` times:

* ``one-2t``: one process, TensorFlow on 2 threads, batch 4 (what a user runs today);
* ``one-1t``: one process on 1 thread, batch 2 (one worker's share, the scaling baseline);
* ``two-1t``: 2 worker processes on 127.0.0.1, 1 thread each, batch 2 per replica (global batch 4).

Model: ``unet_mini`` at 192x256 on CamVid training images (``--camvid``, default
``../shared/datasets/camvid``). Images/s is counted after ``--warmup`` steps. Each
worker of ``two-1t`` then times the all-reduce of a float32 tensor as large as the
model's gradients (the network cost of one step). Prints a Markdown table and the
machine's ``lscpu`` model and flags; writes the raw figures to ``--json``.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import _common  # bench/ is sys.path[0]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = (192, 256)


def worker(spec):
    """One training process: time the steps, then (multi-worker) the gradient all-reduce."""
    import tensorflow as tf

    import keras_segmentation  # noqa: F401 - before TensorFlow

    tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(spec["threads"])
    from keras_segmentation.training.distribute import start_strategy

    strategy = start_strategy("multi_worker") if spec["distributed"] else None
    import keras

    from keras_segmentation.models.unet import unet_mini
    from keras_segmentation.training import train

    times = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    keras.utils.set_random_seed(0)
    model = unet_mini(12, *SIZE)
    train(model, spec["images"], spec["masks"], epochs=1, batch_size=spec["batch_size"], steps_per_epoch=spec["steps"],
          verify_dataset=False, verbose=0, seed=0, distribute=strategy, callbacks=[Timer()], jit_compile=False)
    warm = times[spec["warmup"]:]
    global_batch = spec["batch_size"] * (2 if spec["distributed"] else 1)
    result = {"images_per_s": global_batch * (len(warm) - 1) / (warm[-1] - warm[0]), "params": model.count_params()}
    if strategy is not None:
        result["allreduce_ms"] = _time_allreduce(tf, strategy, model.count_params())
    with open(spec["out"], "w") as handle:
        json.dump(result, handle)


def _time_allreduce(tf, strategy, size, repeats=20):
    gradients = tf.ones((size,), tf.float32)

    @tf.function
    def step():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("sum", gradients))

    step()  # trace and warm up
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return 1000 * (time.perf_counter() - started) / repeats


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_case(name, args, folder):
    images = os.path.join(args.camvid, "images_prepped_train")
    masks = os.path.join(args.camvid, "annotations_prepped_train")
    common = dict(images=images, masks=masks, steps=args.steps, warmup=args.warmup)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    if name == "two-1t":
        addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
        processes = []
        for index in range(2):
            spec = dict(common, threads=1, batch_size=2, distributed=True, out=os.path.join(folder, f"{name}-{index}.json"))
            config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
            processes.append((spec, subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)],
                                                     env=dict(env, TF_CONFIG=json.dumps(config)))))
    else:
        threads, batch = (2, 4) if name == "one-2t" else (1, 2)
        spec = dict(common, threads=threads, batch_size=batch, distributed=False, out=os.path.join(folder, f"{name}.json"))
        processes = [(spec, subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)], env=env))]
    for _, process in processes:
        if process.wait(timeout=1800) != 0:
            raise SystemExit(f"{name}: a process failed")
    with open(processes[0][0]["out"]) as handle:
        return json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--camvid", default=os.environ.get("KERAS_SEGMENTATION_CAMVID",
                                                           os.path.join(ROOT, "..", "shared", "datasets", "camvid")))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the raw figures here")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    cases = ("one-2t", "one-1t", "two-1t")
    figures = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.reps):
            for name in cases:
                figures[name].append(run_case(name, args, folder))
    model, flags = _common.lscpu()
    median = {name: statistics.median(r["images_per_s"] for r in runs) for name, runs in figures.items()}
    allreduce = statistics.median(r["allreduce_ms"] for r in figures["two-1t"])
    params = figures["one-2t"][0]["params"]
    print(f"CPU: {model}\nflags: {flags}\n")
    print(f"unet_mini {SIZE[0]}x{SIZE[1]}, CamVid files, {args.steps} steps ({args.warmup} warm-up), "
          f"median of {args.reps} alternating runs\n")
    print("| run | threads | global batch | images/s (median) | runs |")
    print("|---|---:|---:|---:|---|")
    for name, threads, batch in (("one-2t", "2", 4), ("one-1t", "1", 2), ("two-1t", "2 x 1", 4)):
        runs = ", ".join(f"{r['images_per_s']:.2f}" for r in figures[name])
        print(f"| {name} | {threads} | {batch} | {median[name]:.2f} | {runs} |")
    print(f"\nscaling efficiency two-1t / (2 x one-1t): {median['two-1t'] / (2 * median['one-1t']):.2f}; "
          f"two-1t / one-2t: {median['two-1t'] / median['one-2t']:.2f}")
    print(f"all-reduce of {params:,} float32 gradients ({4 * params / 2**20:.1f} MiB) over loopback: "
          f"{allreduce:.1f} ms per step (median)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cpu": model, "flags": flags, "figures": figures}, handle, indent=1)


if __name__ == "__main__":
    main()
