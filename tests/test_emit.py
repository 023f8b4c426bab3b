"""`to_mermaid`: canonical Mermaid text that parses back to the same model.

Every diagram of the conformance suite, the samples and the seed corpus goes through
parse -> emit -> parse, and both models must agree in everything but source positions.
Focused tables cover escaping, participant names that cannot be written as they are,
the declaration layout (order, boxes, `create`), config, deep nesting, and what no text
can express. A property test throws random diagrams (nasty names and texts) at it.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from mermaidgen import DiagramError, MermaidgenError, parse
from mermaidgen.mermaid.emit import INDENT, MAX_INDENT, UnrepresentableError, to_mermaid
from mermaidgen.model import Autonumber, Block, Diagram, Message, Note, Section, Span
from mermaidgen.model.serialize import to_dict

PROJECT = Path(__file__).resolve().parents[1]
DIAGRAMS = PROJECT / "tests" / "conformance" / "diagrams"
SEED = PROJECT.parent / "shared" / "corpus" / "seed"

# Warnings about the *input* that the emitted text cannot have: it is not flattened, holds
# no stray characters, no ignored JSON and no unclosed `accDescr {`.
INPUT_WARNINGS = {"flattened-diagram", "stray-character", "ignored-json", "unclosed-acc-descr"}
# What emission does not keep: positions, the file name, warnings (checked separately), and
# `declared` (every participant is declared: that is what keeps the display order).
DROPPED_KEYS = frozenset({"line", "column", "source", "declared", "warnings"})


def comparable(diagram: Diagram) -> list[tuple[str, Any]]:
    """The model's JSON form, without what emission does not keep, plus the box wrap flags
    (which the JSON form leaves out), as a pre-order list of (key, value) pairs: dicts and
    lists appear as their size, then their items.

    Flat and built without recursion: `==` on a 5,000-deep nested dict would recurse.
    """
    data = to_dict(diagram)
    data["box_wraps"] = [b.wrap for b in diagram.boxes]
    flat: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [("diagram", data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            items = [(k, v) for k, v in value.items() if k not in DROPPED_KEYS]
            flat.append((key, f"{{{len(items)}}}"))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            flat.append((key, f"[{len(value)}]"))
            stack.extend(reversed([(f"{key}[{i}]", v) for i, v in enumerate(value)]))
        else:
            flat.append((key, value))
    return flat


def round_trip(diagram: Diagram) -> tuple[str, Diagram]:
    """Emit, parse back, and check that nothing but positions changed."""
    text = to_mermaid(diagram)
    assert text.endswith("\n")
    again = parse(text, source="<emitted>")
    assert comparable(again) == comparable(diagram), f"emitted text:\n{text}"
    assert again.warnings == (), f"emitted text has warnings {again.warnings}:\n{text}"
    return text, again


def corpus(*folders: Path) -> list[Any]:
    files = [f for folder in folders for f in sorted(folder.glob("*.mmd"))]
    return [pytest.param(f, id=f.name) for f in files]


ALL = corpus(DIAGRAMS / "valid", DIAGRAMS / "flattened", PROJECT / "samples", SEED)
FLATTENED = [
    *[pytest.param(f, DIAGRAMS / "valid" / f.name.replace(".mmd", ".multiline.mmd"), id=f.name)
      for f in sorted((DIAGRAMS / "flattened").glob("*.mmd"))],
    *[pytest.param(f, f.with_name(f.name.replace("-oneline", "")), id=f.name)
      for f in sorted(SEED.glob("*-oneline.mmd"))],
]


def load(path: Path) -> Diagram:
    return parse(path.read_bytes().decode("utf-8"), source=str(path))


# -- every diagram we have -------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL)
def test_round_trip(path: Path) -> None:
    diagram = load(path)
    assert {w.code for w in diagram.warnings} <= INPUT_WARNINGS
    round_trip(diagram)


@pytest.mark.parametrize("path", ALL)
def test_emitted_text_is_stable(path: Path) -> None:
    text = to_mermaid(load(path))
    assert to_mermaid(parse(text)) == text


@pytest.mark.parametrize(("flat", "multiline"), FLATTENED)
def test_flattened_diagram_comes_out_as_its_multiline_twin(flat: Path, multiline: Path) -> None:
    diagram = load(flat)
    assert "flattened-diagram" in {w.code for w in diagram.warnings}
    text, again = round_trip(diagram)
    assert text.count("\n") > 3
    assert to_mermaid(load(multiline)) == text


def test_sample_is_already_canonical() -> None:
    path = PROJECT / "samples" / "checkout.mmd"
    assert to_mermaid(load(path)) == path.read_text(encoding="utf-8")


# -- texts -----------------------------------------------------------------------------------

BASE = """sequenceDiagram
    title T
    accTitle: A
    accDescr: D
    box Aqua Team
        participant A as Label
    end
    A->>B: text
    Note over A,B: text
    alt text
    else text
    end
