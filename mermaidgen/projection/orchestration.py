"""The orchestration projection: one workflow calls the services step by step.

The orchestrator is the one the user names (`--orchestrator`), else a participant named
like an orchestrator, else the hub of the request/reply pairs, else a synthetic
`Orchestrator` that drives each message as a step. Then, in document order:

* a message the orchestrator sends is a workflow step: a `Call` that waits for the
  service (with its reply when the diagram draws one), or a `Send` for async arrows;
* a message a service sends while it handles a call (before its reply) belongs to that
  service's operation, not to the workflow; an operation in progress when the workflow
  relays a message (or sends one itself, awaits one from a service, or the caller of a
  call it handles sends one) ends there if it would go on to a send of the participant
  relayed for or to (the workflow relays the rest after it: docs/semantics.md);
* a message to the orchestrator that is not a reply is the workflow's trigger (the first
  one) or a message the workflow awaits;
* any other message is relayed: the orchestrator calls the receiver on the sender's
  behalf. That is how a choreography diagram becomes a workflow;
* a lost message (`-x` that neither answers nor destroys) is `Lost`: sent where its
  sender acts (the workflow, the operation the sender is handling, or the workflow on
  the sender's behalf) and received by nobody, as in the choreography;
* a publish into a broker participant is sent the same way (`Lost`, `published`), where
  it is drawn, and a delivery out of the broker is relayed where it is drawn, on behalf
  of the event's publisher: the deliveries do not imply the publish, so a publish whose
  deliveries lie in blocks a run skips (an `opt`, another `alt` section, a `critical`
  cut short) or after a `break` that ends the run is still sent, as the diagram draws it.
"""

from __future__ import annotations

from collections.abc import Iterable

from mermaidgen.analysis.events import Hops, actor, event_words
from mermaidgen.analysis.flow import Enter, Item, Leave, Occurrence, Other, SectionStart
from mermaidgen.analysis.naming import NameTable, pascal, snake
from mermaidgen.analysis.roles import Roles, without_replies
from mermaidgen.contract.keys import is_compensation, strip_fields
from mermaidgen.model import Block, Note
from mermaidgen.projection.breaks import OpenBreaks
from mermaidgen.projection.tree import TreeBuilder
from mermaidgen.projection.views import (
    Await,
    Call,
    Comment,
    LocalStep,
    Lost,
    Operation,
    Orchestration,
    Received,
    Reply,
    Send,
    ServiceOrchestration,
    Variant,
)

_ASYNC = frozenset({"-)", "--)"})
# a call made in one of their sections (an iteration of a loop) and answered after the
# block goes out unanswered, its reply a message of its own (_not_awaited)
_ENDS_CALLS = frozenset({"par", "par_over", "loop"})
# the key of `cuts` under which the calls of the workflow made in an operation that the
# runtime cannot answer at once are noted (no relay has it)
_UNANSWERED = -1
# a reply drawn in one of their sections, when the call is not in it, may be skipped
_SKIPPABLE = frozenset({"alt", "opt", "break", "critical"})


def _block_start(block_id: int) -> int:
    """The key of `cuts` under which the operations that end where the block `block_id`
    (a loop or a break) starts are noted (no occurrence has a negative index, and -1 is
    _UNANSWERED)."""
    return -2 - block_id

# The methods and attributes the generated Service and Workflow bases (and the temporal
# target's activities classes) have in every target: an operation named like one of them
# (a message `invoke`, `context` or `deadline`) gets another name, or it would replace the
# runtime's own. tests/test_template_safety.py reads the runtimes for names missing here.
RUNTIME_METHODS = ("call", "send", "step", "context", "invoke", "signal", "run", "receive",
                   "answer", "register", "drain", "execute", "deliver", "awaiting", "operate",
                   "perform", "take_step", "call_options", "dispatcher", "start", "publish",
                   "arrive", "trace", "data", "lose", "start_sections", "deadline",
                   "timed_out", "recover", "on_startup", "on_shutdown", "call_operation",
                   "send_operation", "business_key", "compensated", "methods",
                   "add_compensation", "compensations", "respond", "enter_critical")


class _Handling:
    """A call a service is handling: where its operation's actions go. A call with a
    reply ends at the reply; a message nobody answers ends at the service's next
    receipt."""

    __slots__ = ("call", "parent", "tree", "until_reply")

    def __init__(self, call: int, tree: TreeBuilder, until_reply: bool = True,
                 parent: _Handling | None = None):
        self.call = call
        self.tree = tree
        self.until_reply = until_reply
        self.parent = parent
        """What the caller was handling when it made the call (None: the workflow)."""


def project(items: list[Item], orchestrator: str, synthetic: bool, reason: str,
            roles: Roles, hops: Hops, brokers: frozenset[str],
            module_names: dict[str, str]) -> Orchestration:
    # the operations that end at a relay (relay -> the calls they handle), found by
    # walking again until no operation goes on past a relay it must follow
    cuts: dict[int, set[int]] = {}
    fixed = _Fixed(items, orchestrator, roles)
    while True:
        result, found = _project(items, orchestrator, synthetic, reason, roles, hops,
                                 brokers, module_names, cuts, fixed)
        if result is not None:
            return result
        for relay, calls in found.items():
            cuts.setdefault(relay, set()).update(calls)


