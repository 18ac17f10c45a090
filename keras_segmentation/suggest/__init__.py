"""What to label next: the pool's most uncertain, diverse images, written with the model's labels as pre-labels.

* :mod:`.run`: :func:`~.run.suggest` and its :class:`~.run.SuggestResult`;
* :mod:`.pool`: the pool's images, and those ``exclude`` names as already labelled;
* :mod:`.embeddings`: one vector per image (the encoder's pooled deepest features, or probabilities);
* :mod:`.selection`: the strategies: uncertainty weighted by distance (k-center), uncertainty, random;
* :mod:`.polygons`: a label map as polygons that the tools paint back into it;
* :mod:`.formats`: the pre-label writers, one module per format (labelme, COCO, CVAT).

Example:
    >>> from keras_segmentation.suggest import suggest
    >>> result = suggest("runs/fit", "frames/", n=50, out="to_label/", format="labelme")
    >>> result.chosen[:2]
    ['frames/0412.png', 'frames/0077.png']
"""

from .formats import FORMATS
from .run import SuggestResult, suggest
from .selection import STRATEGIES

__all__ = ["FORMATS", "STRATEGIES", "SuggestResult", "suggest"]
