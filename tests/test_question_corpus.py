"""The question corpus of bench/docs_questions.py: its shape, and how an answer is judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.questions import Question, answered, load_questions, missing_keys


def test_corpus_has_48_questions_with_a_held_out_part_of_16() -> None:
    questions = load_questions()
    assert len(questions) >= 48
    assert sum(q.split == "held-out" for q in questions) >= 16
    assert all(q.keys and q.version[0].isdigit() for q in questions)


def test_corpus_pins_old_releases_too() -> None:
    packages: dict[str, set[str]] = {}
    for question in load_questions():
        packages.setdefault(question.package, set()).add(question.version)
    assert sum(len(versions) > 1 for versions in packages.values()) >= 10


def test_keys_match_case_insensitively_and_all_are_needed() -> None:
    question = Question("q", "tuning", "tenacity", "8.2.3", "?", ("wait_exponential", "stop_after_attempt"))
    assert answered(question, ["@retry(wait=Wait_Exponential(), ", "stop=STOP_AFTER_ATTEMPT(5))"])
    assert missing_keys(question, "wait_exponential only") == ["stop_after_attempt"]


def test_question_without_keys_is_rejected(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(
        '[[question]]\nid = "a"\nsplit = "tuning"\npackage = "p"\nversion = "1"\nquestion = "?"\nkeys = []\n'
    )
    with pytest.raises(ValueError, match="keys"):
        load_questions(corpus)


def test_unknown_split_is_rejected(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(
        '[[question]]\nid = "a"\nsplit = "train"\npackage = "p"\nversion = "1"\nquestion = "?"\nkeys = ["k"]\n'
    )
    with pytest.raises(ValueError, match="malformed"):
        load_questions(corpus)
