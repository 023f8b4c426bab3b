"""Model to Mermaid text: the canonical form behind `preview --format mermaid`.

`to_mermaid(diagram)` writes text that mermaidgen (and mermaid.js) read back to the same
model, source positions aside. The layout is fixed: config directive, header, title and
accessibility lines, every participant declared in display order (boxes as `box` groups),
`links`/`properties`, then the statements, four spaces per nesting level. What it has to
respect (syntax reference sections 1-11):

* Display order is first appearance. A participant introduced by `create` appears where
  the flow creates it, so whoever follows it in display order is declared right after that
  `create` line; everyone else is declared at the top.
* A box lists the participants *declared* inside it, and boxes open in index order. A
  participant declared before its box joins it by a labelled redeclaration (listed) or a
  bare one (box set, not listed), so every box comes back exactly, quirks included.
* Texts go through mermaid's comment, separator, trimming and `wrap:` rules only as entity
  codes (`#35;` for `#`, `#59;` for `;`, ...), which mermaid decodes.
* A name is written as it is when mermaid reads it back as that name; otherwise entity
  codes spell the characters in the way (`end` -> `#101;nd`, `Max-xylo` -> `Max#45;xylo`).
  Which spelling works is decided by parsing probe statements, not by guessing; when none
  does, `UnrepresentableError` names the participant. (mermaidgen decodes codes in names;
  mermaid.js shows the same name but keeps the code in its internal id.)

Not kept, by design: source positions, `declared` (every participant is declared, which is
what keeps the order), warnings about the input (the output has none), and the original
spelling. Blocks nested deeper than `MAX_INDENT` levels share that indentation.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.entities import html5

from mermaidgen.errors import DiagramError, MermaidgenError
from mermaidgen.mermaid.lexrules import JS_WHITESPACE, WS_CHARS
from mermaidgen.mermaid.parser import parse
from mermaidgen.mermaid.text import CLOSE, NAMED_OPEN, NUMERIC_OPEN
from mermaidgen.model import (
    ARROWS,
    Activate,
    Autonumber,
    Block,
    Box,
    Create,
    Deactivate,
    Destroy,
    Diagram,
    Message,
    Note,
    Participant,
    Section,
    Statement,
    walk,
)

INDENT = "    "
MAX_INDENT = 20
"""Nesting levels that get their own indentation; deeper blocks stay at this one, so that
the text of a diagram nested thousands of levels deep grows linearly, not quadratically."""

_SECTION_WORD = {"alt": "else", "par": "and", "par_over": "and", "critical": "option"}
_ONE_SECTION = frozenset({"loop", "opt", "break", "rect"})
_KEYWORD_KINDS = frozenset({"participant", "actor"})
_ARROWS = frozenset(ARROWS)


class UnrepresentableError(MermaidgenError):
    """The model holds something that no Mermaid text can say (e.g. a participant name that
    mermaid cannot read back, whatever the spelling)."""


# -- escaping --------------------------------------------------------------------------------

# Characters that never survive as themselves in a text: `#` starts a comment, `;` ends the
# statement, line breaks end it too, and the private-use characters are mermaidgen's own
# entity placeholders.
_ALWAYS = "#;\n\r" + NUMERIC_OPEN + CLOSE + NAMED_OPEN
_WS_CLASS = f"[{WS_CHARS}]"
_ALWAYS_CHARS = re.compile(f"[{re.escape(_ALWAYS)}]")
_BLANK = re.compile(_WS_CLASS)
_WRAP_PREFIX = re.compile(r":?(?:no)?wrap:")
_TAG_START = re.compile(r"<\w", re.ASCII)
_TAG = re.compile(r"<\w+[^>]*>", re.ASCII)
_ENTITY_AHEAD = re.compile(r"#(\w+);", re.ASCII)
_LEGACY_STYLE = re.compile(r"(?:style|classDef).*:\S*#.*;")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2}")


def _entity(c: str) -> str:
    return f"#{ord(c)};"


def _needs_escape(s: str) -> bool:
    """Whether `_escape` with its defaults would change `s`: a character of `_ALWAYS`,
    `%%{`, `="`, a tag's `<`, a blank at either end, a `wrap:` prefix. Each test apart, so
    that no one regex tries every alternative at every character (2 s on a 40 MB text);
    a blank before a final line break needs no test of its own, the break is in
    `_ALWAYS`."""
    return (_ALWAYS_CHARS.search(s) is not None or "%%{" in s or '="' in s
            or _TAG_START.search(s) is not None or _BLANK.match(s) is not None
            or _BLANK.match(s[-1:]) is not None or _WRAP_PREFIX.match(s) is not None)


def _escape(s: str, *, always: str = _ALWAYS, wrap_guard: bool = True, extra: str = "") -> str:
    """`s` spelled so that mermaid's text rules give back exactly `s`.

    Beyond `always` and `extra`: blanks at either end (mermaid trims them), `{` after `%%`
    (a directive), `"` after `=` in a tag (mermaid requotes HTML attributes), `<` opening a
    tag that does not close within the text (it would reach into the next line), and the
    first character of a text that would read as a `wrap:`/`nowrap:` prefix.
    """
    if not extra and always is _ALWAYS and not _needs_escape(s):
        return s
    encode = [c in always or c in extra for c in s]
    i = 0
    while i < len(s) and s[i] in JS_WHITESPACE:
        encode[i] = True
        i += 1
    j = len(s) - 1
    while j >= i and s[j] in JS_WHITESPACE:
        encode[j] = True
        j -= 1
    for k in range(2, len(s)):
        if s[k] == "{" and s[k - 2 : k] == "%%":
            encode[k] = True
    if '="' in s:  # inside a tag, mermaid turns attr="v" into attr='v'
        for m in _TAG.finditer(s):
            for k in range(m.start() + 1, m.end()):
                if s[k] == '"' and s[k - 1] == "=":
                    encode[k] = True
    last_close = s.rfind(">")
    for m in _TAG_START.finditer(s):
        if m.start() > last_close:
            encode[m.start()] = True
    for m in _ENTITY_AHEAD.finditer(s):
        if not m.group(1).isdigit() and m.group(1) + ";" not in html5:
            # an unknown named code reads back as written (in mermaid.js too): keep it
            if "#" not in extra:
                encode[m.start()] = encode[m.end() - 1] = False
        elif "#" not in always:  # accessibility values: `#` only where it starts a code
            encode[m.start()] = True
    if wrap_guard and s and _WRAP_PREFIX.match(s):
        encode[0] = True
    return "".join(_entity(c) if e else c for c, e in zip(s, encode, strict=True))


def _text(s: str, wrap: bool | None, strict: bool = False) -> str:
    """A message, note or label text with its explicit wrap setting, as mermaid reads it."""
    body = _escape(s, wrap_guard=wrap is None, extra=":" if strict else "")
    if wrap is None:
        return body
    prefix = "wrap:" if wrap else "nowrap:"
    return f"{prefix} {body}" if body else prefix


def _json(value: object, strict: bool = False, *, extra: str = "") -> str:
    """JSON on one line whose strings cannot trip mermaid's text rules (`\\u` escapes)."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    bad = "#;%<>&\u2028\u2029" + NUMERIC_OPEN + CLOSE + NAMED_OPEN + extra + (":" if strict else "")

    def clean(m: re.Match[str]) -> str:
        return "".join(f"\\u{ord(c):04x}" if c in bad else c for c in m.group())

    return _JSON_STRING.sub(clean, text)


