"""Fixtures of the robustness tests: a tiny checkpoint, a tiny model (``run_cli`` is in tests/conftest.py)."""

import pytest
from badfiles import tiny_model, write_checkpoint


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
