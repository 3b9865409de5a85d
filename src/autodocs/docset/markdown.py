"""Reading one Markdown page: markdown-it-py (CommonMark) with the extensions docs actually use.

Parsed with tables, front matter, admonitions (``!!! note "Title"``, ``??? tip``), MyST colon
fences (``:::{note}``), and MyST directives in backtick fences (```` ```{note} ````), after the
preprocessors MkDocs runs first (``md_preprocess``: snippets, mkdocstrings ``::: path``).

Markdown is already what an assistant reads, so a block's text is its own source lines (the
parser says where each top-level block starts and ends): headings open sections, fences become
whole code blocks, admonitions become ``> **Note:** …`` quotes, MyST directives are read by name
(code, admonitions, ``toctree``, ``include``/``literalinclude`` through the confined folder,
``eval-rst`` through the reST reader, ``autoclass``/``autofunction``… as API placeholders) and an
unknown one keeps its argument and content, its options dropped.
"""

from __future__ import annotations

import re
import textwrap

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from autodocs.docset.files import DocsFolder
from autodocs.docset.md_preprocess import API_COMMENT, preprocess_markdown
from autodocs.docset.pages import Page, TocTreeEntry, api_block, code_block, text_block
from autodocs.docset.rst import read_rst
from autodocs.docset.rst_include import included_lines, language_for
from autodocs.docset.sections import SectionCollector

__all__ = ["read_markdown"]

_PARSER = MarkdownIt("commonmark").enable("table").use(front_matter_plugin).use(admon_plugin).use(colon_fence_plugin)
_MYST = re.compile(r"^\{([\w:.-]+)\}\s*(.*)$")
_HEADING_ATTRS = re.compile(r"\s*\{[#.][^}]*\}\s*$")
_OPTION = re.compile(r"^:[\w-]+:(?:\s.*)?$")
_ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "danger", "error", "attention", "seealso"}
_AUTODOC = re.compile(r"^(?:py:)?auto(?:function|class|module|method|attribute|data|exception|decorator|doc)$")
_CODE = {"code-block", "code", "sourcecode", "code-cell"}
MAX_PAGE_CHARS = 2_000_000
MAX_NESTING = 4


def read_markdown(folder: DocsFolder, path: str, text: str, *, docs_dir: str = "docs") -> Page:
    """The page at ``path`` (inside ``folder``) whose source is ``text``; raises only MemoryError."""
    reader = _Reader(folder, path, docs_dir)
    try:
        if len(text) > MAX_PAGE_CHARS:
            raise ValueError(f"the page has over {MAX_PAGE_CHARS} characters")
        prepared = preprocess_markdown(folder, path, text, docs_dir=docs_dir)
        reader.warnings.extend(prepared.warnings)
        reader.read(prepared.text, depth=0)
    except MemoryError:  # the caller skips the page (a worker names its memory bound)
        raise
    except Exception as exc:  # a parser bug on hostile text must cost one page, never the call
        reader.warnings.append(f"{path}: could not be parsed as Markdown ({exc.__class__.__name__}); kept as text")
        reader.collector = SectionCollector()
        reader.collector.add(code_block(text[:MAX_PAGE_CHARS], "markdown"))
    sections = reader.collector.finish()
    title = reader.front_title or next((s.heading_path[0] for s in sections if s.heading_path), "")
    return Page(path, title or _title_from_path(path), sections, tuple(reader.toctree), tuple(reader.warnings))


