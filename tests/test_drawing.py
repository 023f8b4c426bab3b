"""The terminal drawing of a diagram (`mermaidgen.preview.drawing.draw`).

Golden pictures live in tests/golden/drawing/<name>.<width>[.ascii].txt, for the two seed
diagrams (read from ../shared/corpus/seed), every sample in samples/ (found automatically)
and a few conformance diagrams that show one feature each. Refresh them after an intended
change with

    MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_drawing.py

and look at the diff before committing. Property tests draw every valid conformance diagram
at several widths; focused tests check one drawing rule each.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from mermaidgen import DiagramError, parse
from mermaidgen.preview.drawing import draw

PROJECT = Path(__file__).resolve().parents[1]
GOLDEN = PROJECT / "tests/golden/drawing"
SAMPLES = PROJECT / "samples"
SEEDS = Path(os.environ.get("MERMAIDGEN_SEEDS", PROJECT.parent / "shared/corpus/seed"))
VALID = PROJECT / "tests/conformance/diagrams/valid"
UPDATE = "MERMAIDGEN_UPDATE_GOLDEN"

FEATURES = [
    "realistic-checkout-boxes",
    "realistic-order-saga",
    "create-and-destroy-lifecycle",
    "arrows-all-in-one",
    "blocks-sections-with-nesting",
    "notes-left-right",
    "text-unicode",
]


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def picture(path: Path, width: int = 100, ascii: bool = False) -> str:
    return draw(parse(read(path), source=path.name), width=width, ascii=ascii)


def cells(line: str) -> int:
    """Display width of a line, measured independently of the code under test."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def column(line: str, index: int) -> int:
    """The display column at which line[index] is shown."""
    return cells(line[:index])


def columns(line: str, chars: str) -> list[int]:
    return [column(line, k) for k, c in enumerate(line) if c in chars]


def draw_text(text: str, width: int = 100, ascii: bool = False) -> str:
    return draw(parse(text, source="test.mmd"), width=width, ascii=ascii)


# -------------------------------------------------------------------------------------------
# golden pictures
# -------------------------------------------------------------------------------------------


def _golden_cases() -> list:
    cases = []
    seeds = [SEEDS / "choreography.mmd", SEEDS / "orchestration.mmd"]
    for path in seeds:
        missing = pytest.mark.skip(reason=f"seed diagram not found at {path}")
        marks = () if path.exists() else (missing,)
        for width in (100, 60):
            cases.append(pytest.param(path, f"seed-{path.stem}", width, False,
                                      id=f"seed-{path.stem}.{width}", marks=marks))
        cases.append(pytest.param(path, f"seed-{path.stem}", 100, True,
                                  id=f"seed-{path.stem}.100.ascii", marks=marks))
    for path in sorted(SAMPLES.glob("*.mmd")):
        for width in (100, 60):
            cases.append(pytest.param(path, path.stem, width, False, id=f"{path.stem}.{width}"))
    for name in FEATURES:
        cases.append(pytest.param(VALID / f"{name}.mmd", name, 100, False, id=f"{name}.100"))
    return cases


@pytest.mark.parametrize(("path", "name", "width", "ascii"), _golden_cases())
def test_golden(path: Path, name: str, width: int, ascii: bool) -> None:
    golden = GOLDEN / f"{name}.{width}{'.ascii' if ascii else ''}.txt"
    try:
        actual = picture(path, width, ascii) + "\n"
    except DiagramError as err:
        pytest.fail(f"{path.name} is not a valid diagram, so it cannot be drawn:\n{err}")
    if os.environ.get(UPDATE) == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.exists():
        pytest.fail(f"no golden picture {golden.relative_to(PROJECT)} for {path.name}: "
                    f"create it with `{UPDATE}=1 python -m pytest tests/test_drawing.py` "
                    "and check it by eye")
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} at width {width} differs from {golden.relative_to(PROJECT)}; if the "
        f"change is intended, refresh with `{UPDATE}=1 python -m pytest tests/test_drawing.py`")


