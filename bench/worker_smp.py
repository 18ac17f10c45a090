"""Benchmark worker for segmentation_models.pytorch (SMP), in ``bench/.envs/smp`` (``bench/peers.py`` makes it).

Started by ``bench/peers.py`` as ``python worker_smp.py SPEC.json RESULT.json``. A standard PyTorch CPU setup:
the model from SMP's constructor without pretrained weights (seeded), a ``DataLoader`` over the same PNG files
ours reads (ImageNet normalisation, one loader process by default), Adam (fused) and cross-entropy, ``channels_last``,
float32 or bfloat16 autocast, optionally ``torch.compile`` (inductor; for prediction with freezing, its CPU
inference setting); prediction eager, compiled, or exported to ONNX (``export``) and run by ONNX Runtime. Label
maps are written as PNG files, as ``predict_multiple`` does.
"""

import os
import sys
import time

sys.dont_write_bytecode = True

import _common  # noqa: E402  (bench/ is sys.path[0])

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _import_smp():
    """``(torch, smp, note)``.

    PyPI's torchvision for Linux is a CUDA build: beside the CPU torch wheel its C++ operators (NMS, RoI align)
    do not load, and its import then fails while registering their shapes. SMP's encoders use only its Python
    model classes, so on that failure those two registration modules are replaced by empty ones (``note`` says so).
    """
    import torch

    try:
        import segmentation_models_pytorch as smp

        return torch, smp, None
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
        note = f"torchvision's C++ operators did not load ({error}); its operator registrations skipped"
    import types

    for name in [n for n in sys.modules if n.split(".")[0] in ("torchvision", "timm", "segmentation_models_pytorch")]:
        del sys.modules[name]
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules[name] = types.ModuleType(name)
    import segmentation_models_pytorch as smp

    return torch, smp, note


def _setup(spec):
    torch, smp, note = _import_smp()
    torch.set_num_threads(int(spec["intra_op_threads"]))
    torch.manual_seed(int(spec.get("seed") or 0))
    info = {"threads": torch.get_num_threads(), "torch_version": torch.__version__, "smp_version": smp.__version__,
            "bf16_supported": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()), "import_note": note}
    return torch, smp, info


def _build(smp, spec):
    """``spec["smp"]``: ``{"class": "FPN", "encoder": "resnet50", "options": {...}}``, no pretrained weights."""
    arch = spec["smp"]
    return getattr(smp, arch["class"])(encoder_name=arch["encoder"], encoder_weights=None, classes=spec["n_classes"],
                                       **arch.get("options", {}))


class Files:
    """Map-style dataset over image files (and their masks): normalised CHW float32 images, int64 masks."""

    def __init__(self, images, masks=None):
        self.images, self.masks = images, masks

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        import numpy as np
        from PIL import Image

        with Image.open(self.images[index]) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        pixels = ((pixels - np.array(MEAN, np.float32)) / np.array(STD, np.float32)).transpose(2, 0, 1)
        if self.masks is None:
            return pixels, os.path.splitext(os.path.basename(self.images[index]))[0]
        with Image.open(self.masks[index]) as mask:
            return pixels, np.asarray(mask, dtype=np.int64)


def _loader(torch, dataset, spec, shuffle):
    workers = int(spec.get("loader_workers", 1))
    return torch.utils.data.DataLoader(dataset, batch_size=spec["batch_size"], shuffle=shuffle, drop_last=shuffle,
                                       num_workers=workers, persistent_workers=workers > 0,
                                       generator=torch.Generator().manual_seed(int(spec.get("seed") or 0)))


def _memory_format(torch, spec):
    return torch.channels_last if spec.get("channels_last", True) else torch.contiguous_format


# ---------------------------------------------------------------- workloads
def w_model_info(spec):
    """Parameters, output size and forward FLOPs of one image (``torch.utils.flop_counter``: matmuls and convolutions,
    a multiply-add = 2 FLOPs)."""
    torch, smp, info = _setup(spec)
    from torch.utils.flop_counter import FlopCounterMode

    model = _build(smp, spec).eval()
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        out = model(torch.zeros(1, 3, spec["height"], spec["width"]))
    return {**info, "params": sum(p.numel() for p in model.parameters()), "output_height": int(out.shape[2]),
            "output_width": int(out.shape[3]), "forward_flops": int(counter.get_total_flops())}


