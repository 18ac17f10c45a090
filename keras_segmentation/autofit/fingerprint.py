"""Dataset fingerprint: what a dataset's images and masks are like, for the rules that plan training.

Like nnU-Net's fingerprint, :func:`fingerprint_dataset` records the image sizes, channels
and sample type, the mask values and the proposed void (ignore) value, the class shares,
stroke widths and object sizes, how much the classes depend on the position in the image
(sky above road), the groups of related file names (sequences, scenes, patients) and the
machine. Large datasets are sampled: ``max_masks`` pairs, evenly spread. Groups let
:func:`validation_split` hold out whole sequences, so neighbouring frames never sit on
both sides of the split.

Example:
    >>> fp = fingerprint_dataset(get_pairs_from_paths("camvid/images", "camvid/masks"), class_names)
    >>> fp["void"], fp["n_classes"], fp["groups"]["rule"]
    (11, 11, "prefix before the first '_'")
    >>> validation_split(["a_1", "a_2", "a_3", "b_1"], ["a", "a", "a", "b"], fraction=0.25, low=0.2, high=0.3)
    ([0, 1, 2], [3], '1 group held out: b (1 of 4 names, 25%)')
"""

import os
import re
import shutil
import subprocess
from collections import defaultdict

import cv2
import numpy as np

from ..data.images import READ_UNCHANGED, read_image
from ..data.masks import read_mask
from ..data.pairing import base_name
from ..errors import ChannelMismatchError, DataLoaderError, PairingError
from ..precision import BF16_CPU_FLAGS, cpu_flags

#: Parts of a class name (lower case) that mark the void (ignore) class.
VOID_WORDS = ("void", "unlabel", "ignore", "unknown")
#: Characters that end a group prefix in a file name (``0016E5_07959``).
SEPARATORS = ("_", "-", " ", ".")
#: Longest side of the masks that widths, object sizes and layout are measured on (nearest downscaling).
STATS_SIDE = 1024
#: Groups a fingerprint lists by name (the largest ones).
MAX_LISTED_GROUPS = 50
#: Random group orders :func:`validation_split` tries when no single group fits.
COMBINATION_TRIES = 32


def band_width(mean_distance):
    """The width of a band whose pixels lie ``mean_distance`` from its edge on average (distance transform).

    A band W pixels wide has distances 1, 2, ..., W/2 from its edges: a mean of about (W + 2) / 4.

    Example:
        >>> band_width(4 / 3), band_width(10.0)
        (3.3333333333333335, 38.0)
    """
    return max(1.0, 4.0 * mean_distance - 2.0)


