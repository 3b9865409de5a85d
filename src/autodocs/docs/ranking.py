"""How relevant each section of one document is to an assistant's question.

BM25 over the words of each section, plus what makes it work on READMEs and on the way
developers ask:

* Words are cut at code-identifier boundaries (``load_dotenv``, ``ExceptionGroup``,
  ``OPT_SORT_KEYS``, ``HTTPServer``) and reduced to a light stem on both sides
  (``retries``/``retrying`` -> ``retri``, ``installation``/``installed`` -> ``install``,
  ``colour``/``color``, ``initialise``/``initialize``).
* The question loses its question words ("how do I ... the ...") and gains, at half
  weight, the other names developers use for what it asks about: ``async``/``asyncio``,
  ``args``/``arguments``, ``shell``/``cli``/``command line``, "takes too long"/``timeout``.
* A section's own title counts three times and the titles above it once (an
  ``OPT_SORT_KEYS`` under ``Serialize`` > ``option`` is about serializing options); the
  content counts relative to its length, titles do not (BM25F), and words inside web
  addresses do not count at all.
* Release notes (under a changelog or version heading) count a fifth unless the question
  is about changes: "how do I ..." is answered by the documentation, not by the changelog
  entry that once fixed it. They still rank above sections that do not match at all.

Why hand-written: the corpus is one document's sections (tens, rarely hundreds), scored
once per request. BM25 itself is a dozen lines; the libraries that provide it bring index
structures and English-prose tokenizers but neither the identifier splitting nor the
developer phrasing above, which are most of the work here, and a Porter/Snowball stemmer
would be a dependency for what a few suffix rules do well enough on this vocabulary.

Cost: nothing tokenizes whole sections. The document is lower-cased once, searched (in C)
for the first letters of each query stem, and only the words found there are stemmed; a
section's length is its number of characters. About 1 ms for a 100-section README, and
linear with a small constant on any text.
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence

from autodocs.docs.model import DocSection

__all__ = [
    "K1",
    "RELEASE_NOTES_WEIGHT",
    "TITLE_WEIGHT",
    "B",
    "about_changes",
    "best_matches",
    "query_terms",
    "release_notes_titles",
    "section_scores",
    "stem",
    "text_stems",
]

#: One word: an upper-case run (``HTTP`` in ``HTTPServer``, ``SORT`` in ``OPT_SORT_KEYS``),
#: a capitalised or lower-case word, each with the digits that follow (``base64``), or a
#: number. Anything else separates words: ``_``, ``.``, ``-``, a change of case.
_WORD = re.compile(r"[A-Z]+(?![a-z])[0-9]*|[A-Z]?[a-z]+[0-9]*|[0-9]+")
_K1 = 1.5
_B = 0.75
_TITLE_WEIGHT = 3
_SYNONYM_WEIGHT = 0.5
_RELEASE_NOTES_WEIGHT = 0.2
#: Every stem starts with the first letters of its words (see :func:`stem`): the document
#: is searched for these letters only.
_PREFIX = 3
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_URL_END = re.compile(r"[\s)>\]\"'`]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}
#: Places one query prefix may occur before its words are counted in C (see ``_term_counts``).
_DENSE = 2_000

#: Question and function words, compared as written.
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better than 160 quoted strings
        "a about above after again against all am an and any are as at be because been before being below "
        "between both but by can could did do does doing down during each few for from further get got had "
        "has have having he her here hers him his how i if in into is it its itself just let me more most "
        "my myself need no nor not now of off on once only or other our ours out over please same shall she "
        "should so some such than that the their theirs them then there these they this those through to "
        "too under until up us very want was way we were what when where which while who whom why will "
        "with would you your yours "
        "aren couldn didn doesn don hasn haven isn ll re shouldn ve wasn weren won wouldn"
    ).split()
)
#: The framing of a question ("is it possible to", "does it allow", "how do I make it"),
#: compared by stem.
_FRAMING = "able allow make possible"

#: Other names developers and READMEs use for the same thing: a question naming one member
#: of a group also looks for the others, at ``_SYNONYM_WEIGHT``. Phrases are looked for,
#: never looked up (a question's phrases are in ``_QUERY_PHRASES``).
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("async", "asyncio", "asynchronous", "await", "coroutine"),
    ("cli", "command line", "shell", "terminal"),
    ("arg", "argument", "param", "parameter", "kwarg"),
    ("kwarg", "keyword argument"),
    ("func", "function", "callable"),
    ("init", "initialize"),
    ("config", "configuration"),
    ("doc", "documentation"),
    ("env", "environment"),
    ("var", "variable"),
    ("dir", "directory", "folder"),
    ("repo", "repository"),
    ("db", "database"),
    ("str", "string"),
    ("int", "integer"),
    ("dict", "dictionary", "mapping"),
    ("msg", "message"),
    ("auth", "authentication"),
    ("lib", "library"),
    ("pkg", "package"),
    ("app", "application"),
    ("attr", "attribute"),
    ("obj", "object"),
    ("error", "exception", "fail", "failure"),
    ("serialize", "encode", "dump"),
    ("deserialize", "decode", "parse"),
    ("custom", "own"),
    ("class", "type"),
    ("remove", "delete"),
    ("upgrade", "migrate", "migration"),
    ("stream", "incremental", "chunk"),
    ("performance", "speed", "fast", "benchmark"),
    ("example", "quickstart", "tutorial"),
)

#: Phrases of a question that stand for words of the documentation.
_QUERY_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bcommand[\s-]*line\b", re.IGNORECASE), "cli command line"),
    (
        re.compile(r"\b(?:takes?|taking|took|runs?|running|ran|hangs?)\s+(?:too\s+long|forever)\b", re.IGNORECASE),
        "timeout",
    ),
    (re.compile(r"\btime[\s-]*(?:limit|out)s?\b", re.IGNORECASE), "timeout"),
)

#: A question with one of these words is about changes: release notes are not discounted.
_ABOUT_CHANGES = "change changelog release version new deprecate deprecation break breaking history fix bug regression"

_RELEASE_NOTES_TITLE = re.compile(
    r"^\W*(?:change ?log|changes|history|news|release notes|release history|release information|"
    r"version history|change history|what'?s (?:new|changed))\W*$|"
    r"^\W*(?:v(?:ersion)?\s*)?\d+(?:\.\d+)+",  # a version heading: "1.2.0 (2024-01-01)", "v2.0", "[0.3.1]"
    re.IGNORECASE | re.MULTILINE,
)

#: Endings :func:`stem` removes, each with the shortest stem it may leave.
_SUFFIXES = (
    ("ation", 4),
    ("ating", 4),
    ("ated", 4),
    ("ator", 4),
    ("ate", 4),
    ("ing", 3),
    ("ed", 3),
    ("er", 4),
    ("ly", 5),
)
#: Words whose stem does not start with their first letters (searched for by their own).
_IRREGULAR = {"using": "use", "used": "use", "usage": "use", "uses": "use"}


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light stem of a lower-case word: plural, verb, ``-ation``, ``-ate`` and ``-er`` endings go.

    ``retries``/``retrying`` -> ``retri``, ``installation``/``installed`` -> ``install``,
    ``validator``/``validating`` -> ``valid``. British ``-our``/``-ise`` spellings become
    American. Every rule keeps the first three letters: a stem starts like its words.
    """
    if len(word) <= _PREFIX:
        return word
    irregular = _IRREGULAR.get(word)
    if irregular is not None:
        return irregular
    base = word
    if len(base) > 4 and base.endswith(("ies", "sses", "ses", "xes", "ches", "shes", "zzes")):
        base = base[:-2]  # retries -> retri, classes -> class
    elif base.endswith("s") and not base.endswith(("ss", "us", "is", "ias")):
        base = base[:-1]
    for _ in range(2):  # filtering -> filter -> filt
        for suffix, shortest in _SUFFIXES:
            if base.endswith(suffix) and len(base) - len(suffix) >= shortest:
                base = base[: -len(suffix)]
                if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz":
                    base = base[:-1]  # mapping -> map
                break
        else:
            break
    if len(base) >= 4:
        if base[-1] == "e":
            base = base[:-1]
        elif base[-1] == "y" and base[-2] not in "aeiou":
            base = base[:-1] + "i"  # retry, retries -> retri
    if len(base) > 5 and base.endswith("is") and base != word:
        base = base[:-1] + "z"  # initialis(e|ed|ation) -> initializ
    if len(base) > 5 and base.endswith("our"):
        base = base[:-2] + "r"  # colour -> color, behaviour -> behavior
    return base


