"""Line edits shared by the markup readers: what replaces which line, and cutting spans out."""

from __future__ import annotations

__all__ = ["Edits", "cut", "replace_lines"]

#: Line index → its new text, or None to drop the line.
Edits = dict[int, str | None]


def cut(text: str, spans: list[tuple[int, int]]) -> str | None:
    """``text`` without ``spans`` (each with the spaces after it when it starts a word);
    None when nothing but whitespace (or a line-block bar) is left."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            continue
        before = text[position:start]
        if start == 0 or text[start - 1] in " \t\n":
            while end < len(text) and text[end] in " \t":
                end += 1
        if end == len(text) or text[end] == "\n":
            before = before.rstrip(" \t")  # no trailing space where the badge ended the line
        pieces.append(before)
        position = end
    pieces.append(text[position:])
    result = "".join(pieces)
    if result.strip() in ("", "|"):
        return None
    return result


def replace_lines(edits: Edits, start: int, end: int, new: str | None, lines: list[str]) -> None:
    """Lines ``start:end`` become ``new``'s non-blank lines (None: nothing); unchanged when
    ``new`` is their text."""
    if new is not None and new == "\n".join(lines[start:end]):
        return
    kept = [line for line in new.split("\n") if line.strip() not in ("", "|")] if new is not None else []
    for offset in range(end - start):
        edits[start + offset] = kept[offset] if offset < len(kept) else None