def fingerprint_dataset(pairs, class_names=None, max_masks=400, seed=0):
    """The fingerprint of a dataset: a JSON-serialisable dict of plain Python values.

    Keys: ``n_images``, ``sampled``, ``image_size`` (``min`` / ``median`` / ``max`` ``[h, w]``
    per axis, ``n_distinct``), ``channels``, ``dtype``, ``mask_values``, ``void``,
    ``void_reason``, ``n_classes``, ``class_pixel_share`` (of the non-void pixels),
    ``class_image_share``, ``void_share``, ``class_width_px`` (the width of the band whose
    mean distance to its edge is the class's, :func:`band_width`; native pixels), ``object_size`` (median connected
    component area / image area), ``top_bottom_difference`` and ``left_right_difference``
    (total-variation distance between the class shares of the two halves), ``groups``
    (:func:`find_groups` of the image names) and ``machine`` (:func:`describe_machine`).
    Per-class lists have ``n_classes`` entries; widths and object sizes are ``None`` for a class
    never seen (and for void).

    Args:
        pairs: ``(image, mask)`` paths (extra items, such as other inputs, are ignored).
        class_names: optional names, index = mask value; a name saying void / unlabelled /
            ignore / unknown makes its index the void value.
        max_masks: pairs read at most: an evenly spread sample of the sorted pairs
            (``seed`` sets where it starts); the statistics are over that sample.

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
    masks = _MaskStatistics()
    for _, mask in sample:
        masks.add(read_mask(mask))
    values = sorted(masks.pixels)
    void, void_reason = propose_void(values, class_names)
    real = [value for value in values if value != void]
    n_classes = max(real) + 1 if real else 0
    if class_names:
        n_classes = max(n_classes, len(class_names) - (1 if void == len(class_names) - 1 else 0))
    rule, keys = find_groups([base_name(image) for image, _ in pairs])
    return {
        "n_images": len(pairs),
        "sampled": len(sample),
        **images,
        "mask_values": values,
        "void": void,
        "void_reason": void_reason,
        "n_classes": n_classes,
        **masks.summary(void, n_classes),
        "groups": _group_sizes(rule, keys),
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


def find_groups(names):
    """``(rule, keys)``: the group key of each name (file names without extension), and the rule used.

    A name whose part after its first separator (``_ - . `` or a space) holds a digit is
    keyed by the part before it (``0016E5_07959`` -> ``0016E5``); any other name by itself
    without its trailing digits (``img001`` -> ``img``). Keys that put every name in one
    group, or each in its own, are no grouping: rule ``"none"``, every key ``""``.

    Example:
        >>> find_groups(["0006R0_f01", "0006R0_f02", "0016E5_07959"])
        ("prefix before the first '_'", ['0006R0', '0006R0', '0016E5'])
    """
    keys, separators, trailing = [], set(), False
    for name in names:
        cut = min((name.index(separator) for separator in SEPARATORS if separator in name), default=-1)
        if cut >= 0 and any(character.isdigit() for character in name[cut + 1 :]):
            keys.append(name[:cut])
            separators.add(name[cut])
        else:
            keys.append(name.rstrip("0123456789"))
            trailing = True
    if len(set(keys)) in (1, len(keys)):
        return "none", [""] * len(keys)
    rules = ["prefix before the first " + " or ".join(repr(s) for s in sorted(separators))] if separators else []
    rules += ["the name without its trailing digits"] if trailing else []
    return ", else ".join(rules), keys


def natural_key(name):
    """Sort key that orders digit runs by value.

    Example:
        >>> sorted(["f10", "f2", "f1"], key=natural_key)
        ['f1', 'f2', 'f10']
    """
    parts = re.split(r"(\d+)", name)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts)), name


def validation_split(names, keys, fraction=0.15, low=0.10, high=0.20, seed=0):
    """``(train_indexes, val_indexes, how)``: positions in ``names`` of each side, and a sentence saying how.

    Whole groups (``keys``, see :func:`find_groups`) are held out when some set of them
    holds between ``low`` and ``high`` of the names: the single group closest to
    ``fraction``, else the closest of greedy combinations (``seed`` breaks ties and orders
    the combinations). Otherwise the last ``round(fraction * n)`` names of the largest
    group, in natural order, are held out as one block: only one boundary touches training.

    Raises:
        DataLoaderError: fewer than 2 names, or keys and names differ in number.

    Example:
        >>> validation_split(["a1", "a2", "a3", "a4"], [""] * 4, fraction=0.25)[:2]
        ([0, 1, 2], [3])
    """
    n = len(names)
    if n < 2:
        raise DataLoaderError("at least 2 image/mask pairs are needed to hold out a validation set")
    if len(keys) != n:
        raise DataLoaderError(f"validation_split: {len(keys)} group keys for {n} names")
    members = defaultdict(list)
    for index, key in enumerate(keys):
        members[key].append(index)
    chosen = _held_out_groups({key: len(group) for key, group in members.items()}, n, fraction, low, high, seed)
    if chosen:
        val = sorted(index for key in chosen for index in members[key])
        shown = ", ".join(chosen[:10]) + (", ..." if len(chosen) > 10 else "")
        how = f"{len(chosen)} group{'s' * (len(chosen) > 1)} held out: {shown} ({len(val)} of {n} names, {len(val) / n:.0%})"
    else:
        largest = max(sorted(members, key=natural_key), key=lambda key: len(members[key]))
        ordered = sorted(members[largest], key=lambda index: natural_key(names[index]))
        size = min(len(ordered), max(1, min(round(fraction * n), n - 1)))
        val = sorted(ordered[-size:])
        where = f"of group {largest!r}" if largest else "names"
        how = (
            f"no set of whole groups holds {low:.0%}-{high:.0%} of the names: "
            f"the last {size} {where} in natural order held out as one block ({size} of {n} names)"
        )
    held = set(val)
    return [index for index in range(n) if index not in held], val, how


def describe_machine():
    """``{"cpu_cores", "bfloat16", "gpus", "memory_gb"}`` of this machine, without importing Keras.

    ``bfloat16``: the CPU computes bfloat16 natively; ``gpus``: names from ``nvidia-smi -L``;
    ``memory_gb``: ``MemTotal`` of ``/proc/meminfo`` in GiB (``None`` where unreadable).

    Example:
        >>> describe_machine()
        {'cpu_cores': 2, 'bfloat16': True, 'gpus': [], 'memory_gb': 7.8}
    """
    return {
        "cpu_cores": os.cpu_count(),
        "bfloat16": bool(cpu_flags() & set(BF16_CPU_FLAGS)),
        "gpus": _gpu_names(),
        "memory_gb": _memory_gb(),
    }


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


# ============================================================ groups


def _group_sizes(rule, keys):
    """The fingerprint's ``groups`` entry: rule, number of groups, sizes by name (the 50 largest)."""
    counts = defaultdict(int)
    for key in keys:
        counts[key] += 1
    listed = sorted(counts, key=lambda key: (-counts[key], natural_key(key)))[:MAX_LISTED_GROUPS]
    return {
        "rule": rule,
        "n_groups": len(counts),
        "sizes": {key: counts[key] for key in sorted(listed, key=natural_key)},
        "truncated": len(counts) > MAX_LISTED_GROUPS,
    }


