"""autofit: `fit()`, a good model from any folder within a time budget, with no choices to make.

* :mod:`.inputs`: what ``fit`` is given (folders, classes, options), checked before any work;
* :mod:`.fingerprint`: what the data is (sizes, channels, classes, void, widths, groups, the machine);
* :mod:`.split`: the groups in file names and the validation split that holds out whole groups;
* :mod:`.machine`: the machine a fingerprint records (CPU cores, bfloat16, GPUs, memory);
* :mod:`.plan`: the rules that turn the fingerprint and the budget into training decisions;
* :mod:`.probe`: the throughput probe that sizes the plan to this machine;
* :mod:`.recipe`: the model, augmentation and callbacks a plan turns into;
* :mod:`.tiles`: native-scale validation tiles for a crop-trained model;
* :mod:`.folder`: the run folder (which folder, what it may hold, its JSON files);
* :mod:`.start_from`: a new run continuing a finished one on grown data (``fit(start_from=RUN)``);
* :mod:`.run`: :func:`fit` itself.

Example:
    >>> from keras_segmentation import fit
    >>> fit("data/images", "data/masks", budget="45m", out="runs/roads")   # doctest: +SKIP
"""

__all__ = ["fit"]


def __getattr__(name):
    """``fit`` is loaded on first use: the fingerprint and the plan's rules import no Keras."""
    if name == "fit":
        from .run import fit

        return fit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
