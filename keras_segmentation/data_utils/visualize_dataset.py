"""The original ``keras_segmentation.data_utils.visualize_dataset`` API (now headless-safe).

Example:
    >>> visualize_segmentation_dataset("imgs", "masks", n_classes=2, out_dir="preview")
"""

from ..data.preview import visualize_segmentation_dataset, visualize_segmentation_dataset_one

__all__ = ["visualize_segmentation_dataset", "visualize_segmentation_dataset_one"]