"""

TEXTS = [  # (id, model text, wrap)
    ("hash", "issue #5", None),
    ("semicolon", "a;b", None),
    ("entity-typed-literally", "#35;", None),
    ("unknown-named-entity", "#foo; stays", None),
    ("named-entity-text", "&quot; and &amp;", None),
    ("wrap-lookalike", "wrap: not a prefix", None),
    ("nowrap-lookalike", ":nowrap:x", None),
    ("explicit-wrap", "wrap: twice", True),
    ("explicit-nowrap", "text", False),
    ("empty-wrap", "", True),
    ("empty", "", None),
    ("br", "one<br/>two<br>three", None),
    ("leading-blank", " x", None),
    ("trailing-blank", "x ", None),
    ("only-blanks", "  ", None),
    ("nbsp-edges", "\u00a0x\u00a0", None),
    ("line-break", "a\nb", None),
    ("carriage-return", "a\rb", None),
    ("directive-lookalike", "%%{init: {}}%%", None),
    ("comment-lookalike", "%% not a comment", None),
    ("html-attribute", '<a href="x">link</a>', None),
    ("unclosed-tag", "a <b and more", None),
    ("placeholder-chars", "\ue00035\ue001", None),
    ("legacy-style-rule", "style:x#y;z", None),
    ("legacy-classdef-rule", "classDef a:b#c;d", None),
    ("colons", "::x: y", None),
    ("arrows-and-commas", "A->>B, C-->>D: e", None),
    ("unicode", "é ✓ 中 \U0001f600", None),
]
NONEMPTY_TEXTS = [t for t in TEXTS if t[1]]


def with_texts(text: str, wrap: bool | None) -> Diagram:
    """BASE with every message, note and section text (and the alias) replaced."""
    d = parse(BASE)
    message, note, block = d.statements
    assert isinstance(message, Message) and isinstance(note, Note) and isinstance(block, Block)
    sections = tuple(dataclasses.replace(s, label=text, wrap=wrap) for s in block.sections)
    label = dataclasses.replace(d.participants[0], label=text, wrap=wrap)
    return dataclasses.replace(d, participants=(label, *d.participants[1:]), statements=(
        dataclasses.replace(message, text=text, wrap=wrap),
        dataclasses.replace(note, text=text, wrap=wrap),
        dataclasses.replace(block, sections=sections),
    ))


@pytest.mark.parametrize(("text", "wrap"), [pytest.param(t, w, id=i) for i, t, w in TEXTS])
def test_texts_come_back_exactly(text: str, wrap: bool | None) -> None:
    _, again = round_trip(with_texts(text, wrap))
    message = again.statements[0]
    assert isinstance(message, Message)
    assert (message.text, message.wrap) == (text, wrap)


@pytest.mark.parametrize("text", [pytest.param(t, id=i) for i, t, _ in NONEMPTY_TEXTS])
def test_title_and_accessibility_texts_come_back_exactly(text: str) -> None:
    d = dataclasses.replace(parse(BASE), title=text, acc_title=text, acc_descr=text)
    _, again = round_trip(d)
    assert (again.title, again.acc_title, again.acc_descr) == (text, text, text)


@pytest.mark.parametrize(("title", "wrap"), [pytest.param(t, w, id=i) for i, t, w in TEXTS])
def test_box_titles_come_back_exactly(title: str, wrap: bool | None) -> None:
    d = parse(BASE)
    for color in (None, "Aqua", "rgb(1, 2, 3)"):
        box = dataclasses.replace(d.boxes[0], title=title or None, color=color, wrap=wrap)
        round_trip(dataclasses.replace(d, boxes=(box,)))


@pytest.mark.parametrize(("line", "emitted"), [
    ("A->>B: issue #35;5", "A->>B: issue #35;5"),
    ("A->>B: a#59;b", "A->>B: a#59;b"),
    # mermaid decodes `#35;`, so a text that *shows* `#35;` was typed as `#35;35#59;`
    ("A->>B: #35;35#59;", "A->>B: #35;35#59;"),
    ("A->>B: unknown #foo; kept", "A->>B: unknown #foo; kept"),
    ("A->>B: #119;rap: literal", "A->>B: #119;rap: literal"),
    ("A->>B:wrap:x", "A->>B: wrap: x"),
    ("A->>B::nowrap: x", "A->>B: nowrap: x"),
    ("A->>B: one<br/>two", "A->>B: one<br/>two"),
    ('A->>B: login(user="admin")', 'A->>B: login(user="admin")'),
    ("A->>B: <a href=#quot;x#quot;>l</a>", 'A->>B: <a href=#34;x">l</a>'),
    ("A->>B: a <b> c", "A->>B: a <b> c"),
    ("A->>B: unclosed <b", "A->>B: unclosed #60;b"),  # it would reach the next line
    ("A->>B: #32;padded#32;", "A->>B: #32;padded#32;"),
    ("A->>B: 100%%#123;x", "A->>B: 100%%#123;x"),
    ("A->>B:", "A->>B:"),
    ("A ->> + B : spaced", "A->>+B: spaced"),
    ("A()-->>()B: both", "A()-->>()B: both"),
    ("Note over A,A: same twice", "Note over A: same twice"),
    ("loop", "loop"),
    ("autonumber 10 1", "autonumber 10"),
    ("autonumber 1.5 0.25", "autonumber 1.5 0.25"),
])
def test_canonical_spelling(line: str, emitted: str) -> None:
    text, _ = round_trip(parse(f"sequenceDiagram\n    participant A\n    participant B\n{line}\n"
                               + ("end\n" if line == "loop" else "")))
    assert INDENT + emitted + "\n" in text


def test_accessibility_values_keep_hash_and_semicolon() -> None:
    text, _ = round_trip(parse("sequenceDiagram\naccTitle: a;b #1\naccDescr: c;d\n"))
    assert "    accTitle: a;b #1\n    accDescr: c;d\n" in text


def test_multiline_accdescr_is_a_block() -> None:
    text, again = round_trip(parse("sequenceDiagram\naccDescr {\n  one\n  two\n}\n"))
    assert again.acc_descr == "one\ntwo"
    assert "    accDescr {\n        one\n        two\n    }\n" in text


def test_empty_accessibility_values() -> None:
    text, again = round_trip(dataclasses.replace(parse(BASE), acc_title="", acc_descr=""))
    assert (again.acc_title, again.acc_descr) == ("", "")
    assert text.endswith("    accTitle:\n")  # anywhere else it would read the next line


# -- participant names -----------------------------------------------------------------------

@pytest.mark.parametrize(("source", "line"), [
    # keywords at the start of a name: spell the first letter
    ("#101;nd->>B: x", "#101;nd->>B: x"),
    ("#78;ote->>B: x", "#78;ote->>B: x"),
    ("#111;pt-in->>B: x", "#111;pt-in->>B: x"),
    ("A->>#116;itle: x", "A->>#116;itle: x"),
    ("A->>accTitl#101;: x", "A->>#97;ccTitle: x"),
    # characters mermaid's name rule stops at, or reads as an arrow
    ("Max#45;xylo->>B: x", "Max#45;xylo->>B: x"),
    ("A#47;B/|-C: x", "A#47;B/|-C: x"),
    ("A->>Ali#44;ce: x", "A->>Ali#44;ce: x"),
    ("A->>B#59;C: x", "A->>B#59;C: x"),
    ("A->>x#64;y: x", "A->>x#64;y: x"),
    ("A->>#32;pad#32;: x", "A->>#32;pad#32;: x"),
    ("a as b->>B: x", "#97;#32;as b->>B: x"),
    # names that are fine as they are
    ("A- ->>B: x", "A- ->>B: x"),
    ("Room#35;1->>B: x", "Room#1->>B: x"),
    ("A->>l#105;nks: x", "A->>links: x"),
    ("Alice Smith->>B: x", "Alice Smith->>B: x"),
    ("title->>B: x", "title->>B: x"),
    ("endpoint->>B: x", "endpoint->>B: x"),
])
def test_names_mermaid_cannot_read_as_written_are_spelled(source: str, line: str) -> None:
    text, _ = round_trip(parse(f"sequenceDiagram\n{source}\n"))
    assert INDENT + line + "\n" in text


def test_spaced_name_with_a_label_is_spelled_without_blanks() -> None:
    # `participant Alice Smith as Al` would declare `Alice Smith as Al`: no alias with blanks
    text, again = round_trip(parse("sequenceDiagram\nactor Alice#32;Smith as Al\n"
                                   "Alice Smith->>B: hi\n"))
    assert (again.participants[0].id, again.participants[0].label) == ("Alice Smith", "Al")
    assert "    actor Alice#32;Smith as Al\n    participant B\n    Alice#32;Smith->>B: hi\n" in text


def test_declared_only_keyword_names_stay_as_written() -> None:
    # declarations have no keywords: `end` is only a problem where a message names it
    text, _ = round_trip(parse("sequenceDiagram\nparticipant end\nparticipant opt-in\n"))
    assert "    participant end\n    participant opt-in\n" in text


def test_destroy_of_a_name_that_never_became_a_participant() -> None:
    # (`destroy` reads its name like a declaration: no keywords there, so `end` is fine)
    text, again = round_trip(parse("sequenceDiagram\nA->>B: x\ndestroy #101;nd\n"))
    assert [p.id for p in again.participants] == ["A", "B"]
    assert text.endswith("    destroy end\n")


# -- layout ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    pytest.param(
        "A->>B: hi\ncreate participant C\nA->>C: hello\nA->>D: x\n",
        "participant A\nparticipant B\nA->>B: hi\ncreate participant C\nparticipant D\n"
        "A->>C: hello\nA->>D: x\n",
        id="create-stays-in-the-flow-and-later-names-follow-it"),
    pytest.param(
        "Web->>Api: call\nbox Aqua Backend\nparticipant Api\nparticipant Db\nend\n",
        "participant Web\nparticipant Api\nbox Aqua Backend\n    participant Db\n"
        "    participant Api\nend\nWeb->>Api: call\n",
        id="box-quirk-declared-after-use-is-in-the-box-but-not-listed"),
    pytest.param(
        "participant Y\nbox G\nparticipant X\nparticipant Y as Yv\nend\n",
        "participant Y as Yv\nbox G\n    participant X\n    participant Y as Yv\nend\n",
        id="box-lists-an-earlier-participant-redeclared-with-a-label"),
    pytest.param(
        "box B1\nparticipant X\nend\nparticipant Y\nbox B2\nparticipant Z\nend\n",
        "box B1\n    participant X\nend\nparticipant Y\nbox B2\n    participant Z\nend\n",
        id="boxes-in-order-between-participants"),
    pytest.param(
        "A->>B: x\ncreate participant C\nA->>C: y\nbox G\nparticipant C as Carl\nend\n",
        "participant A\nparticipant B\nA->>B: x\ncreate participant C as Carl\nbox G\n"
        "    participant C as Carl\nend\nA->>C: y\n",
        id="box-of-a-created-participant-comes-after-its-create"),
    pytest.param(
        "link A: Dash @ https://x\nproperties A: {\"class\": \"svc\"}\nA->>B: x\n",
        "participant A\nparticipant B\nlinks A: {\"Dash\": \"https://x\"}\n"
        "properties A: {\"class\": \"svc\"}\nA->>B: x\n",
        id="links-and-properties-as-json"),
    pytest.param(
        "participant D@{ \"type\": \"database\" } as Orders DB\nactor U\nU->>D: x\n",
        "participant D@{ \"type\": \"database\" } as Orders DB\nactor U\nU->>D: x\n",
        id="kinds-and-labels"),
])
def test_layout(source: str, expected: str) -> None:
    text, _ = round_trip(parse("sequenceDiagram\n" + source))
    body = "".join(INDENT + line + "\n" for line in expected.splitlines())
    assert text == "sequenceDiagram\n" + body


def test_blocks_are_indented_and_closed() -> None:
    text, _ = round_trip(parse("sequenceDiagram\nalt a\nA->>B: x\nelse b\npar c\nand d\n"
                               "critical e\noption f\nend\nend\nend\n"))
    assert text == ("sequenceDiagram\n    participant A\n    participant B\n    alt a\n"
                    "        A->>B: x\n    else b\n        par c\n        and d\n"
                    "            critical e\n            option f\n            end\n"
                    "        end\n    end\n")


def test_five_thousand_nested_blocks() -> None:
    depth = 5000
    source = "sequenceDiagram\n" + "loop l\n" * depth + "A->>B: deep\n" + "end\n" * depth
    text, again = round_trip(parse(source))
    lines = text.splitlines()
    assert len(lines) == 2 * depth + 4
    assert max(map(len, lines)) <= len(INDENT) * MAX_INDENT + len("A->>B: deep")
    assert to_mermaid(again) == text


# -- config ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("config", "starts"), [
    ({"sequence": {"mirrorActors": False}, "wrap": True}, "%%{init: "),
    ({"x": "it's <b> 100%%", "n": 1e20, "u": "é"}, "%%{init: "),
    ({"config": {"a": 1}}, "---\nconfig: "),  # a directive would rename `config`
    ({"when": datetime.date(2024, 1, 2)}, "---\nconfig:\n"),  # only YAML has dates
])
def test_config(config: dict[str, Any], starts: str) -> None:
    text, again = round_trip(dataclasses.replace(parse(BASE), config=config))
    assert text.startswith(starts)
    assert dict(again.config) == config


# -- what no text can say --------------------------------------------------------------------

def _replace_first(d: Diagram, **changes: Any) -> Diagram:
    return dataclasses.replace(d, statements=(dataclasses.replace(d.statements[0], **changes),
                                              *d.statements[1:]))


SIMPLE = parse("sequenceDiagram\nA->>B: x\nNote over A,B: n\n")
SPAN = Span(1, 1, 1, 1)


@pytest.mark.parametrize(("diagram", "fragment"), [
    pytest.param(dataclasses.replace(SIMPLE, participants=(
        dataclasses.replace(SIMPLE.participants[0], id=""), SIMPLE.participants[1]),
        statements=()), "participant ``", id="empty-name"),
    pytest.param(_replace_first(SIMPLE, activate=True, central="receiver"),
                 "combines", id="plus-and-central"),
    pytest.param(_replace_first(SIMPLE, arrow="=>"), "unknown arrow", id="unknown-arrow"),
    pytest.param(_replace_first(SIMPLE, sender="Nobody"), "`Nobody`", id="unknown-sender"),
    pytest.param(dataclasses.replace(SIMPLE, statements=(Note("over", ("A",), "n", SPAN),)),
                 "takes two", id="note-over-one-name"),
    pytest.param(dataclasses.replace(SIMPLE, statements=(Autonumber(SPAN, 1.005, 1),)),
                 "two decimals", id="autonumber-three-decimals"),
    pytest.param(dataclasses.replace(SIMPLE, statements=(Autonumber(SPAN, -1, 1),)),
                 "not negative", id="autonumber-negative"),
    pytest.param(dataclasses.replace(SIMPLE, statements=(Block("loop", (
        Section("a", (), SPAN), Section("b", (), SPAN)), SPAN),)),
                 "2 sections", id="loop-with-two-sections"),
    pytest.param(dataclasses.replace(SIMPLE, title=""), "empty title", id="empty-title"),
    pytest.param(dataclasses.replace(SIMPLE, config={"x": object()}), "config",
                 id="config-not-data"),
])
def test_unrepresentable_models_raise_a_clear_error(diagram: Diagram, fragment: str) -> None:
    with pytest.raises(UnrepresentableError) as err:
        to_mermaid(diagram)
    assert isinstance(err.value, MermaidgenError)
    assert fragment in str(err.value)


# -- random diagrams -------------------------------------------------------------------------

NAMES = ["A", "B", "Api", "x y", "a-b", "A(1)", "a/b", "Room#1", "Room#35;1", "#101;nd",
         "a#32;b", "x#64;y", "q#44;r", "αβ", "loop1", "1", "10.5", "_", "p%q", "e#58;f",
         "Mx#45;xylo", "w#35;", "k()", "A B C"]
DECLARABLE = [*NAMES, "end", "opt-in", "note", "links", "title", "as", "Z"]
TEXT_SOURCES = ["hi", "", "a#35;b", "x#59;y", "wrap: w", "nowrap: n", ":wrap:c", "#119;rap: x",
                "<br/>two", "%%#123;i", "<a href=#quot;x#quot;>l</a>", "#foo; kept", "#32;lead",
                "style:a#35;b", "100%", "<b", "#35;35#59;", "::x", "multi#10;line", "é ü"]
ARROWS = ["->>", "-->>", "->", "-->", "<<->>", "-x", "--)", "-|\\", "--//", "/|-", "\\\\--"]
KINDS = ["database", "queue", "weird kind", "a}b", "actor"]


@st.composite
def diagrams(draw: st.DrawFn) -> str:
    name, text = st.sampled_from(NAMES), st.sampled_from(TEXT_SOURCES)
    out, open_blocks = ["sequenceDiagram"], []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["decl", "msg", "msg", "msg", "note", "block", "end", "box",
                                     "auto", "meta", "links", "activate"]))
        if kind == "decl":
            meta = draw(st.sampled_from(["", *[f'@{{ "type": "{k}" }}' for k in KINDS]]))
            alias = draw(st.sampled_from(["", " as " + draw(text)]))
            create = draw(st.sampled_from(["", "", "", "create "]))
            out.append(f"{create}participant {draw(st.sampled_from(DECLARABLE))}{meta}{alias}")
        elif kind == "msg":
            mod = draw(st.sampled_from(["", "", "+", "-", "()"]))
            out.append(f"{draw(name)}{draw(st.sampled_from(ARROWS))}{mod}{draw(name)}: "
                       f"{draw(text)}")
        elif kind == "note":
            out.append(f"Note {draw(st.sampled_from(['over', 'left of', 'right of']))} "
                       f"{draw(name)}: {draw(text)}")
        elif kind == "block":
            block = draw(st.sampled_from(["loop", "alt", "par", "critical", "rect"]))
            open_blocks.append(block)
            out.append(f"{block} {draw(text)}")
        elif kind == "end" and open_blocks:
            section = {"alt": "else", "par": "and", "critical": "option"}.get(open_blocks[-1])
            if section and draw(st.booleans()):
                out.append(f"{section} {draw(text)}")
            else:
                open_blocks.pop()
                out.append("end")
        elif kind == "box":
            color = draw(st.sampled_from(["", "Aqua ", "rgb(1,2,3) ", "transparent "]))
            members = [f"participant {draw(st.sampled_from(DECLARABLE))}"
                       + draw(st.sampled_from(["", " as " + draw(text)]))
                       for _ in range(draw(st.integers(0, 2)))]
            out += [f"box {color}{draw(text)}", *members, "end"]
        elif kind == "auto":
            out.append("autonumber" + draw(st.sampled_from(["", " 10", " 10 5", " off"])))
        elif kind == "meta":
            out.append(draw(st.sampled_from(["title ", "accTitle: ", "accDescr: "])) + "x"
                       + draw(text))
        elif kind == "links":
            out.append(f"links {draw(name)}: " + draw(st.sampled_from(
                ['{"a": "b#35;c"}', '{"k": [1, 2.5]}', '{"u": "x&amp;y"}'])))
        elif kind == "activate":
            out.append(f"activate {draw(name)}")
    out += ["end"] * len(open_blocks)
    return "\n".join(out) + "\n"


# 100 examples (300 before): each of three mutant emitters (`;` left unescaped, a leading
# blank left bare, `="` in a tag left as is) fails here at both counts (derandomized in
# CI; docs/development.md, "How long the suite takes")
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(diagrams())
def test_random_diagrams_round_trip(source: str) -> None:
    try:
        diagram = parse(source)
    except DiagramError:
        reject()  # mermaid rejects it too (bad names, `end` without a block, ...)
    text, again = round_trip(diagram)
    assert to_mermaid(again) == text
