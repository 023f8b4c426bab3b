"""The builder's semantic rules (`mermaidgen/mermaid/builder.py`): what mermaid.js rejects after
parsing, with the error a user reads, and what the rules make of participants.

The conformance suite checks *that* such diagrams fail at the right line; these tables pin
the rest of the contract, the message and the hint that say what to change, and the cases
mutation testing showed no other test held (docs/mutation.md).
"""

from __future__ import annotations

import pytest
import yaml

from mermaidgen import DiagramError, parse
from mermaidgen.model import Diagram

# The metadata is read by libyaml's loader where PyYAML has it, else by PyYAML's own: they
# word the same mistake differently.
YAML_SAYS_NO_NODE = ("did not find expected node content" if yaml.__with_libyaml__
                     else "expected the node content, but found '}'")

NOT_ACTIVE_HINT = ("activate it first (`activate {p}`, or `+` before it as a receiver: "
                   "`A->>+B`); note that `-` deactivates the *sender*")


def _parse(body: str) -> Diagram:
    return parse("sequenceDiagram\n" + body + "\n", source="t.mmd")


def _error(body: str):
    with pytest.raises(DiagramError) as caught:
        _parse(body)
    return caught.value.problems[0]


ERRORS = [
    # (id, body, (line, column), message, hint)
    ("created-participant-sends-the-next-message",
     "create participant C\nC->>A: hi", (2, 1),
     "`C` is created here, but the next message (line 3) goes to `A`, not to `C`",
     "the message right after `create participant C` must be sent to `C`"),
    ("created-participant-not-in-the-next-message",
     "A->>B: x\ncreate participant C\nA->>B: y", (3, 1),
     "`C` is created here, but the next message (line 4) goes to `B`, not to `C`",
     "the message right after `create participant C` must be sent to `C`"),
    ("create-an-existing-participant",
     "A->>B: x\ncreate participant B\nA->>B: y", (3, 1),
     "`B` already exists, so it cannot be created here",
     "mermaid allows one participant per id, even after `destroy`; create a new id with "
     "an alias: `create participant C2 as B`"),
    ("destroyed-participant-not-in-the-next-message",
     "A->>B: x\ndestroy B\nA->>C: y", (3, 1),
     "`B` is destroyed here, but the next message (line 4, `A` to `C`) does not involve it",
     "the message right after `destroy B` must be sent to or from `B`"),
    ("deactivate-an-inactive-participant",
     "A->>B: x\ndeactivate A", (3, 1),
     "`A` is not active, so it cannot be deactivated (`deactivate`)",
     NOT_ACTIVE_HINT.format(p="A")),
    ("deactivate-twice",
     "A->>+B: x\ndeactivate B\ndeactivate B", (4, 1),
     "`B` is not active, so it cannot be deactivated (`deactivate`)",
     NOT_ACTIVE_HINT.format(p="B")),
    ("minus-deactivates-the-sender-not-the-receiver",
     "A->>+B: x\nA-->>-B: y", (3, 1),
     "`A` is not active, so it cannot be deactivated (`-` in `A-->>-B` ends `A`'s "
     "activation)",
     NOT_ACTIVE_HINT.format(p="A")),
    ("participant-in-two-boxes",
     "box Blue Front\nparticipant A\nend\nbox Red Back\nparticipant A\nend", (6, 1),
     "participant `A` is already in the box `Front`; a participant can belong to one box "
     "only", None),
    ("participant-in-two-untitled-boxes-names-the-box-by-number",
     "box Blue\nparticipant A\nend\nbox Red\nparticipant A\nend", (6, 1),
     "participant `A` is already in the box `1`; a participant can belong to one box only",
     None),
    ("metadata-that-is-not-yaml",
     "participant A@{ type: [ }", (2, 14),
     "invalid metadata for `A`: " + YAML_SAYS_NO_NODE,
     'write it as YAML or JSON: `@{ "type": "database" }`'),
]


@pytest.mark.parametrize("body, where, message, hint",
                         [pytest.param(*e[1:], id=e[0]) for e in ERRORS])
def test_semantic_error(body: str, where: tuple[int, int], message: str,
                        hint: str | None) -> None:
    problem = _error(body)
    assert (problem.line, problem.column) == where
    assert problem.message == message
    assert problem.hint == hint
    assert problem.code == "semantic"


ACCEPTED = [
    # (id, body): diagrams the rules must let through
    ("created-participant-receives-the-next-message", "create participant C\nA->>C: hi"),
    ("destroyed-participant-sends-the-next-message", "A->>B: x\ndestroy B\nB->>A: bye"),
    ("destroyed-participant-receives-the-next-message", "A->>B: x\ndestroy B\nA->>B: bye"),
    ("a-note-between-create-and-its-message",
     "create participant C\nNote over A: making C\nA->>C: hi"),
    ("plus-then-minus", "A->>+B: x\nB-->>-A: y"),
    ("activate-twice-deactivate-twice",
     "activate A\nactivate A\nA->>B: x\ndeactivate A\ndeactivate A"),
    ("same-box-twice", "box Front\nparticipant A\nend\nbox Front\nparticipant B\nend"),
    ("redeclared-in-its-own-box", "box Front\nparticipant A\nparticipant A as Alpha\nend"),
]


@pytest.mark.parametrize("body", [pytest.param(a[1], id=a[0]) for a in ACCEPTED])
def test_accepted(body: str) -> None:
    assert _parse(body).participants


def test_metadata_error_says_why() -> None:
    # a character YAML cannot read: the error still says why, at the metadata
    problem = _error('participant A@{ type: "\x01" }')
    assert problem.message.startswith("invalid metadata for `A`: "), problem.message
    assert "character" in problem.message, problem.message
    assert (problem.line, problem.column) == (2, 14)


