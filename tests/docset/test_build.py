"""Whole docs sets built from small sdists: Sphinx-style and MkDocs-style, order and titles from their configs."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from autodocs.docset.build import build_docset, build_docset_from_sdist
from tests.docset.sdists import MKDOCS_PROJECT, SPHINX_PROJECT, make_sdist


def test_a_sphinx_sdist_is_ordered_by_its_toctrees(tmp_path: Path) -> None:
    docset = build_docset_from_sdist(make_sdist(tmp_path, SPHINX_PROJECT), tmp_path / "docs-set")
    assert docset.flavour == "sphinx"
    assert [(depth, e.title, e.path) for depth, e in docset.toc.walk()] == [
        (0, "Demo documentation", "docs/index.rst"),
        (1, "Usage", "docs/usage.rst"),
        (1, "Reference", "docs/api.rst"),
        (0, "Other pages", ""),
        (1, "Demo", "README.rst"),
        (1, "Changes", "CHANGES.rst"),
    ]
    assert [p.path for p in docset.pages][:3] == ["docs/index.rst", "docs/usage.rst", "docs/api.rst"]
    assert docset.api_objects == {"docs/api.rst": ("demo.retry", "demo.Policy", "demo.backoff")}
    usage = docset.page("docs/usage.rst")
    assert usage is not None
    assert "demo.retry(3)" in usage.text  # the literalinclude from docs_src/
    assert "Project-specific text stays." in usage.text and "colour" not in usage.text
    index = docset.page("docs/index.rst")
    assert index is not None and "The demo package retries calls." in index.text  # ../README.rst included
    assert docset.warnings == ()


def test_a_mkdocs_sdist_follows_its_nav_and_never_runs_python_tags(tmp_path: Path) -> None:
    marker = Path("/tmp/autodocs-yaml-executed")
    marker.unlink(missing_ok=True)
    docset = build_docset_from_sdist(make_sdist(tmp_path, MKDOCS_PROJECT, kind="zip"), tmp_path / "docs-set")
    assert not marker.exists()
    assert docset.flavour == "mkdocs"
    assert [(depth, e.title, e.path) for depth, e in docset.toc.walk()] == [
        (0, "Home", "docs/index.md"),
        (0, "Tutorial", ""),
        (1, "First steps", "docs/tutorial/first.md"),
        (0, "Reference", "docs/api.md"),
        (0, "Other pages", ""),
        (1, "Demo", "README.md"),
        (1, "Orphan", "docs/orphan.md"),
    ]
    home = docset.page("docs/index.md")
    assert home is not None and "print('snippet')" in home.text  # docs_src/ kept because a snippet names it
    first = docset.page("docs/tutorial/first.md")
    assert first is not None
    assert "> **Read this:** Retries are bounded." in first.text and "> **Warning:** MyST warning body." in first.text
    assert docset.api_objects == {"docs/api.md": ("demo.retry",)}


def test_without_a_config_pages_follow_the_default_order(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/zeta.md": "# Zeta\n",
        "docs/index.md": "# Start\n",
        "docs/guide/b.rst": "B\n=\n",
        "docs/guide/README.md": "# Guide\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    assert docset.flavour == "plain"
    assert [p.path for p in docset.pages] == [
        "docs/index.md",
        "docs/zeta.md",
        "docs/guide/README.md",
        "docs/guide/b.rst",
    ]
    assert docset.toc.render().splitlines()[0] == "- Start (`docs/index.md`)"


def test_pages_read_in_a_process_pool_equal_pages_read_in_process(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"docs/p{i:02}.rst": f"Page {i}\n=======\n\nText {i}.\n" for i in range(60)}
    root = tmp_path / "docs-set"
    build_docset_from_sdist(make_sdist(tmp_path, files), root)
    with ProcessPoolExecutor(2) as pool:
        pooled = build_docset(root, executor=pool)
    assert pooled == build_docset(root)
    assert len(pooled.pages) == 60


def test_pages_past_the_cap_are_named_in_a_warning_not_read(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"docs/p{i:02}.md": f"# Page {i}\n" for i in range(30)}
    root = tmp_path / "docs-set"
    build_docset_from_sdist(make_sdist(tmp_path, files), root)
    docset = build_docset(root, max_pages=10)
    assert len(docset.pages) == 10
    assert any("30 pages" in w for w in docset.warnings)


def test_a_mkdocs_config_inside_a_docs_folder_reads_its_docs_dir_from_there(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/en/mkdocs.yml": "site_name: Demo\nnav:\n  - Tutorial: tutorial/index.md\n  - index.md\n",
        "docs/en/docs/index.md": "# Home\n",
        "docs/en/docs/tutorial/index.md": "# Tutorial\n\n{* ../../docs_src/app.py *}\n",
        "docs_src/app.py": "app = 1\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    assert docset.flavour == "mkdocs"
    assert [p.path for p in docset.pages] == ["docs/en/docs/tutorial/index.md", "docs/en/docs/index.md"]
    assert "app = 1" in docset.pages[0].text


def test_a_sphinx_project_with_myst_pages_orders_them_by_their_toctree(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/conf.py": "source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}\nmaster_doc = 'index'\n",
        "docs/index.md": "# Home\n\n```{toctree}\nzeta\nalpha\n```\n",
        "docs/alpha.rst": "Alpha\n=====\n",
        "docs/zeta.md": "# Zeta\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    assert [p.path for p in docset.pages] == ["docs/index.md", "docs/zeta.md", "docs/alpha.rst"]


def test_ref_and_doc_roles_show_the_titles_they_point_at_across_pages(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/conf.py": "",
        "docs/index.rst": "Home\n====\n\nSee :doc:`guide/retry`, :doc:`/guide/retry` and :ref:`backoff`.\n",
        "docs/guide/retry.rst": (
            "Retrying tasks\n==============\n\n.. _backoff:\n\nExponential backoff\n-------------------\n"
        ),
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    index = docset.page("docs/index.rst")
    assert index is not None
    assert index.sections[0].text == "See Retrying tasks, Retrying tasks and Exponential backoff."


def test_a_sphinx_project_in_doc_build_is_found_and_ordered_by_its_toctree(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "doc/build/conf.py": "project = 'x'\n",
        "doc/build/index.rst": "Top\n===\n\n.. toctree::\n\n   orm/second\n   first\n",
        "doc/build/first.rst": "First\n=====\n",
        "doc/build/orm/second.rst": "Second\n======\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    assert docset.flavour == "sphinx"
    assert [p.path for p in docset.pages][:3] == [
        "doc/build/index.rst",
        "doc/build/orm/second.rst",
        "doc/build/first.rst",
    ]


def test_a_shipped_build_output_is_not_read_as_a_second_copy_of_the_pages(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/index.rst": "Start\n=====\n",
        "docs/_build/html/_sources/index.rst.txt": "Start\n=====\n",
        "docs/_sources/index.rst.txt": "Start\n=====\n",
        "docs/_templates/layout.txt": "{{ body }}\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    assert [p.path for p in docset.pages] == ["docs/index.rst"]


def test_changelog_imports_are_not_followed_into_every_older_changelog(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/changelog_20.rst": (
            "Changes in 2.0\n==============\n\nNew in two.\n\n"
            ".. changelog_imports::\n\n    .. include:: changelog_14.rst\n        :start-line: 2\n"
        ),
        "docs/changelog_14.rst": "Changes in 1.4\n==============\n\nOld in one-four.\n",
    }
    docset = build_docset_from_sdist(make_sdist(tmp_path, files), tmp_path / "docs-set")
    newest = docset.page("docs/changelog_20.rst")
    assert newest is not None and "New in two." in newest.text
    assert "Old in one-four." not in newest.text
