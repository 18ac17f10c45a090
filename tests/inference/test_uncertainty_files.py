"""Uncertainty maps on disk: heat maps, float32 TIFFs, scores.csv; predict, predict_multiple, shards, restarts."""

import csv
import os

import cv2
import numpy as np
import pytest
import tifffile
from uncertaintynets import half_res_net

from keras_segmentation.errors import ModelConfigError
from keras_segmentation.inference.predict import predict, predict_multiple
from keras_segmentation.inference.uncertainty_files import heat_map


def images(folder, count=5):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        # images of different contrast, so the scores differ
        picture = (rng.random((40, 60, 3)) * (40 + 50 * i)).astype(np.uint8)
        cv2.imwrite(str(folder / f"img{i}.jpg"), picture)
    return folder


def read_scores(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["image", "score"]
    return [(name, float(score)) for name, score in rows[1:]]


def test_predict_multiple_writes_heat_maps_tiffs_and_the_scores_most_unsure_first(tmp_path):
    model, folder, out = half_res_net(), images(tmp_path / "imgs"), tmp_path / "out"
    results = predict_multiple(model, inp_dir=str(folder), out_dir=str(out), progress=False, uncertainty="entropy",
                               return_uncertainty=True)
    labels = predict_multiple(model, inp_dir=str(folder), progress=False)
    assert sorted(os.listdir(out / "uncertainty")) == sorted(
        [f"img{i}{suffix}" for i in range(5) for suffix in (".png", ".tif")] + ["scores.csv"])
    expected = {}
    for i, (label_map, uncertain) in enumerate(results):
        np.testing.assert_array_equal(label_map, labels[i])  # the label maps are what they were
        heat = cv2.imread(str(out / "uncertainty" / f"img{i}.png"), cv2.IMREAD_UNCHANGED)
        assert heat.shape == (40, 60, 3) and heat.dtype == np.uint8
        np.testing.assert_array_equal(heat, heat_map(uncertain))
        for values in (cv2.imread(str(out / "uncertainty" / f"img{i}.tif"), cv2.IMREAD_UNCHANGED),
                       tifffile.imread(out / "uncertainty" / f"img{i}.tif")):
            assert values.shape == (40, 60) and values.dtype == np.float32
            np.testing.assert_allclose(values, uncertain, atol=1e-6)
        expected[f"img{i}.jpg"] = float(uncertain.mean())
    scores = read_scores(out / "uncertainty" / "scores.csv")
    assert [name for name, _ in scores] == sorted(expected, key=expected.get, reverse=True)
    assert len(set(expected.values())) == 5
    for name, score in scores:
        assert score == pytest.approx(expected[name], abs=1e-6)


def test_the_heat_map_is_dark_where_sure_and_bright_where_unsure():
    heat = heat_map(np.array([[0.0, 0.5, 1.0]], np.float32))
    brightness = cv2.cvtColor(heat, cv2.COLOR_BGR2GRAY)[0]
    assert heat.shape == (1, 3, 3) and brightness[0] < 10 and brightness[0] < brightness[1] < brightness[2]


def test_predict_writes_the_map_beside_out_fname_and_returns_it_when_asked(tmp_path):
    model, picture = half_res_net(), images(tmp_path / "imgs", 1) / "img0.jpg"
    plain = predict(model, inp=str(picture))
    labels, uncertain = predict(model, inp=str(picture), out_fname=str(tmp_path / "out.png"), uncertainty="margin",
                                return_uncertainty=True)
    np.testing.assert_array_equal(labels, plain)
    assert sorted(os.listdir(tmp_path)) == ["imgs", "out.png", "out_uncertainty.png", "out_uncertainty.tif"]
    np.testing.assert_allclose(tifffile.imread(tmp_path / "out_uncertainty.tif"), uncertain, atol=1e-6)
    assert cv2.imread(str(tmp_path / "out_uncertainty.png")).shape == (40, 60, 3)
    both = predict(model, inp=str(picture), uncertainty="margin", return_uncertainty=True, return_probabilities=True)
    assert len(both) == 3 and both[1].shape == (40, 60, 3)
    np.testing.assert_array_equal(both[2], uncertain)
    assert isinstance(predict(model, inp=str(picture), uncertainty="margin"), np.ndarray)  # the labels, as before


def test_a_restarted_run_predicts_only_what_is_missing_and_its_table_is_whole(tmp_path):
    model, folder, out = half_res_net(), images(tmp_path / "imgs"), tmp_path / "out"
    predict_multiple(model, inp_dir=str(folder), out_dir=str(out), progress=False, uncertainty="entropy")
    whole = read_scores(out / "uncertainty" / "scores.csv")
    (out / "img1.png").unlink()  # the label map of img1 and the values of img3 were never finished
    (out / "uncertainty" / "img3.tif").unlink()
    (out / "uncertainty" / "scores.csv").unlink()
    (out / "uncertainty" / "img0.png").write_bytes(b"kept as it is")
    statuses = predict_multiple(model, inp_dir=str(folder), out_dir=str(out), progress=False, uncertainty="entropy",
                                skip_existing=True, keep_labels=False)
    assert statuses == [False, True, False, True, False]
    assert (out / "uncertainty" / "img0.png").read_bytes() == b"kept as it is"
    assert read_scores(out / "uncertainty" / "scores.csv") == whole
    # without uncertainty, a finished label map is enough
    assert predict_multiple(model, inp_dir=str(folder), out_dir=str(out), progress=False, skip_existing=True,
                            keep_labels=False) == [False] * 5


def test_shards_write_their_own_tables_which_together_are_the_whole(tmp_path):
    model, folder = half_res_net(), images(tmp_path / "imgs")
    predict_multiple(model, inp_dir=str(folder), out_dir=str(tmp_path / "one"), progress=False, uncertainty="entropy")
    for index in range(2):
        predict_multiple(model, inp_dir=str(folder), out_dir=str(tmp_path / "two"), progress=False,
                         uncertainty="entropy", shard=(index, 2))
    one, two = tmp_path / "one" / "uncertainty", tmp_path / "two" / "uncertainty"
    tables = sorted(name for name in os.listdir(two) if name.endswith(".csv"))
    assert tables == ["scores_1-of-2.csv", "scores_2-of-2.csv"]
    first, second = (read_scores(two / name) for name in tables)
    assert sorted(name for name, _ in first) == ["img0.jpg", "img2.jpg", "img4.jpg"]
    assert sorted(first + second, key=lambda row: -row[1]) == read_scores(one / "scores.csv")
    for name in os.listdir(one):
        if not name.endswith(".csv"):
            assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_unreadable_images_are_left_out_of_the_table(tmp_path):
    folder = images(tmp_path / "imgs", 2)
    (folder / "broken.png").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        predict_multiple(half_res_net(), inp_dir=str(folder), out_dir=str(tmp_path / "out"), progress=False,
                         uncertainty="tta")
    assert sorted(name for name, _ in read_scores(tmp_path / "out" / "uncertainty" / "scores.csv")) == [
        "img0.jpg", "img1.jpg"]


def test_bad_uncertainty_options_are_one_line_errors_before_any_work(tmp_path):
    missing = str(tmp_path / "no_such_checkpoint")  # loading it would fail: the option is checked first
    with pytest.raises(ModelConfigError, match=r"^uncertainty='variance': choose one of entropy, margin, tta$"):
        predict_multiple(checkpoints_path=missing, inp_dir=str(tmp_path), uncertainty="variance")
    with pytest.raises(ModelConfigError, match=r"^uncertainty='Entropy'"):
        predict(checkpoints_path=missing, inp="a.png", uncertainty="Entropy")
    with pytest.raises(ModelConfigError, match=r"^return_uncertainty=True needs uncertainty="):
        predict(checkpoints_path=missing, inp="a.png", return_uncertainty=True)
