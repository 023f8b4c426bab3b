"""Limits of hostile or extreme input (issue 10, defects 4, 5 and 9): blocks nested deeper
than one Python function may hold, YAML that expands without end, sources that are devices
or too big, NUL bytes, and the warnings `generate` and `preview` must show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from projects import lint, run_here

import mermaidgen
from mermaidgen.codegen.generate import TARGETS, build
from mermaidgen.codegen.nested import split_deep_blocks
from mermaidgen.codegen.write import output

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


@pytest.mark.parametrize(("kind", "deepest"), [("loop", 46), ("critical", 44), ("break", 95)])
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
    line = 5 + 2 * 46  # the 47th loop: 46 loops still fit
    generated = cli("generate", source, "--out", tmp_path / "out")
    assert generated.code == 1
    assert f"deep.mmd:{line}:1: error" in generated.err and "too deep" in generated.err
    assert not (tmp_path / "out").exists()
    checked = cli("check", source)
    assert checked.code == 1
    assert f"deep.mmd:{line}:1: error[too-deep]" in checked.err


def test_a_break_in_a_split_block_ends_only_its_section(cli, tmp_path: Path) -> None:
    """14 loops, then a `critical` (a try, two blocks deeper) that no longer fits in the
    function: it runs in a closure. Its taken `break` ends the rest of the critical's
    section only (conformance.md: nothing more from the enclosing block), in the closure
    too: what follows the critical still runs, in every iteration of the 14th loop."""
    lines = ["sequenceDiagram", "participant O", "participant S"]
    lines += [f"loop l{i}" for i in range(14)]
    lines += ["critical risky", "O->>S: deep", "S-->>O: ok", "break stop", "O->>S: stopping",
              "end", "O->>S: rest of critical", "option failed", "O->>S: recover", "end",
              "O->>S: after critical"]
    lines += ["end"] * 14 + ["O->>S: finished"]
    source = tmp_path / "brk.mmd"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("generate", source, "--style", "orchestration", "--out", out).code == 0
    assert "async def _block_" in (out / "brk" / "_generated" / "wiring.py").read_text()
    workflow = out / "brk" / "workflow.py"
    workflow.write_text(workflow.read_text().replace(
        "    pass", "    def should_break_stop(self, ctx):\n        return True"))
    done = run_here(["-m", "brk"], out)
    assert done.returncode == 0, done.stderr
    assert "stopping" in done.stdout and "finished" in done.stdout
    assert "rest of critical" not in done.stdout  # the break ended the section
    # and only the section: each iteration goes on after the critical
    iterations = done.stdout.count("  deep  (line")
    assert iterations > 0
    assert done.stdout.count("  after critical  (line") == iterations


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


# --- 5: YAML in frontmatter and metadata -------------------------------------------------

def _alias_bomb(levels: int, indent: str = "") -> list[str]:
    """The "billion laughs": each anchor a list of nine aliases of the one before."""
    lines = [f'{indent}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return lines


def _write(tmp_path: Path, text: str, name: str = "d.mmd") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BOMB = "\n".join(["---", *_alias_bomb(6), "title: *a6", "config:", "  sequence: *a6", "---",
                  "sequenceDiagram", "A->>B: hi", ""])


@pytest.mark.parametrize("command", [("check",), ("preview",), ("preview", "-f", "json"),
                                     ("generate", "--out", "out")])
def test_an_alias_bomb_in_the_frontmatter_is_refused_where_it_grows(cli, tmp_path: Path,
                                                                   monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, BOMB)
    done = cli(command[0], "d.mmd", *command[1:])
    assert done.code == 1
    # levels 0-3 expand to 30,000 characters, level 4 to 243,000: its last aliases
    # pass the limit (256 Ki), before anything has been built
    assert "d.mmd:6:" in done.err and "aliases expanded" in done.err, done.err
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_in_participant_metadata_is_refused(cli, tmp_path: Path) -> None:
    bomb = ", ".join(line.strip() for line in _alias_bomb(6))
    source = _write(tmp_path, f"sequenceDiagram\nparticipant A@{{ {bomb}, type: *a6 }}\n"
                              "A->>B: hi\n")
    done = cli("check", source)
    assert done.code == 1
    assert "d.mmd:2:" in done.err and "invalid metadata for `A`" in done.err, done.err


@pytest.mark.parametrize(("body", "line", "column", "says"), [
    ("title: " + "[" * 100, 2, 7 + 50, "nested more than 50 deep"),  # in a mapping
    ("title: " + "[" * 30000, 2, 0, "nest"),  # libyaml stops at 1000, pure Python at 51
    ("config: &c {sequence: *c}", 2, 23, "inside the value it names"),
    ("title: *nowhere", 2, 8, "names no anchor"),
    ("title: " + "1" * 5000, 2, 1, "cannot be read"),
    ("title: x\n" + "a: [1]\n" * 12000, 2, 1, "characters long"),
])
def test_frontmatter_past_a_limit_is_a_located_error(cli, tmp_path: Path, body: str,
                                                     line: int, column: int,
                                                     says: str) -> None:
    source = _write(tmp_path, f"---\n{body}\n---\nsequenceDiagram\nA->>B: hi\n")
    done = cli("preview", source)
    assert done.code == 1
    assert f"d.mmd:{line}:" in done.err and says in done.err, done.err
    if column:
        assert f"d.mmd:{line}:{column}:" in done.err, done.err


def test_frontmatter_within_the_limits_still_sets_title_and_config(cli, tmp_path) -> None:
    source = _write(tmp_path, "---\ntitle: Checkout 1.0\nshared: &mirror false\nconfig:\n"
                              "  sequence:\n    mirrorActors: *mirror\n---\n"
                              "sequenceDiagram\nA->>B: hi\n")
    done = cli("preview", "-f", "json", source)
    assert done.code == 0, done.err
    import json

    document = json.loads(done.out)
    assert document["title"] == "Checkout 1.0"
    assert document["config"]["sequence"]["mirrorActors"] is False


# --- 9: sources that are not regular files, too big, or hold NUL bytes --------------------

def _mermaidgen(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """mermaidgen in a process of its own, with 1 GiB of memory: a regression that reads a
    device to its end, or blocks on a pipe, fails the test instead of the machine."""
    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    return subprocess.run([sys.executable, "-m", "mermaidgen", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_memory if sys.platform != "win32" else None)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
@pytest.mark.parametrize("command", ["preview", "check", "generate"])
def test_a_device_is_refused_as_a_source(tmp_path: Path, command: str) -> None:
    args = ["--out", tmp_path / "out"] if command == "generate" else []
    done = _mermaidgen(command, "/dev/zero", *args, cwd=tmp_path)
    assert done.returncode in (1, 2)
    assert "/dev/zero: not a regular file" in done.stderr, done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_refused_and_skipped_in_folders(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.mmd")  # nobody writes: opening it to read would block
    done = _mermaidgen("preview", "pipe.mmd", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "pipe.mmd: not a regular file (a named pipe)" in done.stderr
    _write(tmp_path, "sequenceDiagram\nA->>B: hi\n")
    checked = _mermaidgen("check", ".", cwd=tmp_path)
    assert checked.returncode == 0 and "checked 1 file(s)" in checked.stderr, checked.stderr


def test_a_source_larger_than_the_cap_is_refused(cli, tmp_path: Path, monkeypatch) -> None:
    from mermaidgen.mermaid import extract

    monkeypatch.setattr(extract, "MAX_SOURCE_BYTES", 1024)
    source = _write(tmp_path, "sequenceDiagram\n" + "A->>B: hi\n" * 200)
    done = cli("preview", source)
    assert done.code == 2 and "larger than" in done.err, done.err


def test_a_nul_byte_is_reported_by_line_and_column(cli, tmp_path: Path) -> None:
    source = tmp_path / "d.mmd"
    source.write_bytes(b"sequenceDiagram\nA->>B: h\x00i\n")
    for command in ("preview", "check"):
        done = cli(command, source)
        assert done.code == 1
        assert "d.mmd:2:9:" in done.err and "NUL" in done.err, done.err


# --- 9: the warnings that change the code, shown by generate and preview too ------------

COLLIDING = ("sequenceDiagram\nparticipant Order-Service\nparticipant Order_Service\n"
             "Order-Service->>Order_Service: go\n")
COLLISION = "d.mmd:3:1: warning[name-collision]: the participants `Order-Service` and " \
            "`Order_Service` become the same identifier in code"


@pytest.mark.parametrize("command", [("generate", "--out", "out"), ("preview",),
                                     ("preview", "-f", "json"), ("check",)])
def test_name_collisions_are_shown_by_every_command(cli, tmp_path: Path, monkeypatch,
                                                    command) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, COLLIDING)
    done = cli(command[0], "d.mmd", *command[1:])
    assert done.code == 0, done.err
    assert done.err.count(COLLISION) == 1, done.err
