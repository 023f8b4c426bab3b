"""Sagas the way Temporal code writes them (both orchestration targets): each step that
a compensation undoes registers that compensation as the workflow takes it, and a
compensating section undoes the registered steps, the last one first.

Which compensation undoes which step is the saga rule of the contract checker
(`contract/checker.undone_steps`, run on the orchestration contract): the code and the
contract test agree by construction. Each compensating call ("Refund payment", "Release
stock") undoes the latest earlier call to the same service about the same thing (their
texts share a word besides the compensating verb; a bare "ROLLBACK" undoes no one step)
drawn directly in a section that holds it or, for an option of a `critical`, directly in
that critical's main section; a run of compensating calls pairs when every call undoes a
step of its own and the diagram draws them in the reverse order of those steps (the
saga's convention: "compensate in reverse order"). Such a run becomes

    request = self.request_inventory_reserve_stock(ctx)
    self.add_compensation(Message.RESERVE_STOCK)     # at the step, before its call
    ...
    for step in self.compensations():                # in the section: last registered first
        if step == Message.CHARGE_PAYMENT:
            <Refund payment>
        elif step == Message.RESERVE_STOCK:
            <Release stock>

so a section undoes only the steps the run took, in the reverse order it took them. A
step registers its compensation once its request is built, right *before* it is called,
as Temporal advises: a call that failed or timed out may still have done its work, so its
compensation runs too (compensations must be idempotent); a step whose request could not
even be built was not taken. The contract checks exactly this (docs/semantics.md,
"Sagas"). Any other run of compensating calls stays as drawn.

A path run (paths.py) takes an option by failing the first step of the main section; a
main section whose steps register compensations fails at the last of those steps
instead (`fail_hook` on the `try`), after the others registered: the option then undoes
them, the last one first.

Ops are the flat lists of codegen/ops.py.
"""

from __future__ import annotations

from mermaidgen.analysis import Analysis
from mermaidgen.codegen.literals import comment

_STEPS = frozenset({"call", "send"})
_COMPENSATING = frozenset({"call", "send"})


def undone_steps(analysis: Analysis) -> dict[int, int]:
    """Per compensating message (by line), the line of the step it undoes: the checker's
    rule on the orchestration contract."""
    from mermaidgen.contract import contract_of
    from mermaidgen.contract.checker import undone_steps as rule
    from mermaidgen.projection.contract import projected

    return rule(contract_of(projected(analysis, "orchestration")))


def _chains(ops: list[dict]) -> list[tuple[int, ...]]:
    """For each op, the indexes of the ops that open the blocks holding it, outermost
    first (the nearest earlier op one level less indented, at each level)."""
    last_at: list[int] = []
    out = []
    for i, op in enumerate(ops):
        depth = op["indent"]
        out.append(tuple(last_at[:depth]))
        del last_at[depth:]
        last_at.extend([-1] * (depth - len(last_at)))
        last_at.append(i)
    return out


