"""Trace conformance: could a recorded run be a run of its sequence diagram?

Standard library only: this module and `keys.py` are copied verbatim into every generated
package (`_generated/checker.py`), where mermaidgen is not installed. Plain data in, plain
data out: `check(contract, trace)`; the contract format is described in `check` (nested)
and `nest` (the same as a flat stream of rows, for diagrams nested too deep for a Python
literal or JSON).

Semantics (`conformance.md`), with the choices made where the spec leaves room:

* Each message is one event. m1 must precede m2 when m1 is *drawn before* m2 and they have
  the same sender, or m1's receiver is m2's sender; transitively. A lost message (a
  contract message with `"lost": true`: `-x` that neither answers nor destroys) reaches
  nobody, so it orders only its sender's later sends, never its receiver's. A message
  with `"after": P` also waits for what P's next send would (P's last send and what P
  received since): a projection's message that is recorded when P takes it (a message
  an orchestrator awaits is recorded when its workflow asks for it). Texts are compared by
  `keys.event_key`, participants exactly. The trace must hold exactly the messages of one
  scenario (a choice of sections and iteration counts): nothing missing, nothing extra.
* Relays (`"relays"`: the broker participants): a broker passes each event on when it is
  published, not after everything it received before. A relay's send (a delivery, a
  forward, an ack) waits only for the latest message into the relay with the same event
  key (else the latest message into it at all), and for the relay's previous send to the
  same receiver of an event from the same publisher (order is kept per publisher, relay
  and receiver). What the receiver sends next depends on the delivery as usual.
* Drawn before: document order, except that two messages in different sections of one
  `par` are never drawn before one another. Causality between par sections therefore
  exists only through messages outside the par (everything drawn before the par precedes
  what depends on it inside, and the messages after the par depend on every section per
  the general rule); a section's message never waits for another section's, because the
  generated code runs the sections concurrently (`asyncio.gather`).
* `alt`: exactly one section. `opt`: its section or nothing. `loop`: one or more
  iterations (zero is not a run of the diagram); an iteration that sent nothing is not
  repeated. `rect` has no effect (callers flatten it; if not, the checker does);
  `par_over` is `par`.
* `critical`: the main section in full; or, for one option, a proper prefix of the main
  section in document order (possibly empty) followed by that option's section: an
  option means the main section did not complete. The option's decider (the sender of
  its first message) acts on its own (a timer, a failure): what it received in the main
  section since its last send there had not reached it, so it does not order the
  option (a late reply conforms, before or after the option). The whole main section
  counts as a prefix only when it ends with such receipts (the decider still waited).
* Sagas: in an option of a `critical`, a compensation paired with a step of the main
  section (`undone_steps`: the rule the generators use too), and what follows it up to
  its sender's next message (its reply), happens only when the prefix holds that step's
  message: the code undoes only the steps the run took, the last one first (the diagram
  draws them so, or they are not paired). A step counts as taken once its message was
  sent, answered or not (the code registers the compensation right before the call: the
  call may have done its work). A compensation of a step before the critical always
  runs. Unpaired messages of the option happen as drawn. Such an option never follows
  the whole main section: a saga compensates because a step failed, and a step that
  failed has no reply.
* `break`, when taken: its section, then nothing more from the block whose section holds
  the `break`: for a loop no further iteration, for alt/opt/critical/break the rest of
  that section is skipped, at top level the run ends. In a `par` it ends only its own
  section: the other sections run concurrently and are not cancelled.

Algorithm: the contract is compiled to a flat instruction list (no recursion, so contracts
nested thousands of levels deep work). A depth-first search unfolds the scenario lazily,
driven by the trace: each trace message is matched to an *enabled* unmatched message (all
its predecessors matched) with the same sender, receiver and event key. Outside `par`, at
most one such message can be enabled (a sender's messages are totally ordered), so the
match is forced; sections, iteration counts, the cut-off point of a critical's main
section and (for the same message enabled in two par sections) the match itself are
choice points, undone through a trail on failure. A choice dies as soon as it unfolds
more messages of a kind than the rest of the trace holds (so loops never iterate past the
trace), or when the next trace message can no longer come (its sender still waits for
an unmatched message, or no instruction left can send it). Predecessors are kept as
per-participant frontiers (a send waits for the participant's last send and what it
received since), so unfolding and matching cost about O(1) per message (more for a
participant that receives many messages before it sends again): the search is linear in
trace + diagram when no choice has to be revisited, and a revisited choice only redoes
the work after it. Before searching, each message kind's count in the trace is
compared with the fewest and most any scenario sends (a missing or extra message then
needs no search at all). The search stops after `max_scenarios` revisited choices or
`max_steps` steps and says so; the known way to reach that is a failing trace through a
`par` whose sections hold the very same message (each pairing is tried).

When no scenario fits, the explanation comes from the scenario that matched the longest
prefix of the trace (the first one the search found), replayed; from the first message
that could not be matched on, each trace message is matched exactly if possible, else in
the cheapest of three ways, judged by the differences they lead to over the next few
trace messages: by assuming messages the trace lacks (they become *missing*; as few as
possible), as *out of order* (it came before a message it depends on), or as
*unexpected*. What the scenario still needs when the trace ends is missing. This is a
heuristic (the smallest explanation is a search problem of its own) with its own budget
(a quarter of `max_steps`). Trace positions are 0-based in the returned data and 1-based
("trace event 3") in the explanation.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from itertools import pairwise
from typing import Any

from .keys import event_key, is_compensation, undoes

CONTRACT_VERSION = 1
MAX_SCENARIOS = 20_000
MAX_STEPS = 2_000_000
BLOCK_KINDS = frozenset({"loop", "alt", "opt", "par", "critical", "break"})


class ContractError(ValueError):
    """The contract or the trace is not in the expected shape."""


# instructions (tuples, first element the opcode)
_MSG, _CHOOSE, _JMP, _LOOP, _AGAIN, _LOOP_EXIT, _PAR, _PAR_NEXT, _PAR_EXIT = range(9)
_CRIT, _CRIT_MAIN_END, _CRIT_POP, _HALT, _TAKEN = range(9, 14)
_OPTION = 14  # (not an instruction: the open block of a saga's option while unfolding)
# what one unfolding step ended with (a list of alternatives is a choice)
_EMIT, _STOP, _DEAD = "emit", "stop", "dead"
_OK, _FAIL, _LIMIT = "ok", "fail", "limit"
_Alt = tuple[int, tuple[Any, ...]]
"""One alternative of a choice: (how many messages it costs at least, action)."""


# --- the contract, compiled ----------------------------------------------------------------


class _Program:
    """A contract as a flat instruction list, its static messages and their labels.

    A *label* (an int) stands for (sender, receiver, event key): the identity by which trace
    messages are matched to diagram messages."""

    def __init__(self, contract: object) -> None:
        if not isinstance(contract, dict) or contract.get("version") != CONTRACT_VERSION:
            raise ContractError(f"not a version {CONTRACT_VERSION} contract: expected "
                                f"{{'version': {CONTRACT_VERSION}, 'items': [...]}}")
        if "stream" in contract:
            contract = nest(contract)
        self.code: list[Any] = []
        self.msgs: list[tuple[str, str, str, int, int]] = []  # sender, receiver, text, line, label
        self.labels: dict[tuple[str, str, str], int] = {}
        self.label_sender: list[str] = []
        self.label_identity: list[tuple[str, str, str]] = []  # sender, receiver, event key
        self.label_lines: list[list[int]] = []
        self.label_last: list[int] = []  # per label, the last instruction that sends it
        self.par_last: dict[int, dict[int, int]] = {}  # par block -> label -> last section
        self.bounds: dict[int, tuple[int, int]] = {}
        """Per label, how few and how many times any scenario sends it (`_MANY`: no limit)."""
        self.keys: list[str] = []  # per static message, its event key
        self.lost: set[int] = set()  # static messages that reach nobody
        self.after: dict[int, str] = {}  # static message -> who else it waits for
        self.decider: dict[int, str] = {}  # an option's first instruction -> its decider
        self.sagas: set[int] = set()  # the first instructions of the options that are sagas
        self._static: dict[int, int] = {}  # id of a message item -> its static message
        relays = contract.get("relays", [])
        if not isinstance(relays, list) or not all(isinstance(r, str) for r in relays):
            raise ContractError(f"contract relays must be a list of participant names: "
                                f"{relays!r:.200}")
        self.relays = frozenset(relays)
        top = _items(contract, "contract")
        # a compensation that undoes a step of its critical's main section runs only when
        # the run took that step (message item id -> the step's item id)
        self._guards = {m: id(step) for m, (_, step, main) in _saga_pairs(top).items()
                        if main} if _sagas(contract) else {}
        self._compile(top)
        self.code = [tuple(op) for op in self.code]

    def _compile(self, top: list[Any]) -> None:
        code = self.code
        open_pars: list[list[Any]] = []  # [block id, section] of the pars being compiled
        # a section frame: [items, next index, block frame or None, break jumps, cost,
        # bounds, whether a break came before]
        stack: list[list[Any]] = [[top, 0, None, [], 0, {}, False]]
        blocks = 0
        while stack:
            frame = stack[-1]
            items = frame[0]
            if frame[1] < len(items):
                item = items[frame[1]]
                frame[1] += 1
                if not isinstance(item, dict):
                    raise ContractError(f"contract item is not a mapping: {item!r}")
                kind = item.get("kind")
                if kind == "message":
                    label = self._message(item)
                    self._static[id(item)] = len(self.msgs) - 1
                    for par in open_pars:
                        self.par_last[par[0]][label] = par[1]
                    guard = self._guard(item, frame[2])
                    self.label_last[label] = len(code)
                    code.append([_MSG, len(self.msgs) - 1])
                    if guard is None:
                        frame[4] += 1
                        _add_bounds(frame, {label: (1, 1)})
                    else:  # skipped when its step was not taken
                        code[guard][2] = len(code)
                        _add_bounds(frame, {label: (0, 1)})
                    continue
                if kind == "par_over":
                    kind = "par"
                if kind not in BLOCK_KINDS and kind != "rect":
                    raise ContractError(f"unknown contract item kind {kind!r} (line "
                                        f"{item.get('line')})")
                sections = _sections(item)
                if kind == "rect":  # callers flatten it; if not, it changes nothing
                    inner = [x for section in sections for x in _items(section, "section")]
                    frame[1] -= 1
                    frame[0] = items[:frame[1]] + inner + items[frame[1] + 1:]
                    continue
                if not sections:
                    continue
                block = {"kind": kind, "id": blocks, "sections": sections, "k": 0,
                         "costs": [], "bounds": [], "parent": frame, "start": len(code),
                         "ends": []}
                blocks += 1
                if kind == "loop":
                    code.append([_LOOP])
                elif kind == "par":
                    code.append([_PAR, block["id"]])
                    self.par_last[block["id"]] = {}
                    open_pars.append([block["id"], 0])
                elif kind == "critical":
                    code.append([_CRIT, len(code) + 1, [], [], 0])
                else:  # alt, opt, break: a choice between sections (or skipping)
                    code.append([_CHOOSE, []])
                block["targets"] = [len(code)]
                stack.append([_items(sections[0], "section"), 0, block, [], 0, {}, False])
                continue
            stack.pop()
            block = frame[2]
            if block is None:  # top level: a break here ends the run
                _patch(code, frame[3], len(code))
                code.append([_HALT])
                self.bounds = frame[5]
                continue
            self._end_section(block, frame, stack, open_pars)

    def _message(self, item: dict[Any, Any]) -> int:
        sender, receiver, text = item.get("from"), item.get("to"), item.get("text")
        if not (isinstance(sender, str) and isinstance(receiver, str)
                and isinstance(text, str)):
            raise ContractError(f"contract message needs string from/to/text: {item!r}")
        line = item.get("line") or 0
        key = (sender, receiver, event_key(text))
        label = self.labels.get(key)
        if label is None:
            label = self.labels[key] = len(self.label_sender)
            self.label_sender.append(sender)
            self.label_identity.append(key)
            self.label_lines.append([])
            self.label_last.append(-1)
        self.label_lines[label].append(line)
        if item.get("lost") is True:
            self.lost.add(len(self.msgs))
        after = item.get("after")
        if after is not None:
            if not isinstance(after, str):
                raise ContractError(f"contract message 'after' must name a participant: "
                                    f"{item!r:.200}")
            self.after[len(self.msgs)] = after
        self.msgs.append((sender, receiver, text, line, label))
        self.keys.append(key[2])
        return label

    def _guard(self, item: dict[Any, Any], block: dict[Any, Any] | None) -> int | None:
        """Before a message of a saga's option that undoes (or answers what undoes) a step
        of the main section: the instruction that skips it when the step was not taken."""
        step = self._guards.get(id(item))
        if step is None or step not in self._static or block is None or \
                block["kind"] != "critical" or block["k"] == 0:
            return None
        block.setdefault("sagas", set()).add(block["k"])
        self.code.append([_TAKEN, self._static[step], None])
        return len(self.code) - 1

    def _end_section(self, block: dict[Any, Any], frame: list[Any], stack: list[Any],
                     open_pars: list[Any]) -> None:
        """Close one section of a block: its end code, its breaks, then the next section
        or the end of the block."""
        code, kind, k = self.code, block["kind"], block["k"]
        block["costs"].append(frame[4])
        block["bounds"].append(frame[5])
        if kind == "alt" or (kind == "critical" and k > 0):
            end = len(code)
            block["ends"].append(end)
            code.append([_CRIT_POP if k in block.get("sagas", ()) else _JMP, None])
        elif kind == "par":
            end = len(code)
            code.append([_PAR_NEXT] if k + 1 < len(block["sections"]) else [_PAR_EXIT])
        elif kind == "loop":
            end = len(code) + 1
            code.append([_AGAIN, block["targets"][0], end, frame[4]])
            code.append([_LOOP_EXIT])
        elif kind == "critical":  # the main section
            block["ends"] += [len(code), len(code) + 1]
            code.append([_CRIT_MAIN_END, None])
            end = len(code)
            code.append([_CRIT_POP, None])
        elif kind == "break":
            end = len(code)
            code.append([_JMP, None])  # leave the enclosing section: patched with its end
            block["parent"][3].append(end)
        else:  # opt
            end = len(code)
        _patch(code, frame[3], end)
        k += 1
        block["k"] = k
        if kind == "par" and k < len(block["sections"]):
            open_pars[-1][1] = k
        if k < len(block["sections"]):
            block["targets"].append(len(code))
            stack.append([_items(block["sections"][k], "section"), 0, block, [], 0, {}, False])
            return
        # the whole block is compiled
        done = len(code)
        for at in block["ends"]:
            code[at][1] = done
        head, costs, targets = code[block["start"]], block["costs"], block["targets"]
        if kind == "par":
            open_pars.pop()
            cost = sum(costs)
        elif kind == "loop":
            cost = costs[0]
        elif kind == "critical":
            head[2], head[3], head[4] = targets[1:], costs[1:], costs[0]
            self.sagas.update(targets[k] for k in block.get("sagas", ()))
            cost = min(costs)
            spans = [*targets[1:], done]
            for at, upto in pairwise(spans):
                first = next((op[1] for op in code[at:upto] if op[0] == _MSG), None)
                if first is not None:
                    self.decider[at] = self.msgs[first][0]
        elif kind == "alt":
            head[1] = list(zip(costs, targets, strict=True))
            cost = min(costs)
        else:  # opt, break: take the section or skip it
            head[1] = [(costs[0], targets[0]), (0, done)]
            cost = 0
        parent = block["parent"]
        parent[4] += cost
        _add_bounds(parent, _block_bounds(kind, block["bounds"]))
        if kind == "break":  # what follows in the section may not happen
            parent[6] = True


_MANY = 1 << 60


def _add_bounds(frame: list[Any], bounds: dict[int, tuple[int, int]]) -> None:
    """Count a message or block into its section's bounds (after a break, at least 0)."""
    into, optional = frame[5], frame[6]
    for label, (lo, hi) in bounds.items():
        was = into.get(label, (0, 0))
        into[label] = (was[0] + (0 if optional else lo), min(was[1] + hi, _MANY))


