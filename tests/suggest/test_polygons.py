"""Label maps as polygons: outlines a quarter pixel inside the pixel edges, painting order, holes, specks."""

import cv2
import numpy as np
import pytest
from suggestfiles import label_map

from keras_segmentation.errors import SegmentationError
from keras_segmentation.suggest.polygons import label_shapes, paint_shapes


def test_a_square_is_four_corners_a_quarter_pixel_inside_its_pixels():
    labels = np.zeros((8, 8), np.uint8)
    labels[2:6, 3:7] = 1
    (shape,) = label_shapes(labels)
    assert shape.class_id == 1
    assert sorted(map(tuple, shape.points.tolist())) == [(3.25, 2.25), (3.25, 5.75), (6.75, 2.25), (6.75, 5.75)]
    assert shape.bbox == [3.25, 2.25, 3.5, 3.5]
    assert shape.area == pytest.approx(3.5 * 3.5)


def test_shapes_come_largest_first_and_class_0_only_where_a_hole_holds_it():
    shapes = label_shapes(label_map(), tolerance=0)
    areas = [shape.area for shape in shapes]
    assert areas == sorted(areas, reverse=True)
    # class 0 lies in two holes (in the class-1 square and the class-2 ellipse); the rest of class 0 is unpainted
    assert sum(shape.class_id == 0 for shape in shapes) == 2
    order = [shape.class_id for shape in shapes]
    assert order.index(1) < order.index(0)  # the square before the hole in it


def test_cut_gives_class_0_no_shape_and_cuts_the_holes_holding_it():
    shapes = label_shapes(label_map(), tolerance=0, holes="cut")
    assert 0 not in {shape.class_id for shape in shapes}
    square = next(shape for shape in shapes if shape.class_id == 1)
    # the slit returns to the outline's point it left from: that point appears twice
    points = [tuple(p) for p in square.points.tolist()]
    assert len(points) > len(set(points))
    assert square.area < 71 * 75 - np.pi * 20**2 + 80  # the hole's area is taken off


def test_specks_below_min_area_get_no_shape_and_no_polygon_has_fewer_than_3_points():
    labels = np.zeros((20, 20), np.uint8)
    labels[2:4, 2:3] = 1  # 2 pixels
    labels[10, 3:15] = 2  # a one-pixel line of 12
    shapes = label_shapes(labels, min_area=4, tolerance=2)
    assert [shape.class_id for shape in shapes] == [2]
    assert len(shapes[0].points) >= 3
    assert {shape.class_id for shape in label_shapes(labels, min_area=1)} == {1, 2}


@pytest.mark.parametrize("labels, holes, message", [
    (np.zeros((2, 2, 2)), "layer", "2-D"),
    (np.zeros((2, 2)), "fill", "holes='fill'"),
])
def test_bad_input_is_one_line(labels, holes, message):
    with pytest.raises(SegmentationError, match=message):
        label_shapes(labels, holes=holes)


def test_a_map_of_many_small_regions_is_simplified_less_to_stay_faithful():
    noise = np.random.default_rng(0).random((60, 80, 3)).astype(np.float32)
    labels = cv2.GaussianBlur(noise, (0, 0), 1.5).argmax(axis=-1).astype(np.uint8)  # blobs of a few pixels
    coarse = label_shapes(labels, faithful=None)
    assert (paint_shapes(coarse, labels.shape) == labels).mean() < 0.99
    fine = label_shapes(labels)
    assert (paint_shapes(fine, labels.shape) == labels).mean() >= 0.99
    assert sum(map(len, (s.points for s in fine))) > sum(map(len, (s.points for s in coarse)))
