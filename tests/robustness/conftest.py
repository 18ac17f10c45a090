"""Fixtures of the robustness tests: the CLI run in-process, a tiny checkpoint, a tiny model."""

import pytest
from badfiles import tiny_model, write_checkpoint

from keras_segmentation import cli


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*argv)`` -> ``(exit code, stdout, stderr)``; the CLI runs in this process (no TensorFlow start-up)."""

    def call(*argv):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """Prefix of a trained-looking tiny 3-class 32x32 checkpoint (config + epoch 1)."""
    prefix = tmp_path_factory.mktemp("ckpt") / "run"
    write_checkpoint(prefix)
    return prefix


@pytest.fixture(scope="module")
def model():
    """One tiny 3-class model shared by a module's tests (its predict function is traced once)."""
    return tiny_model()
