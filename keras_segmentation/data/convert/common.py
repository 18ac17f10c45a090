"""What every importer shares: the output folders, image and mask writes, and the final check.

Every importer writes the library's layout into ``out_dir``::

    out_dir/images/<stem>.<ext>      the images, copied byte for byte (re-encoded as PNG only when
                                     the source is not a JPEG, PNG, BMP or TIFF file)
    out_dir/annotations/<stem>.png   single-channel 8-bit class-id masks with the same stems
    out_dir/classes.txt              "id<TAB>name" lines, class 0 first

and then runs :func:`~keras_segmentation.data.verify.verify_dataset` on it (``n_classes`` = the
number of names, ``ignore_index`` = :data:`IGNORE_INDEX`).

Rules shared by every format:

* **Ignore.** Pixels a source marks as void or unlabelled-on-purpose (the VOC border, Cityscapes'
  classes outside the 19, labelme's ``__ignore__`` label, COCO crowds with ``crowd="ignore"``) get
  :data:`IGNORE_INDEX` (255), which is no class: train and evaluate with ``ignore_index=255``
  (``--ignore_index 255``). So at most 255 classes (ids 0..254).
* **Re-running.** An ``out_dir`` whose ``images/`` or ``annotations/`` holds files, or that has a
  ``classes.txt``, is refused unless ``overwrite=True``: then the files the conversion writes replace
  those of the same name and other files stay (and are verified with the rest: convert into an
  empty folder when the source lost images).
* **Writes** are atomic (:mod:`keras_segmentation.atomic`): a crash never leaves half a file.

Example:
    >>> out = Output("converted", ["background", "cat"])
    >>> height, width = out.write_image("0001", read_source("photos/0001.jpg"), "photos/0001.jpg")
    >>> out.write_mask("0001", mask)
    >>> print(out.finish("labelme", "jsons/").format())
"""

import json
import os
from dataclasses import dataclass

import cv2
import numpy as np

from ...atomic import atomic_write
from ...errors import ConvertError
from ..class_names import check_class_names, save_class_names
from ..png import PNG_SIGNATURE
from ..rasters import imdecode
from ..verify import verify_dataset
from ..verify_report import VerifyReport

#: Mask value of void pixels (no class): pass ``ignore_index=255`` to training and evaluation.
IGNORE_INDEX = 255
#: Class ids must stay below :data:`IGNORE_INDEX` in 8-bit masks.
MAX_CLASSES = IGNORE_INDEX
#: Image files kept byte for byte, by their first bytes; anything else is re-encoded as PNG.
_KEPT_FORMATS = ((b"\xff\xd8\xff", ".jpg"), (PNG_SIGNATURE, ".png"), (b"BM", ".bmp"), (b"II*\0", ".tif"), (b"MM\0*", ".tif"))


@dataclass
class ConvertResult:
    """What an importer wrote, and the :class:`VerifyReport` of the result (truthy when clean)."""

    source_format: str
    source: str
    images_path: str
    segs_path: str
    classes_file: str
    class_names: list
    n_images: int
    report: VerifyReport

    def __bool__(self):
        return self.report.ok

    def format(self):
        """A summary line, the verification report, and the ``ignore_index`` hint when void pixels exist."""
        lines = [
            f"Converted {self.n_images} image(s) from {self.source_format} {self.source}: "
            f"{self.images_path}, {self.segs_path}, {self.classes_file} ({len(self.class_names)} classes)",
            self.report.format(class_names=self.class_names),
        ]
        if IGNORE_INDEX in self.report.class_pixel_counts:
            lines.append(f"Pixels {IGNORE_INDEX} are void: train and evaluate with --ignore_index {IGNORE_INDEX}")
        return "\n".join(lines)


