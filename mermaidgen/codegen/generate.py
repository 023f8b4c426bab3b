"""Diagram to skeleton: analyse, pick the style, build the template context, render.

`build()` returns the files in memory; writing them is `mermaidgen.codegen.write.output`'s
job, so the same result serves `generate`, `--dry-run`, `--diff` and `check`'s drift detection.
"""

from __future__ import annotations

import importlib
import keyword
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mermaidgen.analysis import Analysis, StyleChoice
from mermaidgen.analysis.naming import PACKAGE_MAX, Pins, snake
from mermaidgen.analysis.paths import Capabilities
from mermaidgen.codegen import schema
from mermaidgen.codegen.nested import BLOCK_COST, MAX_BLOCKS
from mermaidgen.codegen.write.render import RenderedFile, render
from mermaidgen.errors import DiagramError, MermaidgenError, Problem, UsageError
from mermaidgen.model import Block, Diagram, messages
from mermaidgen.projection import analyse, orchestration_of

# target -> style -> "module:function" that builds the template context; each target's
# templates live in templates/<target>/<style>/. Options a target takes (such as the
# FastStream broker) reach the builder as keyword arguments.
TARGETS: dict[str, dict[str, str]] = {
    "python": {"choreography": "mermaidgen.codegen.context:choreography",
               "orchestration": "mermaidgen.codegen.context:orchestration"},
    "faststream": {"choreography": "mermaidgen.codegen.faststream:context"},
    "temporal": {"orchestration": "mermaidgen.codegen.temporal:context"},
}


# What each target's runtime lets a path decide besides the diagram's choices, passed to
# its context builder (and from there to the path table and the code it generates).
CAPABILITIES: dict[str, Capabilities] = {
    # the in-process dispatcher and bus start a par's sections in the order a hook gives
    "python": Capabilities(reorders_par=True),
    "faststream": Capabilities(why_par_in_order=(
        "the broker hands its sections' messages to their consumers concurrently: the "
        "order they run in is the broker's, not one a path can set")),
    "temporal": Capabilities(why_par_in_order=(
        "the workers run its sections' activities concurrently, in an order the server "
        "and the workers pick, not one a path can set")),
}


def _context_builder(target: str, style: str):
    module, _, function = TARGETS[target][style].partition(":")
    return getattr(importlib.import_module(module), function)


@dataclass(frozen=True, slots=True)
class Generation:
    analysis: Analysis
    style: StyleChoice
    target: str
    package: str
    files: tuple[RenderedFile, ...]
    context: dict
    """The template context the files were rendered from."""
    names: dict[str, str] = field(default_factory=dict)
    """participant id -> module name, pinned in the manifest so that later runs keep it."""

    def meta(self) -> dict:
        """What the manifest records about this generation."""
        return {"generator": self.context["generator"], "style": self.style.style,
                "target": self.target, "package": self.package,
                "source": self.context.get("source_path", self.analysis.diagram.source),
                "source_sha256": self.context["source_sha256"],
                "context_version": self.context["context_version"], **self.broker_setting(),
                **self._structure()}

    def broker_setting(self) -> dict:
        """The transport, recorded so that a later change can name the files it affects."""
        broker = self.context.get("broker")
        return {"broker": broker["name"]} if isinstance(broker, dict) else {}

    def _structure(self) -> dict:
        """What user code binds to: module names, and the orchestrator its workflow is."""
        workflow = self.style.style == "orchestration"
        # each user class with its hooks, and the diagram's names: the next run tells a
        # rename from a removal by comparing with them (codegen/write/renames.py)
        return {**self.bindings(), "names": dict(sorted(self.names.items())),
                **({"orchestrator": orchestration_of(self.analysis).orchestrator}
                   if workflow else {})}


    def bindings(self) -> dict:
        """What the manifest keeps so that the next run can tell renames from removals: per
        user class its file, participant, class, base and hooks (name, kind, diagram line),
        and the diagram's participants (id, label) and messages (sender, receiver, text)."""
        package = self.package
        module_of = {module: pid for pid, module in self.names.items()}
        classes: dict[str, dict] = {}
        for s in self.context.get("services", []):
            hooks = [[h["name"], h["kind"], h.get("line", 0)] for h in s.get("hooks", [])]
            hooks += [[h["name"], "handler", h.get("line", 0)] for h in s.get("handlers", [])]
            hooks += [[op["name"], "operation", op.get("line", 0)]
                      for op in s.get("operations", [])]
            classes[f"{package}/services/{s['module']}.py"] = {
                "participant": module_of.get(s["module"], ""), "class": s["class_name"],
                "base": s["base_name"], "hooks": hooks}
        workflow = self.context.get("orchestrator")
        if workflow and self.style.style == "orchestration":
            classes[f"{package}/workflow.py"] = {
                "participant": orchestration_of(self.analysis).orchestrator,
                "class": workflow["class_name"], "base": workflow["base_name"],
                "hooks": [[h["name"], h["kind"], h.get("line", 0)] for h in workflow["hooks"]]
                + [["run", "run", 0]]}
        diagram = self.analysis.diagram
        return {"bindings": dict(sorted(classes.items())), "model": {
            "participants": [[p.id, p.label] for p in diagram.participants],
            "messages": [[m.sender, m.receiver, m.text] for m in messages(diagram)]}}


