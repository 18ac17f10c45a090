"""Generate docs/models.md: parameters and forward GFLOPs of every model, vs the original library.

Builds each model without pretrained weights (nothing is downloaded) and
counts its parameters (``model.count_params()``, trainable and not) and its
forward FLOPs for one image (:func:`keras_segmentation.models.count_flops`).
The original library's parameter counts come from
``bench/original_model_params.json``, written by ``bench/original_model_params.py``
in a separate environment holding keras_segmentation 0.3.0.

Example:
    $ .venv/bin/python bench/models_table.py                  # writes docs/models.md (several minutes)
    $ .venv/bin/python bench/models_table.py --skip-encoders  # legacy names and decoders only
"""

import argparse
import gc
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
ORIGINAL = ROOT / "bench" / "original_model_params.json"
RESULTS = ROOT / "bench" / "results" / "models_table.json"
N_CLASSES = 12
MATRIX_ENCODERS = ("vgg16", "resnet50", "mobilenetv2", "efficientnetb0", "efficientnetv2s", "convnexttiny")
MATRIX_SIZE = (512, 512)


def _measure(build):
    import keras

    from keras_segmentation.models import count_flops

    start = time.time()
    model = build()
    result = {
        "params": int(model.count_params()),
        "output": (model.output_height, model.output_width) if hasattr(model, "output_height") else None,
        "gflops": count_flops(model) / 1e9,
        "seconds": time.time() - start,
    }
    del model
    keras.backend.clear_session()
    gc.collect()
    return result


def legacy_rows():
    from keras_segmentation.models import LEGACY_MODELS, model_from_name

    original = json.loads(ORIGINAL.read_text())["models"] if ORIGINAL.exists() else {}
    rows = []
    for name, entry in LEGACY_MODELS.items():
        height, width = entry.default_size
        measured = _measure(lambda: model_from_name[name](N_CLASSES, input_height=height, input_width=width))
        ref = original.get(name, {})
        rows.append({"name": name, "encoder": entry.encoder, "decoder": entry.decoder, "input": (height, width),
                     **measured, "original_params": ref.get("params"),
                     "original_output": (ref["output_height"], ref["output_width"]) if ref else None})
        print(f"{name}: {measured['params']:,} params, {measured['gflops']:.1f} GFLOPs", file=sys.stderr, flush=True)
    return rows


def matrix_rows():
    from keras_segmentation.models import build_model
    from keras_segmentation.models.decoders import DECODERS

    rows = []
    for encoder in MATRIX_ENCODERS:
        for decoder in DECODERS:
            measured = _measure(
                lambda: build_model(decoder, encoder, N_CLASSES, *MATRIX_SIZE, encoder_weights=None)
            )
            rows.append({"encoder": encoder, "decoder": decoder, **measured})
            print(f"{encoder}_{decoder}: {measured['params']:,}", file=sys.stderr, flush=True)
    return rows


def named_rows():
    from keras_segmentation.models.registry import NAMED_MODELS, build_named_model

    rows = []
    for name, entry in NAMED_MODELS.items():
        measured = _measure(lambda: build_named_model(name, N_CLASSES, *MATRIX_SIZE, encoder_weights=None))
        rows.append({"name": name, "encoder": entry.encoder, "decoder": entry.decoder, "options": entry.options, **measured})
        print(f"{name}: {measured['params']:,}", file=sys.stderr, flush=True)
    return rows


def encoder_rows():
    from keras_segmentation.models import build_encoder_model, list_encoders

    rows = []
    for row in list_encoders():
        measured = _measure(lambda: build_encoder_model(row["name"], *MATRIX_SIZE))
        rows.append({**row, **measured})
        print(f"encoder {row['name']}: {measured['params']:,}", file=sys.stderr, flush=True)
    return rows


def _num(value):
    return "-" if value is None else f"{value:,}"


def _size(size):
    return "-" if size is None else f"{size[0]}x{size[1]}"


