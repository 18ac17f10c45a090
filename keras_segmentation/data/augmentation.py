"""Data augmentation with Albumentations, applied identically to an image, its mask and extra inputs.

The original library's four named pipelines (imgaug) are rebuilt from their
Albumentations equivalents. Left out: ops with no equivalent, and ``Superpixels``
(about 130 ms per 480x360 image); imgaug's ``PiecewiseAffine`` became the much
faster ``GridDistortion``:

* ``aug_all`` (default): flips, crop/pad, affine, then up to five photometric or
  local-warp ops (blur, sharpen, emboss, noise, dropout, invert, contrast, hue,
  grayscale, elastic, grid and perspective distortion), in random order.
* ``aug_all2``: ``aug_non_geometric`` and ``aug_geometric``, each with probability 0.65.
* ``aug_geometric``: one of flips, crop/pad, small crop, large crop, affine.
* ``aug_non_geometric``: a sequence of occasional photometric ops (brightness,
  JPEG artefacts, blur, motion blur, hue/saturation, grayscale, colour temperature,
  gamma, tone curve, CLAHE, equalisation, contrast, emboss).

Rules every augmenter follows:

* Masks are warped with nearest-neighbour interpolation (custom transforms too).
  In the named pipelines, pixels moved in from outside the image get ``mask_fill``
  in the mask (the trainer passes its ignore index) and 0 in the images.
* Colour ops (hue, grayscale, colour temperature) run only when every image has
  3 channels; CLAHE and equalisation only on 1 or 3 channels. ``uint16`` images are
  augmented as float32 in [0, 1] and converted back.
* The result depends only on ``seed``: each worker thread has its own copy of the
  pipeline, reseeded on every call, so a resumed run reproduces an uninterrupted one.

Albumentations is imported when the first augmenter is built (it takes seconds),
with its online update check turned off (``NO_ALBUMENTATIONS_UPDATE=1`` unless set).

Example:
    >>> augment = get_augmenter("aug_geometric", mask_fill=255)
    >>> image, mask, _ = augment(image, mask, seed=7)          # same seed, same result
    >>> import albumentations as A
    >>> flip = get_augmenter(custom_augmentation=A.HorizontalFlip(p=1))
"""

import copy
import inspect
import os
import random
import threading

import numpy as np

from ..errors import AugmentationError

#: The named pipelines, as the original library's ``augmentation_name`` values.
AUGMENTATION_NAMES = ("aug_all", "aug_all2", "aug_geometric", "aug_non_geometric")

_NEAREST = 0  # cv2.INTER_NEAREST, without importing cv2 here


def get_augmenter(augmentation_name="aug_all", custom_augmentation=None, mask_fill=0):
    """An :class:`Augmenter` for a named pipeline, or for ``custom_augmentation`` when given.

    Args:
        augmentation_name: one of :data:`AUGMENTATION_NAMES` (ignored when
            ``custom_augmentation`` is given).
        custom_augmentation: an Albumentations transform; a zero-argument callable
            returning one (the original library's form); or a callable taking
            ``image=``, ``mask=`` (and ``image1=``, ``image2=``... for extra inputs)
            keywords and returning a dict of them (not seeded by ``seed``).
        mask_fill: mask value for pixels moved in from outside the image by the
            named pipelines (custom transforms keep their own ``fill_mask``).

    Raises:
        AugmentationError: unknown name or unusable custom augmentation.
    """
    return Augmenter(augmentation_name, custom_augmentation, mask_fill)


def build_pipeline(augmentation_name="aug_all", *, channels=3, mask_fill=0):
    """The named pipeline as an Albumentations transform for images with ``channels`` channels.

    ``channels=None`` (inputs with different channel counts) leaves out every
    channel-specific op. The result is not seeded; :class:`Augmenter` does that.

    Example:
        >>> pipeline = build_pipeline("aug_geometric", channels=1, mask_fill=255)
    """
    if augmentation_name not in AUGMENTATION_NAMES:
        raise AugmentationError(
            f"augmentation_name {augmentation_name!r} is unknown; choose one of {', '.join(AUGMENTATION_NAMES)}"
        )
    A = _albumentations()
    if augmentation_name == "aug_all":
        return _aug_all(A, channels, mask_fill)
    if augmentation_name == "aug_geometric":
        return _aug_geometric(A, mask_fill)
    if augmentation_name == "aug_non_geometric":
        return _aug_non_geometric(A, channels)
    return A.Sequential(
        [
            A.Sequential([_aug_non_geometric(A, channels)], p=0.65),
            A.Sequential([_aug_geometric(A, mask_fill)], p=0.65),
        ]
    )


def derive_seed(seed, *keys):
    """A 32-bit seed depending only on ``seed`` and ``keys`` (e.g. epoch and sample index).

    Example:
        >>> derive_seed(0, 3, 17) == derive_seed(0, 3, 17) != derive_seed(0, 3, 18)
        True
    """
    return int(np.random.SeedSequence([int(seed), *(int(k) for k in keys)]).generate_state(1)[0])


