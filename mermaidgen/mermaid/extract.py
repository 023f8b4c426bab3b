"""Find the sequence diagram(s) in a source and remember where each one sits in it.

A source is a `.mmd` file (the whole file is one diagram), Markdown (every ```mermaid fence
that holds a sequence diagram), any other text (each line that starts with `sequenceDiagram`,
up to the next blank line), or `-` for stdin. Each `Snippet` keeps its line and column
offsets, so that later stages report positions in the user's file, not in the snippet.
What a snippet is, and how one is recognised, is `snippets`, which `fences` (Markdown)
shares; this module reads sources, finds their diagrams and selects one.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
from typing import BinaryIO, TextIO

from mermaidgen.mermaid.snippets import (
    FIRST_WORD,
    HEADER,
    MERMAID_FENCE,
    SPACE,
    TEXT_HEADER,
    NoDiagramError,
    NotTextError,
    SelectorError,
    Snippet,
    SourcePathError,
    counted,
    preamble,
    snippet_at,
)

KINDS = ("mmd", "markdown", "text")
MMD_SUFFIXES = frozenset({".mmd", ".mermaid"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx", ".mkd", ".mdown"})

# Mermaid's other diagram headers, to say "this is a flowchart" rather than "bad text".
_OTHER_DIAGRAMS = frozenset(
    "graph flowchart flowchart-elk classDiagram classDiagram-v2 stateDiagram stateDiagram-v2 "
    "erDiagram journey gantt pie quadrantChart requirementDiagram gitGraph C4Context "
    "C4Container C4Component C4Dynamic C4Deployment mindmap timeline zenuml sankey sankey-beta "
    "xychart xychart-beta block block-beta packet packet-beta kanban architecture "
    "architecture-beta radar-beta treemap-beta info".split()
)


# --- reading -------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = frozenset(chr(c) for c in range(32)) - set("\t\n\r\f\v\x1b")


MAX_SOURCE_BYTES = 128 * 1024 * 1024
"""Largest source read. 100,000-message diagrams take a few MB; a cap keeps a mistaken
path (a disk image, a log) or endless input from filling the memory first."""


def read_source(path: str, stdin: TextIO | BinaryIO | None = None) -> str:
    """The text of `path` (stdin for `-`): decoded, BOM dropped, line endings made `\\n`."""
    if path == "-":
        stream = sys.stdin if stdin is None else stdin
        if stream is None:  # pythonw, or a closed stdin
            raise SourcePathError("there is no standard input to read", source="-")
        return _read_stream(stream)
    if os.path.isdir(path):
        raise SourcePathError("is a directory; give a .mmd, .md or text file", source=path)
    try:
        data = _read_regular_file(path)
    except FileNotFoundError:
        raise SourcePathError("no such file", source=path) from None
    except PermissionError:
        raise SourcePathError("permission denied: cannot read the file", source=path) from None
    except ValueError:  # a NUL in the path
        raise SourcePathError("not a valid path", source=repr(path)) from None
    except OSError as exc:
        raise SourcePathError(
            f"cannot read the file ({exc.strerror or exc})", source=path
        ) from None
    return decode(data, path)


def _read_regular_file(path: str) -> bytes:
    """The bytes of a regular file, at most `MAX_SOURCE_BYTES`. A device (/dev/zero), a
    named pipe or a socket is refused before anything is read: opened without blocking
    (a pipe with no writer would wait forever), then checked on the open file itself, so
    that nothing can be swapped in between."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with open(fd, "rb", closefd=True) as file:
        kind = _special_kind(os.fstat(fd).st_mode)
        if kind:
            raise SourcePathError(f"not a regular file ({kind}); give a .mmd, .md or text "
                                  "file, or `-` to read standard input", source=path)
        data = _bounded_read(file, path)
        assert isinstance(data, bytes)
        return data


def _special_kind(mode: int) -> str | None:
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a file"


def _bounded_read(stream: BinaryIO | TextIO, source: str) -> bytes | str:
    data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        what = "the input" if source == "-" else "the file"
        raise SourcePathError(f"{what} is larger than {MAX_SOURCE_BYTES // 1024**2} MiB, "
                              "the most mermaidgen reads; split it into smaller files",
                              source=source)
    return data


def _read_stream(stream: TextIO | BinaryIO) -> str:
    # Read the bytes under a text stream: its codec is the locale's, which may not be UTF-8.
    raw = getattr(stream, "buffer", stream)
    try:
        data = _bounded_read(raw, "-")
    except UnicodeDecodeError as exc:
        raise NotTextError(f"the input is not valid text ({exc.reason})", source="-") from None
    except OSError as exc:
        raise SourcePathError(f"cannot read stdin ({exc.strerror or exc})", source="-") from None
    if isinstance(data, bytes):
        return decode(data, "-")
    text = normalise(data)
    if _looks_binary(text):
        raise NotTextError("not a text file (it holds NUL or control characters)", source="-")
    return text


