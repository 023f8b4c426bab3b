"""Writing a rendered skeleton into its folder, without ever losing a user's work.

The rules:

* nothing is written outside the output folder: paths are checked, and a symbolic link
  inside the folder (mermaidgen's own `.mermaidgen/` included) is never written through;
* a folder that holds files but no mermaidgen manifest is someone else's: refused unless
  `--force`;
* user-owned files are created once and never touched again, `--force` or not; so is a
  file mermaidgen did not write that sits where a generated file would go (refused as a
  conflict; `--force` keeps it and records it as the user's);
* a generated file the user edited (its hash differs from the manifest's) is a conflict:
  refused unless `--force`, which keeps the edited copy under `.mermaidgen/replaced/`;
* files that no longer belong are reported (on every run, until deleted), never deleted;
* the tree changes all at once: new contents are staged inside the folder, then swapped
  in with a journal (`mermaidgen.swap`), and any failure (or a crash, recovered at the
  next run) puts the previous files back;
* one writer at a time: a lock, and a plan made before the lock was taken is checked
  again under it, so two runs on one folder never mix their files.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mermaidgen.errors import UsageError
from mermaidgen.render import OWNERS, RenderedFile
from mermaidgen.swap import (
    JOURNAL,
    MANIFEST,
    STATE_DIR,
    Lock,
    OutputError,
    check_rel,
    commit,
    no_links,
    read_state,
    recover,
    recover_locked,
)

__all__ = ["MANIFEST", "STATE_DIR", "Action", "OutputError", "Plan", "conflicts", "diff",
           "manifest_for", "plan", "read_manifest", "recover", "sha256", "write"]


@dataclass(frozen=True, slots=True)
class Action:
    path: str
    kind: str
    """create, update, unchanged, keep (a user file that exists; with --force also a file
    mermaidgen did not write), conflict (a generated file edited by hand, or a file
    mermaidgen did not write), stale (in the manifest, no longer generated, still there)."""
    owner: str


@dataclass(frozen=True, slots=True)
class Plan:
    out: Path
    actions: tuple[Action, ...]
    files: dict[str, RenderedFile]
    manifest: dict
    force: bool

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_path(out: Path, rel: str) -> Path:
    """`out/rel`, refusing anything that could land outside `out`."""
    return no_links(out, check_rel(rel))


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    try:
        raw = read_state(out, MANIFEST)  # never through a link
        if raw is None:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise OutputError(f"{path}: unreadable manifest ({exc}); remove it to start over") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(_valid_entry(k, v) for k, v in files.items()):
        raise OutputError(f"{path}: not a mermaidgen manifest; remove it to start over")
    return data


def _valid_entry(path: str, info: object) -> bool:
    try:
        check_rel(path)
    except OutputError:
        return False
    return isinstance(info, dict) and info.get("owner") in OWNERS and \
        isinstance(info.get("sha256"), str)


def manifest_for(files: list[RenderedFile], meta: dict,
                 entries: dict[str, dict] | None = None) -> dict:
    """The manifest: `meta`, and per file its owner and the hash of what was written
    (`entries` overrides the default of the rendered content, owned as rendered)."""
    table = {f.path: {"owner": f.owner, "sha256": sha256(f.content.encode("utf-8"))}
             for f in files}
    table.update(entries or {})
    return {"mermaidgen_manifest": 1, **meta, "files": dict(sorted(table.items()))}


def _manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def plan(files: list[RenderedFile], out: Path, meta: dict, force: bool = False) -> Plan:
    """What writing `files` into `out` would do. Reads the folder, writes nothing."""
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: exists and is not a folder")
        return _plan(files, out, meta, force)
    except OSError as exc:
        raise OutputError(f"cannot read {out}: {exc.strerror or exc}") from None


def _plan(files: list[RenderedFile], out: Path, meta: dict, force: bool) -> Plan:
    if (out / STATE_DIR).is_symlink():
        raise OutputError(f"{out / STATE_DIR} is a symbolic link, and mermaidgen never "
                          "writes through links; remove it")
    if os.path.lexists(out / JOURNAL):
        raise OutputError(_busy(out))
    seen = _manifest_bytes_on_disk(out)
    old = read_manifest(out) if out.is_dir() else None
    # A `.mermaidgen/` with no manifest is what a first run that failed leaves behind.
    if old is None and out.is_dir() and not force and \
            any(e.name != STATE_DIR for e in out.iterdir()):
        if os.path.lexists(out / JOURNAL) or _manifest_bytes_on_disk(out) is not None:
            raise OutputError(_busy(out))  # another run's first files, not a foreign folder
        raise UsageError(f"--out {out}: the folder is not empty and mermaidgen did not create "
                         "it; choose an empty folder, or use --force to add the skeleton "
                         "(files that exist are still never overwritten)")
    known: dict[str, dict] = (old or {}).get("files", {})
    _check_layout(files)
    actions: list[Action] = []
    by_path: dict[str, RenderedFile] = {}
    entries: dict[str, dict] = {}
    for f in files:
        target = _safe_path(out, f.path)
        by_path[f.path] = f
        try:
            data = f.content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise OutputError(f"{f.path}: cannot be written as UTF-8 ({exc.reason})") from None
        info = known.get(f.path)
        if not target.exists():
            kind = "create"
        elif f.owner == "user":
            kind = "keep"
        elif not target.is_file():
            raise OutputError(f"{target}: exists and is not a file")
        elif info is not None and info["owner"] == "user":
            kind = "keep"  # adopted earlier: a file of the user's where a generated one goes
            entries[f.path] = info
        else:
            current = target.read_bytes()
            if current == data:
                kind = "unchanged"
            elif info is None and force:
                kind = "keep"  # mermaidgen did not write it: the user's from now on
                entries[f.path] = {"owner": "user", "sha256": sha256(current)}
            elif info is not None and info["sha256"] == sha256(current):
                kind = "update"
            else:
                kind = "conflict"
        actions.append(Action(f.path, kind, f.owner))
    for path, info in sorted(known.items()):
        if path not in by_path and os.path.lexists(out / path):
            actions.append(Action(path, "stale", info["owner"]))
            entries[path] = info  # still ours to report until the user deletes it
    # Another writer swaps files in only while its journal exists, and swaps its manifest
    # in last: a journal or a changed manifest now means this read may have seen half of
    # its files. (`write` plans again under the lock, so a plan it applies is never stale.)
    if os.path.lexists(out / JOURNAL) or _manifest_bytes_on_disk(out) != seen:
        raise OutputError(_busy(out))
    manifest = manifest_for(files, meta, entries)
    return Plan(out, tuple(actions), by_path, manifest, force)


def _busy(out: Path) -> str:
    return (f"another mermaidgen is writing into {out}, or one was interrupted; run "
            "`mermaidgen generate` again (without --dry-run or --diff it first puts back "
            "the files of an interrupted run)")


def _manifest_bytes_on_disk(out: Path) -> bytes | None:
    return read_state(out, MANIFEST)


def _check_layout(files: list[RenderedFile]) -> None:
    """No two files on one path, nor a file where another needs a folder."""
    seen: dict[str, str] = {}
    for f in files:
        key = unicodedata.normalize("NFC", check_rel(f.path)).casefold()
        if key in seen:
            raise OutputError(f"two files would be written to one path: {seen[key]!r} and "
                              f"{f.path!r}")
        seen[key] = f.path
    for key, path in seen.items():
        parts = key.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in seen:
                raise OutputError(f"{seen[parent]!r} would be a file, but {path!r} needs it "
                                  "to be a folder")


def conflicts(p: Plan) -> list[str]:
    return [a.path for a in p.actions if a.kind == "conflict"]


def diff(p: Plan) -> str:
    """Unified diffs of every file that would change."""
    chunks = []
    for a in p.actions:
        if a.kind not in ("create", "update", "conflict"):
            continue
        target = p.out / a.path
        before = target.read_text(encoding="utf-8", errors="replace").splitlines(True) \
            if target.is_file() else []
        after = p.files[a.path].content.splitlines(True)
        for line in difflib.unified_diff(before, after, f"a/{a.path}", f"b/{a.path}"):
            chunks.append(line if line.endswith("\n") else
                          line + "\n\\ No newline at end of file\n")
    return "".join(chunks)


def write(p: Plan) -> None:
    """Apply the plan: all files change, or none do."""
    known = _known(p.out)
    edited = [q for q in conflicts(p) if q in known]
    foreign = [q for q in conflicts(p) if q not in known]
    if foreign and not p.force:
        raise OutputError(
            "these files are in the way and mermaidgen did not write them: "
            + ", ".join(foreign) + ". Move them away, or use --force to keep them as yours "
            "(they are then never overwritten)")
    if edited and not p.force:
        raise OutputError(
            "these generated files were edited by hand and would be overwritten: "
            + ", ".join(edited) + ". Move your changes into the user modules (the hooks), "
            "or use --force (the edited copies are kept under .mermaidgen/replaced/)")
    if _up_to_date(p):
        return  # nothing to change: a read-only folder that is current is fine
    try:
        p.out.mkdir(parents=True, exist_ok=True)
        if (p.out / STATE_DIR).is_symlink():
            raise OutputError(f"{p.out / STATE_DIR} is a symbolic link, and mermaidgen "
                              "never writes through links; remove it")
        (p.out / STATE_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {p.out}: {exc.strerror or exc}") from None
    with Lock(p.out):
        recover_locked(p.out)
        meta = {k: v for k, v in p.manifest.items() if k not in ("files", "mermaidgen_manifest")}
        now = plan(list(p.files.values()), p.out, meta, p.force)
        if now.actions != p.actions or now.manifest != p.manifest:
            raise OutputError(f"{p.out} changed after this run looked at it (another "
                              "mermaidgen wrote into it, or files were edited); nothing was "
                              "written, run again")
        writes = [a for a in p.actions if a.kind in ("create", "update", "conflict")]
        commit(p.out, {a.path: p.files[a.path].content.encode("utf-8") for a in writes},
               _manifest_bytes(p.manifest), [a.path for a in writes if a.kind == "conflict"])


def _known(out: Path) -> dict:
    try:
        return (read_manifest(out) or {}).get("files", {})
    except OutputError:
        return {}


def _up_to_date(p: Plan) -> bool:
    if any(a.kind in ("create", "update", "conflict") for a in p.actions):
        return False
    try:
        return not os.path.lexists(p.out / JOURNAL) and \
            (p.out / MANIFEST).read_bytes() == _manifest_bytes(p.manifest)
    except OSError:
        return False