def _runs(ops: list[dict], chains: list[tuple[int, ...]]) -> list[list[int]]:
    """Runs of compensating ops side by side in one block (notes between them allowed)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, op in enumerate(ops):
        if op["op"] in _COMPENSATING and op.get("compensation"):
            if current and (op["indent"] != ops[current[0]]["indent"]
                            or chains[i] != chains[current[0]]):
                runs.append(current)
                current = []
            current.append(i)
        elif op["op"] != "note" or (current and op["indent"] < ops[current[0]]["indent"]):
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _main_section(ops: list[dict], chain: tuple[int, ...]) -> tuple[int, tuple] | None:
    """When `chain` leads through a critical's option: its `try` op and the chain of the
    ops directly in its main section (inside the deadline's `async with`, if any)."""
    for level, opener in enumerate(chain):
        if ops[opener]["op"] == "except":
            indent = ops[opener]["indent"]
            for t in range(opener - 1, -1, -1):
                if ops[t]["indent"] == indent and ops[t]["op"] == "try":
                    return t, chain[:level] + (t,)
            return None
    return None


def _undoes(ops: list[dict], chains: list[tuple[int, ...]], c: int, pairs: dict[int, int]
            ) -> tuple[int, int | None] | None:
    """The step compensating op `c` undoes (`pairs`: `undone_steps`): (its index, the
    `try` whose main section holds it, or None for a step before the block)."""
    line = pairs.get(ops[c]["line"])
    if line is None:
        return None
    chain = chains[c]
    main = _main_section(ops, chain)
    for j in range(c - 1, -1, -1):
        op = ops[j]
        if op["op"] not in _STEPS or op["line"] != line:
            continue
        if chain[:len(chains[j])] == chains[j]:
            return j, None
        if main is not None:
            t, prefix = main
            inner = chains[j]
            if inner == prefix or (len(inner) == len(prefix) + 1 and inner[:-1] == prefix
                                   and ops[inner[-1]]["op"] == "deadline"):
                return j, t
    return None


def register_compensations(ops: list[dict], pairs: dict[int, int]) -> list[dict]:
    """`ops` with the compensating runs that undo steps of their own (`pairs`:
    `undone_steps`) rewritten as above."""
    chains = _chains(ops)
    undone_by: dict[int, list[int]] = {}  # step -> the lines of the calls that undo it
    runs: dict[int, tuple[list[int], list[int]]] = {}  # first op -> (run, its steps)
    fail_at: dict[int, int] = {}  # try op -> the last step of its main section undone
    for run in _runs(ops, chains):
        found = [_undoes(ops, chains, c, pairs) for c in run]
        paired = [f for f in found if f is not None]
        steps = [step for step, _ in paired]
        if len(paired) < len(run) or len(set(steps)) < len(steps) or \
                steps != sorted(steps, reverse=True):
            continue  # not one step each, in reverse order: stays as drawn
        runs[run[0]] = (run, steps)
        for c, (step, main) in zip(run, paired, strict=True):
            undone_by.setdefault(step, []).append(ops[c]["line"])
            if main is not None:
                fail_at[main] = max(fail_at.get(main, step), step)
    replaced = {k for run, _ in runs.values() for k in range(run[0], run[-1] + 1)}
    out: list[dict] = []
    for i, op in enumerate(ops):
        if i in undone_by:  # the step registers its compensation before its call
            lines = ", ".join(str(line) for line in undone_by[i])
            op = dict(op, undone_by=comment(f"undone by line {lines} if a later step fails"),
                      request_var=f"request_{op['line']}")
        if i in fail_at:  # a path run takes an option by failing its last undone step
            op = dict(op, fail_hook=ops[fail_at[i]]["hook"])
        if i in runs:
            out.extend(_compensate(ops, *runs[i], f"step_{list(runs).index(i) + 1}"))
        elif i not in replaced:
            out.append(op)
    return out


def _compensate(ops: list[dict], run: list[int], steps: list[int], var: str) -> list[dict]:
    """The ops of a compensating run: a loop over the registered steps, a case each."""
    depth = ops[run[0]]["indent"]
    out = [{"op": "compensate", "indent": depth, "var": var, "line": ops[run[0]]["line"],
            "comment": "undo the steps taken, the last one first"}]
    notes: list[dict] = []  # the notes before the next compensating call
    undo = dict(zip(run, steps, strict=True))
    for k in range(run[0], run[-1] + 1):
        if k not in undo:
            notes.append(dict(ops[k], indent=depth + 2))
            continue
        step = ops[undo[k]]
        out.append({"op": "undo_case", "indent": depth + 1, "var": var,
                    "first": k == run[0], "message": step["message"],
                    **({"message_name": step["message_name"]} if "message_name" in step
                       else {}),
                    "line": ops[k]["line"], "comment": comment(f"undoes line {step['line']}")})
        out += notes + [dict(ops[k], indent=depth + 2)]
        notes = []
    return out


# -- choreography: compensations sent only if their steps were (projection/sagas.py) ------

def sent_steps(op_lists: list[list[dict]]) -> list[int]:
    """The steps (message indexes) whose compensations a choreography service sends only
    if they were sent: what its `publish` records, in the order first checked."""
    return list(dict.fromkeys(op["message"] for ops in op_lists for op in ops
                              if op["op"] == "if_sent"))


def fail_at_sent_steps(ops: list[dict], steps: list[int], texts: dict[int, str]
                       ) -> list[dict]:
    """`ops` with, for each `try` (a critical with options) whose options check steps of
    `steps` (`if_sent`): a `forget_sent` op before it, so that a step sent in an earlier
    iteration of a loop around the critical does not count (the record is per run);
    and, where it publishes steps of `steps` directly in its main section, a path run
    takes the option by failing the last of them (`fail_hook`: its payload hook), after
    the others were sent, and codegen/paths.py adds a path failing at each earlier one
    (`undone_by`). `texts`: message -> its text."""
    out: list[dict] = []
    chains = _chains(ops)
    for i, op in enumerate(ops):
        if op["op"] != "try":
            out.append(op)
            continue
        # the next iteration's start of a loop that spans handlers (its `loop_again`)
        # repeats the main section, not every option: there a path fails the first step
        again = any(ops[k]["op"] == "loop_again" for k in chains[i])
        found, checked = [], []
        depth = op["indent"] + 1
        options = False  # past the main section, in the `except`
        for inner in ops[i + 1:]:
            if inner["indent"] < op["indent"] or (inner["indent"] == op["indent"] and
                                                  inner["op"] != "except"):
                break
            if inner["op"] == "except":
                options = True
            elif options and inner["op"] == "if_sent":
                checked.append(inner["message"])
            elif not options and inner["indent"] == depth and inner["op"] == "publish" \
                    and inner["message"] in steps:
                found.append(inner)
        if checked:
            out.append({"op": "forget_sent", "indent": op["indent"], "line": op["line"],
                        "steps": list(dict.fromkeys(checked))})
        out.append(op)
        if not found or again:
            continue
        op["fail_hook"] = found[-1]["hook"]
        for inner in found[:-1]:
            inner["undone_by"] = comment("its compensation is sent if a later step fails")
            inner["operation"] = texts[inner["message"]]
    return out
