"""Splitting long descriptions (Markdown, reStructuredText, plain text) into sections."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodocs.docs.sections import Section, detect_format, split_sections

CONTENT_TYPES = [None, "text/markdown", "text/x-rst", "text/plain"]


def outline(sections: list[Section]) -> list[tuple[int, str]]:
    return [(section.level, section.title) for section in sections]


def by_title(sections: list[Section]) -> dict[str, Section]:
    return {section.title: section for section in sections}


# --------------------------------------------------------------------------- real-world style READMEs

REQUESTS_RST = """\
.. image:: https://static.pepy.tech/badge/requests/month
    :target: https://pepy.tech/project/requests
    :alt: Requests Downloads Per Month Badge

========
Requests
========

**Requests** is a simple, yet elegant, HTTP library.

.. code-block:: python

    >>> import requests
    >>> r = requests.get('https://httpbin.org/basic-auth/user/pass', auth=('user', 'pass'))
    >>> r.status_code
    200

Installing Requests and Supported Versions
------------------------------------------

Requests is available on PyPI:

.. code-block:: console

    $ python -m pip install requests

Supported Features & Best-Practices
-----------------------------------

- Keep-Alive & Connection Pooling
- International Domains and URLs

API Reference and User Guide available on `Read the Docs <https://requests.readthedocs.io>`_.

Cloning the repository
~~~~~~~~~~~~~~~~~~~~~~

When cloning the Requests repository, you may need to add the ``-c fetch.fsck.badTimezone=ignore``
flag to avoid an error about a bad commit::

    git clone -c fetch.fsck.badTimezone=ignore https://github.com/psf/requests.git
"""

GFM_README = """\
<h1 align="center">
  <a href="https://github.com/acme/fastlib"><img src="docs/logo.png" alt="fastlib logo" width="120"></a>
  <br>
  fastlib
</h1>

<p align="center">
  <a href="https://pypi.org/project/fastlib"><img src="https://img.shields.io/pypi/v/fastlib.svg" alt="PyPI"></a>
  <a href="https://github.com/acme/fastlib/actions"><img src="https://ci.example/badge.svg" alt="CI"></a>
</p>

**fastlib** is a *fast* HTTP client for Python 3.9+.

## Installation

```console
$ pip install fastlib
```

## Quickstart

```python
# Create a client once and reuse it
import fastlib

# Fetch a page
client = fastlib.Client(timeout=5.0)
response = client.get("https://example.org")
## print(response.text)
```

### Configuration

| Setting   | Default | Description           |
|-----------|---------|-----------------------|
| `timeout` | `5.0`   | Seconds per request.  |
| `retries` | `3`     | Attempts on failure.  |

---

## License

This project is licensed under the terms of the MIT license.
"""


def test_requests_style_rst_with_overline_title() -> None:
    sections = split_sections(REQUESTS_RST, "text/x-rst")

    assert outline(sections) == [
        (0, "Overview"),
        (1, "Requests"),
        (2, "Installing Requests and Supported Versions"),
        (2, "Supported Features & Best-Practices"),
        (3, "Cloning the repository"),
    ]
    overview, requests_, installing, features, cloning = sections
    assert overview.content.startswith(".. image:: https://static.pepy.tech/badge/requests/month")
    assert overview.content.endswith(":alt: Requests Downloads Per Month Badge")
    # The body keeps its markup and does not repeat the title or its adornment.
    assert requests_.content.startswith("**Requests** is a simple, yet elegant, HTTP library.")
    assert "    >>> r.status_code\n    200" in requests_.content
    assert "========" not in requests_.content
    assert installing.content == (
        "Requests is available on PyPI:\n\n.. code-block:: console\n\n    $ python -m pip install requests"
    )
    assert features.content.endswith("`Read the Docs <https://requests.readthedocs.io>`_.")
    assert cloning.content.endswith("https://github.com/psf/requests.git")
    assert [s.anchor for s in sections] == [
        "overview",
        "requests",
        "installing-requests-and-supported-versions",
        "supported-features-best-practices",
        "cloning-the-repository",
    ]


def test_gfm_readme_with_html_h1_badges_and_python_comments() -> None:
    sections = split_sections(GFM_README, "text/markdown; charset=UTF-8; variant=GFM")

    assert outline(sections) == [
        (1, "fastlib"),
        (2, "Installation"),
        (2, "Quickstart"),
        (3, "Configuration"),
        (2, "License"),
    ]
    fastlib = sections[0]
    assert fastlib.anchor == "fastlib"
    assert fastlib.content.startswith('<p align="center">')
    assert fastlib.content.endswith("**fastlib** is a *fast* HTTP client for Python 3.9+.")
    quickstart = by_title(sections)["Quickstart"]
    # "# comment" lines (and even "## ...") inside a fenced block are code, not headings.
    assert "# Create a client once and reuse it" in quickstart.content
    assert "## print(response.text)" in quickstart.content
    assert quickstart.content.startswith("```python") and quickstart.content.endswith("```")
    configuration = by_title(sections)["Configuration"]
    assert "|-----------|---------|-----------------------|" in configuration.content
    assert configuration.content.endswith("---")  # a thematic break stays in the body
    assert by_title(sections)["License"].content == "This project is licensed under the terms of the MIT license."


def test_gfm_readme_is_detected_as_markdown_without_content_type() -> None:
    assert detect_format(GFM_README, None) == "markdown"
    assert detect_format(GFM_README, "") == "markdown"
    assert split_sections(GFM_README) == split_sections(GFM_README, "text/markdown")


def test_rst_readme_is_detected_without_content_type() -> None:
    assert detect_format(REQUESTS_RST, None) == "rst"
    assert split_sections(REQUESTS_RST) == split_sections(REQUESTS_RST, "text/x-rst")


def test_setext_headings() -> None:
    text = """\
