"""Feeding image/mask pairs to ``model.fit``: a ``keras.utils.PyDataset``.

Batches are built from files by worker threads (decoding in OpenCV releases the
GIL, so threads overlap reading with the training step). Labels are integer
class maps ``(batch, out_h, out_w)`` for the sparse losses; images are float32
``(batch, in_h, in_w, channels)`` normalised as the model expects.

Order and augmentation are a pure function of ``(seed, epoch, position)``, so a
run resumed at epoch ``e`` sees exactly the batches an uninterrupted run would.

Example:
    >>> pairs = find_pairs("data/images", "data/masks").pairs
    >>> ds = SegmentationDataset(pairs, batch_size=4, n_classes=12, input_size=(352, 480),
    ...                          output_size=(176, 240), normalization="sub_mean", seed=1)
    >>> x, y = ds[0]           # (4, 352, 480, 3) float32, (4, 176, 240) int32
"""

import math
import os

import cv2
import keras
import numpy as np

from ..errors import PairingError, SizeMismatchError
from .augmentation import derive_seed
from .images import READ_COLOR, read_image, read_image_for_model
from .masks import check_mask_values, read_mask
from .normalization import normalize_image
from .pairing import get_pairs_from_paths


class SegmentationDataset(keras.utils.PyDataset):
    """Batches of (normalised images, integer masks) read from files.

    Args:
        pairs: ``(image, mask)`` or ``(image, mask, [other images])`` tuples; when every mask is ``None``
            (unlabelled images) batches hold the images only: ``(x,)``.
        batch_size: samples per batch.
        n_classes: mask values must be below this (or equal ``ignore_index``).
        input_size: ``(height, width)`` the images are resized to.
        output_size: ``(height, width)`` the masks are resized to (nearest).
        normalization: see :func:`~keras_segmentation.data.normalization.normalize_image`.
        channels: channel count of the model input (others per input for multi-input).
        augmenter: an :class:`~keras_segmentation.data.augmentation.Augmenter` or ``None``.
        shuffle: reshuffle the samples every epoch.
        seed: seed of the shuffle order and the augmentation.
        steps: batches per epoch; ``None`` is one pass over the data (the last
            batch may be smaller). A fixed number streams through reshuffled passes.
        cache, ignore_index, preprocessing, read_image_type, workers: the shared options
            (:mod:`keras_segmentation.options`); ``preprocessing`` runs after augmentation,
            ``workers`` are ``keras.utils.PyDataset``'s.
        colour_map: :class:`~keras_segmentation.data.masks.ColourMap` for colour-coded masks.
        max_queue_size: batches prepared ahead.

    Raises:
        PairingError: ``pairs`` is empty.
    """

    def __init__(
        self,
        pairs,
        batch_size,
        n_classes,
        input_size,
        output_size,
        normalization="sub_mean",
        *,
        channels=3,
        augmenter=None,
        shuffle=True,
        seed=0,
        steps=None,
        cache=False,
        ignore_index=None,
        preprocessing=None,
        read_image_type=READ_COLOR,
        colour_map=None,
        workers=None,
        max_queue_size=8,
    ):
        workers = _default_workers() if workers is None else workers
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        if not pairs:
            raise PairingError(
                "SegmentationDataset: pairs is empty; give at least one (image, mask) pair (see find_pairs)"
            )
        self.pairs = [tuple(p) for p in pairs]
        self.batch_size = int(batch_size)
        self.n_classes = int(n_classes)
        self.input_size = tuple(input_size)
        self.output_size = tuple(output_size)
        self.normalization = normalization
        self.channels = channels
        self.augmenter = augmenter
        self.shuffle = shuffle
        self.seed = 0 if seed is None else int(seed)
        self.steps = steps
        self.ignore_index = ignore_index
        self.preprocessing = preprocessing
        self.read_image_type = read_image_type
        self.colour_map = colour_map
        self.epoch = 0
        self.start_step = 0  # batches of the current epoch already done (resuming mid-epoch)
        self._cache = {} if cache else None

    # ----------------------------------------------------------- PyDataset API
    def __len__(self):
        return self.steps_per_epoch - self.start_step

    @property
    def steps_per_epoch(self):
        """Batches in a whole epoch."""
        if self.steps is not None:
            return int(self.steps)
        return math.ceil(len(self.pairs) / self.batch_size)

    def __getitem__(self, index):
        index += self.start_step
        samples = [self.load_sample(position) for position in self._positions(index)]
        images = [s[0] for s in samples]
        if isinstance(images[0], list):
            x = [np.stack([img[i] for img in images]) for i in range(len(images[0]))]
        else:
            x = np.stack(images)
        if samples[0][1] is None:
            return (x,)
        return x, np.stack([s[1] for s in samples])

    def on_epoch_end(self):
        # Keras stops its worker threads before calling this, so no batch of the
        # finished epoch can see the new epoch number.
        self.epoch += 1

    # ------------------------------------------------------------------ samples
    def load_sample(self, position):
        """Image(s) and mask for stream ``position`` of the current epoch."""
        epoch_pass, k = self._pass_and_offset(position)
        return self.sample(self.order(epoch_pass)[k], derive_seed(self.seed, epoch_pass, k))

    def sample(self, index, augment_seed):
        """Image(s) and mask of pair ``index``, augmented (if at all) from ``augment_seed``."""
        images, mask = self._read(index)
        if self.augmenter is not None:
            first, mask, others = self.augmenter(images[0], mask, images[1:] or None, seed=augment_seed)
            images = [first, *(others or [])]
        if mask is None:
            return self.model_inputs(images), None
        if mask.shape[:2] != self.output_size:
            mask = cv2.resize(mask, self.output_size[::-1], interpolation=cv2.INTER_NEAREST)
        return self.model_inputs(images), mask.astype(np.int32)

    def model_inputs(self, images):
        """The network input(s) made from the (augmented) images: preprocessed, resized and normalised."""
        inputs = [normalize_image(self.preprocessed(i, image), self.normalization, self.input_size)
                  for i, image in enumerate(images)]
        return inputs if len(inputs) > 1 else inputs[0]

    def preprocessed(self, i, image):
        """Input ``i``'s image after the ``preprocessing`` callable (if any)."""
        if self.preprocessing is None:
            return image
        fn = self.preprocessing[i] if isinstance(self.preprocessing, (list, tuple)) else self.preprocessing
        return fn(image)

    def _read(self, index):
        if self._cache is not None and index in self._cache:
            images, mask = self._cache[index]
            return list(images), mask
        pair = self.pairs[index]
        image_paths = [pair[0], *(pair[2] if len(pair) > 2 else [])]
        channels = self.channels if isinstance(self.channels, (list, tuple)) else [self.channels] * len(image_paths)
        images = [read_image_for_model(p, c, self.read_image_type) for p, c in zip(image_paths, channels)]
        mask = None if pair[1] is None else read_mask(pair[1], self.colour_map)
        if mask is not None:
            self._check_mask(mask, images[0], pair)
        if self._cache is not None:
            self._cache[index] = (images, mask)
        return list(images), mask

    def _check_mask(self, mask, image, pair):
        if mask.shape[:2] != image.shape[:2]:
            raise SizeMismatchError(
                f"{pair[1]}: mask is {mask.shape[1]}x{mask.shape[0]} but its image {os.path.basename(pair[0])} "
                f"is {image.shape[1]}x{image.shape[0]} (width x height)"
            )
        check_mask_values(mask, self.n_classes, self.ignore_index, pair[1])

    # -------------------------------------------------------------------- order
    def _positions(self, index):
        start = index * self.batch_size
        if self.steps is None:
            return range(start, min(start + self.batch_size, len(self.pairs)))
        base = self.epoch * int(self.steps) * self.batch_size
        return range(base + start, base + start + self.batch_size)

    def _pass_and_offset(self, position):
        """Which pass over the data (and where in it) a stream position falls."""
        if self.steps is None:
            return self.epoch, position
        return divmod(position, len(self.pairs))

    def order(self, epoch_pass):
        """The order of the pairs in pass ``epoch_pass`` over the data (shuffled from the seed, or as given)."""
        n = len(self.pairs)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch_pass]).permutation(n)


