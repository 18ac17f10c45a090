"""Writing uncertainty maps: a colour heat map for eyes, the float32 values as TIFF, the table of per-image scores.

``predict_multiple(out_dir=D, uncertainty=...)`` writes, beside the label maps, ``D/uncertainty/<name>.png``
(8-bit BGR, OpenCV's inferno colours: black where the model is sure, light yellow where it is most unsure),
``D/uncertainty/<name>.tif`` (the [0, 1] map, float32, one channel: ``cv2.imread(path, cv2.IMREAD_UNCHANGED)``
or ``tifffile.imread(path)``) and ``D/uncertainty/scores.csv`` (``image,score``: each image's file name and
the mean of its map, most unsure first). ``predict(out_fname=F, uncertainty=...)`` writes
``<F without extension>_uncertainty.png`` and ``.tif``. Every file is written atomically.

Example:
    >>> write_map("preds/uncertainty/a", prediction.uncertainty)      # a.png and a.tif  # doctest: +SKIP
    >>> write_scores("preds/uncertainty/scores.csv", [("a.jpg", 0.31), ("b.jpg", 0.07)])  # doctest: +SKIP
"""

import csv
import io
import os

import cv2
import numpy as np

from ..atomic import atomic_write, atomic_write_text
from ..uncertainty import image_score
from .writers import encode_image, refuse_overwrite

#: the folder of ``out_dir`` that holds the maps and the scores
FOLDER = "uncertainty"
#: the files of one map: ``<stem>.png`` (heat map) and ``<stem>.tif`` (values)
SUFFIXES = (".png", ".tif")


def heat_map(uncertainty):
    """The (H, W, 3) uint8 BGR image of a [0, 1] map: OpenCV's inferno colour map, 0 (sure) black.

    Example:
        >>> heat_map(np.array([[0.0, 1.0]], np.float32)).tolist()
        [[[4, 0, 0], [164, 255, 252]]]
    """
    levels = np.round(np.clip(uncertainty, 0, 1) * 255).astype(np.uint8)
    return cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO)


def map_paths(stem):
    """The files :func:`write_map` writes for ``stem``: ``[<stem>.png, <stem>.tif]``."""
    return [os.fspath(stem) + suffix for suffix in SUFFIXES]


def map_stems(out_paths, inps):
    """``out_dir/uncertainty/<name>`` for each label output path (``out_dir/<name>.png``); creates the folder.

    Raises:
        ModelConfigError: a map would overwrite its input image.
    """
    stems = []
    for path, source in zip(out_paths, inps):
        folder, name = os.path.split(os.fspath(path))
        stem = os.path.join(folder, FOLDER, os.path.splitext(name)[0])
        for written in map_paths(stem):
            refuse_overwrite(written, source, "out_dir")
        stems.append(stem)
    if stems:
        os.makedirs(os.path.dirname(stems[0]), exist_ok=True)
    return stems


def write_map(stem, uncertainty):
    """Write ``<stem>.png`` (:func:`heat_map`) and ``<stem>.tif`` (float32 values) of an (H, W) map, atomically."""
    heat, values = map_paths(stem)
    atomic_write(heat, encode_image(heat_map(uncertainty), ".png", heat).tofile, durable=False)
    atomic_write(values, encode_image(np.asarray(uncertainty, np.float32), ".tif", values).tofile, durable=False)


def read_score(stem):
    """The score of the map written under ``stem`` (the mean of ``<stem>.tif``): for images a restarted run kept."""
    values = map_paths(stem)[1]
    return image_score(cv2.imread(values, cv2.IMREAD_UNCHANGED))


def scores_name(shard=None):
    """``scores.csv``, or ``scores_<K>-of-<N>.csv`` for shard ``(K - 1, N)``: shards sharing ``out_dir`` each write
    their own table (sort their rows together for the whole folder's).

    Example:
        >>> scores_name((0, 4))
        'scores_1-of-4.csv'
    """
    return "scores.csv" if shard is None else f"scores_{shard[0] + 1}-of-{shard[1]}.csv"


def write_scores(path, scores):
    """Write ``scores`` (``(image name, score)`` pairs) as a CSV ``image,score``, highest score first, atomically."""
    text = io.StringIO()
    table = csv.writer(text, lineterminator="\n")
    table.writerow(("image", "score"))
    for name, score in sorted(scores, key=lambda row: (-row[1], row[0])):
        table.writerow((name, f"{score:.6f}"))
    atomic_write_text(path, text.getvalue(), durable=False)
