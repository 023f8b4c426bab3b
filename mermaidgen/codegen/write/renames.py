"""Renames in the diagram, followed by the user's code.

The user's hook modules bind to names the diagram makes: a participant's id names its
module and class, a message's text names the hooks around it. When an edit changes those
names, the code written against the old ones would no longer be called. This module
finds such code by comparing the new generation with what the manifest recorded of the
previous one (`Generation.bindings`: each user class with its hooks, and the diagram's participants
and messages), and says what becomes of it:

* a participant renamed (its id changed, and its label or its messages show it is the
  same one): its module moves to the new name, its class and base class are renamed;
* a hook renamed (a message's text changed, so its hook has a new name of the same kind
  in the same class): the method is renamed;
* a participant or a hook that is gone with nothing to take its place: its code is set
  aside (the file or the method leaves the package; the original is kept under
  `.mermaidgen/replaced/`);
* anything that cannot be told for sure (two candidates, no record to compare with, a
  file already at the new name) is left to the user, with the exact steps.

Nothing is written here: `find` reads and computes the new contents, and `output.write`
swaps them in with the rest of the generation, all at once.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mermaidgen.analysis.naming import pascal
from mermaidgen.codegen.generate import Generation

FLAG = "--apply-renames"
"""The option that applies a plan this module makes."""

def valid(data: dict) -> bool:
    """The manifest's `bindings` and `model`, when present, have the shape `bindings`
    writes (a cloned repository's manifest is hostile input: names become identifiers
    written into the user's files, paths become paths)."""
    from mermaidgen.codegen.write.swap import OutputError, check_rel

    found, model = data.get("bindings", {}), data.get("model", {})
    if not isinstance(found, dict) or not isinstance(model, dict):
        return False
    for rel, entry in found.items():
        try:
            check_rel(rel)
        except OutputError:
            return False
        if not isinstance(entry, dict) or not isinstance(entry.get("participant"), str) \
                or not all(_identifier(entry.get(k)) for k in ("class", "base")) \
                or not isinstance(entry.get("hooks"), list) or not all(
                    isinstance(h, list) and len(h) == 3 and _identifier(h[0])
                    and isinstance(h[1], str) and isinstance(h[2], int)
                    for h in entry["hooks"]):
            return False
    rows = [(model.get("participants", []), 2), (model.get("messages", []), 3)]
    return all(isinstance(table, list) and all(
        isinstance(row, list) and len(row) == width and all(isinstance(v, str) for v in row)
        for row in table) for table, width in rows)


def _identifier(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 200 and name.isascii() \
        and name.isidentifier()


@dataclass(frozen=True, slots=True)
class Edit:
    """One user file made to follow the diagram."""

    old: str
    """The file as it is (relative to the output folder)."""
    new: str | None
    """Where it goes (the same path for renames in place); None: set aside."""
    names: tuple[tuple[str, str], ...] = ()
    """(old identifier, new identifier): the class, its base, its hook methods."""
    retired: tuple[str, ...] = ()
    """Methods of the class that customise hooks the diagram no longer has."""
    class_name: str = ""
    why: str = ""
    generated: bool = False
    """A file mermaidgen generated (of a package the user's files move from)."""


@dataclass(frozen=True, slots=True)
class Migration:
    edits: tuple[Edit, ...] = ()
    unclear: tuple[str, ...] = ()
    """What only the user can decide, each with the steps to take."""
    writes: dict[str, bytes | None] = field(default_factory=dict)
    """rel -> the new content of each file the edits write, or None for a file they take
    out of the package."""
    read: dict[str, str] = field(default_factory=dict)
    """rel -> sha256 of each file the edits were computed from (checked again before
    writing: a file edited in between is never overwritten with an outdated copy)."""
    package: tuple[str, str] | None = None
    """(recorded package, requested package) when `--package` moves the user's files."""

    def __bool__(self) -> bool:
        return bool(self.edits or self.unclear)

    def plan(self, out: Path) -> str:
        """The exact steps, for a run that stops."""
        if self.package:
            was, now = self.package
            lines = [f"{out}: this folder holds the package `{was}` (recorded in its "
                     f"manifest), and --package asks for `{now}`; your code in {was}/ would "
                     "no longer run, so nothing was written. To keep the package: run "
                     f"again without --package, or with --package {was}. To move to "
                     f"`{now}`:"]
        else:
            lines = [f"{out}: the diagram's names changed, and code of yours would no "
                     "longer be called, so nothing was written:"]
        lines += [f"  {line}" for line in self.steps()]
        if self.unclear:
            lines.append("Do the steps marked `you decide` by hand (or change the diagram "
                         "back), then run again" + (f"; {FLAG} then does the rest."
                                                    if self.edits else "."))
        else:
            lines.append(f"Run again with {FLAG} to do exactly this (the files change "
                         "together with the generated ones; every original is kept under "
                         ".mermaidgen/replaced/), or do it by hand and run again.")
        return "\n".join(lines)


    def steps(self) -> list[str]:
        """Each step of the plan, one a line: what the flag does, then what the user
        decides."""
        lines = [line for e in self.edits if not e.generated for line in _described(e)]
        ours = [e.old for e in self.edits if e.generated]
        if ours and self.package:
            lines.append(f"{len(ours)} generated file(s) of the package `{self.package[0]}` "
                         "would be taken away (the new package has its own; copies kept "
                         "under .mermaidgen/replaced/): " + ", ".join(ours[:4])
                         + (", ..." if len(ours) > 4 else ""))
        return lines + list(self.unclear)


def _described(e: Edit) -> list[str]:
    if e.new is None:
        return [f"{e.old}: {e.why}; it would be set aside (to .mermaidgen/replaced/{e.old})"]
    lines = [f"{e.old} -> {e.new}: {e.why}"] if e.new != e.old else []
    for old, new in e.names:
        lines.append(f"{e.new}: rename {old} -> {new}")
    for method in e.retired:
        lines.append(f"{e.new}: {e.class_name}.{method} customises a hook the diagram no "
                     "longer has; it would be removed (the original file is kept under "
                     ".mermaidgen/replaced/)")
    return lines


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find(generation: Generation, out: Path, previous: dict | None) -> Migration:
    """What the user's code needs to follow this generation (empty: nothing). A
    `--package` other than the recorded one moves all of the user's files to the new
    package (`_Move`), and the renames are found on the files as they would be there."""
    if not previous:
        return Migration()
    move = _Move.of(previous, generation.package)
    now = generation.bindings()
    new = now["bindings"]
    old = {move.to(rel): entry for rel, entry in
           _recorded(previous, move.old or generation.package).items()}
    ids = {p.id for p in generation.analysis.diagram.participants}
    earlier = set(previous.get("names") or {}) | {e["participant"] for e in old.values()}
    user_files = {f.path for f in generation.files if f.owner == "user"}
    trees: dict[str, ast.Module] = {}
    for rel in old:
        data = _read(out, move.origin(rel))
        if data is not None:
            try:
                trees[rel] = ast.parse(data)
            except (SyntaxError, ValueError):
                continue  # not Python we can read: its import fails loudly on its own
    # files of participants gone from the diagram that still hold code of the user's
    gone = [rel for rel, entry in old.items() if rel not in new and rel in trees
            and entry["participant"] not in ids
            and _holds_code(trees[rel], entry["class"])]
    arrived = {e["participant"]: rel for rel, e in new.items()
               if e["participant"] not in earlier}
    pairs = _renamed_participants([old[rel]["participant"] for rel in gone], list(arrived),
                                  previous.get("model"), now["model"])
    edits: list[Edit] = []
    unclear: list[str] = []
    handled: set[str] = set()  # files on disk a step for the user is about
    for rel in gone:
        entry = old[rel]
        pid = entry["participant"]
        if pid in pairs:
            target = arrived[pairs[pid]]
            there = next((q for q in (target, move.origin(target))
                          if _read(out, q) is not None), None)
            if there is not None:
                was = move.origin(rel)
                unclear.append(f"{was} -> {target}: `{pid}` was renamed `{pairs[pid]}`, "
                               f"and {there} exists already; you decide: merge your code "
                               f"from {was} into it (class {entry['class']} becomes "
                               f"{new[target]['class']}), then delete {was}")
                handled.add(was)
                continue
            edits.append(_follow(move.origin(rel), target, entry, new[target], trees[rel],
                                 f"`{pid}` was renamed `{pairs[pid]}`", unclear))
        elif arrived:
            handled.add(move.origin(rel))
            listed = ", ".join(f"`{p}` ({arrived[p]})" for p in sorted(arrived))
            unclear.append(f"{rel}: `{pid}` is no longer in the diagram, and nothing shows "
                           f"which new participant it became ({listed}); you decide: move "
                           f"its code to the new participant's module (class "
                           f"{entry['class']} becomes that module's class), or delete it")
        else:
            edits.append(Edit(move.origin(rel), None, why=f"`{pid}` is no longer in the "
                              "diagram, so nothing calls its code", class_name=entry["class"]))
    for rel, entry in new.items():
        before = old.get(rel)
        if before is None or rel not in trees or rel not in user_files:
            continue
        if before["participant"] != entry["participant"] and \
                pairs.get(before["participant"]) != entry["participant"]:
            continue  # another participant's now (the orchestrator moved): user_code's case
        edit = _follow(move.origin(rel), rel, before, entry, trees[rel], move.why(rel),
                       unclear)
        if edit.names or edit.retired or edit.old != edit.new:
            edits.append(edit)
    if move:
        edits += move.rest(out, previous, handled | {e.old for e in edits}, user_files,
                           unclear)
    return _computed(edits, unclear, out, move)


@dataclass(frozen=True, slots=True)
class _Move:
    """The package the user's files are in (`old`) and the one this generation writes
    (`new`), when `--package` changed them; both empty otherwise."""

    old: str = ""
    new: str = ""

    @staticmethod
    def of(previous: dict, package: str) -> _Move:
        before = previous.get("package")
        return _Move(before, package) if isinstance(before, str) and before != package \
            else _Move()

    def __bool__(self) -> bool:
        return bool(self.old)

    def to(self, rel: str) -> str:
        """Where a file of the old package goes in the new one."""
        return self.new + rel[len(self.old):] if self and rel.startswith(f"{self.old}/") \
            else rel

    def origin(self, rel: str) -> str:
        """Where a file of the new package is now (the inverse of `to`)."""
        return self.old + rel[len(self.new):] if self and rel.startswith(f"{self.new}/") \
            else rel

    def why(self, rel: str) -> str:
        return f"the package is now `{self.new}` (--package)" if self.origin(rel) != rel \
            else ""

    def rest(self, out: Path, previous: dict, done: set[str], user_files: set[str],
             unclear: list[str]) -> list[Edit]:
        """The moves of the old package's other files: the user's that no rename moved
        (`done`) go to the same place in the new package; mermaidgen's leave it (the new
        package has its own), unless edited by hand. A file there that the manifest does
        not know may be code the moved files import: only the user can move it."""
        from mermaidgen.codegen.write.swap import OutputError, no_links

        files = previous.get("files") or {}
        edits = []
        for rel, info in sorted(files.items()):
            data = _read(out, rel) if rel.startswith(f"{self.old}/") else None
            if data is None or rel in done:
                continue
            if info.get("owner") == "generated":
                if _sha(data) != info.get("sha256"):
                    unclear.append(f"{rel}: a generated file of the package `{self.old}`, "
                                   "edited by hand; you decide: move your changes into "
                                   "your modules, and delete it")
                else:  # the plan lists these together (`Migration.steps`)
                    edits.append(Edit(rel, None, generated=True))
            elif self.to(rel) in user_files:
                edits.append(Edit(rel, self.to(rel), why=self.why(self.to(rel))))
            else:
                unclear.append(f"{rel}: yours, and `{self.new}` has no file of yours at "
                               f"{self.to(rel)}; you decide: move or delete it")
        try:
            folder = no_links(out, self.old)
            found = sorted(p.relative_to(out).as_posix() for p in folder.rglob("*")
                           if not p.is_dir() and "__pycache__" not in p.parts)
        except (OSError, OutputError):
            found = []
        for rel in found:
            if rel not in files:
                unclear.append(f"{rel}: in the package `{self.old}`, and not written by "
                               f"mermaidgen; you decide: move it to {self.to(rel)} (and "
                               f"change `{self.old}.` imports of it), or delete it")
        return edits


def _computed(edits: list[Edit], unclear: list[str], out: Path,
              move: _Move = _Move()) -> Migration:
    """The migration with each edit's new content; an edit that cannot be made safely
    becomes a step for the user."""
    writes: dict[str, bytes | None] = {}
    read: dict[str, str] = {}
    done = []
    for e in edits:
        source = _read(out, e.old)
        if source is None:
            continue
        try:
            content = None if e.new is None else \
                rewrite(source, e.class_name, dict(e.names), e.retired)
            if content is not None and move:
                content = repackaged(content, move.old, move.new)
        except (RewriteError, SyntaxError, ValueError) as exc:
            unclear.append(f"{e.old}: cannot be rewritten safely ({exc}); you decide: "
                           + "; ".join(_described(e)))
            continue
        read[e.old] = _sha(source)
        if e.new != e.old:
            writes[e.old] = None
        if e.new is not None:
            writes[e.new] = content
        done.append(e)
    return Migration(tuple(done), tuple(unclear), writes, read,
                     (move.old, move.new) if move else None)


def _recorded(previous: dict, package: str) -> dict[str, dict]:
    """The user classes of the previous generation: as recorded, or, from a manifest
    that kept only module names (version 2), what those names made (hooks unknown)."""
    found = previous.get("bindings")
    if isinstance(found, dict) and found:
        return found
    classes = {}
    for pid, module in (previous.get("names") or {}).items():
        if pid == previous.get("orchestrator"):
            continue
        name = pascal(module, "Service")
        classes[f"{package}/services/{module}.py"] = {
            "participant": pid, "class": name, "base": f"{name}Base", "hooks": None}
    return classes


def _read(out: Path, rel: str) -> bytes | None:
    from mermaidgen.codegen.write.swap import OutputError, no_links

    try:
        path = no_links(out, rel)
        return path.read_bytes() if path.is_file() else None
    except (OSError, OutputError):
        return None  # a link is never read (the plan refuses it)


def _holds_code(tree: ast.Module, class_name: str) -> bool:
    """Whether a user module holds anything besides the skeleton mermaidgen created:
    an untouched skeleton (a docstring, imports, the class with `pass`) is no one's code."""
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or _docstring(node):
            continue
        if isinstance(node, ast.ClassDef) and node.name == class_name and all(
                isinstance(item, ast.Pass) or _docstring(item) for item in node.body):
            continue
        return True
    return False


def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


MIN_SHARED_MESSAGES = 1
"""A participant that disappeared is taken to be one that appeared when at least this many
of its messages, with its id replaced, are in the new diagram (or their labels match)."""


def _renamed_participants(gone: list[str], arrived: list[str], old_model: object,
                          new_model: dict) -> dict[str, str]:
    """old id -> new id for participants the evidence pairs one to one: the same label
    (not just the id repeated), or messages that match once the id is replaced. Without
    the previous model (older manifests) nothing is paired."""
    if not gone or not arrived or not isinstance(old_model, dict):
        return {}
    old_labels = {pid: label for pid, label in old_model.get("participants", [])}
    new_labels = {pid: label for pid, label in new_model["participants"]}
    new_messages = Counter(tuple(m) for m in new_model["messages"])
    score: dict[tuple[str, str], int] = {}
    for o in gone:
        for n in arrived:
            label = old_labels.get(o)
            same_label = label is not None and label != o and label == new_labels.get(n)
            shared = Counter(tuple(n if x == o else x for x in m[:2]) + (m[2],)
                             for m in old_model.get("messages", []) if o in m[:2])
            matched = sum((shared & new_messages).values())
            points = matched + (1000 if same_label else 0)
            if points >= MIN_SHARED_MESSAGES:
                score[(o, n)] = points
    pairs = {}
    for (o, n), points in score.items():
        rivals = [p for (o2, n2), p in score.items() if (o2 == o) != (n2 == n)
                  and (o2 == o or n2 == n)]
        if all(points > p for p in rivals):
            pairs[o] = n
    return pairs


def _follow(old_rel: str, new_rel: str, before: dict, after: dict, tree: ast.Module,
            why: str, unclear: list[str]) -> Edit:
    """The edit that makes the class in `old_rel` (recorded as `before`) the class the new
    generation loads from `new_rel` (`after`)."""
    names: list[tuple[str, str]] = []
    for key in ("class", "base"):
        if before[key] != after[key]:
            names.append((before[key], after[key]))
    defined = _methods(tree, before["class"])
    allowed = {h[0] for h in after["hooks"]}
    known = None if before["hooks"] is None else {h[0]: h for h in before["hooks"]}
    appeared = [h for h in after["hooks"] if known is None or h[0] not in known]
    retired = []
    for method in defined:
        if method in allowed or (known is not None and method not in known):
            continue  # still a hook, or never one (stale_hooks names it; nothing moved)
        if known is None:
            unclear.append(f"{new_rel}: {before['class']}.{method} customises a hook the "
                           "diagram no longer has, and this folder's manifest is too old "
                           "to tell what it became; you decide: rename it to the new hook "
                           "(see the base class), or delete it")
            continue
        _, kind, line = known[method]
        candidates = [h for h in appeared if h[1] == kind and h[0] not in defined]
        if len(candidates) > 1:
            candidates = [h for h in candidates if h[2] == line] or candidates
        if len(candidates) == 1:
            names.append((method, candidates[0][0]))
            appeared.remove(candidates[0])
        elif not candidates:
            retired.append(method)
        else:
            listed = ", ".join(h[0] for h in candidates)
            unclear.append(f"{new_rel}: {before['class']}.{method} customises a hook the "
                           f"diagram no longer has; it may have become any of {listed}; "
                           "you decide: rename it to one of them, or delete it")
    return Edit(old_rel, new_rel, tuple(names), tuple(retired), before["class"], why)


def _methods(tree: ast.Module, class_name: str) -> list[str]:
    """The public methods a top-level class of `tree` defines, in order."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [item.name for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and not item.name.startswith("_")]
    return []


class RewriteError(ValueError):
    """A user file could not be rewritten safely (it is then left to the user)."""


def rewrite(source: bytes, class_name: str, names: dict[str, str],
            retired: tuple[str, ...]) -> bytes:
    """`source` with the class renamed, its base (`wiring.OldBase`) renamed, its hook
    methods (their `def`s, and `self.name` and `super().name` inside the class) renamed, and the
    `retired` methods removed. Only those places change: a word elsewhere that happens to
    be the same name is left alone."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spots: list[tuple[int, int, str, str]] = []  # (line index, byte column, old, new)
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == class_name):
            continue
        if class_name in names:
            spots.append(_defined_at(lines, node, "class", class_name, names[class_name]))
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr in names and _owner(sub.value) \
                    in ("wiring", "self", "super"):
                assert sub.end_lineno is not None and sub.end_col_offset is not None
                spots.append((sub.end_lineno - 1, sub.end_col_offset - len(sub.attr),
                              sub.attr, names[sub.attr]))
        for item in node.body:
            if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if item.name in retired:
                first = min([item.lineno] + [d.lineno for d in item.decorator_list])
                assert item.end_lineno is not None
                drop.append((first - 1, item.end_lineno))
            elif item.name in names:
                spots.append(_defined_at(lines, item, "def", item.name, names[item.name]))
    for index, column, old, new in sorted(spots, reverse=True):
        line = lines[index]
        if line[column:column + len(old)] != old.encode():
            raise RewriteError(f"line {index + 1}: expected {old}")
        lines[index] = line[:column] + new.encode() + line[column + len(old):]
    drop.sort(reverse=True)
    for start, end in drop:
        del lines[start:end]
    if drop and not _parses(b"".join(lines)):  # the class lost its last statement
        first = drop[-1][0]
        was = source.splitlines(keepends=True)[first]
        lines.insert(first, was[:len(was) - len(was.lstrip())] + b"pass\n")
    result = b"".join(lines)
    ast.parse(result)  # what is written must still be Python
    return result


def repackaged(source: bytes, old: str, new: str) -> bytes:
    """`source` with its absolute imports of the package `old` (`import old.x`, `from
    old.x import y`) made imports of `new`; where `import old...` binds the name `old`,
    its uses follow too. Relative imports (`from .. import x`) need nothing."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spots: list[tuple[int, int, str, str]] = []
    bound = False

    def ours(module: str | None) -> bool:
        return module is not None and (module == old or module.startswith(f"{old}."))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and ours(node.module):
            spots.append(_defined_at(lines, node, "from", old, new))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if ours(alias.name):
                    bound |= alias.asname is None
                    spots.append((alias.lineno - 1, alias.col_offset, old, new))
    if bound:
        spots += [(n.lineno - 1, n.col_offset, old, new) for n in ast.walk(tree)
                  if isinstance(n, ast.Name) and n.id == old]
    # ast's columns count UTF-8 bytes, as the lines here do
    for index, column, was, now in sorted(set(spots), reverse=True):
        line = lines[index]
        if line[column:column + len(was)] != was.encode():
            raise RewriteError(f"line {index + 1}: expected {was}")
        lines[index] = line[:column] + now.encode() + line[column + len(was):]
    result = b"".join(lines)
    ast.parse(result)
    return result


def _owner(node: ast.expr) -> str:
    """`wiring`, `self` or `super` for `wiring.X`, `self.X` and `super().X`."""
    if isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Name):
        return node.func.id
    return node.id if isinstance(node, ast.Name) else ""


def _defined_at(lines: list[bytes], node: ast.stmt, keyword: str, old: str,
                new: str) -> tuple[int, int, str, str]:
    """Where the name of a `class` or `def` statement is written."""
    line = lines[node.lineno - 1]
    found = re.compile(rb"(?:async\s+)?" + keyword.encode() + rb"\s+(" + old.encode()
                       + rb")\b").match(line, node.col_offset)
    if found is None:
        raise RewriteError(f"line {node.lineno}: cannot find the name {old}")
    return node.lineno - 1, found.start(1), old, new


def _parses(source: bytes) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True
