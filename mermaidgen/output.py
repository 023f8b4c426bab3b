"""Writing a rendered skeleton into its folder, without ever losing a user's work.

The rules:

* nothing is written outside the output folder: paths are checked, and a symbolic link
  inside the folder is never written through;
* a folder that holds files but no mermaidgen manifest is someone else's: refused unless
  `--force`;
* user-owned files are created once and never touched again, `--force` or not;
* a generated file the user edited (its hash differs from the manifest's) is a conflict:
  refused unless `--force`, which keeps the edited copy under `.mermaidgen/replaced/`;
* files that no longer belong are reported, never deleted;
* the tree changes all at once: new contents are staged inside the folder, then swapped
  in with a journal, and any failure (or a crash, recovered at the next run) puts the
  previous files back.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mermaidgen.errors import MermaidgenError, UsageError
from mermaidgen.render import RenderedFile

STATE_DIR = ".mermaidgen"
MANIFEST = f"{STATE_DIR}/manifest.json"
_STAGING = f"{STATE_DIR}/staging"
_BACKUP = f"{STATE_DIR}/backup"
_JOURNAL = f"{STATE_DIR}/journal.json"
_REPLACED = f"{STATE_DIR}/replaced"
_LOCK = f"{STATE_DIR}/lock"


class OutputError(MermaidgenError):
    """The skeleton cannot be written where it was asked to go."""


@dataclass(frozen=True, slots=True)
class Action:
    path: str
    kind: str
    """create, update, unchanged, keep (a user file that exists), conflict (a generated
    file edited by hand, or a file mermaidgen did not write), stale (no longer generated)."""
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
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in rel \
            or any(p in ("", ".") for p in pure.parts) or "\x00" in rel:
        raise OutputError(f"refusing to write {rel!r}: not a plain path inside the output")
    target = out.joinpath(*pure.parts)
    current = out
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"refusing to write {rel}: {current} is a symbolic link, and "
                              "mermaidgen never writes through links")
    return target


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: unreadable manifest ({exc}); remove it to start over") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise OutputError(f"{path}: not a mermaidgen manifest; remove it to start over")
    return data


def manifest_for(files: list[RenderedFile], meta: dict) -> dict:
    return {
        "mermaidgen_manifest": 1,
        **meta,
        "files": {f.path: {"owner": f.owner, "sha256": sha256(f.content.encode("utf-8"))}
                  for f in sorted(files, key=lambda f: f.path)},
    }


def plan(files: list[RenderedFile], out: Path, meta: dict, force: bool = False) -> Plan:
    """What writing `files` into `out` would do. Reads the folder, writes nothing."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    old = read_manifest(out) if out.is_dir() else None
    if old is None and out.is_dir() and any(out.iterdir()) and not force:
        raise UsageError(f"--out {out}: the folder is not empty and mermaidgen did not create "
                         "it; choose an empty folder, or use --force to add the skeleton "
                         "(files that exist are still never overwritten)")
    known = (old or {}).get("files", {})
    actions = []
    by_path = {}
    for f in files:
        target = _safe_path(out, f.path)
        by_path[f.path] = f
        data = f.content.encode("utf-8")
        if not target.exists():
            actions.append(Action(f.path, "create", f.owner))
        elif f.owner == "user":
            actions.append(Action(f.path, "keep", f.owner))
        elif not target.is_file():
            raise OutputError(f"{target}: exists and is not a file")
        else:
            current = target.read_bytes()
            if current == data:
                actions.append(Action(f.path, "unchanged", f.owner))
            elif known.get(f.path, {}).get("sha256") == sha256(current):
                actions.append(Action(f.path, "update", f.owner))
            else:
                actions.append(Action(f.path, "conflict", f.owner))
    for path, info in sorted(known.items()):
        if path not in by_path and info.get("owner") == "generated" and \
                (out / path).exists():
            actions.append(Action(path, "stale", "generated"))
    manifest = manifest_for(files, meta)
    return Plan(out, tuple(actions), by_path, manifest, force)


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
        chunks.extend(difflib.unified_diff(before, after, f"a/{a.path}", f"b/{a.path}"))
    return "".join(chunks)


def write(p: Plan) -> None:
    """Apply the plan: all files change, or none do."""
    clash = conflicts(p)
    if clash and not p.force:
        raise OutputError(
            "these generated files were edited by hand and would be overwritten: "
            + ", ".join(clash) + ". Move your changes into the user modules (the hooks), "
            "or use --force (the edited copies are kept under .mermaidgen/replaced/)")
    writes = [a for a in p.actions if a.kind in ("create", "update", "conflict")]
    try:
        p.out.mkdir(parents=True, exist_ok=True)
        state = p.out / STATE_DIR
        state.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {p.out}: {exc.strerror or exc}") from None
    with _Lock(p.out):
        _commit(p, writes)


def _commit(p: Plan, writes: list[Action]) -> None:
    out = p.out
    staging, backup = out / _STAGING, out / _BACKUP
    for leftover in (staging, backup):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        for a in writes:
            _write_file(staging / a.path, p.files[a.path].content.encode("utf-8"))
        _write_file(staging / MANIFEST, (json.dumps(p.manifest, indent=2, sort_keys=True)
                                         + "\n").encode("utf-8"))
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    paths = [a.path for a in writes] + [MANIFEST]
    journal = {"paths": paths, "existed": [q for q in paths if (out / q).exists()]}
    _write_file(out / _JOURNAL, json.dumps(journal).encode("utf-8"))
    done: list[str] = []
    try:
        for q in journal["existed"]:
            (backup / q).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(out / q, backup / q)
        for q in paths:
            target = out / q
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / q, target)
            done.append(q)
        for a in writes:
            if a.kind == "conflict":  # keep the hand-edited copy the user asked to replace
                kept = out / _REPLACED / a.path
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(backup / a.path, kept)
    except BaseException as exc:
        _roll_back(out, journal)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    (out / _JOURNAL).unlink()
    for leftover in (staging, backup):
        shutil.rmtree(leftover, ignore_errors=True)


def _roll_back(out: Path, journal: dict) -> None:
    backup = out / _BACKUP
    for q in journal["paths"]:
        target = out / q
        if q in journal["existed"]:
            if (backup / q).exists():
                os.replace(backup / q, target)
        elif target.exists():
            target.unlink()
    (out / _JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(out / _STAGING, ignore_errors=True)
    shutil.rmtree(backup, ignore_errors=True)


def recover(out: Path) -> bool:
    """Undo a run that crashed while swapping files in. True if there was one."""
    journal_path = out / _JOURNAL
    if not journal_path.is_file():
        return False
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        _roll_back(out, journal)
    except (OSError, ValueError, KeyError) as exc:
        raise OutputError(f"{journal_path}: an interrupted run left this journal and it "
                          f"cannot be replayed ({exc}); check the folder by hand") from None
    return True


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class _Lock:
    """One writer per output folder at a time (released by the OS if the process dies)."""

    def __init__(self, out: Path):
        self.path = out / _LOCK
        self.handle = None

    def __enter__(self) -> _Lock:
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform
            return self
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise OutputError(f"another mermaidgen is writing into {self.path.parent.parent} "
                              "right now; try again when it has finished") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
