"""The suite starts hundreds of `python -m mermaidgen` processes (the fuzz regressions,
the README's examples, the command-line tests). With PYTHONDONTWRITEBYTECODE set, as it
may be, none of them could load mermaidgen's bytecode, and each compiled the modules it
imports again (about 0.13 CPU-s a process). tests/conftest.py writes mermaidgen's bytecode
once per run, checked against each source's hash: an edited module is compiled again,
whatever its size and date."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import mermaidgen

PACKAGE = Path(mermaidgen.__file__).resolve().parent
CHECKED_HASH = 0b11  # PEP 552: hash-based, checked against the source on every import


def test_every_module_of_mermaidgen_has_bytecode_checked_against_its_source() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert sources
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), f"no bytecode for {source}"
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, cached
        assert int.from_bytes(header[4:8], "little") == CHECKED_HASH, cached
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), \
            f"{cached} is not the bytecode of {source} as it is now"


def test_a_process_that_may_not_write_bytecode_loads_it_without_compiling() -> None:
    script = ("import builtins, importlib.machinery as m, sys\n"
              "compiled = []\n"
              "original = m.SourceFileLoader.source_to_code\n"
              "def counted(self, data, path, *a, **k):\n"
              "    compiled.append(path)\n"
              "    return original(self, data, path, *a, **k)\n"
              "m.SourceFileLoader.source_to_code = counted\n"
              "import mermaidgen.commands.cli, mermaidgen.codegen.generate\n"
              "print([p for p in compiled if 'mermaidgen' in p])\n")
    done = subprocess.run([sys.executable, "-B", "-c", script], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
