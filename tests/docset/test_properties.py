"""The readers never raise, whatever the text: hostile markup costs a warning at most."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodocs.docset.files import DocsFolder
from autodocs.docset.markdown import read_markdown
from autodocs.docset.rst import read_rst

_FOLDER = DocsFolder(Path(__file__).parent / "no-such-folder")
_RST_PIECES = st.sampled_from(
    [
        "Title\n=====\n", "-----\n", ".. ", "::", ".. include:: ", ".. toctree::\n", ".. code-block:: python\n",
        ".. note::\n", ".. autoclass:: x\n", ".. unknown-thing:: arg\n", "   :opt: v\n", ":func:`", "`", "``",
        "|sub|", "*", "**", "_", "[#]_", "+---+\n", "| a |\n", "===\n", "\n", "   ", "\t", "1. ", "- ", ":ref:`a <b>`",
        ".. |x| replace:: y\n", ".. _t:\n", "/etc/passwd", "../", "\\",
    ]
)  # fmt: skip
_MD_PIECES = st.sampled_from(
    [
        "# ", "## ", "```", "```{note}\n", ":::", ":::{warning}\n", "!!! note\n", "    ", "--8<-- \"", "\"",
        "::: a.b\n", "| a |\n", "|---|\n", "---\n", "title: x\n", "\n", "- ", "> ", "<!-- ", "-->", "{eval-rst}\n",
        "{include} ",
        "../", "/etc/passwd", "*", "`",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_RST_PIECES, st.text(max_size=20)), max_size=40).map("".join))
def test_the_rst_reader_never_raises(text: str) -> None:
    page = read_rst(_FOLDER, "docs/p.rst", text)
    assert isinstance(page.text, str)
    assert not any("could not be parsed" in w for w in page.warnings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_MD_PIECES, st.text(max_size=20)), max_size=40).map("".join))
def test_the_markdown_reader_never_raises(text: str) -> None:
    page = read_markdown(_FOLDER, "docs/p.md", text)
    assert isinstance(page.text, str)
    assert not any("could not be parsed" in w for w in page.warnings)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_both_readers_take_any_unicode(text: str) -> None:
    read_rst(_FOLDER, "docs/p.rst", text)
    read_markdown(_FOLDER, "docs/p.md", text)
