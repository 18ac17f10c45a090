"""The plan's rules, table by table, on hand-made fingerprints: mode and input, architecture, batch, weights, augmentation,
the throughput probe, patience and ``--set`` overrides."""

import pytest

from keras_segmentation.autofit import plan as planning
from keras_segmentation.autofit.plan import expected_epochs, find_imagenet_mobilenetv2, make_plan, parse_overrides, values
from keras_segmentation.errors import ModelConfigError

WIDE = [60.0, 40.0, 30.0]  # every class far wider than FPN's stride, even at a quarter of the scale
HUGE_WIDE = [300.0, 200.0, 100.0]  # still >= 9 px at a tenth of the scale
EVEN = [0.5, 0.3, 0.2]  # commonest / rarest 2.5: no class weights


def fingerprint(size=(360, 480), shares=EVEN, widths=WIDE, top_bottom=0.0, void=None, gpus=()):
    """The fingerprint keys ``make_plan`` reads, as :func:`~keras_segmentation.autofit.fingerprint.fingerprint_dataset`
    writes them."""
    return {
        "image_size": {"min": list(size), "median": list(size), "max": list(size), "n_distinct": 1},
        "n_classes": len(shares),
        "class_pixel_share": list(shares),
        "class_width_px": list(widths),
        "top_bottom_difference": top_bottom,
        "void": void,
        "void_reason": "a hand-made fingerprint" if void is None else f"class {void} is named 'void'",
        "machine": {"cpu_cores": 2, "bfloat16": False, "gpus": list(gpus), "memory_gb": 8.0},
        "channels": 3,
    }


def decided(fp, **kwargs):
    return values(make_plan(fp, **kwargs))


# ------------------------------------------------------------------ mode and input
MODE_CASES = [
    # CamVid-like: 360x480 scaled by 0.53 keeps every class >= 4 px: whole images resized to 192x256
    ("camvid, wide classes", dict(size=(360, 480)), "resize", [192, 256]),
    # ISBI-like: 512x512 scaled by 0.43 makes an 8 px class 3.5 px: crops at the native scale
    ("isbi, 8 px class", dict(size=(512, 512), shares=[0.78, 0.22], widths=[40.0, 8.0]), "crop", [224, 224]),
    # 2000x2000 would be scaled by 0.11, over 4x per side: crops even with wide classes
    ("huge images", dict(size=(2000, 2000), widths=HUGE_WIDE), "crop", [224, 224]),
    ("huge, not square", dict(size=(2000, 3000), widths=HUGE_WIDE), "crop", [224, 224]),
    # a 2 px class with 1 % of the pixels does not count (CamVid's poles): still resized
    ("thin rare class ignored", dict(shares=[0.59, 0.4, 0.01], widths=[60.0, 40.0, 2.0]), "resize", [192, 256]),
    # the same class with 6 % of the pixels decides: crops
    ("thin significant class", dict(shares=[0.54, 0.4, 0.06], widths=[60.0, 40.0, 2.0]), "crop", [224, 224]),
    # small images are never scaled down; 48 rounds up to the smallest side, 64
    ("small images", dict(size=(48, 100)), "resize", [64, 96]),
    # with a GPU: about 512x512 pixels per image
    ("gpu, 1024x1024", dict(size=(1024, 1024), gpus=["NVIDIA H100"]), "resize", [512, 512]),
]


@pytest.mark.parametrize("fp_args, mode, size", [case[1:] for case in MODE_CASES], ids=[case[0] for case in MODE_CASES])
def test_mode_and_input_size(fp_args, mode, size):
    plan = make_plan(fingerprint(**fp_args), budget_s=2700, n_train=100)
    assert plan["mode"]["value"] == mode
    assert plan["input"]["value"] == size
    assert all(side % 32 == 0 for side in plan["input"]["value"])


def test_the_mode_says_why():
    plan = make_plan(fingerprint(size=(512, 512), shares=[0.78, 0.22], widths=[40.0, 8.0]), budget_s=2700)
    assert "8.0 px" in plan["mode"]["why"] and "3.5 px" in plan["mode"]["why"]
    huge = make_plan(fingerprint(size=(2000, 2000), widths=HUGE_WIDE), budget_s=2700)
    assert "over 4x the model input" in huge["mode"]["why"]


