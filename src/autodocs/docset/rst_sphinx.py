"""Sphinx's directives and roles, registered on docutils' own reST parser (no second reST reader).

Docutils knows reStructuredText; Sphinx adds the directives and roles real docs use. Sphinx itself
is an application (an environment, builders, extensions executed from ``conf.py``) that we must
not run on an untrusted sdist, so the few pieces a reader needs are written here as docutils
directives and roles and registered through docutils' public API (``register_directive``,
``register_local_role``):

- ``toctree`` records its entries (the reader orders pages with them) and shows nothing;
- ``code-block``/``sourcecode`` and friends are literal blocks with their language;
- ``include`` and ``literalinclude`` read through ``DocsFolder`` (confined to the sdist, sizes
  capped) and insert the text with the state machine's ``insert_input``, as docutils' own include
  does; nesting and volume are bounded by ``ParseContext``;
- ``versionadded``/``versionchanged``/``deprecated``/``versionremoved`` keep their version and text;
- ``autofunction``/``autoclass``/``automodule``… become API placeholders naming the object;
- Python-domain descriptions (``.. function::``, ``.. class::``…) keep their signature and text;
- every other directive name a page uses that docutils does not know gets ``ContentDirective``
  (its argument and content kept as text, any option accepted and dropped), and every unknown role
  renders its text — found by scanning the page for ``.. name::`` and ``:name:``` before parsing.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, ClassVar, cast

from docutils import nodes
from docutils.parsers.rst import Directive, directives, roles
from docutils.parsers.rst.languages import en as rst_en
from docutils.statemachine import string2lines
from docutils.utils import Reporter

from autodocs.docset.pages import TocTreeEntry
from autodocs.docset.rst_context import context_of
from autodocs.docset.rst_include import included_lines, language_for

__all__ = ["ApiNode", "TocTreeNode", "VersionNode", "register_for"]

_DIRECTIVE_NAME = re.compile(r"^[ \t]*\.\.[ \t]+([A-Za-z0-9][\w.+:-]*?)[ \t]?::", re.MULTILINE)
_ROLE_NAME = re.compile(r"(?<![\w`]):([A-Za-z][\w.+-]*(?::[\w.+-]+)*):`")
_MAX_KNOWN_NAMES = 20_000
_known: dict[str, bool] = {}
_REPORTER = Reporter("autodocs", Reporter.SEVERE_LEVEL + 1, Reporter.SEVERE_LEVEL + 1, stream=False)


class TocTreeNode(nodes.General, nodes.Element):
    """A ``toctree``: nothing to show; its entries went into the parse context."""


class ApiNode(nodes.General, nodes.Element):
    """Where an API reference entry goes: ``node["object_path"]``, ``node["directive"]``."""


class VersionNode(nodes.General, nodes.Element):
    """``versionadded`` and friends: ``node["label"]`` (``New in version 2.0``) and their text as children."""


class _AnyOption(dict[str, Any]):
    """An option spec that accepts every option name (its value kept as text, then dropped)."""

    def __missing__(self, key: str) -> Any:
        return directives.unchanged


def _any_options() -> dict[str, Any]:
    return _AnyOption(name=directives.unchanged)


class ContentDirective(Directive):
    """An unknown directive: its argument as a bold line, its content parsed as reST, options dropped."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()
    show_argument_as_code = False

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        if self.arguments:
            argument = self.arguments[0]
            shown: nodes.Node = (
                nodes.literal(argument, argument) if self.show_argument_as_code else nodes.Text(argument)
            )
            container += nodes.paragraph("", "", nodes.strong("", "", shown))
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, container)
        return [container]


class NothingDirective(ContentDirective):
    """Directives that only steer Sphinx's output (``index``, ``highlight``, diagrams…): nothing to read."""

    def run(self) -> list[nodes.Node]:
        return []


class ObjectDirective(ContentDirective):
    """A hand-written Python-domain description (``.. function:: retry(n)``): signature as code."""

    show_argument_as_code = True


class ModuleDirective(Directive):
    """``module``/``currentmodule``: sets the module later autodoc names are relative to."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        context.current_module = self.arguments[0].strip() if self.arguments else ""
        container = nodes.container()
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, container)
        return [container]


class AutodocDirective(Directive):
    """``autofunction``/``autoclass``/``automodule``…: a placeholder for the object's API entry."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        name = self.arguments[0].split("(", 1)[0].strip()
        if self.name in ("automodule", "py:automodule"):
            context.current_module = name
        elif "." not in name and context.current_module:
            name = f"{context.current_module}.{name}"
        node = ApiNode(object_path=name, directive=self.name)
        container = nodes.container("", node)
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, container)
        return [container]


