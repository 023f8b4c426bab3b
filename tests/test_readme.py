"""The README works as written: its examples run and print what it shows.

Markers (HTML comments, invisible on GitHub) placed right before a fenced block:

* `<!-- example -->` before a ```bash block: the test runs it with bash (`-e -o pipefail`)
  and expects exit code 0, or N with `<!-- example exit=N -->`;
* `<!-- output -->` before the block that shows what the previous example prints (stdout
  and stderr together, as in a terminal). `<!-- output pwd=/home/you/shop -->` shows the
  folder the example ran in as that path;
* `<!-- excerpt path=FILE -->` before a block quoted from a file an example wrote: it must
  be a run of whole lines of that file, as the file was at that point of the README;
* `<!-- test-command -->` before the test command that `.ci/run` reads.

The first command of the quick start is run without its `pip install . && ` prefix.
The examples of each `##` section run in order, in one fresh folder per section (with a
copy of `samples/` when they use it), with this interpreter's scripts first on PATH.

Every `mermaidgen ...` command in the README's code must exist, with the options shown.

After a deliberate change of the tool's output, refresh the output blocks with
`MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_readme.py` and read the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
UPDATE = os.environ.get("MERMAIDGEN_UPDATE_GOLDEN") == "1"
REFRESH = "MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_readme.py"
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest -q -n auto --dist loadfile"
INSTALL = "pip install . && "
QUICK_START = "Quick start"
REFERENCE = "Commands"
SHELL = {"bash", "sh", "shell", "console"}
MARKER = re.compile(r"<!--\s*([\w-]+)((?:\s+[\w-]+=\S+)*)\s*-->")
KNOWN_MARKERS = {"example", "output", "excerpt", "test-command"}
BIN = Path(sys.executable).parent
TIMEOUT = 120
# `mermaidgen` followed by its arguments, up to a shell operator
MENTION = re.compile(r"(?<![\w./-])mermaidgen((?:[ \t]+[^\s|;&<>()`]+)+)")
WORD = re.compile(r"[a-z][a-z-]*")

MD = MarkdownIt("commonmark").enable("table")


@dataclass
class Block:
    """A fenced block of the README, with the marker right before it."""

    kind: str  # a marker name, "quick-start", or "" for an unmarked block
    args: dict[str, str]
    lang: str
    text: str
    line: int  # 1-based line of the opening fence
    content: tuple[int, int]  # 0-based line range of the text, for rewriting
    section: str
    output: Block | None = None

    @property
    def runnable(self) -> bool:
        return self.kind in ("example", "quick-start")

    @property
    def script(self) -> str:
        text = self.text.strip()
        return text.removeprefix(INSTALL) if self.kind == "quick-start" else text

    @property
    def label(self) -> str:
        first = self.script.splitlines()[0] if self.script else ""
        return f"line{self.line}-{first[:50]}"


@dataclass
class Mention:
    """`mermaidgen ARGS` somewhere in the README's code."""

    line: int
    words: list[str]


@dataclass
class Readme:
    text: str
    blocks: list[Block]
    mentions: list[Mention]
    # per h3 of the commands reference: its title, the commands it names, the options shown
    reference: list[tuple[str, list[list[str]], set[str]]]
    problems: list[str]


def _args(raw: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in raw.split())


def _command(words: list[str]) -> tuple[list[str], list[str]]:
    """The (sub)command path and the options of `mermaidgen WORDS`."""
    path: list[str] = []
    options = []
    for word in words:
        word = word.strip("'\"")
        if word.startswith("#"):
            break
        if word.startswith("-") and word not in ("-", "--"):
            options.append(word.split("=", 1)[0])
        elif not options and len(path) < 2 and WORD.fullmatch(word):
            path.append(word)
    # a second word is a subcommand only under a command group (`templates list`)
    if len(path) == 2 and "Commands:" not in help_text(path[0])[1]:
        path = path[:1]
    return path, options


def _mentions(text: str, line: int) -> list[Mention]:
    return [Mention(line, m.group(1).split()) for m in MENTION.finditer(text)]


