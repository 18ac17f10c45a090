"""Where the time of a training step and a prediction batch goes, ours (TensorFlow) and SMP's (PyTorch), by op type.

The profile behind ``bench/peers.py``'s ratios (issue: performance against segmentation_models.pytorch). Its
models (``--model``: a key of ``peers.MODELS``, built by the two workers' own code), random data, one fixed batch,
after warm-up steps::

    .venv/bin/python bench/profile_peers.py ours --model unet_mobilenetv2 --precision mixed_bfloat16
    .venv/bin/python bench/profile_peers.py ours --model unet_mobilenetv2 --precision mixed_bfloat16 \\
        --float32-layers DepthwiseConv2D          # an experiment: those layers compute in float32
    .venv/bin/python bench/profile_peers.py ours --model unet_mobilenetv2 --fold   # the forward pass that
                                              # predict_multiple runs: batch norms folded into their convolutions
    bench/.envs/smp/bin/python bench/profile_peers.py smp --model unet_mobilenetv2 --precision bfloat16

Ours: ``train_on_batch`` / ``predict_on_batch`` of the model ``train()`` compiles (its loss and metrics, XLA off),
timed, then traced with TensorFlow's profiler; the trace (``.xplane.pb``) is read back and each op's self time
(its duration less the ops it contains) summed per op type over all threads. SMP: a torch training step (Adam,
cross-entropy, ``channels_last``, bfloat16 autocast or float32) and an inference batch, timed, then traced with
``torch.profiler``; self CPU time per op. Prints one JSON line per measurement: the step's median seconds and
images/s, and the top op types with their share of the summed op time.
"""

import argparse
import glob
import json
import os
import re
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

from _common import timings  # noqa: E402
from peers import MODELS, N_CLASSES  # noqa: E402  (the same models, built by the same workers' code)

OP_NAME = re.compile(r"^[^:#]+:([A-Za-z_][A-Za-z0-9_]*)")


def emit(**record):
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in record.items()}), flush=True)


def top_shares(totals, top):
    """``[[name, share of the total, seconds], ...]`` for the ``top`` largest, then the rest as ``"(other)"``."""
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    rows = [[name, round(seconds / whole, 4), round(seconds, 4)] for name, seconds in ranked[:top]]
    rest = sum(seconds for _, seconds in ranked[top:])
    return rows + ([["(other)", round(rest / whole, 4), round(rest, 4)]] if rest else [])


