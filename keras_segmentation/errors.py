"""Exception classes raised by keras-segmentation.

Every error the library raises on purpose is a :class:`SegmentationError`, so a
caller can catch them all with one ``except``; the subclasses say what went wrong.
Messages are one line and name the file (or argument) at fault.

Example:
    >>> from keras_segmentation.errors import SegmentationError
    >>> try:
    ...     raise MaskValueError("masks/a.png: values [255] >= n_classes=2")
    ... except SegmentationError as err:
    ...     print(err)
    masks/a.png: values [255] >= n_classes=2
"""


class SegmentationError(Exception):
    """Base class of every error raised by keras-segmentation."""


class DataLoaderError(SegmentationError):
    """A dataset problem: missing pairs, unreadable files, bad mask values.

    The name is the original library's; the subclasses below refine it.
    """


class PairingError(DataLoaderError):
    """Images and masks do not pair up (missing or ambiguous partners, empty folder)."""


class ImageReadError(DataLoaderError, OSError):
    """A file is missing, empty, corrupt, truncated or not an image."""


class MaskFormatError(DataLoaderError):
    """A mask's format cannot carry class ids (JPEG, RGB colours without a colour map)."""


class MaskValueError(DataLoaderError, ValueError):
    """A mask holds class ids outside ``[0, n_classes)``."""


class SizeMismatchError(DataLoaderError, ValueError):
    """An image and its mask have different sizes."""


class ChannelMismatchError(DataLoaderError, ValueError):
    """An image's channel count does not match what the model expects."""


class ConvertError(DataLoaderError):
    """A labelling tool's export cannot be converted (bad JSON, unknown label or colour, missing image or package)."""


class AugmentationError(DataLoaderError, ValueError):
    """An augmentation name or custom augmentation cannot be used."""


class ModelConfigError(SegmentationError, ValueError):
    """A model cannot be built with the given arguments (unknown name, bad size)."""


class InputSizeError(ModelConfigError):
    """The input height/width does not suit the architecture; the message names valid sizes."""


class WeightsError(SegmentationError):
    """Pretrained or saved weights cannot be found or do not fit the model."""


class CheckpointError(SegmentationError):
    """A checkpoint or its ``_config.json`` is missing, malformed or does not fit."""


class OutputWriteError(SegmentationError, OSError):
    """A file could not be written (full disk, no permission); nothing was replaced."""


class CheckpointWriteError(CheckpointError, OutputWriteError):
    """A checkpoint file could not be written (full disk, no permission); the previous one is intact."""


class TrainingError(SegmentationError):
    """Training cannot go on (for example the loss became NaN)."""


class ExportError(SegmentationError):
    """A model cannot be exported, or an exported file cannot be read or run."""


class ParityError(ExportError):
    """An exported model's outputs differ from the Keras model's beyond the tolerance."""


class PresetError(SegmentationError):
    """A preset cannot be saved (a folder in the way) or read, or the Hugging Face Hub download or upload failed."""


class ServeError(SegmentationError):
    """The model server cannot start (no ``[serve]`` extra, a port in use) or refuses a request (an empty, unreadable
    or too large upload); ``status`` is the HTTP status a refused request gets."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = int(status)


class SuggestError(SegmentationError):
    """``suggest`` cannot choose or write: a pool with no readable image, every image already labelled, an ``out``
    folder that holds files, an unknown strategy or pre-label format."""


class BackendError(SegmentationError, ImportError):
    """The Keras backend chosen (``KERAS_BACKEND``, ``keras.json``) is unknown or its package is not installed."""


#: The exception class for each kind of dataset problem that
#: :func:`~keras_segmentation.data.verify.verify_dataset` and
#: :func:`~keras_segmentation.data.pairing.find_pairs` report.
PROBLEM_ERRORS = {
    "missing_mask": PairingError,
    "ambiguous_mask": PairingError,
    "ambiguous_image": PairingError,
    "missing_other_input": PairingError,
    "jpeg_mask": MaskFormatError,
    "mask_format": MaskFormatError,
    "colour_mask": MaskFormatError,
    "unreadable": ImageReadError,
    "size_mismatch": SizeMismatchError,
    "mask_values": MaskValueError,
    "channels": ChannelMismatchError,
}


def problem_error(kinds, mixed=DataLoaderError):
    """The class for problems of the given kinds: the kind's own class when all agree, else ``mixed``.

    Example:
        >>> problem_error(["mask_values", "mask_values"]).__name__
        'MaskValueError'
        >>> problem_error(["mask_values", "unreadable"]).__name__
        'DataLoaderError'
    """
    classes = {PROBLEM_ERRORS.get(kind, mixed) for kind in kinds}
    return classes.pop() if len(classes) == 1 else mixed


def first_line(err):
    """The first line of ``err``'s message (its class name when it has none), for a one-line error of ours.

    Example:
        >>> first_line(ValueError("bad header\n  at byte 12")), first_line(KeyError())
        ('bad header', 'KeyError')
    """
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
