"""A Griffe extension for the API reference: read a docstring's ``Example:`` as an examples section.

valuegrad's docstrings are Google style and head their doctests ``Example:``. Griffe's Google
parser knows only the plural, ``Examples:``, and reads ``Example:`` as an admonition whose text is
rendered as Markdown: the ``>>>`` lines run together into a paragraph and ``x[0][1]`` becomes a
(broken) reference link, which ``mkdocs build --strict`` reports. This extension renames the
heading before the docstring is parsed, so the doctests are shown as code. It is loaded from
``mkdocs.yml`` (``extensions:`` of the mkdocstrings Python handler) and is not part of the site.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` section headings to ``Examples:`` in every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\g<indent>Examples:", obj.docstring.value)
