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

from mermaidgen.analysis import Analysis
from mermaidgen.model import Block, Diagram, Message, Participant, Section, Span, Statement
from mermaidgen.projection.views import (
    Action,
    Await,
    Call,
    Comment,
    Fragment,
    LocalStep,
    Received,
    Reply,
    Send,
)


def projected(analysis: Analysis, style: str) -> Diagram:
    if style == "choreography":
        return analysis.diagram
    return _orchestration_diagram(analysis)


def _orchestration_diagram(analysis: Analysis) -> Diagram:
    view = analysis.orchestration
    diagram = analysis.diagram
    messages = [m.occurrence.message for m in analysis.messages]
    variants = {v.call: v.actions for s in view.services for op in s.operations
                for v in op.variants}
    orchestrator = view.orchestrator
    answer_to: dict[int, str] = {}  # call -> who its replies go back to

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
                out.extend(convert(variants.get(a.message, ()), a.service))
            elif isinstance(a, Await):
                out.append(message(a.service, orchestrator, a.text, messages[a.message]))
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
    span = diagram.span
    participants = [Participant(orchestrator, orchestrator, "participant", span, True)]
    for p in diagram.participants:
        if p.id != orchestrator and p.id not in analysis.brokers:
            participants.append(Participant(p.id, p.label, p.kind, p.span, True))
        elif p.id == orchestrator:
            participants[0] = Participant(p.id, p.label, p.kind, p.span, True)
    title = f"{diagram.title or 'Diagram'} (as an orchestration)"
    return Diagram(tuple(participants), tuple(statements), span, title=title,
                   source=diagram.source)


def _block(fragment: Fragment, convert) -> Block:
    span = Span(fragment.line, 1, fragment.line, 1)
    sections = tuple(Section(b.label, convert(b.actions), Span(b.line, 1, b.line, 1))
                     for b in fragment.branches)
    return Block(fragment.kind, sections, span)  # type: ignore[arg-type]
