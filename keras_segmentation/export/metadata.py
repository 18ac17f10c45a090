"""The JSON that makes an exported model self-describing, written beside it.

``model.onnx`` gets ``model.onnx.json``; a SavedModel folder gets
``keras_segmentation.json`` inside it (so it travels with the folder). It holds
what a deployer needs to feed the graph and read its outputs: the input size,
channels and their order, the dtype, the normalisation the graph applies, the
output names, the class names, which library and Keras versions wrote it, and the model's calibration
``temperature`` (1: none; the graph's probabilities are the model's own, rescale them as
``softmax(log(p) / temperature)``; the library's runners do: :attr:`ExportedModel.temperature
<keras_segmentation.export.formats.runner.ExportedModel>`).

Example:
    >>> metadata_path("out/model.onnx")
    'out/model.onnx.json'
"""

import json
import os

from ..atomic import atomic_write_text
from ..errors import ExportError
from ..uncertainty import model_temperature
from .contract import INPUT_NAME, LABELS, PROBABILITIES, channel_order, describe_normalization

SAVEDMODEL_METADATA = "keras_segmentation.json"


def metadata_path(path):
    """Where the metadata of the export at ``path`` lives."""
    path = os.fspath(path)
    return os.path.join(path, SAVEDMODEL_METADATA) if os.path.isdir(path) else f"{path}.json"


def describe(model, fmt, precision, labels):
    """The metadata of ``model`` exported as ``fmt`` in ``precision`` (a dict, JSON-ready)."""
    import keras

    from ..version import __version__

    normalization = describe_normalization(model.normalization, model.channels)
    return {
        "format": fmt,
        "precision": precision,
        "model_name": model.model_name or model.name,
        "n_classes": int(model.n_classes),
        "class_names": model.class_names,
        "input": {
            "name": INPUT_NAME,
            "dtype": "uint8",
            "layout": "NHWC",
            "height": model.input_height,
            "width": model.input_width,
            "channels": int(model.channels),
            "channel_order": channel_order(model.channels),
        },
        "normalization": {"name": normalization.pop("name"), "inside_graph": True, **normalization},
        "outputs": {PROBABILITIES: "float32 (N, H, W, n_classes), softmax"}
        | ({LABELS: "int32 (N, H, W), arg-max class ids"} if labels else {}),
        "output_size": [model.output_height, model.output_width],
        "temperature": model_temperature(model),
        "library": {"keras_segmentation": __version__, "keras": keras.__version__},
    }


def write_metadata(path, metadata):
    """Write ``metadata`` beside the export at ``path`` (atomically); returns the JSON's path."""
    target = metadata_path(path)
    atomic_write_text(target, json.dumps(metadata, indent=2) + "\n")
    return target


def read_metadata(path):
    """The metadata beside the export at ``path``, or ``None`` when there is none.

    Raises:
        ExportError: the JSON exists but cannot be parsed.
    """
    source = metadata_path(path)
    if not os.path.exists(source):
        return None
    try:
        with open(source) as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise ExportError(f"{source}: cannot read the export's metadata ({err})") from err
