"""Pre-label formats, one module each in this package: the files a labelling tool opens, and ``convert`` reads back.

Each member module registers its writer (a :class:`~.writer.PrelabelWriter` subclass) with
:func:`register_prelabels`, and this package imports every module in it: a new format is one new file
here. Every writer copies the chosen images into the folder, so it opens in the tool as it is, and
writes what ``keras_segmentation convert --from <format>`` turns back into the same label maps with the
same class ids (its :attr:`~.writer.PrelabelWriter.convert` command says how).

* ``labelme``: a labelme JSON per image (polygons, holes by painting order) and ``labels.txt``;
* ``coco``: one COCO instances file, ``annotations.json`` (polygons, holes holding class 0 cut out);
* ``cvat``: CVAT's "Segmentation mask 1.1" layout (colour masks and ``labelmap.txt``), exact.

Example:
    >>> writer = get_writer("labelme")("prelabels/", ["road", "car"])
    >>> writer.add("frames/0001.png", labels)
    >>> writer.finish()
"""

import importlib
import pkgutil

from ...errors import SuggestError

_REGISTRY = {}  # format name -> writer class; filled by register_prelabels as the members are imported


def register_prelabels(name):
    """Class decorator: the decorated :class:`~.writer.PrelabelWriter` writes the pre-label format ``name``.

    Example:
        >>> @register_prelabels("labelme")
        ... class LabelmeWriter(PrelabelWriter):
        ...     convert = "keras_segmentation convert --from labelme {out} --labels {out}/labels.txt --out_dir DATASET"
    """
    def register(writer):
        writer.name = name
        _REGISTRY[name] = writer
        return writer

    return register


def get_writer(name):
    """The writer class of the format ``name``.

    Raises:
        SuggestError: no format has that name.
    """
    if name not in _REGISTRY:
        raise SuggestError(f"format={name!r}: choose one of {', '.join(_names())}")
    return _REGISTRY[name]


def _names():
    """The format names, labelme (the default) first."""
    return sorted(_REGISTRY, key=lambda name: name != "labelme")


def _import_members():
    """Import every module of this package: each member registers its format as it is imported."""
    for member in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{member.name}")


_import_members()
#: the format names, in the order ``--format`` lists them
FORMATS = tuple(_names())
