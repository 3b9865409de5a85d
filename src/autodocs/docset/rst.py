"""Reading one reStructuredText page: docutils' parser with Sphinx's directives and roles registered.

The parser runs without docutils' transforms (a reader needs the tree as written; the transforms
resolve references for writers) and with every channel a hostile page could use closed: system
messages are never reported (report level above severe, halt level never), file insertion by
docutils' own directives (``raw :file:``, ``csv-table :url:``) is off — includes go through
``rst_sphinx`` and the confined folder —, no configuration files are read, and any exception the
parser still raises becomes a warning and the page's plain text.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Mapping
from typing import Any

from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import Reporter, new_document

from autodocs.docset.files import DocsFolder
from autodocs.docset.pages import Page, code_block
from autodocs.docset.rst_context import ParseContext
from autodocs.docset.rst_render import render_doctree
from autodocs.docset.rst_sphinx import register_for
from autodocs.docset.sections import SectionCollector

__all__ = ["read_rst"]

_NEVER = Reporter.SEVERE_LEVEL + 1
_PARSER = Parser()
_SETTINGS: Any = get_default_settings(Parser)
_SETTINGS.report_level = _NEVER
_SETTINGS.halt_level = _NEVER
_SETTINGS.file_insertion_enabled = False
_SETTINGS.raw_enabled = True
_SETTINGS.line_length_limit = 20_000
_SETTINGS.character_level_inline_markup = False
_SETTINGS.syntax_highlight = "none"
_SETTINGS.tab_width = 8
#: Past this, a page is kept as plain text: docutils' time grows with nesting, not only with size.
MAX_PAGE_CHARS = 2_000_000


def read_rst(
    folder: DocsFolder,
    path: str,
    text: str,
    *,
    labels: Mapping[str, str] | None = None,
    doc_titles: Mapping[str, str] | None = None,
) -> Page:
    """The page at ``path`` (inside ``folder``) whose source is ``text``; raises only MemoryError.

    ``labels`` and ``doc_titles`` (``docset.labels``, over the whole set) turn ``:ref:`` and
    ``:doc:`` targets into the titles they point at.
    """
    context = ParseContext(folder, path, labels=labels or {}, doc_titles=doc_titles or {}, source_dir=folder.source_dir)
    collector = SectionCollector()
    try:
        if len(text) > MAX_PAGE_CHARS:
            raise ValueError(f"the page has over {MAX_PAGE_CHARS} characters")
        register_for(text)
        settings = _copy_settings(context)
        document = new_document(path, settings)
        _PARSER.parse(text, document)
        render_doctree(document, collector)
    except MemoryError:  # the caller skips the page (a worker names its memory bound)
        raise
    except Exception as exc:  # a parser bug on hostile text must cost one page, never the call
        context.warn(f"{path}: could not be parsed as reStructuredText ({exc.__class__.__name__}); kept as text")
        collector = SectionCollector()
        collector.add(code_block(text[:MAX_PAGE_CHARS], "rst"))
    sections = collector.finish()
    title = next((s.heading_path[0] for s in sections if s.heading_path), "") or _title_from_path(path)
    return Page(path, title, sections, tuple(context.toctree), tuple(context.warnings))


def _copy_settings(context: ParseContext) -> Any:
    settings = copy.copy(_SETTINGS)
    settings.warning_stream = io.StringIO()
    settings.autodocs_context = context
    return settings


def _title_from_path(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or path
