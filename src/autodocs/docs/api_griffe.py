"""Small readings of griffe's objects shared by the describer and the class-signature builders."""

from __future__ import annotations

from typing import Any

import griffe

from autodocs.docs.api_model import ApiParameter, ParameterKind

__all__ = [
    "LOOKUP_ERRORS",
    "PARAMETER_KINDS",
    "RESOLUTION_ERRORS",
    "call_parameters",
    "mangled_name",
    "resolved_target",
    "text_of",
]

#: What asking griffe for a member, an alias's target or an MRO can raise on partial trees.
RESOLUTION_ERRORS = (ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError)
LOOKUP_ERRORS = (KeyError, *RESOLUTION_ERRORS)
PARAMETER_KINDS: dict[str, ParameterKind] = {
    "positional-only": "positional-only",
    "positional or keyword": "positional-or-keyword",
    "variadic positional": "var-positional",
    "keyword-only": "keyword-only",
    "variadic keyword": "var-keyword",
}


def resolved_target(obj: griffe.Object | griffe.Alias) -> griffe.Object | None:
    if isinstance(obj, griffe.Alias):
        try:
            final = obj.final_target
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        return final if isinstance(final, griffe.Object) else None
    return obj


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text or None


def call_parameters(parameters: griffe.Parameters, *, drop_first: bool, owner: str | None = None) -> list[ApiParameter]:
    listed = list(parameters)
    if drop_first and listed and listed[0].kind is not None and listed[0].kind.value != "variadic positional":
        listed = listed[1:]
    return [
        ApiParameter(
            name=mangled_name(p.name, owner),
            kind=PARAMETER_KINDS.get(p.kind.value if p.kind is not None else "", "positional-or-keyword"),
            annotation=text_of(p.annotation),
            default=None if p.kind is not None and p.kind.value.startswith("variadic") else text_of(p.default),
        )
        for p in listed
    ]


def mangled_name(name: str, owner: str | None) -> str:
    """Python renames ``__x`` inside a class body to ``_Class__x``; so do call sites."""
    if owner and name.startswith("__") and not name.endswith("__"):
        return f"_{owner.lstrip('_')}{name}"
    return name
