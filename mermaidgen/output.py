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
  in with a journal, and any failure (or a crash, recovered at the next run) puts the
  previous files back;
* one writer at a time: a lock, and a plan made before the lock was taken is checked
  again under it, so two runs on one folder never mix their files.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mermaidgen.errors import MermaidgenError, UsageError
from mermaidgen.render import OWNERS, RenderedFile

STATE_DIR = ".mermaidgen"
MANIFEST = f"{STATE_DIR}/manifest.json"
_STAGING = f"{STATE_DIR}/staging"
_BACKUP = f"{STATE_DIR}/backup"
_JOURNAL = f"{STATE_DIR}/journal.json"
_REPLACED = f"{STATE_DIR}/replaced"
_LOCK = f"{STATE_DIR}/lock"
_PART = ".part"  # suffix of a file being written next to its final name
_SCRATCH = (_STAGING, _BACKUP, _JOURNAL + _PART)  # never needed once no journal exists
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class OutputError(MermaidgenError):
    """The skeleton cannot be written where it was asked to go."""


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


def _check_rel(rel: object) -> str:
    """`rel` if it is a plain relative POSIX path that stays inside the folder."""
    parts = rel.split("/") if isinstance(rel, str) else [""]
    # PurePosixPath would quietly drop empty and `.` parts, so look at the raw text.
    if any(p in ("", ".", "..") or ":" in p for p in parts) or "\\" in rel \
            or "\x00" in rel:
        raise OutputError(f"refusing to write {rel!r}: not a plain path inside the output")
    if parts[0] == STATE_DIR:
        raise OutputError(f"refusing to write {rel!r}: {STATE_DIR}/ is mermaidgen's own state")
    return rel


def _no_links(out: Path, rel: str) -> Path:
    """`out/rel`, refusing if any part of it below `out` is a symbolic link."""
    current = out
    for part in PurePosixPath(rel).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"refusing to write {rel}: {current} is a symbolic link, and "
                              "mermaidgen never writes through links")
    return current


def _safe_path(out: Path, rel: str) -> Path:
    """`out/rel`, refusing anything that could land outside `out`."""
    return _no_links(out, _check_rel(rel))


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: unreadable manifest ({exc}); remove it to start over") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(_valid_entry(k, v) for k, v in files.items()):
        raise OutputError(f"{path}: not a mermaidgen manifest; remove it to start over")
    return data


def _valid_entry(path: str, info: object) -> bool:
    try:
        _check_rel(path)
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
    if os.path.lexists(out / _JOURNAL):
        raise OutputError(_busy(out))
    seen = _manifest_bytes_on_disk(out)
    old = read_manifest(out) if out.is_dir() else None
    # A `.mermaidgen/` with no manifest is what a first run that failed leaves behind.
    if old is None and out.is_dir() and not force and \
            any(e.name != STATE_DIR for e in out.iterdir()):
        if os.path.lexists(out / _JOURNAL) or _manifest_bytes_on_disk(out) is not None:
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
    if os.path.lexists(out / _JOURNAL) or _manifest_bytes_on_disk(out) != seen:
        raise OutputError(_busy(out))
    manifest = manifest_for(files, meta, entries)
    return Plan(out, tuple(actions), by_path, manifest, force)


def _busy(out: Path) -> str:
    return (f"another mermaidgen is writing into {out}, or one was interrupted; run "
            "`mermaidgen generate` again (without --dry-run or --diff it first puts back "
            "the files of an interrupted run)")


def _manifest_bytes_on_disk(out: Path) -> bytes | None:
    try:
        return (out / MANIFEST).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _check_layout(files: list[RenderedFile]) -> None:
    """No two files on one path, nor a file where another needs a folder."""
    seen: dict[str, str] = {}
    for f in files:
        key = unicodedata.normalize("NFC", _check_rel(f.path)).casefold()
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
    with _Lock(p.out):
        _recover_locked(p.out)
        meta = {k: v for k, v in p.manifest.items() if k not in ("files", "mermaidgen_manifest")}
        now = plan(list(p.files.values()), p.out, meta, p.force)
        if now.actions != p.actions or now.manifest != p.manifest:
            raise OutputError(f"{p.out} changed after this run looked at it (another "
                              "mermaidgen wrote into it, or files were edited); nothing was "
                              "written, run again")
        _commit(p, [a for a in p.actions if a.kind in ("create", "update", "conflict")])


def _known(out: Path) -> dict:
    try:
        return (read_manifest(out) or {}).get("files", {})
    except OutputError:
        return {}


def _up_to_date(p: Plan) -> bool:
    if any(a.kind in ("create", "update", "conflict") for a in p.actions):
        return False
    try:
        return not os.path.lexists(p.out / _JOURNAL) and \
            (p.out / MANIFEST).read_bytes() == _manifest_bytes(p.manifest)
    except OSError:
        return False


