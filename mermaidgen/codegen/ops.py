"""Action trees flattened into lines of pseudo-code for templates.

A handler or workflow body is a tree (blocks inside blocks). Templates must not recurse
(deep diagrams would hit Jinja's limits) and must not decide anything, so the tree is
turned here into a flat list of `ops`, each with its indentation depth: `publish`, `call`,
`lose`, `if`/`elif`/`else_unknown`, `if_hook` ... `else`, `loop` ... `loop_next`,
`par_branch` ... `par_join`, `try` ... `except`, `exit`, `pass`, and `nested` ...
`run_nested` around a block too deep for one Python function (codegen/nested.py). A
template prints one line per op. The user-facing decisions the ops need (which branch,
repeat or not, payloads) are collected as `hooks`: the methods a user may override.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from mermaidgen.analysis.naming import NameTable, snake
from mermaidgen.codegen.literals import comment, string
from mermaidgen.codegen.nested import split_deep_blocks
from mermaidgen.projection.loops import option_seconds
from mermaidgen.projection.views import (
    Action,
    Arrive,
    Await,
    Branch,
    Call,
    Comment,
    Fragment,
    InTime,
    LocalStep,
    LoopStart,
    Lost,
    Publish,
    Received,
    Reply,
    Send,
)

UNBOUNDED = "self.MAX_ITERATIONS"
"""The bound of a loop whose label gives none: a class attribute of the generated bases
(100 by default) that the user's class may set."""
_BOUND = re.compile(
    r"\b(?:up\s+to|at\s+most|max(?:imum)?|no\s+more\s+than)\s*:?\s*(\d{1,6})\b"
    r"|\b(\d{1,6})\s*(?:times|x)\b", re.IGNORECASE)


def loop_bound(label: str) -> str:
    """How many iterations a loop may run, as code: the number its label gives ("up to 3
    times", "3 times", "max 3", "at most 3"), else `UNBOUNDED`."""
    found = _BOUND.search(label)
    if found is None:
        return UNBOUNDED
    return str(max(1, int(found.group(1) or found.group(2))))


@dataclass(slots=True)
class Hook:
    name: str
    kind: str
    """payload, choose, should, repeat, should_break, recover, step, reply, signal,
    seconds."""
    line: int
    note: str
    """What the hook decides, as a comment (diagram text sanitised)."""
    branches: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()
    seconds: str = ""
    """kind `seconds`: the default, as a Python literal."""


@dataclass(slots=True)
class Body:
    ops: list[dict] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)


def _shapes(ops: list[dict], start: int, end: int) -> Iterator[tuple]:
    """What the body ops[start:end] does, op by op; notes and lines aside."""
    for k in range(start, end):
        o = ops[k]
        if o["op"] != "note":
            yield tuple(sorted((key, str(v)) for key, v in o.items()
                               if key not in ("line", "comment")))


