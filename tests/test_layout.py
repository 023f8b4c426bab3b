"""The package layout: one folder per pipeline stage, and imports that flow one way.

The stages, in the order data flows through them (docs/architecture.md has the map):

    mermaid -> model <- analysis -> projection -> codegen / preview / verify -> commands
                 ^-- contract

`mermaid` reads text into the `model` (and writes it back); `contract` is the diagram's
trace contract, read off the model alone (its `keys` name events for the analysis too);
`analysis` reads the model, `projection` reads the analysis, `codegen` and `preview` read
both, and `commands` drive them all. A stage imports only stages before it; the shared
basics at the top level (errors, ...) import nothing but each other. Imports are read with
`ast` from the source, function-level and `TYPE_CHECKING` ones included: a lazy import is
still a dependency, only a cheaper one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mermaidgen"

RANK = {
    "model": 0,
    "mermaid": 1,
    "contract": 1,
    "analysis": 2,
    "projection": 3,
    "codegen": 4,
    "preview": 4,
    "verify": 4,
    "commands": 5,
}
"""A stage may import the stages of a lower rank; stages of one rank are independent."""

SHARED = frozenset({"errors", "report", "resources", "collection"})
"""Top-level modules every stage may use. A new flat module must be placed deliberately:
in a stage folder, or added here."""

ENTRY = frozenset({"__init__", "__main__"})
"""The public API (`mermaidgen.parse`, ...) and `python -m mermaidgen`: they sit above all."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _imports(path: Path) -> set[str]:
    """The mermaidgen modules that `path` imports, anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # `from pkg import module` imports the module
                if _is_module(f"{target}.{alias.name}"):
                    found.add(f"{target}.{alias.name}")
    return {m for m in found if m == "mermaidgen" or m.startswith("mermaidgen.")}


def _stage(module: str) -> str:
    """The stage folder of a module, `shared`, or `entry`."""
    parts = module.split(".")
    if len(parts) == 1:
        return "entry"
    if parts[1] in RANK:
        return parts[1]
    if parts[1] in SHARED:
        return "shared"
    if parts[1] in ENTRY:
        return "entry"
    raise AssertionError(f"{module} is in no stage folder and not a shared basic")


def _edges() -> list[tuple[str, str]]:
    return sorted((_module_name(path), target)
                  for path in PACKAGE.rglob("*.py")
                  for target in _imports(path))


def wrong_way(edges: list[tuple[str, str]]) -> list[str]:
    """The imports that go against the flow, as readable lines."""
    problems = []
    for importer, imported in edges:
        source, target = _stage(importer), _stage(imported)
        if imported == "mermaidgen" or source == target or source == "entry":
            continue  # the package itself is every module's parent (`__version__`)
        if source == "shared":
            if target != "shared":
                problems.append(f"{importer} (shared) imports {imported} ({target})")
        elif target == "entry":
            problems.append(f"{importer} ({source}) imports the entry point {imported}")
        elif target != "shared" and RANK[target] >= RANK[source]:
            problems.append(f"{importer} ({source}) imports {imported} ({target}), "
                            "which is not an earlier stage")
    return problems


def folder_loops(edges: list[tuple[str, str]]) -> list[list[str]]:
    """Cycles between stage folders (strongly connected groups of more than one)."""
    graph: dict[str, set[str]] = {}
    for importer, imported in edges:
        a, b = _stage(importer), _stage(imported)
        if a != b and "entry" not in (a, b):
            graph.setdefault(a, set()).add(b)
    return _cycles(graph)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, the ones with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_module_is_in_a_stage_or_shared():
    for path in PACKAGE.rglob("*.py"):
        _stage(_module_name(path))  # raises for a module placed nowhere


def test_the_top_level_stays_small():
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat == SHARED | ENTRY


def test_stages_import_only_earlier_stages():
    assert wrong_way(_edges()) == []


def test_no_import_loop_between_stage_folders():
    assert folder_loops(_edges()) == []


def test_no_import_loop_between_modules():
    # within a stage too: `extract` and `fences` imported each other until what both need
    # (the snippet, its header and title) became `mermaid/snippets.py`
    graph: dict[str, set[str]] = {}
    for importer, imported in _edges():
        if imported not in ("mermaidgen", importer):
            graph.setdefault(importer, set()).add(imported)
    assert _cycles(graph) == []


def test_analysis_does_not_reach_into_projection():
    # the loop this layout removed: the caller composes analyse -> project
    assert not [e for e in _edges()
                if e[0].startswith("mermaidgen.analysis") and ".projection" in e[1]]


# The rules above must be able to fail: a few imports that break them.
@pytest.mark.parametrize("edge", [
    ("mermaidgen.analysis", "mermaidgen.projection.views"),  # a later stage
    ("mermaidgen.mermaid.parser", "mermaidgen.contract"),  # a stage of the same rank
    ("mermaidgen.errors", "mermaidgen.model"),  # a shared basic reaching into a stage
    ("mermaidgen.codegen.generate", "mermaidgen.commands.cli"),
])
def test_a_wrong_way_import_is_reported(edge):
    assert len(wrong_way([edge])) == 1


def test_a_loop_between_folders_is_reported():
    edges = [("mermaidgen.preview.views", "mermaidgen.codegen.context"),
             ("mermaidgen.codegen.context", "mermaidgen.preview.views")]
    assert folder_loops(edges) == [["codegen", "preview"]]


def test_relative_and_package_imports_are_resolved():
    imported = _imports(PACKAGE / "contract" / "checker" / "sagas.py")
    assert "mermaidgen.contract.keys" in imported  # `from ..keys import ...`
    assert "mermaidgen.contract.checker.data" in imported  # `from .data import ...`
    imported = _imports(PACKAGE / "mermaid" / "parser.py")
    assert "mermaidgen.mermaid.flatten" in imported  # `from mermaidgen.mermaid import flatten`


def test_the_public_api_stays_where_it_was():
    # the layout moved every module behind it; what users import must not move
    import mermaidgen
    from mermaidgen import DiagramError, MermaidgenError, analyse, generate, parse, parse_file
    from mermaidgen.errors import DiagramError as Error
    from mermaidgen.errors import MermaidgenError as Base

    assert (DiagramError, MermaidgenError) == (Error, Base)
    assert all(callable(f) for f in (analyse, generate, parse, parse_file))
    sample = PACKAGE.parent / "samples" / "checkout.mmd"
    diagram = parse_file(str(sample))[0]
    # a path object reads the same file: `parse_file(Path(...))` is how users call it
    assert parse_file(sample) == [diagram]
    analysis = analyse(diagram)
    # the projections stay attributes of the public analysis (and of a generation's),
    # though the analysis stage itself no longer builds them
    assert analysis.choreography.services and analysis.orchestration.orchestrator == "Web"
    generation = mermaidgen.generate(diagram, sample.read_text(encoding="utf-8"))
    assert generation.analysis.orchestration.orchestrator == "Web"
    assert mermaidgen.generate is generate  # not the module of that name
