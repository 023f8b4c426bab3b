"""The README and the docs site work as written: their examples run and print what they
show, and the site builds without a broken link.

The pages are README.md and every Markdown file under docs/. Markers (HTML comments,
invisible on GitHub and on the site) placed right before a fenced block:

* `<!-- example -->` before a ```bash block: the test runs it with bash (`-e -o pipefail`)
  and expects exit code 0, or N with `<!-- example exit=N -->`;
* `<!-- output -->` before the block that shows what the previous example prints (stdout
  and stderr together, as in a terminal). `<!-- output pwd=/home/you/shop -->` shows the
  folder the example ran in as that path;
* `<!-- excerpt path=FILE -->` before a block quoted from a file an example wrote: it must
  be a run of whole lines of that file, as the file was at that point of the page;
* `<!-- test-command -->` (README only) before the test command that `.ci/run` reads.

The first command of the README's quick start is run without its `pip install . && `
prefix. The examples of each page run in order in one fresh folder (the README's: one
folder per `##` section), with a copy of `samples/` when they use it, and with this
interpreter's scripts first on PATH.

Every `mermaidgen ...` command in the pages' code must exist, with the options shown; in
the command-line reference (docs/cli.md), every option shown under a `##` heading must
belong to a command that heading names.

After a deliberate change of the tool's output, refresh the output blocks with
`MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_readme.py` and read the diff.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from projects import ci_mode

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SITE_CONFIG = ROOT / "mkdocs.yml"
UPDATE = os.environ.get("MERMAIDGEN_UPDATE_GOLDEN") == "1"
REFRESH = "MERMAIDGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_readme.py"
TEST_COMMAND = "pip install -e '.[test]' && python -m pytest -q -n auto --dist loadfile"
INSTALL = "pip install . && "
QUICK_START = "Quick start"
REFERENCE = "docs/cli.md"
SHELL = {"bash", "sh", "shell", "console"}
MARKER = re.compile(r"<!--\s*([\w-]+)((?:\s+[\w-]+=\S+)*)\s*-->")
KNOWN_MARKERS = {"example", "output", "excerpt", "test-command"}
BIN = Path(sys.executable).parent
TIMEOUT = 120
# `mermaidgen` followed by its arguments, up to a shell operator
MENTION = re.compile(r"(?<![\w./-])mermaidgen((?:[ \t]+[^\s|;&<>()`]+)+)")
WORD = re.compile(r"[a-z][a-z-]*")
# a Markdown link's target: [text](target) or [text](target "title")
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")

MD = MarkdownIt("commonmark").enable("table")


@dataclass
class Block:
    """A fenced block of a page, with the marker right before it."""

    kind: str  # a marker name, "quick-start", or "" for an unmarked block
    args: dict[str, str]
    lang: str
    text: str
    page: str  # the page's path from the repository root, with `/`
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
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def folder(self) -> tuple[str, str]:
        """The examples that share one folder: a docs page's, or a README section's."""
        return (self.page, self.section if self.page == "README.md" else "")

    @property
    def label(self) -> str:
        first = self.script.splitlines()[0] if self.script else ""
        return f"{self.page}:{self.line}-{first[:50]}"


@dataclass
class Mention:
    """`mermaidgen ARGS` somewhere in a page's code."""

    page: str
    line: int
    words: list[str]


@dataclass
class Page:
    path: Path
    name: str  # from the repository root, with `/`
    text: str
    blocks: list[Block]
    mentions: list[Mention]
    # in the command-line reference, per `##` heading: its title, the commands it names,
    # the options shown under it
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


def _mentions(page: str, text: str, line: int) -> list[Mention]:
    return [Mention(page, line, m.group(1).split()) for m in MENTION.finditer(text)]


def parse(path: Path) -> Page:
    name = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8")
    tokens = MD.parse(text)
    blocks: list[Block] = []
    mentions: list[Mention] = []
    reference: list[tuple[str, list[list[str]], set[str]]] = []
    section = ""
    in_reference = False
    for i, tok in enumerate(tokens):
        line = (tok.map[0] + 1) if tok.map else 0
        if tok.type == "heading_open" and tok.tag == "h2":
            section = tokens[i + 1].content
            in_reference = name == REFERENCE
            if in_reference:
                commands = [m.words for c in tokens[i + 1].children or []
                            if c.type == "code_inline"
                            for m in _mentions(name, c.content, line)]
                reference.append((section, commands or [[]], set()))
        if tok.type == "inline":
            for child in tok.children or []:
                if child.type == "code_inline":
                    mentions += _mentions(name, child.content, line)
                    if in_reference:
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
        block = Block(kind, args, lang, tok.content, name, start + 1, (start + 1, end - 1),
                      section)
        if name == "README.md" and section == QUICK_START and not kind and lang in SHELL \
                and not any(b.section == QUICK_START and b.runnable for b in blocks):
            block.kind = "quick-start"
        blocks.append(block)
        if lang in SHELL | {"yaml", "yml"} and kind != "output":
            for n, code_line in enumerate(tok.content.splitlines()):
                mentions += _mentions(name, code_line, start + 2 + n)
    problems = []
    for before, block in zip([None, *blocks], blocks, strict=False):
        if block.kind not in KNOWN_MARKERS | {"", "quick-start"}:
            problems.append(f"{block.where}: unknown marker {block.kind!r}")
        if block.kind == "test-command" and name != "README.md":
            problems.append(f"{block.where}: the test command belongs in the README")
        if block.kind == "example" and block.lang not in SHELL:
            problems.append(f"{block.where}: an example must be a bash block")
        if block.kind == "output":
            if before is not None and before.runnable:
                before.output = block
            else:
                problems.append(f"{block.where}: an output block must come right "
                                "after an example")
    return Page(path, name, text, blocks, mentions, reference, problems)