def image_segmentation_generator(
    images_path,
    segs_path,
    batch_size,
    n_classes,
    input_height,
    input_width,
    output_height,
    output_width,
    do_augment=False,
    augmentation_name="aug_all",
    custom_augmentation=None,
    other_inputs_paths=None,
    preprocessing=None,
    read_image_type=READ_COLOR,
    ignore_segs=False,
    *,
    seed=0,
):
    """The original's endless batch generator: yields ``(images, one-hot labels)``, or images with ``ignore_segs``.

    Images are ``(B, input_height, input_width, C)`` float32 ("sub_mean"); labels are
    one-hot ``(B, output_height, output_width, n_classes)`` float32, the shape the
    library's models output (the original flattened them for its reshaped models).
    The pairs are reshuffled every pass (the original reused one order) from ``seed``.
    Mask values outside ``[0, n_classes)`` raise a :class:`~keras_segmentation.errors.MaskValueError`
    naming the file (the original silently trained them as "no class").

    Example:
        >>> batches = image_segmentation_generator("imgs/", "masks/", 2, 12, 320, 480, 160, 240)
        >>> x, y = next(batches)                # (2, 320, 480, 3), (2, 160, 240, 12)
    """
    from .augmentation import get_augmenter

    augmenter = get_augmenter(augmentation_name, custom_augmentation) if do_augment or custom_augmentation else None
    pairs = get_pairs_from_paths(images_path, segs_path, other_inputs_paths=other_inputs_paths)
    channels = read_image(pairs[0][0], read_image_type).shape[-1]
    dataset = SegmentationDataset(
        pairs, batch_size, n_classes, (input_height, input_width), (output_height, output_width),
        augmenter=augmenter, seed=seed, steps=None, preprocessing=preprocessing, read_image_type=read_image_type,
        workers=1, channels=[channels] * (1 + len(other_inputs_paths)) if other_inputs_paths else channels,
    )
    while True:
        for index in range(len(dataset)):
            images, labels = dataset[index]
            yield images if ignore_segs else (images, np.eye(n_classes, dtype=np.float32)[labels])
        dataset.on_epoch_end()


def _default_workers():
    return max(1, min(4, os.cpu_count() or 1))
