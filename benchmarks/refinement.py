"""The refinement property over random diagrams (issue 11's acceptance: >= 2,000).

    python benchmarks/refinement.py [--count 2000] [--runs 10] [--seed 0] [-v]

For each random valid diagram of tests/strategies.py (hypothesis, generation only: no
shrinking, so that a failure does not stop the count): parse it, project it as an
orchestration, draw `--runs` traces its projected contract accepts, erase the hops the
projection added and check each against the original diagram (tests/refinement.py says
how). Printed: how many diagrams were checked, how many were left out and why (parse
warnings; broker shapes the eraser does not handle), and every failure with its diagram
text, so that it can become a regression test. The exit code is 1 when one failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # run from a checkout without installing
sys.path.insert(0, str(PROJECT / "tests"))  # the strategies and the property live there

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from refinement import SKIPPED, refines  # noqa: E402
from strategies import Generated, diagrams  # noqa: E402

from mermaidgen import parse  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="random diagrams to draw")
    parser.add_argument("--runs", type=int, default=10, help="traces drawn per diagram")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis' seed")
    parser.add_argument("--max-statements", type=int, default=20)
    parser.add_argument("-v", "--verbose", action="store_true", help="print progress")
    args = parser.parse_args(argv)
    tally: Counter[str] = Counter()
    failures: list[tuple[str, str]] = []
    started = time.perf_counter()

    @hypothesis_seed(args.seed)
    @settings(max_examples=args.count, deadline=None, database=None,
              phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    @given(diagrams(max_statements=args.max_statements))
    def one(generated: Generated) -> None:
        tally["drawn"] += 1
        diagram = parse(generated.text, source="random.mmd")
        if diagram.warnings:
            tally["left out: parse warnings"] += 1
            return
        try:
            problem = refines(diagram, random.Random(0), args.runs)
        except Exception as error:  # a crash is a failure too, with its diagram
            problem = f"crashed: {error!r}"
        if problem == SKIPPED:
            tally["left out: " + SKIPPED] += 1
        elif problem is None:
            tally["refines"] += 1
        else:
            tally["FAILS"] += 1
            failures.append((generated.text, problem))
        if args.verbose and tally["drawn"] % 100 == 0:
            print(f"  {tally['drawn']} drawn, {tally['FAILS']} fail", file=sys.stderr)

    one()
    checked = tally["refines"] + tally["FAILS"]
    print(f"refinement over {tally['drawn']} random diagrams (seed {args.seed}, "
          f"{args.runs} traces each, {time.perf_counter() - started:.0f} s):")
    print(f"  checked: {checked}; refine: {tally['refines']}; fail: {tally['FAILS']}")
    for what, n in sorted(tally.items()):
        if what.startswith("left out"):
            print(f"  {what}: {n}")
    for text, problem in failures:
        print("\nFAILS:\n" + text + "\n" + problem)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