class AutosummaryDirective(Directive):
    """``autosummary``: one placeholder per object listed in its content."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        container = nodes.container()
        for line in self.content:
            name = line.strip().lstrip("~").split()[0] if line.strip() else ""
            if name and not name.startswith(":") and re.fullmatch(r"[\w.]+", name):
                if "." not in name and context.current_module:
                    name = f"{context.current_module}.{name}"
                container += ApiNode(object_path=name, directive="autosummary")
        return [container]


class TocTreeDirective(Directive):
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        glob = "glob" in self.options
        for line in self.content:
            entry = line.strip()
            if not entry or entry.startswith(":"):
                continue
            match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", entry)
            title, target = (match[1].strip(), match[2].strip()) if match else ("", entry)
            if "://" in target or target == "self":
                continue
            context.toctree.append(TocTreeEntry(target, title, glob and any(c in target for c in "*?[")))
        return [TocTreeNode()]


class CodeBlockDirective(Directive):
    """``code-block``/``sourcecode`` (and ``doctest``, ``testcode``…): a literal block, its language kept."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        code = "\n".join(self.content)
        language = self.arguments[0].strip() if self.arguments else ""
        if self.name in ("doctest", "testcode", "testoutput", "testsetup"):
            language = "pycon" if self.name == "doctest" else "python"
        block = nodes.literal_block(code, code, language=language)
        caption = self.options.get("caption")
        return [nodes.paragraph("", "", nodes.emphasis(caption, caption)), block] if caption else [block]


class VersionDirective(Directive):
    required_arguments = 1
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()
    labels: ClassVar[dict[str, str]] = {
        "versionadded": "New in version",
        "versionchanged": "Changed in version",
        "deprecated": "Deprecated since version",
        "versionremoved": "Removed in version",
    }

    def run(self) -> list[nodes.Node]:
        label = f"{self.labels.get(self.name, self.name)} {self.arguments[0]}"
        node = VersionNode(label=label)
        if len(self.arguments) > 1:
            node += _inline_paragraph(self, self.arguments[1])
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class SeeAlsoDirective(Directive):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        node = nodes.admonition()
        node += nodes.title("See also", "See also")
        if self.arguments:
            node += _inline_paragraph(self, self.arguments[0])
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def _inline_paragraph(directive: Directive, text: str) -> nodes.paragraph:
    """``text`` (a directive's argument) with its inline markup and roles parsed, as a paragraph."""
    children, _messages = directive.state.inline_text(text, directive.lineno)
    return nodes.paragraph(text, "", *children)


class IncludeDirective(Directive):
    """``include``, confined to the sdist; ``:literal:``/``:code:`` make it a literal block."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        name = self.arguments[0].strip()
        if name.startswith("<") and name.endswith(">"):
            return []  # docutils' standard substitution sets (<isonum.txt>): nothing to read
        source, _line = self.state_machine.get_source_and_line(self.lineno)
        read = context.folder.read(name, relative_to=str(source or context.page_path))
        if read.text is None:
            context.warn(f"{context.page_path}: {read.warning}")
            return []
        lines = included_lines(read.text, self.options)
        if "literal" in self.options or "code" in self.options:
            code = "\n".join(lines)
            return [nodes.literal_block(code, code, language=self.options.get("code") or "")]
        refusal = context.admit_include(str(source or context.page_path), read.path, len(lines))
        if refusal:
            context.warn(refusal)
            return []
        register_for("\n".join(lines))
        self.state_machine.insert_input(string2lines("\n".join(lines), convert_whitespace=True), read.path)
        return []


class LiteralIncludeDirective(Directive):
    """``literalinclude``: a file of the sdist shown as code (line selections and markers honoured)."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = _any_options()

    def run(self) -> list[nodes.Node]:
        context = context_of(self.state.document)
        source, _line = self.state_machine.get_source_and_line(self.lineno)
        read = context.folder.read(self.arguments[0], relative_to=str(source or context.page_path))
        if read.text is None:
            context.warn(f"{context.page_path}: {read.warning}")
            return []
        code = "\n".join(included_lines(read.text, self.options))
        language = self.options.get("language") or language_for(read.path)
        block = nodes.literal_block(code, code, language=language)
        caption = self.options.get("caption")
        return [nodes.paragraph("", "", nodes.emphasis(caption, caption)), block] if caption else [block]


