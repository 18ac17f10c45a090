"""What every pre-label writer shares: the folder, the class names, the polygons' settings, image copies.

Example:
    >>> class MyWriter(PrelabelWriter):
    ...     def add(self, image_path, labels):
    ...         name = self.copy_image(image_path)
"""

import os
import shutil

from ..polygons import MIN_AREA, TOLERANCE


class PrelabelWriter:
    """Writes one format's pre-labels into ``folder``: :meth:`add` per image, then :meth:`finish`.

    Args:
        folder: where the files go (made if missing).
        class_names: one name per class id, class 0 first.
        tolerance, min_area: the polygons' simplification and smallest region
            (:func:`~keras_segmentation.suggest.polygons.label_shapes`).

    Attributes:
        convert: the command that brings the corrected files back, ``{out}`` standing for the folder.
    """

    name = ""
    convert = ""

    def __init__(self, folder, class_names, *, tolerance=TOLERANCE, min_area=MIN_AREA):
        self.folder = os.fspath(folder)
        self.class_names = [str(name) for name in class_names]
        self.tolerance, self.min_area = tolerance, min_area
        os.makedirs(self.folder, exist_ok=True)

    def add(self, image_path, labels):
        """Copy the image and write its pre-labels from ``labels``, the (H, W) class-id map at its size."""
        raise NotImplementedError

    def finish(self):
        """Write what covers every image (class lists, a file for all images)."""

    def copy_image(self, image_path, subfolder=""):
        """Copy ``image_path`` byte for byte into the folder (or its ``subfolder``); returns its path there,
        relative to the folder."""
        name = os.path.join(subfolder, os.path.basename(os.fspath(image_path)))
        os.makedirs(os.path.join(self.folder, subfolder), exist_ok=True)
        shutil.copyfile(image_path, os.path.join(self.folder, name))
        return name.replace(os.sep, "/")

    def path(self, *parts):
        """The path of a file in the folder, its subfolder made."""
        path = os.path.join(self.folder, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path
