"""Workflow ops rewritten the way Temporal code is written (the Temporal target only).

* A `loop` whose label bounds it ("up to 3 times") and whose body is one call is a retry
  loop: in Temporal that is the call's retry policy (`maximum_attempts=3`), not a loop in
  the workflow around a call that Temporal retries again on every turn (3 x 5 attempts).
  The call stays one message, in the trace as in the history, which the loop accepts.
* A participant's own step that reads as a wait ("Wait 2 hours", "sleep 30 s") is also a
  durable timer (`workflow.sleep`) after the step: it survives restarts, and the
  time-skipping test server skips it.
* Whether any `critical` block is caught (the generated module then imports FAILURES).

Ops are the flat lists of codegen/ops.py; these functions return new lists.
"""

from __future__ import annotations

import re

from mermaidgen.codegen.literals import comment

_QUIET = frozenset({"note"})
_RETRY = re.compile(r"\b(?:retr(?:y|ies)|attempts?|tries|times)\b", re.IGNORECASE)
"""A loop label that reads as retrying (a polling loop, "every 10 s, at most 5 minutes",
is not a retry policy)."""


def retry_loops_as_policies(ops: list[dict]) -> tuple[list[dict], set[str]]:
    """`ops` with each bounded one-call loop turned into that call with `attempts`, and
    the names of the repeat hooks that no longer run."""
    out: list[dict] = []
    dropped: set[str] = set()
    i = 0
    while i < len(ops):
        op = ops[i]
        end = _block_end(ops, i)
        body = ops[i + 1:end]
        calls = [o for o in body if o["op"] not in _QUIET and o["op"] != "loop_next"]
        if op["op"] == "loop" and str(op["limit"]).isdigit() and _RETRY.search(op["comment"]) \
                and len(calls) == 1 \
                and calls[0]["op"] == "call" and calls[0]["indent"] == op["indent"] + 1 \
                and body and body[-1]["op"] == "loop_next":
            limit = int(op["limit"])
            out.append({"op": "note", "indent": op["indent"], "line": op["line"],
                        "comment": comment(f"{op['comment']}: the call's retry policy, "
                                           f"at most {limit} attempts")})
            for inner in body[:-1]:
                moved = dict(inner, indent=inner["indent"] - 1)
                if inner is calls[0]:
                    moved["attempts"] = limit
                out.append(moved)
            dropped.add(body[-1]["hook"])
            i = end
            continue
        out.append(op)
        i += 1
    return out, dropped


def _block_end(ops: list[dict], start: int) -> int:
    """The index after the ops nested under ops[start]."""
    end = start + 1
    while end < len(ops) and ops[end]["indent"] > ops[start]["indent"]:
        end += 1
    return end


def catches_failures(ops: list[dict]) -> bool:
    return any(op["op"] == "except" for op in ops)


_WAIT = re.compile(
    r"\b(?:wait|sleep|pause|delay)s?\b\D{0,20}?(\d{1,6}(?:\.\d{1,3})?)\s*"
    r"(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\b",
    re.IGNORECASE)


def wait_seconds(text: str) -> float:
    """How long a step that reads as a wait waits, in seconds (0: it does not)."""
    found = _WAIT.search(text)
    if found is None:
        return 0
    unit = found.group(2).lower()
    if unit in ("ms", "millisecond", "milliseconds"):
        scale = 0.001
    else:
        scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]]
    return float(found.group(1)) * scale


def timers(ops: list[dict], texts: list[str]) -> None:
    """Give each step op that reads as a wait its `wait` (seconds), in place."""
    for op in ops:
        if op["op"] == "step":
            seconds = wait_seconds(texts[op["message"]])
            if seconds:
                op["wait"] = int(seconds) if seconds == int(seconds) else seconds
