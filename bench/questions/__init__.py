"""The question corpus of the docs hit-rate bench (issue 23, "Measure yourself").

``corpus.toml`` holds developer questions about pinned releases of real packages, each with the
keys (API names, parameters) a correct answer must contain, written before any answer was seen.
Questions marked ``held-out`` are never studied or tuned on: only their hit rate is reported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["CORPUS", "Question", "Split", "answered", "load_questions", "missing_keys"]

CORPUS = Path(__file__).with_name("corpus.toml")
Split = Literal["tuning", "held-out"]
_SPLITS: tuple[Split, ...] = ("tuning", "held-out")


@dataclass(frozen=True, slots=True)
class Question:
    """One question about one pinned release, and the keys a correct answer contains."""

    id: str
    split: Split
    package: str
    version: str
    question: str
    keys: tuple[str, ...]

    @property
    def release(self) -> tuple[str, str]:
        return self.package, self.version


def load_questions(path: Path = CORPUS) -> list[Question]:
    """Every question of the corpus at ``path``, in file order; a malformed entry raises ValueError."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    questions = [_question(entry) for entry in raw.get("question", [])]
    ids = [question.id for question in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: question ids repeat")
    return questions


def missing_keys(question: Question, reply_text: str) -> list[str]:
    """The keys of ``question`` that ``reply_text`` lacks (case-insensitive substrings)."""
    folded = reply_text.casefold()
    return [key for key in question.keys if key.casefold() not in folded]


def answered(question: Question, reply_texts: Iterable[str]) -> bool:
    """Whether the replies together contain every key of ``question``."""
    return not missing_keys(question, "\n".join(reply_texts))


def _question(entry: object) -> Question:
    if not isinstance(entry, dict):
        raise ValueError(f"not a table: {entry!r}")
    split = entry.get("split")
    keys = entry.get("keys")
    fields = [entry.get(name) for name in ("id", "package", "version", "question")]
    if split not in _SPLITS or not all(isinstance(value, str) and value for value in fields):
        raise ValueError(f"malformed question: {entry!r}")
    if not isinstance(keys, list) or not keys or not all(isinstance(key, str) and key for key in keys):
        raise ValueError(f"question {entry.get('id')!r} needs a non-empty list of keys")
    ident, package, version, text = (str(value) for value in fields)
    chosen: Split = "tuning" if split == "tuning" else "held-out"
    return Question(ident, chosen, package, version, text, tuple(keys))