USAGE = """Every model is an encoder (a feature pyramid P1..P5 at strides 2..32), a decoder and one head
(classifier, optional resize to the input size, float32 softmax), returned as a `SegmentationModel`.

```python
from keras_segmentation import load_model
from keras_segmentation.models import build_model, list_encoders, list_models, rebuild_model
from keras_segmentation.models.unet import vgg_unet

# the original names build the original graphs (same layers, parameters and output sizes)
model = vgg_unet(n_classes=12, input_height=416, input_width=608)          # output 208x304
model = vgg_unet(n_classes=12, full_resolution=True)                       # output 416x608
model = vgg_unet(n_classes=12, channels=1, encoder_weights=None)           # grayscale, no download

# any decoder on any encoder; full resolution by default; None sizes accept any image size
model = build_model("unet", encoder="efficientnetv2b0", n_classes=12)
model = build_model("deeplabv3plus", "resnet50", 21, 512, 512, channels=4,
                    encoder_weights="weights/resnet50_notop.h5")          # local weights, RGBA input

model.save("m.keras"); same = load_model("m.keras")                        # no custom_objects needed
fresh = rebuild_model(model.build_config)                                  # architecture only, no download
```

* Decoders: `fcn_8`, `fcn_32`, `segnet`, `unet`, `unetplusplus`, `linknet`, `pspnet`, `deeplabv3`,
  `deeplabv3plus`, `fpn`, `upernet` (`keras_segmentation.models.decoders`; each module's docstring gives the
  paper and the defaults); decoder options go to `build_model` as keywords (`decoder_filters=...` for
  U-Net, U-Net++ and UPerNet, `aspp_rates=...`, `fc_filters=...`, `bins=...`, `decoder_merge="cat"` and
  `decoder_norm="batch"` for FPN, `decoder_final_filters=...` for LinkNet).
* Encoders: `keras_segmentation models --encoders` or `list_encoders()`; `register_encoder()` adds one.
* SegFormer: the `segformer` decoder (all-MLP head) on the Mix Transformer encoders `mit_b0` ... `mit_b5`,
  or by name `segformer_b0` ... `segformer_b5` (`resolve_model`, `train(model=...)`). MiT weights come from a
  local keras-hub preset: `encoder_weights="path/to/segformer_b0_ade20k_512"` (its `model.weights.h5`).
* `encoder_weights`: `"imagenet"` (default where available; downloaded and cached by `keras.applications`),
  `None`, or a local file (a `keras.applications` `.h5`, the original library's `.h5`, or a `.weights.h5`
  saved from `build_encoder_model(name)`). With 1, 2, 4 or more input channels the first convolution's
  RGB kernel is averaged and scaled by 3/channels instead of being dropped. Offline, the download raises
  `WeightsError` naming the URL. `KERAS_SEGMENTATION_ENCODER_WEIGHTS=none` turns the default into `None`.
* Input sizes: the original names keep the original rules (multiples of 32 for VGG/ResNet/MobileNet,
  192 for `pspnet`, 4 for `unet_mini`) and raise `InputSizeError` naming the nearest valid sizes;
  `pspnet_50` / `pspnet_101` now take any size; `build_model` models take any size at least the
  encoder's minimum (32 px, 71 for Xception), fixed or `None`.
* Normalisation: each model records the normalisation its encoder's weights expect
  (`model.normalization`: `caffe` for VGG/ResNet, `tf` for MobileNet/Xception/ResNetV2, `torch` for
  DenseNet, `none` for EfficientNet/ConvNeXt/MobileNetV3 which normalise inside, `sub_mean` for the
  vanilla CNN and hand-built models).
* Pretrained PSPNets: `keras_segmentation.pretrained.pspnet_50_ADE_20K(path_or_url)`,
  `pspnet_101_cityscapes(...)`, `pspnet_101_voc12(...)`.
"""

#: why a parameter count differs from the original (none do for the default graphs)
DIFFERENCES = {}


def render_named(named):
    """The section of named combinations (SegFormer-B0..B5)."""
    lines = [
        "",
        f"## Named models ({MATRIX_SIZE[0]}x{MATRIX_SIZE[1]} input, full resolution)",
        "",
        "`resolve_model(name, 12, 512, 512)` (or `train(model=name, ...)`, `--model_name name`): a `build_model`",
        "combination under its own name. GFLOPs here count 2 per multiply-add; the SegFormer paper counts one:",
        "with its 150 classes, SegFormer-B0 is 3,753,206 parameters and 8.39 G multiply-adds here, 3.8M and",
        "8.4 GFLOPs in the paper (B2: 27.5M and 62.3 G here, 27.5M and 62.4 there).",
        "",
        "| model | encoder | decoder | decoder options | parameters | GFLOPs |",
        "|---|---|---|---|---:|---:|",
    ]
    for row in named:
        options = ", ".join(f"{key}={value}" for key, value in row["options"].items())
        lines.append(
            f"| `{row['name']}` | {row['encoder']} | {row['decoder']} | {options} | {_num(row['params'])} | {row['gflops']:.1f} |"
        )
    return lines


