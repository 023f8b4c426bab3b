"""`mermaidgen generate`: a diagram in, a runnable skeleton out."""

from __future__ import annotations

import sys
from pathlib import Path

from mermaidgen.sources import load_with_text, print_findings, single


def run(source: str | None, *, style: str, target: str, out: str | None,
        package: str | None, orchestrator: str | None, templates: str | None, dry_run: bool,
        diff: bool, force: bool, options: dict | None = None) -> int:
    if source is None:
        return _configured(dry_run=dry_run, diff=diff, force=force)
    return _one(source, style=style, target=target, out=out, package=package,
                orchestrator=orchestrator, templates=templates, dry_run=dry_run, diff=diff,
                force=force, options=options)


def _configured(*, dry_run: bool, diff: bool, force: bool) -> int:
    """Every generation of the nearest configuration file."""
    from mermaidgen import config
    from mermaidgen.errors import UsageError

    found = config.find()
    if found is None:
        raise UsageError("give a SOURCE to generate from, or configure generations in "
                         "pyproject.toml [tool.mermaidgen] or mermaidgen.toml")
    settings = config.load(found)
    if not settings.generations:
        raise UsageError(f"{found}: no generations configured ([[generate]] tables)")
    for g in settings.generations:
        print(f"{g.spec} -> {g.out}", file=sys.stderr)
        _one(g.spec, style=g.style, target=g.target, out=str(g.out), package=g.package,
             orchestrator=g.orchestrator, templates=str(g.templates) if g.templates else None,
             dry_run=dry_run, diff=diff, force=force,
             options={"broker": g.broker} if g.broker else None)
    return 0


def _one(source: str, *, style: str, target: str, out: str | None, package: str | None,
         orchestrator: str | None, templates: str | None, dry_run: bool, diff: bool,
         force: bool, options: dict | None = None) -> int:
    from mermaidgen import output
    from mermaidgen.errors import UsageError
    from mermaidgen.generate import build, stale_hooks

    if out is None:
        raise UsageError("--out DIR is required: the folder to write the skeleton into")
    if options and options.get("broker") and target != "faststream":
        raise UsageError("--broker applies to --target faststream only")
    text, diagram = single(source, load_with_text(source))
    generation = build(diagram, text, style=style, target=target, package=package,
                       orchestrator=orchestrator,
                       templates=Path(templates) if templates else None, options=options)
    print_findings(diagram, generation.analysis.diagnostics)
    why = generation.style.reason if style != "auto" else f"auto: {generation.style.reason}"
    print(f"style: {generation.style.style} ({why})", file=sys.stderr)
    folder = Path(out)
    if not (dry_run or diff) and output.recover(folder):
        print(f"{folder}: undid an interrupted earlier run", file=sys.stderr)
    plan = output.plan(list(generation.files), folder, generation.meta(), force)
    if diff:
        sys.stdout.write(output.diff(plan))
        return 0
    if dry_run:
        for a in plan.actions:
            print(f"{a.kind:<9} {a.path}")
        return 0
    output.write(plan)
    changed = plan.count("create") + plan.count("update") + plan.count("conflict")
    replaced = f"{plan.count('conflict')} replaced, " if plan.count("conflict") else ""
    print(f"{folder}: {plan.count('create')} created, {plan.count('update')} updated, "
          f"{replaced}{plan.count('unchanged')} unchanged, {plan.count('keep')} of yours kept",
          file=sys.stderr)
    for a in plan.actions:
        if a.kind == "conflict":
            print(f"  replaced your edits in {a.path} (kept in .mermaidgen/replaced/)",
                  file=sys.stderr)
        elif a.kind == "stale":
            print(f"  {a.path}: no longer generated from the diagram; delete it if you no "
                  "longer need it", file=sys.stderr)
    for line in stale_hooks(generation, folder):
        print(f"  {line}", file=sys.stderr)
    if changed:
        print(f"run it: cd {folder} && python -m {generation.package}", file=sys.stderr)
    return 0
