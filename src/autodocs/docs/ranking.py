"""BM25 ranking of one document's sections against a query.

The corpus is a single document's sections (tens, rarely hundreds), scored once per
request: the formula is a dozen lines, so it is written here rather than adding a
dependency whose index structures would outweigh the work.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["bm25_scores", "tokenize_for_search"]

_WORD = re.compile(r"[a-z0-9]+")
_K1 = 1.5
_B = 0.75


def tokenize_for_search(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def bm25_scores(query: str, documents: Sequence[str], *, title_weight: Sequence[str] = ()) -> list[float]:
    """BM25 score of each document for ``query``; titles (when given) count three times."""
    terms = set(tokenize_for_search(query))
    if not terms or not documents:
        return [0.0] * len(documents)
    bags = []
    for index, text in enumerate(documents):
        words = tokenize_for_search(text)
        if index < len(title_weight):
            words += tokenize_for_search(title_weight[index]) * 3
        bags.append(Counter(words))
    lengths = [sum(bag.values()) for bag in bags]
    average = (sum(lengths) / len(lengths)) or 1.0
    count = len(bags)
    idf = {}
    for term in terms:
        containing = sum(1 for bag in bags if term in bag)
        idf[term] = math.log(1 + (count - containing + 0.5) / (containing + 0.5))
    scores = []
    for bag, length in zip(bags, lengths, strict=True):
        score = 0.0
        for term in terms:
            frequency = bag.get(term, 0)
            if frequency:
                score += idf[term] * frequency * (_K1 + 1) / (frequency + _K1 * (1 - _B + _B * length / average))
        scores.append(score)
    return scores
