"""The embedded SQLite store: persistence, atomic upserts, and recovery from a corrupt file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from autodocs.cache import SQLiteStore
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.index.models import Release, ReleaseList
from tests.cache.builders import INDEX


def document(name: str = "demo", version: str = "1.0", body: str = "hello") -> PackageDocument:
    return PackageDocument(
        name=name,
        version=version,
        summary="s",
        sections=[DocSection(title="Overview", anchor="overview", level=0, content=body, tokens=3)],
    )


async def test_documents_and_release_lists_round_trip_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    store = SQLiteStore(path)
    await store.open()
    await store.put_document(INDEX, document())
    releases = ReleaseList("demo", "1.0", (Release("1.0"), Release("0.9", yanked=True, yanked_reason="x")), time.time())
    await store.put_release_list(INDEX, releases)
    await store.close()

    reopened = SQLiteStore(path)
    await reopened.open()
    assert await reopened.get_document(INDEX, "demo", "1.0") == document()
    assert await reopened.get_release_list(INDEX, "demo") == releases
    assert await reopened.get_document(INDEX, "demo", "2.0") is None
    stats = await reopened.stats()
    assert (stats.documents, stats.release_lists, stats.packages, stats.hits, stats.misses) == (1, 1, 1, 1, 1)
    await reopened.close()


async def test_concurrent_writers_of_one_entry_leave_one_intact_row(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cache.db")
    await store.open()
    await asyncio.gather(*(store.put_document(INDEX, document(body="x" * 10_000)) for _ in range(50)))
    assert (await store.stats()).documents == 1
    assert await store.get_document(INDEX, "demo", "1.0") == document(body="x" * 10_000)
    await store.close()


async def test_a_file_that_is_not_a_database_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    path.write_bytes(b"this is not sqlite" * 100)
    store = SQLiteStore(path)
    await store.open()
    await store.put_document(INDEX, document())
    assert await store.get_document(INDEX, "demo", "1.0") is not None
    assert (await store.stats()).recovered_from_corruption == 1
    await store.close()
    moved = list(tmp_path.glob("cache.db.corrupt-*"))
    assert moved and moved[0].read_bytes().startswith(b"this is not sqlite")


async def test_a_damaged_database_page_is_detected_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    store = SQLiteStore(path)
    await store.open()
    for index in range(200):
        await store.put_document(INDEX, document(version=f"1.{index}", body="y" * 3000))
    await store.close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 3, min(len(data), 4096 * 40), 7):
        data[offset] = 0xFF
    path.write_bytes(bytes(data))

    recovered = SQLiteStore(path)
    await recovered.open()
    # Whatever is read is whole or a miss; nothing raises, and writes work.
    for index in range(0, 200, 17):
        got = await recovered.get_document(INDEX, "demo", f"1.{index}")
        assert got is None or got.sections[0].content == "y" * 3000
    await recovered.put_document(INDEX, document(version="9.9"))
    assert await recovered.get_document(INDEX, "demo", "9.9") is not None
    await recovered.close()


async def test_clear_one_package_keeps_the_others(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cache.db")
    await store.open()
    await store.put_document(INDEX, document("a"))
    await store.put_document(INDEX, document("b"))
    assert await store.clear("a") == 1
    assert await store.known_names() == ["b"]
    await store.close()


async def test_an_unwritable_cache_folder_is_a_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SQLiteStore(blocker / "sub" / "cache.db")
    try:
        await store.open()
    except Exception as exc:
        assert type(exc).__name__ == "CacheError"
    else:  # pragma: no cover
        raise AssertionError("expected CacheError")
    finally:
        await store.close()


async def test_state_of_a_few_packages_is_read_without_the_reader_thread(tmp_path: Path) -> None:
    """The read asked before every cold fetch runs on the event loop's thread: it answers
    while the reader thread is busy, and sees what another connection has just written."""
    store = SQLiteStore(tmp_path / "cache.db")
    await store.open()
    await store.put_document(INDEX, document("a", "1.0"))
    reader_busy = threading.Event()
    release_reader = threading.Event()

    def occupy() -> None:
        reader_busy.set()
        release_reader.wait(10)

    assert store._reader is not None
    occupied = asyncio.get_running_loop().run_in_executor(store._reader, occupy)
    try:
        await asyncio.to_thread(reader_busy.wait, 5)
        states = await asyncio.wait_for(store.cached_state(INDEX, ["a", "b"]), timeout=2)
        assert states["a"].versions == {"1.0"} and "b" not in states
        other = sqlite3.connect(tmp_path / "cache.db")
        other.execute("DELETE FROM documents WHERE name = 'a'")
        other.commit()
        other.close()
        assert "a" not in await asyncio.wait_for(store.cached_state(INDEX, ["a"]), timeout=2)
    finally:
        release_reader.set()
        await occupied
    await store.close()


async def test_a_file_broken_under_the_loop_read_is_handled_on_the_reader_thread(tmp_path: Path) -> None:
    """The loop's read of a file that has become garbage gives way to the reader thread, which
    moves the file aside as for any other read; the call reports nothing cached."""
    path = tmp_path / "cache.db"
    store = SQLiteStore(path)
    await store.open()
    await store.put_document(INDEX, document("a", "1.0"))
    checkpoint = sqlite3.connect(path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the document now lives in the main file
    checkpoint.close()
    size = path.stat().st_size
    with path.open("r+b") as damaged:
        damaged.write(b"garbage!" * (size // 8))
    assert await store.cached_state(INDEX, ["a"]) == {}
    assert store.recovered == 1
    await store.put_document(INDEX, document("a", "2.0"))
    assert (await store.cached_state(INDEX, ["a"]))["a"].versions == {"2.0"}
    await store.close()
