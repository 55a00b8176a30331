"""Write mailpipe/checks/data/lemmas.json: each English word form whose lemma a claim class may look for, and that
lemma ("cured" -> "cure"), taken from simplemma's English dictionary.

The claim classes match lemmas; a word whose lemma no cue names is read as written, so the table needs only the
forms of the lemmas the cues can name (any dictionary lemma that starts with a word of a cue's pattern). Loading it
costs a few milliseconds where simplemma's whole dictionary costs a quarter of a second per process.
tests/test_claims_corpus.py checks the file is what this script makes; run it again after editing a lexicon.

    .venv/bin/python scripts/make-lemma-table.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "mailpipe" / "checks" / "data" / "lemmas.json"


def cue_words() -> re.Pattern[str]:
    """A pattern that matches a lemma starting with any word a cue or a scope list of the claim classes names."""
    sys.path.insert(0, str(REPO))
    from mailpipe.checks import claim_classes, reading

    sources: list[str] = []
    for module in (claim_classes, reading):
        for value in vars(module).values():
            values = value.values() if isinstance(value, dict) else [value]
            for item in values:
                item = item[0] if isinstance(item, tuple) and item else item
                if isinstance(item, re.Pattern):
                    sources.append(item.pattern)
                elif isinstance(item, frozenset):
                    sources.extend(str(word) for word in item)
    words = {w for source in sources for w in re.findall(r"[a-z]{2,}", source)}
    stems = sorted((w for w in words if len(w) >= 4), key=len, reverse=True)  # "stor(y|ie)": a stem, any ending
    short = sorted(w for w in words if len(w) < 4)  # "be", "end": the word itself
    return re.compile("^(?:(?:" + "|".join(stems) + ")|(?:" + "|".join(short) + ")$)")


def table() -> dict[str, str]:
    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    relevant = cue_words()
    forms = {}
    for surface in DefaultDictionaryFactory().get_dictionary("en"):
        word = surface.lower()
        if not re.fullmatch(r"[a-z]+(?:'[a-z]+)?", word):
            continue
        lemma = str(simplemma.lemmatize(word, lang="en")).lower()
        if lemma != word and relevant.match(lemma):
            forms[word] = lemma
    return dict(sorted(forms.items()))


def render(forms: dict[str, str]) -> str:
    return json.dumps(forms, separators=(",", ":"), ensure_ascii=True) + "\n"


if __name__ == "__main__":
    forms = table()
    TABLE.write_text(render(forms), encoding="utf-8")
    print(f"{TABLE.relative_to(REPO)}: {len(forms)} word forms")
