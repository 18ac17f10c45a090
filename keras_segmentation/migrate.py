"""Bring checkpoints trained with the original library (Keras 2) over: TF-format weights -> this library's files.

The original's ``train(checkpoints_path="ckpt/vgg_unet_1")`` writes
``ckpt/vgg_unet_1_config.json`` and, per epoch, TensorFlow-format weights
``ckpt/vgg_unet_1.N.index`` + ``ckpt/vgg_unet_1.N.data-00000-of-00001`` (0.3.0's
``save_weights(prefix + "." + str(epoch))``, 0-based; master's ``ModelCheckpoint``
writes ``.00005``, 1-based), which Keras 3 cannot read. :func:`migrate_checkpoint`
rebuilds the same legacy model here, copies the variables into it and writes a
checkpoint in this library's format (:mod:`keras_segmentation.checkpoints`),
so ``predict``, ``evaluate`` and ``train(auto_resume_checkpoint=True)`` take
``checkpoints_path=<output prefix>``.

One graph differs between the original's releases: the U-Net decoders
(``unet``, ``vgg_unet``, ``resnet50_unet``, ``mobilenet_unet``) have a ReLU after
each conv on its master branch (this library's default) and none in the 0.3.0
release on PyPI. The weights are the same shapes, so the files cannot tell; the
checkpoint names can: 0.3.0's ``train`` writes ``prefix.0``, ``prefix.1``, ...,
master's ``prefix.00001``, ... . ``original_version`` overrides that guess.

Keras 2 stores a functional model's variables under
``layer_with_weights-K/<name>/.ATTRIBUTES/VARIABLE_VALUE``: K counts the layers
that have weights, in ``model.layers`` order, which is the order of this
library's legacy models too (``bench/migrate_check.py`` checks it against the
original on every model it builds). The copy is by that order; each layer's
variable names and shapes must match, or nothing is written. Optimizer slots are
not copied: training resumed from a migrated checkpoint starts a fresh optimizer.
Reading the files needs TensorFlow (``tf.train.load_checkpoint``), whatever the Keras backend.

Example:
    >>> migrated = migrate_checkpoint("old/vgg_unet_1", "ckpt/vgg_unet_1")   # doctest: +SKIP
    >>> predict(checkpoints_path="ckpt/vgg_unet_1", inp="a.png")              # doctest: +SKIP
"""

import dataclasses
import json
import os
import re
import warnings

from .checkpoints.config import write_config
from .checkpoints.load import model_from_config
from .checkpoints.names import config_path, list_checkpoints, weights_path
from .checkpoints.resume import previous_run
from .checkpoints.weights import save_checkpoint
from .errors import CheckpointError, first_line

_KEY_RE = re.compile(r"layer_with_weights-(\d+)/([^/]+)/\.ATTRIBUTES/VARIABLE_VALUE")
#: Keras 2 variable names that Keras 3 spells differently (DepthwiseConv2D's kernel).
_RENAMED = {"depthwise_kernel": "kernel"}
_REQUIRED = {"model_class": str, "n_classes": int, "input_height": int, "input_width": int}
#: the models whose graph differs between the original's 0.3.0 release and its master branch
_UNETS = ("unet", "vgg_unet", "resnet50_unet", "mobilenet_unet")
ORIGINAL_VERSIONS = ("0.3.0", "master")


@dataclasses.dataclass(frozen=True)
class Migrated:
    """What :func:`migrate_checkpoint` wrote."""

    checkpoints_path: str  #: the new prefix, for ``checkpoints_path=``
    weights_file: str  #: ``<prefix>.NNNNN.weights.h5``
    source: str  #: the original checkpoint read (``prefix.N``)
    epoch: int  #: epochs done (the ``NNNNN`` above)
    layers: int  #: weighted layers copied
    original_version: str  #: ``"0.3.0"`` or ``"master"``: the original graph rebuilt


