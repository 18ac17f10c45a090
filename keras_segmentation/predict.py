"""The original module ``keras_segmentation.predict``; the code lives in :mod:`keras_segmentation.inference`
and :mod:`keras_segmentation.evaluation`.

Example:
    >>> from keras_segmentation.predict import model_from_checkpoint_path, predict, predict_multiple, evaluate
"""

from .checkpoints.load import load_model_from_checkpoint as model_from_checkpoint_path
from .data.visualize import (
    class_colors,
    concat_lenends,
    get_colored_segmentation_image,
    get_legends,
    overlay_seg_image,
    visualize_segmentation,
)
from .evaluation.evaluate import evaluate
from .inference.predict import predict, predict_multiple
from .inference.video import predict_video

__all__ = [
    "model_from_checkpoint_path",
    "predict",
    "predict_multiple",
    "predict_video",
    "evaluate",
    "class_colors",
    "concat_lenends",
    "get_colored_segmentation_image",
    "get_legends",
    "overlay_seg_image",
    "visualize_segmentation",
]