def _project(items: list[Item], orchestrator: str, synthetic: bool, reason: str,
             roles: Roles, hops: Hops, brokers: frozenset[str],
             module_names: dict[str, str], cuts: dict[int, set[int]], fixed: _Fixed
             ) -> tuple[Orchestration | None, dict[int, set[int]]]:
    """The projection, or None with the operations found going on past a relay they must
    follow that `cuts` (relay -> calls the walk ends there) does not end yet."""
    blocks, occurrences = fixed.blocks, fixed.occurrences
    analysed = roles
    ended = {call for calls in cuts.values() for call in calls}
    roles = without_replies(roles, _not_awaited(occurrences, roles, blocks,
                                                 orchestrator, ended, items,
                                                 fixed.unawaitable))
    op_keys, compensations = fixed.op_keys, fixed.compensations
    workflow = TreeBuilder((), blocks)
    nowhere = TreeBuilder((), blocks)  # the operations' trees once the walk is doomed
    workflow_names = NameTable()
    handling: dict[str, list[_Handling]] = {}
    # operations per service: text key -> (name, request, reply, calls, lines, variants)
    operations: dict[str, dict[str, dict]] = {}
    op_names: dict[str, NameTable] = {}
    variants: dict[int, TreeBuilder] = {}
    trigger, prelude, postlude = _entry(occurrences, orchestrator, roles)
    outside = set(prelude) | set(postlude) | ({trigger} if trigger is not None else set())
    frames: list[tuple[str, dict, list[dict]]] = []
    # calls whose reply picks the section of an alt: call -> (block id, its replies)
    decisions = _reply_decisions(items, roles)
    opening = {r: call for call, (_, replies) in decisions.items() for r in replies}
    call_trees: dict[int, TreeBuilder] = {}
    # async messages whose operation the sender waits for (a message to the workflow
    # follows from them), found as the walk goes; and where each async message was sent
    waits: set[int] = set()
    sends: dict[int, tuple[tuple[list, int], tuple]] = {}
    # the relays made while a service handles a call (its operation runs inside the
    # workflow's step before the relay): handling -> who they speak for or to -> relays
    relays_during: dict[_Handling, dict[str, list[Occurrence]]] = {}
    found: dict[int, set[int]] = {}
    # who each operation in progress (and the ones it called) has sent to
    reached: dict[_Handling, set[str]] = {}
    # what the workflow did itself (relayed, sent, awaited, took a step) while each
    # operation was in progress
    acted_during: dict[_Handling, list[Occurrence]] = {}
    # calls of the workflow made in a service's operation: the runtime answers them when
    # the call returns (dispatcher), so the workflow does not answer them again
    answered_in_call: set[int] = set()
    # operations sent without waiting that ended at a relay after sending something, by
    # the participants they race (who they sent to, and who they act as): what they sent
    # no longer changes, so each is looked up once, when the workflow acts with one of
    # those (a list scanned at every step made big diagrams quadratic)
    detached: dict[str, list[_Handling]] = {}
    # the loops open at this point of the walk: block id, the operations in progress
    # where it starts, and who sent in them in its body (participant -> those operations)
    loops: list[tuple[int, set[_Handling], dict[str, dict[_Handling, None]]]] = []
    # the breaks left in the sections still open, each under the operations in progress
    # where it started (what they send after it, in the same section, a run that takes
    # the break never sends); `breaks`: those entered and not left yet
    breaks: dict[int, set[_Handling]] = {}
    after_breaks: OpenBreaks[_Handling] = OpenBreaks()

    # whether this walk found an operation `cuts` does not end yet: its result is dropped
    # (walking again), so from there on it only looks for more (it builds nothing)
    doomed = False

    def found_cut(relay: int, call: int) -> None:
        """The operation handling `call` ends at `relay` (a key of `cuts`)."""
        nonlocal doomed
        found.setdefault(relay, set()).add(call)
        if not doomed and call not in cuts.get(relay, ()):
            doomed = True

    def relay(o: Occurrence, on_behalf: str, reaches: bool = True) -> None:
        """The workflow relays `o` for `on_behalf`: an operation in progress runs before
        it, so one that must follow it ends here (`cuts`), the rest noted. (`reaches`:
        the receiver gets it, and what it sends next follows it.)"""
        for call in cuts.get(o.index, ()):
            end(call, o.index)
        workflow_acts(o)
        speaks = {on_behalf, *([o.message.receiver] if reaches else [])} - {orchestrator}
        for stack in handling.values():
            for h in stack:
                during = relays_during.setdefault(h, {})
                for p in speaks:
                    during.setdefault(p, []).append(o)
        told_in_loop(speaks, None)

    def workflow_acts(o: Occurrence) -> None:
        """The workflow sends, relays or awaits `o`, or takes it as a step of its own,
        while the operations in progress run (inside an earlier step)."""
        for stack in handling.values():
            for h in stack:
                acted_during.setdefault(h, []).append(o)

    def acted_before(o: Occurrence, caller: str) -> bool:
        """Did the workflow act, drawn before `o` and where a run orders it before `o`,
        while `caller`'s operation (or one that called it) was in progress? The code
        takes those actions once the operation has returned."""
        at = container_of(caller)
        while at is not None:
            if any(not _apart(a.path, o.path, blocks) for a in acted_during.get(at, ())):
                return True
            at = at.parent
        return False

    def told_in_loop(participants: Iterable[str], mine: _Handling | None) -> None:
        """In a loop's body, the workflow relays for or to `participants` (or the
        operation `mine` sends to them): one of them that sent in an operation in
        progress since before the loop would, in that operation, take its next
        iteration's steps before this one, which it takes after it. That operation
        ends where the loop starts (`found`: walking again; ended now, it would also
        end the calls made in it since the loop started, which it no longer makes)."""
        for block_id, _, sent in loops:
            key = _block_start(block_id)
            for p in participants:
                for h in list(sent.get(p, ())):
                    # (whether or not it is still in progress: one that has answered, or
                    # ended at a relay, in the body still ran its part of every iteration)
                    if h.call in cuts.get(key, ()) or (mine is not None and _within(mine, h)):
                        continue
                    found_cut(key, h.call)

    def end(call: int, at: int) -> None:
        """The operation handling `call` ends at the relay `at`, and the ones it made
        calls to: a call among those that waits for its reply no longer can (`found`:
        it goes out unanswered, walking again)."""
        gone = [h for stack in handling.values() for h in stack if h.call == call]
        for stack in handling.values():
            for h in stack:
                if any(_within(h, g) for g in gone) and h.until_reply:
                    found_cut(at, h.call)
            stack[:] = [h for h in stack if not any(_within(h, g) for g in gone)]
        # an operation sent without waiting that has sent something still runs that part
        # beside the workflow: `settle` still watches it
        for g in gone:
            if occurrences[g.call].message.arrow in _ASYNC and reached.get(g):
                for p in reached[g] | {occurrences[g.call].message.receiver}:
                    detached.setdefault(p, []).append(g)

    def answered(done: _Handling, at: int) -> None:
        """`done`'s operation returns with the reply `at`: the operations it called and
        waited for (no message sent without waiting between) ended before it, so what
        they would do after the reply is not theirs (the workflow relays it); a call
        among them that waits for a reply drawn later no longer can (`found`)."""
        def inside(h: _Handling) -> bool:
            at_h: _Handling | None = h
            while at_h is not None and at_h is not done:
                if occurrences[at_h.call].message.arrow in _ASYNC:
                    return False
                at_h = at_h.parent
            return at_h is done
        for stack in handling.values():
            for h in stack:
                if h is not done and inside(h) and h.until_reply:
                    found_cut(at, h.call)
            stack[:] = [h for h in stack if h is done or not inside(h)]

    def settle(*participants: str) -> None:
        """The workflow acts with `participants` (it awaits, relays or sends): an
        operation sent without waiting that has sent something by now, to one of them or
        acting as one of them, would race the workflow's step, so the workflow waits for
        it (`waits`: sent as a call). One that has sent nothing has nothing to race;
        one that ended at a relay (`detached`) still races with what it sent before."""
        for stack in handling.values():
            for h in stack:
                sent = reached.get(h)
                if sent and h.call not in waits and \
                        occurrences[h.call].message.arrow in _ASYNC and \
                        (sent | {occurrences[h.call].message.receiver}) & set(participants):
                    waits.add(h.call)
        for p in participants:
            waits.update(h.call for h in detached.pop(p, ()))

    def follows_relay(o: Occurrence, sender: str) -> None:
        """`sender` sends `o` in the operation it is handling: when an operation that
        holds it (its own, or the one that called it) was in progress at a relay for
        or to `sender`, drawn before `o`, the code would send `o` before the relay, which
        `sender` does after it. The outermost such operation ends at the relay (the
        rest of it is driven by the workflow after the relay)."""
        acting: _Handling | None = handling[sender][-1]
        at: _Handling | None
        answers = roles.reply_to[o.index]
        # the innermost operation in progress since before the break: it ends where the
        # break starts
        for block_id, held in after_breaks.holding(acting):
            if answers is not None and answers in decisions and \
                    decisions[answers][0] == block_id:
                continue  # the reply that says the break was not taken
            if held.call not in cuts.get(_block_start(block_id), ()):
                found_cut(_block_start(block_id), held.call)
        for _, alive, sent in loops:  # the innermost operation in progress since before
            at = acting  # each open loop that holds this send
            while at is not None and at not in alive:
                at = at.parent
            if at is not None:
                sent.setdefault(sender, {})[at] = None
        outermost = None
        while acting is not None:
            for r in relays_during.get(acting, {}).get(sender, ()):
                if not _apart(r.path, o.path, blocks):
                    outermost = (r.index, acting.call)
                    break
            acting = acting.parent
        if outermost is not None:
            found_cut(outermost[0], outermost[1])
            if outermost[1] not in cuts.get(outermost[0], ()):
                # new: this walk's result is dropped, so end the operation now and let
                # the rest of the walk find what that cut leads to (or a chain of cuts
                # would take a walk each)
                end(outermost[1], outermost[0])

    def operation(service: str, o: Occurrence) -> str:
        text = o.message.text
        known = op_keys.get(o.index)  # the same in every walk
        if known is None:
            named = strip_fields(text)  # `charge(amount, currency)` is the operation `charge`
            origin = hops.source[o.index] if o.sender in brokers else None
            if origin is not None:  # a delivery: the operation is named after the event
                named = " ".join(event_words(occurrences[origin].message.text)) or text
            known = op_keys[o.index] = (" ".join(named.lower().split()), named)
        key, named = known
        ops = operations.setdefault(service, {})
        if key not in ops:
            if service not in op_names:
                op_names[service] = NameTable(RUNTIME_METHODS)
            names = op_names[service]
            ops[key] = {"name": names.name(key, snake(named, "operation")), "request": text,
                        "reply": None, "calls": [], "lines": []}
        op = ops[key]
        op["calls"].append(o.index)
        op["lines"].append(o.line)
        replies = roles.replies[o.index]
        if replies and op["reply"] is None:
            op["reply"] = occurrences[replies[0]].message.text
        return op["name"]

    def sent_after_calls(o: Occurrence, sender: str, to: Iterable[str]) -> None:
        """`sender` sends `o` in the operation it is handling: the calls it made in that
        operation that are still in progress would go on before `o` (the code sends `o`
        once they return). One that goes on to a send of `to` (the receiver, and the
        sender itself: a call whose operation reaches back to it) ends here, as at a
        relay (`follows_relay` finds it)."""
        for call in cuts.get(o.index, ()):
            end(call, o.index)
        mine = container_of(sender)
        if mine is None:
            return
        for stack in handling.values():
            for h in stack:
                if h is not mine and h.parent is not None and _within(h, mine):
                    during = relays_during.setdefault(h, {})
                    for p in to:
                        during.setdefault(p, []).append(o)

    def sent_in(acting: _Handling | None, to: str) -> None:
        """The operation `acting` (and the ones that called it) has sent something to
        `to` (a step of its own, or a message nobody gets, counts): it races the
        workflow's steps with those it reached (`settle`)."""
        while acting is not None:
            reached.setdefault(acting, set()).add(to)
            acting = acting.parent

    def container_of(p: str) -> _Handling | None:
        stack = handling.get(p)
        return stack[-1] if stack else None

    def container(p: str) -> TreeBuilder | None:
        stack = handling.get(p)
        return stack[-1].tree if stack else None

    def make_call(o: Occurrence, service: str, name: str, target: TreeBuilder, caller: str,
                  relayed: str | None) -> Call:
        replies = roles.replies[o.index]
        reply_text = occurrences[replies[0]].message.text if replies else None
        decides = o.index in decisions
        if decides:  # the reply that comes back picks the alt's section
            target.decided[decisions[o.index][0]] = o.index
            call_trees[o.index] = target
        compensation = compensations.get(o.index)
        if compensation is None:
            compensation = compensations[o.index] = is_compensation(o.message.text)
        return Call(o.index, service, name, o.message.text, o.line,
                    replies[0] if replies else None, reply_text, relayed,
                    compensation, caller, replies, decides)

    def step(o: Occurrence, service: str, target: TreeBuilder, caller: str,
             relayed: str | None) -> None:
        m = o.message
        # a new message to the service ends whatever unanswered message it was acting on
        stack = handling.get(service)
        while stack and not stack[-1].until_reply:
            stack.pop()
        replies = roles.replies[o.index]
        if doomed:  # (what it builds is dropped)
            tree = nowhere
        else:
            name = operation(service, o)
            tree = TreeBuilder(o.path, blocks)
            variants[o.index] = tree
        if m.arrow in _ASYNC:
            if not doomed:
                place = target.add(o.path, Send(o.index, service, name, m.text, o.line,
                                                relayed, caller))
                sends[o.index] = (place, (o, service, name, target, caller, relayed))
        else:
            if not doomed:
                target.add(o.path, make_call(o, service, name, target, caller, relayed))
            if service == orchestrator and target is not workflow:
                answered_in_call.add(o.index)
                if replies and (_workflow_sends_before(occurrences, blocks, o.index,
                                                       replies)
                                or acted_before(o, caller)):
                    # the runtime would answer at once, before what the workflow sends
                    # first (drawn between the call and its reply, or before the call,
                    # while the operation that makes it was in progress: the workflow
                    # does that once the operation has returned): the call goes out
                    # unanswered (walking again)
                    found_cut(_UNANSWERED, o.index)
        parent = container_of(caller) if caller != orchestrator else None
        sent_in(parent, service)
        if replies:  # the service is busy with this call until its reply
            handling.setdefault(service, []).append(_Handling(o.index, tree, True, parent))
        elif relayed is None:  # what it does next, unasked, is part of handling this
            handling.setdefault(service, []).append(_Handling(o.index, tree, False, parent))

    for it in items:
        if isinstance(it, Enter):
            if it.block.kind in ("loop", "break"):
                for cut in cuts.get(_block_start(it.block_id), ()):
                    end(cut, _block_start(it.block_id))
            if it.block.kind == "break":
                breaks[it.block_id] = {h for stack in handling.values() for h in stack}
            if it.block.kind == "loop":
                loops.append((it.block_id, {h for stack in handling.values() for h in stack},
                              {}))
            frames.append((it.block.kind, _copy(handling), []))
        elif isinstance(it, SectionStart):
            kind, before, ends = frames[-1]
            # a break ends only the rest of its own section
            after_breaks.close_from(len(frames))
            if it.index > 0 and kind in ("alt", "critical", "par", "par_over"):
                # each section starts from what was handled before the block: a `par`'s
                # sections run side by side, so what a service sends in one is not part
                # of handling a message it got in another
                ends.append(handling)
                handling = _copy(before)
        elif isinstance(it, Leave):
            kind, before, ends = frames.pop()
            inside = {h: None for end_ in [*ends, handling] for stack in end_.values()
                      for h in stack}
            if kind == "loop":
                loops.pop()
            after_breaks.close_from(len(frames) + 1)
            if kind == "break":
                after_breaks.open(it.block_id, len(frames), breaks.pop(it.block_id))
            if kind in ("alt", "critical"):
                handling = _merge([*ends, handling])
            elif kind == "break":  # a run that goes on after it did not take it: nothing
                handling = before  # a service got in it is handled after the block
            elif kind == "opt":  # a run that skips it called nobody in it: what a
                handling = _kept(before, handling)  # service handles after it, it did before
            elif kind in _ENDS_CALLS:  # what follows runs once, not once per iteration
                # (section): a call made in one does not go on after the block, and one
                # answered in any section of a `par` is over after it
                handling = _merge([_kept(before, end) for end in [*ends, handling]])
            # an operation sent without waiting that the block's end drops (another
            # section did not send it, or it belongs to an iteration) still runs beside
            # the workflow: `settle` still watches what it has sent
            kept = {h for stack in handling.values() for h in stack}
            for h in inside:
                if h not in kept and occurrences[h.call].message.arrow in _ASYNC and \
                        reached.get(h):
                    for p in reached[h] | {occurrences[h.call].message.receiver}:
                        detached.setdefault(p, []).append(h)
        elif isinstance(it, Occurrence):
            if it.index in outside:
                continue
            m = it.message
            sender, receiver = m.sender, m.receiver
            role = roles.role[it.index]
            if it.index in hops.acks or (sender in brokers and receiver in brokers):
                continue  # a broker's own business, not a step
            if role == "reply":
                stack = handling.get(sender)
                while stack and not stack[-1].until_reply:
                    stack.pop()
                if stack and stack[-1].call == roles.reply_to[it.index]:
                    # the reply is sent when the operation returns: like any send of the
                    # replier's, it comes after a relay for or to it drawn before
                    follows_relay(it, sender)  # (which may end the operation)
                    if stack and stack[-1].call == roles.reply_to[it.index]:
                        answered(stack.pop(), it.index)
                call = opening.get(it.index)
                if call is not None and call in call_trees:  # it opens its section
                    if not doomed:
                        call_trees[call].add(it.path, Received(it.index, call, sender,
                                                               m.text, it.line))
                if sender == orchestrator and receiver != orchestrator and \
                        roles.reply_to[it.index] not in answered_in_call:
                    # a message the workflow sends to the receiver like any other: an
                    # operation in progress that would go on to a send of it ends here
                    relay(it, orchestrator)
                    settle(receiver)
                    if not doomed:
                        workflow.add(it.path, Reply(it.index, receiver, m.text, it.line))
                continue
            published = receiver in brokers and sender not in brokers
            if (role == "lost" and sender not in brokers and receiver not in brokers) or \
                    published:
                # it reaches nobody: no operation of the receiver, nothing it handles. A
                # publish into a broker is sent where the diagram draws it, whether or not
                # a delivery of it follows on this path: the broker's deliveries are
                # relayed where they are drawn (below), and do not imply the publish
                if sender == orchestrator:
                    workflow_acts(it)
                    if not doomed:
                        workflow.add(it.path, Lost(it.index, receiver, m.text, it.line, None,
                                                   published))
                elif (inner := container(sender)) is not None:
                    follows_relay(it, sender)
                    sent_after_calls(it, sender, (sender,))
                    sent_in(container_of(sender), receiver)
                    if not doomed:
                        inner.add(it.path, Lost(it.index, receiver, m.text, it.line, None,
                                                published))
                else:
                    relay(it, sender, reaches=False)
                    if not doomed:
                        workflow.add(it.path, Lost(it.index, receiver, m.text, it.line, sender,
                                                   published))
                continue
            if sender in brokers:
                producer = actor(it, hops, occurrences, brokers)
                target = container(producer) if producer != orchestrator else None
                if producer != orchestrator:
                    if target is None:
                        relay(it, producer)
                    else:
                        follows_relay(it, producer)
                step(it, receiver, target or workflow, orchestrator, producer)
                continue
            if sender == receiver:
                target = workflow if sender == orchestrator else container(sender)
                if target is None:
                    relay(it, sender)
                    step(it, sender, workflow, orchestrator, sender)
                else:
                    if sender != orchestrator:
                        follows_relay(it, sender)
                        sent_after_calls(it, sender, (sender,))
                        sent_in(container_of(sender), sender)
                    else:
                        workflow_acts(it)
                    if not doomed:
                        target.add(it.path, LocalStep(
                            it.index, m.text, snake(strip_fields(m.text), "step"), it.line))
                continue
            if sender == orchestrator:
                # an operation in progress that would go on to a send of the receiver
                # ends here, as at a relay: the receiver sends it after this message
                relay(it, orchestrator)
                settle(receiver)
                step(it, receiver, workflow, orchestrator, None)
            elif (inner := container(sender)) is not None:
                # what a service tells the workflow while it acts on a message sent
                # without waiting (or on a call made while acting on one): what the
                # workflow does next depends on it, so those messages are sent waiting
                # for their operations to end (a second pass)
                follows_relay(it, sender)
                acting = container_of(sender)
                while receiver == orchestrator and acting is not None:
                    if occurrences[acting.call].message.arrow in _ASYNC:
                        waits.add(acting.call)
                    acting = acting.parent
                sent_after_calls(it, sender, (receiver, sender))
                told_in_loop((receiver,), container_of(sender))
                step(it, receiver, inner, sender, None)
            elif receiver == orchestrator:
                # the workflow takes it from the sender where it is drawn, as it relays
                # one: an operation in progress that would go on to a send of the
                # sender ends here
                relay(it, sender, reaches=False)
                settle(sender)
                if not doomed:
                    workflow.add(it.path, Await(it.index, sender, m.text, it.line))
            else:
                relay(it, sender)
                settle(sender, receiver)
                step(it, receiver, workflow, orchestrator, sender)
        elif isinstance(it, Other) and isinstance(it.statement, Note):
            note = it.statement
            if not doomed:
                workflow.add(it.path, Comment(note.text, note.span.line))

    if not all(calls <= cuts.get(relay, set()) for relay, calls in found.items()):
        return None, found  # walk again, ending those operations at their relays

    # the async messages whose operation the sender turned out to wait for (a message to
    # the workflow follows from them, found as the walk went on) are calls
    for index in waits:
        (container, at), how = sends[index]
        container[at] = make_call(*how)

    services = []
    for service, ops in operations.items():
        names = op_names[service]
        built = tuple(
            Operation(op["name"], op["request"], op["reply"], tuple(op["calls"]),
                      tuple(op["lines"]),
                      tuple(Variant(c, variants[c].build(names)) for c in op["calls"]
                            if c in variants))
            for op in ops.values())
        services.append(ServiceOrchestration(service, module_names[service],
                                             pascal(module_names[service], "Service"), built))
    name = module_names.get(orchestrator, snake(orchestrator, "orchestrator"))
    return Orchestration(orchestrator, name, pascal(name, "Workflow"), synthetic, reason,
                         trigger, workflow.build(workflow_names), tuple(services),
                         tuple(prelude), tuple(postlude),
                         None if roles is analysed else roles.replies), found


