"""The statements the PostgreSQL store runs, and how it writes and queries its full-text index.

Search reads ``search_entries`` (a generated, weighted ``tsvector`` with a GIN index, made by
migration 2 in :mod:`autodocs.cache.pg_migrations`). A document's or API reference's rows are
replaced (:func:`replace_entries`) in the transaction that writes it, after its own row is
upserted. Removals delete the entries after their owners; pruning sweeps rows whose owner a
concurrent replica removed (:data:`ORPHANED_ENTRIES`) and indexes documents an older replica
stored without index rows (:func:`index_unindexed_documents`, during a rolling update).
"""

from __future__ import annotations

import itertools

import psycopg
import structlog
from psycopg.rows import TupleRow

from autodocs.cache.search import document_entries, indexed_rows, search_context
from autodocs.docs.model import PackageDocument

__all__ = [
    "CLEAR_ALL",
    "CLEAR_INDEX_STATEMENTS",
    "CLEAR_ONE",
    "COUNTS",
    "INDEX_BATCH",
    "LIST_PAGE",
    "ORPHANED_ENTRIES",
    "PRUNE_DOCUMENTS",
    "SEARCH",
    "UNINDEXED_DOCUMENTS",
    "index_unindexed_documents",
    "replace_entries",
    "tsquery_passes",
]

log = structlog.get_logger(__name__)

Connection = psycopg.AsyncConnection[TupleRow]

#: One page of entries after an (index key, name, sort key) position; a release list's sort key
#: is '', before every version. Each branch pages its own table along its primary key; the outer
#: query merges. The first page starts after ('', '', ''): keys, names and versions are never empty.
LIST_PAGE = (
    "SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, version AS sort_key, last_used FROM documents"
    " WHERE (index_key, name, version) > (%(index)s, %(name)s, %(key)s)"
    " ORDER BY index_key, name, version LIMIT %(limit)s) AS page_documents"
    " UNION ALL SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, '' AS sort_key, fetched_at AS last_used FROM release_lists"
    " WHERE (index_key, name) > (%(index)s, %(name)s) ORDER BY index_key, name LIMIT %(limit)s) AS page_lists"
    " UNION ALL SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, version || ' docs set' AS sort_key, last_used FROM docsets"
    " WHERE complete AND missing_reason = '' AND (index_key, name) >= (%(index)s, %(name)s)"
    " AND (index_key, name, version || ' docs set') > (%(index)s, %(name)s, %(key)s)"
    " ORDER BY index_key, name, version LIMIT %(limit)s) AS page_docsets"
    " ORDER BY index_key, name, sort_key LIMIT %(limit)s"
)
#: Counts for stats: every table's entries, the distinct names, and the entries per index key.
COUNTS = (
    "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM release_lists),"
    " (SELECT COUNT(*) FROM api_references),"
    " (SELECT COUNT(*) FROM (SELECT name FROM documents UNION SELECT name FROM release_lists"
    " UNION SELECT name FROM api_references UNION SELECT name FROM docsets) AS names),"
    " (SELECT COALESCE(json_object_agg(index_key, entries ORDER BY index_key), '{}'::json)::text FROM ("
    "  SELECT index_key, SUM(entries) AS entries FROM ("
    "   SELECT index_key, COUNT(*) AS entries FROM documents GROUP BY index_key"
    "   UNION ALL SELECT index_key, COUNT(*) FROM release_lists GROUP BY index_key"
    "   UNION ALL SELECT index_key, COUNT(*) FROM api_references GROUP BY index_key"
    "   UNION ALL SELECT index_key, COUNT(*) FROM docsets WHERE complete AND missing_reason = ''"
    "   GROUP BY index_key"
    "  ) AS counted GROUP BY index_key) AS per_index),"
    " (SELECT COUNT(*) FROM docsets WHERE complete AND missing_reason = '')"
)