def _block_bounds(kind: str, sections: list[dict[Any, Any]]) -> dict[int, tuple[int, int]]:
    """How few and how many times a block sends each label, from its sections' bounds."""
    if kind == "par":
        out: dict[int, tuple[int, int]] = {}
        for b in sections:
            for label, (lo, hi) in b.items():
                was = out.get(label, (0, 0))
                out[label] = (was[0] + lo, min(was[1] + hi, _MANY))
        return out
    if kind == "loop":
        return {label: (lo, _MANY if hi else 0) for label, (lo, hi) in sections[0].items()}
    if kind in ("opt", "break"):
        return {label: (0, hi) for label, (lo, hi) in sections[0].items()}
    labels = {label for b in sections for label in b}
    if kind == "alt":
        return {label: (min(b.get(label, (0, 0))[0] for b in sections),
                        max(b.get(label, (0, 0))[1] for b in sections)) for label in labels}
    # critical: the main section, or a prefix of it (maybe empty) and one option
    main, options = sections[0], sections[1:]
    out = {}
    for label in labels:
        lo, hi = main.get(label, (0, 0))
        for b in options:
            olo, ohi = b.get(label, (0, 0))
            lo, hi = min(lo, olo), max(hi, min(main.get(label, (0, 0))[1] + ohi, _MANY))
        out[label] = (lo, hi)
    return out


