"""What both stores share about full-text search: what a document is indexed as, and how a
user's query becomes words.

The query is hostile input, so it never reaches a search engine's query language as typed:
:func:`parse_search` cuts it into words (runs of letters and digits; everything else, quotes
and operators included, only separates words), and each store builds its own query from
those words, quoting every one. Both stores stem English (the porter tokenizer in SQLite
FTS5, the ``english`` configuration in PostgreSQL), so "retries" finds "retry".

Both stores search the same way: every word in a title or text first, else any word; hits are
ranked by title/path over text 3 : 1, with the package's name and summary as a low-weighted
"context", and neighbouring query words found side by side count. The index is written with
each document (summary, sections) and API reference (its entries) in the same transaction, and
removed with them by ``clear`` and ``prune``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autodocs.cache.base import MAX_SEARCH_LIMIT, SearchEntry
from autodocs.docs.model import PackageDocument
from autodocs.errors import InvalidArgument

__all__ = [
    "MAX_INDEXED_CHARS",
    "MAX_QUERY_TERMS",
    "SNIPPET_CHARS",
    "SUMMARY_PATH",
    "SearchRequest",
    "check_object_path",
    "clip_snippet",
    "document_entries",
    "indexed_rows",
    "parse_search",
    "search_context",
]

#: Words of a query that are searched; the rest are ignored (a question is rarely longer).
MAX_QUERY_TERMS = 32
#: A longer "word" is cut to this (no real word is that long; it bounds the query's size).
MAX_TERM_CHARS = 64
#: Text of one entry beyond this is stored but not indexed (PostgreSQL's tsvector holds 1 MB).
MAX_INDEXED_CHARS = 100_000
MAX_PATH_CHARS = 1000
#: The longest snippet a hit carries.
SNIPPET_CHARS = 300
#: The path under which a document's summary is indexed.
SUMMARY_PATH = "summary"

_WORD = re.compile(r"[^\W_]+")
#: Words that say nothing about the topic. Dropped from a query that has other words, so that
#: "how do I retry a request" must match "retry" and "request", not "how" and "do".
_FILLER = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i"),
        *("in", "is", "it", "me", "my", "of", "on", "or", "should", "the", "this", "to", "use", "using"),
        *("what", "when", "where", "which", "why", "with", "you", "your"),
    }
)


@dataclass(frozen=True)
class SearchRequest:
    """A query reduced to the words to search for, and the number of hits wanted."""

    terms: tuple[str, ...]
    limit: int


def parse_search(query: str, limit: int) -> SearchRequest:
    """The distinct words of ``query`` (lower case, filler dropped) and the limit to apply.

    Raises :class:`InvalidArgument` for a query without a letter or digit, or a limit below 1;
    a limit above :data:`~autodocs.cache.base.MAX_SEARCH_LIMIT` is lowered to it.
    """
    if limit < 1:
        raise InvalidArgument(f"limit must be at least 1, not {limit}.")
    words = list(dict.fromkeys(word[:MAX_TERM_CHARS] for word in _WORD.findall(query.lower())))
    if not words:
        shown = query if len(query) <= 40 else query[:37] + "..."
        raise InvalidArgument(
            f"The query {shown!r} has no words to search for.",
            suggestions=["Search with words from the docs, e.g. 'retry connection pool' or 'async client timeout'."],
        )
    meaningful = [word for word in words if word not in _FILLER]
    terms = tuple((meaningful or words)[:MAX_QUERY_TERMS])
    return SearchRequest(terms=terms, limit=min(limit, MAX_SEARCH_LIMIT))


def document_entries(document: PackageDocument) -> list[SearchEntry]:
    """What a cached document is indexed as: its summary, then each section (title and content).

    The PostgreSQL migration that back-fills the index (``pg_migrations``, version 2) builds
    the same entries in SQL; keep the two in step.
    """
    entries = [SearchEntry(kind="section", path=SUMMARY_PATH, text=document.summary)] if document.summary else []
    entries += [SearchEntry(kind="section", path=section.title, text=section.content) for section in document.sections]
    return entries


def search_context(name: str, summary: str | None) -> str:
    """What every entry of a package is also found by, weighted low: the package's name and summary.

    It lifts the sections of a package that is *about* the query ("connection pooling" finds
    urllib3's sections before another package's passing mention). The PostgreSQL migration
    (version 2) builds the same text in SQL; keep the two in step.
    """
    return f"{name} {summary or ''}"


def indexed_rows(entries: list[SearchEntry], *, kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, path, text) rows to index, cut to the indexed size; ``kind`` overrides each entry's."""
    return [(kind or entry.kind, entry.path[:MAX_PATH_CHARS], entry.text[:MAX_INDEXED_CHARS]) for entry in entries]


def check_object_path(object_path: str) -> str:
    """An API reference's key; an empty one is refused (the document's own entries have none)."""
    if not object_path.strip():
        raise InvalidArgument("object_path must name the documented object, e.g. 'requests.Session'.")
    return object_path


def clip_snippet(snippet: str) -> str:
    """A backend's snippet on one line, at most :data:`SNIPPET_CHARS` long."""
    flat = " ".join(snippet.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"