def _checked(build: Callable[[bool], str]) -> str:
    """A line, rebuilt with every text colon encoded if mermaid's legacy `style ...:#...;`
    rule (it drops the line's last `;`) would otherwise apply to it."""
    line = build(False)
    if ("style" in line or "classDef" in line) and _LEGACY_STYLE.search(line):
        line = build(True)
        if _LEGACY_STYLE.search(line):
            raise UnrepresentableError(f"cannot write `{line.strip()}` so that mermaid keeps "
                                       "its last `;` (legacy `style` rule)")
    return line


# -- statements as lines ---------------------------------------------------------------------

def _after(name: str) -> str:
    # A name ending in `-` would merge with a following arrow or `:`; a blank keeps it whole.
    return name + " " if name.endswith("-") else name


def _message_line(sender: str, receiver: str, m: Message, strict: bool) -> str:
    left = "()" if m.central in ("sender", "both") else ""
    mod = "+" if m.activate else "-" if m.deactivate else ""
    if m.central in ("receiver", "both"):
        mod = "()"
    text = _text(m.text, m.wrap, strict)
    return f"{_after(sender)}{left}{m.arrow}{mod}{_after(receiver)}:{' ' + text if text else ''}"


def _note_line(names: list[str], n: Note, strict: bool) -> str:
    text = _text(n.text, n.wrap, strict)
    who = ",".join(_after(x) for x in names)
    return f"Note {n.placement} {who}:{' ' + text if text else ''}"


