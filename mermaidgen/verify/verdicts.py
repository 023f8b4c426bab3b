"""Checking one trace's messages with the conformance checker (`contract/checker/`),
as the generated contract tests do: `check(contract, [(sender, receiver, text), ...])`.

Production traces repeat a few shapes (the same messages in the same order) many
thousands of times, so verdicts are kept per shape: a trace of a shape already checked
costs a dictionary lookup. A reply the spans do not name (`mapping.py`) stands for any of
the diagram's replies to its request: each combination is tried, at most
`MAX_COMBINATIONS`, and the first that conforms is the trace's reading; when none does,
the first combination's verdict explains the failure.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mermaidgen.contract.checker import check
from mermaidgen.contract.keys import event_key

MAX_COMBINATIONS = 64
Shape = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    result: dict[str, Any]
    """The checker's result for the reading reported (see `checker.check`)."""
    trace: tuple[tuple[str, str, str], ...]
    """The messages as checked (replies resolved)."""
    lines: Counter[int]
    """How often each diagram line was matched (not counting undetermined replies)."""
    tried: int


class Verdicts:
    def __init__(self, contract: dict[str, Any]) -> None:
        self.contract = contract
        self._cache: dict[tuple, Verdict] = {}
        self.checked = 0
        """Checker calls made (not answered from the cache)."""

    def of(self, messages: Sequence[tuple[str, str, tuple[str, ...]]]) -> Verdict:
        shape = tuple((s, r, tuple(event_key(t) for t in texts)) for s, r, texts in messages)
        found = self._cache.get(shape)
        if found is None:
            found = self._cache[shape] = self._check(messages)
        return found

    def _check(self, messages: Sequence[tuple[str, str, tuple[str, ...]]]) -> Verdict:
        choices = [texts for _, _, texts in messages]
        # a reply the spans did not name says nothing about which section ran
        undetermined = {i for i, texts in enumerate(choices) if len(texts) > 1}
        first: Verdict | None = None
        tried = 0
        for combo in itertools.islice(itertools.product(*choices), MAX_COMBINATIONS):
            trace = tuple((s, r, t) for (s, r, _), t in zip(messages, combo, strict=True))
            result = check(self.contract, trace)
            self.checked += 1
            tried += 1
            lines = Counter(m["line"] for m in result["matched"]
                            if m["position"] not in undetermined)
            verdict = Verdict(bool(result["ok"]), result, trace, lines, tried)
            if verdict.ok:
                return verdict
            if first is None:
                first = verdict
        assert first is not None
        return Verdict(False, first.result, first.trace, first.lines, tried)
