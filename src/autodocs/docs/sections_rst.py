"""Where a reStructuredText README's sections start: docutils' parser, as docs pages read it.

Docutils decides which lines are section titles, with its own rules (adornment styles in order
of first use, over- and underlines, a new style only one level below the current one; a title
that breaks them is no section). It parses the same way, and with the same Sphinx roles and
directives registered (:mod:`autodocs.docset.rst_sphinx`), as a release's docs pages; a title's
text is its doctree text (``:mod:`json``` → ``json``, substitutions and images dropped).

What docutils reads is the README's *outline*, a few lines per section. A title needs an
adornment line at column 0, so a blank-line-separated block without one holds no title, and the
blocks between two title blocks only matter to docutils as "some body here" — and, when the last
ends with ``::``, as the introduction of a literal block (which may hide adornment-like lines).
Each run of such blocks becomes one placeholder line (``x`` or ``x::``); blocks with an adornment
line stay, their indented lines as one letter (a title is never inside an indented construct),
their lines that are neither titles nor adornments cut to their start (their kind). A line map
turns docutils' line numbers back into the README's. The outline has the same sections as the
README (a test parses both and compares) at a fraction of the cost: on the 53 recorded reST
READMEs a full parse takes 4-8x the CPU time (a nested state machine per list item, inline markup).
Directive options and bodies never reach a directive (no ``:file:``, no ``:url:``); file insertion
and ``raw`` are off anyway, and reports never halt the parse.
"""

from __future__ import annotations

import copy
import io
import re
import threading
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser, states
from docutils.statemachine import string2lines
from docutils.utils import Reporter, new_document

from autodocs.docs.sections_common import Heading, clean_title
from autodocs.docset.rst_sphinx import register_for

__all__ = ["RstSignals", "rst_headings"]

_NEVER = Reporter.SEVERE_LEVEL + 1
#: Adornment lines past this many are not read (each section costs docutils a state machine):
#: their sections stay in the body of the last one read.
MAX_ADORNMENTS = 2000
#: Indentation past this many characters is cut: nesting inside an indented block never makes a
#: section, and docutils' recursion grows with it.
MAX_INDENT = 8
#: Longest line given to docutils: it refuses a whole document over its own limit, and some of
#: its patterns (field markers) take quadratic time in a line's length. No title is this long.
MAX_LINE = 2000
_PARSER = Parser()
_MACHINES = threading.local()
_SETTINGS: Any = get_default_settings(Parser)
_SETTINGS.report_level = _NEVER
_SETTINGS.halt_level = _NEVER
_SETTINGS.file_insertion_enabled = False
_SETTINGS.raw_enabled = False
_SETTINGS.line_length_limit = MAX_LINE + 1
_SETTINGS.character_level_inline_markup = False
_SETTINGS.syntax_highlight = "none"
#: docutils splits lines with ``str.splitlines``; these would shift its line numbers from ours.
_EXTRA_LINE_BREAKS = {code: " " for code in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}
_ADORNMENT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_DEFAULT_ROLE = re.compile(r"\.\.[ \t]+default-role[ \t]*::", re.IGNORECASE)
_SIMPLE_TABLE_BORDER = re.compile(r"=+( +=+)+ *$")
#: A line of a title block that is not a title or an adornment only needs its start (its kind).
_MAX_OTHER_LINE = 40
_DROPPED_IN_TITLES = (nodes.substitution_reference, nodes.image, nodes.target, nodes.system_message, nodes.raw)
_MAX_DEPTH = 50


@dataclass(slots=True)
class RstSignals:
    """What says "this is reStructuredText" when no content type does (``sections.detect_format``)."""

    overlined: int = 0  # titles with overline and underline
    other_underlines: int = 0  # underline-only titles adorned with a character other than = and -
    ambiguous_underlines: int = 0  # underline-only titles with = or - (also Markdown setext headings)


def rst_headings(lines: list[str]) -> tuple[list[Heading], RstSignals]:
    """The section breaks of a reStructuredText text split into ``lines``, in order; never raises."""
    signals = RstSignals()
    outline, source_line = _outline(lines)
    if len(source_line) <= 2:
        return [], signals  # one placeholder or one line: no title, nothing for docutils to decide
    try:
        register_for(outline)
        settings = copy.copy(_SETTINGS)
        settings.warning_stream = io.StringIO()
        document = new_document("<readme>", settings)
        _parse(outline, document)
    except Exception:  # a parser bug on hostile text costs the outline, never the call
        return [], signals
    headings: list[Heading] = []
    for section in document.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is None or title.parent is not section or not title.line:
            continue
        if not 2 <= title.line <= len(source_line):
            continue
        underline = source_line[title.line - 1]  # docutils gives the underline's line, counted from 1
        overlined = underline >= 2 and lines[underline - 2].rstrip() == lines[underline].rstrip()
        start = underline - 2 if overlined else underline - 1
        char = lines[underline][:1]
        if overlined:
            signals.overlined += 1
        elif char in ("=", "-"):
            signals.ambiguous_underlines += 1
        else:
            signals.other_underlines += 1
        text = clean_title(_text(title, 0))
        if text:
            headings.append(Heading(start, underline + 1, _level(section), text))
    headings.sort(key=lambda heading: heading.start)
    return headings, signals


