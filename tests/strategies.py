"""Hypothesis strategies: valid Mermaid sequence diagrams, built from the grammar.

`diagrams()` draws a `Generated`: the text of a diagram that mermaid.js 12.3 accepts, and
what it must mean (participants in display order; messages and notes in document order).
The generator writes every construct of the syntax reference (`../shared/spec/
mermaid-sequence-syntax.md`): declarations with aliases and `@{...}` metadata, boxes,
`create`/`destroy`, all 26 arrows with `+`/`-`/`()`, notes, activations, autonumber, links,
titles and accessibility texts, every block kind nested at random, comments, directives,
frontmatter, `;` separators, CRLF and lone CR line endings.

Names and texts come from hostile alphabets (CJK, emoji, right-to-left, combining marks,
zero-width characters, quotes, backslashes, `{{ }}`, `${}`, `</script>`, Python keywords,
digits-first names, very long labels) but only in the forms mermaid reads back: names
follow the ACTOR rules of section 2.3 (checked by `valid_name`, written from the spec and
not from mermaidgen's lexer), texts spell `#` and `;` as `#35;` and `#59;`.

Nothing here imports mermaidgen: the expectations come from the syntax reference alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

_SAMPLED: dict[tuple, st.SearchStrategy] = {}


def sampled(options) -> st.SearchStrategy:  # noqa: ANN001
    """`st.sampled_from(options)`, made once for each distinct tuple of options. Hypothesis
    validates a strategy the first time it draws from it, and the draws below made a new
    one every time: a quarter of what drawing a diagram cost. The same options draw the
    same values, so the examples are the same."""
    key = tuple(options)
    found = _SAMPLED.get(key)
    if found is None:
        if len(_SAMPLED) > 10_000:  # names differ between examples: bounded all the same
            _SAMPLED.clear()
        found = _SAMPLED[key] = st.sampled_from(key)
    return found

# JavaScript's whitespace (`\s`, and what `String.prototype.trim` removes).
JS_WHITESPACE = ("\t\n\v\f\r \u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
                 + "\u2028\u2029\u202f\u205f\u3000\ufeff")

ARROWS = (
    "->>", "-->>", "->", "-->", "<<->>", "<<-->>", "-x", "--x", "-)", "--)",
    "-|\\", "-|/", "-\\\\", "-//", "--|\\", "--|/", "--\\\\", "--//",
    "/|-", "\\|-", "//-", "\\\\-", "/|--", "\\|--", "//--", "\\\\--",
)
REVERSE_ARROWS = frozenset(a for a in ARROWS if a[0] in "/\\")
PARTICIPANT_TYPES = ("participant", "actor", "boundary", "control", "entity", "database",
                     "collections", "queue", "spaceship")

# -- alphabets -----------------------------------------------------------------------------

CJK = "中文字漢語日本語한국어服务订单"
EMOJI = ["😀", "🚀", "👩‍💻", "🇫🇷", "❤️", "🧪", "𝔘"]  # ZWJ sequence, flag, astral letter
RTL = "שלוםمرحبا\u200f"
COMBINING = "e\u0301a\u0308\u0327n\u0303"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u200e\u202e"
LATIN = "éüßøÅçñ"
HOSTILE_TEXT = ['"', "'", "\\", "{{ x }}", "${x}", "</script>", "<b>", "</b>", "<br/>", "`",
                "{%", "%}", "%%", "$", "\\n", "\\u0000", "'''", '"""', "-->>", ":", ",", "()",
                "->", "{}", "}", "{", "&lt", "&", "\t", "\u00a0", "\u2028", "\u3000", "@{",
                "---", "end", "x=1", "?", "!", "*", "|", "~", "^", "[", "]", "+", "-", "/", "<",
                ">", "..", "__init__", "None", "%s", "{0}"]
# entity codes, with what mermaid (and mermaidgen) decodes them to
ENTITIES = {"#35;": "#", "#59;": ";", "#quot;": '"', "#9829;": "\u2665", "#amp;": "&"}
PYTHON_KEYWORDS = ["class", "def", "None", "True", "False", "import", "return", "lambda",
                   "async", "await", "yield", "self", "print", "match", "case", "_", "type",
                   "__init__", "__class__", "global", "pass", "raise", "try", "with", "from",
                   "in", "is", "not", "or", "del", "assert", "object", "list", "dict"]
