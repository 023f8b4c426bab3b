"""What a regeneration means for the code the user owns.

The user's hook modules (`services/*.py`, `workflow.py`) bind to names the generated code
defines: classes, hooks, a package, an orchestrator. Before anything is written, these
checks say what the new generation would leave unreachable or broken (exit 1 and a plan),
or what the user must still update (printed, exit 0). They read user files, never write.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mermaidgen.codegen.generate import Generation
from mermaidgen.projection import orchestration_of


def stale_hooks(generation: Generation, out: Path) -> list[str]:
    """Methods in the user's classes that customise hooks the diagram no longer has."""
    found = []
    # methods every participant inherits from the runtime, whatever the diagram draws
    lifecycle = set(generation.context.get("lifecycle_hooks", ()))
    for service in generation.context.get("services", []):
        allowed = lifecycle | {h["name"] for h in service.get("hooks", [])}
        allowed |= {h["name"] for h in service.get("handlers", [])}
        allowed |= {op["name"] for op in service.get("operations", [])}
        path = f"{generation.package}/services/{service['module']}.py"
        found += _unknown_methods(path, service["class_name"], allowed, out)
    workflow = generation.context.get("orchestrator")
    if workflow:
        allowed = lifecycle | {h["name"] for h in workflow["hooks"]} | {"run"}
        found += _unknown_methods(f"{generation.package}/workflow.py",
                                  workflow["class_name"], allowed, out)
    return found


def _unknown_methods(rel: str, class_name: str, allowed: set[str], out: Path) -> list[str]:
    from mermaidgen.codegen.write.swap import OutputError, no_links

    try:  # a link in a cloned repository is never read (the plan refuses it anyway)
        tree = ast.parse(no_links(out, rel).read_bytes())
    except (OSError, SyntaxError, ValueError, OutputError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                        not item.name.startswith("_") and item.name not in allowed:
                    found.append(f"{rel}:{item.lineno}: {class_name}."
                                 f"{item.name} customises a hook the diagram no longer has")
    return found


def broken_hooks(generation: Generation, out: Path,
                 overlay: dict[str, bytes | None] | None = None) -> list[str]:
    """User modules the new code could not use: a hook file that exists (so it is kept)
    but does not define the class the generated app loads from it, or builds on a name
    the new generated wiring no longer has (`wiring.OldWorkflowBase`). Each is a place
    where running the project would fail, so generating must stop instead. `overlay`:
    user files as a rename would rewrite them (rel -> content), read instead of the disk."""
    from mermaidgen.codegen.write.swap import OutputError, no_links

    overlay = overlay or {}

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
            written = overlay.get(rel)
            tree = ast.parse(written if written is not None else
                             no_links(out, rel).read_bytes())
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


def other_diagram(generation: Generation, out: Path, previous: dict | None) -> str | None:
    """Why this generation does not belong in this folder at all (another diagram's), with
    what to do; None when it does."""
    return _other_diagram(generation, out, previous)


def structure_plan(generation: Generation, out: Path, previous: dict | None,
                   overlay: dict[str, bytes | None] | None = None,
                   renames: str | None = None) -> str | None:
    """Why generating would leave the user's code unreachable or broken, and what to do;
    None when it would not. `previous`: the folder's manifest before this run; `overlay`:
    user files as renames would rewrite them (None: taken away); `renames`: the plan of
    renames not applied, said after a refusal of the folder and before broken hooks."""
    refusal = _other_diagram(generation, out, previous) or renames or \
        _package_moved(generation, out, previous, overlay or {})
    if refusal:
        return refusal
    broken = broken_hooks(generation, out, overlay)
    if not broken:
        return None
    lines = [f"{out}: generating would break your code, so nothing was written:"]
    old = (previous or {}).get("orchestrator")
    new = orchestration_of(generation.analysis).orchestrator \
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


def _package_moved(generation: Generation, out: Path, previous: dict | None,
                   overlay: dict[str, bytes | None]) -> str | None:
    """A `--package` other than the one the folder holds would leave the user's code in the
    old package, unused: refused while any of it is still there (and not taken away by
    `overlay`, the applied plan of `renames`), with the moves to make."""
    old = (previous or {}).get("package")
    new = generation.package
    if not old or old == new:
        return None
    from mermaidgen.codegen.write.swap import OutputError, no_links

    yours = []
    for rel, info in sorted((previous or {}).get("files", {}).items()):
        if info.get("owner") != "user" or not rel.startswith(f"{old}/") or \
                (rel in overlay and overlay[rel] is None):
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
    from mermaidgen.codegen.write.swap import OutputError, no_links

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
