"""The original ``vanilla_encoder`` (a small 5-block CNN without pretrained weights).

Example:
    >>> from keras_segmentation.models.basic_models import vanilla_encoder
    >>> img_input, levels = vanilla_encoder(64, 64)
    >>> [tuple(f.shape[1:3]) for f in levels]
    [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]
"""

from .legacy_models import legacy_encoder


def vanilla_encoder(input_height=224, input_width=224, channels=3):
    """Return ``(img_input, [f1, ..., f5])`` of the vanilla CNN (registry name ``"vanilla"``)."""
    return legacy_encoder("vanilla", input_height, input_width, None, channels, 1, "vanilla_encoder")


vanilla_encoder.registry_name = "vanilla"
