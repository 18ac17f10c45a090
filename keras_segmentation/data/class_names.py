"""Reading class names: from a list, a comma-separated string or a file.

Files hold one name per line (line *i* names class *i*), or ``id<TAB>name``
lines like CamVid's ``classes.txt`` (ids may skip; missing ids get their number
as name). Empty lines and ``#`` comments are skipped. ``id<TAB>name`` lines may
add a colour, ``id<TAB>name<TAB>r,g,b`` (on every line or on none; what ``convert``
writes has none): :func:`load_class_colors` reads it, for painting predictions.

Example:
    >>> load_class_names("sky,building,road")
    ['sky', 'building', 'road']
    >>> load_class_names("data/camvid/classes.txt")[:3]      # "0<TAB>Sky" lines
    ['Sky', 'Building', 'Pole']
    >>> load_class_colors("data/classes.txt")[:2]            # "0<TAB>Sky<TAB>128,128,128" lines
    [(128, 128, 128), (128, 0, 0)]
    >>> save_class_names("out/classes.txt", ["background", "cat"])   # "0<TAB>background" lines
"""

import os

from ..atomic import atomic_write
from ..errors import DataLoaderError
from .visualize import class_colors


def load_class_names(source):
    """Class names, indexed by class id, from a list, a file path or a comma-separated string.

    Raises:
        DataLoaderError: the file names no class, or repeats an id.
    """
    if isinstance(source, (list, tuple)):
        return [str(name) for name in source]
    text = os.fspath(source)
    if os.path.isfile(text):
        return _read_file(text)[0]
    if "," in text or not os.path.splitext(text)[1]:
        return [name.strip() for name in text.split(",")]
    raise DataLoaderError(f"class names file {text}: not found (give a file, or names separated by commas)")


def load_class_colors(source):
    """The ``(r, g, b)`` colour of each class id from a class names file's colour column, or ``None`` (no column,
    or ``source`` is a list or a comma-separated string). Ids the file skips get the library's palette colour.

    Raises:
        DataLoaderError: a colour that is not ``r,g,b`` of 0..255, or a line without one where others have one
            (one line naming the file and the line).

    Example:
        >>> load_class_colors("data/classes.txt")[0]      # "0<TAB>sky<TAB>128,128,128"
        (128, 128, 128)
    """
    if isinstance(source, (list, tuple)) or not os.path.isfile(os.fspath(source)):
        return None
    return _read_file(os.fspath(source))[1]


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
    """Raise :class:`DataLoaderError` for a name :func:`load_class_names` would not read back (empty, ``#``, a tab,
    a line break)."""
    for class_id, name in enumerate(names):
        if not str(name).strip() or any(c in str(name) for c in "#\t\r\n"):
            raise DataLoaderError(f"class {class_id} name {name!r}: must be non-empty, without '#', tabs or line breaks")


def _read_file(path):
    """``(names, colours or None)`` of the class names file ``path``."""
    with open(path, encoding="utf-8") as handle:
        lines = [(number, line.split("#", 1)[0].rstrip("\r\n")) for number, line in enumerate(handle, 1)]
    lines = [(number, line) for number, line in lines if line.strip()]
    if not lines:
        raise DataLoaderError(f"class names file {path}: no names found")
    if not all("\t" in line and line.split("\t", 1)[0].strip().isdigit() for _, line in lines):
        return [line.strip() for _, line in lines], None
    by_id, colours, bare = {}, {}, []
    for number, line in lines:
        class_id, name, *colour = line.split("\t", 2)
        if int(class_id) in by_id:
            raise DataLoaderError(f"class names file {path}: class id {int(class_id)} appears twice")
        by_id[int(class_id)] = name.strip()
        if colour and colour[0].strip():
            colours[int(class_id)] = _colour(colour[0], path, number)
        else:
            bare.append(number)
    if colours and bare:
        raise DataLoaderError(f"class names file {path} line {bare[0]}: no colour, but other lines have one; "
                              "give r,g,b on every line or on none")
    names = [by_id.get(i, str(i)) for i in range(max(by_id) + 1)]
    if not colours:
        return names, None
    return names, [colours.get(i, class_colors[i]) for i in range(len(names))]


def _colour(text, path, number):
    """``(r, g, b)`` of the colour column ``text`` (line ``number`` of ``path``), or a one-line error."""
    try:
        colour = tuple(int(part) for part in text.split(","))
    except ValueError:
        colour = ()
    if len(colour) != 3 or not all(0 <= value <= 255 for value in colour):
        raise DataLoaderError(f"class names file {path} line {number}: colour {text.strip()!r} is not r,g,b "
                              "(three whole numbers 0..255, e.g. 128,64,0)")
    return colour