def query_terms(query: str) -> dict[str, float]:
    """The stems a question looks for, each with its weight (1, or less for another name).

    Question words, the framing of a question and one-letter words are dropped, unless
    nothing else is left.
    """
    for pattern, replacement in _QUERY_PHRASES:
        query = pattern.sub(f" {replacement} ", query)
    words = _words(query)
    kept = [word for word in words if len(word) > 1 and word not in _STOPWORDS and stem(word) not in _FRAMING_STEMS]
    kept = kept or words
    terms = dict.fromkeys((stem(word) for word in kept), 1.0)
    for term in list(terms):
        for other in _SYNONYMS.get(term, ()):
            terms.setdefault(other, _SYNONYM_WEIGHT)
    return terms


def section_scores(query: str, sections: Sequence[DocSection]) -> list[float]:
    """BM25 relevance of each of a document's sections to ``query`` (0 when no word matches).

    A section is its content (web addresses left out), its title (three times) and the
    titles of the sections it sits under (once); release notes count a fifth unless the
    question is about changes.
    """
    terms = query_terms(query)
    count = len(sections)
    if not terms or not count:
        return [0.0] * count
    titles = [section.title for section in sections]
    contents = [section.content for section in sections]
    in_titles = _term_counts(terms, titles)
    notes = _release_notes_titles(titles) if _CHANGE_TERMS.isdisjoint(terms) else [False] * count
    above, notes = _inherit([section.level for section in sections], in_titles, notes)
    average = (sum(map(len, contents)) / count) or 1.0
    # BM25F: each field's count is weighted (content by its length, titles not: they are
    # short), and only their sum saturates, so a long section keeps its title's weight.
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, in_content in enumerate(_term_counts(terms, contents, skip_links=True)):
        norm = 1 - _B + _B * len(contents[index]) / average
        weighted = {term: times / norm for term, times in in_content.items()}
        for term, times in in_titles[index].items():
            weighted[term] = weighted.get(term, 0.0) + _TITLE_WEIGHT * times
        for term, times in above[index].items():
            weighted[term] = weighted.get(term, 0.0) + times
        for term, frequency in weighted.items():
            postings.setdefault(term, []).append((index, frequency))
    scores = [0.0] * count
    for term, hits in postings.items():
        importance = terms[term] * math.log(1 + (count - len(hits) + 0.5) / (len(hits) + 0.5))
        for index, frequency in hits:
            scores[index] += importance * frequency * (_K1 + 1) / (frequency + _K1)
    return [score * _RELEASE_NOTES_WEIGHT if note else score for score, note in zip(scores, notes, strict=True)]