def nest(contract: dict[Any, Any]) -> dict[Any, Any]:
    """A contract written as a flat `stream` of rows, in its nested form.

    Deeply nested diagrams make nested data that Python cannot write as a literal (it
    allows 200 open brackets) nor `json` read (it recurses); a stream stays two levels
    deep. Rows: `["message", from, to, text, line]` (a sixth item, a mapping, holds the
    message's other keys: `lost`, `after`), `["block", kind, label, line]`,
    `["section", label, line]` (each section of a block, the first one too), `["end"]`."""
    top: list[Any] = []
    blocks: list[dict[Any, Any]] = []
    items: list[Any] | None = top  # None: a block row waits for its first section row
    for n, row in enumerate(contract["stream"]):
        what = row[0] if isinstance(row, (list, tuple)) and row else None
        try:
            if what == "message" and items is not None:
                item = dict(zip(("kind", "from", "to", "text", "line"), row[:5],
                                strict=True))
                if len(row) > 5:
                    if len(row) > 6 or not isinstance(row[5], dict) or \
                            not set(row[5]) <= {"lost", "after"}:
                        raise ValueError
                    item.update(row[5])
                items.append(item)
            elif what == "block" and items is not None:
                blocks.append(dict(zip(("kind", "label", "line"), row[1:], strict=True),
                                   sections=[]))
                items.append(blocks[-1])
                items = None
            elif what == "section" and blocks:
                _, label, line = row
                items = []
                blocks[-1]["sections"].append({"label": label, "line": line, "items": items})
            elif what == "end" and blocks:
                blocks.pop()
                items = blocks[-1]["sections"][-1]["items"] if blocks else top
            else:
                raise ValueError
        except ValueError:
            raise ContractError(f"contract stream row {n + 1} is out of place or not a "
                                f"message, block, section or end row: {row!r:.200}") from None
    if blocks:
        raise ContractError(f"contract stream ends inside a {blocks[-1]['kind']} block")
    nested = {"version": contract["version"], "items": top}
    for key in ("relays", "sagas"):
        if key in contract:
            nested[key] = contract[key]
    return nested


def _items(node: object, what: str) -> list[Any]:
    items = node.get("items") if isinstance(node, dict) else None
    if not isinstance(items, list):
        raise ContractError(f"contract {what} needs an 'items' list: {node!r:.200}")
    return items


def _sections(block: dict[Any, Any]) -> list[Any]:
    sections = block.get("sections")
    if not isinstance(sections, list):
        raise ContractError(f"contract {block.get('kind')} block needs a 'sections' list "
                            f"(line {block.get('line')})")
    return sections


def _patch(code: list[Any], jumps: list[int], target: int) -> None:
    for at in jumps:
        code[at][1] = target


# --- sagas: which compensations undo which steps ----------------------------------------


def undone_steps(contract: dict[Any, Any]) -> dict[int, int]:
    """The saga rule, shared by the checker and the generators: per compensating message
    (by line), the line of the step it undoes.

    An *answer* is a message to the participant whose first message to the sender came
    first (`Saga-->>API: Order cancelled` after `API->>Saga: Start order saga`); a *step*
    is a message from D to another participant that is neither an answer nor a
    compensation (`keys.is_compensation`: `Cancel flight`, `Refund payment`). In one
    section, a *run* of compensations is a sequence of compensating messages from one
    sender D to others, no answers, each followed by what D does not send (the reply,
    what the receiver does before it); a message from D that is none of them, a self
    message or a block ends it (a block that does not start with a message from D leaves
    the run unpaired: the reply of its last compensation may be in it). Each compensation
    undoes the latest earlier step of D to the same receiver that it can undo
    (`keys.undoes`: the texts share a word besides the verbs), among the messages
    directly in the sections that hold the run (before it) and, for a run directly in an
    option of a `critical`, directly in that critical's main section. A run pairs when
    every compensation undoes a step, no two the same one, and the diagram draws them
    in the reverse order of their steps (a saga compensates in reverse order); any other
    run stays as drawn."""
    if isinstance(contract, dict) and "stream" in contract:
        contract = nest(contract)
    if not _sagas(contract):
        return {}
    return {head["line"]: step["line"]
            for m, (head, step, _) in _saga_pairs(_items(contract, "contract")).items()
            if id(head) == m and isinstance(head.get("line"), int)
            and isinstance(step.get("line"), int)}


def _saga_pairs(top: list[Any]) -> dict[int, tuple[dict[Any, Any], dict[Any, Any], bool]]:
    """`undone_steps`, per message item (by id) of a paired run, the compensation it
    belongs to, that compensation's step, and whether the step is in the main section of
    the critical whose option holds the run (it runs only if the step was taken)."""
    out: dict[int, tuple[dict[Any, Any], dict[Any, Any], bool]] = {}
    order = 0  # steps get numbers in drawn order
    # a frame: [items (rect flattened), next index, steps here as (number, item), the
    # enclosing sections' steps as (outer, their steps, how many before the block),
    # main section steps (an option's) or None, the block record or None]
    callers = _callers(top)
    stack: list[list[Any]] = [[_flat(top), 0, [], None, None, None]]
    while stack:
        frame = stack[-1]
        items, i = frame[0], frame[1]
        if i >= len(items):
            stack.pop()
            block = frame[5]
            if block is not None:
                if block["k"] == 0:
                    block["main"] = frame[2]
                block["k"] += 1
                if block["k"] < len(block["sections"]):
                    stack.append(_saga_frame(block, block["k"]))
            continue
        item = items[i]
        frame[1] += 1
        if not _is_message(item):
            sections = item.get("sections") if isinstance(item, dict) else None
            if isinstance(sections, list) and sections:
                block = {"kind": item.get("kind"), "sections": sections, "k": 0,
                         "main": None, "outer": (frame[3], frame[2], len(frame[2]))}
                stack.append(_saga_frame(block, 0))
            continue
        sender, receiver, text = item["from"], item["to"], item["text"]
        if sender == receiver or (receiver, sender) in callers:
            continue  # a self message or an answer: neither a step nor a compensation
        if not is_compensation(text):
            frame[2].append((order, item))
            order += 1
            continue
        run, k = [], i
        while k < len(items) and _is_message(items[k]) and items[k]["from"] == sender \
                and items[k]["to"] != sender and is_compensation(items[k]["text"]) \
                and (items[k]["to"], sender) not in callers:
            unit = [items[k]]
            k += 1
            while k < len(items) and _is_message(items[k]) and items[k]["from"] != sender:
                unit.append(items[k])
                k += 1
            run.append(unit)
        frame[1] = k
        if k < len(items) and not _is_message(items[k]) and \
                _first_sender(items[k]) != sender:
            continue  # the reply of the last compensation may be in that block
        steps: list[tuple[int, dict[Any, Any], bool]] = []
        outer = frame[3]
        while outer is not None:
            outer, here, count = outer
            steps[:0] = [(n, s, False) for n, s in here[:count]]
        steps += [(n, s, True) for n, s in frame[4] or ()]
        steps += [(n, s, False) for n, s in frame[2]]
        found = [next((st for st in reversed(steps) if st[1]["from"] == sender
                       and st[1]["to"] == unit[0]["to"]
                       and undoes(unit[0]["text"], st[1]["text"])), None) for unit in run]
        numbers = [st[0] for st in found if st is not None]
        if len(numbers) < len(run) or len(set(numbers)) < len(numbers) or \
                numbers != sorted(numbers, reverse=True):
            continue  # not one step each, in reverse order: as drawn
        for unit, st in zip(run, found, strict=True):
            assert st is not None
            for m in unit:
                out[id(m)] = (unit[0], st[1], st[2])
    return out


