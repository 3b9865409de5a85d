"""Offline mode of the docs hit-rate bench: a release's docs set, ranked as the docs tool ranks.

Until docs sets are wired into ``get_package_docs``, this tells whether the readers and the
ranking can reach the goal. Each release's docs set is built straight from its sdist
(``build_docset_from_sdist``, the sdist's README included as a page); every section of every
page becomes a ``DocSection`` of one ``PackageDocument`` (level = depth of its heading path,
pages in reading order), and the docs tool's own page maker (``docs.pages.make_page``: BM25
ranking of ``docs.ranking``, then the token budget) cuts it for the question. API placeholders
(``autoclass``, ``::: path``) stay as their one-line mark: this mode has no API reference.

For misses, :func:`diagnose` says where each missing key is: absent from the sdist, only outside
its docs (code, tests), in the docs files but not in what the readers produced, or in the docs
set but ranked below the budget's cut.
"""

from __future__ import annotations

import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.questions import Question, missing_keys

from autodocs.docs.model import DocSection, PackageDocument, reply_payload
from autodocs.docs.pages import PageRequest, count_costs, make_page
from autodocs.docs.ranking import section_scores
from autodocs.docset.build import DocSet, build_docset_from_sdist

__all__ = [
    "Diagnosis",
    "OfflineRelease",
    "answer_offline",
    "causes_of",
    "diagnose",
    "has_docs_tree",
    "load_release",
    "reader_losses",
    "reply_text",
]

_DOC_DIRS = ("docs", "doc", "documentation", "docs_src")
_MAX_RAW_BYTES = 4 << 20


@dataclass(slots=True)
class OfflineRelease:
    name: str
    version: str
    docset: DocSet | None
    document: PackageDocument | None
    build_seconds: float = 0.0
    #: Every text file of the sdist, by path inside it (the top folder dropped), lower-cased.
    raw: dict[str, str] = field(default_factory=dict)
    problem: str = ""


def reply_text(value: object) -> str:
    """Every string of a reply's JSON payload, joined: what an assistant reads, unescaped."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(reply_text(item) for item in value.values())
    if isinstance(value, list):
        return "\n".join(reply_text(item) for item in value)
    return ""


def docset_document(name: str, version: str, docset: DocSet) -> PackageDocument:
    """The docs set as one document: each page's sections in reading order, at their depth."""
    sections: list[DocSection] = []
    for page in docset.pages:
        for number, section in enumerate(page.sections):
            path = section.heading_path or (page.title or page.path,)
            content = section.text
            if not content.strip() and len(path) == 1:
                continue  # a bare page title: its words count for the sections under it anyway
            anchor = f"{page.path}#{number}"
            sections.append(DocSection(title=path[-1], anchor=anchor, level=len(path), content=content))
    return count_costs(PackageDocument(name=name, version=version, description_format="markdown", sections=sections))


def _raw_texts(archive: Path) -> dict[str, str]:
    texts: dict[str, str] = {}

    def keep(path: str, data: bytes) -> None:
        if b"\0" in data[:4096]:
            return
        inner = path.split("/", 1)[1] if "/" in path else path
        texts[inner] = data.decode("utf-8", errors="replace").casefold()

    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                if not info.is_dir() and info.file_size <= _MAX_RAW_BYTES:
                    keep(info.filename, zipped.read(info))
    else:
        with tarfile.open(archive) as tarred:
            for member in tarred.getmembers():
                if member.isfile() and member.size <= _MAX_RAW_BYTES:
                    stream = tarred.extractfile(member)
                    if stream is not None:
                        keep(member.name, stream.read())
    return texts


def load_release(name: str, version: str, sdist: Path | None, work: Path) -> OfflineRelease:
    """Build the docs set of ``sdist`` under ``work`` and read its raw text files."""
    if sdist is None:
        return OfflineRelease(name, version, None, None, problem="no sdist")
    target = Path(tempfile.mkdtemp(prefix=f"{name}-{version}-", dir=work)) / "docs"
    started = time.perf_counter()
    docset = build_docset_from_sdist(sdist, target)
    document = docset_document(name, version, docset)
    elapsed = time.perf_counter() - started
    return OfflineRelease(name, version, docset, document, elapsed, _raw_texts(sdist))