def best_matches(query: str, titled_texts: Sequence[tuple[str, str]], limit: int) -> list[int]:
    """Indexes of the ``limit`` (title, text) pairs most relevant to ``query``, best first (ties
    in the given order); each is ranked like a top-level section, and one no word matches is
    left out. For entries outside a document, e.g. an API reference's (path, docstring)."""
    sections = [
        DocSection.model_construct(title=title, anchor="", level=0, content=text) for title, text in titled_texts
    ]
    scores = section_scores(query, sections)
    return sorted((index for index, score in enumerate(scores) if score > 0), key=lambda index: -scores[index])[:limit]


def _words(text: str) -> list[str]:
    # Cut on case first (``ExceptionGroup`` -> ``Exception Group``), then lower-case in C.
    return " ".join(_WORD.findall(text)).lower().split()


def _term_counts(terms: dict[str, float], texts: Sequence[str], *, skip_links: bool = False) -> list[dict[str, int]]:
    """How often each query stem occurs in each of ``texts``, looking only at words that can match.

    The texts are joined and lower-cased once. A word can only stem to a term if it starts
    with the term's first letters, so each place where those letters start a word (after
    a non-letter, or at a change of case) yields the one word read there. Letters found in
    thousands of places (a hostile or unusual text) are counted word by word in C instead,
    without cutting at changes of case, so the cost stays linear with a small constant.
    """
    text = "\n".join(texts)
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-ASCII letters lower-case to two characters
        lowered = text.translate(_ASCII_LOWER)
    starts = [0]
    for part in texts:
        starts.append(starts[-1] + len(part) + 1)
    prefixes = {term[:_PREFIX] for term in terms}
    prefixes.update(word[:_PREFIX] for word, target in _IRREGULAR.items() if target in terms)
    dense = {prefix for prefix in prefixes if lowered.count(prefix) > _DENSE}
    links = _link_spans(text) if skip_links else []
    link_starts = [start for start, _ in links]
    counts: list[dict[str, int]] = [{} for _ in texts]
    for prefix in prefixes - dense:
        position = lowered.find(prefix)
        while position >= 0:
            link = bisect_right(link_starts, position) - 1
            if link >= 0 and position < links[link][1]:
                position = lowered.find(prefix, links[link][1])
                continue
            match = _WORD.match(text, position) if _starts_word(text, position) else None
            if match is not None:
                word = match.group().lower()
                term = stem(word)
                if term in terms and word[:_PREFIX] == prefix:  # else its own prefix finds it
                    found = counts[bisect_right(starts, position) - 1]
                    found[term] = found.get(term, 0) + 1
            position = lowered.find(prefix, position + 1)
    if dense:
        for index, found in enumerate(counts):
            words = lowered[starts[index] : starts[index + 1] - 1].translate(_SEPARATORS).split()
            for word, times in Counter(words).items():
                if word[:_PREFIX] in dense:
                    term = stem(word)
                    if term in terms:
                        found[term] = found.get(term, 0) + times
    return counts