class _Reader:
    def __init__(self, folder: DocsFolder, path: str, docs_dir: str) -> None:
        self.folder, self.path, self.docs_dir = folder, path, docs_dir
        self.collector = SectionCollector()
        self.warnings: list[str] = []
        self.toctree: list[TocTreeEntry] = []
        self.front_title = ""

    def read(self, text: str, depth: int) -> None:
        lines = text.splitlines()
        tokens = _PARSER.parse(text)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            end = _closing(tokens, index)
            self._block(token, tokens[index : end + 1], lines, depth)
            index = end + 1

    def _block(self, token: Token, group: list[Token], lines: list[str], depth: int) -> None:
        source = "\n".join(lines[token.map[0] : token.map[1]]) if token.map else token.content
        if token.type == "front_matter":
            found = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", token.content, re.MULTILINE)
            self.front_title = found[1] if found and not self.front_title else self.front_title
        elif token.type == "heading_open":
            title = _HEADING_ATTRS.sub("", group[1].content if len(group) > 1 else "")
            self.collector.heading(title, int(token.tag[1:]) if token.tag[1:].isdigit() else 1)
        elif token.type in ("fence", "colon_fence"):
            self._fence(token, depth)
        elif token.type == "code_block":
            self.collector.add(code_block(textwrap.dedent(token.content)))
        elif token.type == "admonition_open":
            kind = str(token.meta.get("tag", "note"))
            body = textwrap.dedent("\n".join(lines[token.map[0] + 1 : token.map[1]])) if token.map else ""
            self.collector.add(text_block(_quoted(token.content or kind.capitalize(), body.strip())))
        elif token.type == "html_block" and API_COMMENT.match(token.content.strip()):
            match = API_COMMENT.match(token.content.strip())
            self.collector.add(api_block(match[1] if match else "", "mkdocstrings"))
        elif token.type == "html_block" and token.content.lstrip().startswith("<!--"):
            return
        else:
            self.collector.add(text_block(source.strip()))

    def _fence(self, token: Token, depth: int) -> None:
        info = token.info.strip()
        myst = _MYST.match(info)
        if myst is None:
            self.collector.add(code_block(token.content, info.split()[0] if info else ""))
            return
        name, argument = myst[1].lower(), myst[2].strip()
        options, body = _split_options(token.content)
        if name in _CODE:
            self.collector.add(code_block(body, argument.split()[0] if argument else ""))
        elif name in _ADMONITIONS or name == "admonition":
            label = argument if name == "admonition" else (argument or name.capitalize())
            self.collector.add(text_block(_quoted(label, body.strip())))
        elif _AUTODOC.match(name):
            self.collector.add(api_block(argument.split("(")[0].strip(), name))
        elif name == "toctree":
            self._toctree(body, glob="glob" in options)
        elif name in ("include", "literalinclude"):
            self._include(name, argument, options, depth)
        elif name in ("eval-rst", "eval_rst"):
            page = read_rst(self.folder, self.path, body)
            self.warnings.extend(page.warnings)
            for section in page.sections:
                for block in section.blocks:
                    self.collector.add(block)
        else:
            if argument:
                self.collector.add(text_block(f"**{argument}**"))
            if body.strip() and depth < MAX_NESTING:
                self.read(body, depth + 1)

    def _toctree(self, body: str, glob: bool) -> None:
        for line in body.splitlines():
            entry = line.strip()
            if not entry or "://" in entry:
                continue
            match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", entry)
            title, target = (match[1].strip(), match[2].strip()) if match else ("", entry)
            self.toctree.append(TocTreeEntry(target, title, glob and any(c in target for c in "*?[")))

    def _include(self, name: str, argument: str, options: dict[str, str], depth: int) -> None:
        read = self.folder.read(argument, relative_to=self.path)
        if read.text is None:
            self.warnings.append(f"{self.path}: {read.warning}")
            return
        lines = included_lines(read.text, dict(options))
        if name == "literalinclude":
            self.collector.add(code_block("\n".join(lines), options.get("language") or language_for(read.path)))
        elif depth >= MAX_NESTING:
            self.warnings.append(f"{self.path}: includes nest deeper than {MAX_NESTING} levels (recursive?); stopped")
        elif read.path.endswith(".rst"):
            for section in read_rst(self.folder, read.path, "\n".join(lines)).sections:
                for block in section.blocks:
                    self.collector.add(block)
        else:
            self.read("\n".join(lines), depth + 1)


def _closing(tokens: list[Token], index: int) -> int:
    """The index of the token that closes the block opened at ``index`` (itself if it opens none)."""
    if tokens[index].nesting != 1:
        return index
    depth = 0
    for position in range(index, len(tokens)):
        depth += tokens[position].nesting
        if depth == 0:
            return position
    return len(tokens) - 1


def _split_options(content: str) -> tuple[dict[str, str], str]:
    """MyST directive options (``:key: value`` lines or a ``---`` YAML block) apart from the body."""
    lines = content.splitlines()
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        return options, "\n".join(lines[end + 1 :])
    index = 0
    while index < len(lines) and _OPTION.match(lines[index].strip()):
        key, _, value = lines[index].strip()[1:].partition(":")
        options[key] = value.strip()
        index += 1
    return options, "\n".join(lines[index:])


def _quoted(label: str, body: str) -> str:
    text = f"**{label}:** {body}" if label else body
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _title_from_path(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or path
