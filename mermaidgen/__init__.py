"""mermaidgen: Mermaid sequence diagrams in, running service skeletons out."""

from mermaidgen.errors import DiagramError, MermaidgenError
from mermaidgen.parser import parse

__all__ = ["DiagramError", "MermaidgenError", "parse"]
__version__ = "0.1.0"