# ------------------------------------------------------------------ architecture
ARCHITECTURE_CASES = [
    ("no weights: FPN from scratch", dict(), None, "fpn_vanilla", None),
    ("weights found: FPN on MobileNetV2", dict(), "/weights/mnv2.h5", "fpn_mobilenetv2", "/weights/mnv2.h5"),
    ("download allowed", dict(), "imagenet", "fpn_mobilenetv2", "imagenet"),
    # 8 px at the native scale (crops) is over FPN's stride: FPN stays
    ("isbi crops", dict(size=(512, 512), shares=[0.78, 0.22], widths=[40.0, 8.0]), None, "fpn_vanilla", None),
    # 3 px even at the native scale: a U-Net with full-resolution skips, weights or not
    ("class under 4 px natively", dict(size=(512, 512), shares=[0.8, 0.2], widths=[40.0, 3.0]), "/w.h5", "unet_mini",
     None),
    # the same thin class with 2 % of the pixels does not count
    ("thin rare class", dict(size=(512, 512), shares=[0.98, 0.02], widths=[40.0, 3.0]), None, "fpn_vanilla", None),
]


@pytest.mark.parametrize("fp_args, weights, architecture, encoder_weights", [case[1:] for case in ARCHITECTURE_CASES],
                         ids=[case[0] for case in ARCHITECTURE_CASES])
def test_architecture(fp_args, weights, architecture, encoder_weights):
    settings = decided(fingerprint(**fp_args), budget_s=2700, encoder_weights=weights)
    assert settings["architecture"] == architecture
    assert settings["encoder_weights"] == encoder_weights
    assert architecture in planning.ARCHITECTURES


# ------------------------------------------------------------------ batch size, class weights, augmentation
@pytest.mark.parametrize("size, batch", [
    ("192x256", 4),   # 4 x 192 x 256 pixels
    ("224x224", 4),   # 3.9 rounds to 4
    ("256x320", 2),   # 2.4
    ("96x128", 16),   # 16
    ("64x64", 16),    # 48, clamped to 16
    ("512x512", 2),   # 0.75, clamped to 2
])
def test_batch_size_from_the_pixels_per_batch(size, batch):
    assert decided(fingerprint(), budget_s=2700, overrides={"input": size})["batch_size"] == batch


GIB = 1024**3


@pytest.mark.parametrize("used_gib, available_gib, size, batch", [
    (0.5, 16.0, "192x256", 4),   # 0.125 GiB an image: 64 fit in 8 GiB; the pixel rule's 4 stays
    (3.0, 4.0, "192x256", 2),    # 0.75 GiB an image: 2 fit in 2 GiB
    (3.0, 4.0, "96x128", 10),    # a quarter of the pixels, 0.19 GiB an image: 10 fit (the pixel rule says 16)
    (3.0, 1.0, "192x256", 1),    # not even one fits: 1, never 0
    (None, None, "192x256", 4),  # no measure (no /proc): the pixel rule alone
])
def test_batch_size_is_capped_by_the_memory_the_probe_measured(used_gib, available_gib, size, batch):
    memory = None if used_gib is None else {"device": "cpu", "used": used_gib * GIB, "available": available_gib * GIB}
    probe = {"input": [192, 256], "images_per_second": 50.0, "batch": 4, "memory": memory}
    plan = make_plan(fingerprint(), budget_s=2700, n_train=100, overrides={"input": size}, probe=probe)
    assert plan["batch_size"]["value"] == batch
    capped = plan["batch_size"]["why"].startswith("196,608 pixels per batch") and "fits in 50% of the" in \
        plan["batch_size"]["why"]
    assert capped == (batch < {"192x256": 4, "96x128": 16}[size])


def test_the_probe_measures_the_memory_of_its_batch():
    from keras_segmentation.autofit.probe import probe_throughput

    settings = {"architecture": "unet_mini", "input": [32, 48], "batch_size": 2, "precision": "float32",
                "learning_rate": 1e-3, "loss": "ce"}
    probe = probe_throughput(settings, n_outputs=3, channels=3, seconds=0.1)
    assert probe["batch"] == 2 and probe["memory"]["device"] == "cpu"
    assert 0 < probe["memory"]["used"] < probe["memory"]["available"]


