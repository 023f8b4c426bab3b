"""Changing an output folder all at once, and never through a link.

New contents are staged inside the folder (`.mermaidgen/staging/`), a journal says what
is about to change, the files it replaces are copied whole to `.mermaidgen/backup/`, and
only then are the staged files renamed into place. Any failure puts the previous files
back; a crash leaves the journal, and the next run (`recover`) puts them back then. One
writer at a time: `Lock`, an advisory lock the OS releases if the process dies.

Every file operation goes through `safefs.Root`: relative to the output folder, with no
link followed on the way (`.mermaidgen/` itself included), checked the race-free way. A
cloned repository can commit anything in `.mermaidgen/`, so a journal is checked whole
(`journal.check`) before any of it is replayed.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path, PurePosixPath

from mermaidgen.codegen.write.safefs import Root
from mermaidgen.errors import MermaidgenError

STATE_DIR = ".mermaidgen"
MANIFEST = f"{STATE_DIR}/manifest.json"
STAGING = f"{STATE_DIR}/staging"
BACKUP = f"{STATE_DIR}/backup"
JOURNAL = f"{STATE_DIR}/journal.json"
REPLACED = f"{STATE_DIR}/replaced"
LOCK_FILE = f"{STATE_DIR}/lock"
PART = ".part"  # suffix of a file being written next to its final name
SCRATCH = (STAGING, BACKUP, JOURNAL + PART)  # never needed once no journal exists
# Folders no generated file goes into: a path through them (from a template set or a
# journal) could plant a version-control hook that runs code.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})


class OutputError(MermaidgenError):
    """The skeleton cannot be written where it was asked to go."""


def check_rel(rel: object) -> str:
    """`rel` if it is a plain relative POSIX path that stays inside the folder."""
    parts = rel.split("/") if isinstance(rel, str) else [""]
    # PurePosixPath would quietly drop empty and `.` parts, so look at the raw text.
    if any(p in ("", ".", "..") or ":" in p for p in parts) or "\\" in rel \
            or "\x00" in rel:
        raise OutputError(f"refusing to write {rel!r}: not a plain path inside the output")
    if parts[0] == STATE_DIR:
        raise OutputError(f"refusing to write {rel!r}: {STATE_DIR}/ is mermaidgen's own state")
    if any(p.casefold() in VCS_DIRS for p in parts):
        raise OutputError(f"refusing to write {rel!r}: mermaidgen never writes into a "
                          "version-control folder")
    return rel


def no_links(out: Path, rel: str) -> Path:
    """`out/rel`, refusing if any part of it below `out` is a symbolic link. (A check for
    planning, which only reads; every write goes through a `Root`.)"""
    current = out
    for part in PurePosixPath(rel).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"refusing to write {rel}: {current} is a symbolic link, and "
                              "mermaidgen never writes through links")
    return current


def root(out: Path) -> Root:
    """The output folder, for operations that never follow a link below it."""
    try:
        return Root(out, OutputError)
    except OSError as exc:
        raise OutputError(f"cannot open {out}: {exc.strerror or exc}") from None


def read_state(out: Path, rel: str) -> bytes | None:
    """A file of mermaidgen's state (`.mermaidgen/...`), None if there is none; a link on
    the way or at the file is refused."""
    if not os.path.isdir(out):
        return None
    with root(out) as r:
        try:
            return r.read(rel)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise


def commit(out: Path, files: dict[str, bytes], manifest: bytes, replaced: list[str],
           removed: list[str] | tuple[str, ...] = ()) -> None:
    """Swap `files` (path -> content) and the manifest into `out`, and take `removed` away,
    all at once. Call it holding the `Lock`. `replaced`: paths whose old copy the user
    asked to keep (under `.mermaidgen/replaced/`): generated files edited by hand, and
    files of theirs a rename rewrote or took away."""
    with root(out) as r:
        _commit(r, files, manifest, replaced, list(removed))


def _commit(r: Root, files: dict[str, bytes], manifest: bytes, replaced: list[str],
            removed: list[str]) -> None:
    out = r.path
    if set(removed) & set(files):
        raise OutputError("a file cannot be both written and removed")
    try:
        for leftover in (STAGING, BACKUP):
            r.remove(leftover)
        for rel, data in files.items():
            r.write(f"{STAGING}/{rel}", data)
        r.write(f"{STAGING}/{MANIFEST}", manifest)
        removed = [q for q in removed if r.exists(q)]  # gone already: nothing to do
        paths = [*files, *removed, MANIFEST]
        existed = [q for q in paths if r.exists(q)]
        # Folders this run creates, deepest first, so that undoing it removes them again.
        dirs = sorted({d for q in paths for d in _parents(q) if not r.exists(d)},
                      key=lambda d: (-d.count("/"), d))
        journal = {"paths": paths, "existed": existed, "dirs": dirs,
                   **({"removed": removed} if removed else {})}
        # The journal appears whole or not at all: a crash before this line changed nothing.
        r.write(JOURNAL + PART, json.dumps(journal).encode("utf-8"))
        r.replace(JOURNAL + PART, JOURNAL)
    except BaseException as exc:
        try:
            r.remove(STAGING)
            r.unlink(JOURNAL + PART)
        except (OSError, OutputError):
            pass  # scratch only: the next run clears it
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    try:
        for q in existed:  # whole copies, renamed into place: a backup is never partial
            saved = f"{BACKUP}/{q}"
            r.write(saved + PART, r.read(q), mode=r.lstat(q).st_mode)
            r.replace(saved + PART, saved)
        for q in paths:
            if q in removed:  # its whole copy is in the backup: undoing puts it back
                r.unlink(q)
            else:
                r.replace(f"{STAGING}/{q}", q)
        for rel in replaced:  # keep the hand-edited copy the user asked to replace
            _keep_copy(r, rel, r.read(f"{BACKUP}/{rel}"))
    except BaseException as exc:
        try:
            _roll_back(r, journal)
        except (OSError, OutputError) as again:
            raise OutputError(f"cannot write to {out} ({exc}), and putting the previous "
                              f"files back failed too ({again}); they are safe in "
                              f"{out / BACKUP}, and the next run puts them back") from None
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    try:
        r.unlink(JOURNAL)  # the new tree is complete: from here on it is the tree
        for leftover in (STAGING, BACKUP):
            r.remove(leftover)
    except OSError as exc:
        raise OutputError(f"wrote {out}, but cannot clear {out / STATE_DIR}: "
                          f"{exc.strerror or exc}") from None


def _parents(rel: str) -> list[str]:
    return [str(d) for d in PurePosixPath(rel).parents if str(d) != "."]


def _keep_copy(r: Root, rel: str, data: bytes) -> None:
    """Save `data` as `.mermaidgen/replaced/rel`, never over an earlier, different copy."""
    name, n = f"{REPLACED}/{rel}", 1
    while r.exists(name):
        if r.is_file(name) and r.read(name) == data:
            return
        n += 1
        name = f"{REPLACED}/{rel}.~{n}~"
    r.write(name, data)


def _roll_back(r: Root, journal: object) -> None:
    """Put back every file the journal's run replaced, remove what it added. The journal
    is checked whole first: nothing is replayed from one mermaidgen could not have
    written."""
    paths, existed, dirs = _checked(r, journal)
    for q in paths:
        saved = f"{BACKUP}/{q}"
        if q in existed:
            if not r.exists(saved):
                continue  # put back already, by an earlier attempt
            # Not replaced yet: leave the file be (a read-only folder may be why the run
            # failed, and putting back a copy there would fail too).
            if r.is_file(q) and r.read(q) == r.read(saved):
                r.unlink(saved)
            else:
                r.replace(saved, q)
        else:
            r.unlink(q)
    for d in dirs:
        try:
            r.rmdir(d)
        except OSError:  # not empty: something else lives there now
            pass
    r.unlink(JOURNAL)
    r.remove(STAGING)
    r.remove(BACKUP)


def _checked(r: Root, journal: object) -> tuple[list[str], set[str], list[str]]:
    """The journal's paths, replaced paths and new folders, if it is one a run of
    mermaidgen could have written and replaying it stays inside the folder: plain relative
    paths, none through a link, the files it names regular files (or missing), each backup
    a whole copy (a regular file with no other name: a hard link would bring in a file
    from elsewhere)."""
    if not isinstance(journal, dict) or not {"paths", "existed"} <= set(journal) or \
            not set(journal) <= {"paths", "existed", "dirs", "removed"} or \
            not all(isinstance(v, list) for v in journal.values()):
        raise OutputError("not a mermaidgen journal")
    paths, existed = journal["paths"], journal["existed"]
    dirs = journal.get("dirs", [])  # older journals: no dirs
    for q in paths + existed + dirs:
        if q != MANIFEST:
            check_rel(q)
    if not set(existed) <= set(paths):
        raise OutputError("it lists files as replaced that it does not change")
    if not set(journal.get("removed", [])) <= set(existed):
        raise OutputError("it lists files as removed that it did not back up")
    if not set(dirs) <= {d for q in paths for d in _parents(q)}:
        raise OutputError("it lists folders that hold none of its files")
    for scratch in (STAGING, BACKUP):
        _expect(r, scratch, stat.S_ISDIR, "a folder")
    for q in paths:
        _expect(r, q, stat.S_ISREG, "a regular file")
    for q in dirs:
        _expect(r, q, stat.S_ISDIR, "a folder")
    for q in existed:
        found = _expect(r, f"{BACKUP}/{q}", stat.S_ISREG, "a regular file")
        if found is not None and found.st_nlink != 1:
            raise OutputError(f"{BACKUP}/{q} has other names (hard links), so it is not a "
                              "copy mermaidgen made")
    return paths, set(existed), dirs


def _expect(r: Root, rel: str, is_kind, kind: str) -> os.stat_result | None:
    found = r.lstat(rel)  # a link on the way is refused here
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise OutputError(f"{r.path / rel} is a symbolic link, and mermaidgen never reads "
                          "or writes through links")
    if found is not None and not is_kind(found.st_mode):
        raise OutputError(f"{r.path / rel} is not {kind}")
    return found


def recover(out: Path) -> bool:
    """Undo a run that crashed while swapping files in. True if there was one.

    Also clears what a run killed before its swap began leaves (staged copies). A linked
    `.mermaidgen/` is refused before anything in it is looked at."""
    if not os.path.isdir(out):
        return False
    with root(out) as r:
        if not any(r.exists(q) for q in (JOURNAL, *SCRATCH)):
            return False
    with Lock(out):  # a journal of a run that is still going is not ours to undo
        undone = recover_locked(out)
        try:
            with root(out) as r:
                for q in SCRATCH:
                    r.remove(q)
        except OSError as exc:
            raise OutputError(f"cannot clear {out / STATE_DIR}: {exc.strerror or exc}") \
                from None
        return undone


STATE_DEPTH = 16  # mermaidgen's own journal and manifest nest 3 deep at most
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def load_state(raw: bytes) -> object:
    """A journal or manifest, decoded. Nesting is checked first: json's C decoder recurses
    once per level, and with the recursion limit raised (as `cli.main` raises it for deep
    diagrams) a file of 100,000 `[` overflows the C stack of a normal thread and kills the
    process instead of raising."""
    text = raw.decode("utf-8")
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > STATE_DEPTH:
            raise ValueError(f"nested more than {STATE_DEPTH} levels deep")
    return json.loads(text)


def recover_locked(out: Path) -> bool:
    with root(out) as r:
        if not r.exists(JOURNAL):
            return False
        try:
            journal = load_state(r.read(JOURNAL))
            _roll_back(r, journal)
        except (OSError, ValueError, OutputError) as exc:
            raise OutputError(
                f"{out / JOURNAL}: an interrupted run left this journal and it cannot be "
                f"replayed ({exc}). If this folder came from elsewhere (a cloned repository, "
                f"an archive), delete {out / JOURNAL}, {out / STAGING} and {out / BACKUP} "
                "and run again; if a run of yours was interrupted here, its previous files "
                f"are in {out / BACKUP}: put them back by hand first") from None
    return True


class Lock:
    """One writer per output folder at a time (released by the OS if the process dies)."""

    def __init__(self, out: Path):
        self.out = out
        self.fd: int | None = None

    def __enter__(self) -> Lock:
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform
            return self
        with root(self.out) as r:
            try:
                self.fd = r.open_lock(LOCK_FILE)
            except OSError as exc:
                raise OutputError(f"cannot write to {self.out}: {exc.strerror or exc} "
                                  f"({self.out / LOCK_FILE})") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return self  # a file system without locks (some network mounts)
            os.close(self.fd)
            self.fd = None
            raise OutputError(f"another mermaidgen is writing into {self.out} right now; "
                              "try again when it has finished") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