def _commit(p: Plan, writes: list[Action]) -> None:
    out = p.out
    staging, backup = out / _STAGING, out / _BACKUP
    paths = [a.path for a in writes] + [MANIFEST]
    try:
        for leftover in (staging, backup):
            _remove(leftover)
        for a in writes:
            _write_file(staging / a.path, p.files[a.path].content.encode("utf-8"))
        _write_file(staging / MANIFEST, _manifest_bytes(p.manifest))
        existed = [q for q in paths if os.path.lexists(out / q)]
        # Folders this run creates, deepest first, so that undoing it removes them again.
        dirs = sorted({str(d) for q in paths for d in PurePosixPath(q).parents
                       if str(d) != "." and not os.path.lexists(out / d)},
                      key=lambda d: (-d.count("/"), d))
        journal = {"paths": paths, "existed": existed, "dirs": dirs}
        # The journal appears whole or not at all: a crash before this line changed nothing.
        _write_file(out / (_JOURNAL + _PART), json.dumps(journal).encode("utf-8"))
        os.replace(out / (_JOURNAL + _PART), out / _JOURNAL)
    except BaseException as exc:
        try:
            _remove(staging)
            (out / (_JOURNAL + _PART)).unlink(missing_ok=True)
        except OSError:
            pass  # scratch only: the next run clears it
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    try:
        for q in existed:  # whole copies, renamed into place: a backup is never partial
            saved = backup / q
            _write_file(saved.with_name(saved.name + _PART), (out / q).read_bytes())
            shutil.copymode(out / q, saved.with_name(saved.name + _PART))
            os.replace(saved.with_name(saved.name + _PART), saved)
        for q in paths:
            target = out / q
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / q, target)
        for a in writes:
            if a.kind == "conflict":  # keep the hand-edited copy the user asked to replace
                _keep_copy(out, a.path, (backup / a.path).read_bytes())
    except BaseException as exc:
        try:
            _roll_back(out, journal)
        except (OSError, OutputError) as again:
            raise OutputError(f"cannot write to {out} ({exc}), and putting the previous "
                              f"files back failed too ({again}); they are safe in {backup}, "
                              "and the next run puts them back") from None
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    try:
        (out / _JOURNAL).unlink()  # the new tree is complete: from here on it is the tree
        for leftover in (staging, backup):
            _remove(leftover)
    except OSError as exc:
        raise OutputError(f"wrote {out}, but cannot clear {out / STATE_DIR}: "
                          f"{exc.strerror or exc}") from None


def _keep_copy(out: Path, rel: str, data: bytes) -> None:
    """Save `data` as `.mermaidgen/replaced/rel`, never over an earlier, different copy."""
    name, n = f"{_REPLACED}/{rel}", 1
    while True:
        kept = _no_links(out, name)
        if not kept.exists():
            break
        if kept.is_file() and kept.read_bytes() == data:
            return
        n += 1
        name = f"{_REPLACED}/{rel}.~{n}~"
    _write_file(kept, data)


def _roll_back(out: Path, journal: object) -> None:
    """Put back every file the journal's run replaced, remove what it added."""
    if not isinstance(journal, dict) or not isinstance(journal.get("paths"), list) or \
            not isinstance(journal.get("existed"), list) or \
            not isinstance(journal.setdefault("dirs", []), list):  # older journals: no dirs
        raise OutputError("not a mermaidgen journal")
    for q in journal["paths"] + journal["existed"] + journal["dirs"]:
        if q != MANIFEST:
            _check_rel(q)
    backup = out / _BACKUP
    for q in journal["paths"]:
        target = _no_links(out, q) if q != MANIFEST else out / q
        if q in journal["existed"]:
            if not os.path.lexists(backup / q):
                continue  # put back already, by an earlier attempt
            # Not replaced yet: leave the file be (a read-only folder may be why the run
            # failed, and putting back a copy there would fail too).
            if target.is_file() and not target.is_symlink() and \
                    target.read_bytes() == (backup / q).read_bytes():
                (backup / q).unlink()
            else:
                os.replace(backup / q, target)
        elif os.path.lexists(target):
            target.unlink()
    for d in journal["dirs"]:
        try:
            _no_links(out, d).rmdir()
        except OSError:  # not empty: something else lives there now
            pass
    (out / _JOURNAL).unlink(missing_ok=True)
    _remove(out / _STAGING)
    _remove(backup)


def recover(out: Path) -> bool:
    """Undo a run that crashed while swapping files in. True if there was one.

    Also clears what a run killed before its swap began leaves (staged copies)."""
    if not any(os.path.lexists(out / q) for q in (_JOURNAL, *_SCRATCH)):
        return False
    with _Lock(out):  # a journal of a run that is still going is not ours to undo
        undone = _recover_locked(out)
        try:
            for q in _SCRATCH:
                _remove(out / q)
        except OSError as exc:
            raise OutputError(f"cannot clear {out / STATE_DIR}: {exc.strerror or exc}") \
                from None
        return undone


def _recover_locked(out: Path) -> bool:
    journal_path = out / _JOURNAL
    if not os.path.lexists(journal_path):
        return False
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        _roll_back(out, journal)
    except (OSError, ValueError, OutputError) as exc:
        raise OutputError(f"{journal_path}: an interrupted run left this journal and it "
                          f"cannot be replayed ({exc}); check the folder by hand") from None
    return True


def _remove(path: Path) -> None:
    """Delete mermaidgen's own scratch file or folder (a link itself, never its target)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o666)
    with open(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class _Lock:
    """One writer per output folder at a time (released by the OS if the process dies)."""

    def __init__(self, out: Path):
        self.path = out / _LOCK
        self.fd: int | None = None

    def __enter__(self) -> _Lock:
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write to {self.path.parent.parent}: "
                              f"{exc.strerror or exc} ({self.path})") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return self  # a file system without locks (some network mounts)
            os.close(self.fd)
            self.fd = None
            raise OutputError(f"another mermaidgen is writing into {self.path.parent.parent} "
                              "right now; try again when it has finished") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
