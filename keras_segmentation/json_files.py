"""JSON files: read with a one-line error that names the file, written atomically (:mod:`.atomic`).

Example:
    >>> write_json("runs/fit/plan.json", {"epochs": 5})                           # doctest: +SKIP
    >>> read_json("runs/fit/plan.json", CheckpointError, "start a new out")      # doctest: +SKIP
    {'epochs': 5}
"""

import json
import os

from .atomic import atomic_write_text


def read_json(path, error_class, advice):
    """The content of the JSON file ``path``.

    Raises:
        SegmentationError: (``error_class``) the file cannot be read or parsed: a one-line message naming
            ``path`` and the cause, ending with ``advice``.

    Example:
        >>> read_json("presets/roads/metadata.json", PresetError, "save the preset again")   # doctest: +SKIP
        {'format': 'keras_segmentation preset', 'format_version': 1}
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise error_class(f"{os.fspath(path)}: unreadable ({' '.join(str(err).split())}); {advice}") from None


def write_json(path, content):
    """Write ``content`` to ``path`` as indented JSON (values JSON does not know as their ``str``), atomically.

    Example:
        >>> write_json("runs/fit/summary.json", {"val_mIoU": 0.61})   # doctest: +SKIP
    """
    atomic_write_text(path, json.dumps(content, indent=1, default=str) + "\n")