@pytest.mark.parametrize("shares, weights", [
    ([0.9, 0.05, 0.05], "enet"),   # 18x
    ([0.5, 0.3, 0.2], "none"),     # 2.5x
    ([0.5, 0.45, 0.05], "none"),   # exactly 10x: not over
    ([0.5, 0.46, 0.04], "enet"),   # 12.5x
    ([0.6, 0.4, 0.0], "none"),     # a class never seen does not count
])
def test_class_weights_over_an_imbalance_of_10(shares, weights):
    plan = make_plan(fingerprint(shares=shares, widths=[60.0] * len(shares)), budget_s=2700)
    assert plan["class_weights"]["value"] == weights
    assert ("over" in plan["class_weights"]["why"]) == (weights == "enet")


@pytest.mark.parametrize("difference, augment", [
    (0.0, "flip_rotate_scale"), (0.09, "flip_rotate_scale"), (0.1, "flip_scale"), (0.45, "flip_scale"),
])
def test_augmentation_follows_the_up_and_down_of_the_classes(difference, augment):
    assert decided(fingerprint(top_bottom=difference), budget_s=2700)["augment"] == augment


def test_fixed_decisions_and_void():
    settings = decided(fingerprint(void=11), budget_s=2700)
    assert settings["loss"] == "ce+dice" and settings["learning_rate"] == 2e-3 and settings["precision"] == "auto"
    assert settings["val_fraction"] == 0.15 and settings["flip_tta"] == "auto"
    assert settings["void"] == 11
    plan = make_plan(fingerprint(void=11), budget_s=2700)
    assert plan["void"]["why"] == "class 11 is named 'void'"
    assert list(plan) == ["mode", "input", "architecture", "encoder_weights", "batch_size", "steps_per_epoch",
                          "precision", "loss", "class_weights", "augment", "learning_rate", "val_fraction",
                          "rejoin", "patience", "flip_tta", "void"]


@pytest.mark.parametrize("kwargs, rejoin", [
    (dict(budget_s=2700), 0.25),                            # validation held out of the images: it trains at the end
    (dict(epochs=20), 0.25),
    (dict(budget_s=2700, held_out=False), 0.0),             # a validation set of your own stays out of training
    (dict(budget_s=2700, overrides=["rejoin=0"]), 0.0),
    (dict(budget_s=2700, overrides=["rejoin=0.5"]), 0.5),
])
def test_the_validation_images_rejoin_training_for_the_last_quarter(kwargs, rejoin):
    assert decided(fingerprint(), **kwargs)["rejoin"] == rejoin


def test_a_rejoin_share_out_of_range_is_refused():
    with pytest.raises(ModelConfigError, match=r"^--set rejoin=0\.95: must be between 0 and 0\.9$"):
        make_plan(fingerprint(), budget_s=2700, overrides=["rejoin=0.95"])


# ------------------------------------------------------------------ the probe, expected epochs and patience
def test_expected_epochs_scale_with_the_pixels():
    probe = {"input": [192, 256], "images_per_second": 10.0}
    # 115 s x 10 images/s x 4 (a quarter of the pixels) / (1.15 x 40 images): 100 epochs
    assert expected_epochs(probe, [96, 128], 115, 40) == pytest.approx(100.0)
    assert expected_epochs(probe, [192, 256], 115, 40) == pytest.approx(25.0)
    assert expected_epochs(probe, [192, 256], 230, 40) == pytest.approx(50.0)


@pytest.mark.parametrize("images_per_second, size", [
    (50.0, [192, 256]),  # 100 expected epochs: the input stays
    (5.0, [128, 192]),   # 10 epochs: sides x sqrt(10 / 20) = 0.71, rounded to multiples of 32
    (0.5, [64, 96]),     # 1 epoch: sides x 0.22 would go under 64 px: the smallest side is 64
])
def test_the_probe_shrinks_the_input_when_the_budget_holds_too_few_epochs(images_per_second, size):
    probe = {"input": [192, 256], "images_per_second": images_per_second}
    assert decided(fingerprint(), budget_s=600, n_train=260, probe=probe)["input"] == size


