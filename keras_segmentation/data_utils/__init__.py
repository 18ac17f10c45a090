"""The original library's module names (``data_loader``, ``augmentation``, ``visualize_dataset``).

They re-export :mod:`keras_segmentation.data` under the old names and signatures;
new code should import from :mod:`keras_segmentation.data` directly.
"""