def _declaration(p: Participant, name: str, form: str, strict: bool) -> str:
    """`form`: `intro` (the full declaration), `list` (the same with a label, always, so
    that a box lists it) or `join` (bare: puts a declared participant in a box unlisted)."""
    keyword = "actor" if p.kind == "actor" else "participant"
    if form == "join":
        return f"{keyword} {name}"
    meta = ""
    if p.kind not in _KEYWORD_KINDS:
        meta = f"@{{ \"type\": {_json(p.kind, strict, extra='}')} }}"
    alias = ""
    if form == "list" or p.label != p.id or p.wrap is not None:
        label = _text(p.label, p.wrap, strict)
        alias = f" as {label}" if label else " as"
    return f"{keyword} {name}{meta}{alias}"


def _autonumber_line(a: Autonumber) -> str:
    if not a.visible:
        if a.start is not None or a.step is not None:
            raise UnrepresentableError("`autonumber off` cannot carry a start or step")
        return "autonumber off"
    if a.start is None:
        if a.step is not None:
            raise UnrepresentableError("`autonumber` cannot have a step without a start")
        return "autonumber"
    if a.step is None or a.step == 1:
        return f"autonumber {_number(a.start)}"
    return f"autonumber {_number(a.start)} {_number(a.step)}"


def _number(x: object) -> str:
    text = repr(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else ""
    if not _NUMBER.fullmatch(text):
        raise UnrepresentableError(f"autonumber value {x!r}: mermaid reads only numbers like "
                                   "`10` or `1.25` (at most two decimals, not negative)")
    return text


def _opener(kind: str, section: Section, first: bool, strict: bool) -> str:
    word = kind if first else _SECTION_WORD[kind]
    label = _text(section.label, section.wrap, strict)
    return f"{word} {label}" if label else word


# -- participant names -----------------------------------------------------------------------

_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RISKY_WORDS = frozenset("""
box participant actor create destroy loop rect opt alt else par par_over and critical option
break end left right of over note activate deactivate title acctitle accdescr sequencediagram
autonumber off links link properties details as
""".split())
_NAME_L1 = _ALWAYS + ",:<>@%+"
_NAME_L2 = _NAME_L1 + "-/\\()" + JS_WHITESPACE
_ACC_ALWAYS = "\n\r" + NUMERIC_OPEN + CLOSE + NAMED_OPEN


def _is_plain(pid: str) -> bool:
    """Names mermaid certainly reads back everywhere as written (no probe needed)."""
    return _SIMPLE_NAME.fullmatch(pid) is not None and pid.lower() not in _RISKY_WORDS


def _spellings(pid: str, nospace: bool) -> Iterator[str]:
    """Candidate spellings of a name, plainest first (each later one escapes more)."""
    if not pid:
        return
    spaces = JS_WHITESPACE if nospace else ""
    seen: set[str] = set()
    # `#` inside a name is fine (a comment starts only where a token would); the probe decides
    raw_ok = not any(c in _ALWAYS[1:] for c in pid) and pid == pid.strip(JS_WHITESPACE)
    if raw_ok and not (nospace and any(c in JS_WHITESPACE for c in pid)):
        seen.add(pid)
        yield pid
    l1 = _escape(pid, always=_NAME_L1, wrap_guard=False, extra=spaces)
    l2 = _escape(pid, always=_NAME_L2, wrap_guard=False)
    levels = [  # the punctuation mermaid's name rules stop at, then arrow-like characters,
        l1,     # each without and with the first character spelled (for keyword prefixes)
        _entity(pid[:1]) + _escape(pid[1:], always=_NAME_L1, wrap_guard=False, extra=spaces),
        l2,
        _entity(pid[:1]) + _escape(pid[1:], always=_NAME_L2, wrap_guard=False),
        "".join(c if c.isascii() and c.isalnum() and i else _entity(c)
                for i, c in enumerate(pid)),
    ]
    for candidate in levels:
        if candidate and candidate not in seen:
            seen.add(candidate)
            yield candidate


@dataclass
class _Usage:
    """How a name that needs probing is used, so that the probe uses it the same ways."""

    sends: set[tuple[str, bool]] = field(default_factory=set)  # (arrow, `()` on sender)
    receives: set[tuple[str, str]] = field(default_factory=set)  # (arrow, modifier)
    notes: bool = False
    activation: bool = False
    destroy: bool = False


def _signature(s: Statement) -> tuple:
    if isinstance(s, Message):
        return ("message", s.sender, s.receiver, s.arrow, s.activate, s.deactivate, s.central)
    if isinstance(s, Note):
        return ("note", s.placement, s.participants)
    return (type(s).__name__, getattr(s, "participant", None))


def _probe_parse(text: str) -> Diagram | None:
    try:
        return parse(text)
    except DiagramError:
        return None


# -- the emitter -----------------------------------------------------------------------------

def to_mermaid(diagram: Diagram) -> str:
    """The diagram as canonical Mermaid text (ends with a newline)."""
    return _Emitter(diagram).text()


class _Emitter:
    def __init__(self, diagram: Diagram):
        self.d = diagram
        self.by_id = {p.id: p for p in diagram.participants}
        if len(self.by_id) != len(diagram.participants):
            raise UnrepresentableError("two participants share an id")
        self.creates: list[str] = []
        self.usage: dict[str, _Usage] = {}
        self.plain: set[str] = set()
        self._scan()
        self.forms: dict[str, set[str]] = {p.id: {"intro"} for p in diagram.participants}
        self.slots = self._layout()
        self.names: dict[str, str] = {}
        for p in diagram.participants:
            self.names[p.id] = self._spell(p.id)
        for pid in self.usage:
            if pid not in self.names:
                self.names[pid] = self._spell(pid)

    # -- reading the model -------------------------------------------------------------------

    def _watch(self, pid: str) -> _Usage | None:
        usage = self.usage.get(pid)
        if usage is None and pid not in self.plain:
            if _is_plain(pid):
                self.plain.add(pid)
            else:
                usage = self.usage[pid] = _Usage()
        return usage

    def _participant(self, pid: str, where: str) -> None:
        if pid not in self.by_id:
            raise UnrepresentableError(f"{where} names `{pid}`, which is not a participant")

    def _scan(self) -> None:
        """Check what text cannot express, and note how probed names are used."""
        destroyed: set[str] = set()
        for s in walk(self.d.statements):
            if isinstance(s, Message):
                self._participant(s.sender, "a message")
                self._participant(s.receiver, "a message")
                if s.arrow not in _ARROWS:
                    raise UnrepresentableError(f"unknown arrow `{s.arrow}`")
                if (s.activate and s.deactivate) or (s.central and (s.activate or s.deactivate)):
                    raise UnrepresentableError(
                        f"message `{s.sender}{s.arrow}{s.receiver}` combines `+`, `-` and `()`"
                        ", of which mermaid allows one")
                if (u := self._watch(s.sender)) is not None:
                    u.sends.add((s.arrow, s.central in ("sender", "both")))
                if (u := self._watch(s.receiver)) is not None:
                    mod = "+" if s.activate else "-" if s.deactivate else ""
                    u.receives.add((s.arrow, "()" if s.central in ("receiver", "both") else mod))
            elif isinstance(s, Note):
                single = s.placement != "over"
                if len(s.participants) != (1 if single else 2):
                    raise UnrepresentableError(f"a note {s.placement} takes "
                                               f"{'one participant' if single else 'two'}")
                for pid in s.participants:
                    self._participant(pid, "a note")
                    if (u := self._watch(pid)) is not None:
                        u.notes = True
            elif isinstance(s, (Activate, Deactivate)):
                if (u := self._watch(s.participant)) is not None:
                    u.activation = True
            elif isinstance(s, Create):
                self._participant(s.participant, "`create`")
                self.creates.append(s.participant)
            elif isinstance(s, Destroy):  # its participant may not exist (if no message follows)
                destroyed.add(s.participant)
                if (u := self._watch(s.participant)) is not None:
                    u.destroy = True
            elif isinstance(s, Block):
                n = len(s.sections)
                if s.kind not in _ONE_SECTION and s.kind not in _SECTION_WORD:
                    raise UnrepresentableError(f"unknown block kind `{s.kind}`")
                if n == 0 or (s.kind in _ONE_SECTION and n != 1):
                    raise UnrepresentableError(f"a `{s.kind}` block with {n} sections")
        for p in self.d.participants:
            if p.destroyed != (p.id in destroyed):
                raise UnrepresentableError(f"participant `{p.id}` is marked destroyed="
                                           f"{p.destroyed} but the statements say otherwise")

    # -- where each participant is declared ----------------------------------------------------

    def _layout(self) -> list[list[tuple]]:
        """What to declare at the top (slot 0) and after each `create` (slot i).

        Items: ("decl", id), ("box", index, [(id, form), ...]) and ("links", id).
        """
        d = self.d
        groups: list[list[str]] = [[]]
        for p in d.participants:
            if p.created:
                if len(groups) > len(self.creates) or self.creates[len(groups) - 1] != p.id:
                    raise UnrepresentableError(f"participant `{p.id}` is marked created, but "
                                               "the `create` statements do not match")
                groups.append([])
            else:
                groups[-1].append(p.id)
        if len(groups) != len(self.creates) + 1:
            raise UnrepresentableError("a `create` names a participant not marked created")
        unlisted: list[list[str]] = [[] for _ in d.boxes]
        for p in d.participants:
            if p.box is not None:
                if not 0 <= p.box < len(d.boxes):
                    raise UnrepresentableError(f"participant `{p.id}` is in box {p.box}, "
                                               "which does not exist")
                if p.id not in d.boxes[p.box].participants:
                    unlisted[p.box].append(p.id)
        for j, box in enumerate(d.boxes):
            if box.title == "":
                raise UnrepresentableError(f"box {j + 1} has an empty title (use None)")
            for pid in box.participants:
                if pid not in self.by_id or self.by_id[pid].box != j:
                    raise UnrepresentableError(f"box {j + 1} lists `{pid}`, whose box differs")
        referenced = [set(b.participants) | set(u) for b, u in zip(d.boxes, unlisted, strict=True)]

        introduced: set[str] = set()
        last_slot: dict[str, int] = {}
        slots: list[list[tuple]] = []
        next_box = 0
        for i, group in enumerate(groups):
            items: list[tuple] = []
            if i:
                introduced.add(self.creates[i - 1])
                last_slot[self.creates[i - 1]] = i
            remaining = deque(group)
            retry = True
            while True:
                while retry and next_box < len(d.boxes):
                    entries = self._try_box(d.boxes[next_box], unlisted[next_box], remaining,
                                            introduced)
                    if entries is None:
                        break
                    items.append(("box", next_box, entries))
                    for pid, form in entries:
                        last_slot[pid] = i
                        self.forms[pid].add(form)
                    next_box += 1
                if not remaining:
                    break
                pid = remaining.popleft()
                introduced.add(pid)
                last_slot[pid] = i
                items.append(("decl", pid))
                box_refs = referenced[next_box] if next_box < len(d.boxes) else ()
                retry = pid in box_refs or (bool(remaining) and remaining[0] in box_refs)
            slots.append(items)
            retry = True
        if next_box < len(d.boxes):  # pragma: no cover - every box fits once all exist
            raise UnrepresentableError(f"box {next_box + 1} cannot be placed")
        for p in d.participants:
            if p.links or p.properties:
                slots[last_slot[p.id]].append(("links", p.id))
        return slots

    @staticmethod
    def _try_box(box: Box, unlisted: list[str], remaining: deque[str],
                 introduced: set[str]) -> list[tuple[str, str]] | None:
        """The declarations that make this box here and now, or None if it cannot be yet."""
        entries: list[tuple[str, str]] = []
        fresh: set[str] = set()
        k = 0
        for pid in box.participants:
            if pid in introduced or pid in fresh:
                entries.append((pid, "list"))
            elif k < len(remaining) and remaining[k] == pid:
                entries.append((pid, "intro"))
                fresh.add(pid)
                k += 1
            else:
                return None
        for pid in unlisted:
            if pid not in introduced:
                return None
            entries.append((pid, "join"))
        for _ in range(k):
            introduced.add(remaining.popleft())
        return entries

    # -- spelling names --------------------------------------------------------------------

    def _spell(self, pid: str) -> str:
        if pid in self.plain or _is_plain(pid):
            return pid
        p = self.by_id.get(pid)
        forms = self.forms.get(pid, set())
        nospace = p is not None and ("list" in forms or p.label != p.id or p.wrap is not None
                                     or p.kind not in _KEYWORD_KINDS)
        usage = self.usage.get(pid) or _Usage()
        for name in _spellings(pid, nospace):
            if self._probe(pid, name, p, usage, forms):
                return name
        what = "participant" if p is not None else "name"
        raise UnrepresentableError(
            f"{what} `{pid}` cannot be written so that mermaid reads it back: no spelling "
            "(entity codes included) survives the places it is used in")

    def _probe(self, pid: str, name: str, p: Participant | None, usage: _Usage,
               forms: set[str]) -> bool:
        """Does `name` read back as `pid` in every statement this name appears in?"""
        z = "Y" if pid == "Z" else "Z"
        lines = ["sequenceDiagram", f"participant {z}"]
        expected: list[tuple] = []

        def message(sender: str, receiver: str, arrow: str, **how: object) -> None:
            m = Message(sender, receiver, "p", arrow, None, **how)  # type: ignore[arg-type]
            lines.append(_message_line(name if sender == pid else sender,
                                       name if receiver == pid else receiver, m, False))
            expected.append(_signature(m))

        if p is not None:
            intro = _checked(lambda strict: _declaration(p, name, "intro", strict))
            if p.created:
                lines.append("create " + intro)
                expected.append(("Create", pid))
                message(z, pid, "->>")
            else:
                lines.append(intro)
        for arrow, central in sorted(usage.sends):
            message(pid, z, arrow, central="sender" if central else None)
        for arrow, mod in sorted(usage.receives):
            if mod == "-":
                lines.append(f"activate {z}")
                expected.append(("Activate", z))
            message(z, pid, arrow, activate=mod == "+", deactivate=mod == "-",
                    central="receiver" if mod == "()" else None)
        if usage.notes:
            for placement, who in (("over", (pid, z)), ("over", (z, pid)), ("over", (pid,)),
                                   ("left of", (pid,)), ("right of", (pid,))):
                note = Note(placement, who, "p", None)  # type: ignore[arg-type]
                lines.append(_note_line([name if x == pid else x for x in who], note, False))
                expected.append(("note", placement, who if len(who) == 2 else (pid, pid)
                                 if placement == "over" else who))
        if usage.activation:
            lines += [f"activate {name}", f"deactivate {name}"]
            expected += [("Activate", pid), ("Deactivate", pid)]
        if p is not None and (p.links or p.properties):
            lines.append(f"links {_after(name)}: {{}}")
        if usage.destroy:
            lines.append(f"destroy {name}")
            expected.append(("Destroy", pid))
            if p is not None:  # else the probe ends here: a last `destroy` needs no message
                message(pid, z, "->>")
        got = _probe_parse("\n".join(lines) + "\n")
        if got is None or [_signature(s) for s in got.statements] != expected:
            return False
        if p is None:
            return [q.id for q in got.participants] == [z]
        if [q.id for q in got.participants] != [z, pid] or not _same_head(got.participants[1], p):
            return False
        for form in sorted(forms - {"intro"}):
            line = _checked(lambda strict, form=form: _declaration(p, name, form, strict))
            got = _probe_parse(f"sequenceDiagram\n{line}\n")
            if got is None or [q.id for q in got.participants] != [pid]:
                return False
            if form == "list" and not _same_head(got.participants[0], p):
                return False
        return True

    # -- writing ---------------------------------------------------------------------------

    def text(self) -> str:
        d = self.d
        lines = _config_lines(d.config)
        lines.append("sequenceDiagram")
        if d.title is not None:
            if not d.title:
                raise UnrepresentableError("an empty title (use None)")
            lines.append(INDENT + _checked(lambda strict: "title " + _escape(
                d.title or "", wrap_guard=False, extra=":" if strict else "")))
        if d.acc_title:
            lines.append(INDENT + _checked(lambda strict: "accTitle: " + _acc(
                d.acc_title or "", strict)))
        if d.acc_descr is not None:
            lines += _acc_descr_lines(d.acc_descr)
        self._slot(0, 1, lines)
        self._statements(lines)
        if d.acc_title == "":  # only the end of the text stops `accTitle:` reading on
            lines.append(INDENT + "accTitle:")
        return "\n".join(lines) + "\n"

    def _slot(self, i: int, depth: int, lines: list[str]) -> None:
        pad = _pad(depth)
        for item in self.slots[i]:
            if item[0] == "decl":
                lines.append(pad + self._decl(item[1], "intro"))
            elif item[0] == "box":
                lines.append(pad + _box_line(self.d.boxes[item[1]]))
                lines += [pad + INDENT + self._decl(pid, form) for pid, form in item[2]]
                lines.append(pad + "end")
            else:
                p = self.by_id[item[1]]
                name = _after(self.names[p.id])
                for keyword, value in (("links", p.links), ("properties", p.properties)):
                    if value:
                        lines.append(pad + _checked(lambda strict, k=keyword, v=value, n=name:
                                                    f"{k} {n}: {_json_value(v, strict)}"))

    def _decl(self, pid: str, form: str) -> str:
        p, name = self.by_id[pid], self.names[pid]
        return _checked(lambda strict: _declaration(p, name, form, strict))

    def _statements(self, lines: list[str]) -> None:
        """Every statement, blocks opened and closed with an explicit stack (no recursion)."""
        names = self.names
        creates = 0
        # frames: [statements, depth, the block's remaining sections, block kind]
        frames: list[tuple[Iterator[Statement], int, Iterator[Section] | None, str]] = [
            (iter(self.d.statements), 1, None, "")]
        while frames:
            statements, depth, sections, kind = frames[-1]
            s = next(statements, None)
            if s is None:
                frames.pop()
                if sections is not None:
                    section = next(sections, None)
                    if section is None:
                        lines.append(_pad(depth - 1) + "end")
                    else:
                        lines.append(_pad(depth - 1) + _checked(
                            lambda strict, sec=section, k=kind: _opener(k, sec, False, strict)))
                        frames.append((iter(section.statements), depth, sections, kind))
                continue
            pad = _pad(depth)
            if isinstance(s, Message):
                sender, receiver = names.get(s.sender, s.sender), names.get(s.receiver, s.receiver)
                lines.append(pad + _checked(
                    lambda strict, m=s, a=sender, b=receiver: _message_line(a, b, m, strict)))
            elif isinstance(s, Block):
                rest = iter(s.sections)
                first = next(rest)
                lines.append(pad + _checked(
                    lambda strict, k=s.kind, sec=first: _opener(k, sec, True, strict)))
                frames.append((iter(first.statements), depth + 1, rest, s.kind))
            elif isinstance(s, Note):
                who = list(s.participants[:1] if s.participants[0] == s.participants[-1]
                           else s.participants)
                lines.append(pad + _checked(lambda strict, n=s, w=[names[x] for x in who]:
                                            _note_line(w, n, strict)))
            elif isinstance(s, (Activate, Deactivate, Destroy)):
                word = type(s).__name__.lower()
                lines.append(f"{pad}{word} {names.get(s.participant, s.participant)}")
            elif isinstance(s, Autonumber):
                lines.append(pad + _autonumber_line(s))
            elif isinstance(s, Create):
                creates += 1
                lines.append(pad + "create " + self._decl(s.participant, "intro"))
                self._slot(creates, depth, lines)


def _pad(depth: int) -> str:
    return INDENT * min(depth, MAX_INDENT)


def _same_head(got: Participant, want: Participant) -> bool:
    return (got.label, got.kind, got.wrap) == (want.label, want.kind, want.wrap)


def _json_value(value: object, strict: bool) -> str:
    try:
        return _json(_plain(value), strict)
    except (TypeError, ValueError) as exc:
        raise UnrepresentableError(f"links/properties that are not JSON: {exc}") from None


def _plain(value: object) -> object:
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}  # type: ignore[attr-defined]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _acc(s: str, strict: bool, always: str = _ACC_ALWAYS) -> str:
    # accTitle/accDescr take the rest of the line, `#` and `;` included: only line breaks,
    # blanks at the ends and `#` that would begin an entity code need spelling out.
    return _escape(s, always=always, wrap_guard=False, extra="#;:" if strict else "")


