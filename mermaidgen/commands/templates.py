"""`mermaidgen templates list|export`: the built-in template sets as a product surface."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

from mermaidgen.errors import UsageError


def list_sets(target: str | None) -> None:
    from mermaidgen.codegen.context import CONTEXT_VERSION
    from mermaidgen.generate import TARGETS
    from mermaidgen.resources import templates_dir

    base = templates_dir()
    print(f"template context version {CONTEXT_VERSION} (see docs/template-context.md)")
    for name, styles in TARGETS.items():
        if target and name != target:
            continue
        for style in styles:
            spec = base / name / style / "files.toml"
            files = tomllib.loads(spec.read_text(encoding="utf-8")).get("file", [])
            print(f"\n{name}/{style}  ({base / name / style})")
            for f in files:
                what = f.get("template") or f"copy of {f.get('copy')}"
                each = f"  (one per {f['each']})" if "each" in f else ""
                print(f"  {f['owner']:<9} {f['path']:<44} {what}{each}")


def export(folder: str, target: str, style: str, force: bool) -> None:
    from mermaidgen.generate import TARGETS
    from mermaidgen.resources import templates_dir

    if target not in TARGETS or style not in TARGETS[target]:
        known = ", ".join(f"{t}/{s}" for t, ss in TARGETS.items() for s in ss)
        raise UsageError(f"no built-in template set {target}/{style} (known: {known})")
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    base = templates_dir() / target
    sources = [base / "common", base / style]  # the style's files win over common ones
    copies: dict[str, Path] = {}  # relative path (subfolders too, e.g. transport/) -> file
    for source in sources:
        if source.is_dir():
            for f in sorted(source.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    copies[f.relative_to(source).as_posix()] = f
    clash = [n for n in copies if (out / n).exists()]
    if clash and not force:
        raise UsageError(f"{out} already has {', '.join(clash)}; nothing was copied "
                         "(use --force to overwrite them)")
    for name, f in copies.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, out / name)
    print(f"copied {len(copies)} templates of {target}/{style} into {out}", file=sys.stderr)
    print(f"edit them, then: mermaidgen generate SOURCE --target {target} --style {style} "
          f"--templates {out} --out DIR", file=sys.stderr)
