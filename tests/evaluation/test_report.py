"""The HTML evaluation report, the training history it draws, and the page in a real browser (headless Chromium)."""

import base64
import html.parser
import json
import os
import subprocess

import cv2
import keras
import numpy as np
import pytest
from tinydata import write_tiny_dataset

from keras_segmentation.calibration import calibrate
from keras_segmentation.checkpoints.history import read_history
from keras_segmentation.checkpoints.load import load_model_from_checkpoint
from keras_segmentation.checkpoints.names import history_path
from keras_segmentation.errors import CheckpointError
from keras_segmentation.evaluation import confusion_matrix, evaluate, segmentation_scores
from keras_segmentation.evaluation.report import WorstImages
from keras_segmentation.inference.predictor import Predictor
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.models.unet import unet_mini
from keras_segmentation.precision import resolve_precision
from keras_segmentation.train import train

CHROMIUM = "/usr/bin/chromium"
KEYS = ("class_wise_IU", "class_wise_accuracy", "class_wise_dice", "class_wise_frequency")


class Page(html.parser.HTMLParser):
    """What the tests read back from a report: image sources, table cells with data-value, captions, svg parts."""

    def __init__(self, text):
        super().__init__()
        self.images, self.cells, self.captions, self.tags, self.text = [], [], [], [], []
        self._caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "td" and "data-value" in attrs:
            self.cells.append((attrs.get("data-key"), float(attrs["data-value"])))
        self._caption = tag == "figcaption"

    def handle_data(self, data):
        self.text.append(data)
        if self._caption:
            self.captions.append(data)
            self._caption = False