PAGES = [parse(README), *(parse(p) for p in sorted(DOCS.rglob("*.md")))]
README_DATA = PAGES[0]
BLOCKS = [b for page in PAGES for b in page.blocks]
RUNNABLE = [b for b in BLOCKS if b.runnable]
EXCERPTS = [b for b in BLOCKS if b.kind == "excerpt"]
MENTIONS = [m for page in PAGES for m in page.mentions]
REFERENCE_ENTRIES = [entry for page in PAGES for entry in page.reference]


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
    """The output as the page shows it: the example's folder as `pwd`."""
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


Key = tuple[str, int]  # a block's page and line


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[Key, Result | str | None]:
    """Run every page's examples in order (a README section's, a docs page's, in one
    folder); also read each excerpt's file at its point in the page."""
    if shutil.which("bash") is None:
        pytest.skip("the examples are bash")
    _mermaidgen()
    found: dict[Key, Result | str | None] = {}
    folders: dict[tuple[str, str], list[Block]] = {}
    for block in BLOCKS:
        if block.runnable or block.kind == "excerpt":
            folders.setdefault(block.folder, []).append(block)

    # the folders are made here, before the threads start: tmp_path_factory is not
    # thread-safe, and the samples are copied once, whole
    base = tmp_path_factory.mktemp("examples")
    pristine = base / "samples"
    shutil.copytree(ROOT / "samples", pristine)
    lots = list(folders.values())
    made = [base / f"folder-{n}" for n in range(len(lots))]
    for folder, blocks in zip(made, lots, strict=True):
        folder.mkdir()
        if any("samples/" in b.script for b in blocks if b.runnable):
            shutil.copytree(pristine, folder / "samples")

    def run_folder(folder: Path, blocks: list[Block]) -> None:
        for block in blocks:
            if block.runnable:
                found[block.page, block.line] = _run(block.script, folder)
            else:
                path = folder / block.args.get("path", "")
                found[block.page, block.line] = path.read_text(encoding="utf-8") \
                    if block.args.get("path") and path.is_file() else None

    # the folders are independent, and their examples mostly wait on subprocesses
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for done in [pool.submit(run_folder, folder, blocks)
                     for folder, blocks in zip(made, lots, strict=True)]:
            done.result()
    if UPDATE:
        for page in PAGES:
            _rewrite(page, found)
    return found


def _rewrite(page: Page, found: dict[Key, Result | str | None]) -> None:
    """Write each example's actual output into its output block."""
    lines = page.text.splitlines(keepends=True)
    runnable = [b for b in page.blocks if b.runnable]
    for block in sorted(runnable, key=lambda b: -b.line):
        result = found.get((block.page, block.line))
        if block.output is None or not isinstance(result, Result):
            continue
        shown = _shown(result.output, result.folder, block.output.args.get("pwd"))
        if normal(shown) == normal(block.output.text):
            continue  # the same up to pytest's timings: no churn in the diff
        body = [line.rstrip() + "\n" for line in shown.rstrip("\n").splitlines()]
        first, end = block.output.content
        lines[first:end] = body
    if "".join(lines) != page.text:
        page.path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.label for b in RUNNABLE])
def test_example_runs_as_shown(block: Block, results) -> None:
    result = results[block.page, block.line]
    assert isinstance(result, Result)
    expected = int(block.args.get("exit", "0"))
    assert result.code == expected, (
        f"{block.where}: exit code {result.code}, expected {expected}\n"
        f"$ {block.script}\n{result.output}")
    if block.output is not None and not UPDATE:
        shown = _shown(result.output, result.folder, block.output.args.get("pwd"))
        assert normal(shown) == normal(block.output.text), (
            f"{block.output.where}: the output shown differs from the real one; "
            f"if the change is intended, refresh it with {REFRESH}")