def render(legacy, matrix, encoders, named=()):
    import keras

    lines = [
        "# Model zoo",
        "",
        USAGE,
        "## Measurements",
        "",
        "Generated by `bench/models_table.py` (do not edit by hand). Parameters are `model.count_params()`",
        "(trainable and non-trainable, as Keras counts them) with "
        f"{N_CLASSES} classes; GFLOPs are the forward FLOPs for one image at the input size shown, counted by",
        "`keras_segmentation.models.count_flops` (2 x multiply-adds of every convolution and dense layer).",
        f"Measured with Keras {keras.__version__} ({keras.backend.backend()} backend).",
        "",
        "## The 22 original model names",
        "",
        "Built at their default input size with the default arguments (`full_resolution=False`: the original",
        "graphs). The original library's counts were measured by building each model with",
        "keras_segmentation 0.3.0 on TensorFlow/Keras 2.15 (`bench/original_model_params.py`, results in",
        "`bench/original_model_params.json`).",
        "",
        "| model | encoder | decoder | input | output | parameters | original 0.3.0 | difference | GFLOPs |",
        "|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for row in legacy:
        diff = "-" if row["original_params"] is None else f"{row['params'] - row['original_params']:+,}"
        lines.append(
            f"| `{row['name']}` | {row['encoder']} | {row['decoder']} | {_size(row['input'])} | {_size(row['output'])} "
            f"| {_num(row['params'])} | {_num(row['original_params'])} | {diff} | {row['gflops']:.1f} |"
        )
    same = all(r["original_params"] == r["params"] for r in legacy if r["original_params"] is not None)
    outputs = all(tuple(r["original_output"]) == tuple(r["output"]) for r in legacy if r["original_output"] is not None)
    lines += [
        "",
        "Every default graph has exactly the original's parameter count"
        if same
        else "Some parameter counts differ from the original; see below.",
        "and output size." if outputs else "Some output sizes differ from the original.",
        "",
        "Notes on the comparison:",
        "",
        "* The 0.3.0 release on PyPI defaults `fcn_8_mobilenet` / `fcn_32_mobilenet` to 416x608, which its own",
        "  MobileNet encoder rejects (224x224 only before PR #277); both sides are counted at the repository",
        "  HEAD default, 224x224.",
        "* Layers that hold no weights were changed without affecting the counts: the `Lambda` crop of ResNet-50",
        "  is a `ZeroPadding2D`, the unused `AveragePooling2D((7, 7))` is gone, ReLU6 is a `ReLU` layer, the",
        "  `Lambda`/`Interp` resizes are `UpSampling2D` / `ResizeLike`, PSPNet-50/101 pool adaptively, and the",
        "  output is 4-D `(batch, h, w, classes)` instead of the original's reshaped `(batch, h*w, classes)`.",
        "* `fcn_*_resnet50` and `fcn_*_mobilenet` are large because the original FCN head puts a 7x7, 4096-filter",
        "  convolution on the 2048- (ResNet-50) or 1024-channel (MobileNet) features.",
        "* The U-Net decoders (`unet`, `vgg_unet`, `resnet50_unet`, `mobilenet_unet`) follow the repository HEAD: a",
        "  ReLU after each decoder convolution. The 0.3.0 release has none (same parameters); `decoder_activation=None`",
        "  builds its graph, which `migrate_checkpoint` uses for 0.3.0's checkpoints ([migration.md](migration.md)).",
    ]
    for name, reason in DIFFERENCES.items():
        lines.append(f"* `{name}`: {reason}")
    if matrix:
        decoders = list(dict.fromkeys(r["decoder"] for r in matrix))
        lines += [
            "",
            f"## build_model: decoders x encoders ({MATRIX_SIZE[0]}x{MATRIX_SIZE[1]} input, full resolution)",
            "",
            "`build_model(decoder, encoder, 12, 512, 512)`; parameters / GFLOPs. Any other registered encoder",
            "works the same way (`keras_segmentation models --encoder NAME` measures one).",
            "",
            "| encoder | " + " | ".join(decoders) + " |",
            "|---|" + "---:|" * len(decoders),
        ]
        for encoder in dict.fromkeys(r["encoder"] for r in matrix):
            cells = []
            for decoder in decoders:
                row = next(r for r in matrix if r["encoder"] == encoder and r["decoder"] == decoder)
                cells.append(f"{row['params'] / 1e6:.1f}M / {row['gflops']:.1f}")
            lines.append(f"| {encoder} | " + " | ".join(cells) + " |")
    if named:
        lines += render_named(named)
    if encoders:
        lines += [
            "",
            f"## Encoders ({MATRIX_SIZE[0]}x{MATRIX_SIZE[1]} input, encoder alone)",
            "",
            "Pyramid levels as channels/stride; normalisation = the input normalisation the pretrained weights",
            "expect (`keras_segmentation.data.normalization.normalize_image`).",
            "",
            "| encoder | family | normalisation | ImageNet | pyramid (channels/stride) | parameters | GFLOPs |",
            "|---|---|---|---|---|---:|---:|",
        ]
        for row in encoders:
            levels = " ".join(f"{lvl}:{row['channels'][lvl]}/{row['strides'][lvl]}" for lvl in row["channels"])
            lines.append(
                f"| `{row['name']}` | {row['family']} | {row['normalization']} | {'yes' if row['pretrained'] else 'no'} "
                f"| {levels} | {_num(row['params'])} | {row['gflops']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "models.md"))
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--skip-encoders", action="store_true")
    parser.add_argument("--skip-named", action="store_true")
    parser.add_argument("--render-only", action="store_true", help=f"re-render from {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.render_only:
        data = json.loads(RESULTS.read_text())
        legacy, matrix, encoders, named = data["legacy"], data["matrix"], data["encoders"], data.get("named", [])
    else:
        legacy = legacy_rows()
        matrix = [] if args.skip_matrix else matrix_rows()
        encoders = [] if args.skip_encoders else encoder_rows()
        named = [] if args.skip_named else named_rows()
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"legacy": legacy, "matrix": matrix, "encoders": encoders, "named": named}, indent=1))
    pathlib.Path(args.out).write_text(render(legacy, matrix, encoders, named))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
