"""docs/troubleshooting.md shows the messages the library prints today (they are generated, never typed)."""

from troubleshooting import BEGIN, DOC, END, generate


def test_troubleshooting_page_is_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == generate(), (
        "docs/troubleshooting.md is out of date with the library's messages: "
        "run `.venv/bin/python tests/robustness/troubleshooting.py` and review the diff"
    )
