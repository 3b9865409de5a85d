"""mkdocs.yml and conf.py are read, never run: unknown tags are None, alias bombs and odd values cost nothing."""

from __future__ import annotations

import time
from pathlib import Path

from autodocs.docset.files import DocsFolder
from autodocs.docset.nav import find_sphinx, read_mkdocs


def _folder(tmp_path: Path, name: str, text: str) -> DocsFolder:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    return DocsFolder(tmp_path)


def test_an_alias_bomb_in_the_nav_is_walked_within_its_bound(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x.md, x.md, x.md, x.md, x.md, x.md, x.md, x.md, x.md, x.md]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    lines.append("nav:\n  - Bomb: *a11")
    started = time.monotonic()
    config = read_mkdocs(_folder(tmp_path, "mkdocs.yml", "\n".join(lines) + "\n"))
    assert time.monotonic() - started < 5
    assert config is not None and config.nav is not None


def test_python_tags_and_env_tags_read_as_none(tmp_path: Path) -> None:
    text = "site_name: !ENV [NAME, Demo]\ndocs_dir: !!python/name:os.getcwd\n"
    text += "nav:\n  - !!python/object/apply:os.system [id]\n"
    config = read_mkdocs(_folder(tmp_path, "mkdocs.yml", text))
    assert config is not None
    assert (config.docs_dir, config.site_name, config.nav) == ("docs", "", ())


def test_a_docs_dir_climbing_out_of_the_sdist_falls_back_to_docs(tmp_path: Path) -> None:
    config = read_mkdocs(_folder(tmp_path, "mkdocs.yml", "docs_dir: ../../etc\n"))
    assert config is not None and config.docs_dir == "docs"


def test_invalid_yaml_is_a_warning_and_the_default_order(tmp_path: Path) -> None:
    config = read_mkdocs(_folder(tmp_path, "mkdocs.yml", "nav: [unclosed\n"))
    assert config is not None and config.nav is None and config.warnings


def test_sphinx_settings_are_read_from_conf_py_text_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"open({str(marker)!r}, 'w')\nroot_doc = 'contents'\nsource_suffix = '.txt'\nproject = 'Django'\n"
    config = find_sphinx(_folder(tmp_path, "docs/conf.py", text))
    assert config is not None and not marker.exists()
    assert (config.source_dir, config.root_doc, config.source_suffixes, config.project) == (
        "docs",
        "contents",
        (".txt",),
        "Django",
    )