#: The rows matching the tsquery :required, best first (see tsquery_passes), optionally only in
#: the (name, version) pairs of two parallel arrays and only of one index. ts_rank weighs the labels {D, C, B, A}: the
#: path (A) counts three times the text (B) and the context (C); normalization 1 divides by
#: 1 + log(length), so a long section does not win by size alone. Each pair of neighbouring
#: words found side by side adds the rank once more. The headline (snippet) is made for the
#: chosen rows only: it is the costly part.
SEARCH = (
    "SELECT index_key, name, version, kind, path,"
    " ts_headline('english', text, ranked, 'StartSel=«, StopSel=», MaxWords=35, MinWords=15,"
    ' MaxFragments=1, FragmentDelimiter=" … "\'), score FROM ('
    " SELECT e.id, e.index_key, e.name, e.version, e.kind, e.path, e.text, q.ranked,"
    " ts_rank('{0.1, 0.33, 0.33, 1.0}', e.terms, q.ranked, 1) * (1 + ("
    "  SELECT COUNT(*) FROM unnest(%(pairs)s::text[]) AS p(pair) WHERE e.terms @@ to_tsquery('english', p.pair)"
    " )) AS score"
    " FROM search_entries AS e,"
    " to_tsquery('english', %(required)s) AS r(required), to_tsquery('english', %(ranked)s) AS q(ranked)"
    " WHERE e.terms @@ r.required AND (%(index)s::text IS NULL OR e.index_key = %(index)s)"
    " AND (%(names)s::text[] IS NULL OR (e.name, e.version) IN (SELECT"
    ' n COLLATE "C", v COLLATE "C" FROM unnest(%(names)s::text[], %(versions)s::text[]) AS s(n, v)))'
    " ORDER BY score DESC, e.id LIMIT %(limit)s"
    ") AS best ORDER BY score DESC, id"
)
#: What clear removes: every table's rows (of one name); the index after its owners, so a
#: document written meanwhile by another replica can lose its rows but never leave orphans.
CLEAR_ALL = (
    "DELETE FROM documents",
    "DELETE FROM release_lists",
    "DELETE FROM api_references",
    "DELETE FROM docsets",
    "DELETE FROM docset_sections",
    "DELETE FROM search_entries",
)
CLEAR_ONE = (
    "DELETE FROM documents WHERE name = %s",
    "DELETE FROM release_lists WHERE name = %s",
    "DELETE FROM api_references WHERE name = %s",
    "DELETE FROM docsets WHERE name = %s",
    "DELETE FROM docset_sections WHERE name = %s",
    "DELETE FROM search_entries WHERE name = %s",
)
#: The last statements of CLEAR_ALL/CLEAR_ONE remove index rows, not entries: not counted.
CLEAR_INDEX_STATEMENTS = 2
#: Drop the documents unused since the cutoff or beyond the versions kept per package of each
#: index, and the API references of those versions or unused since the cutoff; count each.
PRUNE_DOCUMENTS = (
    "WITH doomed AS ("
    " DELETE FROM documents WHERE last_used < %(cutoff)s OR (index_key, name, version) IN ("
    "  SELECT index_key, name, version FROM ("
    "   SELECT index_key, name, version, ROW_NUMBER() OVER (PARTITION BY index_key, name"
    "   ORDER BY last_used DESC, created_at DESC, version DESC) AS rank FROM documents"
    "  ) AS ranked WHERE rank > %(keep)s)"
    " RETURNING index_key, name, version"
    "), references_gone AS ("
    " DELETE FROM api_references WHERE last_used < %(cutoff)s"
    " OR (index_key, name, version) IN (SELECT index_key, name, version FROM doomed) RETURNING 1"
    ") SELECT (SELECT COUNT(*) FROM doomed), (SELECT COUNT(*) FROM references_gone)"
)
#: Documents without index rows that would have some (a summary or a section), a batch at a
#: time (see index_unindexed_documents).
UNINDEXED_DOCUMENTS = (
    "SELECT index_key, name, version, body::text FROM documents AS d WHERE NOT EXISTS (SELECT 1"
    " FROM search_entries AS e WHERE e.index_key = d.index_key AND e.name = d.name AND e.version = d.version"
    " AND e.origin = '')"
    " AND (COALESCE(d.body->>'summary', '') <> '' OR json_array_length(CASE"
    " WHEN json_typeof(d.body->'sections') = 'array' THEN d.body->'sections' ELSE '[]'::json END) > 0)"
    " ORDER BY index_key, name, version LIMIT %s"
)
INDEX_BATCH = 200
#: Index rows whose document or API reference is gone (pruned now, or removed by another
#: replica while this one was writing them).
ORPHANED_ENTRIES = (
    "DELETE FROM search_entries AS e WHERE e.origin = '' AND NOT EXISTS (SELECT 1 FROM documents AS d"
    " WHERE d.index_key = e.index_key AND d.name = e.name AND d.version = e.version)",
    "DELETE FROM search_entries AS e WHERE e.origin <> '' AND NOT EXISTS (SELECT 1 FROM api_references AS a"
    " WHERE a.index_key = e.index_key AND a.name = e.name AND a.version = e.version AND a.object_path = e.origin)",
)


