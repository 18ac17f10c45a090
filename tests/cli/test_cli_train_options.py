"""``train`` options: --validate, names checked by the library's registries, models built by resolve_model."""

import pytest

from keras_segmentation import cli
from keras_segmentation.data.augmentation import AUGMENTATION_NAMES


def _train(images, masks, *extra):
    return ["train", "--model_name", "unet_mini", "--n_classes", 3, "--input_height", 32, "--input_width", 48,
            "--train_images", images, "--train_annotations", masks, "--epochs", 1, "--batch_size", 3,
            "--workers", 1, *extra]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--validate"], "error: --validate needs both --val_images and --val_annotations"),
        (["--validate", "--val_images", "{images}"], "error: --validate needs both --val_images and --val_annotations"),
        (["--val_images", "{images}"], "error: --val_images needs --val_annotations too (validation images and their masks)"),
        (["--val_annotations", "{masks}"], "error: --val_annotations needs --val_images too (validation images and their masks)"),
    ],
)
def test_validation_needs_both_folders(run_cli, tiny_dataset, tmp_path, extra, message):
    images, masks = tiny_dataset
    extra = [arg.format(images=images, masks=masks) for arg in extra]
    code, _, err = run_cli(*_train(images, masks, "--checkpoints_path", tmp_path / "ck" / "run", *extra))
    assert code == 2 and err.splitlines() == [message]
    assert not (tmp_path / "ck").exists()


def test_validate_with_both_folders_validates(run_cli, tiny_dataset):
    images, masks = tiny_dataset
    code, out, err = run_cli(*_train(images, masks, "--validate", "--val_images", images, "--val_annotations", masks))
    assert code == 0, err
    assert "val_loss" in out and "val_mean_iou" in out


def test_help_says_what_validate_does(run_cli):
    code, out, _ = run_cli("train", "--help")
    assert code == 0
    assert "require validation" in " ".join(out.split())


def test_unknown_augmentation_name_lists_the_librarys_names(run_cli, tiny_dataset):
    images, masks = tiny_dataset
    code, _, err = run_cli(*_train(images, masks, "--do_augment", "--augmentation_name", "aug_none"))
    assert code == 2 and len(err.splitlines()) == 1
    assert "'aug_none' is unknown; choose one of " + ", ".join(AUGMENTATION_NAMES) in err


def test_every_augmentation_name_of_the_library_is_accepted(monkeypatch):
    parser = cli.build_parser()
    for name in AUGMENTATION_NAMES:
        args = parser.parse_args(["visualize_dataset", "--images_path", "i", "--segs_path", "m",
                                  "--augmentation_name", name])
        assert args.augmentation_name == name
        args = parser.parse_args(["train", "--model_name", "m", "--n_classes", "2", "--train_images", "i",
                                  "--train_annotations", "m", "--augmentation_name", name])
        assert args.augmentation_name == name


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--loss", "ce+nope", "unknown loss 'nope'; choose from"),
        ("--lr_schedule", "nope", "unknown lr_schedule 'nope'"),
        ("--class_weights", "nope", "'nope'"),
    ],
)
def test_names_the_library_checks_are_one_line_errors(run_cli, tiny_dataset, option, value, words):
    images, masks = tiny_dataset
    code, _, err = run_cli(*_train(images, masks, option, value))
    assert code == 2 and len(err.splitlines()) == 1 and words in err, err


def test_class_weights_numbers_are_parsed_and_bad_lists_refused(run_cli, tiny_dataset):
    parser = cli.build_parser()
    base = ["train", "--model_name", "m", "--n_classes", "2", "--train_images", "i", "--train_annotations", "m"]
    assert parser.parse_args([*base, "--class_weights", "1,0.5"]).class_weights == [1.0, 0.5]
    assert parser.parse_args([*base, "--class_weights", "enet"]).class_weights == "enet"
    images, masks = tiny_dataset
    code, _, err = run_cli(*_train(images, masks, "--class_weights", "1,x"))
    assert code == 2 and "'1,x': use a method name or comma-separated numbers" in err


def test_the_model_comes_from_resolve_model(run_cli, tiny_dataset, monkeypatch, tmp_path):
    from keras_segmentation import models

    calls = []
    real = models.resolve_model

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "resolve_model", spy)
    images, masks = tiny_dataset
    code, _, err = run_cli(*_train(images, masks, "--model_name", "unet", "--encoder", "no_such_encoder"))
    assert code == 2 and "unknown encoder 'no_such_encoder'" in err
    assert calls == [(("unet", 3, 32, 48), {"channels": 3, "encoder": "no_such_encoder"})]
    code, _, err = run_cli(*_train(images, masks, "--model_name", "no_such_decoder", "--encoder", "vgg16"))
    assert code == 2 and "unknown decoder 'no_such_decoder'; choose one of: deeplabv3, deeplabv3plus" in err


def test_models_encoder_measures_every_decoder_of_the_registry(run_cli, monkeypatch):
    from keras_segmentation import models

    measured = []

    def fake_count(name, n_classes=12, input_height=None, input_width=None, encoder="vanilla"):
        measured.append(name)
        return {"params": 1, "gflops": 0.0, "output": (input_height, input_width)}

    monkeypatch.setattr(models, "count_model", fake_count)
    code, out, _ = run_cli("models", "--no-params", "--encoder", "vgg16", "--names", "vgg_unet")
    assert code == 0
    decoders = [row["decoder"] for row in models.list_models() if row["builder"] == "build_model"]
    assert measured == decoders and len(decoders) >= 6
    for decoder in decoders:
        assert f"vgg16_{decoder}" in out
