"""The plan: every training decision of ``fit``, taken by a rule from the fingerprint and the budget.

Each rule cites the measurement behind it (``docs/fit.md`` has the tables). A plan is a
dict ``{decision: {"value": ..., "why": "..."}}``; ``overrides`` (``--set name=value``)
replace any value, and the plan says so.

* ``architecture``: FPN on an ImageNet MobileNetV2 where its weights can be had (the
  Keras cache, a local file, or a download the caller allows), else FPN from scratch
  (CamVid, 45 min, held-out drive: FPN 35.1 mIoU, legacy U-Net 33.8, SegFormer-B0 28.0,
  UPerNet 25.7); ``unet_mini`` (full-resolution skips) when a class would stay under 4 px
  wide even at the native scale, because FPN predicts at stride 4.
* ``input`` and ``mode``: about :data:`TARGET_PIXELS` input pixels per image on a CPU
  (192x256: the CamVid measurements), aspect kept, rounded to multiples of 32 (at least 64), not
  enlarged otherwise. Whole
  images resized, unless resizing would make a class narrower than FPN's stride (4 px) or the
  image is more than 4x the input per side: then random crops at the native scale and
  sliding-window prediction (CamVid 480x360: resize 54.8 against crops 46.4 at 20 min; its
  classes stay >= 4 px wide). Widths count for the classes with at least
  :data:`SIGNIFICANT_SHARE` of the pixels: thinner rare classes (CamVid's poles, 1 % of the
  pixels, 4 px) scored 9 % IoU whichever way.
* ``batch_size``: :data:`BATCH_PIXELS` pixels per batch (batch 4 at 192x256), 2..16, and no more than fits in
  :data:`MEMORY_SHARE` of the memory available, at the bytes per pixel the probe's batch took
  (:func:`memory_batch`).
* ``loss``: cross-entropy + Dice; ``class_weights``: ENet weights when the commonest class
  has over :data:`IMBALANCE` times the pixels of the rarest (CamVid: +2.9 mIoU over
  median-frequency weights, +12.4 with CE + Dice and augmentation over none).
* ``augment``: horizontal flips and scale jitter always; vertical flips and 90-degree
  rotations when the class layout has no up and down (top/bottom difference < 0.1).
* ``learning_rate``: Adam, peak 2e-3, cosine over the time left (CamVid recipe); a run continuing a
  finished one (``start_from``) peaks at :data:`CONTINUE_LEARNING_RATE`.
* ``start_from``: a run continuing a finished one takes from it the decisions its weights were
  trained for (:data:`FROM_START`); the others are planned again from the new data.
* ``validation``: the caller's, else whole file-name groups (10-20 %), else a contiguous block.
* ``rejoin``: when the validation images were held out of the caller's images, the last
  :data:`REJOIN_SHARE` of training (and what an early stop left) continues the best validated epoch on
  every image, validation ones included, at the peak :data:`CONTINUE_LEARNING_RATE` (the ``start_from``
  measurement); its last epoch is the model (CamVid, 45 min: held-out drive 25.8 -> 32.1 mIoU).
* ``patience``: early stop after a quarter of the expected epochs without a better
  validation mIoU (at least 10 epochs); the best epoch by validation mIoU is kept.

Example:
    >>> plan = make_plan(fingerprint, budget_s=2700, n_train=260)
    >>> plan["architecture"]["value"], plan["input"]["value"]   # doctest: +SKIP
    ('fpn_vanilla', [192, 256])
"""

import math
import os

from ..errors import ModelConfigError