async def replace_entries(
    db: Connection, owner: tuple[str, str, str], origin: str, context: str, rows: list[tuple[str, str, str]]
) -> None:
    """Replace the index rows of one document (origin '') or one API reference; ``owner`` is
    its (index key, name, version)."""
    await db.execute(
        "DELETE FROM search_entries WHERE index_key = %s AND name = %s AND version = %s AND origin = %s",
        (*owner, origin),
    )
    if rows:
        kinds, paths, texts = (list(column) for column in zip(*rows, strict=True))
        await db.execute(
            "INSERT INTO search_entries (index_key, name, version, origin, kind, path, text, context)"
            " SELECT %s, %s, %s, %s, kind, path, text, %s FROM unnest(%s::text[], %s::text[], %s::text[])"
            " WITH ORDINALITY AS entries(kind, path, text, position) ORDER BY position",
            (*owner, origin, context, kinds, paths, texts),
        )


async def index_unindexed_documents(db: Connection) -> None:
    """Index up to :data:`INDEX_BATCH` documents that have no index rows: ones an older AutoDocs
    replica stored after the migration (during a rolling update). The rest wait for the next
    prune. A body that no longer parses stays unindexed (reading it is a miss, and the document
    fetched in its place is indexed when stored)."""
    cursor = await db.execute(UNINDEXED_DOCUMENTS, (INDEX_BATCH,))
    for index_key, name, version, body in await cursor.fetchall():
        try:
            document = PackageDocument.model_validate_json(body)
        except ValueError:
            log.warning("cache.unreadable_entry", name=name, version=version)
            continue
        rows = indexed_rows(document_entries(document))
        await replace_entries(db, (index_key, name, version), "", search_context(name, document.summary), rows)


def tsquery_passes(terms: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    """(required, ranked, pairs) to_tsquery texts: first rows whose title or text (labels A, B)
    has every word, then (if none has them all) rows whose title or text has any.

    Ranking counts every word in all three labels (the context only ranks; a row is found by
    its own title or text), and each pair of neighbouring words found side by side. Each word
    is quoted, so nothing in it is read as tsquery syntax; words hold only letters and digits,
    and a quote would be doubled all the same. Stop words drop out in PostgreSQL.
    """
    quoted = ["'" + term.replace("'", "''") + "'" for term in terms]
    ranked = " | ".join(quoted)
    pairs = [f"{first} <-> {second}" for first, second in itertools.pairwise(quoted)]
    every = (" & ".join(f"{word}:AB" for word in quoted), ranked, pairs)
    either = (" | ".join(f"{word}:AB" for word in quoted), ranked, pairs)
    return [every, either] if len(quoted) > 1 else [every]
