"""The template context is a documented contract: every key a template can use, for every
target and style in `TARGETS`, is in docs/template-context.md, and no diagram text reaches
a template raw.

The documentation check reads the page's tables, so it knows where each key is, not only
its name. In a `| key | what |` table, a row documents the key paths its first cell names
(`services[].handlers[]`) and, as their keys, the names its second cell lists; the
`ops[]` and `hooks[]` rows document every op and every hook, wherever they are. `| op |
keys |` rows document the keys of each op kind, `| kind | what |` rows the hook kinds. A
table counts for a target and style when its section heading names them, or names none.
Items listed twice (temporal's `workers` are `services` items) are documented once.

Known leak, marked as a strict xfail until the engine is fixed: `participants[].kind`.
"""

from __future__ import annotations

import ast
import functools
import keyword
import re
from pathlib import Path

import pytest

import mermaidgen
from mermaidgen.codegen.faststream import BROKERS
from mermaidgen.codegen.generate import TARGETS, build
from mermaidgen.model import Block, Diagram, Message, Note, walk

PROJECT = Path(__file__).resolve().parents[1]
DOC = (PROJECT / "docs" / "template-context.md").read_text(encoding="utf-8")
SAMPLES = sorted((PROJECT / "samples").glob("*.mmd"))

# Beyond the samples: diagram text that is awkward to print, neighbouring `alt` branches
# that do the same for a participant (one `if` op with `choices`), a lost message (a
# `lose` op in orchestration) and an `opt` whose skipped path goes on (an `else` op).
EDGE = '''sequenceDiagram
    title Edge "cases" \\n {{ x }}
    participant Shop
    participant Pay as Pay "gateway"
    participant Audit as Audit's log
    Shop->>Pay: charge (cards.v1) "now"
    Note over Shop,Pay: a "note" with C:\\temp\\new and <br/> a break
    alt ok "yes" {{ x }}
        Pay->>Shop: done
    else 2nd: maybe
        Pay->>Shop: done
    else third
        Pay->>Shop: done
        Pay->>Audit: flag
        Audit->>Shop: done
    end
    Shop-xAudit: "lost" {{ x }}
    opt again "?"
        Shop->>Pay: retry
        Pay->>Shop: retried
    end
    Shop->>Audit: after
'''
# A participant type the diagram invents reaches templates verbatim (see the xfail below)
PARTICIPANT_TYPE = '''sequenceDiagram
    participant Shop@{ "type": "web\\nserver" }
    participant Pay
    Shop->>Pay: charge
'''
INPUTS = {**{p.stem: p.read_text(encoding="utf-8") for p in SAMPLES}, "edge": EDGE}
COMBOS = [(target, style) for target, styles in TARGETS.items() for style in styles]
# target options that may change the context's shape: every broker of FastStream
OPTIONS: dict[str, list[dict]] = {"faststream": [{"broker": b} for b in BROKERS]}


@functools.cache
def _diagram(name: str, text: str) -> Diagram:
    return mermaidgen.parse(text, source=f"{name}.mmd")


@functools.cache
def _build(name: str, text: str, target: str, style: str, broker: str | None = None) -> dict:
    options = {"broker": broker} if broker else None
    return build(_diagram(name, text), text, style=style, target=target,
                 options=options).context


def _contexts(target: str, style: str):
    for name, text in INPUTS.items():
        for options in OPTIONS.get(target, [{}]):
            yield name, _build(name, text, target, style, options.get("broker"))


# -- the documentation ---------------------------------------------------------------

def _applies(heading: str, target: str, style: str) -> bool:
    heading = heading.lower()
    targets = {t for t in TARGETS if t in heading}
    styles = {s for s in ("choreography", "orchestration") if s in heading}
    return (not targets or target in targets) and (not styles or style in styles)


def _tables(target: str, style: str):
    """(kind of table, first cell, second cell) of every table row that applies."""
    heading, header = "", None
    for line in DOC.splitlines():
        if line.startswith("## "):
            heading, header = line, None
        elif not line.startswith("|"):
            header = None
        elif header is None:
            header = line.strip("|").split("|")[0].strip()
        elif not set(line) <= set("|-: ") and _applies(heading, target, style):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            yield header, cells[0], " ".join(cells[1:])


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cell))