#: input pixels per image on a CPU (192 x 256, the size of the CamVid measurements)
TARGET_PIXELS = 192 * 256
#: input pixels per image with a GPU
TARGET_PIXELS_GPU = 512 * 512
#: pixels per training batch (batch 4 at 192 x 256)
BATCH_PIXELS = 4 * TARGET_PIXELS
#: the share of the memory available (the probe's measure) a training batch may take
MEMORY_SHARE = 0.5
#: commonest / rarest class pixel share above which ENet class weights are used
IMBALANCE = 10.0
#: stride at which FPN predicts: a class must keep this width (px) at the model's scale
FPN_STRIDE = 4
#: classes with at least this share of the pixels decide the widths
SIGNIFICANT_SHARE = 0.05
#: images larger than this many times the model input per side are cropped, not resized
MAX_DOWNSCALE = 4.0
#: fewer expected epochs than this: a smaller input is planned (CamVid: 7-9 epochs gave 47-48 mIoU, 44-52 gave 58-60)
MIN_EPOCHS = 20
#: share of the images held out for validation when none is given
VAL_FRACTION = 0.15
#: training speed assumed on a CPU without a probe (FPN, bfloat16, 192x256; docs/camvid.md): bounds epochs only
CPU_SPEED = {"input": [192, 256], "images_per_second": 5.0}
#: the smallest input side
MIN_SIDE = 64
#: decisions a run continuing a finished one (``start_from``) takes from it: its weights were trained for them
#: (``encoder_weights`` becomes ``None``: every weight comes from the finished run's model)
FROM_START = ("architecture", "input", "mode", "encoder_weights", "void")
#: peak learning rate of a run continuing a finished one (CamVid, 8 epochs continuing a 15-epoch run on 201 frames with
#: all 305: 5e-4 kept the validation mIoU it started from and ended best on validation and the held-out drive; 2e-3
#: lost 8.5 validation points in its first epoch; 1e-4 stalled; docs/fit.md)
CONTINUE_LEARNING_RATE = 5e-4
#: share of the training (time, or epochs) in which the validation images held out of the caller's images train too
REJOIN_SHARE = 0.25
#: Keras' cache file of ImageNet MobileNetV2 without its top
MOBILENETV2_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"

ARCHITECTURES = {
    "fpn_mobilenetv2": dict(decoder="fpn", encoder="mobilenetv2"),
    "fpn_vanilla": dict(decoder="fpn", encoder="vanilla"),
    "unet_mini": dict(model="unet_mini"),
}

#: decisions ``--set`` may override, and how a text value is read
SETTABLE = {
    "architecture": str, "input": "size", "mode": str, "batch_size": int, "precision": str, "loss": str,
    "class_weights": str, "augment": str, "learning_rate": float, "val_fraction": float, "patience": int,
    "flip_tta": str, "void": "int_or_none", "encoder_weights": str, "steps_per_epoch": "int_or_none",
    "rejoin": float,
}


