"""The ```mermaid fences of a Markdown document, found as a Markdown renderer finds them.

markdown-it-py decides what is a fence (lists, quotes, indentation, HTML blocks, unclosed
fences); a scan of the top-level blocks keeps it to the parts of a large document that may
hold one. `mermaidgen.mermaid.extract` imports this module only for Markdown sources.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mermaidgen.mermaid.snippets import (
    FIRST_WORD,
    MERMAID_FENCE,
    TEXT_HEADER,
    NoDiagramError,
    Snippet,
    counted,
    preamble,
    snippet_at,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# The document's own frontmatter: YAML or TOML, and only if it starts with a key.
_MD_FRONTMATTER = re.compile(
    r"(---|\+\+\+)[ \t]*\n(?=[A-Za-z_][\w -]*[:=]).*?\n(?:\1|\.\.\.)[ \t]*(?=\n|\Z)", re.S
)


@dataclass(frozen=True, slots=True)
class _Fence:
    """A mermaid fence's content, and where that content starts in the document."""

    text: str
    line_offset: int
    column_offset: int


def from_markdown(text: str, source: str) -> list[Snippet]:
    """The sequence diagrams in the mermaid fences of `text`, with their places in it."""
    # The document's own frontmatter is not Markdown (GitHub shows it as a table): blank it,
    # keeping its lines so that line numbers stay right.
    frontmatter = _MD_FRONTMATTER.match(text)
    if frontmatter:
        text = "\n" * frontmatter.group().count("\n") + text[frontmatter.end() :]
    snippets: list[Snippet] = []
    others: list[str] = []
    for fence in _mermaid_fences("\n" + text):
        index = len(snippets) + 1
        found = snippet_at(fence.text, source, fence.line_offset, fence.column_offset, index)
        if found:
            snippets.append(found)
        else:
            start, _ = preamble(fence.text)
            word = FIRST_WORD.match(fence.text, start)
            others.append(word.group() if word else "")
    if not snippets:
        raise _no_fence_diagram(text, source, others)
    return snippets


def _no_fence_diagram(text: str, source: str, kinds: list[str]) -> NoDiagramError:
    if not text.strip():
        return NoDiagramError("no sequenceDiagram found (the file is empty)", source=source)
    if not kinds:
        detail = "the file has no ```mermaid fences"
        stray = TEXT_HEADER.search("\n" + text)
        if stray:
            detail += (
                f"; line {text.count(chr(10), 0, stray.start()) + 1} starts with "
                "`sequenceDiagram` but is not in a ```mermaid fence"
            )
        return NoDiagramError(f"no sequenceDiagram found ({detail})", source=source)
    parts = [f"looked in {counted(len(kinds), 'mermaid fence')}"]
    others = [kind for kind in kinds if kind]
    if len(others) == 1:
        parts.append(f"1 holds another diagram type: {others[0]}")
    elif others:
        parts.append(f"{len(others)} hold other diagram types: {', '.join(dict.fromkeys(others))}")
    if len(kinds) > len(others):
        parts.append(f"{counted(len(kinds) - len(others), 'is', 'are')} empty")
    if any(kind.lower().startswith("sequencediagram") for kind in others):
        parts.append("the header is case-sensitive: write `sequenceDiagram`")
    return NoDiagramError(f"no sequenceDiagram found ({'; '.join(parts)})", source=source)


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # here, not at the top: the CLI imports us on start-up

    parser = MarkdownIt("commonmark")
    parser.core.ruler.enableOnly(["normalize", "block"])  # fences are blocks: skip inline work
    return parser


def _parse(src: str, start: int, end: int) -> list[Token]:
    return _markdown_parser().parse(src[start:end])


def _is_mermaid(info: str) -> bool:
    words = info.split(None, 1)
    return bool(words) and words[0].lower() == "mermaid"


def _column_offset(content: list[str], raw: list[str]) -> int:
    """How many characters Markdown took off the fence's lines (list/quote indentation)."""
    # Lines stripped differently (a `>` without its space, a line less indented than the
    # fence) are rare: the most common shift, over a bounded sample, stands for all.
    shifts = Counter(
        len(line) - len(got)
        for got, line in zip(content[:1000], raw, strict=False)
        if got.strip() and line.endswith(got)
    )
    return shifts.most_common(1)[0][0] if shifts else 0


