"""File-name groups (sequences, scenes, patients) and the validation split that holds out whole groups.

:func:`find_groups` keys each file name by its group (``0016E5_07959`` -> ``0016E5``);
:func:`validation_split` holds out whole groups, so neighbouring frames never sit on both
sides of the split; :func:`split_pairs` is the split a ``fit`` run keeps (``split.json``).

Example:
    >>> find_groups(["a_1", "a_2", "a_3", "b_1"])
    ("prefix before the first '_'", ['a', 'a', 'a', 'b'])
    >>> validation_split(["a_1", "a_2", "a_3", "b_1"], ["a", "a", "a", "b"], fraction=0.25, low=0.2, high=0.3)
    ([0, 1, 2], [3], '1 group held out: b (1 of 4 names, 25%)')
"""

import os
import re
from collections import defaultdict

import numpy as np

from ..data.pairing import base_name
from ..errors import DataLoaderError

#: Characters that end a group prefix in a file name (``0016E5_07959``).
SEPARATORS = ("_", "-", " ", ".")
#: Groups a fingerprint lists by name (the largest ones).
MAX_LISTED_GROUPS = 50
#: Random group orders :func:`validation_split` tries when no single group fits.
COMBINATION_TRIES = 32


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


def split_pairs(pairs, val_pairs, fraction, seed):
    """``split.json`` of a run: the training and validation image file names and how they were chosen.

    With ``val_pairs`` (a validation set of the user's own) every pair trains; else
    :func:`validation_split` holds out about ``fraction`` of them by group.

    Example:
        >>> split_pairs([("i/a_1.png", "m/a_1.png"), ("i/b_1.png", "m/b_1.png")], None, 0.5, seed=0)["val"]
        ['b_1.png']
    """
    names = [os.path.basename(image) for image, _ in pairs]
    if val_pairs is not None:
        return {"train": names, "val": [], "how": f"your {len(val_pairs)} validation pairs"}
    rule, keys = find_groups([base_name(name) for name in names])
    train_idx, val_idx, how = validation_split([base_name(name) for name in names], keys, fraction=fraction,
                                               low=min(0.10, fraction), high=max(0.20, fraction), seed=seed)
    return {"train": [names[i] for i in train_idx], "val": [names[i] for i in val_idx], "how": how, "groups": rule}


def group_sizes(rule, keys):
    """The fingerprint's ``groups`` entry: rule, number of groups, sizes by name (the 50 largest).

    Example:
        >>> group_sizes(*find_groups(["a_1", "a_2", "b_1"]))
        {'rule': "prefix before the first '_'", 'n_groups': 2, 'sizes': {'a': 2, 'b': 1}, 'truncated': False}
    """
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