def test_every_golden_file_has_a_case() -> None:
    """A golden picture left behind by a renamed sample is noticed."""
    wanted = {f"{c.values[1]}.{c.values[2]}{'.ascii' if c.values[3] else ''}.txt"
              for c in _golden_cases()}
    stale = sorted(p.name for p in GOLDEN.glob("*.txt") if p.name not in wanted)
    assert not stale, f"golden pictures without a test case: {stale} (delete them)"


# -------------------------------------------------------------------------------------------
# properties, over every valid conformance diagram
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(VALID.glob("*.mmd")), ids=lambda p: p.name)
def test_fits_the_width(path: Path) -> None:
    diagram = parse(read(path), source=path.name)
    for width in (40, 80, 120):
        for ascii in (False, True):
            out = draw(diagram, width=width, ascii=ascii)
            assert out.strip(), f"{path.name}: empty picture"
            for n, line in enumerate(out.split("\n"), start=1):
                where = f"{path.name} width={width} ascii={ascii} line {n}: {line!r}"
                assert cells(line) <= width, f"too wide ({cells(line)}): {where}"
                assert line == line.rstrip(), f"trailing blanks: {where}"
                assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in line), (
                    f"control or format character: {where}")
                if ascii:
                    assert all(" " <= c <= "~" for c in line), f"not ASCII: {where}"


def test_tiny_widths_never_overflow() -> None:
    diagram = parse(read(VALID / "realistic-order-saga.mmd"), source="saga")
    for width in (1, 2, 5, 9, 15):
        for line in draw(diagram, width=width).split("\n"):
            assert cells(line) <= width


# -------------------------------------------------------------------------------------------
# focused drawing rules
# -------------------------------------------------------------------------------------------


def lifeline_rows(out: str) -> list[str]:
    return [line for line in out.split("\n") if "│" in line and "┌" not in line]


def test_wide_characters_keep_lifelines_aligned() -> None:
    out = draw_text("sequenceDiagram\n"
                    "participant 客户 as 客户🚀\n"
                    "participant Api\n"
                    "客户->>Api: 注文 🚀 ümlaut é\n"
                    "Api-->>客户: 日本語のテキスト\n")
    lines = out.split("\n")
    top = next(k for k, line in enumerate(lines) if "┬" in line)
    bottom = max(k for k, line in enumerate(lines) if "┴" in line)
    lifelines = columns(lines[top], "┬")
    assert len(lifelines) == 2
    assert columns(lines[bottom], "┴") == lifelines
    for line in lines[top + 1 : bottom]:
        assert columns(line, "│") == lifelines, f"misaligned: {line!r}"
    arrow = next(line for line in lines if "▶" in line)
    assert columns(arrow, "▶") == [lifelines[1] - 1]
    label = next(line for line in lines if "注文" in line)
    assert columns(label, "│") == [lifelines[0], lifelines[1]]


def test_control_characters_are_never_emitted() -> None:
    out = draw_text("sequenceDiagram\nA->>B: bell\x07 escape\x1b[31m red\u202e\n")
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "bell? escape?[31m red?" in out


def test_right_to_left_arrow_is_mirrored() -> None:
    out = draw_text("sequenceDiagram\nparticipant A\nparticipant B\nB->>A: back\n")
    arrow = next(line for line in out.split("\n") if "◀" in line)
    a, b = columns(next(line for line in out.split("\n") if "┬" in line), "┬")
    assert re.fullmatch(r" *│◀─+│", arrow)
    assert columns(arrow, "◀") == [a + 1] and columns(arrow, "│") == [a, b]


def test_arrow_kinds() -> None:
    out = draw_text("sequenceDiagram\nA-->>B: d\nA-xB: x\nA-)B: o\nA<<->>B: both\nA->B: open\n")
    rows = [line.strip() for line in out.split("\n") if re.search("[─┈]{3}", line)]
    assert rows[1:] == ["│┈┈┈▶│".replace("┈┈┈", "┈" * (len(rows[1]) - 3))[: len(rows[1])],
                        *rows[2:]][: len(rows) - 1]
    assert rows[1].endswith("┈▶│")
    assert rows[2].endswith("─x│")
    assert rows[3].endswith("─⟩│")
    assert rows[4].startswith("│◀─") and rows[4].endswith("─▶│")
    assert rows[5].endswith("──│")


