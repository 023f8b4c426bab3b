"""The diagram the generated code implements, for each style (conformance.md: "which
diagram is the contract").

A choreography skeleton sends exactly the diagram's messages, so its contract is the
diagram itself. An orchestration skeleton sends what its workflow does: the
orchestrator's calls and their replies, the calls services make inside their operations,
and, for a diagram that was not drawn as an orchestration, the messages the orchestrator
relays on a sender's behalf. That projected diagram is built here as a model `Diagram`,
so it can be printed as Mermaid and reviewed next to the original.
"""

from __future__ import annotations

from dataclasses import replace

from mermaidgen.analysis import Analysis
from mermaidgen.contract import Projected
from mermaidgen.model import (
    Block,
    Destroy,
    Diagram,
    Message,
    Participant,
    Section,
    Span,
    Statement,
)
from mermaidgen.projection import orchestration_of
from mermaidgen.projection.views import (
    Action,
    Await,
    Call,
    Comment,
    Fragment,
    LocalStep,
    Lost,
    Received,
    Reply,
    Send,
)


def projected(analysis: Analysis, style: str) -> Diagram:
    if style == "choreography":
        return analysis.diagram
    return _orchestration_diagram(analysis)


def _orchestration_diagram(analysis: Analysis) -> Diagram:
    view = orchestration_of(analysis)
    diagram = analysis.diagram
    messages = [m.occurrence.message for m in analysis.messages]
    variants = {v.call: v.actions for s in view.services for op in s.operations
                for v in op.variants}
    orchestrator = view.orchestrator
    answer_to: dict[int, str] = {}  # call -> who its replies go back to
    # Orderings Mermaid cannot draw (contract.Projected), all true of the code, that keep
    # each participant's own order when the orchestrator sends some of its messages:
    # a message the workflow awaits is recorded when it asks for it, and the replies that
    # close its caller chain when it has finished (after what the orchestrator did);
    # a message relayed on P's behalf goes out after the steps before it have finished
    # (after what P did and received)
    taken: list[tuple[Message, str]] = [(messages[i], orchestrator) for i in view.postlude]

    def message(sender: str, receiver: str, text: str, like: Message,
                arrow: str | None = None) -> Message:
        return Message(sender, receiver, text, arrow or like.arrow, like.span)

    def convert(actions: tuple[Action, ...], caller: str) -> tuple[Statement, ...]:
        out: list[Statement] = []
        for a in actions:
            if isinstance(a, Call):
                original = messages[a.message]
                out.append(message(caller if a.relayed_from is None else orchestrator,
                                   a.service, a.text, original))
                if a.relayed_from is not None:
                    taken.append((out[-1], a.relayed_from))
                out.extend(convert(variants.get(a.message, ()), a.service))
                replies = [messages[r] for r in a.replies]
                back = caller if a.relayed_from is None else orchestrator
                answer_to[a.message] = back
                if a.decides:  # each reply opens the section it picks (a `Received`)
                    continue
                if len(replies) == 1:
                    out.append(message(a.service, back, replies[0].text, replies[0]))
                elif replies:
                    out.append(Block("alt", tuple(
                        Section(f"reply {k + 1}", (message(a.service, back, r.text, r),), r.span)
                        for k, r in enumerate(replies)), replies[0].span))
            elif isinstance(a, Send):
                original = messages[a.message]
                out.append(message(caller if a.relayed_from is None else orchestrator,
                                   a.service, a.text, original))
                if a.relayed_from is not None:
                    taken.append((out[-1], a.relayed_from))
                out.extend(convert(variants.get(a.message, ()), a.service))
            elif isinstance(a, Lost):  # sent, and never arrives: no operation follows
                out.append(message(caller if a.relayed_from is None else orchestrator,
                                   a.to, a.text, messages[a.message]))
                if a.relayed_from is not None:
                    taken.append((out[-1], a.relayed_from))
            elif isinstance(a, Await):
                out.append(message(a.service, orchestrator, a.text, messages[a.message]))
                taken.append((out[-1], orchestrator))
            elif isinstance(a, Received):
                out.append(message(a.service, answer_to.get(a.call, caller), a.text,
                                   messages[a.message]))
            elif isinstance(a, Reply):
                out.append(message(orchestrator, a.to, a.text, messages[a.message]))
            elif isinstance(a, LocalStep):
                out.append(message(caller, caller, a.text, messages[a.message]))
            elif isinstance(a, Fragment):
                out.append(_block(a, lambda acts: convert(acts, caller)))
            elif isinstance(a, Comment):
                continue
        return tuple(out)

    statements: list[Statement] = [messages[i] for i in view.prelude]
    if view.trigger is not None:
        first = messages[view.trigger]
        statements.append(message(first.sender, orchestrator, first.text, first))
    statements.extend(convert(view.workflow, orchestrator))
    statements.extend(messages[i] for i in view.postlude)
    # who sends each message in the code (the message is known by its source position)
    sent_as = {(m.span.line, m.span.column): m for m in _messages_in(statements)}
    span = diagram.span
    participants = [Participant(orchestrator, orchestrator, "participant", span, True)]
    for p in diagram.participants:
        if p.id != orchestrator and p.id not in analysis.brokers:
            participants.append(Participant(p.id, p.label, p.kind, p.span, True))
        elif p.id == orchestrator:
            participants[0] = Participant(p.id, p.label, p.kind, p.span, True)
    title = f"{diagram.title or 'Diagram'} (as an orchestration)"
    # The contract keeps the original's blocks and puts each message where the original
    # draws it, sent as the code sends it (a relay comes from the orchestrator): a choice
    # stays one choice however the code splits it between the workflow and the services'
    # operations, so that the projection refines the original (conformance.md). Messages
    # the code does not send (hops to and between brokers) are left out.
    kept = _rebuild(diagram.statements,
                    lambda m: sent_as.get((m.span.line, m.span.column)))
    return Projected(tuple(participants), kept, span, title=title, source=diagram.source,
                     taken_by={(m.span.line, m.span.column): p for m, p in taken})