def test_json_that_mermaid_ignores_is_a_warning() -> None:
    d = _parse("participant A\nlinks A: not json\nproperties A: [1]\nA->>A: x")
    assert [(w.code, w.severity, w.span.line, w.span.column, w.message)
            for w in d.warnings] == [
        ("ignored-json", "warning", 3, 1,
         "`links` for `A` is not a JSON object, so mermaid ignores it"),
        ("ignored-json", "warning", 4, 1,
         "`properties` for `A` is not a JSON object, so mermaid ignores it"),
    ]
    assert not d.participants[0].links and not d.participants[0].properties


LINKS = [
    # (id, statements, links, properties)
    ("url-keeps-its-own-at-sign", "link A: Mail @ https://x.test/u@h",
     {"Mail": "https://x.test/u@h"}, {}),
    ("entities-in-a-url", "link A: Q @ https://x.test/?a#equals;1#amp;b",
     {"Q": "https://x.test/?a=1&b"}, {}),
    ("details-are-ignored", 'details A: {"k": "v"}\ndetails A: not json', {}, {}),
    ("links-json", 'links A: {"Docs": "https://x.test"}', {"Docs": "https://x.test"}, {}),
    ("properties-json", 'properties A: {"owner": "team"}', {}, {"owner": "team"}),
]


@pytest.mark.parametrize("statements, links, properties",
                         [pytest.param(*k[1:], id=k[0]) for k in LINKS])
def test_links_and_properties(statements: str, links: dict, properties: dict) -> None:
    d = _parse(f"participant A\n{statements}\nA->>A: x")
    assert dict(d.participants[0].links) == links
    assert dict(d.participants[0].properties) == properties
    assert not d.warnings


BOXES = [
    # (id, box line, title, colour, wrap)
    ("transparent-is-no-colour", "box transparent Front", "Front", None, None),
    # mermaid.js takes only a lower-case `transparent` for "no colour" (the oracle)
    ("upper-case-transparent-is-a-colour", "box TRANSPARENT Front", "Front", "TRANSPARENT",
     None),
    ("title-only", "box Front", "Front", None, None),
    ("colour-only", "box rgb(1,2,3)", None, "rgb(1,2,3)", None),
    ("named-colour-and-title", "box Aqua Front", "Front", "Aqua", None),
    ("wrapped-title", "box wrap:Back", "Back", None, True),
    ("title-not-starting-with-a-word", "box -Dash", "-Dash", None, None),
]


@pytest.mark.parametrize("line, title, color, wrap",
                         [pytest.param(*b[1:], id=b[0]) for b in BOXES])
def test_box_label(line: str, title: str | None, color: str | None,
                   wrap: bool | None) -> None:
    box = _parse(f"{line}\nparticipant A\nend").boxes[0]
    assert (box.title, box.color, box.wrap, box.participants) == (title, color, wrap, ("A",))


PARTICIPANTS = [
    # (id, body, [(id, label, declared, box)])
    ("implicit-participants-are-not-declared", "A->>B: x",
     [("A", "A", False, None), ("B", "B", False, None)]),
    ("a-late-declaration-declares-and-relabels", "A->>B: x\nparticipant A as Alpha",
     [("A", "Alpha", True, None), ("B", "B", False, None)]),
    ("a-redeclaration-outside-its-box-stays-in-the-box",
     "box Front\nparticipant A\nend\nparticipant A as Alpha", [("A", "Alpha", True, 0)]),
    ("a-redeclaration-without-label-keeps-the-label",
     "participant A as Alpha\nparticipant A", [("A", "Alpha", True, None)]),
]


@pytest.mark.parametrize("body, expected", [pytest.param(*p[1:], id=p[0])
                                             for p in PARTICIPANTS])
def test_participants(body: str, expected: list) -> None:
    d = _parse(body)
    # `is` on purpose: the model's JSON form says `false`, never `null`
    assert [(p.id, p.label, p.declared, p.box) for p in d.participants] == expected
    assert all(p.declared is True or p.declared is False for p in d.participants)


def test_the_diagram_keeps_its_source_name() -> None:
    assert _parse("A->>B: x").source == "t.mmd"


def test_the_same_metadata_is_read_once_per_diagram(monkeypatch) -> None:
    """Participants often share their metadata: the YAML of one text is read once (a diagram
    of 20,000 such declarations spent half its parse in YAML), and every declaration still
    gets its values, or its error."""
    from mermaidgen.mermaid import bounded_yaml

    read: list[str] = []
    real = bounded_yaml.load
    monkeypatch.setattr(bounded_yaml, "load", lambda text, **kw: read.append(text)
                        or real(text, **kw))
    kinds = [f'participant P{i}@{{ "type": "database", "alias": "Db {i % 2}" }}'
             for i in range(4)]
    diagram = _parse("\n".join(kinds) + "\nP0->>P1: x")
    assert [(p.id, p.kind, p.label) for p in diagram.participants] == [
        ("P0", "database", "Db 0"), ("P1", "database", "Db 1"), ("P2", "database", "Db 0"),
        ("P3", "database", "Db 1")]
    assert len(read) == 2
    with pytest.raises(DiagramError) as caught:
        _parse('participant A@{ "type": [ }\nparticipant B@{ "type": [ }\nA->>B: x')
    assert [(p.message, p.line) for p in caught.value.problems] == [
        (f"invalid metadata for `A`: {YAML_SAYS_NO_NODE}", 2),
        (f"invalid metadata for `B`: {YAML_SAYS_NO_NODE}", 3)]
    assert len(read) == 3