@pytest.mark.parametrize("block", EXCERPTS, ids=[f"{b.page}:{b.line}" for b in EXCERPTS])
def test_excerpt_is_quoted_from_the_generated_file(block: Block, results) -> None:
    source = results[block.page, block.line]
    assert isinstance(source, str), \
        f"{block.where}: no file {block.args.get('path')!r} at this point"
    quoted = [line.rstrip() for line in block.text.rstrip("\n").splitlines()]
    lines = [line.rstrip() for line in source.splitlines()]
    assert any(lines[i:i + len(quoted)] == quoted for i in range(len(lines))), (
        f"{block.where}: this excerpt is not (any longer) in "
        f"{block.args['path']}; quote the file as it is generated now")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_markers_are_known_and_outputs_follow_examples(page: Page) -> None:
    assert not page.problems, "\n".join(page.problems)


def test_the_pages_have_examples_and_excerpts() -> None:
    """The parser still finds the markers (a change of Markdown library could lose them)."""
    assert any(b.runnable for b in README_DATA.blocks)
    assert any(b.runnable for page in PAGES[1:] for b in page.blocks)
    assert EXCERPTS


def test_quick_start_is_two_single_line_commands() -> None:
    commands = [b for b in README_DATA.blocks
                if b.section == QUICK_START and b.lang in SHELL and b.kind != "output"]
    assert len(commands) == 2, [b.text for b in commands]
    for block in commands:
        assert len(block.text.strip().splitlines()) == 1, \
            f"{block.where}: a quick-start command is one line"
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


@pytest.mark.parametrize("mention", MENTIONS,
                         ids=[f"{m.page}:{m.line}-{' '.join(m.words)[:40]}"
                              for m in MENTIONS])
def test_commands_and_options_exist(mention: Mention) -> None:
    path, options = _command(mention.words)
    code, text = help_text(*path)
    where = f"{mention.page}:{mention.line}"
    assert code == 0, f"{where}: `mermaidgen {' '.join(path)}` does not exist:\n{text}"
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), \
            f"{where}: `mermaidgen {' '.join(path)}` has no {option}"


@pytest.mark.parametrize("entry", REFERENCE_ENTRIES,
                         ids=[title for title, _, _ in REFERENCE_ENTRIES])
