"""The labelling loop end to end: ``fit`` -> ``suggest`` (labelme pre-labels) -> ``convert`` into the same dataset
-> ``fit(start_from=...)`` continues on the grown data with the chosen images in training."""

import json
import pathlib

import numpy as np
import pytest
from test_fit_run import write_dataset

from keras_segmentation.autofit import fit
from keras_segmentation.data.class_names import save_class_names
from keras_segmentation.data.convert import convert
from keras_segmentation.data.masks import read_mask
from keras_segmentation.inference import predict
from keras_segmentation.suggest import suggest

OLD = [f"a_{i}" for i in range(4)] + [f"b_{i}" for i in range(4)] + [f"c_{i}" for i in range(2)]
POOL = ["d_0", "d_1", "e_0"]
NAMES = ["background", "box", "disc"]

pytestmark = pytest.mark.slow


def test_suggest_convert_and_fit_start_from_close_the_loop(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # no ImageNet weights: the same plan anywhere
    data = tmp_path / "dataset"
    write_dataset(data, names=OLD, n=len(OLD), size=(32, 48))
    (data / "masks").rename(data / "annotations")
    save_class_names(data / "classes.txt", NAMES)
    # rejoin=0: the model is the best of 8 validated epochs, as smooth as the agreement below was measured with (2 more
    # epochs on every image at a lower rate left it more speckled: 93 % in one run)
    first = fit(data=data, epochs=8, out=tmp_path / "run1", verbose=False,
                settings=["architecture=unet_mini", "rejoin=0"])

    pool = tmp_path / "pool"
    write_dataset(pool, names=POOL, n=len(POOL), size=(32, 48), seed=1)
    picked = suggest(first["run_folder"], pool / "images", n=2, out=tmp_path / "to_label", format="labelme",
                     exclude=data, progress=False)
    assert len(picked.chosen) == 2 and all(pathlib.Path(p).parent == pool / "images" for p in picked.chosen)

    # the user corrects nothing here: convert brings the pre-labels back into the dataset as they were predicted
    convert("labelme", tmp_path / "to_label", data, labels=tmp_path / "to_label" / "labels.txt", overwrite=True)
    for image in picked.chosen:
        stem = pathlib.Path(image).stem
        predicted = predict(first["run_folder"], inp=image)
        converted = read_mask(str(data / "annotations" / f"{stem}.png"))
        # >= 95 %, not the 98 % measured on CamVid: this 10-image model's predictions can be speckled (thread timing
        # changes its training), and a polygon cannot draw a single pixel; a broken convert agrees far less
        assert np.mean(converted == predicted) >= 0.95

    second = fit(data=data, epochs=1, out=tmp_path / "run2", start_from=first["run_folder"], verbose=False)
    split = json.loads((tmp_path / "run2" / "split.json").read_text())
    chosen = {pathlib.Path(p).name for p in picked.chosen}
    assert chosen <= set(split["train"])
    assert set(split["val"]) == set(json.loads((tmp_path / "run1" / "split.json").read_text())["val"])
    assert second["start_from"]["run_folder"] == str(pathlib.Path(first["run_folder"]).resolve())
