"""Build an action tree that keeps the diagram's blocks, from actions and their paths.

A handler or an operation starts somewhere in the diagram (its base path) and collects
the actions that follow. Blocks that enclose the start are the context the handler runs
in, not part of it; blocks entered after the start become `Fragment`s with every one of
their sections (empty ones included, so a decision always has all its branches).
"""

from __future__ import annotations

from dataclasses import replace

from mermaidgen.analysis.flow import Path
from mermaidgen.analysis.naming import NameTable, snake
from mermaidgen.model import Block
from mermaidgen.projection.views import Action, Branch, Fragment, LoopStart, Received


class _Open:
    __slots__ = ("block_id", "block", "sections")

    def __init__(self, block_id: int, block: Block):
        self.block_id = block_id
        self.block = block
        # an `opt` has a second, implicit section: the path where it is skipped
        extra = 1 if block.kind == "opt" else 0
        self.sections: list[list] = [[] for _ in range(len(block.sections) + extra)]


class TreeBuilder:
    def __init__(self, base: Path, blocks: dict[int, Block]):
        self.base = base
        self.blocks = blocks
        self.root: list = []
        self.decided: dict[int, int] = {}
        """Block id -> the call whose reply picks its section (its replies were added
        here as `Received` actions)."""
        self._opens: dict[tuple[int, int], _Open] = {}
        self.opened: set[int] = set()
        """The blocks this tree holds (entered after its base)."""
        self.spanning: dict[int, tuple[str, str | None]] = {}
        """Critical block id -> (its state key, its timer method) when its main section
        goes on in other handlers (see loops.py)."""
        self.unrolled: set[int] = set()
        """Loops whose iterations span handlers: here only their first iteration's start
        is sent (a `LoopStart`); the handler of its last receipt sends the next one."""

    def add(self, path: Path, action: Action) -> tuple[list, int]:
        """Add `action` where `path` puts it; returns that place (its container and
        index), where a caller may put another action instead later."""
        common = 0
        for a, b in zip(self.base, path, strict=False):
            if a != b:
                break
            common += 1
        container = self.root
        for block_id, section in path[common:]:
            block = self.blocks[block_id]
            if block.kind == "rect":  # a coloured background: no control flow
                continue
            # a block is one fragment per container, even when an action arrives after
            # others followed it (what follows a loop, moved into a break that left it)
            key = (id(container), block_id)
            found = self._opens.get(key)
            if found is None:
                found = self._opens[key] = _Open(block_id, block)
                container.append(found)
                self.opened.add(block_id)
            container = found.sections[section]
        container.append(action)
        return container, len(container) - 1

    def build(self, names: NameTable) -> tuple[Action, ...]:
        """The frozen tree; fragment names are made unique in `names`."""
        if not any(type(it) is _Open for it in self.root):
            return tuple(self.root)  # the common case: no blocks inside
        return _freeze(self.root, names, self.decided, self.unrolled, self.spanning)


def _freeze(items: list, names: NameTable, decided: dict[int, int],
            unrolled: set[int], spanning: dict) -> tuple[Action, ...]:
    # iterative post-order, so that deeply nested diagrams do not exhaust the stack
    result: dict[int, tuple] = {}
    stack: list[tuple[list, bool]] = [(items, False)]
    while stack:
        current, expanded = stack.pop()
        if not expanded:
            stack.append((current, True))
            for it in current:
                if isinstance(it, _Open):
                    for section in it.sections:
                        stack.append((section, False))
            continue
        out = []
        for it in current:
            if isinstance(it, _Open) and it.block_id in unrolled:
                out.append(LoopStart(loop_key(it.block), it.block.span.line))
                out.extend(result[id(it.sections[0])])
            elif isinstance(it, _Open):
                fragment = _fragment(it, [result[id(s)] for s in it.sections], names,
                                     decided.get(it.block_id))
                if it.block_id in spanning:
                    key, timer = spanning[it.block_id]
                    fragment = replace(fragment, spans=key, timer=timer)
                out.append(fragment)
            else:
                out.append(it)
        result[id(current)] = tuple(out)
    return result[id(items)]


def section_name(label: str, index: int) -> str:
    """The name of a block's section number `index` (0-based) in the code: its label's
    words, else `branch_<n>` (the code makes names unique within the block)."""
    return snake(label, f"branch_{index + 1}") if label else f"branch_{index + 1}"


def loop_key(block: Block) -> str:
    """What the generated code counts a spanning loop's iterations under."""
    return f"loop_line_{block.span.line}"


def _fragment(open_block: _Open, sections: list[tuple], names: NameTable,
              decided_by: int | None = None) -> Fragment:
    block = open_block.block
    if block.kind == "loop_back":  # type: ignore[comparison-overlap]
        # the end of an iteration of a loop that spans handlers (see choreography.py)
        label = block.sections[0].label
        return Fragment("loop_back", label, loop_key(block), block.span.line, (
            Branch("again", "again", block.span.line, sections[0]),
            Branch("done", "done", block.span.line, sections[1])))
    label = block.sections[0].label
    base = snake(label, block.kind) if label else block.kind
    name = names.name(("block", open_block.block_id), base)
    branches = tuple(
        Branch(s.label, section_name(s.label, i), s.span.line, actions,
               _opening_reply(actions) if decided_by is not None else None)
        for i, (s, actions) in enumerate(zip(block.sections, sections, strict=False))
    )
    if block.kind == "opt" and sections[1]:  # what happens when the opt is skipped
        branches += (Branch("(skipped)", "skipped", block.span.line, sections[1]),)
    return Fragment(block.kind, label, name, block.span.line, branches, decided_by,
                    undoes=getattr(block, "step", None))


def _opening_reply(actions: tuple) -> int | None:
    return next((a.message for a in actions if isinstance(a, Received)), None)
