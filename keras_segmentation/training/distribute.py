"""Data-parallel training on the engines made for it: ``tf.distribute`` (TensorFlow) and ``keras.distribution`` (JAX).

``train(..., distribute=...)`` accepts:

* ``"mirrored"``: every local device of this machine (TensorFlow ``MirroredStrategy``;
  on JAX ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``);
* ``"multi_worker"``: the machines ``TF_CONFIG`` names (``MultiWorkerMirroredStrategy``);
* a ``tf.distribute.Strategy``, or a ``keras.distribution.DataParallel`` / ``ModelParallel`` object (JAX).

What ``batch_size`` means: the batch **per replica**; a step takes
``batch_size x replicas`` images (the global batch). The learning rate is not
scaled: pass a larger ``learning_rate`` if you want the linear-scaling rule.

Data: every step's global batch comes from one shuffled order of all pairs per
epoch (derived from ``seed`` and the epoch), padded at the end by wrapping around
so all workers take the same number of steps; each worker reads only its slice of
it. An epoch covers every pair at least once (exactly once when the global batch
divides the pair count). Each sample's augmentation seed depends on the seed, the
epoch and its place in that order, so it is reproducible and the same whatever the
number of workers. Validation pads with blank samples whose pixels carry the
ignored label: the mean IoU, read off one confusion matrix summed over all
replicas, leaves them out; the validation loss and accuracy count them.

Checkpoints: only the chief (worker 0) writes, atomically; every worker resumes
from the chief's files, which must be on a folder all workers see. On several
workers ``seed`` defaults to 0 (all workers must draw the same order).

Example:
    >>> strategy = start_strategy("multi_worker")      # first thing in the program: TF_CONFIG is read
    >>> model = vgg_unet(n_classes=12, input_height=320, input_width=480)
    >>> model.train(train_images="imgs/", train_annotations="masks/", checkpoints_path="/shared/ckpt/run",
    ...             batch_size=4, distribute=strategy)
"""

import contextlib
import dataclasses
import os
import shutil
import tempfile

import keras
import numpy as np

from ..data.augmentation import derive_seed
from ..errors import ModelConfigError
from ..models.model_utils import layer_configs
from .collective import from_chief

NAMES = ("mirrored", "multi_worker")
#: the keras.distribution classes (Keras exports no common base class)
KERAS_DISTRIBUTIONS = (keras.distribution.DataParallel, keras.distribution.ModelParallel)


@dataclasses.dataclass(frozen=True)
class Replication:
    """Where one ``train()`` call runs: the engine object and this process's place among the workers."""

    engine: object
    replicas: int
    worker: int = 0
    workers: int = 1

    @property
    def is_chief(self):
        """Worker 0 writes checkpoints, configs and the final model."""
        return self.worker == 0

    @property
    def is_tensorflow(self):
        return not isinstance(self.engine, KERAS_DISTRIBUTIONS)

    def scope(self):
        """The context in which the model's variables are created and trained."""
        return self.engine.scope()


def scope(replication):
    """``replication.scope()``, or a no-op context without distribution."""
    return contextlib.nullcontext() if replication is None else replication.scope()


def start_strategy(name):
    """Create the engine for ``"mirrored"`` or ``"multi_worker"`` on the current backend.

    ``"multi_worker"`` must run before TensorFlow does anything else in the process
    (TensorFlow configures its collective operations once, at start-up): call it
    before building the model, or give ``train`` the model by name.

    Raises:
        ModelConfigError: an unknown name, a backend without data parallelism, or
            ``"multi_worker"`` after TensorFlow has started.
    """
    backend = keras.backend.backend()
    if name not in NAMES:
        raise ModelConfigError(f"distribute={name!r}: expected one of {', '.join(NAMES)} or a strategy object")
    if backend == "jax":
        if name == "multi_worker":
            raise ModelConfigError(
                "distribute='multi_worker' on JAX: call keras.distribution.initialize() on every process, then pass "
                "keras.distribution.DataParallel() as distribute="
            )
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    if backend != "tensorflow":
        raise ModelConfigError(f"distribute= needs the tensorflow or jax backend (KERAS_BACKEND is {backend!r})")
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as err:
        raise ModelConfigError(
            "distribute='multi_worker' must start before TensorFlow runs anything "
            f"({' '.join(str(err).split())}): call keras_segmentation.training.distribute.start_strategy('multi_worker') "
            "first in the program, build the model after it and pass the strategy as distribute="
        ) from None


