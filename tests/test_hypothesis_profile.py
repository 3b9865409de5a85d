"""CI runs property tests on a fixed, bounded draw (tests/conftest.py registers the profile)."""

from __future__ import annotations

import os
import subprocess
import sys

import hypothesis

from tests.conftest import REPO_ROOT

_SHOW_PROFILE = (
    "import hypothesis, tests.conftest\n"
    "current = hypothesis.settings.default\n"
    "print(current.derandomize, current.deadline, current.max_examples, current.database)\n"
)


def run_with(environment: dict[str, str]) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "HYPOTHESIS_PROFILE")}
    done = subprocess.run(
        [sys.executable, "-c", _SHOW_PROFILE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO_ROOT,
        env=env | environment,
    )
    return done.stdout.strip()


def test_the_ci_profile_is_derandomized_bounded_and_has_no_deadline() -> None:
    profile = hypothesis.settings.get_profile("ci")
    assert profile.derandomize
    assert profile.deadline is None
    assert profile.max_examples <= 100
    assert profile.database is None


def test_ci_true_selects_the_ci_profile() -> None:
    assert run_with({"CI": "true"}) == "True None 100 None"


def test_without_ci_the_default_profile_keeps_exploring() -> None:
    assert run_with({}).startswith("False ")
