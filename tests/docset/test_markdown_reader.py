"""Markdown pages through markdown-it-py with admonitions, MyST directives, snippets and mkdocstrings."""

from __future__ import annotations

from pathlib import Path

from autodocs.docset.files import DocsFolder
from autodocs.docset.markdown import read_markdown


def _folder(tmp_path: Path, files: dict[str, str]) -> DocsFolder:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return DocsFolder(tmp_path)


def test_headings_make_sections_and_fences_stay_whole(tmp_path: Path) -> None:
    text = (
        "# Guide\n\nIntro.\n\n## Install {#install}\n\n"
        "```python\nimport demo\n\n\ndemo.run()\n```\n\n### Deep\n\nText.\n"
    )
    page = read_markdown(DocsFolder(tmp_path), "docs/guide.md", text)
    assert page.title == "Guide"
    assert [s.heading_path for s in page.sections] == [("Guide",), ("Guide", "Install"), ("Guide", "Install", "Deep")]
    assert page.sections[1].blocks[0].text == "```python\nimport demo\n\n\ndemo.run()\n```"


def test_admonitions_are_quoted_with_their_title(tmp_path: Path) -> None:
    text = '!!! note "Read this"\n    Retries are bounded.\n\n    Second paragraph.\n\n??? tip\n    Hidden tip.\n'
    blocks = [b.text for b in read_markdown(DocsFolder(tmp_path), "docs/p.md", text).sections[0].blocks]
    assert blocks == ["> **Read this:** Retries are bounded.\n>\n> Second paragraph.", "> **Tip:** Hidden tip."]


def test_myst_directives_are_read_by_name(tmp_path: Path) -> None:
    text = (
        "```{note}\nA MyST note.\n```\n\n:::{warning}\nA colon fence.\n:::\n\n"
        "```{code-block} python\n:caption: demo\nimport demo\n```\n\n"
        "```{autoclass} demo.Policy\n:members:\n```\n\n"
        "```{tab-item} Linux\n:sync: linux\n\nRuns everywhere.\n```\n\n"
        "```{toctree}\n:maxdepth: 2\n\nintro\nGuide <guide>\n```\n"
    )
    page = read_markdown(DocsFolder(tmp_path), "docs/p.md", text)
    texts = [b.text for b in page.sections[0].blocks]
    assert texts[:3] == ["> **Note:** A MyST note.", "> **Warning:** A colon fence.", "```python\nimport demo\n```"]
    assert page.api_objects == ("demo.Policy",)
    assert "Runs everywhere." in page.text and "sync" not in page.text
    assert [(e.target, e.title) for e in page.toctree] == [("intro", ""), ("guide", "Guide")]


def test_snippets_are_resolved_inside_the_folder(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "docs_src/example.py": "import demo\n# --8<-- [start:call]\ndemo.retry(3)\n# --8<-- [end:call]\n",
            "docs/parts/shared.md": "Shared *text*.\n",
        },
    )
    text = (
        '```python\n--8<-- "docs_src/example.py:call"\n```\n\n'
        '--8<-- "parts/shared.md"\n\n'
        ';--8<-- "escaped.md"\n\n'
        '--8<-- "/etc/passwd"\n\n--8<-- "../../../etc/passwd"\n'
    )
    page = read_markdown(folder, "docs/p.md", text)
    assert "```python\ndemo.retry(3)\n```" in page.text
    assert "Shared *text*." in page.text
    assert '--8<-- "escaped.md"' in page.text
    assert "root:" not in page.text
    assert len(page.warnings) == 2


def test_recursive_snippets_stop_with_a_warning(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"a.md": 'A\n--8<-- "b.md"\n', "b.md": 'B\n--8<-- "a.md"\n'})
    page = read_markdown(folder, "docs/p.md", '--8<-- "a.md"\n')
    assert page.text.count("A") <= 4
    assert any("deeper" in w for w in page.warnings)


def test_mkdocstrings_blocks_become_api_placeholders(tmp_path: Path) -> None:
    text = "# Reference\n\n::: demo.retry\n    options:\n      show_source: false\n\nAfter.\n\n```\n::: not.this\n```\n"
    page = read_markdown(DocsFolder(tmp_path), "docs/api.md", text)
    assert page.api_objects == ("demo.retry",)
    assert "show_source" not in page.text
    assert "After." in page.text and "::: not.this" in page.text


def test_tables_are_kept_as_written(tmp_path: Path) -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert read_markdown(DocsFolder(tmp_path), "docs/p.md", text).sections[0].text == text.strip()


def test_front_matter_title_wins(tmp_path: Path) -> None:
    page = read_markdown(DocsFolder(tmp_path), "docs/p.md", "---\ntitle: Retrying\n---\n\n# Other\n")
    assert page.title == "Retrying"


def test_markdown_include_and_code_file_lines_read_from_the_folder_where_mkdocs_runs(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"docs_src/first_steps/tutorial001.py": "from fastapi import FastAPI\n"})
    text = "```Python\n{!../../../docs_src/first_steps/tutorial001.py!}\n```\n\n"
    text += "{* ../../docs_src/first_steps/tutorial001.py hl[1] *}\n"
    page = read_markdown(folder, "docs/en/docs/tutorial/first-steps.md", text)
    assert [b.text for b in page.sections[0].blocks] == [
        "```Python\nfrom fastapi import FastAPI\n```",
        "```python\nfrom fastapi import FastAPI\n```",
    ]
    assert page.warnings == ()