COLLIDING = ["Order Service", "order_service", "OrderService", "ORDER SERVICE", "order service",
             "Order_Service", "order__service", "Ordér Service"]

# -- names ----------------------------------------------------------------------------------

# Words mermaid's lexer takes as keywords at the start of a token (spec sections 2.1, 2.3,
# 11): a name that starts with one of them followed by a non-word character (or nothing) is
# read as the keyword. `title`, `accTitle`, `accDescr` are keywords before blanks or `:`.
_KEYWORDS = ("box participant actor create destroy loop rect opt alt else par par_over and "
             "critical option break end over note activate deactivate sequencediagram "
             "autonumber off links link properties details").split()
_KEYWORD_PREFIXES = ("title", "acctitle", "accdescr", "left of", "right of")
_NUM_AT_START = re.compile(r"(?:[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2})(?= )")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2})")
_FIRST_BAD = set("/\\+()<>-:,;\n")
_NEVER = set("\n\r,;:<>#%@+") | {"\x00"}
# sequences that end a name segment or start an arrow (ACTOR's negative lookahead, 2.3)
_BAD_INSIDE = ("-x", "-X", "--", "-)", "-|", "-\\", "-/", "/|", "\\|", "//", "\\\\", "()")
_AS_WORD = re.compile(f"[{re.escape(JS_WHITESPACE)}]as(?:[{re.escape(JS_WHITESPACE)}]|$)",
                      re.IGNORECASE)
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")


def starts_with_keyword(name: str) -> bool:
    low = name.lower()
    for kw in _KEYWORDS:
        if low.startswith(kw) and (len(low) == len(kw) or not _WORD_CHAR.match(low[len(kw)])):
            return True
    return low.startswith(_KEYWORD_PREFIXES)


def valid_name(name: str) -> bool:
    """Can `name` be written as it is in messages, notes, declarations and activations?"""
    if not name or name != name.strip(JS_WHITESPACE) or name[0] in _FIRST_BAD:
        return False
    if any(c in _NEVER for c in name) or name[-1] in "-/\\(|":
        return False
    if any(s in name for s in _BAD_INSIDE) or _AS_WORD.search(name):
        return False
    if "style" in name or "classDef" in name or '="' in name:
        return False
    return not starts_with_keyword(name) and not _NUM_AT_START.match(name)


def is_number(name: str) -> bool:
    """A name mermaid reads as a number when a blank follows it (so none may follow)."""
    return _NUMBER.match(name) is not None


def segmented(name: str) -> bool:
    """A name whose ACTOR token has more than one segment (`a-b`, `A(1)`, `a/b`): it swallows
    a reverse half arrow or a `()` that follows it, so it is never sent from that way."""
    return any(c in name for c in "-/\\()")


def spaced(name: str) -> bool:
    return any(c in JS_WHITESPACE for c in name)


_NAME_CHARS = (st.characters(min_codepoint=0x21, max_codepoint=0x7E,
                             exclude_characters="#%@:;,<>+")
               | st.sampled_from(list(CJK + RTL + COMBINING + ZERO_WIDTH + LATIN))
               | st.sampled_from(EMOJI))


_HEAD_CHARS = (st.sampled_from(list("AbZqx_.$'\"!*?[{~^=&`" + CJK[:3] + LATIN[:2]))
               | st.sampled_from(EMOJI) | st.sampled_from(list(RTL[:3] + ZERO_WIDTH[:3])))
_BODY = st.lists(_NAME_CHARS | st.just(" "), max_size=10)


@st.composite
def _free_name(draw: st.DrawFn) -> str:
    head = draw(_HEAD_CHARS)
    body = draw(_BODY)
    tail = draw(sampled(list("azQ9_\u00e9") + EMOJI[:2] + list(CJK[:2])))
    return head + "".join(body) + tail


names = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True),
    st.sampled_from(PYTHON_KEYWORDS),
    st.sampled_from(COLLIDING),
    st.from_regex(r"[0-9]{1,3}[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True),  # digits first
    st.from_regex(r"[0-9]{1,4}(?:\.[0-9]{1,2})?", fullmatch=True),  # a name that is a number
    st.sampled_from(["Foo-Bar", "svc-v2", "A(1)", "a/b", "api(v2)", "x\\y", "pay-ment gw",
                     "Ω-Δ", "{{name}}", "${svc}", "a\"b", "it's", "O'Brien", "👩‍💻 dev",
                     "服务 A", "مرحبا", "e\u0301clair", "zero\u200bwidth", "\u202eevil",
                     "first.last", "a=b", "x" * 120, "__proto__", "constructor", "as",
                     "left", "right", "loop1", "endpoint", "Rectangle", "optional",
                     "par_overflow", "links_", "title_x", "n\u00a0b"]),
    _free_name(),
).filter(valid_name)

# -- texts ----------------------------------------------------------------------------------

_TEXT_CHARS = (st.characters(min_codepoint=0x20, max_codepoint=0x7E)
               | st.sampled_from(list(CJK + RTL + COMBINING + ZERO_WIDTH + LATIN)))
_WRAP_PREFIX = re.compile(r":?(?:no)?wrap:")
# a directive, an HTML attribute mermaid requotes, the legacy `style ...:#...;` rule
_NOT_AS_WRITTEN = ("%%{", '="', "style", "classDef")


@dataclass(frozen=True)
class Text:
    spelling: str
    """As written in the diagram."""
    meaning: str
    """What mermaid reads: entity codes decoded, blanks at the ends trimmed."""


