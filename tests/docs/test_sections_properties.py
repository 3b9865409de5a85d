"""Properties of README sectioning on the parsers (docutils, markdown-it-py): any text, bounded time, no prose lost."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autodocs.docs.build import build_document
from autodocs.docs.sections import _MARKDOWN_SIGNAL, split_sections
from autodocs.docs.sections_markdown import MarkdownSignals, markdown_headings
from autodocs.docs.sections_rst import rst_headings
from autodocs.index.models import VersionMetadata

CONTENT_TYPES = [None, "text/markdown", "text/x-rst", "text/plain", "text/html"]
#: Far above what one README costs on a loaded machine; a parser gone quadratic or recursive exceeds it.
SECONDS = 3.0
_WORD = re.compile(r"[^\W_]+")


def _build(text: str, content_type: str | None) -> list[tuple[str, str]]:
    info = {"name": "demo", "version": "1.0", "description": text, "description_content_type": content_type}
    document = build_document(VersionMetadata.from_info(info), max_description_chars=1_000_000)
    return [(section.title, section.content) for section in document.sections]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=3000), content_type=st.sampled_from(CONTENT_TYPES))
def test_any_text_gives_sections_in_bounded_time(text: str, content_type: str | None) -> None:
    started = time.perf_counter()
    sections = _build(text, content_type)
    assert time.perf_counter() - started < SECONDS
    assert all(title and title == " ".join(title.split()) for title, _ in sections)


_MD_HEADINGS = ["# {w} {w}", "## {w} `{w}`", "### **{w}**", "{w}\n====", "{w}\n----", "<h2>{w}</h2>"]
_RST_HEADINGS = ["{w} {w}\n=========", "{w}\n----------", "==========\n{w}\n==========", "``{w}``\n~~~~~~~~~~~"]
_MD_BODIES = [
    "{w} {w} {w}.",
    "- {w}\n- {w}\n  {w}",
    "```python\n# {w}\nx = 1  # {w}\n```",
    "    {w} indented",
    "| {w} | {w} |\n|---|---|\n| {w} | 1 |",
    "> {w}\n> {w}",
    "!!! note\n    {w}",
    "[![{b}](https://img.shields.io/badge/{b}.svg)](https://ci.example.org/{b})",
    "<!-- {w} -->",
]
_RST_BODIES = [
    "{w} {w} *{w}* ``{w}``.",
    "- {w}\n- {w}\n  {w}",
    ".. code-block:: python\n\n   # {w}\n   =====",
    "{w}::\n\n    {w}\n    -----",
    ".. note::\n\n   {w} {w}",
    "=====  =====\n{w}    {w}\n=====  =====",
    ".. image:: https://img.shields.io/badge/{b}.svg\n   :target: https://ci.example.org/{b}",
    ":{w}: {w}",
    ".. unknown-directive:: {w}\n   :option: {b}\n\n   {w}",
    "`{w} <https://example.org>`_ and :func:`{w}`",
]


@st.composite
def readme(draw: st.DrawFn) -> tuple[str, str | None, list[str]]:
    """A README in one markup, with prose words ``wN`` that must survive and badge words ``bN`` that may go."""
    markdown = draw(st.booleans())
    pieces = (_MD_HEADINGS + _MD_BODIES) if markdown else (_RST_HEADINGS + _RST_BODIES)
    blocks = draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=25))
    words: list[str] = []
    out: list[str] = []
    for block in blocks:
        while "{w}" in block:
            words.append(f"w{len(words) + 1}")
            block = block.replace("{w}", words[-1], 1)
        out.append(block.replace("{b}", "b0"))
    if markdown and draw(st.booleans()):  # an unclosed fence runs to the end: its text is code, kept
        words.append(f"w{len(words) + 1}")
        out.append(f"```\nunclosed {words[-1]}")
    declared = draw(st.sampled_from([None, "text/markdown" if markdown else "text/x-rst"]))
    return "\n\n".join(out) + "\n", declared, words


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=readme())
def test_every_prose_word_is_kept_and_badges_go(doc: tuple[str, str | None, list[str]]) -> None:
    text, content_type, words = doc
    started = time.perf_counter()
    sections = _build(text, content_type)
    assert time.perf_counter() - started < SECONDS
    kept = set(_WORD.findall(" ".join(f"{title} {content}" for title, content in sections)))
    assert [word for word in words if word not in kept] == []
    assert "img.shields.io" not in " ".join(content for _, content in sections)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(min_value=50, max_value=3000), kind=st.sampled_from(["quote", "indent", "list", "bullets"]))
def test_deep_nesting_is_bounded(depth: int, kind: str) -> None:
    text = {
        "quote": ">" * depth + " deep",
        "indent": "\n\n".join(" " * level + "deep" for level in range(depth)),
        "list": "".join("  " * level + "- deep\n" for level in range(depth)),
        "bullets": "".join("- " * level + "deep\n\n" for level in range(depth)),
    }[kind]
    for content_type in CONTENT_TYPES:
        started = time.perf_counter()
        sections = split_sections(text, content_type)
        assert time.perf_counter() - started < SECONDS
        assert "deep" in " ".join(section.content for section in sections)


# --------------------------------------------------------------------------- the outline docutils reads


def _full_parse_titles(text: str) -> list[tuple[int, int, str]]:
    """(underline line, level, text) of every section title in a full docutils parse of ``text``."""
    settings = get_default_settings(Parser)
    settings.report_level = settings.halt_level = 5
    settings.warning_stream = io.StringIO()
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    settings.syntax_highlight = "none"
    settings.line_length_limit = 10**9
    document = new_document("<full>", settings)
    Parser().parse(text, document)
    found = []
    for title in document.findall(nodes.title):
        if isinstance(title.parent, nodes.section):
            level = len([n for n in _ancestors(title.parent) if isinstance(n, nodes.section)])
            found.append((title.line or 0, level, " ".join(_title_text(title).split())))
    return found


def _title_text(node: nodes.Node) -> str:
    """A title's text as README sections show it: substitutions, images and targets dropped."""
    if isinstance(node, nodes.Text):
        return str(node)
    if isinstance(node, (nodes.substitution_reference, nodes.image, nodes.target, nodes.system_message)):
        return ""
    return "".join(_title_text(child) for child in node.children) if isinstance(node, nodes.Element) else ""


