"""Whole pretrained models: the original library's PSPNet releases (Caffe weights converted by Vladkryvoruchko).

Each loader builds the model and loads the released HDF5 file by layer name.
By default the file is downloaded from the original URL (and cached by
``keras.utils.get_file`` in ``~/.keras/datasets``, where the original library
also cached it); pass another URL or the path of a local ``.h5`` copy instead,
e.g. when offline.

| loader | model | input | classes | dataset |
|---|---|---|---|---|
| :func:`pspnet_50_ADE_20K` | ``pspnet_50`` | 473x473 | 150 | ADE20K |
| :func:`pspnet_101_cityscapes` | ``pspnet_101`` | 713x713 | 19 | Cityscapes |
| :func:`pspnet_101_voc12` | ``pspnet_101`` | 473x473 | 21 | Pascal VOC 2012 |

The models expect "caffe" input normalisation (BGR, ImageNet means
subtracted), which ``model.normalization`` records; the original fed them its
"sub_mean" (RGB) images. :mod:`keras_segmentation.pretrained` (the original
module path) re-exports the loaders.

Example:
    >>> from keras_segmentation.pretrained import pspnet_50_ADE_20K
    >>> model = pspnet_50_ADE_20K("downloads/pspnet50_ade20k.h5")  # doctest: +SKIP
    >>> out = model.predict_segmentation(inp="photo.jpg", out_fname="out.png")  # doctest: +SKIP
"""

import os

from ...errors import WeightsError
from ..registry import model_from_name
from .encoder import copy_weights, read_legacy_h5

__all__ = [
    "PSPNET_RELEASES", "pspnet_50_ADE_20K", "pspnet_101_cityscapes", "pspnet_101_voc12", "load_release",
    "load_weights_by_name",
]

#: release name -> (model name, n_classes, (height, width), URL, cached file name)
PSPNET_RELEASES = {
    "pspnet_50_ADE_20K": (
        "pspnet_50",
        150,
        (473, 473),
        "https://www.dropbox.com/s/0uxn14y26jcui4v/pspnet50_ade20k.h5?dl=1",
        "pspnet50_ade20k.h5",
    ),
    "pspnet_101_cityscapes": (
        "pspnet_101",
        19,
        (713, 713),
        "https://www.dropbox.com/s/c17g94n946tpalb/pspnet101_cityscapes.h5?dl=1",
        "pspnet101_cityscapes.h5",
    ),
    "pspnet_101_voc12": (
        "pspnet_101",
        21,
        (473, 473),
        "https://www.dropbox.com/s/uvqj2cjo4b9c5wg/pspnet101_voc2012.h5?dl=1",
        "pspnet101_voc2012.h5",
    ),
}


def _fetch(url, filename):
    import keras

    try:
        return keras.utils.get_file(filename, url)
    except Exception as err:  # noqa: BLE001 - any network failure becomes one WeightsError
        raise WeightsError(
            f"could not download {url} ({type(err).__name__}); download it elsewhere and pass the local .h5 path"
        ) from err


def load_weights_by_name(model, path):
    """Load a weights file into ``model``: legacy HDF5 files by layer name (every weighted layer must be found).

    Raises:
        WeightsError: a layer is missing from the file or its shapes differ.
    """
    entries = read_legacy_h5(path) if str(path).endswith((".h5", ".hdf5")) else None
    if entries is None:
        try:
            model.load_weights(path)
        except Exception as err:  # noqa: BLE001 - a file that does not fit
            raise WeightsError(f"{path}: cannot load it into {model.model_name} ({type(err).__name__}: {err})") from err
        return
    copy_weights(entries, model, what=model.model_name)


def load_release(release, weights=None, input_height=None, input_width=None):
    """Build the model of ``release`` (a key of :data:`PSPNET_RELEASES`) and load its weights.

    Args:
        release: e.g. ``"pspnet_50_ADE_20K"``.
        weights: ``None`` (download from the original URL), another URL, or a local file path.
        input_height, input_width: input size (default: the release's; the
            pooling adapts to any size).

    Raises:
        WeightsError: download failure, missing file, or weights that do not fit.
    """
    model_name, n_classes, (height, width), url, filename = PSPNET_RELEASES[release]
    if weights is None:
        path = _fetch(url, filename)
    elif str(weights).startswith(("http://", "https://")):
        path = _fetch(str(weights), filename)
    else:
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise WeightsError(f"weights file {path} does not exist; the release is at {url}")
    model = model_from_name[model_name](
        n_classes, input_height=input_height or height, input_width=input_width or width
    )
    load_weights_by_name(model, path)
    return model


def pspnet_50_ADE_20K(weights=None, input_height=473, input_width=473):  # noqa: N802 - the original name
    """PSPNet-50 trained on ADE20K (150 classes); ``weights``: None (download), a URL or a local .h5 path."""
    return load_release("pspnet_50_ADE_20K", weights, input_height, input_width)


def pspnet_101_cityscapes(weights=None, input_height=713, input_width=713):
    """PSPNet-101 trained on Cityscapes (19 classes); ``weights``: None (download), a URL or a local .h5 path."""
    return load_release("pspnet_101_cityscapes", weights, input_height, input_width)


def pspnet_101_voc12(weights=None, input_height=473, input_width=473):
    """PSPNet-101 trained on Pascal VOC 2012 (21 classes); ``weights``: None (download), a URL or a local .h5 path."""
    return load_release("pspnet_101_voc12", weights, input_height, input_width)
