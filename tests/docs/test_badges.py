"""Badge and shield images stripped from descriptions before sectioning (docs/badges/)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.cache import SQLiteStore
from autodocs.docs.badges import is_badge_url, strip_badges
from autodocs.docs.badges import markdown as badges_markdown
from autodocs.docs.badges import urls as badge_urls
from autodocs.docs.build import build_document
from autodocs.docs.model import DOCUMENT_BUILD, DocSection, PackageDocument
from autodocs.index.models import VersionMetadata
from tests.cache.builders import INDEX

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "index" / "projects"
SHIELD = "https://img.shields.io/pypi/v/demo.svg"
ACTIONS = "https://github.com/o/demo/actions/workflows/ci.yml/badge.svg"
LOGO = "https://raw.githubusercontent.com/o/demo/main/docs/logo.png"


# --------------------------------------------------------------------------- what a badge is


@pytest.mark.parametrize(
    "url",
    [
        SHIELD,
        ACTIONS,
        "https://readthedocs.org/projects/demo/badge/?version=latest",
        "https://codecov.io/gh/o/demo/branch/main/graph/badge.svg",
        "https://coverage-badge.samuelcolvin.workers.dev/o/demo.svg",
        "https://circleci.com/gh/o/demo/tree/master.svg?style=shield",
        "https://dev.azure.com/o/demo/_apis/build/status/ci?branchName=main",
        "https://static.pepy.tech/badge/demo/month",
    ],
)
def test_badge_services_and_badge_paths_are_badges(url: str) -> None:
    assert is_badge_url(url)


@pytest.mark.parametrize("url", [LOGO, "https://example.org/screenshot.svg", "docs/diagram.png", "http://[::1"])
def test_logos_screenshots_and_broken_urls_are_not_badges(url: str) -> None:
    assert not is_badge_url(url)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [SHIELD, ACTIONS, *(f"https://{host}/o/demo.svg" for host in sorted(badge_urls._BADGE_HOSTS))]
        + [f"https://ci.example/o/demo/{word}" for word in badge_urls._BADGE_WORDS]
    ),
    st.lists(st.booleans(), min_size=80, max_size=80),
)
def test_the_cheap_test_before_parsing_finds_every_badge_url_in_any_case(url: str, upper: list[bool]) -> None:
    mixed = "".join(c.upper() if up else c for c, up in zip(url, upper * 2, strict=False))
    assert is_badge_url(mixed)
    assert badge_urls.may_have_badges(f"Some text ![b]({mixed}) and more.")


URL_PIECES = st.sampled_from(
    [
        *("https://", "img.", "shields", "SHIELDS", ".io/", "&#98;adge", "build\\/status", "b\\adge", "badge"),
        *("ex.org/", "logo.png", "İ", "ü", "%20", "/", "?s=", "stat&amp;us", "x", "codecov", ".io"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(URL_PIECES, min_size=1, max_size=7).map("".join),
    st.sampled_from(
        ["![a]({url})", "[![a]({url})](https://x.example)", '<img src="{url}">', '<a href="x"><img src="{url}"></a>']
    ),
)
def test_a_candidate_left_unparsed_is_never_a_badge(url: str, template: str) -> None:
    candidate = template.format(url=url)
    if not badges_markdown._may_be_badge(candidate):
        assert not badges_markdown._is_badge_markdown(badges_markdown._markdown()[1], candidate, {}), candidate


# --------------------------------------------------------------------------- Markdown


def test_markdown_badge_row_goes_and_the_text_around_it_stays() -> None:
    text = f"# Demo\n\n[![PyPI]({SHIELD})](https://pypi.example/demo)\n![CI]({ACTIONS})\n\nDemo does things.\n"
    assert strip_badges(text, "markdown") == "# Demo\n\nDemo does things.\n"


def test_markdown_reference_badges_go_with_their_definitions_and_other_definitions_stay() -> None:
    text = (
        "[![PyPI][pypi-badge]][pypi-url]\n\nSee [the docs][docs].\n\n"
        f"[pypi-badge]: {SHIELD}\n[pypi-url]: https://pypi.example/demo\n[docs]: https://docs.example/\n"
    )
    assert strip_badges(text, "markdown") == "See [the docs][docs].\n\n[docs]: https://docs.example/\n"


def test_markdown_unused_badge_definition_goes() -> None:
    text = f"[release]: {SHIELD}\n\nText.\n"
    assert strip_badges(text, "markdown") == "Text.\n"


def test_markdown_inline_badge_leaves_the_sentence_whole() -> None:
    text = f"Install it ![v]({SHIELD}) with pip.\n"
    assert strip_badges(text, "markdown") == "Install it with pip.\n"


def test_markdown_badge_at_the_end_of_a_line_leaves_no_trailing_space() -> None:
    assert strip_badges(f"Version ![v]({SHIELD})\nnext line\n", "markdown") == "Version\nnext line\n"


def test_markdown_link_target_on_the_next_line_goes_too() -> None:
    text = f"[![Downloads]({SHIELD})](\nhttps://pypi.example/demo)\n\nBody.\n"
    assert strip_badges(text, "markdown") == "Body.\n"


def test_markdown_logo_and_code_blocks_are_kept() -> None:
    text = f"![logo]({LOGO})\n\nAdd the badge:\n\n```md\n[![style]({SHIELD})](https://x.example)\n```\n"
    assert strip_badges(text, "markdown") == text


def test_markdown_html_block_of_badges_goes_and_a_logo_stays() -> None:
    text = (
        f'<p align="center">\n  <img src="{LOGO}" alt="logo">\n</p>\n\n'
        f'<p align="center">\n  <a href="https://x.example"><img src="{SHIELD}"></a>\n'
        f'  <a href="https://y.example"><img\n    alt="CI"\n    src="{ACTIONS}"></a>\n</p>\n\nBody.\n'
    )
    assert strip_badges(text, "markdown") == f'<p align="center">\n  <img src="{LOGO}" alt="logo">\n</p>\n\nBody.\n'


def test_markdown_html_table_of_badges_goes_with_its_label_rows() -> None:
    text = (
        "Intro.\n\n<table>\n  <tr>\n    <th>docs</th>\n    <td>\n"
        f'      <a href="https://d.example"><img src="{SHIELD}"></a>\n    </td>\n  </tr>\n</table>\n\nBody.\n'
    )
    assert strip_badges(text, "markdown") == "Intro.\n\nBody.\n"


# --------------------------------------------------------------------------- reStructuredText


def test_rst_substitution_badges_go_with_their_references_and_targets() -> None:
    text = (
        "Demo\n====\n\n|pypi| |ci|_ |logo|\n\n"
        f".. |pypi| image:: {SHIELD}\n   :target: https://pypi.example/demo\n\n"
        f".. |ci| image:: {ACTIONS}\n.. _ci: https://ci.example/demo\n\n"
        f".. |logo| image:: {LOGO}\n\nDemo does things.\n"
    )
    assert strip_badges(text, "rst") == (f"Demo\n====\n\n|logo|\n\n.. |logo| image:: {LOGO}\n\nDemo does things.\n")


def test_rst_image_directive_badge_goes_with_a_commented_option() -> None:
    text = f".. image:: {SHIELD}\n..    :target: https://x.example\n\n.. image:: {LOGO}\n\nBody.\n"
    assert strip_badges(text, "rst") == f".. image:: {LOGO}\n\nBody.\n"


def test_rst_line_block_of_badges_goes_entirely() -> None:
    text = (
        f"|  |a| |b|\n|  |c|\n\n.. |a| image:: {SHIELD}\n.. |b| image:: {SHIELD}\n.. |c| image:: {ACTIONS}\n\nBody.\n"
    )
    assert strip_badges(text, "rst") == "Body.\n"


def test_rst_badge_in_a_table_keeps_the_columns_aligned() -> None:
    text = (
        "=====  =========\nname   status\n=====  =========\ndemo   |ci| ok\n=====  =========\n\n"
        f".. |ci| image:: {ACTIONS}\n"
    )
    stripped = strip_badges(text, "rst")
    assert "demo        ok" in stripped
    assert [len(line) for line in stripped.splitlines()[:5]] == [len(line) for line in text.splitlines()[:5]]


def test_rst_examples_in_literal_blocks_and_code_directives_are_kept() -> None:
    text = (
        f"|ci|\n\n.. |ci| image:: {ACTIONS}\n\nAdd the badge to your README::\n\n"
        f"    .. image:: {SHIELD}\n       :target: https://x.example\n\n"
        f".. code-block:: rst\n\n    |ci|\n\n    .. |ci| image:: {ACTIONS}\n\nBody.\n"
    )
    assert strip_badges(text, "rst") == text[text.index("Add the badge") :]


def test_plain_text_is_never_touched() -> None:
    text = f"![x]({SHIELD})\n"
    assert strip_badges(text, "text") is text


# --------------------------------------------------------------------------- properties

WORD = st.from_regex(r"[a-z]{1,8}", fullmatch=True)
PARAGRAPH = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
MD_BADGE = st.sampled_from(
    [
        f"[![PyPI]({SHIELD})](https://pypi.example/demo)",
        f"![CI]({ACTIONS})",
        f'<a href="https://x.example"><img src="{SHIELD}"></a>',
        f'<img alt="ci" src="{ACTIONS}">',
    ]
)


@st.composite
def markdown_pages(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A page of plain paragraphs with badges in rows of their own and inside paragraphs."""
    blocks: list[str] = []
    words: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            blocks.append(" ".join(draw(st.lists(MD_BADGE, min_size=1, max_size=4))))
        paragraph = draw(PARAGRAPH)
        words.extend(paragraph.split())
        if draw(st.booleans()):
            head, _, tail = paragraph.partition(" ")
            paragraph = f"{head} {draw(MD_BADGE)} {tail}".rstrip()
        blocks.append(paragraph)
    return "\n\n".join(blocks) + "\n", words


