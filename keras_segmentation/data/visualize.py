"""Colouring masks: the class palette, coloured masks, overlays and legends (dataset previews: :mod:`.preview`).

Colours are ``(r, g, b)`` tuples; every image returned is **BGR uint8** (OpenCV
order, ready for ``cv2.imwrite``). Inputs may be grayscale, BGR, BGRA, 8 or 16 bit.

Example:
    >>> seg = visualize_segmentation(labels, image, class_names=["sky", "road"], show_legends=True)
    >>> cv2.imwrite("labels.png", seg)
"""


import cv2
import numpy as np

from ..errors import ModelConfigError


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