def test_the_probe_leaves_an_input_set_by_you():
    probe = {"input": [192, 256], "images_per_second": 0.5}
    plan = make_plan(fingerprint(), budget_s=600, n_train=260, probe=probe, overrides=["input=256x320"])
    assert plan["input"]["value"] == [256, 320]
    assert plan["input"]["why"].startswith("set by you")


@pytest.mark.parametrize("kwargs, patience", [
    (dict(budget_s=2700), 10),                                # no probe: at least 10
    (dict(epochs=100), 25),                                   # a quarter of the epochs
    (dict(epochs=60), 15),
    (dict(epochs=20), 10),                                    # 5, raised to 10
    (dict(budget_s=600, n_train=260, probe={"input": [192, 256], "images_per_second": 50.0}), 25),  # 100.3 expected
    (dict(budget_s=600, n_train=260, probe={"input": [192, 256], "images_per_second": 5.0}), 10),   # 20 at 128x192
])
def test_patience_is_a_quarter_of_the_expected_epochs(kwargs, patience):
    assert decided(fingerprint(), **kwargs)["patience"] == patience


def test_patience_says_how_many_epochs_it_expects():
    assert "expected 100 epochs" in make_plan(fingerprint(), epochs=100)["patience"]["why"]


# ------------------------------------------------------------------ overrides
@pytest.mark.parametrize("given, parsed", [
    (["batch_size=8", "input=256x320", "void=none"], {"batch_size": 8, "input": [256, 320], "void": None}),
    (["input=256"], {"input": [256, 256]}),
    (["input=256,320"], {"input": [256, 320]}),
    (["input=256X320"], {"input": [256, 320]}),
    ([" loss = ce "], {"loss": "ce"}),
    (["learning_rate=1e-3", "patience=7", "val_fraction=0.2"], {"learning_rate": 1e-3, "patience": 7, "val_fraction": 0.2}),
    (["void=255"], {"void": 255}),
    (["void="], {"void": None}),
    (["architecture=unet_mini", "mode=crop"], {"architecture": "unet_mini", "mode": "crop"}),
    ({"loss": "ce", "input": "128x128"}, {"loss": "ce", "input": [128, 128]}),
    ({"batch_size": 8, "input": [96, 96]}, {"batch_size": 8, "input": [96, 96]}),  # already typed: kept
    ([], {}),
])
def test_parse_overrides(given, parsed):
    assert parse_overrides(given) == parsed


@pytest.mark.parametrize("given, named", [
    (["nope=1"], "nope"),
    ({"epochs": "3"}, "epochs"),
    (["loss"], "loss"),                    # no '='
    (["batch_size=abc"], "batch_size"),
    (["batch_size=2.5"], "batch_size"),
    (["learning_rate=fast"], "learning_rate"),
    (["patience=x"], "patience"),
    (["void=background"], "void"),
    (["input=250x320"], "input"),          # not a multiple of 32
    (["input=16x16"], "input"),            # under 32
    (["input=256x320x3"], "input"),
    (["input=big"], "input"),
    (["rejoin=most"], "rejoin"),
])
def test_bad_overrides_name_the_setting(given, named):
    with pytest.raises(ModelConfigError, match=rf"--set '?{named}\b") as error:
        parse_overrides(given)
    assert "\n" not in str(error.value)


def test_overrides_replace_the_rule_and_the_plan_says_so():
    plan = make_plan(fingerprint(top_bottom=0.5), budget_s=2700,
                     overrides=["architecture=unet_mini", "loss=ce", "batch_size=8", "augment=none", "void=none"])
    settings = values(plan)
    assert settings["architecture"] == "unet_mini" and settings["loss"] == "ce" and settings["batch_size"] == 8
    assert settings["augment"] == "none" and settings["void"] is None
    assert plan["loss"]["why"].startswith("set by you (the rule said 'ce+dice'")
    assert plan["architecture"]["why"].startswith("set by you (the rule said 'fpn_vanilla'")
    assert plan["augment"]["why"].startswith("set by you (the rule said 'flip_scale'")
    assert not plan["mode"]["why"].startswith("set by you")


def test_an_input_set_by_you_sizes_the_batch():
    settings = decided(fingerprint(), budget_s=2700, overrides={"input": "96x128"})
    assert settings["input"] == [96, 128] and settings["batch_size"] == 16