def w_train(spec):
    """Steady-state training images/s: a plain loop (zero_grad, forward, cross-entropy, backward, Adam step)."""
    torch, smp, info = _setup(spec)
    images = _common.image_list(spec["images"])
    masks = [os.path.join(spec["annotations"], os.path.splitext(os.path.basename(p))[0] + ".png") for p in images]
    memory = _memory_format(torch, spec)
    model = _build(smp, spec).to(memory_format=memory).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)  # one kernel for all parameters
    loss_fn = torch.nn.CrossEntropyLoss()
    forward = torch.compile(model) if spec.get("compile") else model
    bf16 = spec["precision"] == "bfloat16"
    loader = _loader(torch, Files(images, masks), spec, shuffle=True)
    timer = _common.make_batch_timer(object)()
    total = spec["warmup_steps"] + spec["steps"]
    step = 0
    with _common.Stopwatch() as took:
        timer.on_train_begin()
        while step < total:
            for batch, target in loader:
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = forward(batch.contiguous(memory_format=memory))
                loss = loss_fn(logits.float(), target)
                loss.backward()
                optimizer.step()
                timer.on_train_batch_end(step)
                step += 1
                if step == total:
                    break
    result = _common.steady_throughput(timer, spec["warmup_steps"], spec["batch_size"])
    result.update(info, total_seconds=took.seconds, final_loss=float(loss), precision_used=spec["precision"])
    return result


def w_export(spec):
    """The model exported to ONNX (``torch.onnx.export``, float32, dynamic batch); parity against eager on 2 images."""
    torch, smp, info = _setup(spec)
    import numpy as np
    import onnxruntime

    model = _build(smp, spec).eval()
    example = torch.randn(2, 3, spec["height"], spec["width"])
    with _common.Stopwatch() as took:
        torch.onnx.export(model, (example,), spec["output"], input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    with torch.inference_mode():
        expected = model(example).numpy()
    session = onnxruntime.InferenceSession(spec["output"], providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": example.numpy()})[0]
    return {**info, "output": spec["output"], "export_seconds": took.seconds,
            "size_mib": os.path.getsize(spec["output"]) / 2**20, "max_abs_diff": float(np.abs(got - expected).max()),
            "label_agreement": float((got.argmax(1) == expected.argmax(1)).mean()),
            "onnxruntime_version": onnxruntime.__version__}


def _onnx_predictor(spec, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as ours: the loader needs the cores
    session = onnxruntime.InferenceSession(spec["model_path"], options, providers=["CPUExecutionProvider"])
    return lambda batch: session.run(None, {"images": batch.numpy()})[0].argmax(1)


def _torch_predictor(torch, smp, spec):
    memory = _memory_format(torch, spec)
    model = _build(smp, spec).to(memory_format=memory).eval()
    if spec["engine"] == "compile":
        import torch._inductor.config

        torch._inductor.config.freezing = True  # constant weights folded: inductor's CPU inference setting
        model = torch.compile(model)
    bf16 = spec["precision"] == "bfloat16"

    def predict(batch):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(batch.contiguous(memory_format=memory)).argmax(1).numpy()

    return predict


def w_predict(spec):
    """Images/s over the folder: read (``DataLoader``), predict, argmax, write label PNGs; after one warm-up batch."""
    torch, smp, info = _setup(spec)
    import numpy as np
    from PIL import Image

    inputs = _common.image_list(spec["images"], spec.get("limit"))
    with _common.Stopwatch() as load:
        if spec["engine"] == "onnx":
            predict = _onnx_predictor(spec, info["threads"])
        else:
            predict = _torch_predictor(torch, smp, spec)
    loader = _loader(torch, Files(inputs), spec, shuffle=False)
    with _common.Stopwatch() as warmup:
        predict(next(iter(loader))[0])  # compiles (engine "compile"), allocates
    os.makedirs(spec["out_dir"])
    with _common.Stopwatch() as run:
        for batch, names in loader:
            for label, name in zip(predict(batch), names):
                Image.fromarray(label.astype(np.uint8)).save(os.path.join(spec["out_dir"], name + ".png"),
                                                             compress_level=1)
    written = _common.count_files(spec["out_dir"])
    if written != len(inputs):
        raise RuntimeError(f"wrote {written} files for {len(inputs)} images")
    return {**info, "n_images": len(inputs), "load_seconds": load.seconds, "warmup_seconds": warmup.seconds,
            "predict_seconds": run.seconds, "images_per_s": len(inputs) / run.seconds,
            "cpu_seconds_per_image": run.cpu_seconds / len(inputs), "files_written": written,
            "precision_used": "float32" if spec["engine"] == "onnx" else spec["precision"]}


WORKLOADS = {"model_info": w_model_info, "train": w_train, "export": w_export, "predict": w_predict}


def main():
    spec, out = _common.read_spec()
    start = time.perf_counter()
    result = WORKLOADS[spec["workload"]](spec)
    result["worker_seconds"] = time.perf_counter() - start
    _common.write_result(out, result)


if __name__ == "__main__":
    main()
