"""What one reST page's parse shares between its directives: the confined folder, bounds, findings.

A docutils document carries its settings to every directive (``state.document.settings``); the
reader puts one ``ParseContext`` there as ``autodocs_context``, so directives need no globals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autodocs.docset.files import DocsFolder
from autodocs.docset.pages import TocTreeEntry

__all__ = ["MAX_INCLUDED_LINES", "MAX_INCLUDES", "MAX_INCLUDE_DEPTH", "ParseContext", "context_of"]

MAX_INCLUDE_DEPTH = 8
MAX_INCLUDES = 64
MAX_INCLUDED_LINES = 200_000


@dataclass(slots=True)
class ParseContext:
    folder: DocsFolder
    page_path: str
    warnings: list[str] = field(default_factory=list)
    toctree: list[TocTreeEntry] = field(default_factory=list)
    current_module: str = ""
    #: Section labels of the whole docs set (``labels.scan_labels``): ``:ref:`label``` shows the title.
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Page titles by path without suffix (``docs/topics/install``): ``:doc:`install``` shows the title.
    doc_titles: Mapping[str, str] = field(default_factory=dict)
    #: Sphinx's source folder, where ``:doc:`/x``` starts.
    source_dir: str = ""
    #: Who included each included file (the latest time): the chain a new include would extend.
    included_by: dict[str, str] = field(default_factory=dict)
    includes: int = 0
    included_lines: int = 0

    def warn(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 50:
            self.warnings.append(message)

    def admit_include(self, including: str, included: str, line_count: int) -> str:
        """ "" when ``included`` may be inserted into ``including``, else the warning that says why not."""
        chain = [including]
        while chain[-1] in self.included_by and len(chain) <= MAX_INCLUDE_DEPTH:
            chain.append(self.included_by[chain[-1]])
        if included in chain or included == self.page_path:
            return f"{self.page_path}: {included} includes itself (recursive include); stopped"
        if len(chain) > MAX_INCLUDE_DEPTH:
            return f"{self.page_path}: includes nest deeper than {MAX_INCLUDE_DEPTH} levels; stopped"
        if self.includes >= MAX_INCLUDES or self.included_lines + line_count > MAX_INCLUDED_LINES:
            return f"{self.page_path}: more included text than AutoDocs reads; the rest was skipped"
        self.included_by[included] = including
        self.includes += 1
        self.included_lines += line_count
        return ""


def context_of(document: Any) -> ParseContext:
    """The parse context the reader attached to a document's settings."""
    context = getattr(document.settings, "autodocs_context", None)
    if not isinstance(context, ParseContext):  # a document parsed outside the reader
        context = ParseContext(DocsFolder(Path("/nonexistent")), "")
        document.settings.autodocs_context = context
    return context
