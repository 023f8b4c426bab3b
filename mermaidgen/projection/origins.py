"""Choreography: which sections of which `par`s each event follows from, so that a
service that receives the results of several sections waits for all of them.

The sections of a `par` run concurrently, so what they send reaches a service after the
par in any order: neither section is drawn before the other (conformance.md), and a
broker keeps order per publisher only (contract/checker, relays). When a service receives two
such events one after the other, its handler of the first drawn cannot go on alone:
the other may come first. Both then arrive at a join, and what follows runs once both
have (choreography.py).

An *origin* is a set of (par block id, section index): the par sections that a
participant's state follows from, through what it received (a broker's delivery carries
its publisher's). Sections start from the state before their block and blocks end in
the union of their sections' states: what a participant may have learnt. An event that
follows from section `a` of a par, received after one that does not but follows from
another section of that par, cannot have been caused by the first: the two may come in
either order.

An origin keeps the sections of the `RECENT` latest pars it follows from (by position in
the diagram), so that the projection stays linear in the diagram's size: a service that
receives the results of a par's sections more than that many pars later, one after the
other, gets no join for them.
"""

from __future__ import annotations

from mermaidgen.analysis.flow import Path
from mermaidgen.model import Block

Origin = frozenset[tuple[int, int]]
NONE: Origin = frozenset()
RECENT = 16


def merge(*origins: Origin) -> Origin:
    """What follows from all of `origins`, the sections of the `RECENT` latest pars."""
    merged = NONE.union(*origins)
    pars = {block_id for block_id, _ in merged}
    if len(pars) <= RECENT:
        return merged
    kept = set(sorted(pars)[-RECENT:])
    return frozenset(t for t in merged if t[0] in kept)


class Origins:
    """Follows the participants' origins while the choreography projection walks the
    diagram (it calls `enter`, `section`, `leave` as it meets blocks)."""

    def __init__(self, blocks: dict[int, Block]):
        self.blocks = blocks
        self.seen: dict[str, Origin] = {}
        self.published: dict[int, Origin] = {}
        """A message into a broker -> the origin its deliveries carry."""
        self._frames: list[tuple[dict[str, Origin], list[dict[str, Origin]]]] = []
        self._paths: dict[Path, Origin] = {}

    def enter(self) -> None:
        self._frames.append((dict(self.seen), []))

    def section(self) -> None:
        """A block's next section starts (not its first): from the state before it."""
        before, ends = self._frames[-1]
        ends.append(self.seen)
        self.seen = dict(before)

    def leave(self) -> None:
        before, ends = self._frames.pop()
        for end in ends:
            for p, origin in end.items():
                if origin is not before.get(p):  # (a copy of the state before: unchanged)
                    self._learn(p, origin)

    def send(self, sender: str, path: Path, index: int) -> Origin:
        """`sender` sends message `index` at `path`: the origin the message carries."""
        origin = self._learn(sender, self._sections(path))
        self.published[index] = origin
        return origin

    def deliver(self, receiver: str, path: Path, publish: int | None) -> Origin:
        """A broker delivers, at `path`, the event published by message `publish`."""
        origin = self.published.get(publish, NONE) if publish is not None else NONE
        return self.receive(receiver, origin | self._sections(path))

    def receive(self, receiver: str, origin: Origin) -> Origin:
        self._learn(receiver, origin)
        return origin

    def _learn(self, p: str, origin: Origin) -> Origin:
        known = self.seen.get(p, NONE)
        if not origin <= known:
            known = self.seen[p] = merge(known, origin)
        return known

    def _sections(self, path: Path) -> Origin:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = frozenset(
                (block_id, k) for block_id, k in path
                if self.blocks[block_id].kind in ("par", "par_over"))
        return found


def unordered(before: Origin, event: Origin) -> int | None:
    """A par (its block id) such that `event` follows from one of its sections and not
    from another that `before` follows from: `event` may come before what `before`
    waited for. None when there is none."""
    missing = before - event
    if not missing:
        return None
    pars = {block_id for block_id, _ in event}
    # the latest par first, and the same one whatever the hash seed
    return max((block_id for block_id, _ in missing if block_id in pars), default=None)