def _link_spans(text: str) -> list[tuple[int, int]]:
    """Where the web addresses are in ``text`` (``https://...`` up to a space, quote or bracket)."""
    spans = []
    position = text.find("://")
    while position >= 0:
        start = position
        while start > 0 and text[start - 1].isalpha():
            start -= 1
        end = _URL_END.search(text, position + 3)
        stop = end.start() if end else len(text)
        spans.append((start, stop))
        position = text.find("://", stop)
    return spans


def _starts_word(text: str, position: int) -> bool:
    """Whether a word of :data:`_WORD` starts at ``position`` (after a separator or at a change of case)."""
    if position == 0:
        return True
    before, here = text[position - 1], text[position]
    if before not in _ASCII_ALNUM:
        return True
    if before.isdigit():
        return not here.isdigit()  # 64bit
    if here.isupper():
        after = text[position + 1 : position + 2]
        return before.islower() or (before.isupper() and after.islower())  # fooBar, HTTPServer
    return False


def _inherit(
    levels: Sequence[int], in_titles: Sequence[dict[str, int]], notes: Sequence[bool]
) -> tuple[list[dict[str, int]], list[bool]]:
    """For each section, the query words in the titles of the sections it sits under, and
    whether it is release notes (titled so, or under such a heading). The preamble (level 0)
    is under nothing and nothing is under it.
    """
    above: list[dict[str, int]] = []
    inherited_notes: list[bool] = []
    # The headings still open: their level, the query words in their titles and above, notes.
    open_headings: list[tuple[int, dict[str, int], bool]] = []
    for index, level in enumerate(levels):
        while open_headings and open_headings[-1][0] >= level:
            open_headings.pop()
        words, note = (open_headings[-1][1], open_headings[-1][2]) if open_headings else ({}, False)
        note = note or notes[index]
        above.append(words)
        inherited_notes.append(note)
        if level > 0:
            if in_titles[index]:
                words = dict(words)
                for term, times in in_titles[index].items():
                    words[term] = words.get(term, 0) + times
            open_headings.append((level, words, note))
    return above, inherited_notes


def _release_notes_titles(titles: Sequence[str]) -> list[bool]:
    """Which titles are those of release notes ("Changelog", "v1.2.0", "What's new", ...)."""
    joined = "\n".join(titles)
    starts = [0]
    for title in titles:
        starts.append(starts[-1] + len(title) + 1)
    titled = [False] * len(titles)
    for match in _RELEASE_NOTES_TITLE.finditer(joined):
        titled[bisect_right(starts, match.start()) - 1] = True
    return titled


def _synonym_table(groups: Sequence[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in groups:
        entries = [tuple(stem(word) for word in _words(entry)) for entry in group]
        for entry in entries:
            if len(entry) != 1:
                continue
            known = table.setdefault(entry[0], [])
            for other in entries:
                known.extend(word for word in other if word != entry[0] and word not in known)
    return {word: tuple(others) for word, others in table.items()}


_SYNONYMS = _synonym_table(_SYNONYM_GROUPS)
_FRAMING_STEMS = frozenset(stem(word) for word in _FRAMING.split())
_CHANGE_TERMS = frozenset(stem(word) for word in _ABOUT_CHANGES.split())


# -- for other rankers over the same words (autodocs.docs.placed_ranking) ---------------------

K1, B, TITLE_WEIGHT, RELEASE_NOTES_WEIGHT = _K1, _B, _TITLE_WEIGHT, _RELEASE_NOTES_WEIGHT
release_notes_titles = _release_notes_titles


def about_changes(terms: dict[str, float]) -> bool:
    """Whether a question with these stems asks about changes (release notes are then not discounted)."""
    return not _CHANGE_TERMS.isdisjoint(terms)


def text_stems(text: str, *, skip_links: bool = False) -> Counter[str]:
    """How often each stem occurs in ``text``: words cut as :func:`query_terms` cuts them, web
    addresses left out when ``skip_links``."""
    if skip_links:
        spans = _link_spans(text)
        if spans:
            kept, position = [], 0
            for start, end in spans:
                kept.append(text[position:start])
                position = end
            kept.append(text[position:])
            text = " ".join(kept)
    return Counter(stem(word) for word in _words(text))