def _parse(outline: str, document: nodes.document) -> None:
    """What ``Parser().parse(outline, document)`` does, on this thread's one state machine.

    ``Parser.parse`` builds a new ``RSTStateMachine`` per document: its states and their
    transition tables, about 0.6 ms, and a nested machine per section. A README is parsed on the
    call's path (cold), so each thread keeps one machine and runs it per outline (``run`` sets
    up all of a parse's state; its states keep their nested machines between runs): the
    recorded reST READMEs take about 30% less CPU, same sections. What ``Parser.parse`` adds
    around ``run`` is not needed here: its line-length check (the outline cuts lines below the
    limit) and its reset of a ``default-role`` (the outline never has one: :func:`_block_outline`).
    """
    machine = getattr(_MACHINES, "machine", None)
    if machine is None:
        machine = _MACHINES.machine = states.RSTStateMachine(
            state_classes=states.state_classes, initial_state=_PARSER.initial_state
        )
    machine.current_state = machine.initial_state
    machine.run(string2lines(outline, tab_width=8, convert_whitespace=True), document, inliner=_PARSER.inliner)


def _outline(lines: list[str]) -> tuple[str, list[int]]:
    """What docutils reads of ``lines`` (see the module docstring), and the source line of each of its lines."""
    out: list[str] = []
    source_line: list[int] = []
    run_end = ""  # the placeholder of the title-free blocks since the last title block, if any
    adornments = 0
    start, count = 0, len(lines)
    # Per line, computed once: blank? an adornment or a simple table's border (both start with punctuation)?
    blank = [not line or line.isspace() for line in lines]
    mark = [line[:1] in _ADORNMENT and _is_mark(line) for line in lines]
    while start < count:
        if blank[start]:
            start += 1
            continue
        end = start
        marks = 0
        while end < count and not blank[end]:
            marks += mark[end]
            end += 1
        if not marks:
            if not run_end:
                out.extend(("x", ""))
                source_line.extend((start, start))
            last = lines[end - 1].rstrip()
            at_column_0 = lines[start][0] not in " \t"
            run_end = "x::" if at_column_0 and last.endswith("::") and not last.startswith("..") else "x"
            out[-2] = run_end
            start = end
            continue
        adornments += marks
        if adornments > MAX_ADORNMENTS:
            break
        run_end = ""
        out.extend(_block_outline(lines[start:end]))
        out.append("")
        source_line.extend(range(start, end + 1))
        start = end
    return "\n".join(out), source_line


def _block_outline(block: list[str]) -> list[str]:
    """A block with adornment lines: titles and adornments whole, other lines cut short."""
    out: list[str] = []
    for index, line in enumerate(block):
        title_text = index + 1 < len(block) and _is_adornment(block[index + 1])
        if line[0] in " \t":
            body = line.lstrip(" \t")
            # Whole when an adornment follows: the title of an overline and underline may be indented.
            line = line[: min(len(line) - len(body), MAX_INDENT)] + (body if title_text else "x")
            if not title_text:
                out.append(line)
                continue
        if _DEFAULT_ROLE.match(line):
            line = ".. x"  # a comment: the directive would change the process's default role (see _parse)
        limit = MAX_LINE if title_text or _is_adornment(line) else _MAX_OTHER_LINE
        if len(line) > limit:
            line = line[: limit - 2] + "::" if line.rstrip().endswith("::") else line[:limit]
        out.append(line if line.isprintable() else line.translate(_EXTRA_LINE_BREAKS))
    return out


def _is_mark(line: str) -> bool:
    return _is_adornment(line) or _SIMPLE_TABLE_BORDER.match(line) is not None


def _is_adornment(line: str) -> bool:
    """One punctuation character repeated from column 0: an over- or underline, or a transition."""
    return line[:1] in _ADORNMENT and not line.rstrip().lstrip(line[0])


def _level(section: nodes.Element) -> int:
    level = 0
    node: nodes.Node | None = section
    while node is not None:
        level += isinstance(node, nodes.section)
        node = node.parent
    return level


def _text(node: nodes.Node, depth: int) -> str:
    """A title's text: inline markup by its text, substitutions, images and targets dropped."""
    if isinstance(node, nodes.Text):
        return str(node)
    if depth > _MAX_DEPTH or isinstance(node, _DROPPED_IN_TITLES):
        return ""
    if isinstance(node, nodes.Element):
        return "".join(_text(child, depth + 1) for child in node.children)
    return ""
