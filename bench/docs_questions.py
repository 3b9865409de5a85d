"""Hit rate of the docs tools on real developer questions about pinned releases (issue 23).

The corpus is ``bench/questions/corpus.toml``: questions about exact releases of popular
packages, each with the keys (API names, parameters) a correct answer contains, written before
any answer was seen, split into a tuning part and a held-out part nobody tunes on. A question
is answered when the reply's text (every string of its JSON, unescaped) holds all its keys,
case-insensitively.

Setup: each release's wheel and sdist are downloaded once into ``--cache`` with
``pip download --no-deps`` (``bench/_release_files.py``), then served on loopback by a real
Simple index (pypiserver, ``tests/support/pypiserver.py``: PEP 503 HTML, no PEP 658 files).

Live modes, each in its own process with an isolated environment (fresh HOME and cache, no
``PIP_*``/``UV_*``, ``AUTODOCS_INDEX_URL`` = the loopback index), through an in-process
``AutoDocsService``:

* **README only** (``AUTODOCS_RELEASE_DOCS=false``; today's behaviour, the baseline);
* **README + docs** (docs sets on; run only once the ``release_docs`` setting exists). Code that
  answers from docs sets without that setting runs one mode, "README + docs (today's code)";

each asked ``get_package_docs(name, "==V", query=question, max_tokens=B)`` for every budget
``B`` (the first reply counted apart — "its first call": a big docs tree is still being built
then — and the call asked again every second while the reply says ``docs_pending``), then
"+ API": ``get_api_reference(name, version_constraint="==V")`` once per release (so the version's
API entries are cached), the docs call again (its ``api_matches`` rank those
entries for the question), and ``get_api_reference`` on the best match's path at the same
budget; the docs reply and that API reply are read together. A reply whose version is not the
pin counts as a wrong version.

Offline mode (``bench/_questions_offline.py``): each release's docs set built straight from the
sdist, ranked and cut by the docs tool's own page maker. For the tuning split it then says, for
every miss, where the missing keys are (absent from the sdist, outside its docs, missed by the
readers, or ranked below the cut). Held-out questions only ever get a count.

    python -m bench.docs_questions [--quick] [--modes offline,live] [--budgets 4000,10000]

Bounded: every call has a deadline (``--call-timeout``), each live mode a wall-clock limit
(``--max-seconds``), each question a fixed number of calls (two per budget, plus one API
reference per release); the bench prints how many tool calls it made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._questions_offline import (
    OfflineRelease,
    answer_offline,
    causes_of,
    diagnose,
    load_release,
    reader_losses,
    reply_text,
)
from bench._release_files import ReleaseFiles, download_releases
from bench.questions import Question, load_questions, missing_keys

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "autodocs-bench-questions"
SPLITS = ("tuning", "held-out")
#: Docs calls wait this long at most for a docs set finishing in the background.
DOCS_PENDING_WAIT_S = 120.0


def quick_subset(questions: list[Question]) -> list[Question]:
    """Every fourth question of each split: a few minutes instead of the whole corpus."""
    return [q for split in SPLITS for q in [q for q in questions if q.split == split][::4]]


# ---- live modes: a child process per mode ----------------------------------------------------


def release_docs_setting_exists() -> bool:
    from autodocs.config import Settings

    return "release_docs" in Settings.model_fields


def docs_sets_wired() -> bool:
    """Whether ``get_package_docs`` answers from docs sets (its reply has ``docs_pending``)."""
    from autodocs.docs.model import DocsPage

    return "docs_pending" in DocsPage.model_fields


def live_modes() -> list[str]:
    """The live modes this code can run: both when docs sets can be switched off, else today's one."""
    if release_docs_setting_exists():
        return ["readme", "docs"]
    return ["today-docs"] if docs_sets_wired() else ["readme"]


def isolated_env(index_url: str, home: Path, release_docs: bool) -> dict[str, str]:
    """The child's environment: nothing of pip's, uv's or AutoDocs' own from this shell."""
    keep = {name: value for name, value in os.environ.items() if name in ("PATH", "LANG", "LC_ALL", "TMPDIR", "TZ")}
    home.mkdir(parents=True, exist_ok=True)
    return {
        **keep,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHONPATH": os.pathsep.join((str(REPO / "src"), str(REPO))),
        "AUTODOCS_INDEX_URL": index_url,
        "AUTODOCS_CACHE_DIR": str(home / "autodocs-cache"),
        "AUTODOCS_REQUEST_TIMEOUT": "60",
        "AUTODOCS_LOG_LEVEL": "ERROR",
        "AUTODOCS_RELEASE_DOCS": "true" if release_docs else "false",
    }