def resolve(distribute):
    """The :class:`Replication` for ``train(distribute=...)``, or ``None`` for one device."""
    if distribute is None:
        return None
    engine = start_strategy(distribute) if isinstance(distribute, str) else distribute
    if isinstance(engine, KERAS_DISTRIBUTIONS):
        import jax

        # Data replicas (not devices: ModelParallel splits a replica over several); process 0 is the chief.
        return Replication(engine, replicas=engine.num_model_replicas, worker=jax.process_index(),
                           workers=jax.process_count())
    if not hasattr(engine, "num_replicas_in_sync"):
        raise ModelConfigError(
            f"distribute={distribute!r}: expected 'mirrored', 'multi_worker', a tf.distribute.Strategy "
            "or a keras.distribution.Distribution"
        )
    resolver = getattr(engine, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not spec:
        return Replication(engine, replicas=engine.num_replicas_in_sync)
    workers = sum(len(spec.get(kind, ())) for kind in ("chief", "worker"))
    worker = resolver.task_id + (len(spec.get("chief", ())) if resolver.task_type == "worker" else 0)
    return Replication(engine, replicas=engine.num_replicas_in_sync, worker=worker, workers=workers)


def replicate(model, replication):
    """A copy of ``model`` whose variables live in the engine's scope, holding the chief's weights.

    Variables made outside a strategy's scope are not mirrored, so the model is
    rebuilt from its config inside it, with synchronised batch normalisation (the
    statistics of the whole global batch, as on one device); on several workers the
    chief's weights are then broadcast, so every worker starts from the same point
    whatever its seed.
    """
    config = model.get_config()
    _synchronize_batch_norm(config)
    with replication.scope():
        copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    if replication.is_tensorflow:
        if replication.workers > 1:
            import tensorflow as tf

            for variable, value in zip(copy.weights, from_chief(replication.engine, copy.weights)):
                variable.assign(tf.cast(value, variable.dtype))
        # Keras peeks at a batch and reduces it eagerly to build a model made in a strategy's
        # scope, which MultiWorkerMirroredStrategy cannot do; the model is built already, and
        # training runs inside the scope, where Keras finds the strategy all the same.
        copy._distribute_strategy = None
    if replication.is_tensorflow and replication.workers > 1:
        copy.train_step, copy.test_step = _vector_logs(copy.train_step), _vector_logs(copy.test_step)
    return copy


def _vector_logs(step):
    """``step`` with each log value shaped ``(1,)``.

    On several workers Keras averages a step's logs over the replicas with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails for the scalar logs its
    own steps return; one-element vectors average to the same scalar. (The epoch's
    logs are read again from the metrics, whose states are summed over all replicas.)
    """
    import tensorflow as tf

    def step_with_vector_logs(data):
        return {name: tf.reshape(value, (1,)) for name, value in step(data).items()}

    return step_with_vector_logs


def _synchronize_batch_norm(config):
    """Turn on ``synchronized`` in every BatchNormalization layer of a (nested) model config, in place."""
    for layer in layer_configs(config):
        if layer["class_name"] == "BatchNormalization":
            layer["config"]["synchronized"] = True


def scratch_prefix(checkpoints_path):
    """A checkpoint prefix in a new temporary folder, for a worker other than the chief.

    Every worker saves in step with the chief (saving reads variables that are
    synchronised across workers); only the chief's files are kept.
    """
    return os.path.join(tempfile.mkdtemp(prefix="keras_segmentation_worker_"), os.path.basename(os.fspath(checkpoints_path)))


def remove_scratch(prefix):
    """Delete the folder :func:`scratch_prefix` made."""
    shutil.rmtree(os.path.dirname(prefix), ignore_errors=True)


# -------------------------------------------------------------------- batches
def steps_per_epoch(n_pairs, batch_size, replication):
    """Global steps that cover ``n_pairs`` once with ``batch_size`` per replica."""
    return -(-n_pairs // (batch_size * replication.replicas))


class ShardedBatches:
    """The per-replica batches of one worker: its slice of every global batch, epoch after epoch.

    ``dataset`` (a :class:`~keras_segmentation.data.loader.SegmentationDataset`)
    reads and augments the samples. Element ``i`` of the stream is replica
    ``i % local_replicas`` of global step ``i // local_replicas``. Each epoch is one
    pass over the pairs in ``dataset.order(epoch)``, padded at the end by wrapping
    around, or with ``blank_label`` (validation) blank images whose masks hold only
    that label. With ``stream=True`` (a ``steps_per_epoch`` the user chose), the
    global batches run through reshuffled passes instead, as ``SegmentationDataset``
    does with ``steps``.

    Example:
        >>> batches = ShardedBatches(dataset, batch_size=2, replicas=4, worker=1, workers=2, steps=10)
        >>> images, masks = batches.element(0)    # worker 1's first replica batch of step 0
    """

    def __init__(self, dataset, batch_size, replicas, worker, workers, steps, blank_label=None, stream=False):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.local_replicas = replicas // workers
        self.worker = worker
        self.global_batch = self.batch_size * replicas
        self.steps = int(steps)
        self.blank_label = blank_label
        self.stream = stream

    def positions(self, element):
        """``[(pass over the data, place in that pass's order), ...]`` of stream element ``element``."""
        step, replica = divmod(int(element), self.local_replicas)
        start = step * self.global_batch + (self.worker * self.local_replicas + replica) * self.batch_size
        if self.stream:
            return [divmod(p, len(self.dataset.pairs)) for p in range(start, start + self.batch_size)]
        epoch = step // self.steps
        first = epoch * self.steps * self.global_batch
        return [(epoch, p - first) for p in range(start, start + self.batch_size)]

    def element(self, element):
        """Images ``(batch, h, w, c)`` float32 and masks ``(batch, out_h, out_w)`` int32 of one replica."""
        samples = [self._sample(data_pass, k) for data_pass, k in self.positions(element)]
        return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples]).astype(np.int32)

    def _sample(self, data_pass, k):
        order = self.dataset.order(data_pass)
        if k >= len(order) and self.blank_label is not None:
            height, width = self.dataset.input_size
            return (np.zeros((height, width, self.dataset.channels), np.float32),
                    np.full(self.dataset.output_size, self.blank_label, np.int32))
        return self.dataset.sample(order[k % len(order)], derive_seed(self.dataset.seed, data_pass, k))

    def tf_dataset(self, first_element=0):
        """An endless ``tf.data.Dataset`` of this worker's elements from ``first_element`` on, read in parallel."""
        import tensorflow as tf

        height, width = self.dataset.input_size
        image_shape = (self.batch_size, height, width, self.dataset.channels)
        mask_shape = (self.batch_size, *self.dataset.output_size)

        def load(index):
            images, masks = tf.numpy_function(self.element, [index], (tf.float32, tf.int32))
            return tf.ensure_shape(images, image_shape), tf.ensure_shape(masks, mask_shape)

        elements = tf.data.Dataset.range(first_element, np.iinfo(np.int64).max)
        return elements.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(2)


def distributed_batches(dataset, batch_size, replication, steps, first_step=0, blank_label=None, stream=False):
    """The input ``model.fit`` takes under ``replication``: an endless stream, ``steps`` global steps per epoch.

    On TensorFlow each worker builds its own pipeline (``distribute_datasets_from_function``)
    over its slice; on JAX ``keras.distribution`` splits the global batch across devices.
    See :class:`ShardedBatches` for ``blank_label`` and ``stream``.
    """
    if not replication.is_tensorflow:
        whole = ShardedBatches(dataset, batch_size * replication.replicas, 1, 0, 1, steps, blank_label, stream)
        return whole.tf_dataset(first_step)
    import tensorflow as tf

    def per_worker(context):
        batches = ShardedBatches(dataset, batch_size, replication.replicas, context.input_pipeline_id,
                                 context.num_input_pipelines, steps, blank_label, stream)
        return batches.tf_dataset(first_step * batches.local_replicas)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return replication.engine.distribute_datasets_from_function(per_worker, options)