def migrate_checkpoint(original_prefix, output_prefix=None, epoch=None, original_version=None):
    """Convert an original-library checkpoint into this library's checkpoint files.

    Args:
        original_prefix: the ``checkpoints_path`` the original's ``train`` was given
            (``<prefix>_config.json`` and ``<prefix>.N.index`` beside it).
        output_prefix: the new ``checkpoints_path``; default ``<original_prefix>_migrated``.
            The same prefix as the original works too: the config is rewritten
            (the original still reads it) and the weights go to new file names.
        epoch: the ``N`` of ``<prefix>.N`` to convert (``5`` matches ``.00005``);
            default the newest.
        original_version: ``"0.3.0"`` (the PyPI release) or ``"master"`` (the
            GitHub branch): which original trained it; it matters for the U-Nets
            only. Default: ``"0.3.0"`` for ``prefix.N`` names, ``"master"`` for
            zero-padded ``prefix.0000N``.

    Returns:
        :class:`Migrated`. The weights are saved as epoch ``N + 1`` for 0.3.0's
        0-based ``prefix.N`` and as ``N`` for master's zero-padded ``prefix.0000N``:
        the number of epochs done, as this library counts them.

    Raises:
        CheckpointError: no config or weights, an unknown model, or weights that do
            not fit the model the config describes (naming the first mismatching layer).

    Example:
        >>> migrate_checkpoint("old/unet_1").checkpoints_path   # doctest: +SKIP
        'old/unet_1_migrated'
    """
    original_prefix = os.fspath(original_prefix)
    output_prefix = f"{original_prefix}_migrated" if output_prefix is None else os.fspath(output_prefix)
    config = read_original_config(original_prefix)
    source, number = find_original_checkpoint(original_prefix, epoch)
    padded = len(number) == 5  # master's ModelCheckpoint ".{epoch:05d}" (1-based); 0.3.0: str(epoch), 0-based
    done = int(number) if padded else int(number) + 1
    if original_version is None:
        original_version = "master" if padded else "0.3.0"
    elif original_version not in ORIGINAL_VERSIONS:
        raise CheckpointError(f"original_version={original_version!r}: choose one of {', '.join(ORIGINAL_VERSIONS)}")
    if original_version == "0.3.0" and config["model_class"] in _UNETS:
        kwargs = {k: config[k] for k in ("n_classes", "input_height", "input_width") if k in config}
        kwargs.update(channels=config.get("channels", 3), decoder_activation=None)
        config["build_config"] = {"builder": config["model_class"], "kwargs": kwargs}
    model = model_from_config(config, config_path(original_prefix))
    model.normalization = "sub_mean"  # the original normalised every model this way
    layers = load_original_weights(model, source)
    previous_run(output_prefix, model)  # refuses a prefix that holds another model's checkpoints
    newer = [e for e, _ in list_checkpoints(output_prefix) if e > done]
    if newer:
        warnings.warn(f"{output_prefix}: holds a later epoch ({max(newer)}) than the migrated one ({done}); "
                      "checkpoints_path= loads the newest, so use a new output prefix", stacklevel=2)
    write_config(output_prefix, model, migrated_from=source)
    save_checkpoint(model, output_prefix, done)
    return Migrated(output_prefix, weights_path(output_prefix, done), source, done, layers, original_version)


def read_original_config(original_prefix):
    """``<original_prefix>_config.json`` as written by the original's ``train`` (4 keys at least)."""
    path = config_path(original_prefix)
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not found; --checkpoints_path is the prefix the original's train "
                              "was given") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: cannot be read as JSON ({err})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    bad = [k for k, t in _REQUIRED.items() if not isinstance(config.get(k), t) or isinstance(config.get(k), bool)]
    if bad:
        raise CheckpointError(f"{path}: missing or ill-typed key(s) {', '.join(bad)} (needs {', '.join(_REQUIRED)})")
    # only what the original recorded: the model is rebuilt by name, never from other keys
    keys = ("model_class", "n_classes", "input_height", "input_width", "channels")
    return {k: config[k] for k in keys if k in config}


