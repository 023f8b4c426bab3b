"""Message roles: which messages are requests, which answer them, which are events.

Structure comes first, arrow style second, because real diagrams use arrows loosely
(a quarter of real replies are drawn with a solid `->>`). A message from S to R is a
*potential call*; it becomes a *request* once R answers it, and R's answer a *reply*:

* the message that ends R's activation started by the call (`->>+` ... `-->>-`, or
  `activate`/`deactivate` around it) is its reply, whatever its arrow;
* a dotted arrow back from R to S answers S's open call, whatever happened in between;
* otherwise R's *next* message back to S answers the call only if R did nothing else in
  between but make calls of its own that were answered (a nested call). A message R sends
  that nobody answers before R's next one was an event, not a call, and R can then no
  longer answer by the "next message" rule.

Async arrows (`-)`, `--)`), hops to and from brokers and self messages are never calls.
`alt`/`critical` sections are alternatives: each starts from the state before the block,
and a call answered in any section counts as answered afterwards. A call made in some
sections only, or in an `opt`, cannot be answered after the block (on a path that did not
make it, the answer would answer nothing): it was an event. What follows a `break`
runs only where it was not taken, so it continues from the state before the break (a
call the break's section answers may be answered again after it). The whole pass is
linear in the number of statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, SectionStart
from mermaidgen.contract import LOST_ARROWS

_ASYNC = frozenset({"-)", "--)"})
_BRANCHING = frozenset({"alt", "critical", "opt", "break"})
_MAX_PENDING = 8  # deeper potential calls are answered in no real diagram


class _Call(NamedTuple):
    index: int
    caller: str
    structural: bool  # the call started the callee's activation
    dirty: bool = False  # the callee sent something that was not a nested call
    also: tuple[int, ...] = ()  # the same call drawn in other sections of an alternative


@dataclass(slots=True)
class _State:
    """Open calls while the roles are assigned, copied into each alternative."""

    pending: dict[str, list[_Call]] = field(default_factory=dict)
    """Calls each participant has received and not answered, most recent last."""
    outgoing: dict[str, int] = field(default_factory=dict)
    """Each participant's last potential call that is still unanswered."""

    def copy(self) -> _State:
        return _State({k: list(v) for k, v in self.pending.items()}, dict(self.outgoing))


@dataclass(frozen=True, slots=True)
class Roles:
    """The role of every message, and which reply answers which request."""

    role: tuple[str, ...]
    """Per message: request, reply, event, self, lost or destroy."""
    reply_to: tuple[int | None, ...]
    replies: tuple[tuple[int, ...], ...]
    unanswered_replies: tuple[int, ...]
    """Dotted replies that had no open request to answer."""
    unanswered_calls: tuple[int, ...]
    """Structural requests (they started an activation) that were never answered."""


_DOTTED = frozenset({"-->>", "-->", "--x", "--)", "<<-->>", "--|\\", "--|/", "--\\\\",
                     "--//", "/|--", "\\|--", "//--", "\\\\--"})
_REPLY_ARROWS = frozenset({"-->>", "-->"})  # the arrows people draw replies with


def assign(items: list[Item], brokers: frozenset[str]) -> Roles:
    occurrences = [it for it in items if type(it) is Occurrence]
    n = len(occurrences)
    reply_to: list[int | None] = [None] * n
    # call -> its replies: few messages are answered calls, so no list per message
    replies: dict[int, list[int]] = {}
    unanswered: list[int] = []
    structural: set[int] = set()
    state = _State()
    # alternatives: per open block, (kind, state before it, states at the end of sections)
    frames: list[tuple[str, _State, list[_State]]] = []

    for it in items:
        kind_of = type(it)
        if kind_of is Occurrence:
            m = it.message  # type: ignore[union-attr]
            sender, receiver, arrow = m.sender, m.receiver, m.arrow
            if sender == receiver or arrow in _ASYNC or sender in brokers \
                    or receiver in brokers:
                continue
            if it.activates:  # type: ignore[union-attr]
                structural.add(it.index)  # type: ignore[union-attr]
            if arrow in LOST_ARROWS:  # a lost message answers nothing and expects nothing
                continue
            dotted = arrow in _DOTTED
            answered = _answer(state, it, dotted)  # type: ignore[arg-type]
            if answered is not None:
                reply_to[it.index] = answered.index  # type: ignore[union-attr]
                for call in (answered.index, *answered.also):
                    replies.setdefault(call, []).append(it.index)  # type: ignore[union-attr]
                continue
            if arrow in _REPLY_ARROWS:
                unanswered.append(it.index)  # type: ignore[union-attr]
            _call(state, it)  # type: ignore[arg-type]
        elif kind_of is Enter:
            # only alternatives need the state before them
            kind = it.block.kind  # type: ignore[union-attr]
            frames.append((kind, state.copy() if kind in _BRANCHING else state, []))
        elif kind_of is SectionStart:
            kind, before, ends = frames[-1]
            if it.index > 0 and kind in ("alt", "critical"):  # type: ignore[union-attr]
                ends.append(state)
                state = before.copy()
        elif kind_of is Leave:
            kind, before, ends = frames.pop()
            if kind in ("alt", "critical"):
                state = _merge(before, [*ends, state])
            elif kind == "opt":
                state = _merge(before, [before, state])
            elif kind == "break":  # what follows runs only where the break was not taken
                state = before

    role = []
    for o in occurrences:
        m = o.message
        if m.sender == m.receiver:
            role.append("self")
        elif reply_to[o.index] is not None:
            role.append("reply")
        elif o.index in replies:
            role.append("request")
        elif o.destroyed is not None and o.destroyed in (m.sender, m.receiver):
            role.append("destroy")
        elif m.arrow in LOST_ARROWS:
            role.append("lost")
        else:
            role.append("event")
    never = tuple(i for i in sorted(structural) if i not in replies)
    answers: list[tuple[int, ...]] = [()] * n
    for call, found in replies.items():
        answers[call] = tuple(found)
    return Roles(tuple(role), tuple(reply_to), tuple(answers), tuple(unanswered), never)


