"""mermaidgen: Mermaid sequence diagrams in, running service skeletons out.

The public API: `parse`, `parse_file`, `analyse`, `generate`, and the error types. Imports
are lazy, so that `mermaidgen --version` does not pay for the parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["DiagramError", "MermaidgenError", "analyse", "generate", "parse", "parse_file"]

if TYPE_CHECKING:
    from mermaidgen.codegen.generate import build as generate
    from mermaidgen.errors import DiagramError, MermaidgenError
    from mermaidgen.mermaid.parser import parse
    from mermaidgen.mermaid.sources import load_diagrams as parse_file
    from mermaidgen.projection import analyse

_LAZY = {
    "parse": ("mermaidgen.mermaid.parser", "parse"),
    "parse_file": ("mermaidgen.mermaid.sources", "load_diagrams"),
    "analyse": ("mermaidgen.projection", "analyse"),
    "generate": ("mermaidgen.codegen.generate", "build"),
    "DiagramError": ("mermaidgen.errors", "DiagramError"),
    "MermaidgenError": ("mermaidgen.errors", "MermaidgenError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mermaidgen' has no attribute {name!r}")