def _mermaid_fences(src: str) -> list[_Fence]:
    """The ```mermaid fences of `src` ("\n" + the document), as markdown-it finds them.

    markdown-it-py needs ~3 s for 10 MB, so `_scan` follows the top-level blocks itself and
    markdown-it only parses windows around the other lines that may open a mermaid fence.
    A window runs between two reset points, lines where the parser is at top level with
    nothing open, so parsing it alone gives the same tokens as parsing the whole document.
    """
    candidates = sorted({src.rfind("\n", 0, m.start()) + 1 for m in MERMAID_FENCE.finditer(src)})
    if not candidates:
        return []
    scan = _scan(src)
    windows: dict[tuple[int, int], None] = {}  # an ordered set
    for line_start in candidates:
        i = bisect.bisect_right(scan.inside, (line_start, _NEVER))
        if line_start in scan.fences or (i and scan.inside[i - 1][1] > line_start):
            continue  # read by the scan already, or inside a top-level fence or HTML block
        i = bisect.bisect_right(scan.resets, line_start)
        end = scan.resets[i] if i < len(scan.resets) else len(src)
        windows[(scan.resets[i - 1], end)] = None
    fences = {fence.line_offset: fence for fence in scan.fences.values()}
    line, counted = 0, 1
    for start, end in windows:  # in document order
        line += src.count("\n", counted, start)
        counted = start
        tokens = scan.parsed.get((start, end)) or _parse(src, start, end)
        raw: list[str] = []
        for token in tokens:
            if token.type != "fence" or not _is_mermaid(token.info) or token.map is None:
                continue
            raw = raw or src[start:end].split("\n")
            first = token.map[0] + 1
            content = token.content[:-1] if token.content.endswith("\n") else token.content
            column = _column_offset(content.split("\n", 1000), raw[first : token.map[1]])
            fences[line + first] = _Fence(content, line + first, column)
    return [fences[line] for line in sorted(fences)]


# Lines that can open a top-level fence or an HTML block of types 1-5 (CommonMark 4.5, 4.6):
# the only blocks that stay open across a blank line followed by an unindented line.
_OPENER = re.compile(
    r"\n( {0,3})(?:(`{3,}|~{3,})([^\n]*)"
    r"|<(?:(?i:script|pre|style|textarea)(?=[\s>]|$)|!--|\?|![A-Za-z]|!\[CDATA\[))",
    re.M,
)
_CUT = re.compile(r"\n[ \t]*\n(?=[^ \t\n])")
_HTML_LINE = re.compile(r"\n {0,3}<")
_LIST_ITEM = re.compile(r"\n {0,3}(?:[-+*]|\d{1,9}[.)])(?=[ \t\n]|\Z)")
_NEVER = sys.maxsize


@lru_cache(maxsize=64)
def _closer(marker: str, length: int) -> re.Pattern[str]:
    return re.compile(r"\n {0,3}" + re.escape(marker) + f"{{{length},}}" + r"[ \t]*(?=\n|\Z)")


def _html_end(opener: str) -> re.Pattern[str]:
    for prefix, end in (("<!--", "-->"), ("<?", r"\?>"), ("<![CDATA[", r"\]\]>"), ("<!", ">")):
        if opener.startswith(prefix):
            return re.compile(end)
    return re.compile(r"</(?:script|pre|style|textarea)>", re.I)


class _NextLine:
    """The first line at or after a position that only grows where `pattern` matches."""

    def __init__(self, pattern: re.Pattern[str], src: str) -> None:
        self.pattern, self.src, self.found = pattern, src, -1

    def at_or_after(self, pos: int) -> int:
        if self.found < pos:  # never searches the same stretch twice: linear overall
            match = self.pattern.search(self.src, pos - 1)
            self.found = match.start() + 1 if match else _NEVER
        return self.found


@dataclass(slots=True)
class _Scan:
    """What a pass over the top-level blocks of a Markdown document found."""

    resets: list[int]
    """Line starts where markdown-it can start with the same result as from the top."""
    parsed: dict[tuple[int, int], list[Token]]
    """Stretches markdown-it had to parse to know where a block opens, and their tokens."""
    fences: dict[int, _Fence]
    """Top-level mermaid fences, read directly, by the position of their opening line."""
    inside: list[tuple[int, int]]
    """(start, end) of the insides of top-level fences and HTML blocks: no fence opens there."""


