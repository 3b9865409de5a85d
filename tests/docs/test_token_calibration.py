"""The token estimate stays close to real tokenizers on real documents (figures: bench/tokenizer_calibration.py).

The references come with the ``test`` extra (see tests/support/token_reference.py), so these
run wherever the suite does. Two of the three corpora are checked, the two the budget relies
on: descriptions JSON-escaped (what a section is charged) and short first pages as sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from autodocs.docs import tokens
from autodocs.docs.tokens import count_json_tokens, count_tokens
from tests.support.token_reference import (
    FEATURE_WEIGHTS,
    calibration_corpus,
    error_stats,
    estimate_features,
    reference_tokenizers,
)

CHECKED_REPLY_BUDGET = "@2000"


@dataclass(frozen=True)
class Measured:
    estimates: list[int]
    o200k: list[int]
    target: list[int]  # the larger of the o200k and Claude counts


@pytest.fixture(scope="module")
def measured() -> dict[str, Measured]:
    pytest.importorskip("bpe_openai")
    pytest.importorskip("tokenizers")
    references = reference_tokenizers()
    corpus = calibration_corpus()
    chosen = {
        "json-escaped": [text for _, text in corpus["json-escaped"]],
        "replies": [text for name, text in corpus["replies"] if name.endswith(CHECKED_REPLY_BUDGET)],
    }
    result = {}
    for name, texts in chosen.items():
        o200k = [references["o200k"](text) for text in texts]
        claude = [references["claude"](text) for text in texts]
        result[name] = Measured(
            estimates=[count_tokens(text) for text in texts],
            o200k=o200k,
            target=[max(pair) for pair in zip(o200k, claude, strict=True)],
        )
    return result


def test_count_tokens_is_its_documented_features_times_the_fitted_weights() -> None:
    weights = [getattr(tokens, constant) for constant in FEATURE_WEIGHTS]
    samples = [
        "Installation",
        "pip install 'httpx[http2]>=0.28'\n\n\n```python\nclient = httpx.Client(timeout=5.0)\n```",
        "   \t  ",
        "Größere Dateien, 日本語のドキュメント, Ελληνικά, emoji 🚀✨",
        "x\ud800y",
        *(text for _, text in calibration_corpus()["json-escaped"][:20]),
    ]
    for text in samples:
        features = estimate_features(text)
        expected = math.ceil(sum(w * f for w, f in zip(weights, features, strict=True)) / 100)
        assert count_tokens(text) == expected, text[:60]
    assert count_tokens("") == 0
    assert count_json_tokens('a "b"\n') == count_tokens('a \\"b\\"\\n')


def test_ninety_percent_of_documents_are_within_6_percent_of_the_larger_real_count(
    measured: dict[str, Measured],
) -> None:
    for name, m in measured.items():
        assert len(m.target) >= 50, name
        stats = error_stats(m.estimates, m.target)
        assert stats.p90_abs <= 6.0, f"{name}: {stats.line()}"


def test_the_estimate_over_counts_in_total_but_by_less_than_4_percent(measured: dict[str, Measured]) -> None:
    for name, m in measured.items():
        stats = error_stats(m.estimates, m.target)
        assert 0 <= stats.total <= 4.0, f"{name}: {stats.line()}"


def test_no_document_is_under_counted_by_more_than_8_percent_or_off_by_more_than_12(
    measured: dict[str, Measured],
) -> None:
    for name, m in measured.items():
        stats = error_stats(m.estimates, m.target)
        assert stats.worst_under >= -8.0, f"{name}: {stats.line()}"
        assert stats.max_abs <= 12.0, f"{name}: {stats.line()}"


def test_no_document_is_under_counted_by_more_than_3_percent_for_gpt4o_class_models(
    measured: dict[str, Measured],
) -> None:
    for name, m in measured.items():
        stats = error_stats(m.estimates, m.o200k)
        assert stats.worst_under >= -3.0, f"{name} vs o200k: {stats.line()}"
