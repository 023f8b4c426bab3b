"""Finding sequence diagrams in sources: mmd, Markdown, prose, stdin; robust reading."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mermaidgen.errors import MermaidgenError, SourceError, UsageError
from mermaidgen.mermaid import extract as ex
from mermaidgen.mermaid.extract import Snippet, extract, load, read_source

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
SEQ = "sequenceDiagram\n    A->>B: hi\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return str(path)


def error_of(call, *args, **kwargs) -> MermaidgenError:
    with pytest.raises(MermaidgenError) as info:
        call(*args, **kwargs)
    return info.value


def assert_in_place(file_text: str, snippet: Snippet) -> None:
    """Every non-blank snippet line is where line_offset/column_offset say it is."""
    lines = file_text.split("\n")
    for number, line in enumerate(snippet.text.split("\n")):
        if line.strip():
            assert lines[snippet.line_offset + number][snippet.column_offset :] == line


# --- Markdown fixtures: exact positions --------------------------------------------------

# (index, line_offset, column_offset, title, first line of the snippet)
NOTES = [
    (1, 14, 0, "Checkout", "sequenceDiagram"),
    (2, 23, 3, None, "sequenceDiagram"),
    (3, 30, 5, None, "sequenceDiagram"),
    (4, 37, 2, "Quoted", "---"),
    (5, 67, 2, None, '%%{init: {"sequence": {"mirrorActors": false}}}%%'),
]


@pytest.mark.parametrize(
    "index, line_offset, column_offset, title, first_line",
    NOTES,
    ids=[
        "top-level-after-frontmatter",
        "ordered-list-item",
        "nested-list-tilde-fence",
        "blockquote-with-frontmatter-and-comment",
        "indented-fence-with-directive",
    ],
)
def test_markdown_fixture_positions(index, line_offset, column_offset, title, first_line):
    snippets = load(str(FIXTURES / "notes.md"))
    assert len(snippets) == len(NOTES)  # flowchart, indented code, 4-backtick, HTML: skipped
    snippet = snippets[index - 1]
    assert (snippet.index, snippet.line_offset, snippet.column_offset) == (
        index,
        line_offset,
        column_offset,
    )
    assert snippet.title == title
    assert snippet.text.split("\n")[0] == first_line
    assert snippet.source == str(FIXTURES / "notes.md")
    assert_in_place((FIXTURES / "notes.md").read_text(), snippet)


def test_prose_fixture_like_the_article():
    path = str(FIXTURES / "article.txt")
    first, second = load(path)
    assert (first.line_offset, second.line_offset) == (5, 10)
    assert first.text.startswith("sequenceDiagram participant Shop")
    assert first.text.endswith("Stock->>Shop: Stock reserved")
    # The second one spans three lines and stops at a line of only blanks.
    assert second.text.split("\n") == [
        "   sequenceDiagram",
        "   Conductor->>Stock: Reserve",
        "   Stock->>Conductor: Reserved",
    ]
    assert [s.index for s in (first, second)] == [1, 2]


def test_unclosed_fence_runs_to_the_end():
    (snippet,) = load(str(FIXTURES / "unclosed.md"))
    assert snippet.line_offset == 5
    assert snippet.text.endswith("Still inside the fence, as markdown-it reads it.")


def test_other_diagram_types_are_named():
    err = error_of(load, str(FIXTURES / "other-types.md"))
    assert isinstance(err, SourceError) and err.exit_code == 1
    assert str(err) == (
        f"{FIXTURES / 'other-types.md'}: no sequenceDiagram found (looked in 3 mermaid fences; "
        "2 hold other diagram types: flowchart, classDiagram; 1 is empty)"
    )


# --- Markdown: table of small documents --------------------------------------------------

FENCE = "```mermaid\n" + SEQ + "```\n"

# (markdown, [(line_offset, column_offset, text)])
MARKDOWN_CASES = {
    "fence-on-line-1": (FENCE, [(1, 0, SEQ.rstrip("\n"))]),
    "fence-after-text": ("# T\n\ntext\n\n" + FENCE, [(5, 0, SEQ.rstrip("\n"))]),
    "tilde-fence": ("~~~mermaid\nsequenceDiagram\n~~~\n", [(1, 0, "sequenceDiagram")]),
    "info-any-case-extra-words": (
        "```MerMaid  title=x {.big}\nsequenceDiagram\n```\n",
        [(1, 0, "sequenceDiagram")],
    ),
    "info-space-before-word": ("``` mermaid\nsequenceDiagram\n```\n", [(1, 0, "sequenceDiagram")]),
    "longer-fence-closes-only-on-long-marker": (
        "````mermaid\nsequenceDiagram\n```\nA->>B: x\n````\n",
        [(1, 0, "sequenceDiagram\n```\nA->>B: x")],
    ),
    "fence-interrupts-paragraph": (
        "text\n```mermaid\nsequenceDiagram\n```\n",
        [(2, 0, "sequenceDiagram")],
    ),
    "indented-fence-strips-its-indent": (
        "   ```mermaid\n   sequenceDiagram\n     A->>B: x\n  B->>A: y\n   ```\n",
        [(1, 3, "sequenceDiagram\n  A->>B: x\nB->>A: y")],
    ),
    "bullet-list-item": (
        "- item\n\n  ```mermaid\n  sequenceDiagram\n  ```\n",
        [(3, 2, "sequenceDiagram")],
    ),
    "fence-on-list-marker-line": (
        "- ```mermaid\n  sequenceDiagram\n  ```\n",
        [(1, 2, "sequenceDiagram")],
    ),
    "ordered-list-item": (
        "10. item\n\n    ```mermaid\n    sequenceDiagram\n    ```\n",
        [(3, 4, "sequenceDiagram")],
    ),
    "blockquote": ("> ```mermaid\n> sequenceDiagram\n> ```\n", [(1, 2, "sequenceDiagram")]),
    "blockquote-without-space": (
        ">```mermaid\n>sequenceDiagram\n>```\n",
        [(1, 1, "sequenceDiagram")],
    ),
    "list-in-blockquote": (
        "> - x\n>   ```mermaid\n>   sequenceDiagram\n>   ```\n",
        [(2, 4, "sequenceDiagram")],
    ),
    "list-item-ends-unclosed-fence": (
        "- ```mermaid\n  sequenceDiagram\n\nafter the list\n",
        [(1, 2, "sequenceDiagram\n")],
    ),
    "frontmatter-and-comments-in-fence": (
        "```mermaid\n---\ntitle: T\n---\n%% c\n%%{init: {}}%%\nsequenceDiagram\n```\n",
        [(1, 0, "---\ntitle: T\n---\n%% c\n%%{init: {}}%%\nsequenceDiagram")],
    ),
    "markdown-frontmatter-keeps-line-numbers": (
        "---\ntitle: doc\nlist:\n  - a\n---\n\n" + FENCE,
        [(7, 0, SEQ.rstrip("\n"))],
    ),
    "hr-is-not-frontmatter": (
        "---\n\n" + FENCE + "\n---\n",
        [(3, 0, SEQ.rstrip("\n"))],
    ),
    "several-diagrams": (
        FENCE + "\n```mermaid\nflowchart LR\n```\n\n" + FENCE,
        [(1, 0, SEQ.rstrip("\n")), (10, 0, SEQ.rstrip("\n"))],
    ),
    "indented-code-block-is-not-a-fence": (
        "text\n\n    ```mermaid\n    sequenceDiagram\n    ```\n\n" + FENCE,
        [(7, 0, SEQ.rstrip("\n"))],
    ),
    "fence-shown-inside-a-longer-fence": (
        "````md\n" + FENCE + "````\n\n" + FENCE,
        [(8, 0, SEQ.rstrip("\n"))],
    ),
    "html-block-swallows-fence-lines": (
        "<details>\n" + FENCE + "</details>\n\n" + FENCE,
        [(8, 0, SEQ.rstrip("\n"))],
    ),
    "html-comment-hides-fence": ("<!--\n" + FENCE + "-->\n" + FENCE, [(7, 0, SEQ.rstrip("\n"))]),
    "backticks-in-info-is-inline-code": (
        "```mermaid `x`\nsequenceDiagram\n\n" + FENCE,
        [(4, 0, SEQ.rstrip("\n"))],
    ),
    "crlf-and-lone-cr": (
        "# T\r\n\r\n```mermaid\r\nsequenceDiagram\r  A->>B: x\r\n```\r\n",
        [(3, 0, "sequenceDiagram\n  A->>B: x")],
    ),
    "tabs-in-list-fence": (
        "-\t```mermaid\n\tsequenceDiagram\n\t```\n",
        [(1, 1, "sequenceDiagram")],  # as markdown-it reads the tab
    ),
}


@pytest.mark.parametrize(
    "markdown, expected", list(MARKDOWN_CASES.values()), ids=list(MARKDOWN_CASES)
)
def test_markdown_fences(markdown, expected):
    snippets = extract(markdown, "doc.md")
    got = [(s.line_offset, s.column_offset, s.text) for s in snippets]
    assert got == expected
    assert [s.index for s in snippets] == list(range(1, len(snippets) + 1))


MARKDOWN_MISSES = {
    "empty": ("", "no sequenceDiagram found (the file is empty)"),
    "only-whitespace": (" \n\t\n\n", "no sequenceDiagram found (the file is empty)"),
    "no-fences": (
        "# Title\n\ntext\n",
        "no sequenceDiagram found (the file has no ```mermaid fences)",
    ),
    "unlabelled-fence": (
        "# T\n\n```\nsequenceDiagram\n```\n",
        "no sequenceDiagram found (the file has no ```mermaid fences; line 4 starts with "
        "`sequenceDiagram` but is not in a ```mermaid fence)",
    ),
    "inline-code-and-indented-code": (
        "`sequenceDiagram`\n\n    ```mermaid\n    sequenceDiagram\n    ```\n",
        "no sequenceDiagram found (the file has no ```mermaid fences; line 4 starts with "
        "`sequenceDiagram` but is not in a ```mermaid fence)",
    ),
    "one-flowchart": (
        "```mermaid\ngraph TD\n```\n",
        "no sequenceDiagram found (looked in 1 mermaid fence; 1 holds another diagram type: graph)",
    ),
    "wrong-case-header": (
        "```mermaid\nSequenceDiagram\n```\n",
        "no sequenceDiagram found (looked in 1 mermaid fence; 1 holds another diagram type: "
        "SequenceDiagram; the header is case-sensitive: write `sequenceDiagram`)",
    ),
}


@pytest.mark.parametrize(
    "markdown, message", list(MARKDOWN_MISSES.values()), ids=list(MARKDOWN_MISSES)
)
def test_markdown_without_sequence_diagram(markdown, message):
    err = error_of(extract, markdown, "notes.md")
    assert isinstance(err, ex.NoDiagramError)
    assert str(err) == f"notes.md: {message}"


# --- .mmd files ----------------------------------------------------------------------------

MMD_CASES = {
    "plain": ("sequenceDiagram\nA->>B: x\n", None),
    "no-final-newline": ("sequenceDiagram\nA->>B: x", None),
    "frontmatter-title": ("---\ntitle: 'Sign in'\n---\nsequenceDiagram\nA->>B: x\n", "Sign in"),
    "title-statement": ("sequenceDiagram\n  title Sign in flow\nA->>B: x\n", "Sign in flow"),
    "legacy-title": ("sequenceDiagram\ntitle: Old style\n", "Old style"),
    "statement-beats-frontmatter": (
        "---\ntitle: Front\n---\nsequenceDiagram\nTITLE Body\n",
        "Body",
    ),
    "directive-and-comments-first": (
        "%% a comment\n\n%%{init: {'theme': 'dark'}}%%\n  sequenceDiagram\n",
        None,
    ),
    "leading-blank-lines": ("\n\n  \nsequenceDiagram\n", None),
    "blank-lines-inside": ("sequenceDiagram\nA->>B: x\n\n\nB->>A: y\n", None),
}


@pytest.mark.parametrize("text, title", list(MMD_CASES.values()), ids=list(MMD_CASES))
def test_mmd_whole_file_is_the_diagram(text, title):
    (snippet,) = extract(text, "flow.mmd")
    assert snippet.text == text.removesuffix("\n")
    assert (snippet.line_offset, snippet.column_offset, snippet.index) == (0, 0, 1)
    assert snippet.title == title


MMD_MISSES = {
    "empty": ("", "flow.mmd: no sequenceDiagram found (the file is empty)"),
    "only-comments": (
        "%% nothing\n",
        "flow.mmd: no sequenceDiagram found (the file holds only frontmatter or comments)",
    ),
    "flowchart": (
        "flowchart LR\nA-->B\n",
        "flow.mmd: no sequenceDiagram found (the file holds a flowchart diagram)",
    ),
    "wrong-case": (
        "%% c\n  sequencediagram\n",
        "flow.mmd:2:3: the header `sequencediagram` must be spelled `sequenceDiagram` "
        "(case matters)",
    ),
    "text-before-header": (
        "Notes:\nsequenceDiagram\n",
        "flow.mmd:1:1: unexpected `Notes:` before the `sequenceDiagram` header; only "
        "frontmatter, `%%` comments and `%%{init}%%` directives may come before it",
    ),
    "garbage": (
        "hello world\n",
        "flow.mmd:1:1: no sequenceDiagram found (the file starts with `hello`)",
    ),
}


@pytest.mark.parametrize("text, message", list(MMD_MISSES.values()), ids=list(MMD_MISSES))
def test_mmd_without_sequence_diagram(text, message):
    err = error_of(extract, text, "flow.mmd")
    assert isinstance(err, ex.NoDiagramError) and err.exit_code == 1
    assert str(err) == message


# --- prose ("text" kind) -------------------------------------------------------------------

# (text, [(line_offset, text)])
TEXT_CASES = {
    "ends-at-blank-line": (
        "intro\n\nsequenceDiagram A->>B: x\n\nafter\n",
        [(2, "sequenceDiagram A->>B: x")],
    ),
    "ends-at-end-of-file": ("intro\nsequenceDiagram\nA->>B: x", [(1, "sequenceDiagram\nA->>B: x")]),
    "blank-means-only-whitespace": (
        "sequenceDiagram\nA->>B: x\n \t \nB->>A: y\n",
        [(0, "sequenceDiagram\nA->>B: x")],
    ),
    "next-header-starts-next-diagram": (
        "sequenceDiagram\nA->>B: x\n  sequenceDiagram;B->>A: y\n",
        [(0, "sequenceDiagram\nA->>B: x"), (2, "  sequenceDiagram;B->>A: y")],
    ),
    "header-must-be-first-word": (
        "see sequenceDiagram below\nsequenceDiagrams are nice\n\tsequenceDiagram\n",
        [(2, "\tsequenceDiagram")],
    ),
    "crlf": (
        "a\r\n\r\nsequenceDiagram\r\nA->>B: x\r\n\r\nb\r\n",
        [(2, "sequenceDiagram\nA->>B: x")],
    ),
}


@pytest.mark.parametrize("text, expected", list(TEXT_CASES.values()), ids=list(TEXT_CASES))
def test_prose(text, expected):
    snippets = extract(text, "notes.txt", kind="text")
    assert [(s.line_offset, s.text) for s in snippets] == expected
    assert [s.index for s in snippets] == list(range(1, len(expected) + 1))
    assert all(s.column_offset == 0 for s in snippets)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "just prose\n",
            "notes.txt: no sequenceDiagram found (no line starts with `sequenceDiagram`)",
        ),
        (
            "x\n\nSequenceDiagram\n",
            "notes.txt:3:1: the header `SequenceDiagram` must be spelled "
            "`sequenceDiagram` (case matters)",
        ),
        (
            "graph TD\nA-->B\n",
            "notes.txt: no sequenceDiagram found (the file holds a graph diagram)",
        ),
    ],
    ids=["prose", "wrong-case", "other-diagram"],
)
def test_prose_without_sequence_diagram(text, message):
    assert str(error_of(extract, text, "notes.txt", kind="text")) == message


# --- which kind of source ------------------------------------------------------------------

# (source, text, the snippets' (line_offset, text))
KIND_CASES = {
    "mermaid-suffix": ("a.MERMAID", SEQ, [(0, SEQ.rstrip("\n"))]),
    "markdown-suffix": ("a.mdx", FENCE, [(1, SEQ.rstrip("\n"))]),
    "txt-with-fences-is-markdown": ("a.txt", "Intro\n\n" + FENCE, [(3, SEQ.rstrip("\n"))]),
    "txt-that-is-one-diagram-is-taken-whole": (
        "a.txt",
        "sequenceDiagram\n\nA->>B: x\n",
        [(0, "sequenceDiagram\n\nA->>B: x")],
    ),
    "txt-prose": ("a.txt", "Intro\n\nsequenceDiagram A\n\nmore\n", [(2, "sequenceDiagram A")]),
    "txt-two-diagrams-is-prose": (
        "a.txt",
        "sequenceDiagram\nA->>B: x\n\nsequenceDiagram\n",
        [(0, "sequenceDiagram\nA->>B: x"), (3, "sequenceDiagram")],
    ),
    "stdin-diagram": ("-", "%% c\nsequenceDiagram\n\nA", [(0, "%% c\nsequenceDiagram\n\nA")]),
    "stdin-markdown": ("-", "# T\n\n" + FENCE, [(3, SEQ.rstrip("\n"))]),
    "stdin-prose": ("-", "copied:\nsequenceDiagram A->>B: x\n", [(1, "sequenceDiagram A->>B: x")]),
}


@pytest.mark.parametrize("source, text, expected", list(KIND_CASES.values()), ids=list(KIND_CASES))
def test_kind_from_suffix_and_content(source, text, expected):
    assert [(s.line_offset, s.text) for s in extract(text, source)] == expected


def test_mmd_suffix_is_always_one_diagram():
    assert isinstance(error_of(extract, "x\nsequenceDiagram\n", "a.mmd"), ex.NoDiagramError)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown source kind"):
        extract(SEQ, "a.mmd", kind="rst")


# --- reading files and stdin ---------------------------------------------------------------

LINE3 = b"sequenceDiagram\nA->>B: ok\nB->>A: caf"

READ_CASES = {
    "utf8": (SEQ.encode(), SEQ),
    "utf8-bom": (b"\xef\xbb\xbf" + SEQ.encode(), SEQ),
    "utf16-le-bom": (("\ufeff" + SEQ).encode("utf-16-le"), SEQ),
    "utf16-be-bom": (("\ufeff" + SEQ).encode("utf-16-be"), SEQ),
    "utf32-bom": (("\ufeff" + SEQ).encode("utf-32"), SEQ),
    "crlf": (b"a\r\nb\r\n", "a\nb\n"),
    "lone-cr": (b"a\rb\r\rc", "a\nb\n\nc"),
    "non-ascii": ("A->>B: grüße ✓\n".encode(), "A->>B: grüße ✓\n"),
}


@pytest.mark.parametrize("data, text", list(READ_CASES.values()), ids=list(READ_CASES))
def test_read_source_decodes(tmp_path, data, text):
    assert read_source(write(tmp_path, "d.mmd", data)) == text


def test_bom_does_not_shift_lines(tmp_path):
    path = write(tmp_path, "d.md", b"\xef\xbb\xbf# T\n\n" + FENCE.encode())
    assert [s.line_offset for s in load(path)] == [3]


NOT_UTF8 = "the file is not valid UTF-8 (byte 0x{:02x}); save it as UTF-8"
NOT_TEXT = "not a text file"
BAD_BYTES = {
    "invalid-utf8": (LINE3 + b"\xe9!\n", "d.mmd:3:11: " + NOT_UTF8.format(0xE9)),
    "invalid-after-lone-cr": (b"a\rb\r\xff", "d.mmd:3:1: " + NOT_UTF8.format(0xFF)),
    "invalid-after-wide-chars": ("ab✓✓".encode() + b"\xff", "d.mmd:1:5: " + NOT_UTF8.format(0xFF)),
    "nul-bytes": (
        b"sequenceDiagram\x00\x01\x02",
        f"d.mmd:1:16: {NOT_TEXT} (it holds a NUL byte here)",
    ),
    "utf16-without-bom": (
        SEQ.encode("utf-16-le"),
        f"d.mmd: {NOT_TEXT} (it looks like UTF-16 without a byte-order mark); save it as UTF-8",
    ),
    "invalid-utf16": (
        ("\ufeffab\ncd").encode("utf-16-le") + b"\x00\xd8",
        "d.mmd:2:3: the file is not valid UTF-16 (byte 0x00); save it as UTF-8",
    ),
    "control-characters": (
        bytes(range(1, 9)) * 100,
        f"d.mmd: {NOT_TEXT} (it holds NUL or control characters)",
    ),
}


@pytest.mark.parametrize("data, message", list(BAD_BYTES.values()), ids=list(BAD_BYTES))
def test_unreadable_content(tmp_path, monkeypatch, data, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "d.mmd", data)
    err = error_of(read_source, "d.mmd")
    assert isinstance(err, ex.NotTextError) and err.exit_code == 1
    assert str(err) == message


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_never_crash(tmp_path, seed):
    data = random.Random(seed).randbytes(5000)
    err = error_of(load, write(tmp_path, "blob.md", data))
    assert isinstance(err, SourceError)
    assert "not a text file" in str(err) or "no sequenceDiagram found" in str(err)


def test_random_high_bytes_without_nul(tmp_path):
    data = bytes(random.Random(1).randrange(128, 256) for _ in range(3000))
    assert "not a text file" in str(error_of(load, write(tmp_path, "blob.txt", data)))


def test_path_errors(tmp_path):
    missing = error_of(read_source, str(tmp_path / "nope.md"))
    assert isinstance(missing, UsageError) and missing.exit_code == 2
    assert str(missing) == f"{tmp_path / 'nope.md'}: no such file"
    assert str(error_of(read_source, "a\0b")) == "'a\\x00b': not a valid path"
    directory = error_of(read_source, str(tmp_path))
    assert isinstance(directory, ex.SourcePathError) and directory.exit_code == 2
    assert "is a directory" in str(directory)


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.md", FENCE)
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads anything: fake it then
        os.chmod(path, 0)
    else:

        def deny(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(ex, "open", deny, raising=False)
    err = error_of(load, path)
    assert isinstance(err, ex.SourcePathError) and err.exit_code == 2
    assert str(err) == f"{path}: permission denied: cannot read the file"


STDIN_CASES = {
    "bytes": lambda: io.BytesIO(SEQ.encode()),
    "text-wrapper": lambda: io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + SEQ.encode()), "latin-1"),
    "utf16-bytes": lambda: io.BytesIO(("\ufeff" + SEQ).encode("utf-16")),
    "string": lambda: io.StringIO("\ufeff" + SEQ.replace("\n", "\r\n")),
}


@pytest.mark.parametrize("make_stdin", list(STDIN_CASES.values()), ids=list(STDIN_CASES))
def test_stdin(make_stdin):
    (snippet,) = load("-", stdin=make_stdin())
    assert snippet.text == SEQ.rstrip("\n") and snippet.source == "-"


def test_stdin_errors_say_input():
    err = error_of(load, "-", stdin=io.BytesIO(b"sequenceDiagram\n\xff"))
    assert str(err) == "-:2:1: the input is not valid UTF-8 (byte 0xff); save it as UTF-8"
    assert str(error_of(load, "-", stdin=io.BytesIO(b""))) == (
        "-: no sequenceDiagram found (the input is empty)"
    )


# --- selecting one diagram -----------------------------------------------------------------

TITLED = (
    "```mermaid\nsequenceDiagram\ntitle Sign in\n```\n\n"
    "```mermaid\nsequenceDiagram\n```\n\n"
    "```mermaid\n---\ntitle: Pay\n---\nsequenceDiagram\n```\n\n"
    "```mermaid\nsequenceDiagram\ntitle Pay\n```\n"
)

SELECT_CASES = {
    "number": ("#2", 2),
    "number-with-blanks": ("# 3 ", 3),
    "title": ("#Sign in", 1),
    "title-any-case": ("#sign IN", 1),
}


@pytest.mark.parametrize("selector, index", list(SELECT_CASES.values()), ids=list(SELECT_CASES))
def test_select(tmp_path, selector, index):
    path = write(tmp_path, "flows.md", TITLED)
    (snippet,) = load(path + selector)
    assert snippet.index == index


SELECT_ERRORS = {
    "too-big": ("#9", "#9: the file has only 4 sequence diagrams"),
    "zero": ("#0", "#0: diagrams are numbered from 1"),
    "negative": ("#-1", "#-1: diagrams are numbered from 1"),
    "empty": ("#", "#: nothing after '#': give a diagram number (#2) or a title"),
    "unknown-title": (
        "#Refund",
        "#Refund: no sequence diagram titled 'Refund' (titles: #1 'Sign in', #3 'Pay', #4 'Pay')",
    ),
    "ambiguous-title": (
        "#Pay",
        "#Pay: 2 sequence diagrams have this title (#3, #4); select one by number, e.g. {path}#3",
    ),
}


@pytest.mark.parametrize("selector, message", list(SELECT_ERRORS.values()), ids=list(SELECT_ERRORS))
def test_select_errors(tmp_path, selector, message):
    path = write(tmp_path, "flows.md", TITLED)
    err = error_of(load, path + selector)
    assert isinstance(err, ex.SelectorError) and err.exit_code == 2
    assert str(err) == path + message.format(path=path)


def test_select_from_stdin_and_paths_with_hash(tmp_path):
    assert load("-#1", stdin=io.BytesIO(SEQ.encode()))[0].index == 1
    folder = tmp_path / "c#"
    folder.mkdir()
    path = write(folder, "two.md", FENCE + "\n" + FENCE)
    assert len(load(path)) == 2
    assert load(path + "#2")[0].index == 2
    missing = error_of(load, str(tmp_path / "none.md") + "#2")
    assert str(missing) == f"{tmp_path / 'none.md'}: no such file"


def test_untitled_file_says_so(tmp_path):
    err = error_of(load, write(tmp_path, "a.mmd", SEQ) + "#Pay")
    assert "(none of its diagrams has a title)" in str(err)


# --- markdown-it agreement: windows parse like the whole document -------------------------

FRAGMENTS = [
    *(FENCE, "```mermaid\n" + SEQ, "~~~mermaid\nsequenceDiagram\n```\nx\n~~~\n"),
    *("````\n" + FENCE + "````\n", "```\n", "~~~\n", "````\n", "```js\n", "``` mermaid `x`\n"),
    *("```mermaid\n", "  ```mermaid\n", "  ```mermaid\n  sequenceDiagram\n A->>B: y\n  ```\n"),
    *(" ```mermaid\n\t\tsequenceDiagram\n```\n", "- item\n", "- item\n  more\n", "1. one\n"),
    *("10) ten\n", "-\n", "* x\n  > ```mermaid\n  > sequenceDiagram\n"),
    *("- ```mermaid\n  sequenceDiagram\n  ```\n", "  - ```mermaid\n    sequenceDiagram\n    ```\n"),
    *("1. a\n\n   ~~~ Mermaid t\n   sequenceDiagram\n   ~~~\n", "> quote\nlazy\n"),
    *("> ```mermaid\n> sequenceDiagram\n> ```\n", ">```mermaid\n>sequenceDiagram\n"),
    *("    ```mermaid\n    sequenceDiagram\n", "\t```mermaid\n\tsequenceDiagram\n", "<div>\n"),
    *("<!--\n", "-->\n", "<!-- x -->\n", "<script>\n", "</script>\n", "<?php\n", "?>\n"),
    *("<!DOCTYPE html>\n", "<![CDATA[\n", "]]>\n", "<span>x</span>\n", "text\n", "more text\n"),
    *("# heading\n", "---\n", "Title\n===\n", "\n", "\n", "  \n", "\t\n", "[ref]: /url\n"),
    *("  two\n", "     five\n", "```mermaid\nflowchart LR\n```\n"),
]


def reference(markdown: str) -> list[tuple[int, int, str]]:
    """What parsing the whole document with markdown-it gives, the slow and obvious way."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    lines = markdown.split("\n")
    found = []
    for token in tokens:
        words = token.info.split()
        if token.type != "fence" or not words or words[0].lower() != "mermaid":
            continue
        text = token.content.removesuffix("\n")
        if not text.lstrip().startswith("sequenceDiagram"):
            continue
        first = token.map[0] + 1
        shifts = Counter(
            len(raw) - len(got)
            for got, raw in zip(text.split("\n"), lines[first:], strict=False)
            if got.strip() and raw.endswith(got)
        )
        found.append((first, shifts.most_common(1)[0][0] if shifts else 0, text))
    return found


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_markdown_it_on_the_whole_document(seed):
    rng = random.Random(seed)
    for _ in range(250):
        doc = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25)))
        expected = reference(doc)
        try:
            got = [(s.line_offset, s.column_offset, s.text) for s in extract(doc, "r.md")]
        except ex.NoDiagramError:
            got = []
        assert got == expected, doc


