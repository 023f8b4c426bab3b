"""`check` as a library: find diagrams, lint them, and verify configured generations.

Files are found under the given paths (default: the repository), honouring .gitignore
through git itself when the folder is a git repository; `.mmd`/`.mermaid` files and
Markdown files are read, other files are not. A Markdown file without sequence diagrams,
or an `.mmd` file holding another kind of diagram, is not a finding.

Drift: every configured generation is regenerated in memory and compared with what is on
disk; generated files that are missing or differ are drift, and so are files added to a
`_generated/` folder; user-owned files are not. Each drifted file is reported with the
first line that differs, for CI annotations.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from mermaidgen.errors import DiagramError, MermaidgenError

SUFFIXES = (".mmd", ".mermaid", ".md", ".markdown", ".mdx")
GENERATED_FOLDER = "_generated"
"""The folder of a generated package that mermaidgen rewrites wholly on every run."""
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
              ".mypy_cache", ".ruff_cache", ".pytest_cache", "dist", "build", ".mermaidgen"}


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    column: int
    severity: str
    code: str
    message: str
    hint: str | None = None

    def headline(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.severity}[{self.code}]: {self.message}"


@dataclass(frozen=True, slots=True)
class Drift:
    """A configured generation that is out of date."""

    summary: str
    """One line: which folder, what differs, and how to fix it."""
    files: tuple[tuple[Path, int], ...] = ()
    """Each generated file that differs or is missing, with its first differing line
    (0: missing, or no line to point at)."""
    config: Path | None = None
    """The configuration file that asks for the generation."""


@dataclass(slots=True)
class Report:
    files: int = 0
    diagrams: int = 0
    findings: list[Finding] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    """One line per configured generation that is out of date, with what differs."""

    def failed(self, strict: bool) -> bool:
        bad = ("error", "warning") if strict else ("error",)
        return bool(self.drift) or any(f.severity in bad for f in self.findings)


def discover(paths: Iterable[Path], exclude: Iterable[str] = (),
             base: Path | None = None) -> list[Path]:
    """Diagram-bearing files under `paths` (files given explicitly are always kept).
    `exclude` patterns match paths relative to `base` (the configuration's folder)."""
    patterns = tuple(exclude)
    anchor = (base or Path.cwd()).resolve()
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_file():
            found[path] = None
            continue
        if not path.is_dir():
            if path.exists():  # a device, a named pipe, a socket: nothing to lint
                raise MermaidgenError(f"{path}: not a regular file or a folder")
            raise MermaidgenError(f"{path}: no such file or folder")
        inside = path.resolve()
        for f in _git_files(path) or _walk(path):
            # a link in the folder to a file elsewhere is not the folder's to show
            if inside not in f.resolve().parents:
                continue
            try:
                rel = f.resolve().relative_to(anchor).as_posix()
            except ValueError:
                rel = f.as_posix()
            if f.suffix.lower() in SUFFIXES and not any(fnmatch.fnmatch(rel, p)
                                                        for p in patterns):
                found[f] = None
    return sorted(found)


def _git_files(folder: Path) -> list[Path] | None:
    """Files git would show (tracked and untracked, minus .gitignore'd), or None."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=folder, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    names = [n for n in done.stdout.decode("utf-8", "replace").split("\0") if n]
    return [folder / n for n in names if (folder / n).is_file()]


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if (Path(root) / name).is_file():  # not a named pipe that blocks the reader
                yield Path(root) / name


def lint_file(path: Path, report: Report) -> None:
    """Parse and lint every sequence diagram of one file into the report."""
    from mermaidgen.analysis import analyse
    from mermaidgen.codegen.generate import nesting_problem
    from mermaidgen.mermaid.extract import NoDiagramError, load
    from mermaidgen.mermaid.parser import parse

    shown = path.as_posix()
    report.files += 1
    try:
        snippets = load(shown)
    except NoDiagramError as err:
        if err.line is not None:  # a sequence diagram spelt wrong, not another kind
            report.findings.append(Finding(shown, err.line, err.column or 1, "error",
                                           "syntax", err.message))
        return
    except MermaidgenError as err:
        report.findings.append(Finding(shown, getattr(err, "line", None) or 0,
                                       getattr(err, "column", None) or 0, "error", "source",
                                       getattr(err, "message", str(err))))
        return
    for snippet in snippets:
        report.diagrams += 1
        try:
            diagram = parse(snippet.text, snippet.source, line_offset=snippet.line_offset,
                            column_offset=snippet.column_offset)
        except DiagramError as err:
            for p in err.problems:
                report.findings.append(Finding(shown, p.line, p.column, p.severity, p.code,
                                               p.message, p.hint))
            continue
        for d in analyse(diagram).diagnostics:
            report.findings.append(Finding(shown, d.span.line, d.span.column, d.severity,
                                           d.code, d.message, d.hint))
        too_deep = nesting_problem(diagram)  # what `generate` would refuse
        if too_deep is not None:
            report.findings.append(Finding(shown, too_deep.line, too_deep.column, "error",
                                           too_deep.code, too_deep.message, too_deep.hint))


def drift(generation) -> Drift | None:
    """What differs between a configured generation and its folder, or None."""
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.temporal_versions import with_evolution
    from mermaidgen.codegen.write import output, renames
    from mermaidgen.codegen.write.user_code import broken_hooks
    from mermaidgen.mermaid.sources import load_with_text, single

    text, diagram = single(generation.spec, load_with_text(generation.spec, warn=False))
    options = {"broker": generation.broker} if generation.broker else None
    out = generation.out
    result = build(diagram, text, style=generation.style, target=generation.target,
                   package=generation.package, orchestrator=generation.orchestrator,
                   templates=generation.templates,
                   options=with_evolution(generation.target, out, options),
                   source_name=generation.shown or None,
                   pins=output.pins(out) if out.is_dir() else None)
    if not out.is_dir():
        return Drift(f"{out}: not generated yet; run `mermaidgen generate`")
    plan = output.plan(list(result.files), out, result.meta(), force=True)
    missing = [a.path for a in plan.actions if a.kind == "create" and a.owner == "generated"]
    changed = [a.path for a in plan.actions if a.kind in ("update", "conflict", "reclaim")]
    previous = output.read_manifest(out)
    lost = previous is None  # nothing proves these files are current
    # code of the user's that regenerating would leave uncalled (generate stops on it)
    pending = renames.find(result, out, previous)
    broken = broken_hooks(result, out)
    unexpected = _not_generated(out, [f.path for f in result.files])
    if not missing and not changed and not lost and not broken and not unexpected \
            and not pending:
        return None
    parts = [f"no manifest ({output.MANIFEST})"] if lost else []
    if pending:
        parts.append("code of yours binds to names the diagram changed: "
                     + "; ".join(pending.steps()))
    parts += broken
    if changed:
        parts.append(f"{len(changed)} generated file(s) no longer match the diagram ("
                     + ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "") + ")")
    if missing:
        parts.append(f"{len(missing)} missing (" + ", ".join(missing[:5])
                     + (", ..." if len(missing) > 5 else "") + ")")
    if unexpected:
        parts.append(f"{len(unexpected)} not generated, in a folder mermaidgen rewrites ("
                     + ", ".join(unexpected[:5]) + (", ..." if len(unexpected) > 5 else "")
                     + "): move them out or delete them")
    files = [(out / p, _first_difference(out / p, plan.files[p].content)) for p in changed]
    files += [(out / p, 0) for p in missing]
    files += [(out / p, 0) for p in unexpected]
    fix = f"; regenerate from {generation.spec}" if missing or changed or lost else ""
    if pending:  # the flag follows the renames; steps left to the user stop it
        fix = f"; do the steps marked `you decide`, then regenerate from {generation.spec}" \
            if pending.unclear else f"; regenerate from {generation.spec} with " \
            f"`mermaidgen generate {renames.FLAG}`"
    return Drift(f"{out}: " + "; ".join(parts) + fix, tuple(files))


def _not_generated(out: Path, generated: list[str]) -> list[str]:
    """Files in the `_generated/` folders of `out` that the generation does not write.
    Those folders are mermaidgen's alone (rewritten on every run), so a file added there is
    code no diagram describes, where no one looks for it. Bytecode caches are not files."""
    planned = set(generated)
    folders = sorted({PurePosixPath(p).parent for p in generated
                      if PurePosixPath(p).parent.name == GENERATED_FOLDER})
    found = []
    for folder in folders:
        for root, dirs, names in os.walk(out / folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                rel = Path(root, name).relative_to(out).as_posix()
                if rel not in planned:
                    found.append(rel)
    return found


def _first_difference(path: Path, wanted: str) -> int:
    """The first line (1-based) where the file on disk differs from `wanted`."""
    try:
        have = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    want = wanted.splitlines()
    for number, (a, b) in enumerate(zip(have, want, strict=False), start=1):
        if a != b:
            return number
    # one is the other plus lines at the end: point at the first extra (or the last) line
    return max(1, min(len(have), len(want) + 1))


def run(files: list[Path], generations=(), progress: Callable[[int], None] | None = None,
        config: Path | None = None) -> Report:
    report = Report()
    for i, path in enumerate(files):
        lint_file(path, report)
        if progress is not None:
            progress(i + 1)
    for generation in generations:
        try:
            found = drift(generation)
        except MermaidgenError as err:
            found = Drift(f"{generation.out}: cannot regenerate from {generation.spec}: {err}")
        if found:
            report.drift.append(replace(found, config=config))
    return report