def _scan(src: str) -> _Scan:
    """Follow the top-level fences and HTML blocks of `src` ("\n" + the document).

    After a blank line, a line starting in column 0 closes every list and blockquote: only
    a top-level fence or HTML block of types 1-5 can still be open there. Those open and
    close on lines that regexes find exactly, except when an opening line might belong to
    a list item (it is indented and a list marker came before) or to an HTML block (a line
    starting with `<` came before): then markdown-it parses that stretch to know.
    """
    scan = _Scan([1], {}, {}, [])
    cuts = [m.end() for m in _CUT.finditer(src)]
    html_lines, list_items = _NextLine(_HTML_LINE, src), _NextLine(_LIST_ITEM, src)
    pos, line, counted = 1, 0, 1
    while pos < len(src):
        opener = _OPENER.search(src, pos - 1)
        line_start = opener.start() + 1 if opener else len(src)
        # Nothing opens before `line_start`: every cut up to it is a reset point.
        lo = bisect.bisect_right(cuts, max(pos, scan.resets[-1]))
        scan.resets.extend(cuts[lo : bisect.bisect_right(cuts, line_start)])
        if opener is None:
            break
        line_end = src.find("\n", line_start)
        next_line = len(src) if line_end < 0 else line_end + 1
        indent, marker, info = opener.group(1, 2, 3)
        if marker and marker[0] == "`" and "`" in info:
            pos = next_line  # not a fence: backticks in the info string make it inline code
            continue
        start = scan.resets[-1]
        block_end: re.Pattern[str] | None
        exact = True
        if html_lines.at_or_after(start) < line_start or (
            indent and list_items.at_or_after(start) < line_start
        ):
            cut = bisect.bisect_right(cuts, line_start)
            end = cuts[cut] if cut < len(cuts) else len(src)
            tokens = scan.parsed[(start, end)] = _parse(src, start, end)
            block_end = _open_at_end(tokens, src.count("\n", start, end))
            if block_end is None:
                if end < len(src):
                    scan.resets.append(end)
                pos = end
                continue
            exact, search_from = False, end
        elif marker:
            block_end, search_from = _closer(marker[0], len(marker)), next_line
        else:
            block_end = _html_end(opener.group().lstrip("\n "))
            search_from = line_start
        # Inside a top-level fence or HTML block, nothing but its end marker matters.
        close = block_end.search(src, search_from - 1)
        pos = len(src) if close is None else src.find("\n", close.end() - 1) + 1 or len(src)
        scan.inside.append((search_from, pos))
        if exact and marker and _is_mermaid(info):
            line += src.count("\n", counted, line_start)
            counted = line_start
            body = src[next_line : len(src) if close is None else close.start()]
            fence = _top_level_fence(body, len(indent), line + 1, unclosed=close is None)
            if fence:
                scan.fences[line_start] = fence
        if close is None:
            break
        if pos < len(src):
            scan.resets.append(pos)
    return scan


def _top_level_fence(body: str, indent: int, line_offset: int, *, unclosed: bool) -> _Fence | None:
    """The fence as markdown-it reads it: up to `indent` spaces off each line (CommonMark 4.5)."""
    if unclosed:  # it runs to the end; markdown-it ignores a last line of blanks with no \n
        tail = body.rfind("\n") + 1
        if not body[tail:].strip(" \t"):
            body = body[: max(tail - 1, 0)]
    if not indent:
        return _Fence(body, line_offset, 0)
    if re.search(rf"\n {{0,{indent - 1}}}\t", "\n" + body):
        return None  # markdown-it expands tabs partially here: let it read this fence
    content = re.sub(rf"\n {{1,{indent}}}", "\n", "\n" + body)[1:]
    return _Fence(
        content, line_offset, _column_offset(content.split("\n", 1000), body.split("\n", 1000))
    )


def _open_at_end(tokens: list[Token], lines: int) -> re.Pattern[str] | None:
    """The end marker of a top-level block that runs to the end of `tokens`' text, if any."""
    last = next((t for t in reversed(tokens) if t.level == 0), None)
    if last is None or last.map is None or last.map[1] < lines:
        return None
    if last.type == "fence":
        return _closer(last.markup[0], len(last.markup))
    if last.type == "html_block":
        return _html_end(last.content.lstrip(" "))
    return None