def _entry(occurrences: list[Occurrence], orchestrator: str,
           roles: Roles) -> tuple[int | None, list[int], list[int]]:
    """How the workflow starts and ends: (trigger, prelude, postlude).

    The trigger is the first message to the orchestrator, sent before the orchestrator
    sends anything itself, when it is drawn outside every block. What happens before it
    (a client calling an API that starts the workflow) is the prelude, and the replies to
    the prelude's requests that close it (the API answering the client) are the
    postlude: both are the workflow's caller chain, not steps of the workflow.
    """
    trigger = None
    for o in occurrences:
        if o.sender == orchestrator:
            break
        if o.receiver == orchestrator and roles.role[o.index] != "reply":
            # inside a block it may run again (a loop) or not at all (an alt, an opt):
            # the workflow receives it there, as any later message to it
            trigger = o.index if not o.path else None
            break
    if trigger is None:
        return None, [], []
    prelude = list(range(trigger))
    before = set(prelude)
    postlude = [o.index for o in occurrences[trigger + 1 :]
                if roles.role[o.index] == "reply" and roles.reply_to[o.index] in before]
    return trigger, prelude, postlude


def _reply_decisions(items: list[Item], roles: Roles
                     ) -> dict[int, tuple[int, tuple[int, ...]]]:
    """The calls whose reply decides an `alt`: call -> (block id, its replies).

    The sender of a section's first message makes the choice; everyone else learns it
    from the message it receives (conformance.md). When every section of an alt holds
    one of the replies to a call made before the block, all of them, drawn in the
    section itself and before anything else reaches or leaves the caller there, the
    caller learns which section runs from the reply it gets: its code branches on it,
    and the contract keeps each reply with its section."""
    heads: dict[int, list[list[int]]] = {}  # block id -> per section, its leading messages
    kinds: dict[int, str] = {}
    open_heads: dict[object, list[int]] = {}  # section path -> its heads, until a block
    for it in items:
        kind_of = type(it)
        if kind_of is SectionStart:
            head: list[int] = []
            heads.setdefault(it.block_id, []).append(head)  # type: ignore[union-attr]
            open_heads[it.path] = head  # type: ignore[union-attr]
        elif kind_of is Enter:
            kinds[it.block_id] = it.block.kind  # type: ignore[union-attr]
            open_heads.pop(it.path, None)  # type: ignore[union-attr]
        elif kind_of is Occurrence:
            head = open_heads.get(it.path)  # type: ignore[union-attr]
            if head is not None:
                head.append(it.index)  # type: ignore[union-attr]
    occurrences = {it.index: it for it in items if type(it) is Occurrence}
    found: dict[int, tuple[int, tuple[int, ...]]] = {}
    for block_id, sections in heads.items():
        if kinds.get(block_id) == "break" and len(sections) == 1 and sections[0]:
            _break_decision(block_id, sections[0], roles, occurrences, found)
            continue
        if kinds.get(block_id) != "alt" or len(sections) < 2 or not sections[0]:
            continue
        for call in {roles.reply_to[m] for m in sections[0]} - {None}:
            replies = roles.replies[call]  # type: ignore[index]
            if call in found or len(replies) != len(sections):
                continue
            caller = occurrences[call].sender  # type: ignore[index]
            if all(_learns_first(head, reply, caller, occurrences)
                   for head, reply in zip(sections, replies, strict=True)) and \
                    call < min(replies):  # type: ignore[operator]
                found[call] = (block_id, replies)  # type: ignore[index]
    return found


