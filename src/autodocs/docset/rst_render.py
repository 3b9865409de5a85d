"""A docutils doctree as sections of Markdown-ish blocks (what an assistant reads best).

Sections become heading paths; paragraphs, lists, tables (pipe tables), admonitions (``> **Note:**``),
definition and field lists become text blocks; literal blocks become whole fenced code blocks; the
nodes ``rst_sphinx`` adds become toctree (nothing), version notes and API placeholders. Nodes no
reader needs (comments, targets, substitution definitions, system messages, raw HTML) are dropped,
and any node this module does not know shows its children, so nothing a parser produces is lost or
raises.
"""

from __future__ import annotations

from collections.abc import Iterator

from docutils import nodes

from autodocs.docset.pages import Block, api_block, code_block, text_block
from autodocs.docset.rst_sphinx import ApiNode, TocTreeNode, VersionNode
from autodocs.docset.sections import SectionCollector

__all__ = ["render_doctree"]

_DROPPED = (
    nodes.comment,
    nodes.target,
    nodes.substitution_definition,
    nodes.system_message,
    nodes.pending,
    nodes.transition,
    nodes.image,
    nodes.raw,
    TocTreeNode,
)
_MAX_DEPTH = 60


def render_doctree(document: nodes.document, collector: SectionCollector) -> None:
    """Add every section and block of ``document`` to ``collector``."""
    _walk(document, collector, level=0)


def _walk(node: nodes.Element, collector: SectionCollector, level: int) -> None:
    for child in node.children:
        if isinstance(child, nodes.section):
            title = next((c for c in child.children if isinstance(c, nodes.title)), None)
            collector.heading(_inline(title) if title is not None else "", level + 1)
            _walk(child, collector, level + 1)
        elif isinstance(child, nodes.title):
            continue
        elif isinstance(child, (nodes.container, nodes.compound)) and not isinstance(child, _DROPPED):
            _walk(child, collector, level)
        else:
            for block in _blocks(child, 0):
                collector.add(block)


def _blocks(node: nodes.Node, depth: int) -> Iterator[Block]:
    """The blocks one body element renders to (nested structure joined into its block's text)."""
    if depth > _MAX_DEPTH or isinstance(node, _DROPPED):
        return
    if isinstance(node, nodes.Text):
        text = str(node).strip()
        if text:
            yield text_block(text)
    elif isinstance(node, ApiNode):
        yield api_block(str(node.get("object_path", "")), str(node.get("directive", "")))
    elif isinstance(node, (nodes.literal_block, nodes.doctest_block, nodes.math_block)):
        yield code_block(node.astext(), _language(node))
    elif isinstance(node, nodes.paragraph):
        yield text_block(_inline(node))
    elif isinstance(node, (nodes.rubric, nodes.subtitle)):
        yield text_block(f"**{_inline(node)}**")
    elif isinstance(node, VersionNode):
        body = _joined(node, depth)
        yield text_block(f"*{node.get('label', '')}:* {body}".rstrip(": ") if body else f"*{node.get('label', '')}*")
    elif isinstance(node, (nodes.Admonition, nodes.topic, nodes.sidebar)):
        yield text_block(_quoted(_admonition_label(node), _joined(node, depth)))
    elif isinstance(node, nodes.block_quote):
        yield text_block(_quoted("", _joined(node, depth)))
    elif isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
        yield text_block(_list(node, depth))
    elif isinstance(node, (nodes.definition_list, nodes.field_list, nodes.option_list)):
        yield text_block(_pairs(node, depth))
    elif isinstance(node, nodes.table):
        yield text_block(_table(node, depth))
    elif isinstance(node, nodes.line_block):
        yield text_block("\n".join(_inline(line) for line in node.findall(nodes.line)))
    elif isinstance(node, (nodes.footnote, nodes.citation)):
        label = next((c.astext() for c in node.children if isinstance(c, nodes.label)), "")
        yield text_block(f"[{label}] {_joined(node, depth, skip=nodes.label)}")
    elif isinstance(node, nodes.figure):
        yield from (b for c in node.children if isinstance(c, (nodes.caption, nodes.legend)) for b in _blocks(c, depth))
    elif isinstance(node, nodes.caption):
        yield text_block(f"*{_inline(node)}*")
    elif isinstance(node, nodes.section):
        title = next((c for c in node.children if isinstance(c, nodes.title)), None)
        if title is not None:
            yield text_block(f"**{_inline(title)}**")
        yield from (b for c in node.children if not isinstance(c, nodes.title) for b in _blocks(c, depth + 1))
    elif isinstance(node, nodes.TextElement):
        yield text_block(_inline(node))
    elif isinstance(node, nodes.Element):
        for child in node.children:
            yield from _blocks(child, depth + 1)


