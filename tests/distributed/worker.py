"""One training process of the distributed tests: ``python worker.py SPEC_JSON``.

SPEC: images, masks, out (an .npz of the final weights), checkpoints_path, epochs,
batch_size, distribute ("multi_worker", "mirrored" or null), resume, die_at_epoch
(this worker exits abruptly when that epoch begins), threads, workers (reader threads).
"""

import json
import os
import sys


def tiny_model():
    """A seeded network without batch normalisation, so one device and several agree to float precision."""
    import keras

    from keras_segmentation.models.segmentation_model import SegmentationModel

    keras.utils.set_random_seed(7)
    x = keras.Input((32, 48, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    y = keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(h))
    return SegmentationModel(x, y, model_name="tiny", normalization="divide")


def main(spec):
    import tensorflow as tf

    import keras_segmentation  # noqa: F401 - before TensorFlow, as a user's program does

    tf.config.threading.set_intra_op_parallelism_threads(spec.get("threads", 1))
    tf.config.threading.set_inter_op_parallelism_threads(spec.get("threads", 1))
    from keras_segmentation.training.distribute import start_strategy

    strategy = start_strategy(spec["distribute"]) if spec.get("distribute") else None
    import keras
    import numpy as np

    from keras_segmentation.training import train

    callbacks = []
    if spec.get("die_at_epoch") is not None:

        class Die(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == spec["die_at_epoch"]:
                    os._exit(17)

        callbacks.append(Die())
    model = tiny_model()
    history = train(
        model, spec["images"], spec["masks"], epochs=spec["epochs"], batch_size=spec["batch_size"], seed=3,
        optimizer_name="sgd", learning_rate=0.1, jit_compile=False, verbose=0, distribute=strategy,
        checkpoints_path=spec.get("checkpoints_path"), auto_resume_checkpoint=spec.get("resume", False),
        callbacks=callbacks, steps_per_epoch=spec.get("steps_per_epoch"), workers=spec.get("workers"),
        precision="float32",  # the runs are compared to float32 rounding, whatever "auto" would pick here
    )
    epochs_run = len(history.history["loss"]) if history is not None else 0
    np.savez(spec["out"], *model.get_weights(), epochs_run=epochs_run)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
