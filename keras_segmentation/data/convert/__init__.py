"""Importers from labelling tools: labelme, COCO, CVAT, Pascal VOC and Cityscapes exports -> this library's layout.

Each format has its module (its rules in its docstring) and function; :mod:`.common` holds what they
share: the output layout (``images/``, ``annotations/`` of single-channel class-id PNGs with the same
stems, ``classes.txt``), the void value 255, the refusal to write over a dataset without
``overwrite=True``, atomic writes and the final :func:`~keras_segmentation.data.verify.verify_dataset`.
:func:`convert` picks the function by name; ``docs/convert.md`` shows the commands.

Example:
    >>> result = convert("labelme", "labelme_jsons/", "dataset/")
    >>> print(result.format())          # what was written, and the verification report
    >>> result = convert("coco", "instances_val2017.json", "coco_val/", images="val2017/", crowd="ignore")
"""

import inspect

from ...errors import ConvertError
from .cityscapes import convert_cityscapes
from .coco import convert_coco
from .common import IGNORE_INDEX, ConvertResult
from .cvat import convert_cvat
from .labelme import convert_labelme
from .voc import convert_voc

#: The importer of each source format, by the name ``convert --from`` takes.
CONVERTERS = {
    "labelme": convert_labelme,
    "coco": convert_coco,
    "cvat": convert_cvat,
    "voc": convert_voc,
    "cityscapes": convert_cityscapes,
}

__all__ = ["CONVERTERS", "IGNORE_INDEX", "ConvertResult", "convert", "options_of"]


def options_of(source_format):
    """The keyword options the importer of ``source_format`` takes (``overwrite`` included)."""
    parameters = inspect.signature(CONVERTERS[source_format]).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def convert(source_format, source, out_dir, **options):
    """Run the importer of ``source_format`` on ``source``; options it does not take are an error.

    Raises:
        ConvertError: an unknown format or an option of another format, and what the importer raises.
    """
    if source_format not in CONVERTERS:
        raise ConvertError(f"format {source_format!r}: choose one of {', '.join(CONVERTERS)}")
    extra = sorted(set(options) - set(options_of(source_format)))
    if extra:
        raise ConvertError(
            f"option(s) {', '.join(extra)} do not apply to {source_format} (it takes {', '.join(options_of(source_format))})"
        )
    return CONVERTERS[source_format](source, out_dir, **options)
