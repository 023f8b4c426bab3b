"""The contract, compiled: a flat instruction list (`_Program`), its static messages
and their labels, and the bounds of the blocks.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from ..keys import event_key
from .data import BLOCK_KINDS, CONTRACT_VERSION, ContractError, _items, _sections, nest
from .sagas import _saga_pairs, _sagas

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


def _patch(code: list[Any], jumps: list[int], target: int) -> None:
    for at in jumps:
        code[at][1] = target
