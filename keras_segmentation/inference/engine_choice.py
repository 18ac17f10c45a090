"""``engine="auto"``: run a Keras model on the fastest engine that gives the same labels, and say which.

With at least :data:`MIN_IMAGES` images to predict, the Keras model is timed on the first batch. When Keras alone
would take at least :data:`WORTH_TRYING_S` on all of them (so that the export, seconds, can pay for itself), the
model is exported to a temporary float32 ONNX file and run by ONNX Runtime on the same batch; ONNX Runtime is chosen
when it is at least :data:`MIN_SPEEDUP` times faster than Keras and its labels agree with Keras' on at least
:data:`MIN_AGREEMENT` of the pixels, Keras running in the precision asked for (bfloat16 under ``"auto"`` where the
CPU has it): what ``predict`` would give. Anything else keeps Keras: an exported file given as the model (it runs on
its own engine), another Keras backend than TensorFlow (the ONNX export is TensorFlow's), ONNX Runtime or tf2onnx
not installed, a precision asked for by name (only a Keras model changes precision), a failed export. The decision
is one line, printed.

Example:
    >>> model, line = choose_engine(model, images, {"batch_size": 4})
    >>> print(line)
    engine: onnxruntime 1.62x keras (tensorflow) on 4 images, labels 99.97 % the same
"""

import importlib.util
import time

import numpy as np

#: fewer images than this are predicted by Keras without timing anything: timing costs two more passes over the
#: first batch, which measured 5.7 % of a 101-image run (CamVid test folder, FPN 96x128, batch 2; 1.63 s against
#: 1.54, medians of 3) where no other engine could pay back; from 200 images on it is at most 2 %
MIN_IMAGES = 200
#: Keras' estimated time for all the images below which no other engine is tried (an export takes seconds)
WORTH_TRYING_S = 30.0
#: how much faster another engine must be to be chosen (timings on a few images are noisy)
MIN_SPEEDUP = 1.1
#: the share of label pixels another engine must give as Keras does
MIN_AGREEMENT = 0.999
#: the attributes a saved folder's model carries that the engine must carry too
_CARRIED = ("run_options", "class_colors", "class_names")


def choose_engine(model, sources, options, say=print, count=None):
    """``(model to run, decision line)``: ``model`` or its ONNX Runtime export, whichever predicts ``sources`` faster
    with the same labels (see the module). ``options`` are the :class:`~.predictor.Predictor` keywords the images
    will be predicted with; the sample is the first batch of ``sources``. ``count``: how many images will be
    predicted (default ``len(sources)``; a server passes ``math.inf``).

    Example:
        >>> choose_engine(keras_model, ["a.png"] * 400, {"batch_size": 2})[1]
        'engine: keras (tensorflow); 400 images take it about 12 s, too few to pay for an export'
    """
    count = len(sources) if count is None else count
    line = _keep_keras_because(model, options)
    if line is None and count < MIN_IMAGES:
        line = f"engine: {engine_name(model)}; {count} images: too few to time another engine"
    if line:
        return model, _said(line, say)
    sample = list(sources[: max(1, int(options.get("batch_size", 2)))])
    keras_s, keras_labels = _timed(model, sample, options, repeats=1)
    if all(labels is None for labels in keras_labels):
        return model, _said(f"engine: {engine_name(model)}; the first images are unreadable", say)
    estimate = keras_s / len(sample) * count
    if estimate < WORTH_TRYING_S:
        return model, _said(f"engine: {engine_name(model)}; {count} images take it about {estimate:.0f} s, too "
                            "few to pay for an export", say)
    from ..errors import SegmentationError, first_line
    from .predictor import model_or_checkpoint

    try:
        other = model_or_checkpoint(model, None, "onnxruntime")  # a temporary float32 export, loaded
    except (SegmentationError, ValueError, RuntimeError, ImportError) as err:
        return model, _said(f"engine: {engine_name(model)}; the ONNX export failed: {first_line(err)}", say)
    for name in _CARRIED:
        if hasattr(model, name):
            setattr(other, name, getattr(model, name))
    other_s, other_labels = _timed(other, sample, options)
    keras_s = min(keras_s, _timed(model, sample, options)[0])
    agreement = float(np.mean([np.mean(a == b) for a, b in zip(keras_labels, other_labels) if a is not None]))
    speedup = keras_s / max(other_s, 1e-9)
    measured = f"onnxruntime {speedup:.2f}x {engine_name(model)} on {len(sample)} images, labels {100 * agreement:.2f} % the same"
    if speedup >= MIN_SPEEDUP and agreement >= MIN_AGREEMENT:
        return other, _said(f"engine: {measured}", say)
    return model, _said(f"engine: {engine_name(model)}; {measured}", say)


def _keep_keras_because(model, options):
    """The decision line when no other engine is to be tried, else ``None``."""
    if not hasattr(model, "layers"):
        return f"engine: {engine_name(model)}, the exported model's own"
    import keras

    if keras.backend.backend() != "tensorflow":
        return f"engine: {engine_name(model)}; the ONNX export needs the TensorFlow backend"
    missing = [name for name in ("onnxruntime", "tf2onnx") if importlib.util.find_spec(name) is None]
    if missing:
        return f"engine: {engine_name(model)}; {' and '.join(missing)} not installed: pip install keras-segmentation[onnx]"
    if options.get("precision", "auto") not in (None, "auto"):
        return f"engine: {engine_name(model)}; precision={options['precision']!r} asked for"
    return None


def _timed(model, sample, options, repeats=2):
    """``(seconds, label maps)``: the fastest of ``repeats`` passes over ``sample`` after one that warms up (and
    gives the labels); an unreadable image's label map is ``None``."""
    from .predictor import Predictor

    predictor = Predictor(model, **options)
    results = list(predictor.run(sample))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        list(predictor.run(sample))
        times.append(time.perf_counter() - started)
    return min(times), [result.labels for result in results]


def engine_name(model):
    """What runs ``model``: an exported model's engine (``"onnxruntime"``, ...; Keras not imported), else
    ``"keras (<backend>)"``.

    Example:
        >>> engine_name(keras_model), engine_name(load_engine("model.onnx"))
        ('keras (tensorflow)', 'onnxruntime')
    """
    if getattr(model, "engine", None):
        return model.engine
    import keras

    return f"keras ({keras.backend.backend()})"


def _said(line, say):
    if say is not None:
        say(line)
    return line
