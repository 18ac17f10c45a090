"""Previews of a dataset: each image beside its coloured mask and the overlay, written to files or shown.

Example:
    >>> visualize_dataset("data/images_prepped_train", "data/annotations_prepped_train",
    ...                   out_dir="preview", class_names=names, max_images=20)
"""

import os
import random
import sys
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ..errors import DataLoaderError, SizeMismatchError
from .images import READ_COLOR, read_image
from .masks import read_mask
from .pairing import base_name, get_pairs_from_paths
from .visualize import class_colors, get_colored_segmentation_image, render_pair, to_display_image


def visualize_dataset(
    images_path,
    segs_path,
    n_classes=None,
    out_dir="dataset_visualization",
    *,
    class_names=None,
    colors=None,
    do_augment=False,
    augmentation_name="aug_all",
    custom_augmentation=None,
    max_images=None,
    show=False,
    seed=0,
    colour_map=None,
    read_image_type=READ_COLOR,
    ignore_non_matching=False,
    size=None,
    workers=None,
):
    """Write one ``image | coloured mask | overlay`` PNG per pair to ``out_dir`` (headless).

    Args:
        n_classes: classes to colour (``None``: the number of ``class_names``, else every id found).
        out_dir: created if missing; files are named after the images (``<base>.png``).
        class_names: names for a legend (list, or anything :func:`load_class_names` reads).
        colors: ``(r, g, b)`` per class (default :data:`class_colors`).
        do_augment, augmentation_name, custom_augmentation: preview the training
            augmentation (:mod:`keras_segmentation.options`,
            :func:`~keras_segmentation.data.augmentation.get_augmenter`); pair ``i`` uses seed
            ``derive_seed(seed, i)``.
        max_images: only the first ``max_images`` pairs (sorted by name).
        show: also show each preview in a window when a display exists (any key: next, q or Esc: stop).
        size: ``(height, width)`` to resize each pair to before drawing.
        read_image_type, workers: the shared options (:mod:`keras_segmentation.options`).

    Returns:
        The list of PNG paths written, in pair order.

    Raises:
        PairingError, ImageReadError, MaskFormatError, SizeMismatchError: bad data
            (run :func:`~keras_segmentation.data.verify.verify_dataset` for a full report);
            colour-coded masks need ``colour_map``. Mask values ``>= n_classes`` are
            drawn black, with a warning naming the masks.

    Example:
        >>> paths = visualize_dataset("imgs", "masks", out_dir="preview", class_names=["bg", "cat"])
    """
    from .class_names import load_class_names

    if class_names is not None and not isinstance(class_names, (list, tuple)):
        class_names = load_class_names(class_names)
    pairs = get_pairs_from_paths(images_path, segs_path, ignore_non_matching=ignore_non_matching)
    if max_images is not None:
        pairs = pairs[: int(max_images)]
    augmenter = None
    if do_augment or custom_augmentation is not None:
        from .augmentation import get_augmenter

        augmenter = get_augmenter(augmentation_name, custom_augmentation)
    os.makedirs(out_dir, exist_ok=True)
    names = _output_names([pair[0] for pair in pairs])
    colors = class_colors if colors is None else colors

    out_of_range = []

    def render(index):
        image, mask = _load_pair(pairs[index], read_image_type, colour_map, size, augmenter, seed, index)
        if n_classes is not None and int(mask.max(initial=0)) >= n_classes:
            out_of_range.append(f"{pairs[index][1]} {[int(v) for v in np.unique(mask) if v >= n_classes][:5]}")
        panel = render_pair(image, mask, n_classes, colors, class_names)
        path = os.path.join(out_dir, names[index])
        ok, encoded = cv2.imencode(".png", panel)
        if not ok:
            raise DataLoaderError(f"{path}: cannot encode the preview as PNG")
        encoded.tofile(path)
        return path

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        paths = list(pool.map(render, range(len(pairs))))
    if out_of_range:
        out_of_range.sort()
        shown = "; ".join(out_of_range[:3]) + (f"; and {len(out_of_range) - 3} more" if len(out_of_range) > 3 else "")
        warnings.warn(
            f"{len(out_of_range)} mask(s) hold values >= n_classes={n_classes}, drawn black: {shown} "
            "(run verify_dataset for the fix)",
            stacklevel=2,
        )
    if show and display_available():
        _show_files(paths)
    return paths


