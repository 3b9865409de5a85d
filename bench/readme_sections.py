"""CPU time to read every recorded README as a document build does: badges cut out, then sections.

main's hand-written section readers vs the parser-based ones, each with the badge step as its
``build_document`` runs it (main: ``strip_badges`` then ``split_document``; this tree: a Markdown
README's badges and headings from one markdown-it-py parse, ``split_markdown``).

The old readers are main's ``src/autodocs/docs/sections.py`` (``git show main:...``) loaded into a
temporary module; the new ones are this tree's ``autodocs.docs.sections``. Both section the 123
recorded descriptions of ``tests/data/index/projects`` (``split_document`` with each one's content
type) in the same run, interleaved, ROUNDS times; the figures are the median CPU time
(``time.process_time``) of one pass over all READMEs, per reader, and their ratio. The headings of
both are compared too (titles and levels), so a faster reader that finds other sections shows.

Goal: as small as it gets; the figures users feel are the cold benches (bench/cold_context.py,
bench/stdio_latency.py). Run: python bench/readme_sections.py [git-ref, default main]
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from autodocs.docs import sections  # noqa: E402
from autodocs.docs.badges import strip_badges  # noqa: E402

ROUNDS = 15


def old_readers(ref: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{ref}:src/autodocs/docs/sections.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("old_sections", handle.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_sections"] = module
    spec.loader.exec_module(module)
    Path(handle.name).unlink()
    return module


def readmes() -> list[tuple[str, str | None]]:
    out = []
    for path in sorted((ROOT / "tests" / "data" / "index" / "projects").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))["info"]
        out.append((info.get("description") or "", info.get("description_content_type")))
    return out


def one_pass(split: Callable[[str, str | None], Any], docs: list[tuple[str, str | None]]) -> float:
    start = time.process_time()
    for text, content_type in docs:
        split(text, content_type)
    return time.process_time() - start


_CONTENT_TYPES = {"markdown": "text/markdown", "rst": "text/x-rst", "text": "text/plain"}


def old_read(old: ModuleType) -> Callable[[str, str | None], Any]:
    def read(text: str, content_type: str | None) -> Any:
        markup = old.detect_format(text, content_type)
        return old.split_document(strip_badges(text, markup), _CONTENT_TYPES[markup])

    return read


def new_read(text: str, content_type: str | None) -> Any:
    markup = sections.detect_format(text, content_type)
    if markup == "markdown":
        return markup, sections.split_markdown(text)
    return sections.split_document(strip_badges(text, markup), _CONTENT_TYPES[markup])


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else "main"
    old = old_readers(ref)
    docs = readmes()
    differ = 0
    for text, content_type in docs:
        a_fmt, a = old_read(old)(text, content_type)
        b_fmt, b = new_read(text, content_type)
        differ += (a_fmt, [(s.title, s.level) for s in a]) != (b_fmt, [(s.title, s.level) for s in b])
    groups: dict[str, list[tuple[str, str | None]]] = {"all": docs}
    for text, content_type in docs:
        kind = sections.detect_format(text, content_type) + ("" if content_type else " (no content type)")
        groups.setdefault(kind, []).append((text, content_type))
    print(f"{len(docs)} recorded READMEs; headings differ from {ref}'s readers on {differ}")
    print(f"{'group':<26}{'n':>4}{'old ms':>9}{'new ms':>9}{'ratio':>7}")
    for name, group in groups.items():
        old_times, new_times = [], []
        for _ in range(ROUNDS):
            old_times.append(one_pass(old_read(old), group))
            new_times.append(one_pass(new_read, group))
        old_ms, new_ms = statistics.median(old_times) * 1000, statistics.median(new_times) * 1000
        print(f"{name:<26}{len(group):>4}{old_ms:>9.1f}{new_ms:>9.1f}{new_ms / old_ms:>7.2f}")


if __name__ == "__main__":
    main()
