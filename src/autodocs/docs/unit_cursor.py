"""The cursor of a page cut from a release's README, docs pages and API entries together.

Like :class:`autodocs.docs.budget.Cursor` (tag 2), with the tag 3 and the number of units of
each origin the first page ranked (README, docs, API): a later page rebuilds the same list even
when the docs set was still being built then, or more API entries were cached since. The units
delivered are written as runs of indices (``[[start, end], ...]``), not a bit mask: a docs set has
thousands of units, and a query delivers a few dozen of them, scattered.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from autodocs.errors import InvalidArgument

__all__ = ["UnitCursor", "decode_unit_cursor", "encode_unit_cursor"]

_TAG = 3
_README_TAG = 2
_MAX_CURSOR_LENGTH = 20_000


@dataclass(frozen=True, slots=True)
class UnitCursor:
    """Where paging stands: which units were delivered, and the unit cut mid-way (if any)."""

    name: str
    version: str
    query: str | None
    sections: tuple[str, ...]
    counts: tuple[int, int, int]  # units of the README, the docs set, the API reference
    delivered: frozenset[int] = frozenset()
    #: (unit index, block index, characters of that block already delivered)
    partial: tuple[int, int, int] | None = None


def encode_unit_cursor(cursor: UnitCursor) -> str:
    raw = json.dumps(
        [
            _TAG,
            cursor.name,
            cursor.version,
            cursor.query,
            list(cursor.sections),
            list(cursor.counts),
            _runs(cursor.delivered),
            list(cursor.partial) if cursor.partial else None,
        ],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_unit_cursor(text: str) -> UnitCursor | None:
    """The cursor in ``text``; None when it is a README page's cursor (tag 2, for
    :func:`autodocs.docs.budget.decode_cursor`); :class:`InvalidArgument` when it is neither."""
    try:
        if len(text) > _MAX_CURSOR_LENGTH:
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()))
        if isinstance(data, list) and data and data[0] == _README_TAG:
            return None
        tag, name, version, query, sections, counts, runs, partial = data
        if tag != _TAG or not isinstance(name, str) or not isinstance(version, str):
            raise ValueError
        if query is not None and not isinstance(query, str):
            raise ValueError
        if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
            raise ValueError
        if not _naturals(counts, 3) or (partial is not None and not _naturals(partial, 3)):
            raise ValueError
        if not isinstance(runs, list) or not all(_naturals(run, 2) and run[0] < run[1] for run in runs):
            raise ValueError
        if sum(end - start for start, end in runs) > sum(counts):
            raise ValueError
        delivered = frozenset(index for start, end in runs for index in range(start, end))
        return UnitCursor(
            name,
            version,
            query,
            tuple(sections),
            (counts[0], counts[1], counts[2]),
            delivered,
            (partial[0], partial[1], partial[2]) if partial is not None else None,
        )
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidArgument(
            "The cursor is not one AutoDocs issued (or it was altered).",
            suggestions=["Pass next_cursor exactly as a previous reply gave it, or call without a cursor."],
        ) from None


def _naturals(value: object, length: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value)
    )


def _runs(indices: frozenset[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in sorted(indices):
        if runs and runs[-1][1] == index:
            runs[-1][1] = index + 1
        else:
            runs.append([index, index + 1])
    return runs
