"""Real-world manifest corpus: ``scan_project`` against hand-checked answer keys.

Each directory under ``tests/data/manifests/`` is a real project's manifests (from its sdist,
lock files generated with the real tools) plus ``expected.json``; see the key's ``origin`` and
``notes``. Keys were derived by hand, never from this scanner's output.

Key format extras: an expected dependency may give ``pinned_version_any_of`` instead of
``pinned_version`` when the lock file pins the package at several versions (per-Python forks);
the scanner's pinned_version must then be one of them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from autodocs.manifests.scan import scan_project

CORPUS = Path(__file__).resolve().parent.parent / "data" / "manifests"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())

# Environments used to decide whether two differently written markers mean the same thing
# (e.g. "a and b" vs "b and a"); only used when the normalized strings differ.
_PYTHONS = ["2.7", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "4.0"]
_PLATFORMS = [("linux", "Linux", "posix"), ("win32", "Windows", "nt"), ("darwin", "Darwin", "posix")]
_IMPLS = [("cpython", "CPython"), ("pypy", "PyPy")]
_KNOWN_VARS = {
    "python_version",
    "python_full_version",
    "sys_platform",
    "platform_system",
    "os_name",
    "implementation_name",
    "platform_python_implementation",
}


def _environments() -> list[dict[str, str]]:
    envs = []
    for py, (sys_platform, system, os_name), (impl, pyimpl) in itertools.product(_PYTHONS, _PLATFORMS, _IMPLS):
        envs.append(
            {
                "python_version": py,
                "python_full_version": py + ".0",
                "sys_platform": sys_platform,
                "platform_system": system,
                "os_name": os_name,
                "implementation_name": impl,
                "platform_python_implementation": pyimpl,
                "extra": "",
            }
        )
    return envs


def _markers_equal(a: str, b: str) -> bool:
    if str(Marker(a)) == str(Marker(b)):
        return True
    text = a + " " + b
    variables = {tok for tok in text.replace("(", " ").replace(")", " ").split() if tok.isidentifier()}
    variables -= {"and", "or", "not", "in"}
    if not variables <= _KNOWN_VARS:
        return False  # cannot enumerate every value of that variable: demand the exact normalized string
    return all(Marker(a).evaluate(env) == Marker(b).evaluate(env) for env in _environments())


def _spec_equal(a: str, b: str) -> bool:
    return SpecifierSet(a or "") == SpecifierSet(b or "")


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _sources(dep: Any) -> list[tuple[str, int | None]]:
    raw = _field(dep, "sources")
    if raw is None:
        raw = [_field(dep, "source")]
    return [(_field(s, "file"), _field(s, "line")) for s in raw if s is not None]


def _error_type(err: Any) -> str | None:
    payload = _field(err, "error")
    found = _field(err, "type") if payload is None else _field(payload, "type")
    return None if found is None else str(found)


def _match(
    case: str, key: tuple[str, str], expected: list[dict[str, Any]], actual: list[Any]
) -> list[tuple[dict[str, Any], Any]]:
    """Pair expected and actual entries sharing (name, group); several only for per-marker entries."""
    assert len(actual) == len(expected), (
        f"[{case}] {key}: expected {len(expected)} entr{'y' if len(expected) == 1 else 'ies'} "
        f"(markers {[e['marker'] for e in expected]}), got {len(actual)} "
        f"(markers {[_field(a, 'marker') for a in actual]}); duplicates must be merged"
    )
    if len(expected) == 1:
        return [(expected[0], actual[0])]
    pairs = []
    remaining = list(actual)
    for exp in expected:
        found = None
        for act in remaining:
            am, em = _field(act, "marker"), exp["marker"]
            same_marker = (am is None and em is None) or (am is not None and em is not None and _markers_equal(am, em))
            if same_marker and _spec_equal(_field(act, "specifier") or "", exp["specifier"]):
                found = act
                break
        assert found is not None, (
            f"[{case}] {key}: no entry with marker {exp['marker']!r} / specifier {exp['specifier']!r}"
        )
        remaining.remove(found)
        pairs.append((exp, found))
    return pairs


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str) -> None:
    root = CORPUS / case
    key = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    result = scan_project(root)

    # errors: every file the key expects to fail must fail with that type
    actual_errors = {(_field(e, "file"), _error_type(e)) for e in result.errors}
    for err in key.get("errors", []):
        assert (err["file"], err["type"]) in actual_errors, (
            f"[{case}] expected {err['file']} to be reported as {err['type']}; "
            f"errors were {sorted(map(str, actual_errors))}"
        )
    unexpected = {f for f, _ in actual_errors} - {e["file"] for e in key.get("errors", [])}
    assert not unexpected, (
        f"[{case}] unexpected per-file errors: {[e for e in result.errors if _field(e, 'file') in unexpected]}"
    )

    expected_by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for dep in key["dependencies"]:
        expected_by_key.setdefault((dep["name"], dep["group"]), []).append(dep)
    actual_by_key: dict[tuple[str, str], list[Any]] = {}
    for dep in result.dependencies:
        actual_by_key.setdefault((_field(dep, "name"), _field(dep, "group")), []).append(dep)

    missing = sorted(set(expected_by_key) - set(actual_by_key))
    phantom = sorted(set(actual_by_key) - set(expected_by_key))
    assert not missing and not phantom, f"[{case}] missing (name, group): {missing}; phantom (name, group): {phantom}"

    problems: list[str] = []
    for k, expected in sorted(expected_by_key.items()):
        for exp, act in _match(case, k, expected, actual_by_key[k]):
            where = f"[{case}] {exp['name']} ({exp['group']}, marker={exp['marker']!r})"
            spec = _field(act, "specifier") or ""
            if not _spec_equal(spec, exp["specifier"]):
                problems.append(f"{where} specifier: expected {exp['specifier']!r}, got {spec!r}")
            extras = list(_field(act, "extras") or [])
            if extras != exp["extras"]:
                problems.append(f"{where} extras: expected {exp['extras']}, got {extras}")
            am, em = _field(act, "marker"), exp["marker"]
            if (am is None) != (em is None) or (am is not None and not _markers_equal(am, em)):
                problems.append(f"{where} marker: expected {em!r}, got {am!r}")
            pinned = _field(act, "pinned_version")
            if "pinned_version_any_of" in exp:
                if pinned not in exp["pinned_version_any_of"]:
                    problems.append(
                        f"{where} pinned_version: expected one of {exp['pinned_version_any_of']}, got {pinned!r}"
                    )
            elif pinned != exp["pinned_version"]:
                problems.append(f"{where} pinned_version: expected {exp['pinned_version']!r}, got {pinned!r}")
            if _field(act, "url") != exp["url"]:
                problems.append(f"{where} url: expected {exp['url']!r}, got {_field(act, 'url')!r}")
            got_sources = _sources(act)
            got_files = {f for f, _ in got_sources}
            for src in exp["sources"]:
                if src.get("line") is None:
                    if src["file"] not in got_files:
                        problems.append(f"{where} sources: {src['file']} missing from {got_sources}")
                elif (src["file"], src["line"]) not in got_sources:
                    problems.append(f"{where} sources: {src['file']}:{src['line']} missing from {got_sources}")
            extra_sources = got_files - {s["file"] for s in exp["sources"]}
            if extra_sources:
                problems.append(f"{where} sources: unexpected files {sorted(extra_sources)}")
    assert not problems, f"[{case}] {len(problems)} field mismatch(es):\n" + "\n".join(problems)

    if "locked_only" in key:
        if not hasattr(result, "locked_only"):
            pytest.skip(f"[{case}] ScanResult has no locked_only yet")
        got = {_field(p, "name"): _field(p, "pinned_version") for p in result.locked_only}
        want = {p["name"]: p for p in key["locked_only"]}
        assert set(got) == set(want), (
            f"[{case}] locked_only names: missing {sorted(set(want) - set(got))}, "
            f"phantom {sorted(set(got) - set(want))}"
        )
        bad = []
        for name, exp in want.items():
            allowed = exp.get("pinned_version_any_of", [exp.get("pinned_version")])
            if got[name] not in allowed:
                bad.append(f"{name}: expected {allowed}, got {got[name]!r}")
        assert not bad, f"[{case}] locked_only pinned_version mismatches:\n" + "\n".join(bad)