def test_self_message_loops_right_of_the_lifeline() -> None:
    out = draw_text("sequenceDiagram\nparticipant Worker\nWorker->>Worker: think hard\n")
    lines = out.split("\n")
    first = next(k for k, line in enumerate(lines) if "──┐ think hard" in line)
    assert lines[first + 1].strip() == "│◀─┘"
    assert column(lines[first], lines[first].index("┐")) == column(
        lines[first + 1], lines[first + 1].index("┘"))


def test_activation_bars_follow_plus_and_minus() -> None:
    out = draw_text("sequenceDiagram\nA->>+B: open\nA->>+B: nested\nB-->>-A: one\n"
                    "B-->>-A: two\nA->>B: after\n")
    lines = out.split("\n")
    assert any(line.rstrip().endswith("▶┃") for line in lines)  # bar starts on the arrow
    assert any("┃┃" in line for line in lines)  # nested activation is wider
    after = next(k for k, line in enumerate(lines) if "after" in line)
    assert "┃" not in "".join(lines[after:])


def test_activate_statement_starts_bar_on_the_arrow_before_it() -> None:
    out = draw_text("sequenceDiagram\nA->>B: go\nactivate B\nB->>A: done\ndeactivate B\n")
    arrow = next(line for line in out.split("\n") if "▶" in line)
    assert arrow.rstrip().endswith("▶┃")


def test_notes_left_right_and_over_two() -> None:
    out = draw_text("sequenceDiagram\nparticipant A\nparticipant B\nNote over A,B: both\n"
                    "Note left of A: left\nNote right of B: right\n")
    lines = out.split("\n")
    a, b = columns(next(line for line in lines if "┬" in line), "┬")
    top = next(line for line in lines if "╭" in line)
    (left,), (right,) = columns(top, "╭"), columns(top, "╮")
    assert left < a and right > b
    assert columns(top, "┴") == [a, b]  # the lifelines run into the note...
    bottom = lines[lines.index(top) + 2]
    assert columns(bottom, "┬") == [a, b]  # ...and out of it
    assert "│ both │" in lines[lines.index(top) + 1].replace("  ", " ").replace("  ", " ")
    left_note = next(line for line in lines if "left" in line)
    assert column(left_note, left_note.index("left")) < a
    right_note = next(line for line in lines if "right" in line)
    assert column(right_note, right_note.index("right")) > b


def test_nested_blocks_are_framed_and_indented() -> None:
    out = draw_text("sequenceDiagram\nalt ok\n loop every minute\n  A->>B: ping\n end\n"
                    "else failed\n B->>A: error\nend\n")
    lines = out.split("\n")
    outer = next(line for line in lines if "┌ alt [ok]" in line)
    inner = next(line for line in lines if "┌ loop [every minute]" in line)
    assert outer.index("┌") < inner.index("┌")
    assert any("├ else [failed] ┄" in line for line in lines)
    closing = [line for line in lines if "└" in line and "┼" in line]
    assert len(closing) == 2
    assert closing[0].index("└") > closing[1].index("└")



@pytest.mark.parametrize("header", ["rect rgb(200, 150, 255)", "rect #ffe0e0",
                                    "rect rgba(0,0,0,0.1) highlighted part"])
def test_a_rect_is_framed_without_its_colour_as_a_label(header: str) -> None:
    """mermaid.js fills the rect with the text after `rect`; it never shows it."""
    out = draw_text(f"sequenceDiagram\n{header}\n A->>B: ping\nend\n")
    top = next(line for line in out.split("\n") if "┌" in line and "┄" in line)
    assert re.fullmatch(r" *┌[┄│]+┐ *", top), top  # lifelines cross it
    assert "rgb" not in out and "#ffe0e0" not in out and "highlighted" not in out

def test_deep_nesting_does_not_recurse() -> None:
    depth = 1500
    text = ("sequenceDiagram\n" + "".join(f"opt level {k}\n" for k in range(depth))
            + "A->>B: deep\n" + "end\n" * depth)
    out = draw_text(text, width=80)
    assert all(cells(line) <= 80 for line in out.split("\n"))
    assert "opt [level 1499]" in out and "deep" in out


