"""Mermaid's text preprocessing, done so that every line keeps its number.

mermaid.js cleans the text before its lexer sees it (syntax reference section 1): line
endings, HTML attribute quotes, YAML frontmatter, `%%{...}%%` directives, `%%` comment
lines, then entity codes. mermaid deletes what it removes, which shifts its line numbers;
here removed text is replaced by the newlines it contained, so the lexer's lines are the
source's lines and errors point at the right place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from mermaidgen.errors import Problem
from mermaidgen.mermaid.lexrules import BLANK, JS_WHITESPACE, WS
from mermaidgen.mermaid.text import encode_entities, without_surrogates

_LINE_ENDINGS = re.compile(r"\r\n?")
_HTML_TAG = re.compile(r"<(\w+)([^>]*)>", re.ASCII)
_DOUBLE_QUOTED_ATTR = re.compile(r'="([^"]*)"')
_DIRECTIVE = re.compile(
    r"%{2}\{\s*(?:(\w+)\s*:|(\w+))\s*(?:(\w+)|((?:(?!}%{2}).|\r?\n)*))?\s*(?:}%{2})?",
    re.ASCII | re.IGNORECASE,
)
_COMMENT_LINE = re.compile(rf"^{WS}*%%(?!\{{)[^\n]+\n?", re.MULTILINE)
# The same removal without a Python call per comment line (a file of a million comment
# lines spent most of its preprocessing in that call): a comment line's own text, up to its
# line break, which stays. It gives what `_COMMENT_LINE` gives unless a line of nothing but
# blanks comes before a comment line (`_COMMENT_LINE`'s leading `\s*` crosses lines, as
# mermaid's does, and takes those blanks too): with any such line, the slow way.
_COMMENT_TEXT = re.compile(rf"^{BLANK}*%%(?!\{{)[^\n]+", re.MULTILINE)
# a line of blanks, found from its line break before (a search for `^` tries every
# position: it cost as much as the Python calls it spares)
_BLANK_LINE = re.compile(rf"\n{BLANK}++\n")
_BLANK_FIRST_LINE = re.compile(rf"{BLANK}++\n")
_LEGACY_STYLE = re.compile(r"(?:style|classDef).*:\S*#.*;")
# Lines that start with `%%` and survive the directive and comment-line passes (a bare `%%`,
# `%%{` that is no directive, remains after a directive) may come before the header: mermaid's
# detection drops them, and its lexer skips them as comments (rule 4).
_HEADER = re.compile(rf"(?:{WS}*+%%[^\n]*+)*+{WS}*sequenceDiagram")
_OTHER_DIAGRAM = re.compile(
    r"\s*(graph|flowchart|classDiagram|stateDiagram|erDiagram|gantt|pie|journey|gitGraph"
    r"|mindmap|timeline|quadrantChart|requirementDiagram|C4Context|sankey|xychart|block"
    r"|packet|architecture|kanban|radar|treemap)",
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The text the lexer reads, plus what preprocessing found on the way."""

    text: str
    header_pos: int
    title: str | None = None
    config: dict[str, object] = field(default_factory=dict)


def _blank_out(text: str) -> str:
    """Removed text, reduced to the line breaks it held."""
    return "\n" * text.count("\n")


def drop_comment_lines(text: str) -> str:
    """`%%` comment lines removed, their line breaks kept (`_COMMENT_LINE`)."""
    if _BLANK_LINE.search(text) is None and _BLANK_FIRST_LINE.match(text) is None:
        return _COMMENT_TEXT.sub("", text)
    return _COMMENT_LINE.sub(lambda m: _blank_out(m.group(0)), text)


def _quote_attributes(text: str) -> str:
    # mermaid turns attr="v" into attr='v' inside HTML tags, message texts included.
    if "<" not in text:
        return text
    def requote(m: re.Match[str]) -> str:
        return "<" + m.group(1) + _DOUBLE_QUOTED_ATTR.sub(r"='\1'", m.group(2)) + ">"

    # No tag ends after the last `>`: searching there would scan to the end of the text
    # from every `<`, which is quadratic (a long line of `<a<a<a...`).
    end = text.rfind(">") + 1
    return _HTML_TAG.sub(requote, text[:end]) + text[end:]


def _is_blank(c: str) -> bool:
    return c in JS_WHITESPACE


def _frontmatter_span(text: str) -> tuple[int, int, int, str] | None:
    """A leading `---` YAML block as mermaid 12 finds it: (end, body start, body end, indent)."""
    cursor = 0
    while cursor < len(text) and _is_blank(text[cursor]) and text[cursor] != "\n":
        cursor += 1
    indent = text[:cursor]
    if not text.startswith("---", cursor):
        return None
    opening_ends = []
    i = cursor + 3
    while i < len(text) and _is_blank(text[i]):
        if text[i] == "\n":
            opening_ends.append(i)
        i += 1
    if not opening_ends:
        return None
    fence = "\n" + indent + "---"

    def closing_end(at: int) -> int:
        # the last line break in the blanks after the closing fence, or -1
        last, j = -1, at + len(fence)
        while j < len(text) and _is_blank(text[j]):
            if text[j] == "\n":
                last = j
            j += 1
        return last

    closings = []
    at = text.find(fence, opening_ends[0] + 1)
    while at >= 0:
        if closing_end(at) >= 0:
            closings.append(at)
        at = text.find(fence, at + 1)
    if not closings:
        return None
    body_start = max((o for o in opening_ends if o < closings[-1]), default=opening_ends[0]) + 1
    for close in closings:
        if close >= body_start:
            return closing_end(close) + 1, body_start, close, indent
    return None


