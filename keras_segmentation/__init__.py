"""keras-segmentation: semantic image segmentation with Keras 3.

The successor of the original ``keras_segmentation`` package: same API, on
Keras 3 (TensorFlow by default; JAX and PyTorch work too).

Importing the package is cheap: Keras and TensorFlow load only when a name that
needs them is first used. TensorFlow's native start-up log lines are hidden
when TensorFlow loads after this package (:mod:`keras_segmentation.startup_logs`;
``KERAS_SEGMENTATION_DEBUG=1`` or a ``TF_CPP_MIN_LOG_LEVEL`` of your own shows them).

Example:
    >>> from keras_segmentation.models.unet import vgg_unet
    >>> model = vgg_unet(n_classes=12, input_height=416, input_width=608)
    >>> model.train(train_images="data/images_prepped_train/",
    ...             train_annotations="data/annotations_prepped_train/",
    ...             checkpoints_path="checkpoints/vgg_unet_1", epochs=5)
"""

import importlib
import os

from . import model_methods, startup_logs

# TensorFlow leaves its oneDNN kernels off on CPUs without AVX-512; with them on,
# inference takes about half the CPU time and training about 15 % less here
# (docs/benchmarks.md). Only a default: set TF_ENABLE_ONEDNN_OPTS=0 to opt out.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
startup_logs.install()  # TensorFlow's native start-up lines hidden (unless debugging)

from .version import __version__  # noqa: E402 - after the environment defaults above

# The original API's methods on every model (model.train(...) and others), bound here, at the top, so that the
# model package never imports a pipeline (keras_segmentation.model_methods).
model_methods.bind(
    train="keras_segmentation.training.loop:train",
    predict_segmentation="keras_segmentation.inference.predict:predict",
    predict_multiple="keras_segmentation.inference.predict:predict_multiple",
    predict_video="keras_segmentation.inference.video:predict_video",
    evaluate_segmentation="keras_segmentation.evaluation.evaluate:evaluate",
    save_preset="keras_segmentation.presets.save:save_preset",
)

#: Top-level names, loaded on first use: name -> module that defines it.
_LAZY = {
    "build_model": "keras_segmentation.models",
    "list_models": "keras_segmentation.models",
    "list_encoders": "keras_segmentation.models",
    "load_model": "keras_segmentation.checkpoints.load",
    "train": "keras_segmentation.training",
    "fit": "keras_segmentation.autofit",
    "distill": "keras_segmentation.distillation",
    "predict": "keras_segmentation.inference",
    "predict_multiple": "keras_segmentation.inference",
    "evaluate": "keras_segmentation.evaluation",
    "calibrate": "keras_segmentation.calibration",
    "from_preset": "keras_segmentation.presets.load",
    "save_preset": "keras_segmentation.presets.save",
    "push_to_hub": "keras_segmentation.presets.hub",
    "model_from_checkpoint_path": "keras_segmentation.predict",
    "load_model_from_checkpoint": "keras_segmentation.checkpoints.load",
    "migrate_checkpoint": "keras_segmentation.migrate",
    "verify_dataset": "keras_segmentation.data.verify",
    "visualize_dataset": "keras_segmentation.data.preview",
    "SegmentationError": "keras_segmentation.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_segmentation' has no attribute {name!r}")
