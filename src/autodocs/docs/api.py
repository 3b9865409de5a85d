"""A package's API from its code, by static analysis (griffe): never imported, never executed.

Loading (relevance order, deadline, size caps) is :mod:`autodocs.docs.api_loader`'s
:func:`load_package`, re-exported here. :func:`describe` turns the loaded tree into
:class:`~autodocs.docs.api_model.ApiObject` entries:
signatures as a call site sees them (``self``/``cls`` dropped; a class shows its ``__init__``),
docstrings parsed as Google, NumPy or Sphinx style (griffe's auto-detection), and one level of
members ordered public before private, documented before undocumented.
"""

from __future__ import annotations

import ast
import difflib
import enum
import inspect
import logging
import re
import time
from typing import Any

import griffe

from autodocs.docs import api_model
from autodocs.docs.api_loader import LOAD_ERRORS, LoadedPackage, load_package
from autodocs.docs.api_model import ApiDocstring, ApiObject, ApiParameter, DocItem, ObjectKind, ParameterKind
from autodocs.errors import CodeUnavailable, ObjectNotFound

__all__ = ["LoadedPackage", "describe", "load_package", "member_order"]

# griffe logs every unresolvable import at debug/warning level; our logs say what matters.
logging.getLogger("griffe").setLevel(logging.ERROR)

#: What asking griffe for a member, an alias's target or an MRO can raise on partial trees.
_RESOLUTION_ERRORS = (ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError)
_LOOKUP_ERRORS = (KeyError, *_RESOLUTION_ERRORS)
_MAX_VALUE_CHARS = 200
_MAX_TEXT_CHARS = 4000
_PARAMETER_KINDS: dict[str, ParameterKind] = {
    "positional-only": "positional-only",
    "positional or keyword": "positional-or-keyword",
    "variadic positional": "var-positional",
    "keyword-only": "keyword-only",
    "variadic keyword": "var-keyword",
}


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
    target = _target(obj)
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
    root.members = [m.path.rsplit(".", 1)[-1] for m, _ in members]
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
        parent = _target(loaded.get(parent_path)) if parent_path else None
    except _LOOKUP_ERRORS:
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


def _target(obj: griffe.Object | griffe.Alias) -> griffe.Object | None:
    if isinstance(obj, griffe.Alias):
        try:
            final = obj.final_target
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        return final if isinstance(final, griffe.Object) else None
    return obj


def _unshadowed(obj: griffe.Object | griffe.Alias) -> griffe.Object | griffe.Alias:
    """``from .escape import escape`` in a package that exports ``escape``: at run time the name is
    the function, but griffe lets the submodule shadow it. Return the function (or class)."""
    if not isinstance(obj, griffe.Module) or not isinstance(obj.parent, griffe.Module):
        return obj
    exports = obj.parent.exports or []
    if not any(str(getattr(e, "name", e)) == obj.name for e in exports):
        return obj
    inner = obj.members.get(obj.name)
    target = _target(inner) if inner is not None else None
    return inner if isinstance(target, (griffe.Function, griffe.Class)) and inner is not None else obj


def _lookup(loaded: LoadedPackage, path: str) -> griffe.Object | griffe.Alias | None:
    try:
        return loaded.get(path)
    except _LOOKUP_ERRORS:
        pass
    parent_path, _, name = path.rpartition(".")
    if not parent_path:
        return None
    parent_obj = _lookup(loaded, parent_path)
    parent = _target(parent_obj) if parent_obj is not None else None
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
            if not isinstance(found, griffe.Alias) or _target(found) is not None:
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
    target = _target(member)
    return target is not None and (target.is_function or bool(target.docstring))


