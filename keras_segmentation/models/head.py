"""The segmentation head shared by every model: classifier, resampling, float32 softmax.

Example:
    >>> import keras
    >>> from keras_segmentation.models.head import segmentation_head
    >>> image = keras.Input((64, 64, 3))
    >>> features = keras.layers.Conv2D(8, 3, strides=2, padding="same")(image)
    >>> segmentation_head(features, 5, image, full_resolution=True).shape
    (None, 64, 64, 5)
"""

import dataclasses
from typing import Any

from keras import layers

from .layers import resize_like

__all__ = ["DecoderOutput", "segmentation_head"]


@dataclasses.dataclass
class DecoderOutput:
    """What a decoder hands to the head.

    Args:
        x: the decoder's last feature map (or class scores when ``logits``).
        logits: True when ``x`` already has ``n_classes`` channels (FCN).
        kernel_size: kernel of the classifier convolution.
        classifier_name: layer name of the classifier (``"conv6"`` for PSPNet-50/101).
        upsample: bilinear factor applied after the classifier when the output is
            not brought to full resolution (the original PSPNet's x8).
        crop_margin: the output overshoots the input by this many pixels per
            side when the size is not known statically (the original FCNs); at
            full resolution the output is centre-cropped instead of resized.
    """

    x: Any
    logits: bool = False
    kernel_size: int = 3
    classifier_name: str | None = None
    upsample: int = 1
    crop_margin: int | None = None


def _center_crop(x, inputs, margin):
    out_h, out_w = x.shape[1], x.shape[2]
    in_h, in_w = inputs.shape[1], inputs.shape[2]
    crops = []
    for out_size, in_size in ((out_h, in_h), (out_w, in_w)):
        if out_size is not None and in_size is not None:
            extra = out_size - in_size
            crops.append((extra // 2, extra - extra // 2) if extra > 0 else (0, 0))
        else:
            crops.append((margin, margin))
    if crops == [(0, 0), (0, 0)]:
        return x
    x = layers.Cropping2D(tuple(crops))(x)
    return resize_like(x, inputs)


def segmentation_head(
    x,
    n_classes,
    inputs=None,
    *,
    kernel_size=3,
    logits=False,
    full_resolution=False,
    upsample=1,
    crop_margin=None,
    classifier_name=None,
    name=None,
):
    """Classifier convolution (unless ``logits``), resampling, then a float32 softmax.

    Args:
        x: decoder features (or class scores when ``logits``).
        n_classes: number of classes.
        inputs: the model's image input (needed for ``full_resolution``).
        kernel_size: classifier kernel size.
        logits: ``x`` already holds class scores.
        full_resolution: resize (or, with ``crop_margin``, centre-crop) the
            scores to the input's height and width.
        upsample: bilinear factor used when not at full resolution.
        crop_margin: see :class:`DecoderOutput`.
        classifier_name, name: layer names of the classifier and the softmax.

    Returns:
        ``(batch, h, w, n_classes)`` float32 probabilities.
    """
    if not logits:
        x = layers.Conv2D(n_classes, kernel_size, padding="same", name=classifier_name)(x)
    if full_resolution:
        x = _center_crop(x, inputs, crop_margin) if crop_margin is not None else resize_like(x, inputs)
    elif upsample > 1:
        x = layers.UpSampling2D((upsample, upsample), interpolation="bilinear")(x)
    return layers.Activation("softmax", dtype="float32", name=name)(x)


def apply_head(decoded, n_classes, inputs, full_resolution, name=None):
    """Run :func:`segmentation_head` with the settings of a :class:`DecoderOutput`."""
    return segmentation_head(
        decoded.x,
        n_classes,
        inputs,
        kernel_size=decoded.kernel_size,
        logits=decoded.logits,
        full_resolution=full_resolution,
        upsample=decoded.upsample,
        crop_margin=decoded.crop_margin,
        classifier_name=decoded.classifier_name,
        name=name,
    )