def visualize_segmentation_dataset(
    images_path,
    segs_path,
    n_classes,
    do_augment=False,
    ignore_non_matching=False,
    no_show=False,
    image_size=None,
    augment_name="aug_all",
    custom_aug=None,
    out_dir=None,
):
    """The original's interactive preview: shows each pair in a window (any key: next, q or Esc: stop).

    Headless-safe: with ``out_dir`` (new) the previews are written there instead
    (via :func:`visualize_dataset`); with neither a display nor ``out_dir`` it
    warns and returns. ``image_size`` is ``(width, height)`` as in the original.

    Returns:
        The PNG paths written when ``out_dir`` is given, else an empty list.
    """
    size = None if image_size is None else (int(image_size[1]), int(image_size[0]))
    if out_dir is not None:
        return visualize_dataset(
            images_path, segs_path, n_classes, out_dir, do_augment=do_augment, augmentation_name=augment_name,
            custom_augmentation=custom_aug, show=not no_show, ignore_non_matching=ignore_non_matching, size=size,
        )
    reason = "no_show=True" if no_show else _no_display_reason()
    if reason:
        warnings.warn(
            f"visualize_segmentation_dataset: {reason}, so nothing is shown; pass out_dir= "
            "(or use visualize_dataset) to write the previews to files",
            stacklevel=2,
        )
        return []
    augmenter = None
    if do_augment or custom_aug is not None:
        from .augmentation import get_augmenter

        augmenter = get_augmenter(augment_name, custom_aug)
    pairs = get_pairs_from_paths(images_path, segs_path, ignore_non_matching=ignore_non_matching)
    for index, pair in enumerate(pairs):
        image, mask = _load_pair(pair, READ_COLOR, None, size, augmenter, None, index)
        if not _show(render_pair(image, mask, n_classes), base_name(pair[0])):
            break
    cv2.destroyAllWindows()
    return []


def visualize_segmentation_dataset_one(
    images_path, segs_path, n_classes, do_augment=False, no_show=False, ignore_non_matching=False
):
    """Pick one pair at random; return ``(image, coloured mask)`` (BGR uint8) and show them unless ``no_show``.

    Example:
        >>> img, seg_img = visualize_segmentation_dataset_one("imgs", "masks", 2, no_show=True)
    """
    pairs = get_pairs_from_paths(images_path, segs_path, ignore_non_matching=ignore_non_matching)
    augmenter = None
    if do_augment:
        from .augmentation import get_augmenter

        augmenter = get_augmenter()
    pair = random.Random().choice(pairs)
    image, mask = _load_pair(pair, READ_COLOR, None, None, augmenter, None, 0)
    seg_img = get_colored_segmentation_image(mask, n_classes)
    if not no_show and display_available():
        _show(np.hstack([to_display_image(image), seg_img]), base_name(pair[0]))
        cv2.destroyAllWindows()
    return image, seg_img


def display_available():
    """True when OpenCV can open a window (a GUI build and, on Linux, a display); warns otherwise."""
    reason = _no_display_reason()
    if reason:
        warnings.warn(f"{reason}: nothing is shown", stacklevel=2)
    return reason is None


# ------------------------------------------------------------------ helpers
def _load_pair(pair, read_image_type, colour_map, size, augmenter, seed, index):
    image = read_image(pair[0], read_image_type)
    mask = read_mask(pair[1], colour_map, strict=True)
    if image.shape[:2] != mask.shape[:2]:
        raise SizeMismatchError(
            f"{pair[1]}: mask is {mask.shape[1]}x{mask.shape[0]} but its image {os.path.basename(pair[0])} "
            f"is {image.shape[1]}x{image.shape[0]} (width x height)"
        )
    if size is not None:
        image = np.atleast_3d(cv2.resize(image, (int(size[1]), int(size[0]))))
        mask = cv2.resize(mask, (int(size[1]), int(size[0])), interpolation=cv2.INTER_NEAREST)
    if augmenter is not None:
        from .augmentation import derive_seed

        image, mask, _ = augmenter(image, mask, seed=None if seed is None else derive_seed(seed, index))
    return image, mask


def _no_display_reason():
    """Why no window can be shown, or ``None`` when one can."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY is not set)"
    try:
        cv2.namedWindow("keras_segmentation")
    except cv2.error:
        return "this OpenCV build has no GUI support (opencv-python-headless)"
    return None


def _output_names(image_paths):
    """``<base>.png`` per image; images sharing a base name (``a.png``, ``a.jpg``) add their extension."""
    bases = [base_name(p) for p in image_paths]
    shared = {b for b, count in Counter(bases).items() if count > 1}
    return [
        f"{b}_{os.path.splitext(p)[1][1:].lower()}.png" if b in shared else f"{b}.png"
        for b, p in zip(bases, image_paths)
    ]


def _show(image, title):
    """Show ``image``; False when the user pressed q or Esc."""
    cv2.imshow("keras_segmentation", image)
    cv2.setWindowTitle("keras_segmentation", title)
    return cv2.waitKey(0) & 0xFF not in (ord("q"), 27)


def _show_files(paths):
    for path in paths:
        if not _show(cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR), os.path.basename(path)):
            break
    cv2.destroyAllWindows()