def _describe_one(obj: griffe.Object | griffe.Alias, path: str, *, loaded: LoadedPackage | None = None) -> ApiObject:
    target = _target(obj)
    if target is None:
        assert isinstance(obj, griffe.Alias)
        return ApiObject(path=path, kind="alias", defined_in=obj.target_path)
    if isinstance(target, griffe.Attribute):
        target = _assigned_callable(target) or target
    defined_in = target.path if target.path != path else None
    kind: ObjectKind
    described = ApiObject(path=path, kind="attribute", defined_in=defined_in)
    if isinstance(target, griffe.Function):
        is_method = isinstance(target.parent, griffe.Class)
        labels = set(target.labels)
        if "property" in labels:
            kind = "property"
            described.annotation = _text(target.returns)
        else:
            kind = "method" if is_method else "function"
            drop_first = is_method and "staticmethod" not in labels
            owner = target.parent.name if is_method and target.parent is not None else None
            described.parameters = _parameters(target.parameters, drop_first=drop_first, owner=owner)
            described.returns = _text(target.returns)
            described.signature = _signature(target.name, described.parameters, described.returns)
        described.labels = sorted(labels & {"async", "classmethod", "staticmethod", "abstractmethod", "property"})
    elif isinstance(target, griffe.Class):
        kind = "class"
        described.bases = [str(b) for b in target.bases]
        described.parameters = _class_parameters(target, loaded)
        described.signature = _signature(path.rsplit(".", 1)[-1], described.parameters, None)
        described.labels = sorted(set(target.labels) & {"dataclass", "abstract"})
        described.members = [n for n, _ in _listed_members(target)]
    elif isinstance(target, griffe.Module):
        kind = "module"
        described.members = [n for n, _ in _listed_members(target)]
    elif isinstance(target, griffe.TypeAlias):
        kind = "type_alias"
        described.value = _short(api_model.shown_value(target.name, _text(target.value)))
    else:
        kind = "attribute"
        attribute: Any = target
        described.annotation = _text(getattr(attribute, "annotation", None))
        described.value = _short(api_model.shown_value(target.name, _text(getattr(attribute, "value", None))))
    described.kind = kind
    described.docstring = _docstring(target, described.parameters)
    return described


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
            found = _target(collection.get_member(candidate))
        except _LOOKUP_ERRORS:
            continue
        if isinstance(found, (griffe.Function, griffe.Class)):
            return found
    return None


def _class_parameters(cls: griffe.Class, loaded: LoadedPackage | None = None) -> list[ApiParameter]:
    """The parameters a call of the class takes, found the way ``inspect.signature`` finds them:
    the first ``__new__`` or ``__init__`` along the MRO (``__new__`` first within one class)."""
    if any(str(d.value).split("(", 1)[0].rsplit(".", 1)[-1] == "deprecated" for d in cls.decorators):
        # warnings.deprecated / typing_extensions.deprecated replace __new__ with (*args, **kwargs)
        return _variadic()
    try:
        lineage = [cls, *cls.mro()]
    except _RESOLUTION_ERRORS:
        lineage = [cls]
    call = _metaclass_call(lineage)
    if call is not None:  # inspect.signature looks at a metaclass's own __call__ first
        return _parameters(call.parameters, drop_first=True, owner=call.parent.name if call.parent else None)
    base_names = {_base_name(b) for b in _all_base_names(lineage)}
    if base_names & _ENUM_BASES:
        return [p.model_copy() for p in _ENUM_PARAMETERS]
    if "NamedTuple" in base_names:
        return _named_tuple_fields(cls)
    model_fields = _pydantic_model_fields(lineage)
    if model_fields is not None:
        return model_fields
    attrs_fields = _attrs_fields(lineage)
    if attrs_fields is not None:
        return attrs_fields
    for klass in lineage:
        for name in ("__new__", "__init__"):
            member = klass.members.get(name)
            target = _target(member) if member is not None else None
            if isinstance(target, griffe.Function) and not _suppressed_dataclass_init(klass, target):
                parameters = _parameters(target.parameters, drop_first=True, owner=klass.name)
                return _factory_defaults(lineage, parameters) if not target.lineno else parameters
    if loaded is not None and _load_external_bases(loaded, lineage):
        return _class_parameters(cls, None)
    if any(_base_name(base) in _VARIADIC_BASES for base in _all_base_names(lineage)):
        return _variadic()
    return []


#: Bases whose instances are built from (*args, **kwargs) at run time (their __init__ is generic).
_VARIADIC_BASES = frozenset({"Protocol"})
_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
#: What ``inspect.signature`` shows for an Enum class on the running Python (the metaclass's
#: ``__call__``); it differs between Python versions, so it is read, not written down.
_ENUM_PARAMETERS = [
    ApiParameter(
        name=p.name,
        kind=_PARAMETER_KINDS[p.kind.description],
        default=None if p.default is inspect.Parameter.empty else repr(p.default),
    )
    for p in inspect.signature(enum.Enum).parameters.values()
]


def _metaclass_call(lineage: list[griffe.Class]) -> griffe.Function | None:
    """The ``__call__`` a metaclass of the package defines (not ``type``'s or ``ABCMeta``'s)."""
    for klass in lineage:
        metaclass = klass.keywords.get("metaclass") if isinstance(klass.keywords, dict) else None
        path = getattr(metaclass, "canonical_path", None)
        if not path:
            continue
        try:
            meta = _target(klass.modules_collection.get_member(path))
        except _LOOKUP_ERRORS:
            return None
        if not isinstance(meta, griffe.Class):
            return None
        try:
            meta_lineage = [meta, *meta.mro()]
        except _RESOLUTION_ERRORS:
            meta_lineage = [meta]
        for candidate in meta_lineage:
            call = candidate.members.get("__call__")
            target = _target(call) if call is not None else None
            if isinstance(target, griffe.Function):
                return target
        return None
    return None


