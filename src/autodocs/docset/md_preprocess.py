"""What MkDocs' preprocessors do before Markdown is parsed: snippets and mkdocstrings blocks.

``pymdownx.snippets`` is itself a line preprocessor (it runs before the Markdown parser, inside
code fences too), so expanding ``--8<-- "file"`` line by line is what it does, not a second parser:
single lines, the block form between two ``--8<--`` lines, line ranges ``file.py:3:8`` and named
sections (``--8<-- [start:name]`` … ``[end:name]``); ``;--8<--`` is an escaped line. The
``markdown-include`` extension's ``{!path!}`` lines and FastAPI's ``{* path … *}`` code-file lines
are expanded the same way (the latter as a fenced code block). Files are read
through the confined ``DocsFolder`` (from the project root, the docs folder, then the page's folder
and each of its parents, since mkdocs may run from any of them), nested snippets are bounded in depth and total size.

mkdocstrings' ``::: package.object`` lines (and their indented YAML options) become an HTML comment
``<!-- autodocs-api package.object -->`` the Markdown reader turns into an API placeholder; lines
inside code fences are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from autodocs.docset.files import DocsFolder
from autodocs.docset.rst_include import language_for

__all__ = ["API_COMMENT", "Preprocessed", "preprocess_markdown"]

API_COMMENT = re.compile(r"^<!-- autodocs-api ([\w.]+) -->\s*$")
_SNIPPET_LINE = re.compile(
    r"""^(?P<indent>\s*)(?P<escape>;?)-{1,}8<-{1,}\s+(?P<quote>["'])(?P<spec>[^"'\n]+)(?P=quote)\s*$"""
)
_SNIPPET_FENCE = re.compile(r"^\s*-{1,}8<-{1,}\s*$")
_SNIPPET_SECTION = re.compile(r"-{1,}8<-{1,}\s*\[(?:start|end):[\w-]+\]")
_MARKDOWN_INCLUDE = re.compile(r"^(?P<indent>\s*)\{!>?\s*(?P<spec>[^\s!]+)\s*!\}\s*$")
_CODE_FILE = re.compile(r"^(?P<indent>\s*)\{\*\s*(?P<spec>[^\s*]+)[^}]*\*\}\s*$")
_MKDOCSTRINGS = re.compile(r"^(?P<indent>\s*):::\s+(?P<path>[A-Za-z_][\w.]*)\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
MAX_SNIPPET_DEPTH = 4
MAX_EXPANDED_CHARS = 4_000_000


@dataclass(slots=True)
class Preprocessed:
    text: str
    warnings: list[str] = field(default_factory=list)


def preprocess_markdown(folder: DocsFolder, path: str, text: str, *, docs_dir: str = "docs") -> Preprocessed:
    """``text`` with snippets expanded and mkdocstrings lines marked; never raises."""
    result = Preprocessed("")
    lines = _expand_snippets(folder, path, text.splitlines(), docs_dir, result.warnings, depth=0, budget=[0])
    result.text = "\n".join(_mark_mkdocstrings(lines)) + "\n"
    return result


def _expand_snippets(
    folder: DocsFolder, path: str, lines: list[str], docs_dir: str, warnings: list[str], depth: int, budget: list[int]
) -> list[str]:
    out: list[str] = []
    block: list[str] | None = None
    for line in lines:
        if block is not None:
            if _SNIPPET_FENCE.match(line):
                for spec in block:
                    out.extend(_snippet(folder, path, spec.strip(), "", docs_dir, warnings, depth, budget))
                block = None
            elif line.strip():
                block.append(line)
            continue
        if _SNIPPET_FENCE.match(line):
            block = []
            continue
        included = _MARKDOWN_INCLUDE.match(line)
        code_file = _CODE_FILE.match(line)
        match = _SNIPPET_LINE.match(line)
        if included is not None:
            out.extend(_snippet(folder, path, included["spec"], included["indent"], docs_dir, warnings, depth, budget))
        elif code_file is not None:
            indent = code_file["indent"]
            lines = _snippet(folder, path, code_file["spec"], indent, docs_dir, warnings, depth, budget)
            fence = f"{indent}```{language_for(code_file['spec'])}"
            out.extend([fence, *lines, f"{indent}```"] if lines else [])
        elif match is None:
            if not _SNIPPET_SECTION.search(line):
                out.append(line)
        elif match["escape"]:
            out.append(line.replace(";", "", 1))
        else:
            out.extend(_snippet(folder, path, match["spec"], match["indent"], docs_dir, warnings, depth, budget))
    return out


def _snippet(
    folder: DocsFolder,
    path: str,
    spec: str,
    indent: str,
    docs_dir: str,
    warnings: list[str],
    depth: int,
    budget: list[int],
) -> list[str]:
    if depth >= MAX_SNIPPET_DEPTH:
        _warn(warnings, f"{path}: snippets nest deeper than {MAX_SNIPPET_DEPTH} levels (recursive?); stopped")
        return []
    name, section, start, end = _parse_spec(spec)
    read = None
    page_folder = PurePosixPath(path).parent
    bases = dict.fromkeys(["", docs_dir, *(p.as_posix() for p in (page_folder, *page_folder.parents))])
    for base in bases:
        read = folder.read(name, relative_to=f"{base}/_" if base not in ("", ".") else "_")
        if read.text is not None:
            break
    if read is None or read.text is None:
        _warn(warnings, f"{path}: snippet {name!r}: {read.warning if read else 'not found'}")
        return []
    budget[0] += len(read.text)
    if budget[0] > MAX_EXPANDED_CHARS:
        _warn(warnings, f"{path}: snippets expand past {MAX_EXPANDED_CHARS} characters; the rest was skipped")
        return []
    lines = read.text.splitlines()
    if section:
        lines = _section(lines, section)
    elif start is not None or end is not None:
        lines = lines[(start or 1) - 1 : end]
    expanded = _expand_snippets(folder, read.path, lines, docs_dir, warnings, depth + 1, budget)
    return [indent + line if line else line for line in expanded]


def _parse_spec(spec: str) -> tuple[str, str, int | None, int | None]:
    """``file.md``, ``file.py:3:8``, ``file.py:name`` → (file, section, start, end)."""
    parts = spec.split(":")
    name = parts[0]
    rest = parts[1:]
    if len(rest) == 1 and rest[0] and not rest[0].lstrip("-").isdigit():
        return name, rest[0], None, None
    numbers = [int(p) if p.lstrip("-").isdigit() else None for p in rest[:2]]
    start = numbers[0] if numbers else None
    end = numbers[1] if len(numbers) > 1 else None
    return name, "", start, end


def _section(lines: list[str], name: str) -> list[str]:
    start = re.compile(rf"-{{1,}}8<-{{1,}}\s*\[start:{re.escape(name)}\]")
    end = re.compile(rf"-{{1,}}8<-{{1,}}\s*\[end:{re.escape(name)}\]")
    inside, kept = False, []
    for line in lines:
        if start.search(line):
            inside = True
        elif end.search(line):
            inside = False
        elif inside:
            kept.append(line)
    return kept


def _mark_mkdocstrings(lines: list[str]) -> list[str]:
    out: list[str] = []
    fence = ""
    in_options = False
    for line in lines:
        opening = _FENCE.match(line)
        if fence:
            if (
                opening
                and opening[1][0] == fence[0]
                and len(opening[1]) >= len(fence)
                and not line.strip()[len(fence) :]
            ):
                fence = ""
            out.append(line)
            continue
        if in_options:
            if line.startswith((" ", "\t")) and line.strip():
                continue
            in_options = False
        if opening:
            fence = opening[1]
            out.append(line)
            continue
        match = _MKDOCSTRINGS.match(line)
        if match:
            out.extend(["", f"<!-- autodocs-api {match['path']} -->", ""])
            in_options = True
            continue
        out.append(line)
    return out


def _warn(warnings: list[str], message: str) -> None:
    if message not in warnings and len(warnings) < 50:
        warnings.append(message)
