"""``from_preset``: a model from a preset folder, ``hf://org/name``, or anything else the library takes as a model.

Everything but the Hub download goes through the library's one resolver of "a model given as a path",
:func:`keras_segmentation.inference.predictor.model_or_checkpoint`: a preset folder, a ``fit`` run folder,
an exported ``.onnx`` / ``.tflite`` / SavedModel / ``.keras`` file, or a checkpoint prefix.

Example:
    >>> from keras_segmentation import from_preset
    >>> model = from_preset("presets/roads")          # or "hf://my-org/roads", "runs/fit", "ckpt/unet"
    >>> labels = model.predict_segmentation(inp="image.png")
"""

import os

from ..checkpoints.preset_folder import check_preset, is_preset
from ..checkpoints.run_folder import is_run_folder
from ..errors import ExportError, PresetError
from ..export.formats import format_for_path
from ..inference.predictor import model_or_checkpoint
from .hub import download_preset, is_hub_source


def from_preset(source):
    """The model ``source`` names: a preset folder, ``"hf://org/name"``, a ``fit`` run folder, a checkpoint prefix,
    or an exported model (which comes back as the engine that runs it).

    A preset or run folder's prediction options (a ``fit`` run's choice of mode and flip TTA) come as the model's
    ``run_options``, which ``predict`` applies.

    Raises:
        PresetError: nothing at ``source``, a folder that is none of these, no huggingface_hub or no network for
            ``hf://``; the loaders' own one-line errors for a damaged file.
    """
    if is_hub_source(source):
        folder = download_preset(source)
        check_preset(folder, source)
        return model_or_checkpoint(folder, None)
    path = os.fspath(source)
    if os.path.isdir(path) and not (is_preset(path) or is_run_folder(path)):
        try:
            format_for_path(path)  # a SavedModel folder
        except ExportError:
            check_preset(path)  # says what the folder lacks to be a preset
    if os.path.exists(path):
        return model_or_checkpoint(path, None)
    from ..checkpoints.names import config_path

    if not os.path.isfile(config_path(path)):
        raise PresetError(f"{path}: not found (no preset or run folder, exported model or checkpoint "
                          f"{os.path.basename(config_path(path))} there)")
    return model_or_checkpoint(None, path)
