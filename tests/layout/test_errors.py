"""Library code raises SegmentationError subclasses, never a bare ValueError / TypeError / KeyError.

A user who passes a bad argument or a bad file must get one line naming it
(``keras_segmentation.errors``), which the CLI prints as ``error: ...`` instead of a
traceback. This test reads the package source (ast) and fails on any
``raise ValueError(...)``, ``raise TypeError(...)`` or ``raise KeyError(...)`` (with
or without arguments) that is not in :data:`ALLOWED`.
"""

import ast
import pathlib

import pytest

PACKAGE = "keras_segmentation"
ROOT = pathlib.Path(__file__).resolve().parents[2] / PACKAGE
FORBIDDEN = {"ValueError", "TypeError", "KeyError"}

#: ``(path relative to the package, enclosing function or class.method, exception name)`` -> reason.
#: Every entry needs a reason (why no SegmentationError subclass fits) and must still match a raise.
ALLOWED = {}


def forbidden_raises():
    """``(path, qualified function name, exception name, line)`` of each forbidden raise in the package."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        _walk(tree, [], path.relative_to(ROOT).as_posix(), found)
    return found


def _walk(node, scope, relpath, found):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _walk(child, scope + [child.name], relpath, found)
            continue
        if isinstance(child, ast.Raise) and child.exc is not None:
            exc = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
            name = exc.id if isinstance(exc, ast.Name) else exc.attr if isinstance(exc, ast.Attribute) else None
            if name in FORBIDDEN:
                found.append((relpath, ".".join(scope) or "<module>", name, child.lineno))
        _walk(child, scope, relpath, found)


def test_no_bare_builtin_errors_are_raised():
    offending = [
        f"{PACKAGE}/{path}:{line} in {where}: raise {name}"
        for path, where, name, line in forbidden_raises()
        if (path, where, name) not in ALLOWED
    ]
    assert not offending, (
        "raise a keras_segmentation.errors class (one line naming the argument or file) instead of:\n  "
        + "\n  ".join(offending)
    )


def test_allow_list_entries_have_a_reason_and_still_exist():
    present = {(path, where, name) for path, where, name, _ in forbidden_raises()}
    for key, reason in ALLOWED.items():
        assert isinstance(reason, str) and len(reason.split()) >= 3, f"{key}: give a reason"
        assert key in present, f"{key} no longer raises: remove it from ALLOWED"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f(x):\n    raise ValueError(f'bad {x}')\n", [("m.py", "f", "ValueError", 2)]),
        ("class A:\n    def g(self):\n        raise TypeError\n", [("m.py", "A.g", "TypeError", 3)]),
        ("import builtins\nraise builtins.KeyError('k')\n", [("m.py", "<module>", "KeyError", 2)]),
        ("from errors import ModelConfigError\nraise ModelConfigError('x')\n", []),
        ("try:\n    pass\nexcept ValueError as err:\n    raise\n", []),
    ],
)
def test_the_scan_finds_what_it_should(source, expected):
    found = []
    _walk(ast.parse(source), [], "m.py", found)
    assert found == expected