# rows for what appears in many places: every op, every hook
GENERIC = {"ops", "hooks"}


def _documented(target: str, style: str):
    keys: dict[str, set[str]] = {"": set()}  # path (without []) -> its documented keys
    op_keys: dict[str, set[str]] = {}  # op kind -> its keys
    hook_kinds: set[str] = set()
    for header, first, rest in _tables(target, style):
        if header == "key":
            for path in re.findall(r"`([a-z_0-9.\[\]]+)`", first):
                path = path.replace("[]", "")
                keys.setdefault(path, set()).update(_names(rest))
                if path not in GENERIC:  # a row documents its own key too
                    parent, _, leaf = path.rpartition(".")
                    keys.setdefault(parent, set()).add(leaf)
        elif header == "op":
            for kind in _names(first):
                op_keys.setdefault(kind, set()).update(_names(rest))
        elif header == "kind":
            hook_kinds |= _names(first)
    return keys, op_keys, hook_kinds


def _shape(value, path: str, seen: set[int], found: set[tuple]) -> None:
    """What the context holds: ("key", path, key), ("op", kind, key), ("hook", kind).
    An item listed twice (`workers` are `services` entries) is documented once."""
    if isinstance(value, list):
        for item in value:
            _shape(item, path, seen, found)
        return
    if not isinstance(value, dict) or id(value) in seen:
        return
    seen.add(id(value))
    is_op = "op" in value and "indent" in value
    if path == "hooks":
        found.add(("hook", value.get("kind")))
    for key, inner in value.items():
        found.add(("op", value["op"], key) if is_op else ("key", path, key))
        if isinstance(inner, list) and key == "hooks":
            _shape(inner, "hooks", seen, found)
        else:
            _shape(inner, "ops" if is_op else f"{path}.{key}".lstrip("."), seen, found)


def _undocumented(context: dict, target: str, style: str) -> set[str]:
    keys, op_keys, hook_kinds = _documented(target, style)
    found: set[tuple] = set()
    _shape(context, "", set(), found)
    missing = set()
    for item in found:
        if item[0] == "key":
            _, path, key = item
            if key not in keys.get(path, set()):
                missing.add(f"{path}.{key}".lstrip("."))
        elif item[0] == "op":
            _, kind, key = item
            if kind not in op_keys:
                missing.add(f"op kind {kind}")
            elif key not in op_keys[kind] | keys.get("ops", set()):
                missing.add(f"{key} of the op {kind}")
        elif item[1] not in hook_kinds:
            missing.add(f"hook kind {item[1]}")
    return missing


@pytest.mark.parametrize(("target", "style"), COMBOS)
def test_every_context_key_is_documented(target: str, style: str) -> None:
    missing: set[str] = set()
    for _, context in _contexts(target, style):
        missing |= _undocumented(context, target, style)
    assert not missing, (f"document these ({target}, {style}) keys in "
                         f"docs/template-context.md: {sorted(missing)}")


def test_the_documentation_check_sees_a_new_key() -> None:
    """A key added anywhere, even one whose name is documented elsewhere, is found."""
    context = _build("edge", EDGE, "temporal", "orchestration")
    changed = dict(context, orchestrator=dict(context["orchestrator"], comment="# x"),
                   surprise=1)
    assert _undocumented(changed, "temporal", "orchestration") == {
        "orchestrator.comment", "surprise"}
    # the edge diagram gives the op keys no sample has (`choices`: two sections of the
    # alt its replies decide do the same; Pay answers in every section, so the workflow
    # waits for the reply: a section without it would make the call unanswered)
    found: set[tuple] = set()
    _shape(context, "", set(), found)
    assert ("op", "if", "choices") in found
    # and a key of one target does not count as documented for another
    assert "namespace" in _documented("faststream", "choreography")[0][""]
    assert "namespace" not in _documented("python", "choreography")[0][""]


# -- no raw diagram text -------------------------------------------------------------

RAW_KEYS = {"to", "service", "relayed_from", "sender", "receiver", "text", "id", "label",
            "event"}
