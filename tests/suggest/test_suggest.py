"""suggest end to end on a tiny Keras model: choices, pre-labels that convert back, errors."""

import csv
import shutil

import cv2
import keras
import numpy as np
import pytest
from suggestfiles import agreement
from tinydata import write_tiny_dataset

from keras_segmentation.data.convert import convert
from keras_segmentation.errors import SegmentationError, SuggestError
from keras_segmentation.export.formats.runner import ExportedModel
from keras_segmentation.inference.predictor import Predictor
from keras_segmentation.models.segmentation_model import SegmentationModel
from keras_segmentation.suggest import suggest

NAMES = ["background", "grass", "flower", "sky"]
EXACT = {"precision": "float32", "progress": False}


@pytest.fixture(scope="module")
def model():
    """Input 64x96, output at stride 4 (smooth label maps), 4 named classes."""
    keras.utils.set_random_seed(0)
    x = keras.Input((64, 96, 3))
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    h = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    y = keras.layers.Softmax()(keras.layers.Conv2D(4, 1)(h))
    return SegmentationModel(x, y, model_name="tiny", normalization="divide", class_names=NAMES)


@pytest.fixture
def pool(tmp_path):
    """8 images of coloured rectangles, 64x96."""
    images, _ = write_tiny_dataset(tmp_path / "data", n_images=8, height=64, width=96, n_classes=4)
    return images


def predicted(model, paths):
    return [p.labels for p in Predictor(model, precision="float32").run(list(paths))]


def scores_of(model, paths, precision="float32"):
    return [p.score for p in Predictor(model, precision=precision, uncertainty="entropy").run(list(paths))]


