"""Count the parameters of the ORIGINAL keras_segmentation 0.3.0 models (run in a separate environment).

This script is not part of the library. It runs in a virtual environment that
holds the original library and its old stack (TensorFlow 2.15 / Keras 2.15),
builds each of the 22 ``model_from_name`` models at its default input size and
prints (or writes) a JSON record per model: parameters, trainable parameters,
output size.

Set-up (outside the repository)::

    python3 -m venv /tmp/orig-venv
    /tmp/orig-venv/bin/pip install -r ../shared/reference/original_requirements.txt
    /tmp/orig-venv/bin/pip install --no-deps keras-segmentation==0.3.0
    /tmp/orig-venv/bin/python bench/original_model_params.py --out bench/original_model_params.json

Nothing of the installed package is edited. Three things are rebound in this
process only, so that the original code builds offline on Keras 2.15:

* ``keras.utils.get_file`` and ``keras.Model.load_weights`` become no-ops: the
  VGG / ResNet50 / MobileNet encoders download ImageNet weights while they are
  built, and there is no network (weights do not change parameter counts);
* ``keras.layers.merge`` (imported by ``_pspnet_2.py``, gone from Keras 2.15) is
  provided as an alias module holding ``Concatenate`` and ``Add``;
* the default input sizes are passed explicitly: the 0.3.0 release on PyPI
  still defaults ``fcn_8_mobilenet`` / ``fcn_32_mobilenet`` to 416x608, which
  its own MobileNet encoder rejects (only 224x224 was allowed before PR #277);
  the sizes used are the repository HEAD defaults (original_library.md, section 1.3).

Example:
    $ /tmp/orig-venv/bin/python bench/original_model_params.py --n_classes 12
"""

import argparse
import json
import os
import sys
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: HEAD default input sizes (height, width) of the 22 registered names.
DEFAULT_SIZES = {
    "fcn_8": (416, 608),
    "fcn_32": (416, 608),
    "fcn_8_vgg": (416, 608),
    "fcn_32_vgg": (416, 608),
    "fcn_8_resnet50": (416, 608),
    "fcn_32_resnet50": (416, 608),
    "fcn_8_mobilenet": (224, 224),
    "fcn_32_mobilenet": (224, 224),
    "pspnet": (384, 576),
    "vgg_pspnet": (384, 576),
    "resnet50_pspnet": (384, 576),
    "pspnet_50": (473, 473),
    "pspnet_101": (473, 473),
    "unet_mini": (360, 480),
    "unet": (416, 608),
    "vgg_unet": (416, 608),
    "resnet50_unet": (416, 608),
    "mobilenet_unet": (224, 224),
    "segnet": (416, 608),
    "vgg_segnet": (416, 608),
    "resnet50_segnet": (416, 608),
    "mobilenet_segnet": (224, 224),
}


def _patch_offline():
    """Make the original constructors build without network access (this process only)."""
    import keras

    keras.utils.get_file = lambda *args, **kwargs: os.devnull
    keras.Model.load_weights = lambda self, *args, **kwargs: None
    merge = types.ModuleType("keras.layers.merge")
    merge.Concatenate = keras.layers.Concatenate
    merge.Add = keras.layers.Add
    sys.modules["keras.layers.merge"] = merge


def count(names, n_classes):
    """Build each original model and return ``{name: record}``."""
    import keras
    import numpy as np

    _patch_offline()
    from keras_segmentation.models.all_models import model_from_name

    records = {}
    for name in names:
        height, width = DEFAULT_SIZES[name]
        start = time.time()
        model = model_from_name[name](n_classes, input_height=height, input_width=width)
        trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        records[name] = {
            "input_height": height,
            "input_width": width,
            "n_classes": n_classes,
            "params": int(model.count_params()),
            "trainable_params": trainable,
            "output_height": int(model.output_height),
            "output_width": int(model.output_width),
            "layers": len(model.layers),
            "build_seconds": round(time.time() - start, 1),
        }
        print(json.dumps({name: records[name]}), flush=True)
        del model
        keras.backend.clear_session()
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n_classes", type=int, default=12)
    parser.add_argument("--out", help="write the JSON here (default: print only)")
    parser.add_argument("names", nargs="*", help="model names (default: all 22)")
    args = parser.parse_args(argv)
    names = args.names or list(DEFAULT_SIZES)
    records = count(names, args.n_classes)
    import keras

    import keras_segmentation

    result = {
        "library": "keras_segmentation 0.3.0 (PyPI)",
        "keras": keras.__version__,
        "location": os.path.dirname(keras_segmentation.__file__),
        "models": records,
    }
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1, sort_keys=True)
            handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