@st.composite
def texts(draw: st.DrawFn, *, long: bool = True, entities: bool = True) -> Text:
    """A message, note or label text; `#` and `;` appear only as entity codes."""
    chunks = [("", "")]
    for _ in range(draw(st.integers(0, 8))):
        pick = draw(st.integers(0, 9))
        if pick < 4:
            s = draw(st.text(_TEXT_CHARS, max_size=12)).replace("#", "").replace(";", "")
            chunks.append((s, s))
        elif pick < 6:
            s = draw(sampled(HOSTILE_TEXT))
            chunks.append((s, s))
        elif pick < 7:
            s = draw(sampled(EMOJI))
            chunks.append((s, s))
        elif pick < 8 and entities:
            code = draw(sampled(sorted(ENTITIES)))
            chunks.append((code, ENTITIES[code]))
        elif pick < 9 and long and draw(st.integers(0, 9)) == 0:
            n = draw(sampled([300, 2000, 6000]))
            chunks.append(("lorem " * (n // 6), "lorem " * (n // 6)))
        else:
            s = draw(sampled(PYTHON_KEYWORDS))
            chunks.append((" " + s + " ", " " + s + " "))
    spelling = "".join(c[0] for c in chunks)
    meaning = "".join(c[1] for c in chunks)
    # keep only what the lexer reads back unchanged (syntax reference sections 1 and 6)
    while any(bad in spelling for bad in _NOT_AS_WRITTEN):
        for bad in _NOT_AS_WRITTEN:
            spelling = spelling.replace(bad, "")
            meaning = meaning.replace(bad, "")
    # the entity codes are never blanks, so trimming both gives the same text
    spelling = spelling.strip(JS_WHITESPACE)
    meaning = meaning.strip(JS_WHITESPACE)
    # a text that starts with `%%` is a comment to the end of the line (mermaid.js then
    # rejects the message for having no text: checked with the oracle)
    if _WRAP_PREFIX.match(spelling) or spelling.startswith("%%") or \
            not _consistent(spelling, meaning):
        spelling = meaning = "text"
    return Text(spelling, meaning)


_TEXTS, _SHORT_TEXTS = texts(), texts(long=False)  # made once, as `sampled` does


def _consistent(spelling: str, meaning: str) -> bool:
    """No entity code formed by accident across chunk boundaries."""
    decoded = re.sub(r"#(\w+);", lambda m: ENTITIES.get(m.group(0), m.group(0)), spelling)
    return decoded == meaning and "#" not in re.sub(r"#\w+;", "", spelling)


def _plain_text(t: Text) -> str:
    """A text for the places that take no entity codes (frontmatter, comments, labels of
    `link`): the meaning with `#` and `;` dropped."""
    return t.meaning.replace("#", "").replace(";", "")


# -- the generated diagram ------------------------------------------------------------------

@dataclass
class Expected:
    participants: list[str] = field(default_factory=list)
    """Ids in display order (first appearance)."""
    events: list[tuple] = field(default_factory=list)
    """("message", sender, receiver, arrow, text, activate, deactivate, central) and
    ("note", placement, participants, text), in document order."""


@dataclass(frozen=True)
class Generated:
    text: str
    expected: Expected

    def __repr__(self) -> str:  # hypothesis prints this for a failing example
        return f"Generated(text={self.text!r})"


class _State:
    def __init__(self, draw: st.DrawFn, pool: list[str]):
        self.draw = draw
        self.pool = pool  # names for messages and notes (known or not yet)
        self.fresh: list[str] = []  # names kept for create and boxes
        self.known: list[str] = []
        self.gone: set[str] = set()  # destroyed or created: never used for anything new
        self.active: dict[str, int] = {}
        self.exp = Expected()
        self.lines: list[str] = []
        self.indent = ""

    def see(self, name: str) -> None:
        if name not in self.known:
            self.known.append(name)
            self.exp.participants.append(name)

    def emit(self, line: str, sep: str | None = None) -> None:
        if sep is None:
            sep = self.draw(sampled(["\n", "\n", "\n", "\n", ";", ";\n", "\n\n"]))
        self.lines.append(self.indent + line + sep)

    def live(self) -> list[str]:
        return [n for n in self.pool if n not in self.gone]


def _case(draw: st.DrawFn, word: str) -> str:
    return draw(sampled([word, word.upper(), word.capitalize()]))


def _blank(draw: st.DrawFn, allowed: bool = True) -> str:
    return draw(sampled(["", "", " ", "\t"])) if allowed else ""


def _message(s: _State, sender: str, receiver: str, *, plain: bool = False) -> None:
    draw = s.draw
    arrow = draw(sampled(ARROWS))
    if sender_cannot_precede(sender, arrow):
        arrow = "->>"
    mods = ["", "", "+", "()"]
    if s.active.get(sender, 0) > 0:
        mods.append("-")
    mod = "" if plain else draw(sampled(mods))
    if mod == "-" and (receiver[0] in "xX|\\/" or arrow.endswith("-")):
        mod = ""  # `-x`, `-|\\`, `-//` would lex as an arrow; `/|-` + `-` as `/|--`
    sender_central = (not plain and mod not in ("+", "-") and not segmented(sender)
                      and draw(st.integers(0, 4)) == 0)
    if arrow[-1].lower() == "x":
        arrow = arrow[:-1] + draw(sampled(["x", "X"]))
    text = draw(_TEXTS)
    wrap = draw(sampled([None, None, None, True, False]))
    spelled = text.spelling
    if wrap is not None:
        spelled = ("wrap:" if wrap else "nowrap:") + draw(sampled(["", " "])) + spelled
    b = lambda n: _blank(draw, not is_number(n))  # noqa: E731
    line = (f"{sender}{'()' if sender_central else b(sender)}{arrow}{_blank(draw)}{mod}"
            f"{_blank(draw) if mod else ''}{receiver}{b(receiver)}:{_blank(draw)}{spelled}")
    s.see(sender)
    s.see(receiver)
    central = ("both" if sender_central and mod == "()" else "sender" if sender_central
               else "receiver" if mod == "()" else None)
    s.exp.events.append(("message", sender, receiver, arrow.lower(), text.meaning, mod == "+",
                         mod == "-", central))
    if mod == "+":
        s.active[receiver] = s.active.get(receiver, 0) + 1
    if mod == "-":
        s.active[sender] -= 1
    s.emit(line)


def sender_cannot_precede(sender: str, arrow: str) -> bool:
    return arrow in REVERSE_ARROWS and segmented(sender)


def _note(s: _State) -> None:
    draw = s.draw
    placement = draw(sampled(["over", "left of", "right of"]))
    first = draw(sampled(s.live()))
    who = [first]
    if placement == "over" and draw(st.booleans()):
        who.append(draw(sampled(s.live())))
    text = draw(_TEXTS)
    written = (who[0] if len(who) == 1
               else f"{who[0]}{_blank(draw, not is_number(who[0]))},{_blank(draw)}{who[1]}")
    note = _case(draw, "note")
    s.emit(f"{note} {_case(draw, placement)} {written}{_blank(draw, not is_number(who[-1]))}:"
           f"{_blank(draw)}{text.spelling}")
    for n in who:
        s.see(n)
    participants = tuple(who) if len(who) == 2 else (first, first) if placement == "over" \
        else (first,)
    s.exp.events.append(("note", placement, participants, text.meaning))


def _declaration(s: _State, name: str, *, create: bool = False, in_box: bool = False) -> None:
    draw = s.draw
    keyword = draw(sampled(["participant", "actor"]))
    meta = ""
    if not spaced(name) and draw(st.integers(0, 3)) == 0:
        kind = draw(sampled(PARTICIPANT_TYPES))
        alias = draw(sampled(["", ', "alias": "Nice Name"']))
        meta = f'@{{ "type": "{kind}"{alias} }}'
    alias = ""
    if not spaced(name) and draw(st.booleans()):
        label = draw(_SHORT_TEXTS)
        alias = f" as {label.spelling}" if label.spelling else " as"
    line = f"{'create ' if create else ''}{_case(draw, keyword)} {name}{meta}{alias}"
    # after `}` of metadata the lexer is back in INITIAL, and a bare `as` needs a blank or
    # a line break after it (`\s`): a `;` would not do for either
    s.emit(line, "\n" if (meta and not alias) or alias == " as" else None)
    s.see(name)


def _block(s: _State, depth: int, budget: list[int]) -> None:
    draw = s.draw
    kind = draw(sampled(["loop", "rect", "opt", "break", "alt", "par", "par_over",
                                 "critical"]))
    section = {"alt": "else", "par": "and", "par_over": "and", "critical": "option"}.get(kind)
    sections = 1 if section is None else draw(st.integers(1, 3))
    for i in range(sections):
        label = draw(_SHORT_TEXTS)
        if kind == "rect" and draw(st.booleans()):
            label = Text("rgb(0, 255, 0)", "rgb(0, 255, 0)")
        word = _case(draw, kind if i == 0 else section)  # type: ignore[arg-type]
        s.emit(f"{word} {label.spelling}".rstrip() if label.spelling else word)
        outer = s.indent
        s.indent += draw(sampled(["", "  ", "    ", "\t"]))
        _statements(s, depth + 1, budget)
        s.indent = outer
    end = _case(draw, "end")
    tail = draw(sampled(["", "", " %% closes " + kind]))
    s.emit(end + tail, "\n" if tail else None)


def _box(s: _State) -> None:
    draw = s.draw
    label = draw(sampled(["", "Aqua", "Aqua Team", "rgb(33,66,99)",
                                  "rgba(33, 66, 99, 0.5) Team X", "transparent Ops",
                                  "hsl(120,50%,50%) T", "Zone 🚀"]))
    s.emit(f"box {label}".rstrip())
    for _ in range(draw(st.integers(0, 3))):
        if not s.fresh:
            break
        name = s.fresh.pop()
        s.indent += "  "
        _declaration(s, name, in_box=True)
        s.indent = s.indent[:-2]
        s.pool.append(name)
    s.emit("end")


def _create(s: _State) -> None:
    if not s.fresh:
        return
    name = s.fresh.pop()
    senders = [n for n in s.live() if n != name]
    if not senders:
        return
    _declaration(s, name, create=True)
    _message(s, s.draw(sampled(senders)), name, plain=True)
    s.pool.append(name)


def _destroy(s: _State) -> None:
    candidates = [n for n in s.known if n in s.live()]
    if len(candidates) < 2:
        return
    name = s.draw(sampled(candidates))
    other = s.draw(sampled([n for n in candidates if n != name]))
    s.emit(f"{_case(s.draw, 'destroy')} {name}")
    if s.draw(st.booleans()):
        _message(s, name, other, plain=True)
    else:
        _message(s, other, name, plain=True)
    s.gone.add(name)


def _statement(s: _State, depth: int, budget: list[int]) -> None:
    draw = s.draw
    kinds = ["message"] * 6 + ["note"] * 2 + ["declare", "activate", "deactivate",
                                              "autonumber", "links", "title", "comment",
                                              "create", "destroy", "box"]
    if depth < 6:
        kinds += ["block"] * 3
    kind = draw(sampled(kinds))
    live = s.live()
    if kind == "message":
        _message(s, draw(sampled(live)), draw(sampled(live)))
    elif kind == "note":
        _note(s)
    elif kind == "declare":
        _declaration(s, draw(sampled(live)))
    elif kind == "activate":
        name = draw(sampled(live))
        s.emit(f"{_case(draw, 'activate')} {name}")
        s.active[name] = s.active.get(name, 0) + 1
    elif kind == "deactivate":
        busy = [n for n, c in s.active.items() if c > 0]
        if busy:
            name = draw(sampled(busy))
            s.emit(f"{_case(draw, 'deactivate')} {name}")
            s.active[name] -= 1
    elif kind == "autonumber":
        s.emit(draw(sampled(["autonumber", "autonumber 10", "autonumber 10 5",
                                     "autonumber off", "autonumber 1.5 0.25", "AUTONUMBER"])),
               "\n")
    elif kind == "links":
        name = draw(sampled(live))
        line = draw(sampled([
            f'links {name}: {{"Dashboard": "https://dash.example/a", "Wiki": "https://w/x"}}',
            f"link {name}: Dashboard @ https://dash.example/{len(name)}",
            f'properties {name}: {{"class": "internal", "type": "@clock"}}',
            f"details {name}: someDomElementId",
            f"links {name}: not json at all"]))
        s.emit(line)
        s.see(name)
    elif kind == "title":
        t = draw(_SHORT_TEXTS)
        value = t.spelling or "T"
        s.emit(draw(sampled([f"title {value}", f"title: {value}",
                                     f"accTitle: {value};#x", f"accDescr: {value}",
                                     f"accDescr {{\n  d {_plain_text(t).replace('}', '')}x\n}}"])),
               "\n")
    elif kind == "comment":
        words = _plain_text(draw(_SHORT_TEXTS)).lstrip("{")
        s.emit(draw(sampled([f"%% {words}", "%%", f"# {words}"])), "\n")
    elif kind == "create":
        _create(s)
    elif kind == "destroy":
        _destroy(s)
    elif kind == "box":
        _box(s)
    else:
        _block(s, depth, budget)


def _statements(s: _State, depth: int, budget: list[int]) -> None:
    for _ in range(s.draw(st.integers(0, 4 if depth else 12))):
        if budget[0] <= 0:
            return
        budget[0] -= 1
        _statement(s, depth, budget)


@st.composite
def diagrams(draw: st.DrawFn, max_statements: int = 30) -> Generated:
    """A valid diagram and what it means."""
    pool = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    fresh = draw(st.lists(names, max_size=4, unique=True).map(
        lambda xs: [x for x in xs if x not in pool]))
    s = _State(draw, pool)
    s.fresh = fresh
    head: list[str] = []
    if draw(st.integers(0, 5)) == 0:
        title = re.sub(r"[^A-Za-z0-9 ]", "", _plain_text(draw(_SHORT_TEXTS))).strip()
        head += ["---", f"title: {title or 'Flow'}", "config:", "  sequence:",
                 "    mirrorActors: false", "---"]
    if draw(st.integers(0, 5)) == 0:
        head.append(draw(sampled(['%%{init: {"sequence": {"wrap": true}}}%%',
                                          "%%{wrap}%%", "%% a comment before the header"])))
    budget = [draw(st.integers(0, max_statements))]
    _statements(s, 0, budget)
    text = "\n".join([*head, "sequenceDiagram", ""]) + "".join(s.lines)
    ending = draw(sampled(["\n", "\n", "\n", "\r\n", "\r"]))
    if ending != "\n":
        text = text.replace("\n", ending)
    return Generated(text, s.exp)