def parse(text: str) -> Readme:
    tokens = MD.parse(text)
    blocks: list[Block] = []
    mentions: list[Mention] = []
    reference: list[tuple[str, list[list[str]], set[str]]] = []
    section = h3 = ""
    for i, tok in enumerate(tokens):
        line = (tok.map[0] + 1) if tok.map else 0
        if tok.type == "heading_open":
            title = tokens[i + 1].content
            if tok.tag == "h2":
                section, h3 = title, ""
            elif tok.tag == "h3" and section == REFERENCE:
                h3 = title
                commands = [m.words for c in tokens[i + 1].children or []
                            if c.type == "code_inline" for m in _mentions(c.content, line)]
                reference.append((title, commands or [[]], set()))
        if tok.type == "inline":
            for child in tok.children or []:
                if child.type == "code_inline":
                    mentions += _mentions(child.content, line)
                    if h3 and reference:
                        reference[-1][2].update(
                            w.split("=", 1)[0] for w in child.content.split()
                            if w.startswith("--") or re.fullmatch(r"-[a-z]", w))
        if tok.type != "fence":
            continue
        kind, args = "", {}
        before = tokens[i - 1] if i else None
        if before is not None and before.type == "html_block":
            found = MARKER.fullmatch(before.content.strip())
            if found:
                kind, args = found.group(1), _args(found.group(2))
        lang = tok.info.strip().split()[0] if tok.info.strip() else ""
        start, end = tok.map
        block = Block(kind, args, lang, tok.content, start + 1, (start + 1, end - 1), section)
        if section == QUICK_START and not kind and lang in SHELL and \
                not any(b.section == QUICK_START and b.runnable for b in blocks):
            block.kind = "quick-start"
        blocks.append(block)
        if lang in SHELL | {"yaml", "yml"} and kind != "output":
            for n, code_line in enumerate(tok.content.splitlines()):
                mentions += _mentions(code_line, start + 2 + n)
    problems = []
    for before, block in zip([None, *blocks], blocks, strict=False):
        if block.kind not in KNOWN_MARKERS | {"", "quick-start"}:
            problems.append(f"README.md:{block.line}: unknown marker {block.kind!r}")
        if block.kind == "example" and block.lang not in SHELL:
            problems.append(f"README.md:{block.line}: an example must be a bash block")
        if block.kind == "output":
            if before is not None and before.runnable:
                before.output = block
            else:
                problems.append(f"README.md:{block.line}: an output block must come right "
                                "after an example")
    return Readme(text, blocks, mentions, reference, problems)


README_DATA = parse(README.read_text(encoding="utf-8"))
RUNNABLE = [b for b in README_DATA.blocks if b.runnable]
EXCERPTS = [b for b in README_DATA.blocks if b.kind == "excerpt"]


@cache
def help_text(*command: str) -> tuple[int, str]:
    done = subprocess.run([_mermaidgen(), *command, "--help"], capture_output=True,
                          text=True, encoding="utf-8", env=_env(), timeout=60)
    return done.returncode, done.stdout + done.stderr


def _mermaidgen() -> str:
    found = shutil.which("mermaidgen", path=str(BIN)) or shutil.which("mermaidgen")
    if found is None:
        pytest.skip("the mermaidgen script is not installed (pip install -e .)")
    return found


