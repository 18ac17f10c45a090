"""Helpers for the dataset tests: tiny files written by the tests themselves (``from datafiles import save``)."""

import os

import cv2
import numpy as np
from PIL import Image


def save(path, array):
    """Write ``array`` (BGR / gray / 16-bit) with OpenCV, by the extension of ``path``; unicode-safe."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ok, encoded = cv2.imencode(os.path.splitext(path)[1], np.ascontiguousarray(array))
    assert ok, path
    encoded.tofile(path)
    return path


def save_palette_png(path, indices, palette_rgb):
    """Write a palette (mode "P") PNG whose pixels are ``indices`` into ``palette_rgb``."""
    img = Image.fromarray(np.asarray(indices, np.uint8), mode="P")
    flat = [v for rgb in palette_rgb for v in rgb]
    img.putpalette(flat + [0] * (768 - len(flat)))
    img.save(os.fspath(path))
    return os.fspath(path)


def truncate(path, keep=0.5):
    """Cut a file to ``keep`` of its size (a broken download); returns the path as a string."""
    data = open(path, "rb").read()
    with open(path, "wb") as handle:
        handle.write(data[: int(len(data) * keep)])
    return os.fspath(path)


def bad_files(tmp_path):
    """``{kind: (path, what the error says)}``: files no reader can read, made under ``tmp_path``."""
    good = save(tmp_path / "good.png", np.zeros((8, 8, 3), np.uint8))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(open(good, "rb").read()[:30] + bytes(range(256)) * 4)
    return {
        "missing": (tmp_path / "missing.png", "not found"),
        "empty": (empty, "empty"),
        "text": (text, "not a readable image"),
        "corrupt": (corrupt, "not a readable image"),
        "truncated": (truncate(save(tmp_path / "cut.png", np.ones((16, 16, 3), np.uint8) * 9)), "not a readable"),
        "truncated_bmp": (truncate(save(tmp_path / "cut.bmp", np.ones((16, 16), np.uint8))), "not a readable"),
        "truncated_jpg": (truncate(save(tmp_path / "cut.jpg", np.ones((16, 16, 3), np.uint8))), "not a readable"),
        "upper_case": (truncate(save(tmp_path / "CUT2.PNG", np.ones((16, 16), np.uint8) * 3)), "not a readable"),
        "folder": (tmp_path, "not a file"),
    }
