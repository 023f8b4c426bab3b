"""Limits of hostile or extreme input (issue 10, defects 4, 5 and 9): blocks nested deeper
than one Python function may hold, YAML that expands without end, sources that are devices
or too big, NUL bytes, and the warnings `generate` and `preview` must show."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from projects import lint, run

import mermaidgen
from mermaidgen import output
from mermaidgen.codegen.nested import split_deep_blocks
from mermaidgen.generate import TARGETS, build

TARGET_STYLES = [(t, s) for t, styles in TARGETS.items() for s in styles]


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync matters only when the machine loses power; skipping it keeps the tests fast."""
    monkeypatch.setattr(output.os, "fsync", lambda fd: None)


# --- 4: statically nested blocks ---------------------------------------------------------

_SECTIONS = {"alt": "else other", "par": "and other", "critical": "option failed"}


def nested(kinds: list[str]) -> str:
    """Blocks of the given kinds, each inside the one before, with messages at every level
    (and in every other section) so that each participant's code holds them too."""
    lines = ["sequenceDiagram", "participant A", "participant B", "participant C"]
    for i, kind in enumerate(kinds):
        lines += [f"{kind} step {i}", f"    A->>B: in {i}"]
    lines += ["A->>B: deepest", "B-->>A: answer"]
    for i, kind in reversed(list(enumerate(kinds))):
        if kind in _SECTIONS:
            lines += [_SECTIONS[kind], f"    C->>A: other {i}"]
        lines += ["end", f"B->>C: after {i}"]
    return "\n".join(lines) + "\n"


MIXED = ["loop", "critical", "alt", "loop", "critical", "opt", "break", "loop"]


def _mixed(depth: int) -> list[str]:
    """A `par` (its branches are functions), then every other kind: 7 blocks every 8."""
    return ["par"] + [MIXED[i % len(MIXED)] for i in range(depth - 1)]


def _compile_all(text: str, target: str, style: str) -> None:
    generation = build(mermaidgen.parse(text, source="deep.mmd"), text, style=style,
                       target=target)
    for f in generation.files:
        if f.path.endswith(".py"):
            compile(f.content, f.path, "exec")  # SyntaxError: too many statically nested


@pytest.mark.parametrize(("target", "style"), TARGET_STYLES)
@pytest.mark.parametrize("depth", [21, 25, 40])
@pytest.mark.parametrize("shape", ["loops", "mixed", "criticals"])
def test_deeply_nested_blocks_compile_in_every_target(target: str, style: str, depth: int,
                                                      shape: str) -> None:
    kinds = {"loops": ["loop"] * depth, "mixed": _mixed(depth),
             "criticals": ["critical"] * min(depth, 40)}[shape]
    _compile_all(nested(kinds), target, style)


@pytest.mark.parametrize(("target", "style"), TARGET_STYLES)
def test_deeply_nested_project_compiles_and_passes_ruff(cli, tmp_path: Path, target: str,
                                                        style: str) -> None:
    source = tmp_path / "deep.mmd"
    source.write_text(nested(["loop"] * 21 + _mixed(20)), encoding="utf-8")
    out = tmp_path / "out"
    assert cli("generate", source, "--target", target, "--style", style, "--out", out,
               ).code == 0
    lint(out)


@pytest.mark.parametrize(("kind", "deepest"), [("loop", 89), ("critical", 44), ("break", 95)])
def test_the_deepest_nesting_accepted_compiles(kind: str, deepest: int) -> None:
    """Right below the limit `generate` refuses at, every target still compiles."""
    for target, style in TARGET_STYLES:
        _compile_all(nested([kind] * deepest), target, style)
    with pytest.raises(mermaidgen.errors.DiagramError):
        text = nested([kind] * (deepest + 1))
        build(mermaidgen.parse(text, source="deep.mmd"), text)


def test_generate_and_check_refuse_the_same_too_deep_block(cli, tmp_path: Path) -> None:
    source = tmp_path / "deep.mmd"
    source.write_text(nested(["loop"] * 120), encoding="utf-8")
    line = 5 + 2 * 89  # the 90th loop: 89 loops still fit
    generated = cli("generate", source, "--out", tmp_path / "out")
    assert generated.code == 1
    assert f"deep.mmd:{line}:1: error" in generated.err and "too deep" in generated.err
    assert not (tmp_path / "out").exists()
    checked = cli("check", source)
    assert checked.code == 1
    assert f"deep.mmd:{line}:1: error[too-deep]" in checked.err


def test_a_break_that_leaves_a_split_block_still_ends_its_loop(cli, tmp_path: Path) -> None:
    """14 loops, then a `critical` (a try, two blocks deeper) that no longer fits in the
    function: it runs in a closure, and its `break` must still end the 14th loop."""
    lines = ["sequenceDiagram", "participant O", "participant S"]
    lines += [f"loop l{i}" for i in range(14)]
    lines += ["critical risky", "O->>S: deep", "S-->>O: ok", "break stop", "O->>S: stopping",
              "end", "option failed", "O->>S: recover", "end", "O->>S: after critical"]
    lines += ["end"] * 14 + ["O->>S: finished"]
    source = tmp_path / "brk.mmd"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("generate", source, "--style", "orchestration", "--out", out).code == 0
    assert "async def _block_" in (out / "brk" / "_generated" / "wiring.py").read_text()
    workflow = out / "brk" / "workflow.py"
    workflow.write_text(workflow.read_text().replace(
        "    pass", "    def should_break_stop(self, ctx):\n        return True"))
    done = run([sys.executable, "-m", "brk"], out)
    assert done.returncode == 0, done.stderr
    assert "stopping" in done.stdout and "finished" in done.stdout
    assert "after critical" not in done.stdout  # the break left the loop


def test_split_rewrites_only_the_exits_that_leave_the_closure() -> None:
    def op(kind: str, indent: int, **extra) -> dict:
        return {"op": kind, "indent": indent, "line": indent, **extra}

    ops = [op("loop", 0, var="i1"),
           op("try", 1), op("if_hook", 2), op("exit", 3, how="break"),
           op("loop", 2, var="i2"), op("exit", 3, how="break"),
           op("loop_next", 3, var="i2"),
           op("except", 1, var="o"), op("if", 2, var="o", value="x"), op("pass", 3),
           op("reraise", 2),
           op("loop_next", 1, var="i1")]
    out = split_deep_blocks(ops, limit=2)  # the try (two blocks) no longer fits the loop
    kinds = [(o["op"], o["indent"], o.get("how")) for o in out]
    assert kinds[1][:2] == ("nested", 1)
    assert ("exit", 4, "return True") in kinds  # the break out of the try's loop
    assert ("exit", 4, "break") in kinds  # the break of the inner loop stays
    assert kinds[-3:] == [("exit", 2, "return False"), ("run_nested", 1, None),
                          ("loop_next", 1, None)]
    assert out[-2]["exit"] == "break" and out[1]["exits"]
