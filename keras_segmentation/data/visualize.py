"""Colouring masks: the class palette, coloured masks, overlays, legends and dataset previews.

Colours are ``(r, g, b)`` tuples; every image returned is **BGR uint8** (OpenCV
order, ready for ``cv2.imwrite``). Inputs may be grayscale, BGR, BGRA, 8 or 16 bit.

Example:
    >>> seg = visualize_segmentation(labels, image, class_names=["sky", "road"], show_legends=True)
    >>> cv2.imwrite("labels.png", seg)
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

from ..errors import DataLoaderError, ModelConfigError, SizeMismatchError
from .images import READ_COLOR, read_image, read_mask
from .pairing import base_name, get_pairs_from_paths


def _make_class_colors(n=5000, seed=0):
    """The Pascal VOC palette (black, then well separated colours) followed by distinct random colours."""
    colours = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours.append((r, g, b))
    seen = set(colours)
    rng = np.random.default_rng(seed)
    while len(colours) < n:
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if colour not in seen:
            seen.add(colour)
            colours.append(colour)
    return colours


#: 5000 distinct ``(r, g, b)`` class colours: class 0 black, then the Pascal VOC palette.
class_colors = _make_class_colors()

_LEGEND_ROW = 25
_LEGEND_FONT = cv2.FONT_HERSHEY_COMPLEX


def to_display_image(image):
    """A 3-channel BGR uint8 copy of any image (gray, BGRA, 16-bit, float in [0, 1]) for drawing.

    Example:
        >>> to_display_image(np.zeros((4, 4), np.uint16)).shape
        (4, 4, 3)
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) * (255.0 / 65535.0)).round()
    elif image.dtype.kind == "f" and image.size and float(image.max()) <= 1.0:
        image = image * 255.0
    image = np.clip(image, 0, 255).astype(np.uint8) if image.dtype != np.uint8 else image
    image = np.atleast_3d(image)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 2:
        return np.repeat(image[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def get_colored_segmentation_image(seg_arr, n_classes, colors=class_colors):
    """Colour a class-id map: ``(H, W)`` ids -> ``(H, W, 3)`` BGR uint8; ids outside ``[0, n_classes)`` are black.

    Example:
        >>> get_colored_segmentation_image(np.array([[0, 1]]), 2)[0, 1].tolist()   # class 1 = (128, 0, 0) RGB
        [0, 0, 128]
    """
    seg = np.asarray(seg_arr)
    if seg.ndim == 3 and seg.shape[2] == 1:
        seg = seg[:, :, 0]
    n_classes = int(n_classes)
    if n_classes > len(colors):
        raise ModelConfigError(
            f"n_classes={n_classes} but only {len(colors)} colors were given; pass colors= with one (R, G, B) per class"
        )
    lut = np.zeros((n_classes + 1, 3), np.uint8)
    lut[:n_classes] = np.asarray(colors[:n_classes], dtype=np.int64).reshape(-1, 3)[:, ::-1]
    ids = seg.astype(np.int64, copy=False)
    ids = np.where((ids >= 0) & (ids < n_classes), ids, n_classes)
    return lut[ids]


def get_legends(class_names, colors=class_colors):
    """A white legend panel (BGR uint8): one 25-px row per class with its name and colour box.

    Example:
        >>> get_legends(["sky", "road"]).shape[0]       # (2 + 1) rows of 25 px
        75
    """
    names = [str(name) for name in class_names]
    text_width = max((cv2.getTextSize(n, _LEGEND_FONT, 0.5, 1)[0][0] for n in names), default=0)
    box_x = max(100, text_width + 15)
    legend = np.full((len(names) * _LEGEND_ROW + _LEGEND_ROW, box_x + 25, 3), 255, np.uint8)
    for i, (name, colour) in enumerate(zip(names, colors)):
        top = i * _LEGEND_ROW
        cv2.putText(legend, name, (5, top + 17), _LEGEND_FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        r, g, b = (int(c) for c in colour[:3])
        cv2.rectangle(legend, (box_x, top), (box_x + 25, top + _LEGEND_ROW), (b, g, r), -1)
    return legend


def overlay_seg_image(inp_img, seg_img):
    """Blend a coloured mask 50/50 over an image (the mask is resized to the image, nearest).

    Example:
        >>> overlay_seg_image(np.full((2, 2, 3), 200, np.uint8), np.zeros((1, 1, 3), np.uint8))[0, 0].tolist()
        [100, 100, 100]
    """
    image = to_display_image(inp_img)
    seg = to_display_image(seg_img)
    if seg.shape[:2] != image.shape[:2]:
        seg = cv2.resize(seg, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    return ((image.astype(np.uint16) + seg) // 2).astype(np.uint8)


def concat_lenends(seg_img, legend_img):
    """Put ``legend_img`` to the left of ``seg_img`` (the original's spelling, kept).

    Example:
        >>> concat_lenends(np.zeros((10, 20, 3), np.uint8), get_legends(["a"])).shape
        (50, 145, 3)
    """
    seg_img = to_display_image(seg_img)
    height = max(seg_img.shape[0], legend_img.shape[0])
    out = np.full((height, seg_img.shape[1] + legend_img.shape[1], 3), legend_img[0, 0], np.uint8)
    out[: legend_img.shape[0], : legend_img.shape[1]] = legend_img
    out[: seg_img.shape[0], legend_img.shape[1] :] = seg_img
    return out


def visualize_segmentation(
    seg_arr,
    inp_img=None,
    n_classes=None,
    colors=class_colors,
    class_names=None,
    overlay_img=False,
    show_legends=False,
    prediction_width=None,
    prediction_height=None,
):
    """Render a class-id map as a BGR uint8 image, optionally over its input image and with a legend.

    Args:
        seg_arr: ``(H, W)`` class ids.
        inp_img: the input image (any channel count or depth); the result takes its size.
        n_classes: classes to colour; ``None`` colours every id up to ``seg_arr.max()``
            (the original left the highest class black).
        overlay_img: blend the colours 50/50 over ``inp_img``.
        show_legends: add a legend of ``class_names`` on the left.
        prediction_width, prediction_height: resize the result to this size.

    Raises:
        ModelConfigError: ``overlay_img`` without ``inp_img``, ``show_legends``
            without ``class_names``, or fewer ``colors`` than ``n_classes``.

    Example:
        >>> out = visualize_segmentation(np.array([[0, 2]]), n_classes=None)
        >>> out[0, 1].tolist() != [0, 0, 0]
        True
    """
    seg_arr = np.asarray(seg_arr)
    if n_classes is None:
        n_classes = int(seg_arr.max(initial=0)) + 1
    seg_img = get_colored_segmentation_image(seg_arr, n_classes, colors=colors)
    if inp_img is not None:
        inp_img = to_display_image(inp_img)
        seg_img = cv2.resize(seg_img, (inp_img.shape[1], inp_img.shape[0]), interpolation=cv2.INTER_NEAREST)
    if prediction_height is not None and prediction_width is not None:
        size = (int(prediction_width), int(prediction_height))
        seg_img = cv2.resize(seg_img, size, interpolation=cv2.INTER_NEAREST)
        if inp_img is not None:
            inp_img = cv2.resize(inp_img, size)
    if overlay_img:
        if inp_img is None:
            raise ModelConfigError("overlay_img=True needs inp_img, the image to draw the classes over; pass inp_img")
        seg_img = overlay_seg_image(inp_img, seg_img)
    if show_legends:
        if class_names is None:
            raise ModelConfigError("show_legends=True needs class_names; pass one name per class")
        seg_img = concat_lenends(seg_img, get_legends(class_names, colors=colors))
    return seg_img


def render_pair(image, mask, n_classes=None, colors=class_colors, class_names=None):
    """The preview of one pair: ``image | coloured mask | overlay`` (legend on the left with class names).

    Example:
        >>> render_pair(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.uint8)).shape
        (8, 24, 3)
    """
    if n_classes is None:
        n_classes = len(class_names) if class_names else int(np.max(mask, initial=0)) + 1
    image = to_display_image(image)
    coloured = get_colored_segmentation_image(mask, n_classes, colors)
    panel = np.hstack([image, coloured, overlay_seg_image(image, coloured)])
    if class_names:
        panel = concat_lenends(panel, get_legends(class_names, colors))
    return panel


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
            augmentation (see :func:`~keras_segmentation.data.augmentation.get_augmenter`);
            pair ``i`` uses seed ``derive_seed(seed, i)``.
        max_images: only the first ``max_images`` pairs (sorted by name).
        show: also show each preview in a window when a display exists (any key: next, q or Esc: stop).
        size: ``(height, width)`` to resize each pair to before drawing.
        workers: threads rendering and writing.

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
