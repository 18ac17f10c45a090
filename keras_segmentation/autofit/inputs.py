"""What ``fit`` is given, checked before any work: the folders, their pairs, the classes and the options.

Every problem is a one-line :class:`~keras_segmentation.errors.SegmentationError` raised
before any training.

Example:
    >>> images, masks, names_file = input_folders(None, None, "data")   # doctest: +SKIP
    >>> count_outputs({"mask_values": [0, 1, 255]}, void=255)
    2
"""

import os

from ..data.visualize import class_colors
from ..errors import DataLoaderError, MaskValueError, ModelConfigError


def input_folders(images, masks, data):
    """``(images folder, masks folder, classes file or None)`` from ``fit``'s arguments.

    Example:
        >>> input_folders(None, None, "data")   # doctest: +SKIP
        ('data/images', 'data/annotations', 'data/classes.txt')
    """
    if data is not None:
        if images is not None or masks is not None:
            raise ModelConfigError("give either data= or images= and masks=, not both")
        data = os.fspath(data)
        if not os.path.isdir(data):
            raise DataLoaderError(f"{data}: not a folder (data= wants a folder with images/ and annotations/)")
        images = os.path.join(data, "images")
        masks = next((os.path.join(data, name) for name in ("annotations", "masks")
                      if os.path.isdir(os.path.join(data, name))), None)
        if not os.path.isdir(images) or masks is None:
            raise DataLoaderError(f"{data}: needs images/ and annotations/ (or masks/) folders")
        names = os.path.join(data, "classes.txt")
        return images, masks, names if os.path.isfile(names) else None
    if images is None or masks is None:
        raise ModelConfigError("give images= and masks= (folders), or data=")
    for role, folder in (("images", images), ("masks", masks)):
        if not os.path.isdir(folder):
            raise DataLoaderError(f"{os.fspath(folder)}: {role} folder not found")
    for folder in (masks, os.path.dirname(os.path.abspath(masks))):
        names = os.path.join(folder, "classes.txt")
        if os.path.isfile(names):
            return os.fspath(images), os.fspath(masks), names
    return os.fspath(images), os.fspath(masks), None


def verify_folders(images, masks, n_outputs, void, channels):
    """Check the pairs of ``images``/``masks`` (pairing, mask values, channels; images not decoded) before training.

    Raises:
        SegmentationError: a one-line summary of the problems found.

    Example:
        >>> verify_folders("data/images", "data/masks", n_outputs=12, void=11, channels=3)   # doctest: +SKIP
    """
    from ..data.verify import verify_dataset

    verify_dataset(images, masks, n_outputs, ignore_index=void, channels=channels, decode_images=False).raise_for_problems()


def count_outputs(fingerprint, void, class_names=None):
    """Model outputs: every mask value but ``void`` is a class; a small void id (CamVid's 11) gets an unused output.

    Raises:
        MaskValueError: fewer than two classes are left (0/255 masks: 255 would be void).

    Example:
        >>> count_outputs({"mask_values": [0, 1, 2, 11]}, void=11)
        12
    """
    values = [v for v in fingerprint["mask_values"] if v != void]
    if len(values) < 2:
        raise MaskValueError(f"the masks hold only the values {fingerprint['mask_values']}: fewer than two classes "
                             "to learn; binary masks must store 0 and 1 (in a 0/255 mask, 255 is taken as void)")
    n = max(values) + 1
    if n > 32 and n > 4 * len(values):
        raise MaskValueError(f"the masks hold the values {_short(values)}: {max(values)} would make {n} classes; "
                             f"if {max(values)} marks pixels to ignore, set void={max(values)}, else store class ids "
                             "0, 1, 2, ...")
    if class_names:
        n = max(n, len(class_names) - (1 if void == len(class_names) - 1 else 0))
    if void is not None and void < 64:
        n = max(n, void + 1)
    return n


def _short(values, limit=8):
    shown = ", ".join(str(v) for v in values[:limit])
    return f"{{{shown}{', ...' if len(values) > limit else ''}}}"


def output_names(names, n_outputs):
    """One name per model output: ``names``, then the class numbers of the outputs they leave unnamed.

    Example:
        >>> output_names(["sky", "road"], 4)
        ['sky', 'road', '2', '3']
    """
    names = list(names or [])
    return (names + [str(c) for c in range(len(names), n_outputs)])[:n_outputs]


def output_colors(fingerprint, n_outputs):
    """``[r, g, b]`` per model output from the colours the data carries (the fingerprint's), or ``None`` without.

    An output beyond the data's classes gets the void's colour if it is the void slot, else the library's palette colour.

    Example:
        >>> output_colors({"class_colors": [[0, 0, 0], [9, 9, 9]], "void": 3, "void_color": [1, 2, 3]}, 4)[2:]
        [[0, 128, 0], [1, 2, 3]]
    """
    colours = fingerprint.get("class_colors")
    if not colours:
        return None
    void, void_colour = fingerprint.get("void"), fingerprint.get("void_color")
    return [list(colours[i]) if i < len(colours) else list(void_colour) if i == void and void_colour
            else list(class_colors[i]) for i in range(n_outputs)]


def whole_number(value, name):
    """``value`` as an int of at least 1, or a one-line :class:`ModelConfigError` naming the argument ``name``.

    Example:
        >>> whole_number("30", "epochs")
        30
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ModelConfigError(f"{name}={value!r}: must be a whole number") from None
    if number < 1:
        raise ModelConfigError(f"{name}={value!r}: must be at least 1")
    return number


def start_distribution(distribute):
    """The :class:`~keras_segmentation.training.distribute.Replication` ``fit`` trains under, or ``None`` for one device.

    ``"mirrored"`` and ``"multi_worker"`` start their strategy here, before TensorFlow runs anything
    (multi-worker TensorFlow must); a strategy or distribution object is taken as it is.

    Raises:
        ModelConfigError: an unknown name, or several JAX processes (their budget and plan are not shared).

    Example:
        >>> start_distribution(None) is None
        True
    """
    from ..training.distribute import resolve

    replication = resolve(distribute)
    if replication is not None and replication.workers > 1 and not replication.is_tensorflow:
        raise ModelConfigError(f"distribute={distribute!r}: fit on several JAX processes is not supported; use the "
                               "TensorFlow backend with distribute='multi_worker'")
    return replication