# ---------------------------------------------------------------------------------------------------- ours
def self_times_by_op_type(xplane_path):
    """Seconds of self time per TensorFlow op type in a profiler trace, summed over the host's threads."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as handle:
        space.ParseFromString(handle.read())
    totals = {}
    for plane in space.planes:
        if not plane.name.startswith("/host:"):
            continue
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            events = sorted(line.events, key=lambda e: (e.offset_ps, -e.duration_ps))
            stack = []  # [end_ps, op type or None, child ps]
            for event in events:
                while stack and event.offset_ps >= stack[-1][0]:
                    _close(stack, totals)
                match = OP_NAME.match(names.get(event.metadata_id, ""))
                if stack:
                    stack[-1][2] += event.duration_ps
                stack.append([event.offset_ps + event.duration_ps, match.group(1) if match else None, 0,
                              event.duration_ps])
            while stack:
                _close(stack, totals)
    return totals


def _close(stack, totals):
    _end, op_type, children, duration = stack.pop()
    if op_type is not None:
        totals[op_type] = totals.get(op_type, 0.0) + max(duration - children, 0) / 1e12


def float32_layers(model, class_names):
    """A copy of the mixed-precision ``model`` whose layers of ``class_names`` compute in float32."""
    from keras_segmentation.models.model_utils import layer_configs

    config = model.get_config()
    changed = 0
    for layer in layer_configs(config):
        if layer["class_name"] in class_names and "dtype" in layer["config"]:
            layer["config"]["dtype"] = "float32"
            changed += 1
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy, changed


def p_ours(args):
    import numpy as np
    import tensorflow as tf
    from worker_ours import _build

    import keras_segmentation  # noqa: F401  (its TensorFlow defaults, as a user's program gets them)
    from keras_segmentation.models.folding import fold_batch_norms
    from keras_segmentation.precision import with_precision
    from keras_segmentation.training.compile import compile_model

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    model = _build({"model": args.model, "architecture": MODELS[args.model]["ours"], "height": args.height,
                    "width": args.width, "n_classes": N_CLASSES})
    model = with_precision(model, args.precision)
    changed = 0
    if args.float32_layers:
        model, changed = float32_layers(model, args.float32_layers.split(","))
    compile_model(model, "adam", None, None, "categorical_crossentropy", None, None, 10, 1, False)
    predictor, pairs = fold_batch_norms(model) if args.fold else (model, {})
    rng = np.random.default_rng(0)
    x = (rng.random((args.batch, args.height, args.width, 3)) * 255 - 128).astype("float32")
    y = rng.integers(0, N_CLASSES, (args.batch, model.output_height, model.output_width)).astype("int32")
    common = dict(lib="ours", model=args.model, precision=args.precision, float32_layers=args.float32_layers,
                  layers_changed=changed, folded_batch_norms=len(pairs), batch=args.batch,
                  size=f"{args.height}x{args.width}", threads=args.threads)
    calls = {"train": lambda: model.train_on_batch(x, y), "predict": lambda: predictor.predict_on_batch(x)}
    for task in args.tasks.split(","):
        call = calls[task]
        for _ in range(args.warmup):
            call()
        seconds = timings(call, args.repeats)[1]
        logdir = tempfile.mkdtemp(prefix="tfprof_")
        tf.profiler.experimental.start(logdir)
        for _ in range(args.traced):
            call()
        tf.profiler.experimental.stop()
        traces = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        totals = self_times_by_op_type(traces[0]) if traces else {}
        emit(task=task, median_step_s=seconds, images_per_s=args.batch / seconds, **common,
             op_seconds_per_step=sum(totals.values()) / args.traced,
             top_ops=top_shares({k: v / args.traced for k, v in totals.items()}, args.top))


# ----------------------------------------------------------------------------------------------------- SMP
def p_smp(args):
    import torch
    from torch.profiler import ProfilerActivity, profile
    from worker_smp import _build, _import_smp

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    _, smp, _note = _import_smp()
    model = _build(smp, {"smp": MODELS[args.model]["smp"], "n_classes": N_CLASSES})
    model = model.to(memory_format=torch.channels_last)
    x = torch.randn(args.batch, 3, args.height, args.width).to(memory_format=torch.channels_last)
    y = torch.randint(0, N_CLASSES, (args.batch, args.height, args.width))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    bf16 = "bfloat16" in args.precision  # "bfloat16" or "mixed_bfloat16": autocast

    def train_step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x).float(), y)
        loss.backward()
        optimizer.step()

    def predict():
        model.eval()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x).argmax(1)

    common = dict(lib="smp", model=args.model, precision=args.precision, batch=args.batch,
                  size=f"{args.height}x{args.width}", threads=args.threads)
    for task, call in (("train", train_step), ("predict", predict)):
        for _ in range(args.warmup):
            call()
        seconds = timings(call, args.repeats)[1]
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.traced):
                call()
        totals = {e.key: e.self_cpu_time_total / 1e6 / args.traced for e in prof.key_averages()}
        emit(task=task, median_step_s=seconds, images_per_s=args.batch / seconds, **common,
             op_seconds_per_step=sum(totals.values()), top_ops=top_shares(totals, args.top))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lib", choices=("ours", "smp"))
    parser.add_argument("--model", choices=sorted(MODELS), default="unet_mobilenetv2")
    parser.add_argument("--precision", default="mixed_bfloat16",
                        help="float32, or mixed_bfloat16 (ours; SMP: bfloat16 autocast, also as bfloat16)")
    parser.add_argument("--float32-layers", default="", help="ours: comma-separated layer classes kept in float32")
    parser.add_argument("--fold", action="store_true", help="ours: predict with the batch norms folded into their "
                        "convolutions, as predict_multiple does (keras_segmentation.models.folding)")
    parser.add_argument("--tasks", default="train,predict", help="ours: train, predict or both (comma-separated)")
    parser.add_argument("--height", type=int, default=352)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--traced", type=int, default=3)
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    (p_ours if args.lib == "ours" else p_smp)(args)


if __name__ == "__main__":
    main()
