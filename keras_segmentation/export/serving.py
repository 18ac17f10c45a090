"""Serving layouts: an NVIDIA Triton model repository or a TensorFlow Serving model base path.

``export --serving triton`` writes ``ROOT/NAME/config.pbtxt`` and the model under version 1
(``1/model.onnx`` or ``1/model.savedmodel/``); ``--serving tfserving`` writes the SavedModel under
``ROOT/NAME/1/`` and ``ROOT/models.config``. In both, the input is ``image`` (uint8, NHWC) and the outputs
are ``probabilities`` (float32) and, when exported with labels, ``labels`` (int32); the batch is dynamic.

Example:
    >>> path = serving_model_path("triton", "repo", "camvid_unet", "onnx")
    >>> path
    'repo/camvid_unet/1/model.onnx'
"""

import os

from ..atomic import atomic_write_text
from ..errors import ExportError
from .contract import INPUT_NAME, LABELS, PROBABILITIES

SERVERS = ("triton", "tfserving")
FORMATS = {"triton": ("onnx", "savedmodel"), "tfserving": ("savedmodel",)}
TRITON_PLATFORMS = {"onnx": "onnxruntime_onnx", "savedmodel": "tensorflow_savedmodel"}
VERSION = "1"


def check_serving(server, fmt):
    """One-line error for a server that cannot serve ``fmt``."""
    if server not in SERVERS:
        raise ExportError(f"serving={server!r}: choose one of {', '.join(SERVERS)}")
    if fmt not in FORMATS[server]:
        raise ExportError(f"serving={server!r} serves {' or '.join(FORMATS[server])}, not format={fmt!r}")


def serving_model_path(server, root, name, fmt):
    """Where the model file/folder goes inside the serving layout."""
    folder = os.path.join(root, name, VERSION)
    if server == "tfserving":
        return folder
    return os.path.join(folder, "model.onnx" if fmt == "onnx" else "model.savedmodel")


def triton_config(name, fmt, deployable, max_batch_size=8):
    """The text of Triton's ``config.pbtxt`` for the deployable model exported as ``fmt``."""
    def tensor(tensor_name, dtype, dims):
        shape = ", ".join(str(dim if dim is not None else -1) for dim in dims)
        return f'  {{\n    name: "{tensor_name}"\n    data_type: {dtype}\n    dims: [ {shape} ]\n  }}'

    outputs = [tensor(PROBABILITIES, "TYPE_FP32", deployable.output[PROBABILITIES].shape[1:])]
    if LABELS in deployable.output:
        outputs.append(tensor(LABELS, "TYPE_INT32", deployable.output[LABELS].shape[1:]))
    separator = ",\n"
    return (
        f'name: "{name}"\nplatform: "{TRITON_PLATFORMS[fmt]}"\nmax_batch_size: {max_batch_size}\n'
        f"input [\n{tensor(INPUT_NAME, 'TYPE_UINT8', deployable.input_shape[1:])}\n]\n"
        f"output [\n{separator.join(outputs)}\n]\n"
        "dynamic_batching { }\n"
    )


def tfserving_config(name):
    """The text of TensorFlow Serving's ``models.config`` (the model mounted at ``/models/NAME``)."""
    return (
        "model_config_list {\n  config {\n"
        f'    name: "{name}"\n    base_path: "/models/{name}"\n    model_platform: "tensorflow"\n'
        "  }\n}\n"
    )


def write_serving_config(server, root, name, fmt, deployable):
    """Write the server's configuration file for the layout; returns its path."""
    if server == "triton":
        path, text = os.path.join(root, name, "config.pbtxt"), triton_config(name, fmt, deployable)
    else:
        path, text = os.path.join(root, "models.config"), tfserving_config(name)
    atomic_write_text(path, text)
    return path