def _answer(state: _State, occ: Occurrence, dotted: bool) -> _Call | None:
    """The call `occ` answers, if any; updates the state."""
    sender, receiver = occ.sender, occ.receiver
    calls = state.pending.get(sender)
    if not calls:
        return None
    top = calls[-1]
    busy = sender in state.outgoing  # the sender's own last call is still unanswered
    found: _Call | None = None
    if top.caller == receiver and (dotted or top.structural or occ.deactivates
                                   or not (top.dirty or busy)):
        found = top
        calls.pop()
    elif dotted or occ.deactivates:
        for k in range(len(calls) - 2, -1, -1):
            if calls[k].caller == receiver:
                found = calls[k]
                del calls[k:]
                break
    if found is None:
        return None
    if state.outgoing.get(receiver) == found.index:
        del state.outgoing[receiver]  # the caller's call is answered
    state.outgoing.pop(sender, None)  # what the sender sent before was not a call
    return found


def _call(state: _State, occ: Occurrence) -> None:
    """`occ` is a potential call from its sender to its receiver."""
    sender, receiver = occ.sender, occ.receiver
    if sender in state.outgoing:
        # the sender's previous call went unanswered: it was an event, and whatever
        # call the sender is handling can no longer be answered by "the next message"
        calls = state.pending.get(sender)
        if calls:
            top = calls[-1]
            calls[-1] = _Call(top.index, top.caller, top.structural, True)
    state.outgoing[sender] = occ.index
    calls = state.pending.setdefault(receiver, [])
    calls.append(_Call(occ.index, sender, occ.activates))
    if len(calls) > _MAX_PENDING:
        del calls[0]


def _alternatives(calls: list[_Call], before: set[int],
                  lists: list[list[_Call]]) -> list[_Call]:
    """Calls still open after an alternative, where each section left its own open call
    from the same caller as its last (`alt new: Web->>+Accounts: Create` / `else:
    Web->>+Accounts: Load`): one call, drawn once per section, that the next reply
    answers whichever section ran. `before`: the indices of the calls open before it."""
    lasts = [ls[-1] for ls in lists if ls and ls[-1].index not in before]
    if len(lasts) < 2 or len({c.caller for c in lasts}) != 1 or len(lasts) != len(lists):
        return calls
    keep = max(lasts, key=lambda c: c.index)
    others = {c.index for c in lasts} - {keep.index}
    merged = keep._replace(also=tuple(sorted(others | set(keep.also))),
                           structural=any(c.structural for c in lasts))
    return [merged if c.index == keep.index else c for c in calls if c.index not in others]


def _merge(before: _State, ends: list[_State]) -> _State:
    """After alternatives: a call is still pending only if no alternative answered it."""
    merged = _State()
    for who in dict.fromkeys(k for s in ends for k in s.pending):  # not a set's order
        lists = [s.pending.get(who, []) for s in ends]
        old = before.pending.get(who, [])
        if lists.count(old) == len(lists):  # untouched by the block (the usual case)
            merged.pending[who] = list(old)
        else:
            merged.pending[who] = _merged_calls(old, lists)
    for s in ends:
        merged.outgoing.update(s.outgoing)
    return merged


def _merged_calls(old: list[_Call], lists: list[list[_Call]]) -> list[_Call]:
    """One participant's open calls after an alternative: `old` before it, `lists` at the
    end of each section. (Sets of indices, not loops over the sections per call: every
    block of a large diagram merges a few of these.)"""
    present = [{c.index for c in calls} for calls in lists]
    everywhere = set.intersection(*present)  # open at the end of every section
    before_indices = {c.index for c in old}
    answered = before_indices - everywhere  # some section answered it
    seen: dict[int, _Call] = {}
    for calls in lists:
        for c in calls:
            if c.index not in answered and (c.index not in seen or c.dirty):
                seen[c.index] = c
    kept = _alternatives([seen[i] for i in sorted(seen)], before_indices, lists)
    # a call made in some sections only (or in an `opt`) is not made on every path
    # through the block: what follows the block, drawn on all of them, cannot
    # answer it (on a path without the call there is nothing to answer)
    return [c for c in kept if c.index in before_indices
            or (c.index in everywhere if not c.also
                else all(any(i in p for i in (c.index, *c.also)) for p in present))]


def without_replies(roles: Roles, calls: set[int]) -> Roles:
    """`roles` where `calls` and their replies are events: nobody waits for those
    replies (the orchestration projection's calls made in a loop and answered after
    it)."""
    if not calls:
        return roles
    role, reply_to, replies = list(roles.role), list(roles.reply_to), list(roles.replies)
    for call in calls:
        role[call] = "event"
        for r in replies[call]:
            role[r], reply_to[r] = "event", None
        replies[call] = ()
    return Roles(tuple(role), tuple(reply_to), tuple(replies), roles.unanswered_replies,
                 roles.unanswered_calls)