def _sagas(contract: dict[Any, Any]) -> bool:
    sagas = contract.get("sagas", True)
    if not isinstance(sagas, bool):
        raise ContractError(f"contract sagas must be true or false: {sagas!r:.200}")
    return sagas


def _saga_frame(block: dict[Any, Any], k: int) -> list[Any]:
    section = block["sections"][k]
    items = section.get("items") if isinstance(section, dict) else None
    main = block["main"] if block["kind"] == "critical" and k > 0 else None
    return [_flat(items if isinstance(items, list) else []), 0, [], block["outer"], main,
            block]


def _callers(top: list[Any]) -> set[tuple[str, str]]:
    """(caller, callee) for each two participants whose first message, in drawn order,
    goes from the caller to the callee (then what the callee sends back is an answer)."""
    first: dict[frozenset[str], tuple[str, str]] = {}
    stack = [iter(top)]
    while stack:
        for item in stack[-1]:
            if _is_message(item):
                first.setdefault(frozenset((item["from"], item["to"])),
                                 (item["from"], item["to"]))
            elif isinstance(item, dict) and isinstance(item.get("sections"), list):
                stack.append(iter([x for s in item["sections"] if isinstance(s, dict)
                                   and isinstance(s.get("items"), list) for x in s["items"]]))
                break
        else:
            stack.pop()
    return set(first.values())


def _is_message(item: object) -> bool:
    return isinstance(item, dict) and item.get("kind") == "message" and all(
        isinstance(item.get(key), str) for key in ("from", "to", "text"))


def _flat(items: list[Any]) -> list[Any]:
    """Items with their `rect` blocks replaced by what the rects hold."""
    out: list[Any] = []
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, dict) and item.get("kind") == "rect" and \
                    isinstance(item.get("sections"), list):
                stack.append(iter([x for s in item["sections"] if isinstance(s, dict)
                                   and isinstance(s.get("items"), list) for x in s["items"]]))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _first_sender(item: object) -> str | None:
    """Who sends the first message of a block (None: it holds none)."""
    stack = [iter([item])]
    while stack:
        for x in stack[-1]:
            if _is_message(x):
                return str(x["from"])  # type: ignore[index]
            if isinstance(x, dict) and isinstance(x.get("sections"), list):
                stack.append(iter([y for s in x["sections"] if isinstance(s, dict)
                                   and isinstance(s.get("items"), list) for y in s["items"]]))
                break
        else:
            stack.pop()
    return None


# --- the search -------------------------------------------------------------------------


class _Ctx:
    """One open loop, par or critical while unfolding (immutable; a linked stack)."""

    __slots__ = ("acc", "block", "body", "crit", "entry", "kind", "low", "mode", "option",
                 "par", "parent", "section", "start")
    _FIELDS = ("acc", "block", "body", "entry", "mode", "option", "section", "start")
    """What `but` copies (the rest is derived)."""

    def __init__(self, kind: int, parent: _Ctx | None, *, start: int = 0, body: int = 0,
                 block: int = 0, section: int = 0, entry: dict[Any, Any] | None = None,
                 acc: dict[Any, Any] | None = None, mode: int = 0, option: int = 0) -> None:
        self.kind, self.parent = kind, parent
        self.start, self.body = start, body  # loop: instances before this iteration; pc
        # (critical: instances before its main section)
        self.block, self.section = block, section  # par: which, and which section now
        self.entry, self.acc = entry, acc  # par: frontiers before it, after its sections
        self.mode, self.option = mode, option  # critical: the option (-1: none), its pc
        up = parent
        self.par: _Ctx | None = self if kind == _PAR else (up.par if up else None)
        """The nearest open par (for which concurrent sections may still come)."""
        self.crit: _Ctx | None = (self if kind == _CRIT and mode >= 0
                                  else up.crit if up else None)
        """The nearest critical whose option may still cut its main section short."""
        self.low: int = min(up.low if up else 1 << 62, body if kind == _LOOP else 1 << 62)
        """The first instruction an open loop may jump back to."""

    def but(self, **fields: Any) -> _Ctx:
        """A copy with some fields changed."""
        kept = {name: getattr(self, name) for name in self._FIELDS}
        return _Ctx(self.kind, self.parent, **(kept | fields))


