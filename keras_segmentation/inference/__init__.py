"""Inference: the batched predictor, ``predict`` / ``predict_multiple`` / ``predict_video``, output writers.

* :mod:`.predictor`: :class:`Predictor` (batches, reader threads, flip TTA);
* :mod:`.upscale`: probabilities to the image's resolution in bounded memory;
* :mod:`.predict`: :func:`predict`, :func:`predict_multiple`;
* :mod:`.engine_choice`: ``engine="auto"``, the fastest engine with the same labels;
* :mod:`.video`: :func:`predict_video`;
* :mod:`.writers`: output names and files;
* :mod:`.uncertainty_files`: uncertainty heat maps, float32 TIFFs and the per-image scores table.

Example:
    >>> from keras_segmentation.inference import predict_multiple
    >>> predict_multiple(checkpoints_path="ckpt/vgg_unet_1", inp_dir="imgs/", out_dir="preds/")
"""

from .predict import predict, predict_multiple
from .predictor import Prediction, Predictor
from .video import predict_video

__all__ = ["predict", "predict_multiple", "predict_video", "Predictor", "Prediction"]
