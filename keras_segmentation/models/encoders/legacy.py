"""The original library's encoders, rebuilt layer for layer with their original names.

* ``vanilla``: 5 x [ZeroPad(1), Conv3x3, BN, ReLU, MaxPool2] with 64, 128, 256, 256, 256 filters.
* ``vgg16``: VGG16 without the classifier (``keras.applications.VGG16`` layers:
  ``block1_conv1`` ... ``block5_pool``); the pyramid is the five pooling outputs.
* ``resnet50``: the original's ResNet-50 (``conv1``, ``res2a_branch2a`` ...,
  ``bn5c_branch2c``). P1 is the raw ``conv1`` output and P2 is padded on the top
  and left by one pixel, as in the original. The original's unused trailing
  ``AveragePooling2D((7, 7))``, which broke inputs under 224 px, is gone, and its
  ``Lambda`` crop is a ``ZeroPadding2D(((1, 0), (1, 0)))``.
* ``mobilenet``: MobileNet v1 (alpha 1) with the original's explicit padding
  before every depthwise convolution, ReLU6 as a ``ReLU(max_value=6)`` layer.
* ``resnet50_dilated`` / ``resnet101_dilated``: the Caffe PSPNet ResNets of
  ``pspnet_50`` / ``pspnet_101`` (3-conv stem, dilation 2 and 4 in the last two
  stages, output stride 8) with the layer names of the converted PSPNet weights
  (``conv1_1_3x3_s2`` ... ``conv5_3_1x1_increase_bn``).

Every builder takes the (already created) input tensor and returns the pyramid
``{"P1": ..., "P5": ...}``.

Example:
    >>> import keras
    >>> from keras_segmentation.models.encoders.legacy import build_vanilla
    >>> pyramid = build_vanilla(keras.Input((64, 64, 3)))
    >>> [tuple(pyramid[k].shape[1:]) for k in sorted(pyramid)]
    [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 256), (2, 2, 256)]
"""

import warnings

import keras
from keras import layers

# ======================================================================== vanilla


def build_vanilla(inputs):
    """The original ``vanilla_encoder``: no pretrained weights, any input size."""
    x = inputs
    pyramid = {}
    for level, filters in enumerate((64, 128, 256, 256, 256), start=1):
        x = layers.ZeroPadding2D((1, 1))(x)
        x = layers.Conv2D(filters, (3, 3), padding="valid")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D((2, 2))(x)
        pyramid[f"P{level}"] = x
    return pyramid


# ============================================================================ VGG


def build_vgg16(inputs):
    """VGG16 feature layers (the names match the ImageNet weight files)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "usually expects 1 or 3 input channels"
        vgg = keras.applications.VGG16(
            include_top=False, weights=None, input_tensor=inputs, input_shape=tuple(inputs.shape[1:])
        )
    return {f"P{k}": vgg.get_layer(f"block{k}_pool").output for k in range(1, 6)}


# ======================================================================= ResNet50


def identity_block(x, kernel_size, filters, stage, block):
    """ResNet-50 bottleneck block with an identity shortcut (the original's layer names ``res{stage}{block}_...``)."""
    filters1, filters2, filters3 = filters
    conv_name, bn_name = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    shortcut = x
    x = layers.Conv2D(filters1, (1, 1), name=conv_name + "2a")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2a")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters2, kernel_size, padding="same", name=conv_name + "2b")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2b")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters3, (1, 1), name=conv_name + "2c")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2c")(x)
    x = layers.Add()([x, shortcut])
    return layers.Activation("relu")(x)


def conv_block(x, kernel_size, filters, stage, block, strides=(2, 2)):
    """ResNet-50 bottleneck block with a projection shortcut (strided); the original's layer names."""
    filters1, filters2, filters3 = filters
    conv_name, bn_name = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    inputs = x
    x = layers.Conv2D(filters1, (1, 1), strides=strides, name=conv_name + "2a")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2a")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters2, kernel_size, padding="same", name=conv_name + "2b")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2b")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters3, (1, 1), name=conv_name + "2c")(x)
    x = layers.BatchNormalization(axis=3, name=bn_name + "2c")(x)
    shortcut = layers.Conv2D(filters3, (1, 1), strides=strides, name=conv_name + "1")(inputs)
    shortcut = layers.BatchNormalization(axis=3, name=bn_name + "1")(shortcut)
    x = layers.Add()([x, shortcut])
    return layers.Activation("relu")(x)