def _break_decision(block_id: int, head: list[int], roles: Roles,
                    occurrences: dict[int, Occurrence], found: dict) -> None:
    """A `break` whose section opens with one reply to a call made before it, the call's
    other reply drawn after the break: the caller learns from the reply whether the break
    was taken (the replier decided it)."""
    for call in {roles.reply_to[m] for m in head} - {None}:
        replies = roles.replies[call]  # type: ignore[index]
        if call in found or len(replies) != 2 or not call < replies[0] < replies[1]:
            continue
        caller = occurrences[call].sender  # type: ignore[index]
        if replies[1] > max(head) and _learns_first(head, replies[0], caller, occurrences):
            found[call] = (block_id, replies)  # type: ignore[index]
            return


def _learns_first(head: list[int], reply: int, caller: str,
                  occurrences: dict[int, Occurrence]) -> bool:
    """Is `reply` in this section's leading messages, before any other message to or
    from the caller?"""
    for m in head:
        if m == reply:
            return True
        if caller in (occurrences[m].sender, occurrences[m].receiver):
            return False
    return False


class _Fixed:
    """What every walk of `project` finds alike (computed once, or on the first walk)."""

    __slots__ = ("blocks", "compensations", "occurrences", "op_keys", "unawaitable")

    def __init__(self, items: list[Item], orchestrator: str, roles: Roles):
        self.blocks: dict[int, Block] = {it.block_id: it.block for it in items
                                         if isinstance(it, Enter)}
        self.occurrences = [it for it in items if isinstance(it, Occurrence)]
        self.unawaitable = _unawaitable(self.occurrences, roles, self.blocks, orchestrator,
                                        items)
        self.op_keys: dict[int, tuple[str, str]] = {}
        """Occurrence index -> its operation's key and the text it is named after."""
        self.compensations: dict[int, bool] = {}
        """Occurrence index -> whether its message compensates."""


