"""Releases with docs sets for the reply tests: a Sphinx sdist, a MkDocs sdist, one without docs."""

from __future__ import annotations

from pathlib import Path

from tests.docset.sdists import MKDOCS_PROJECT, make_sdist
from tests.support.docsets import add_release
from tests.support.fake_index import FakeIndex

SPHINX_NAME = "docset-tasks"
MKDOCS_NAME = "docset-mk"
BARE_NAME = "docset-bare"
VERSION = "1.0"
DOCS_URL = "https://docset-tasks.example.invalid/en/1.0/"

README = (
    "# Docset tasks\n\nA small task queue.\n\n"
    "## Installation\n\n```bash\npip install docset-tasks\n```\n\n"
    "## Usage\n\nDefine a task with the `app.task` decorator and call it later.\n"
)

_BIG_EXAMPLE = "\n".join(f"   app.send(task_{n}, countdown={n})  # a long example line" for n in range(60))

SPHINX_TASKS: dict[str, str | bytes] = {
    "README.rst": "Docset tasks\n============\n\nA small task queue.\n",
    "setup.py": "from setuptools import setup\nsetup()\n",
    "docs/conf.py": "project = 'Tasks'\nroot_doc = 'index'\nextensions = ['sphinx.ext.autodoc']\n",
    "docs/index.rst": (
        "Tasks documentation\n===================\n\n"
        ".. toctree::\n\n   userguide/tasks\n   userguide/calling\n   api\n   changelog\n"
    ),
    "docs/userguide/tasks.rst": (
        "Tasks\n=====\n\nA task is a function the workers run.\n\n"
        "Basics\n------\n\nDecorate a function with ``app.task`` to make it a task.\n\n"
        "Retrying\n--------\n\n"
        "Call ``self.retry(exc=exc, countdown=5)`` inside a bound task to retry it; "
        "``max_retries`` bounds the attempts.\n\n"
        ".. code-block:: python\n\n"
        "   @app.task(bind=True, max_retries=3)\n   def fetch(self, url):\n       try:\n"
        "           return get(url)\n\n"
        "       except IOError as exc:\n           raise self.retry(exc=exc, countdown=5)\n\n"
        "Retry backoff\n~~~~~~~~~~~~~\n\n"
        "Set ``retry_backoff=True`` for exponential backoff between retries, "
        "capped by ``retry_backoff_max``.\n\n"
        ".. code-block:: python\n\n   @app.task(autoretry_for=(IOError,), retry_backoff=True)\n"
        "   def fetch(url):\n       return get(url)\n\n"
        "Long example\n~~~~~~~~~~~~\n\nSending many tasks at once.\n\n"
        f".. code-block:: python\n\n{_BIG_EXAMPLE}\n"
    ),
    "docs/userguide/calling.rst": (
        "Calling tasks\n=============\n\nUse ``apply_async`` with ``countdown`` or ``eta`` to delay a call.\n\n"
        "Linking\n-------\n\nChain tasks with ``link`` callbacks.\n"
    ),
    "docs/api.rst": (
        "API\n===\n\n.. currentmodule:: docset_tasks\n\n.. autofunction:: retry\n\n"
        ".. autoclass:: docset_tasks.Policy\n   :members:\n"
    ),
    "docs/changelog.rst": (
        "Changelog\n=========\n\n1.0\n---\n\n- Fixed retry backoff: retry backoff retries retry with backoff.\n"
    ),
}

BARE: dict[str, str | bytes] = {
    "README.md": "# Bare\n\nNo docs folder here.\n",
    "setup.py": "from setuptools import setup\nsetup()\n",
    "bare/__init__.py": "",
}


def publish(index: FakeIndex, folder: Path) -> dict[tuple[str, str], Path]:
    """Serve the three releases on the fake index; their sdists, built in ``folder``, by (name, version)."""
    add_release(index, SPHINX_NAME, VERSION, README, project_urls={"Source": "https://example.invalid/src"})
    add_release(index, MKDOCS_NAME, VERSION, "# Demo MkDocs\n\nThe demo package.\n\n## Install\n\npip install it.\n")
    add_release(
        index,
        BARE_NAME,
        VERSION,
        "# Bare\n\nNo docs folder here.\n",
        project_urls={"Documentation": DOCS_URL, "Homepage": "https://example.invalid/bare"},
    )
    sdists = {}
    for name, files, kind in (
        (SPHINX_NAME, SPHINX_TASKS, "tar.gz"),
        (MKDOCS_NAME, MKDOCS_PROJECT, "zip"),
        (BARE_NAME, BARE, "tar.gz"),
    ):
        where = folder / name
        where.mkdir(parents=True, exist_ok=True)
        sdists[(name, VERSION)] = make_sdist(where, files, kind=kind, top=f"{name}-{VERSION}")
    return sdists