def _held_out_groups(sizes, n, fraction, low, high, seed):
    """Keys of the groups to hold out (natural order), or ``[]`` when no set of them fits ``[low, high]``."""
    keys = sorted(sizes, key=natural_key)
    target, smallest, largest = fraction * n, low * n, min(high * n, n - 1)
    if len(keys) < 2:
        return []
    rng = np.random.default_rng(seed)
    candidates = [(key,) for key in keys if smallest <= sizes[key] <= largest]
    if not candidates:
        orders = [keys] + [[keys[i] for i in rng.permutation(len(keys))] for _ in range(COMBINATION_TRIES)]
        for order in orders:
            chosen, total = [], 0
            for key in order:
                if total + sizes[key] <= largest:
                    chosen.append(key)
                    total += sizes[key]
                    if total >= target:
                        break
            if smallest <= total and chosen:
                candidates.append(tuple(sorted(chosen, key=natural_key)))
    if not candidates:
        return []
    candidates = sorted(set(candidates), key=lambda keys: [natural_key(key) for key in keys])
    distances = [abs(sum(sizes[key] for key in candidate) - target) for candidate in candidates]
    closest = [candidate for candidate, distance in zip(candidates, distances) if distance == min(distances)]
    return list(closest[int(rng.integers(len(closest)))])


# ============================================================ machine


def _gpu_names():
    """GPU names from ``nvidia-smi -L`` (``[]`` without the tool or when it fails: no usable GPU)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [re.sub(r"^GPU \d+: | \(UUID: [^)]*\)$", "", line.strip()) for line in listing.splitlines()
            if line.startswith("GPU ")]


def _memory_gb(path="/proc/meminfo"):
    """``MemTotal`` in GiB, one decimal; ``None`` where the file cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None
