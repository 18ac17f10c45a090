"""A label map as polygons that labelling tools paint back into the same label map.

Outlines are traced on the map enlarged :data:`SCALE` times, so they run a quarter pixel inside each
region's pixel edges, in the pixel-edge frame of COCO and labelme (pixel ``(x, y)`` covers
``[x, x + 1] x [y, y + 1]``): a region's pixels have their centres inside its polygon and no other
pixel has, so pycocotools and Pillow (labelme's fill) paint exactly the region's pixels back. Outlines
are then simplified (``cv2.approxPolyDP``: no point of the traced outline is more than ``tolerance``
pixels from the polygon).

Measured round trip (6 CamVid test masks, 360x480, 12 classes, through the labelme and COCO importers
of :mod:`keras_segmentation.data.convert`; ``min_area`` 4): pixels painted back with their class
(labelme / COCO) and points per image, by tolerance: 0 px 99.90 / 99.94 %, 8 500 points;
0.5 px 99.82 / 99.67 %, 3 500; 1 px 99.09 / 99.01 %, 1 290; 1.5 px 98.85 / 98.74 %, 960. With
``min_area=1`` and no simplification COCO gives 100 % back and labelme 99.96 % (it loses pixels
of one-pixel diagonal chains). :data:`TOLERANCE` is 1 px: few points to edit, well above 98 %. A map
of many small regions (an untrained model's) loses more: where the polygons painted back
(:func:`paint_shapes`) would get fewer than :data:`FAITHFUL` (99 %) of the pixels right, they are
simplified with half the tolerance, then not at all.

Holes: a region's outline encloses its holes, and the tools paint shapes over each other:

* ``holes="layer"`` (labelme, which paints its shapes in file order): the shapes come largest first,
  so whatever lies in a hole is painted after the region around it; class 0 (what unpainted pixels
  are) gets shapes only where it lies in a hole of another region.
* ``holes="cut"`` (COCO, whose polygons of one annotation are joined): class 0 gets no shape; the
  holes holding class 0 are cut out of the region's polygon along a zero-width slit from its
  outline, which even-odd filling (pycocotools) leaves empty. Holes holding only other classes stay
  filled: their own shapes are smaller and painted on top.

Regions of fewer than ``min_area`` pixels (:data:`MIN_AREA`) get no shape: what surrounds them
paints over them.

Example:
    >>> labels = np.zeros((8, 8), np.uint8)
    >>> labels[2:6, 2:6] = 1
    >>> [(shape.class_id, shape.points.tolist()) for shape in label_shapes(labels)]
    [(1, [[2.25, 2.25], [2.25, 5.75], [5.75, 5.75], [5.75, 2.25]])]
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import SegmentationError

#: outlines are traced on the map enlarged this many times: a quarter pixel inside the pixel edges
SCALE = 2
#: the default simplification, in pixels
TOLERANCE = 1.0
#: regions of fewer pixels get no shape
MIN_AREA = 4
#: what ``holes=`` takes
HOLES = ("layer", "cut")
#: the share of pixels the simplified polygons must paint back right, else they are simplified less
FAITHFUL = 0.99
_SHIFT = 2  # fractional bits of the corners given to OpenCV: quarter pixels


@dataclass(frozen=True)
class Shape:
    """One polygon: ``class_id``; ``points`` ``(N, 2)`` float x, y in the pixel-edge frame; ``area`` (pixels)."""

    class_id: int
    points: np.ndarray
    area: float

    @property
    def bbox(self):
        """``[x, y, width, height]`` around the points (COCO's ``bbox``)."""
        low, high = self.points.min(0), self.points.max(0)
        return [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]


def label_shapes(labels, *, tolerance=TOLERANCE, min_area=MIN_AREA, holes="layer", faithful=FAITHFUL):
    """The polygons of the class-id map ``labels`` (H, W), in painting order: the largest outline first.

    Args:
        labels: 2-D integer class ids.
        tolerance: simplification in pixels (0: every corner of the traced outline).
        min_area: regions of fewer pixels get no shape.
        holes: ``"layer"`` or ``"cut"`` (see the module's notes).
        faithful: where the polygons painted back (:func:`paint_shapes`) would agree with ``labels`` on fewer
            than this share of pixels, they are simplified with half the ``tolerance``, then not at all;
            ``None``: ``tolerance`` as given.

    Returns:
        A list of :class:`Shape`: a tool that paints them in this order over class 0 gets ``labels`` back.

    Raises:
        SegmentationError: ``labels`` is not 2-D, or ``holes`` is neither way.
    """
    if holes not in HOLES:
        raise SegmentationError(f"holes={holes!r}: choose one of {', '.join(HOLES)}")
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise SegmentationError(f"a label map is 2-D, not shaped {labels.shape}")
    regions = _regions(labels, min_area, holes == "cut")
    for attempt in (tolerance, tolerance / 2, 0) if faithful is not None and tolerance > 0 else (tolerance,):
        shapes = sorted((shape for region in regions for shape in _traced(*region, attempt)), key=lambda s: -s.area)
        if attempt == 0 or faithful is None or (paint_shapes(shapes, labels.shape) == labels).mean() >= faithful:
            return shapes


def paint_shapes(shapes, size):
    """The label map that painting ``shapes`` in order over class 0 gives, on an image of ``size`` (H, W), drawn by
    OpenCV (even-odd filling, pixels whose centre is inside or on an edge): close to what the importers paint.

    Example:
        >>> labels = np.zeros((6, 6), np.uint8)
        >>> labels[1:4, 2:5] = 2
        >>> bool((paint_shapes(label_shapes(labels), labels.shape) == labels).all())
        True
    """
    painted = np.zeros(size, np.int32)
    for shape in shapes:
        corners = np.round((shape.points - 0.5) * 2**_SHIFT).astype(np.int32)
        cv2.fillPoly(painted, [corners], int(shape.class_id), lineType=cv2.LINE_8, shift=_SHIFT)
    return painted


def _regions(labels, min_area, cut):
    """``(class_id, region, box, cut)`` for :func:`_traced`: each class's pixels (a padded crop at ``box``)."""
    background = _large(labels == 0, min_area)
    enclosed = np.zeros(labels.shape, bool)
    regions = []
    for class_id in (int(c) for c in np.unique(labels) if c != 0):
        box, region = _crop(_large(labels == class_id, min_area))
        if region is None:
            continue
        hole_ids = _hole_ids(region)
        in_background = (hole_ids > 0) & np.pad(background[box], 1)
        if cut:  # fill the holes others paint over; cut those holding class 0
            region |= (hole_ids > 0) & ~np.isin(hole_ids, hole_ids[in_background])
        else:
            enclosed[box] |= in_background[1:-1, 1:-1]
        regions.append((class_id, region, box, cut))
    if enclosed.any():
        _, components = cv2.connectedComponents(background.astype(np.uint8), connectivity=8)
        box, region = _crop(np.isin(components, components[enclosed]))
        regions.append((0, region, box, False))
    return regions


def _large(mask, min_area):
    """``mask`` without its 8-connected parts of fewer than ``min_area`` pixels."""
    if min_area <= 1 or not mask.any():
        return mask
    _, components, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return (stats[:, cv2.CC_STAT_AREA] >= min_area)[components] & mask


def _crop(mask):
    """``(box, region)``: the slices around ``mask``'s pixels and the region there, padded by one pixel of
    ``False``; ``(None, None)`` for an empty mask."""
    if not mask.any():
        return None, None
    x, y, width, height = cv2.boundingRect(mask.astype(np.uint8))
    box = (slice(y, y + height), slice(x, x + width))
    return box, np.pad(mask[box], 1)


def _hole_ids(region):
    """An id per hole of ``region`` (the 4-connected parts of the rest that do not reach the padding), 0 elsewhere."""
    _, components = cv2.connectedComponents((~region).astype(np.uint8), connectivity=4)
    outside = np.unique(np.concatenate([components[0], components[-1], components[:, 0], components[:, -1]]))
    components[np.isin(components, outside)] = 0
    return components


def _traced(class_id, region, box, cut, tolerance):
    """The :class:`Shape` of each part of ``region`` (a padded crop at ``box``), holes cut when ``cut``."""
    enlarged = np.repeat(np.repeat(region.astype(np.uint8), SCALE, axis=0), SCALE, axis=1)
    mode = cv2.RETR_CCOMP if cut else cv2.RETR_EXTERNAL
    contours, hierarchy = cv2.findContours(enlarged, mode, cv2.CHAIN_APPROX_SIMPLE)
    origin = np.array([box[1].start - 1, box[0].start - 1], np.float64)
    holes = {}
    for number, parent in enumerate(hierarchy[0][:, 3] if contours else ()):
        if parent >= 0:
            holes.setdefault(parent, []).append(contours[number])
    shapes = []
    for number, contour in enumerate(contours):
        if hierarchy[0][number][3] >= 0:
            continue  # a hole: cut out of its outline below
        points, area = _simplified(contour, tolerance), cv2.contourArea(contour)
        for hole in holes.get(number, ()):
            points, area = _slit(points, _simplified(hole, tolerance)), area - cv2.contourArea(hole)
        shapes.append(Shape(class_id, (points + 0.5) / SCALE + origin, area / SCALE**2))
    return shapes


def _simplified(contour, tolerance):
    """The points of ``contour`` simplified by ``tolerance`` pixels; the traced corners when that leaves < 3 points."""
    simple = cv2.approxPolyDP(contour, tolerance * SCALE, True) if tolerance > 0 else contour
    return (simple if len(simple) >= 3 else contour)[:, 0, :].astype(np.float64)


def _slit(outline, hole):
    """``outline`` with ``hole`` joined along a zero-width slit from its nearest point: one polygon that
    even-odd filling paints without the hole."""
    nearest = int(np.argmin(((outline - hole[0]) ** 2).sum(axis=1)))
    return np.concatenate([outline[: nearest + 1], hole, hole[:1], outline[nearest:]])
