"""Shared fixtures. Tests never download weights: legacy constructors default to no ImageNet weights here."""

import gc
import os
import pathlib
import sys

import pytest
from tinydata import write_tiny_dataset

os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def shared_dataset(env_name, default_name):
    """Path of a dataset under ../shared/datasets (or $env_name), or skip the test when it is absent."""
    path = pathlib.Path(os.environ.get(env_name, REPO_ROOT.parent / "shared" / "datasets" / default_name))
    if not path.is_dir():
        pytest.skip(f"{path} not found (set {env_name} to the dataset folder to run this test)")
    return path


def pytest_collection_finish(session):
    """Move what collection imported (TensorFlow, Keras, the test modules: about 430,000 objects) out of the
    garbage collector's sight: they live as long as the process, and every full collection traversed them
    (1.5 s each on the 2-core CI machine; one per test module below, more during training)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="module")
def _free_models_after_each_module():
    """Drop what Keras keeps of a module's models (layers, traced functions), so one process stays small."""
    yield
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()  # collects garbage too
    else:
        gc.collect()


@pytest.fixture
def camvid_dir():
    """The CamVid 'dataset1' folder of the original tutorial (skips when absent)."""
    return shared_dataset("KERAS_SEGMENTATION_CAMVID", "camvid")


@pytest.fixture
def isbi_dir():
    """The ISBI 2012 membrane folder (skips when absent)."""
    return shared_dataset("KERAS_SEGMENTATION_ISBI", "isbi_membrane")


@pytest.fixture
def tiny_dataset(tmp_path):
    """``(images_dir, masks_dir)`` of 6 tiny 32x48 pairs with 3 classes."""
    return write_tiny_dataset(tmp_path / "data")


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*argv)`` -> ``(exit code, stdout, stderr)``; the CLI runs in this process (no TensorFlow start-up)."""
    from keras_segmentation import cli

    def call(*argv):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return call
