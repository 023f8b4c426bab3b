"""Trace conformance: could a recorded run be a run of its sequence diagram?

Standard library only: this package and `keys.py` are copied verbatim into every generated
package (`_generated/checker/`), where mermaidgen is not installed; its imports are
relative. Its modules, each importing only those before it: `data` (the contract's shape,
`nest`), `sagas` (`undone_steps`), `program` (the contract compiled), `search` (a run over
a trace) and `verdict` (`check`, and the explanation of a failure). Plain data in, plain
data out: `check(contract, trace)`; the contract format is described in `check` (nested)
and `nest` (the same as a flat stream of rows, for diagrams nested too deep for a Python
literal or JSON).

Semantics (`conformance.md`), with the choices made where the spec leaves room:

* Each message is one event. m1 must precede m2 when m1 is *drawn before* m2 and they have
  the same sender, or m1's receiver is m2's sender; transitively. A lost message (a
  contract message with `"lost": true`: `-x` that neither answers nor destroys) reaches
  nobody, so it orders only its sender's later sends, never its receiver's. A message
  with `"after": P` also waits for what P's next send would (P's last send and what P
  received since): a projection's message that is recorded when P takes it (a message
  an orchestrator awaits is recorded when its workflow asks for it). Texts are compared by
  `keys.event_key`, participants exactly. The trace must hold exactly the messages of one
  scenario (a choice of sections and iteration counts): nothing missing, nothing extra.
* Relays (`"relays"`: the broker participants): a broker passes each event on when it is
  published, not after everything it received before. A relay's send (a delivery, a
  forward, an ack) waits only for the latest message into the relay with the same event
  key (else the latest message into it at all), and for the relay's previous send to the
  same receiver of an event from the same publisher (order is kept per publisher, relay
  and receiver). What the receiver sends next depends on the delivery as usual.
* Drawn before: document order, except that two messages in different sections of one
  `par` are never drawn before one another. Causality between par sections therefore
  exists only through messages outside the par (everything drawn before the par precedes
  what depends on it inside, and the messages after the par depend on every section per
  the general rule); a section's message never waits for another section's, because the
  generated code runs the sections concurrently (`asyncio.gather`).
* `alt`: exactly one section. `opt`: its section or nothing. `loop`: one or more
  iterations (zero is not a run of the diagram); an iteration that sent nothing is not
  repeated. `rect` has no effect (callers flatten it; if not, the checker does);
  `par_over` is `par`.
* `critical`: the main section in full; or, for one option, a proper prefix of the main
  section in document order (possibly empty) followed by that option's section: an
  option means the main section did not complete. The option's decider (the sender of
  its first message) acts on its own (a timer, a failure): what it received in the main
  section since its last send there had not reached it, so it does not order the
  option (a late reply conforms, before or after the option). The whole main section
  counts as a prefix only when it ends with such receipts (the decider still waited).
* Sagas: in an option of a `critical`, a compensation paired with a step of the main
  section (`undone_steps`: the rule the generators use too), and what follows it up to
  its sender's next message (its reply), happens only when the prefix holds that step's
  message: the code undoes only the steps the run took, the last one first (the diagram
  draws them so, or they are not paired). A step counts as taken once its message was
  sent, answered or not (the code registers the compensation right before the call: the
  call may have done its work). A compensation of a step before the critical always
  runs. Unpaired messages of the option happen as drawn. Such an option never follows
  the whole main section: a saga compensates because a step failed, and a step that
  failed has no reply.
* `break`, when taken: its section, then nothing more from the block whose section holds
  the `break`: for a loop no further iteration, for alt/opt/critical/break the rest of
  that section is skipped, at top level the run ends. In a `par` it ends only its own
  section: the other sections run concurrently and are not cancelled.

Algorithm: the contract is compiled to a flat instruction list (no recursion, so contracts
nested thousands of levels deep work). A depth-first search unfolds the scenario lazily,
driven by the trace: each trace message is matched to an *enabled* unmatched message (all
its predecessors matched) with the same sender, receiver and event key. Outside `par`, at
most one such message can be enabled (a sender's messages are totally ordered), so the
match is forced; sections, iteration counts, the cut-off point of a critical's main
section and (for the same message enabled in two par sections) the match itself are
choice points, undone through a trail on failure. A choice dies as soon as it unfolds
more messages of a kind than the rest of the trace holds (so loops never iterate past the
trace), or when the next trace message can no longer come (its sender still waits for
an unmatched message, or no instruction left can send it). Predecessors are kept as
per-participant frontiers (a send waits for the participant's last send and what it
received since), so unfolding and matching cost about O(1) per message (more for a
participant that receives many messages before it sends again): the search is linear in
trace + diagram when no choice has to be revisited, and a revisited choice only redoes
the work after it. Before searching, each message kind's count in the trace is
compared with the fewest and most any scenario sends (a missing or extra message then
needs no search at all). The search stops after `max_scenarios` revisited choices or
`max_steps` steps and says so; the known way to reach that is a failing trace through a
`par` whose sections hold the very same message (each pairing is tried).

When no scenario fits, the explanation comes from the scenario that matched the longest
prefix of the trace (the first one the search found), replayed; from the first message
that could not be matched on, each trace message is matched exactly if possible, else in
the cheapest of three ways, judged by the differences they lead to over the next few
trace messages: by assuming messages the trace lacks (they become *missing*; as few as
possible), as *out of order* (it came before a message it depends on), or as
*unexpected*. What the scenario still needs when the trace ends is missing. This is a
heuristic (the smallest explanation is a search problem of its own) with its own budget
(a quarter of `max_steps`). Trace positions are 0-based in the returned data and 1-based
("trace event 3") in the explanation.
"""

from __future__ import annotations

from .data import BLOCK_KINDS, CONTRACT_VERSION, ContractError, nest
from .sagas import undone_steps
from .verdict import MAX_SCENARIOS, MAX_STEPS, check

__all__ = ["BLOCK_KINDS", "CONTRACT_VERSION", "MAX_SCENARIOS", "MAX_STEPS", "ContractError",
           "check", "nest", "undone_steps"]
