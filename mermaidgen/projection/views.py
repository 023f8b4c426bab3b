"""The two projections as data: what templates render, nothing more.

(Compared by identity, `eq=False`: nothing compares views by value, and the generated
equality methods cost start-up time in every command.)

Choreography: per service, the actions of its entry point and of one handler per event
occurrence it consumes. Orchestration: the orchestrator's workflow as a tree of steps, and
per service the operations it must offer. Both trees keep the diagram's blocks as
`Fragment`s (an `alt` is a decision with a branch per section, a `loop` a bounded loop,
`par` concurrent branches, `critical` a main path with error handlers, `break` an early
exit, `opt` a decision with one branch), and every node names its diagram line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from mermaidgen.analysis.events import Event
from mermaidgen.model.quick_init import quicken


@dataclass(frozen=True, slots=True, eq=False)
class Publish:
    """Choreography: the service publishes an event (to a service or through a broker)."""

    message: int
    event: str
    to: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class LocalStep:
    """A self message: the participant does something on its own."""

    message: int
    text: str
    name: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Comment:
    """A note of the diagram, kept as a comment where it was drawn."""

    text: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Arrive:
    """Choreography: this path has reached the end of a `par` (or received one of the
    events a join waits for); the service continues (the join's actions) once every path
    has arrived."""

    join: str
    line: int
    after_par: bool = True
    """False: a join of events that nothing orders (analysis/receipts.py), not a par's."""
    after_section: str = ""
    """The kind of block (alt, opt, critical) a section of which ends an iteration of a
    loop that spans handlers here (the join has this one arrival: it holds what follows
    the block, and the loop's back edge, once for every iteration that runs it)."""


@dataclass(frozen=True, slots=True, eq=False)
class LoopStart:
    """Choreography: a `loop` whose iterations span handlers starts its first iteration
    here; the code counts its iterations under `key` (the decider's back edge, a
    `loop_back` fragment, sends the next one)."""

    key: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class InTime:
    """Choreography: a handler that goes on with a critical's main section that spans
    handlers; it does nothing when an option of the critical was taken already (the
    timer fired, or the main section failed): only one section runs."""

    key: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Timer:
    """Choreography: what a service does when a critical's timed option fires (the
    option `label` gives a duration: the default of the `hook` that says how long)."""

    name: str
    key: str
    hook: str
    seconds: float
    line: int
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Join:
    """What a service does after a `par` whose branches end in different handlers, or
    after events that may arrive in any order: run when all `arrivals` paths have arrived
    (a choreography's join keeps state)."""

    name: str
    arrivals: int
    line: int
    """The par's line; for events that may arrive in any order, the second one's."""
    actions: tuple[Action, ...]
    after_par: bool = True
    after_section: str = ""
    """After a section of this kind of block that ends a loop's iteration (see
    Arrive.after_section)."""


def join_heading(join: Join) -> str:
    """How outlines and previews introduce a join."""
    if join.after_section:
        return f"after the {join.after_section} of line {join.line}"
    if join.after_par:
        return f"after the par of line {join.line}, once its {join.arrivals} paths arrive"
    return f"after the join of line {join.line}, once its {join.arrivals} events arrive"


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """Orchestration: invoke a service's operation and wait for it to finish.

    `reply` is the message that answers the call, when the diagram draws one.
    `relayed_from` names the participant that sent the message in the diagram when the
    orchestrator passes it on (a choreography diagram rendered as an orchestration).
    """

    message: int
    service: str
    operation: str
    text: str
    line: int
    reply: int | None = None
    reply_text: str | None = None
    relayed_from: str | None = None
    compensation: bool = False
    caller: str | None = None
    """Who makes the call: the orchestrator, or a service inside its operation."""
    replies: tuple[int, ...] = ()
    """Every message that may answer the call (one per `alt` section that answers it)."""
    decides: bool = False
    """Its replies open the sections of an `alt` (see `Received`): the reply the call
    gets picks the section, so the replies are drawn there, not after the call."""


@dataclass(frozen=True, slots=True, eq=False)
class Send:
    """Orchestration: a fire-and-forget message (async arrow); nobody waits for it."""

    message: int
    service: str
    operation: str
    text: str
    line: int
    relayed_from: str | None = None
    caller: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Lost:
    """Orchestration: a message that never arrives (`-x` that neither answers nor
    destroys). It is sent, so the trace records it and the contract expects it, and it
    reaches nobody: it calls no operation and the receiver does nothing.
    `relayed_from`: the participant that sends it in the diagram, when the orchestrator
    sends it on its behalf. `published`: a publish into a broker participant (`to`),
    sent where the diagram draws it; the workflow relays the broker's deliveries where
    they are drawn (they do not imply the publish)."""

    message: int
    to: str
    text: str
    line: int
    relayed_from: str | None = None
    published: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Await:
    """Orchestration: the workflow waits for a message a service sends it."""

    message: int
    service: str
    text: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Reply:
    """Orchestration: the orchestrator answers the participant that started it."""

    message: int
    to: str
    text: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Received:
    """Orchestration: the reply that opens a section of an `alt` arrives; which one
    arrived decides the section (conformance.md, "who decides a branch")."""

    message: int
    call: int
    service: str
    text: str
    line: int


@dataclass(frozen=True, slots=True, eq=False)
class Branch:
    """One section of a fragment: its label, a safe name, and what it does."""

    label: str
    name: str
    line: int
    actions: tuple[Action, ...]
    reply: int | None = None
    """The reply that opens this section, when a reply decides the fragment."""


@dataclass(frozen=True, slots=True, eq=False)
class Fragment:
    """A block of the diagram as control flow: its kind and its branches."""

    kind: str
    """alt, opt, loop, par, par_over, critical or break (`rect` is transparent); and
    `loop_back`, choreography only: the end of an iteration of a loop that spans
    handlers, with the branches `again` (the next iteration's start) and `done` (what
    follows the loop); `name` is then the loop's iteration counter."""
    label: str
    name: str
    """A safe identifier for the decision or condition the user implements."""
    line: int
    branches: tuple[Branch, ...]
    decided_by: int | None = None
    """The call whose reply picks the branch (each branch opens with one of its
    replies), or None: a decision of the code's own."""
    spans: str | None = None
    """Choreography, `critical`: its main section goes on in other handlers of the
    deciding service. The key the code keeps its state under (taken an option: what
    arrives for the main section later is dropped), and the timed option's timer."""
    timer: str | None = None
    """The method that runs the option whose label gives a duration, when the main
    section has not gone on in time (see `Timer`)."""
    undoes: int | None = None
    """Choreography, an `opt` the projection draws around a saga's compensation
    (projection/sagas.py): the step (message index) whose sending takes it."""


Action: TypeAlias = (Publish | LocalStep | Comment | Call | Send | Lost | Await | Reply
                     | Fragment | Arrive | Received | LoopStart | InTime)


@dataclass(frozen=True, slots=True, eq=False)
class HandlerCase:
    """What a handler does when the event arrives at one place in the diagram."""

    trigger: int
    """The message (delivery) that brings the event."""
    source: str
    """Who sent it: the sender, or the producer behind a broker."""
    line: int
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Handler:
    """One per event a service consumes."""

    event: str
    name: str
    cases: tuple[HandlerCase, ...]

    @property
    def line(self) -> int:
        return self.cases[0].line

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.source for c in self.cases))


