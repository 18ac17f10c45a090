"""Dataset fingerprint: what a dataset's images and masks are like, for the rules that plan training.

Like nnU-Net's fingerprint, :func:`fingerprint_dataset` records the image sizes, channels
and sample type, the mask values and the proposed void (ignore) value, the class shares,
stroke widths and object sizes, how much the classes depend on the position in the image
(sky above road), the groups of related file names (sequences, scenes, patients; :mod:`.split`),
the class colours the data carries (a class names file's colour column, else the palette of
palette PNG masks) and the machine (:mod:`.machine`). Large datasets are sampled: ``max_masks``
pairs, evenly spread. :func:`data_report` is the short report ``fit`` prints of it.

Example:
    >>> fp = fingerprint_dataset(get_pairs_from_paths("camvid/images", "camvid/masks"), class_names)
    >>> fp["void"], fp["n_classes"], fp["groups"]["rule"]
    (11, 11, "prefix before the first '_'")
"""

import os
from collections import defaultdict

import cv2
import numpy as np

from ..data.images import READ_UNCHANGED, read_image
from ..data.masks import mask_palette, read_mask
from ..data.pairing import base_name
from ..data.visualize import class_colors as palette_colors
from ..errors import ChannelMismatchError, PairingError
from .machine import describe_machine
from .split import find_groups, group_sizes

#: Parts of a class name (lower case) that mark the void (ignore) class.
VOID_WORDS = ("void", "unlabel", "ignore", "unknown")
#: Longest side of the masks that widths, object sizes and layout are measured on (nearest downscaling).
STATS_SIDE = 1024
#: Classes the data report lists by name; beyond it, the commonest ones and the rarest.
REPORT_CLASSES = 8


def band_width(mean_distance):
    """The width of a band whose pixels lie ``mean_distance`` from its edge on average (distance transform).

    A band W pixels wide has distances 1, 2, ..., W/2 from its edges: a mean of about (W + 2) / 4.

    Example:
        >>> band_width(4 / 3), band_width(10.0)
        (3.3333333333333335, 38.0)
    """
    return max(1.0, 4.0 * mean_distance - 2.0)


def fingerprint_dataset(pairs, class_names=None, max_masks=400, seed=0, class_colors=None):
    """The fingerprint of a dataset: a JSON-serialisable dict of plain Python values.

    Keys: ``n_images``, ``sampled``, ``image_size`` (``min`` / ``median`` / ``max`` ``[h, w]``
    per axis, ``n_distinct``), ``channels``, ``dtype``, ``mask_values``, ``void``,
    ``void_reason``, ``n_classes``, ``class_pixel_share`` (of the non-void pixels),
    ``class_image_share``, ``void_share``, ``class_width_px`` (the width of the band whose
    mean distance to its edge is the class's, :func:`band_width`; native pixels), ``object_size`` (median connected
    component area / image area), ``top_bottom_difference`` and ``left_right_difference``
    (total-variation distance between the class shares of the two halves), ``groups``
    (:func:`~.split.group_sizes` of the image names), ``class_colors`` (``[r, g, b]`` per class, or ``None``),
    ``void_color`` and ``colors_from`` (where the colours come from, or why there are none; see
    :func:`class_colours`) and ``machine`` (:func:`~.machine.describe_machine`).
    Per-class lists have ``n_classes`` entries; widths and object sizes are ``None`` for a class
    never seen (and for void).

    Args:
        pairs: ``(image, mask)`` paths (extra items, such as other inputs, are ignored).
        class_names: optional names, index = mask value; a name saying void / unlabelled /
            ignore / unknown makes its index the void value.
        max_masks: pairs read at most: an evenly spread sample of the sorted pairs
            (``seed`` sets where it starts); the statistics are over that sample.
        class_colors: ``(r, g, b)`` by class id from a class names file's colour column
            (:func:`~keras_segmentation.data.class_names.load_class_colors`); they take precedence over
            the masks' palette.

    Raises:
        PairingError: ``pairs`` is empty.
        ChannelMismatchError: two sampled images have different channel counts.

    Example:
        >>> fingerprint_dataset([("img/a.png", "masks/a.png")])["mask_values"]
        [0, 1, 255]
    """
    pairs = sorted((os.fspath(pair[0]), os.fspath(pair[1])) for pair in pairs)
    if not pairs:
        raise PairingError("fingerprint_dataset: no image/mask pairs given")
    sample = _even_sample(pairs, max_masks, seed)
    images = _describe_images([image for image, _ in sample])
    masks, palettes = _MaskStatistics(), []
    for _, mask in sample:
        masks.add(read_mask(mask))
        palette = mask_palette(mask)
        if palette is not None:
            palettes.append(palette)
    values = sorted(masks.pixels)
    void, void_reason = propose_void(values, class_names)
    real = [value for value in values if value != void]
    n_classes = max(real) + 1 if real else 0
    if class_names:
        n_classes = max(n_classes, len(class_names) - (1 if void == len(class_names) - 1 else 0))
    rule, keys = find_groups([base_name(image) for image, _ in pairs])
    colours, void_colour, colours_from = class_colours(class_colors, palettes, n_classes, void)
    return {
        "n_images": len(pairs),
        "sampled": len(sample),
        **images,
        "mask_values": values,
        "void": void,
        "void_reason": void_reason,
        "n_classes": n_classes,
        **masks.summary(void, n_classes),
        "groups": group_sizes(rule, keys),
        "class_colors": colours,
        "void_color": void_colour,
        "colors_from": colours_from,
        "machine": describe_machine(),
    }


