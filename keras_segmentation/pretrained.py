"""The original module ``keras_segmentation.pretrained``: the released PSPNet models, kept for imports.

The code lives in :mod:`keras_segmentation.models.weights.releases` (the
release table, the downloads and the loading by layer name).

Example:
    >>> from keras_segmentation.pretrained import pspnet_50_ADE_20K
    >>> model = pspnet_50_ADE_20K("downloads/pspnet50_ade20k.h5")  # doctest: +SKIP
    >>> out = model.predict_segmentation(inp="photo.jpg", out_fname="out.png")  # doctest: +SKIP
"""

from .models.weights.releases import (
    PSPNET_RELEASES,
    load_release,
    load_weights_by_name,
    pspnet_50_ADE_20K,
    pspnet_101_cityscapes,
    pspnet_101_voc12,
)

__all__ = [
    "PSPNET_RELEASES", "pspnet_50_ADE_20K", "pspnet_101_cityscapes", "pspnet_101_voc12", "load_release",
    "load_weights_by_name",
]
