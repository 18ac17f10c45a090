"""Reading class names: from a list, a comma-separated string or a file.

Files hold one name per line (line *i* names class *i*), or ``id<TAB>name``
lines like CamVid's ``classes.txt`` (ids may skip; missing ids get their number
as name). Empty lines and ``#`` comments are skipped.

Example:
    >>> load_class_names("sky,building,road")
    ['sky', 'building', 'road']
    >>> load_class_names("data/camvid/classes.txt")[:3]      # "0<TAB>Sky" lines
    ['Sky', 'Building', 'Pole']
    >>> save_class_names("out/classes.txt", ["background", "cat"])   # "0<TAB>background" lines
"""

import os

from ..atomic import atomic_write
from ..errors import DataLoaderError


def load_class_names(source):
    """Class names, indexed by class id, from a list, a file path or a comma-separated string.

    Raises:
        DataLoaderError: the file names no class, or repeats an id.
    """
    if isinstance(source, (list, tuple)):
        return [str(name) for name in source]
    text = os.fspath(source)
    if os.path.isfile(text):
        return _read_file(text)
    if "," in text or not os.path.splitext(text)[1]:
        return [name.strip() for name in text.split(",")]
    raise DataLoaderError(f"class names file {text}: not found (give a file, or names separated by commas)")


def save_class_names(path, names):
    """Write ``names`` as ``id<TAB>name`` lines (CamVid's ``classes.txt``), atomically.

    Raises:
        DataLoaderError: see :func:`check_class_names`.
    """
    check_class_names(names)

    def write(temp):
        with open(temp, "w", encoding="utf-8") as handle:
            handle.writelines(f"{i}\t{str(name).strip()}\n" for i, name in enumerate(names))

    atomic_write(path, write, durable=False)


def check_class_names(names):
    """Raise :class:`DataLoaderError` for a name :func:`load_class_names` would not read back (empty, ``#``, line break)."""
    for class_id, name in enumerate(names):
        if not str(name).strip() or any(c in str(name) for c in "#\r\n"):
            raise DataLoaderError(f"class {class_id} name {name!r}: must be non-empty, without '#' or line breaks")


def _read_file(path):
    with open(path, encoding="utf-8") as handle:
        lines = [line.split("#", 1)[0].rstrip("\r\n") for line in handle]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise DataLoaderError(f"class names file {path}: no names found")
    if not all("\t" in line and line.split("\t", 1)[0].strip().isdigit() for line in lines):
        return [line.strip() for line in lines]
    by_id = {}
    for line in lines:
        class_id, name = line.split("\t", 1)
        if int(class_id) in by_id:
            raise DataLoaderError(f"class names file {path}: class id {int(class_id)} appears twice")
        by_id[int(class_id)] = name.strip()
    return [by_id.get(i, str(i)) for i in range(max(by_id) + 1)]
