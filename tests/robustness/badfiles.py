"""Bad inputs for the robustness tests: tiny datasets with one thing wrong, and a tiny model and checkpoint.

Every dataset starts as two good 32x32 pairs (``images/0.png``, ``images/1.png``
and their masks, classes 0..2) and then one case breaks it. A case returns
``(images_dir, masks_dir, culprit)``: the culprit is the text the error must name
(a path, or a file name where the message lists names).
"""

import builtins
import json
import os
import pathlib
import sys
from dataclasses import dataclass

import numpy as np

from keras_segmentation.checkpoints.config import write_config
from keras_segmentation.checkpoints.names import weights_path
from keras_segmentation.checkpoints.weights import save_checkpoint

# The dataset tests' file writers serve these tests too; tests/data is not on sys.path when only
# tests/robustness runs, or when troubleshooting.py runs as a script.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "data"))
from datafiles import save, truncate  # noqa: E402, F401  (re-exported to the robustness tests)

N_CLASSES = 3
SIZE = 32


def good_image(seed=0, size=SIZE, channels=3, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    shape = (size, size, channels) if channels > 1 else (size, size)
    return rng.integers(0, top, shape, dtype=dtype)


def good_mask(size=SIZE, value=1):
    mask = np.zeros((size, size), np.uint8)
    mask[:, size // 2 :] = value
    mask[: size // 4] = 2
    return mask


def good_dataset(root, n=2):
    images, masks = pathlib.Path(root) / "images", pathlib.Path(root) / "masks"
    for i in range(n):
        save(images / f"{i}.png", good_image(i))
        save(masks / f"{i}.png", good_mask())
    return images, masks


def make_unreadable(path, monkeypatch):
    """``chmod 000`` the file; as root (who reads it anyway) also refuse it where Python and NumPy open files."""
    path = os.fspath(path)
    os.chmod(path, 0)
    if os.geteuid() != 0:
        return
    real_open, real_fromfile = builtins.open, np.fromfile

    def refuse(file):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) == os.path.abspath(path):
            raise PermissionError(13, "Permission denied", path)

    def fake_open(file, *args, **kwargs):
        refuse(file)
        return real_open(file, *args, **kwargs)

    def fake_fromfile(file, *args, **kwargs):
        refuse(file)
        return real_fromfile(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(np, "fromfile", fake_fromfile)


def assert_one_line_error(code, err, *names):
    """Exit 2, and stderr is one ``error:`` line naming every one of ``names``, without a traceback."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


# ------------------------------------------------------------------ the cases
@dataclass(frozen=True)
class Case:
    """One bad dataset: how to make it and what every reader must say about it.

    ``error`` is the exception class; ``kind`` the :class:`~keras_segmentation.data.verify_report.Problem`
    kind verify_dataset reports (``None``: verify_dataset raises ``error`` itself);
    ``words`` a fragment of the message.
    """

    name: str
    make: object
    error: str
    kind: str
    words: str


def _missing_images_folder(root, monkeypatch):
    images, masks = good_dataset(root)
    return root / "no_such_folder", masks, str(root / "no_such_folder")


def _empty_images_folder(root, monkeypatch):
    _, masks = good_dataset(root)
    (root / "empty").mkdir()
    return root / "empty", masks, str(root / "empty")


def _only_other_file_types(root, monkeypatch):
    _, masks = good_dataset(root)
    (root / "webp").mkdir()
    (root / "webp" / "0.webp").write_bytes(b"RIFF....WEBP")
    (root / "webp" / "notes.txt").write_text("not an image")
    return root / "webp", masks, "0.webp"


def _missing_masks_folder(root, monkeypatch):
    images, _ = good_dataset(root)
    return images, root / "no_masks", str(root / "no_masks")


def _empty_masks_folder(root, monkeypatch):
    images, _ = good_dataset(root)
    (root / "empty").mkdir()
    return images, root / "empty", str(images / "0.png")


def _image_without_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    return images, masks, save(images / "extra.png", good_image(5))


def _misnamed_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    os.rename(masks / "1.png", masks / "1_mask.png")
    return images, masks, str(masks / "1_mask.png")


def _size_mismatch(root, monkeypatch):
    images, masks = good_dataset(root)
    return images, masks, save(masks / "1.png", good_mask(size=16))


def _binary_0_255_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    return images, masks, save(masks / "1.png", (good_mask() > 0).astype(np.uint8) * 255)


def _values_over_n_classes(root, monkeypatch):
    images, masks = good_dataset(root)
    return images, masks, save(masks / "0.png", good_mask(value=7))


def _colour_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    colours = np.array([[0, 0, 0], [0, 0, 128], [0, 128, 0]], np.uint8)  # BGR
    return images, masks, save(masks / "0.png", colours[good_mask()])


def _jpeg_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    os.remove(masks / "1.png")
    return images, masks, save(masks / "1.jpg", good_mask())


def _corrupt_image(root, monkeypatch):
    images, masks = good_dataset(root)
    path = images / "0.png"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit pattern in the compressed pixels (a bad disk, a bad transfer)
    path.write_bytes(bytes(data))
    return images, masks, str(path)


def _truncated_image(root, monkeypatch):
    images, masks = good_dataset(root)
    return images, masks, truncate(images / "1.png")


def _truncated_jpeg_image(root, monkeypatch):
    images, masks = good_dataset(root)
    os.remove(images / "1.png")
    return images, masks, truncate(save(images / "1.jpg", good_image(1)), 0.4)


def _zero_byte_image(root, monkeypatch):
    images, masks = good_dataset(root)
    (images / "0.png").write_bytes(b"")
    return images, masks, str(images / "0.png")


def _text_file_named_png(root, monkeypatch):
    images, masks = good_dataset(root)
    (images / "1.png").write_text("this is not an image")
    return images, masks, str(images / "1.png")


def _corrupt_mask(root, monkeypatch):
    images, masks = good_dataset(root)
    (masks / "0.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return images, masks, str(masks / "0.png")


def _unreadable_image(root, monkeypatch):
    images, masks = good_dataset(root)
    make_unreadable(images / "1.png", monkeypatch)
    return images, masks, str(images / "1.png")


CASES = [
    Case("missing_images_folder", _missing_images_folder, "PairingError", None, "folder not found"),
    Case("empty_images_folder", _empty_images_folder, "PairingError", None, "no image files"),
    Case("only_other_file_types", _only_other_file_types, "PairingError", None, "convert them to PNG"),
    Case("missing_masks_folder", _missing_masks_folder, "PairingError", None, "folder not found"),
    Case("empty_masks_folder", _empty_masks_folder, "PairingError", "missing_mask", "No corresponding segmentation"),
    Case("image_without_mask", _image_without_mask, "PairingError", "missing_mask", "No corresponding segmentation"),
    Case("misnamed_mask", _misnamed_mask, "PairingError", "missing_mask", "need the same base name"),
    Case("size_mismatch", _size_mismatch, "SizeMismatchError", "size_mismatch", "mask is 16x16"),
    Case("binary_0_255_mask", _binary_0_255_mask, "MaskValueError", "mask_values", "divide it by 255"),
    Case("values_over_n_classes", _values_over_n_classes, "MaskValueError", "mask_values", "n_classes to at least 8"),
    Case("colour_mask", _colour_mask, "MaskFormatError", "colour_mask", "give a colour map"),
    Case("jpeg_mask", _jpeg_mask, "MaskFormatError", "jpeg_mask", "JPEG masks are not supported"),
    Case("corrupt_image", _corrupt_image, "ImageReadError", "unreadable", "corrupt"),
    Case("truncated_image", _truncated_image, "ImageReadError", "unreadable", "truncated"),
    Case("truncated_jpeg_image", _truncated_jpeg_image, "ImageReadError", "unreadable", "not a readable image"),
    Case("zero_byte_image", _zero_byte_image, "ImageReadError", "unreadable", "empty (0 bytes)"),
    Case("text_file_named_png", _text_file_named_png, "ImageReadError", "unreadable", ""),
    Case("corrupt_mask", _corrupt_mask, "ImageReadError", "unreadable", ""),
    Case("unreadable_image", _unreadable_image, "ImageReadError", "unreadable", "Permission denied"),
]
CASE_NAMES = [case.name for case in CASES]
BY_NAME = {case.name: case for case in CASES}

#: Cases whose data ``visualize_dataset`` still draws (values >= n_classes are drawn black, with a warning).
DRAWN_WITH_A_WARNING = {"binary_0_255_mask", "values_over_n_classes"}
#: Cases found by the folder listing, before any file is read.
FOLDER_CASES = {"missing_images_folder", "empty_images_folder", "only_other_file_types", "missing_masks_folder"}


def make_case(name, root, monkeypatch):
    """``(images, masks, culprit, case)`` for the case called ``name`` under ``root``."""
    case = BY_NAME[name]
    images, masks, culprit = case.make(pathlib.Path(root), monkeypatch)
    return images, masks, culprit, case


# -------------------------------------------------------------- tiny models
def tiny_model(n_classes=N_CLASSES, channels=3, size=SIZE, seed=0):
    """Two convolutions, input ``size`` x ``size`` (``None``: any size)."""
    import keras

    from keras_segmentation.models.segmentation_model import SegmentationModel

    keras.utils.set_random_seed(seed)
    x = keras.Input((size, size, channels))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = keras.layers.Conv2D(n_classes, 1, activation="softmax")(h)
    return SegmentationModel(x, y, model_name="", normalization="divide")


def write_checkpoint(prefix, n_classes=N_CLASSES, size=SIZE):
    """Config and one weights file of :func:`tiny_model` under ``prefix``; returns the model."""
    model = tiny_model(n_classes, size=size)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # saved with its state, as after training
    write_config(prefix, model)
    save_checkpoint(model, prefix, 1)
    return model


# ---------------------------------------------------------- bad checkpoints
# Each returns ``(checkpoints_path, words of the message, culprit)``.
def _folder_not_prefix(tmp_path):
    write_checkpoint(tmp_path / "ck" / "vgg_unet_1")
    return tmp_path / "ck", "is a folder", os.path.join(tmp_path / "ck", "vgg_unet_1")


def _no_checkpoint_at_all(tmp_path):
    (tmp_path / "ck").mkdir()
    return tmp_path / "ck" / "run", "checkpoint config not found", os.path.join(tmp_path / "ck", "run_config.json")


def _config_without_weights(tmp_path):
    write_checkpoint(tmp_path / "run")
    os.remove(weights_path(tmp_path / "run", 1))
    return tmp_path / "run", "config found but no weights file", str(tmp_path / "run")


def _malformed_config(tmp_path):
    write_checkpoint(tmp_path / "run")
    (tmp_path / "run_config.json").write_text('{"model_class": "unet", "n_classes": 3,')
    return tmp_path / "run", "not valid JSON", str(tmp_path / "run_config.json")


def _unknown_model(tmp_path):
    write_checkpoint(tmp_path / "run")
    config = {"model_class": "no_such_net", "n_classes": 3, "input_height": 32, "input_width": 32,
              "output_height": 32, "output_width": 32}
    (tmp_path / "run_config.json").write_text(json.dumps(config))
    return tmp_path / "run", "unknown model_class 'no_such_net'", str(tmp_path / "run_config.json")


def _unknown_builder(tmp_path):
    write_checkpoint(tmp_path / "run")
    config = json.loads((tmp_path / "run_config.json").read_text())
    config["build_config"] = {"builder": "os.system", "kwargs": {}}
    (tmp_path / "run_config.json").write_text(json.dumps(config))
    return tmp_path / "run", "unknown builder 'os.system'", str(tmp_path / "run_config.json")


def _lambda_in_final_model(tmp_path):
    import keras

    from keras_segmentation.models.segmentation_model import SegmentationModel

    write_checkpoint(tmp_path / "run")
    os.remove(weights_path(tmp_path / "run", 1))
    x = keras.Input((32, 32, 3))
    y = keras.layers.Conv2D(3, 1, activation="softmax")(keras.layers.Lambda(lambda t: t * 2.0)(x))
    SegmentationModel(x, y).save(tmp_path / "run.keras")
    return tmp_path / "run", "refused by Keras safe mode", str(tmp_path / "run.keras")


CHECKPOINT_CASES = {
    "folder_not_prefix": _folder_not_prefix,
    "no_checkpoint_at_all": _no_checkpoint_at_all,
    "config_without_weights": _config_without_weights,
    "malformed_config": _malformed_config,
    "unknown_model": _unknown_model,
    "unknown_builder": _unknown_builder,
    "lambda_in_final_model": _lambda_in_final_model,
}
