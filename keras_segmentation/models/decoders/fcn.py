"""FCN-8s and FCN-32s (Long et al., 2015, https://arxiv.org/abs/1411.4038): the decoders and the original FCN names.

* :func:`fcn_decoder` (``build_model("fcn_8" / "fcn_32", ...)``): fc6 / fc7
  convolutions on P5 (``fc_filters``, default 512, kernel ``fc_kernel``), a 1x1
  class scorer, then transposed convolutions with ``"same"`` padding: x2 and add
  the scored P4 and P3 (FCN-8), and a final xstride upsampling to the input size.
* :func:`legacy_fcn_decoder` (``fcn_8``, ``fcn_32_vgg``, ...): the original
  graph: 4096-filter 7x7 and 1x1 convolutions with dropout, ``"valid"``
  transposed convolutions and the original bottom/right crops, so the output
  overshoots the input (424x616 for 416x608 with FCN-8); ``seg_feats`` is the
  last ``Add`` (FCN-8) or the 1x1 scorer (FCN-32).

The original names (re-exported by :mod:`keras_segmentation.models.fcn`) are
declared here: ``fcn_8`` and ``fcn_32`` (the encoder is their second argument:
an original encoder function or a registry name, vanilla by default) and
``fcn_8_vgg`` ... ``fcn_32_mobilenet``. They build the original graph by default;
``full_resolution=True`` centre-crops the output to the input size.

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> image = keras.Input((64, 64, 3))
    >>> fcn_decoder(build_vanilla(image), image, 4, skips=("P4", "P3")).x.shape
    (None, 64, 64, 4)
    >>> fcn_8(3, input_height=64, input_width=64).output_shape
    (None, 72, 72, 3)
"""

from keras import layers

from ..head import DecoderOutput
from ..layers import resize_like
from ..legacy_models import Architecture, legacy_constructor

__all__ = [
    "fcn_decoder", "crop", "legacy_fcn_decoder", "FCN_8", "FCN_32", "CONSTRUCTORS", "fcn_8", "fcn_32", "fcn_8_vgg",
    "fcn_32_vgg", "fcn_8_resnet50", "fcn_32_resnet50", "fcn_8_mobilenet", "fcn_32_mobilenet",
]


def _fc_layers(x, filters, kernel, dropout, legacy):
    x = layers.Conv2D(filters, (kernel, kernel), activation="relu", padding="same", name=None if legacy else "fc6")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv2D(filters, (1, 1), activation="relu", padding="same", name=None if legacy else "fc7")(x)
    return layers.Dropout(dropout)(x)


def fcn_decoder(
    pyramid, inputs, n_classes, *, skips=("P4", "P3"), strides=None, fc_filters=512, fc_kernel=3, dropout=0.5
):
    """FCN decoder returning class scores at the input's stride-1 resolution.

    Args:
        pyramid: encoder pyramid.
        inputs: the image input.
        n_classes: number of classes.
        skips: shallower levels fused in (``("P4", "P3")`` for FCN-8, ``()`` for FCN-32).
        strides: stride of each level (default ``2**k``).
        fc_filters, fc_kernel, dropout: the fc6/fc7 block.
    """
    strides = strides or {f"P{k}": 2**k for k in range(1, 6)}
    x = _fc_layers(pyramid["P5"], fc_filters, fc_kernel, dropout, legacy=False)
    x = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name="score_P5")(x)
    level = "P5"
    for skip in skips:
        factor = max(1, strides[level] // strides[skip])
        if factor > 1:
            x = layers.Conv2DTranspose(
                n_classes, 2 * factor, strides=factor, padding="same", use_bias=False, name=f"upscore_{skip}"
            )(x)
        x = resize_like(x, pyramid[skip])
        scored = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name=f"score_{skip}")(pyramid[skip])
        x = layers.Add(name="seg_feats" if skip == skips[-1] else f"fuse_{skip}")([x, scored])
        level = skip
    factor = strides[level]
    x = layers.Conv2DTranspose(
        n_classes, 2 * factor, strides=factor, padding="same", use_bias=False, name="upscore_final"
    )(x)
    return DecoderOutput(resize_like(x, inputs), logits=True)


