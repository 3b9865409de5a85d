"""A package's API from its code, by static analysis (griffe): never imported, never executed.

Loading (relevance order, deadline, size caps) is :mod:`autodocs.docs.api_loader`'s
:func:`load_package`, re-exported here. :func:`describe` turns the loaded tree into
:class:`~autodocs.docs.api_model.ApiObject` entries:
signatures as a call site sees them (``self``/``cls`` dropped; a class shows its ``__init__``),
docstrings parsed as Google, NumPy or Sphinx style (griffe's auto-detection), and one level of
members ordered public before private, documented before undocumented.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

import griffe

from autodocs.docs import api_model
from autodocs.docs.api_classes import class_parameters
from autodocs.docs.api_griffe import (
    LOOKUP_ERRORS,
    RESOLUTION_ERRORS,
    call_parameters,
    resolved_target,
    text_of,
)
from autodocs.docs.api_loader import LoadedPackage, load_package
from autodocs.docs.api_model import ApiDocstring, ApiObject, ApiParameter, DocItem, ObjectKind
from autodocs.errors import CodeUnavailable, ObjectNotFound

__all__ = ["LoadedPackage", "describe", "load_package", "member_order"]

# griffe logs every unresolvable import at debug/warning level; our logs say what matters.
logging.getLogger("griffe").setLevel(logging.ERROR)

_MAX_VALUE_CHARS = 200
_MAX_TEXT_CHARS = 4000


def describe(loaded: LoadedPackage, object_path: str) -> tuple[ApiObject, list[tuple[ApiObject, tuple[int, ...]]]]:
    """The object at ``object_path`` and its members with their sort keys (see :func:`member_order`)."""
    obj = _lookup(loaded, object_path)
    if obj is None:
        if any(object_path == s or object_path.startswith(f"{s}.") for s in loaded.skipped):
            raise CodeUnavailable(
                f"{object_path} is in a module that was not read before the deadline.",
                retryable=True,
                suggestions=["The whole package is being read in the background: ask again in a few seconds."],
            )
        raise _not_found(loaded, object_path)
    obj = _unshadowed(obj)
    target = resolved_target(obj)
    root = _describe_one(obj, object_path, loaded=loaded)
    if target is None:
        return root, []
    members: list[tuple[ApiObject, tuple[int, ...]]] = []
    for name, member in _listed_members(target):
        member = _unshadowed(member)
        path = f"{object_path}.{name}"
        described = _describe_one(member, path, loaded=loaded)
        members.append((described, member_order(name, described)))
    members.sort(key=lambda item: item[1])
    root = root.model_copy(update={"members": tuple(m.path.rsplit(".", 1)[-1] for m, _ in members)})
    return root, members


def member_order(name: str, described: ApiObject) -> tuple[int, ...]:
    """Sort key: public before special before private; documented first; classes and functions first."""
    visibility = 2 if name.startswith("_") and not name.startswith("__") else (1 if name.startswith("__") else 0)
    documented = 0 if described.docstring is not None else 1
    kind_rank = {"class": 0, "function": 0, "method": 0, "property": 1, "module": 2}.get(described.kind, 3)
    return (visibility, documented, kind_rank)


def _not_found(loaded: LoadedPackage, object_path: str) -> ObjectNotFound:
    parent_path, _, last = object_path.rpartition(".")
    candidates: list[str] = []
    try:
        parent = resolved_target(loaded.get(parent_path)) if parent_path else None
    except LOOKUP_ERRORS:
        parent = None
    if parent is not None:
        names = [n for n in parent.members if last.startswith("_") or not n.startswith("_")]
        candidates = [f"{parent_path}.{n}" for n in difflib.get_close_matches(last, names, n=5, cutoff=0.5)]
    elif not parent_path:
        candidates = list(loaded.top_names)
    suggestions = [f"Did you mean: {', '.join(candidates)}?"] if candidates else []
    if loaded.partial:
        suggestions.append(f"{len(loaded.skipped)} modules were not read in time; it may be in one of them.")
    suggestions.append("Ask without object_path to see the package's top level.")
    return ObjectNotFound(
        f"{object_path!r} is not in the package's code.", suggestions=suggestions, candidates=candidates
    )


def _unshadowed(obj: griffe.Object | griffe.Alias) -> griffe.Object | griffe.Alias:
    """``from .escape import escape`` in a package that exports ``escape``: at run time the name is
    the function, but griffe lets the submodule shadow it. Return the function (or class)."""
    if not isinstance(obj, griffe.Module) or not isinstance(obj.parent, griffe.Module):
        return obj
    exports = obj.parent.exports or []
    if not any(str(getattr(e, "name", e)) == obj.name for e in exports):
        return obj
    inner = obj.members.get(obj.name)
    target = resolved_target(inner) if inner is not None else None
    return inner if isinstance(target, (griffe.Function, griffe.Class)) and inner is not None else obj


def _lookup(loaded: LoadedPackage, path: str) -> griffe.Object | griffe.Alias | None:
    try:
        return loaded.get(path)
    except LOOKUP_ERRORS:
        pass
    parent_path, _, name = path.rpartition(".")
    if not parent_path:
        return None
    parent_obj = _lookup(loaded, parent_path)
    parent = resolved_target(parent_obj) if parent_obj is not None else None
    if isinstance(parent, griffe.Attribute):
        parent = _assigned_callable(parent)  # Writer = _impl.Writer, then Writer.method
    if parent is None:
        return None
    if name in parent.members:
        return parent.members[name]
    if isinstance(parent, griffe.Module):
        return _reexported(parent, name)
    return None


def _reexported(module: griffe.Module, name: str) -> griffe.Object | griffe.Alias | None:
    """A name a module exports without a visible import (a lazy ``__getattr__``, a wildcard griffe
    could not expand): the submodule that defines and exports it, nearest first."""
    pending = [m for m in module.members.values() if isinstance(m, griffe.Module)]
    visited: set[int] = set()
    while pending and len(visited) < 5000:
        candidate = pending.pop(0)
        if id(candidate) in visited:
            continue
        visited.add(id(candidate))
        exports = candidate.exports or []
        if name in candidate.members and any(str(getattr(e, "name", e)) == name for e in exports):
            found = candidate.members[name]
            if not isinstance(found, griffe.Alias) or resolved_target(found) is not None:
                return found
        pending.extend(m for m in candidate.members.values() if isinstance(m, griffe.Module))
    return None


def _listed_members(obj: griffe.Object) -> list[tuple[str, griffe.Object | griffe.Alias]]:
    """The members an API reader cares about, in source order."""
    if isinstance(obj, griffe.Module):
        exports = obj.exports
        if exports is not None:
            names = [str(getattr(e, "name", e)) for e in exports]
            listed: list[tuple[str, griffe.Object | griffe.Alias]] = []
            for name in dict.fromkeys(names):
                member = obj.members.get(name) if name in obj.members else _reexported(obj, name)
                if member is not None:
                    listed.append((name, member))
            return listed
        listed = []
        for name, member in obj.members.items():
            if name.startswith("_"):
                continue
            if isinstance(member, griffe.Alias) and not _internal(member, obj):
                continue  # an import of something from elsewhere, not this module's API
            listed.append((name, member))
        return listed
    if isinstance(obj, griffe.Class):
        listed = []
        for name, member in obj.members.items():
            if name in ("__init__", "__new__", "__doc__", "__module__", "__slots__", "__all__"):
                continue
            if name.startswith("__") and name.endswith("__") and not _documented_or_callable(member):
                continue
            listed.append((name, member))
        return listed
    return []


def _internal(alias: griffe.Alias, module: griffe.Module) -> bool:
    top = module.path.split(".", 1)[0]
    return alias.target_path.split(".", 1)[0] == top and module.is_init_module


def _documented_or_callable(member: griffe.Object | griffe.Alias) -> bool:
    target = resolved_target(member)
    return target is not None and (target.is_function or bool(target.docstring))


def _describe_one(obj: griffe.Object | griffe.Alias, path: str, *, loaded: LoadedPackage | None = None) -> ApiObject:
    target = resolved_target(obj)
    if target is None:
        assert isinstance(obj, griffe.Alias)
        return ApiObject(path=path, kind="alias", defined_in=obj.target_path)
    if isinstance(target, griffe.Attribute):
        target = _assigned_callable(target) or target
    defined_in = target.path if target.path != path else None
    kind: ObjectKind
    fields: dict[str, Any] = {}  # the object is built once, whole (ApiObject is frozen)
    parameters: list[ApiParameter] = []
    if isinstance(target, griffe.Function):
        is_method = isinstance(target.parent, griffe.Class)
        labels = set(target.labels)
        if "property" in labels:
            kind = "property"
            fields["annotation"] = text_of(target.returns)
        else:
            kind = "method" if is_method else "function"
            drop_first = is_method and "staticmethod" not in labels
            owner = target.parent.name if is_method and target.parent is not None else None
            parameters = call_parameters(target.parameters, drop_first=drop_first, owner=owner)
            fields["returns"] = text_of(target.returns)
            fields["signature"] = _signature(target.name, parameters, fields["returns"])
        fields["labels"] = sorted(labels & {"async", "classmethod", "staticmethod", "abstractmethod", "property"})
    elif isinstance(target, griffe.Class):
        kind = "class"
        fields["bases"] = [str(b) for b in target.bases]
        parameters = class_parameters(target, loaded)
        fields["signature"] = _signature(path.rsplit(".", 1)[-1], parameters, None)
        fields["labels"] = sorted(set(target.labels) & {"dataclass", "abstract"})
        fields["members"] = [n for n, _ in _listed_members(target)]
    elif isinstance(target, griffe.Module):
        kind = "module"
        fields["members"] = [n for n, _ in _listed_members(target)]
    elif isinstance(target, griffe.TypeAlias):
        kind = "type_alias"
        fields["value"] = _short(api_model.shown_value(target.name, text_of(target.value)))
    else:
        kind = "attribute"
        attribute: Any = target
        fields["annotation"] = text_of(getattr(attribute, "annotation", None))
        fields["value"] = _short(api_model.shown_value(target.name, text_of(getattr(attribute, "value", None))))
    docstring, parameters = _docstring(target, parameters)
    return ApiObject(path=path, kind=kind, defined_in=defined_in, parameters=parameters, docstring=docstring, **fields)


def _assigned_callable(attribute: griffe.Attribute) -> griffe.Function | griffe.Class | None:
    """``info = msg`` in a class body or ``Writer = _impl.Writer`` in a module: the attribute is
    that function or class under another name, and is documented as such."""
    value = attribute.value
    parent = attribute.parent
    candidates: list[str] = []
    name = value if isinstance(value, str) else value.name if isinstance(value, griffe.ExprName) else None
    if name and name.isidentifier() and parent is not None:
        candidates.append(f"{parent.path}.{name}")  # a sibling in the same module or class body
    if isinstance(value, (griffe.ExprName, griffe.ExprAttribute)):
        candidates.append(value.canonical_path)
    if not candidates:
        return None
    collection = attribute.modules_collection
    for candidate in candidates:
        try:
            found = resolved_target(collection.get_member(candidate))
        except LOOKUP_ERRORS:
            continue
        if isinstance(found, (griffe.Function, griffe.Class)):
            return found
    return None


def _signature(name: str, parameters: list[ApiParameter], returns: str | None) -> str:
    parts: list[str] = []
    saw_keyword_only_marker = False
    for index, p in enumerate(parameters):
        if p.kind == "keyword-only" and not saw_keyword_only_marker:
            parts.append("*")
            saw_keyword_only_marker = True
        if p.kind == "var-positional":
            saw_keyword_only_marker = True
        prefix = {"var-positional": "*", "var-keyword": "**"}.get(p.kind, "")
        text = prefix + p.name
        if p.annotation:
            text += f": {p.annotation}"
        if p.default is not None:
            text += f" = {p.default}" if p.annotation else f"={p.default}"
        parts.append(text)
        following = parameters[index + 1] if index + 1 < len(parameters) else None
        if p.kind == "positional-only" and (following is None or following.kind != "positional-only"):
            parts.append("/")
    signature = f"{name}({', '.join(parts)})"
    return f"{signature} -> {returns}" if returns else signature


def _docstring(obj: griffe.Object, parameters: list[ApiParameter]) -> tuple[ApiDocstring | None, list[ApiParameter]]:
    """The parsed docstring, and ``parameters`` with the descriptions it gives them."""
    docstring = obj.docstring or _inherited_docstring(obj)
    if docstring is None or not docstring.value.strip():
        return None, parameters
    text = _without_leading_admonitions(docstring.value.strip())
    summary, _, rest = text.partition("\n")
    try:
        sections = docstring.parse("auto")
    except Exception:  # a docstring griffe cannot parse is shown as plain text
        return ApiDocstring(
            summary=summary.strip() or None, description=_short(rest.strip(), _MAX_TEXT_CHARS) or None
        ), (parameters)
    described: dict[str, str] = {}  # parameter name -> its description
    known = {p.name for p in parameters}
    texts: list[str] = []
    returns: list[DocItem] = []
    raises: list[DocItem] = []
    examples: list[str] = []
    other: list[str] = []
    for section in sections:
        kind = section.kind.value
        value: Any = section.value
        if kind == "text":
            texts.append(str(value))
        elif kind in ("parameters", "other parameters"):
            for item in value:
                name = str(item.name).lstrip("*")
                if name in known and item.description:
                    described[name] = _short(str(item.description), 600) or ""
                elif item.description:
                    texts.append(f"{item.name}: {item.description}")
        elif kind in ("returns", "yields"):
            returns += [_item(item) for item in value]
        elif kind == "raises":
            raises += [DocItem(annotation=text_of(item.annotation), description=item.description) for item in value]
        elif kind == "examples":
            examples += [str(part[1]) if isinstance(part, tuple) else str(part) for part in value]
        elif kind == "admonition":
            other.append(f"{section.title or value.kind}: {value.description}")
        elif isinstance(value, list):
            other += [
                f"{kind}: {getattr(item, 'name', '')} {getattr(item, 'description', '')}".strip() for item in value
            ]
        elif value:
            other.append(f"{kind}: {value}")
    description = "\n\n".join(t.strip() for t in texts if t.strip())
    if description.startswith(summary.strip()):
        description = description[len(summary.strip()) :].strip()
    result = ApiDocstring(
        summary=summary.strip() or None,
        description=_short(description, _MAX_TEXT_CHARS) or None,
        returns=returns,
        raises=raises,
        examples=examples,
        other=other,
    )
    if described:
        parameters = [
            p.model_copy(update={"description": described[p.name]}) if p.name in described else p for p in parameters
        ]
    return result, parameters


def _inherited_docstring(obj: griffe.Object) -> griffe.Docstring | None:
    """A method without a docstring shows its base class's, as ``inspect.getdoc`` does."""
    owner = obj.parent
    if not isinstance(owner, griffe.Class) or not isinstance(obj, griffe.Function):
        return None
    try:
        bases = owner.mro()
    except RESOLUTION_ERRORS:
        return None
    for base in bases:
        member = base.members.get(obj.name)
        target = resolved_target(member) if member is not None else None
        if target is not None and target.docstring is not None and target.docstring.value.strip():
            return target.docstring
    return None


def _without_leading_admonitions(text: str) -> str:
    """Skip Markdown admonition blocks (``!!! note "..."`` and their indented body) at the start,
    so the summary is the docstring's first sentence, not a banner."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) and lines[index].lstrip().startswith(("!!!", "???")):
        index += 1
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith((" ", "\t"))):
            index += 1
    return "\n".join(lines[index:]).strip() or text


def _item(item: Any) -> DocItem:
    return DocItem(
        name=str(item.name) if getattr(item, "name", None) else None,
        annotation=text_of(getattr(item, "annotation", None)),
        description=str(getattr(item, "description", "") or ""),
    )


def _short(text: str | None, limit: int = _MAX_VALUE_CHARS) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."
