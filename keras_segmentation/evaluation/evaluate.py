"""Scoring a model on image/mask pairs at the images' own resolution: ``evaluate``.

``evaluate`` accumulates one confusion matrix at the original resolution and
returns the original keys (``frequency_weighted_IU``, ``mean_IU``,
``class_wise_IU``) plus pixel accuracy, mean class accuracy and Dice
(see :mod:`keras_segmentation.metrics.confusion`), and each image's mean IoU
(``per_image_mean_IU``). ``report_dir=`` also writes an HTML report
(:mod:`keras_segmentation.evaluation.report`).

Example:
    >>> from keras_segmentation.evaluation import evaluate
    >>> evaluate(checkpoints_path="ckpt/vgg_unet_1", inp_images_dir="imgs/", annotations_dir="masks/")["mean_IU"]
"""

import contextlib
import os

import numpy as np

from ..calibration import ReliabilityCounts, without_temperature
from ..checkpoints.run_folder import is_run_folder
from ..data.masks import check_mask_values, read_mask
from ..data.pairing import get_pairs_from_paths
from ..errors import ModelConfigError, SizeMismatchError
from ..inference.engine_choice import choose_engine
from ..inference.predictor import Predictor, model_or_checkpoint, progress_bar, trained_ignore_index
from ..metrics import ConfusionMatrix
from ..uncertainty import model_temperature, with_temperature
from .report import WorstImages, run_settings, write_report


def evaluate(
    model=None,
    inp_images=None,
    annotations=None,
    inp_images_dir=None,
    annotations_dir=None,
    checkpoints_path=None,
    read_image_type=1,
    *,
    ignore_index=None,
    class_names=None,
    colour_map=None,
    batch_size=2,
    workers=None,
    preprocessing=None,
    progress=True,
    flip_tta=False,
    engine="auto",
    report_dir=None,
    report_images=8,
    **window,
):
    """Score predictions against masks at the original resolution; returns a dict of metrics.

    Give lists (``inp_images``, ``annotations``) or folders (``inp_images_dir``,
    ``annotations_dir``). ``ignore_index`` defaults to the one used in training
    when loading from a checkpoint. When it is one of the model's class ids
    (CamVid's void, 11), that class is never scored: a pixel predicted as it is a
    miss of its true class, and it is left out of every mean (see
    :mod:`keras_segmentation.metrics.confusion`). The other keywords (``batch_size``,
    ``workers``, ``flip_tta``, ``engine``, ``mode="slide"``, ``tile``, ...) are the shared
    options (:mod:`keras_segmentation.options`); ``model`` (an exported file) is that of
    :func:`~keras_segmentation.inference.predict`; ``engine="auto"`` (the default) runs a Keras model on ONNX Runtime
    when that is faster with the same labels (:mod:`keras_segmentation.inference.engine_choice`).

    ``per_image_mean_IU`` holds each image's mean IoU (scored as the whole set's,
    over the classes in its mask or prediction; NaN when no pixel is scored), in
    the order of the images. ``report_dir`` writes ``report_dir/index.html``
    (:mod:`keras_segmentation.evaluation.report`) with the ``report_images`` worst
    images (only those are kept in memory) and the reliability diagrams of the
    probabilities, before and after the model's calibration temperature
    (:mod:`keras_segmentation.calibration`; the report alone makes ``evaluate``
    compute probabilities at the images' resolution).
    """
    folder = model if model is not None else checkpoints_path
    if is_run_folder(folder):  # a fit run folder: its model, and its training history for the report
        model, checkpoints_path = folder, os.path.join(folder, "checkpoints", "model")
    model_given = model is not None
    model = model_or_checkpoint(model, checkpoints_path, engine)
    if ignore_index is None:
        ignore_index = trained_ignore_index(model, None if model_given else checkpoints_path)
    if inp_images is None:
        if inp_images_dir is None or annotations_dir is None:
            raise ModelConfigError("evaluate needs inp_images + annotations, or inp_images_dir + annotations_dir")
        pairs = get_pairs_from_paths(inp_images_dir, annotations_dir)
        inp_images, annotations = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(inp_images) != len(annotations):
        raise ModelConfigError(f"{len(inp_images)} images but {len(annotations)} annotations")

    options = dict(read_image_type=read_image_type, preprocessing=preprocessing, batch_size=batch_size,
                   workers=workers, flip_tta=flip_tta, **window)
    if engine == "auto":
        model = choose_engine(model, list(inp_images), options, say=print if progress else None)[0]
    matrix = ConfusionMatrix(model.n_classes, ignore_index=ignore_index)
    per_image = np.full(len(inp_images), np.nan)
    worst = WorstImages(report_images if report_dir is not None else 0)
    # the report's reliability diagrams need the probabilities: the model's own (its temperature set aside, so
    # both "before" and "after" are known), then at its temperature
    temperature = model_temperature(model)
    reliability = (ReliabilityCounts(), ReliabilityCounts()) if report_dir is not None else None
    with without_temperature(model) if reliability else contextlib.nullcontext():
        predictor = Predictor(model, **options)
        results = predictor.run(list(inp_images), with_probabilities=reliability is not None)
        for result in progress_bar(results, len(inp_images), progress):
            if result.error is not None:
                raise result.error
            truth = read_mask(annotations[result.index], colour_map, strict=True)
            check_mask_values(truth, model.n_classes, ignore_index, annotations[result.index])
            if truth.shape != result.labels.shape:
                raise SizeMismatchError(
                    f"{annotations[result.index]}: mask is {truth.shape[1]}x{truth.shape[0]} but the image is "
                    f"{result.labels.shape[1]}x{result.labels.shape[0]}"
                )
            image_matrix = ConfusionMatrix(model.n_classes, ignore_index=ignore_index).update(truth, result.labels)
            matrix.merge(image_matrix)
            per_image[result.index] = image_matrix.scores()["mean_IU"]
            worst.add(per_image[result.index], _name(inp_images, result.index), result.image, truth, result.labels)
            if reliability:
                reliability[0].add(result.probabilities, truth, ignore_index)
                if temperature != 1.0:
                    reliability[1].add(with_temperature(result.probabilities, temperature), truth, ignore_index)
    scores = matrix.scores(class_names=class_names or model.class_names)
    scores["per_image_mean_IU"] = per_image
    if report_dir is not None:
        from ..checkpoints.config import read_config
        from ..checkpoints.history import read_history

        config = read_config(checkpoints_path) if checkpoints_path is not None and not model_given else None
        settings = run_settings(predictor.model, config, checkpoints=checkpoints_path, images=inp_images_dir or len(inp_images),
                                annotations=annotations_dir, ignore_index=ignore_index, batch_size=batch_size,
                                read_image_type=read_image_type, flip_tta=flip_tta or None,
                                engine=getattr(model, "engine", None) or "keras", **window)
        history = read_history(checkpoints_path) if checkpoints_path is not None else []
        calibration = (temperature, reliability[0], reliability[1] if temperature != 1.0 else None)
        write_report(report_dir, scores, worst.items(), settings, history, ignore_index, calibration)
    return scores


def _name(sources, index):
    source = sources[index]
    return os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else f"image {index}"

