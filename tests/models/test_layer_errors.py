"""The library's layers refuse bad arguments with a one-line ModelConfigError naming the argument."""

import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.models.layers import AdaptiveAveragePooling2D, ResizeLike


def test_resize_like_refuses_an_unknown_interpolation():
    with pytest.raises(ModelConfigError, match=r"ResizeLike: interpolation='bicubic'; use 'bilinear' or 'nearest'"):
        ResizeLike(interpolation="bicubic")


@pytest.mark.parametrize("bins", [0, -2, (2, 0), (1, 2, 3), "six", None, True, ("a", 2), 2.5])
def test_adaptive_pooling_refuses_bad_bins(bins):
    with pytest.raises(ModelConfigError, match=r"AdaptiveAveragePooling2D: bins=.*; use a positive int or a pair") as info:
        AdaptiveAveragePooling2D(bins)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bins, expected", [(3, (3, 3)), ((2, 5), (2, 5)), ([4, 1], (4, 1)), (np.int64(2), (2, 2))])
def test_adaptive_pooling_accepts_an_int_or_a_pair(bins, expected):
    assert AdaptiveAveragePooling2D(bins).bins == expected