def _ancestors(node: nodes.Node) -> list[nodes.Node]:
    out: list[nodes.Node] = []
    current: nodes.Node | None = node
    while current is not None:
        out.append(current)
        current = current.parent
    return out


def _outline_titles(text: str) -> list[tuple[int, int, str]]:
    return [(heading.end, heading.level, heading.title) for heading in rst_headings(text.split("\n"))[0]]


def _assert_outline_matches_full_parse(text: str) -> None:
    full = [(line, level, title) for line, level, title in _full_parse_titles(text) if title]
    assert _outline_titles(text) == full


_RST_SOUP = st.sampled_from(
    [
        "Title",
        "=====",
        "-----",
        "~~~~~~~~~~",
        "===  ===",
        "a    b",
        "",
        "",
        "text::",
        "=Title",
        "   indented",
        "- item",
        "  continued",
        "1. step",
        ".. note::",
        ".. code-block:: python",
        "   # =====",
        ":field: value",
        "term",
        "   definition",
        "> quoted",
        "+---+",
        "| a |",
        "``lit``",
        "`ref <https://x>`_",
        ":func:`f`",
        "|sub|",
        ".. |sub| image:: x.png",
        "..",
        "   comment",
        ">>> 1",
        "x" * 30,
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_RST_SOUP, max_size=40))
@example(lines=["Top", "===", "", "text::", "", "=Title", "======", "", "Next", "----"])  # a quoted literal block
@example(lines=["- item", "", "  Title", "=====", "", "body"])
@example(lines=["=======", " Title", "=======", "", "body"])  # an overlined title may be indented
def test_the_rst_outline_has_the_sections_of_a_full_docutils_parse(lines: list[str]) -> None:
    _assert_outline_matches_full_parse("\n".join(lines))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=readme())
def test_the_rst_outline_of_a_readme_has_the_sections_of_a_full_parse(doc: tuple[str, str | None, list[str]]) -> None:
    _assert_outline_matches_full_parse(doc[0])


def test_the_rst_outline_of_recorded_readmes_has_the_sections_of_a_full_parse() -> None:
    projects = Path(__file__).parents[1] / "data" / "index" / "projects"
    checked = 0
    for path in sorted(projects.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))["info"]
        if "rst" in (info.get("description_content_type") or ""):
            _assert_outline_matches_full_parse(info["description"].replace("\r\n", "\n"))
            checked += 1
    assert checked >= 40


_MARKDOWNISH_LINES = [
    "# T",
    "#",
    "###### T #",
    "#T",
    "```",
    "```py",
    "~~~",
    "<h1>T</h1>",
    '<H2 align="center">',
    "</H2>",
]
_MARKDOWNISH_LINES += [
    "<div>",
    "</div>",
    "<p>",
    "- x",
    "> x",
    "    x",
    "  ",
    "",
    "T",
    "===",
    "---",
    "<!--",
    "-->",
    "| a |",
]
_MARKDOWNISH_LINE = st.one_of(
    st.sampled_from(_MARKDOWNISH_LINES), st.text(alphabet=st.sampled_from(list("#`~<>/hH16 \t=-*x")), max_size=12)
)
_INDENTS = st.sampled_from(["", " ", "  ", "\t", "> ", "- "])
_MARKDOWNISH = st.lists(st.tuples(_INDENTS, _MARKDOWNISH_LINE), max_size=30).map(
    lambda lines: "\n".join(indent + line for indent, line in lines)
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_MARKDOWNISH, readme().map(lambda doc: doc[0]), st.text(max_size=300)))
def test_markdown_signals_need_a_line_the_cheap_pattern_finds(text: str) -> None:
    # detect_format skips the Markdown parse when the pattern finds nothing: that must lose no signal.
    lines = text.split("\n")
    if markdown_headings(lines)[1] != MarkdownSignals():
        assert _MARKDOWN_SIGNAL.search(text) is not None
