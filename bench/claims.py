"""Benchmark: the claim classes against the labelled corpus (tests/claims/) and every sentence of the shipped emails.

Prints, per class, recall on the sentences a reviewer rejects (caught by that class), precision (of the sentences the
class flags, how many a reviewer rejects) and how many of those are labelled with that very class (a sentence can
make two claims: "50% off, today only" is price and urgency), then every fair sentence that was flagged and every
rejected sentence that was missed, and the time per sentence, cold (first reading) and warm (cached).

    .venv/bin/python bench/claims.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import claims_corpus  # noqa: E402  (tests/claims_corpus.py)

from mailpipe.checks.claim_classes import ClaimClass, claims_in  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every missed and every wrongly flagged sentence")
    args = parser.parse_args()
    rejected = claims_corpus.rejected()
    fair = claims_corpus.fair()
    shipped = claims_corpus.shipped(REPO)
    examples = rejected + fair + shipped
    start = time.perf_counter()
    verdicts = {id(e): {c.kind.value for c in claims_in(e.sentence, e.setting)} for e in examples}
    cold = (time.perf_counter() - start) / len(examples) * 1e6
    start = time.perf_counter()
    for example in examples:
        claims_in(example.sentence, example.setting)
    warm = (time.perf_counter() - start) / len(examples) * 1e6

    print(f"corpus: {len(rejected)} rejected, {len(fair)} fair written, {len(shipped)} fair from the shipped emails")
    print(
        f"{'class':<12} {'rejected':>8} {'caught':>7} {'recall':>7} {'flagged':>8} {'precision':>9} {'same class':>10}"
    )
    caught_any = 0
    for kind in ClaimClass:
        own = [e for e in rejected if e.kind == kind.value]
        caught = sum(1 for e in own if kind.value in verdicts[id(e)])
        flagged = [e for e in examples if kind.value in verdicts[id(e)]]
        rejected_flagged = sum(1 for e in flagged if e.kind is not None)  # a reviewer rejects it (for any class)
        same = sum(1 for e in flagged if e.kind == kind.value)
        recall = caught / len(own) if own else 1.0
        precision = rejected_flagged / len(flagged) if flagged else 1.0
        same_class = same / len(flagged) if flagged else 1.0
        print(
            f"{kind.value:<12} {len(own):>8} {caught:>7} {recall:>7.1%} {len(flagged):>8} {precision:>9.1%} "
            f"{same_class:>10.1%}"
        )
    caught_any = sum(1 for e in rejected if verdicts[id(e)])
    false_errors = [e for e in fair + shipped if verdicts[id(e)]]
    print(f"rejected sentences with any finding: {caught_any}/{len(rejected)} ({caught_any / len(rejected):.1%})")
    print(f"fair sentences with a finding (false errors): {len(false_errors)}/{len(fair) + len(shipped)}")
    print(f"time per sentence: {cold:.0f} µs cold (first reading, lemmas loaded), {warm:.1f} µs warm (cached)")
    if args.misses:
        for example in rejected:
            if example.kind not in verdicts[id(example)]:
                found = sorted(verdicts[id(example)])
                print(f"missed {example.kind:<11} {example.source:<18} {example.sentence}  -> {found}")
        for example in false_errors:
            print(f"false  {','.join(sorted(verdicts[id(example)])):<11} {example.source:<18} {example.sentence}")
    print(Counter(k for e in false_errors for k in verdicts[id(e)]) or "")


if __name__ == "__main__":
    main()
