"""The model zoo: encoders x decoders, the original 22 model names, rebuilding a model from its config.

* :func:`build_model` puts any decoder (FCN-8, FCN-32, SegNet, U-Net, U-Net++,
  LinkNet, PSPNet, DeepLabV3, DeepLabV3+, FPN, UPerNet) on any encoder of
  :func:`list_encoders` (vanilla CNN, VGG, ResNet/ResNetV2, MobileNet v1/v2/v3,
  EfficientNet/V2, ConvNeXt, DenseNet, Xception), with ImageNet weights adapted to any channel count.
* The original names (``keras_segmentation.models.unet.vgg_unet`` ...) and
  ``all_models.model_from_name`` build the original graphs.
* :func:`rebuild_model` rebuilds any model from its ``build_config``. Loading a saved model or a
  checkpoint is :mod:`keras_segmentation.checkpoints`.

Example:
    >>> from keras_segmentation.models import build_model, list_models
    >>> model = build_model("unet", "mobilenetv3small", 12, encoder_weights=None)
    >>> model.normalization
    'none'
    >>> len([row for row in list_models() if row["builder"] == "legacy"])
    22
"""

from ..backend import check_backend

check_backend()  # a missing backend package: one line here, not Keras' import traceback

from .build import build_model  # noqa: E402
from .encoders import build_encoder_model, list_encoders, register_encoder  # noqa: E402
from .flops import count_flops  # noqa: E402
from .layers import AdaptiveAveragePooling2D, ResizeLike  # noqa: E402
from .model_utils import get_segmentation_model, transfer_weights  # noqa: E402
from .registry import (  # noqa: E402
    LEGACY_MODELS,
    count_model,
    list_models,
    model_from_name,
    rebuild_model,
    resolve_model,
)
from .segmentation_model import SegmentationModel  # noqa: E402
from .weights import DEFAULT_ENCODER_WEIGHTS  # noqa: E402

__all__ = [
    "SegmentationModel",
    "build_model",
    "resolve_model",
    "list_models",
    "list_encoders",
    "register_encoder",
    "build_encoder_model",
    "rebuild_model",
    "count_model",
    "count_flops",
    "get_segmentation_model",
    "transfer_weights",
    "model_from_name",
    "LEGACY_MODELS",
    "DEFAULT_ENCODER_WEIGHTS",
    "ResizeLike",
    "AdaptiveAveragePooling2D",
]
