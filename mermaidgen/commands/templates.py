"""`mermaidgen templates list|export`: the built-in template sets as a product surface."""

from __future__ import annotations

import stat
import sys
import tomllib
from pathlib import Path

from mermaidgen.errors import UsageError


def list_sets(target: str | None) -> None:
    from mermaidgen.codegen.context import CONTEXT_VERSION
    from mermaidgen.codegen.generate import TARGETS
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
    from mermaidgen.codegen.generate import TARGETS
    from mermaidgen.codegen.write.render import MARKER, marker_text
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
    # and the context version the set is written for, so that a later mermaidgen whose
    # context changed can tell its owner what changed (render.set_version reads it)
    writes = {name: f.read_bytes() for name, f in copies.items()}
    writes[MARKER] = marker_text(target, style).encode("utf-8")
    # The target may be a cloned folder with links in it: every name is checked (a link
    # on the way or at the name is refused, --force or not) before anything is written,
    # and written without following links (safefs), a whole file renamed into place.
    from mermaidgen.codegen.write.safefs import Root
    from mermaidgen.codegen.write.swap import PART, OutputError

    try:
        out.mkdir(parents=True, exist_ok=True)
        with Root(out, OutputError) as r:
            found = {n: r.lstat(n) for n in writes}
            for name, info in found.items():
                if info is not None and stat.S_ISLNK(info.st_mode):
                    raise OutputError(f"{out / name} is a symbolic link, and mermaidgen "
                                      "never writes through links; remove it")
                if info is not None and not stat.S_ISREG(info.st_mode):
                    raise UsageError(f"{out / name}: exists and is not a file")
            clash = [n for n, info in found.items() if info is not None]
            if clash and not force:
                raise UsageError(f"{out} already has {', '.join(clash)}; nothing was copied "
                                 "(use --force to overwrite them)")
            for name, data in writes.items():
                r.write(name + PART, data)
                r.replace(name + PART, name)
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(f"copied {len(copies)} templates of {target}/{style} into {out}", file=sys.stderr)
    print(f"edit them, then: mermaidgen generate SOURCE --target {target} --style {style} "
          f"--templates {out} --out DIR", file=sys.stderr)
