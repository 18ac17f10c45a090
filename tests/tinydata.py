"""The tiny synthetic dataset of the tests (``from tinydata import write_tiny_dataset``; a module, not
``conftest``, because several test folders have a conftest of their own)."""

import pathlib


def write_tiny_dataset(root, n_images=6, height=32, width=48, n_classes=3, seed=0, image_ext=".png", mask_ext=".png"):
    """Write ``images/`` and ``masks/`` with coloured rectangles (class k drawn in colour k); returns the folders."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    images, masks = pathlib.Path(root) / "images", pathlib.Path(root) / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    palette = np.array([[20, 20, 20], [40, 200, 40], [200, 40, 200], [40, 40, 220], [220, 220, 40]], np.uint8)
    for i in range(n_images):
        mask = np.zeros((height, width), np.uint8)
        for class_id in range(1, n_classes):
            y, x = rng.integers(0, height // 2), rng.integers(0, width // 2)
            mask[y : y + height // 2, x : x + width // 2] = class_id
        image = palette[mask % len(palette)] + rng.integers(0, 20, (height, width, 3), dtype=np.uint8)
        cv2.imwrite(str(images / f"img_{i:03d}{image_ext}"), image)
        cv2.imwrite(str(masks / f"img_{i:03d}{mask_ext}"), mask)
    return images, masks
