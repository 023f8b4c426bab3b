"""Path coverage: which alternatives of the diagram's choices the traces took.

The choices and their alternatives are the paths machinery's (`analysis/paths.py`,
docs/paths.md): each section of an `alt`, the main section or an option of a `critical`,
an `opt` taken or skipped, a `break` taken or not, a `loop` once or twice (two or more
iterations count as *twice*), every `par` as one alternative. Read off each conforming
trace (the checker's `matched`: which diagram line each trace message matched):

* a section was taken when one of its messages (at any depth) was matched;
* a choice was reached when it is at the top level or its enclosing section was taken;
  an `opt` reached and not taken was skipped, a `break` reached and not taken was not
  taken, a `critical` reached with no option taken ran its main section;
* a loop's iterations: how often the messages drawn directly in its body were matched
  (the most of them), else those nested in it.

Traces that do not conform are not counted: which sections a wrong run took is a guess.
Coverage is the share of alternatives seen at least once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from mermaidgen.analysis.paths import Choice, choices_of
from mermaidgen.model import Block, Diagram, Message

Place = tuple[int, int]
"""(choice index, section index)."""


@dataclass(slots=True)
class Coverage:
    choices: tuple[Choice, ...]
    chains: dict[int, tuple[Place, ...]]
    """Per message line, the sections that hold it, outermost first."""
    direct: dict[int, int]
    """Per message line, the loop whose body holds it directly (choice index), if any."""
    seen: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(choice index, alternative value) -> traces that took it."""
    iterations: dict[int, Counter[int]] = field(default_factory=dict)
    """Per loop, how many traces ran it how many times."""
    messages: Counter[int] = field(default_factory=Counter)
    """Per diagram line, how often the conforming traces sent its message."""
    traces: int = 0

    @classmethod
    def of(cls, diagram: Diagram) -> Coverage:
        choices = choices_of(diagram)
        chains: dict[int, tuple[Place, ...]] = {}
        direct: dict[int, int] = {}
        for message, chain, innermost in _walk(diagram):
            chains.setdefault(message.span.line, chain)
            if innermost is not None and choices[innermost[0]].kind == "loop":
                direct.setdefault(message.span.line, innermost[0])
        return cls(choices, chains, direct)

    def add(self, matched_lines: Counter[int], times: int = 1) -> None:
        """Count `times` conforming traces, given how often each matched each diagram
        line."""
        self.traces += times
        for line, n in matched_lines.items():
            self.messages[line] += n * times
        taken: set[Place] = set()
        for line in matched_lines:
            taken.update(self.chains.get(line, ()))
        counts: dict[int, int] = {}
        nested: dict[int, int] = {}
        for line, n in matched_lines.items():
            loop = self.direct.get(line)
            if loop is not None:
                counts[loop] = max(counts.get(loop, 0), n)
            for c, _ in self.chains.get(line, ()):
                nested[c] = max(nested.get(c, 0), n)
        for c in self.choices:
            if c.parent is not None and c.parent not in taken:
                continue
            sections = {k for (i, k) in taken if i == c.index}
            if c.kind == "alt":
                for k in sections:
                    self.seen[(c.index, k)] += times
            elif c.kind == "critical":
                options = sorted(k for k in sections if k > 0)
                self.seen[(c.index, options[0] if options else 0)] += times
            elif c.kind in ("opt", "break"):
                self.seen[(c.index, 1 if sections else 0)] += times
            elif c.kind == "loop":
                n = counts.get(c.index) or nested.get(c.index, 0)
                if n:
                    self.iterations.setdefault(c.index, Counter())[n] += times
                    self.seen[(c.index, min(n, 2))] += times
            else:  # par: all its sections run
                self.seen[(c.index, 0)] += times

    def rows(self) -> Iterator[tuple[Choice, int, str, str, int]]:
        """(choice, value, path name, meaning, traces) for every alternative."""
        for c in self.choices:
            for value, name, meaning in c.alternatives:
                yield c, value, name, meaning, self.seen.get((c.index, value), 0)

    @property
    def total(self) -> int:
        return sum(len(c.alternatives) for c in self.choices)

    @property
    def covered(self) -> int:
        return sum(1 for *_, n in self.rows() if n)

    @property
    def percent(self) -> float:
        """Alternatives seen, in percent (a diagram without choices: 100 once a trace
        conformed)."""
        if not self.total:
            return 100.0 if self.traces else 0.0
        return 100.0 * self.covered / self.total


def _walk(diagram: Diagram) -> Iterator[tuple[Message, tuple[Place, ...],
                                              Place | None]]:
    """Each message with the sections that hold it and the innermost one, numbering
    choices in the preorder `choices_of` uses (`rect` is no choice). Iterative."""
    count = 0
    stack: list[tuple[Iterator, tuple[Place, ...]]] = [(iter(diagram.statements), ())]
    while stack:
        items, chain = stack[-1]
        for s in items:
            if isinstance(s, Message):
                yield s, chain, chain[-1] if chain else None
            elif isinstance(s, Block):
                if s.kind == "rect":
                    stack.append((iter([x for sec in s.sections for x in sec.statements]),
                                  chain))
                    break
                index = count
                count += 1
                for k in range(len(s.sections) - 1, -1, -1):
                    stack.append((iter(s.sections[k].statements), chain + ((index, k),)))
                break
        else:
            stack.pop()
