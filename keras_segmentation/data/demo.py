"""A synthetic segmentation dataset: coloured shapes on textured backgrounds.

:func:`make_demo_dataset` writes the original library's folder layout::

    <out_dir>/images_prepped_train/demo_00000.png       RGB images
    <out_dir>/annotations_prepped_train/demo_00000.png  single-channel class ids
    <out_dir>/images_prepped_test/...  <out_dir>/annotations_prepped_test/...
    <out_dir>/classes.txt                               "id<TAB>name" lines

Classes: 0 background, 1 circle, 2 rectangle, 3 triangle, 4 star. Each shape
class has its own hue range (with jitter), shapes vary in size and rotation and
may overlap (the last drawn wins), and backgrounds are smooth low-saturation
textures with stripes and pixel noise. The task is easy enough for a small model
to reach a high mIoU in minutes on a CPU, yet needs both colour and shape.

Example:
    >>> demo = make_demo_dataset("demo_output/data", n_train=200, n_test=50, seed=0)
    >>> demo.n_classes, demo.class_names[1]
    (5, 'circle')
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import DataLoaderError

#: Class names of the demo dataset, by class id.
DEMO_CLASS_NAMES = ("background", "circle", "rectangle", "triangle", "star")

# OpenCV hue (0..179) centre per shape class; each shape is drawn within +-_HUE_JITTER of it.
_HUES = {1: 0, 2: 60, 3: 115, 4: 28}
_HUE_JITTER = 7
_SPLITS = ("train", "test")


@dataclass
class DemoDataset:
    """Where :func:`make_demo_dataset` wrote the data, and its classes."""

    root: str
    train_images: str
    train_annotations: str
    test_images: str
    test_annotations: str
    classes_file: str
    n_classes: int
    class_names: list


def make_demo_dataset(out_dir, n_train=200, n_test=50, height=128, width=128, seed=0, workers=None):
    """Write the synthetic dataset to ``out_dir`` (replacing earlier ``demo_*.png`` files there).

    Image ``i`` of a split depends only on ``(seed, split, i)``, so the same
    arguments always give the same files.

    Returns:
        :class:`DemoDataset`.
    """
    if min(height, width) < 32:
        raise DataLoaderError(f"demo images of {width}x{height}: height and width must be at least 32 pixels")
    out_dir = os.fspath(out_dir)
    folders = {}
    for split in _SPLITS:
        for kind in ("images", "annotations"):
            folder = os.path.join(out_dir, f"{kind}_prepped_{split}")
            os.makedirs(folder, exist_ok=True)
            for name in os.listdir(folder):
                if name.startswith("demo_") and name.endswith(".png"):
                    os.remove(os.path.join(folder, name))
            folders[kind, split] = folder
    jobs = [(split, i) for split, n in zip(_SPLITS, (n_train, n_test)) for i in range(int(n))]

    def write(job):
        split, i = job
        image, mask = make_demo_sample(height, width, seed=(seed, _SPLITS.index(split), i))
        name = f"demo_{i:05d}.png"
        _write_png(os.path.join(folders["images", split], name), image)
        _write_png(os.path.join(folders["annotations", split], name), mask)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        list(pool.map(write, jobs))
    classes_file = os.path.join(out_dir, "classes.txt")
    with open(classes_file, "w", encoding="utf-8") as handle:
        handle.writelines(f"{i}\t{name}\n" for i, name in enumerate(DEMO_CLASS_NAMES))
    return DemoDataset(
        out_dir,
        folders["images", "train"],
        folders["annotations", "train"],
        folders["images", "test"],
        folders["annotations", "test"],
        classes_file,
        len(DEMO_CLASS_NAMES),
        list(DEMO_CLASS_NAMES),
    )


def make_demo_sample(height=128, width=128, seed=0):
    """One ``(BGR uint8 image, uint8 class-id mask)`` pair; ``seed`` is an int or a tuple of ints.

    Example:
        >>> image, mask = make_demo_sample(64, 64, seed=3)
        >>> image.shape, mask.shape, int(mask.max()) <= 4
        ((64, 64, 3), (64, 64), True)
    """
    rng = np.random.default_rng(seed)
    image = _background(rng, height, width)
    mask = np.zeros((height, width), np.uint8)
    size = min(height, width)
    for _ in range(int(rng.integers(2, 6))):
        class_id = int(rng.integers(1, len(DEMO_CLASS_NAMES)))
        shape = np.zeros((height, width), np.uint8)
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.uniform(0.12, 0.3) * size)
        _draw_shape(shape, class_id, centre, radius, rng)
        inside = shape > 0
        image[inside] = _shape_colours(rng, class_id, height, width)[inside]
        mask[inside] = class_id
    noise = rng.normal(0.0, 8.0, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8), mask


# ---------------------------------------------------------------- drawing
def _background(rng, height, width):
    """A smooth low-saturation colour field with stripes (float32 BGR)."""
    coarse = np.empty((4, 4, 3), np.uint8)
    coarse[..., 0] = rng.integers(0, 180, (4, 4))  # hue
    coarse[..., 1] = rng.integers(0, 70, (4, 4))  # low saturation: no shape hue dominates
    coarse[..., 2] = rng.integers(50, 220, (4, 4))
    field = cv2.resize(cv2.cvtColor(coarse, cv2.COLOR_HSV2BGR), (width, height), interpolation=cv2.INTER_CUBIC)
    field = field.astype(np.float32)
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * rng.uniform(0.1, 0.5))
    return field + (stripes * rng.uniform(5, 25))[:, :, None]


def _shape_colours(rng, class_id, height, width):
    """The class's hue (jittered) with a brightness gradient across the image (float32 BGR)."""
    hue = (_HUES[class_id] + int(rng.integers(-_HUE_JITTER, _HUE_JITTER + 1))) % 180
    hsv = np.array([[[hue, rng.integers(150, 256), rng.integers(150, 256)]]], np.uint8)
    colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32)
    gradient = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(0.75, 1.0), width, dtype=np.float32)
    return colour * gradient[None, :, None] * np.ones((height, 1, 1), np.float32)


def _draw_shape(canvas, class_id, centre, radius, rng):
    cx, cy = centre
    if class_id == 1:
        cv2.circle(canvas, centre, radius, 1, -1, cv2.LINE_8)
        return
    angle = rng.uniform(0, 2 * np.pi)
    if class_id == 2:
        aspect = rng.uniform(0.5, 1.0)
        corners = [(radius, radius * aspect), (-radius, radius * aspect), (-radius, -radius * aspect),
                   (radius, -radius * aspect)]
        points = [_rotate(x, y, angle) for x, y in corners]
    elif class_id == 3:
        points = [_polar(radius, angle + k * 2 * np.pi / 3) for k in range(3)]
    else:
        points = [_polar(radius if k % 2 == 0 else radius * 0.45, angle + k * np.pi / 5) for k in range(10)]
    polygon = np.round(np.array(points) + (cx, cy)).astype(np.int32)
    cv2.fillPoly(canvas, [polygon], 1, cv2.LINE_8)


def _rotate(x, y, angle):
    return x * np.cos(angle) - y * np.sin(angle), x * np.sin(angle) + y * np.cos(angle)


def _polar(radius, angle):
    return radius * np.cos(angle), radius * np.sin(angle)


def _write_png(path, array):
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise DataLoaderError(f"{path}: cannot encode the demo image as PNG")
    encoded.tofile(path)
