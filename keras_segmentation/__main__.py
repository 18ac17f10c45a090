"""``python -m keras_segmentation``: see :mod:`keras_segmentation.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
