"""Diagram to skeleton: analyse, pick the style, build the template context, render.

`build()` returns the files in memory; writing them is `mermaidgen.output`'s job, so the
same result serves `generate`, `--dry-run`, `--diff` and `check`'s drift detection.
"""

from __future__ import annotations

import ast
import importlib
import keyword
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mermaidgen.analysis import Analysis, StyleChoice, analyse
from mermaidgen.codegen.nested import BLOCK_COST, MAX_BLOCKS
from mermaidgen.errors import DiagramError, MermaidgenError, Problem, UsageError
from mermaidgen.model import Block, Diagram
from mermaidgen.naming import PACKAGE_MAX, Pins, snake
from mermaidgen.render import RenderedFile, render

# target -> style -> "module:function" that builds the template context; each target's
# templates live in templates/<target>/<style>/. Options a target takes (such as the
# FastStream broker) reach the builder as keyword arguments.
TARGETS: dict[str, dict[str, str]] = {
    "python": {"choreography": "mermaidgen.codegen.context:choreography",
               "orchestration": "mermaidgen.codegen.context:orchestration"},
    "faststream": {"choreography": "mermaidgen.codegen.faststream:context"},
    "temporal": {"orchestration": "mermaidgen.codegen.temporal:context"},
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
        return {"names": dict(sorted(self.names.items())),
                **({"orchestrator": self.analysis.orchestration.orchestrator}
                   if workflow else {})}


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


def build(diagram: Diagram, source_text: str, *, style: str = "auto", target: str = "python",
          package: str | None = None, orchestrator: str | None = None,
          templates: Path | None = None, options: dict | None = None,
          source_name: str | None = None, pins: Pins | None = None) -> Generation:
    """`source_name`: how the generated files name the diagram's source (see
    `config.shown_source`); by default the path the diagram was read from. `pins`: the
    names an earlier generation bound, kept (see `output.pins`)."""
    from mermaidgen.codegen.literals import comment
    from mermaidgen.contract import vendored_sources

    if target not in TARGETS:
        raise UsageError(f"--target {target}: unknown target (known: {', '.join(TARGETS)})")
    styles = TARGETS[target]
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
    ctx = _context_builder(target, chosen.style)(analysis, name, source_text, target,
                                                 **(options or {}))
    # the header and the manifest name the source the same way from every checkout
    shown = diagram.source if source_name is None else source_name
    ctx["source_path"] = shown
    ctx["source_comment"] = comment(shown or "<text>")
    files = render(ctx, target, chosen.style, templates, vendored_sources(),
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
    return 2 if block.kind == "critical" else 1  # option bodies sit under try/except + if


def nesting_problem(diagram: Diagram) -> Problem | None:
    """The first block nested deeper than the generated Python can be indented, or None.

    Every target writes a block's contents one level deeper (a `critical` with options:
    two), and moves a loop or try that would nest more than `MAX_BLOCKS` blocks deep into a
    closure, one level more (codegen/nested.py). The count here follows the same rules,
    never lower than the code's, so that `generate` and `check` refuse the same diagrams.
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
                    "`critical` with options two; up to 89 nested loops): move "
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
    for f in files:
        if not f.path.endswith(".py"):
            continue
        deepest = max((len(line) - len(line.lstrip(" "))
                       for line in f.content.splitlines()), default=0) // 4
        if deepest >= PYTHON_MAX_INDENT:
            raise MermaidgenError(
                f"the diagram's blocks nest too deeply for Python: {f.path} would need "
                f"{deepest} levels of indentation, and Python allows {PYTHON_MAX_INDENT - 1}; "
                "each block adds one or two, so keep blocks nested less than about 45 deep")


def stale_hooks(generation: Generation, out: Path) -> list[str]:
    """Methods in the user's classes that customise hooks the diagram no longer has."""
    found = []
    for service in generation.context.get("services", []):
        allowed = {h["name"] for h in service.get("hooks", [])}
        allowed |= {h["name"] for h in service.get("handlers", [])}
        allowed |= {op["name"] for op in service.get("operations", [])}
        path = out / generation.package / "services" / f"{service['module']}.py"
        found += _unknown_methods(path, service["class_name"], allowed, out)
    workflow = generation.context.get("orchestrator")
    if workflow:
        allowed = {h["name"] for h in workflow["hooks"]} | {"run"}
        found += _unknown_methods(out / generation.package / "workflow.py",
                                  workflow["class_name"], allowed, out)
    return found


def _unknown_methods(path: Path, class_name: str, allowed: set[str], out: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                        not item.name.startswith("_") and item.name not in allowed:
                    found.append(f"{path.relative_to(out)}:{item.lineno}: {class_name}."
                                 f"{item.name} customises a hook the diagram no longer has")
    return found


def broken_hooks(generation: Generation, out: Path) -> list[str]:
    """User modules the new code could not use: a hook file that exists (so it is kept)
    but does not define the class the generated app loads from it, or builds on a name
    the new generated wiring no longer has (`wiring.OldWorkflowBase`). Each is a place
    where running the project would fail, so generating must stop instead."""
    from mermaidgen.swap import OutputError, no_links

    package = generation.package
    wiring = next((f for f in generation.files
                   if f.path == f"{package}/_generated/wiring.py"), None)
    if wiring is None:  # a template set without the usual wiring: nothing to compare with
        return []
    try:
        defined = _top_level_names(ast.parse(wiring.content))
    except SyntaxError:
        return []
    user_paths = {f.path for f in generation.files if f.owner == "user"}
    expected = [(f"{package}/services/{s['module']}.py", s["class_name"])
                for s in generation.context.get("services", [])]
    workflow = generation.context.get("orchestrator")
    if workflow:
        expected.append((f"{package}/workflow.py", workflow["class_name"]))
    found = []
    for rel, class_name in expected:
        if rel not in user_paths:
            continue
        try:
            tree = ast.parse(no_links(out, rel).read_bytes())
        except (OSError, SyntaxError, ValueError, OutputError):
            continue  # absent (created anew), unreadable or a link: not this check's case
        if class_name not in _top_level_names(tree):
            found.append(f"{rel}: defines no class {class_name}, the class the generated "
                         "code loads from it")
        for line, name in _wiring_uses(tree):
            if name not in defined:
                found.append(f"{rel}:{line}: uses wiring.{name}, which the generated code "
                             "no longer has")
    return found


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a module defines, counting those under a module-level `if` or `try`."""
    names: set[str] = set()
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            statements += node.body + getattr(node, "orelse", []) \
                + getattr(node, "finalbody", []) \
                + [s for h in getattr(node, "handlers", []) for s in h.body]
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _wiring_uses(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, name) of each `wiring.name` and `from ..._generated.wiring import name`."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "wiring":
            uses.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith(
                "_generated.wiring"):
            uses += [(node.lineno, a.name) for a in node.names if a.name != "*"]
    return uses


def structure_plan(generation: Generation, out: Path, previous: dict | None) -> str | None:
    """Why generating would leave the user's code unreachable or broken, and what to do;
    None when it would not. `previous`: the folder's manifest before this run."""
    refused = _package_moved(generation, out, previous) or \
        _other_diagram(generation, out, previous)
    if refused:
        return refused
    broken = broken_hooks(generation, out)
    if not broken:
        return None
    lines = [f"{out}: generating would break your code, so nothing was written:"]
    old = (previous or {}).get("orchestrator")
    new = generation.analysis.orchestration.orchestrator \
        if generation.style.style == "orchestration" else None
    if old and new and old != new:
        old_module = (previous or {}).get("names", {}).get(new)
        lines.append(f"  the orchestrator changed from `{old}` to `{new}` (the diagram now "
                     "centres on another participant, or --orchestrator changed); your "
                     f"workflow code drives `{old}`'s workflow")
        if old_module:
            lines.append(f"  {new}'s own code, in {generation.package}/services/"
                         f"{old_module}.py, would no longer be used")
    lines += [f"  {line}" for line in broken]
    if old and new and old != new:
        lines.append(f"To keep `{old}` as the orchestrator, run again with --orchestrator "
                     f"{_quoted(old)}. To move to `{new}`: ")
    else:
        lines.append("To go ahead: ")
    lines[-1] += ("update the files above to the new class names (see them with "
                  "`mermaidgen generate --diff`), or move them away so that mermaidgen "
                  "creates them anew, then run again.")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _package_moved(generation: Generation, out: Path, previous: dict | None) -> str | None:
    """A `--package` other than the one the folder holds would leave the user's code in the
    old package, unused: refused while any of it is still there, with the moves to make."""
    old = (previous or {}).get("package")
    new = generation.package
    if not old or old == new:
        return None
    from mermaidgen.swap import OutputError, no_links

    yours = []
    for rel, info in sorted((previous or {}).get("files", {}).items()):
        if info.get("owner") != "user" or not rel.startswith(f"{old}/"):
            continue
        try:
            if no_links(out, rel).exists():
                yours.append(rel)
        except OutputError:
            yours.append(rel)  # a link where a user file was: theirs to sort out
    if not yours:
        return None
    moves = ", ".join(f"{rel} -> {new}/{rel[len(old) + 1:]}" for rel in yours[:8]) \
        + (", ..." if len(yours) > 8 else "")
    return "\n".join([
        f"{out}: this folder holds the package `{old}` (recorded in its manifest), and "
        f"--package asks for `{new}`; your code in {old}/ would no longer run, so nothing "
        "was written.",
        f"To keep the package: run again without --package, or with --package {old}.",
        f"To move to `{new}`: move your files ({moves}), change any `{old}.` imports in "
        f"them to `{new}.`, delete the folder {old}/, then run again with --package {new}."])


MATCHING_PARTICIPANTS = 0.5
"""A diagram whose source is named differently from the folder's is still the same story
(a renamed or moved file) when at least this share of the participants the folder was
generated for are in it."""


def _other_diagram(generation: Generation, out: Path, previous: dict | None) -> str | None:
    """A folder generated from one diagram is not mixed with another's code. Another
    diagram: its source is named differently (or either source is unnamed, as standard
    input is) and fewer than half of the folder's participants are in it. Manifests
    without participant names (before version 2) cannot tell, and are not refused."""
    recorded = (previous or {}).get("names")
    if not recorded:
        return None
    old_source = previous.get("source") if previous else None
    new_source = generation.meta()["source"]
    if old_source == new_source and old_source not in (None, "", "-"):
        return None
    present = {p.id for p in generation.analysis.diagram.participants}
    kept = sum(1 for pid in recorded if pid in present)
    if kept >= MATCHING_PARTICIPANTS * len(recorded):
        return None
    shown = f"`{old_source}`" if old_source not in (None, "", "-") else "standard input"
    listed = sorted(recorded)
    who = ", ".join(listed[:6]) + (", ..." if len(listed) > 6 else "")
    return "\n".join([
        f"{out}: generated from another diagram ({shown}, package "
        f"`{previous.get('package') if previous else ''}`, with {who})"
        f"; only {kept} of its {len(recorded)} participants are in "
        f"{new_source or 'this diagram'}, so nothing was written.",
        "To generate this diagram, give it its own folder: --out ANOTHER_FOLDER. If it is "
        "the same diagram, renamed and rewritten, remove the folder's manifest "
        "(.mermaidgen/manifest.json): the next run regenerates the generated files and "
        "keeps yours."])


SETTINGS = ("target", "broker", "package")
"""The settings the user-owned files (pyproject.toml, README.md) are created for."""


def settings_of_yours(previous: dict | None) -> dict[str, str]:
    """The settings the user's files were set up for: those of the last run, unless the
    manifest remembers older ones the files still mention (`settings_of_yours`, kept until
    the user updates them, so the reminder is repeated on every run until then)."""
    kept = (previous or {}).get("settings_of_yours")
    source = kept if isinstance(kept, dict) else (previous or {})
    return {k: source[k] for k in SETTINGS if isinstance(source.get(k), str)}


def setting_changes(generation: Generation, out: Path, previous: dict | None) -> list[str]:
    """User-owned files (never rewritten) that still mention a target, broker or package
    the folder no longer uses: each with the lines to look at and what the new settings
    would write there. Generating goes ahead; the user updates their files."""
    from mermaidgen.swap import OutputError, no_links

    now = {"target": generation.target, "package": generation.package,
           **generation.broker_setting()}
    before = settings_of_yours(previous)
    changed = [(what, before[what], new) for what, new in now.items()
               if what in before and before[what] != new]
    if not changed:
        return []
    found = []
    for f in generation.files:
        if f.owner != "user":
            continue
        try:
            current = no_links(out, f.path).read_text(encoding="utf-8")
        except (OSError, ValueError, OutputError):
            continue
        fresh = {line.strip() for line in f.content.splitlines()}
        mine = {line.strip() for line in current.splitlines()}
        for what, old, new in changed:
            stale = [(n, line.strip()) for n, line in enumerate(current.splitlines(), 1)
                     if _mentions(line, old) and line.strip() not in fresh]
            wanted = [line.strip() for line in f.content.splitlines()
                      if _mentions(line, new) and line.strip() not in mine
                      and not line.lstrip().startswith("#")]
            if not stale and not wanted:
                continue
            found.append(f"{f.path}: yours (never rewritten), still set up for {what} "
                         f"`{old}`; the code now uses `{new}`:")
            found += [f"  {f.path}:{n}: {line}" for n, line in stale[:6]]
            found += [f"  as `{new}` writes it: {line}" for line in wanted[:4]]
    return found


def _mentions(text: str, word: str) -> bool:
    """`word` in `text` as a word of its own, in any case (`NATS` and `faststream[nats]`
    mention `nats`; `natsort` does not)."""
    import re

    return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text,
                     re.IGNORECASE) is not None
