"""Scoring a model on image/mask pairs at the images' own resolution: ``evaluate``.

``evaluate`` accumulates one confusion matrix at the original resolution and
returns the original keys (``frequency_weighted_IU``, ``mean_IU``,
``class_wise_IU``) plus pixel accuracy, mean class accuracy and Dice
(see :mod:`keras_segmentation.evaluation.metrics`).

Example:
    >>> from keras_segmentation.evaluation import evaluate
    >>> evaluate(checkpoints_path="ckpt/vgg_unet_1", inp_images_dir="imgs/", annotations_dir="masks/")["mean_IU"]
"""

from ..data.images import check_mask_values, read_mask
from ..data.pairing import get_pairs_from_paths
from ..errors import ModelConfigError, SizeMismatchError
from ..inference.predictor import Predictor, model_or_checkpoint, progress_bar
from ..models.saving import read_config
from .metrics import ConfusionMatrix


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
    **window,
):
    """Score predictions against masks at the original resolution; returns a dict of metrics.

    Give lists (``inp_images``, ``annotations``) or folders (``inp_images_dir``,
    ``annotations_dir``). ``ignore_index`` defaults to the one used in training
    when loading from a checkpoint. When it is one of the model's class ids
    (CamVid's void, 11), that class is never scored: a pixel predicted as it is a
    miss of its true class, and it is left out of every mean (see
    :mod:`keras_segmentation.evaluation.metrics`). ``mode="slide"``, ``tile``,
    ``overlap``, ``blend``, ``tta`` and ``scales`` are those of
    :class:`~keras_segmentation.inference.predictor.Predictor`.
    """
    model_given = model is not None
    model = model_or_checkpoint(model, checkpoints_path)
    if ignore_index is None and not model_given and checkpoints_path is not None:
        ignore_index = read_config(checkpoints_path).get("ignore_index")
    if inp_images is None:
        if inp_images_dir is None or annotations_dir is None:
            raise ModelConfigError("evaluate needs inp_images + annotations, or inp_images_dir + annotations_dir")
        pairs = get_pairs_from_paths(inp_images_dir, annotations_dir)
        inp_images, annotations = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(inp_images) != len(annotations):
        raise ModelConfigError(f"{len(inp_images)} images but {len(annotations)} annotations")

    matrix = ConfusionMatrix(model.n_classes, ignore_index=ignore_index)
    predictor = Predictor(model, read_image_type, preprocessing, batch_size, workers, flip_tta, **window)
    for result in progress_bar(predictor.run(list(inp_images)), len(inp_images), progress):
        if result.error is not None:
            raise result.error
        truth = read_mask(annotations[result.index], colour_map, strict=True)
        check_mask_values(truth, model.n_classes, ignore_index, annotations[result.index])
        if truth.shape != result.labels.shape:
            raise SizeMismatchError(
                f"{annotations[result.index]}: mask is {truth.shape[1]}x{truth.shape[0]} but the image is "
                f"{result.labels.shape[1]}x{result.labels.shape[0]}"
            )
        matrix.update(truth, result.labels)
    return matrix.scores(class_names=class_names or model.class_names)

