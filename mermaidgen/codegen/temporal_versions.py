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
An operation's own workflow (an operation that calls other services, a workflow type of
its own: `catalog.get_product`) is versioned the same way, its bodies kept by that type
in OPERATIONS; its body is its variants (the calls that reach it: which messages start
each, and its ops).
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
    None if none), those of its operations' workflows (by workflow type; None from a
    file written before they were versioned) and how many recorded histories there are.
    Links are not followed."""
    found: tuple[list[dict] | None, dict[str, list[dict]] | None] = (None, None)
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
    return {"versions": found[0], "operations": found[1], "histories": count}


def with_evolution(target: str, out: Path, options: dict | None) -> dict | None:
    """`options` for build(), with what the Temporal target needs from `out` to keep the
    workflow versions that running workflows need (the other targets: unchanged)."""
    if target != "temporal":
        return options
    return {**(options or {}), "evolution": previous(out)}


def _read_versions(path: Path) -> tuple[list[dict] | None, dict[str, list[dict]] | None]:
    """The VERSIONS and OPERATIONS literals of a versions module (never executed: parsed
    as data); OPERATIONS is None in a file written before operations were versioned."""
    literals: dict[str, Any] = {}
    try:
        tree = ast.parse(path.read_bytes())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id in ("VERSIONS", "OPERATIONS") \
                    and node.value is not None:
                literals[node.target.id] = ast.literal_eval(node.value)
        if "VERSIONS" not in literals:
            return None, None
        value, operations = literals["VERSIONS"], literals.get("OPERATIONS")
    except (OSError, SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        value, operations = None, False
    if not _sane(value) or not (operations is None or _sane_operations(operations)):
        raise EvolutionError(f"{path}: not a versions file mermaidgen wrote (edited by "
                             "hand?); it holds the workflow code running workflows need. "
                             "Restore it from version control, or delete it to start "
                             "afresh (then old histories may no longer replay).")
    return value, operations


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


def _sane_operations(operations: Any) -> bool:
    """Whether `operations` is what evolve_flow() wrote: by workflow type, versions whose
    bodies are variants (the messages that start each, its ops)."""
    if not isinstance(operations, dict):
        return False
    for workflow_type, versions in operations.items():
        if not _safe_text(workflow_type) or not isinstance(versions, list) or not versions:
            return False
        for version in versions:
            if not isinstance(version, dict) or \
                    not isinstance(version.get("variants"), list) or \
                    not all(isinstance(v, dict) and _identities(v.get("messages"))
                            for v in version["variants"]) or \
                    not _sane([{"patch": version.get("patch"), "ops": v.get("ops")}
                               for v in version["variants"]] or [{"ops": []}]):
                return False
    return True


def _identities(messages: Any) -> bool:
    """A list of message identities, each [sender, receiver, text] (and n, `_occurrences`)."""
    return isinstance(messages, list) and all(
        isinstance(m, list) and len(m) in (3, 4) and all(isinstance(p, str) for p in m[:3])
        and (len(m) == 3 or (type(m[3]) is int and m[3] > 0)) for m in messages)


def _safe_text(text: Any) -> bool:
    """A patch id or a workflow type: words joined by `-` and `.` (printed as literals)."""
    return isinstance(text, str) and \
        all(part.isidentifier() for part in text.replace("-", "_").split("."))


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
    if key in ("message", "replies", "messages"):  # a message's identity: only ever
        return True                                # printed via its new index
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


def _kept(ops: list[dict]) -> list[dict]:
    return [{k: v for k, v in op.items() if k not in _IGNORED}
            for op in ops if op["op"] != "note"]


def _digest(kept: Any) -> str:
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:12]


def shape(ops: list[dict]) -> str:
    """What a body does that its history records, as a digest (notes, lines, comments
    and local names aside)."""
    return _digest(_kept(ops))


def flow_shape(variants: list[dict]) -> str:
    """`shape` of an operation's workflow: its variants' ops, and which messages start
    each when there are several (one variant runs whatever the message)."""
    if len(variants) == 1:
        return shape(variants[0]["ops"])
    return _digest([{"messages": v["messages"], "ops": _kept(v["ops"])} for v in variants])


def evolve(current: list[dict], found: dict[str, Any], workflow_type: str) -> list[dict]:
    """The versions to generate, oldest first, the last being `current` (portable ops):
    each {"patch": id or None, "ops": [...]}."""
    return _evolve("ops", current, found.get("versions") or [], found, workflow_type, shape)


def _occurrences(messages: list[tuple[str, str, str]]) -> dict[tuple, int]:
    """Each message's identity as a variant records it, to its index: [sender, receiver,
    text], and a fourth item n for the n-th repetition of the same three (a call drawn
    twice reaches the same operation twice, the variant it starts must stay apart)."""
    seen: dict[tuple, int] = {}
    out = {}
    for i, m in enumerate(messages):
        n = seen.get(tuple(m), 0)
        seen[tuple(m)] = n + 1
        out[tuple(m) + ((n,) if n else ())] = i
    return out


def portable_flow(variants: list[dict], messages: list[tuple[str, str, str]]) -> list[dict]:
    """An operation's variants, each {"messages": [...], "ops": [...]}, with messages by
    identity (the ones that start a variant counted, `_occurrences`)."""
    identity = {i: list(key) for key, i in _occurrences(messages).items()}
    return [{"messages": [identity[m] for m in v["messages"]],
             "ops": portable(v["ops"], messages)} for v in variants]


def evolve_flow(current: list[dict], found: dict[str, Any],
                workflow_type: str) -> list[dict]:
    """`evolve` for the workflow of an operation that makes calls (`current`: its
    portable variants): each {"patch": id or None, "variants": [...]}."""
    old = (found.get("operations") or {}).get(workflow_type) or []
    return _evolve("variants", current, old, found, workflow_type, flow_shape)


def _evolve(key: str, current: list[dict], old: list[dict], found: dict[str, Any],
            workflow_type: str, digest: Any) -> list[dict]:
    if not old or not found.get("histories"):
        return [{"patch": None, key: current}]
    if digest(old[-1][key]) == digest(current):  # same commands: comments may change
        return old[:-1] + [{"patch": old[-1]["patch"], key: current}]
    patch = f"{workflow_type}-{digest(current)}"
    return old + [{"patch": patch, key: current}]


def _localise_ops(ops: list[dict], index: dict[tuple, int], hooks: set[str],
                  operations: set[tuple[str, str]], where: str,
                  problems: list[str]) -> list[dict]:
    """`ops` of an older version with message indexes of the new diagram; what they need
    and the diagram no longer has goes to `problems`."""
    ops = copy.deepcopy(ops)
    for op in ops:
        for key in _MESSAGE_KEYS:
            if isinstance(op.get(key), list):
                if tuple(op[key]) not in index:
                    problems.append(f"message {' -> '.join(op[key][:2])}: "
                                    f"{op[key][2]!r} ({where}, line {op.get('line')})")
                    continue
                op[key] = index[tuple(op[key])]
        op["replies"] = [index.get(tuple(r), 0) for r in op.get("replies", [])]
        if op.get("hook") and op["hook"] not in hooks:
            problems.append(f"hook {op['hook']} ({where}, line {op.get('line')})")
        if op["op"] in ("call", "send") and \
                (op.get("service_lit"), op["operation"]) not in operations:
            problems.append(f"operation {op.get('service_lit')}.{op['operation']} "
                            f"({where}, line {op.get('line')})")
    return ops


def localised(versions: list[dict], messages: list[tuple[str, str, str]],
              hooks: set[str], operations: set[tuple[str, str]], workflow_type: str,
              problems: list[str]) -> list[dict]:
    """The older versions (all but the last) with message indexes of the new diagram,
    ready to render; what one of them needs and the diagram no longer has goes to
    `problems` (see `stop`)."""
    index = {tuple(m): i for i, m in enumerate(messages)}
    out = []
    for n, version in enumerate(versions[:-1], 1):
        ops = _localise_ops(version["ops"], index, hooks, operations,
                            f"workflow {workflow_type}, version {n}", problems)
        out.append({"patch": version["patch"], "next_patch": versions[n]["patch"],
                    "method": f"_run_version_{n}", "ops": ops})
    return out


def localised_flow(versions: list[dict], messages: list[tuple[str, str, str]],
                   hooks: set[str], operations: set[tuple[str, str]], workflow_type: str,
                   method: str, problems: list[str]) -> list[dict]:
    """`localised` for an operation's workflow (versions of variants), each older
    version's method `<method>__version_<n>`; what they need and the diagram no longer
    has goes to `problems` (see `stop`)."""
    index = {tuple(m): i for i, m in enumerate(messages)}
    starts = _occurrences(messages)
    out = []
    for n, version in enumerate(versions[:-1], 1):
        where = f"workflow {workflow_type}, version {n}"
        variants = []
        several = len(version["variants"]) > 1
        for v in version["variants"]:
            started_by = []
            for m in v["messages"] if several else []:  # one variant: it runs whatever
                if tuple(m) in starts:                   # the message
                    started_by.append(starts[tuple(m)])
                else:
                    problems.append(f"message {' -> '.join(m[:2])}: {m[2]!r} ({where})")
            variants.append({"messages": started_by,
                             "ops": _localise_ops(v["ops"], index, hooks, operations, where,
                                                  problems)})
        out.append({"patch": version["patch"], "method": f"{method}__version_{n}",
                    "single": not several, "variants": variants})
    return out


def called(found: dict[str, Any]) -> set[tuple[str, str]]:
    """The operations (service literal, name) that the recorded bodies of every workflow
    call or send to."""
    bodies = [v["ops"] for v in found.get("versions") or []] + \
        [v["ops"] for versions in (found.get("operations") or {}).values()
         for version in versions for v in version["variants"]]
    return {(op.get("service_lit"), op["operation"]) for ops in bodies for op in ops
            if op["op"] in ("call", "send")}


def stop(problems: list[str], histories: int) -> None:
    """EvolutionError when an older version of a workflow cannot run any more."""
    if problems:
        raise EvolutionError(
            f"a workflow's commands changed, and {histories} recorded "
            f"histor{'y' if histories == 1 else 'ies'} in {HISTORIES}/ say that workflows "
            "of an earlier version may still be running; their code path must stay, but "
            "the new diagram no longer has what it needs:\n"
            + "\n".join(f"  {p}" for p in dict.fromkeys(problems))
            + "\nNothing was written. Either keep those messages and operations in the "
            "diagram (add the new steps next to them), or, once no workflow of the earlier "
            f"version runs any more, delete {HISTORIES}/*.json (after recording new ones) "
            "and generate again.")