def crop(o1, o2, i=None, larger_if_unknown=0):
    """The original ``crop``: cut the bottom/right of whichever of ``o1`` / ``o2`` is larger.

    ``i`` (the model input) is accepted for compatibility and unused. When the
    sizes are unknown (``None`` input size), the tensor ``larger_if_unknown``
    (0: ``o1``, 1: ``o2``, the transposed convolution's output) is cut by the
    2 pixels a k=4, s=2 transposed convolution overshoots by.
    """

    def amount(a, b):
        return abs(a - b) if a is not None and b is not None else 2

    def first_larger(a, b):
        return a > b if a is not None and b is not None else larger_if_unknown == 0

    h1, w1 = o1.shape[1], o1.shape[2]
    h2, w2 = o2.shape[1], o2.shape[2]
    cx, cy = amount(w1, w2), amount(h1, h2)
    if first_larger(w1, w2):
        o1 = layers.Cropping2D(cropping=((0, 0), (0, cx)))(o1)
    else:
        o2 = layers.Cropping2D(cropping=((0, 0), (0, cx)))(o2)
    if first_larger(h1, h2):
        o1 = layers.Cropping2D(cropping=((0, cy), (0, 0)))(o1)
    else:
        o2 = layers.Cropping2D(cropping=((0, cy), (0, 0)))(o2)
    return o1, o2


def legacy_fcn_decoder(levels, n_classes, *, fcn8=True):
    """The original FCN-8 (``fcn8=True``) or FCN-32 head on ``levels = [f1, ..., f5]``."""
    f3, f4, f5 = levels[2], levels[3], levels[4]
    o = _fc_layers(f5, 4096, 7, 0.5, legacy=True)
    if not fcn8:
        o = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name="seg_feats")(o)
        o = layers.Conv2DTranspose(n_classes, kernel_size=(64, 64), strides=(32, 32), use_bias=False)(o)
        return DecoderOutput(o, logits=True, crop_margin=16)
    o = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal")(o)
    o = layers.Conv2DTranspose(n_classes, kernel_size=(4, 4), strides=(2, 2), use_bias=False)(o)
    o2 = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal")(f4)
    o, o2 = crop(o, o2)
    o = layers.Add()([o, o2])
    o = layers.Conv2DTranspose(n_classes, kernel_size=(4, 4), strides=(2, 2), use_bias=False)(o)
    o2 = layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal")(f3)
    o2, o = crop(o2, o, larger_if_unknown=1)
    o = layers.Add(name="seg_feats")([o2, o])
    o = layers.Conv2DTranspose(n_classes, kernel_size=(16, 16), strides=(8, 8), use_bias=False)(o)
    return DecoderOutput(o, logits=True, crop_margin=4)


# ============================================================ the original names

#: the original FCN-8s head on ``[f1, ..., f5]``
FCN_8 = Architecture(
    "fcn_8",
    lambda levels, n_classes: legacy_fcn_decoder(levels, n_classes, fcn8=True),
    output_size=lambda h, w: (h + 8, w + 8),
    summary="FCN-8s on the {encoder} encoder; the output overshoots the input by 8 px unless full_resolution.",
)

#: the original FCN-32s head on ``[f1, ..., f5]``
FCN_32 = Architecture(
    "fcn_32",
    lambda levels, n_classes: legacy_fcn_decoder(levels, n_classes, fcn8=False),
    output_size=lambda h, w: (h + 32, w + 32),
    summary="FCN-32s on the {encoder} encoder; the output overshoots the input by 32 px unless full_resolution.",
)

fcn_8 = legacy_constructor("fcn_8", FCN_8, "vanilla", (416, 608), encoder_argument=True)
fcn_32 = legacy_constructor("fcn_32", FCN_32, "vanilla", (416, 608), encoder_argument=True)
fcn_8_vgg = legacy_constructor("fcn_8_vgg", FCN_8, "vgg16", (416, 608))
fcn_32_vgg = legacy_constructor("fcn_32_vgg", FCN_32, "vgg16", (416, 608))
fcn_8_resnet50 = legacy_constructor("fcn_8_resnet50", FCN_8, "resnet50", (416, 608))
fcn_32_resnet50 = legacy_constructor("fcn_32_resnet50", FCN_32, "resnet50", (416, 608))
fcn_8_mobilenet = legacy_constructor("fcn_8_mobilenet", FCN_8, "mobilenet", (224, 224))
fcn_32_mobilenet = legacy_constructor("fcn_32_mobilenet", FCN_32, "mobilenet", (224, 224))

#: the original names declared here, in the original's order
CONSTRUCTORS = (
    fcn_8, fcn_32, fcn_8_vgg, fcn_32_vgg, fcn_8_resnet50, fcn_32_resnet50, fcn_8_mobilenet, fcn_32_mobilenet,
)
