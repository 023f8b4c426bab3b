"""`mermaidgen generate`: a diagram in, a runnable skeleton out."""

from __future__ import annotations

import sys
from pathlib import Path

from mermaidgen.errors import MermaidgenError
from mermaidgen.mermaid.sources import load_with_text, print_findings, single


class StructureError(MermaidgenError):
    """The diagram changed in a way the user's code cannot follow (exit 1, with a plan)."""


def run(source: str | None, *, style: str, target: str, out: str | None,
        package: str | None, orchestrator: str | None, templates: str | None, dry_run: bool,
        diff: bool, force: bool, options: dict | None = None,
        allow_outside: bool = False, apply_renames: bool = False) -> int:
    if source is None:
        return _configured(dry_run=dry_run, diff=diff, force=force,
                           allow_outside=allow_outside, apply_renames=apply_renames)
    return _one(source, style=style, target=target, out=out, package=package,
                orchestrator=orchestrator, templates=templates, dry_run=dry_run, diff=diff,
                force=force, options=options, apply_renames=apply_renames)


def _configured(*, dry_run: bool, diff: bool, force: bool, allow_outside: bool,
                apply_renames: bool) -> int:
    """Every generation of the nearest configuration file."""
    from mermaidgen.commands import config
    from mermaidgen.errors import UsageError

    found = config.find()
    if found is None:
        raise UsageError("give a SOURCE to generate from, or configure generations in "
                         "pyproject.toml [tool.mermaidgen] or mermaidgen.toml")
    settings = config.load(found, allow_outside=allow_outside)
    if not settings.generations:
        raise UsageError(f"{found}: no generations configured ([[generate]] tables)")
    worst = 0  # a dry run that would stop says so in its exit code
    for g in settings.generations:
        print(f"{g.spec} -> {g.out}", file=sys.stderr)
        worst |= _one(g.spec, style=g.style, target=g.target, out=str(g.out),
                      package=g.package, orchestrator=g.orchestrator,
                      templates=str(g.templates) if g.templates else None,
                      dry_run=dry_run, diff=diff, force=force,
                      options={"broker": g.broker} if g.broker else None,
                      source_name=g.shown, apply_renames=apply_renames)
    return worst


def _one(source: str, *, style: str, target: str, out: str | None, package: str | None,
         orchestrator: str | None, templates: str | None, dry_run: bool, diff: bool,
         force: bool, options: dict | None = None, source_name: str | None = None,
         apply_renames: bool = False) -> int:
    from mermaidgen.codegen.generate import build
    from mermaidgen.codegen.temporal_versions import with_evolution
    from mermaidgen.codegen.write import output, renames
    from mermaidgen.codegen.write.render import set_version, stale_set_warning
    from mermaidgen.codegen.write.user_code import (
        other_diagram,
        setting_changes,
        settings_of_yours,
        stale_hooks,
        structure_plan,
    )
    from mermaidgen.errors import UsageError

    if out is None:
        raise UsageError("--out DIR is required: the folder to write the skeleton into")
    if not out.strip():  # Path("") is ".": an empty value would mean the current folder
        raise UsageError(f"--out {out!r}: empty; give the folder to write the skeleton "
                         "into (`--out .` for the current folder)")
    if options and options.get("broker") and target != "faststream":
        raise UsageError("--broker applies to --target faststream only")
    text, diagram = single(source, load_with_text(source))
    folder = Path(out)
    if not (dry_run or diff) and output.recover(folder):
        print(f"{folder}: undid an interrupted earlier run", file=sys.stderr)
    previous = output.read_manifest(folder) if folder.is_dir() else None
    # a set for a newer template context is refused before anything renders with it
    templates_version = set_version(Path(templates)) if templates and \
        Path(templates).is_dir() else None
    generation = build(diagram, text, style=style, target=target, package=package,
                       orchestrator=orchestrator,
                       templates=Path(templates) if templates else None,
                       options=with_evolution(target, folder, options),
                       source_name=source_name or _shown(diagram.source, folder),
                       pins=output.pins(folder))
    why = generation.style.reason if style != "auto" else f"auto: {generation.style.reason}"
    print(f"style: {generation.style.style} ({why})", file=sys.stderr)
    stale = templates and stale_set_warning(Path(templates), templates_version,
                                            generation.target, generation.style.style)
    if stale:
        print(stale, file=sys.stderr)
    _notes(generation, orchestrator)
    # user files still set up for an older target, broker or package: named on every run
    # until updated (the manifest remembers what they were set up for)
    unfollowed = setting_changes(generation, folder, previous)
    meta = generation.meta() | ({"settings_of_yours": settings_of_yours(previous)}
                                if unfollowed else {})
    # code of the user's that this generation's renames would leave uncalled: moved along
    # with --apply-renames, else a plan (a folder of another diagram is said first: renames
    # would be the wrong question); a --package change moves the user's files the same way
    migration = renames.Migration() if other_diagram(generation, folder, previous) else \
        renames.find(generation, folder, previous)
    follow = apply_renames and not migration.unclear
    stranded = migration.plan(folder) if migration and not follow else None
    plan = output.plan(list(generation.files), folder, meta, force,
                       migration.writes if follow else None,
                       migration.read if follow else None)
    broken = structure_plan(generation, folder, previous,
                            migration.writes if follow else None, stranded)
    if diff:
        sys.stdout.write(output.diff(plan))
        return 0
    if dry_run:
        for a in plan.actions:
            print(f"{a.kind:<9} {a.path}")
        stops = plan.rebuilt and bool(output.conflicts(plan)) and not force
        if plan.rebuilt:
            print(output.rebuild_plan(plan), file=sys.stderr)
        if broken:
            print(broken, file=sys.stderr)
        return 1 if broken or stops else 0
    if broken:
        raise StructureError(broken)
    output.write(plan)
    changed = sum(plan.count(kind) for kind in output.CHANGES)
    replaced = f"{plan.count('conflict')} replaced, " if plan.count("conflict") else ""
    if plan.rebuilt:
        print(f"{folder}: no manifest; rebuilt it from the files' headers (generated files "
              "regenerated, their old copies under .mermaidgen/replaced/; yours kept)",
              file=sys.stderr)
        replaced += f"{plan.count('reclaim')} regenerated, "
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
    for line in unfollowed:
        print(f"  {line}", file=sys.stderr)
    for line in stale_hooks(generation, folder):
        print(f"  {line}", file=sys.stderr)
    if changed:
        print(f"run it: cd {folder} && python -m {generation.package}", file=sys.stderr)
    return 0


def _notes(generation, orchestrator: str | None) -> None:
    """What the user asked for or drew that the generated project will not do."""
    from mermaidgen.codegen.generate import TARGETS

    # the lint findings `check` shows (an empty diagram, a name numbered for a collision...)
    print_findings(generation.analysis.diagram, generation.analysis.diagnostics)
    if orchestrator is not None and generation.style.style != "orchestration":
        how = ("use --style orchestration for a workflow it drives"
               if "orchestration" in TARGETS[generation.target]
               else f"the {generation.target} target generates no orchestration")
        print(f"note: --orchestrator {orchestrator}: ignored, a choreography has no "
              f"orchestrator ({how})", file=sys.stderr)


def _shown(source: str | None, out: Path) -> str | None:
    """How the generated files name a source given on the command line."""
    from mermaidgen.commands import config

    return config.shown_source(source, out) if source else source