# modules a generated project imports besides the standard library, and its test folder
_TAKEN_MODULES = frozenset({"tests", "mermaidgen", "pydantic", "faststream", "temporalio",
                            "pytest", "nats", "redis", "aiokafka", "aio_pika"})


def package_name(diagram: Diagram, requested: str | None) -> str:
    if requested is not None:
        if len(requested) > PACKAGE_MAX:  # else the folder's name is too long to create
            raise UsageError(f"--package {requested[:24]}...: a name of {len(requested)} "
                             f"characters is too long for the package's folder; use at most "
                             f"{PACKAGE_MAX}")
        if not (requested.isidentifier() and requested.isascii()
                and requested == requested.lower()):
            raise UsageError(f"--package {requested!r}: use a lower-case Python identifier "
                             "such as `order_service`")
        # soft keywords (`match`, `case`, `type`) are fine: `import match` works
        if keyword.iskeyword(requested):
            raise UsageError(f"--package {requested!r}: `{requested}` is a Python keyword, "
                             f"so `import {requested}` cannot be written; choose another "
                             f"name, such as `{requested}_flow`")
        if requested in sys.stdlib_module_names or requested in _TAKEN_MODULES:
            raise UsageError(f"--package {requested}: a module of that name already exists "
                             "and would be shadowed; choose another name")
        return requested
    stem = diagram.title or (Path(diagram.source).stem if diagram.source and
                             diagram.source != "-" else "") or "flow"
    name = snake(stem, "flow")
    while len(name) > 30 and "_" in name:  # a long title makes a tiresome package name
        name = name.rsplit("_", 1)[0]
    name = name[:30].rstrip("_") or "flow"
    # `import def` cannot be written, and `queue` or `test` would shadow the standard library
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in _TAKEN_MODULES:
        name += "_flow"
    return name


OTLP_WRITER = "otlp_file.py"
"""The OTLP JSON span writer (mermaidgen/verify/otlp_file.py) the engine targets' tracing
copies: the writing side of what `mermaidgen verify` reads, kept next to its reader."""


def copied_sources() -> dict[str, str]:
    """What a `copy` entry of a target's files.toml may name, and its text: the vendored
    checker (`contract.vendored_sources`) and the OTLP JSON span writer."""
    from importlib import resources

    from mermaidgen.contract import vendored_sources

    # found from the top package: importing mermaidgen.verify (all of the trace checker)
    # only to find a file cost every generating process a few milliseconds
    writer = resources.files("mermaidgen").joinpath("verify").joinpath(OTLP_WRITER)
    return {**vendored_sources(), OTLP_WRITER: writer.read_text(encoding="utf-8")}


def build(diagram: Diagram, source_text: str, *, style: str = "auto", target: str = "python",
          package: str | None = None, orchestrator: str | None = None,
          templates: Path | None = None, options: dict | None = None,
          source_name: str | None = None, pins: Pins | None = None) -> Generation:
    """`source_name`: how the generated files name the diagram's source (see
    `config.shown_source`); by default the path the diagram was read from. `pins`: the
    names an earlier generation bound, kept (see `output.pins`)."""
    from mermaidgen.codegen.literals import comment

    if target not in TARGETS:
        raise UsageError(f"--target {target}: unknown target (known: {', '.join(TARGETS)})")
    styles = TARGETS[target]
    # the public analysis, so that `generate(...).analysis.choreography` works as it did
    analysis = analyse(diagram, orchestrator, pins)
    if style == "auto":
        chosen = analysis.style
        if chosen.style not in styles:  # a target made for one style
            only = next(iter(styles))
            chosen = StyleChoice(only, f"the {target} target generates {only} "
                                 f"(the diagram reads as {chosen.style}: {chosen.reason})")
    elif style in styles:
        chosen = StyleChoice(style, "chosen with --style")
    else:
        raise UsageError(f"--style {style}: the {target} target offers "
                         f"{', '.join(styles)} (or auto)")
    if templates is not None and not templates.is_dir():
        raise UsageError(f"--templates {templates}: not a folder")
    # a folder keeps the package it was generated with (a new title must not move code)
    name = pins.package if package is None and pins and pins.package \
        else package_name(diagram, package)
    _check_nesting(diagram)
    refinements = schema.read(pins.schema if pins else None, f"{name}/schema.py")
    ctx = _context_builder(target, chosen.style)(analysis, name, source_text, target,
                                                 refinements=refinements,
                                                 capabilities=CAPABILITIES[target],
                                                 **(options or {}))
    # the header and the manifest name the source the same way from every checkout
    shown = diagram.source if source_name is None else source_name
    ctx["source_path"] = shown
    ctx["source_comment"] = comment(shown or "<text>")
    files = render(ctx, target, chosen.style, templates, copied_sources(),
                   len(source_text))
    _check_indentation(files)
    names = {**(pins.carried(set(analysis.module_names)) if pins else {}),
             **analysis.module_names}
    return Generation(analysis, chosen, target, name, tuple(files), ctx, names)


