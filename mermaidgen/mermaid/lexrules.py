"""Mermaid's sequence-diagram lexer rules, ported to Python regular expressions.

Each pattern here is the jison rule of mermaid.js 12.3 with the same number in
`../shared/spec/mermaid-sequence-syntax.md` section 2. Three things make the port exact:

* jison tries rules in order and takes the *first* that matches (not the longest);
  Python's alternation does the same, so master patterns list rules in jison's order.
* JavaScript regexes without the `u` flag know only ASCII word characters (`\\w`, `\\b`)
  and ASCII case folding, hence `re.ASCII | re.IGNORECASE`; but JavaScript's `\\s` is
  Unicode-wide, so whitespace is spelled out as `WS`.
* The lexer commits to a token once matched; where several tokens are matched by one
  pattern (the message fast path), atomic groups `(?>...)` stop Python from backtracking
  into a token to find a match that jison would never see.
"""

from __future__ import annotations

import functools
import re

FLAGS = re.ASCII | re.IGNORECASE

# JavaScript's \s, and the same without the newline.
WS_CHARS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
WS = f"[{WS_CHARS}]"
BLANK = f"[{WS_CHARS.replace(chr(10), '')}]"
JS_WHITESPACE = "".join(
    chr(c)
    for c in [9, 10, 11, 12, 13, 32, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
              0x202F, 0x205F, 0x3000, 0xFEFF]
)

# Rule 60: a participant name in message, note and link statements (section 2.3).
_ACTOR_FIRST = r"[^/\\+()<>\-:\n,;]+"
_ACTOR_BLOCKED = r"-x|--x|-\)|--\)|-\|\\|-\\|-/|-//|-\|/|/\|-|\\\|-|//-|\\\\-|--\|\\|--|\(\)"
ACTOR = rf"{_ACTOR_FIRST}(?:(?!{_ACTOR_BLOCKED})-*[^+<>\-:\n,;]+)*"

# Rules 61-86, in jison's order (every arrow that is a prefix of another comes after it).
ARROW_RULES = (
    "->>", "<<->>", "-->>", "<<-->>", "->", "-->", "-x", "--x", "-)", "--)",
    "--|\\", "--|/", "--\\\\", "--//", "/|--", "\\|--", "//--", "\\\\--",
    "-|\\", "-|/", "-\\\\", "-//", "/|-", "\\|-", "//-", "\\\\-",
)
ARROW = "|".join(re.escape(a) for a in ARROW_RULES)

# Rule 6: a number only counts when a space or newline follows it.
NUM = r"(?:[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2})(?=[ \n]+)"

# Rules 16-57: keywords. The link keywords follow mermaid 12.3 (keywords only before a name).
_LINK_AHEAD = rf"(?=[ \t]+[^/\\+()<>:\n,;{WS_CHARS}\-])"
KEYWORD = (
    r"(?:box|participant|actor|create|destroy|loop|rect|opt|alt|else|par|par_over|and"
    r"|critical|option|break|end)\b"
    r"|left of\b|right of\b"
    rf"|(?:links|link|properties|details){_LINK_AHEAD}"
    r"|(?:over|note|activate|deactivate)\b"
)
TITLE = rf"title{WS}[^#\n;]+"
LEGACY_TITLE = rf"title:{WS}[^#\n;]+"
ACC_TITLE = rf"accTitle{WS}*:{WS}*"
ACC_DESCR = rf"accDescr{WS}*:{WS}*"
ACC_DESCR_BLOCK = rf"accDescr{WS}*\{{{WS}*"
HEADER = r"sequenceDiagram\b"

# Rules 3-5: comments skipped between tokens.
COMMENT = r"#[^\n]*|%(?!\{)[^\n]*|[^}]%%[^\n]*"

# Every rule that jison tries before ACTOR and that can match where a name could start.
BEATS_ACTOR = (
    rf"{WS}|#|%(?!\{{)|[^}}]%%|{NUM}|{KEYWORD}|{TITLE}|{LEGACY_TITLE}|{ACC_TITLE}"
    rf"|{ACC_DESCR}|{ACC_DESCR_BLOCK}|{HEADER}|autonumber\b|off\b"
)

