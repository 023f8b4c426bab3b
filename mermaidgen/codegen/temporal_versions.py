"""Versions of the workflow's code, so that regeneration never breaks a running workflow.

Temporal replays a workflow's code against its recorded history: a workflow started
before a regeneration must take, on the new worker, the same commands (activities,
child workflows, timers) in the same order. So the generated project keeps, in
`_generated/versions.py`, the workflow body of each version it still has to run: its
ops (codegen/ops.py), with messages by identity (sender, receiver, text) instead of by
index, since indexes move when a message is inserted.

On regeneration, when the body's commands change (its *shape*) and the project holds
recorded histories (tests/histories/*.json: runs that may still be under way somewhere),
the new body becomes a new version behind `workflow.patched(<patch id>)` and the old
bodies stay as they were: running workflows keep their path, new runs take the new one.
When an old body can no longer run (it calls an operation or uses a message or hook the
diagram no longer has), generation stops (exit 1) and says why. Without histories the
change is taken as it is and the older versions are dropped.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from mermaidgen.codegen.literals import comment
from mermaidgen.codegen.write.swap import no_links
from mermaidgen.errors import MermaidgenError

FORMAT = 1
HISTORIES = "tests/histories"
"""Where a generated project keeps the histories its replay test replays."""
_MESSAGE_KEYS = ("message",)
_IGNORED = frozenset({"line", "comment", "noqa"})


class EvolutionError(MermaidgenError):
    """The workflow changed in a way recorded histories cannot replay (exit 1)."""


def previous(out: Path) -> dict[str, Any]:
    """What an earlier generation in `out` left: its versions (`_generated/versions.py`;
    None if none) and how many recorded histories there are. Links are not followed."""
    found = None
    if out.is_dir() and not out.is_symlink():
        for path in sorted(out.glob("*/_generated/versions.py")):
            # every part below `out` is checked (a linked package or _generated folder
            # too): a link is refused as the planner refuses it
            path = no_links(out, path.relative_to(out).as_posix())
            if path.is_file():
                found = _read_versions(path)
                break
    histories = no_links(out, HISTORIES) if out.is_dir() else out / HISTORIES
    count = len(list(histories.glob("*.json"))) if histories.is_dir() else 0
    return {"versions": found, "histories": count}


def with_evolution(target: str, out: Path, options: dict | None) -> dict | None:
    """`options` for build(), with what the Temporal target needs from `out` to keep the
    workflow versions that running workflows need (the other targets: unchanged)."""
    if target != "temporal":
        return options
    return {**(options or {}), "evolution": previous(out)}


def _read_versions(path: Path) -> list[dict] | None:
    """The VERSIONS literal of a versions module (never executed: parsed as data)."""
    try:
        tree = ast.parse(path.read_bytes())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id == "VERSIONS" and node.value is not None:
                value = ast.literal_eval(node.value)
                break
        else:
            return None
    except (OSError, SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        value = None
    if not _sane(value):
        raise EvolutionError(f"{path}: not a versions file mermaidgen wrote (edited by "
                             "hand?); it holds the workflow code running workflows need. "
                             "Restore it from version control, or delete it to start "
                             "afresh (then old histories may no longer replay).")
    return value


_WORDS = frozenset({"how", "exit", "limit"})
_COMMENTS = frozenset({"comment", "undone_by"})
"""Keys whose values are printed after a `#`."""


def _sane(versions: Any) -> bool:
    """Whether `versions` is what evolve() wrote: nothing in it may print as code other
    than names, string literals and comments, since its ops are rendered again."""
    if not isinstance(versions, list) or not versions:
        return False
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("ops"), list) or \
                not (version.get("patch") is None or _safe_text(version["patch"])):
            return False
        for op in version["ops"]:
            if not isinstance(op, dict) or not isinstance(op.get("indent"), int) or \
                    not all(_safe_value(k, v) for k, v in op.items()):
                return False
    return True


def _safe_text(text: Any) -> bool:
    return isinstance(text, str) and text.replace("-", "_").isidentifier()


def _safe_value(key: str, value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return True
    if isinstance(value, list):
        return all(_safe_value(key, v) for v in value)
    if not isinstance(value, str):
        return False
    if key in _COMMENTS:
        return value == comment(value)
    if key.endswith("_lit"):
        try:
            return value == "None" or isinstance(ast.literal_eval(value), str)
        except (ValueError, SyntaxError):
            return False
    if key in _WORDS:
        return value in ("break", "return", "continue", "self.MAX_ITERATIONS") or \
            value.isdigit()
    if key in ("message", "replies"):  # a message's identity: only ever printed via
        return True                    # its new index
    return value.isidentifier()


def _identity(messages: list[tuple[str, str, str]], index: Any) -> Any:
    return list(messages[index]) if isinstance(index, int) else index


def portable(ops: list[dict], messages: list[tuple[str, str, str]]) -> list[dict]:
    """`ops` with each message index as its identity [sender, receiver, text]."""
    out = []
    for op in ops:
        moved = dict(op)
        moved.pop("message_name", None)  # derived from the message: not recorded
        for key in _MESSAGE_KEYS:
            if key in moved:
                moved[key] = _identity(messages, moved[key])
        if "replies" in moved:
            moved["replies"] = [_identity(messages, r) for r in moved["replies"]]
        out.append(moved)
    return out


def shape(ops: list[dict]) -> str:
    """What a body does that its history records, as a digest (notes, lines, comments
    and local names aside)."""
    kept = [{k: v for k, v in op.items() if k not in _IGNORED}
            for op in ops if op["op"] != "note"]
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:12]


def evolve(current: list[dict], found: dict[str, Any], workflow_type: str) -> list[dict]:
    """The versions to generate, oldest first, the last being `current` (portable ops):
    each {"patch": id or None, "ops": [...]}."""
    old = found.get("versions") or []
    if not old or not found.get("histories"):
        return [{"patch": None, "ops": current}]
    if shape(old[-1]["ops"]) == shape(current):  # same commands: comments may change
        return old[:-1] + [{"patch": old[-1]["patch"], "ops": current}]
    patch = f"{workflow_type}-{shape(current)}"
    return old + [{"patch": patch, "ops": current}]


def localised(versions: list[dict], messages: list[tuple[str, str, str]],
              hooks: set[str], operations: set[tuple[str, str]],
              histories: int) -> list[dict]:
    """The older versions (all but the last) with message indexes of the new diagram,
    ready to render; EvolutionError when one of them could no longer run."""
    index = {tuple(m): i for i, m in enumerate(messages)}
    problems = []
    out = []
    for n, version in enumerate(versions[:-1], 1):
        ops = copy.deepcopy(version["ops"])
        for op in ops:
            for key in _MESSAGE_KEYS:
                if isinstance(op.get(key), list):
                    if tuple(op[key]) not in index:
                        problems.append(f"message {' -> '.join(op[key][:2])}: "
                                        f"{op[key][2]!r} (version {n}, line {op.get('line')})")
                        continue
                    op[key] = index[tuple(op[key])]
            op["replies"] = [index.get(tuple(r), 0) for r in op.get("replies", [])]
            if op.get("hook") and op["hook"] not in hooks:
                problems.append(f"hook {op['hook']} (version {n}, line {op.get('line')})")
            if op["op"] in ("call", "send") and \
                    (op.get("service_lit"), op["operation"]) not in operations:
                problems.append(f"operation {op.get('service_lit')}.{op['operation']} "
                                f"(version {n}, line {op.get('line')})")
        out.append({"patch": version["patch"], "next_patch": versions[n]["patch"],
                    "method": f"_run_version_{n}", "ops": ops})
    if problems:
        raise EvolutionError(
            f"the workflow's commands changed, and {histories} recorded "
            f"histor{'y' if histories == 1 else 'ies'} in {HISTORIES}/ say that workflows "
            "of an earlier version may still be running; their code path must stay, but "
            "the new diagram no longer has what it needs:\n"
            + "\n".join(f"  {p}" for p in dict.fromkeys(problems))
            + "\nNothing was written. Either keep those messages and operations in the "
            "diagram (add the new steps next to them), or, once no workflow of the earlier "
            f"version runs any more, delete {HISTORIES}/*.json (after recording new ones) "
            "and generate again.")
    return out