PYTHON_MAX_INDENT = 100
"""CPython refuses a file indented more than 100 levels deep (MAXINDENT)."""

_TEMPLATE_INDENT = 3
"""Levels around the ops of a body: a class, a method, and an `if` that picks the case."""


def _indent_cost(block: Block) -> int:
    """Indentation a block adds to the code inside it (at most; see codegen/ops.py)."""
    if block.kind == "rect" or (block.kind == "critical" and len(block.sections) == 1):
        return 0  # plain code: a comment, and the body at the same depth
    # option bodies sit under try/except + if; a choreography's loop whose iteration ends
    # in another handler than it starts in: that handler asks for the next iteration in
    # an `if` and goes on after the loop in its `else`, where the enclosing loop's `if` is
    return 2 if block.kind in ("critical", "loop") else 1


def nesting_problem(diagram: Diagram) -> Problem | None:
    """The first block nested deeper than the generated Python can be indented, or None.

    Every target writes a block's contents one level deeper (a `critical` with options
    and a loop: two), and moves a loop or try that would nest more than `MAX_BLOCKS`
    blocks deep into a closure, one level more (codegen/nested.py). The count here follows
    the same rules, never lower than the code's, so that `generate` and `check` refuse the
    same diagrams.
    """
    # (statements, indentation inside, cost of the loops and trys around them); a
    # closure is made when a block would pass MAX_BLOCKS, so each holds blocks of a cost
    # of at least MAX_BLOCKS - 1, and there are at most `cost // (MAX_BLOCKS - 1)`
    stack = [(iter(diagram.statements), 0, 0)]
    while stack:
        items, indent, blocks = stack[-1]
        for node in items:
            if not isinstance(node, Block):
                continue
            cost = _block_cost(node)
            inner_closures = (blocks + cost) // (MAX_BLOCKS - 1)
            inner = indent + _indent_cost(node)
            # the deepest line of the body: one level below its statements (a `break`)
            if _TEMPLATE_INDENT + inner + inner_closures + 1 >= PYTHON_MAX_INDENT:
                return Problem(
                    f"`{node.kind}` nested too deep: its code would be indented more than "
                    f"the {PYTHON_MAX_INDENT - 1} levels Python allows", node.span.line,
                    node.span.column,
                    hint="nest fewer blocks inside one another (each adds a level of code, a "
                    "`critical` with options and a loop two; up to 46 nested loops): move "
                    "inner steps into a diagram of their own",
                    file=diagram.source, code="too-deep")
            stack.append((iter([s for sec in node.sections for s in sec.statements]),
                          inner, blocks + cost))
            break
        else:
            stack.pop()
    return None


def _block_cost(block: Block) -> int:
    """What a block adds to CPython's count of nested blocks (codegen/nested.py)."""
    if block.kind == "loop":
        return BLOCK_COST["loop"]
    if block.kind == "critical" and len(block.sections) > 1:
        return BLOCK_COST["try"]
    return 0


def _check_nesting(diagram: Diagram) -> None:
    """Refuse early, with its place, a diagram no generated code could hold."""
    problem = nesting_problem(diagram)
    if problem is not None:
        raise DiagramError([problem])


def _check_indentation(files: list[RenderedFile]) -> None:
    """Refuse, with a reason, a diagram whose blocks nest deeper than Python can write."""
    too_deep = " " * (4 * PYTHON_MAX_INDENT)
    for f in files:
        # no line is indented that deep without that many spaces in a row somewhere: one
        # search instead of measuring every line (a tenth of a deep diagram's generation)
        if not f.path.endswith(".py") or too_deep not in f.content:
            continue
        deepest = max((len(line) - len(line.lstrip(" "))
                       for line in f.content.splitlines()), default=0) // 4
        if deepest >= PYTHON_MAX_INDENT:
            raise MermaidgenError(
                f"the diagram's blocks nest too deeply for Python: {f.path} would need "
                f"{deepest} levels of indentation, and Python allows {PYTHON_MAX_INDENT - 1}; "
                "each block adds one or two, so keep blocks nested less than about 45 deep")