def run_live_mode(
    mode: str, index_url: str, questions: list[Question], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    """Run one live mode in a child process; its results (or why there are none)."""
    out = work / f"{mode}.json"
    ids = work / f"{mode}-ids.json"
    ids.write_text(json.dumps([q.id for q in questions]))
    env = isolated_env(index_url, work / f"home-{mode}", release_docs=mode != "readme")
    command = [sys.executable, "-m", "bench.docs_questions", "--worker", mode, "--ids", str(ids), "--out", str(out)]
    command += ["--budgets", ",".join(map(str, args.budgets)), "--call-timeout", str(args.call_timeout)]
    command += ["--max-seconds", str(args.max_seconds)]
    started = time.perf_counter()
    errors = work / f"{mode}.stderr"
    try:
        with errors.open("w") as sink:
            subprocess.run(command, cwd=work, env=env, stderr=sink, timeout=args.max_seconds + 120, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"mode {mode} did not stop within {args.max_seconds + 120} s", "results": {}}
    if not out.exists():
        tail = " | ".join(errors.read_text(errors="replace").strip().splitlines()[-3:])
        return {"error": f"mode {mode} wrote no results: {tail}", "results": {}}
    loaded: dict[str, Any] = json.loads(out.read_text())
    loaded["seconds"] = time.perf_counter() - started
    return loaded


def _draws_on_docset(payload: object) -> bool:
    """Whether a docs reply shows a docs set: its table of contents, or a section of origin docs."""
    if isinstance(payload, dict):
        if payload.get("docs_toc") or payload.get("origin") == "docs":
            return True
        return any(_draws_on_docset(value) for value in payload.values())
    if isinstance(payload, list):
        return any(_draws_on_docset(item) for item in payload)
    return False


async def _ask_docs(service: Any, question: Question, budget: int, seconds: float) -> tuple[Any, Any]:
    """The first reply, and the reply once the release's docs set is no longer pending."""
    deadline = time.monotonic() + DOCS_PENDING_WAIT_S
    first = None
    while True:
        page = await asyncio.wait_for(
            service.get_package_docs(
                question.package, f"=={question.version}", query=question.question, max_tokens=budget
            ),
            seconds,
        )
        first = first or page
        if not getattr(page, "docs_pending", False) or time.monotonic() > deadline:
            return first, page
        await asyncio.sleep(1.0)


async def worker(
    mode: str, questions: list[Question], budgets: list[int], call_seconds: float, limit: float
) -> dict[str, Any]:
    """Ask every question in this process's environment; per question, hits and what went wrong."""
    from autodocs.config import load_settings
    from autodocs.docs.model import reply_payload
    from autodocs.logs import configure_logging
    from autodocs.service import AutoDocsService

    settings = load_settings()
    configure_logging(settings.log_level)
    results: dict[str, Any] = {}
    calls = 0
    stop_at = time.monotonic() + limit
    async with AutoDocsService.running(settings) as service:
        api_ready: dict[tuple[str, str], str] = {}
        for question in questions:
            if time.monotonic() > stop_at:
                results[question.id] = {"error": "bench time limit reached"}
                continue
            entry: dict[str, Any] = {"hits": {}, "missing": {}, "versions": [], "errors": [], "api_path": None}
            results[question.id] = entry

            def record(
                label: str, texts: list[str], entry: dict[str, Any] = entry, question: Question = question
            ) -> None:
                lacking = missing_keys(question, "\n".join(texts))
                entry["hits"][label] = not lacking
                entry["missing"][label] = lacking

            for budget in budgets:
                calls += 1
                try:
                    first, page = await _ask_docs(service, question, budget, call_seconds)
                except Exception as exc:  # a failed call is a miss, reported
                    entry["errors"].append(f"docs@{budget}: {type(exc).__name__}: {exc}"[:300])
                    record(f"docs@{budget}", [])
                    record(f"first@{budget}", [])
                    continue
                entry["versions"].extend((first.version, page.version))
                record(f"first@{budget}", [reply_text(reply_payload(first))])
                entry.setdefault("first_pending", 0)
                entry["first_pending"] += bool(getattr(first, "docs_pending", False))
                payload = reply_payload(page)
                entry.setdefault("docset_replies", 0)
                entry["docset_replies"] += _draws_on_docset(payload)
                record(f"docs@{budget}", [reply_text(payload)])
            release = question.release
            if release not in api_ready:
                calls += 1
                try:
                    await asyncio.wait_for(
                        service.get_api_reference(question.package, version_constraint=f"=={question.version}"),
                        call_seconds,
                    )
                    await service.flush_writes()
                    api_ready[release] = ""
                except Exception as exc:
                    api_ready[release] = f"{type(exc).__name__}: {exc}"[:300]
            if api_ready[release]:
                entry["errors"].append(f"api (top level): {api_ready[release]}")
            for budget in budgets:
                texts: list[str] = []
                try:
                    calls += 1
                    _first, page = await _ask_docs(service, question, budget, call_seconds)
                    entry["versions"].append(page.version)
                    texts.append(reply_text(reply_payload(page)))
                    if page.api_matches:
                        path = page.api_matches[0].path
                        entry["api_path"] = path
                        calls += 1
                        reference = await asyncio.wait_for(
                            service.get_api_reference(
                                question.package, path, version_constraint=f"=={question.version}", max_tokens=budget
                            ),
                            call_seconds,
                        )
                        entry["versions"].append(str(reference.get("version", "")))
                        texts.append(reply_text(reference))
                except Exception as exc:
                    entry["errors"].append(f"api@{budget}: {type(exc).__name__}: {exc}"[:300])
                record(f"api@{budget}", texts)
    return {"results": results, "calls": calls}


# ---- offline mode ----------------------------------------------------------------------------


def run_offline(
    questions: list[Question], files: dict[tuple[str, str], ReleaseFiles], budgets: list[int], work: Path
) -> dict[str, Any]:
    releases: dict[tuple[str, str], OfflineRelease] = {}
    results: dict[str, Any] = {}
    for question in questions:
        key = question.release
        if key not in releases:
            found = files.get(key)
            releases[key] = load_release(*key, found.sdist if found else None, work)
            built = releases[key]
            pages = len(built.docset.pages) if built.docset else 0
            flavour = built.docset.flavour if built.docset else "-"
            print(f"  docs set {key[0]}=={key[1]}: {flavour}, {pages} pages, {built.build_seconds:.1f} s", flush=True)
        release = releases[key]
        entry: dict[str, Any] = {"hits": {}, "missing": {}, "diagnosis": []}
        for budget in budgets:
            text, content = answer_offline(release, question, budget)
            lacking = missing_keys(question, text)
            entry["hits"][f"content@{budget}"] = not missing_keys(question, content)
            entry["hits"][f"docs@{budget}"] = not lacking
            entry["missing"][f"docs@{budget}"] = lacking
            if question.split == "tuning" and budget == max(budgets) and lacking:
                entry["diagnosis"] = diagnose(release, question, text)
        results[question.id] = entry
    docsets = {f"{k[0]}=={k[1]}": (r.docset.flavour if r.docset else "none") for k, r in releases.items()}
    return {"results": results, "docsets": docsets, "releases": releases}


# ---- report ----------------------------------------------------------------------------------


def rate_line(label: str, questions: list[Question], results: dict[str, Any], column: str) -> str:
    cells = []
    for split in SPLITS:
        chosen = [q for q in questions if q.split == split]
        hits = sum(1 for q in chosen if results.get(q.id, {}).get("hits", {}).get(column))
        cells.append(f"{hits:>3}/{len(chosen):<3}")
    total = sum(1 for q in questions if results.get(q.id, {}).get("hits", {}).get(column))
    return f"  {label:<34} tuning {cells[0]}  held-out {cells[1]}  all {total}/{len(questions)}"


def wrong_versions(questions: list[Question], results: dict[str, Any]) -> int:
    return sum(
        1
        for q in questions
        for version in results.get(q.id, {}).get("versions", [])
        if version and version != q.version
    )


def report(
    questions: list[Question], budgets: list[int], live: dict[str, dict[str, Any]], offline: dict[str, Any] | None
) -> None:
    print("\nHit rates (answered / asked):")
    names = {
        "readme": "README only (today)",
        "docs": "README + docs",
        "today-docs": "today's code (docs-set reply)",
    }
    for mode, outcome in live.items():
        if outcome.get("error"):
            print(f"  {names[mode]}: {outcome['error']}")
        results = outcome.get("results", {})
        for budget in budgets:
            print(rate_line(f"{names[mode]} @{budget}", questions, results, f"docs@{budget}"))
        for budget in budgets:
            print(rate_line(f"  its first call @{budget}", questions, results, f"first@{budget}"))
        for budget in budgets:
            print(rate_line(f"{names[mode]} + API @{budget}", questions, results, f"api@{budget}"))
        pending = sum(results.get(q.id, {}).get("first_pending", 0) for q in questions)
        print(f"  {names[mode]}: {pending} first calls answered docs_pending (then asked again once built)")
        wrong = wrong_versions(questions, results)
        drawing = sum(results.get(q.id, {}).get("docset_replies", 0) for q in questions)
        print(f"  {names[mode]}: {drawing} docs replies drew on a docs set (a TOC or a section of origin docs)")
        errors = sum(len(results.get(q.id, {}).get("errors", [])) for q in questions)
        print(
            f"  {names[mode]}: wrong version in {wrong} replies, {errors} call errors, "
            f"{outcome.get('calls', 0)} tool calls, {outcome.get('seconds', 0):.0f} s"
        )
    if "readme" in live and "docs" not in live:
        print("  README + docs: docs sets are not wired in yet (no release_docs setting): it equals README only.")
    if "today-docs" in live:
        print("  README only: no AUTODOCS_RELEASE_DOCS setting to switch docs sets off in this code.")
    if offline is not None:
        results = offline["results"]
        for budget in budgets:
            print(rate_line(f"offline docs set @{budget}", questions, results, f"docs@{budget}"))
        for budget in budgets:
            print(rate_line(f"  same, section text only @{budget}", questions, results, f"content@{budget}"))
        study(questions, results, offline["releases"])


def study(questions: list[Question], results: dict[str, Any], releases: dict[tuple[str, str], OfflineRelease]) -> None:
    """The tuning split's offline misses, with the cause of each (held-out questions never shown)."""
    rows = []
    counts: dict[str, int] = {}
    for question in questions:
        diagnoses = results[question.id].get("diagnosis", [])
        if question.split != "tuning" or not diagnoses:
            continue
        cause = causes_of(diagnoses)
        release = releases[question.release]
        if release.docset is None:
            cause = "no sdist"
        counts[cause] = counts.get(cause, 0) + 1
        detail = "; ".join(f"{d.key}: {d.cause}{' - ' + d.detail if d.detail else ''}" for d in diagnoses)
        rows.append(f"  {question.id:<30} {cause:<18} {detail}")
    print("\nOffline misses of the tuning split at the largest budget, by cause:")
    for cause, count in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"  {cause:<20} {count}")
    print("\n".join(rows))
    losses = [
        (question.id, key, where)
        for question in questions
        if question.split == "tuning"
        for key, where in reader_losses(releases[question.release], question)
    ]
    print(f"\nKeys the tuning releases' docs files hold but their docs sets lack (reader losses): {len(losses)}")
    for qid, key, where in losses:
        print(f"  {qid:<30} {key!r} in {where}")


