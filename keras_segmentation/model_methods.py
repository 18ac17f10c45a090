"""What the original API's model methods run, bound from the package's top so that ``models/`` imports no pipeline.

The original library puts ``train``, ``predict_segmentation`` and others on the model. As keras-hub keeps a
Backbone ignorant of its tasks, :class:`~keras_segmentation.models.segmentation_model.SegmentationModel` only calls
:func:`call` with the method's name; ``keras_segmentation/__init__.py``, the top layer, binds each name to the
function that implements it (``"module:function"``, imported on first call).

Example:
    >>> from keras_segmentation import model_methods
    >>> model_methods.target("train")
    'keras_segmentation.training.loop:train'
"""

import importlib

_BOUND = {}


def bind(**targets):
    """Bind method names to ``"module:function"`` paths; the package's ``__init__`` does it once.

    Example:
        >>> bind(train="keras_segmentation.training.loop:train")
    """
    _BOUND.update(targets)


def target(name):
    """The ``"module:function"`` path bound to the method ``name``."""
    return _BOUND[name]


def call(name, model, *args, **kwargs):
    """Run the function bound to ``name`` with ``model`` as its first argument.

    Example:
        >>> call("predict_segmentation", model, inp="frame.png")   # doctest: +SKIP
    """
    module, _, function = target(name).partition(":")
    return getattr(importlib.import_module(module), function)(model, *args, **kwargs)
