"""The verdict: `check` runs the search over a trace, then explains a failure
(what was missing, what came unexpected, the table around the first failure).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any

from ..keys import event_key
from .data import ContractError
from .program import _STOP, _Program
from .search import _Run

MAX_SCENARIOS = 20_000
MAX_STEPS = 2_000_000


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
