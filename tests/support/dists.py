"""Wheels and sdists of small fixture projects, built in memory: no build backend, no network.

A wheel is a zip with ``NAME-VERSION.dist-info/{METADATA,WHEEL,RECORD}`` beside the code, and
an sdist a gzipped tar with ``NAME-VERSION/PKG-INFO`` at its top; both formats are small and
fixed (PEP 427, PEP 625), so writing them with :mod:`zipfile`/:mod:`tarfile` is exact and keeps
the tests independent of whichever backend (and its network fetches) a build would need.
The METADATA is written by :mod:`email` as core metadata 2.1 (the description is the body).
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import tarfile
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import compat32

__all__ = ["FixtureProject", "core_metadata", "fixture_projects"]

MARKDOWN_README = """# {name}

{name} {version} is a small fixture library.

## Installation

Install it with pip.

## Usage

Call `{module}.greet()` and read what version {version} says.
"""

WHEEL_FILE = b"Wheel-Version: 1.0\nGenerator: autodocs-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"

REST_README = """{name}
{underline}

{name} {version} is a small fixture library documented in reStructuredText.

Usage
-----

Call ``{module}.greet()`` and read what version {version} says.
"""


@dataclass(frozen=True)
class FixtureProject:
    name: str
    version: str
    markup: str = "markdown"  # or "rst"
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = ">=3.8"
    extra_files: dict[str, str] = field(default_factory=dict)
    tail_padding: int = 0  # incompressible bytes stored after METADATA: pushes it out of a wheel's tail

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")

    @property
    def stem(self) -> str:
        return f"{self.module}-{self.version}"

    def readme(self) -> str:
        if self.markup == "rst":
            return REST_README.format(
                name=self.name, version=self.version, module=self.module, underline="=" * len(self.name)
            )
        return MARKDOWN_README.format(name=self.name, version=self.version, module=self.module)

    def code(self) -> str:
        return (
            f'"""The {self.name} fixture package, version {self.version}."""\n\n'
            f"__version__ = {self.version!r}\n\n\n"
            "def greet(who: str = 'world') -> str:\n"
            f'    """Say hello, the {self.version} way."""\n'
            "    return f'hello {who}'\n"
        )

    def wheel(self) -> tuple[str, bytes]:
        dist_info = f"{self.stem}.dist-info"
        members = {
            f"{self.module}/__init__.py": self.code().encode(),
            **{path: text.encode() for path, text in self.extra_files.items()},
            f"{dist_info}/METADATA": core_metadata(self),
            f"{dist_info}/WHEEL": WHEEL_FILE,
        }
        if self.tail_padding:
            members[f"{dist_info}/licenses/PADDING"] = random.Random(self.version).randbytes(self.tail_padding)
        record = [f"{path},sha256={_urlsafe_digest(data)},{len(data)}" for path, data in members.items()]
        members[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path, data in members.items():
                bundle.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        return f"{self.stem}-py3-none-any.whl", buffer.getvalue()

    def sdist(self) -> tuple[str, bytes]:
        members = {
            f"{self.stem}/PKG-INFO": core_metadata(self),
            f"{self.stem}/README": self.readme().encode(),
            f"{self.stem}/src/{self.module}/__init__.py": self.code().encode(),
            f"{self.stem}/pyproject.toml": f'[project]\nname = "{self.name}"\nversion = "{self.version}"\n'.encode(),
        }
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
            for path, data in members.items():
                info = tarfile.TarInfo(path)
                info.size, info.mtime = len(data), 1_704_067_200
                bundle.addfile(info, io.BytesIO(data))
        return f"{self.stem}.tar.gz", buffer.getvalue()


def core_metadata(project: FixtureProject) -> bytes:
    message = EmailMessage(policy=compat32)
    message["Metadata-Version"] = "2.1"
    message["Name"] = project.name
    message["Version"] = project.version
    message["Summary"] = f"The {project.name} fixture, release {project.version}."
    message["Home-page"] = f"https://example.invalid/{project.name}"
    message["License"] = "MIT"
    if project.requires_python:
        message["Requires-Python"] = project.requires_python
    for requirement in project.requires_dist:
        message["Requires-Dist"] = requirement
    message["Description-Content-Type"] = "text/x-rst" if project.markup == "rst" else "text/markdown"
    message.set_payload(project.readme())
    return message.as_bytes()


def fixture_projects() -> list[FixtureProject]:
    """Several versions of two projects (Markdown and reST), a yanked-to-be one and a pre-release."""
    return [
        FixtureProject("tinylib", "0.9.0"),
        FixtureProject("tinylib", "1.0.0", requires_dist=("packaging>=20",)),
        FixtureProject("tinylib", "1.1.0"),  # yanked by the index that serves it, where it can say so
        FixtureProject("tinylib", "2.0.0rc1"),
        FixtureProject("rest-lib", "1.0.0", markup="rst"),
        FixtureProject("rest-lib", "1.2.0", markup="rst"),
    ]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _urlsafe_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