def _same_bodies(ops: list[dict], a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Do the bodies ops[a[0]:a[1]] and ops[b[0]:b[1]] do the same? Compared op by op,
    stopping at the first difference: bodies that hold deep blocks differ early, and
    describing each whole cost time growing with the depth squared."""
    missing = object()
    return all(x == y for x, y in itertools.zip_longest(_shapes(ops, *a), _shapes(ops, *b),
                                                        fillvalue=missing))


def _branch_end(ops: list[dict], start: int) -> int:
    """The index after the body of the `if`/`elif` at ops[start]."""
    end = start + 1
    while end < len(ops) and ops[end]["indent"] > ops[start]["indent"]:
        end += 1
    return end


def merge_same_branches(ops: list[dict]) -> list[dict]:
    """Neighbouring branches of one choice that do the same (often: nothing, for this
    participant) become one `if choice in (...)`: linters flag identical branches."""
    out: list[dict] = []
    skip: dict[int, int] = {}  # end of a kept body -> end of the branches folded into it
    i = 0
    while i < len(ops):
        if i in skip:
            i = skip.pop(i)
            continue
        op = ops[i]
        if op["op"] in ("if", "elif"):
            body_end = end = _branch_end(ops, i)
            values = [op["value"]]
            labels = [op["comment"]]
            while end < len(ops) and ops[end]["op"] == "elif" and \
                    ops[end]["var"] == op["var"] and ops[end]["indent"] == op["indent"]:
                next_end = _branch_end(ops, end)
                if not _same_bodies(ops, (i + 1, body_end), (end + 1, next_end)):
                    break
                values.append(ops[end]["value"])
                labels.append(ops[end]["comment"])
                end = next_end
            if len(values) > 1:
                op = dict(op, choices=values, comment=comment(" / ".join(labels)))
                skip[body_end] = end
        out.append(op)
        i += 1
    return out


def mark_nested_ifs(ops: list[dict]) -> list[dict]:
    """An `opt` or `break` whose whole body is another one is an `if` holding a lone `if`:
    linters ask to merge the two (SIM102), but each block keeps its own `if` and hook, so
    the outer one says that it is meant (`noqa`). Either `if` having an `else` (a skipped
    `opt`'s path) makes them unmergeable."""
    # open if_hooks: [index, statements seen in the body, the first one's kind]
    open_ifs: list[list] = []

    def close(indent: int) -> None:
        while open_ifs and ops[open_ifs[-1][0]]["indent"] >= indent:
            at, count, first = open_ifs.pop()
            if count == 1 and first in ("if_hook", "if_sent"):
                ops[at]["noqa"] = "SIM102"

    for i, op in enumerate(ops):
        if op["op"] == "else":
            close(op["indent"] + 1)
            if open_ifs and ops[open_ifs[-1][0]]["indent"] == op["indent"]:
                open_ifs[-1][1] = 2  # an `if` with an `else` is no lone `if` to merge
        close(op["indent"])
        if open_ifs and op["op"] != "note" and \
                ops[open_ifs[-1][0]]["indent"] == op["indent"] - 1:
            open_ifs[-1][1] += 1
            open_ifs[-1][2] = open_ifs[-1][2] or op["op"]
        if op["op"] == "if_hook":
            open_ifs.append([i, 0, None])
    close(-1)
    return ops


# the exit of a `break` that ends only the section of an `alt`, `opt` or `critical`
# holding it (Flattener.sections_break)
_SECTION = ""


def _exit(how: str, indent: int) -> list[dict]:
    """The op that leaves the body a taken `break` ends (none when it ends a section:
    the rest of the section is in the break's `else`)."""
    return [] if how == _SECTION else [{"op": "exit", "indent": indent, "how": how}]


class Flattener:
    """Flattens the bodies of one class; hook names are unique within the class."""

    def __init__(self, describe, hooks: NameTable | None = None, deadlines: bool = False,
                 reorders_par: bool = False, sections_break: bool = False):
        self.describe = describe  # (message index) -> "A->>B: text" for comments
        self.sections_break = sections_break
        """A taken `break` drawn in a section of an `alt`, `opt` or `critical` ends that
        section only (the rest of it runs when the break is not taken), not the whole
        body (orchestration: the workflow and its operations)."""
        self.deadlines = deadlines
        """A `critical` whose option gives a duration runs its main section under a
        deadline (a workflow: the main section is one stretch of code that waits)."""
        self.reorders_par = reorders_par
        """The runtime starts a `par`'s sections in the order an `order_*` hook gives
        (analysis/paths.py, `Capabilities`)."""
        self.names = hooks or NameTable()
        self.by_key: dict[object, Hook] = {}
        self.all_hooks: list[Hook] = []
        self.counter = 0
        self.results: dict[int, tuple[str, tuple[int, ...]]] = {}
        """Call message -> (where its result is kept, as a literal; its replies)."""

    def hook(self, key: object, base: str, kind: str, line: int, note: str,
             **extra) -> Hook:
        if key not in self.by_key:
            h = Hook(self.names.name(key, base), kind, line, comment(note), **extra)
            self.by_key[key] = h
            self.all_hooks.append(h)
        return self.by_key[key]

    def order_hook(self, line: int, label: str, sections: list[str]) -> Hook:
        """The `order` hook of the `par` at `line`: in which order its sections (their
        names, unique within the block) start; one per class, whatever starts them."""
        table = NameTable()
        names = tuple(table.name(k, name) for k, name in enumerate(sections))
        return self.hook(("order", line, label),
                         "order_" + (snake(label, "par") if label else "par"), "order", line,
                         comment(f"par {label}".strip()) + ": the order its sections start in",
                         branches=names)

    def flatten(self, actions: tuple[Action, ...], depth: int = 0,
                may_be_empty: bool = False) -> list[dict]:
        """The ops of a body. `may_be_empty`: the template writes other statements in
        this body, so no `pass` is needed when the diagram gives it nothing."""
        ops: list[dict] = []
        # frames: ("emit", ops) or ("body", actions, position, depth, exit, closing ops);
        # an explicit stack, so that nesting depth is unlimited
        stack: list[tuple] = [("body", actions, 0, depth, "return", [])]
        while stack:
            frame = stack.pop()
            if frame[0] == "emit":
                ops.extend(frame[1])
                continue
            _, items, i, d, exit_with, closers = frame
            # notes become comments, which are not statements: a body of notes needs `pass`
            if i == 0 and not closers and all(self._quiet(x) for x in items):
                ops.append({"op": "pass", "indent": d})
            if i >= len(items):
                ops.extend(closers)
                continue
            item = items[i]
            if exit_with == _SECTION and isinstance(item, Fragment) and \
                    item.kind == "break" and len(item.branches) == 1:
                # the break ends the section: what follows it in the section runs only
                # when it is not taken, and the code after the block in both cases
                rest = items[i + 1:]
                item = replace(item, branches=(item.branches[0], Branch(
                    "not taken", "not_taken", item.line, tuple(rest))))
                # the section's closing ops only: an empty body would add a `pass`
                # after the break's `if`, where a statement is not needed (ruff PIE790)
                if closers:
                    stack.append(("emit", closers))
                self._action(item, d, exit_with, ops, stack)
                continue
            stack.append(("body", items, i + 1, d, exit_with, closers))
            self._action(item, d, exit_with, ops, stack)
        if may_be_empty and ops and ops[0]["op"] == "pass" and ops[0]["indent"] == depth:
            del ops[0]  # the template writes statements here already
        return split_deep_blocks(mark_nested_ifs(merge_same_branches(ops)))

    def _quiet(self, a: Action) -> bool:
        """Does `a` become comments only: a note, a reply that came, an alt its replies
        decide whose branches hold nothing else, or a `critical` without options (plain
        code) that holds only such things?"""
        todo = [a]  # a stack, not recursion: blocks may nest thousands deep
        while todo:
            x = todo.pop()
            if isinstance(x, (Comment, Received)):
                continue
            if isinstance(x, Fragment) and x.kind == "alt" and \
                    x.decided_by in self.results and \
                    all(isinstance(y, (Comment, Received))
                        for b in x.branches for y in b.actions):
                continue
            if isinstance(x, Fragment) and x.kind == "critical" and len(x.branches) == 1:
                todo.extend(x.branches[0].actions)
                continue
            return False
        return True

    def _notes(self, f: Fragment, d: int) -> list[dict]:
        """The comments a quiet block (`_quiet`) becomes, blocks inside it included, in
        the order drawn."""
        out = []
        todo = [x for b in reversed(f.branches) for x in reversed(b.actions)]
        while todo:
            x = todo.pop()
            if isinstance(x, Fragment):
                out.append({"op": "note", "indent": d, "line": x.line,
                            "comment": comment(f"{x.kind} {x.label}".strip())})
                todo.extend(y for b in reversed(x.branches) for y in reversed(b.actions))
            else:
                out.append({"op": "note", "indent": d, "line": x.line,
                            "comment": comment(x.text) if isinstance(x, Comment)
                            else self.describe(x.message)})
        return out

    # every action appends its ops, and pushes the bodies of blocks onto the stack
    def _action(self, a: Action, d: int, exit_with: str, ops: list[dict], stack) -> None:
        if isinstance(a, Publish):
            ops.append({"op": "publish", "indent": d, "message": a.message, "event": a.event,
                        "to": a.to, "line": a.line, "comment": self.describe(a.message)})
        elif isinstance(a, LocalStep):
            h = self.hook(("step", a.message), "step_" + snake(a.text, "step"), "step", a.line,
                          self.describe(a.message))
            ops.append({"op": "step", "indent": d, "message": a.message, "hook": h.name,
                        "line": a.line, "comment": self.describe(a.message)})
        elif isinstance(a, Comment):
            ops.append({"op": "note", "indent": d, "line": a.line,
                        "comment": comment(a.text)})
        elif isinstance(a, Received):  # the branch taken says which reply came
            ops.append({"op": "note", "indent": d, "line": a.line,
                        "comment": self.describe(a.message)})
        elif isinstance(a, (Call, Send)):
            # each call's result is kept under its own step name: concurrent calls (par)
            # must not overwrite each other's
            result = string(f"{a.service}.{a.operation}")
            if isinstance(a, Call):
                self.results[a.message] = (result, a.replies)
            ops.append({"op": "call" if isinstance(a, Call) else "send", "indent": d,
                        "result_lit": result,
                        "message": a.message, "service": a.service,
                        "operation": a.operation, "line": a.line,
                        "replies": list(getattr(a, "replies", ())),
                        "relayed_from": a.relayed_from,
                        "compensation": getattr(a, "compensation", False),
                        "comment": self.describe(a.message)})
        elif isinstance(a, Lost):  # sent, recorded, and received by nobody
            ops.append({"op": "lose", "indent": d, "message": a.message, "to": a.to,
                        "relayed_from": a.relayed_from, "line": a.line,
                        "published": a.published,
                        "comment": self.describe(a.message)})
        elif isinstance(a, Await):
            ops.append({"op": "await", "indent": d, "message": a.message, "service": a.service,
                        "line": a.line, "comment": self.describe(a.message)})
        elif isinstance(a, Reply):
            ops.append({"op": "reply", "indent": d, "message": a.message, "to": a.to,
                        "line": a.line, "comment": self.describe(a.message)})
        elif isinstance(a, Arrive):
            ops.append({"op": "arrive", "indent": d, "join": a.join, "line": a.line,
                        "comment": _arrival(a)})
        elif isinstance(a, InTime):
            ops.append({"op": "in_time", "indent": d, "key": a.key, "line": a.line})
        elif isinstance(a, LoopStart):
            ops.append({"op": "loop_start", "indent": d, "key": a.key, "line": a.line})
        elif isinstance(a, Fragment):
            self._fragment(a, d, exit_with, ops, stack)

    def _begin_critical(self, f: Fragment, options: tuple, d: int) -> dict:
        """Open a critical whose main section spans handlers; with a timed option, start
        its timer (how long: a `seconds_` hook whose default the option's label gives)."""
        op = {"op": "begin_critical", "indent": d, "key": f.spans, "line": f.line}
        timed = next((b for b in options if option_seconds(b.label) is not None), None)
        if f.timer is not None and timed is not None:
            h = self.hook(("seconds", f.line, timed.label),
                          "seconds_" + snake(timed.label, "timeout"), "seconds", timed.line,
                          f"option {timed.label}: how long the main section may take",
                          seconds=repr(option_seconds(timed.label)))
            op.update(hook=h.name, timer=f.timer)
        return op

    def _fragment(self, f: Fragment, d: int, exit_with: str, ops: list[dict], stack) -> None:
        # the exit a `break` in a section of this block takes
        inner = _SECTION if self.sections_break and \
            f.kind in ("alt", "opt", "critical") else exit_with
        self.counter += 1
        label = comment(f"{f.kind} {f.label}".strip())
        base = snake(f.label, f.kind) if f.label else f.kind
        head = {"indent": d, "line": f.line, "comment": label}
        frames: list[tuple] = []

        def emit(*items: dict) -> None:
            frames.append(("emit", list(items)))

        def body(actions, depth: int, exit_how: str, closers: list[dict] | None = None) -> None:
            frames.append(("body", tuple(actions), 0, depth, exit_how, closers or []))

        if self._quiet(f):  # nothing to do here (whichever reply came): comments only
            ops.append({"op": "note", **head})
            ops.extend(self._notes(f, d))
        elif f.kind == "alt" and f.decided_by in self.results:
            # the reply the call got picks the branch: no decision of the code's own
            table = NameTable()
            names = tuple(table.name(k, b.name) for k, b in enumerate(f.branches))
            result, replies = self.results[f.decided_by]  # type: ignore[index]
            by_reply = {b.reply: names[k] for k, b in enumerate(f.branches)}
            var = f"branch_{self.counter}"
            ops.append({"op": "choose_reply", **head, "var": var, "result_lit": result,
                        "branches": [by_reply[r] for r in replies]})
            for k, b in enumerate(f.branches):
                emit({"op": "if" if k == 0 else "elif", "indent": d, "var": var,
                      "value": names[k], "line": b.line, "comment": comment(b.label)})
                body(b.actions, d + 1, inner)
        elif f.kind == "alt":
            table = NameTable()
            names = tuple(table.name(k, b.name) for k, b in enumerate(f.branches))
            h = self.hook(("choose", f.line, f.label), "choose_" + base, "choose", f.line,
                          label, branches=names)
            var = f"branch_{self.counter}"
            ops.append({"op": "choose", **head, "var": var, "hook": h.name})
            for k, b in enumerate(f.branches):
                emit({"op": "if" if k == 0 else "elif", "indent": d, "var": var,
                      "value": names[k], "line": b.line, "comment": comment(b.label)})
                body(b.actions, d + 1, inner)
            emit({"op": "else_unknown", "indent": d, "var": var, "hook": h.name,
                  "line": f.line})
        elif f.kind == "break" and f.decided_by in self.results and \
                f.branches[0].reply in self.results[f.decided_by][1]:
            # the reply the call got says whether the break was taken: no hook
            result, replies = self.results[f.decided_by]  # type: ignore[index]
            ops.append({"op": "if_reply", **head, "result_lit": result,
                        "reply": list(replies).index(f.branches[0].reply)})
            body(f.branches[0].actions, d + 1, exit_with, _exit(exit_with, d + 1))
            if exit_with == _SECTION and len(f.branches) > 1 and f.branches[1].actions:
                emit({"op": "else", "indent": d, "line": f.branches[1].line,
                      "comment": comment(f.branches[1].label)})
                body(f.branches[1].actions, d + 1, exit_with)
        elif f.kind == "opt" and f.undoes is not None:
            # a saga's compensation, sent only if its step was (projection/sagas.py); what
            # follows goes on here when it is not, in the handler of its reply when it is
            ops.append({"op": "if_sent", "indent": d, "line": f.line, "message": f.undoes,
                        "comment": comment(f"undo {self.describe(f.undoes)} if it was sent")})
            body(f.branches[0].actions, d + 1, inner)
            if len(f.branches) > 1:
                emit({"op": "else", "indent": d, "line": f.line,
                      "comment": "not sent: nothing to undo"})
                body(f.branches[1].actions, d + 1, inner)
        elif f.kind in ("opt", "break"):
            kind = "should" if f.kind == "opt" else "should_break"
            h = self.hook((kind, f.line, f.label), f"{kind}_{base}", kind, f.line, label)
            ops.append({"op": "if_hook", **head, "hook": h.name})
            closers = _exit(exit_with, d + 1) if f.kind == "break" else []
            body(f.branches[0].actions, d + 1, inner, closers)
            if f.kind == "break" and len(f.branches) > 1 and f.branches[1].actions:
                # a service the break's event reaches goes on from its entry point when
                # the break is not taken (projection/choreography.py, `_not_taken`)
                emit({"op": "else", "indent": d, "line": f.branches[1].line,
                      "comment": comment(f.branches[1].label)})
                body(f.branches[1].actions, d + 1, inner)
            if f.kind == "opt" and len(f.branches) > 1:
                # what follows the opt, on the path where it is skipped: in choreography
                # it is the deciding handler's to send (taken, the section's last
                # handler sends it), so without this `else` a skipped opt stalls the flow
                skipped = f.branches[1]
                emit({"op": "else", "indent": d, "line": skipped.line,
                      "comment": comment(skipped.label)})
                body(skipped.actions, d + 1, inner)
        elif f.kind == "loop":
            h = self.hook(("repeat", f.line, f.label), "repeat_" + base, "repeat", f.line,
                          label)
            var = f"iteration_{self.counter}"
            ops.append({"op": "loop", **head, "var": var, "limit": loop_bound(f.label)})
            body(f.branches[0].actions, d + 1, "break",
                 [{"op": "loop_next", "indent": d + 1, "var": var, "hook": h.name}])
        elif f.kind == "loop_back":
            # an iteration of a loop that spans handlers ends here: send the next one, or
            # go on after the loop (same hook as a loop inside one handler)
            loop_label = comment(f"loop {f.label}".strip())
            base = snake(f.label, "loop") if f.label else "loop"
            h = self.hook(("repeat", f.line, f.label), "repeat_" + base, "repeat", f.line,
                          loop_label)
            again, done = f.branches
            ops.append({"op": "loop_again", **head, "comment": loop_label, "key": f.name,
                        "hook": h.name, "limit": loop_bound(f.label)})
            body(again.actions, d + 1, inner)
            if done.actions:
                emit({"op": "else", "indent": d, "line": f.line,
                      "comment": "on after the loop"})
                body(done.actions, d + 1, inner)
        elif f.kind in ("par", "par_over"):
            names = [f"_branch_{self.counter}_{k + 1}" for k in range(len(f.branches))]
            ops.append({"op": "note", **head})
            for k, b in enumerate(f.branches):
                emit({"op": "par_branch", "indent": d, "name": names[k], "line": b.line,
                      "comment": comment(b.label)})
                body(b.actions, d + 1, "return")
            join = {"op": "par_join", "indent": d, "names": names, "line": f.line}
            if self.reorders_par and \
                    sum(not all(self._quiet(x) for x in b.actions) for b in f.branches) > 1:
                # two sections or more do something here: the order they start in is a
                # path's to decide (the `<label>-reversed` path reverses it)
                h = self.order_hook(f.line, f.label, [b.name for b in f.branches])
                join.update(hook=h.name, sections=list(h.branches))
            emit(join)
        elif f.kind == "critical" and len(f.branches) == 1:
            # no option drawn: nothing to recover to, so the block is plain code
            ops.append({"op": "note", **head})
            body(f.branches[0].actions, d, inner)
        elif f.kind == "critical":
            options = f.branches[1:]
            table = NameTable()
            names = tuple(table.name(k, b.name) for k, b in enumerate(options))
            h = self.hook(("recover", f.line, f.label), "recover_" + base, "recover", f.line,
                          label, branches=names)
            var = f"option_{self.counter}"
            if f.spans is not None:  # the main section goes on in other handlers
                ops.append(self._begin_critical(f, options, d))
            timed = next((k for k, b in enumerate(options)
                          if option_seconds(b.label) is not None), None)
            if f.spans is None and self.deadlines and timed is not None:
                # the main section runs under a deadline; when it passes, the timed
                # option runs (whatever the recover_ hook, which handles failures, says)
                seconds = self.hook(("seconds", f.line, options[timed].label),
                                    "seconds_" + snake(options[timed].label, "timeout"),
                                    "seconds", options[timed].line,
                                    f"option {options[timed].label}: how long the main "
                                    f"section may take",
                                    seconds=repr(option_seconds(options[timed].label)))
                deadline = f"deadline_{self.counter}"
                ops.append({"op": "try", **head, "deadline": deadline, "hook": seconds.name})
                ops.append({"op": "deadline", "indent": d + 1, "var": deadline,
                            "line": f.line})
                body(f.branches[0].actions, d + 2, inner)
                emit({"op": "except", "indent": d, "var": var, "hook": h.name,
                      "line": f.line, "deadline": deadline, "timed": names[timed]})
            else:
                ops.append({"op": "try", **head})
                body(f.branches[0].actions, d + 1, inner)
                emit({"op": "except", "indent": d, "var": var, "hook": h.name,
                      "line": f.line})
            if f.spans is not None:  # from now on, late news of the main section is dropped
                emit({"op": "critical_option", "indent": d + 1, "key": f.spans,
                      "line": f.line})
            for k, b in enumerate(options):
                emit({"op": "if" if k == 0 else "elif", "indent": d + 1, "var": var,
                      "value": names[k], "line": b.line, "comment": comment(b.label)})
                body(b.actions, d + 2, inner)
            emit({"op": "reraise", "indent": d + 1})
        stack.extend(reversed(frames))


def _arrival(a: Arrive) -> str:
    """What an `arrive` at a join says in the code."""
    if a.after_section:
        return f"go on after the {a.after_section}"
    return ("the end of one path of the par" if a.after_par
            else "one of the events joined here") + "; go on when all have arrived"
