"""Presets: a trained model as one shareable folder, loaded back in one line, on disk or on the Hugging Face Hub.

* :mod:`.folder`: what a preset folder holds (keras-hub's layout: ``config.json``, ``model.weights.h5``,
  ``preprocessor.json``, ``metadata.json``, ...) and reading it as a model, without Keras until then;
* :mod:`.save`: :func:`save_preset` (also ``model.save_preset``), written atomically;
* :mod:`.fit_run`: what a preset keeps of a ``fit`` run folder (plan, data fingerprint, scores);
* :mod:`.card`: the model card, the preset's ``README.md``;
* :mod:`.load`: :func:`from_preset`: a preset, ``hf://org/name``, or anything the library takes as a model;
* :mod:`.hub`: ``hf://`` downloads and :func:`push_to_hub` (the ``[hub]`` extra).

Example:
    >>> from keras_segmentation import from_preset
    >>> from keras_segmentation.presets import push_to_hub, save_preset
    >>> save_preset("runs/roads", "presets/roads")
    >>> push_to_hub("presets/roads", "my-org/roads")
    >>> model = from_preset("hf://my-org/roads")
"""

import importlib

#: Names loaded on first use (name -> module), so that reading a preset folder's files imports no Keras.
_LAZY = {
    "save_preset": "keras_segmentation.presets.save",
    "from_preset": "keras_segmentation.presets.load",
    "push_to_hub": "keras_segmentation.presets.hub",
    "is_preset": "keras_segmentation.checkpoints.preset_folder",
    "load_preset": "keras_segmentation.checkpoints.preset_folder",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
