"""Index credentials the operator gives by an index's *name*: uv's and Poetry's variables.

* **uv**: ``UV_INDEX_<NAME>_USERNAME`` and ``UV_INDEX_<NAME>_PASSWORD`` for an index named
  ``name`` (a ``[[tool.uv.index]]`` table, or ``name=url`` in ``UV_INDEX``/``UV_DEFAULT_INDEX``).
  ``<NAME>`` is the name upper-cased, every character that is not an ASCII letter or digit
  replaced by ``_`` (uv's documentation: ``internal-proxy`` → ``UV_INDEX_INTERNAL_PROXY_USERNAME``).
* **Poetry**: ``POETRY_HTTP_BASIC_<NAME>_USERNAME`` and ``_PASSWORD`` for a source named ``name``
  (a ``[[tool.poetry.source]]``, or ``POETRY_REPOSITORIES_<NAME>_URL``). Poetry reads the setting
  ``http-basic.<name>.username`` from ``POETRY_`` + its dot-separated keys, each upper-cased with
  ``-`` written ``_``, joined by ``_``: a ``.`` in the name becomes ``_`` too. Its
  ``POETRY_REPOSITORIES_<NAME>_URL`` names the source ``<name>`` lower-cased with ``_`` → ``-``.

**Who binds the name to a URL** decides where a credential may go. The operator's own variables
(``UV_INDEX``/``UV_DEFAULT_INDEX`` ``name=url``, ``POETRY_REPOSITORIES_<NAME>_URL``) always bind;
a project's table binds only when ``trust_project_names`` (stdio, where the project and the
environment are one user's, as when uv or Poetry runs there). Over HTTP a client's project could
otherwise bind the operator's ``UV_INDEX_INTERNAL_PASSWORD`` to a host of its choosing.

Nothing here is sent anywhere: :func:`credential_sources` says which variables serve which index
(names only: it is part of a client's identity), :func:`credential_urls` reads their values when
a client is built, as URL user information for :class:`~autodocs.index.auth.IndexCredentials`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from autodocs.index.auth import without_credentials

__all__ = [
    "CredentialSource",
    "NamedIndex",
    "credential_sources",
    "credential_urls",
    "operator_named_indexes",
    "poetry_variable",
    "uv_variable",
]

Tool = Literal["uv", "poetry"]
#: (index URL without credentials, variable prefix such as ``UV_INDEX_INTERNAL``): no secret in it.
CredentialSource = tuple[str, str]

_POETRY_REPOSITORY = re.compile(r"^POETRY_REPOSITORIES_(?P<name>[A-Z_]+)_URL$")


@dataclass(frozen=True, slots=True)
class NamedIndex:
    url: str
    name: str
    tool: Tool


def uv_variable(name: str) -> str:
    """The prefix of uv's credential variables for the index ``name``."""
    return "UV_INDEX_" + "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in name)


def poetry_variable(name: str) -> str:
    """The prefix of Poetry's credential variables for the source ``name``."""
    return "POETRY_HTTP_BASIC_" + "_".join(key.upper().replace("-", "_") for key in name.split("."))


def operator_named_indexes(environ: Mapping[str, str] | None = None) -> list[NamedIndex]:
    """The indexes the operator's own variables name: uv's ``name=url`` entries, Poetry's repositories."""
    env = os.environ if environ is None else environ
    found: list[NamedIndex] = []
    for variable in ("UV_INDEX", "UV_DEFAULT_INDEX"):
        for word in env.get(variable, "").split():
            name, equals, url = word.partition("=")
            if equals and "://" not in name and name and url:
                found.append(NamedIndex(_clean(url), name, "uv"))
    for variable, value in env.items():
        match = _POETRY_REPOSITORY.match(variable)
        if match and value.strip():
            found.append(NamedIndex(_clean(value), match["name"].lower().replace("_", "-"), "poetry"))
    return found


def credential_sources(
    project: Iterable[NamedIndex],
    *,
    trust_project_names: bool,
    environ: Mapping[str, str] | None = None,
) -> tuple[CredentialSource, ...]:
    """Which variables hold credentials for which index: the operator's bindings, then (when
    ``trust_project_names``) the project's; only those whose variables are set, each once."""
    env = os.environ if environ is None else environ
    named = [*operator_named_indexes(env), *(project if trust_project_names else ())]
    sources: dict[CredentialSource, None] = {}
    for index in named:
        prefix = uv_variable(index.name) if index.tool == "uv" else poetry_variable(index.name)
        if env.get(f"{prefix}_USERNAME") or env.get(f"{prefix}_PASSWORD"):
            sources[(index.url, prefix)] = None
    return tuple(sources)


def credential_urls(sources: Iterable[CredentialSource], environ: Mapping[str, str] | None = None) -> list[str]:
    """Each source's index URL with its variables' user name and password as user information."""
    env = os.environ if environ is None else environ
    urls = []
    for url, prefix in sources:
        user, password = env.get(f"{prefix}_USERNAME", ""), env.get(f"{prefix}_PASSWORD", "")
        if not (user or password):
            continue
        parts = urlsplit(url)
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        urls.append(urlunsplit(parts._replace(netloc=userinfo + parts.netloc)))
    return urls


def _clean(url: str) -> str:
    return without_credentials(url.strip()).rstrip("/")