class Augmenter:
    """Applies one augmentation pipeline to an image, its mask and extra input images.

    Thread-safe: every thread works on its own copy of the pipeline. Deterministic:
    calls with the same ``seed`` and inputs give the same result in any thread.

    Example:
        >>> augment = Augmenter("aug_all", mask_fill=255)
        >>> image, mask, others = augment(image, mask, [depth_image], seed=3)
    """

    def __init__(self, augmentation_name="aug_all", custom_augmentation=None, mask_fill=0):
        if custom_augmentation is None and augmentation_name not in AUGMENTATION_NAMES:
            raise AugmentationError(
                f"augmentation_name {augmentation_name!r} is unknown; choose one of {', '.join(AUGMENTATION_NAMES)}"
            )
        if custom_augmentation is not None and not callable(custom_augmentation):
            raise AugmentationError(
                f"custom_augmentation must be an Albumentations transform or a callable, "
                f"got {type(custom_augmentation).__name__}"
            )
        self.augmentation_name = augmentation_name
        self.custom_augmentation = custom_augmentation
        self.mask_fill = mask_fill
        self._local = threading.local()

    def __call__(self, image, mask, other_images=None, seed=None):
        """Augment ``image`` and ``mask`` (and ``other_images``) with one random draw.

        Args:
            image: ``(H, W)`` or ``(H, W, C)`` array, uint8, uint16 or float32 in [0, 1].
            mask: ``(H, W)`` integer class ids.
            other_images: optional list of extra input images of the same height and width.
            seed: int; ``None`` draws fresh randomness.

        Returns:
            ``(image, mask, other_images)`` with the input shapes and dtypes
            (``other_images`` is ``None`` when none were given).
        """
        images = [image, *(other_images or [])]
        for i, img in enumerate(images):
            if img.shape[:2] != mask.shape[:2]:
                which = "image" if i == 0 else f"other image {i}"
                raise AugmentationError(
                    f"{which} is {img.shape[1]}x{img.shape[0]} but the mask is {mask.shape[1]}x{mask.shape[0]} "
                    "(width x height); augmentation needs equal sizes"
                )
        prepared = [_to_float_if_needed(np.atleast_3d(img)) for img in images]
        channels = {p.shape[2] for p in prepared}
        pipeline = self._pipeline(len(images) - 1, channels.pop() if len(channels) == 1 else None)
        if hasattr(pipeline, "set_random_state"):
            pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))
        data = {"image": prepared[0], "mask": mask}
        data.update({f"image{i}": p for i, p in enumerate(prepared[1:], 1)})
        out = pipeline(**data)
        results = [_restore(out["image" if i == 0 else f"image{i}"], img) for i, img in enumerate(images)]
        others = results[1:] if other_images is not None else None
        return results[0], out["mask"], others

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_local"]  # per-thread pipelines are rebuilt where the copy is used
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _pipeline(self, n_others, channels):
        """This thread's pipeline for ``n_others`` extra images with ``channels`` channels."""
        cache = getattr(self._local, "pipelines", None)
        if cache is None:
            cache = self._local.pipelines = {}
        key = (n_others, channels)
        if key not in cache:
            cache[key] = self._build(n_others, channels)
        return cache[key]

    def _build(self, n_others, channels):
        A = _albumentations()
        if self.custom_augmentation is None:
            transform = build_pipeline(self.augmentation_name, channels=channels, mask_fill=self.mask_fill)
        else:
            transform = _custom_transform(self.custom_augmentation, A)
            if not _is_albumentations(transform, A):
                return transform
        return A.Compose(
            [transform],
            additional_targets={f"image{i}": "image" for i in range(1, n_others + 1)},
            mask_interpolation=_NEAREST,
        )


# ---------------------------------------------------------------- pipelines
def _aug_all(A, channels, fill):
    photometric = [
        A.OneOf([A.GaussianBlur(sigma_limit=(0.1, 3.0)), A.Blur(blur_limit=(3, 7)), A.MedianBlur(blur_limit=(3, 7))]),
        A.Sharpen(alpha=(0.0, 1.0), lightness=(0.75, 1.5)),
        A.Emboss(alpha=(0.0, 1.0), strength=(0.0, 2.0)),
        A.GaussNoise(std_range=(0.0, 0.05), per_channel=True),
        A.OneOf([A.PixelDropout(dropout_prob=0.05), A.CoarseDropout(num_holes_range=(1, 8),
                                                                     hole_height_range=(0.02, 0.1),
                                                                     hole_width_range=(0.02, 0.1))]),
        A.InvertImg(p=0.1),
        A.RandomBrightnessContrast(brightness_limit=0.1, contrast_limit=0.5),
        A.MultiplicativeNoise(multiplier=(0.5, 1.5), per_channel=True),
        A.ElasticTransform(alpha=20, sigma=5, fill_mask=fill),
        A.GridDistortion(distort_limit=0.2, fill_mask=fill),
        A.Perspective(scale=(0.01, 0.1), fill_mask=fill),
    ]
    if channels == 3:
        photometric += [A.HueSaturationValue(hue_shift_limit=10, sat_shift_limit=20, val_shift_limit=0),
                        A.ToGray()]
    return A.RandomOrder(
        [
            A.HorizontalFlip(p=0.5),
            A.VerticalFlip(p=0.2),
            _crop_and_pad(A, (-0.05, 0.1), fill, p=0.5),
            _affine(A, fill, p=0.5),
            A.SomeOf(photometric, n=5, p=1.0),  # each op then applies with its own p=0.5: 0 to 5 ops
        ],
        n=5,
    )