def make_plan(fingerprint, budget_s=None, epochs=None, n_train=None, overrides=None, encoder_weights=None,
              probe=None, start_from=None, held_out=True):
    """The plan for ``fingerprint`` (see the module docstring); ``budget_s`` or ``epochs`` bounds training.

    ``probe`` (``{"input": [h, w], "images_per_second": x}``, the throughput probe of the plan made
    without it) sizes the input to the budget; ``encoder_weights`` is the ImageNet MobileNetV2 file
    found (or ``"imagenet"`` to download), else ``None``; ``start_from`` (``(folder, its plan)``),
    the finished run this one continues, gives the :data:`FROM_START` decisions. ``held_out``: the
    validation images are held out of the caller's images (not a validation set of their own).

    Raises:
        ModelConfigError: an override of a decision ``start_from`` gives, an unknown one or a value out of range.
    """
    overrides = parse_overrides(overrides or {})
    if start_from is not None:
        check_start_overrides(overrides, start_from[0])
    plan = {}

    def decide(name, value, why):
        if start_from is not None and name in FROM_START:
            folder, previous = start_from
            value = None if name == "encoder_weights" else previous[name]["value"]
            plan[name] = {"value": value, "why": f"from start_from {folder}: its weights were trained for it"
                          if name != "encoder_weights" else f"every weight comes from start_from {folder}"}
        elif name in overrides:
            plan[name] = {"value": overrides[name], "why": f"set by you (the rule said {value!r}: {why})"}
        else:
            plan[name] = {"value": value, "why": why}
        return plan[name]["value"]

    gpu = bool(fingerprint["machine"].get("gpus"))
    height, width = fingerprint["image_size"]["median"]
    target = TARGET_PIXELS_GPU if gpu else TARGET_PIXELS
    scale = min(1.0, math.sqrt(target / float(height * width)))
    thinnest = _thinnest_width(fingerprint)
    thin_after_resize = thinnest is not None and thinnest * scale < FPN_STRIDE
    huge = scale < 1.0 / MAX_DOWNSCALE
    if thin_after_resize or huge:
        mode = decide("mode", "crop", (f"the thinnest class ({thinnest:.1f} px) would be {thinnest * scale:.1f} px after "
                                       "resizing" if thin_after_resize else
                                       f"images are over {MAX_DOWNSCALE:g}x the model input per side")
                      + ": random crops at the native scale, sliding-window prediction")
    else:
        mode = decide("mode", "resize", f"images {height}x{width} resized by {scale:.2f}: every class stays "
                      f">= {FPN_STRIDE} px wide (CamVid: resize 54.8 mIoU, crops 46.4)")
    model_scale = 1.0 if mode == "crop" else scale
    if mode == "crop":
        side = min(height, width, _round32(math.sqrt(target)))
        size = [_round32(min(height, side)), _round32(min(width, side))]
    else:
        size = [_round32(height * scale), _round32(width * scale)]
    if probe and budget_s and n_train and "input" not in overrides:
        expected = expected_epochs(probe, size, budget_s, n_train)
        if expected < MIN_EPOCHS:
            shrink = max(math.sqrt(expected / MIN_EPOCHS), MIN_SIDE / min(size))
            size = [_round32(side * shrink) for side in size]
    size = decide("input", size, f"about {target:,} input pixels per image ({'GPU' if gpu else 'CPU'}; 192x256 "
                  "on CamVid), multiples of 32, enough epochs for the budget")

    thin_for_fpn = thinnest is not None and thinnest * model_scale < FPN_STRIDE
    if thin_for_fpn:
        architecture, why = "unet_mini", (f"the thinnest class is {thinnest * model_scale:.1f} px at the model's scale, "
                                          f"under FPN's stride {FPN_STRIDE}: a U-Net with full-resolution skips")
    elif encoder_weights:
        architecture, why = "fpn_mobilenetv2", "FPN on MobileNetV2 with its ImageNet weights (found)"
    else:
        architecture, why = "fpn_vanilla", ("FPN from scratch: best on CamVid's held-out drive at 45 min (35.1 mIoU; "
                                            "U-Net 33.8, SegFormer-B0 28.0); no ImageNet weights found")
    architecture = decide("architecture", architecture, why)
    if architecture not in ARCHITECTURES:
        raise ModelConfigError(f"architecture={architecture!r}: choose one of {', '.join(ARCHITECTURES)}")
    decide("encoder_weights", encoder_weights if architecture == "fpn_mobilenetv2" else None,
           "ImageNet MobileNetV2 weights" if architecture == "fpn_mobilenetv2" else "trained from scratch")

    batch = max(2, min(16, int(round(BATCH_PIXELS / float(size[0] * size[1])))))
    why = f"{BATCH_PIXELS:,} pixels per batch (batch 4 at 192x256 on CamVid)"
    fits = memory_batch(probe, size)
    if fits is not None and fits < batch:
        memory = probe["memory"]
        batch, why = fits, (f"{why} would be {batch}, but {fits} is what fits in {MEMORY_SHARE:.0%} of the "
                            f"{memory['available'] / 1024**3:.1f} GiB available ({memory['device']}): the probe's "
                            f"batch of {probe['batch']} took {memory['used'] / 1024**3:.2f} GiB")
    batch = decide("batch_size", batch, why)
    speed = probe or (CPU_SPEED if budget_s and not gpu else None)
    steps = None
    if speed and budget_s and n_train:
        held = expected_epochs(speed, size, budget_s, n_train)
        if held < MIN_EPOCHS:  # at least twice the validation batches, so that validating stays a small share
            validation_batches = math.ceil(n_train * VAL_FRACTION / (1 - VAL_FRACTION) / batch)
            steps = max(2 * validation_batches, int(n_train / batch * held / MIN_EPOCHS))
            steps = None if steps >= n_train / batch else steps
    decide("steps_per_epoch", steps, "one pass over the training images" if steps is None else
           f"a pass over the {n_train} images would take over 1/{MIN_EPOCHS} of the budget: epochs of {steps} "
           "batches, so the budget is checked and the best weights kept often")
    decide("precision", "auto", "bfloat16 where the hardware computes it natively, else float32 (CamVid: "
           "bfloat16 trained 2x the epochs, +2.1 mIoU)")
    decide("loss", "ce+dice", "cross-entropy + Dice (CamVid recipe; ISBI recipe)")
    shares = [share for share in fingerprint["class_pixel_share"] if share]
    ratio = max(shares) / min(shares) if shares else 1.0
    decide("class_weights", "enet" if ratio > IMBALANCE else "none",
           f"commonest/rarest class pixels {ratio:.1f} ({'over' if ratio > IMBALANCE else 'at most'} {IMBALANCE:g})")
    upright = fingerprint.get("top_bottom_difference", 0.0) >= 0.1
    decide("augment", "flip_scale" if upright else "flip_rotate_scale",
           f"top/bottom class difference {fingerprint.get('top_bottom_difference', 0.0):.2f}: "
           + ("the images have an up and down: horizontal flips, scale jitter" if upright else
              "no up and down: flips both ways, 90-degree rotations, scale jitter"))
    if start_from is None:
        decide("learning_rate", 2e-3, "Adam, peak 2e-3, cosine over the time left (CamVid recipe)")
    else:
        decide("learning_rate", CONTINUE_LEARNING_RATE, f"Adam, peak {CONTINUE_LEARNING_RATE:g}, cosine over the time "
               "left: a trained model fine-tuned (CamVid, 8 epochs with 104 new frames: held-out drive 26.5 mIoU; 2e-3 "
               "24.6, 1e-4 24.9)")
    decide("val_fraction", VAL_FRACTION, "15 % held out by file-name group (10-20 %) when no validation set is given")
    decide("rejoin", REJOIN_SHARE if held_out else 0.0,
           f"the last {REJOIN_SHARE:.0%} of training on every image, validation ones included, from the best validated "
           f"epoch at peak {CONTINUE_LEARNING_RATE:g} (CamVid, 45 min, test folder / held-out drive: that epoch "
           "50.9 / 25.8 mIoU, after it 59.0 / 32.1)" if held_out else
           "your validation images stay out of training")
    expected = epochs or (expected_epochs(probe, size, budget_s, n_train) if probe and budget_s and n_train else None)
    patience = max(10, int(round(0.25 * expected))) if expected else 10
    decide("patience", patience, f"stop when validation mIoU has not risen for a quarter of the expected "
           f"{'epochs' if expected is None else f'{expected:.0f} epochs'} (at least 10)")
    decide("flip_tta", "auto", "kept only if it raises validation mIoU")
    decide("void", fingerprint.get("void"), fingerprint.get("void_reason", ""))
    unknown = sorted(set(overrides) - set(plan))
    if unknown:
        raise ModelConfigError(f"--set {unknown[0]}: not a decision of the plan; one of {', '.join(sorted(SETTABLE))}")
    _check_values(values(plan))
    return plan


