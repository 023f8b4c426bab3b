"""The contract's data: its shape (`nest`: the flat stream of rows as nested items),
the checks of its items, and the error a malformed contract or trace raises.
"""

from __future__ import annotations

from typing import Any

CONTRACT_VERSION = 1
BLOCK_KINDS = frozenset({"loop", "alt", "opt", "par", "critical", "break"})


class ContractError(ValueError):
    """The contract or the trace is not in the expected shape."""


def nest(contract: dict[Any, Any]) -> dict[Any, Any]:
    """A contract written as a flat `stream` of rows, in its nested form.

    Deeply nested diagrams make nested data that Python cannot write as a literal (it
    allows 200 open brackets) nor `json` read (it recurses); a stream stays two levels
    deep. Rows: `["message", from, to, text, line]` (a sixth item, a mapping, holds the
    message's other keys: `lost`, `after`), `["block", kind, label, line]`,
    `["section", label, line]` (each section of a block, the first one too), `["end"]`."""
    top: list[Any] = []
    blocks: list[dict[Any, Any]] = []
    items: list[Any] | None = top  # None: a block row waits for its first section row
    for n, row in enumerate(contract["stream"]):
        what = row[0] if isinstance(row, (list, tuple)) and row else None
        try:
            if what == "message" and items is not None:
                item = dict(zip(("kind", "from", "to", "text", "line"), row[:5],
                                strict=True))
                if len(row) > 5:
                    if len(row) > 6 or not isinstance(row[5], dict) or \
                            not set(row[5]) <= {"lost", "after"}:
                        raise ValueError
                    item.update(row[5])
                items.append(item)
            elif what == "block" and items is not None:
                blocks.append(dict(zip(("kind", "label", "line"), row[1:], strict=True),
                                   sections=[]))
                items.append(blocks[-1])
                items = None
            elif what == "section" and blocks:
                _, label, line = row
                items = []
                blocks[-1]["sections"].append({"label": label, "line": line, "items": items})
            elif what == "end" and blocks:
                blocks.pop()
                items = blocks[-1]["sections"][-1]["items"] if blocks else top
            else:
                raise ValueError
        except ValueError:
            raise ContractError(f"contract stream row {n + 1} is out of place or not a "
                                f"message, block, section or end row: {row!r:.200}") from None
    if blocks:
        raise ContractError(f"contract stream ends inside a {blocks[-1]['kind']} block")
    nested = {"version": contract["version"], "items": top}
    for key in ("relays", "sagas"):
        if key in contract:
            nested[key] = contract[key]
    return nested


def _items(node: object, what: str) -> list[Any]:
    items = node.get("items") if isinstance(node, dict) else None
    if not isinstance(items, list):
        raise ContractError(f"contract {what} needs an 'items' list: {node!r:.200}")
    return items


def _sections(block: dict[Any, Any]) -> list[Any]:
    sections = block.get("sections")
    if not isinstance(sections, list):
        raise ContractError(f"contract {block.get('kind')} block needs a 'sections' list "
                            f"(line {block.get('line')})")
    return sections