def _factory_defaults(lineage: list[griffe.Class], parameters: list[ApiParameter]) -> list[ApiParameter]:
    """A synthesized dataclass ``__init__``: griffe writes ``field(default_factory=list)`` as
    ``list()``; the generated signature shows ``<factory>``."""
    for parameter in parameters:
        for klass in lineage:
            member = klass.members.get(parameter.name)
            if isinstance(member, griffe.Attribute) and "default_factory" in str(member.value):
                parameter.default = "<factory>"
                break
    return parameters


def _suppressed_dataclass_init(klass: griffe.Class, init: griffe.Function) -> bool:
    """griffe synthesizes a dataclass's ``__init__`` even under ``@dataclass(init=False)``."""
    return not init.lineno and any(
        "dataclass" in str(d.value) and "init=False" in str(d.value).replace(" ", "") for d in klass.decorators
    )


_PYDANTIC_MODEL = "pydantic.main.BaseModel"
_FIELD_CALL = re.compile(r"^(?:\w+\.)*Field\((.*)\)$", re.DOTALL)


def _pydantic_model_fields(lineage: list[griffe.Class]) -> list[ApiParameter] | None:
    """A pydantic model's call signature, built from its fields the way pydantic builds its
    ``__signature__``: keyword-only fields (alias names), then ``**extra_data`` when extra is
    allowed. None when the class is not a pydantic model or defines its own ``__init__``."""
    model_index = next((i for i, k in enumerate(lineage) if k.path == _PYDANTIC_MODEL), None)
    if not model_index:  # not a model, or BaseModel itself (its own __init__ applies)
        return None
    own = lineage[:model_index]
    if any("__init__" in klass.members for klass in own):
        return None
    fields: dict[str, tuple[str | None, ApiParameter]] = {}  # a redefined field keeps its place
    extra_allowed = False
    alias_generator: str | None = None
    for klass in reversed(own):  # configs merge from the base down, as pydantic merges them
        for name, member in klass.members.items():
            if not isinstance(member, griffe.Attribute):
                continue
            if name == "model_config":
                config = str(member.value).replace(" ", "")
                if "defer_build" in config and "defer_build=False" not in config:
                    return None  # generated only once the model is built; until then (**data)
                if "extra=" in config or "'extra':" in config:
                    extra_allowed = "allow" in config.split("extra", 1)[1][:12]
                generator = re.search(r"alias_generator[=:]'?([\w.]+)", config)
                if generator:
                    alias_generator = generator.group(1).rsplit(".", 1)[-1]
                continue
            if member.annotation is None or name.startswith("_") or "instance-attribute" not in member.labels:
                continue  # griffe labels a ClassVar "class-attribute" only
            alias, default = _field_default(_text(member.value))
            alias = alias or _annotated_alias(_text(member.annotation))
            fields[name] = (
                alias,
                ApiParameter(name=name, kind="keyword-only", annotation=_text(member.annotation), default=default),
            )
    parameters = []
    for name, (alias, parameter) in fields.items():
        parameter.name = alias or _generated_alias(name, alias_generator)
        parameters.append(parameter)
    if extra_allowed:
        parameters.append(ApiParameter(name="extra_data", kind="var-keyword", annotation="Any"))
    return parameters


def _annotated_alias(annotation: str | None) -> str | None:
    """``Annotated[int, Field(alias="x")]``: the alias inside the annotation."""
    match = re.search(r"Field\([^)]*\balias=['\"]([^'\"]+)['\"]", annotation or "")
    return match.group(1) if match else None


def _generated_alias(name: str, generator: str | None) -> str:
    """What pydantic's own alias generators make of a field name (others leave it as is)."""
    if generator in ("to_camel", "to_lower_camel"):
        head, *rest = name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    if generator == "to_pascal":
        return "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    return name


_ATTRS_DECORATORS = frozenset({"define", "frozen", "mutable", "s", "attrs", "dataclass"})
_ATTRS_FIELD_CALL = re.compile(r"^(?:\w+\.)*(?:field|ib|attrib)\((.*)\)$", re.DOTALL)


