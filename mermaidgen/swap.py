"""Changing an output folder all at once, and never through a link.

New contents are staged inside the folder (`.mermaidgen/staging/`), a journal says what
is about to change, the files it replaces are copied whole to `.mermaidgen/backup/`, and
only then are the staged files renamed into place. Any failure puts the previous files
back; a crash leaves the journal, and the next run (`recover`) puts them back then. One
writer at a time: `Lock`, an advisory lock the OS releases if the process dies.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path, PurePosixPath

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
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)




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
    return rel


def no_links(out: Path, rel: str) -> Path:
    """`out/rel`, refusing if any part of it below `out` is a symbolic link."""
    current = out
    for part in PurePosixPath(rel).parts:
        current = current / part
        if current.is_symlink():
            raise OutputError(f"refusing to write {rel}: {current} is a symbolic link, and "
                              "mermaidgen never writes through links")
    return current


def commit(out: Path, files: dict[str, bytes], manifest: bytes, replaced: list[str]) -> None:
    """Swap `files` (path -> content) and the manifest into `out`, all at once. Call it
    holding the `Lock`. `replaced`: paths edited by hand whose old copy the user asked to
    keep (under `.mermaidgen/replaced/`)."""
    staging, backup = out / STAGING, out / BACKUP
    paths = [*files, MANIFEST]
    try:
        for leftover in (staging, backup):
            remove(leftover)
        for rel, data in files.items():
            write_file(staging / rel, data)
        write_file(staging / MANIFEST, manifest)
        existed = [q for q in paths if os.path.lexists(out / q)]
        # Folders this run creates, deepest first, so that undoing it removes them again.
        dirs = sorted({str(d) for q in paths for d in PurePosixPath(q).parents
                       if str(d) != "." and not os.path.lexists(out / d)},
                      key=lambda d: (-d.count("/"), d))
        journal = {"paths": paths, "existed": existed, "dirs": dirs}
        # The journal appears whole or not at all: a crash before this line changed nothing.
        write_file(out / (JOURNAL + PART), json.dumps(journal).encode("utf-8"))
        os.replace(out / (JOURNAL + PART), out / JOURNAL)
    except BaseException as exc:
        try:
            remove(staging)
            (out / (JOURNAL + PART)).unlink(missing_ok=True)
        except OSError:
            pass  # scratch only: the next run clears it
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write to {out}: {exc.strerror or exc}; nothing was "
                              "changed") from None
        raise
    try:
        for q in existed:  # whole copies, renamed into place: a backup is never partial
            saved = backup / q
            write_file(saved.with_name(saved.name + PART), (out / q).read_bytes())
            shutil.copymode(out / q, saved.with_name(saved.name + PART))
            os.replace(saved.with_name(saved.name + PART), saved)
        for q in paths:
            target = out / q
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / q, target)
        for rel in replaced:  # keep the hand-edited copy the user asked to replace
            _keep_copy(out, rel, (backup / rel).read_bytes())
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
        (out / JOURNAL).unlink()  # the new tree is complete: from here on it is the tree
        for leftover in (staging, backup):
            remove(leftover)
    except OSError as exc:
        raise OutputError(f"wrote {out}, but cannot clear {out / STATE_DIR}: "
                          f"{exc.strerror or exc}") from None


def _keep_copy(out: Path, rel: str, data: bytes) -> None:
    """Save `data` as `.mermaidgen/replaced/rel`, never over an earlier, different copy."""
    name, n = f"{REPLACED}/{rel}", 1
    while True:
        kept = no_links(out, name)
        if not kept.exists():
            break
        if kept.is_file() and kept.read_bytes() == data:
            return
        n += 1
        name = f"{REPLACED}/{rel}.~{n}~"
    write_file(kept, data)


def _roll_back(out: Path, journal: object) -> None:
    """Put back every file the journal's run replaced, remove what it added."""
    if not isinstance(journal, dict) or not isinstance(journal.get("paths"), list) or \
            not isinstance(journal.get("existed"), list) or \
            not isinstance(journal.setdefault("dirs", []), list):  # older journals: no dirs
        raise OutputError("not a mermaidgen journal")
    for q in journal["paths"] + journal["existed"] + journal["dirs"]:
        if q != MANIFEST:
            check_rel(q)
    backup = out / BACKUP
    for q in journal["paths"]:
        target = no_links(out, q) if q != MANIFEST else out / q
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
            no_links(out, d).rmdir()
        except OSError:  # not empty: something else lives there now
            pass
    (out / JOURNAL).unlink(missing_ok=True)
    remove(out / STAGING)
    remove(backup)


def recover(out: Path) -> bool:
    """Undo a run that crashed while swapping files in. True if there was one.

    Also clears what a run killed before its swap began leaves (staged copies)."""
    if not any(os.path.lexists(out / q) for q in (JOURNAL, *SCRATCH)):
        return False
    with Lock(out):  # a journal of a run that is still going is not ours to undo
        undone = recover_locked(out)
        try:
            for q in SCRATCH:
                remove(out / q)
        except OSError as exc:
            raise OutputError(f"cannot clear {out / STATE_DIR}: {exc.strerror or exc}") \
                from None
        return undone


def recover_locked(out: Path) -> bool:
    journal_path = out / JOURNAL
    if not os.path.lexists(journal_path):
        return False
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        _roll_back(out, journal)
    except (OSError, ValueError, OutputError) as exc:
        raise OutputError(f"{journal_path}: an interrupted run left this journal and it "
                          f"cannot be replayed ({exc}); check the folder by hand") from None
    return True


def remove(path: Path) -> None:
    """Delete mermaidgen's own scratch file or folder (a link itself, never its target)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, 0o666)
    with open(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class Lock:
    """One writer per output folder at a time (released by the OS if the process dies)."""

    def __init__(self, out: Path):
        self.path = out / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> Lock:
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o666)
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