def decode(data: bytes, source: str) -> str:
    """`data` as text: UTF-8 (BOM optional) or UTF-16/32 with a BOM; else a `NotTextError`."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        if b"\0" in data:
            raise _nul_error(data, source)
        encoding = "utf-8"
    try:
        text = normalise(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise _undecodable(data, encoding, exc, source) from None
    if _looks_binary(text):
        if "\0" in text[:8192]:  # where, as a line and column an editor can go to
            at = text.index("\0")
            line, column = _line_column(text, at)
            raise NotTextError(_HOLDS_NUL, source=source, line=line, column=column)
        raise NotTextError("not a text file (it holds NUL or control characters)", source=source)
    return text


def normalise(text: str) -> str:
    """Drop a BOM; make CRLF and lone CR `\\n` (editors count a lone CR as a line break too)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    return "\0" in sample or _mostly_binary(sum(ch in _CONTROL for ch in sample), len(sample))


def _mostly_binary(odd: int, size: int) -> bool:
    # A few odd characters are a typo (show where); many are binary data (say so).
    return odd > max(8, size // 10)


_HOLDS_NUL = "not a text file (it holds a NUL byte here)"


def _place_after(prefix: str) -> tuple[int, int]:
    """The 1-based line and column right after `prefix`, the decoded bytes before a place."""
    prefix = normalise(prefix)
    return _line_column(prefix, len(prefix))


def _nul_error(data: bytes, source: str) -> NotTextError:
    head = data[:4096]
    # ASCII text saved as BOM-less UTF-16 has a NUL in every other byte.
    if head.count(0) * 3 > len(head) and (head[1::2].count(0) == 0 or head[0::2].count(0) == 0):
        return NotTextError("not a text file (it looks like UTF-16 without a byte-order mark); "
                            "save it as UTF-8", source=source)
    line, column = _place_after(data[: data.index(0)].decode("utf-8", errors="replace"))
    return NotTextError(_HOLDS_NUL, source=source, line=line, column=column)


def _undecodable(data: bytes, encoding: str, exc: UnicodeDecodeError, source: str) -> NotTextError:
    name = encoding.split("-sig")[0].upper()
    bad = data[exc.start]
    if encoding == "utf-8":
        sample = data[:8192].decode("utf-8", errors="replace")
        if _mostly_binary(sum(ch == "\ufffd" or ch in _CONTROL for ch in sample), len(sample)):
            return NotTextError(
                f"not a text file (binary data: byte 0x{bad:02x} at offset {exc.start} is not "
                "UTF-8)",
                source=source,
            )
    line, column = _place_after(data[: exc.start].decode(encoding, errors="replace"))
    what = "the input" if source == "-" else "the file"
    return NotTextError(
        f"{what} is not valid {name} (byte 0x{bad:02x}); save it as UTF-8",
        source=source,
        line=line,
        column=column,
    )


# --- finding diagrams ----------------------------------------------------------------------

# Patterns that must match at a line start begin with "\n" and run on "\n" + text: a literal
# first character lets `re` skip ahead fast, and a line-start match at text index i is then at
# index i of that string too. Every pattern is linear: no nested or overlapping repeats.
_ANY_CASE_HEADER = re.compile(r"\n[ \t]*sequencediagram(?![^\s;])", re.I)
_BLANK_LINE_AFTER = re.compile(r"\n[ \t]*(?=\n|\Z)")


def extract(text: str, source: str, kind: str | None = None) -> list[Snippet]:
    """The sequence diagrams in `text`; `kind` is mmd, markdown, text, or None (guess it).

    Raises `NoDiagramError` when there is none, saying what was found instead.
    """
    text = normalise(text)
    kind = kind or _guess_kind(text, source)
    if kind == "mmd":
        found = _from_mmd(text, source)
    elif kind == "markdown":
        from mermaidgen.mermaid.fences import from_markdown  # markdown-it and its scan, when needed

        found = from_markdown(text, source)
    elif kind == "text":
        found = _from_text(text, source)
    else:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")
    return found


def _guess_kind(text: str, source: str) -> str:
    suffix = "" if source == "-" else os.path.splitext(source)[1].lower()
    if suffix in MMD_SUFFIXES:
        return "mmd"
    if suffix in MARKDOWN_SUFFIXES or _looks_like_markdown(text):
        return "markdown"
    # A file that *is* one diagram (stdin, diagram.txt) may hold blank lines: take it whole
    # rather than cutting it at the first blank line as prose mode does.
    start, _ = preamble(text)
    if text.startswith(HEADER, start):
        line_end = text.find("\n", start)
        if line_end < 0 or not TEXT_HEADER.search(text, line_end):
            return "mmd"
    return "text"


def _looks_like_markdown(text: str) -> bool:
    for match in MERMAID_FENCE.finditer(text):
        prefix = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        if not prefix.strip(" \t>-+*.)0123456789`~"):  # only list/quote markers before it
            return True
    return False


def _from_mmd(text: str, source: str) -> list[Snippet]:
    body = text[:-1] if text.endswith("\n") else text
    snippet = snippet_at(body, source, 0, 0, 1)
    if snippet is None:
        raise _not_a_diagram(text, source, whole_file=True)
    return [snippet]


def _from_text(text: str, source: str) -> list[Snippet]:
    src = "\n" + text
    snippets: list[Snippet] = []
    heads = [m.start() for m in TEXT_HEADER.finditer(src)]  # text indexes of header lines
    blank = -1
    line, counted = 0, 0
    for i, start in enumerate(heads):
        if blank < start:  # search on only from past the last blank line found: linear
            found_blank = _BLANK_LINE_AFTER.search(text, start)
            blank = found_blank.start() if found_blank else len(text)
        end = blank
        if i + 1 < len(heads):
            end = min(end, heads[i + 1] - 1)  # a new header starts a new diagram
        line += text.count("\n", counted, start)
        counted = start
        snippet = snippet_at(text[start:end], source, line, 0, len(snippets) + 1)
        if snippet:
            snippets.append(snippet)
    if not snippets:
        raise _not_a_diagram(text, source, whole_file=False)
    return snippets


def _not_a_diagram(text: str, source: str, *, whole_file: bool) -> NoDiagramError:
    what = "the input" if source == "-" else "the file"
    start, _ = preamble(text)
    if start >= len(text):
        detail = "is empty" if not text.strip() else "holds only frontmatter or comments"
        return NoDiagramError(f"no sequenceDiagram found ({what} {detail})", source=source)
    found = FIRST_WORD.match(text, start)
    word = found.group() if found else text[start]  # `;` starts no word
    if word in _OTHER_DIAGRAMS:
        return NoDiagramError(
            f"no sequenceDiagram found ({what} holds a {word} diagram)", source=source
        )
    header = _ANY_CASE_HEADER.search("\n" + text)
    if header:  # text mode would have found a well-spelt header, so it is spelt wrong
        at = SPACE.match(text, header.start()).end()  # type: ignore[union-attr]
        spelt = FIRST_WORD.match(text, at).group()  # type: ignore[union-attr]
        line, column = _line_column(text, at)
        if spelt != HEADER:
            message = f"the header `{spelt}` must be spelled `sequenceDiagram` (case matters)"
            return NoDiagramError(message, source=source, line=line, column=column)
        line, column = _line_column(text, start)
        return NoDiagramError(
            f"unexpected `{word}` before the `sequenceDiagram` header; only frontmatter, `%%` "
            "comments and `%%{init}%%` directives may come before it",
            source=source,
            line=line,
            column=column,
        )
    if whole_file:
        line, column = _line_column(text, start)
        return NoDiagramError(
            f"no sequenceDiagram found ({what} starts with `{word}`)",
            source=source,
            line=line,
            column=column,
        )
    return NoDiagramError(
        "no sequenceDiagram found (no line starts with `sequenceDiagram`)", source=source
    )


def _line_column(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


# --- selecting -----------------------------------------------------------------------------


def load(spec: str, stdin: TextIO | BinaryIO | None = None) -> list[Snippet]:
    """The diagrams named by `spec`: `PATH`, `PATH#N` (1-based), `PATH#title`, or `-`."""
    path, selector = _split_spec(spec)
    snippets = extract(read_source(path, stdin), path)
    if selector is None:
        return snippets
    return [_select(snippets, path, selector)]


def _split_spec(spec: str) -> tuple[str, str | None]:
    if spec == "-" or "#" not in spec or os.path.exists(spec):
        return spec, None
    # Paths may hold '#' too (`c#/notes.md#2`): take the first split whose path exists.
    hashes = [i for i, ch in enumerate(spec) if ch == "#"]
    for i in hashes:
        if spec[:i] == "-" or os.path.exists(spec[:i]):
            return spec[:i], spec[i + 1 :]
    return spec[: hashes[0]], spec[hashes[0] + 1 :]


def _select(snippets: list[Snippet], path: str, selector: str) -> Snippet:
    where = f"{path}#{selector}"
    wanted = selector.strip()
    if not wanted:
        raise SelectorError(
            "nothing after '#': give a diagram number (#2) or a title", source=where
        )
    if re.fullmatch(r"[+-]?[0-9]+", wanted):
        number = int(wanted)
        if number < 1:
            raise SelectorError("diagrams are numbered from 1", source=where)
        if number > len(snippets):
            what = "the input" if path == "-" else "the file"
            found = counted(len(snippets), "sequence diagram")
            raise SelectorError(f"{what} has only {found}", source=where)
        return snippets[number - 1]
    matches = [s for s in snippets if s.title == wanted] or [
        s for s in snippets if s.title and s.title.casefold() == wanted.casefold()
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        numbers = ", ".join(f"#{s.index}" for s in matches)
        raise SelectorError(
            f"{len(matches)} sequence diagrams have this title ({numbers}); select one by "
            f"number, e.g. {path}#{matches[0].index}",
            source=where,
        )
    titled = [f"#{s.index} {s.title!r}" for s in snippets if s.title]
    known = f"titles: {', '.join(titled)}" if titled else "none of its diagrams has a title"
    raise SelectorError(f"no sequence diagram titled {wanted!r} ({known})", source=where)
