"""One ``fit`` process of the multi-worker fit tests: ``python fit_worker.py SPEC_JSON``.

SPEC: images, masks, out (the run folder), record (a JSON file this worker writes: fit's summary, or the error it
raised, and what this worker saw at each epoch's end: the epoch, val mIoU, learning rate, a checksum of the
weights), epochs or budget, settings, die_at_epoch (this worker exits abruptly when that epoch ends), min_probe_s
(the shortest throughput probe fit runs: a smaller one lets a short budget have one).
"""

import json
import os
import sys


def main(spec):
    import tensorflow as tf

    import keras_segmentation  # noqa: F401 - before TensorFlow, as a user's program does

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import numpy as np

    from keras_segmentation.autofit import fit, recipe
    from keras_segmentation.autofit import run as fit_module
    from keras_segmentation.errors import SegmentationError

    seen = []
    record = {"epochs_seen": seen}
    on_epoch_end = recipe.BestEpoch.on_epoch_end

    def recording(self, epoch, logs=None):  # BestEpoch comes after the budget's callback: it sees its decisions
        on_epoch_end(self, epoch, logs)
        weights = self.model.get_weights()
        seen.append({"epoch": epoch, "val_mean_iou": float((logs or {}).get("val_mean_iou", -1.0)),
                     "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                     "weights": float(sum(np.abs(w).astype(np.float64).sum() for w in weights)),
                     "stop": bool(self.model.stop_training)})
        if epoch == spec.get("die_at_epoch"):
            os._exit(17)

    recipe.BestEpoch.on_epoch_end = recording
    fit_module.MIN_PROBE_S = spec.get("min_probe_s", fit_module.MIN_PROBE_S)
    length = {"epochs": spec["epochs"]} if spec.get("epochs") else {"budget": spec["budget"]}
    try:
        record["summary"] = fit(spec["images"], spec["masks"], out=spec["out"], settings=spec["settings"],
                                distribute="multi_worker", verbose=False, **length)
    except SegmentationError as error:
        record["error"] = [type(error).__name__, str(error)]
    with open(spec["record"], "w") as handle:
        json.dump(record, handle)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