def test_reference_options_exist(entry) -> None:
    """Under each `## mermaidgen ...` heading of the command-line reference, every option
    shown in code belongs to a command that heading names."""
    title, commands, options = entry
    helps = "\n".join(help_text(*_command(words)[0])[1] for words in commands)
    missing = [o for o in sorted(options)
               if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", helps)]
    assert not missing, f"options under {title!r} that its commands do not have: {missing}"


def test_the_reference_covers_every_command() -> None:
    """Each command of `mermaidgen --help` (and each subcommand of a group) has a heading
    of its own in the command-line reference."""
    assert REFERENCE_ENTRIES, f"{REFERENCE} has no `##` headings"
    named = {" ".join(_command(words)[0]) for _, commands, _ in REFERENCE_ENTRIES
             for words in commands}
    missing = [c for c in _commands() if c not in named]
    assert not missing, f"{REFERENCE} has no heading for: {missing}"


def _commands(*group: str) -> list[str]:
    """The commands `mermaidgen [GROUP] --help` lists, with the subcommands of groups."""
    code, text = help_text(*group)
    assert code == 0, text
    listed = re.search(r"Commands[^\n]*\n(.*?)(?:\n\S|\n *\n|\Z)", text, re.DOTALL)
    found = []
    for row in (listed.group(1).splitlines() if listed else []):
        name = re.match(r"[\s│|]*([a-z][\w-]*)", row)
        if name:
            command = [*group, name.group(1)]
            if not group and "Commands:" in help_text(*command)[1]:
                found += _commands(*command)  # a group: its subcommands are the commands
            else:
                found.append(" ".join(command))
    return found


def _local_links(page: Page) -> list[tuple[int, str]]:
    """Relative link targets in the page's text (not in code), with their lines."""
    found = []
    for tok in MD.parse(page.text):
        if tok.type != "inline":
            continue
        for child in tok.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                if href and not re.match(r"[a-z][\w+.-]*:|#", href):
                    found.append(((tok.map[0] + 1) if tok.map else 0, href))
    return found


def test_readme_links_point_to_files() -> None:
    """The README's links into the site and the repository lead somewhere (the site's own
    links are checked by `mkdocs build --strict`)."""
    broken = [f"README.md:{line}: {href}" for line, href in _local_links(README_DATA)
              if not (ROOT / href.split("#", 1)[0]).exists()]
    assert not broken, "\n".join(broken)


def _build_site(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    try:
        import material  # noqa: F401  (the theme; mkdocs comes with it)
    except ImportError:
        if ci_mode():
            pytest.fail("mkdocs-material is missing: install the test extra "
                        "(pip install -e '.[test]')")
        pytest.skip("mkdocs-material is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--config-file", str(config), "--site-dir", str(site)],
                          capture_output=True, text=True, encoding="utf-8", timeout=300,
                          env={**_env(), "NO_MKDOCS_2_WARNING": "1"})


def test_the_site_builds_strictly(tmp_path) -> None:
    """`mkdocs build --strict` fails on a broken link or anchor, and on a nav entry
    without its page (unless docs/_hooks/nav.py may drop it)."""
    done = _build_site(SITE_CONFIG, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "index.html").is_file()


def test_a_broken_anchor_fails_the_site_build(tmp_path) -> None:
    """The strict build really checks links into other pages, down to their headings."""
    shutil.copy(SITE_CONFIG, tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    with open(tmp_path / "docs" / "index.md", "a", encoding="utf-8") as page:
        page.write("\nSee [the options](cli.md#no-such-heading).\n")
    done = _build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0 and "no-such-heading" in done.stdout + done.stderr, \
        done.stdout + done.stderr


def _nav_hook():
    spec = importlib.util.spec_from_file_location("docs_nav_hook", DOCS / "_hooks" / "nav.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_nav_drops_absent_optional_pages_and_lists_unlisted_ones() -> None:
    nav = _nav_hook()
    arranged = nav.arrange(
        [{"Home": "index.md"}, {"Reference": ["cli.md", {"Paths": "paths.md"}]},
         {"Explanation": [{"Architecture": "architecture.md"}]}, "typo.md"],
        present={"index.md", "cli.md", "new.md"}, optional={"paths.md", "architecture.md"})
    assert arranged == [{"Home": "index.md"}, {"Reference": ["cli.md"]},
                        "typo.md",  # not optional: the strict build reports it
                        {nav.MORE: ["new.md"]}]


def test_the_nav_names_every_page() -> None:
    """A page of docs/ that mkdocs.yml's nav does not name ends up under "More pages":
    give it its place (the optional pages may be absent)."""
    listed = set(re.findall(r"^\s+- (?:[^:\n]+: )?([\w/.-]+\.md)$",
                            SITE_CONFIG.read_text(encoding="utf-8"), re.MULTILINE))
    unlisted = sorted(_nav_hook().pages(DOCS) - listed)
    assert not unlisted, f"pages missing from the nav of mkdocs.yml: {unlisted}"


def test_every_lint_code_is_documented_and_shown() -> None:
    """docs/lint-codes.md has a `### code` section for each lint rule, names no code the
    code does not have, and the site shows each code in the real output of an example."""
    from mermaidgen.analysis.lint import RULES

    page = (DOCS / "lint-codes.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z-]+)`$", page, re.MULTILINE))
    assert not set(RULES) - documented, f"undocumented: {sorted(set(RULES) - documented)}"
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (ROOT / "mermaidgen").rglob("*.py"))
    unknown = sorted(c for c in documented if f'"{c}"' not in source)
    assert not unknown, f"documented, but no such code in mermaidgen/: {unknown}"
    shown = "\n".join(b.text for b in BLOCKS if b.kind == "output")
    unshown = sorted(c for c in documented if f"[{c}]" not in shown)
    assert not unshown, f"no example on the site prints these codes: {unshown}"


# `mermaidgen/...` files and `mermaidgen.x.y` modules the pages name (not `mermaidgen.toml`;
# a name followed by more dots or letters, as in a mutant's name, is no module name)
PACKAGE_PATH = re.compile(r"(?<![\w/.-])mermaidgen/[\w/.-]*[\w/]")
# span attributes `mermaidgen verify` reads (`mermaidgen.line`, ...) and the Temporal
# target writes (`mermaidgen.message`) are names, not modules
from mermaidgen.codegen.temporal import SPAN_ATTRIBUTES  # noqa: E402
from mermaidgen.verify.spans import READ_ATTRIBUTES  # noqa: E402

MODULE_NAME = re.compile(r"(?<![\w/.-])mermaidgen(?:\.[a-z_]+)+(?![\w.])")


def _resolves(dotted: str) -> bool:
    """`dotted` is a module of mermaidgen, or an attribute of one (`mermaidgen.parse`)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name, None)
        return found is not None
    return False


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_files_and_modules_named_exist(page: Page) -> None:
    """Modules move between folders; a page that names the old place fails here."""
    stale = [f"{page.name}: {path}" for path in sorted(set(PACKAGE_PATH.findall(page.text)))
             if not (ROOT / path).exists()]
    stale += [f"{page.name}: {name}" for name in sorted(set(MODULE_NAME.findall(page.text)))
              if name != "mermaidgen.toml" and name not in READ_ATTRIBUTES
              and name not in SPAN_ATTRIBUTES
              and not _resolves(name)]
    assert not stale, "no such file or module:\n" + "\n".join(stale)
