"""Exported files and engine= in predict / predict_multiple / evaluate: the same outputs as the Keras model."""

import cv2
import numpy as np
import pytest
from exportfiles import small_model

from keras_segmentation.errors import ExportError, ModelConfigError
from keras_segmentation.evaluation import evaluate
from keras_segmentation.export import export_model
from keras_segmentation.export.formats import format_for_path, load_engine, model_for_engine
from keras_segmentation.inference import predict, predict_multiple


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Three 50x70 images (not the model's size: resize and slide both have work) and masks."""
    root = tmp_path_factory.mktemp("pairs")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    rng = np.random.default_rng(1)
    for index in range(3):
        cv2.imwrite(str(root / "images" / f"{index}.png"), rng.integers(0, 256, (50, 70, 3), dtype=np.uint8))
        cv2.imwrite(str(root / "masks" / f"{index}.png"), rng.integers(0, 3, (50, 70), dtype=np.uint8))
    return root


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_model(small_model("unet", "vanilla"), path, "onnx", parity=False)
    return path


@pytest.mark.parametrize("options", [{}, {"mode": "slide", "overlap": 0.5}, {"tta": "flip"}, {"flip_tta": True}])
def test_an_exported_file_predicts_like_the_keras_model(onnx_file, pairs, options):
    image = str(pairs / "images" / "0.png")
    expected, expected_probs = predict(small_model("unet", "vanilla"), inp=image, return_probabilities=True,
                                       colored=False, precision="float32", **options)  # exported in float32
    labels, probs = predict(str(onnx_file), inp=image, return_probabilities=True, colored=False, **options)
    np.testing.assert_allclose(probs, expected_probs, atol=1e-4)
    np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("engine", ["onnxruntime", "litert", "savedmodel"])
def test_engine_option_scores_like_keras(engine, pairs):
    model = small_model("unet", "vanilla")
    folders = dict(inp_images_dir=str(pairs / "images"), annotations_dir=str(pairs / "masks"), progress=False)
    expected = evaluate(model, precision="float32", **folders)
    scores = evaluate(model, engine=engine, **folders)
    assert scores["mean_IU"] == pytest.approx(expected["mean_IU"], abs=1e-9)


def test_predict_multiple_with_an_exported_file_writes_the_same_label_maps(onnx_file, pairs, tmp_path):
    expected = predict_multiple(small_model("unet", "vanilla"), inp_dir=str(pairs / "images"), progress=False,
                                precision="float32")
    written = predict_multiple(str(onnx_file), inp_dir=str(pairs / "images"), out_dir=str(tmp_path), progress=False)
    for mine, theirs, name in zip(written, expected, sorted(p.name for p in (pairs / "images").iterdir())):
        np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / name), cv2.IMREAD_UNCHANGED), theirs)


def test_engine_reads_sizes_and_names_from_the_file(onnx_file):
    engine = load_engine(str(onnx_file))
    assert (engine.input_height, engine.input_width, engine.channels, engine.n_classes) == (64, 64, 3, 3)
    assert engine.normalization == "none" and engine.model_name == "vanilla_unet"


def test_engine_errors_are_one_line(onnx_file, tmp_path):
    with pytest.raises(ExportError, match="unknown model file type .txt"):
        format_for_path(str(tmp_path / "model.txt"))
    with pytest.raises(ExportError, match="a onnxruntime file; engine='litert' cannot run it"):
        load_engine(str(onnx_file), "litert")
    with pytest.raises(ExportError, match="no such exported model"):
        load_engine(str(tmp_path / "missing.onnx"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a graph")
    with pytest.raises(ExportError, match="broken.onnx: ONNX Runtime cannot load it"):
        load_engine(str(broken))
    with pytest.raises(ExportError, match="engine='tensorrt'"):
        model_for_engine(small_model("unet", "vanilla"), "tensorrt")
    with pytest.raises(ModelConfigError, match="runs in the precision it was exported in"):
        predict(str(onnx_file), inp=np.zeros((8, 8, 3), np.uint8), precision="mixed_bfloat16")


@pytest.mark.parametrize("op, image, probabilities", [("Identity", [None], [None]),
                                                      ("Flatten", [None, 8, 8, 3], [None, 192])])
def test_a_graph_that_is_not_a_segmentation_model_is_refused(tmp_path, op, image, probabilities):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node(op, ["image"], ["probabilities"])], "not_segmentation",
                              [helper.make_tensor_value_info("image", TensorProto.UINT8, image)],
                              [helper.make_tensor_value_info("probabilities", TensorProto.UINT8, probabilities)])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(ExportError, match="other.onnx: not a segmentation graph") as info:
        load_engine(str(path))
    assert "\n" not in str(info.value)


def test_metadata_that_does_not_describe_the_graph_is_refused(onnx_file, tmp_path):
    import json
    import shutil

    shutil.copy(onnx_file, tmp_path / "model.onnx")
    metadata = json.loads(open(f"{onnx_file}.json").read()) | {"n_classes": 5}
    (tmp_path / "model.onnx.json").write_text(json.dumps(metadata))
    with pytest.raises(ExportError, match="model.onnx.json: describes 5 classes and 3 channels but the graph has "
                                          "3 classes and 3 channels"):
        load_engine(str(tmp_path / "model.onnx"))