def _acc_row(row: str, strict: bool) -> str:
    """One line of an `accDescr {` block: `}` would close it, a leading `%%` comment it out."""
    text = _acc(row, strict, _ACC_ALWAYS + "}")
    return "#37;" + text[1:] if text.startswith("%%") else text


def _acc_descr_lines(descr: str) -> list[str]:
    if not descr:
        return [INDENT + "accDescr {}"]
    rows = descr.split("\n")
    if len(rows) > 1 and all(r and r == r.strip(JS_WHITESPACE) for r in rows):
        body = [INDENT * 2 + _checked(lambda strict, r=r: _acc_row(r, strict)) for r in rows]
        return [INDENT + "accDescr {", *body, INDENT + "}"]
    return [INDENT + _checked(lambda strict: "accDescr: " + _acc(descr, strict))]


def _box_line(box: Box) -> str:
    """`box [colour] [title]`, checked by parsing it: mermaid decides by asking whether the
    first word is a CSS colour, so a title may need `transparent` in front."""
    want = (box.title, box.color, box.wrap)
    # a title after an `rgb(...)` colour may also need its `)` spelled (the colour is greedy)
    for prefix in ([[box.color]] if box.color else [[], ["transparent"]]):
        for extra in ("", "()"):
            def build(strict: bool, prefix=prefix, extra=extra) -> str:
                title = _escape(box.title or "", wrap_guard=box.wrap is None,
                                extra=extra + (":" if strict else ""))
                if box.wrap is not None:
                    title = ("wrap:" if box.wrap else "nowrap:") + (" " + title if title else "")
                return " ".join(["box", *prefix, *([title] if title else [])])

            line = _checked(build)
            got = _probe_parse(f"sequenceDiagram\n{line}\nend\n")
            if got is not None and len(got.boxes) == 1:
                b = got.boxes[0]
                if (b.title, b.color, b.wrap) == want:
                    return line
    raise UnrepresentableError(f"box `{box.title}` (colour {box.color}) cannot be written so "
                               "that mermaid reads it back")


