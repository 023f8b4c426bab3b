"""Mutants of a conforming trace: the defects a contract test must catch.

For a trace of one path, each mutant is what a broken implementation would have sent:

* `reply`: a message that opens a section of an `alt`/`critical` replaced by the message
  that opens another section of that block (the wrong reply, the rest of the run as it
  was);
* `removed`: one message left out (a publish or call the code forgot);
* `duplicated`: one message sent twice in a row;
* `swapped`: two neighbouring messages that the diagram orders (conformance.md: drawn
  one before the other, not in two sections of one `par`, and the same sender, or the
  first one's receiver sends the second, unless the first is lost and reaches nobody)
  sent the other way round.

Some changes make a run the diagram allows, and are no mutants: one equal to the trace
of another path (`allowed`: removing the only message of an `opt` is the path that skips
it), removing or repeating the only message of a `loop`'s body (one iteration fewer or
more), removing the only message of an `opt`, a reply that the decider of a `critical`'s
option had not taken when the option began left out or recorded after the option's first
message (docs/semantics.md). To know which diagram message each trace message is, the
trace (which conforms) is matched once against the contract with every message numbered
in document order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from mermaidgen.contract.keys import event_key

Arrow3 = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Mutant:
    kind: str
    """reply, removed, duplicated or swapped."""
    what: str
    """The change, in words (trace positions 1-based)."""
    trace: tuple[Arrow3, ...]


def section_openers(contract: Mapping) -> list[list[Arrow3]]:
    """Per `alt`/`critical` block of a (nested) contract: the first message of each of
    its sections that starts with one."""
    out: list[list[Arrow3]] = []
    stack: list[Iterator] = [iter(contract.get("items", ()))]
    while stack:
        for item in stack[-1]:
            if item.get("kind") not in ("message",) and "sections" in item:
                sections = item["sections"]
                if item["kind"] in ("alt", "critical"):
                    heads = []
                    for s in sections:
                        first = next((x for x in s.get("items", ())
                                      if x.get("kind") == "message"), None)
                        if first is not None:
                            heads.append((first["from"], first["to"], first["text"]))
                    if len(heads) > 1:
                        out.append(heads)
                stack.append(iter([x for s in sections for x in s.get("items", ())]))
                break
        else:
            stack.pop()
    return out


def _same(a: Arrow3, b: Arrow3) -> bool:
    return a[0] == b[0] and a[1] == b[1] and event_key(a[2]) == event_key(b[2])


def _numbered(contract: Mapping) -> tuple[dict, dict[int, tuple], set[int], set[int]]:
    """The contract with each message's `line` replaced by its number in document order;
    per number, its enclosing blocks ((block, kind, section), outermost first); the
    numbers of messages that are alone in a loop body or an opt section; and those of the
    lost messages."""
    from mermaidgen.contract.checker import nest

    if "stream" in contract:
        contract = nest(dict(contract))
    ancestry: dict[int, tuple] = {}
    lost: set[int] = set()
    blocks = 0
    top: list = []
    stack: list = [(iter(contract.get("items", ())), top, ())]
    while stack:
        items, into, around = stack[-1]
        for item in items:
            if item.get("kind") == "message":
                number = len(ancestry) + 1
                ancestry[number] = around
                if item.get("lost") is True:
                    lost.add(number)
                into.append(dict(item, line=number))
                continue
            blocks += 1
            sections = list(item.get("sections", ()))
            copies = [dict(section, items=[]) for section in sections]
            into.append(dict(item, sections=copies))
            # the last section pushed first: sections are read (and numbered) in order
            for k in range(len(sections) - 1, -1, -1):
                stack.append((iter(sections[k].get("items", ())), copies[k]["items"],
                              around + ((blocks, item.get("kind"), k),)))
            break
        else:
            stack.pop()
    members: dict[tuple, list[int]] = {}
    for number, around in ancestry.items():
        for place in around:
            members.setdefault(place, []).append(number)
    alone = {found[0] for place, found in members.items()
             if place[1] in ("loop", "opt") and len(found) == 1
             and ancestry[found[0]][-1] == place}
    return {**contract, "items": top}, ancestry, alone, lost


def _ordered(a: Arrow3, b: Arrow3, na: int | None, nb: int | None,
             ancestry: dict[int, tuple], relays: frozenset[str] = frozenset(),
             lost: frozenset[int] | set[int] = frozenset()) -> bool:
    """Must `a` come before `b` (neighbours in a conforming trace)?"""
    received = a[1] == b[0] and na not in lost  # a lost message reaches nobody
    if not (a[0] == b[0] or received):
        return False
    if b[0] in relays:
        # a broker passes each event on when it is published (contract/checker, relays): its
        # send waits for the event it passes on, not for its other sends; kept per
        # publisher and receiver, which two neighbours alone do not tell
        return received and event_key(a[2]) == event_key(b[2])
    if na is None or nb is None:
        return True
    outer_a = {block: (kind, k) for block, kind, k in ancestry[na]}
    common = [(block, kind) for block, kind, k in ancestry[nb]
              if block in outer_a]
    if any(kind == "par" and outer_a[block][1] != k
           for block, kind, k in ancestry[nb] if block in outer_a):
        return False  # two sections of one par: neither is drawn before the other
    return na < nb or any(kind == "loop" for _, kind in common)


def mutants(trace: Sequence[Sequence[str]], contract: Mapping,
            allowed: Iterable[Sequence[Sequence[str]]] = ()) -> list[Mutant]:
    """The mutants of `trace` (see the module), without those equal to `trace` itself or
    to a trace in `allowed`, each distinct trace once."""
    from mermaidgen.contract.checker import check

    t = [tuple(m) for m in trace]
    numbered, ancestry, alone, lost = _numbered(contract)
    relays = frozenset(contract.get("relays", ()))
    where: list[int | None] = [None] * len(t)
    for m in check(numbered, t)["matched"]:
        where[m["position"]] = m["line"]
    found: list[Mutant] = []
    for heads in section_openers(contract):
        for i, m in enumerate(t):
            for k, head in enumerate(heads):
                if not _same(m, head):
                    continue
                for j, other in enumerate(heads):
                    if j != k and not _same(other, head):
                        found.append(Mutant("reply", f"event {i + 1} `{_text(m)}` replaced by "
                                            f"`{_text(other)}`", (*t[:i], other, *t[i + 1:])))
    for i, m in enumerate(t):
        if where[i] in alone:
            continue  # one iteration more or fewer, or the opt skipped: a run it allows
        if not _late_receipt(i, t, where, ancestry):
            found.append(Mutant("removed", f"event {i + 1} `{_text(m)}` removed",
                                (*t[:i], *t[i + 1:])))
        found.append(Mutant("duplicated", f"event {i + 1} `{_text(m)}` sent twice",
                            (*t[:i + 1], m, *t[i + 1:])))
    for i in range(len(t) - 1):
        a, b = t[i], t[i + 1]
        if _ordered(a, b, where[i], where[i + 1], ancestry, relays, lost) and not (
                _late_receipt(i, t, where, ancestry) and _option_of(where[i + 1], where[i],
                                                                     ancestry)):
            found.append(Mutant("swapped", f"events {i + 1} and {i + 2} swapped (`{_text(a)}`"
                                f" before `{_text(b)}`)", (*t[:i], b, a, *t[i + 2:])))
    seen = {tuple(t)} | {tuple(tuple(m) for m in other) for other in allowed}
    out = []
    for mutant in found:
        if mutant.trace not in seen:
            seen.add(mutant.trace)
            out.append(mutant)
    return out


def _option_of(n: int | None, main: int | None, ancestry: dict[int, tuple]) -> bool:
    """Is message `n` in an option of a `critical` whose main section holds `main`?"""
    if n is None or main is None:
        return False
    mains = {block for block, kind, k in ancestry[main] if kind == "critical" and k == 0}
    return any(block in mains and k > 0 for block, _, k in ancestry[n])


def _late_receipt(i: int, t: Sequence[Sequence[str]], where: list[int | None],
                  ancestry: dict[int, tuple]) -> bool:
    """Is `t[i]`, in a `critical`'s main section, received by the decider of an option the
    trace takes later, with no send of the decider's in that main section in between? The
    option does not wait for it (docs/semantics.md, "What the contract accepts around an
    option"; a saga's step is taken once its request is sent, answered or not): left out,
    or recorded after the option's first message, it makes a run the diagram allows."""
    for j in range(i + 1, len(t)):
        if _option_of(where[j], where[i], ancestry):
            return t[i][1] == t[j][0]  # the option's first message: its decider's
        if t[j][0] == t[i][1]:
            return False  # its receiver sent on before the option: it had taken it
    return False


def _text(m: Arrow3) -> str:
    return f"{m[0]}->>{m[1]}: {m[2]}"