def test_autonumber_start_step_and_off() -> None:
    out = draw_text("sequenceDiagram\nautonumber 10 5\nA->>B: one\nB->>A: two\n"
                    "autonumber off\nA->>B: three\nautonumber\nA->>B: four\n")
    assert "[10] one" in out and "[15] two" in out
    assert "three" in out and "[20]" not in out
    assert "[25] four" in out  # hidden messages still count, as in mermaid


def test_line_breaks_in_labels() -> None:
    out = draw_text("sequenceDiagram\nparticipant S as Order<br/>Service\nS->>B: one<br>two\n")
    lines = out.split("\n")
    one = next(k for k, line in enumerate(lines) if "one" in line)
    assert "two" in lines[one + 1]
    assert any("│  Order  │" in line for line in lines)
    assert any("│ Service │" in line for line in lines)


def test_long_labels_wrap_to_fit() -> None:
    label = " ".join(f"word{k}" for k in range(40))
    out = draw_text(f"sequenceDiagram\nA->>B: {label}\n", width=60)
    assert all(cells(line) <= 60 for line in out.split("\n"))
    assert "…" not in out  # wrapped, not clipped
    assert "word0" in out and "word39" in out


def test_too_many_participants_are_clipped_with_a_marker() -> None:
    names = [f"Participant{k}" for k in range(12)]
    text = "sequenceDiagram\n" + "".join(f"{a}->>{b}: hello\n" for a, b in zip(
        names, names[1:], strict=False))
    out = draw_text(text, width=60)
    lines = out.split("\n")
    assert all(cells(line) <= 60 for line in lines)
    assert re.match(r"… \d+ more participants: Participant", lines[0])
    assert "Participant11" in "".join(lines[:3])
    assert sum(line.endswith("…") for line in lines) > len(lines) // 2
    ascii_out = draw_text(text, width=60, ascii=True)
    assert ascii_out.split("\n")[0].startswith("> ")
    assert all(cells(line) <= 60 for line in ascii_out.split("\n"))


def test_boxes_frame_their_participants() -> None:
    out = draw_text("sequenceDiagram\nbox Aqua Frontend\nactor U\nparticipant Web\nend\n"
                    "participant Api\nU->>Web: hi\nWeb->>Api: call\n")
    lines = out.split("\n")
    assert lines[0].startswith("┌ Frontend ─")
    frame_bottom = next(line for line in lines if line.startswith("└"))
    assert frame_bottom.count("┼") == 2  # both members' lifelines cross the frame
    assert " o " in out and "/|\\" in out  # the actor is a stick figure


def test_create_and_destroy() -> None:
    out = draw_text("sequenceDiagram\nA->>B: start\ncreate participant C\nB->>C: new\n"
                    "destroy C\nB-xC: bye\n")
    lines = out.split("\n")
    assert lines[1].count("│") == 4  # C has no head at the top
    created = next(k for k, line in enumerate(lines) if "│ C │" in line)
    assert "▶│ C │" in lines[created].replace("─", "")
    assert any(line.rstrip().endswith("x╳") for line in lines)
    assert lines[-2].count("│") == 4  # no head for C at the bottom


def test_ascii_mode_is_plain() -> None:
    out = picture(VALID / "realistic-order-saga.mmd", width=100, ascii=True)
    assert out.isascii()
    assert "+ alt [stock reserved]" in out and "|<- - -" in out and "#" in out


def test_large_diagram_draws_completely() -> None:
    # speed is measured by benchmarks/, never asserted here (timings are noisy)
    lines = ["sequenceDiagram", "autonumber"]
    names = [f"P{k}" for k in range(8)]
    for k in range(5_000):
        a, b = names[k % 8], names[(k * 3 + 1) % 8]
        if k % 25 == 0:
            lines.append(f"loop batch {k}")
        lines += [f"{a}->>+{b}: request {k}", f"{b}-->>-{a}: reply {k}"]
        if k % 25 == 24:
            lines.append("end")
    diagram = parse("\n".join(lines) + "\n", source="big.mmd")
    out = draw(diagram, width=100)
    assert out.count("\n") > 20_000


