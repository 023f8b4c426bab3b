"""The lexer's one-match path for messages (used on long texts) and its token-by-token
path (used on short ones) read every diagram the same way: same model, same errors."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from mermaidgen.errors import DiagramError
from mermaidgen.mermaid import lexrules, preprocess
from mermaidgen.mermaid.parser import parse
from mermaidgen.model.serialize import to_dict

TESTS = Path(__file__).resolve().parent
FILES = sorted([*(TESTS / "conformance" / "diagrams").rglob("*.mmd"),
                *(TESTS.parent / "samples").glob("*.mmd"),
                *(TESTS / "fuzz" / "regressions").glob("*.mmd"),
                *(TESTS / "fuzz" / "regressions").glob("*.mmd.gz")])


def _read(path: Path) -> str:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")


def _outcome(text: str) -> list:
    try:
        return _flat(to_dict(parse(text)))
    except DiagramError as err:
        return [(p.message, p.line, p.column, p.hint) for p in err.problems]


def _flat(document) -> list:
    """The document as a flat list, without recursion: some diagrams nest 5,000 deep."""
    out, stack = [], [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.append(("{", tuple(item)))
            stack.extend(reversed(item.values()))
        elif isinstance(item, list):
            out.append(("[", len(item)))
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


@pytest.fixture
def fast_matches(monkeypatch):
    """Switch the one-match path on for every text and count the messages it reads."""
    counter = {"matches": 0}
    pattern = lexrules.signal_after_separators()

    class Counting:
        @staticmethod
        def match(text, pos):
            m = pattern.match(text, pos)
            counter["matches"] += m is not None
            return m

    monkeypatch.setattr(lexrules, "FAST_PATH_MIN_CHARS", 0)
    monkeypatch.setattr(lexrules, "signal_after_separators", lambda: Counting)
    return counter


def test_corpus_is_there():
    assert len(FILES) > 300


def test_both_paths_read_every_diagram_alike(fast_matches, monkeypatch):
    texts = [_read(f) for f in FILES if f.stat().st_size < 200_000]
    fast = [_outcome(t) for t in texts]
    assert fast_matches["matches"] > 1000  # the one-match path really ran
    monkeypatch.setattr(lexrules, "FAST_PATH_MIN_CHARS", 10**12)
    slow = [_outcome(t) for t in texts]
    mismatched = [str(f) for f, a, b in zip(FILES, fast, slow, strict=False) if a != b]
    assert not mismatched


# -- the two ways `%%` comment lines are removed ---------------------------------------------

_PIECES = ["%% c\n", "%%{x}%%\n", "  %% indented\n", "\n", "   \n", "\t\n", "A->>B: x\n",
           "%%\n", "%% \n", " %%x", "\u3000\n", "\u2028%% y\n", "accDescr {\n", "}\n", "%%",
           "x %% y\n", "\u00a0%%z\n", " ", "\n%%q"]


def test_comment_lines_go_alike_both_ways() -> None:
    """Without blank lines the comments' texts go by a plain substitution (no Python call
    per line); it must give what the line-by-line removal gives, for every text of up to
    three of these pieces."""
    slow = preprocess._COMMENT_LINE
    differ = []
    for n in range(4):
        for pieces in itertools.product(_PIECES, repeat=n):
            text = "".join(pieces)
            expected = slow.sub(lambda m: preprocess._blank_out(m.group(0)), text)
            if preprocess.drop_comment_lines(text) != expected:
                differ.append(text)
    assert not differ, differ[:5]


def test_the_plain_substitution_is_taken_without_blank_lines(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(preprocess, "_blank_out", lambda s: calls.append(s) or "\n")
    assert preprocess.drop_comment_lines("%% a\nA->>B: x\n  %% b\n\n%% c") == "\nA->>B: x\n\n\n"
    assert calls == []
    preprocess.drop_comment_lines("A->>B: x\n  \n%% c\n")
    assert calls  # a line of blanks before a comment: the line-by-line way