def propose_void(values, class_names=None):
    """``(void value or None, reason)`` for masks holding ``values``.

    A class name containing void / unlabel / ignore / unknown gives its index; else 255
    when present with every other value below 64; else no void.

    Example:
        >>> propose_void([0, 1, 2, 255])
        (255, '255 is present and every other value is below 64: the usual void value')
    """
    for index, name in enumerate(class_names or ()):
        if any(word in str(name).lower() for word in VOID_WORDS):
            return index, f"class {index} is named {name!r}"
    others = [value for value in values if value != 255]
    if 255 not in values:
        return None, "no class name marks void and no mask holds 255"
    if all(value < 64 for value in others):
        return 255, "255 is present and every other value is below 64: the usual void value"
    return None, f"255 is present but so is {max(others)}, so 255 looks like a class"


def class_colours(given, palettes, n_classes, void):
    """``(colours, void colour, where from)``: ``[r, g, b]`` per class id below ``n_classes`` and for ``void``.

    ``given`` (a class names file's colours by id) comes first; else the palette of the palette PNG masks
    (``palettes``: one list of ``(r, g, b)`` per mask), when they agree on the classes and void and are not
    all gray (class ids stored as gray levels). An id beyond the colours known gets the library's palette
    colour. Without colours: ``(None, None, why)``.

    Example:
        >>> class_colours(None, [[(0, 0, 0), (128, 0, 0)]], 2, None)
        ([[0, 0, 0], [128, 0, 0]], None, 'the palette of the PNG masks')
    """
    ids = list(range(n_classes)) + ([void] if void is not None and void >= n_classes else [])

    def entries(table):
        return [tuple(table[i]) if i < len(table) else None for i in ids]

    if given:
        table, source = given, "the class names file's colour column"
    elif palettes:
        table, source = palettes[0], "the palette of the PNG masks"
        if any(entries(palette) != entries(table) for palette in palettes[1:]):
            return None, None, "none: the palette PNG masks have different colours for the same class"
        if all(colour is None or len(set(colour)) == 1 for colour in entries(table)):
            return None, None, "none: the masks' palette is gray levels (class ids, not colours)"
    else:
        return None, None, "none: no colour column in the class names file, no palette PNG masks"

    def colour(class_id):
        return [int(v) for v in (table[class_id] if class_id < len(table) else palette_colors[class_id])]

    return [colour(i) for i in range(n_classes)], (colour(void) if void is not None else None), source