def one_side_pad(x):
    """Pad one row on top and one column on the left (the original's pad-then-crop)."""
    return layers.ZeroPadding2D(((1, 0), (1, 0)))(x)


def build_resnet50(inputs):
    """The original ResNet-50 encoder (old Keras layer names)."""
    x = layers.ZeroPadding2D((3, 3))(inputs)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1")(x)
    p1 = x
    x = layers.BatchNormalization(axis=3, name="bn_conv1")(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = conv_block(x, 3, [64, 64, 256], stage=2, block="a", strides=(1, 1))
    for block in "bc":
        x = identity_block(x, 3, [64, 64, 256], stage=2, block=block)
    p2 = one_side_pad(x)

    x = conv_block(x, 3, [128, 128, 512], stage=3, block="a")
    for block in "bcd":
        x = identity_block(x, 3, [128, 128, 512], stage=3, block=block)
    p3 = x

    x = conv_block(x, 3, [256, 256, 1024], stage=4, block="a")
    for block in "bcdef":
        x = identity_block(x, 3, [256, 256, 1024], stage=4, block=block)
    p4 = x

    x = conv_block(x, 3, [512, 512, 2048], stage=5, block="a")
    for block in "bc":
        x = identity_block(x, 3, [512, 512, 2048], stage=5, block=block)
    return {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": x}


def resnet50_keras_name(name):
    """Map an original ResNet-50 layer name to ``keras.applications.ResNet50``'s name (or None)."""
    if name == "conv1":
        return "conv1_conv"
    if name == "bn_conv1":
        return "conv1_bn"
    for prefix, kind in (("res", "conv"), ("bn", "bn")):
        if name.startswith(prefix) and "_branch" in name:
            head, branch = name[len(prefix) :].split("_branch")
            stage, block = head[:-1], head[-1]
            part = {"1": "0", "2a": "1", "2b": "2", "2c": "3"}.get(branch)
            if part is None or not stage.isdigit():
                return None
            return f"conv{stage}_block{ord(block) - ord('a') + 1}_{part}_{kind}"
    return None


# ================================================================ MobileNet (v1)


def _mobilenet_conv_block(x, filters, strides):
    x = layers.ZeroPadding2D(padding=(1, 1), name="conv1_pad")(x)
    x = layers.Conv2D(filters, (3, 3), padding="valid", use_bias=False, strides=strides, name="conv1")(x)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _mobilenet_depthwise_block(x, pointwise_filters, strides=(1, 1), block_id=1):
    x = layers.ZeroPadding2D((1, 1), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3), padding="valid", depth_multiplier=1, strides=strides, use_bias=False, name=f"conv_dw_{block_id}"
    )(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(pointwise_filters, (1, 1), padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def build_mobilenet(inputs):
    """The original MobileNet v1 encoder (alpha 1.0), any input size."""
    x = _mobilenet_conv_block(inputs, 32, strides=(2, 2))
    x = _mobilenet_depthwise_block(x, 64, block_id=1)
    p1 = x
    x = _mobilenet_depthwise_block(x, 128, strides=(2, 2), block_id=2)
    x = _mobilenet_depthwise_block(x, 128, block_id=3)
    p2 = x
    x = _mobilenet_depthwise_block(x, 256, strides=(2, 2), block_id=4)
    x = _mobilenet_depthwise_block(x, 256, block_id=5)
    p3 = x
    x = _mobilenet_depthwise_block(x, 512, strides=(2, 2), block_id=6)
    for block_id in range(7, 12):
        x = _mobilenet_depthwise_block(x, 512, block_id=block_id)
    p4 = x
    x = _mobilenet_depthwise_block(x, 1024, strides=(2, 2), block_id=12)
    x = _mobilenet_depthwise_block(x, 1024, block_id=13)
    return {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": x}


# ===================================================== dilated ResNet (Caffe PSPNet)


def caffe_bn(name):
    """BatchNormalization as in the converted Caffe PSPNet (momentum 0.95, epsilon 1e-5)."""
    return layers.BatchNormalization(momentum=0.95, epsilon=1e-5, name=name)


def _residual_conv(x, level, pad, lvl, sub_lvl, modify_stride=False):
    base = f"conv{lvl}_{sub_lvl}"
    strides = (2, 2) if modify_stride else (1, 1)
    x = layers.Conv2D(64 * level, (1, 1), strides=strides, name=base + "_1x1_reduce", use_bias=False)(x)
    x = caffe_bn(base + "_1x1_reduce_bn")(x)
    x = layers.Activation("relu")(x)
    x = layers.ZeroPadding2D(padding=(pad, pad))(x)
    x = layers.Conv2D(64 * level, (3, 3), dilation_rate=pad, name=base + "_3x3", use_bias=False)(x)
    x = caffe_bn(base + "_3x3_bn")(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(256 * level, (1, 1), name=base + "_1x1_increase", use_bias=False)(x)
    return caffe_bn(base + "_1x1_increase_bn")(x)


def _residual_short(x, level, pad, lvl, sub_lvl, modify_stride=False):
    x = layers.Activation("relu")(x)
    block = _residual_conv(x, level, pad, lvl, sub_lvl, modify_stride)
    strides = (2, 2) if modify_stride else (1, 1)
    short = layers.Conv2D(256 * level, (1, 1), strides=strides, name=f"conv{lvl}_{sub_lvl}_1x1_proj", use_bias=False)(x)
    short = caffe_bn(f"conv{lvl}_{sub_lvl}_1x1_proj_bn")(short)
    return layers.Add()([block, short])


def _residual_empty(x, level, pad, lvl, sub_lvl):
    x = layers.Activation("relu")(x)
    block = _residual_conv(x, level, pad, lvl, sub_lvl)
    return layers.Add()([block, x])


def build_dilated_resnet(inputs, depth):
    """The PSPNet ResNet-50/101 (output stride 8), layer names of the Caffe-converted weights."""
    blocks = {50: 6, 101: 23}[depth]
    x = inputs
    for name, filters, strides in (("conv1_1_3x3_s2", 64, 2), ("conv1_2_3x3", 64, 1), ("conv1_3_3x3", 128, 1)):
        x = layers.Conv2D(filters, (3, 3), strides=strides, padding="same", name=name, use_bias=False)(x)
        x = caffe_bn(name + "_bn")(x)
        x = layers.Activation("relu")(x)
    p1 = x
    x = layers.MaxPooling2D(pool_size=(3, 3), padding="same", strides=(2, 2))(x)

    x = _residual_short(x, 1, pad=1, lvl=2, sub_lvl=1)
    for i in range(2):
        x = _residual_empty(x, 1, pad=1, lvl=2, sub_lvl=i + 2)
    p2 = x
    x = _residual_short(x, 2, pad=1, lvl=3, sub_lvl=1, modify_stride=True)
    for i in range(3):
        x = _residual_empty(x, 2, pad=1, lvl=3, sub_lvl=i + 2)
    p3 = x
    x = _residual_short(x, 4, pad=2, lvl=4, sub_lvl=1)
    for i in range(blocks - 1):
        x = _residual_empty(x, 4, pad=2, lvl=4, sub_lvl=i + 2)
    p4 = x
    x = _residual_short(x, 8, pad=4, lvl=5, sub_lvl=1)
    for i in range(2):
        x = _residual_empty(x, 8, pad=4, lvl=5, sub_lvl=i + 2)
    x = layers.Activation("relu")(x)
    return {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": x}


def BN(name=""):  # noqa: N802 - the original _pspnet_2 name
    """BatchNormalization as in the Caffe model (momentum 0.95, epsilon 1e-5)."""
    return caffe_bn(name or None)


def ResNet(inp, layers):  # noqa: N802 - the original _pspnet_2 name
    """The dilated ResNet body (``layers`` 50 or 101) on tensor ``inp``; returns its last feature map."""
    return build_dilated_resnet(inp, layers)["P5"]
