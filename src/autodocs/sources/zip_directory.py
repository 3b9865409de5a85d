"""How many entries a zip archive holds, from its end records alone — before any entry is parsed.

Why a reader of our own: :class:`zipfile.ZipFile` parses the whole central directory when it
opens an archive, building one ``ZipInfo`` per entry (about 500 bytes each). A wheel of a few
dozen megabytes can hold hundreds of thousands of empty entries, so "open, then count" costs
hundreds of megabytes before the count can refuse it. The standard library reads the end
records only through private helpers, and the zip libraries we looked at either wrap
:mod:`zipfile` or stream local headers (ignoring the central directory, which is what we must
bound). The format's end records are small and fixed (APPNOTE.TXT 4.3.14-4.3.16), so this module
reads them itself: the last 64 KiB + 22 bytes of the file, nothing else except the 56-byte ZIP64
record when the archive has one.

:class:`zipfile.ZipFile` walks the central directory by its *size*, not by the entry count the
end record states, so both are bounded: a caller refuses an archive whose stated count or whose
directory size could hold more entries than it allows (:meth:`ZipDirectory.could_hold_more_than`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ZipDirectory", "read_zip_directory"]

_END = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes + comment
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, right before the end record
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF
#: A central directory entry is 46 bytes before its file name, extra field and comment.
MIN_ENTRY_BYTES = 46
#: Room per entry for a long path plus extra fields; a directory larger than this per allowed
#: entry holds more entries than allowed, whatever count the end record states.
MAX_ENTRY_BYTES = 512


@dataclass(frozen=True, slots=True)
class ZipDirectory:
    """What the end records say about the central directory."""

    entries: int
    size: int
    offset: int

    def could_hold_more_than(self, limit: int) -> bool:
        """True when the stated count, or the directory's size, is above ``limit`` entries."""
        return self.entries > limit or self.size > limit * MAX_ENTRY_BYTES


def read_zip_directory(path: Path) -> ZipDirectory | None:
    """The central directory's entry count, size and offset, or None if ``path`` has no end record.

    Reads at most 64 KiB + 98 bytes whatever the archive's size; never parses an entry.
    """
    with path.open("rb") as stream:
        stream.seek(0, 2)
        file_size = stream.tell()
        tail_size = min(file_size, _END.size + _MAX_COMMENT)
        stream.seek(file_size - tail_size)
        tail = stream.read(tail_size)
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or at + _END.size > len(tail):
            return None
        _, _, _, _, entries, size, offset, _ = _END.unpack_from(tail, at)
        locator_at = at - _ZIP64_LOCATOR.size
        if locator_at >= 0 and tail[locator_at : locator_at + 4] == _ZIP64_LOCATOR_SIGNATURE:
            _, _, zip64_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, locator_at)
            if zip64_offset + _ZIP64_END.size > file_size:
                return None
            stream.seek(zip64_offset)
            record = stream.read(_ZIP64_END.size)
            if len(record) < _ZIP64_END.size or record[:4] != _ZIP64_END_SIGNATURE:
                return None
            _, _, _, _, _, _, _, entries, size, offset = _ZIP64_END.unpack(record)
    return ZipDirectory(entries=entries, size=size, offset=offset)
