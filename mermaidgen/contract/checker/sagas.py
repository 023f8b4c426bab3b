"""Sagas: which compensations of a `critical`'s option undo which steps of its main
section (`undone_steps`), the one rule the checker and both orchestration
generators use.
"""

from __future__ import annotations

from typing import Any

from ..keys import is_compensation, undoes
from .data import ContractError, _items, nest

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
                stack.append(iter(_inner(item)))
                break
        else:
            stack.pop()
    return set(first.values())


def _inner(block: dict[str, Any]) -> list[Any]:
    """The items of a block's sections, in drawn order (malformed sections hold none)."""
    return [x for s in block["sections"] if isinstance(s, dict)
            and isinstance(s.get("items"), list) for x in s["items"]]


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
                stack.append(iter(_inner(item)))
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
                stack.append(iter(_inner(x)))
                break
        else:
            stack.pop()
    return None
