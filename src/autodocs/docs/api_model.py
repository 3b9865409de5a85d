"""What an API reference reply holds: objects with signatures and parsed docstrings.

Empty fields are dropped when serialized (:meth:`ApiReference.compact`), so an undocumented
function costs a few tokens and a documented one pays only for what its docstring says.

Values as written in the code (an attribute's value, a parameter's default) can hold secrets
(``SECRET_KEY = '...'``, a database URL with its password), wherever the code came from, so
they go through :func:`shown_value`: an attribute whose name contains KEY, SECRET, TOKEN or
PASSWORD (any case) has its value replaced by :data:`HIDDEN` unless it is plainly not a secret
(None, a bool, a number). In any value, a parameter's default included, the credentials of a
URL are masked, as are string literals given to a secret-looking key (``{"password": "..."}``,
``dict(api_key="...")``). Docstrings are shown as written.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "HIDDEN",
    "ApiDocstring",
    "ApiObject",
    "ApiParameter",
    "ApiReference",
    "ApiSource",
    "DocItem",
    "shown_value",
]

HIDDEN = "<hidden: may be a secret>"
# The models are frozen, their sequences tuples: references are memoized and shared by every
# caller (autodocs.usecases.api_reference); a changed value is a new one (model_copy).
_SECRET_NAME = re.compile(r"key|secret|token|password", re.IGNORECASE)
_HARMLESS = re.compile(r"^(None|True|False|\.\.\.|-?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?)$")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@'\"]*:[^\s/@'\"]*@")
#: ``"password": '...'`` or ``api_key='...'`` inside a value: the key, then a string literal.
_SECRET_ITEM = re.compile(
    r"(?P<key>['\"]?\w*(?:key|secret|token|password)\w*['\"]?\s*[:=]\s*)[rRbBuUfF]{0,2}(?:'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\")",
    re.IGNORECASE,
)


def shown_value(name: str | None, value: str | None) -> str | None:
    """``value`` as a reply may show it (see the module docstring); ``name``: the attribute's, or
    None for a parameter's default (``safe_user_passwords=('git',)`` names no secret)."""
    if value is None:
        return None
    if name is not None and _SECRET_NAME.search(name) and not _HARMLESS.match(value.strip()):
        return HIDDEN
    value = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{HIDDEN}@", value)
    return _SECRET_ITEM.sub(lambda m: f"{m.group('key')}{HIDDEN!r}", value)


ObjectKind = Literal["module", "class", "function", "method", "property", "attribute", "type_alias", "alias"]
ParameterKind = Literal["positional-only", "positional-or-keyword", "var-positional", "keyword-only", "var-keyword"]


class ApiParameter(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: ParameterKind
    annotation: str | None = None
    default: str | None = Field(default=None, description="The default as written in the source.")
    description: str | None = Field(default=None, description="From the docstring's parameter section.")

    @field_validator("default")
    @classmethod
    def _hide_secrets(cls, default: str | None) -> str | None:
        return shown_value(None, default)


class DocItem(BaseModel):
    """One entry of a docstring section (a return value, an exception, an attribute...)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    annotation: str | None = None
    description: str = ""


class ApiDocstring(BaseModel):
    model_config = ConfigDict(frozen=True)

    summary: str | None = None
    description: str | None = Field(default=None, description="The text after the summary line.")
    returns: tuple[DocItem, ...] = Field(default_factory=tuple)
    raises: tuple[DocItem, ...] = Field(default_factory=tuple)
    examples: tuple[str, ...] = Field(default_factory=tuple)
    other: tuple[str, ...] = Field(default_factory=tuple, description="Other sections (notes, warnings...) as text.")


class ApiObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str = Field(description="The public dotted path (where users import it from).")
    kind: ObjectKind
    defined_in: str | None = Field(default=None, description="The canonical path, when it differs from path.")
    signature: str | None = Field(default=None, description="Python-like signature, self/cls omitted.")
    parameters: tuple[ApiParameter, ...] = Field(default_factory=tuple)
    returns: str | None = Field(default=None, description="The return annotation.")
    bases: tuple[str, ...] = Field(default_factory=tuple)
    annotation: str | None = Field(default=None, description="An attribute's or property's type.")
    value: str | None = Field(default=None, description="An attribute's value as written (shortened).")
    labels: tuple[str, ...] = Field(default_factory=tuple, description="async, classmethod, dataclass, ...")
    docstring: ApiDocstring | None = None
    members: tuple[str, ...] = Field(
        default_factory=tuple, description="Names of this object's own members (ask with object_path to expand)."
    )

    @field_validator("value")
    @classmethod
    def _hide_secrets(cls, value: str | None, info: ValidationInfo) -> str | None:
        path: str = info.data.get("path", "")  # validated before value (declared first)
        return shown_value(path.rsplit(".", 1)[-1], value)


class ApiSource(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["environment", "wheel", "sdist"]
    location: str = Field(description="The site-packages folder, or the archive's file name.")
    distribution_version: str = Field(description="The version from the distribution's own metadata.")


class ApiReference(BaseModel):
    model_config = ConfigDict(frozen=True)

    package: str
    version: str
    object_path: str
    source: ApiSource
    object: ApiObject
    members: tuple[ApiObject, ...] = Field(default_factory=tuple, description="One level of members, best first.")
    partial: bool = Field(default=False, description="True when not every module could be read in time.")
    modules_skipped: tuple[str, ...] = Field(default_factory=tuple)
    warnings: tuple[str, ...] = Field(default_factory=tuple)
    truncated: bool = False
    omitted_members: tuple[str, ...] = Field(
        default_factory=tuple, description="Members left out to fit max_tokens (ask for them by object_path)."
    )
    omitted_count: int | None = Field(default=None, description="How many members were left out, when many.")
    how_to_get_more: str | None = None
    brief_members: bool = Field(
        default=False, description="True when members were shortened to signature and summary to fit."
    )
    served_from: Literal["cache", "built"] = "built"
    index: str | None = Field(
        default=None,
        description="With project_path, code read from the package index: that index (credentials masked).",
    )
    index_notes: tuple[str, ...] = Field(
        default_factory=tuple, description="With project_path: the project's indexes not used, and why."
    )

    def compact(self) -> dict[str, Any]:
        compacted: dict[str, Any] = _drop_empty(self.model_dump(mode="json"))
        return compacted


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in (None, [], {}, "") and v is not False}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value
