"""The diagram's paths: the runs its choices allow, each named after the sections it takes.

Every `alt`/`opt`/`break`/`critical`/`loop` is a choice; a path fixes one alternative of
each choice it reaches (a block inside a section not taken is not reached):

| block | alternatives (the default first) | value |
|---|---|---|
| `alt` | each section | the section's index |
| `critical` | the main section, each `option` | 0, the option's index |
| `opt` | taken, skipped (`<label>-skipped`) | 1, 0 |
| `break` | not taken, taken (`<label>`) | 0, 1 |
| `loop` | 1 iteration, 2 (`<label>-twice`) if its bound allows | the iterations |
| `par` (2 sections or more) | drawn order, reversed (`<label>-reversed`) | 0, 1 |

A `par`'s second interleaving, its sections started in reverse order, is a path only where
the target's runtime starts the sections in the order a path asks (`Capabilities`, which
the generator passes for its target); elsewhere the table says why not. Not generated: a
loop at 0 iterations (the contract requires at least one: conformance.md, and the
generated loops run their body before asking to repeat), and a `par`'s other
interleavings.

The path `main` takes every default. When all combinations are few (at most
`PRODUCT_CAP`), every combination is a path, named by its non-default alternatives joined
with `+`; otherwise each non-default alternative gets one path of its own (every section
is taken at least once), with the sections that lead to it, and the table says so
(`mode`). Names are kebab-case slugs of the section labels, made unique with `-2`, `-3`
in document order, so they are stable while the diagram's labels are.

A path's decisions are keyed by the block's line: that is how the generated code names
its decision hooks. Iterative throughout: diagrams nest thousands of levels deep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mermaidgen.analysis.naming import kebab
from mermaidgen.model import Block, Diagram

PRODUCT_CAP = 16
"""At most this many combinations: every one is a path."""
MAX_PATHS = 200
"""At most this many paths in all (huge diagrams): the rest is left out and said so."""
MAIN = "main"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a target's runtime lets a path decide besides the diagram's choices."""

    reorders_par: bool = False
    """It starts a `par`'s sections in the order a hook gives: every `par` of two
    sections or more gets a second alternative, its sections started in reverse order."""
    why_par_in_order: str = "the runtime starts its sections in drawn order"
    """Otherwise: why not (the note of the path table)."""


DEFAULT_CAPABILITIES = Capabilities()
"""A runtime that lets a path decide nothing besides the diagram's choices."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One block a path may reach, and what it can decide there."""

    index: int
    """Preorder number among the diagram's choices."""
    line: int
    kind: str
    label: str
    parent: tuple[int, int] | None
    """(the enclosing choice's index, the section of it that holds this block)."""
    alternatives: tuple[tuple[int, str, str], ...]
    """(value, path name, what it means), the default first."""


@dataclass(frozen=True, slots=True)
class PathSpec:
    name: str
    decisions: tuple[tuple[int, int], ...]
    """(block line, value) for each choice the path reaches, in document order."""
    described: tuple[str, ...]
    """Each decision in words: `line 14 alt payment captured: payment declined`."""


@dataclass(frozen=True, slots=True)
class PathTable:
    paths: tuple[PathSpec, ...]
    choices: tuple[Choice, ...]
    mode: str
    """`all combinations` or `each section once` (the product was too large)."""
    combinations: int
    """How many combinations there are (capped at `PRODUCT_CAP + 1` when counted
    past it)."""
    notes: tuple[str, ...]


def choices_of(diagram: Diagram, loop_limit: Callable[[str], int | None] | None = None,
               reorders_par: bool = False) -> tuple[Choice, ...]:
    """The diagram's choices in document order. `loop_limit(label)`: the most iterations
    the generated loop runs (None: no bound from the label). `reorders_par`: a `par` of
    two sections or more may start them in reverse order (else it decides nothing)."""
    found: list[Choice] = []
    # (statements, enclosing choice and section): explicit stack, preorder
    stack: list[tuple] = [(iter(diagram.statements), None)]
    while stack:
        items, parent = stack[-1]
        for s in items:
            if not isinstance(s, Block):
                continue
            if s.kind == "rect":  # no effect on the trace: its statements are the parent's
                stack.append((iter([x for sec in s.sections for x in sec.statements]),
                              parent))
                break
            choice = _choice(s, len(found), parent, loop_limit, reorders_par)
            found.append(choice)
            # sections pushed last first, so that they are read in drawn order
            for k in range(len(s.sections) - 1, -1, -1):
                stack.append((iter(s.sections[k].statements), (choice.index, k)))
            break
        else:
            stack.pop()
    return tuple(found)


def _choice(block: Block, index: int, parent: tuple[int, int] | None,
            loop_limit: Callable[[str], int | None] | None, reorders_par: bool) -> Choice:
    kind = "par" if block.kind == "par_over" else block.kind
    line = block.span.line
    label = block.sections[0].label if block.sections else ""
    own = kebab(label, "") if label else ""
    where = f"{kind}-line-{line}"
    alts: list[tuple[int, str, str]]
    if kind in ("alt", "critical"):
        alts = []
        for k, section in enumerate(block.sections):
            slug = kebab(section.label, "") if section.label else ""
            part = "option" if kind == "critical" else "section"
            what = "main section" if kind == "critical" and k == 0 else \
                section.label or f"{part} {k + 1}"
            alts.append((k, slug or f"{where}-{part}-{k + 1}", what))
    elif kind == "opt":
        alts = [(1, own or where, "taken"), (0, f"{own or where}-skipped", "skipped")]
    elif kind == "break":
        alts = [(0, f"{own or where}-not-taken", "not taken"), (1, own or where, "taken")]
    elif kind == "loop":
        limit = loop_limit(label) if loop_limit else None
        alts = [(1, f"{own or where}-once", "1 iteration")]
        if limit is None or limit >= 2:
            alts.append((2, f"{own or where}-twice", "2 iterations"))
    elif reorders_par and len(block.sections) > 1:  # par: all run, in which order
        alts = [(0, f"{own or where}-in-drawn-order", "sections started in drawn order"),
                (1, f"{own or where}-reversed", "sections started in reverse order")]
    else:  # par: its sections all run, as the runtime starts them; nothing to decide
        alts = [(0, where, "every section")]
    return Choice(index, line, kind, label, parent, tuple(alts))


