"""Copy read the way a reviewer reads it: sentence by sentence, each word by its dictionary form (simplemma's lemmas,
as a table of the forms the claim cues need: "cured", "cures" and "curing" are one word), and what a word is said
under (a negation, a question).

A `Sentence` keeps its words twice: as written (lower-cased) and as lemmas joined by single spaces, so the claim
classes (`mailpipe.checks.claim_classes`) can match a phrase and its inflections with one compiled pattern, and map a
match back to the words around it. Sentences are analysed once per distinct text: the same sentence in eleven emails,
or in a preview save that did not touch it, costs one analysis.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import cast

_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "st",
        "no",
        "vs",
        "etc",
        "approx",
        "inc",
        "ltd",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "e.g",
        "i.e",
        "u.s",
        "a.m",
        "p.m",
    ]
)
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9$*#])")
_TOKEN = re.compile(r"\$\d[\d,]*(?:\.\d+)?|\d+(?:[.,:/]\d+)*|[a-z]+(?:\.[a-z])+\.?|[a-z]+|'s\b|[%#&+\-!?;:,()\"]")
_CONTRACTIONS = (
    (re.compile(r"\bcan['’]t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon['’]t\b"), "will not"),
    (re.compile(r"n['’]t\b"), " not"),
    (re.compile(r"['’](re|ve|ll|d|m)\b"), r" \1"),
    (re.compile(r"[‘’]"), "'"),
    (re.compile(r"[“”]"), '"'),
    (re.compile(r"[–—]"), " - "),
)
# simplemma folds comparison into the positive ("best" -> "good") and misreads a few forms; a claim needs them apart
_LEMMA_OVERRIDES = {
    "better": "better",
    "best": "best",
    "worse": "worse",
    "worst": "worst",
    "gone": "go",
    "felt": "feel",
    "left": "left",
    "more": "more",
    "most": "most",
    "less": "less",
    "least": "least",
    "fewer": "fewer",
    "us": "we",
    "free": "free",
    "fastest": "fast",
    "quickest": "quick",
    "sooner": "soon",
    "ending": "end",
    "lasting": "last",
    "rarely": "rare",
    "ages": "age",
    "teens": "teen",
    "kids": "kid",
    "spots": "spot",
    "data": "data",
    "'s": "'s",
    "thanking": "thank",  # simplemma: "thanke"
}
NEGATIONS = frozenset({"not", "no", "never", "without", "none", "nothing", "nobody", "neither", "nor", "unknown"})
_PSEUDO_NEGATIONS = (("not", "only"), ("no", "doubt"), ("no", "matter"), ("not", "just"))
# "not known", "not approved", "not for": a negation of the whole clause that follows
_CLAUSE_NEGATIONS = frozenset(
    {
        "know",
        "known",
        "approve",
        "approved",
        "show",
        "shown",
        "study",
        "studied",
        "establish",
        "prove",
        "for",
        "recommend",
        "recommended",
        "indicate",
        "intend",
        "suitable",
        "mean",
        "right",
        "clear",
        "be",
    }
)
# a negation's reach ends at a clause boundary (NegEx's termination terms)
_SCOPE_ENDS = frozenset({"but", "however", "although", "though", "yet", "except", "whereas", "while", ";", ":"})
_CLAUSE_BOUNDARIES = _SCOPE_ENDS | {",", "and", "so"}
_QUESTION_OPENERS = frozenset(
    [
        "is",
        "are",
        "am",
        "was",
        "were",
        "can",
        "could",
        "do",
        "does",
        "did",
        "will",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "how",
        "what",
        "which",
        "who",
        "when",
        "where",
        "whether",
        "have",
        "has",
    ]
)


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    """simplemma's lemmas of every word form whose lemma a claim cue may name (scripts/make-lemma-table.py)."""
    return cast(dict[str, str], json.loads(resources.files("mailpipe.checks").joinpath("data/lemmas.json").read_text()))


def lemma(word: str) -> str:
    """A word's dictionary form, lower-cased ("migraines" -> "migraine", "cured" -> "cure"); a word whose lemma no
    cue names is its own."""
    return _LEMMA_OVERRIDES.get(word) or _lemma_table().get(word, word)


def normalise(text: str) -> str:
    """Lower case, straight quotes, contractions spelled out ("can't" -> "can not"), dashes as words."""
    text = text.lower()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class Span:
    """Where a pattern matched a sentence: token positions [start, end) and the words as written."""

    start: int
    end: int
    words: str