def _not_awaited(occurrences: list[Occurrence], roles: Roles, blocks: dict[int, Block],
                 orchestrator: str, ended: Iterable[int] = (),
                 items: list[Item] | None = None,
                 unawaitable: set[int] | None = None) -> set[int]:
    """The calls whose reply the code cannot wait for where the call is made: the call
    goes out unanswered and its reply is a message of its own, drawn where the diagram
    draws it (awaited by the workflow, sent by the service's operation, or relayed).

    * A call made in a `loop` and answered after it: the diagram answers one of the
      iterations' requests, and nobody can tell which is the last one when it is made
      (the loop's decider decides after it). Likewise a call made in a section of a `par`
      and answered after the `par`: a reply in the section could overtake what the
      replier sends in the other sections. And a call made before a `loop` (outside it)
      and answered in its body: the diagram has the reply sent in every iteration.
    * A call whose callee receives something else before it answers (other than the
      replies to its own calls): the reply comes after that message (causality), which
      the code sends once the call has returned.
    * A call whose reply is drawn in a section of an `alt`, `opt`, `break` or `critical`
      that the call is not in (unless the reply decides the `alt`): a run may skip that
      section, and the reply with it, where the code would have waited for it.

    (The orchestrator answers its own callers where the diagram draws the answer.)

    (`unawaitable`: what `_unawaitable` finds for these arguments, when known.)"""
    found = {call for call in ended if roles.replies[call]}
    if unawaitable is None:
        unawaitable = _unawaitable(occurrences, roles, blocks, orchestrator, items)
    found |= unawaitable
    # a reply that is no longer one is something else its receiver gets before it answers
    # its own caller: repeated until nothing changes (a chain of nested calls). It is no
    # longer the answer of another call it would answer either (one reply drawn after
    # calls in two sections): it is drawn once, as a message of its own
    while True:
        kept = without_replies(roles, found)
        gone = {r for call in found for r in roles.replies[call]}
        more = {call for call, replies in enumerate(kept.replies)
                if replies and occurrences[call].receiver != orchestrator
                and (any(_received_before(occurrences, kept, blocks, call, r)
                         for r in replies) or gone.intersection(replies))}
        if not more:
            return found
        found |= more


