"""The `mermaidgen` command line: parse options, call the library, report.

Every command imports what it needs inside its body, so `mermaidgen --help` and
`mermaidgen --version` only pay for typer. Errors reach one place (`main`) that prints
them to stderr and picks the exit code: 0 success, 1 invalid diagram / lint errors /
drift, 2 usage errors.
"""

from __future__ import annotations

import os
import sys
import threading
from enum import StrEnum
from typing import Annotated

import typer

from mermaidgen import __version__

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
        "--format", "-f", help="text: the diagram's outline and its analysis; json: the "
        "model (product.md section 4) with the analysis under `analysis`.")
    ] = PreviewFormat.text,
    orchestrator: OrchestratorOpt = None,
) -> None:
    """Show what a diagram says and how mermaidgen reads it."""
    from mermaidgen.commands import preview as command

    command.run(source, format.value, orchestrator)


@app.command()
def check(
    paths: Annotated[list[str], typer.Argument(
        help="Diagram sources (.mmd, Markdown, text) to lint.", show_default=False)],
) -> int:
    """Lint diagrams: `file:line:col: severity[code]: message` for every finding.

    Exits 1 when any diagram is invalid or has lint errors, 0 otherwise."""
    from mermaidgen.commands import check as command

    return command.run(paths)


def _run(argv: list[str]) -> int:
    from mermaidgen.errors import MermaidgenError
    from mermaidgen.report import print_error

    try:
        code = app(args=argv, prog_name="mermaidgen", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except typer.TyperException as exc:  # the CLI framework's usage errors
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"mermaidgen: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except MermaidgenError as exc:
        print_error(exc)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so plainly instead of dumping a traceback
        if os.environ.get("MERMAIDGEN_DEBUG"):
            raise
        print(f"mermaidgen: internal error: {type(exc).__name__}: {exc}\n"
              "  this is a bug in mermaidgen; run again with MERMAIDGEN_DEBUG=1 for the "
              "traceback and please report it", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point. Runs the command on a thread with a large stack, so that diagrams
    with thousands of nested blocks can be printed and generated without hitting
    Python's recursion limit."""
    args = sys.argv[1:] if argv is None else argv
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
    sys.exit(result[0] if result else 1)