class _Run:
    """The state of one search: the scenario unfolded so far and its match to the trace.

    Every change is recorded on `trail` so that a failed choice is undone exactly."""

    def __init__(self, program: _Program, labels: list[int], max_scenarios: int,
                 max_steps: int) -> None:
        self.p, self.code, self.labels = program, program.code, labels
        n = len(program.label_sender)
        self.total = [0] * n
        for label in labels:
            if label >= 0:
                self.total[label] += 1
        # per unfolded message ("instance"): static message, predecessors, matched trace
        # position (-1: not matched), number of unmatched predecessors, successors
        self.i_msg: list[int] = []
        self.i_preds: list[tuple[int, ...]] = []
        self.i_at: list[int] = []
        self.i_wait: list[int] = []
        self.i_next: list[list[int]] = []
        self.ready: list[list[int]] = [[] for _ in range(n)]
        self.pending = [0] * n  # unfolded, unmatched
        self.consumed = [0] * n  # trace messages passed
        self.front: list[dict[Any, tuple[int, ...]]] = [{}]
        """Per participant, the latest messages its next send must wait for."""
        self.pos = self.pc = 0
        self.ctx: _Ctx | None = None
        self.unfold_first = False
        self.trail: list[tuple[Any, ...]] = []
        self.cap = -1  # > 0: unfold at most this many instances, whatever the trace holds
        self.max_scenarios, self.max_steps = max_scenarios, max_steps
        self.scenarios = self.steps = 0
        self.limit_hit = False
        self.best_pos = -1  # the furthest trace position a failed scenario reached
        self.best_path: list[int] = []  # the choices that led there

    # state changes, all undoable

    def _set(self, obj: Any, key: Any, value: Any) -> None:
        self.trail.append((0, obj, key, obj[key]))
        obj[key] = value

    def _push(self, lst: list[Any], value: object) -> None:
        lst.append(value)
        self.trail.append((1, lst, None, None))

    def _state(self) -> tuple[Any, ...]:
        return (len(self.trail), len(self.i_msg), self.pos, self.pc, self.ctx,
                self.unfold_first)

    def _restore(self, state: tuple[Any, ...]) -> None:
        size, count, self.pos, self.pc, self.ctx, self.unfold_first = state
        trail = self.trail
        while len(trail) > size:
            op, obj, key, old = trail.pop()
            if op == 0:
                obj[key] = old
            elif op == 1:
                obj.pop()
            else:
                obj.insert(key, old)
        for lst in (self.i_msg, self.i_preds, self.i_at, self.i_wait, self.i_next):
            del lst[count:]

    def _emit(self, m: int) -> bool:
        """Unfold static message `m`; False when the trace cannot hold one more."""
        sender, receiver, _, _, label = self.p.msgs[m]
        j = len(self.i_msg)
        if self.cap > 0:
            if j >= self.cap:
                return False
        elif self.pending[label] >= self.total[label] - self.consumed[label]:
            return False
        front, trail, at, nexts = self.front[0], self.trail, self.i_at, self.i_next
        preds, chain = self._waits(sender, receiver, self.p.keys[m])
        taker = self.p.after.get(m)
        if taker is not None:  # recorded when `taker` takes it: after what it did so far
            preds += tuple(i for i in front.get(taker, ()) if i not in preds)
        wait = 0
        for i in preds:
            if at[i] < 0:
                wait += 1
                nexts[i].append(j)
                trail.append((1, nexts[i], None, None))
        self.i_msg.append(m)
        self.i_preds.append(preds)
        at.append(-1)
        self.i_wait.append(wait)
        nexts.append([])
        trail.append((0, front, chain, front.get(chain, ())))
        front[chain] = (j,)
        if m in self.p.lost:  # it reaches nobody: what its receiver sends does not wait
            pass
        elif receiver in self.p.relays:  # what the relay passes on next waits for this
            for into in (("into", receiver, self.p.keys[m]), ("into", receiver, None)):
                trail.append((0, front, into, front.get(into, ())))
                front[into] = (j,)
        elif receiver != sender:
            old = front.get(receiver, ())
            trail.append((0, front, receiver, old))
            front[receiver] = old + (j,)
        trail.append((0, self.pending, label, self.pending[label]))
        self.pending[label] += 1
        if not wait:
            self.ready[label].append(j)
            trail.append((1, self.ready[label], None, None))
        return True

    def _waits(self, sender: str, receiver: str, key: str) -> tuple[tuple[int, ...], Any]:
        """What a send waits for, and the frontier it then becomes: a participant's send
        waits for its last send and what it received since; a relay's send for the
        message it passes on and its last send of that publisher's events to the same
        receiver."""
        front = self.front[0]
        if sender not in self.p.relays:
            return front.get(sender, ()), sender
        source = front.get(("into", sender, key)) or front.get(("into", sender, None), ())
        publisher = self.p.msgs[self.i_msg[source[0]]][0] if source else None
        chain = ("relay", sender, receiver, publisher)
        return source + front.get(chain, ()), chain

    def _match(self, j: int) -> None:
        """Match instance `j` to the trace message at `pos` (out of order if not ready)."""
        label = self.p.msgs[self.i_msg[j]][4]
        self._set(self.i_at, j, self.pos)
        ready = self.ready[label]
        if j in ready:  # (undone by putting it back where it was: pops must stay exact)
            where = ready.index(j)
            del ready[where]
            self.trail.append((2, ready, where, j))
        self._set(self.pending, label, self.pending[label] - 1)
        self._consume()
        for k in self.i_next[j]:
            self._set(self.i_wait, k, self.i_wait[k] - 1)
            if not self.i_wait[k] and self.i_at[k] < 0:
                self._push(self.ready[self.p.msgs[self.i_msg[k]][4]], k)

    def _consume(self) -> None:
        label = self.labels[self.pos]
        if label >= 0:
            self._set(self.consumed, label, self.consumed[label] + 1)
        self.pos += 1

    def _swap_front(self, front: dict[Any, Any]) -> None:
        self.trail.append((0, self.front, 0, self.front[0]))
        self.front[0] = front

    # unfolding

    def _top(self) -> _Ctx:
        """The innermost open block (the instruction being run implies there is one)."""
        assert self.ctx is not None
        return self.ctx

    def _unfold(self) -> str | list[_Alt]:
        """Run instructions up to the next unfolded message, choice or end."""
        code = self.code
        while True:
            self.steps += 1
            op = code[self.pc]
            kind = op[0]
            if kind == _MSG:
                ctx = self.ctx
                if ctx is not None and ctx.crit is not None:  # an option may cut in here
                    alts: list[_Alt] = [(1, ("emit",))]
                    crit: _Ctx | None = ctx.crit
                    while crit is not None:
                        alts.append((0, ("cut", crit)))
                        crit = crit.parent.crit if crit.parent else None
                    return alts
                if not self._emit(op[1]):
                    return _DEAD
                self.pc += 1
                return _EMIT
            if kind == _JMP:
                self.pc = op[1]
            elif kind == _CHOOSE:
                return [(cost, ("goto", target)) for cost, target in op[1]]
            elif kind == _LOOP:
                self.ctx = _Ctx(_LOOP, self.ctx, start=len(self.i_msg), body=self.pc + 1)
                self.pc += 1
            elif kind == _AGAIN:
                if len(self.i_msg) == self._top().start:  # an iteration that sent nothing
                    self.pc = op[2]
                else:
                    return [(op[3] + 1, ("again", op[1])), (0, ("goto", op[2]))]
            elif kind == _LOOP_EXIT:
                self.ctx = self._top().parent
                self.pc += 1
            elif kind == _PAR:
                self.ctx = _Ctx(_PAR, self.ctx, block=op[1], entry=dict(self.front[0]))
                self.pc += 1
            elif kind == _PAR_NEXT:
                top = self._top()
                self.ctx = top.but(acc=_merge(top.acc, self.front[0]), section=top.section + 1)
                self._swap_front(dict(top.entry or {}))
                self.pc += 1
            elif kind == _PAR_EXIT:
                top = self._top()
                self._swap_front(_merge(top.acc, self.front[0]))
                self.ctx = top.parent
                self.pc += 1
            elif kind == _CRIT:
                choices: list[_Alt] = [(op[4], ("crit", -1, 0))]
                choices += [(cost, ("crit", k, target))
                            for k, (cost, target) in enumerate(zip(op[3], op[2], strict=True))]
                return choices
            elif kind == _CRIT_MAIN_END:
                top = self._top()
                self.ctx = top.parent
                # an option follows only a main section that did not complete: one that
                # sent nothing, or whose decider still waited for what it received
                # (else the run is the main section's, as if it had been chosen); a saga
                # undoes what a step that failed did, and a step that failed has no reply
                saga = top.option in self.p.sagas
                timed_out = top.mode >= 0 and (len(self.i_msg) == top.start or (
                    not saga and self._forget_late_receipts(top)))
                if timed_out:
                    self._enter_option(top)
                else:
                    self.pc = op[1]
            elif kind == _TAKEN:  # a compensation runs when its step was taken
                option = self.ctx
                while option is not None and option.kind != _OPTION:
                    option = option.parent
                i_msg, step = self.i_msg, op[1]
                taken = option is None or any(i_msg[i] == step
                                              for i in range(option.start, len(i_msg)))
                self.pc = self.pc + 1 if taken else op[2]
            elif kind == _CRIT_POP:
                self.ctx = self._top().parent
                self.pc = op[1]
            else:
                return _STOP

    def _apply(self, action: tuple[Any, ...]) -> bool:
        """Take one alternative of a choice; False if it is dead at once."""
        what = action[0]
        if what == "match":
            self._match(action[1])
        elif what == "goto":
            self.pc = action[1]
        elif what == "emit":
            if not self._emit(self.code[self.pc][1]):
                return False
            self.pc += 1
        elif what == "unfold":
            self.unfold_first = True
        elif what == "again":
            self.ctx = self._top().but(start=len(self.i_msg))
            self.pc = action[1]
        elif what == "crit":
            self.ctx = _Ctx(_CRIT, self.ctx, mode=action[1], option=action[2],
                            start=len(self.i_msg))
            self.pc += 1
        else:  # "cut": the option of a critical happens now; leave everything inside it
            crit: _Ctx = action[1]
            while self.ctx is not crit:
                top = self._top()
                if top.kind == _PAR:
                    self._swap_front(_merge(top.acc, self.front[0]))
                self.ctx = top.parent
            self._forget_late_receipts(crit)
            self.ctx = crit.parent
            self._enter_option(crit)
        return True

    def _enter_option(self, crit: _Ctx) -> None:
        """Run the option of `crit` (its main section cut short); a saga's option
        remembers where the main section began, to tell which steps it took."""
        self.pc = crit.option
        if crit.option in self.p.sagas:
            self.ctx = _Ctx(_OPTION, self.ctx, start=crit.start)

    def _forget_late_receipts(self, crit: _Ctx) -> bool:
        """The option of `crit` is taken: its decider acted on its own (its timer fired),
        so what it received in the main section since its last send there does not order
        the option. True if there was such a message."""
        decider = self.p.decider.get(crit.option)
        if decider is None:
            return False
        front, msgs, i_msg = self.front[0], self.p.msgs, self.i_msg
        was = front.get(decider, ())
        kept = tuple(i for i in was if i < crit.start or msgs[i_msg[i]][0] == decider)
        if len(kept) == len(was):
            return False
        self._set(front, decider, kept)
        return True

    def _concurrent(self, label: int) -> bool:
        """Could a message with this label still come in a par section concurrent with
        what is already unfolded? (Only then can two same-label messages be enabled.)"""
        par = self.ctx.par if self.ctx is not None else None
        while par is not None:
            if self.p.par_last[par.block].get(label, -1) >= max(par.section, 1):
                return True
            par = par.parent.par if par.parent else None
        return False

    def _blocked(self, label: int) -> bool:
        """Must any message with this label still to be unfolded wait for one that is
        unfolded and not matched? (Then it cannot be the next trace message.)"""
        at = self.i_at
        sender, receiver, key = self.p.label_identity[label]
        waits = self._waits(sender, receiver, key)[0]
        return any(at[i] < 0 for i in waits) and not self._concurrent(label) \
            and not self._may_forget(sender)

    def _may_forget(self, sender: str) -> bool:
        """Could an open critical still be cut short by an option `sender` decides (which
        forgets what it waits for now)?"""
        crit = self.ctx.crit if self.ctx is not None else None
        while crit is not None:
            if self.p.decider.get(crit.option) == sender:
                return True
            crit = crit.parent.crit if crit.parent else None
        return False

    def _reachable(self, label: int) -> bool:
        """Can the unfolding still reach a message with this label? (Code only runs
        forward, except back to the start of an open loop.)"""
        low = self.pc if self.ctx is None else min(self.pc, self.ctx.low)
        return self.p.label_last[label] >= low

    def _advance(self, goal: int, finish: bool, any_instance: bool) -> str | list[_Alt]:
        """Match trace messages and unfold until `pos == goal` (and, with `finish`, the
        scenario has ended), a failure, or a choice (returned as its alternatives)."""
        labels = self.labels
        while True:
            if self.steps > self.max_steps:
                return _LIMIT
            self.steps += 1
            if self.pos == goal:
                if not finish:
                    return _OK
                step = self._unfold()
                if step is _STOP:
                    return _OK
                if step is _DEAD:
                    return _FAIL
                if step is not _EMIT:
                    return step
                continue
            label = labels[self.pos]
            if label < 0:
                return _FAIL
            if any_instance and self.pending[label]:
                return _OK
            ready = self.ready[label]
            if ready and not self.unfold_first and not any_instance:
                concurrent = self._concurrent(label)
                if len(ready) == 1 and not concurrent:
                    self._match(ready[0])
                    continue
                alts: list[_Alt] = [(0, ("match", j)) for j in sorted(ready)]
                return alts + [(0, ("unfold",))] if concurrent else alts
            self.unfold_first = False
            if not ready and not self._reachable(label):
                return _FAIL
            if not ready and not any_instance and self._blocked(label):
                return _FAIL
            step = self._unfold()
            if step is _STOP or step is _DEAD:
                return _FAIL
            if step is not _EMIT:
                return step

    def search(self, goal: int, finish: bool, *, relaxed: int = 0,
               any_instance: bool = False, forced: list[int] | None = None,
               record: bool = False) -> bool:
        """Depth-first search for a way to reach `goal` from the current state; on
        failure the state is left as it was. `relaxed` > 0 lets the scenario unfold up to
        that many more messages whatever the trace holds (those it lacks will be missing),
        trying the cheapest alternatives first. With `any_instance`, the goal is reached
        as soon as a message like the next trace message is unfolded, ready or not."""
        start = self._state()
        self.cap = len(self.i_msg) + relaxed if relaxed else -1
        stack: list[list[Any]] = []  # choice points: [state, alternatives, index, position]
        forced = list(reversed(forced or []))
        while True:
            step = self._advance(goal, finish, any_instance)
            if step is _OK:
                return True
            if step is _LIMIT:
                self.limit_hit = True
                self._restore(start)
                return False
            if isinstance(step, list):
                alts = sorted(step, key=lambda a: a[0]) if relaxed else step
                if forced:
                    choice = forced.pop() if len(alts) > 1 else 0
                    self._apply(alts[choice][1])
                    continue
                if len(alts) > 1:
                    stack.append([self._state(), alts, 0, self.pos])
                if self._apply(alts[0][1]):
                    continue
            if record and self.pos > self.best_pos:
                self.best_pos = self.pos
                self.best_path = [cp[2] for cp in stack if cp[3] < self.pos]
            while stack:  # backtrack to the latest choice with an untried alternative
                cp = stack[-1]
                if cp[2] + 1 >= len(cp[1]):
                    stack.pop()
                    continue
                self._restore(cp[0])
                cp[2] += 1
                self.scenarios += 1
                if self.scenarios > self.max_scenarios:
                    self.limit_hit = True
                    self._restore(start)
                    return False
                if self._apply(cp[1][cp[2]][1]):
                    break
            else:
                self._restore(start)
                return False