def data_report(fingerprint, names, images, void=None):
    """The short report of what ``fit`` read from the data (classes, shares, void, sizes, groups).

    Example:
        >>> print(data_report(fingerprint_dataset(pairs), ["background", "road"], "data/images"))   # doctest: +SKIP
        data: 120 images in data/images, median 720x960 (from 720x960 to 720x960), 3 channel(s) uint8
        ...
    """
    size = fingerprint["image_size"]
    shares = [(names[c], share) for c, share in enumerate(fingerprint["class_pixel_share"]) if c < len(names)]
    if len(shares) > REPORT_CLASSES:  # the commonest and the rarest, not a wall of names
        ranked = sorted((item for c, item in enumerate(shares) if c != void), key=lambda item: -item[1])
        shares = ", ".join(f"{name} {100 * share:.1f}%" for name, share in ranked[: REPORT_CLASSES - 2])
        shares = (f"the commonest {shares}, ... {len(ranked) - REPORT_CLASSES + 1} more; the rarest "
                  f"{ranked[-1][0]} {100 * ranked[-1][1]:.1f}%")
    else:
        shares = ", ".join(f"{name} {100 * share:.1f}%" for name, share in shares)
    groups = fingerprint.get("groups") or {}
    sampled = fingerprint.get("sampled", fingerprint["n_images"])
    lines = [
        f"data: {fingerprint['n_images']} images in {images}, median {size['median'][0]}x{size['median'][1]} "
        f"(from {size['min'][0]}x{size['min'][1]} to {size['max'][0]}x{size['max'][1]}), "
        f"{fingerprint['channels']} channel(s) {fingerprint['dtype']}"
        + (f"; statistics from an even sample of {sampled}" if sampled < fingerprint["n_images"] else ""),
        f"classes: {fingerprint['n_classes']} ({shares})",
        f"void: {void if void is not None else 'none'} "
        f"({fingerprint.get('void_reason', '') if void == fingerprint.get('void') else 'set by you'})",
        f"groups: {groups.get('n_groups', 0)} ({groups.get('rule', 'none')})",
    ]
    colours = fingerprint.get("class_colors")
    if colours:
        shown = "; ".join(f"{names[c]} {','.join(map(str, colour))}" for c, colour in enumerate(colours[:3])
                          if c < len(names))
        more = f"; ... {len(colours) - 3} more" if len(colours) > 3 else ""
        lines.append(f"colours: from {fingerprint['colors_from']} ({shown}{more})")
    return "\n".join(lines)


# ============================================================ images and masks


def _even_sample(items, count, seed):
    """At most ``count`` of ``items``, evenly spread, in order; ``seed`` shifts the start within one step."""
    if len(items) <= count:
        return list(items)
    offset = np.random.default_rng(seed).random()
    return [items[int((i + offset) * len(items) / count)] for i in range(count)]


def _describe_images(paths):
    """``image_size``, ``channels`` and ``dtype`` of the images at ``paths`` (all bands read)."""
    sizes, dtypes, first = [], set(), None
    for path in paths:
        image = read_image(path, read_image_type=READ_UNCHANGED)
        sizes.append(image.shape[:2])
        dtypes.add(image.dtype)
        if first is None:
            first = (path, image.shape[2])
        elif image.shape[2] != first[1]:
            raise ChannelMismatchError(
                f"{first[0]} is {first[1]}-channel but {path} is {image.shape[2]}-channel; "
                "every image of a dataset needs the same channel count"
            )
    array = np.array(sizes)
    return {
        "image_size": {
            "min": [int(v) for v in array.min(axis=0)],
            "median": [int(round(v)) for v in np.median(array, axis=0)],
            "max": [int(v) for v in array.max(axis=0)],
            "n_distinct": len(set(sizes)),
        },
        "channels": first[1],
        "dtype": np.result_type(*dtypes).name,
    }