def check_start_overrides(overrides, start_from):
    """``--set`` may not change what the weights of the finished run ``start_from`` were trained for.

    Raises:
        ModelConfigError: ``overrides`` names one of :data:`FROM_START`.

    Example:
        >>> check_start_overrides({"loss": "ce"}, "runs/fit")   # no error; {"input": [256, 256]} raises
    """
    fixed = [name for name in FROM_START if name in overrides]
    if fixed:
        raise ModelConfigError(f"--set {fixed[0]}: start_from={os.fspath(start_from)!r} fixes it (its weights were "
                               "trained for its value); drop the --set, or train a new run without start_from")


def memory_batch(probe, size):
    """The largest batch at input ``size`` that takes at most :data:`MEMORY_SHARE` of the memory available, scaled
    from the probe's batch by pixels (its whole growth counted per pixel: weights included, so on the safe side);
    ``None`` without a memory measure.

    Example:
        >>> memory_batch({"input": [192, 256], "batch": 4, "memory": {"device": "cpu", "used": 2 * 1024**3,
        ...              "available": 4 * 1024**3}}, [384, 512])
        1
    """
    memory = (probe or {}).get("memory")
    if not memory or not memory.get("used") or not memory.get("available") or not probe.get("batch"):
        return None
    per_pixel = memory["used"] / float(probe["batch"] * probe["input"][0] * probe["input"][1])
    return max(1, int(MEMORY_SHARE * memory["available"] / (per_pixel * size[0] * size[1])))


def expected_epochs(probe, size, budget_s, n_train):
    """Epochs the budget holds at input ``size``, from the probe's images/s (time per image ~ pixels).

    Validation adds 15 % to an epoch (measured on CamVid: 305 training, 62 validation frames).
    """
    pixels = probe["input"][0] * probe["input"][1] / float(size[0] * size[1])
    return budget_s * probe["images_per_second"] * pixels / (1.15 * n_train)


def values(plan):
    """``{decision: value}`` of a plan."""
    return {name: entry["value"] for name, entry in plan.items()}


