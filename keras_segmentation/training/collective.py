"""What the workers of a multi-worker run must agree on, taken from the chief: collectives on ``tf.distribute``.

Each function here is a collective: every worker must call it at the same point of its program, or the
workers that did wait forever for the others. A value a worker decides by itself (its clock, its
throughput, its machine) would let the workers decide differently; the chief's value (worker 0 holds
replica 0) is the value.

Example:
    >>> spent, = chief_numbers(replication, [time.perf_counter() - started])     # the chief's clock, on every worker
    >>> plan = on_chief(replication, make_the_plan)     # made on the chief; its result, or its error, on every worker
"""

import json

import numpy as np

from .. import errors


def from_chief(strategy, values):
    """The chief's ``values`` (tensors, arrays or variables) on every worker, as float32 tensors.

    Every replica sums its values times 1 on replica 0, else 0: the sum is replica 0's values, exactly.
    """
    import tensorflow as tf

    def chief_only():
        context = tf.distribute.get_replica_context()
        keep = tf.cast(tf.equal(context.replica_id_in_sync_group, 0), tf.float32)
        return [context.all_reduce("sum", tf.cast(v, tf.float32) * keep) for v in values]

    return [strategy.experimental_local_results(value)[0] for value in strategy.run(chief_only)]


def chief_numbers(replication, numbers):
    """The chief's ``numbers`` (floats, rounded to float32) on every worker of ``replication``.

    Example:
        >>> chief_numbers(replication, [12.5, 1.0])   # on every worker: the chief's two numbers
        [12.5, 1.0]
    """
    shared, = from_chief(replication.engine, [np.asarray(numbers, np.float32)])
    return [float(value) for value in shared.numpy()]


def chief_text(replication, text):
    """The chief's ``text`` on every worker (the others' ``text`` is ignored): its length, then its bytes."""
    data = np.frombuffer(text.encode("utf-8"), np.uint8) if replication.is_chief else np.zeros(0, np.uint8)
    length = int(chief_numbers(replication, [len(data)])[0])
    padded = np.zeros(length, np.float32)
    padded[: len(data)] = data
    shared, = from_chief(replication.engine, [padded])
    return shared.numpy().astype(np.uint8).tobytes().decode("utf-8")


def on_chief(replication, produce):
    """``produce()`` on the chief only; its result (JSON data) on every worker, or its error raised on every worker.

    With one worker (or ``replication=None``) this is ``produce()``. On several, the result goes through
    JSON on every worker, the chief included, so all hold equal values; an error of the chief is raised on
    the others as the same :class:`~keras_segmentation.errors.SegmentationError` class with the same message
    (any other error as a :class:`~keras_segmentation.errors.TrainingError` naming it), so none waits forever.

    Example:
        >>> plan = on_chief(replication, lambda: make_plan(fingerprint))   # doctest: +SKIP
    """
    if replication is None or replication.workers < 2:
        return produce()
    if not replication.is_chief:
        shared = json.loads(chief_text(replication, ""))
        if "error" in shared:
            raise _error(*shared["error"])
        return shared["result"]
    try:
        text = json.dumps({"result": produce()})
    except BaseException as error:
        chief_text(replication, json.dumps({"error": [type(error).__name__, " ".join(str(error).split())]}))
        raise
    chief_text(replication, text)
    return json.loads(text)["result"]


def _error(name, message):
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.SegmentationError):
        return kind(message)
    return errors.TrainingError(f"worker 0 (the chief) stopped: {name}: {message}")