def xref_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``:func:`~pkg.retry``` → ``retry()``; ``:ref:`Title <label>``` → Title; other roles their text."""
    display = nodes.unescape(text).strip()
    explicit = re.fullmatch(r"(.*?)\s*<([^<>]*)>", display, re.DOTALL)
    kind = name.rpartition(":")[2]
    if explicit and explicit[1]:
        display = explicit[1]
    else:
        target = explicit[2] if explicit else display
        target = target.lstrip("!.")
        display = target.rpartition(".")[2] if target.startswith("~") else target
        display = display.lstrip("~")
        if kind in ("func", "meth") and not display.endswith(")"):
            display += "()"
    document = getattr(inliner, "document", None)
    if kind in ("ref", "doc") and not (explicit and explicit[1]) and document is not None:
        context = context_of(document)
        if kind == "ref":
            display = context.labels.get(" ".join(display.lower().split()), display)
        else:
            base = context.source_dir if display.startswith("/") else posixpath.dirname(context.page_path)
            key = posixpath.normpath(posixpath.join(base, display.lstrip("/")))
            display = context.doc_titles.get(key, display)
    if kind in ("ref", "doc", "term", "numref", "any", "download", "abbr", "dfn", "guilabel", "menuselection"):
        return [nodes.emphasis(rawtext, display)] if kind in ("term", "dfn") else [nodes.Text(display)], []
    return [nodes.literal(rawtext, display)], []


_CODE_DIRECTIVES = (
    "code-block",
    "sourcecode",
    "code",
    "doctest",
    "testcode",
    "testoutput",
    "ipython",
    "jupyter-execute",
)
_AUTODOC = ("function", "class", "module", "method", "attribute", "data", "exception", "decorator", "property")
_OBJECTS = (*_AUTODOC, "classmethod", "staticmethod", "decoratormethod", "type")
_SILENT_DIRECTIVES = (
    "index",
    "highlight",
    "tabularcolumns",
    "sectionauthor",
    "moduleauthor",
    "codeauthor",
    "default-domain",
    "graphviz",
    "digraph",
    "graph",
    "inheritance-diagram",
    "mermaid",
    "plantuml",
    "uml",
    "spelling:word-list",
    # The changelog extension's cross-release imports: its content includes every older changelog,
    # which then includes its own older ones (SQLAlchemy: a minute of parsing, nothing to read).
    "changelog_imports",
)
_SPHINX_DIRECTIVES: dict[str, type[Directive]] = {
    "toctree": TocTreeDirective,
    **dict.fromkeys(_CODE_DIRECTIVES, CodeBlockDirective),
    **dict.fromkeys(("versionadded", "versionchanged", "deprecated", "versionremoved"), VersionDirective),
    "seealso": SeeAlsoDirective,
    "include": IncludeDirective,
    "literalinclude": LiteralIncludeDirective,
    **{f"auto{kind}": AutodocDirective for kind in (*_AUTODOC, "newtypedata", "typeddict", "pydantic_model")},
    **{f"py:auto{kind}": AutodocDirective for kind in _AUTODOC},
    "autosummary": AutosummaryDirective,
    **dict.fromkeys(_SILENT_DIRECTIVES, NothingDirective),
    **{name: ObjectDirective for kind in _OBJECTS for name in (kind, f"py:{kind}")},
    **dict.fromkeys(("module", "py:module", "currentmodule", "py:currentmodule"), ModuleDirective),
}
_SPHINX_ROLES = (  # noqa: SIM905 - one word per role reads best
    "func meth class mod attr exc data obj const type ref doc term option envvar keyword token numref any "
    "download file samp kbd guilabel menuselection command program mimetype makevar manpage abbr dfn"
).split()


def _register_sphinx() -> None:
    for name, directive in _SPHINX_DIRECTIVES.items():
        directives.register_directive(name, directive)
        _known[name] = True
    for name in _SPHINX_ROLES:
        for spelled in (name, f"py:{name}"):
            roles.register_local_role(spelled, cast(Any, xref_role))
            _known[f":{spelled}"] = True


def register_for(text: str) -> None:
    """Make every directive and role name ``text`` uses parse: unknown ones get the generic kind."""
    if len(_known) > _MAX_KNOWN_NAMES:
        return  # past the bound, an unknown name is a (silenced) docutils error instead
    for name in set(_DIRECTIVE_NAME.findall(text)):
        lowered = name.lower()
        if lowered not in _known:
            _known[lowered] = True
            if directives.directive(lowered, cast(Any, rst_en), _REPORTER_DOCUMENT)[0] is None:
                directives.register_directive(lowered, ContentDirective)
    for name in set(_ROLE_NAME.findall(text)):
        key = f":{name.lower()}"
        if key not in _known:
            _known[key] = True
            if roles.role(name.lower(), cast(Any, rst_en), 0, _REPORTER)[0] is None:
                roles.register_local_role(name.lower(), cast(Any, xref_role))


def _document_for_lookups() -> Any:
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    settings = get_default_settings(Parser)
    settings.report_level = Reporter.SEVERE_LEVEL + 1
    settings.warning_stream = False
    return new_document("<lookups>", settings)


_REPORTER_DOCUMENT = _document_for_lookups()
_register_sphinx()