def _unawaitable(occurrences: list[Occurrence], roles: Roles, blocks: dict[int, Block],
                 orchestrator: str, items: list[Item] | None) -> set[int]:
    """The calls `_not_awaited` finds by where they and their replies are drawn: answered
    after the loop or `par` they are made in, in the body of a loop they are not made in
    (the diagram answers in every iteration), or in a section a run may skip."""
    def ending(path: tuple[tuple[int, int], ...]) -> set[tuple[int, int]]:
        return {place for place in path if blocks[place[0]].kind in _ENDS_CALLS}

    def loops(path: tuple[tuple[int, int], ...]) -> set[tuple[int, int]]:
        return {place for place in path if blocks[place[0]].kind == "loop"}

    found: set[int] = set()
    deciding = set(_reply_decisions(items, roles)) if items is not None else set()
    for call, replies in enumerate(roles.replies):
        if not replies or occurrences[call].receiver == orchestrator:
            continue
        inside = ending(occurrences[call].path)
        if inside and any(inside - ending(occurrences[r].path) for r in replies):
            found.add(call)
        elif any(loops(occurrences[r].path) - set(occurrences[call].path) for r in replies):
            found.add(call)
        elif call not in deciding and any(
                _skippable(occurrences[call].path, occurrences[r].path, blocks)
                for r in replies):
            found.add(call)
    return found


