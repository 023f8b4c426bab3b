"""A generator of repository-like folders for `mermaidgen check`: a few hundred Markdown
and .mmd files, some diagrams broken on purpose at known lines, plus configured
generations, one of which is made to drift. Deterministic for a given seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

GOOD = """sequenceDiagram
    participant Orders
    participant Billing
    Orders->>Billing: Invoice {n}
    Billing-->>Orders: Invoiced {n}
"""
# (broken diagram, the line of its error relative to the diagram's first line, code)
BROKEN = [
    ("sequenceDiagram\n    Orders->>Billing invoice {n}\n", 2, "syntax"),
    ("sequenceDiagram\n    Orders->>Billing: one\n    end\n", 3, "syntax"),
    ("sequenceDiagram\n    loop retry {n}\n        Orders->>Billing: two\n", 2, "syntax"),
    ("sequenceDiagram\n    Orders=>Billing: three {n}\n", 2, "syntax"),
    ("sequenceDiagram\n    Orders->>Billing: four\n    deactivate Billing\n", 3, "semantic"),
]
PROSE = "Some words about the design, with `inline code` and a [link](http://x).\n"


@dataclass
class Tree:
    root: Path
    files: list[Path] = field(default_factory=list)
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    """(file relative to root, file line, code) of every planted error."""
    drifted: list[str] = field(default_factory=list)
    """Output folders of generations that no longer match their diagram."""


def build(root: Path, files: int = 300, seed: int = 7) -> Tree:
    rnd = random.Random(seed)
    tree = Tree(root)
    for n in range(files):
        folder = root / "docs" / f"area{n % 12}"
        folder.mkdir(parents=True, exist_ok=True)
        broken = rnd.random() < 0.15
        body, error_line, code = rnd.choice(BROKEN) if broken else (GOOD, 0, "")
        diagram = body.format(n=n)
        if n % 2:  # Markdown: prose, then a fenced diagram at a random depth
            lead = "".join(PROSE for _ in range(rnd.randint(0, 6)))
            header = f"# Flow {n}\n\n{lead}\n"
            path = folder / f"flow{n}.md"
            path.write_text(f"{header}```mermaid\n{diagram}```\n\nMore text.\n",
                            encoding="utf-8")
            first = header.count("\n") + 2  # the line after the opening fence
        else:
            path = folder / f"flow{n}.mmd"
            path.write_text(diagram, encoding="utf-8")
            first = 1
        tree.files.append(path)
        if broken:
            tree.errors.append((path.relative_to(root).as_posix(), first + error_line - 1,
                                code))
    (root / "README.md").write_text("# A project\n\nNo diagrams here.\n", encoding="utf-8")
    return tree


def configure(tree: Tree, generations: int = 3) -> None:
    """Configured generations of good diagrams (run `mermaidgen generate` after this)."""
    lines = []
    for k in range(generations):
        source = tree.root / "design" / f"service{k}.mmd"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(GOOD.format(n=k), encoding="utf-8")
        lines += ["[[generate]]", f'source = "design/service{k}.mmd"',
                  f'out = "services/service{k}"', 'style = "choreography"',
                  f'package = "service{k}"', ""]
    (tree.root / "mermaidgen.toml").write_text("\n".join(lines), encoding="utf-8")


def drift(tree: Tree, k: int = 1) -> None:
    """Change a configured diagram after generation: its code is now out of date."""
    source = tree.root / "design" / f"service{k}.mmd"
    source.write_text(source.read_text(encoding="utf-8")
                      + "    Orders->>Billing: Refund\n", encoding="utf-8")
    tree.drifted.append(f"services/service{k}")