@pytest.mark.parametrize("width", [60, 120])
def test_ascii_mode_prints_ascii_only_tables_and_trees_included(width: int, capsys) -> None:
    """With --ascii every character mermaidgen draws is ASCII (names the diagram spells in
    other scripts are the only exception, so the ASCII samples are used)."""
    from mermaidgen.commands.cli import _run

    for path in sorted((Path(__file__).parents[1] / "samples").glob("*.mmd")):
        if not path.read_text(encoding="utf-8").isascii():
            continue
        assert _run(["preview", str(path), "--ascii", "--width", str(width)]) == 0
        out = capsys.readouterr().out
        assert out.isascii(), (path.name, sorted({c for c in out if not c.isascii()}))


def test_analysis_tree_stops_at_a_readable_depth() -> None:
    import io

    from rich.console import Console

    from mermaidgen.analysis import analyse
    from mermaidgen.preview import views

    depth = views.MAX_TREE_DEPTH + 5
    text = ("sequenceDiagram\n" + "".join(f"loop level {i}\n" for i in range(depth))
            + "A->>B: deep\n" + "end\n" * depth)
    console = Console(file=io.StringIO(), width=200, no_color=True)
    console.print(views.render(analyse(parse(text))))
    drawn = console.file.getvalue()
    cut = views.MAX_TREE_DEPTH + 2  # the first block left out, by its line
    assert f"loop level {views.MAX_TREE_DEPTH - 1}  (line {cut - 1})" in drawn
    assert f"loop level {views.MAX_TREE_DEPTH}  (line {cut}) and deeper: see --format json" in drawn
    assert f"level {views.MAX_TREE_DEPTH + 1} " not in drawn and "deep  (line" not in drawn


def test_analysis_views_clip_huge_texts() -> None:
    import io

    from rich.console import Console

    from mermaidgen.analysis import analyse
    from mermaidgen.preview import views

    huge = "word " * 20_000
    text = f"sequenceDiagram\nparticipant A as {huge}\nA->>B: {huge}\nB-->>A: ok\n"
    console = Console(file=io.StringIO(), width=120, no_color=True)
    console.print(views.render(analyse(parse(text))))
    drawn = console.file.getvalue()
    assert "word word" in drawn and "..." in drawn
    assert drawn.count("word") < 12 * views.MAX_TEXT


def test_analysis_views_of_a_huge_diagram_say_what_they_leave_out() -> None:
    import io

    from rich.console import Console

    from mermaidgen.analysis import analyse
    from mermaidgen.preview import views

    count = max(views.MAX_TABLE_ROWS + 50, views.MAX_TREE_LINES // 2)
    text = "sequenceDiagram\n" + "".join(f"P{i}-)P{i + 1}: event {i}\n" for i in range(count))
    analysis = analyse(parse(text))
    console = Console(file=io.StringIO(), width=120, no_color=True)
    console.print(views.render(analysis))
    drawn = console.file.getvalue()
    assert f"... and {count + 1 - views.MAX_TABLE_ROWS} more: see --format json" in drawn
    assert f"... and {count - views.MAX_TABLE_ROWS} more: see --format json" in drawn
    tree = views.choreography(analysis)
    lines = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        lines += 1
        stack.extend(node.children)
    assert lines <= views.MAX_TREE_LINES + 2  # the root and the note
    assert "more lines: see --format json" in str(tree.children[-1].label)


def test_a_source_with_many_diagrams_draws_all_and_analyses_the_first(tmp_path, capsys):
    from mermaidgen.commands.cli import _run
    from mermaidgen.commands.preview import MAX_ANALYSED

    count = MAX_ANALYSED + 5
    path = tmp_path / "many.txt"
    path.write_text("".join(f"Diagram {i}:\n\nsequenceDiagram\n    A->>B: message {i}\n\n"
                            for i in range(count)), encoding="utf-8")
    assert _run(["preview", str(path), "--width", "80"]) == 0
    out = capsys.readouterr().out
    assert all(f"message {i}" in out for i in range(count))  # every diagram is drawn
    assert out.count("Participants") == MAX_ANALYSED
    assert (f"The analysis is shown for the first {MAX_ANALYSED} of {count} diagrams; "
            f"`mermaidgen preview {path}#N` shows diagram N with its own.") in out