def path_table(diagram: Diagram, loop_limit: Callable[[str], int | None] | None = None,
               product_cap: int = PRODUCT_CAP, max_paths: int = MAX_PATHS,
               capabilities: Capabilities = DEFAULT_CAPABILITIES) -> PathTable:
    """The diagram's paths (see the module's docstring), for a runtime that can do what
    `capabilities` say."""
    choices = choices_of(diagram, loop_limit, capabilities.reorders_par)
    notes: list[str] = []
    lines = [c.line for c in choices if len(c.alternatives) > 1]
    if len(lines) != len(set(lines)):
        notes.append("two choices start on one line: their decisions share a key and "
                     "cannot differ on one path")
    if any(c.kind == "par" and len(c.alternatives) > 1 for c in choices):
        notes.append("par: two interleavings, its sections started in drawn order and in "
                     "reverse order (no others)")
    elif any(c.kind == "par" for c in choices) and not capabilities.reorders_par:
        notes.append(f"par: one interleaving ({capabilities.why_par_in_order})")
    if any(c.kind == "loop" for c in choices):
        notes.append("loop: 0 iterations is not a run of the diagram (the contract asks "
                     "for at least one)")
    combos = _product(choices, product_cap)
    if combos is not None:
        mode, count = "all combinations", len(combos)
    else:
        mode, count = "each section once", product_cap + 1
        combos = _covering(choices, max_paths)
        alternatives = 1 + sum(len(c.alternatives) - 1 for c in choices)
        if alternatives > len(combos):
            notes.append(f"{alternatives - len(combos)} more paths left out (at most "
                         f"{max_paths})")
    taken: dict[str, int] = {}
    paths = []
    for combo in combos:
        parts = [choices[i].alternatives[a][1] for i, a in combo if a != 0]
        name = "+".join(parts) or MAIN
        if name in taken:
            taken[name] += 1
            name = f"{name}-{taken[name]}"
        taken.setdefault(name, 1)
        chosen = [(choices[i], choices[i].alternatives[a]) for i, a in combo]
        paths.append(PathSpec(
            name,
            tuple((c.line, alt[0]) for c, alt in chosen if len(c.alternatives) > 1),
            tuple(f"line {c.line} {c.kind} {c.label}".rstrip() + f": {alt[2]}"
                  for c, alt in chosen if len(c.alternatives) > 1)))
    return PathTable(tuple(paths), choices, mode, count, tuple(notes))


Combo = tuple[tuple[int, int], ...]
"""(choice index, alternative index) for each choice a path reaches, in preorder."""


def _reached(choice: Choice, picked: dict[int, int], choices: tuple[Choice, ...]) -> bool:
    """Is `choice` reached when the choices before it took the alternatives in
    `picked` (which holds exactly the reached ones: its parent is there if reached)?"""
    if choice.parent is None:
        return True
    at, section = choice.parent
    return at in picked and _holds(choices[at], picked[at], section)


def _holds(choice: Choice, alternative: int, section: int) -> bool:
    """Does this alternative of `choice` run its section number `section`?"""
    value = choice.alternatives[alternative][0]
    if choice.kind in ("alt", "critical"):
        return value == section
    if choice.kind in ("opt", "break"):
        return value == 1
    return True  # loop (at least once), par (every section)


def _product(choices: tuple[Choice, ...], cap: int) -> list[Combo] | None:
    """Every combination, or None when there are more than `cap`."""
    partial: list[tuple[Combo, dict[int, int]]] = [((), {})]
    for c in choices:
        grown = []
        for combo, picked in partial:
            if not _reached(c, picked, choices):
                grown.append((combo, picked))
                continue
            for a in range(len(c.alternatives)):
                grown.append((combo + ((c.index, a),), picked | {c.index: a}))
        if len(grown) > cap:
            return None
        partial = grown
    return [combo for combo, _ in partial]


def _covering(choices: tuple[Choice, ...], most: int) -> list[Combo]:
    """`main`, then one path per non-default alternative: the alternative, the sections
    that lead to it, the defaults everywhere else."""
    out = [_complete({}, choices)]
    for c in choices:
        for a in range(1, len(c.alternatives)):
            if len(out) >= most:
                return out
            forced = {c.index: a}
            parent = c.parent
            while parent is not None:
                at, section = parent
                forced[at] = next(k for k in range(len(choices[at].alternatives))
                                  if _holds(choices[at], k, section))
                parent = choices[at].parent
            out.append(_complete(forced, choices))
    return out


def _complete(forced: dict[int, int], choices: tuple[Choice, ...]) -> Combo:
    picked: dict[int, int] = {}
    for c in choices:
        if _reached(c, picked, choices):
            picked[c.index] = forced.get(c.index, 0)
    return tuple(picked.items())
