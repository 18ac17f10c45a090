"""Parametrise ``case`` from each test class's ``cases`` (heavy ones marked slow)."""

import os

import pytest

os.environ.setdefault("KERAS_SEGMENTATION_ENCODER_WEIGHTS", "none")


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames or metafunc.cls is None:
        return
    params = [
        pytest.param(case, id=case.id, marks=[pytest.mark.slow] if case.slow else [])
        for case in getattr(metafunc.cls, "cases", ())
    ]
    # class scope groups the tests of one case together, so its model is built once (model_tester.cached_model)
    metafunc.parametrize("case", params, scope="class")

