"""A Markdown README's badges and sections come from one parse (``split_markdown``), with the
same sections as cutting the badges first and parsing the result again; reST READMEs are read
by one state machine per thread, with the same sections as a fresh docutils parser."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from docutils.parsers.rst import Parser

from autodocs.docs import sections_rst
from autodocs.docs.badges import strip_badges
from autodocs.docs.sections import detect_format, split_document, split_markdown

_PROJECTS = Path(__file__).resolve().parents[1] / "data" / "index" / "projects"
_BADGE = "https://img.shields.io/badge/build-passing-green"


def _recorded(markup: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted(_PROJECTS.glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))["info"]
        text = info.get("description") or ""
        if detect_format(text, info.get("description_content_type")) == markup:
            found.append((path.stem, text))
    return found


def test_every_recorded_markdown_readme_has_the_sections_of_badges_cut_first_then_parsed() -> None:
    readmes = _recorded("markdown")
    assert len(readmes) >= 40
    for name, text in readmes:
        assert split_markdown(text) == split_document(strip_badges(text, "markdown"), "text/markdown")[1], name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            f'<p align="center">\n<a href="x"><img src="{_BADGE}"></a>\n</p>\n<h1 align="center">Foo</h1>\n\n'
            "body text\n\n## Use\n\nuse it",
            [("Foo", 1, "body text"), ("Use", 2, "use it")],
            id="html-heading-after-a-badge-in-the-same-html-block",
        ),
        pytest.param(
            f"[![build]({_BADGE})](https://x)\nTitle\n=====\n\ntext",
            [("Title", 1, "text")],
            id="setext-heading-whose-first-line-was-a-badge",
        ),
        pytest.param(
            f"# Proj [![pypi]({_BADGE})](https://x)\n\nintro\n\n## Install\n\npip",
            [("Proj", 1, "intro"), ("Install", 2, "pip")],
            id="badge-in-a-heading",
        ),
        pytest.param(
            f"[![ci][ci-badge]][ci]\n\n# Name\n\nabout\n\n[ci-badge]: {_BADGE}\n[ci]: https://ci",
            [("Name", 1, "about")],
            id="reference-badge-and-its-definitions-dropped",
        ),
    ],
)
def test_badges_are_cut_and_headings_placed_in_the_edited_lines(
    text: str, expected: list[tuple[str, int, str]]
) -> None:
    sections = split_markdown(text)
    assert [(s.title, s.level, s.content) for s in sections] == expected
    assert sections == split_document(strip_badges(text, "markdown"), "text/markdown")[1]


def test_every_recorded_rst_readme_has_the_sections_a_fresh_docutils_parser_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readmes = _recorded("rst")
    assert len(readmes) >= 40
    reused = [sections_rst.rst_headings(text.split("\n"))[0] for _, text in readmes]
    fresh_parser = Parser()
    monkeypatch.setattr(sections_rst, "_parse", fresh_parser.parse)
    fresh = [sections_rst.rst_headings(text.split("\n"))[0] for _, text in readmes]
    assert reused == fresh
    assert sum(map(len, reused)) > 200


def test_a_default_role_in_a_readme_does_not_change_the_next_readme_s_titles() -> None:
    first = ".. default-role:: pep\nTitle\n=====\n\nbody\n"
    second = "Style `8`\n=========\n\nbody\n\nUse\n---\n\nx\n"
    sections_rst.rst_headings(first.split("\n"))
    titles = [heading.title for heading in sections_rst.rst_headings(second.split("\n"))[0]]
    assert titles == ["Style 8", "Use"]  # with the pep role as default: "Style PEP 8"


def test_readmes_read_in_two_threads_at_once_keep_their_own_sections() -> None:
    readmes = [text for _, text in _recorded("rst")][:20]
    expected = [sections_rst.rst_headings(text.split("\n"))[0] for text in readmes]
    results: dict[int, list[object]] = {}

    def read(worker: int) -> None:
        results[worker] = [sections_rst.rst_headings(text.split("\n"))[0] for text in readmes * 3]

    threads = [threading.Thread(target=read, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(results[worker] == expected * 3 for worker in range(3))