attrs
=====

*attrs* is the Python package that will bring back the **joy** of writing classes.

Getting Started
---------------

```python
>>> from attrs import define
```

Project Information
-------------------

- [**Changelog**](https://www.attrs.org/en/stable/changelog.html)
"""
    sections = split_sections(text, "text/markdown")

    assert outline(sections) == [(1, "attrs"), (2, "Getting Started"), (2, "Project Information")]
    assert sections[0].content.startswith("*attrs* is the Python package")
    assert sections[1].content == "```python\n>>> from attrs import define\n```"
    assert sections[2].content == "- [**Changelog**](https://www.attrs.org/en/stable/changelog.html)"


def test_markdown_without_content_type_with_setext_headings_and_links_is_markdown() -> None:
    text = "Project\n=======\n\nSee the [docs](https://example.org).\n\nUsage\n-----\n\nRun it.\n"
    assert detect_format(text, None) == "markdown"
    assert outline(split_sections(text)) == [(1, "Project"), (2, "Usage")]


def test_rst_code_block_with_adornment_like_lines_is_not_split() -> None:
    text = """\
Writing docs
============

Titles are underlined:

.. code-block:: rst

   My Title
   ========

   Section
   -------

.. code-block:: python

    # =====
    print("=====")

Next
====

done
"""
    sections = split_sections(text, "text/x-rst")

    assert outline(sections) == [(1, "Writing docs"), (1, "Next")]
    assert "   My Title\n   ========\n\n   Section\n   -------" in sections[0].content
    assert '    print("=====")' in sections[0].content


def test_rst_literal_blocks_are_not_split() -> None:
    text = """\
Configuration
=============

Put this in ``setup.cfg``::

    [tool:pytest]
    -------------
    addopts = -ra

The output looks like::

  Results
  =======
  1 passed

Quoted literal blocks work too::

> Results
> -------

Changelog
=========

See GitHub.
"""
    sections = split_sections(text, "text/x-rst")

    assert outline(sections) == [(1, "Configuration"), (1, "Changelog")]
    assert "    [tool:pytest]\n    -------------" in sections[0].content
    assert "  Results\n  =======" in sections[0].content
    assert "> Results\n> -------" in sections[0].content


def test_rst_levels_follow_order_of_first_appearance() -> None:
    text = """\
########
Big Part
########

Chapter
*******

Section
=======

Subsection
----------

Another Section
===============

Chapter Two
***********

Inner
=====

Underline-only equals differs from overlined equals
---------------------------------------------------

=========
Overlined
=========
"""
    sections = split_sections(text, "text/x-rst")

    assert outline(sections) == [
        (1, "Big Part"),
        (2, "Chapter"),
        (3, "Section"),
        (4, "Subsection"),
        (3, "Another Section"),
        (2, "Chapter Two"),
        (3, "Inner"),
        (4, "Underline-only equals differs from overlined equals"),
        (5, "Overlined"),
    ]


def test_rst_title_with_a_new_style_that_skips_a_level_is_not_a_section() -> None:
    # docutils: a new adornment style may only open the level right below the current one
    # ("Title level inconsistent"); such a title renders as an error on the index, not a heading.
    text = "Part\n####\n\nChapter\n*******\n\nBack\n####\n\nInner\n^^^^^\n\nbody\n"
    sections = split_sections(text, "text/x-rst")
    assert outline(sections) == [(1, "Part"), (2, "Chapter"), (1, "Back")]
    assert sections[2].content == "Inner\n^^^^^\n\nbody"


def test_rst_levels_when_dashes_come_first() -> None:
    text = "Intro\n-----\n\ntext\n\nDeeper\n======\n\nBack\n----\n"
    assert outline(split_sections(text, "text/x-rst")) == [(1, "Intro"), (2, "Deeper"), (1, "Back")]


def test_rst_titles_need_long_enough_underlines_and_column_zero() -> None:
    text = """\
Intro paragraph.

Too short
===

A
=

   Indented (a block quote)
   ========================

- bullet item
-------------

Real
====
"""
    sections = split_sections(text, "text/x-rst")

    assert outline(sections) == [(0, "Overview"), (1, "A"), (1, "Real")]
    assert sections[0].content == "Intro paragraph.\n\nToo short\n==="
    assert "Indented (a block quote)" in sections[1].content
    assert "- bullet item\n-------------" in sections[1].content


def test_rst_transition_is_not_a_title() -> None:
    text = "Title\n=====\n\nBefore.\n\n----------\n\nAfter.\n"
    sections = split_sections(text, "text/x-rst")
    assert outline(sections) == [(1, "Title")]
    assert sections[0].content == "Before.\n\n----------\n\nAfter."


def test_rst_title_inline_markup_is_stripped() -> None:
    title = "``pip install`` and `the docs <https://example.org>`_ for **fast** |badge| users_"
    text = f"{title}\n{'=' * len(title)}\n\n:mod:`json` support\n===================\n\nbody\n"
    sections = split_sections(text, "text/x-rst")
    assert outline(sections) == [(1, "pip install and the docs for fast users"), (1, "json support")]
    assert sections[0].anchor == "pip-install-and-the-docs-for-fast-users"


def test_duplicate_titles_get_numbered_anchors() -> None:
    text = """\
# Client

## Example

one

## Example

two

# Server

## Example

three

## Example 2

four
"""
    sections = split_sections(text, "text/markdown")

    assert [s.anchor for s in sections] == ["client", "example", "example-2", "server", "example-3", "example-2-2"]
    assert [s.content for s in sections if s.title == "Example"] == ["one", "two", "three"]


def test_text_before_first_heading_is_overview() -> None:
    text = "A tiny library.\n\nIt does one thing.\n\n# Usage\n\nCall `it()`.\n"
    sections = split_sections(text, "text/markdown")
    assert sections[0] == Section("Overview", 0, "A tiny library.\n\nIt does one thing.", "overview")
    assert sections[1] == Section("Usage", 1, "Call `it()`.", "usage")


def test_no_overview_when_document_starts_with_heading() -> None:
    sections = split_sections("\n\n# Title\n\nBody\n", "text/markdown")
    assert outline(sections) == [(1, "Title")]


def test_table_separator_row_is_not_a_heading() -> None:
    text = """\
## Options

| Option | Meaning |
|---|---|
| `-v` | verbose |
---

Name | Value
--- | ---
a | b
"""
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(2, "Options")]
    assert sections[0].content.endswith("a | b")


def test_thematic_break_after_blank_line_is_not_a_heading() -> None:
    text = "# Title\n\nSome text.\n\n---\n\nMore text.\n\n***\n"
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(1, "Title")]
    assert sections[0].content == "Some text.\n\n---\n\nMore text.\n\n***"


def test_list_item_and_quote_lines_are_not_setext_titles() -> None:
    text = "- item\n---\n\n> quoted\n---\n\n1. step\n===\n\nReal\n----\n"
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(0, "Overview"), (2, "Real")]


def test_markdown_code_is_never_a_heading() -> None:
    text = """\
# Title

~~~bash
# install
pip install x
~~~

````markdown
```
# still inside the outer fence
```
````

    # indented code

1. Step one:

    ```python
    # a comment in a list item's code
    ```

<!--
# a commented-out heading
-->

## End
"""
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(1, "Title"), (2, "End")]


def test_markdown_atx_rules() -> None:
    text = "#NoSpace\n####### seven\n   # Three spaces #\n# C#\n## Closed ##\n# \\# escaped\n"
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(0, "Overview"), (1, "Three spaces"), (1, "C#"), (2, "Closed"), (1, "# escaped")]
    assert sections[0].content == "#NoSpace\n####### seven"


def test_markdown_title_inline_markup_is_stripped() -> None:
    text = "# Hello **bold** _em_ `__init__` [link](https://x.org) ![logo](l.png) snake_case &amp; <kbd>K</kbd>\n"
    assert split_sections(text, "text/markdown")[0].title == "Hello bold em __init__ link snake_case & K"


def test_badge_only_heading_is_not_a_section_break() -> None:
    text = """\
# Intro

Text.

# [![Build](https://ci.example.org/badge.svg)](https://ci.example.org)

More text under the badge.

<h2 align="center"><img src="banner.png"></h2>

# Usage
"""
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(1, "Intro"), (1, "Usage")]
    assert "More text under the badge." in sections[0].content
    assert '<h2 align="center"><img src="banner.png"></h2>' in sections[0].content


def test_rst_badge_only_title_is_not_a_section_break() -> None:
    text = """\
Intro
=====

Text.

|build| |coverage|
==================

More text.

.. |build| image:: https://ci.example.org/badge.svg

Usage
=====
"""
    sections = split_sections(text, "text/x-rst")
    assert outline(sections) == [(1, "Intro"), (1, "Usage")]
    assert "|build| |coverage|\n==================\n\nMore text." in sections[0].content


def test_html_comments_hide_headings() -> None:
    text = "<!-- TOC -->\n# Shown\n\n<!--\nnotes\n# hidden\n## hidden too\n-->\n# Also shown\n"
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(0, "Overview"), (1, "Shown"), (1, "Also shown")]


def test_html_headings_inside_html_blocks() -> None:
    text = '<div align="center">\n  <h1>Project</h1>\n  <p>badges</p>\n</div>\n\n## Install\n\npip\n'
    sections = split_sections(text, "text/markdown")
    assert outline(sections) == [(0, "Overview"), (1, "Project"), (2, "Install")]
    assert sections[1].content == "  <p>badges</p>\n</div>"


def test_empty_sections_are_kept() -> None:
    sections = split_sections("# A\n## B\n### C\ntext\n", "text/markdown")
    assert [(s.title, s.content) for s in sections] == [("A", ""), ("B", ""), ("C", "text")]


def test_plain_text_is_one_overview_section() -> None:
    text = "\n\nJust a description.\n\n# Not a heading in plain text\n\n"
    assert split_sections(text, "text/plain") == [
        Section("Overview", 0, "Just a description.\n\n# Not a heading in plain text", "overview")
    ]
    assert detect_format("Just words.\nMore words.", None) == "text"
    assert outline(split_sections("Just words.\nMore words.")) == [(0, "Overview")]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n", "\ufeff", "\ufeff \r\n"])
def test_blank_input_gives_no_sections(text: str, content_type: str | None) -> None:
    assert split_sections(text, content_type) == []


def test_bom_and_line_endings_are_normalized() -> None:
    text = "\ufeff# One\r\nfirst\r\n\r\n# Two\rsecond\r"
    sections = split_sections(text, "text/markdown")
    assert [(s.title, s.content) for s in sections] == [("One", "first"), ("Two", "second")]


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/markdown", "markdown"),
        ("text/markdown; charset=UTF-8; variant=GFM", "markdown"),
        ("TEXT/MARKDOWN", "markdown"),
        ("text/x-rst", "rst"),
        ("text/x-rst; charset=UTF-8", "rst"),
        ("text/plain", "text"),
    ],
)
def test_declared_content_type_is_trusted(content_type: str, expected: str) -> None:
    assert detect_format("# Looks like Markdown\n\n```py\nx\n```\n", content_type) == expected


def test_unknown_content_type_falls_back_to_detection() -> None:
    assert detect_format("# Title\n\ntext\n", "text/html") == "markdown"


def test_detection_signals() -> None:
    assert detect_format("Title\n=====\n\n.. note::\n\n   Hi\n", None) == "rst"
    assert detect_format("Title\n~~~~~\n\nText\n", None) == "rst"
    assert detect_format("Text\n\n```python\nx = 1\n```\n", None) == "markdown"
    # Underlines only, nothing else to go by: the index's default, reStructuredText.
    assert detect_format("Title\n=====\n\nText\n", None) == "rst"
    # An RST README whose code block holds "# comment" lines is still RST.
    rst = "Usage\n=====\n\n.. code-block:: python\n\n   # comment\n   x = 1\n\nMore\n----\n"
    assert detect_format(rst, None) == "rst"


def test_section_is_frozen() -> None:
    section = split_sections("# A\nb", "text/markdown")[0]
    with pytest.raises(AttributeError):
        section.title = "B"  # type: ignore[misc]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize(
    "text",
    [
        "# " + " " * 200_000 + "x",
        "# " + "![" * 100_000,
        "# " + "*a " * 50_000,
        "# " + "`a``" * 50_000,
        "<h1>\n" * 20_000,
        "=== ===\na b\n" * 20_000,
        ":" + "a:" * 100_000,
        "\x00\n\x00# x\n# \x00\n" * 1000,
        "\ud800 lone surrogate\n=================\n",
        "Title\n=====\n" * 20_000,
    ],
    ids=["spaces", "brackets", "stars", "backticks", "h1", "tables", "colons", "nul", "surrogate", "titles"],
)
def test_pathological_input_is_fast(text: str, content_type: str | None) -> None:
    started = time.perf_counter()
    split_sections(text, content_type)
    assert time.perf_counter() - started < 2.0


def test_one_megabyte_markdown_with_5000_headings_is_fast() -> None:
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. " * 2
    parts = [
        f"{'#' * (1 + i % 3)} Heading {i}\n\n{paragraph}\n\n```python\n# comment {i}\nx = {i}\n```\n"
        for i in range(5000)
    ]
    text = "\n".join(parts)
    text += "\n" + "filler text line\n" * ((1_000_000 - len(text)) // 17)
    assert len(text) >= 990_000

    for content_type in (None, "text/markdown"):
        started = time.perf_counter()
        sections = split_sections(text, content_type)
        elapsed = time.perf_counter() - started
        assert len(sections) == 5000
        assert elapsed < 2.0, f"{content_type}: {elapsed:.3f}s"
    assert sections[4999].title == "Heading 4999"
    assert len({s.anchor for s in sections}) == 5000


# --------------------------------------------------------------------------- properties

_ANCHOR = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# Markup whose letters may legitimately be absent from a title: tags, URLs, entities,
# link/image labels (kept or dropped), RST roles and substitutions.
_TITLE_MARKUP = re.compile(
    r"<!--.*?-->|<[^>]*>|\([^)]*\)|\[[^\]]*\]|&#?\w+;?|\|[^|]*\||(?::[\w.+-]+)+:",
    re.S,
)


def _normalized(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _alnum(text: str) -> int:
    return sum(char.isalnum() for char in text)


def check_invariants(text: str, content_type: str | None) -> list[Section]:
    sections = split_sections(text, content_type)
    source = _normalized(text)
    if not source.strip():
        assert sections == []
        return sections
    assert sections, "a non-blank text has at least one section"

    anchors = [s.anchor for s in sections]
    assert len(set(anchors)) == len(anchors)
    for index, section in enumerate(sections):
        assert section.title
        assert section.title == " ".join(section.title.split())
        assert _ANCHOR.fullmatch(section.anchor), section.anchor
        if section.level == 0:
            assert index == 0 and section.title == "Overview"
        else:
            assert section.level >= 1
        assert section.content == section.content.rstrip()
        assert not section.content.startswith("\n")

    # Bodies are verbatim, whole-line slices of the (normalized) source, in order.
    cursor = 0
    for section in sections:
        if not section.content:
            continue
        found = source.find(section.content, cursor)
        while found > 0 and source[found - 1] != "\n":  # must start at a line start
            found = source.find(section.content, found + 1)
        assert found >= 0, f"content of {section.title!r} is not a whole-line slice of the source"
        cursor = found + len(section.content)

    # Nothing is lost: the non-blank lines that are in no body are heading lines, and
    # their letters and digits (markup aside) all went into the titles.
    source_lines = Counter(line.rstrip() for line in source.split("\n") if line.strip())
    body_lines = Counter(line.rstrip() for section in sections for line in section.content.split("\n") if line.strip())
    assert not body_lines - source_lines
    leftover = source_lines - body_lines
    leftover_alnum = sum(_alnum(_TITLE_MARKUP.sub("", line)) * n for line, n in leftover.items())
    title_alnum = sum(_alnum(s.title) for s in sections if s.level > 0)
    assert leftover_alnum <= title_alnum
    if content_type == "text/plain":
        assert len(sections) == 1 and sections[0].title == "Overview"
    return sections


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=1000), content_type=st.sampled_from(CONTENT_TYPES))
def test_property_arbitrary_text(text: str, content_type: str | None) -> None:
    check_invariants(text, content_type)
    assert detect_format(text, content_type) in {"markdown", "rst", "text"}


_LINE_PIECES = st.sampled_from(
    [
        "",
        "",
        "#",
        "# ",
        "## ",
        "   # ",
        "    ",
        "> ",
        "- ",
        "1. ",
        "| ",
        "<h2>",
        "```",
        "```python",
        "~~~",
        "====",
        "----",
        "~~~~~~~~",
        "***",
        "::",
        ".. ",
        ".. code-block:: python",
        "<!--",
        "-->",
        "<div>",
        "|---|---|",
        "\t",
        "\r",
        "\x00",
        "Title",
        "x" * 10,
    ]
)


@st.composite
def markup_soup(draw: st.DrawFn) -> str:
    """Lines made of heading, fence, list and adornment fragments around free text."""
    lines = draw(
        st.lists(
            st.tuples(_LINE_PIECES, st.text(max_size=12), _LINE_PIECES).map("".join),
            max_size=40,
        )
    )
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=markup_soup(), content_type=st.sampled_from(CONTENT_TYPES))
def test_property_markup_soup(text: str, content_type: str | None) -> None:
    check_invariants(text, content_type)


_HEADINGS = [
    "# {w}",
    "## {w} ##",
    "### **{w}** `code`",
    "{w}\n====",
    "{w}\n-----",
    "{w}\n~~~~~~~~~~",
    "=====\n{w}\n=====",
    "<h2>{w}</h2>",
    '<h1 align="center">\n  <img src="logo.png">\n  {w}\n</h1>',
    "# [![badge](https://b.svg)](https://ci)",
]
_BODIES = [
    "{w} and {w}.",
    "- {w}\n- {w}",
    "1. {w}\n---",
    "```python\n# {w}\nx = 1\n```",
    "~~~\n## {w}\n~~~",
    "    # {w} indented",
    "| {w} | {w} |\n|---|---|\n| {w} | 1 |",
    "---",
    "> {w}\n---",
    ".. code-block:: python\n\n   # {w}\n   =====",
    "Example {w}::\n\n    {w}\n    =====",
    "<p align=\"center\"><img src='x.png'> {w}</p>",
    "<!--\n# {w}\n-->",
    "",
]


@st.composite
def readme_with_markers(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A README-like document in which every word ``wN`` must survive the split."""
    blocks = draw(st.lists(st.sampled_from(_HEADINGS + _BODIES), min_size=1, max_size=30))
    separators = draw(st.lists(st.sampled_from(["\n\n", "\n", "\n\n\n"]), min_size=len(blocks), max_size=len(blocks)))
    counter = 0
    words: list[str] = []
    out: list[str] = []
    for block, separator in zip(blocks, separators, strict=True):
        while "{w}" in block:
            counter += 1
            words.append(f"w{counter}")
            block = block.replace("{w}", f"w{counter}", 1)
        out.append(block + separator)
    return "".join(out), words


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=readme_with_markers(), content_type=st.sampled_from(CONTENT_TYPES))
def test_property_no_text_is_lost(doc: tuple[str, list[str]], content_type: str | None) -> None:
    text, words = doc
    sections = check_invariants(text, content_type)
    kept = Counter(
        word
        for section in sections
        for word in re.findall(r"w\d+", section.content + " " + (section.title if section.level else ""))
    )
    for word in words:
        assert kept[word] >= 1, f"{word} was lost"