@dataclass(frozen=True, slots=True, eq=False)
class ServiceChoreography:
    """Choreography: one service's entry actions, handlers and the events it uses."""

    participant: str
    name: str
    class_name: str
    entry: tuple[Action, ...]
    handlers: tuple[Handler, ...]
    publishes: tuple[str, ...]
    consumes: tuple[str, ...]
    joins: tuple[Join, ...] = ()
    timers: tuple[Timer, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Choreography:
    """The choreography of a diagram: every service and every event."""

    services: tuple[ServiceChoreography, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Variant:
    """What an operation does when called from one place in the diagram."""

    call: int
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """Orchestration: an operation a service offers, and how each call runs."""

    name: str
    request: str
    reply: str | None
    calls: tuple[int, ...]
    """The messages that invoke this operation."""
    lines: tuple[int, ...]
    variants: tuple[Variant, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ServiceOrchestration:
    """Orchestration: one service and the operations it offers."""

    participant: str
    name: str
    class_name: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Orchestration:
    """The orchestration of a diagram: the workflow and the services it calls."""

    orchestrator: str
    name: str
    class_name: str
    synthetic: bool
    reason: str
    trigger: int | None
    """The message that starts the workflow (a client calling the orchestrator)."""
    workflow: tuple[Action, ...]
    services: tuple[ServiceOrchestration, ...]
    prelude: tuple[int, ...] = ()
    """Messages before the trigger: the chain that calls the orchestrator."""
    postlude: tuple[int, ...] = ()
    """Replies that close the prelude's requests once the workflow is done."""
    replies: tuple[tuple[int, ...], ...] | None = None
    """Per message, the replies the code waits for (the analysis' roles, less the calls
    made in a loop and answered after it); None: the analysis' own."""

# built by the thousand for a large diagram (see model/quick_init.py)
quicken(Publish, LocalStep, Comment, Arrive, Join, Call, Send, Lost, Await, Reply, Received,
        Branch, Fragment, HandlerCase, Handler, ServiceChoreography, Choreography, Variant,
        Operation, ServiceOrchestration, Orchestration)