# The INITIAL state, one group per token kind, in jison's rule order.
INITIAL = re.compile(
    rf"(?P<NL>\n+)|(?P<WS>{WS}+)|(?P<CMT>{COMMENT})|(?P<NUM>{NUM})|(?P<KW>{KEYWORD})"
    rf"|(?P<TITLE>{TITLE})|(?P<LEGACY_TITLE>{LEGACY_TITLE})|(?P<ACC_TITLE>{ACC_TITLE})"
    rf"|(?P<ACC_DESCR>{ACC_DESCR})|(?P<ACC_DESCR_BLOCK>{ACC_DESCR_BLOCK})"
    rf"|(?P<HEADER>{HEADER})|(?P<AUTONUMBER>autonumber\b)|(?P<OFF>off\b)|(?P<COMMA>,)"
    rf"|(?P<SEMI>;)|(?P<ACTOR>{ACTOR})|(?P<ARROW>{ARROW})|(?P<TXT>:[^#\n;]*)"
    rf"|(?P<PLUS>\+)|(?P<MINUS>-)|(?P<CENTRAL>\(\))|(?P<INVALID>.)",
    FLAGS,
)

# Whatever may separate two statements: blanks, newlines, `;` and comments.
SEPARATORS = re.compile(rf"(?:{WS}+|;|{COMMENT})*+", FLAGS)

# The common message statement in one match: `A ->> +B : text` with plain blanks.
# Anything unusual (comments or line breaks between tokens) fails here and takes the
# token-by-token path, which is exact in every case.
SIGNAL_FAST = (
    rf"(?P<sender>(?>{ACTOR}))(?P<sender_central>\(\))?+[ \t]*+"
    rf"(?P<arrow>(?>{ARROW}))[ \t]*+"
    rf"(?P<mod>(?![^}}]%%)(?>\+|(?!{ARROW})-|\(\)))?+[ \t]*+"
    rf"(?!{BEATS_ACTOR})(?P<receiver>(?>{ACTOR}))"
    rf"(?![^}}]%%)(?P<text>:[^#\n;]*)"
)



@functools.cache
def signal_after_separators() -> re.Pattern[str]:
    """Separators, then `SIGNAL_FAST`: compiled on first use, because compiling it costs
    about 3 ms and it saves about 2 ms per 1,000 messages (see `FAST_PATH_MIN_CHARS`)."""
    return re.compile(rf"{SEPARATORS.pattern}(?!{BEATS_ACTOR}){SIGNAL_FAST}", FLAGS)


# The lexer takes the one-match path for messages only in texts at least this long (about
# 1,500 messages): below it, compiling the pattern costs more than the path saves.
FAST_PATH_MIN_CHARS = 64_000

# The ID state (after participant, actor, destroy, activate, deactivate), rules 2-15.
ID_SKIP = re.compile(rf"(?:{BLANK}+|#[^\n]*)*+")
ID_BEFORE_CONFIG = re.compile(rf"[^<>:\n,;@{WS_CHARS}]+(?={WS}*@\{{)")
ID_BEFORE_ALIAS = re.compile(rf"[^<>:\n,;@{WS_CHARS}]+(?={WS}+as{WS})", FLAGS)
ID_PLAIN = re.compile(rf"[^<>:\n,;@]+(?={WS}*[\n;#]|$)")
ID_INVALID = re.compile(r"[^<>:\n,;@]*<[^\n]*|[^\n]+")
CONFIG_CONTENT = re.compile(r"[^}]+")
CONFIG_END_BEFORE_ALIAS = re.compile(rf"\}}(?={WS}+as{WS})", FLAGS)  # `} AS x` too
AS_KEYWORD = re.compile(r"as\b", FLAGS)

# The LINE state: labels of blocks and boxes, and aliases (rule 34, after blanks/comments).
LINE_VALUE = re.compile(rf"(?:{BLANK}+|#[^\n]*)*+(?P<value>[^#\n;]*)")

ACC_VALUE = re.compile(r"[^\n]*")
