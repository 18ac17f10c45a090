"""Losses: values against plain NumPy references, ignore_index, serialisation, training.

Runs on the backend in KERAS_BACKEND (TensorFlow by default); also run it with jax and torch.
"""

import keras
import numpy as np
import pytest

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.losses import (
    CombinedLoss,
    CrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    JaccardLoss,
    LovaszSoftmaxLoss,
    TverskyLoss,
    get_loss,
    masked_categorical_crossentropy,
)

C = 4
WEIGHTS = [0.5, 1.0, 2.0, 3.0]
EPS = 1e-7


def _batch(seed=0, ignore=255):
    """Labels (2, 3, 5) with some pixels set to ``ignore`` and softmax probabilities (2, 3, 5, C)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C - 1, size=(2, 3, 5)).astype(np.int32)  # class C-1 never in gt
    labels[0, 0, :3] = ignore
    logits = rng.normal(scale=2.0, size=(2, 3, 5, C))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return labels, probs.astype(np.float32)


def _value(loss, labels, probs):
    return float(keras.ops.convert_to_numpy(loss(labels, probs)))


# --- NumPy references: one pixel / one class at a time -------------------------------------


def _pixels(labels, probs, ignore, n=C):
    y = labels.reshape(-1)
    p = probs.reshape(-1, n).astype(np.float64)
    keep = (y >= 0) & (y < n) & (y != (-1 if ignore is None else ignore))
    return y[keep], p[keep]


def ref_cross_entropy(labels, probs, weights=None, ignore=None, gamma=0.0):
    y, p = _pixels(labels, probs, ignore)
    total = norm = 0.0
    for label, row in zip(y, p):
        w = 1.0 if weights is None else weights[label]
        pt = min(max(row[label], EPS), 1 - EPS)
        total += -w * (1 - pt) ** gamma * np.log(pt)
        norm += w
    return total / norm


def _class_mean(per_class, y, weights):
    present = [c for c in range(C) if np.any(y == c)]
    w = np.ones(C) if weights is None else np.asarray(weights)
    return sum(w[c] * per_class[c] for c in present) / sum(w[c] for c in present)


def ref_tversky(labels, probs, alpha, beta, weights=None, ignore=None, smooth=1.0):
    y, p = _pixels(labels, probs, ignore)
    per_class = {}
    for c in range(C):
        fg = y == c
        tp, fp, fn = p[fg, c].sum(), p[~fg, c].sum(), (1 - p[fg, c]).sum()
        per_class[c] = 1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    return _class_mean(per_class, y, weights)


def ref_dice(labels, probs, weights=None, ignore=None, smooth=1.0):
    y, p = _pixels(labels, probs, ignore)
    per_class = {c: 1 - (2 * p[y == c, c].sum() + smooth) / (p[:, c].sum() + (y == c).sum() + smooth) for c in range(C)}
    return _class_mean(per_class, y, weights)


def ref_jaccard(labels, probs, weights=None, ignore=None, smooth=1.0):
    y, p = _pixels(labels, probs, ignore)
    per_class = {}
    for c in range(C):
        inter = p[y == c, c].sum()
        per_class[c] = 1 - (inter + smooth) / (p[:, c].sum() + (y == c).sum() - inter + smooth)
    return _class_mean(per_class, y, weights)


def _jaccard_set_loss(wrong, truth):
    """Delta_J(M) = |M| / |truth u M| for the set M of mispredicted pixels."""
    return len(wrong) / len(truth | wrong) if wrong else 0.0


def ref_lovasz(labels, probs, weights=None, ignore=None):
    """Lovász extension as the integral over t of Delta_J({i: error_i > t}): no sorting trick."""
    y, p = _pixels(labels, probs, ignore)
    per_class = {}
    for c in range(C):
        errors = np.abs((y == c).astype(float) - p[:, c])
        truth = set(np.flatnonzero(y == c).tolist())
        cuts = np.concatenate([[0.0], np.unique(errors)])
        per_class[c] = sum(
            (hi - lo) * _jaccard_set_loss(set(np.flatnonzero(errors > lo).tolist()), truth)
            for lo, hi in zip(cuts[:-1], cuts[1:])
        )
    return _class_mean(per_class, y, weights)


CASES = {
    "ce": (lambda **kw: CrossEntropyLoss(**kw), lambda labels, p, **kw: ref_cross_entropy(labels, p, **kw)),
    "focal": (lambda **kw: FocalLoss(gamma=2.0, **kw), lambda labels, p, **kw: ref_cross_entropy(labels, p, gamma=2.0, **kw)),
    "dice": (lambda **kw: DiceLoss(**kw), lambda labels, p, **kw: ref_dice(labels, p, **kw)),
    "jaccard": (lambda **kw: JaccardLoss(**kw), lambda labels, p, **kw: ref_jaccard(labels, p, **kw)),
    "tversky": (
        lambda **kw: TverskyLoss(alpha=0.3, beta=0.7, **kw),
        lambda labels, p, **kw: ref_tversky(labels, p, 0.3, 0.7, **kw),
    ),
    "lovasz": (lambda **kw: LovaszSoftmaxLoss(**kw), lambda labels, p, **kw: ref_lovasz(labels, p, **kw)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("weights,ignore", [(None, 255), (WEIGHTS, 255), (WEIGHTS, 2), (None, None)])
def test_value_matches_numpy_reference(name, weights, ignore):
    make, reference = CASES[name]
    labels, probs = _batch(ignore=255 if ignore is None else ignore)
    if ignore is None:
        labels[labels == 255] = 1
    expected = reference(labels, probs, weights=weights, ignore=ignore)
    got = _value(make(class_weights=weights, ignore_index=ignore), labels, probs)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("ignore", [255, 1])
def test_ignored_pixels_contribute_nothing(name, ignore):
    labels, probs = _batch(seed=1, ignore=ignore)
    other = probs.copy()
    rng = np.random.default_rng(7)
    noise = rng.random(other.shape).astype(np.float32)
    other[labels == ignore] = (noise / noise.sum(-1, keepdims=True))[labels == ignore]
    assert not np.allclose(other, probs)
    loss = CASES[name][0](class_weights=WEIGHTS, ignore_index=ignore)
    assert _value(loss, labels, other) == pytest.approx(_value(loss, labels, probs), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_all_pixels_ignored_gives_zero_not_nan(name):
    labels, probs = _batch()
    labels[:] = 255
    assert _value(CASES[name][0](ignore_index=255), labels.astype(np.uint8), probs) == 0.0


def test_perfect_prediction_scores_zero_and_labels_with_channel_axis():
    labels, _ = _batch(ignore=255)
    perfect = np.eye(C, dtype=np.float32)[np.where(labels == 255, 0, labels)]
    for name in ("dice", "jaccard", "tversky", "lovasz"):
        assert _value(CASES[name][0](ignore_index=255), labels, perfect) == pytest.approx(0.0, abs=1e-6)
    _, probs = _batch()
    loss = CrossEntropyLoss(ignore_index=255)
    assert _value(loss, labels[..., None], probs) == pytest.approx(_value(loss, labels, probs), rel=1e-6)


def test_focal_with_gamma_zero_is_cross_entropy():
    labels, probs = _batch()
    assert _value(FocalLoss(gamma=0.0, ignore_index=255), labels, probs) == pytest.approx(
        _value(CrossEntropyLoss(ignore_index=255), labels, probs), rel=1e-6
    )


def test_lovasz_on_hard_prediction_is_one_minus_iou():
    labels, probs = _batch(seed=2)
    hard = np.eye(C, dtype=np.float32)[probs.argmax(-1)]
    valid = labels != 255
    y, p = labels[valid], probs.argmax(-1)[valid]
    ious = [np.sum((y == c) & (p == c)) / np.sum((y == c) | (p == c)) for c in range(C) if np.any(y == c)]
    assert _value(LovaszSoftmaxLoss(ignore_index=255), labels, hard) == pytest.approx(1 - np.mean(ious), rel=1e-5)


def test_saturated_probabilities_stay_finite():
    labels = np.array([[[0, 1]]])
    wrong = np.array([[[[0.0, 1.0], [1.0, 0.0]]]], dtype=np.float32)
    for name in ("ce", "focal"):
        value = _value(CASES[name][0](), labels, wrong)
        assert np.isfinite(value) and value > 10


def test_combined_losses_sum():
    labels, probs = _batch()
    ce = _value(CrossEntropyLoss(ignore_index=255), labels, probs)
    dice = _value(DiceLoss(ignore_index=255), labels, probs)
    focal = _value(FocalLoss(ignore_index=255), labels, probs)
    assert _value(get_loss("ce+dice", C, ignore_index=255), labels, probs) == pytest.approx(ce + dice, rel=1e-6)
    assert _value(get_loss(["CE", "focal"], C, ignore_index=255), labels, probs) == pytest.approx(ce + focal, rel=1e-6)
    weighted = get_loss({"cross_entropy": 1.0, "dice": 0.5}, C, ignore_index=255)
    assert isinstance(weighted, CombinedLoss)
    assert _value(weighted, labels, probs) == pytest.approx(ce + 0.5 * dice, rel=1e-6)


def test_get_loss_names_objects_and_errors():
    names = {"categorical_crossentropy": CrossEntropyLoss, "jaccard": JaccardLoss, "Tversky": TverskyLoss}
    for name, cls in {**names, "lovasz": LovaszSoftmaxLoss, "focal": FocalLoss}.items():
        loss = get_loss(name, C, class_weights=WEIGHTS, ignore_index=3)
        assert type(loss) is cls and loss.class_weights == WEIGHTS and loss.ignore_index == 3
    own = DiceLoss()
    assert get_loss(own, C) is own and get_loss(masked_categorical_crossentropy, C) is masked_categorical_crossentropy
    with pytest.raises(ModelConfigError, match="unknown loss 'hinge'"):
        get_loss("ce+hinge", C)
    with pytest.raises(ModelConfigError, match="3 values for n_classes=4"):
        get_loss("ce", C, class_weights=[1, 2, 3])
    with pytest.raises(ModelConfigError, match="non-negative"):
        DiceLoss(class_weights=[1, -1, 1, 1])
    labels, probs = _batch()
    with pytest.raises(ModelConfigError, match="class_weights has 2 values"):
        CrossEntropyLoss(class_weights=[1, 2])(labels, probs)


def test_masked_categorical_crossentropy_ignores_class_zero():
    labels, probs = _batch()
    expected = ref_cross_entropy(np.where(labels == 255, 0, labels), probs, ignore=0)
    labels[labels == 255] = 0
    assert _value(masked_categorical_crossentropy, labels, probs) == pytest.approx(expected, rel=1e-5)
    # The original's format: one-hot (batch, h*w, C); out-of-range labels were all-zero rows.
    onehot = np.eye(C, dtype=np.float32)[labels].reshape(2, -1, C)
    onehot[0, :3] = 0.0
    value = _value(masked_categorical_crossentropy, onehot, probs.reshape(2, -1, C))
    assert value == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", sorted(CASES) + ["combined"])
def test_get_config_round_trip(name):
    if name == "combined":
        loss = get_loss({"ce": 1.0, "lovasz": 0.25}, C, class_weights=WEIGHTS, ignore_index=255)
    else:
        loss = CASES[name][0](class_weights=WEIGHTS, ignore_index=255)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss) and restored is not loss
    assert restored.get_config() == loss.get_config()
    labels, probs = _batch()
    assert _value(restored, labels, probs) == pytest.approx(_value(loss, labels, probs), rel=1e-6)


def _tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 4, 2))
    return keras.Model(inputs, keras.layers.Conv2D(C, 1, activation="softmax")(inputs))


def _tiny_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 4, 4, 2)).astype(np.float32)
    y = (x[..., 0] > 0).astype(np.uint8) + 2 * (x[..., 1] > 0)  # learnable from the input
    y[:, 0, 0] = 255
    return x, y


@pytest.mark.parametrize("spec", sorted(CASES) + ["ce+dice"])
def test_gradient_steps_decrease_the_loss(spec):
    x, y = _tiny_data()
    model = _tiny_model()
    loss = get_loss(spec, C, class_weights=WEIGHTS, ignore_index=255)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    before = model.evaluate(x, y, batch_size=4, verbose=0)
    model.fit(x, y, batch_size=4, epochs=15, verbose=0)
    after = model.evaluate(x, y, batch_size=4, verbose=0)
    assert np.isfinite(after) and after < 0.9 * before


def test_compiled_model_saves_and_loads_with_the_loss(tmp_path):
    x, y = _tiny_data()
    model = _tiny_model()
    model.compile(optimizer="adam", loss=get_loss("ce+lovasz", C, ignore_index=255))
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)



def test_compile_with_keras_sparse_crossentropy_trains_on_every_backend():
    """``compile("adam", "sparse_categorical_crossentropy")`` on a SegmentationModel: on PyTorch it gets the flat
    equivalent (Keras' own fails there in backward: "grad_input must be contiguous"), with the same values."""
    from keras_segmentation.models.segmentation_model import SegmentationModel, flat_sparse_categorical_crossentropy

    rng = np.random.default_rng(0)
    probs = rng.random((2, 4, 6, 3)).astype("float32")
    probs /= probs.sum(-1, keepdims=True)
    labels = rng.integers(0, 3, (2, 4, 6))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(flat_sparse_categorical_crossentropy(labels, probs)),
                               keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(labels, probs)),
                               rtol=1e-6)
    x = keras.Input((8, 8, 3))
    model = SegmentationModel(x, keras.layers.Conv2D(3, 1, activation="softmax")(x), model_name="tiny")
    model.compile("adam", "sparse_categorical_crossentropy")
    expected = flat_sparse_categorical_crossentropy if keras.backend.backend() == "torch" else "sparse_categorical_crossentropy"
    assert model.loss == expected
    loss = model.fit(rng.random((2, 8, 8, 3)).astype("float32"), rng.integers(0, 3, (2, 8, 8)), verbose=0).history["loss"]
    assert np.isfinite(loss).all()