@st.composite
def rst_pages(draw: st.DrawFn) -> tuple[str, list[str]]:
    names = draw(st.lists(st.from_regex(r"[a-z]{2,6}", fullmatch=True), min_size=1, max_size=4, unique=True))
    paragraphs = draw(st.lists(PARAGRAPH, min_size=1, max_size=4))
    row = " ".join(f"|{name}|" for name in names)
    definitions = "\n\n".join(f".. |{name}| image:: {SHIELD}\n   :target: https://x.example/{name}" for name in names)
    text = "\n\n".join([row, *paragraphs, definitions]) + "\n"
    return text, " ".join(paragraphs).split()


@settings(max_examples=150, deadline=None)
@given(markdown_pages())
def test_markdown_stripping_keeps_every_word_removes_every_badge_and_is_idempotent(page: tuple[str, list[str]]) -> None:
    text, words = page
    stripped = strip_badges(text, "markdown")
    assert stripped.split() == words
    assert strip_badges(stripped, "markdown") == stripped


@settings(max_examples=150, deadline=None)
@given(rst_pages())
def test_rst_stripping_keeps_every_word_removes_every_badge_and_is_idempotent(page: tuple[str, list[str]]) -> None:
    text, words = page
    stripped = strip_badges(text, "rst")
    assert stripped.split() == words
    assert strip_badges(stripped, "rst") == stripped


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400),
    st.sampled_from(["markdown", "rst"]),
)
def test_text_without_a_badge_comes_back_unchanged(text: str, markup: str) -> None:
    if re.search(r"badge|shield|status|\.io|\.com|\.org|pepy|codecov|circleci|travis|gitter", text, re.I):
        return
    assert strip_badges(text, markup) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="![]()<>|:. \n`*#-=_ab", max_size=300), st.sampled_from(["markdown", "rst"]))