def decode_png(src, report_dir):
    """The image an <img src> names: a base64 PNG data URI, or a file beside index.html."""
    if src.startswith("data:"):
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
    else:
        data = (report_dir / src).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.size > 0
    return image


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A unet_mini trained 2 epochs with validation: (images, masks, checkpoints prefix, keras History)."""
    root = tmp_path_factory.mktemp("report")
    images, masks = write_tiny_dataset(root / "data")
    keras.utils.set_random_seed(3)
    model = unet_mini(3, 32, 48)
    prefix = root / "ckpt" / "mini"
    history = train(model, images, masks, val_images=images, val_annotations=masks, checkpoints_path=str(prefix),
                    epochs=2, batch_size=3, seed=3, verbose=0, workers=2, jit_compile=False)
    return images, masks, prefix, history


@pytest.fixture(scope="module")
def report(trained, tmp_path_factory):
    images, masks, prefix, _ = trained
    out = tmp_path_factory.mktemp("out") / "report"
    scores = evaluate(checkpoints_path=str(prefix), inp_images_dir=images, annotations_dir=masks, report_dir=out,
                      report_images=3, progress=False)
    return out, scores


def test_training_keeps_the_history_of_each_epoch(trained):
    _, _, prefix, history = trained
    with open(history_path(prefix), encoding="utf-8") as handle:
        saved = json.load(handle)["epochs"]
    assert [e["epoch"] for e in saved] == [1, 2]
    for key in ("loss", "val_loss", "accuracy", "val_mean_iou"):
        np.testing.assert_allclose([e[key] for e in saved], history.history[key], rtol=1e-6)
    assert all(e["learning_rate"] == pytest.approx(1e-3) for e in saved)  # Adam's default
    assert read_history(prefix) == saved


def test_history_follows_resume_and_restarts_with_a_fresh_run(tmp_path, tiny_dataset):
    prefix = str(tmp_path / "ckpt" / "run")

    def run(epochs, resume):
        train(unet_mini(3, 32, 48), *tiny_dataset, checkpoints_path=prefix, epochs=epochs, batch_size=3, seed=1,
              verbose=0, workers=2, jit_compile=False, auto_resume_checkpoint=resume)
        return [e["epoch"] for e in read_history(prefix)]

    assert run(1, resume=False) == [1]
    assert run(3, resume=True) == [1, 2, 3]
    with pytest.warns(UserWarning, match="earlier run"):
        assert run(1, resume=False) == [1]  # a new run replaces the earlier one's history


def test_an_unreadable_history_is_a_one_line_checkpoint_error(tmp_path):
    prefix = tmp_path / "run"
    with open(history_path(prefix), "w", encoding="utf-8") as handle:
        handle.write("[1, 2]")
    with pytest.raises(CheckpointError, match=r"run_history\.json: not a training history") as err:
        read_history(prefix)
    assert "\n" not in str(err.value)
    assert read_history(tmp_path / "other") == []


def test_report_tables_settings_and_curves_match_the_run(report, trained):
    out, scores = report
    assert sorted(os.listdir(out)) == ["index.html"]  # nothing else: every image is inline
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    table = [value for key, value in page.cells if key in KEYS]
    expected = [float(scores[key][c]) for c in range(3) for key in KEYS]
    np.testing.assert_array_equal(table, expected)  # NaN == NaN here
    cm = np.asarray(scores["confusion_matrix"], float)
    shares = [value for key, value in page.cells if key is None]
    np.testing.assert_allclose(shares, (cm / cm.sum(axis=1, keepdims=True)).ravel())
    text = " ".join(page.text)
    ran_in = resolve_precision("auto")  # evaluate's default
    for expected_text in ("unet_mini", "32 x 48", ran_in, f"{100 * scores['mean_IU']:.2f} % over"):
        assert expected_text in text
    history = trained[3].history
    curves = len({k.removeprefix("val_") for k in history} | {"learning_rate"})
    assert page.tags.count("svg") == curves + 1  # and the reliability diagram
    assert page.tags.count("polyline") == 2 * 3 + 1  # loss, accuracy, mean_iou: train + validation; learning rate


def test_per_image_scores_and_the_worst_images(report, trained):
    images, masks, prefix, _ = trained
    out, scores = report
    model = load_model_from_checkpoint(prefix)
    names = sorted(os.listdir(images))
    per_image = []
    for name in names:
        truth = cv2.imread(str(masks / name), cv2.IMREAD_UNCHANGED)
        labels = model.predict_segmentation(inp=str(images / name))
        per_image.append(segmentation_scores(confusion_matrix(truth, labels, 3))["mean_IU"])
    np.testing.assert_allclose(scores["per_image_mean_IU"], per_image)
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    worst = [names[i] for i in np.argsort(per_image, kind="stable")[:3]]
    assert [caption.split(":")[0] for caption in page.captions] == worst


def test_the_report_shows_ece_and_reliability_before_and_after_the_models_temperature(report, trained, tmp_path):
    images, masks, prefix, _ = trained
    out, scores = report
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    model = load_model_from_checkpoint(prefix)
    measured = calibrate(model, inp_images_dir=images, annotations_dir=masks, progress=False)  # every pixel: < 200k
    assert [value for key, value in page.cells if key == "ece"] == [pytest.approx(measured.ece_before, abs=1e-12)]
    assert "no calibration temperature" in " ".join(page.text)
    calibrated = evaluate(model, inp_images_dir=images, annotations_dir=masks, report_dir=tmp_path / "r", progress=False)
    assert model.temperature == measured.temperature  # set aside while evaluating, then back
    np.testing.assert_array_equal(calibrated["per_image_mean_IU"], scores["per_image_mean_IU"])
    text = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert [value for key, value in page.cells if key == "ece"] == [
        pytest.approx(measured.ece_before, abs=1e-12), pytest.approx(measured.ece_after, abs=1e-12)]
    assert [value for key, value in page.cells if key == "nll"] == [
        pytest.approx(measured.nll_before, rel=1e-9), pytest.approx(measured.nll_after, rel=1e-9)]
    assert f"after (T = {measured.temperature:.3f}): ECE {100 * measured.ece_after:.2f} %" in text
    assert text.count('class="bar"') == int((measured.before.counts > 0).sum() + (measured.after.counts > 0).sum())


def test_evaluate_computes_probabilities_only_for_a_report(trained, monkeypatch):
    images, masks, prefix, _ = trained
    asked = []
    run = Predictor.run

    def recording(self, sources, with_probabilities=False):
        asked.append(with_probabilities)
        return run(self, sources, with_probabilities)

    monkeypatch.setattr(Predictor, "run", recording)
    evaluate(checkpoints_path=str(prefix), inp_images_dir=images, annotations_dir=masks, progress=False)
    assert asked == [False]


def always_class_zero(size=16):
    """A model predicting class 0 everywhere (zero kernel, bias favouring class 0)."""
    x = keras.Input((size, size, 3))
    logits = keras.layers.Conv2D(2, 1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant([4.0, 0.0]))(x)
    return SegmentationModel(x, keras.layers.Softmax()(logits), model_name="", normalization="divide")


def test_the_worst_images_are_the_worst(tmp_path):
    """Masks whose share f of class 0 is known: against an all-zero prediction, image mIoU = f / 2 (1 when f = 1)."""
    shares = [0.75, 0.25, 1.0, 0.5, 0.125]
    images, masks = [], []
    for i, share in enumerate(shares):
        mask = np.ones((16, 16), np.uint8)
        mask[: round(16 * share)] = 0
        images.append(np.full((16, 16, 3), 40 * i, np.uint8))
        masks.append(str(tmp_path / f"m{i}.png"))
        cv2.imwrite(masks[-1], mask)
    scores = evaluate(always_class_zero(), images, masks, report_dir=tmp_path / "r", report_images=2, progress=False)
    np.testing.assert_allclose(scores["per_image_mean_IU"], [0.375, 0.125, 1.0, 0.25, 0.0625])
    page = Page((tmp_path / "r" / "index.html").read_text(encoding="utf-8"))
    assert page.captions == ["image 4: mean IoU 6.25 %", "image 1: mean IoU 12.50 %"]
    # the legend, then two panels: image | truth | prediction | errors, each 16 px wide
    panels = [decode_png(src, tmp_path / "r") for src in page.images[1:]]
    assert [p.shape for p in panels] == [(16, 64, 3)] * 2
    errors = panels[0][:, 48:]
    assert (errors[:2] == 0).all() and (errors[2:] == [0, 0, 255]).all()  # image 4: rows 0-1 right, the rest wrong


def test_worst_images_keeps_only_n_and_skips_unscored_images():
    worst = WorstImages(2)
    blank = np.zeros((4, 4), np.uint8)
    for i, score in enumerate([0.5, float("nan"), 0.1, 0.9, 0.1, 0.3]):
        worst.add(score, f"i{i}", np.zeros((4, 4, 3), np.uint8), blank, blank)
    assert [(s, n) for s, n, *_ in worst.items()] == [(0.1, "i2"), (0.1, "i4")]
    assert len(worst._heap) == 2


def test_evaluate_model_report_from_the_command_line(trained, tmp_path, run_cli):
    images, masks, prefix, _ = trained
    out = tmp_path / "cli_report"
    code, printed, _ = run_cli("evaluate_model", "--checkpoints_path", prefix, "--images_path", images, "--segs_path",
                               masks, "--class_names", "bg,leaf,stem", "--report", out, "--report_images", 2)
    assert code == 0 and f"wrote {out / 'index.html'}" in printed
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    assert len(page.captions) == 2 and "leaf" in " ".join(page.text)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)")
def test_the_report_renders_in_a_real_browser(report, tmp_path):
    out, _ = report
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    assert len(page.images) == 4  # the legend and three worst images
    for src in page.images:
        decode_png(src, out)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1200,2000", (out / "index.html").as_uri()],
        check=True, capture_output=True, timeout=180,
    )
    screenshot = cv2.imread(str(shot))
    assert screenshot is not None and screenshot.shape[:2] == (2000, 1200)
    assert screenshot.std() > 20  # not a blank page: text, tables, images
    # the first worst-image panel is drawn: its truth colours appear on screen
    assert (np.abs(screenshot.astype(int) - [0, 128, 0]).sum(axis=2) < 10).sum() > 50  # class 2 (0, 128, 0) RGB
