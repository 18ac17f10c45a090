"""Model-building constants kept from the original library.

``IMAGE_ORDERING`` is the data format every model uses. Only
``"channels_last"`` is supported (the original's channels-first branches were
never tested); the constant stays so code written for the original imports.

Example:
    >>> from keras_segmentation.models.config import IMAGE_ORDERING
    >>> IMAGE_ORDERING
    'channels_last'
"""

IMAGE_ORDERING_CHANNELS_FIRST = "channels_first"
IMAGE_ORDERING_CHANNELS_LAST = "channels_last"
IMAGE_ORDERING = IMAGE_ORDERING_CHANNELS_LAST
