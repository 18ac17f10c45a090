"""A trained model on disk: the files ``train(checkpoints_path=...)`` writes, a ``fit`` run folder and a preset folder.

For ``checkpoints_path="ckpt/vgg_unet_1"`` training writes:

* ``ckpt/vgg_unet_1_config.json``: how to rebuild the model (the original's keys
  ``model_class, n_classes, input_height, input_width, output_height, output_width``
  plus ``channels, normalization, class_names, build_config, format_version,
  library_version``; models built by hand also store their ``architecture``);
* ``ckpt/vgg_unet_1.00003.weights.h5`` after epoch 3 (1-based, as Keras'
  ``ModelCheckpoint``): Keras weights, loadable with ``model.load_weights``; Keras
  stores the compiled optimizer's state in the same file, which resuming restores;
* ``ckpt/vgg_unet_1.keras``: the full model, at the end of training;
* ``ckpt/vgg_unet_1_history.json``: ``{"epochs": [{"epoch": 1, "loss": ..., "val_loss": ...,
  "learning_rate": ...}, ...]}``, one entry per checkpointed epoch;
* ``ckpt/vgg_unet_1_budget.json``: the time spent, with ``train(budget=...)``;
* ``ckpt/vgg_unet_1.interrupted.weights.h5`` + ``.interrupted.json``: the mid-epoch checkpoint of a Ctrl-C.

One module per concept: :mod:`.names` (the file names, finding the newest
weights), :mod:`.config` (the ``_config.json`` schema), :mod:`.history`,
:mod:`.weights` (weights with their optimizer and random-generator states),
:mod:`.resume` (continuing a run) and :mod:`.load` (a model from a checkpoint or a
``.keras`` file); :mod:`.run_folder` and :mod:`.preset_folder` read the folders ``fit`` and
``save_preset`` write as models (the other pipelines take any of the three as ``model``);
:mod:`.temperature` says where each keeps its calibration temperature (``"temperature"`` in
``_config.json``, when calibrated). Every file is written with
:func:`keras_segmentation.atomic.atomic_write` and :data:`WRITE_OPTIONS`, so a
crash or a full disk never leaves a half-written checkpoint under the real name.

Example:
    >>> from keras_segmentation.checkpoints.names import find_latest_checkpoint
    >>> from keras_segmentation.checkpoints.load import load_model_from_checkpoint
    >>> latest = find_latest_checkpoint("ckpt/vgg_unet_1")   # 'ckpt/vgg_unet_1.00005.weights.h5'
    >>> model = load_model_from_checkpoint("ckpt/vgg_unet_1")
"""

from ..errors import CheckpointWriteError

#: Keyword arguments of :func:`~keras_segmentation.atomic.atomic_write` (and ``atomic_write_text``) for a
#: checkpoint file: a failed write raises CheckpointWriteError, saying the earlier checkpoints are intact
#: and how to resume (``{fix}``: :func:`keras_segmentation.atomic.write_fix`).
WRITE_OPTIONS = {
    "advice": "earlier checkpoints are intact: {fix}, then resume with auto_resume_checkpoint=True",
    "error_class": CheckpointWriteError,
}