def _env() -> dict[str, str]:
    """A plain non-terminal environment: no colour, default widths, no inherited
    mermaidgen or pytest settings, and no third-party pytest plugins (a fresh machine has
    none, and their warnings would change the generated projects' test output). `CI` and
    `BUILD_NUMBER` go too: with either set, pytest stops shortening its summary lines to
    the terminal width, so the shown output would differ on CI machines."""
    dropped = ("PYTHONPATH", "COLUMNS", "LINES", "FORCE_COLOR", "CLICOLOR_FORCE",
               "VIRTUAL_ENV", "CI", "BUILD_NUMBER")
    env = {k: v for k, v in os.environ.items() if k not in dropped
           and not k.startswith(("MERMAIDGEN_", "PYTEST_", "_MERMAIDGEN"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1",
               PYTHONIOENCODING="utf-8", NO_COLOR="1", TERM="dumb",
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return env


@dataclass
class Result:
    code: int | None
    output: str
    folder: Path


def _run(script: str, folder: Path) -> Result:
    try:
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=folder,
                              env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                              errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode("utf-8", "replace") if isinstance(exc.output, bytes) \
            else exc.output or ""
        return Result(None, out + f"\n(timed out after {TIMEOUT} s)", folder)
    return Result(done.returncode, done.stdout, folder)


def _shown(output: str, folder: Path, pwd: str | None) -> str:
    """The output as the README shows it: the example's folder as `pwd`."""
    if pwd:
        for form in {str(folder.resolve()), str(folder)}:
            output = output.replace(form, pwd)
    return output


def normal(text: str) -> str:
    """Trailing whitespace and blank edges dropped; pytest's timing made constant."""
    text = re.sub(r" in \d+\.\d+s\b", " in 0.00s", text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[int, Result | str | None]:
    """Run every section's examples in order; also read each excerpt's file at its point
    in the README. Keyed by the block's line."""
    if shutil.which("bash") is None:
        pytest.skip("the README's examples are bash")
    _mermaidgen()
    found: dict[int, Result | str | None] = {}
    sections: dict[str, list[Block]] = {}
    for block in README_DATA.blocks:
        if block.runnable or block.kind == "excerpt":
            sections.setdefault(block.section, []).append(block)
    for n, blocks in enumerate(sections.values()):
        folder = tmp_path_factory.mktemp(f"readme-{n}")
        if any("samples/" in b.script for b in blocks if b.runnable):
            shutil.copytree(ROOT / "samples", folder / "samples")
        for block in blocks:
            if block.runnable:
                found[block.line] = _run(block.script, folder)
            else:
                path = folder / block.args.get("path", "")
                found[block.line] = path.read_text(encoding="utf-8") \
                    if block.args.get("path") and path.is_file() else None
    if UPDATE:
        _rewrite(found)
    return found


def _rewrite(found: dict[int, Result | str | None]) -> None:
    """Write each example's actual output into its output block."""
    lines = README_DATA.text.splitlines(keepends=True)
    for block in sorted(RUNNABLE, key=lambda b: -b.line):
        result = found.get(block.line)
        if block.output is None or not isinstance(result, Result):
            continue
        shown = _shown(result.output, result.folder, block.output.args.get("pwd"))
        body = [line.rstrip() + "\n" for line in shown.rstrip("\n").splitlines()]
        first, end = block.output.content
        lines[first:end] = body
    README.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.label for b in RUNNABLE])
def test_example_runs_as_shown(block: Block, results) -> None:
    result = results[block.line]
    assert isinstance(result, Result)
    expected = int(block.args.get("exit", "0"))
    assert result.code == expected, (
        f"README.md:{block.line}: exit code {result.code}, expected {expected}\n"
        f"$ {block.script}\n{result.output}")
    if block.output is not None and not UPDATE:
        shown = _shown(result.output, result.folder, block.output.args.get("pwd"))
        assert normal(shown) == normal(block.output.text), (
            f"README.md:{block.output.line}: the output shown differs from the real one; "
            f"if the change is intended, refresh it with {REFRESH}")


@pytest.mark.parametrize("block", EXCERPTS, ids=[f"line{b.line}" for b in EXCERPTS])
def test_excerpt_is_quoted_from_the_generated_file(block: Block, results) -> None:
    source = results[block.line]
    assert isinstance(source, str), \
        f"README.md:{block.line}: no file {block.args.get('path')!r} at this point"
    quoted = [line.rstrip() for line in block.text.rstrip("\n").splitlines()]
    lines = [line.rstrip() for line in source.splitlines()]
    assert any(lines[i:i + len(quoted)] == quoted for i in range(len(lines))), (
        f"README.md:{block.line}: this excerpt is not (any longer) in "
        f"{block.args['path']}; quote the file as it is generated now")


def test_markers_are_known_and_outputs_follow_examples() -> None:
    assert not README_DATA.problems, "\n".join(README_DATA.problems)
    assert RUNNABLE and EXCERPTS


def test_quick_start_is_two_single_line_commands() -> None:
    commands = [b for b in README_DATA.blocks
                if b.section == QUICK_START and b.lang in SHELL and b.kind != "output"]
    assert len(commands) == 2, [b.text for b in commands]
    for block in commands:
        assert len(block.text.strip().splitlines()) == 1, \
            f"README.md:{block.line}: a quick-start command is one line"
    run, test = commands
    assert run.kind == "quick-start" and run.text.startswith(INSTALL), run.text
    assert run.output is not None, "show what the quick start prints"
    assert test.kind == "test-command" and test.text.strip() == TEST_COMMAND


def test_ci_reads_the_test_command() -> None:
    """`.ci/run` takes the line after the marker, skipping fence lines (its awk program)."""
    lines = README_DATA.text.splitlines()
    at = [i for i, line in enumerate(lines) if "<!-- test-command -->" in line]
    assert len(at) == 1
    assert lines[at[0] + 1] == "```bash" and lines[at[0] + 2] == TEST_COMMAND
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    program = re.search(r"awk '([^']*)' README\.md", ci)
    assert program, ".ci/run no longer reads the test command with awk"
    if shutil.which("awk"):
        done = subprocess.run(["awk", program.group(1), str(README)], capture_output=True,
                              text=True, timeout=30)
        assert done.stdout.strip() == TEST_COMMAND


MENTIONS = README_DATA.mentions


@pytest.mark.parametrize("mention", MENTIONS,
                         ids=[f"line{m.line}-{' '.join(m.words)[:40]}" for m in MENTIONS])
def test_commands_and_options_exist(mention: Mention) -> None:
    path, options = _command(mention.words)
    code, text = help_text(*path)
    assert code == 0, f"README.md:{mention.line}: `mermaidgen {' '.join(path)}` does not " \
                      f"exist:\n{text}"
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), \
            f"README.md:{mention.line}: `mermaidgen {' '.join(path)}` has no {option}"


@pytest.mark.parametrize("entry", README_DATA.reference,
                         ids=[title for title, _, _ in README_DATA.reference])
def test_reference_options_exist(entry) -> None:
    """Under each `### mermaidgen ...` heading of the commands reference, every option
    shown in code belongs to a command that heading names."""
    title, commands, options = entry
    helps = "\n".join(help_text(*_command(words)[0])[1] for words in commands)
    missing = [o for o in sorted(options)
               if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", helps)]
    assert not missing, f"options under {title!r} that its commands do not have: {missing}"