class Output:
    """The output folders of one conversion; refuses a used ``out_dir`` unless ``overwrite``.

    Raises:
        ConvertError: more than :data:`MAX_CLASSES` classes, or ``out_dir`` holds a dataset.
        DataLoaderError: a class name that ``classes.txt`` cannot hold.
    """

    def __init__(self, out_dir, class_names, overwrite=False):
        out_dir = os.fspath(out_dir)
        self.class_names = [str(name) for name in class_names]
        if len(self.class_names) > MAX_CLASSES:
            raise ConvertError(
                f"{len(self.class_names)} classes: at most {MAX_CLASSES} fit 8-bit masks next to the ignore value {IGNORE_INDEX}"
            )
        check_class_names(self.class_names)
        self.images_path = os.path.join(out_dir, "images")
        self.segs_path = os.path.join(out_dir, "annotations")
        self.classes_file = os.path.join(out_dir, "classes.txt")
        used = [p for p in (self.images_path, self.segs_path) if os.path.isdir(p) and _has_files(p)]
        used += [self.classes_file] if os.path.exists(self.classes_file) else []
        if used and not overwrite:
            raise ConvertError(
                f"{out_dir}: already holds a dataset ({', '.join(used)}); "
                "pass overwrite=True (--overwrite) to replace its files, or choose an empty folder"
            )
        os.makedirs(self.images_path, exist_ok=True)
        os.makedirs(self.segs_path, exist_ok=True)
        self._sources = {}

    def write_image(self, stem, data, name):
        """Write the image file bytes ``data`` (read from ``name``) as ``images/<stem>.<ext>``.

        Returns:
            ``(height, width)`` as the library reads the image (EXIF orientation applied).

        Raises:
            ConvertError: ``data`` is not an image, or another source already gave this stem.
        """
        if stem in self._sources:
            raise ConvertError(f"{name}: its output name {stem!r} is taken by {self._sources[stem]}; rename one of them")
        self._sources[stem] = name
        buffer = np.frombuffer(data, np.uint8)
        image = imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
        if image is None:
            raise ConvertError(f"{name}: not a readable image")
        extension = next((ext for magic, ext in _KEPT_FORMATS if data.startswith(magic)), None)
        if extension is None:
            extension, data = ".png", _encode_png(imdecode(buffer, cv2.IMREAD_UNCHANGED), name)
        _write_bytes(os.path.join(self.images_path, stem + extension), data)
        return image.shape[:2]

    def write_mask(self, stem, mask):
        """Write the 2-D class-id array ``mask`` as ``annotations/<stem>.png`` (8-bit, one channel)."""
        _write_bytes(os.path.join(self.segs_path, stem + ".png"), _encode_png(np.asarray(mask, np.uint8), stem))

    def finish(self, source_format, source):
        """Write ``classes.txt``, verify the dataset and return the :class:`ConvertResult`."""
        save_class_names(self.classes_file, self.class_names)
        report = verify_dataset(self.images_path, self.segs_path, len(self.class_names), ignore_index=IGNORE_INDEX)
        return ConvertResult(
            source_format, os.fspath(source), self.images_path, self.segs_path, self.classes_file,
            self.class_names, len(self._sources), report,
        )


def read_source(path):
    """The bytes of a source file, or a :class:`ConvertError` naming it."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        raise ConvertError(f"{path}: cannot be read ({err.strerror or err})") from None
    except ValueError:  # a NUL character in the name
        raise ConvertError(f"{path!r}: not a valid file name") from None


def load_json(path):
    """A JSON file's content, or a :class:`ConvertError` naming the file and the problem."""
    try:
        return json.loads(read_source(path).decode("utf-8"))
    except UnicodeDecodeError:
        raise ConvertError(f"{path}: not a UTF-8 text file") from None
    except json.JSONDecodeError as err:
        raise ConvertError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise ConvertError(f"{path}: not valid JSON (nested too deeply)") from None


def require(items, source, what):
    """``items`` as a list, or a :class:`ConvertError` saying ``source`` holds no ``what``."""
    items = list(items)
    if not items:
        raise ConvertError(f"{source}: no {what} found")
    return items


def _has_files(folder):
    return any(not name.startswith(".") for name in os.listdir(folder))


def _encode_png(array, name):
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise ConvertError(f"{name}: cannot be encoded as PNG")
    return encoded.tobytes()


def _write_bytes(path, data):
    def write(temp):
        with open(temp, "wb") as handle:
            handle.write(data)

    atomic_write(path, write, durable=False)