def _joined(node: nodes.Node, depth: int, skip: type[nodes.Node] | tuple[type[nodes.Node], ...] = nodes.title) -> str:
    if not isinstance(node, nodes.Element):
        return node.astext()
    return "\n\n".join(b.text for c in node.children if not isinstance(c, skip) for b in _blocks(c, depth + 1))


def _admonition_label(node: nodes.Element) -> str:
    title = next((c for c in node.children if isinstance(c, nodes.title)), None)
    if title is not None:
        return _inline(title)
    name = node.__class__.__name__
    return "" if name == "admonition" else name.replace("_", " ").capitalize()


def _quoted(label: str, body: str) -> str:
    text = f"**{label.rstrip(':')}:** {body}" if label else body
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())


def _list(node: nodes.Element, depth: int) -> str:
    items = []
    ordered = isinstance(node, nodes.enumerated_list)
    for number, item in enumerate((c for c in node.children if isinstance(c, nodes.list_item)), start=1):
        marker = f"{number}. " if ordered else "- "
        body = _joined(item, depth).replace("\n", "\n" + " " * len(marker))
        items.append(marker + body)
    return "\n".join(items)


def _pairs(node: nodes.Element, depth: int) -> str:
    lines = []
    for item in node.children:
        if not isinstance(item, nodes.Element):
            continue
        names = [c for c in item.children if isinstance(c, (nodes.term, nodes.field_name, nodes.option_group))]
        bodies = [c for c in item.children if isinstance(c, (nodes.definition, nodes.field_body, nodes.description))]
        name = " ".join(_inline(n) for n in names)
        body = "\n\n".join(_joined(b, depth) for b in bodies).replace("\n", "\n  ")
        lines.append(f"- **{name}**: {body}" if body else f"- **{name}**")
    return "\n".join(lines)


def _table(node: nodes.Element, depth: int) -> str:
    rows: list[list[str]] = []
    header_rows = 0
    for group in node.findall(nodes.tgroup):
        for part in group.children:
            if not isinstance(part, (nodes.thead, nodes.tbody)):
                continue
            for row in part.children:
                if isinstance(row, nodes.row):
                    cells = [_joined(e, depth).replace("\n", " ").replace("|", "\\|") for e in row.children]
                    rows.append(cells)
                    header_rows += isinstance(part, nodes.thead)
        break
    if not rows:
        return _joined(node, depth)
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    head = rows[0] if header_rows else [""] * width
    body = rows[1:] if header_rows else rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
    lines.extend("| " + " | ".join(r) + " |" for r in body)
    title = next((c for c in node.children if isinstance(c, nodes.title)), None)
    return (f"*{_inline(title)}*\n\n" if title is not None else "") + "\n".join(lines)


def _language(node: nodes.Element) -> str:
    if isinstance(node, nodes.doctest_block):
        return "pycon"
    if isinstance(node, nodes.math_block):
        return "math"
    language = str(node.get("language") or "")
    classes = [str(name) for name in node["classes"] if name != "code"]
    return language or (classes[0] if classes else "")


def _inline(node: nodes.Node, depth: int = 0) -> str:
    """Inline markup as Markdown: emphasis, strong, literals, references by their text."""
    if isinstance(node, nodes.Text):
        return str(node)
    if depth > _MAX_DEPTH or isinstance(node, (nodes.system_message, nodes.target, nodes.image, nodes.raw)):
        return ""
    if isinstance(node, nodes.literal):
        text = node.astext()
        fence = "``" if "`" in text else "`"
        return f"{fence}{text}{fence}" if text else ""
    if isinstance(node, nodes.title_reference):
        return f"`{node.astext()}`"
    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    inner = "".join(_inline(child, depth + 1) for child in node.children) if isinstance(node, nodes.Element) else ""
    if isinstance(node, nodes.emphasis):
        return f"*{inner}*" if inner.strip() else inner
    if isinstance(node, nodes.strong):
        return f"**{inner}**" if inner.strip() else inner
    if isinstance(node, (nodes.footnote_reference, nodes.citation_reference)):
        return f"[{inner}]"
    if isinstance(node, nodes.reference) and not inner and node.get("refuri"):
        return str(node["refuri"])
    return inner