def _attrs_decorator(klass: griffe.Class) -> str | None:
    """The text of an attrs class decorator (``@define``, ``@frozen``, ``@attr.s(...)``), or of a
    project's own dataclass wrapper (``@dataclass_with_extra``; griffe handles the standard
    ``@dataclass`` itself), if any."""
    for decorator in klass.decorators:
        text = str(decorator.value)
        head = text.split("(", 1)[0]
        last = head.rsplit(".", 1)[-1]
        if "dataclass" in last and last != "dataclass":
            return "dataclass-wrapper:" + text.replace(" ", "")
        path = getattr(decorator.value, "canonical_path", None) or getattr(
            getattr(decorator.value, "function", None), "canonical_path", None
        )
        # attrs itself, or a project's thin wrapper module around it (referencing._attrs.frozen)
        if head.rsplit(".", 1)[-1] in _ATTRS_DECORATORS and "attr" in str(path or head):
            return text.replace(" ", "")
    return None


def _attrs_fields(lineage: list[griffe.Class]) -> list[ApiParameter] | None:
    """An attrs class's generated ``__init__``: its fields in order (bases first), a leading
    underscore dropped from the name, ``kw_only`` honoured. None for other classes, or when the
    class writes its own ``__init__`` or asks for none."""
    decorator = _attrs_decorator(lineage[0])
    if decorator is None or "init=False" in decorator or "__init__" in lineage[0].members:
        return None
    class_kw_only = "kw_only=True" in decorator
    fields: dict[str, ApiParameter] = {}
    for klass in reversed([k for k in lineage if _attrs_decorator(k) is not None]):
        for name, member in klass.members.items():
            if not isinstance(member, griffe.Attribute) or "instance-attribute" not in member.labels:
                continue
            value = _text(member.value)
            call = _ATTRS_FIELD_CALL.match(value.strip()) if value else None
            if member.annotation is None and call is None:
                continue
            keywords = _call_keywords(call.group(1)) if call else {}
            if keywords.get("init") == "False":
                continue
            default = value if call is None else keywords.get("default")
            if call is not None and default is None and "factory" in keywords:
                default = "NOTHING"
            if default is None and "default_factory" in keywords:
                default = "<factory>"
            plain = decorator.startswith("dataclass-wrapper:")  # dataclasses keep the name as written
            alias = keywords.get("alias", "").strip("'\"") or (name if plain else name.lstrip("_"))
            kw_only = class_kw_only or keywords.get("kw_only") == "True"
            fields.pop(name, None)
            fields[name] = ApiParameter(
                name=alias,
                kind="keyword-only" if kw_only else "positional-or-keyword",
                annotation=_text(member.annotation),
                default=default,
            )
    return list(fields.values())


def _call_keywords(arguments: str) -> dict[str, str]:
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
    except SyntaxError:
        return {}
    if not isinstance(call, ast.Call):
        return {}
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    if call.args and "default" not in keywords:
        keywords["default"] = ast.unparse(call.args[0])
    return keywords


def _field_default(value: str | None) -> tuple[str | None, str | None]:
    """(alias, default as shown) of a field's right-hand side, ``Field(...)`` calls included."""
    if value is None:
        return None, None
    match = _FIELD_CALL.match(value.strip())
    if match is None:
        return None, value
    try:
        call = ast.parse(f"f({match.group(1)})", mode="eval").body
    except SyntaxError:
        return None, None
    assert isinstance(call, ast.Call)
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    alias = keywords.get("alias")
    alias = alias.strip("'\"") if alias and alias[:1] in "'\"" else None
    if call.args and ast.unparse(call.args[0]) not in ("...", "Ellipsis", "PydanticUndefined"):
        return alias, ast.unparse(call.args[0])
    if "default" in keywords and keywords["default"] not in ("...", "Ellipsis"):
        return alias, keywords["default"]
    if "default_factory" in keywords:
        return alias, "<factory>"
    return alias, None


def _named_tuple_fields(cls: griffe.Class) -> list[ApiParameter]:
    fields = []
    for name, member in cls.members.items():
        if (
            isinstance(member, griffe.Attribute)
            and member.annotation is not None
            and not name.startswith("_")
            and "instance-attribute" in member.labels
        ):
            fields.append(
                ApiParameter(
                    name=name,
                    kind="positional-or-keyword",
                    annotation=_text(member.annotation),
                    default=_text(member.value),
                )
            )
    return fields


