"""``save_preset``: a model as a preset folder (config, weights, preprocessing, classes, plan, scores, model card).

The folder is written beside its place and renamed into it (:func:`keras_segmentation.atomic.atomic_write_folder`),
so a crash never leaves a half-written preset. What it holds: :mod:`.folder`.

Example:
    >>> from keras_segmentation.presets import save_preset
    >>> save_preset("runs/roads", "presets/roads")                   # a fit run folder: plan and scores too
    'presets/roads'
    >>> model.save_preset("presets/mine", class_names=["sky", "road"])   # doctest: +SKIP
"""

import datetime
import json
import os

from ..atomic import atomic_write_folder
from ..checkpoints import preset_folder as layout
from ..checkpoints.run_folder import class_colors as run_colors
from ..checkpoints.run_folder import is_run_folder
from ..errors import CheckpointError, PresetError
from .load import from_preset


def save_preset(model, preset_dir, *, run_folder=None, class_names=None, colors=None, scores=None, overwrite=False):
    """Save ``model`` as the preset folder ``preset_dir``; returns ``preset_dir``.

    Args:
        model: a library model, or what :func:`~keras_segmentation.presets.from_preset` loads as one (a ``fit``
            run folder, a checkpoint prefix, a ``.keras`` file).
        run_folder: the ``fit`` run folder the model comes from (default: ``model``, when it is one): its plan,
            data fingerprint, scores and prediction options go into the preset.
        class_names: names by class id (default: the model's own, set by ``fit`` and ``train(class_names=)``).
        colors: an ``(r, g, b)`` per class (default: those ``predict`` colours labels with: the class colours of the
            run folder, else the library's palette).
        scores: scores of your own, such as :func:`~keras_segmentation.evaluation.evaluate`'s result.
        overwrite: replace a non-empty folder that is not a preset (an existing preset is replaced anyway).

    Raises:
        PresetError: a file or a non-preset folder at ``preset_dir`` (without ``overwrite``), an exported model,
            class names or colours that do not fit the model, a model its config does not rebuild.
    """
    preset_dir = os.fspath(preset_dir)
    _check_target(preset_dir, overwrite)
    if isinstance(model, (str, os.PathLike)):
        run_folder = model if run_folder is None and is_run_folder(model) else run_folder
        model = from_preset(model)
    if not (hasattr(model, "get_weights") and hasattr(model, "build_config")):
        raise PresetError(f"{getattr(model, 'path', type(model).__name__)}: not a keras-segmentation model (an exported "
                          "model?); give its checkpoint prefix, fit run folder or .keras file")
    if run_folder is not None and not is_run_folder(run_folder):
        raise PresetError(f"run_folder={os.fspath(run_folder)!r}: not a fit run folder (no plan.json)")
    files = preset_files(model, run_folder, class_names, colors, scores, os.path.basename(preset_dir.rstrip(os.sep)))
    config = files[layout.CONFIG_FILE]

    def write(temp):
        os.makedirs(temp)
        _write_weights(model, config, os.path.join(temp, layout.WEIGHTS_FILE), preset_dir)
        for name, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content, indent=1) + "\n"
            with open(os.path.join(temp, name), "w", encoding="utf-8") as handle:
                handle.write(text)

    atomic_write_folder(preset_dir, write)
    return preset_dir


def preset_files(model, run_folder=None, class_names=None, colors=None, scores=None, name="preset"):
    """``{file name: content}`` of a preset of ``model`` but its weights: JSON-ready dicts, and the card's text."""
    import keras

    from ..checkpoints.config import model_config
    from ..evaluation.score_tables import scores_to_json
    from ..export.contract import channel_order, describe_normalization
    from ..version import __version__
    from .card import model_card
    from .fit_run import fit_record

    # a model loaded from a run folder or a preset carries its prediction options: they stay
    record = fit_record(run_folder) if run_folder is not None else {"prediction": dict(getattr(model, "run_options", {}))}
    if scores is not None:
        record["scores"] = dict(record.get("scores") or {}, evaluation=scores_to_json(scores))
    config = model_config(model)
    channels = int(model.channels)
    preprocessor = {
        "input_height": model.input_height, "input_width": model.input_width, "channels": channels,
        "channel_order": channel_order(channels),
        "pixel_scale": "0..255 (uint16 images scaled by 255/65535 first; floats taken as they are)",
        "normalization": describe_normalization(model.normalization, channels),
        "output_height": model.output_height, "output_width": model.output_width, "prediction": record["prediction"],
    }
    metadata = {
        "format": layout.FORMAT, "format_version": layout.FORMAT_VERSION,
        "keras_segmentation_version": __version__, "keras_version": keras.__version__,
        "parameter_count": int(model.count_params()), "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "model_name": model.model_name or model.name, "source": "fit run folder" if run_folder is not None else "model",
        "classes": _classes(model, class_names, run_colors(run_folder) if colors is None and run_folder else colors),
    }
    names = [entry["name"] for entry in metadata["classes"]]
    config["class_names"] = names if None not in names else None
    files = {layout.CONFIG_FILE: config, layout.PREPROCESSOR_FILE: preprocessor, layout.METADATA_FILE: metadata}
    for file, key in ((layout.PLAN_FILE, "plan"), (layout.FINGERPRINT_FILE, "fingerprint"), (layout.SCORES_FILE, "scores")):
        if record.get(key):
            files[file] = record[key]
    files[layout.CARD_FILE] = model_card(name, config, preprocessor, metadata, record.get("plan"),
                                         record.get("fingerprint"), record.get("scores"))
    return files


def _classes(model, class_names, colors):
    """``[{"id", "name", "color"}]`` per class; names ``None`` where unknown."""
    from ..inference.predictor import painting_colors

    n_classes = int(model.n_classes)
    names = class_names if class_names is not None else model.class_names
    if names is not None and len(names) != n_classes:
        raise PresetError(f"class_names: {len(names)} names for a model of {n_classes} classes")
    colors = painting_colors(model, colors)
    if len(colors) < n_classes or not all(_is_colour(c) for c in colors[:n_classes]):
        raise PresetError(f"colors: give an (r, g, b) of 0..255 for each of the {n_classes} classes")
    return [{"id": i, "name": None if names is None else str(names[i]), "color": [int(v) for v in colors[i]]}
            for i in range(n_classes)]


def _is_colour(colour):
    try:
        return len(colour) == 3 and all(0 <= int(v) <= 255 for v in colour)
    except (TypeError, ValueError):
        return False


def _write_weights(model, config, path, preset_dir):
    """The weights of ``model`` (no optimizer state), saved from a model rebuilt from ``config``: a check that the
    preset's config rebuilds it."""
    from ..checkpoints.load import model_from_config

    try:
        clean = model_from_config(config, f"{preset_dir}/{layout.CONFIG_FILE}")
        clean.set_weights(model.get_weights())
    except (CheckpointError, ValueError) as err:
        raise PresetError(f"{preset_dir}: not written, the model's config does not rebuild it "
                          f"({' '.join(str(err).split())})") from None
    clean.save_weights(path)


def _check_target(preset_dir, overwrite):
    """Raise unless ``preset_dir`` is free, an empty folder, a preset, or ``overwrite`` allows replacing it."""
    if not os.path.exists(preset_dir):
        return
    if not os.path.isdir(preset_dir):
        raise PresetError(f"{preset_dir}: a file is in the way; give another folder or remove it")
    if os.listdir(preset_dir) and not layout.is_preset(preset_dir) and not overwrite:
        raise PresetError(f"{preset_dir}: a folder holding other files, not a preset; give an empty or new folder, "
                          "or overwrite=True (--overwrite) to replace it")
