"""The SQLite store's file: its schema and migrations, and the full-text index over it.

Search: ``search_entries`` holds one row per indexed section or API entry and an FTS5
external-content table (``search_fts``, kept in step by triggers) indexes it; the rows of a
document or API reference are replaced in the transaction that writes it
(:func:`replace_entries`). Opening a file of an older schema brings it up to this one in one
transaction (``BEGIN IMMEDIATE``: a second process opening the file waits, then finds the work
done; a process killed halfway leaves the file as it was, and the next open starts again).
Version 1 gets the new tables and an index back-filled from the stored documents; versions 1
and 2 get the index key (:mod:`autodocs.index.keys`) in every table's key: each table is
rebuilt keyed, its rows filed under the default configuration's index (:func:`key_entries`),
the search rows with their ids, so the full-text index over them stays valid; versions up to 3
get the docs-set tables (:mod:`autodocs.cache.sqlite_docsets`), keyed so. Pruning also indexes
documents an older AutoDocs sharing the file stored without index rows
(:func:`index_unindexed_documents`). Without FTS5 in this Python's SQLite the cache still works
and search raises :class:`~autodocs.errors.CacheError` (:func:`migrate` says whether the index
exists).

The statements the store runs live here too, next to the tables they read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import structlog

from autodocs.cache.search import document_entries, indexed_rows, search_context
from autodocs.docs.model import PackageDocument
from autodocs.index.keys import DEFAULT_INDEX_KEY

__all__ = [
    "API_ENTRIES",
    "CLEAR_ALL",
    "CLEAR_INDEX_STATEMENTS",
    "CLEAR_ONE",
    "FULL_TEXT",
    "LIST_PAGE",
    "ORPHANED_ENTRIES",
    "PRUNED_DOCSETS",
    "PRUNED_DOCUMENTS",
    "SCHEMA_VERSION",
    "SEARCH",
    "TABLES",
    "UNINDEXED_DOCUMENTS",
    "EntryCounts",
    "count_entries",
    "fts5_available",
    "fts5_passes",
    "index_unindexed_documents",
    "key_entries",
    "migrate",
    "prune",
    "replace_entries",
    "transaction",
]

log = structlog.get_logger(__name__)

#: 1: documents and release lists; 2: API references and the search index; 3: the index key
#: in every table's key; 4: docs sets (keyed by index from the start).
SCHEMA_VERSION = 4
#: Each table's columns; every key starts with the index key of the index that answered.
_COLUMNS = {
    "documents": """(
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_used REAL NOT NULL,
        PRIMARY KEY (index_key, name, version)
    )""",
    "release_lists": """(
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        PRIMARY KEY (index_key, name)
    )""",
    "api_references": """(
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        object_path TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_used REAL NOT NULL,
        PRIMARY KEY (index_key, name, version, object_path)
    )""",
    # One row per searchable unit. origin: '' for a document's own entries (summary, sections),
    # else the object path of the API reference the entry belongs to; context: the package's
    # name and summary (search.search_context). Rows are only ever inserted and deleted (the
    # triggers below rely on it).
    "search_entries": """(
        id INTEGER PRIMARY KEY,
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        origin TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        text TEXT NOT NULL,
        context TEXT NOT NULL
    )""",
}
TABLES = (
    *(f"CREATE TABLE IF NOT EXISTS {table} {columns}" for table, columns in _COLUMNS.items()),
    "CREATE INDEX IF NOT EXISTS search_entries_by_owner ON search_entries (index_key, name, version, origin)",
)


def _full_text(index: str, table: str) -> tuple[str, ...]:
    """An FTS5 index over ``table``'s (path, text, context) columns, kept in step by triggers
    (external content: the text is stored once, in the table). Both names are this module's constants."""
    return (
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {index} USING fts5(
        path, text, context, content = '{table}', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    )""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_indexed AFTER INSERT ON {table} BEGIN
        INSERT INTO {index} (rowid, path, text, context) VALUES (new.id, new.path, new.text, new.context);
    END""",  # noqa: S608
        f"""CREATE TRIGGER IF NOT EXISTS {table}_unindexed AFTER DELETE ON {table} BEGIN
        INSERT INTO {index} ({index}, rowid, path, text, context)
        VALUES ('delete', old.id, old.path, old.text, old.context);
    END""",  # noqa: S608
    )


#: The FTS5 index over search_entries.
FULL_TEXT = _full_text("search_fts", "search_entries")
#: Schema 4, docs sets (:mod:`autodocs.cache.sqlite_docsets`): created by a step of their own in migrate.
DOCSET_TABLES = (
    """CREATE TABLE IF NOT EXISTS docsets (
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        flavour TEXT NOT NULL,
        pages TEXT NOT NULL,
        toc TEXT NOT NULL,
        warnings TEXT NOT NULL,
        missing_reason TEXT NOT NULL,
        created_at REAL NOT NULL,
        last_used REAL NOT NULL,
        PRIMARY KEY (index_key, name, version)
    )""",
    """CREATE TABLE IF NOT EXISTS docset_sections (
        id INTEGER PRIMARY KEY,
        index_key TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        page INTEGER NOT NULL,
        page_path TEXT NOT NULL,
        page_title TEXT NOT NULL,
        position INTEGER NOT NULL,
        path TEXT NOT NULL,
        heading_path TEXT NOT NULL,
        blocks TEXT NOT NULL,
        text TEXT NOT NULL,
        context TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS docset_sections_by_owner ON docset_sections (index_key, name, version, page, position)",
)
DOCSET_FULL_TEXT = _full_text("docset_fts", "docset_sections")
#: The rows matching the FTS5 expression :required, best first by :ranked (see fts5_passes),
#: optionally only in the (name, version) pairs of the JSON array :scope, and only of :index. bm25 weighs the
#: columns (path, text, context) 3 : 1 : 1 — a word in a title counts three times; bm25 is
#: lower for better matches. The snippet is cut from the text column.
SEARCH = (
    "SELECT e.index_key, e.name, e.version, e.kind, e.path, snippet(search_fts, 1, '«', '»', '…', 32),"
    " bm25(search_fts, 3.0, 1.0, 1.0) AS relevance"
    " FROM search_fts JOIN search_entries AS e ON e.id = search_fts.rowid"
    " WHERE search_fts MATCH :ranked"
    " AND search_fts.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :required)"
    " AND (:index IS NULL OR e.index_key = :index)"
    " AND (:scope IS NULL OR (e.name, e.version) IN"
    " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:scope)))"
    " ORDER BY relevance, e.id LIMIT :limit"
)
#: A version's API entries, by the owner index (never the full-text index).
#: A release list stored, or replaced by a newer one.
PUT_RELEASE_LIST = (
    "INSERT INTO release_lists (index_key, name, body, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT"
    " (index_key, name) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at"
)
API_ENTRIES = (
    "SELECT path, text FROM search_entries WHERE index_key = ? AND name = ? AND version = ?"
    " AND origin <> '' AND kind = 'api' ORDER BY id"
)
#: Documents that prune drops: unused since the cutoff, or beyond the versions kept per package
#: of each index.
PRUNED_DOCUMENTS = (
    "SELECT index_key, name, version FROM documents WHERE last_used < ? OR rowid IN (SELECT rowid FROM ("
    " SELECT rowid, ROW_NUMBER() OVER (PARTITION BY index_key, name"
    " ORDER BY last_used DESC, created_at DESC, version DESC) AS rank FROM documents"
    ") WHERE rank > ?)"
)
#: What clear removes: every table's rows (of one name), the index last.
CLEAR_ALL = (
    "DELETE FROM documents",
    "DELETE FROM release_lists",
    "DELETE FROM api_references",
    "DELETE FROM docsets",
    "DELETE FROM docset_sections",
    "DELETE FROM search_entries",
)
CLEAR_ONE = (
    "DELETE FROM documents WHERE name = ?",
    "DELETE FROM release_lists WHERE name = ?",
    "DELETE FROM api_references WHERE name = ?",
    "DELETE FROM docsets WHERE name = ?",
    "DELETE FROM docset_sections WHERE name = ?",
    "DELETE FROM search_entries WHERE name = ?",
)
#: The last statements of CLEAR_ALL/CLEAR_ONE remove index rows, not entries: not counted.
CLEAR_INDEX_STATEMENTS = 2
#: Documents without index rows (stored before search existed, or by an older AutoDocs since).
UNINDEXED_DOCUMENTS = (
    "SELECT index_key, name, version FROM documents AS d WHERE NOT EXISTS (SELECT 1 FROM search_entries AS e"
    " WHERE e.index_key = d.index_key AND e.name = d.name AND e.version = d.version AND e.origin = '')"
    " ORDER BY index_key, name, version"
)
#: Index rows whose document or API reference is gone.
ORPHANED_ENTRIES = (
    "DELETE FROM search_entries WHERE origin = '' AND NOT EXISTS (SELECT 1 FROM documents AS d"
    " WHERE d.index_key = search_entries.index_key AND d.name = search_entries.name"
    " AND d.version = search_entries.version)",
    "DELETE FROM search_entries WHERE origin <> '' AND NOT EXISTS (SELECT 1 FROM api_references AS a"
    " WHERE a.index_key = search_entries.index_key AND a.name = search_entries.name"
    " AND a.version = search_entries.version AND a.object_path = search_entries.origin)",
)
#: One page of entries after an (index key, name, sort key) position; a release list's sort key
#: is '', before every version; a docs set's is its version and " docs set" (a version has no space),
#: right after its document. Each branch pages its own table along its primary key; the outer
#: query merges. The first page starts after ('', '', ''): keys, names and versions are never empty.
LIST_PAGE = (
    "SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, version AS sort_key, last_used FROM documents"
    " WHERE (index_key, name, version) > (:index, :name, :key) ORDER BY index_key, name, version LIMIT :limit)"
    " UNION ALL SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, '' AS sort_key, fetched_at AS last_used FROM release_lists"
    " WHERE (index_key, name) > (:index, :name) ORDER BY index_key, name LIMIT :limit)"
    " UNION ALL SELECT index_key, name, sort_key, last_used FROM ("
    " SELECT index_key, name, version || ' docs set' AS sort_key, last_used FROM docsets"
    " WHERE missing_reason = '' AND (index_key, name) >= (:index, :name)"
    " AND (index_key, name, version || ' docs set') > (:index, :name, :key)"
    " ORDER BY index_key, name, version LIMIT :limit)"
    " ORDER BY index_key, name, sort_key LIMIT :limit"
)
#: Entries per index key (documents, release lists, API references, docs sets), along each primary key.
INDEX_COUNTS = (
    "SELECT index_key, SUM(entries) FROM ("
    " SELECT index_key, COUNT(*) AS entries FROM documents GROUP BY index_key"
    " UNION ALL SELECT index_key, COUNT(*) FROM release_lists GROUP BY index_key"
    " UNION ALL SELECT index_key, COUNT(*) FROM api_references GROUP BY index_key"
    " UNION ALL SELECT index_key, COUNT(*) FROM docsets WHERE missing_reason = '' GROUP BY index_key"
    ") GROUP BY index_key ORDER BY index_key"
)
#: After the documents: drop the docs sets whose release's document (of their index) is gone, or
#: unused since the cutoff; then the sections left without their docs set.
PRUNED_DOCSETS = (
    "DELETE FROM docsets WHERE last_used < ? OR NOT EXISTS (SELECT 1 FROM documents AS o"
    " WHERE o.index_key = docsets.index_key AND o.name = docsets.name AND o.version = docsets.version)",
    "DELETE FROM docset_sections WHERE NOT EXISTS (SELECT 1 FROM docsets AS d WHERE d.index_key ="
    " docset_sections.index_key AND d.name = docset_sections.name AND d.version = docset_sections.version)",
)


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (the connection is in autocommit mode, so ``with db`` is not one).

    ``BEGIN IMMEDIATE`` takes the write lock at once, so two processes never both read, then
    both write, the same rows; another process waits for it up to the busy timeout.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def replace_entries(
    db: sqlite3.Connection,
    owner: tuple[str, str, str],
    origin: str,
    context: str,
    rows: list[tuple[str, str, str]],
) -> None:
    """Replace the index rows of one document (origin '') or one API reference; ``owner`` is
    its (index key, name, version)."""
    db.execute(
        "DELETE FROM search_entries WHERE index_key = ? AND name = ? AND version = ? AND origin = ?", (*owner, origin)
    )
    db.executemany(
        "INSERT INTO search_entries (index_key, name, version, origin, kind, path, text, context)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*owner, origin, kind, path, text, context) for kind, path, text in rows],
    )


def index_unindexed_documents(db: sqlite3.Connection) -> int:
    """Index the stored documents that have no index rows; returns how many were indexed.

    That is every document of a file from before search existed, and any that an older
    AutoDocs sharing the file stored since. A body that no longer parses stays unindexed:
    reading it is a miss, and the document fetched in its place is indexed when stored.
    """
    indexed = 0
    for index_key, name, version in db.execute(UNINDEXED_DOCUMENTS).fetchall():
        owner = (str(index_key), str(name), str(version))
        row = db.execute("SELECT body FROM documents WHERE index_key = ? AND name = ? AND version = ?", owner)
        try:
            document = PackageDocument.model_validate_json(row.fetchone()[0])
        except ValueError:
            log.warning("cache.unreadable_entry", name=name, version=version)
            continue
        context = search_context(str(name), document.summary)
        replace_entries(db, owner, "", context, indexed_rows(document_entries(document)))
        indexed += 1
    return indexed


def key_entries(db: sqlite3.Connection) -> int:
    """Rebuild each table of a file from before index keys with the key in its primary key, its
    rows filed under the default configuration's index (:data:`DEFAULT_INDEX_KEY`); returns the
    rows moved. SQLite cannot change a primary key in place, so each table is made anew, filled,
    and put in the old one's place (SQLite's own recipe for such changes); the caller's
    transaction makes it all or nothing. Search rows keep their ids, so the full-text index
    over them stays valid; its triggers, dropped with the old table, are made again after."""
    moved = 0
    for table, columns in _COLUMNS.items():
        present = [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")]
        if not present or "index_key" in present:
            continue  # not made yet (made keyed later), or keyed already
        names = ", ".join(present)
        db.execute(f"CREATE TABLE {table}_keyed {columns}")
        copied = db.execute(
            f"INSERT INTO {table}_keyed (index_key, {names}) SELECT ?, {names} FROM {table}",  # noqa: S608
            (DEFAULT_INDEX_KEY,),
        )
        moved += copied.rowcount
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_keyed RENAME TO {table}")
    return moved


def prune(db: sqlite3.Connection, cutoff: float, max_versions: int) -> int:
    """Drop what :meth:`~autodocs.cache.base.Store.prune` drops, in one transaction; the rows removed."""
    with transaction(db):
        doomed = db.execute(PRUNED_DOCUMENTS, (cutoff, max_versions)).fetchall()
        where = "WHERE index_key = ? AND name = ? AND version = ?"
        removed = db.executemany(f"DELETE FROM documents {where}", doomed).rowcount  # noqa: S608
        # An API reference goes with its version's document, or on its own when unused.
        removed += db.executemany(f"DELETE FROM api_references {where}", doomed).rowcount  # noqa: S608
        removed += db.execute("DELETE FROM api_references WHERE last_used < ?", (cutoff,)).rowcount
        removed += db.execute("DELETE FROM release_lists WHERE fetched_at < ?", (cutoff,)).rowcount
        removed += db.execute(PRUNED_DOCSETS[0], (cutoff,)).rowcount
        db.execute(PRUNED_DOCSETS[1])
        for statement in ORPHANED_ENTRIES:
            db.execute(statement)
        index_unindexed_documents(db)
    return int(removed)


@dataclasses.dataclass(frozen=True)
class EntryCounts:
    """What the file holds, counted for :meth:`~autodocs.cache.base.Store.stats`."""

    packages: int = 0
    documents: int = 0
    release_lists: int = 0
    api_references: int = 0
    docsets: int = 0
    indexes: dict[str, int] = dataclasses.field(default_factory=dict)


def count_entries(db: sqlite3.Connection) -> EntryCounts:
    def count(statement: str) -> int:
        return int(db.execute(statement).fetchone()[0])

    return EntryCounts(
        packages=count(
            "SELECT COUNT(*) FROM (SELECT name FROM documents UNION SELECT name FROM release_lists"
            " UNION SELECT name FROM api_references UNION SELECT name FROM docsets)"
        ),
        documents=count("SELECT COUNT(*) FROM documents"),
        release_lists=count("SELECT COUNT(*) FROM release_lists"),
        api_references=count("SELECT COUNT(*) FROM api_references"),
        docsets=count("SELECT COUNT(*) FROM docsets WHERE missing_reason = ''"),
        indexes={str(key): int(entries) for key, entries in db.execute(INDEX_COUNTS)},
    )


def fts5_passes(terms: tuple[str, ...]) -> list[tuple[str, str]]:
    """(required, ranked) FTS5 expressions: first rows whose title or text has every word,
    then (if none has them all) rows whose title or text has any.

    Ranking is bm25 over every word and every pair of neighbouring words as a phrase, in all
    three columns: "connection pooling" side by side counts more than the two words far apart,
    and a package whose name or summary has the words lifts its sections. The context column
    only ranks; a row is found by its own title or text. Each word and pair is a quoted string,
    so nothing in it is read as FTS5 syntax (a column filter, NEAR, ``*``, ``-``, AND/OR/NOT);
    words hold only letters and digits, and a quote would be doubled all the same.
    """
    words = [_fts5_string(term) for term in terms]
    pairs = [_fts5_string(f"{first} {second}") for first, second in itertools.pairwise(terms)]
    ranked = " OR ".join(words + pairs)
    every = ("{path text} : (" + " AND ".join(words) + ")", ranked)
    either = ("{path text} : (" + " OR ".join(words) + ")", ranked)
    return [every, either] if len(words) > 1 else [every]


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@functools.cache
def fts5_available() -> bool:
    """Whether this Python's SQLite has the FTS5 extension (nearly every build does)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


def migrate(db: sqlite3.Connection, path: Path) -> bool:
    """Create what is missing and bring a file of an older schema up to this one; whether the
    full-text index exists (False when this Python's SQLite has no FTS5)."""
    with transaction(db):
        found = int(db.execute("PRAGMA user_version").fetchone()[0])
        if found < 3:
            moved = key_entries(db)
            if moved:
                log.info("cache.entries_keyed", path=str(path), rows=moved, index=DEFAULT_INDEX_KEY)
        for statement in TABLES:
            db.execute(statement)
        full_text = fts5_available()
        if full_text:
            index_existed = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'").fetchone()
            for statement in FULL_TEXT:
                db.execute(statement)
            if index_existed is None:  # index what a process without FTS5 stored
                db.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
        else:
            log.warning("cache.full_text_unavailable", path=str(path), sqlite=sqlite3.sqlite_version)
        _migrate_docsets(db, full_text)
        if found < 2:
            indexed = index_unindexed_documents(db)
            if indexed:
                log.info("cache.search_index_backfilled", path=str(path), documents=indexed)
        if found < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif found > SCHEMA_VERSION:
            log.warning("cache.schema_newer_than_code", path=str(path), database=found, code=SCHEMA_VERSION)
    return full_text


def _migrate_docsets(db: sqlite3.Connection, full_text: bool) -> None:
    """Schema 4 (a step of its own, after the index keys): the docs-set tables, keyed by index
    from the start, and their full-text index (rebuilt when a process without FTS5 made the tables)."""
    for statement in DOCSET_TABLES:
        db.execute(statement)
    if full_text:
        index_existed = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'docset_fts'").fetchone()
        for statement in DOCSET_FULL_TEXT:
            db.execute(statement)
        if index_existed is None:
            db.execute("INSERT INTO docset_fts (docset_fts) VALUES ('rebuild')")