def _load_external_bases(loaded: LoadedPackage, lineage: list[griffe.Class]) -> bool:
    """Load (statically, from the same search paths plus the standard library) the modules of
    bases defined outside the package, so an inherited ``__init__`` is found. True if any loaded."""
    progressed = False
    for klass in lineage:
        for base in klass.bases:
            path = getattr(base, "canonical_path", None) if not isinstance(base, str) else None
            if not path or "." not in path:
                continue
            top = path.split(".", 1)[0]
            if top in loaded.loader.modules_collection.members or top in loaded.external_failed:
                continue
            if time.monotonic() >= loaded.loader.deadline:
                return progressed
            try:
                loaded.loader.load(top, submodules=True, try_relative_path=False)
                progressed = True
            except LOAD_ERRORS:
                loaded.external_failed.add(top)
    return progressed


def _all_base_names(lineage: list[griffe.Class]) -> list[str]:
    return [str(base) for klass in lineage for base in klass.bases]


def _base_name(base: str) -> str:
    return base.split("[", 1)[0].rsplit(".", 1)[-1]


def _variadic() -> list[ApiParameter]:
    return [ApiParameter(name="args", kind="var-positional"), ApiParameter(name="kwargs", kind="var-keyword")]


def _parameters(parameters: griffe.Parameters, *, drop_first: bool, owner: str | None = None) -> list[ApiParameter]:
    listed = list(parameters)
    if drop_first and listed and listed[0].kind is not None and listed[0].kind.value != "variadic positional":
        listed = listed[1:]
    return [
        ApiParameter(
            name=_mangled(p.name, owner),
            kind=_PARAMETER_KINDS.get(p.kind.value if p.kind is not None else "", "positional-or-keyword"),
            annotation=_text(p.annotation),
            default=None if p.kind is not None and p.kind.value.startswith("variadic") else _text(p.default),
        )
        for p in listed
    ]


def _mangled(name: str, owner: str | None) -> str:
    """Python renames ``__x`` inside a class body to ``_Class__x``; so do call sites."""
    if owner and name.startswith("__") and not name.endswith("__"):
        return f"_{owner.lstrip('_')}{name}"
    return name


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


def _docstring(obj: griffe.Object, parameters: list[ApiParameter]) -> ApiDocstring | None:
    docstring = obj.docstring or _inherited_docstring(obj)
    if docstring is None or not docstring.value.strip():
        return None
    text = _without_leading_admonitions(docstring.value.strip())
    summary, _, rest = text.partition("\n")
    result = ApiDocstring(summary=summary.strip() or None)
    try:
        sections = docstring.parse("auto")
    except Exception:  # a docstring griffe cannot parse is shown as plain text
        result.description = _short(rest.strip(), _MAX_TEXT_CHARS) or None
        return result
    by_name = {p.name: p for p in parameters}
    texts: list[str] = []
    for section in sections:
        kind = section.kind.value
        value: Any = section.value
        if kind == "text":
            texts.append(str(value))
        elif kind in ("parameters", "other parameters"):
            for item in value:
                parameter = by_name.get(str(item.name).lstrip("*"))
                if parameter is not None and item.description:
                    parameter.description = _short(str(item.description), 600)
                elif item.description:
                    texts.append(f"{item.name}: {item.description}")
        elif kind in ("returns", "yields"):
            result.returns += [_item(item) for item in value]
        elif kind == "raises":
            result.raises += [
                DocItem(annotation=_text(item.annotation), description=item.description) for item in value
            ]
        elif kind == "examples":
            result.examples += [str(part[1]) if isinstance(part, tuple) else str(part) for part in value]
        elif kind == "admonition":
            result.other.append(f"{section.title or value.kind}: {value.description}")
        elif isinstance(value, list):
            result.other += [
                f"{kind}: {getattr(item, 'name', '')} {getattr(item, 'description', '')}".strip() for item in value
            ]
        elif value:
            result.other.append(f"{kind}: {value}")
    description = "\n\n".join(t.strip() for t in texts if t.strip())
    if description.startswith(summary.strip()):
        description = description[len(summary.strip()) :].strip()
    result.description = _short(description, _MAX_TEXT_CHARS) or None
    return result


def _inherited_docstring(obj: griffe.Object) -> griffe.Docstring | None:
    """A method without a docstring shows its base class's, as ``inspect.getdoc`` does."""
    owner = obj.parent
    if not isinstance(owner, griffe.Class) or not isinstance(obj, griffe.Function):
        return None
    try:
        bases = owner.mro()
    except _RESOLUTION_ERRORS:
        return None
    for base in bases:
        member = base.members.get(obj.name)
        target = _target(member) if member is not None else None
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
        annotation=_text(getattr(item, "annotation", None)),
        description=str(getattr(item, "description", "") or ""),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text or None


def _short(text: str | None, limit: int = _MAX_VALUE_CHARS) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."