def test_markup_soup_with_badges_never_raises_and_is_idempotent(noise: str, markup: str) -> None:
    text = f"{noise}\n\n![b]({SHIELD})\n\n.. |x| image:: {SHIELD}\n\n|x| {noise}"
    once = strip_badges(text, markup)
    assert strip_badges(once, markup) == once


# --------------------------------------------------------------------------- in documents and the cache


@pytest.mark.parametrize("project", ["filelock", "setuptools", "psutil", "mcp", "pillow", "xlrd"])
def test_recorded_pages_lose_their_badges_and_keep_their_sections(project: str) -> None:
    info = json.loads((PROJECTS / f"{project}.json").read_text())["info"]
    document = build_document(VersionMetadata.from_info(info), max_description_chars=10**7)
    content = "\n".join(section.content for section in document.sections)
    assert not re.search(r"img\.shields\.io|/badge", content)
    assert document.build == DOCUMENT_BUILD
    assert len(document.sections) >= 1 and all(section.title for section in document.sections)


async def test_a_document_stored_before_badges_were_stripped_is_a_miss_and_rebuilt(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cache.db")
    await store.open()
    try:
        document = PackageDocument(
            name="demo", version="1.0", sections=[DocSection(title="Overview", anchor="overview", level=0, content="x")]
        )
        await store.put_document(INDEX, document)
        assert await store.get_document(INDEX, "demo", "1.0") == document
        with sqlite3.connect(tmp_path / "cache.db") as db:  # as an older AutoDocs stored it
            old_body = json.dumps({key: value for key, value in document.model_dump().items() if key != "build"})
            db.execute("UPDATE documents SET body = ? WHERE name = 'demo'", (old_body,))
        misses = (await store.stats()).misses
        assert await store.get_document(INDEX, "demo", "1.0") is None
        assert (await store.stats()).misses == misses + 1
    finally:
        await store.close()


def test_parsing_only_up_to_the_last_image_gives_what_parsing_everything_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = [json.loads(path.read_text())["info"] for path in sorted(PROJECTS.glob("*.json"))]
    texts = [str(info.get("description") or "") for info in pages if "![" in str(info.get("description") or "")]
    texts.append(f"[![a][b]][c]\n\n```\nlong\n```\n\n[b]: {SHIELD}\n[c]: https://x.example\n\ntail ![x]({SHIELD})\n")
    assert len(texts) > 20
    stripped = [strip_badges(text, "markdown") for text in texts]
    monkeypatch.setattr(badges_markdown, "markdown_extent", lambda text: text)
    assert [strip_badges(text, "markdown") for text in texts] == stripped
