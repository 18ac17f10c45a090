"""Writing predictions: output names, never over an input, colour or class-id PNGs.

Example:
    >>> paths = output_paths(["imgs/a.jpg", "imgs/b.jpg"], "preds/")   # ['preds/a.png', 'preds/b.png']
"""

import os

import cv2
import numpy as np

from ..atomic import atomic_write
from ..data.visualize import visualize_segmentation
from ..errors import ModelConfigError, SegmentationError
from .predictor import painting_colors


def output_paths(inps, out_dir):
    """``out_dir/<image name>.png`` for each input (arrays: ``<index>.png``), unique, none an input; creates ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    paths, used = [], set()
    for i, source in enumerate(inps):
        name = f"{os.path.splitext(os.path.basename(os.fspath(source)))[0]}" if not isinstance(source, np.ndarray) else str(i)
        path = os.path.join(out_dir, name + ".png")
        if path in used:
            path = os.path.join(out_dir, f"{name}_{i}.png")
        refuse_overwrite(path, source, "out_dir")
        used.add(path)
        paths.append(path)
    return paths


def refuse_overwrite(path, source, argument="out_fname"):
    """Raise when writing ``path`` would replace the input image ``source``."""
    if isinstance(source, np.ndarray):
        return
    if os.path.abspath(os.fspath(path)) == os.path.abspath(os.fspath(source)):
        raise ModelConfigError(
            f"{os.fspath(path)}: writing the prediction would overwrite this input image; choose another {argument}"
        )


def write_output(path, result, model, colored, overlay_img, class_names, show_legends, colors, width, height):
    """Write one :class:`~keras_segmentation.inference.predictor.Prediction`: colours (``colored``) or class ids."""
    image = render_output(result, model, colored, overlay_img, class_names, show_legends, colors, width, height)
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    extension = os.path.splitext(os.fspath(path))[1] or ".png"
    encoded = encode_image(image, extension, path)
    atomic_write(path, encoded.tofile, durable=False)


def render_output(result, model, colored, overlay_img=False, class_names=None, show_legends=False, colors=None,
                  width=None, height=None):
    """The image :func:`write_output` writes for ``result``: BGR colours (``colored``; ``colors`` by default the
    model's run or preset folder's, else the library's palette: :func:`~.predictor.painting_colors`) or the class-id
    label map.

    Example:
        >>> render_output(result, model, colored=True, overlay_img=True).shape    # doctest: +SKIP
        (360, 480, 3)
    """
    if colored:
        return visualize_segmentation(
            result.labels,
            result.image,
            n_classes=model.n_classes,
            colors=painting_colors(model, colors),
            class_names=class_names or model.class_names,
            overlay_img=overlay_img,
            show_legends=show_legends,
            prediction_width=width,
            prediction_height=height,
        )
    image = result.labels
    if width and height:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)
    return image


def encode_image(image, extension=".png", name="the prediction"):
    """``image`` encoded as an ``extension`` file (a uint8 array of its bytes).

    Raises:
        SegmentationError: OpenCV cannot encode it so (``name`` says which output).
    """
    ok, encoded = cv2.imencode(extension, np.ascontiguousarray(image))
    if not ok:
        raise SegmentationError(f"{name}: cannot encode the prediction as {extension}")
    return encoded


def check_shard(shard):
    """``shard=(index, count)`` as two ints with ``0 <= index < count``.

    Example:
        >>> check_shard((1, 3))
        (1, 3)
    """
    try:
        index, count = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise ModelConfigError(f"shard={shard!r}: expected (index, count), e.g. (0, 4)") from None
    if count < 1 or not 0 <= index < count:
        raise ModelConfigError(f"shard={shard!r}: index must be in 0..count-1 and count at least 1")
    return index, count