def plan_table(plan):
    """The plan as lines of text: decision, value, why."""
    width = max(len(name) for name in plan)
    return "\n".join(f"  {name:<{width}}  {_show(entry['value']):<18} {entry['why']}" for name, entry in plan.items())


def parse_overrides(overrides):
    """``{"loss": "ce", "input": "256x256"}`` or ``["loss=ce", ...]`` with each value read as its decision needs.

    Raises:
        ModelConfigError: an unknown name or a value that cannot be read.

    Example:
        >>> parse_overrides(["batch_size=8", "input=256x320", "void=none"])
        {'batch_size': 8, 'input': [256, 320], 'void': None}
    """
    if not isinstance(overrides, dict):
        pairs = {}
        for item in overrides:
            if "=" not in item:
                raise ModelConfigError(f"--set {item!r}: write name=value, e.g. --set loss=ce")
            name, value = item.split("=", 1)
            pairs[name.strip()] = value.strip()
        overrides = pairs
    parsed = {}
    for name, value in overrides.items():
        kind = SETTABLE.get(name)
        if kind is None:
            raise ModelConfigError(f"--set {name}: not a decision of the plan; one of {', '.join(sorted(SETTABLE))}")
        parsed[name] = _read(name, value, kind)
    return parsed


def find_imagenet_mobilenetv2(local_file=None, allow_download=False):
    """The ImageNet MobileNetV2 weights ``fit`` can use: a local file, the Keras cache, ``"imagenet"``, or ``None``."""
    if local_file:
        return os.fspath(local_file)
    cache = os.path.join(os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")), "models",
                         MOBILENETV2_FILE)
    if os.path.isfile(cache):
        return cache
    return "imagenet" if allow_download else None


#: the values a text decision may take
CHOICES = {
    "mode": ("resize", "crop"),
    "precision": ("auto", "float32", "mixed_bfloat16", "mixed_float16"),
    "class_weights": ("none", "enet", "median_frequency", "balanced"),
    "augment": ("none", "flip_scale", "flip_rotate_scale"),
    "flip_tta": ("auto", "true", "false"),
}


def _check_values(settings):
    """Raise a one-line ModelConfigError for a decision outside its range (a ``--set`` typo)."""
    for name, allowed in CHOICES.items():
        if str(settings[name]).lower() not in allowed:
            raise ModelConfigError(f"--set {name}={settings[name]!r}: choose one of {', '.join(allowed)}")
    for name, low, high in (("batch_size", 1, 1024), ("patience", 1, 10**6), ("learning_rate", 1e-9, 10.0),
                            ("val_fraction", 0.01, 0.5), ("rejoin", 0.0, 0.9)):
        if not low <= settings[name] <= high:
            raise ModelConfigError(f"--set {name}={settings[name]!r}: must be between {low:g} and {high:g}")
    from ..losses import get_loss

    try:
        get_loss(settings["loss"], 2)
    except (ValueError, KeyError) as err:
        raise ModelConfigError(f"--set loss={settings['loss']!r}: {err}") from None


def _thinnest_width(fingerprint):
    """The width of the thinnest class with at least :data:`SIGNIFICANT_SHARE` of the pixels (native px)."""
    shares = fingerprint.get("class_pixel_share") or []
    widths = [w for w, share in zip(fingerprint.get("class_width_px") or [], shares) if w and share >= SIGNIFICANT_SHARE]
    return min(widths) if widths else None


def _round32(value):
    return max(MIN_SIDE, int(round(value / 32.0)) * 32)


def _show(value):
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return str(value)


def _read(name, value, kind):
    if not isinstance(value, str):
        return value
    try:
        if kind == "size":
            parts = [int(p) for p in value.lower().replace(",", "x").split("x")]
            parts = parts * 2 if len(parts) == 1 else parts
            if len(parts) == 2 and min(parts) >= 32 and not any(p % 32 for p in parts):
                return parts
        elif kind == "int_or_none":
            return None if value.lower() in ("none", "") else int(value)
        else:
            return kind(value)
    except ValueError:
        pass
    hint = {"size": "HxW, multiples of 32 (e.g. 256x256)", "int_or_none": "a label (e.g. 255) or none"}.get(
        kind, getattr(kind, "__name__", str(kind)))
    raise ModelConfigError(f"--set {name}={value!r}: expected {hint}")
