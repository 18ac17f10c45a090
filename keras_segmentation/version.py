"""The library's version, in a module of its own so that any layer can read it without importing the package's top.

Example:
    >>> from keras_segmentation.version import __version__
"""

__version__ = "0.4.0.dev0"
