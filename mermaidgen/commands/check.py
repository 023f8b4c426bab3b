"""`mermaidgen check`: for CI and pre-commit. Lints every diagram under the given paths,
verifies that configured generations are up to date, and can validate a custom template
folder. Exit 0 clean, 1 findings (errors; warnings too with --strict) or drift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mermaidgen.commands.check_run import Drift, Finding, Report, discover, run


def _repository_root() -> Path:
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, timeout=30)
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return Path(".")


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def execute(paths: list[str], fmt: str, strict: bool, templates: str | None,
            target: str, style: str = "auto", *, allow_outside: bool = False) -> int:
    from mermaidgen.commands import config

    if templates is not None:
        return _check_templates(Path(templates), target, style)
    found = config.find()
    settings = config.load(found, allow_outside=allow_outside) if found else None
    roots = [Path(p) for p in paths] or list(settings.check_paths if settings and
                                              settings.check_paths else [_repository_root()])
    files = [_relative(f) for f in discover(roots, settings.exclude if settings else (),
                                            found.parent if found else None)]
    generations = settings.generations if settings else ()
    strict = strict or bool(settings and settings.strict)
    report = run(files, generations, _progress(len(files)), found)
    _print(report, fmt)
    return 1 if report.failed(strict) else 0


def _progress(total: int):
    """A progress bar on stderr for long runs in a terminal; nothing otherwise."""
    if total < 50 or not sys.stderr.isatty() or os.environ.get("NO_COLOR") \
            or os.environ.get("TERM") == "dumb":
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task("checking diagrams", total=total)
    bar.start()

    def advance(done: int) -> None:
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return advance


def _print(report: Report, fmt: str) -> None:
    findings = sorted(report.findings, key=lambda f: (f.file, f.line, f.column))
    if fmt == "json":
        json.dump({
            "ok": not report.failed(False), "files": report.files,
            "diagrams": report.diagrams,
            "findings": [{"file": f.file, "line": f.line, "column": f.column,
                          "severity": f.severity, "code": f.code, "message": f.message,
                          "hint": f.hint} for f in findings],
            "drift": [d.summary for d in report.drift],
            "drifted_files": [{"file": _relative(f).as_posix(), "line": line}
                              for d in report.drift for f, line in d.files],
        }, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if fmt == "github":
        for f in findings:
            print(_annotation(f))
        for d in report.drift:
            for line in _drift_annotations(d):
                print(line)
        return
    for f in findings:
        print(f.headline(), file=sys.stderr)
        if f.hint:
            print(f"  hint: {f.hint}", file=sys.stderr)
    for d in report.drift:
        print(f"{d.summary}  [drift]", file=sys.stderr)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in
              ("error", "warning", "info")}
    print(f"checked {report.files} file(s), {report.diagrams} diagram(s): "
          f"{counts['error']} error(s), {counts['warning']} warning(s), "
          f"{len(report.drift)} generation(s) out of date", file=sys.stderr)


_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape(text: str, property_value: bool = False) -> str:
    """GitHub workflow-command escaping."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _annotation(f: Finding) -> str:
    props = [f"file={_escape(f.file, True)}"]
    if f.line:
        props += [f"line={f.line}", f"col={f.column}"]
    props.append(f"title={_escape('mermaidgen ' + f.code, True)}")
    message = f.message + (f" (hint: {f.hint})" if f.hint else "")
    return f"::{_LEVELS.get(f.severity, 'warning')} {','.join(props)}::{_escape(message)}"


def _drift_annotations(d: Drift) -> list[str]:
    """One annotation per drifted file, at its first differing line; a generation with no
    file to point at (not generated yet, cannot be regenerated) at its configuration."""
    title = _escape("mermaidgen drift", True)
    if not d.files:
        where = f"file={_escape(_relative(d.config).as_posix(), True)}," if d.config else ""
        return [f"::error {where}title={title}::{_escape(d.summary)}"]
    found = []
    for path, line in d.files:
        shown = _relative(path).as_posix()
        what = "differs from what the diagram generates" if line else "is missing"
        props = f"file={_escape(shown, True)}" + (f",line={line},col=1" if line else "")
        found.append(f"::error {props},title={title}::{_escape(f'{shown} {what}: {d.summary}')}")
    return found


def _check_templates(folder: Path, target: str, style_wanted: str) -> int:
    """Render every sample with a custom template folder and compile what it makes."""
    from mermaidgen.codegen.generate import TARGETS, build
    from mermaidgen.codegen.write.render import (
        TemplateLimitError,
        set_version,
        stale_set_warning,
    )
    from mermaidgen.errors import MermaidgenError
    from mermaidgen.mermaid.parser import parse
    from mermaidgen.resources import sample_paths

    if not folder.is_dir():
        from mermaidgen.errors import UsageError

        raise UsageError(f"--templates {folder}: not a folder")
    version = set_version(folder)
    for style in TARGETS[target]:
        stale = style_wanted in ("auto", style) and \
            stale_set_warning(folder, version, target, style)
        if stale:  # the same for every style but the command it suggests: said once
            print(stale, file=sys.stderr)
            break
    failures = 0
    checked = 0
    for sample in sample_paths():
        text = sample.read_text(encoding="utf-8")
        diagram = parse(text, source=sample.name)
        for style in TARGETS[target]:
            if style_wanted not in ("auto", style):
                continue
            checked += 1
            try:
                generation = build(diagram, text, style=style, target=target,
                                   templates=folder)
            except TemplateLimitError:
                raise  # a runaway template: every other sample would run away too
            except MermaidgenError as err:
                failures += 1
                print(f"{sample.name} ({style}): {err}", file=sys.stderr)
                continue
            for f in generation.files:
                if f.path.endswith(".py"):
                    try:
                        compile(f.content, f.path, "exec")
                    except SyntaxError as err:
                        failures += 1
                        print(f"{sample.name} ({style}): {f.path}:{err.lineno}: the "
                              f"rendered code does not compile: {err.msg}", file=sys.stderr)
    print(f"{folder}: rendered {checked} sample generation(s), {failures} problem(s)",
          file=sys.stderr)
    return 1 if failures else 0