def _merge(acc: dict[Any, Any] | None, front: dict[Any, Any]) -> dict[Any, Any]:
    """Per participant, the union of what two par sections leave to wait for."""
    if acc is None:
        return dict(front)
    out = dict(acc)
    for who, items in front.items():
        have = out.get(who)
        if not have:
            out[who] = items
        elif have != items:
            seen = set(have)
            out[who] = have + tuple(i for i in items if i not in seen)
    return out


# --- the verdict ------------------------------------------------------------------------


def check(contract: dict[Any, Any], trace: Iterable[Any], *, max_scenarios: int = MAX_SCENARIOS,
          max_steps: int = MAX_STEPS) -> dict[Any, Any]:
    """Does `trace` conform to the diagram `contract` describes?

    `contract`: `{"version": 1, "items": [ITEM, ...]}`, ITEM either `{"kind": "message",
    "from", "to", "text", "line"}` (and `"lost": True` for a message that reaches nobody,
    `"after": P` for one that also waits for P: see the module's docstring) or
    `{"kind": "loop"|"alt"|"opt"|"par"|"critical"|"break", "label", "line",
    "sections": [{"label", "line", "items": [ITEM, ...]}, ...]}`; or the
    same as `{"version": 1, "stream": [ROW, ...]}` (see `nest`). An optional `"relays"`
    lists the broker participants (see the module's docstring).
    `trace`: the messages in the order they happened, as `(sender, receiver, text)` tuples
    or lists, or `{"from", "to", "text"}` mappings.

    Returns `{"ok", "explanation", "matched", "missing", "unexpected", "out_of_order",
    "first_failure", "search"}`: `matched` pairs trace positions with diagram lines,
    `missing` lists diagram messages the trace lacks, `unexpected` trace messages the
    diagram has no place for, `out_of_order` trace messages that came before a message
    they depend on; `explanation` is the readable diff a contract test prints."""
    program = _Program(contract)
    seen = _trace(trace)
    labels = [program.labels.get((s, r, event_key(t)), -1) for s, r, t in seen]
    exact = _Run(program, labels, max_scenarios, max_steps)
    # how often each message occurs decides many failures at once (and spares the
    # search, which has to try every scenario to fail); still search a little, for the
    # longest matching prefix to explain with
    possible = -1 not in labels and all(lo <= exact.total[label] <= hi
                                        for label, (lo, hi) in program.bounds.items())
    if not possible:
        exact.max_scenarios, exact.max_steps = max_scenarios // 20, max_steps // 20
    if exact.search(len(labels), True, record=True):
        return _verdict(program, seen, exact, [], [], exact)
    exact.limit_hit &= possible
    # no scenario fits (or the search gave up): explain with the scenario that matched the
    # longest prefix, replayed, then the rest of the trace matched greedily
    run = _Run(program, labels, max_scenarios, exact.steps + max_steps // 4)
    run.search(max(exact.best_pos, 0), False, forced=exact.best_path)
    misses: dict[str, list[Any]] = {"out_of_order": [], "unexpected": []}
    while run.pos < len(labels):
        run.trail.clear()  # what is decided stays decided
        _step(run, misses, lookahead=_LOOKAHEAD)
    _complete(run)
    return _verdict(program, seen, run, misses["out_of_order"], misses["unexpected"], exact)


_LOOKAHEAD = 6
"""How many trace messages the explanation looks ahead to choose how to get past one
that does not fit (as out of order, unexpected, or by assuming messages it lacks)."""


def _step(run: _Run, misses: dict[str, list[Any]], lookahead: int) -> int:
    """Get past the trace message at `run.pos`, the best way found; return how many
    differences from the diagram that added."""
    if run.labels[run.pos] < 0:
        return _skip(run, misses)
    if run.search(run.pos + 1, False):
        return 0
    if not lookahead:
        for way in _WAYS:
            cost = way(run, misses)
            if cost is not None:
                return cost
    state = run._state()
    sizes = {k: len(v) for k, v in misses.items()}

    def undo() -> None:
        run._restore(state)
        for k, size in sizes.items():
            del misses[k][size:]

    ways = []
    for way in _WAYS:
        cost = way(run, misses)
        if cost is not None:
            ways.append(way)
        undo()
    if len(ways) > 1:  # "unexpected" always works; choose by what follows
        costs = []
        for way in ways:
            costs.append((way(run, misses) or 0) + _ahead(run, lookahead))
            undo()
        ways = [ways[costs.index(min(costs))]]
    return ways[0](run, misses) or 0


def _ahead(run: _Run, count: int) -> int:
    """The differences the next `count` trace messages add (greedily), plus the messages
    the scenario has unfolded beyond what the rest of the trace can match (all it still
    needs, when the trace ends)."""
    scratch: dict[str, list[Any]] = {"out_of_order": [], "unexpected": []}
    cost = 0
    for _ in range(count):
        if run.pos >= len(run.labels):
            break
        cost += _step(run, scratch, lookahead=0)
    if run.pos >= len(run.labels):
        _complete(run)
    remaining = [t - c for t, c in zip(run.total, run.consumed, strict=True)]
    return cost + sum(max(0, p - r) for p, r in zip(run.pending, remaining, strict=True))


def _assume(run: _Run, misses: dict[str, list[Any]]) -> int | None:
    """Match it by unfolding messages the trace lacks (they will show as missing)."""
    if run.labels[run.pos] >= 0 and _relaxed(run, run.pos + 1, False):
        return 0
    return None


def _reorder(run: _Run, misses: dict[str, list[Any]]) -> int | None:
    """Match it although a message it depends on has not happened yet."""
    label = run.labels[run.pos]
    if label < 0 or not (run.pending[label]
                         or _relaxed(run, run.pos + 1, False, any_instance=True)):
        return None
    j = min(i for i, at in enumerate(run.i_at)
            if at < 0 and run.p.msgs[run.i_msg[i]][4] == label)
    waits = [i for i in run.i_preds[j] if run.i_at[i] < 0]
    misses["out_of_order"].append((j, min(waits) if waits else -1))
    run._match(j)
    return 1


def _skip(run: _Run, misses: dict[str, list[Any]]) -> int:
    """Count it as unexpected."""
    misses["unexpected"].append(run.pos)
    run._consume()
    return 1


_WAYS = (_assume, _reorder, _skip)


def _relaxed(run: _Run, goal: int, finish: bool, any_instance: bool = False) -> bool:
    """`search` allowing 1, 2, 4, ... messages the trace lacks, so that the explanation
    assumes as few as it can."""
    room = len(run.labels) - run.pos + len(run.p.msgs) + 1
    extra = 1
    while not run.limit_hit:
        if run.search(goal, finish, relaxed=min(extra, room), any_instance=any_instance):
            return True
        if extra >= room:
            break
        extra *= 2
    return False


def _trace(trace: Iterable[Any]) -> list[tuple[str, str, str]]:
    out = []
    for n, item in enumerate(trace):
        if isinstance(item, dict):
            item = (item.get("from"), item.get("to"), item.get("text"))
        if (not isinstance(item, (tuple, list)) or len(item) != 3
                or not all(isinstance(x, str) for x in item)):
            raise ContractError(f"trace message {n + 1} is not (sender, receiver, text): "
                                f"{item!r:.200}")
        out.append((item[0], item[1], item[2]))
    return out


def _complete(run: _Run) -> None:
    """Unfold the rest of the scenario after the trace ended, assuming as few messages as
    it can (they are missing)."""
    if run.search(len(run.labels), True) or _relaxed(run, len(run.labels), True):
        return
    run.cap = 1 << 62  # the search budget is spent: the cheapest way, without search
    while True:
        step = run._unfold()
        if step is _STOP:
            return
        if isinstance(step, list):
            run._apply(min(step, key=lambda a: a[0])[1])


def _verdict(program: _Program, seen: list[Any], run: _Run, out_of_order: list[Any],
             unexpected: list[int], exact: _Run) -> dict[Any, Any]:
    msgs = program.msgs

    def arrow(j: int) -> dict[Any, Any]:
        sender, receiver, text, line, _ = msgs[run.i_msg[j]]
        return {"from": sender, "to": receiver, "text": text, "line": line}

    def event(pos: int) -> dict[Any, Any]:
        sender, receiver, text = seen[pos]
        return {"position": pos, "from": sender, "to": receiver, "text": text}

    count = len(run.i_msg)
    matched = sorted((run.i_at[j], j) for j in range(count) if run.i_at[j] >= 0)
    missing = [j for j in range(count) if run.i_at[j] < 0]
    result: dict[str, Any] = {
        "ok": not (missing or unexpected or out_of_order),
        "matched": [{"position": pos, "line": msgs[run.i_msg[j]][3]} for pos, j in matched],
        "missing": [arrow(j) for j in missing],
        "unexpected": [event(pos) for pos in unexpected],
        "out_of_order": [event(run.i_at[j]) | {"line": arrow(j)["line"],
                                               "after": arrow(d) if d >= 0 else None}
                         for j, d in out_of_order],
        "first_failure": None,
        "search": {"scenarios": exact.scenarios, "steps": exact.steps,
                   "limit_hit": exact.limit_hit},
    }
    if result["ok"]:
        result["explanation"] = (f"trace conforms to the diagram ({len(seen)} messages "
                                 "matched)")
        return result
    failure = _first_failure(program, seen, run, out_of_order, unexpected, missing, arrow,
                             event)
    result["first_failure"] = failure
    text = failure.pop("text")
    failure["reason"] = " ".join(line.strip() for line in text)
    lines = ["trace does not conform to the diagram:", *text]
    lines += _table(seen, run, program)
    lines += _listing("missing:    ", [f"{_arrow(m)} (line {m['line']})"
                                      for m in result["missing"]])
    lines += _listing("unexpected: ", [f"{_arrow(e)} (trace event {e['position'] + 1})"
                                       for e in result["unexpected"]])
    if len(out_of_order) > 1:
        lines += _listing("out of order: ", [
            f"{_arrow(e)} (trace event {e['position'] + 1}) before "
            f"{_arrow(e['after'])} (line {e['after']['line']})"
            for e in result["out_of_order"] if e["after"]])
    if exact.limit_hit:
        lines.append(f"(search limit: stopped after {exact.scenarios:,} scenarios and "
                     f"{exact.steps:,} steps; this is the best explanation found, and the "
                     "trace might still conform)")
    elif run.limit_hit:
        lines.append("(the explanation ran out of search budget: it may blame more messages "
                     "than necessary)")
    result["explanation"] = "\n".join(lines)
    return result


def _first_failure(program: _Program, seen: list[Any], run: _Run, out_of_order: list[Any],
                   unexpected: list[int], missing: list[int],
                   arrow: Callable[[int], dict[Any, Any]],
                   event: Callable[[int], dict[Any, Any]]) -> dict[Any, Any]:
    """The first thing that went wrong, in trace order (what is missing comes last):
    `{"kind": "unexpected" | "out_of_order" | "missing", "position", "seen", "message",
    "depends_on", "expected", "text"}` (`text` becomes the one-line `reason`)."""
    first_order = out_of_order[0] if out_of_order else None
    order_pos = run.i_at[first_order[0]] if first_order else len(seen)
    if unexpected and unexpected[0] < order_pos:
        pos = unexpected[0]
        label = run.labels[pos]
        lines = ", ".join(map(str, sorted(set(program.label_lines[label])))) \
            if label >= 0 else ""
        if label < 0:
            why = "is not in the diagram"
        elif any(0 <= run.i_at[j] < pos and _label_of(run, j) == label
                 for j in range(len(run.i_msg))):
            why = f"happens more often than the diagram allows (line {lines})"
        else:
            why = f"cannot happen at this point (line {lines})"
        expected = _expected_before(run, pos)
        then = ", ".join(f"`{_arrow(arrow(j))}` (line {arrow(j)['line']})"
                         for j in expected[:3]) or "nothing more"
        return {"kind": "unexpected", "position": pos, "seen": event(pos), "message": None,
                "depends_on": None, "expected": [arrow(j) for j in expected],
                "text": [f"  trace event {pos + 1} `{_arrow(event(pos))}` {why};",
                         f"  the diagram expected: {then}"]}
    if first_order:
        j, d = first_order
        pos = run.i_at[j]
        here, dep = arrow(j), (arrow(d) if d >= 0 else None)
        what = f"trace event {pos + 1} `{_arrow(event(pos))}` (line {here['line']})"
        if dep is None:  # (cannot happen: a message out of order waits for another)
            text = [f"  {what} happened out of order"]
        else:
            sender = here["from"]
            reason = (f"{sender} sends them in this order" if dep["from"] == sender
                      else f"{sender} sends only after it received {dep['text']}")
            if d in missing:
                return {"kind": "missing", "position": pos, "seen": event(pos),
                        "message": dep, "depends_on": None, "expected": [dep],
                        "text": [(f"  `{_arrow(dep)}` (line {dep['line']}) never happened, "
                                  f"but {what}, which depends on it, did"),
                                 f"  ({reason})"]}
            text = [f"  {what} happened before `{_arrow(dep)}` (line {dep['line']}),",
                    f"  which the diagram draws first and which it depends on ({reason})"]
        return {"kind": "out_of_order", "position": pos, "seen": event(pos),
                "message": here, "depends_on": dep, "expected": [dep] if dep else [],
                "text": text}
    first = arrow(missing[0])
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return {"kind": "missing", "position": None, "seen": None, "message": first,
            "depends_on": None, "expected": [arrow(j) for j in missing],
            "text": [(f"  the trace ended, but the diagram still expects `{_arrow(first)}` "
                      f"(line {first['line']}){more}")]}


def _label_of(run: _Run, j: int) -> int:
    return run.p.msgs[run.i_msg[j]][4]


def _expected_before(run: _Run, pos: int) -> list[int]:
    """The scenario's messages that could have happened next when trace event `pos` came:
    not matched before it, and all their predecessors matched before it."""
    at = run.i_at

    def before(i: int) -> bool:
        return 0 <= at[i] < pos

    return [j for j in range(len(run.i_msg))
            if not before(j) and all(before(i) for i in run.i_preds[j])]


def _order(run: _Run, length: int) -> list[int]:
    """One valid order of the scenario's messages, as close to the trace as possible: by
    matched position, a missing message just before the next matched one drawn after it."""
    count = len(run.i_msg)
    keys = [0.0] * count
    following = float(length)
    for j in range(count - 1, -1, -1):
        if run.i_at[j] >= 0:
            keys[j] = following = run.i_at[j]
        else:
            keys[j] = following - 0.5
    waiting = [len(p) for p in run.i_preds]
    after: list[list[int]] = [[] for _ in range(count)]
    for j, preds in enumerate(run.i_preds):
        for i in preds:
            after[i].append(j)
    heap = [(keys[j], j) for j in range(count) if not waiting[j]]
    heapq.heapify(heap)
    out = []
    while heap:
        _, j = heapq.heappop(heap)
        out.append(j)
        for k in after[j]:
            waiting[k] -= 1
            if not waiting[k]:
                heapq.heappush(heap, (keys[k], k))
    return out


_WINDOW = 24


def _table(seen: list[Any], run: _Run, program: _Program) -> list[str]:
    """Expected (one valid order) and seen side by side; `!` marks a difference, `-` a
    message the trace lacks, `+` one the diagram has no place for."""
    order = _order(run, len(seen))
    taken = {run.i_at[j] for j in order if run.i_at[j] >= 0}
    rows: list[tuple[str, int | None, int | None]] = []
    i = s = 0
    while i < len(order) or s < len(seen):
        j = order[i] if i < len(order) else None
        if s < len(seen) and (s not in taken or j is None):
            rows.append(("+", None, s))
            s += 1
        elif j is not None and (run.i_at[j] < 0 or s >= len(seen)):
            rows.append(("-", i, None))
            i += 1
        else:
            assert j is not None  # (the loop ends when both columns do)
            same = program.msgs[run.i_msg[j]][4] == run.labels[s]
            rows.append((" " if same else "!", i, s))
            i += 1
            s += 1
    first = next((n for n, row in enumerate(rows) if row[0] != " "), 0)
    start = 0 if len(rows) <= _WINDOW else max(0, min(first - 3, len(rows) - _WINDOW))
    shown = rows[start:start + _WINDOW]

    def expected(i: int | None) -> tuple[str, str]:
        if i is None:
            return "", ""
        sender, receiver, text, line, _ = program.msgs[run.i_msg[order[i]]]
        return _cut(f"{sender}->>{receiver}: {text}", 48), f"L{line}"

    cells = [expected(i) for _, i, _ in shown]
    width = max([len(c[0]) for c in cells] + [22])
    lw = max(len(c[1]) for c in cells)
    nw = len(str(max(len(order), len(seen), 1)))
    out = ["  expected (one valid order):".ljust(width + lw + nw + 12) + "seen:"]
    if start:
        out.append(f"    … {start} rows above")
    for (mark, row_i, row_s), (text, line) in zip(shown, cells, strict=True):
        left = f"{row_i + 1:>{nw}}  {text:<{width}}  {line:<{lw}}" if row_i is not None \
            else " " * (nw + width + lw + 4)
        right = (f"{row_s + 1:>{nw}}  " + _cut("{}->>{}: {}".format(*seen[row_s]), 60)
                 if row_s is not None else "")
        out.append(f"  {mark} {left}    {right}".rstrip())
    if start + _WINDOW < len(rows):
        out.append(f"    … {len(rows) - start - _WINDOW} rows below")
    return out


def _listing(head: str, entries: list[str], limit: int = 8) -> list[str]:
    out = []
    for n, entry in enumerate(entries[:limit]):
        out.append(("  " + head if n == 0 else "  " + " " * len(head)) + entry)
    if len(entries) > limit:
        out.append("  " + " " * len(head) + f"… and {len(entries) - limit} more")
    return out


def _arrow(m: dict[Any, Any]) -> str:
    return f"{m['from']}->>{m['to']}: {m['text']}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
