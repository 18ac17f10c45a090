"""Class names files: names, the optional colour column (``id<TAB>name<TAB>r,g,b``) and its one-line errors."""

import pytest

from keras_segmentation.data.class_names import check_class_names, load_class_colors, load_class_names, save_class_names
from keras_segmentation.data.visualize import class_colors
from keras_segmentation.errors import DataLoaderError


def write(tmp_path, text):
    path = tmp_path / "classes.txt"
    path.write_text(text)
    return path


def test_a_colour_column_gives_colours_and_leaves_the_names_alone(tmp_path):
    path = write(tmp_path, "0\tsky\t128,128,128\n# a comment\n1\troad\t 128, 64,128 \n3\tcar\t64,0,128  # cars\n")
    assert load_class_names(path) == ["sky", "road", "2", "car"]
    # id 2 is skipped: it gets the library's palette colour
    assert load_class_colors(path) == [(128, 128, 128), (128, 64, 128), class_colors[2], (64, 0, 128)]


def test_files_without_colours_give_none(tmp_path):
    save_class_names(tmp_path / "classes.txt", ["background", "cat"])  # what convert writes
    assert load_class_names(tmp_path / "classes.txt") == ["background", "cat"]
    assert load_class_colors(tmp_path / "classes.txt") is None
    assert load_class_colors(write(tmp_path, "sky\nroad\n")) is None  # one name per line: no colour column
    assert load_class_colors(["sky", "road"]) is None and load_class_colors("sky,road") is None


@pytest.mark.parametrize("lines, line, words", [
    ("0\tsky\t128,128\n", 1, "colour '128,128' is not r,g,b"),
    ("0\tsky\t1,2,3\n1\troad\t1,2,300\n", 2, "colour '1,2,300' is not r,g,b"),
    ("0\tsky\t1,2,3\n\n1\troad\tred\n", 3, "colour 'red' is not r,g,b"),
    ("0\tsky\t1,2,3\n1\troad\n", 2, "no colour, but other lines have one"),
    ("0\tsky\n1\troad\t1,2,3\n", 1, "no colour, but other lines have one"),
])
def test_bad_colour_lines_are_one_line_errors_naming_the_file_and_line(tmp_path, lines, line, words):
    path = write(tmp_path, lines)
    for reader in (load_class_names, load_class_colors):
        with pytest.raises(DataLoaderError) as raised:
            reader(path)
        message = str(raised.value)
        assert f"{path} line {line}:" in message and words in message and "\n" not in message


def test_a_tab_in_a_name_is_refused_since_it_separates_the_colour():
    with pytest.raises(DataLoaderError, match="tabs"):
        check_class_names(["sky", "road\tsurface"])
