"""The `mermaidgen` command line: parse options, call the library, report.

Every command imports what it needs inside its body, so `mermaidgen --help` and
`mermaidgen --version` only pay for typer. Errors reach one place (`main`) that prints
them to stderr and picks the exit code: 0 success, 1 invalid diagram / lint errors /
drift, 2 usage errors.

No `from __future__ import annotations` here: typer reads every command's annotations
in every run, and evaluating them from strings cost about 4 ms per process.
"""

import os
import sys
import threading
from enum import StrEnum
from typing import Annotated

import typer

from mermaidgen import __version__
from mermaidgen.collection import teardown_skipped

app = typer.Typer(
    name="mermaidgen",
    help="Mermaid sequence diagrams in, running service skeletons out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class PreviewFormat(StrEnum):
    text = "text"
    json = "json"
    mermaid = "mermaid"


def _show_version(value: bool) -> None:
    if value:
        print(f"mermaidgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_show_version,
                                          is_eager=True, help="Show the version.")] = False,
) -> None:
    """Mermaid sequence diagrams in, running service skeletons out."""


SourceArg = Annotated[str, typer.Argument(
    help="A .mmd file, a Markdown file (FILE.md#N or FILE.md#Title picks one diagram), "
         "any text file holding a diagram, or - for stdin.", show_default=False)]


OrchestratorOpt = Annotated[str | None, typer.Option(
    "--orchestrator", help="The participant that orchestrates (default: one named like an "
    "orchestrator, else the hub of the request/reply pairs, else a new `Orchestrator`).")]


@app.command()
def preview(
    source: SourceArg,
    format: Annotated[PreviewFormat, typer.Option(
        "--format", "-f", help="text: the diagram drawn in the terminal and its analysis; "
        "json: the model (the documented JSON contract) with the analysis under "
        "`analysis`; mermaid: the diagram re-emitted in canonical form (repairs "
        "flattened diagrams).")] = PreviewFormat.text,
    orchestrator: OrchestratorOpt = None,
    width: Annotated[int | None, typer.Option(
        help="Draw for this many columns (default: the terminal's).", min=20)] = None,
    ascii: Annotated[bool, typer.Option(
        "--ascii", help="Plain ASCII characters, no colour.")] = False,
    diagram_only: Annotated[bool, typer.Option(
        "--diagram-only", help="Only the drawing, not the analysis (with --format json: "
        "the model without `analysis`).")] = False,
    compact: Annotated[bool, typer.Option(
        "--compact", help="--format json: on one line, without spaces.")] = False,
    projections: Annotated[bool, typer.Option(
        "--projections", help="--format json: also both projections under `analysis` "
        "(`choreography`, `orchestration`: every service's handlers and the workflow); "
        "they make the document about twice as large and slow.")] = False,
) -> None:
    """Show a diagram: drawn in the terminal, then how mermaidgen reads it."""
    from mermaidgen.commands import preview as command

    command.run(source, format.value, orchestrator, width, ascii, not diagram_only,
                compact=compact, projections=projections)


class Style(StrEnum):
    auto = "auto"
    choreography = "choreography"
    orchestration = "orchestration"


OptionalSource = Annotated[str | None, typer.Argument(
    help="A .mmd file, a Markdown file (FILE.md#N or FILE.md#Title picks one diagram), any "
         "text file holding a diagram, or - for stdin. Without it, every generation "
         "configured in pyproject.toml [tool.mermaidgen] or mermaidgen.toml runs.",
    show_default=False)]


# A configuration comes with the repository: only the person running mermaidgen can let
# it name paths outside the repository, never the configuration itself.
AllowOutsideOpt = Annotated[bool, typer.Option(
    "--allow-outside", help="Let the configuration's source, out, templates and check "
    "paths point outside its folder (for a configuration you trust).")]


@app.command()
def generate(
    source: OptionalSource = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="The folder to write the "
                                            "skeleton into.")] = None,
    style: Annotated[Style, typer.Option(help="choreography: services react to events; "
                                         "orchestration: a workflow calls the services; "
                                         "auto: decide from the diagram (and say why).")
                     ] = Style.auto,
    target: Annotated[str, typer.Option(help="What the code runs on: python (standard "
                                        "library only), faststream (choreography on a "
                                        "message broker), temporal (orchestration as a "
                                        "Temporal workflow).")] = "python",
    broker: Annotated[str | None, typer.Option(help="faststream only: nats, redis, kafka "
                                               "or rabbit.")] = None,
    orchestrator: OrchestratorOpt = None,
    package: Annotated[str | None, typer.Option(help="The Python package name (default: "
                                                "from the title or file name).")] = None,
    templates: Annotated[str | None, typer.Option(help="A folder whose templates override "
                                                  "the built-in ones by name.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be written; "
                                          "write nothing.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the changes against the "
                                       "folder; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder mermaidgen "
                                        "did not create, and replace generated files "
                                        "edited by hand (keeping a copy).")] = False,
    apply_renames: Annotated[bool, typer.Option(
        "--apply-renames", help="When the diagram renamed or removed what your code "
        "customises, apply the plan generate prints: move your modules and hooks to the "
        "new names, set aside code of removed participants and hooks (originals kept "
        "under .mermaidgen/replaced/).")] = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Generate a runnable skeleton from a diagram. Your code is never overwritten."""
    from mermaidgen.commands import generate as command

    return command.run(source, style=style.value, target=target, out=out, package=package,
                       orchestrator=orchestrator, templates=templates, dry_run=dry_run,
                       diff=diff, force=force, options={"broker": broker} if broker else {},
                       allow_outside=allow_outside, apply_renames=apply_renames)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or folders to check (default: the configured paths, else the whole "
             "repository).", show_default=False)] = None,
    format: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text (file:line:col: severity[code]: message on stderr), "
        "json, or github (GitHub Actions annotations).")] = CheckFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    templates: Annotated[str | None, typer.Option(
        help="Instead: validate this custom template folder by rendering every sample "
             "with it and compiling the result.")] = None,
    target: Annotated[str, typer.Option(help="With --templates: the target they are "
                                        "for.")] = "python",
    style: Annotated[Style, typer.Option(help="With --templates: the style they are for "
                                         "(auto: every style of the target).")
                     ] = Style.auto,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Lint diagrams and verify configured generations are up to date (CI, pre-commit).

    Exits 0 when clean, 1 on errors (and warnings with --strict) or drift, 2 on usage
    errors."""
    from mermaidgen.commands import check as command

    return command.execute(paths or [], format.value, strict, templates, target, style.value,
                           allow_outside=allow_outside)


class VerifyFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def verify(
    source: SourceArg,
    traces: Annotated[list[str] | None, typer.Option(
        "--traces", "-t", help="A trace export: OTLP JSON (the OpenTelemetry file exporter: "
        "one document per line, or one document), Jaeger JSON or Zipkin v2 JSON. Repeat it, "
        "or name more files after it.", show_default=False)] = None,
    more: Annotated[list[str] | None, typer.Argument(
        help="More trace files.", show_default=False)] = None,
    format: Annotated[VerifyFormat, typer.Option(
        "--format", "-f", help="text: failures, a summary and the coverage table; json: "
        "the same as one JSON document.")] = VerifyFormat.text,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Print which participant each service is and which diagram "
        "message each span is, and why.")] = False,
    min_coverage: Annotated[float | None, typer.Option(
        "--min-coverage", help="Fail unless this percentage of the diagram's alternatives "
        "(sections, loop counts) was seen.", min=0, max=100)] = None,
    sorted_input: Annotated[bool, typer.Option(
        "--sorted", help="Each file holds each trace's spans together: check a trace as "
        "soon as the next begins (memory bounded by the largest trace).")] = False,
    service: Annotated[list[str] | None, typer.Option(
        "--service", help="SERVICE=PARTICIPANT: the participant a service.name is (beside "
        "[tool.mermaidgen.verify.services]). Repeatable.", show_default=False)] = None,
    draw: Annotated[bool, typer.Option(
        "--draw", help="Also draw the diagram with what the conforming traces did: how "
        "often each message was sent, how many traces took each section, [never] for "
        "what none did.")] = False,
    width: Annotated[int | None, typer.Option(
        "--width", help="The drawing's width in columns (default: the terminal's).",
        min=20, show_default=False)] = None,
) -> int:
    """Check OpenTelemetry traces of a running system against the diagram.

    Exits 0 when every trace conforms (and --min-coverage is met), 1 when one does not,
    the coverage falls short or a trace file is unreadable, 2 on usage errors."""
    from mermaidgen.commands import verify as command

    return command.run(source, [*(traces or []), *(more or [])], fmt=format.value,
                       sorted_input=sorted_input, explain=explain,
                       min_coverage=min_coverage, services=service, draw=draw,
                       width=width)


templates_app = typer.Typer(
    help="The built-in template sets: list them, or copy one as a starting point for "
         "--templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("list")
def templates_list(
    target: Annotated[str | None, typer.Option(help="Only this target.")] = None,
) -> None:
    """Show the built-in template sets and the files each one makes."""
    from mermaidgen.commands import templates as command

    command.list_sets(target)


@templates_app.command("export")
def templates_export(
    folder: Annotated[str, typer.Argument(help="Where to copy the templates.",
                                          show_default=False)],
    target: Annotated[str, typer.Option(help="The target of the set.")] = "python",
    style: Annotated[Style, typer.Option(help="The style of the set.")
                     ] = Style.choreography,
    force: Annotated[bool, typer.Option("--force", help="Overwrite templates already in "
                                        "the folder.")] = False,
) -> None:
    """Copy a built-in template set into FOLDER, to customise and use with --templates."""
    from mermaidgen.commands import templates as command

    command.export(folder, target, style.value, force)


def _framework_error(exc: BaseException) -> bool:
    """A usage error of the CLI framework (click, or the click that typer vendors)."""
    module = type(exc).__module__
    return module.startswith(("click", "typer")) and callable(getattr(exc, "show", None))


def _run(argv: list[str]) -> int:
    from mermaidgen.errors import MermaidgenError
    from mermaidgen.report import print_error

    try:
        code = app(args=argv, prog_name="mermaidgen", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return getattr(exc, "exit_code", 0)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except MermaidgenError as exc:
        print_error(exc)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except SystemExit as exc:  # shell completion exits from inside the framework
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if _framework_error(exc):
            exc.show()  # type: ignore[attr-defined]
            code = getattr(exc, "exit_code", 2)
            return code if isinstance(code, int) and code else 2
        if os.environ.get("MERMAIDGEN_DEBUG"):
            raise
        # a bug: say so plainly instead of dumping a traceback
        print(f"mermaidgen: internal error: {type(exc).__name__}: {exc}\n"
              "  this is a bug in mermaidgen; run again with MERMAIDGEN_DEBUG=1 for the "
              "traceback and please report it", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> None:
    """Entry point. Runs the command on a thread with a large stack, so that diagrams
    with thousands of nested blocks can be printed and generated without hitting
    Python's recursion limit."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:  # answered before the command line is even built
        print(f"mermaidgen {__version__}")
        sys.exit(0)
    result: list[int] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=lambda: result.append(_run(args)), daemon=True)
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.stdout.flush()
    code = result[0] if result else 1
    if argv is None and teardown_skipped():
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