# --- speed -------------------------------------------------------------------------------

PROSE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"
HUGE_FENCE = "```mermaid\nsequenceDiagram\n" + "A->>B: x\n" * 1_100_000 + "```\n"
BIG_CASES = {
    "markdown-10MB": (
        "big.md",
        ("# Part\n\n" + PROSE * 5 + "\n- a\n- b\n\n> q\n\n" + FENCE + "\n```py\nx = 1\n```\n\n")
        * 16_000,
        16_000,
    ),
    "markdown-10MB-one-paragraph": ("big.md", PROSE * 125_000 + FENCE, 1),
    "markdown-10MB-one-fence": ("big.md", HUGE_FENCE, 1),
    "text-10MB": ("big.txt", (PROSE * 10 + "\n") * 12_000 + "sequenceDiagram A->>B: x\n", 1),
    "mmd-10MB": ("big.mmd", "sequenceDiagram\n" + "A->>B: message\n" * 650_000, 1),
    "one-1MB-line": ("line.txt", "sequenceDiagram " + "A->>B: x " * 110_000, 1),
    "1MB-of-backticks": ("ticks.md", "a" + "`" * 1_000_000 + "\n\n" + FENCE, 1),
    "1MB-of-blanks": ("blank.md", " " * 1_000_000 + "\n" + FENCE, 1),
    "1MB-after-a-fence": ("wide.md", "```" + " " * 1_000_000 + "mermaid\nsequenceDiagram\n", 1),
    "1MB-of-directive-starts": (
        "d.mmd",
        "%%{" * 350_000 + "\nsequenceDiagram\n",
        ex.NoDiagramError,
    ),
}


