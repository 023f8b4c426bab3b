"""The built-in templates' compiled code, kept between processes in a folder the user
chooses (`MERMAIDGEN_CACHE_DIR`).

Compiling the built-in templates was about a quarter of the CPU time of a `mermaidgen
generate` or `check` process (0.35 CPU-s; each process compiles them again:
`sandbox.LimitedSandbox` keeps them for the process only); loading their code from this
cache costs a few milliseconds. Opt-in: by default mermaidgen writes nothing outside the
folder a command writes (product spec: `generate` never writes outside its `--out`).

Safety, since the templates' code runs and writes the user's files:

* where: `MERMAIDGEN_CACHE_DIR`, an absolute path (a relative one would be decided by the
  current folder, a cloned repository's: no cache). Nothing in the project folder
  decides it;
* what: only the built-in templates (a custom set is compiled each time, as before);
* a stale entry is never used: an entry is found by the template's file name, and holds
  the SHA-256 of everything that decides the compiled code (the template's text, its
  names, the environment's compile options, the Jinja, Python and mermaidgen versions);
* a corrupt entry is never used: it also holds the SHA-256 of its code, checked on every
  read; any failure to read, check or load is a miss, and the template is compiled;
* a missing, unwritable, or not-private cache folder (another user's, or writable by
  others) means no cache, never an error.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType

_MAGIC = b"mermaidgen-template-code 1\n"
_DIGEST = 32  # bytes of a SHA-256


def cache_folder() -> Path | None:
    """The folder for compiled templates, or None when there is none to use."""
    chosen = os.environ.get("MERMAIDGEN_CACHE_DIR", "")
    base = Path(chosen)
    if not chosen or not base.is_absolute():  # relative: the project folder would decide
        return None
    return base / "templates"


def _private(folder: Path) -> bool:
    """Made by this user and writable by no one else (POSIX): otherwise another user could
    have put code there."""
    if not hasattr(os, "getuid"):
        return True
    info = folder.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _entry(folder: Path, filename: str) -> Path:
    return folder / (hashlib.sha256(filename.encode("utf-8", "surrogatepass")).hexdigest()[:40]
                     + ".code")


def key(*decides: object) -> bytes:
    """The digest of everything that decides the compiled code (reprs of plain values)."""
    from jinja2 import __version__ as jinja

    from mermaidgen import __version__ as mermaidgen

    seen = (jinja, mermaidgen, sys.implementation.cache_tag, sys.version, *decides)
    return hashlib.sha256(repr(seen).encode("utf-8", "surrogatepass")).digest()


def load(filename: str, decides: tuple) -> CodeType | None:
    """The cached code of the template at `filename` compiled with `decides` (see `key`),
    or None."""
    folder = cache_folder()
    if folder is None:
        return None
    wanted = key(*decides)
    try:
        if not _private(folder):
            return None
        data = _entry(folder, filename).read_bytes()
        head = len(_MAGIC)
        if data[:head] != _MAGIC or data[head:head + _DIGEST] != wanted:
            return None
        digest, payload = data[head + _DIGEST:head + 2 * _DIGEST], data[head + 2 * _DIGEST:]
        if hashlib.sha256(payload).digest() != digest:
            return None
        code = marshal.loads(payload)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def store(filename: str, decides: tuple, code: CodeType) -> None:
    """Keep `code` for later processes; silently nothing when the cache cannot be written."""
    folder = cache_folder()
    if folder is None:
        return
    wanted = key(*decides)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        payload = marshal.dumps(code)
        data = _MAGIC + wanted + hashlib.sha256(payload).digest() + payload
        # whole or not at all: a reader never sees half an entry
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".new-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, _entry(folder, filename))
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, ValueError):
        return
