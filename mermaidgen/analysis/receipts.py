"""Receipts that nothing orders: a service receives `first`, then `second` from another
sender who did not know it had received `first` (conformance.md orders nothing between
them), so on a broker `second` may arrive first.

In a choreography each handler runs as its event comes: unless the service waits for
both, what it sends after them may go before it handled `first`. Where both receipts are
drawn in the same section of the same block, the choreography projection joins them
(projection/choreography.py: what follows runs once all have arrived, in any order);
elsewhere it cannot tell which handler goes on, and the lint `unordered-receipts` warns.
Events that follow from different sections of a `par` are left to the par's joins
(projection/origins.py).

Knowledge is a vector clock: per participant, how many receipts of each participant it
knows of (through what it received).
"""

from __future__ import annotations

from dataclasses import dataclass

from mermaidgen.analysis.events import Hops
from mermaidgen.analysis.flow import Enter, Item, Occurrence


@dataclass(frozen=True, slots=True)
class Race:
    """`second` may arrive before `first` (both to one participant), and the participant
    then sends `send`."""

    first: Occurrence
    second: Occurrence
    send: Occurrence

    @property
    def joined(self) -> bool:
        """Drawn in one section of one block: the choreography joins them."""
        return self.first.path == self.second.path


@dataclass(frozen=True, slots=True)
class Receipts:
    races: tuple[Race, ...]
    """One per participant and send: the last race before it (the lint's findings)."""
    joined: frozenset[int]
    """Every receipt (its message index) that may arrive before its receiver's previous
    one, drawn in the same section: the choreography joins it with that one."""


def unordered_receipts(items: list[Item], hops: Hops, occurrences: list[Occurrence],
                       brokers: frozenset[str], lost: frozenset[int] = frozenset()
                       ) -> Receipts:
    """`lost`: the messages that never arrive (no receipt: the projection has none)."""
    races: list[Race] = []
    joined: set[int] = set()
    clock: dict[str, dict[str, int]] = {}
    carried: dict[int, tuple[dict[str, int], bool]] = {}  # a publish: what it carries
    from_par: dict[str, bool] = {}  # the participant's state follows from a par section
    received: dict[str, int] = {}
    # per participant: its last receipt (path, occurrence, sender, whether it follows
    # from a par) and a race on it still waiting for a send
    last: dict[str, tuple] = {}
    race: dict[str, tuple[Occurrence, Occurrence]] = {}
    pars: set[int] = set()
    kinds: dict[int, str] = {}
    # the messages of one section share one path: whether it is in a par is looked up
    # once per run of them (blocks around a path are all entered before it is reached)
    path_seen: tuple | None = None
    in_par = False
    for it in items:
        if type(it) is Enter:
            kinds[it.block_id] = it.block.kind
            if it.block.kind in ("par", "par_over"):
                pars.add(it.block_id)
            continue
        if type(it) is not Occurrence:
            continue
        sender, receiver = it.sender, it.receiver
        if it.index in hops.acks or (sender in brokers and receiver in brokers):
            continue
        path = it.path
        if path is not path_seen:
            path_seen = path
            in_par = bool(pars) and any(block_id in pars for block_id, _ in path)
        if sender not in brokers:
            if sender in race:
                first, second = race.pop(sender)
                races.append(Race(first, second, it))
            knows = clock.get(sender, _NOTHING)  # read only (the sender is not the receiver)
            par_state = from_par.get(sender, False) or in_par
            if receiver in brokers:
                carried[it.index] = (dict(knows), par_state)  # as it stands now
                continue
            if sender == receiver or it.index in lost:
                continue
            producer = sender
        else:  # a broker delivers what its publisher sent
            published = hops.source[it.index]
            if published is None or published not in carried:
                continue
            knows, par_state = carried[published]
            par_state = par_state or in_par
            producer = occurrences[published].sender
        count = received.get(receiver, 0)
        previous = last.get(receiver)
        # the walk over the paths last: the cheap tests rule out most receipts
        if (previous is not None and previous[2] != producer
                and knows.get(receiver, 0) < count and not (previous[3] or par_state)
                and (previous[0] is path or _one_run(previous[0], path, kinds))):
            race[receiver] = (previous[1], it)
            if previous[0] == path:
                joined.add(it.index)
        else:
            race.pop(receiver, None)
        own = clock.setdefault(receiver, {})
        for p, n in knows.items():
            if own.get(p, 0) < n:
                own[p] = n
        received[receiver] = own[receiver] = count + 1
        from_par[receiver] = from_par.get(receiver, False) or par_state
        last[receiver] = (path, it, producer, par_state)
    return Receipts(tuple(races), frozenset(joined))


_NOTHING: dict[str, int] = {}


def _one_run(before: tuple, after: tuple, kinds: dict[int, str]) -> bool:
    """Can the statements at paths `before` and `after` both run, one after the other, on
    one path (not in two sections of one alternative, nor before and after a `break`)?"""
    for (block, section), (other, other_section) in zip(before, after, strict=False):
        if block != other:
            return False  # (two blocks side by side: neither holds the other)
        if section != other_section:
            return kinds.get(block) not in ("alt", "critical")
    return not any(kinds.get(block) == "break" for block, _ in before[len(after):])
