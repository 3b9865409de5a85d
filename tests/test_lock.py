"""requirements/test.txt, the lock scripts/check.sh installs from, covers what pyproject.toml asks.

A dependency added without regenerating the lock would otherwise surface as an ImportError
somewhere in the suite; this names it and the one command that fixes it.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO_ROOT

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def locked_versions() -> dict[str, Version]:
    text = (REPO_ROOT / "requirements" / "test.txt").read_text()
    return {canonicalize_name(name): Version(version) for name, version in _PIN.findall(text)}


def required() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    wanted = [
        *project["project"]["dependencies"],
        *extras["test"],
        *extras["postgres"],
        *project["build-system"]["requires"],
    ]
    return [Requirement(each) for each in wanted]


def test_the_lock_pins_every_dependency_pyproject_names_within_its_range() -> None:
    locked = locked_versions()
    missing = [str(each) for each in required() if canonicalize_name(each.name) not in locked]
    outside = [
        f"{each} (locked {locked[canonicalize_name(each.name)]})"
        for each in required()
        if canonicalize_name(each.name) in locked
        and not each.specifier.contains(locked[canonicalize_name(each.name)], prereleases=True)
    ]
    assert not missing and not outside, (
        f"requirements/test.txt is out of date (missing: {missing}; outside the range: {outside}): "
        "run bash scripts/update-lock.sh"
    )


def test_every_locked_package_carries_a_hash() -> None:
    text = (REPO_ROOT / "requirements" / "test.txt").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)  # one entry per package: its pin, hashes, comments
    pinned = [entry for entry in entries if _PIN.match(entry)]
    assert pinned
    assert all("--hash=sha256:" in entry for entry in pinned)
