"""reST pages read through docutils with Sphinx's directives and roles registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodocs.docset.files import DocsFolder
from autodocs.docset.rst import read_rst


def _page(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> object:
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return read_rst(DocsFolder(tmp_path, source_dir="docs"), "docs/page.rst", text)


def test_sections_have_heading_paths_and_code_blocks_stay_whole(tmp_path: Path) -> None:
    text = (
        "Guide\n=====\n\nIntro.\n\nInstall\n-------\n\n.. code-block:: python\n\n   import demo\n\n   demo.run()\n\n"
        "Options\n~~~~~~~\n\nSet them.\n"
    )
    page = read_rst(DocsFolder(tmp_path), "docs/guide.rst", text)
    assert page.title == "Guide"
    assert [s.heading_path for s in page.sections] == [
        ("Guide",),
        ("Guide", "Install"),
        ("Guide", "Install", "Options"),
    ]
    code = page.sections[1].blocks[0]
    assert code.kind == "code" and code.text == "```python\nimport demo\n\ndemo.run()\n```"


def test_roles_render_readable(tmp_path: Path) -> None:
    text = "Use :func:`~demo.api.retry`, :class:`demo.Policy`, :meth:`Policy.wait`, :ref:`the guide <guide>`, "
    text += ":doc:`api`.\n"
    page = read_rst(DocsFolder(tmp_path), "docs/p.rst", text)
    assert page.sections[0].text == "Use `retry()`, `demo.Policy`, `Policy.wait()`, the guide, api."


def test_version_notes_are_kept(tmp_path: Path) -> None:
    text = ".. versionadded:: 2.0\n   The *n* argument.\n\n.. versionchanged:: 2.1 Now lazy.\n\n.. deprecated:: 3.0\n"
    blocks = [b.text for b in read_rst(DocsFolder(tmp_path), "docs/p.rst", text).sections[0].blocks]
    assert blocks == [
        "*New in version 2.0:* The *n* argument.",
        "*Changed in version 2.1:* Now lazy.",
        "*Deprecated since version 3.0*",
    ]


def test_unknown_directives_keep_their_content_and_drop_options(tmp_path: Path) -> None:
    text = (
        ".. tab-set::\n   :sync-group: os\n\n   .. tab-item:: Linux\n      :sync: linux\n\n      Runs everywhere.\n\n"
        ".. frobnicate:: widget\n   :colour: blue\n\n   Project text.\n"
    )
    page = read_rst(DocsFolder(tmp_path), "docs/p.rst", text)
    body = page.sections[0].text
    assert "Runs everywhere." in body and "Project text." in body and "**widget**" in body
    assert "sync" not in body and "colour" not in body
    assert page.warnings == ()


def test_autodoc_directives_become_api_placeholders(tmp_path: Path) -> None:
    text = (
        ".. currentmodule:: demo\n\n.. autofunction:: retry(n)\n\n.. autoclass:: demo.Policy\n   :members:\n\n"
        ".. automodule:: demo.backoff\n\n.. autosummary::\n\n   Session\n"
    )
    page = read_rst(DocsFolder(tmp_path), "docs/p.rst", text)
    assert page.api_objects == ("demo.retry", "demo.Policy", "demo.backoff", "demo.backoff.Session")
    assert "API reference: `demo.retry` (autofunction)" in page.text


def test_include_and_literalinclude_resolve_inside_the_folder(tmp_path: Path) -> None:
    files = {"README.rst": "Shared text from the readme.\n", "src/ex.py": "import demo\n# start\ndemo.go()\n# end\n"}
    text = (
        ".. include:: ../README.rst\n\n"
        ".. literalinclude:: /../src/ex.py\n   :start-after: # start\n   :end-before: # end\n\n"
        ".. literalinclude:: ../src/ex.py\n   :lines: 1\n"
    )
    page = _page(tmp_path, text, files)
    assert "Shared text from the readme." in page.text  # type: ignore[attr-defined]
    assert "```python\ndemo.go()\n```" in page.text  # type: ignore[attr-defined]
    assert "```python\nimport demo\n```" in page.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../etc/passwd", "../../../etc/hostname"])
def test_an_include_outside_the_folder_reads_nothing_and_warns(tmp_path: Path, target: str) -> None:
    page = _page(tmp_path, f"Before.\n\n.. include:: {target}\n\n.. literalinclude:: {target}\n\nAfter.\n")
    assert "root:" not in page.text  # type: ignore[attr-defined]
    assert page.warnings  # type: ignore[attr-defined]
    assert "Before." in page.text and "After." in page.text  # type: ignore[attr-defined]


def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "link.rst").symlink_to("/etc/passwd")
    page = _page(tmp_path, ".. include:: link.rst\n")
    assert "root:" not in page.text and page.warnings  # type: ignore[attr-defined]


def test_recursive_includes_stop_with_a_warning(tmp_path: Path) -> None:
    files = {"docs/a.rst": "A\n\n.. include:: b.rst\n", "docs/b.rst": "B\n\n.. include:: a.rst\n"}
    page = _page(tmp_path, "Top\n\n.. include:: a.rst\n\n.. include:: page.rst\n", files)
    assert page.text.count("A") == 1  # type: ignore[attr-defined]
    assert any("recursive" in w for w in page.warnings)  # type: ignore[attr-defined]


def test_docutils_messages_never_reach_output_or_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Title\n===\n\n`unclosed\n\n.. image::\n\n|undefined|\n\n"
    text += ".. raw:: html\n   :url: http://127.0.0.1:9/\n\n* a\nb\n"
    page = read_rst(DocsFolder(tmp_path), "docs/p.rst", text)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert "ERROR" not in page.text and "WARNING" not in page.text and "System Message" not in page.text


def test_admonitions_and_tables_stay_readable(tmp_path: Path) -> None:
    text = (
        ".. note::\n\n   Retries are bounded.\n\n.. warning:: Careful.\n\n.. seealso:: :func:`retry`\n\n"
        "+------+-------+\n| name | value |\n+======+=======+\n| n    | 3     |\n+------+-------+\n"
    )
    page = read_rst(DocsFolder(tmp_path), "docs/p.rst", text)
    assert [b.text for b in page.sections[0].blocks] == [
        "> **Note:** Retries are bounded.",
        "> **Warning:** Careful.",
        "> **See also:** `retry()`",
        "| name | value |\n|---|---|\n| n | 3 |",
    ]


def test_toctree_entries_are_recorded_not_shown(tmp_path: Path) -> None:
    text = "Home\n====\n\n.. toctree::\n   :maxdepth: 2\n   :glob:\n\n   intro\n   Guide <guide/index>\n   api/*\n"
    page = read_rst(DocsFolder(tmp_path), "docs/index.rst", text)
    assert [(e.target, e.title, e.glob) for e in page.toctree] == [
        ("intro", "", False),
        ("guide/index", "Guide", False),
        ("api/*", "", True),
    ]
    assert "intro" not in page.text


def test_output_only_directives_show_nothing(tmp_path: Path) -> None:
    text = ".. index:: shortcuts\n\n.. highlight:: python\n\n.. graphviz::\n\n   digraph { a -> b }\n\nText.\n"
    assert read_rst(DocsFolder(tmp_path), "docs/p.rst", text).text == "Text."


def test_ref_to_a_label_shows_the_section_title_the_scan_found(tmp_path: Path) -> None:
    from autodocs.docset.labels import scan_labels

    other = ".. _retry-policy:\n\nRetry policies\n--------------\n\n.. _top:\n\n=====\nTop\n=====\n"
    labels = scan_labels([other])
    assert labels == {"retry-policy": "Retry policies", "top": "Top"}
    page = read_rst(
        DocsFolder(tmp_path), "docs/p.rst", "See :ref:`retry-policy`, :ref:`unknown-label`.\n", labels=labels
    )
    assert page.text == "See Retry policies, unknown-label."
