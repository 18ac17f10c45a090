"""A Griffe extension for the API reference (mkdocs.yml loads it): the project's docstrings as the site renders them.

The docstrings are Google style with two habits Griffe does not read as intended:

* ``Example:`` (singular) heads the doctest block; Griffe knows ``Examples:`` as the section whose ``>>>`` lines
  become code, and turns ``Example:`` into an admonition whose ``>>>`` lines would render as prose;
* Sphinx roles (``:func:`~keras_segmentation.training.train```) cross-reference names; they become code spans
  (the last dotted part for ``~``), as Sphinx shows them, without links.

Only the text Griffe parses changes; the source files stay as they are.
"""

import re

import griffe

EXAMPLE_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")


def _code_span(match):
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def rewrite(text):
    """The docstring ``text`` with ``Example:`` read as ``Examples:`` and Sphinx roles as code spans.

    Examples:
        >>> rewrite("Summary.\\n\\nExample:\\n    >>> f()")
        'Summary.\\n\\nExamples:\\n    >>> f()'
        >>> rewrite("See :func:`~keras_segmentation.training.train`.")
        'See `train`.'
    """
    return SPHINX_ROLE.sub(_code_span, EXAMPLE_HEADING.sub(r"\1Examples:", text))


class ProjectDocstrings(griffe.Extension):
    """Rewrites each docstring once, when Griffe creates its object (before any docstring is parsed)."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
