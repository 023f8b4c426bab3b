"""Deep bodies split into nested functions, so that CPython can compile them.

CPython compiles at most 20 statically nested blocks in one function (`for`, `while`,
`try`, `with`; an `except ... as name:` body counts twice): 21 nested `loop`s in a diagram
would make a module that fails with "too many statically nested blocks". Blocks of a
nested function count from zero again, so a `loop` or `critical` that would nest too deep
becomes the body of a closure, defined and awaited where the block stood:

    async def _block_12() -> bool:  # (comment)
        for iteration_7 in range(...):
            ...
        return False

    if await _block_12():
        break

A closure sees `self` and `ctx` as before. Exits inside it that leave the block (a
`break` fragment ending an enclosing loop, or ending the handler) return True instead,
and the caller takes the exit. `if`s cost nothing, `par` branches are functions already.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_BLOCKS = 15
"""Nested blocks one function of generated code may hold: CPython's 20, less room for
blocks a (custom) template wraps around the ops."""

BLOCK_COST = {"loop": 1, "try": 2, "deadline": 1}
"""What a construct adds to its function's count at its deepest: a loop its `for`; a
`critical` its `try`, then `except ... as error:` (two), and the `async with` of its
deadline (one)."""

SPLIT_HELPER_INDENT = 1
"""Indentation a split adds: the body of the closure."""


@dataclass(slots=True)
class _Scope:
    end: int
    """Index of the first op after the scope."""
    blocks: int
    """Nested blocks in the current function, inside this scope."""
    shift: int
    """Indentation added to the ops of this scope by enclosing closures."""
    kind: str
    """loop, try, except, function (a par branch) or closure."""
    closure: _Closure | None = None


@dataclass(slots=True)
class _Closure:
    definition: dict
    indent: int
    exits: set[str] = field(default_factory=set)


def _ends(ops: list[dict]) -> list[int]:
    """For each op, the index after the statement it opens (its body, and for a `try`
    the `except` part that follows at the same indentation)."""
    ends = [0] * len(ops)
    open_ops: list[int] = []
    for i, op in enumerate(ops):
        while open_ops and ops[open_ops[-1]]["indent"] >= op["indent"]:
            ends[open_ops.pop()] = i
        open_ops.append(i)
    for i in open_ops:
        ends[i] = len(ops)
    for i in reversed(range(len(ops))):  # a try's `except` is part of the statement
        if ops[i]["op"] == "try" and ends[i] < len(ops) and ops[ends[i]]["op"] == "except":
            ends[i] = ends[ends[i]]
    return ends


def split_deep_blocks(ops: list[dict], limit: int = MAX_BLOCKS) -> list[dict]:
    """`ops` with every loop or try that would nest more than `limit` blocks deep in one
    function moved into a closure of its own (see the module's docstring)."""
    if sum(op["op"] in BLOCK_COST for op in ops) <= limit // 2:
        return ops  # too few blocks to ever reach the limit: the common case, kept cheap
    ends = _ends(ops)
    out: list[dict] = []
    scopes: list[_Scope] = []
    names: set[str] = set()

    def close_scopes(at: int) -> None:
        while scopes and scopes[-1].end <= at:
            scope = scopes.pop()
            if scope.closure is not None:
                closure = scope.closure
                exits = sorted(closure.exits)
                closure.definition["exits"] = bool(exits)
                if exits:
                    out.append({"op": "exit", "indent": closure.indent + SPLIT_HELPER_INDENT,
                                "how": "return False"})
                # every escaping exit of one block leaves the same way (its exit_with)
                out.append({"op": "run_nested", "indent": closure.indent,
                            "name": closure.definition["name"],
                            "exit": exits[0] if exits else None})

    for i, op in enumerate(ops):
        close_scopes(i)
        top = scopes[-1] if scopes else None
        blocks = top.blocks if top else 0
        shift = top.shift if top else 0
        kind = op["op"]
        if kind in BLOCK_COST and blocks + BLOCK_COST[kind] > limit:
            name = f"_block_{op.get('line', i)}"
            while name in names:
                name += "_"
            names.add(name)
            definition = {"op": "nested", "indent": op["indent"] + shift, "name": name,
                          "line": op.get("line"), "comment": op.get("comment", ""),
                          "exits": False}
            out.append(definition)
            closure = _Closure(definition, op["indent"] + shift)
            scopes.append(_Scope(ends[i], 0, shift + SPLIT_HELPER_INDENT, "closure",
                                 closure))
            blocks, shift = 0, shift + SPLIT_HELPER_INDENT
        if kind == "exit":
            op = dict(op, how=_exit(op["how"], scopes))
        out.append(dict(op, indent=op["indent"] + shift))
        if kind == "loop":
            scopes.append(_Scope(ends[i], blocks + 1, shift, "loop"))
        elif kind == "try":
            # the try body only: its `except` opens a scope of its own
            body_end = i + 1
            while body_end < len(ops) and ops[body_end]["indent"] > op["indent"]:
                body_end += 1
            scopes.append(_Scope(body_end, blocks + 1, shift, "try"))
        elif kind == "except":
            scopes.append(_Scope(ends[i], blocks + 2, shift, "except"))
        elif kind == "deadline":  # `async with` the deadline of a critical's main section
            scopes.append(_Scope(ends[i], blocks + 1, shift, "with"))
        elif kind == "par_branch":
            scopes.append(_Scope(ends[i], 0, shift, "function"))
    close_scopes(len(ops))
    return out


def _exit(how: str, scopes: list[_Scope]) -> str:
    """An exit as written inside the innermost closure: what leaves the closure returns
    True (and its caller exits), what stays inside it is unchanged."""
    for scope in reversed(scopes):
        if how == "break" and scope.kind == "loop" or scope.kind == "function":
            return how
        if scope.kind == "closure":
            assert scope.closure is not None
            scope.closure.exits.add(how)
            return "return True"
    return how
