"""The documentation site (mkdocs.yml, docs/) holds together: checked by reading the files, without building.

* every page named in mkdocs.yml's ``nav`` exists, and every Markdown page under docs/ is in the nav (or listed
  in ``not_in_nav``);
* the relative links of the pages point at files inside docs/ (a link to ``../examples/x.py`` or
  ``../README.md`` breaks the site: it must be an absolute GitHub link);
* the README keeps the two set-up commands, ``make demo`` and ``make test``;
* the test marked ``slow`` builds the site with ``mkdocs build --strict`` (broken links and docstring warnings
  fail it) where the ``[docs]`` extra is installed.
"""

import fnmatch
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
MKDOCS_YML = REPO_ROOT / "mkdocs.yml"

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def config():
    # mkdocs.yml uses no custom YAML tags, so the plain safe loader reads it
    return yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))


def nav_pages(nav):
    """Every page path in a mkdocs ``nav`` (nested lists of ``page``, ``{title: page}`` or ``{title: [...]}``)."""
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            if isinstance(value, list):
                yield from nav_pages(value)
            elif not re.match(r"^[a-z]+://", value):
                yield value


def excluded(relpath, patterns):
    return any(fnmatch.fnmatch(relpath, pattern.strip().lstrip("/")) for pattern in patterns if pattern.strip())


def relative_links(text):
    """The link targets of a Markdown text that are relative paths (no URL, no mail, no bare anchor), code left out."""
    text = INLINE_CODE.sub("", FENCE.sub("", text))
    for target in LINK.findall(text):
        if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", target):
            yield target


def test_every_nav_page_exists():
    pages = list(nav_pages(config()["nav"]))
    assert len(pages) >= 10, pages
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert not missing, f"mkdocs.yml's nav names pages that are not under docs/: {missing}"
    assert len(set(pages)) == len(pages), "a page appears twice in the nav"


def test_every_docs_page_is_in_the_nav():
    settings = config()
    in_nav = set(nav_pages(settings["nav"]))
    patterns = (settings.get("not_in_nav") or "").splitlines()
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    assert "index.md" in pages and "getting-started.md" in pages
    left_out = [page for page in pages if page not in in_nav and not excluded(page, patterns)]
    assert not left_out, f"add these pages to mkdocs.yml's nav (or to not_in_nav): {left_out}"


def test_relative_links_stay_inside_docs():
    broken = []
    for page in sorted(DOCS.rglob("*.md")):
        for target in relative_links(page.read_text(encoding="utf-8")):
            path = (page.parent / target.split("#")[0]).resolve()
            if DOCS.resolve() not in path.parents or not path.exists():
                broken.append(f"{page.relative_to(REPO_ROOT)}: {target}")
    assert not broken, "relative links must name a file under docs/ (else an absolute GitHub link):\n  " + "\n  ".join(
        broken
    )


def test_included_files_exist():
    snippet = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)
    included = [name for page in DOCS.rglob("*.md") for name in snippet.findall(page.read_text(encoding="utf-8"))]
    assert "DEVELOPERS.md" in included
    assert all((REPO_ROOT / name).is_file() for name in included), included


def test_the_link_checker_finds_what_it_should():
    text = "[a](fit.md) [b](https://x.org) [c](#top) ![d](figures/x.png) `[e](no.md)`\n```\n[f](no.md)\n```\n"
    assert list(relative_links(text)) == ["fit.md", "figures/x.png"]
    assert list(nav_pages(["index.md", {"A": "a.md"}, {"B": [{"C": "b/c.md"}, "b/d.md"]}, {"E": "https://e"}])) == [
        "index.md", "a.md", "b/c.md", "b/d.md"]


def test_readme_keeps_the_two_setup_commands():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^make (\w+)\b", readme, re.MULTILINE)
    assert commands == ["demo", "test"], commands
    assert "the original tutorial's code runs unchanged" in readme


def _docs_tools_missing():
    needed = {"mkdocs": "mkdocs", "material": "mkdocs-material", "mkdocstrings_handlers.python": "mkdocstrings[python]"}
    missing = []
    for module, package in needed.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(package)
    return missing


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path):
    missing = _docs_tools_missing()
    if missing:
        pytest.skip(f"the [docs] extra is not installed ({', '.join(missing)}): pip install -e .[docs]")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # without the theme's end-of-life notice
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "reference" / "keras_segmentation" / "index.html").is_file()
    api = (site / "reference" / "keras_segmentation" / "index.html").read_text(encoding="utf-8")
    assert 'id="keras_segmentation.autofit.run.fit"' in api, "the API reference lost fit"
    assert "fonts.googleapis.com" not in (site / "index.html").read_text(encoding="utf-8")