def _config_lines(config: object) -> list[str]:
    """The config as a `%%{init: JSON}%%` directive, else as YAML frontmatter (directives
    rename a top-level `config` key; YAML also carries dates): the first that parses back."""
    if not config:
        return []
    plain = _plain(config)
    for lines in _config_candidates(plain):
        got = _probe_parse("\n".join(lines) + "\nsequenceDiagram\n")
        if got is not None and _plain(got.config) == plain:
            return lines
    raise UnrepresentableError("the config cannot be written so that it parses back the same")


def _config_candidates(plain: object) -> Iterator[list[str]]:
    try:
        raw = json.dumps(plain, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError):
        raw = None
    if raw is not None:
        # `'` becomes `"` in directives, `%` could close one, `<` could start an HTML tag
        safe = _JSON_STRING.sub(lambda m: m.group().replace("'", "\\u0027").replace(
            "%", "\\u0025").replace("<", "\\u003c").replace(">", "\\u003e"), raw)
        yield [f"%%{{init: {safe}}}%%"]
        yield ["---", f"config: {safe}", "---"]
    import yaml  # only configs that JSON cannot carry pay for the import

    try:
        dumped = yaml.safe_dump({"config": plain}, sort_keys=False, allow_unicode=False,
                                width=2**20)
    except yaml.YAMLError:
        return
    yield ["---", *dumped.rstrip("\n").split("\n"), "---"]
