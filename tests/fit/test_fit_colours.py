"""``fit`` on palette PNG masks: the palette's class colours in the fingerprint, the run folder and the painted
predictions; the ``fit`` command hands its ``--class_names`` file to ``fit``, which reads its colour column."""

import contextlib
import io

import cv2
import numpy as np
import pytest
from PIL import Image
from test_fit_run import VOID, load_json, write_dataset

from keras_segmentation.autofit import fit
from keras_segmentation.cli import build_parser
from keras_segmentation.inference import predict, predict_multiple

#: palette index -> colour: the three classes and the void border
PALETTE = {0: (30, 30, 30), 1: (200, 20, 20), 2: (20, 200, 20), VOID: (250, 250, 250)}


@pytest.fixture(autouse=True)
def _no_imagenet_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def to_palette_pngs(masks):
    """Rewrite every mask of the folder ``masks`` as a palette ("P") PNG of the same ids, coloured by :data:`PALETTE`."""
    flat = [0] * 768
    for index, colour in PALETTE.items():
        flat[3 * index : 3 * index + 3] = colour
    for path in masks.iterdir():
        image = Image.fromarray(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), "P")
        image.putpalette(flat)
        image.save(path)


@pytest.mark.slow
def test_a_palette_datasets_colours_go_to_the_run_folder_and_paint_its_predictions(tmp_path):
    images, masks = write_dataset(tmp_path / "data", n=6, size=(32, 48), void_border=1)
    to_palette_pngs(masks)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fit(images, masks, epochs=1, out=tmp_path / "run", settings=["architecture=unet_mini", "steps_per_epoch=2"])
    classes = [list(PALETTE[i]) for i in range(3)]
    fingerprint = load_json(tmp_path / "run" / "fingerprint.json")
    assert fingerprint["void"] == VOID and fingerprint["mask_values"] == [0, 1, 2, VOID]
    assert fingerprint["class_colors"] == classes and fingerprint["void_color"] == list(PALETTE[VOID])
    assert load_json(tmp_path / "run" / "predict.json")["class_colors"] == classes
    assert "colours: from the palette of the PNG masks (0 30,30,30; 1 200,20,20; 2 20,200,20)" in printed.getvalue()

    bgr = np.array(classes, np.uint8)[:, ::-1]
    labels = predict(model=str(tmp_path / "run"), inp=str(images / "img_000.png"), out_fname=str(tmp_path / "p.png"))
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "p.png")), bgr[labels])
    predict_multiple(model=str(tmp_path / "run"), inp_dir=str(images), out_dir=str(tmp_path / "many"), colored=True,
                     progress=False)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "many" / "img_000.png")), bgr[labels])


def test_the_fit_command_hands_its_class_names_file_to_fit(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("0\tsky\t1,2,3\n1\troad\t4,5,6\n")
    args = build_parser().parse_args(["fit", "--images", "i", "--masks", "m", "--class_names", str(names)])
    assert args.class_names == str(names)  # the path, so that fit reads its colours as well as its names