def _messages_in(statements: list[Statement]) -> list[Message]:
    found: list[Message] = []
    stack = [iter(statements)]
    while stack:
        for s in stack[-1]:
            if isinstance(s, Message):
                found.append(s)
            elif isinstance(s, Block):
                stack.append(iter([x for sec in s.sections for x in sec.statements]))
                break
        else:
            stack.pop()
    return found


def _rebuild(statements: tuple[Statement, ...], keep) -> tuple[Statement, ...]:
    """The messages and blocks of `statements`, each message replaced by `keep(message)`
    (dropped when None), and the `destroy` statements (a `-x` right after one is no lost
    message: contract_of). Iterative: diagrams nest thousands of levels deep."""
    root: list[Statement] = []
    stack: list[tuple] = [("items", iter(statements), root)]
    while stack:
        frame = stack[-1]
        if frame[0] == "block":  # every section of the block is rebuilt
            stack.pop()
            _, block, outs, parent = frame
            parent.append(replace(block, sections=tuple(
                replace(sec, statements=tuple(out))
                for sec, out in zip(block.sections, outs, strict=True))))
            continue
        _, items, out = frame
        for s in items:
            if isinstance(s, Message):
                kept = keep(s)
                if kept is not None:
                    out.append(kept)
            elif isinstance(s, Destroy):
                out.append(s)
            elif isinstance(s, Block):
                outs: list[list[Statement]] = [[] for _ in s.sections]
                stack.append(("block", s, outs, out))
                for sec, sec_out in reversed(list(zip(s.sections, outs, strict=True))):
                    stack.append(("items", iter(sec.statements), sec_out))
                break
        else:
            stack.pop()
    return tuple(root)


def _block(fragment: Fragment, convert) -> Block:
    span = Span(fragment.line, 1, fragment.line, 1)
    sections = tuple(Section(b.label, convert(b.actions), Span(b.line, 1, b.line, 1))
                     for b in fragment.branches)
    return Block(fragment.kind, sections, span)  # type: ignore[arg-type]