class _MaskStatistics:
    """Per-value sums over masks, turned into per-class statistics once the void value is known."""

    def __init__(self):
        self.masks = 0
        self.pixels = defaultdict(int)  # value -> pixels (native size)
        self.images = defaultdict(int)  # value -> masks holding it
        self.halves = {side: defaultdict(int) for side in ("top", "bottom", "left", "right")}  # value -> pixels
        self.distance = defaultdict(float)  # value -> sum of distances to another value (native pixels)
        self.distance_pixels = defaultdict(int)
        self.areas = defaultdict(list)  # value -> arrays of component area / mask area

    def add(self, mask):
        self.masks += 1
        for value, count in zip(*np.unique(mask, return_counts=True)):
            self.pixels[int(value)] += int(count)
            self.images[int(value)] += 1
        small, scale = _downscale(mask, STATS_SIDE)
        height, width = small.shape
        for value in np.unique(small):
            binary = (small == value).astype(np.uint8)
            # A class filling the mask has no edge: its distances stop at half the longest side.
            distance = np.minimum(cv2.distanceTransform(binary, cv2.DIST_L2, 5), max(height, width) / 2)
            self.distance[int(value)] += float(distance[binary > 0].sum()) * scale
            self.distance_pixels[int(value)] += int(binary.sum())
            _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
            self.areas[int(value)].append(stats[1:, cv2.CC_STAT_AREA] / small.size)
            halves = {
                "top": binary[: height // 2],
                "bottom": binary[height - height // 2 :],
                "left": binary[:, : width // 2],
                "right": binary[:, width - width // 2 :],
            }
            for side, part in halves.items():
                self.halves[side][int(value)] += int(part.sum())

    def summary(self, void, n_classes):
        classes = [c for c in range(n_classes) if c != void]
        real_pixels = sum(self.pixels.get(c, 0) for c in classes)
        total = sum(self.pixels.values())

        def per_class(function, seen):
            return [function(c) if c != void and seen.get(c) else None for c in range(n_classes)]

        return {
            "class_pixel_share": [_number(self.pixels.get(c, 0) / real_pixels) if real_pixels and c != void else 0.0
                                  for c in range(n_classes)],
            "class_image_share": [_number(self.images.get(c, 0) / self.masks) if c != void else 0.0
                                  for c in range(n_classes)],
            "void_share": _number(self.pixels.get(void, 0) / total) if total else 0.0,
            "class_width_px": per_class(lambda c: _number(band_width(self.distance[c] / self.distance_pixels[c])),
                                        self.distance_pixels),
            "object_size": per_class(lambda c: _number(np.median(np.concatenate(self.areas[c]))), self.areas),
            "top_bottom_difference": _difference(self.halves["top"], self.halves["bottom"], classes),
            "left_right_difference": _difference(self.halves["left"], self.halves["right"], classes),
        }


def _downscale(mask, side):
    """``(mask, scale)``: ``mask`` resized (nearest) so its longest side is at most ``side``, and native / new size."""
    height, width = mask.shape
    if max(height, width) <= side:
        return mask, 1.0
    factor = max(height, width) / side
    new_height, new_width = max(1, round(height / factor)), max(1, round(width / factor))
    rows = ((np.arange(new_height) + 0.5) * height / new_height).astype(int)
    columns = ((np.arange(new_width) + 0.5) * width / new_width).astype(int)
    return mask[np.ix_(rows, columns)], max(height, width) / max(new_height, new_width)


def _difference(first, second, classes):
    """Total-variation distance between the class shares of two pixel counts (0 when one side is empty)."""
    a = np.array([first.get(c, 0) for c in classes], dtype=float)
    b = np.array([second.get(c, 0) for c in classes], dtype=float)
    if not a.sum() or not b.sum():
        return 0.0
    return _number(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def _number(value):
    """A plain float with 6 significant digits (short JSON)."""
    return float(f"{float(value):.6g}")