def _read_frontmatter(body: str, indent: str, line: int) -> tuple[str | None, dict]:
    """The title and config of a frontmatter body that starts on file line `line`."""
    from mermaidgen.mermaid import bounded_yaml  # only diagrams with frontmatter pay for yaml

    if indent:
        body = "\n".join(ln[len(indent) :] if ln.startswith(indent) else ln
                         for ln in body.split("\n"))
    try:
        data, raw = bounded_yaml.load(body, raw=True)  # raw: titles exactly as written
    except bounded_yaml.YamlProblem as exc:
        what = "frontmatter refused" if exc.hint else "invalid YAML in the frontmatter"
        raise _FrontmatterError(Problem(
            f"{what}: {exc.reason}", line + exc.line - 1, exc.column + len(indent),
            hint=exc.hint or "the block between the two `---` lines must be valid YAML",
        )) from None
    if not isinstance(data, dict):
        return None, {}
    title = raw.get("title") if isinstance(raw, dict) else None
    config = data.get("config")
    config = dict(config) if isinstance(config, dict) else {}
    if data.get("displayMode"):  # mermaid files it under gantt, whatever the diagram
        config.setdefault("gantt", {})["displayMode"] = str(data["displayMode"])
    return (str(title) if title else None), config


class _FrontmatterError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _read_directives(text: str) -> dict[str, object]:
    """Config from `%%{init: ...}%%` and `%%{wrap}%%`; bad JSON is ignored, as by mermaid."""
    config: dict[str, object] = {}
    for m in _DIRECTIVE.finditer(text.replace("'", '"')):
        # mermaid finds directives case-insensitively (and removes them all) but acts only
        # on the exact names: `%%{INIT: ...}%%` and `%%{Wrap}%%` change nothing
        kind = m.group(1) or m.group(2) or ""
        if kind == "wrap":
            config["wrap"] = True
        elif kind in ("init", "initialize") and m.group(4):
            try:
                args = without_surrogates(json.loads(m.group(4).strip()))
            except ValueError:
                continue
            if isinstance(args, dict):
                if "config" in args:
                    args["sequence"] = args.pop("config")
                config.update(args)
    return config


def header_problem(text: str) -> Problem:
    """Why a text is not a sequence diagram, as a problem at its first line."""
    stripped = text.lstrip()
    if not stripped:
        return Problem("the diagram is empty", 1, 1,
                       hint="a sequence diagram starts with the line `sequenceDiagram`")
    line = text[: len(text) - len(stripped)].count("\n") + 1
    first = stripped.split("\n", 1)[0]
    other = _OTHER_DIAGRAM.match(stripped)
    if stripped[:15].lower() == "sequencediagram":
        return Problem(f"unknown diagram header `{stripped[:15]}`", line, 1, first,
                       hint="the header is case-sensitive: write `sequenceDiagram`")
    if other:
        return Problem(f"this is a `{other.group(1)}` diagram, not a sequenceDiagram",
                       line, 1, first)
    return Problem("expected `sequenceDiagram` as the first statement", line, 1, first,
                   hint="only frontmatter, `%%` comments and `%%{init}%%` directives may "
                   "come before the `sequenceDiagram` header")


def prepare(text: str) -> Prepared | Problem:
    """The lexer's input, or the problem that stops the text from being a diagram."""
    text = _quote_attributes(_LINE_ENDINGS.sub("\n", text))
    title = None
    config: dict[str, object] = {}
    front = _frontmatter_span(text)
    if front:
        end, body_start, body_end, indent = front
        body_line = text.count("\n", 0, body_start) + 1
        try:
            title, config = _read_frontmatter(text[body_start:body_end], indent, body_line)
        except _FrontmatterError as exc:
            return exc.problem
        text = _blank_out(text[:end]) + text[end:]
    if "%%{" in text:
        config.update(_read_directives(text))
        text = _DIRECTIVE.sub(lambda m: _blank_out(m.group(0)), text)
    if "%%" in text:
        text = drop_comment_lines(text)
    header = _HEADER.match(text)
    if not header:
        return header_problem(text)
    if "style" in text or "classDef" in text:
        text = _LEGACY_STYLE.sub(lambda m: m.group(0)[:-1], text)
    return Prepared(encode_entities(text) + "\n", header.end() - len("sequenceDiagram"),
                    title, config)