def _received_before(occurrences: list[Occurrence], roles: Roles, blocks: dict[int, Block],
                     call: int, reply: int) -> bool:
    """Does the callee receive something between `call` and its `reply`, on a run that
    takes both, other than the replies to the calls it makes meanwhile? (An answer to a
    call it made before `call`, the workflow's answer to its caller above all, is
    something else it receives.)"""
    callee = occurrences[call].receiver
    for m in occurrences[call + 1:reply]:
        if m.receiver != callee or m.sender == callee or roles.role[m.index] == "lost":
            continue
        asked = roles.reply_to[m.index]
        if asked is not None and asked > call and occurrences[asked].sender == callee:
            continue  # it answers the callee's own call, made while it handles this one
        if not _exclusive(m.path, occurrences[reply].path, blocks) and \
                not _exclusive(m.path, occurrences[call].path, blocks):
            return True
    return False


def _workflow_sends_before(occurrences: list[Occurrence],
                           blocks: dict[int, Block], call: int,
                           replies: tuple[int, ...] | list[int]
                           ) -> bool:
    """Does the workflow send or relay something between a call made to it and a reply
    to it, on a run that takes both? (Anything drawn there that the caller, waiting for
    the reply, does not send itself.)"""
    caller = occurrences[call].sender
    return any(m.sender != caller and m.index not in replies
               and not _exclusive(m.path, occurrences[r].path, blocks)
               for r in replies for m in occurrences[call + 1:r])