def test_a_mode_set_by_you_sizes_the_input():
    assert decided(fingerprint(), budget_s=2700, overrides=["mode=crop"])["input"] == [224, 224]
    huge = fingerprint(size=(2000, 2000), widths=HUGE_WIDE)
    assert decided(huge, budget_s=2700, overrides=["mode=resize"])["input"] == [224, 224]
    # crops at the native scale: an 8 px class stays 8 px, FPN stays
    crops = decided(fingerprint(size=(512, 512), shares=[0.8, 0.2], widths=[40.0, 6.0]), budget_s=2700)
    resized = decided(fingerprint(size=(512, 512), shares=[0.8, 0.2], widths=[40.0, 6.0]), budget_s=2700,
                      overrides=["mode=resize"])
    assert crops["architecture"] == "fpn_vanilla" and resized["architecture"] == "unet_mini"


def test_an_unknown_architecture_is_refused():
    with pytest.raises(ModelConfigError, match=r"architecture='resnet'.*fpn_vanilla"):
        make_plan(fingerprint(), budget_s=2700, overrides=["architecture=resnet"])


# ------------------------------------------------------------------ a run continuing a finished one (start_from)
def test_start_from_gives_what_its_weights_need_and_the_rest_is_planned_again():
    previous = make_plan(fingerprint(size=(512, 512), shares=[0.78, 0.22], widths=[40.0, 8.0]), budget_s=2700,
                         encoder_weights="/weights/mnv2.h5", overrides=["void=255"])
    # the new data alone would be resized to 192x256 on FPN from scratch, without void, without class weights
    plan = make_plan(fingerprint(shares=[0.95, 0.05]), budget_s=600, encoder_weights=None,
                     start_from=("runs/fit", previous))
    settings = values(plan)
    assert settings["mode"] == "crop" and settings["input"] == [224, 224] and settings["void"] == 255
    assert settings["architecture"] == "fpn_mobilenetv2" and settings["encoder_weights"] is None
    assert all(plan[name]["why"].startswith("from start_from runs/fit") for name in ("mode", "input", "void"))
    assert "every weight comes from start_from runs/fit" in plan["encoder_weights"]["why"]
    assert settings["class_weights"] == "enet" and settings["augment"] == "flip_rotate_scale"  # the new data's
    assert settings["learning_rate"] == planning.CONTINUE_LEARNING_RATE < values(previous)["learning_rate"]
    assert settings["batch_size"] == values(previous)["batch_size"]  # the same input, the same batch


@pytest.mark.parametrize("name", planning.FROM_START)
def test_start_from_refuses_a_set_of_what_it_gives(name):
    previous = make_plan(fingerprint(), budget_s=2700)
    given = {"input": "256x256", "mode": "crop", "architecture": "unet_mini", "encoder_weights": "x.h5", "void": "255"}
    with pytest.raises(ModelConfigError, match=rf"^--set {name}: start_from='runs/fit' fixes it") as error:
        make_plan(fingerprint(), budget_s=2700, overrides={name: given[name]}, start_from=("runs/fit", previous))
    assert "\n" not in str(error.value)
    settings = values(make_plan(fingerprint(), budget_s=2700, overrides={"learning_rate": "1e-4"},
                                start_from=("runs/fit", previous)))
    assert settings["learning_rate"] == 1e-4


# ------------------------------------------------------------------ ImageNet weights and the plan table
def test_imagenet_weights_are_looked_for_in_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert find_imagenet_mobilenetv2() is None
    assert find_imagenet_mobilenetv2(allow_download=True) == "imagenet"
    assert find_imagenet_mobilenetv2(local_file=tmp_path / "mine.h5") == str(tmp_path / "mine.h5")
    cached = tmp_path / "models" / planning.MOBILENETV2_FILE
    cached.parent.mkdir()
    cached.write_bytes(b"weights")
    assert find_imagenet_mobilenetv2() == str(cached)


def test_plan_table_shows_every_decision_on_one_line():
    plan = make_plan(fingerprint(), budget_s=2700)
    lines = planning.plan_table(plan).splitlines()
    assert len(lines) == len(plan)
    assert lines[1].split()[:2] == ["input", "192x256"]