def _aug_geometric(A, fill):
    big_crop = (-0.25, -0.15)  # imgaug Crop(percent=(0.3, 0.5)) kept 0..40 % of a side; this keeps 50..70 %
    # OneOf uses the p values as weights: the large crop was listed three times in the original.
    return A.OneOf(
        [
            A.Sequential([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.2)], p=1 / 7),
            _crop_and_pad(A, (-0.05, 0.1), fill, p=1 / 7),
            _crop_and_pad(A, (-0.1, 0.0), fill, p=1 / 7),
            _crop_and_pad(A, big_crop, fill, p=3 / 7),
            A.Sequential([_affine(A, fill, p=1.0), _crop_and_pad(A, big_crop, fill, p=0.3)], p=1 / 7),
        ],
        p=1.0,
    )


def _aug_non_geometric(A, channels):
    ops = [
        A.MultiplicativeNoise(multiplier=(0.5, 1.5), per_channel=True, p=0.3),
        A.ImageCompression(quality_range=(30, 95), p=0.2),
        A.GaussianBlur(sigma_limit=(0.1, 2.0), p=0.2),
        A.MotionBlur(blur_limit=(3, 7), p=0.2),
    ]
    if channels == 3:
        ops += [
            A.HueSaturationValue(hue_shift_limit=15, sat_shift_limit=30, val_shift_limit=0, p=0.2),
            A.ToGray(p=0.1),
            A.PlanckianJitter(p=0.2),
        ]
    ops += [A.RandomGamma(gamma_limit=(50, 200), p=0.2), A.RandomToneCurve(scale=0.2, p=0.2)]
    if channels in (1, 3):
        ops += [A.CLAHE(clip_limit=(1, 4), p=0.2), A.Equalize(p=0.1)]
    ops += [
        A.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=0.5, p=0.3),
        A.Emboss(alpha=(0.0, 0.5), strength=(0.5, 1.5), p=0.2),
    ]
    return A.Sequential(ops, p=1.0)


def _affine(A, fill, p):
    return A.Affine(
        scale={"x": (0.8, 1.2), "y": (0.8, 1.2)},
        translate_percent={"x": (-0.2, 0.2), "y": (-0.2, 0.2)},
        rotate=(-45, 45),
        shear=(-16, 16),
        fill=0,
        fill_mask=fill,
        p=p,
    )


def _crop_and_pad(A, percent, fill, p):
    return A.CropAndPad(percent=percent, keep_size=True, fill=0, fill_mask=fill, p=p)


# ------------------------------------------------------------------ helpers
def _albumentations():
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations

    return albumentations


def _is_albumentations(obj, A):
    return isinstance(obj, (A.BasicTransform, A.BaseCompose))


def _custom_transform(custom, A):
    """A fresh transform (or plain callable) for one thread from ``custom_augmentation``."""
    if _is_albumentations(custom, A):
        return copy.deepcopy(custom)
    if _is_factory(custom):
        made = custom()
        if _is_albumentations(made, A) or callable(made):
            return made
        raise AugmentationError(
            f"custom_augmentation() returned {type(made).__name__}; it must return an Albumentations "
            "transform (imgaug augmenters are not supported: rewrite them with albumentations)"
        )
    return custom


def _is_factory(fn):
    """True for callables called without arguments (the original's ``lambda: iaa.Sequential(...)`` form)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    takes_data = "image" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
    return not takes_data and all(p.default is not p.empty for p in params.values())


def _to_float_if_needed(image):
    """uint16 (and other non-uint8 integer) images become float32 in [0, 1]."""
    if image.dtype == np.uint8 or image.dtype == np.float32:
        return image
    if np.issubdtype(image.dtype, np.integer):
        return image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
    return image.astype(np.float32)


def _restore(augmented, original):
    """``augmented`` in the dtype and number of dimensions of ``original``."""
    if original.dtype != augmented.dtype:
        if np.issubdtype(original.dtype, np.integer):
            top = np.iinfo(original.dtype).max
            augmented = np.clip(np.rint(augmented * top), 0, top)
        augmented = augmented.astype(original.dtype)
    if original.ndim == 2:
        augmented = augmented[:, :, 0]
    return augmented