# ---- main ------------------------------------------------------------------------------------


def serve_folder(files: Sequence[ReleaseFiles], work: Path) -> Any:
    """A pypiserver over ``work/packages`` holding links to the downloaded files."""
    from tests.support.pypiserver import run_pypiserver

    packages = work / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    for release in files:
        for path in (release.wheel, release.sdist):
            if path is not None:
                try:
                    os.link(path, packages / path.name)
                except OSError:
                    shutil.copy(path, packages / path.name)
    return run_pypiserver(work, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--quick", action="store_true", help="every fourth question of each split")
    parser.add_argument("--modes", default="offline,live", help="offline, live, or both")
    parser.add_argument("--budgets", default="4000,10000")
    parser.add_argument("--call-timeout", type=float, default=120.0)
    parser.add_argument("--max-seconds", type=float, default=2400.0, help="wall-clock limit of one live mode")
    parser.add_argument("--json", type=Path, help="also write every result here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.budgets = [int(b) for b in args.budgets.split(",")]
    questions = load_questions()
    if args.worker:
        wanted = json.loads(args.ids.read_text())
        chosen = [q for q in questions if q.id in wanted]
        outcome = asyncio.run(worker(args.worker, chosen, args.budgets, args.call_timeout, args.max_seconds))
        args.out.write_text(json.dumps(outcome))
        return
    if args.quick:
        questions = quick_subset(questions)
    modes = {m.strip() for m in args.modes.split(",")}
    releases = list(dict.fromkeys(q.release for q in questions))
    print(f"{len(questions)} questions, {len(releases)} releases; setup: downloads into {args.cache}", flush=True)
    files = {(r.name, r.version): r for r in download_releases(args.cache / "dists", releases)}
    for release in files.values():
        for problem in release.problems:
            print(f"  {release.name}=={release.version}: {problem}")
    work = Path(tempfile.mkdtemp(prefix="autodocs-questions-"))
    try:
        offline = None
        if "offline" in modes:
            print("offline: docs sets from the sdists", flush=True)
            offline = run_offline(questions, files, args.budgets, work)
        live: dict[str, dict[str, Any]] = {}
        if "live" in modes:
            context = serve_folder(list(files.values()), work)
            with context as server:
                index_url = f"http://127.0.0.1:{server.port}/simple"
                for mode in live_modes():
                    print(f"live: {mode}", flush=True)
                    live[mode] = run_live_mode(mode, index_url, questions, args, work)
        report(questions, args.budgets, live, offline)
        if args.json:
            serializable = {mode: outcome.get("results", {}) for mode, outcome in live.items()}
            if offline is not None:
                serializable["offline"] = {
                    qid: {
                        **entry,
                        "diagnosis": [list(map(str, (d.key, d.cause, d.detail))) for d in entry["diagnosis"]],
                    }
                    for qid, entry in offline["results"].items()
                }
            args.json.write_text(json.dumps(serializable, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