def find_original_checkpoint(original_prefix, epoch=None):
    """``(path, number text)`` of ``<prefix>.N`` (a ``.index`` beside it); the newest when ``epoch`` is None."""
    folder, stem = os.path.split(original_prefix)
    pattern = re.compile(re.escape(stem) + r"\.(\d+)\.index")
    try:
        names = os.listdir(folder or ".")
    except OSError as err:
        raise CheckpointError(f"{original_prefix}: cannot list {folder or '.'} ({err.strerror or err})") from None
    found = sorted((int(m.group(1)), m.group(1)) for m in map(pattern.fullmatch, names) if m)
    if not found:
        raise CheckpointError(f"{original_prefix}: no TensorFlow-format weights ({stem}.N.index) found; "
                              "only the original's TensorFlow checkpoints are migrated")
    if epoch is not None:
        found = [item for item in found if item[0] == int(epoch)]
        if not found:
            raise CheckpointError(f"{original_prefix}: no {stem}.{int(epoch)}.index (nor zero-padded)")
    return f"{original_prefix}.{found[-1][1]}", found[-1][1]


def load_original_weights(model, checkpoint):
    """Copy a Keras 2 TF-format weights checkpoint into ``model``, layer by layer; returns the layers copied.

    Nothing is assigned unless every layer fits.

    Raises:
        CheckpointError: the checkpoint is unreadable or does not fit ``model``
            (the first mismatching layer, its variables and shapes).

    Example:
        >>> load_original_weights(unet_mini(5, 64, 64), "old/unet_1.0")   # doctest: +SKIP
        11
    """
    try:
        import tensorflow as tf
    except ImportError:
        raise CheckpointError(f"{checkpoint}: reading the original's TensorFlow checkpoints needs TensorFlow "
                              "(pip install tensorflow), whatever the Keras backend") from None
    try:
        reader = tf.train.load_checkpoint(checkpoint)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as err:
        raise CheckpointError(f"{checkpoint}: not a readable TensorFlow checkpoint ({first_line(err)})") from None
    saved = {}
    for key, shape in shapes.items():
        match = _KEY_RE.fullmatch(key)
        if match:
            saved.setdefault(int(match.group(1)), {})[match.group(2)] = (key, tuple(shape))
    ours = weighted_layers(model)
    what = f"{checkpoint}: does not fit {model.model_name or 'the model'}"
    if sorted(saved) != list(range(len(saved))) or len(saved) != len(ours):
        raise CheckpointError(f"{what}: the checkpoint has {len(saved)} layers with weights "
                              f"(layer_with_weights-K keys), the model {len(ours)}")
    plan = []
    for k, layer in enumerate(ours):
        mine = {v.name: v for v in layer.weights}
        theirs = {(n if n in mine else _RENAMED.get(n, n)): item for n, item in saved[k].items()}
        mismatch = set(mine) != set(theirs) or any(tuple(mine[n].shape) != theirs[n][1] for n in mine)
        if mismatch:
            got = ", ".join(f"{n} {theirs[n][1]}" for n in sorted(theirs))
            want = ", ".join(f"{n} {tuple(mine[n].shape)}" for n in sorted(mine))
            raise CheckpointError(f"{what}: layer_with_weights-{k} holds {got} but layer {k} "
                                  f"({layer.name}, {type(layer).__name__}) has {want}")
        plan += [(mine[n], theirs[n][0]) for n in mine]
    for variable, key in plan:
        variable.assign(reader.get_tensor(key))
    return len(ours)


def weighted_layers(model):
    """The layers with weights, in ``model.layers`` order (nested models flattened): Keras 2's K numbering."""
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found += weighted_layers(layer)
        elif layer.weights:
            found.append(layer)
    return found
