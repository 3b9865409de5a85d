"""Real tokenizers to hold the token estimate against, and the documents to hold it on.

Both references run offline from files inside installed wheels (the ``test`` extra):

* ``o200k`` — o200k_base, the vocabulary of GPT-4o-class models, as bundled and run by
  ``bpe-openai`` (GitHub's exact BPE). The bundled file is checked against the sha256 that
  tiktoken pins for o200k_base, so this is the real vocabulary, not a look-alike.
* ``claude`` — the tokenizer Anthropic published for Claude (``tokenizer.json`` inside the
  ``anthropic`` SDK 0.34.2; later SDKs dropped it), run by Hugging Face ``tokenizers``.
  Anthropic has not published the tokenizer of Claude 3 and later; this is its closest
  public relative, and it counts 9% more tokens than o200k on these documents.

The estimate is calibrated against the larger of the two counts, document by document,
because a page must fit the budget of whichever assistant reads it.

The corpus is every recorded project in ``tests/data/index`` whose description has at least
200 characters, in the three forms the estimate meets: the description as written, the
description JSON-escaped (what the budget charges a section), and the JSON replies
``get_package_docs`` sends (a short first page and a default-budget one).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import math
import re
import statistics
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from autodocs.docs.build import build_document
from autodocs.docs.model import reply_json
from autodocs.docs.pages import PageRequest, make_page, measure_reply_overhead
from autodocs.index.models import VersionMetadata
from tests.support.fake_index import DEFAULT_DATA_DIR

__all__ = [
    "FEATURE_WEIGHTS",
    "REFERENCE_REQUIREMENT",
    "ErrorStats",
    "calibration_corpus",
    "error_stats",
    "estimate_features",
    "reference_tokenizers",
]

REFERENCE_REQUIREMENT = "the test extra (pip install -e '.[test]': bpe-openai, anthropic==0.34.2, tokenizers)"
#: tiktoken's pinned sha256 of o200k_base.tiktoken (tiktoken_ext/openai_public.py).
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
MIN_DESCRIPTION_CHARS = 200
REPLY_BUDGETS = (2_000, 30_000)

Tokenizer = Callable[[str], int]

#: The estimate's features, named by the constant in ``autodocs.docs.tokens`` that weighs them.
FEATURE_WEIGHTS = (
    "PER_WORD",
    "PER_SIX_LETTERS",
    "PER_CASE_CHANGE",
    "PER_NUMBER",
    "PER_THREE_DIGITS",
    "PER_SYMBOL_RUN",
    "PER_SYMBOL",
    "PER_LINE_BREAK_RUN",
    "PER_NON_ASCII_EXTRA_BYTE",
)
_WORDS = re.compile(r"[A-Za-z]+")
_CASE_CHANGES = re.compile(r"[a-z][A-Z]")
_NUMBERS = re.compile(r"[0-9]+")
_SYMBOLS = re.compile(f"[{re.escape(string.punctuation)}]+")
_LINE_BREAKS = re.compile(r"\n+")


def estimate_features(text: str) -> tuple[int, ...]:
    """The counts ``count_tokens`` weighs, found another way (regular expressions), in FEATURE_WEIGHTS order."""
    raw = text.encode("utf-8", "replace")  # as count_tokens reads it: a lone surrogate becomes "?"
    extra_bytes = len(raw) - len(text)
    text = raw.decode("utf-8")
    words = _WORDS.findall(text)
    numbers = _NUMBERS.findall(text)
    symbols = _SYMBOLS.findall(text)
    return (
        len(words),
        sum(len(word) // 6 for word in words),
        len(_CASE_CHANGES.findall(text)),
        len(numbers),
        sum(len(number) // 3 for number in numbers),
        len(symbols),
        sum(map(len, symbols)),
        len(_LINE_BREAKS.findall(text)),
        extra_bytes,
    )


@cache
def reference_tokenizers() -> dict[str, Tokenizer]:
    """``{"o200k": count, "claude": count}``; ImportError when the test extra is not installed.

    RuntimeError when it is installed but is not what the figures were measured with.
    """
    import bpe_openai
    import tokenizers

    spec = importlib.util.find_spec("anthropic")  # finds the package without importing the SDK
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("anthropic (0.34.2, which ships Claude's tokenizer.json) is not installed")
    claude_file = Path(next(iter(spec.submodule_search_locations)), "tokenizer.json")
    if not claude_file.is_file():
        raise RuntimeError(f"{claude_file} is missing: install anthropic==0.34.2 (later SDKs dropped it)")
    bundled = resources.files("bpe_openai") / "data" / "o200k_base.tiktoken.gz"
    if hashlib.sha256(gzip.decompress(bundled.read_bytes())).hexdigest() != O200K_SHA256:
        raise RuntimeError("bpe-openai's o200k_base file is not the one tiktoken pins")
    o200k = bpe_openai.get_encoding("o200k_base")
    claude = tokenizers.Tokenizer.from_file(str(claude_file))

    def count_o200k(text: str) -> int:
        return len(o200k.encode(text, disallowed_special=()))

    def count_claude(text: str) -> int:
        return len(claude.encode(text, add_special_tokens=False).ids)

    return {"o200k": count_o200k, "claude": count_claude}


@cache
def calibration_corpus() -> dict[str, list[tuple[str, str]]]:
    """``{corpus: [(project, text as the tokenizer sees it)]}`` for the three corpora."""
    descriptions: list[tuple[str, str]] = []
    escaped: list[tuple[str, str]] = []
    replies: list[tuple[str, str]] = []
    for path in sorted((DEFAULT_DATA_DIR / "projects").glob("*.json")):
        info = json.loads(path.read_text(encoding="utf-8"))["info"]
        description = info.get("description") or ""
        if len(description) < MIN_DESCRIPTION_CHARS:
            continue
        descriptions.append((path.stem, description))
        escaped.append((path.stem, json.dumps(description, ensure_ascii=False)[1:-1]))
        document = build_document(VersionMetadata.from_info(info), max_description_chars=50_000)
        measure_reply_overhead(document)
        for budget in REPLY_BUDGETS:
            page = make_page(document, PageRequest(budget=budget))
            replies.append((f"{path.stem}@{budget}", reply_json(page)))
    return {"descriptions": descriptions, "json-escaped": escaped, "replies": replies}


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Errors of estimates against real counts, in percent of the real count (+ means over-count)."""

    documents: int
    mean_abs: float
    median_abs: float
    p90_abs: float
    max_abs: float
    mean_signed: float
    total: float
    under_share: float  # share of documents under-counted, percent
    worst_under: float

    def line(self) -> str:
        return (
            f"mean |err| {self.mean_abs:4.1f}%  median {self.median_abs:4.1f}%  p90 {self.p90_abs:4.1f}%  "
            f"worst {self.max_abs:5.1f}%  bias {self.mean_signed:+5.1f}%  total {self.total:+5.1f}%  "
            f"under-counted {self.under_share:4.1f}% of docs (worst {self.worst_under:+5.1f}%)"
        )


def error_stats(estimates: list[int], reals: list[int]) -> ErrorStats:
    errors = [100 * (estimate - real) / real for estimate, real in zip(estimates, reals, strict=True)]
    absolute = sorted(abs(error) for error in errors)
    return ErrorStats(
        documents=len(errors),
        mean_abs=statistics.fmean(absolute),
        median_abs=statistics.median(absolute),
        p90_abs=absolute[math.ceil(0.9 * len(absolute)) - 1],
        max_abs=absolute[-1],
        mean_signed=statistics.fmean(errors),
        total=100 * (sum(estimates) - sum(reals)) / sum(reals),
        under_share=100 * sum(error < 0 for error in errors) / len(errors),
        worst_under=min(0.0, *errors),
    )
