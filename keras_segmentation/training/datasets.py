"""What ``train()`` feeds the model: verified pairs, input/output sizes, augmentation, batches, class weights.

Example:
    >>> pairs = training_pairs("imgs/", "masks/", None, True, n_classes=3, ignore_index=None,
    ...                        colour_map=None, read_image_type=1, channels=3)
    >>> input_size, output_size = io_sizes(model, pairs, read_image_type=1)
"""

import os
import warnings

import numpy as np

from ..data.augmentation import get_augmenter
from ..data.images import read_image_for_model
from ..data.loader import SegmentationDataset
from ..data.pairing import get_pairs_from_paths
from ..data.verify import verify_dataset
from ..errors import ModelConfigError
from .class_weights import compute_class_weights


def training_pairs(images, annotations, other_inputs_paths, verify, n_classes, ignore_index, colour_map, read_image_type,
                   channels=None):
    """The (image, mask) pairs of two folders; with ``verify``, after ``verify_dataset`` found no problem (warnings shown)."""
    if verify:
        report = verify_dataset(
            images,
            annotations,
            n_classes,
            ignore_index=ignore_index,
            colour_map=colour_map,
            read_image_type=read_image_type,
            other_inputs_paths=other_inputs_paths,
            channels=channels,
        )
        report.raise_for_problems()
        if report.warnings:
            shown = "; ".join(str(w) for w in report.warnings[:3])
            more = f" and {len(report.warnings) - 3} more" if len(report.warnings) > 3 else ""
            warnings.warn(f"dataset {os.fspath(images)}: {len(report.warnings)} warning(s): {shown}{more}", stacklevel=3)
    return get_pairs_from_paths(images, annotations, other_inputs_paths=other_inputs_paths)


def io_sizes(model, pairs, read_image_type):
    """(input, output) ``(height, width)``; models with free sizes take the first image's size.

    Reading the first image also stops a channel mismatch before anything is compiled or written.
    """
    image = read_image_for_model(pairs[0][0], model.channels, read_image_type)
    height, width = model.input_height or image.shape[0], model.input_width or image.shape[1]
    shape = model.compute_output_shape(tuple([None, height, width, model.channels]))
    shape = shape[0] if isinstance(shape, list) else shape
    return (height, width), (shape[1], shape[2])


def make_augmenter(do_augment, augmentation_name, custom_augmentation, ignore_index):
    """The training augmenter, or ``None`` when augmentation is off; padding fills masks with ``ignore_index``."""
    if not do_augment and custom_augmentation is None:
        return None
    return get_augmenter(augmentation_name, custom_augmentation, mask_fill=0 if ignore_index is None else ignore_index)


def segmentation_dataset(model, pairs, batch_size, input_size, output_size, ignore_index, read_image_type, colour_map,
                         preprocessing, workers, cache, seed, steps, shuffle, augmenter):
    """The batches of ``pairs`` shaped for ``model`` (one input or several)."""
    channels = [int(t.shape[-1]) for t in model.inputs]
    return SegmentationDataset(
        pairs,
        batch_size,
        model.n_classes,
        input_size,
        output_size,
        model.normalization,
        channels=channels if len(channels) > 1 else channels[0],
        augmenter=augmenter,
        shuffle=shuffle,
        seed=seed,
        steps=steps,
        cache=cache,
        ignore_index=ignore_index,
        preprocessing=preprocessing,
        read_image_type=read_image_type,
        colour_map=colour_map,
        workers=workers,
    )


def class_weight_vector(class_weights, pairs, n_classes, ignore_index, colour_map):
    """``class_weights`` (a method name, ``{class: weight}`` or a list) as ``n_classes`` floats, or ``None``."""
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        return compute_class_weights(
            [p[1] for p in pairs], n_classes, method=class_weights, ignore_index=ignore_index, colour_map=colour_map
        )
    if isinstance(class_weights, dict):
        weights = np.ones(n_classes, np.float32)
        for class_id, weight in class_weights.items():
            if not 0 <= int(class_id) < n_classes:
                raise ModelConfigError(f"class_weights: class {class_id} is not in 0..{n_classes - 1}")
            weights[int(class_id)] = weight
        return weights
    weights = np.asarray(class_weights, np.float32)
    if weights.shape != (n_classes,):
        raise ModelConfigError(f"class_weights has {weights.size} values but the model has {n_classes} classes")
    return weights

