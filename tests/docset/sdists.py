"""Small sdists built in the test itself: a dict of paths to contents, packed as tar.gz or zip."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

TOP = "demo-1.0"


def make_sdist(folder: Path, files: dict[str, str | bytes], *, kind: str = "tar.gz", top: str = TOP) -> Path:
    """Write ``files`` (paths below the sdist's top folder) into ``folder/demo-1.0.<kind>``."""
    archive = folder / f"{top}.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, content in files.items():
                bundle.writestr(f"{top}/{name}" if not name.startswith(("/", "..")) else name, _bytes(content))
        return archive
    with tarfile.open(archive, "w:gz") as bundle:
        for name, content in files.items():
            add_tar_file(bundle, f"{top}/{name}" if not name.startswith(("/", "..")) else name, _bytes(content))
    return archive


def add_tar_file(bundle: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    bundle.addfile(info, io.BytesIO(data))


def add_tar_link(bundle: tarfile.TarFile, name: str, target: str, *, hard: bool = False) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    bundle.addfile(info)


def _bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


SPHINX_PROJECT: dict[str, str | bytes] = {
    "README.rst": "Demo\n====\n\nThe demo package retries calls.\n",
    "CHANGES.rst": "Changes\n=======\n\n1.0\n---\n\n- First release.\n",
    "setup.py": "from setuptools import setup\nsetup()\n",
    "demo/__init__.py": "def retry(n):\n    return n\n",
    "docs_src/tutorial/retry.py": "import demo\n\n# start\ndemo.retry(3)\n# end\n",
    "docs/conf.py": "project = 'Demo'\nroot_doc = 'index'\nextensions = ['sphinx.ext.autodoc', 'sphinx_design']\n",
    "docs/index.rst": (
        "Demo documentation\n==================\n\n"
        ".. toctree::\n   :maxdepth: 2\n\n   usage\n   Reference <api>\n\n"
        ".. include:: ../README.rst\n"
    ),
    "docs/usage.rst": (
        "Usage\n=====\n\nCall :func:`~demo.retry` with :class:`demo.Policy` (see :ref:`the API <api>`).\n\n"
        "Retrying\n--------\n\n"
        ".. code-block:: python\n   :linenos:\n\n   import demo\n\n   demo.retry(3)\n\n"
        ".. literalinclude:: ../docs_src/tutorial/retry.py\n   :start-after: # start\n   :end-before: # end\n\n"
        ".. versionadded:: 1.0\n   The *n* argument.\n\n"
        ".. note::\n\n   Retries are bounded.\n\n"
        ".. tab-set::\n   :sync-group: os\n\n   .. tab-item:: Linux\n\n      Runs everywhere.\n\n"
        ".. frobnicate:: widget\n   :colour: blue\n\n   Project-specific text stays.\n\n"
        "+------+-------+\n| name | value |\n+======+=======+\n| n    | 3     |\n+------+-------+\n"
    ),
    "docs/api.rst": (
        "API\n===\n\n.. currentmodule:: demo\n\n.. autofunction:: retry\n\n"
        ".. autoclass:: demo.Policy\n   :members:\n\n.. automodule:: demo.backoff\n"
    ),
}

MKDOCS_PROJECT: dict[str, str | bytes] = {
    "README.md": "# Demo\n\nThe demo package.\n",
    "mkdocs.yml": (
        "site_name: Demo\n"
        "nav:\n  - Home: index.md\n  - Tutorial:\n      - First steps: tutorial/first.md\n  - Reference: api.md\n"
        "  - External: https://example.invalid/\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "  - toc:\n      slugify: !!python/object/apply:os.system ['touch /tmp/autodocs-yaml-executed']\n"
        "extra:\n  version: !ENV [DEMO_VERSION, '1.0']\n"
    ),
    "docs/index.md": '# Welcome\n\nIntro.\n\n--8<-- "docs_src/example.py"\n',
    "docs/tutorial/first.md": (
        "# First steps\n\n"
        '!!! note "Read this"\n    Retries are bounded.\n\n'
        "```{warning}\nMyST warning body.\n```\n\n"
        "```python\nimport demo\n```\n\n"
        "## Deeper\n\nText.\n"
    ),
    "docs/api.md": "# Reference\n\n::: demo.retry\n    options:\n      show_source: false\n\nAfter.\n",
    "docs/orphan.md": "# Orphan\n\nNot in nav.\n",
    "docs_src/example.py": "print('snippet')\n",
}
