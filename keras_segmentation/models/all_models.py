"""The original registry ``model_from_name``: the 22 model names mapped to their constructors.

Example:
    >>> from keras_segmentation.models.all_models import model_from_name
    >>> model = model_from_name["unet"](3, input_height=64, input_width=64)
    >>> model.output_shape
    (None, 32, 32, 3)
"""

from .registry import model_from_name

__all__ = ["model_from_name"]