@pytest.mark.parametrize("name, text, expected", list(BIG_CASES.values()), ids=list(BIG_CASES))
def test_big_inputs(name, text, expected):
    # No timing here: a quadratic scan of these inputs takes minutes, which the fuzz
    # regressions' time-limited runs and benchmarks/ catch without a flaky threshold.
    if isinstance(expected, int):
        assert len(extract(text, name)) == expected
    else:
        error_of(extract, text, name)


def test_markdown_it_reads_only_the_windows_that_may_hold_a_fence(monkeypatch):
    from mermaidgen.mermaid import fences

    parsed: list[int] = []
    real = fences._parse

    def counting(src: str, start: int, end: int):
        parsed.append(end - start)
        return real(src, start, end)

    monkeypatch.setattr(fences, "_parse", counting)
    document = (PROSE * 10 + "\n") * 12_000 + "A list:\n\n- item\n\n  " + FENCE.replace(
        "\n", "\n  ")
    (snippet,) = extract(document, "big.md")
    assert snippet.line_offset == document.count("\n", 0, document.index("sequenceDiagram"))
    assert parsed and sum(parsed) < len(document) / 100


def test_reading_10MB(tmp_path):
    path = write(tmp_path, "big.md", "\r\n".join(["text"] * 2_000_000) + "\r\n" + FENCE)
    (snippet,) = load(path)
    assert snippet.line_offset == 2_000_001


def test_import_does_not_load_markdown_it():
    code = "import sys, mermaidgen.mermaid.extract; print('markdown_it' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_snippet_is_frozen():
    (snippet,) = extract(SEQ, "a.mmd")
    with pytest.raises(AttributeError):
        snippet.text = "x"  # type: ignore[misc]