# values that templates print as Python names
NAME_KEYS = {"package", "namespace", "module", "class_name", "base_name", "name", "hook",
             "reply_hook", "var", "value", "choices", "branches", "names", "event_class",
             "operation", "join", "starters", "steps", "function", "ident", "alias",
             "constant", "channel", "channel_constant", "events", "flow_class"}
COMMENT_KEYS = {"comment", "note"}
_PLAIN = re.compile(r"[A-Za-z0-9_.-]*")


def _raw_texts(diagram: Diagram) -> set[str]:
    """The diagram's texts that could break the code they are printed into."""
    texts = {diagram.title or "", diagram.source or ""}
    texts |= {box.title or "" for box in diagram.boxes}
    for p in diagram.participants:
        texts |= {p.id, p.label, p.kind}
    for node in walk(diagram.statements):
        if isinstance(node, (Message, Note)):
            texts.add(node.text)
        elif isinstance(node, Block):
            texts |= {section.label for section in node.sections}
    return {t for t in texts if not _PLAIN.fullmatch(t)}


def _leaks(value, path: str, raw: set[str], found: list[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in RAW_KEYS:
                found.append(f"{path}.{key}: a raw key")
            _leaks(inner, f"{path}.{key}".lstrip("."), raw, found)
    elif isinstance(value, list):
        for inner in value:
            _leaks(inner, path + "[]", raw, found)
    elif isinstance(value, str):
        key = path.rpartition(".")[2].removesuffix("[]")
        if key.endswith(("_lit", "_lits")):
            try:
                ok = isinstance(ast.literal_eval(value), str | None)
            except (ValueError, SyntaxError):
                ok = False
            if not ok:
                found.append(f"{path} = {value!r}: not a string literal")
        elif key.endswith("_literal"):
            try:
                ast.literal_eval(value)
            except (ValueError, SyntaxError):
                found.append(f"{path} = {value[:60]!r}: not a Python literal")
        elif key.endswith("_comment") or key in COMMENT_KEYS:
            if not value.isprintable():
                found.append(f"{path} = {value!r}: not a one-line comment")
        elif key in NAME_KEYS and not (value.isidentifier() and not keyword.iskeyword(value)):
            found.append(f"{path} = {value!r}: not a Python name")
        elif any(t == value or (len(t) > 3 and t in value) for t in raw):
            found.append(f"{path} = {value!r}: raw diagram text")


def _raw_problems(name: str, text: str, target: str, style: str) -> list[str]:
    found: list[str] = []
    _leaks(_build(name, text, target, style), "", _raw_texts(_diagram(name, text)), found)
    return found


@pytest.mark.parametrize(("target", "style"), COMBOS)
@pytest.mark.parametrize("name", [
    *INPUTS,
    "participant-type",  # a metadata `type` mermaid does not know, with a newline in it
])
def test_no_raw_diagram_text_reaches_templates(name: str, target: str, style: str) -> None:
    """Names from the diagram reach templates only as `*_lit` literals, `*_comment` (and
    `comment`, `note`) one-line texts, or derived Python names."""
    text = PARTICIPANT_TYPE if name == "participant-type" else INPUTS[name]
    problems = _raw_problems(name, text, target, style)
    assert not problems, f"{name} ({target}, {style}): {problems}"


def test_the_raw_text_check_sees_a_leak() -> None:
    context = _build("edge", EDGE, "python", "choreography")
    service = dict(context["services"][0], label='Pay "gateway"', module="not a name")
    leaky = dict(context, services=[service], extra_comment="a\nb", extra_lit="x",
                 extra='charge (cards.v1) "now" and more')
    found: list[str] = []
    _leaks(leaky, "", _raw_texts(_diagram("edge", EDGE)), found)
    assert found == ["services[].module = 'not a name': not a Python name",
                     "services[].label: a raw key",
                     "services[].label = 'Pay \"gateway\"': raw diagram text",
                     "extra_comment = 'a\\nb': not a one-line comment",
                     "extra_lit = 'x': not a string literal",
                     "extra = 'charge (cards.v1) \"now\" and more': raw diagram text"]
