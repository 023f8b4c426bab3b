"""The search: a run of the program over a trace (`_Run`), scenario by scenario,
each open loop, par or critical a frame of a linked stack (`_Ctx`).
"""

from __future__ import annotations

from typing import Any

from .program import (
    _AGAIN,
    _CHOOSE,
    _CRIT,
    _CRIT_MAIN_END,
    _CRIT_POP,
    _DEAD,
    _EMIT,
    _FAIL,
    _JMP,
    _LIMIT,
    _LOOP,
    _LOOP_EXIT,
    _MSG,
    _OK,
    _OPTION,
    _PAR,
    _PAR_EXIT,
    _PAR_NEXT,
    _STOP,
    _TAKEN,
    _Alt,
    _Program,
)

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