@pytest.mark.parametrize("fmt, at_least", [("labelme", 0.98), ("coco", 0.98), ("cvat", 1.0)])
def test_pre_labels_convert_back_to_the_predicted_masks_and_verify(tmp_path, model, pool, fmt, at_least):
    if fmt == "coco":
        pytest.importorskip("pycocotools")
    out = tmp_path / "to_label"
    result = suggest(model, pool, n=3, out=out, format=fmt, **EXACT)
    assert len(result.chosen) == 3 and "suggestions.csv" in result.written
    rows = list(csv.DictReader((out / "suggestions.csv").open(encoding="utf-8")))
    assert [row["image"] for row in rows] == result.chosen and [row["rank"] for row in rows] == ["1", "2", "3"]
    assert [float(row["score"]) for row in rows] == pytest.approx([result.scores[p] for p in result.chosen], abs=1e-6)
    source = {"labelme": out, "coco": out / "annotations.json", "cvat": out}[fmt]
    converted = convert(fmt, source, tmp_path / "dataset", **({"labels": out / "labels.txt"} if fmt == "labelme" else {}))
    assert converted, converted.format()  # the dataset verifies
    assert converted.class_names == (NAMES if fmt == "labelme" else ["background", *NAMES[1:]])
    for path, labels in zip(result.chosen, predicted(model, result.chosen)):
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        mask = cv2.imread(str(tmp_path / "dataset" / "annotations" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert agreement(mask, labels) >= at_least
    assert "correct them, then: keras_segmentation convert --from" in result.summary()


def test_uncertainty_picks_the_top_scores_and_copies_of_the_top_image_come_after_distinct_ones(tmp_path, model, pool):
    paths = sorted(str(p) for p in pool.iterdir())
    scores = scores_of(model, paths)
    top = paths[int(np.argmax(scores))]
    by_score = [paths[i] for i in np.argsort(scores)[::-1][:3]]
    assert suggest(model, pool, n=3, strategy="uncertainty", **EXACT).chosen == by_score
    for copy in range(4):  # the most uncertain image, four more times
        shutil.copyfile(top, pool / f"zz_copy{copy}.png")
    copies = {top} | {str(pool / f"zz_copy{copy}.png") for copy in range(4)}
    assert set(suggest(model, pool, n=3, strategy="uncertainty", **EXACT).chosen) <= copies
    chosen = suggest(model, pool, n=4, **EXACT).chosen
    assert chosen[0] in copies and not set(chosen[1:]) & copies
    # labelled already (the top image left out, and seeding the diversity): its copies come after the rest
    chosen = suggest(model, pool, n=7, exclude=[top], **EXACT).chosen
    assert top not in chosen and not set(chosen) & copies


class Engine(ExportedModel):
    """An exported model as the library runs one (uint8 images in, probabilities out, no layers): ``model`` inside."""

    def __init__(self, path, model):
        super().__init__(path, (model.input_height, model.input_width, model.channels), model.n_classes)
        self.model = model

    def run(self, images):
        return self.model.predict_on_batch(images.astype(np.float32) / 255)


def test_an_exported_model_compares_images_by_probabilities(tmp_path, model, pool):
    engine = Engine(tmp_path / "tiny.onnx", model)
    paths = sorted(str(p) for p in pool.iterdir())
    top = paths[int(np.argmax(scores_of(engine, paths, precision=None)))]
    for copy in range(3):
        shutil.copyfile(top, pool / f"zz_copy{copy}.png")
    copies = {top} | {str(pool / f"zz_copy{copy}.png") for copy in range(3)}
    with pytest.warns(UserWarning, match="tiny.onnx: no encoder features") as caught:
        result = suggest(engine, pool, n=3, out=tmp_path / "out", format="cvat", progress=False)
    assert sum("no encoder features" in str(w.message) for w in caught) == 1
    assert result.chosen[0] in copies and not set(result.chosen[1:]) & copies
    assert convert("cvat", tmp_path / "out", tmp_path / "dataset").class_names == ["background", "1", "2", "3"]


def test_random_is_seeded_and_needs_no_model_to_choose(pool):
    chosen = suggest(None, pool, n=3, strategy="random", seed=1, progress=False).chosen
    assert chosen == suggest(None, pool, n=3, strategy="random", seed=1, progress=False).chosen
    assert chosen != suggest(None, pool, n=3, strategy="random", seed=2, progress=False).chosen
    assert len(set(chosen)) == 3


def test_labelled_images_are_left_out_and_out_none_writes_nothing(tmp_path, model, pool):
    result = suggest(model, pool, n=8, exclude=["img_000", "img_003"], **EXACT)
    assert result.pool_size == 6 and len(result.chosen) == 6 and result.out is None
    assert not {"img_000.png", "img_003.png"} & {p.rsplit("/", 1)[-1] for p in result.chosen}
    assert sorted(tmp_path.iterdir()) == [tmp_path / "data"]


def test_unreadable_images_are_skipped_with_one_warning(model, pool):
    (pool / "broken.png").write_bytes(b"not a png")
    (pool / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="pool: skipped 2 unreadable image.s.: .*broken.png.*empty.jpg"):
        result = suggest(model, pool, n=20, **EXACT)
    assert len(result.chosen) == 8 and sorted(p.rsplit("/", 1)[-1] for p in result.unreadable) == ["broken.png",
                                                                                                   "empty.jpg"]


def test_a_pool_of_unreadable_images_is_one_line(tmp_path, model):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"not a png")
    with pytest.raises(SuggestError, match="pool: none of the 1 image.s. can be read .first: .*a.png") as caught:
        suggest(model, tmp_path / "bad", n=1, **EXACT)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("keywords, message", [
    ({"n": 0}, "n=0: give a positive number"),
    ({"strategy": "best"}, "strategy='best'"),
    ({"uncertainty": "variance"}, "uncertainty='variance'"),
    ({"format": "yolo", "out": "x"}, "format='yolo': choose one of labelme, coco, cvat"),
    ({"tiles": 2}, "unknown option.s. tiles"),
])
def test_bad_options_are_one_line_before_any_work(pool, keywords, message):
    with pytest.raises(SegmentationError, match=message):
        suggest(None, pool, **{"n": 2, **keywords})


def test_an_out_folder_holding_files_is_refused_before_any_work(tmp_path, pool):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "corrected.json").write_text("{}")
    with pytest.raises(SuggestError, match=r"out .*out: holds 1 file.s. \(corrected.json, ...\); suggest writes into a new"):
        suggest(None, pool, n=2, out=tmp_path / "out")


def test_class_names_must_fit_the_model(tmp_path, model, pool):
    with pytest.raises(SuggestError, match="class_names: 2 name.s. for a model of 4 classes"):
        suggest(model, pool, n=1, out=tmp_path / "out", class_names="a,b", **EXACT)
    assert not (tmp_path / "out").exists()
