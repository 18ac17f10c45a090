"""``fit`` on 60 classes named and coloured by a ``classes.txt`` colour column (``convert``'s layout): the fingerprint,
a 60-channel model, class weights, a short data report, the painted predictions of the run folder."""

import contextlib
import io
import pathlib

import cv2
import numpy as np
import pytest
from test_fit_run import load_json

from keras_segmentation.autofit import fit
from keras_segmentation.autofit.fingerprint import REPORT_CLASSES
from keras_segmentation.checkpoints.load import load_model
from keras_segmentation.inference import predict

N_CLASSES = 60


def write_many_classes(root, n=12, size=32, cell=4, seed=0):
    """``root`` with ``images/``, ``annotations/`` and ``classes.txt`` (id, name, colour): masks of ``cell``-px squares,
    the top three rows of squares class 0 (imbalanced: ENet class weights), the others ids that shift from image to
    image, so that every class is in the data; each class's pixels in its own colour."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (N_CLASSES, 3))
    root = pathlib.Path(root)
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    cells = size // cell
    for i in range(n):
        ids = (np.arange(cells * cells) + 7 * i) % N_CLASSES
        ids[: 3 * cells] = 0
        mask = np.kron(ids.reshape(cells, cells), np.ones((cell, cell), np.int64)).astype(np.uint8)
        image = np.clip(colours[mask] + rng.integers(-10, 10, (size, size, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / "images" / f"frame_{i:03d}.png"), image[:, :, ::-1])
        cv2.imwrite(str(root / "annotations" / f"frame_{i:03d}.png"), mask)
    (root / "classes.txt").write_text("".join(f"{c}\tclass{c:02d}\t{','.join(map(str, colours[c]))}\n"
                                              for c in range(N_CLASSES)))
    return root, colours


@pytest.fixture(autouse=True)
def _no_imagenet_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.mark.slow
def test_60_classes_train_predict_and_report_briefly(tmp_path):
    data, colours = write_many_classes(tmp_path / "data")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        summary = fit(data=data, epochs=1, out=tmp_path / "run", settings=["steps_per_epoch=2", "flip_tta=false"])
    run = tmp_path / "run"
    fingerprint = load_json(run / "fingerprint.json")
    assert fingerprint["n_classes"] == N_CLASSES and fingerprint["void"] is None
    assert all(share > 0 for share in fingerprint["class_image_share"])  # every class is in the data
    assert fingerprint["class_colors"] == colours.tolist()
    assert fingerprint["colors_from"] == "the class names file's colour column"
    plan = {name: entry["value"] for name, entry in load_json(run / "plan.json").items()}
    assert plan["class_weights"] == "enet" and summary["epochs"] == 1
    model = load_model(run / "model.keras", compile=False)
    assert model.n_classes == N_CLASSES and model.output_shape[-1] == N_CLASSES
    assert model.class_names == [f"class{c:02d}" for c in range(N_CLASSES)]
    assert f"class{N_CLASSES - 1}" in (run / "report" / "index.html").read_text()  # the report's per-class table

    # the data report: a few short lines, not one entry per class
    text = printed.getvalue()
    report = text[text.index("data: "): text.index("validation: ")].splitlines()
    assert len(report) == 5 and max(len(line) for line in report) < 240, report
    assert sum(f"class{c:02d}" in report[1] for c in range(N_CLASSES)) == REPORT_CLASSES - 1
    assert report[-1].startswith("colours: from the class names file's colour column (class00 ")

    labels = predict(model=str(run), inp=str(data / "images" / "frame_000.png"), out_fname=str(tmp_path / "p.png"))
    assert labels.shape == (32, 32) and 0 <= labels.min() and labels.max() < N_CLASSES
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "p.png")), colours.astype(np.uint8)[labels][:, :, ::-1])