def answer_offline(release: OfflineRelease, question: Question, budget: int) -> tuple[str, str]:
    """The page the docs tool would cut from this docs set for the question: the reply's whole
    text, and its sections' content alone (without the lists of section titles a reply adds)."""
    if release.document is None:
        return "", ""
    page = make_page(release.document, PageRequest(budget=budget, query=question.question))
    return reply_text(reply_payload(page)), page.content


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why one key of a missed question is not on the page."""

    key: str
    cause: str  # "absent from sdist" | "no docs tree in sdist" | "not in docs" | "reader missed" | "ranked too low"
    detail: str


def _docs_file(path: str) -> bool:
    return path.split("/", 1)[0].lower() in _DOC_DIRS or ("/" not in path and path.lower().startswith("readme"))


def diagnose(release: OfflineRelease, question: Question, page_text: str) -> list[Diagnosis]:
    """For each key the page lacks: where it is in the sdist, and how far down the ranking."""
    found: list[Diagnosis] = []
    document = release.document
    docset_text = "\n".join(page.text for page in release.docset.pages).casefold() if release.docset else ""
    has_tree = has_docs_tree(release)
    for key in missing_keys(question, page_text):
        folded = key.casefold()
        holders = [path for path, text in release.raw.items() if folded in text]
        doc_holders = [path for path in holders if _docs_file(path)]
        if not holders:
            found.append(Diagnosis(key, "absent from sdist", ""))
        elif not has_tree:
            found.append(Diagnosis(key, "no docs tree in sdist", f"in {_few(holders)}"))
        elif folded not in docset_text and not doc_holders:
            found.append(Diagnosis(key, "not in docs", f"only in {_few(holders)}"))
        elif folded not in docset_text:
            found.append(Diagnosis(key, "reader missed", f"in {_few(doc_holders)}"))
        else:
            found.append(Diagnosis(key, "ranked too low", _rank_detail(document, question, folded)))
    return found


def has_docs_tree(release: OfflineRelease) -> bool:
    """Whether the docs set has a page from a docs folder (not only the top-level README/changelog)."""
    return release.docset is not None and any("/" in page.path for page in release.docset.pages)


def reader_losses(release: OfflineRelease, question: Question) -> list[tuple[str, str]]:
    """Keys the sdist's docs files hold (``docs_src/`` examples included) but the docs set lacks,
    with the files that hold them: what the readers dropped, whether or not the question was hit."""
    if release.docset is None:
        return []
    docset_text = "\n".join(page.text for page in release.docset.pages).casefold()
    losses = []
    for key in question.keys:
        folded = key.casefold()
        holders = [path for path, text in release.raw.items() if _docs_file(path) and folded in text]
        if holders and folded not in docset_text:
            losses.append((key, _few(holders)))
    return losses


def _rank_detail(document: PackageDocument | None, question: Question, folded_key: str) -> str:
    if document is None:
        return ""
    scores = section_scores(question.question, document.sections)
    order = sorted(range(len(scores)), key=lambda index: -scores[index])
    for rank, index in enumerate(order, start=1):
        section = document.sections[index]
        if folded_key in section.content.casefold() or folded_key in section.title.casefold():
            where = section.anchor.split("#", 1)[0]
            return f"best section with it ranks {rank}/{len(order)}: {section.title!r} ({where})"
    return "only across sections"


def _few(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(sorted(paths, key=lambda path: (not _docs_file(path), len(path)))[:limit])
    return shown + (f" (+{len(paths) - limit})" if len(paths) > limit else "")


def causes_of(diagnoses: list[Diagnosis]) -> str:
    """The question's cause: the earliest stage where one of its keys was lost."""
    stages = ("absent from sdist", "no docs tree in sdist", "not in docs", "reader missed", "ranked too low")
    present = {d.cause for d in diagnoses}
    return next((stage for stage in stages if stage in present), "answered")
