"""What a plan turns into: the model, the augmentation pipeline, the best-epoch and progress callbacks.

Example:
    >>> model = build_planned_model(values(plan), n_outputs=12, channels=3)
    >>> augment = augmentation(values(plan), channels=3, fill_mask=11)
"""

import os
import time

import keras

from ..atomic import atomic_write
from ..checkpoints import WRITE_OPTIONS
from ..errors import CheckpointError, ModelConfigError
from ..json_files import read_json, write_json
from .folder import DAMAGED
from .plan import ARCHITECTURES


def build_planned_model(settings, n_outputs, channels):
    """The untrained model of ``settings["architecture"]`` at ``settings["input"]`` with ``n_outputs`` classes."""
    from ..models.registry import build_model, model_from_name

    spec = ARCHITECTURES[settings["architecture"]]
    height, width = settings["input"]
    if "model" in spec:
        return model_from_name[spec["model"]](n_outputs, input_height=height, input_width=width, channels=channels)
    return build_model(spec["decoder"], spec["encoder"], n_outputs, height, width, channels,
                       encoder_weights=settings.get("encoder_weights"), full_resolution=True)


def augmentation(settings, channels, fill_mask):
    """The Albumentations pipeline of ``settings["augment"]`` (and the crop of ``mode="crop"``), or ``None``.

    ``flip_scale``: horizontal flips, scale 0.8-1.4 with small shifts and +-5 degrees (the CamVid recipe);
    ``flip_rotate_scale``: also vertical flips and 90-degree rotations; both add mild brightness/contrast
    on 1- and 3-channel images. Pixels moved or padded in from outside get ``fill_mask`` (the void label)
    where there is one, else the border is mirrored. ``none``: no augmentation (crops still apply).
    """
    import albumentations as A
    import cv2

    kind = settings["augment"]
    if kind not in ("none", "flip_scale", "flip_rotate_scale"):
        raise ModelConfigError(f"augment={kind!r}: choose none, flip_scale or flip_rotate_scale")
    steps = []
    border = {"border_mode": cv2.BORDER_CONSTANT, "fill": 0, "fill_mask": fill_mask} if fill_mask is not None \
        else {"border_mode": cv2.BORDER_REFLECT_101}
    if kind != "none":
        steps.append(A.HorizontalFlip(p=0.5))
        if kind == "flip_rotate_scale":
            steps += [A.VerticalFlip(p=0.5)]
            if settings["mode"] == "crop" or settings["input"][0] == settings["input"][1]:
                steps.append(A.RandomRotate90(p=0.5))
        steps.append(A.Affine(scale=(0.8, 1.4), translate_percent={"x": (-0.1, 0.1), "y": (-0.1, 0.1)},
                              rotate=(-5, 5), p=0.8, **border))
        if channels in (1, 3):
            steps.append(A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5))
    if settings["mode"] == "crop":
        height, width = settings["input"]
        steps += [A.PadIfNeeded(height, width, **border), A.RandomCrop(height, width)]
    return A.Compose(steps) if steps else None


class BestEpoch(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best validation mIoU; stops after ``patience`` epochs without one.

    The best weights go to ``weights_path`` and the record (best value, its epoch, epochs seen) to
    ``state_path``, both atomically after every epoch, so a resumed run knows them. An epoch cut short
    (Ctrl-C) is not counted: resuming finishes it. ``monitor=None`` keeps the last epoch's weights
    (training without validation), and never stops.
    """

    def __init__(self, weights_path, state_path, patience, monitor="val_mean_iou"):
        super().__init__()
        self.weights_path, self.state_path = weights_path, state_path
        self.patience, self.monitor = int(patience), monitor
        state = read_json(state_path, CheckpointError, DAMAGED) if os.path.isfile(state_path) else {}
        self.cut_short = False
        self.best = state.get("best")
        self.best_epoch = state.get("best_epoch")
        self.last_epoch = state.get("last_epoch", 0)
        self.early_stopped = state.get("early_stopped", False)

    def on_epoch_begin(self, epoch, logs=None):
        self.cut_short = False

    def on_train_batch_end(self, batch, logs=None):
        self.cut_short = bool(self.model.stop_training)  # Ctrl-C or a NaN loss: this epoch is not a whole one

    def on_epoch_end(self, epoch, logs=None):
        if self.cut_short:
            return
        value = (logs or {}).get(self.monitor) if self.monitor is not None else None
        self.last_epoch = epoch + 1
        if self.monitor is None or value is not None and (self.best is None or float(value) > self.best):
            self.best, self.best_epoch = None if value is None else float(value), epoch + 1
            atomic_write(self.weights_path, self.model.save_weights, **WRITE_OPTIONS)
        if self.best_epoch is not None and self.last_epoch - self.best_epoch >= self.patience:
            self.early_stopped = True
            self.model.stop_training = True
        write_json(self.state_path, {"best": self.best, "best_epoch": self.best_epoch, "last_epoch": self.last_epoch,
                                     "early_stopped": self.early_stopped, "monitor": self.monitor})


class Progress(keras.callbacks.Callback):
    """One line per epoch: epoch, loss, validation mIoU, time left of the budget, best validation mIoU.

    ``label`` starts each line (``"every image: "`` for the epochs after the validated ones); ``after_s``: seconds
    of training planned after this budget's (counted in the time left).
    """

    def __init__(self, budget, best, out=print, label="", after_s=0.0):
        super().__init__()
        self.budget, self.best, self.out, self.label, self.after_s = budget, best, out, label, after_s
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        left = f"  {_clock(self.budget.left() + self.after_s)} left" if self.budget is not None else ""
        best = f"  best val mIoU {100 * self.best.best:.1f} (epoch {self.best.best_epoch})" if self.best.best is not None else ""
        val = f"  val mIoU {100 * logs['val_mean_iou']:.1f}" if "val_mean_iou" in logs else ""
        self.out(f"{self.label}epoch {epoch + 1}  loss {logs.get('loss', float('nan')):.4f}{val}{best}"
                 f"  {time.perf_counter() - self.started:.0f}s{left}", flush=True)


def _clock(seconds):
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
