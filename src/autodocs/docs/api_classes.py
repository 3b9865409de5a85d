"""The parameters a call of a class takes, read statically as ``inspect.signature`` reports them.

A class shows a metaclass's ``__call__``, else the first ``__new__``/``__init__`` along its MRO;
initializers that class-building libraries generate are rebuilt from the fields: dataclasses,
attrs classes, pydantic models (with aliases and alias generators), NamedTuples and enums.
"""

from __future__ import annotations

import ast
import enum
import inspect
import re
import time

import griffe

from autodocs.docs.api_griffe import (
    LOOKUP_ERRORS,
    PARAMETER_KINDS,
    RESOLUTION_ERRORS,
    call_parameters,
    resolved_target,
    text_of,
)
from autodocs.docs.api_loader import LOAD_ERRORS, LoadedPackage
from autodocs.docs.api_model import ApiParameter

__all__ = ["class_parameters"]


def class_parameters(cls: griffe.Class, loaded: LoadedPackage | None = None) -> list[ApiParameter]:
    """The parameters a call of the class takes, found the way ``inspect.signature`` finds them:
    the first ``__new__`` or ``__init__`` along the MRO (``__new__`` first within one class)."""
    if any(str(d.value).split("(", 1)[0].rsplit(".", 1)[-1] == "deprecated" for d in cls.decorators):
        # warnings.deprecated / typing_extensions.deprecated replace __new__ with (*args, **kwargs)
        return _variadic()
    try:
        lineage = [cls, *cls.mro()]
    except RESOLUTION_ERRORS:
        lineage = [cls]
    call = _metaclass_call(lineage)
    if call is not None:  # inspect.signature looks at a metaclass's own __call__ first
        return call_parameters(call.parameters, drop_first=True, owner=call.parent.name if call.parent else None)
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
            target = resolved_target(member) if member is not None else None
            if isinstance(target, griffe.Function) and not _suppressed_dataclass_init(klass, target):
                parameters = call_parameters(target.parameters, drop_first=True, owner=klass.name)
                return _factory_defaults(lineage, parameters) if not target.lineno else parameters
    if loaded is not None and _load_external_bases(loaded, lineage):
        return class_parameters(cls, None)
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
        kind=PARAMETER_KINDS[p.kind.description],
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
            meta = resolved_target(klass.modules_collection.get_member(path))
        except LOOKUP_ERRORS:
            return None
        if not isinstance(meta, griffe.Class):
            return None
        try:
            meta_lineage = [meta, *meta.mro()]
        except RESOLUTION_ERRORS:
            meta_lineage = [meta]
        for candidate in meta_lineage:
            call = candidate.members.get("__call__")
            target = resolved_target(call) if call is not None else None
            if isinstance(target, griffe.Function):
                return target
        return None
    return None


def _factory_defaults(lineage: list[griffe.Class], parameters: list[ApiParameter]) -> list[ApiParameter]:
    """A synthesized dataclass ``__init__``: griffe writes ``field(default_factory=list)`` as
    ``list()``; the generated signature shows ``<factory>``."""
    shown = []
    for parameter in parameters:
        for klass in lineage:
            member = klass.members.get(parameter.name)
            if isinstance(member, griffe.Attribute) and "default_factory" in str(member.value):
                parameter = parameter.model_copy(update={"default": "<factory>"})
                break
        shown.append(parameter)
    return shown


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
            alias, default = _field_default(text_of(member.value))
            alias = alias or _annotated_alias(text_of(member.annotation))
            fields[name] = (
                alias,
                ApiParameter(name=name, kind="keyword-only", annotation=text_of(member.annotation), default=default),
            )
    parameters = []
    for name, (alias, parameter) in fields.items():
        parameters.append(parameter.model_copy(update={"name": alias or _generated_alias(name, alias_generator)}))
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
            value = text_of(member.value)
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
                annotation=text_of(member.annotation),
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
                    annotation=text_of(member.annotation),
                    default=text_of(member.value),
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