def _skippable(call: tuple[tuple[int, int], ...], reply: tuple[tuple[int, int], ...],
               blocks: dict[int, Block]) -> bool:
    """Is the reply drawn in a section a run may skip (of an `alt`, `opt`, `break` or
    `critical`) that the call is not in?"""
    return any(place not in call and blocks[place[0]].kind in _SKIPPABLE
               for place in reply)


def _exclusive(one: tuple[tuple[int, int], ...], other: tuple[tuple[int, int], ...],
               blocks: dict[int, Block]) -> bool:
    """Are the two places in sections of which no run takes both (two sections of an
    `alt`, two options of a `critical`)?"""
    for (block, section), (block_2, section_2) in zip(one, other, strict=False):
        if block != block_2:
            return False
        if section != section_2:
            kind = blocks[block].kind
            return kind == "alt" or (kind == "critical" and min(section, section_2) > 0)
    return False


def _within(h: _Handling, outer: _Handling) -> bool:
    """Is `h` the handling `outer` or one of the calls made while handling it?"""
    at: _Handling | None = h
    while at is not None:
        if at is outer:
            return True
        at = at.parent
    return False


def _apart(one: tuple[tuple[int, int], ...], other: tuple[tuple[int, int], ...],
           blocks: dict[int, Block]) -> bool:
    """Are the two places where nothing orders one after the other: in sections of
    which no run takes both, or in two sections of a `par`?"""
    if _exclusive(one, other, blocks):
        return True
    for (block, section), (block_2, section_2) in zip(one, other, strict=False):
        if block != block_2:
            return False
        if section != section_2:
            return blocks[block].kind in ("par", "par_over")
    return False


def _kept(before: dict[str, list[_Handling]], now: dict[str, list[_Handling]]
          ) -> dict[str, list[_Handling]]:
    """After a loop, the calls services still handle: those they handled before it (and
    have not answered in it). A call made in an iteration does not go on after the
    loop: which iteration's call would it be?"""
    return {p: [h for h in stack if any(h is b for b in before.get(p, ()))]
            for p, stack in now.items()}


def _copy(handling: dict[str, list[_Handling]]) -> dict[str, list[_Handling]]:
    return {k: list(v) for k, v in handling.items()}


def _merge(ends: list[dict[str, list[_Handling]]]) -> dict[str, list[_Handling]]:
    """After alternatives, a service still handles a call only if every section still
    handles it: none answered it, or moved on to a message it got in that section only
    (a call it handles there is not handled on a run that takes another section)."""
    merged: dict[str, list[_Handling]] = {}
    for p in dict.fromkeys(p for end in ends for p in end):  # drawn order, not a set's
        stacks = [end.get(p, []) for end in ends]
        common = 0  # the stacks grow from the same bottom: their common part is a prefix
        while all(len(stack) > common and stack[common] is stacks[0][common]
                  for stack in stacks):
            common += 1
        merged[p] = stacks[0][:common]
    return merged