class Sentence:
    """One sentence: its words as written (lower-cased) and as lemmas, and the scopes they are said under."""

    def __init__(self, text: str):
        self.text = " ".join(text.split())
        self.words = _TOKEN.findall(normalise(self.text))
        self.lemmas = [lemma(word) for word in self.words]
        self.lemma_text = " ".join(self.lemmas)
        self.plain = " ".join(self.words)  # the words as written, joined the same way, for patterns on surface forms
        self._lemma_starts = _starts(self.lemmas)
        self._word_starts = _starts(self.words)

    def find(self, pattern: re.Pattern[str], surface: bool = False) -> list[Span]:
        """Every match of a pattern over the lemmas, and over the words as written (a lemmatizer misreads a few words:
        "thanking" -> "thanke", "award-winning" -> "award - win"); with `surface`, over the words as written only."""
        texts = [(self.plain, self._word_starts)] if surface else [(self.lemma_text, self._lemma_starts)]
        if not surface and self.plain != self.lemma_text:
            texts.append((self.plain, self._word_starts))
        if not any(pattern.search(text) for text, _ in texts):
            return []  # the usual case, without building spans
        spans: dict[tuple[int, int], Span] = {}
        for text, starts in texts:
            for match in pattern.finditer(text):
                start = bisect.bisect_right(starts, match.start()) - 1
                end = max(bisect.bisect_left(starts, match.end()), start + 1)
                spans.setdefault((start, end), Span(start, end, " ".join(self.words[start:end])))
        return sorted(spans.values(), key=lambda span: span.start)

    def has(self, pattern: re.Pattern[str], surface: bool = False) -> bool:
        if surface:
            return pattern.search(self.plain) is not None
        return pattern.search(self.lemma_text) is not None or pattern.search(self.plain) is not None

    def negated(self, span: Span, reach: int = 6) -> bool:
        """A negation stands before the span in the same clause: within `reach` words ("no cure"), or anywhere before
        it when it governs the clause ("it is not known whether BOTOX is safe and effective for episodic migraine")."""
        for index in range(span.start - 1, -1, -1):
            word = self.lemmas[index]
            if word in _SCOPE_ENDS:
                return False
            governs = span.start - index <= reach or self._pair(index)[1] in _CLAUSE_NEGATIONS or word == "unknown"
            if word in NEGATIONS and self._pair(index) not in _PSEUDO_NEGATIONS and governs:
                return True
        return False

    def _pair(self, index: int) -> tuple[str, str]:
        return (self.lemmas[index], self.lemmas[index + 1] if index + 1 < len(self.lemmas) else "")

    @cached_property
    def is_question(self) -> bool:
        """A plain question ("Is it safe?") asks, it does not claim; a rhetorical "Why…" is read as a claim."""
        return self.text.rstrip().endswith("?") and bool(self.words) and self.words[0] in _QUESTION_OPENERS

    def clause(self, span: Span) -> str:
        """The lemmas of the clause a span stands in: between the clause boundaries around it ("Keep your rescue
        medicine for attacks; BOTOX does not replace it" is two clauses)."""
        start, end = self._clause_bounds(span)
        return " ".join(self.lemmas[start:end])

    def window(self, span: Span, before: int, after: int, within_clause: bool = False) -> str:
        """The lemmas around a span, for a cue that must stand near another (with `within_clause`, not across a clause
        boundary: "The consultation is free; treatment is priced as listed")."""
        start, end = max(0, span.start - before), min(len(self.lemmas), span.end + after)
        if within_clause:
            clause_start, clause_end = self._clause_bounds(span)
            start, end = max(start, clause_start), min(end, clause_end)
        return " ".join(self.lemmas[start:end])

    def _clause_bounds(self, span: Span) -> tuple[int, int]:
        start = span.start
        while start > 0 and self.lemmas[start - 1] not in _CLAUSE_BOUNDARIES:
            start -= 1
        end = span.end
        while end < len(self.lemmas) and self.lemmas[end] not in _CLAUSE_BOUNDARIES:
            end += 1
        return start, end


def _starts(words: list[str]) -> list[int]:
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word) + 1
    return starts


@lru_cache(maxsize=8192)
def analyse(text: str) -> Sentence:
    return Sentence(text)


def sentences(text: str) -> list[str]:
    """A block of copy split into sentences (not after "Dr." or "e.g."), each with its closing punctuation."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if text[match.start()] == "." and (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue
        out.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return _joined_questions(out)


def _joined_questions(found: list[str]) -> list[str]:
    """A question of three words or fewer that is not a plain question ("Side effects? Practically none.", but not "Is
    it safe?") is a headline the next sentence answers: read as one sentence with it."""
    out: list[str] = []
    for sentence in found:
        last = out[-1] if out else ""
        if last.endswith("?") and len(last.split()) <= 3 and last.split()[0].lower() not in _QUESTION_OPENERS:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out
